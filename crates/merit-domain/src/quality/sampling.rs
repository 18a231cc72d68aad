//! Which contacts to evaluate: a stratified random sample (each stratum
//! gets its share of the sample by the largest-remainder method), plus
//! outliers included on purpose (very short calls, repeat contacts, low
//! survey answers), in an order fixed by a seed so a sample can be drawn
//! again (docs/metrics.md, "Sampling").

/// A contact that may be sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// A stable identity (e.g. `source_system/source_id`): the seed orders by it.
    pub key: String,
    /// The stratum (a queue, a contact type, an outcome, a duration band);
    /// one stratum for a simple random sample.
    pub stratum: String,
    /// Why it is an outlier worth a look, if it is one.
    pub outlier: Option<&'static str>,
}

/// Why a contact is in the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// Drawn at random within its stratum.
    Random,
    /// Included on purpose, for this reason.
    Outlier(&'static str),
}

/// The order a seed gives a key: FNV-1a of the seed and the key, then
/// SplitMix64's finaliser, so that keys differing in one character (call
/// ids numbered in sequence) do not stay in sequence.
pub fn order(seed: u64, key: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// How many of `size` each stratum gets, in proportion to its count, by
/// the largest-remainder method (ties to the larger stratum, then its
/// name); never more than a stratum holds. `strata` is (name, count).
pub fn allocate(strata: &[(String, usize)], size: usize) -> Vec<usize> {
    let total: usize = strata.iter().map(|s| s.1).sum();
    let size = size.min(total);
    if total == 0 {
        return vec![0; strata.len()];
    }
    let mut shares: Vec<usize> = strata.iter().map(|s| s.1 * size / total).collect();
    let mut rest: Vec<usize> = (0..strata.len()).collect();
    rest.sort_by(|&a, &b| {
        let remainder = |i: usize| strata[i].1 * size % total;
        remainder(b)
            .cmp(&remainder(a))
            .then(strata[b].1.cmp(&strata[a].1))
            .then(strata[a].0.cmp(&strata[b].0))
    });
    let mut left = size - shares.iter().sum::<usize>();
    for i in rest.into_iter().cycle().take(strata.len() * 2) {
        if left == 0 {
            break;
        }
        if shares[i] < strata[i].1 {
            shares[i] += 1;
            left -= 1;
        }
    }
    shares
}

/// Draws a sample of `size` candidates: up to `outliers` outliers first
/// (in the seed's order), then the rest of `size` at random within strata
/// in proportion to their size. Returns indexes into `candidates` with why
/// each was drawn; fewer when there are fewer candidates.
pub fn draw_sample(
    candidates: &[Candidate],
    size: usize,
    outliers: usize,
    seed: u64,
) -> Vec<(usize, Drawn)> {
    let mut ordered: Vec<usize> = (0..candidates.len()).collect();
    ordered.sort_by_key(|&i| (order(seed, &candidates[i].key), i));
    let mut drawn: Vec<(usize, Drawn)> = ordered
        .iter()
        .filter_map(|&i| Some((i, Drawn::Outlier(candidates[i].outlier?))))
        .take(outliers.min(size))
        .collect();
    let rest: Vec<usize> = ordered
        .into_iter()
        .filter(|i| !drawn.iter().any(|(d, _)| d == i))
        .collect();
    let mut strata: Vec<(String, usize)> = Vec::new();
    for &i in &rest {
        match strata.iter_mut().find(|s| s.0 == candidates[i].stratum) {
            Some(s) => s.1 += 1,
            None => strata.push((candidates[i].stratum.clone(), 1)),
        }
    }
    strata.sort();
    let shares = allocate(&strata, size - drawn.len());
    for ((name, _), share) in strata.iter().zip(shares) {
        drawn.extend(
            rest.iter()
                .filter(|&&i| &candidates[i].stratum == name)
                .take(share)
                .map(|&i| (i, Drawn::Random)),
        );
    }
    drawn
}
