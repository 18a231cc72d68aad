//! Business hours: opening periods per weekday (several per day for split
//! shifts) and holidays, in one IANA time zone; and the business time
//! between two instants.

use crate::metrics::workforce::days_from_to;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// One opening period of a weekday, local wall-clock `"HH:MM"` to `"HH:MM"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningPeriod {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i8,
    pub opens: String,
    pub closes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub time_zone: String,
    pub periods: Vec<OpeningPeriod>,
    #[serde(default)]
    pub holidays: Vec<Date>,
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if h == 24 && m == 0 {
        return Some(Time::MAX);
    }
    Time::new(h, m, 0, 0).ok()
}

impl BusinessHours {
    pub fn validate(&self) -> Result<(), String> {
        if TimeZone::get(&self.time_zone).is_err() {
            return Err(format!("unknown time zone {:?}", self.time_zone));
        }
        for p in &self.periods {
            if !(1..=7).contains(&p.weekday) {
                return Err(format!(
                    "weekday {} is not 1 (Monday) to 7 (Sunday)",
                    p.weekday
                ));
            }
            let (Some(opens), Some(closes)) = (parse_time(&p.opens), parse_time(&p.closes)) else {
                return Err(format!("{:?}-{:?} is not HH:MM-HH:MM", p.opens, p.closes));
            };
            if closes <= opens {
                return Err(format!("{}-{} closes before it opens", p.opens, p.closes));
            }
        }
        Ok(())
    }

    /// Milliseconds of business time between two instants (0 when `to` is
    /// not after `from`). Days are walked in the local zone, so a DST change
    /// shortens or lengthens the period it falls in.
    pub fn business_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        let Ok(zone) = TimeZone::get(&self.time_zone) else {
            return 0;
        };
        if to_ms <= from_ms {
            return 0;
        }
        let (Ok(from), Ok(to)) = (
            Timestamp::from_millisecond(from_ms),
            Timestamp::from_millisecond(to_ms),
        ) else {
            return 0;
        };
        let first = from.to_zoned(zone.clone()).date();
        let last = to.to_zoned(zone.clone()).date();
        let mut total = 0;
        for day in days_from_to(first, last) {
            if !self.holidays.contains(&day) {
                let weekday = day.weekday().to_monday_one_offset();
                for p in self.periods.iter().filter(|p| p.weekday == weekday) {
                    let (Some(opens), Some(closes)) = (parse_time(&p.opens), parse_time(&p.closes))
                    else {
                        continue;
                    };
                    let at = |t: Time| {
                        day.to_datetime(t)
                            .to_zoned(zone.clone())
                            .map(|z| z.timestamp().as_millisecond())
                    };
                    let (Ok(open_ms), Ok(close_ms)) = (at(opens), at(closes)) else {
                        continue;
                    };
                    let close_ms = if closes == Time::MAX {
                        close_ms + 1
                    } else {
                        close_ms
                    };
                    let start = open_ms.max(from_ms);
                    let end = close_ms.min(to_ms);
                    if end > start {
                        total += end - start;
                    }
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn weekdays_split() -> BusinessHours {
        let mut periods = Vec::new();
        for weekday in 1..=5 {
            periods.push(OpeningPeriod {
                weekday,
                opens: "08:00".into(),
                closes: "12:00".into(),
            });
            periods.push(OpeningPeriod {
                weekday,
                opens: "13:00".into(),
                closes: "17:00".into(),
            });
        }
        BusinessHours {
            time_zone: "Europe/Berlin".into(),
            periods,
            holidays: vec![date(2026, 10, 3)],
        }
    }

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn counts_only_open_periods_across_lunch_night_weekend_and_holiday() {
        let hours = weekdays_split();
        // Friday 2026-10-02 16:30 Berlin (14:30 UTC) to Monday 10-05 08:30
        // (06:30 UTC); Saturday 10-03 is a holiday anyway, Sunday closed:
        // 30 min on Friday + 30 min on Monday.
        assert_eq!(
            hours.business_ms(at("2026-10-02T14:30:00Z"), at("2026-10-05T06:30:00Z")),
            60 * 60_000
        );
        // 11:00 to 14:00 local on a Tuesday: 1 h before lunch, 1 h after.
        assert_eq!(
            hours.business_ms(at("2026-10-06T09:00:00Z"), at("2026-10-06T12:00:00Z")),
            2 * 3_600_000
        );
    }

    #[test]
    fn a_holiday_on_a_weekday_is_closed() {
        let mut hours = weekdays_split();
        hours.holidays = vec![date(2026, 10, 6)];
        assert_eq!(
            hours.business_ms(at("2026-10-06T05:00:00Z"), at("2026-10-06T16:00:00Z")),
            0
        );
    }

    #[test]
    fn dst_change_keeps_local_opening_hours() {
        // Sunday 2026-10-25 Berlin leaves summer time; open 00:00-24:00 on
        // Sundays only: that local day lasts 25 hours.
        let hours = BusinessHours {
            time_zone: "Europe/Berlin".into(),
            periods: vec![OpeningPeriod {
                weekday: 7,
                opens: "00:00".into(),
                closes: "24:00".into(),
            }],
            holidays: vec![],
        };
        let ms = hours.business_ms(at("2026-10-24T00:00:00Z"), at("2026-10-27T00:00:00Z"));
        assert_eq!(ms, 25 * 3_600_000);
    }

    #[test]
    fn rejects_bad_periods() {
        let mut hours = weekdays_split();
        hours.periods[0].closes = "07:00".into();
        assert!(
            hours
                .validate()
                .unwrap_err()
                .contains("closes before it opens")
        );
        hours.time_zone = "Mars/Olympus".into();
        assert!(hours.validate().unwrap_err().contains("unknown time zone"));
    }
}
