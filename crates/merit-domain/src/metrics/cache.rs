//! Per-day aggregates of one definition version, as stored in the report
//! cache: sums of numerator and denominator parts by 15-minute local
//! interval, agent, queue, channel and contact type. Every grouping a
//! report offers can be rebuilt from them (team from agent and day, site
//! from queue or agent, 30/60-minute intervals, day, week and month from the
//! 15-minute interval).

use crate::organisation::Channel;

/// One aggregate of a day. Text values index `CachedDay::names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheEntry {
    /// The 15-minute interval key (local wall-clock start and offset tag).
    pub interval: i64,
    pub agent: u32,
    pub queue: u32,
    pub channel: Option<Channel>,
    pub contact_type: u32,
    pub numerator: i64,
    pub denominator: i64,
    /// Latest end of an FCR window among the parts (0 for other KPIs).
    pub window_end_ms: i64,
}

/// The aggregates of one definition version on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachedDay {
    pub names: Vec<String>,
    pub entries: Vec<CacheEntry>,
}

/// `u32::MAX` stands for "no value".
pub const NO_NAME: u32 = u32::MAX;

fn channel_code(channel: Option<Channel>) -> u8 {
    channel.map_or(u8::MAX, |c| {
        Channel::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take::<8>().map(i64::from_le_bytes)
    }
}

impl CachedDay {
    /// A compact little-endian encoding: names, then fixed-width entries.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.entries.len() * 45);
        out.extend((self.names.len() as u32).to_le_bytes());
        for name in &self.names {
            out.extend((name.len() as u32).to_le_bytes());
            out.extend(name.as_bytes());
        }
        out.extend((self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            out.extend(e.interval.to_le_bytes());
            out.extend(e.agent.to_le_bytes());
            out.extend(e.queue.to_le_bytes());
            out.push(channel_code(e.channel));
            out.extend(e.contact_type.to_le_bytes());
            out.extend(e.numerator.to_le_bytes());
            out.extend(e.denominator.to_le_bytes());
            out.extend(e.window_end_ms.to_le_bytes());
        }
        out
    }

    /// Decodes `encode`'s output; `None` for bytes it did not write.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader { bytes };
        let n_names = r.u32()? as usize;
        let mut names = Vec::with_capacity(n_names.min(1 << 16));
        for _ in 0..n_names {
            let len = r.u32()? as usize;
            let text = r.bytes.get(..len)?;
            names.push(std::str::from_utf8(text).ok()?.to_owned());
            r.bytes = &r.bytes[len..];
        }
        let n_entries = r.u32()? as usize;
        let mut entries = Vec::with_capacity(n_entries.min(1 << 20));
        for _ in 0..n_entries {
            let interval = r.i64()?;
            let agent = r.u32()?;
            let queue = r.u32()?;
            let channel = match r.take::<1>()?[0] {
                u8::MAX => None,
                code => Some(*Channel::ALL.get(code as usize)?),
            };
            entries.push(CacheEntry {
                interval,
                agent,
                queue,
                channel,
                contact_type: r.u32()?,
                numerator: r.i64()?,
                denominator: r.i64()?,
                window_end_ms: r.i64()?,
            });
        }
        r.bytes.is_empty().then_some(CachedDay { names, entries })
    }
}

/// A cache entry's cell with its texts: the same cell in two days whose
/// names are coded apart.
type CellKey<'a> = (i64, Option<&'a str>, Option<&'a str>, u8, Option<&'a str>);

impl CachedDay {
    fn name(&self, code: u32) -> Option<&str> {
        self.names.get(code as usize).map(String::as_str)
    }

