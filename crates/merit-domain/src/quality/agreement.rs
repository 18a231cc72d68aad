//! Agreement between evaluators (calibration) and between QA scores and the
//! customer's own answers: percentage agreement, Cohen's kappa (two raters),
//! Fleiss' kappa (any fixed number of raters) and Pearson's correlation with
//! its 95 % interval (docs/metrics.md, "Calibration").

use std::collections::BTreeMap;

/// Cohen's kappa for two raters over the same subjects, from the pairs of
/// categories they gave: κ = (p_o − p_e) ÷ (1 − p_e), where p_o is the
/// share of subjects they agree on and p_e = Σ_k p_A(k) × p_B(k).
/// `None` without subjects or when chance agreement is already 1.
pub fn cohen_kappa<C: Ord>(pairs: &[(C, C)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let mut first: BTreeMap<&C, f64> = BTreeMap::new();
    let mut second: BTreeMap<&C, f64> = BTreeMap::new();
    for (a, b) in pairs {
        *first.entry(a).or_default() += 1.0;
        *second.entry(b).or_default() += 1.0;
    }
    let chance: f64 = first
        .iter()
        .map(|(k, a)| a / n * second.get(k).copied().unwrap_or(0.0) / n)
        .sum();
    (chance < 1.0).then(|| (observed - chance) / (1.0 - chance))
}

/// Agreement among a fixed number of raters over several subjects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaterAgreement {
    pub subjects: usize,
    pub raters: usize,
    /// P̄: the mean share of rater pairs that agree on a subject (for two
    /// raters, the share of subjects they agree on).
    pub agreement: f64,
    /// Fleiss' kappa; `None` when chance agreement is already 1 (every
    /// rating in one category).
    pub kappa: Option<f64>,
}

/// Fleiss' kappa from a subjects × categories table of counts (how many
/// raters put subject i in category j; every row sums to the same number of
/// raters, at least 2): P_i = (Σ_j n_ij² − n) ÷ (n(n − 1)), P̄ the mean of
/// P_i, P̄_e = Σ_j p_j² with p_j the share of all ratings in category j,
/// κ = (P̄ − P̄_e) ÷ (1 − P̄_e). `None` without subjects or when rows
/// differ in their number of raters.
pub fn fleiss_kappa(counts: &[Vec<u32>]) -> Option<RaterAgreement> {
    let raters = counts.first()?.iter().sum::<u32>();
    if raters < 2 || counts.iter().any(|row| row.iter().sum::<u32>() != raters) {
        return None;
    }
    let n = raters as f64;
    let subjects = counts.len() as f64;
    let categories = counts.iter().map(Vec::len).max().unwrap_or(0);
    let mut totals = vec![0.0; categories];
    let mut agreement = 0.0;
    for row in counts {
        let squares: f64 = row.iter().map(|&c| (c as f64).powi(2)).sum();
        agreement += (squares - n) / (n * (n - 1.0));
        for (total, &c) in totals.iter_mut().zip(row) {
            *total += c as f64;
        }
    }
    agreement /= subjects;
    let chance: f64 = totals.iter().map(|t| (t / (subjects * n)).powi(2)).sum();
    Some(RaterAgreement {
        subjects: counts.len(),
        raters: raters as usize,
        agreement,
        kappa: (chance < 1.0).then(|| (agreement - chance) / (1.0 - chance)),
    })
}

/// The subjects × categories table of [`fleiss_kappa`] from each subject's
/// ratings (one category label per rater).
pub fn category_counts<C: Ord + Clone>(subjects: &[Vec<C>]) -> Vec<Vec<u32>> {
    let mut categories: Vec<C> = subjects.iter().flatten().cloned().collect();
    categories.sort();
    categories.dedup();
    subjects
        .iter()
        .map(|ratings| {
            categories
                .iter()
                .map(|c| ratings.iter().filter(|r| *r == c).count() as u32)
                .collect()
        })
        .collect()
}

/// A correlation coefficient with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Correlation {
    pub n: usize,
    pub r: f64,
    pub low: f64,
    pub high: f64,
}

/// The two-sided 95 % quantile of the standard normal distribution.
const Z_95: f64 = 1.959_963_984_540_054;

/// Pearson's r of paired values, with the interval from Fisher's z
/// transformation: tanh(atanh(r) ± 1.96 ÷ √(n − 3)). `None` below 4 pairs
/// or when either side does not vary.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<Correlation> {
    let n = pairs.len();
    if n < 4 {
        return None;
    }
    let mean = |f: fn(&(f64, f64)) -> f64| pairs.iter().map(f).sum::<f64>() / n as f64;
    let (mean_x, mean_y) = (mean(|p| p.0), mean(|p| p.1));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mean_x) * (y - mean_y);
        sxx += (x - mean_x).powi(2);
        syy += (y - mean_y).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let z = r.clamp(-0.999_999, 0.999_999).atanh();
    let half = Z_95 / ((n - 3) as f64).sqrt();
    Some(Correlation {
        n,
        r,
        low: (z - half).tanh(),
        high: (z + half).tanh(),
    })
}
