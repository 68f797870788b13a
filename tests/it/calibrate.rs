//! `peftcost calibrate --from-log`: a real run's log in, a calibration out that makes the
//! estimate of the same scenario agree with the run.
//!
//! The log is a real, committed run of transformers' Trainer on this project's 2-core CPU
//! (`tests/truth/trainer_run.py`; versions in `tests/truth/trainer-run/run.json`): LoRA on a
//! random-initialised 4-layer llama, fp32, 40 steps of 4 x 256 tokens.

use crate::common::{fails, json_of, peftcost};

const RUN: &str = "tests/truth/trainer-run";
/// The run in peftcost's flags (the docstring of tests/truth/trainer_run.py).
const SCENARIO: [&str; 16] = [
    "--model-config",
    "tests/truth/configs/small-llama.json",
    "--method",
    "lora",
    "--dtype",
    "fp32",
    "--seq-len",
    "256",
    "--micro-batch",
    "4",
    "--grad-accum",
    "1",
    "--samples",
    "160",
    "--epochs",
    "1",
];

/// The estimate of `scenario` on the cpu-16c profile, with a calibration file or the defaults.
fn estimate_on_cpu(scenario: &[&str], calibration: Option<&std::path::Path>) -> serde_json::Value {
    let mut args = vec!["estimate", "--hardware", "cpu-16c", "--format", "json"];
    if let Some(c) = calibration {
        args.extend(["--calibration", c.to_str().unwrap()]);
    }
    args.extend(scenario);
    json_of(&args)
}

/// `calibrate --from-log LOG --hardware HARDWARE --out CAL EXTRA.. SCENARIO..`, run in `dir`.
fn calibrate(
    dir: &std::path::Path,
    log: &str,
    hardware: &str,
    cal: &std::path::Path,
    extra: &[&str],
    scenario: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "calibrate",
        "--from-log",
        log,
        "--hardware",
        hardware,
        "--out",
    ];
    args.push(cal.to_str().unwrap());
    args.extend(extra);
    args.extend(scenario);
    peftcost(dir).args(&args).output().unwrap()
}

/// The JSON a successful `calibrate --json` printed.
fn fitted(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_real_trainer_log_calibrates_the_step_time_to_within_ten_percent() {
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{RUN}/run.json")).unwrap()).unwrap();
    // The scenario is the run: peft's own count of the run's trainable parameters.
    let before = estimate_on_cpu(&SCENARIO, None);
    assert_eq!(before["params"]["trainable"], run["trainable_params"]);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{RUN}/trainer_state.json")).unwrap(),
    )
    .unwrap();
    let last = state["log_history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let logged = last["train_runtime"].as_f64().unwrap() / state["global_step"].as_f64().unwrap();
    for log in ["trainer_state.json", "steps.csv"] {
        let dir = tempfile::tempdir().unwrap();
        let cal = dir.path().join("cal.json");
        let log_path = format!("{RUN}/{log}");
        let out = calibrate(
            dir.path(),
            &log_path,
            "cpu-16c",
            &cal,
            &["--json"],
            &SCENARIO,
        );
        let fit = fitted(out);
        let measured = fit["measured_step_seconds"].as_f64().unwrap();
        if log == "trainer_state.json" {
            assert!((measured - logged).abs() < 1e-9, "{measured} vs {logged}");
        }
        let after = estimate_on_cpu(&SCENARIO, Some(&cal))["devices"][0]["step_seconds"]
            .as_f64()
            .unwrap();
        assert!(
            (after - measured).abs() / measured < 0.10,
            "{log}: predicted {after} s vs measured {measured} s"
        );
        // Before calibration the profile's default MFU is far off for this 2-core machine: the
        // calibration is what closes the gap.
        let default_step = before["devices"][0]["step_seconds"].as_f64().unwrap();
        assert!(
            (default_step - measured).abs() / measured > 0.5,
            "{default_step}"
        );
    }
}

#[test]
fn a_log_the_scenario_cannot_explain_is_refused_and_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("cal.json");
    // 4096 sequences a step in 0.8 s would be beyond the CPU's peak.
    let mut args = vec![
        "calibrate",
        "--from-log",
        "tests/truth/trainer-run/trainer_state.json",
        "--hardware",
        "cpu-16c",
        "--out",
        cal.to_str().unwrap(),
    ];
    let mut wrong = SCENARIO.to_vec();
    wrong[9] = "4096";
    args.extend(wrong);
    let err = fails(&args, dir.path());
    // Refused either way the scenario cannot explain the step: beyond the peak, or slower
    // than the log before any GEMM runs (the CPU's fresh pages and elementwise traffic alone).
    assert!(
        err.contains("peak") || err.contains("do not depend on MFU"),
        "{err}"
    );
    assert!(!cal.exists());
    let mut dry = vec![
        "calibrate",
        "--from-log",
        "tests/truth/trainer-run/steps.csv",
        "--hardware",
        "cpu-16c",
        "--dry-run",
    ];
    dry.extend(SCENARIO);
    let out = peftcost(dir.path()).args(&dry).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing written"), "{text}");
    assert!(!dir.path().join("data").exists());
    // `validate --log` is the same comparison.
    let mut validate = vec![
        "validate",
        "--log",
        "tests/truth/trainer-run/steps.csv",
        "--hardware",
        "cpu-16c",
        "--format",
        "json",
    ];
    validate.extend(SCENARIO);
    let v = json_of(&validate);
    assert!(
        v["mfu_after"].as_f64().unwrap() < v["mfu_before"].as_f64().unwrap(),
        "{v}"
    );
    // The CSV's peak RSS (1.13 GiB) is fitted in the comparison, and nothing is written.
    assert!(v["memory_measured"].as_u64().unwrap() > 1 << 30, "{v}");
    assert!(v["memory_offset"].as_i64().unwrap() > 0, "{v}");
    assert!(!dir.path().join("data").exists());
    let bad = dir.path().join("steps.csv");
    std::fs::write(&bad, "step,secs\n1,2\n").unwrap();
    let err = fails(
        &[
            "calibrate",
            "--from-log",
            bad.to_str().unwrap(),
            "--hardware",
            "cpu-16c",
            "--dry-run",
        ],
        dir.path(),
    );
    assert!(err.contains("no step_seconds column"), "{err}");
}

