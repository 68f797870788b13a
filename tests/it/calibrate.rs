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

fn predicted_step(calibration: &std::path::Path) -> f64 {
    let mut args = vec![
        "estimate",
        "--hardware",
        "cpu-16c",
        "--format",
        "json",
        "--calibration",
    ];
    args.push(calibration.to_str().unwrap());
    args.extend(SCENARIO);
    json_of(&args)["devices"][0]["step_seconds"]
        .as_f64()
        .unwrap()
}

#[test]
fn a_real_trainer_log_calibrates_the_step_time_to_within_ten_percent() {
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{RUN}/run.json")).unwrap()).unwrap();
    // The scenario is the run: peft's own count of the run's trainable parameters.
    let mut est = vec!["estimate", "--hardware", "cpu-16c", "--format", "json"];
    est.extend(SCENARIO);
    let before = json_of(&est);
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
        let mut args = vec![
            "calibrate",
            "--from-log",
            &log_path,
            "--hardware",
            "cpu-16c",
            "--json",
            "--out",
        ];
        args.push(cal.to_str().unwrap());
        args.extend(SCENARIO);
        let out = peftcost(dir.path()).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let measured = fit["measured_step_seconds"].as_f64().unwrap();
        if log == "trainer_state.json" {
            assert!((measured - logged).abs() < 1e-9, "{measured} vs {logged}");
        }
        let after = predicted_step(&cal);
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
    assert!(err.contains("peak"), "{err}");
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
    // The CSV's peak RSS (1.13 GiB) is compared, not written back.
    assert!(v["memory_measured"].as_u64().unwrap() > 1 << 30, "{v}");
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
