//! RFC 3339 times as UTC milliseconds. Exporters write almost every time
//! as `YYYY-MM-DDTHH:MM:SS[.fff]Z`; that form is read here directly (a
//! large import reads several per row), and every other form, valid or
//! not, is left to jiff's full parser.

use jiff::Timestamp;

/// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 time with an
/// offset (fractions beyond the millisecond dropped), or `None` when
/// `text` is not one.
pub(crate) fn rfc3339_ms(text: &str) -> Option<i64> {
    zulu_ms(text.as_bytes()).or_else(|| text.parse::<Timestamp>().ok().map(|t| t.as_millisecond()))
}

/// `YYYY-MM-DDTHH:MM:SSZ` with an optional fraction of one to three
/// digits, every field in range; `None` for anything else.
fn zulu_ms(b: &[u8]) -> Option<i64> {
    const SHAPE: [(usize, u8); 5] = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || b[b.len() - 1] != b'Z' || SHAPE.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let number = |from: usize, len: usize| {
        b[from..from + len].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    let millis = match b.len() - 20 {
        0 => 0,
        // ".f", ".ff" or ".fff" before the Z.
        with_dot @ 2..=4 if b[19] == b'.' => {
            let digits = with_dot - 1;
            number(20, digits)? * 10i64.pow((3 - digits) as u32)
        }
        _ => return None,
    };
    let in_range = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    in_range.then(|| {
        days_from_civil(year, month, day) * 86_400_000
            + hour * 3_600_000
            + minute * 60_000
            + second * 1_000
            + millis
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar,
/// counting years from March so that the leap day ends each year: 400
/// years are 146,097 days, and within them each year 365 days plus its
/// leap days so far.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    fn jiff_ms(text: &str) -> Option<i64> {
        text.parse::<Timestamp>().ok().map(|t| t.as_millisecond())
    }

    /// The time `ms` written as `YYYY-MM-DDTHH:MM:SS`, by jiff's calendar.
    fn civil_text(ms: i64) -> String {
        let t = Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned(TimeZone::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    #[test]
    fn published_instants_read_as_their_epoch_milliseconds() {
        // The Unix epoch, the first leap day of 2000 and of 2024, and the
        // end of 9999 (`date -u -d TEXT +%s%3N`; for 1969 it prints -1 s
        // and 990 ms).
        for (text, ms) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T12:34:56.789Z", 951_827_696_789),
            ("2024-02-29T00:00:00.5Z", 1_709_164_800_500),
            ("1969-12-31T23:59:59.99Z", -10),
            ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
        ] {
            assert_eq!(zulu_ms(text.as_bytes()), Some(ms), "{text}");
        }
    }

    #[test]
    fn other_forms_go_to_the_full_parser() {
        for text in [
            "2026-08-03T08:15:00+02:00",
            "2026-08-03T08:15:00.123456Z",
            "2026-08-03 08:15:00Z",
            "2026-08-03t08:15:00z",
        ] {
            assert_eq!(zulu_ms(text.as_bytes()), None, "{text}");
            assert_eq!(rfc3339_ms(text), jiff_ms(text), "{text}");
            assert!(rfc3339_ms(text).is_some(), "{text}");
        }
        for text in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-08-03T24:00:00Z",
            "2026-08-03T08:60:00Z",
            "2026-08-03T08:15:00.Z",
            "2026-08-03T08:15:0xZ",
            "2026-08-03T08:15:00",
            "",
        ] {
            assert_eq!(zulu_ms(text.as_bytes()), None, "{text}");
            assert_eq!(rfc3339_ms(text), jiff_ms(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn every_zulu_time_reads_as_jiff_reads_it(
            ms in -62_135_596_800_000i64..253_402_300_800_000,
            digits in 0usize..=3,
        ) {
            let fraction = format!("{:03}", ms.rem_euclid(1_000));
            let text = match digits {
                0 => format!("{}Z", civil_text(ms)),
                _ => format!("{}.{}Z", civil_text(ms), &fraction[..digits]),
            };
            prop_assert!(zulu_ms(text.as_bytes()).is_some(), "{}", text);
            prop_assert_eq!(zulu_ms(text.as_bytes()), jiff_ms(&text), "{}", text);
        }

        #[test]
        fn a_damaged_time_reads_as_jiff_reads_it(
            ms in 0i64..4_102_444_800_000,
            at in 0usize..24,
            byte in any::<u8>(),
        ) {
            let mut text = format!("{}.{:03}Z", civil_text(ms), ms % 1_000).into_bytes();
            text[at] = byte;
            if let Ok(text) = String::from_utf8(text) {
                prop_assert_eq!(rfc3339_ms(&text), jiff_ms(&text), "{}", text);
            }
        }
    }
}
