//! The command line as a user runs it: outputs, and one clear line with exit code 2 for every
//! class of bad input.

use predicates::prelude::*;

use crate::common::{fails, json_of, peftcost};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn chatglm3_lora_json_matches_peft_printout() {
    // THUDM/ChatGLM3 lora_finetune.ipynb: trainable 1,949,696 || all 6,245,533,696.
    let v = json_of(&[
        "estimate",
        "--model",
        "chatglm3-6b",
        "--method",
        "lora",
        "--format",
        "json",
    ]);
    assert_eq!(v["params"]["trainable"], 1_949_696);
    assert_eq!(v["params"]["total"], 6_243_584_000u64);
    assert_eq!(v["params"]["all"], 6_245_533_696u64);
    assert_eq!(v["model"], "chatglm3-6b");
    assert_eq!(v["method"]["kind"], "lora");
    assert_eq!(v["method"]["targets"][0], "query_key_value");
}

#[test]
fn default_estimate_is_qwen_lora_with_percent() {
    // trainable% = 17,891,328 / 7,739,215,872 * 100 = 0.2312 (peft prints 4 decimals).
    let v = json_of(&["estimate", "--format", "json"]);
    assert_eq!(v["model"], "qwen-7b");
    assert_eq!(v["params"]["trainable_percent"], 0.2312);
}

#[test]
fn csv_has_stable_headers() {
    let dir = tmp();
    let out = peftcost(dir.path())
        .args(["estimate", "--model", "mistral-7b", "--format", "csv"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "model");
    let row = rdr.records().next().unwrap().unwrap();
    let col = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col("trainable_params"), "3407872");
}