/// Run B of tests/truth/trainer_run.py: the same model and method at 512 tokens x 8 sequences
/// (`trainer_run.py tests/truth/trainer-run-s512-mb8 512 8`), 4x the tokens of the run the
/// calibration is fitted to.
const RUN_B: [&str; 16] = [
    "--model-config",
    "tests/truth/configs/small-llama.json",
    "--method",
    "lora",
    "--dtype",
    "fp32",
    "--seq-len",
    "512",
    "--micro-batch",
    "8",
    "--grad-accum",
    "1",
    "--samples",
    "320",
    "--epochs",
    "1",
];

/// Median step after the first and peak RSS of a committed steps.csv.
fn measured(run: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(format!("{run}/steps.csv")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(2)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let mut steps: Vec<f64> = rows.iter().map(|r| r[1]).collect();
    steps.sort_by(f64::total_cmp);
    let peak = rows.iter().map(|r| r[2]).fold(0.0, f64::max);
    (steps[steps.len() / 2], peak * (1u64 << 30) as f64)
}

fn estimate_b(calibration: Option<&std::path::Path>) -> (f64, f64) {
    let d = &estimate_on_cpu(&RUN_B, calibration)["devices"][0];
    (
        d["step_seconds"].as_f64().unwrap(),
        d["memory"]["total"].as_f64().unwrap(),
    )
}

#[test]
fn a_calibration_fitted_to_one_run_predicts_another_shape_closer_than_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("cal.json");
    let log = "tests/truth/trainer-run/steps.csv";
    let fit = fitted(calibrate(
        dir.path(),
        log,
        "cpu-16c",
        &cal,
        &["--json"],
        &SCENARIO,
    ));
    // Run A's peak RSS is 1.13 GiB (steps.csv); the fitted offset reproduces it exactly.
    let (_, peak_a) = measured(RUN);
    let after_a = fit["memory_predicted_after"].as_f64().unwrap();
    assert!((after_a - peak_a).abs() / peak_a < 0.001, "{fit}");
    assert!(fit["memory_offset"].as_i64().unwrap() > 0, "{fit}");

    // Run B, not seen by the fit: measured 2.71 s a step and 1.99 GiB.
    let (step_b, peak_b) = measured("tests/truth/trainer-run-s512-mb8");
    let err = |pred: f64, real: f64| (pred - real).abs() / real;
    let (step_default, mem_default) = estimate_b(None);
    let (step_cal, mem_cal) = estimate_b(Some(&cal));
    // Measured when committed: defaults -81% (time: cpu-16c's datasheet, not this machine) and
    // -14% (memory; -42% before the 736 MiB floor of a torch process was modelled); calibrated
    // on run A, +15% and -9%. The memory residual grows with the batch, which a constant
    // offset cannot follow: the module doc names this wart.
    assert!(err(step_cal, step_b) < 0.25, "{step_cal} vs {step_b}");
    assert!(err(mem_cal, peak_b) < 0.20, "{mem_cal} vs {peak_b}");
    assert!(err(step_cal, step_b) < err(step_default, step_b) / 3.0);
    assert!(
        err(mem_cal, peak_b) < err(mem_default, peak_b),
        "calibrated {mem_cal} vs default {mem_default}, measured {peak_b}"
    );
}

#[test]
fn calibrating_again_keeps_the_other_families_and_never_replaces_another_device_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("cal.json");
    let calibrate = |hardware: &str, method: &str, force: bool| {
        let mut scenario = SCENARIO.to_vec();
        scenario[3] = method;
        let log = "tests/truth/trainer-run/steps.csv";
        let extra: &[&str] = if force { &["--force"] } else { &[] };
        calibrate(dir.path(), log, hardware, &cal, extra, &scenario)
    };
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&cal).unwrap()).unwrap()
    };
    assert!(calibrate("cpu-16c", "lora", false).status.success());
    // The same log read as a prompt-tuning run: a second family of the same device.
    assert!(calibrate("cpu-16c", "prompt", false).status.success());
    let both = read();
    for family in ["lora", "prompt"] {
        assert!(both["train_efficiency"][family].is_f64(), "{both}");
        assert!(both["memory_offset_gib"][family].is_f64(), "{both}");
    }
    // Another device's calibration at the same path is refused, the file untouched.
    let out = calibrate("cpu-16c-amx", "lora", false);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds a calibration of cpu-16c") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(read(), both);
    assert!(calibrate("cpu-16c-amx", "lora", true).status.success());
    assert_eq!(read()["hardware_id"], "cpu-16c-amx");
    assert!(read()["train_efficiency"]["prompt"].is_null());
}
