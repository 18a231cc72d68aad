//! A fast, non-cryptographic hasher for the engine's in-memory maps (ids
//! interned per report, groups, cache entries): one multiply per 8 bytes,
//! where std's SipHash costs several times more on the million-row maps of
//! a month's report. Not resistant to crafted collisions; the keys are the
//! centre's own imported ids.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x517c_c1b7_2722_0a95;

#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    /// Each 8 bytes as a little-endian word, then the last few bytes as a
    /// word padded with zeros, their count in its top byte.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let (words, rest) = bytes.as_chunks::<8>();
        for word in words {
            self.add(u64::from_le_bytes(*word));
        }
        if rest.is_empty() {
            return;
        }
        // The last few bytes, zero-padded: from the text's last 8 bytes
        // shifted down when it has them (no copy of a variable length).
        let padded = match bytes.last_chunk::<8>() {
            Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - rest.len())),
            None => rest
                .iter()
                .rev()
                .fold(0, |word, &byte| word << 8 | u64::from(byte)),
        };
        self.add(padded ^ (rest.len() as u64) << 56);
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    /// The state mixed so that every output bit depends on every input
    /// bit (murmur3's 64-bit finaliser, a bijection): the multiply alone
    /// leaves the low bits, which pick a map's bucket, depending only on
    /// the low bits of the last word, and ids such as `c000000001` differ
    /// only in a few of those, so they crowd into a few buckets.
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

/// The hash of some bytes (a text's): what the engine's tables keep per row
/// to group and find texts without comparing them.
#[inline]
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut hasher = FastHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_hash_as_their_words_padded_with_zeros() {
        // The hash written out word by word, the last few bytes copied into
        // a zeroed word: for every length around the word boundaries.
        let reference = |bytes: &[u8]| {
            let mut hash: u64 = 0;
            let mut add = |word: u64| hash = (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
            for chunk in bytes.chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                let tag = match chunk.len() {
                    8 => 0,
                    n => (n as u64) << 56,
                };
                add(u64::from_le_bytes(word) ^ tag);
            }
            FastHasher { hash }.finish()
        };
        let text: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for start in 0..8 {
            for end in start..text.len() {
                let bytes = &text[start..end];
                assert_eq!(bytes_hash(bytes), reference(bytes), "{start}..{end}");
            }
        }
    }

    #[test]
    fn maps_keep_every_distinct_key() {
        let mut map: FastMap<String, usize> = FastMap::default();
        for i in 0..10_000 {
            map.insert(format!("cust{i:07}"), i);
        }
        // Prefixes and lengths that differ only in the last partial word.
        map.insert("ab".into(), 1);
        map.insert("ab\0".into(), 2);
        assert_eq!(map.len(), 10_002);
        assert_eq!(map["cust0004242"], 4242);
        assert_eq!((map["ab"], map["ab\0"]), (1, 2));
    }

    #[test]
    fn sequential_ids_spread_over_the_low_bits() {
        // A map's bucket is the hash's low bits: ids that differ only in
        // their digits must reach most of 1,024 buckets, not a few.
        let mut buckets = HashSet::new();
        for i in 0..4_096 {
            let mut hasher = FastHasher::default();
            hasher.write(format!("c{i:09}").as_bytes());
            buckets.insert(hasher.finish() & 1_023);
        }
        assert!(buckets.len() > 950, "{} of 1,024 buckets", buckets.len());
    }
}
