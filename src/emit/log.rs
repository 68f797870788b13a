//! Training logs read for `peftcost calibrate --from-log`: the seconds per optimizer step of a
//! real run, and its peak memory where the log has it.
//!
//! - HF Trainer `trainer_state.json`: `train_runtime / global_step` (the Trainer's own clock, so
//!   it includes the first step's warm-up and the data loader);
//! - LLaMA-Factory `trainer_log.jsonl`: the slope of `elapsed_time` over `current_steps` between
//!   the first and last lines (warm-up excluded);
//! - CSV with a `step_seconds` column (and optionally `peak_memory_gib`, `peak_rss_gib` or
//!   `peak_memory_bytes`): the median step after the first.

use serde::Deserialize;

use crate::core::error::{Error, Result};

/// What a log says about the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLog {
    /// Which format it was read as.
    pub format: &'static str,
    /// Seconds per optimizer step.
    pub step_seconds: f64,
    /// Optimizer steps the figure is over.
    pub steps: u64,
    /// Peak memory, bytes.
    pub peak_memory_bytes: Option<u64>,
}

/// Read a log; `name` (its path) picks the format by extension and is shown in errors.
pub fn parse(name: &str, text: &str) -> Result<RunLog> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        csv_log(name, text)
    } else if lower.ends_with(".jsonl") {
        llamafactory_log(name, text)
    } else {
        trainer_state(name, text)
    }
}

fn bad(name: &str, what: impl std::fmt::Display) -> Error {
    Error::input(format!("{name}: {what}"))
}

fn trainer_state(name: &str, text: &str) -> Result<RunLog> {
    #[derive(Deserialize)]
    struct State {
        global_step: Option<u64>,
        #[serde(default)]
        log_history: Vec<serde_json::Value>,
    }
    let s: State = serde_json::from_str(text).map_err(|e| {
        bad(
            name,
            format!(
                "{}:{}: {e} (expected a Trainer trainer_state.json)",
                e.line(),
                e.column()
            ),
        )
    })?;
    let runtime = s
        .log_history
        .iter()
        .rev()
        .find_map(|e| e.get("train_runtime").and_then(|v| v.as_f64()))
        .ok_or_else(|| bad(name, "no train_runtime in log_history: the run did not finish (or this is not a trainer_state.json)"))?;
    if !(runtime.is_finite() && runtime > 0.0) {
        return Err(bad(
            name,
            format!("train_runtime {runtime} is not a positive number of seconds"),
        ));
    }
    let steps = s
        .global_step
        .filter(|s| *s > 0)
        .ok_or_else(|| bad(name, "global_step is missing or 0"))?;
    Ok(RunLog {
        format: "HF Trainer trainer_state.json",
        step_seconds: runtime / steps as f64,
        steps,
        peak_memory_bytes: None,
    })
}

/// `H:MM:SS` (or `D days, H:MM:SS`) as seconds.
fn clock(s: &str) -> Option<f64> {
    let (days, rest) = match s.split_once(" day") {
        Some((d, r)) => (d.trim().parse::<f64>().ok()?, r.split_once(", ")?.1),
        None => (0.0, s),
    };
    let parts: Vec<f64> = rest
        .split(':')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [h, m, s] => Some(days * 86_400.0 + h * 3600.0 + m * 60.0 + s),
        _ => None,
    }
}

fn llamafactory_log(name: &str, text: &str) -> Result<RunLog> {
    let mut points = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| bad(name, format!("{}:{}: {e}", i + 1, e.column())))?;
        let step = v.get("current_steps").and_then(|s| s.as_u64());
        let t = v
            .get("elapsed_time")
            .and_then(|t| t.as_str())
            .and_then(clock);
        if let (Some(step), Some(t)) = (step, t) {
            points.push((step, t));
        }
    }
    match (points.first(), points.last()) {
        (Some(&(s0, t0)), Some(&(s1, t1))) if s1 > s0 && t1 > t0 => Ok(RunLog {
            format: "LLaMA-Factory trainer_log.jsonl",
            step_seconds: (t1 - t0) / (s1 - s0) as f64,
            steps: s1 - s0,
            peak_memory_bytes: None,
        }),
        _ => Err(bad(
            name,
            "needs two lines with current_steps and elapsed_time (a LLaMA-Factory trainer_log.jsonl of a run that logged twice)",
        )),
    }
}