#[test]
fn markdown_and_table_print_the_counts() {
    let dir = tmp();
    peftcost(dir.path())
        .args(["estimate", "--model", "mistral-7b", "--format", "md"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| trainable | 3,407,872 |"));
    peftcost(dir.path())
        .args(["estimate", "--model", "mistral-7b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("3,407,872"));
}

#[test]
fn unknown_model_suggests_the_nearest_id() {
    let err = fails(&["estimate", "--model", "qwen7b"], tmp().path());
    assert!(
        err.contains("unknown model 'qwen7b'") && err.contains("did you mean 'qwen-7b'"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);
}

#[test]
fn unknown_method_lists_methods() {
    let err = fails(&["estimate", "--method", "lorax"], tmp().path());
    assert!(
        err.contains("unknown method 'lorax'") && err.contains("qlora"),
        "{err}"
    );
}

#[test]
fn unknown_target_lists_the_model_modules() {
    let err = fails(
        &["estimate", "--model", "mistral-7b", "--targets", "c_attn"],
        tmp().path(),
    );
    assert!(
        err.contains("target 'c_attn'") && err.contains("self_attn.q_proj"),
        "{err}"
    );
}

#[test]
fn rank_zero_and_absurd_numbers_are_rejected() {
    let err = fails(&["estimate", "--rank", "0"], tmp().path());
    assert!(err.contains("--rank must be at least 1"), "{err}");
    let err = fails(&["estimate", "--samples", "1000000000000"], tmp().path());
    assert!(err.contains("--samples") && err.contains("absurd"), "{err}");
    let err = fails(&["estimate", "--seq-len", "0"], tmp().path());
    assert!(err.contains("--seq-len must be at least 1"), "{err}");
    // A negative number is not a count: clap refuses it before we run.
    fails(&["estimate", "--samples", "-5"], tmp().path());
    let err = fails(&["estimate", "--alpha", "-1"], tmp().path());
    assert!(err.contains("--alpha"), "{err}");
}

#[test]
fn malformed_user_profile_reports_file_line_column() {
    let dir = tmp();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("models/broken.toml"),
        "id = \"x\"\nname = \"x\"\nhidden_size = \"big\"\n",
    )
    .unwrap();
    let err = fails(&["estimate"], dir.path());
    assert!(err.contains("broken.toml:3:15"), "{err}");
}

#[test]
fn user_profile_adds_a_model() {
    let dir = tmp();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    let out = peftcost(dir.path())
        .args([
            "models",
            "import",
            "tests/data/llama-2-7b.json",
            "--id",
            "llama-2-7b",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(dir.path().join("models/llama-2-7b.toml"), &out.stdout).unwrap();
    // Llama-2-7b r=8 q,v: 4,194,304 (models.md §7 row 16).
    let o = peftcost(dir.path())
        .args(["estimate", "--model", "llama-2-7b", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["params"]["trainable"], 4_194_304);
    assert_eq!(v["params"]["total"], 6_738_415_616u64);
}

#[test]
fn model_config_json_errors_name_file_and_field() {
    let dir = tmp();
    let bad = dir.path().join("config.json");
    std::fs::write(
        &bad,
        "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096,\n}",
    )
    .unwrap();
    let err = fails(
        &["estimate", "--model-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("config.json:4:1"), "{err}");
    std::fs::write(&bad, r#"{"model_type": "llama", "hidden_size": 4096}"#).unwrap();
    let err = fails(
        &["estimate", "--model-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("missing field 'num_hidden_layers'"), "{err}");
    std::fs::write(&bad, r#"{"model_type": "gpt2", "hidden_size": 768}"#).unwrap();
    let err = fails(
        &["estimate", "--model-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("unsupported model_type 'gpt2'"), "{err}");
    // A type people fine-tune that is not modelled yet names the closest one and what it needs.
    std::fs::write(&bad, r#"{"model_type": "qwen3_5", "hidden_size": 2048}"#).unwrap();
    let err = fails(
        &["estimate", "--model-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        err.contains("closest supported is 'qwen3'") && err.contains("layer_types"),
        "{err}"
    );
    // A supported type missing a field its architecture needs names the field.
    std::fs::write(
        &bad,
        r#"{"model_type": "deepseek_v2", "hidden_size": 2048, "num_hidden_layers": 27,
            "num_attention_heads": 16, "intermediate_size": 10944, "vocab_size": 102400,
            "max_position_embeddings": 163840, "n_routed_experts": 64,
            "num_experts_per_tok": 6, "moe_intermediate_size": 1408}"#,
    )
    .unwrap();
    let err = fails(
        &["estimate", "--model-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("missing field 'kv_lora_rank'"), "{err}");
}

#[test]
fn model_config_json_is_used_directly() {
    // Llama-2-7b r=8 q,v = 4,194,304 (models.md §7 row 16).
    let v = json_of(&[
        "estimate",
        "--model-config",
        "tests/data/llama-2-7b.json",
        "--format",
        "json",
    ]);
    assert_eq!(v["params"]["trainable"], 4_194_304);
}

#[test]
fn models_show_lists_linears_and_kv_bytes() {
    // ChatGLM3: KV cache 2 * 28 * 2 * 128 * 2 B = 28 KiB per token (design §7).
    let dir = tmp();
    peftcost(dir.path())
        .args(["models", "show", "chatglm3-6b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("self_attention.query_key_value"))
        .stdout(predicate::str::contains("4096 -> 4608"))
        .stdout(predicate::str::contains("28.00 KiB"));
    let v = json_of(&["models", "show", "mistral-7b", "--format", "json"]);
    assert_eq!(v["kv_bytes_per_token_fp16"], 131_072);
    let list = json_of(&["models", "list", "--format", "json"]);
    // The article's six models, 2026's eighteen and Qwen-1.8B, whose published rows
    // `validate` shows (profiles/models/).
    assert_eq!(list.as_array().unwrap().len(), 25);
}

#[test]
fn import_refuses_to_overwrite() {
    let dir = tmp();
    let out = dir.path().join("x.toml");
    std::fs::write(&out, "keep me").unwrap();
    let err = fails(
        &[
            "models",
            "import",
            "tests/data/llama-2-7b.json",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
}

#[test]
fn default_estimate_ends_with_ranked_offers_in_cny_and_usd() {
    let v = json_of(&[
        "estimate", "--model", "qwen-7b", "--method", "lora", "--format", "json",
    ]);
    let offers = v["offers"].as_array().unwrap();
    assert!(offers.len() > 10);
    let providers: std::collections::BTreeSet<&str> = offers
        .iter()
        .map(|o| o["provider"].as_str().unwrap())
        .collect();
    assert!(
        providers.contains("alibaba") && providers.contains("aws"),
        "{providers:?}"
    );
    // Ranked by cost (compared in USD), each with a source and a date.
    let usd: Vec<f64> = offers
        .iter()
        .map(|o| o["cost_usd"].as_f64().unwrap())
        .collect();
    assert!(usd.windows(2).all(|w| w[0] <= w[1]));
    for o in offers {
        assert!(
            !o["source"].as_str().unwrap().is_empty() && !o["as_of"].as_str().unwrap().is_empty()
        );
        let b = &o["cost_breakdown"];
        let sum = b["setup"].as_f64().unwrap()
            + b["data"].as_f64().unwrap()
            + b["train"].as_f64().unwrap()
            + b["export"].as_f64().unwrap();
        assert!((sum - o["cost"].as_f64().unwrap()).abs() < 1e-6 * sum.max(1.0));
        // Only hardware that fits is offered.
        let hw = o["hardware"].as_str().unwrap();
        let dev = v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["hardware"] == hw)
            .unwrap();
        assert_eq!(dev["fits"], true);
    }
}

#[test]
fn offer_filters_apply() {
    let v = json_of(&[
        "estimate",
        "--provider",
        "alibaba",
        "--billing",
        "on-demand",
        "--max-price",
        "20",
        "--currency",
        "CNY",
        "--format",
        "json",
    ]);
    for o in v["offers"].as_array().unwrap() {
        assert_eq!(o["provider"], "alibaba");
        assert_eq!(o["billing"], "on-demand");
        assert!(o["price_per_hour"].as_f64().unwrap() <= 20.0);
    }
    let err = fails(&["estimate", "--provider", "alibab"], tmp().path());
    assert!(err.contains("did you mean 'alibaba'"), "{err}");
    let err = fails(&["estimate", "--max-price", "-3"], tmp().path());
    assert!(err.contains("--max-price"), "{err}");
}

#[test]
fn fail_if_thresholds_exit_2_with_a_reason() {
    let dir = tmp();
    // Qwen-7B LoRA at micro-batch 4 as given needs ~30 GiB: it does not fit a 24 GiB A10, and
    // the line names the fix (auto-fit finds micro-batch 1 x accumulation 4 at 20.57 GiB).
    let out = peftcost(dir.path())
        .args([
            "estimate",
            "--no-auto-fit",
            "--fail-if-not-fits",
            "a10",
            "--hardware",
            "a10",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--fail-if-not-fits a10: needs")
            && err.contains("a10 has 24.00 GiB; fits with --micro-batch 1 --grad-accum 4"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Auto-fit (the default) runs it on the A10 as a practitioner would.
    peftcost(dir.path())
        .args(["estimate", "--fail-if-not-fits", "a10", "--hardware", "a10"])
        .assert()
        .success();
    // The output is still printed for the script to read.
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok());
    peftcost(dir.path())
        .args([
            "estimate",
            "--fail-if-not-fits",
            "a100-80g",
            "--hardware",
            "a100-80g",
        ])
        .assert()
        .success();
    let err = fails(
        &[
            "estimate",
            "--fail-if-cost-over",
            "0.01",
            "--currency",
            "USD",
        ],
        dir.path(),
    );
    assert!(err.contains("the cheapest job costs"), "{err}");
    peftcost(dir.path())
        .args(["estimate", "--fail-if-cost-over", "100000"])
        .assert()
        .success();
}

#[test]
fn plan_issue_example_and_infeasible_budget() {
    let v = json_of(&[
        "plan",
        "--model",
        "mistral-7b",
        "--method",
        "lora",
        "--samples",
        "50000",
        "--seq-len",
        "1024",
        "--deadline",
        "12",
        "--budget",
        "300",
        "--currency",
        "CNY",
        "--format",
        "json",
    ]);
    let cheapest = &v["cheapest"];
    assert!(cheapest["cost"].as_f64().unwrap() <= 300.0);
    assert!(cheapest["wall_hours"].as_f64().unwrap() <= 12.0);
    assert_eq!(cheapest["device"]["fits"], true);
    assert!(v["plans"].as_array().unwrap().len() >= 2);
    let err = fails(
        &[
            "plan",
            "--model",
            "mistral-7b",
            "--samples",
            "50000",
            "--budget",
            "1",
            "--currency",
            "CNY",
        ],
        tmp().path(),
    );
    assert!(
        err.contains("cannot meet the budget") && err.contains("over 1 CNY"),
        "{err}"
    );
}

#[test]
fn report_csv_reads_cleanly_with_hand_checked_rows() {
    let dir = tmp();
    let out = dir.path().join("report.csv");
    peftcost(dir.path())
        .args(["report", "--format", "csv", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    let headers = rdr.headers().unwrap().clone();
    for h in [
        "table",
        "model",
        "method",
        "trainable_params",
        "hardware",
        "provider",
        "instance",
        "job_cost",
        "currency",
        "pricing_as_of",
        "monthly_cost",
    ] {
        assert!(headers.iter().any(|x| x == h), "missing column {h}");
    }
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let col = |r: &csv::StringRecord, name: &str| {
        r[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    let recommended = |model: &str, method: &str| {
        rows.iter()
            .find(|r| {
                col(r, "table") == "finetune"
                    && col(r, "model") == model
                    && col(r, "method") == method
                    && col(r, "recommended") == "true"
            })
            .unwrap_or_else(|| panic!("{model} {method}"))
            .clone()
    };
    // Trainable counts: Qwen-7B LoRA r=8 on the Qwen list = 17,891,328 (peft printout, models.md §7 row 4);
    // bge prompt tuning 20 tokens = 20 * 1024; ChatGLM3 seq_bn adapter = 28 * (2*4096*256 + 256 + 4096) (models.md §9).
    assert_eq!(
        col(&recommended("qwen-7b", "lora"), "trainable_params"),
        "17891328"
    );
    // bge prompt tuning has no row at 512 tokens: with its 20 virtual tokens the sequence
    // needs 532 of BERT's 512 learned positions (the JSON says so in finetune_gaps).
    assert!(!rows
        .iter()
        .any(|r| col(r, "model") == "bge-large-zh-v1.5" && col(r, "method") == "prompt"));
    let v = json_of(&["report", "--section", "finetune", "--format", "json"]);
    let gaps = v["finetune_gaps"].as_array().unwrap();
    assert!(
        gaps.iter()
            .any(|g| g.as_str().unwrap().contains("bge-large-zh-v1.5 prompt")),
        "{gaps:?}"
    );
    let v = json_of(&[
        "report",
        "--section",
        "finetune",
        "--format",
        "json",
        "--seq-len",
        "256",
    ]);
    let bge_prompt = v["finetune"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "bge-large-zh-v1.5" && r["method"] == "prompt")
        .unwrap();
    assert_eq!(bge_prompt["trainable_params"], 20480);
    assert_eq!(
        col(&recommended("chatglm3-6b", "adapter"), "trainable_params"),
        "58842112"
    );
    // Every finetune row: USD and CNY are the same amount at fx.toml's rate (6.7686 CNY per USD).
    for r in rows.iter().filter(|r| col(r, "table") == "finetune") {
        let usd: f64 = col(r, "job_cost_usd").parse().unwrap();
        let cny: f64 = col(r, "job_cost_cny").parse().unwrap();
        assert!((cny / usd - 6.7686).abs() < 1e-6, "{usd} {cny}");
        // The job cost covers at least the training hours at the hourly price.
        let (price, hours, cost): (f64, f64, f64) = (
            col(r, "price_per_hour").parse().unwrap(),
            col(r, "train_hours").parse().unwrap(),
            col(r, "job_cost").parse().unwrap(),
        );
        assert!(cost >= price * hours * 0.999, "{price} x {hours} > {cost}");
    }
    // The deployment table: 5 models x 4 target classes.
    assert_eq!(
        rows.iter().filter(|r| col(r, "table") == "deploy").count(),
        20
    );
}

#[test]
fn compare_keeps_the_base_and_changes_only_what_the_spec_names() {
    let v = json_of(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--rank",
        "64",
        "--seq-len",
        "1024",
        "--grad-checkpointing",
        "--hardware",
        "a100-80g",
        "--compare",
        "method=qlora",
        "--compare",
        "targets=c_attn,rank=8,grad-checkpointing=false",
        "--format",
        "json",
    ]);
    let s = v["scenarios"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    let e = |i: usize| &s[i]["estimate"];
    assert_eq!(e(1)["method"]["kind"], "qlora");
    assert_eq!(e(1)["method"]["rank"], 64);
    assert_eq!(e(1)["workload"]["seq_len"], 1024);
    assert_eq!(e(1)["workload"]["grad_checkpointing"], true);
    assert_eq!(e(1)["workload"]["weights_dtype"], "nf4");
    // r=8 on c_attn alone: 32 * 8 * (4096 + 12288) = 4,194,304 (models.md §9).
    assert_eq!(e(2)["params"]["trainable"], 4_194_304);
    assert_eq!(e(2)["workload"]["grad_checkpointing"], false);
    let err = fails(&["estimate", "--compare", "rank=abc"], tmp().path());
    assert!(err.contains("--compare 'rank=abc'"), "{err}");
    let dir = tmp();
    peftcost(dir.path())
        .args(["estimate", "--hardware", "a10", "--compare", "method=qlora"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(-"));
}

/// A calibration as `peftcost bench` wrote it before it measured the FMA peak (format
/// version 1), with the measured bf16 matmul rate `bf16`.
fn calibration_json_at(hardware_id: Option<&str>, bf16: f64) -> String {
    serde_json::json!({
        "format_version": 1, "tool_version": "0.1.0", "created_unix": 1796000000u64,
        "device": "cpu: test machine (2 threads)", "device_kind": "cpu", "hardware_id": hardware_id,
        "model": "qwen-7b", "memory_gib": 24.0,
        "matmul_gflops": {"f32": 190.0, "bf16": bf16},
        "bandwidth_gbs": 25.0,
        "train_gflops": {"lora": 85.5, "full": 95.0},
        "train_efficiency": {"lora": 0.45, "full": 0.5}
    })
    .to_string()
}

fn calibration_json(hardware_id: Option<&str>) -> String {
    calibration_json_at(hardware_id, 105.0)
}

/// `estimate --model minicpm-2b --hardware local` (micro-batch 4 x 512 tokens) with `cal`.
fn local_minicpm(dir: &std::path::Path, cal: &std::path::Path) -> serde_json::Value {
    let out = peftcost(dir)
        .args([
            "--calibration",
            cal.to_str().unwrap(),
            "estimate",
            "--model",
            "minicpm-2b",
            "--hardware",
            "local",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn calibration_makes_local_hardware_and_calibrates_profiles() {
    let dir = tmp();
    let cal = dir.path().join("cal.json");
    std::fs::write(&cal, calibration_json(None)).unwrap();
    let v = local_minicpm(dir.path(), &cal);
    let d = &v["devices"][0];
    assert_eq!(d["hardware"], "local");
    assert_eq!(d["calibrated"], true);
    assert_eq!(d["mfu"], 0.45);
    // The GEMM term is the step's GEMM FLOPs / (measured bf16 matmul x 0.45), its flash
    // attention FLOPs run at 0.30 of the same peak; the rest of a CPU step (bandwidth, ops)
    // does not depend on it. So doubling the measured matmul rate takes GEMM / (210 GFLOP/s
    // x 0.45) + attention / (210 GFLOP/s x 0.30) off the step, to the hundredth of a percent.
    let tokens = 4.0 * 512.0;
    let attention = v["flops"]["breakdown"]["attention"].as_f64().unwrap() * tokens;
    let gemm = v["flops"]["per_token"].as_f64().unwrap() * tokens - attention;
    let step = d["step_seconds"].as_f64().unwrap();
    std::fs::write(&cal, calibration_json_at(None, 210.0)).unwrap();
    let faster = local_minicpm(dir.path(), &cal)["devices"][0]["step_seconds"]
        .as_f64()
        .unwrap();
    let expected = gemm / (210e9 * 0.45) + attention / (210e9 * 0.30);
    assert!(
        ((step - faster) - expected).abs() / expected < 1e-4,
        "{step} - {faster} vs {expected}"
    );
    std::fs::write(&cal, calibration_json(None)).unwrap();

    // Made on a rented A10 (`bench --hardware-id a10`): the a10 profile is calibrated instead.
    std::fs::write(&cal, calibration_json(Some("a10"))).unwrap();
    let out = peftcost(dir.path())
        .args([
            "--calibration",
            cal.to_str().unwrap(),
            "estimate",
            "--hardware",
            "a10,a100-80g",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["devices"][0]["calibrated"], true);
    assert_eq!(v["devices"][1]["calibrated"], false);
}

#[test]
fn broken_calibrations_are_reported_never_a_panic() {
    let dir = tmp();
    let cal = dir.path().join("cal.json");
    std::fs::write(&cal, "{\"format_version\": 1,\n \"device\": }").unwrap();
    let err = fails(
        &["--calibration", cal.to_str().unwrap(), "estimate"],
        dir.path(),
    );
    assert!(err.contains("cal.json:2:"), "{err}");
    std::fs::write(
        &cal,
        calibration_json(None).replace("\"format_version\":1", "\"format_version\":7"),
    )
    .unwrap();
    let err = fails(
        &["--calibration", cal.to_str().unwrap(), "estimate"],
        dir.path(),
    );
    assert!(err.contains("format version 7 is not supported"), "{err}");
    // A broken default calibration (the one `bench` writes) is ignored with a warning.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("calibration.json"), "not json").unwrap();
    let out = peftcost(dir.path())
        .args(["estimate", "--hardware", "a10"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: calibration ignored"));
    // Without any calibration, `local` says how to make one.
    std::fs::remove_file(data.join("calibration.json")).unwrap();
    let err = fails(&["estimate", "--hardware", "local"], dir.path());
    assert!(err.contains("run `peftcost bench`"), "{err}");
}

#[test]
fn estimate_remembers_its_model_for_bench() {
    // `bench --model` defaults to the model of the last estimate (issue 5).
    let dir = tmp();
    peftcost(dir.path())
        .args(["estimate", "--model", "mistral", "--hardware", "a10"])
        .assert()
        .success();
    let remembered = std::fs::read_to_string(dir.path().join("data/last-model")).unwrap();
    assert_eq!(remembered, "mistral-7b");
}

#[test]
fn report_methods_add_qlora_rows_with_their_configuration() {
    let v = json_of(&[
        "report",
        "--section",
        "finetune",
        "--methods",
        "lora,qlora",
        "--format",
        "json",
    ]);
    let rows = v["finetune"].as_array().unwrap();
    let best = |method: &str| {
        rows.iter()
            .find(|r| {
                r["model"] == "mistral-7b" && r["method"] == method && r["recommended"] == true
            })
            .unwrap()
    };
    // QLoRA loads NF4 weights: less memory than LoRA's bf16 on the same card and workload.
    let (lora, qlora) = (best("lora"), best("qlora"));
    assert!(qlora["memory_bytes"].as_u64() < lora["memory_bytes"].as_u64());
    // Each row states the configuration it was costed with, keeping the global batch of 4.
    for r in rows {
        let (mb, ga, gpus) = (
            r["micro_batch"].as_u64().unwrap(),
            r["grad_accum"].as_u64().unwrap(),
            r["gpus"].as_u64().unwrap(),
        );
        assert_eq!(mb * ga * gpus, 4, "{r}");
    }
    let err = fails(&["report", "--methods", "lora,lorax"], tmp().path());
    assert!(err.contains("lorax"), "{err}");
}

#[test]
fn a_bad_lengths_file_names_its_line_and_exits_2() {
    let dir = tmp();
    let bad = dir.path().join("lengths.txt");
    std::fs::write(&bad, "120\n340\nabout 90\n").unwrap();
    let err = fails(
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--lengths",
            bad.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        err.contains("lengths.txt:3:") && err.contains("about 90"),
        "{err}"
    );
    let err = fails(
        &["estimate", "--model", "qwen-7b", "--avg-tokens", "0"],
        dir.path(),
    );
    assert!(err.contains("--avg-tokens 0"), "{err}");
    // A good file: the workload table says how the samples are batched.
    std::fs::write(&bad, "120\n340\n90\n").unwrap();
    let v = json_of(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--lengths",
        bad.to_str().unwrap(),
        "--packing",
        "--format",
        "json",
    ]);
    assert_eq!(v["workload"]["packing"], true);
    // (120 + 340 + 90) / 3 = 183.33 tokens a sample.
    let mean = v["workload"]["lengths"]["mean"].as_f64().unwrap();
    assert!((mean - 550.0 / 3.0).abs() < 1e-9, "{mean}");
}

#[test]
fn a_cpu_calibration_from_another_cpu_is_refused_unless_forced() {
    if !std::path::Path::new("/proc/cpuinfo").exists() {
        eprintln!("skipped: no /proc/cpuinfo to tell this CPU from another");
        return;
    }
    let dir = tmp();
    let cal = dir.path().join("cal.json");
    let mut v: serde_json::Value = serde_json::from_str(&calibration_json(None)).unwrap();
    // No machine of this test's is a 1-thread Pentium 4 without AVX2.
    v["cpu"] = serde_json::json!({"model": "Intel(R) Pentium(R) 4 CPU 3.00GHz", "flags": [], "threads": 1});
    std::fs::write(&cal, v.to_string()).unwrap();
    let args = |force: bool| {
        let mut a = vec!["--calibration", cal.to_str().unwrap()];
        if force {
            a.push("--force-calibration");
        }
        a.extend([
            "estimate",
            "--model",
            "minicpm-2b",
            "--hardware",
            "local",
            "--format",
            "json",
        ]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let a = args(false);
    let err = fails(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(
        err.contains("Pentium(R) 4") && err.contains("--force-calibration"),
        "{err}"
    );
    peftcost(dir.path()).args(args(true)).assert().success();
}
