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
}
