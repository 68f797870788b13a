//! Sample lengths: what padded and packed data cost.
//!
//! A dataset's token lengths are kept as their mean and 17 quantiles (0%, 6.25%, ..., 100%),
//! so a [`Workload`](super::Workload) stays `Copy` and a step costs no allocation. Without
//! packing, the Trainer's collator pads each micro-batch to its longest sample: a micro-batch of
//! `k` random samples has the expected length E[max of k draws] = integral of Q(u) k u^(k-1)
//! du over the quantile function Q (piecewise linear between the stored quantiles, integrated
//! exactly), and the longest batch, Q(1), sets the memory peak. With packing, samples are
//! concatenated into full `seq_len` rows: mean x samples / seq_len rows of seq_len tokens.
//!
//! Warts: batches are taken as random draws (a length-grouped sampler pads less); packed rows
//! attend across their samples' boundaries (no varlen attention), as plain packing does.

use serde::Serialize;

use crate::core::error::{Error, Result};

/// Quantiles stored: 0%, 1/16, ..., 100%.
const QUANTILES: usize = 17;

/// Token lengths of a dataset's samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lengths {
    /// Mean tokens per sample.
    pub mean: f64,
    /// Tokens at 0%, 6.25%, ..., 100% of the samples, ascending.
    pub quantiles: [f64; QUANTILES],
}

impl Lengths {
    /// Every sample `tokens` long (`--avg-tokens`: only the mean is known).
    pub fn constant(tokens: u64) -> Self {
        Lengths {
            mean: tokens as f64,
            quantiles: [tokens as f64; QUANTILES],
        }
    }

    /// The lengths of real samples (`--lengths FILE`); `None` for an empty list.
    pub fn of_samples(samples: &[u64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let last = (sorted.len() - 1) as f64;
        let mut quantiles = [0.0; QUANTILES];
        for (i, q) in quantiles.iter_mut().enumerate() {
            // Linear interpolation between order statistics (numpy's default).
            let at = last * i as f64 / (QUANTILES - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            *q = sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * (at - lo as f64);
        }
        let mean = sorted.iter().map(|&n| n as f64).sum::<f64>() / sorted.len() as f64;
        Some(Lengths { mean, quantiles })
    }

    /// Parse a lengths file: one whole number per line (blank lines and `#` comments skipped)
    /// or a JSON array of whole numbers. `name` is shown in errors.
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let values: Vec<u64> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(|e| {
                Error::input(format!(
                    "{name}:{}:{}: {e} (give a JSON array of whole token counts)",
                    e.line(),
                    e.column()
                ))
            })?
        } else {
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let n = line.parse::<u64>().map_err(|_| {
                    Error::input(format!(
                        "{name}:{}: '{line}' is not a whole token count (one per line)",
                        i + 1
                    ))
                })?;
                out.push(n);
            }
            out
        };
        if values.contains(&0) {
            return Err(Error::input(format!(
                "{name}: a sample of 0 tokens (every sample has at least one)"
            )));
        }
        Lengths::of_samples(&values).ok_or_else(|| {
            Error::input(format!(
                "{name}: no lengths in it (one token count per line)"
            ))
        })
    }

    /// The longest sample, truncated at `seq_len`.
    pub fn longest(&self, seq_len: u64) -> u64 {
        (self.quantiles[QUANTILES - 1].ceil() as u64).min(seq_len)
    }

    /// Mean tokens per sample after truncation at `seq_len`: the mean where no sample is
    /// longer, else the mean of the truncated quantile function.
    pub fn mean_truncated(&self, seq_len: u64) -> f64 {
        if self.quantiles[QUANTILES - 1] <= seq_len as f64 {
            self.mean
        } else {
            self.padded(1, seq_len)
        }
    }

    /// Expected tokens of a micro-batch of `k` samples padded to its longest, truncated at
    /// `seq_len`: the integral of min(Q(u), seq_len) k u^(k-1) du, exact per linear piece.
    pub fn padded(&self, k: u64, seq_len: u64) -> f64 {
        let k = k.max(1) as i32;
        let cap = seq_len as f64;
        let n = (QUANTILES - 1) as f64;
        let mut total = 0.0;
        for i in 0..QUANTILES - 1 {
            let (u0, u1) = (i as f64 / n, (i + 1) as f64 / n);
            let (q0, q1) = (self.quantiles[i].min(cap), self.quantiles[i + 1].min(cap));
            // Q(u) = a + b u on [u0, u1].
            let b = (q1 - q0) / (u1 - u0);
            let a = q0 - b * u0;
            total += a * (u1.powi(k) - u0.powi(k))
                + b * k as f64 / (k + 1) as f64 * (u1.powi(k + 1) - u0.powi(k + 1));
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_pads_to_its_expected_longest_sample() {
        // Lengths 1..=17 (uniform): quantile i is 1 + i. One sample: the mean, 9.
        let l = Lengths::of_samples(&(1..=17).collect::<Vec<_>>()).unwrap();
        assert_eq!(l.quantiles[0], 1.0);
        assert_eq!(l.quantiles[16], 17.0);
        assert!((l.padded(1, 512) - 9.0).abs() < 1e-9);
        // Two samples: Q(u) = 1 + 16u, E[max] = integral of (1 + 16u) 2u du = 1 + 32/3.
        assert!((l.padded(2, 512) - (1.0 + 32.0 / 3.0)).abs() < 1e-9);
        // Truncation at 9 tokens: min(1 + 16u, 9) for one sample = 9 - integral over u > 1/2
        // of (16u - 8) = 9 - 2 = 7.
        assert!((l.padded(1, 9) - 7.0).abs() < 1e-9);
        assert!((l.mean_truncated(9) - 7.0).abs() < 1e-9);
        assert_eq!(l.mean_truncated(512), 9.0);
        assert_eq!(l.longest(512), 17);
        assert_eq!(l.longest(9), 9);
        // A constant length pads to itself at any batch size.
        assert!((Lengths::constant(300).padded(8, 512) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn a_lengths_file_names_its_bad_line() {
        let ok = Lengths::parse("l.txt", "# tokens\n100\n\n300\n").unwrap();
        assert_eq!(ok.mean, 200.0);
        let json = Lengths::parse("l.json", "[100, 300]").unwrap();
        assert_eq!(json, ok);
        let err = Lengths::parse("l.txt", "100\nabc\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("l.txt:2:") && err.contains("abc"), "{err}");
        let err = Lengths::parse("l.json", "[100, -3]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("l.json:1:"), "{err}");
        assert!(Lengths::parse("l.txt", "# nothing\n").is_err());
        assert!(Lengths::parse("l.txt", "0\n").is_err());
    }
}