fn csv_log(name: &str, text: &str) -> Result<RunLog> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| bad(name, e))?.clone();
    let col = |k: &str| headers.iter().position(|h| h.trim() == k);
    let step_col = col("step_seconds").ok_or_else(|| {
        bad(
            name,
            "no step_seconds column (header: step_seconds[,peak_memory_gib])",
        )
    })?;
    let memory = [
        ("peak_memory_bytes", 1.0),
        ("peak_memory_gib", 1024f64.powi(3)),
        ("peak_rss_gib", 1024f64.powi(3)),
    ]
    .into_iter()
    .find_map(|(k, scale)| col(k).map(|i| (i, scale)));
    let mut steps = Vec::new();
    let mut peak: Option<f64> = None;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(name, e))?;
        let number = |c: usize| -> Result<f64> {
            let s = rec.get(c).unwrap_or("").trim();
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(name, format!("row {}: '{s}' is not a number", i + 2)))
        };
        steps.push(number(step_col)?);
        if let Some((c, scale)) = memory {
            let m = number(c)? * scale;
            peak = Some(peak.map_or(m, |p: f64| p.max(m)));
        }
    }
    // The first step warms up (allocations, kernel selection): leave it out when there are more.
    let mut timed: Vec<f64> = if steps.len() > 2 {
        steps[1..].to_vec()
    } else {
        steps
    };
    if timed.is_empty() {
        return Err(bad(name, "no rows"));
    }
    timed.sort_by(f64::total_cmp);
    let median = timed[timed.len() / 2];
    if median <= 0.0 {
        return Err(bad(
            name,
            "the median step_seconds is 0: not a timing of a run",
        ));
    }
    Ok(RunLog {
        format: "CSV of step times",
        step_seconds: median,
        steps: timed.len() as u64,
        peak_memory_bytes: peak.map(|p| p as u64),
    })
}

/// `vllm bench serve --save-result` JSON: medians of TPOT and TTFT, the mean lengths and the
/// concurrency (vLLM's `benchmarks/serve.py` result keys).
pub fn vllm_bench(name: &str, text: &str) -> Result<crate::core::deploy::ServingMeasurement> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| bad(name, format!("{}:{}: {e}", e.line(), e.column())))?;
    let num = |k: &str| v.get(k).and_then(|x| x.as_f64());
    let need = |k: &str| {
        num(k).ok_or_else(|| {
            bad(
                name,
                format!("no {k}: expected the JSON of `vllm bench serve --save-result`"),
            )
        })
    };
    let completed = need("completed")?;
    if completed < 1.0 {
        return Err(bad(name, "completed is 0: no request finished"));
    }
    let concurrency = num("max_concurrency").ok_or_else(|| {
        bad(
            name,
            "no max_concurrency: rerun the benchmark with --max-concurrency N so the batch is known",
        )
    })?;
    Ok(crate::core::deploy::ServingMeasurement {
        concurrency: concurrency.max(1.0) as u64,
        input_tokens: need("total_input_tokens")? / completed,
        output_tokens: need("total_output_tokens")? / completed,
        tpot_seconds: need("median_tpot_ms")? / 1e3,
        ttft_seconds: num("median_ttft_ms").map(|t| t / 1e3),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_give_seconds_per_step() {
        // trainer_state.json: 32.0953 s / 40 steps (tests/truth/trainer-run, a real run).
        let t = include_str!("../../tests/truth/trainer-run/trainer_state.json");
        let r = parse("trainer_state.json", t).unwrap();
        assert_eq!(r.steps, 40);
        assert!((r.step_seconds - 32.0953 / 40.0).abs() < 1e-9, "{r:?}");
        // LLaMA-Factory: 12 s from step 10 to step 30 -> 0.6 s a step.
        let lf = "{\"current_steps\": 10, \"total_steps\": 40, \"elapsed_time\": \"0:00:08\"}\n{\"current_steps\": 30, \"total_steps\": 40, \"elapsed_time\": \"0:00:20\"}\n";
        let r = parse("trainer_log.jsonl", lf).unwrap();
        assert!((r.step_seconds - 0.6).abs() < 1e-12, "{r:?}");
        assert_eq!(clock("1 day, 1:00:01"), Some(90_001.0));
        // CSV: the first (warm-up) row is left out; the median of 1, 2, 3 is 2.
        let r = parse(
            "s.csv",
            "step,step_seconds,peak_memory_gib\n1,9,1\n2,1,1.5\n3,3,2\n4,2,1\n",
        )
        .unwrap();
        assert_eq!(r.step_seconds, 2.0);
        assert_eq!(r.peak_memory_bytes, Some(2 * 1024 * 1024 * 1024));
    }

    #[test]
    fn unusable_logs_say_why() {
        for (name, text, want) in [
            ("s.csv", "step,seconds\n1,2\n", "no step_seconds column"),
            ("s.csv", "step_seconds\nfast\n", "row 2"),
            (
                "trainer_state.json",
                "{\"global_step\": 3, \"log_history\": []}",
                "no train_runtime",
            ),
            (
                "trainer_state.json",
                "{\"global_step\": ",
                "trainer_state.json: 1:",
            ),
            (
                "trainer_log.jsonl",
                "{\"current_steps\": 1}\n",
                "needs two lines",
            ),
            // Found by the fuzzer (tests/proptest-regressions/fuzz.txt): a negative runtime.
            (
                "trainer_state.json",
                "{\"global_step\": 4, \"log_history\": [{\"train_runtime\": -3.2}]}",
                "not a positive number",
            ),
            (
                "s.csv",
                "step_seconds\n0\n0\n0\n",
                "median step_seconds is 0",
            ),
        ] {
            let e = parse(name, text).unwrap_err().to_string();
            assert!(e.contains(want), "{name}: {e}");
        }
    }
}