    fn cell(&self, e: &CacheEntry) -> CellKey<'_> {
        (
            e.interval,
            self.name(e.agent),
            self.name(e.queue),
            channel_code(e.channel),
            self.name(e.contact_type),
        )
    }

    /// Each cell's sums, in order of cell (a day holds a cell once).
    fn sums(&self) -> Vec<(CellKey<'_>, (i64, i64, i64))> {
        let mut sums: Vec<_> = self
            .entries
            .iter()
            .map(|e| (self.cell(e), (e.numerator, e.denominator, e.window_end_ms)))
            .collect();
        sums.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        sums
    }

    /// Whether `other` holds the same sums in the same cells, however
    /// either codes its names and orders its entries.
    pub fn same_sums(&self, other: &CachedDay) -> bool {
        self.entries.len() == other.entries.len() && self.sums() == other.sums()
    }

    /// These aggregates with `before` taken out and `after` put in, cell by
    /// cell: the day after some of its contacts changed, given what those
    /// contacts gave before and give now. A window end is the latest of
    /// this day's and `after`'s (a contact's window never moves). `None`
    /// when `before` holds a cell this day does not (they do not belong
    /// together).
    pub fn with_difference(&self, before: &CachedDay, after: &CachedDay) -> Option<CachedDay> {
        let mut cells: std::collections::BTreeMap<CellKey<'_>, CacheEntry> =
            self.entries.iter().map(|e| (self.cell(e), *e)).collect();
        for e in &before.entries {
            let sum = cells.get_mut(&before.cell(e))?;
            sum.numerator -= e.numerator;
            sum.denominator -= e.denominator;
        }
        for e in &after.entries {
            let sum = cells.entry(after.cell(e)).or_insert(CacheEntry {
                numerator: 0,
                denominator: 0,
                window_end_ms: 0,
                ..*e
            });
            sum.numerator += e.numerator;
            sum.denominator += e.denominator;
            sum.window_end_ms = sum.window_end_ms.max(e.window_end_ms);
        }
        // The names coded afresh, in order of first use.
        fn code<'a>(
            names: &mut Vec<String>,
            codes: &mut std::collections::HashMap<&'a str, u32>,
            name: Option<&'a str>,
        ) -> u32 {
            let Some(name) = name else { return NO_NAME };
            *codes.entry(name).or_insert_with(|| {
                names.push(name.to_owned());
                (names.len() - 1) as u32
            })
        }
        let (mut names, mut codes) = (Vec::new(), Default::default());
        let entries = cells
            .into_iter()
            .map(|((_, agent, queue, _, contact_type), e)| CacheEntry {
                agent: code(&mut names, &mut codes, agent),
                queue: code(&mut names, &mut codes, queue),
                contact_type: code(&mut names, &mut codes, contact_type),
                ..e
            })
            .collect();
        Some(CachedDay { names, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_refuses_other_bytes() {
        let day = CachedDay {
            names: vec!["ag001".into(), "billing".into(), "bill_query".into()],
            entries: vec![
                CacheEntry {
                    interval: 1_785_744_000_000 + 880,
                    agent: 0,
                    queue: 1,
                    channel: Some(Channel::Chat),
                    contact_type: 2,
                    numerator: -3,
                    denominator: 7,
                    window_end_ms: 42,
                },
                CacheEntry {
                    interval: 5,
                    agent: NO_NAME,
                    queue: NO_NAME,
                    channel: None,
                    contact_type: NO_NAME,
                    numerator: 0,
                    denominator: 0,
                    window_end_ms: 0,
                },
            ],
        };
        let bytes = day.encode();
        assert_eq!(CachedDay::decode(&bytes), Some(day));
        assert_eq!(CachedDay::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(CachedDay::decode(b"not a cache"), None);
    }
    fn entry(agent: u32, numerator: i64, denominator: i64, window_end_ms: i64) -> CacheEntry {
        CacheEntry {
            interval: 10,
            agent,
            queue: NO_NAME,
            channel: Some(Channel::VoiceInbound),
            contact_type: NO_NAME,
            numerator,
            denominator,
            window_end_ms,
        }
    }

    #[test]
    fn a_difference_is_applied_cell_by_cell_whatever_the_names_codes() {
        // ag1 5/8 and ag2 1/2; two of ag1's contacts (2/2) become 1/2,
        // and a first contact of ag3 adds 1/1.
        let day = CachedDay {
            names: vec!["ag1".into(), "ag2".into()],
            entries: vec![entry(0, 5, 8, 100), entry(1, 1, 2, 50)],
        };
        let before = CachedDay {
            names: vec!["ag1".into()],
            entries: vec![entry(0, 2, 2, 90)],
        };
        let after = CachedDay {
            names: vec!["ag3".into(), "ag1".into()],
            entries: vec![entry(0, 1, 1, 70), entry(1, 1, 2, 120)],
        };
        let updated = day.with_difference(&before, &after).unwrap();
        let by_agent: Vec<(&str, i64, i64, i64)> = updated
            .entries
            .iter()
            .map(|e| {
                let name = updated.names[e.agent as usize].as_str();
                (name, e.numerator, e.denominator, e.window_end_ms)
            })
            .collect();
        assert_eq!(
            by_agent,
            vec![("ag1", 4, 8, 120), ("ag2", 1, 2, 50), ("ag3", 1, 1, 70)]
        );
        assert!(!updated.same_sums(&day));
        // What went out coming back in: the same sums, coded otherwise.
        let recoded = CachedDay {
            names: vec!["ag2".into(), "ag1".into()],
            entries: vec![entry(1, 5, 8, 100), entry(0, 1, 2, 50)],
        };
        assert!(
            day.with_difference(&before, &before)
                .unwrap()
                .same_sums(&recoded)
        );
        // A cell taken out that the day does not hold: they do not belong together.
        let stranger = CachedDay {
            names: vec!["ag9".into()],
            entries: vec![entry(0, 1, 1, 0)],
        };
        assert_eq!(day.with_difference(&stranger, &after), None);
    }
}
