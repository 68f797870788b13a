//! `peftcost report`: the article's two tables (issue 13) — stages worked by hand, a reason for
//! every empty cell, and Chinese with no English left over.

use assert_cmd::Command;
use serde_json::Value;

use crate::common::words;

fn run(args: &[&str], lang_env: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::cargo_bin("peftcost").unwrap();
    c.env("PEFTCOST_CONFIG_DIR", dir.path())
        .env("PEFTCOST_DATA_DIR", dir.path().join("data"))
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang_env.unwrap_or("C"));
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&run(&a, None)).unwrap()
}

#[test]
fn the_default_is_alibaba_in_cny_with_the_articles_stages() {
    let v = json(&["report", "--section", "finetune"]);
    let rows = v["finetune"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["provider"] == "alibaba" && r["display_currency"] == "CNY"));
    // ChatGLM3-6B LoRA on the A10 (ecs.gn7i-c8g1.2xlarge, pay-as-you-go, per-second billing),
    // worked by hand from the row's own price and the cost model's stated assumptions:
    // rent/setup = (0.25 h + (2 B x 6,243,584,000 params + 10,000 x 512 tokens x 4 B) x 8 bit
    //               / 1 Gbit/s / 3600) x price = (0.25 + 0.027804) h x price;
    // train = train hours x 1.05 (5% evaluation) x price.
    let r = rows
        .iter()
        .find(|r| {
            r["model"] == "chatglm3-6b"
                && r["method"] == "lora"
                && r["hardware"] == "a10"
                && r["billing"] == "on-demand"
        })
        .expect("chatglm3-6b LoRA on an Alibaba A10");
    let price = r["price_per_hour"].as_f64().unwrap();
    let download_h: f64 = (2.0 * 6_243_584_000.0 + 10_000.0 * 512.0 * 4.0) * 8.0 / 1e9 / 3600.0;
    assert!((download_h - 0.027804).abs() < 1e-5);
    let setup = (0.25 + download_h) * price;
    assert!(
        (r["cost_setup"].as_f64().unwrap() - setup).abs() < 0.005,
        "{r}"
    );
    let train = r["train_hours"].as_f64().unwrap() * 1.05 * price;
    assert!(
        (r["cost_train"].as_f64().unwrap() - train).abs() < 0.01,
        "{r}"
    );
    let sum: f64 = ["cost_setup", "cost_data", "cost_train", "cost_export"]
        .iter()
        .map(|k| r[k].as_f64().unwrap())
        .sum();
    assert!((sum - r["job_cost"].as_f64().unwrap()).abs() < 1e-9);
    // The article's GPUs each get a line per model and method; Alibaba sells no A100 40GB.
    let lines = v["finetune_table"].as_array().unwrap();
    let a100 = lines
        .iter()
        .find(|l| l["model"] == "qwen-7b" && l["method"] == "lora" && l["hardware"] == "a100-40g")
        .unwrap();
    assert_eq!(a100["gaps"][0]["reason"], "no-offer");
    // 7B LoRA is recommended on a 24 GB card, with the configuration that fits it.
    let rec = lines
        .iter()
        .find(|l| l["model"] == "qwen-7b" && l["method"] == "lora" && l["recommended"] == true)
        .unwrap();
    assert_eq!(rec["hardware"], "a10");
    assert_eq!(rec["config"]["micro_batch"], 1);
}

#[test]
fn serving_takes_the_cheaper_of_pay_as_you_go_and_subscription() {
    // GCP a2-highgpu-1g (pricing/gcp.toml): on-demand 3.673385 USD/h x 730 h = 2681.57 USD, and
    // GCP's listed month price 2681.57 USD: the subscription is not dearer, so it is chosen.
    let v = json(&[
        "report",
        "--section",
        "deploy",
        "--provider",
        "gcp",
        "--currency",
        "USD",
    ]);
    let row = v["deploy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "qwen-7b" && r["hardware"] == "a100-40g")
        .unwrap();
    let payg = 3.673385 * 730.0;
    assert!((row["pay_as_you_go_monthly"].as_f64().unwrap() - payg).abs() < 1e-6);
    assert_eq!(row["subscription_monthly"], 2681.57);
    assert_eq!(row["billing"], "monthly");
    assert_eq!(row["monthly_cost"], 2681.57);
    // The CPU box serves GGUF Q4_K_M unless F16 meets the latency targets.
    let cpu = v["deploy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "qwen-7b" && r["hardware"] == "cpu-16c")
        .unwrap();
    assert_eq!(cpu["weights_format"], "GGUF Q4_K_M");
}

/// Every "-" cell of a table row is explained: the row carries a footnote mark `-[n]`, and every
/// mark has its footnote.
fn every_empty_cell_has_a_reason(md: &str) {
    let marks = regex_lite_marks(md);
    let mut rows = 0;
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.contains(&"-") {
            rows += 1;
            assert!(
                cells.iter().any(|c| c.starts_with("-[")),
                "an empty cell without a reason: {line}"
            );
        }
    }
    assert!(rows > 0);
    for n in marks {
        assert!(
            md.lines().any(|l| l.starts_with(&format!("- [{n}] "))),
            "footnote [{n}] missing"
        );
    }
}

/// The footnote numbers referenced by `-[n]` cells.
fn regex_lite_marks(md: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = md;
    while let Some(i) = rest.find("-[") {
        rest = &rest[i + 2..];
        let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = n.parse() {
            out.push(n);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn every_empty_cell_says_why_in_both_languages() {
    every_empty_cell_has_a_reason(&run(&["report", "--format", "md"], None));
    every_empty_cell_has_a_reason(&run(&["report", "--format", "md", "--lang", "zh"], None));
}

#[test]
fn chinese_output_leaves_no_english_behind() {
    // LANG=zh_CN.UTF-8 picks Chinese by itself; --lang en wins over it.
    let zh = run(&["report", "--format", "md"], Some("zh_CN.UTF-8"));
    assert!(zh.contains("微调成本") && zh.contains("上传数据") && zh.contains("导出模型"));
    assert!(zh.contains("每月") && zh.contains("部署"));
    let en = run(
        &["report", "--format", "md", "--lang", "en"],
        Some("zh_CN.UTF-8"),
    );
    assert!(en.contains("Fine-tuning cost"));

    // What may stay in Latin letters: ids (models, GPUs, providers, instances), the methods as
    // the article names them, units, dtypes and the terms Chinese ML writing keeps in English.
    let v = json(&["report"]);
    let mut allowed: Vec<String> = [
        "LoRA", "QLoRA", "Adapter", "Prompt", "Tuning", "ZeRO", "GPU", "CPU", "GiB", "MiB", "KiB",
        "CNY", "USD", "bf16", "fp16", "fp32", "int", "GGUF", "K_M", "FLOPs", "TFLOPS", "MFU",
        "token", "logits", "peft", "peftcost", "Gbit", "JSON",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for r in v["finetune"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["deploy"].as_array().unwrap())
    {
        for k in ["model", "hardware", "provider", "instance"] {
            if let Some(s) = r[k].as_str() {
                allowed.extend(words(s));
            }
        }
    }
    // Cited sources (price tables, exchange rate) are quoted as published.
    let cited: Vec<&str> = zh
        .lines()
        .filter(|l| l.contains("https://") || l.contains("汇率"))
        .collect();
    for line in zh.lines().filter(|l| !cited.contains(l)) {
        for w in words(line) {
            assert!(
                allowed.contains(&w),
                "English left in the Chinese report: '{w}' in {line}"
            );
        }
    }
}
