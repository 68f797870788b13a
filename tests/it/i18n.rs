//! Chinese for people, English for machines: `--lang zh` (or a `zh` locale) translates every
//! table, note and error of `estimate`, `deploy` and `plan`; CSV and JSON stay byte for byte
//! the same.

use std::collections::HashSet;

use serde_json::Value;

use crate::common::{json_of, peftcost, words};

/// stdout and stderr of a run with `LANG` set (other locale variables cleared), and its code.
fn run_in(args: &[&str], lang: &str) -> (String, String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let out = peftcost(dir.path())
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .env("COLUMNS", "400")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// The words that may stay in Latin letters: every id and name of the catalogues (models,
/// GPUs, providers, instances, regions, as their owners spell them), the methods' ids, and the
/// units and terms Chinese ML writing keeps in English.
fn allowed() -> HashSet<String> {
    let mut ok: HashSet<String> = [
        "LoRA",
        "QLoRA",
        "DoRA",
        "IA3",
        "Adapter",
        "Prompt",
        "Prefix",
        "Tuning",
        "ZeRO",
        "GPU",
        "CPU",
        "GiB",
        "MiB",
        "KiB",
        "CNY",
        "USD",
        "bf16",
        "fp16",
        "fp32",
        "int",
        "GGUF",
        "K_M",
        "FLOPs",
        "TFLOPS",
        "MFU",
        "token",
        "logits",
        "peft",
        "peftcost",
        "Gbit",
        "JSON",
        "json",
        "csv",
        "GPTQ",
        "AWQ",
        "Linear",
        "LM",
        "head",
        "KV",
        "all",
        "params",
        "adamw",
        "sdpa",
        "lora",
        "qlora",
        "dora",
        "adapter",
        "prompt",
        "prefix",
        "ptuning",
        "full",
        "cpp",
        "llama",
        "RoPE",
        "PROVIDER",
        "URL",
        "linear",
        "min",
        "gptq",
        "awq",
        // The names of code and their authors, as they are written (P-tuning v2 is a method's
        // published name; PrefixEncoder and PrefixTuning are classes).
        "THUDM",
        "PrefixEncoder",
        "PrefixTuning",
        "tuning",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut add = |v: &Value, keys: &[&str]| {
        for k in keys {
            if let Some(s) = v[k].as_str() {
                ok.extend(words(s));
            }
        }
    };
    for m in json_of(&["models", "list", "--format", "json"])
        .as_array()
        .unwrap()
    {
        add(m, &["id", "name"]);
    }
    for h in json_of(&["hardware", "list", "--format", "json"])
        .as_array()
        .unwrap()
    {
        add(h, &["id", "name"]);
    }
    for o in json_of(&["pricing", "list", "--format", "json"])["offers"]
        .as_array()
        .unwrap()
    {
        add(o, &["provider", "region", "instance"]);
    }
    ok
}

/// Latin words of `text` that are not allowed: flags (`--seq-len`), quoted commands, file
/// names, paths, `key=value` specs and identifiers with `_` (module names, config keys) are
/// names, not English.
fn english_left(text: &str, ok: &HashSet<String>) -> Vec<String> {
    let mut left = Vec::new();
    for line in text.lines() {
        let unquoted: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for token in unquoted.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
            let is_name = token.starts_with("--")
                || token.contains('=')
                || (token.contains('/') && !token.starts_with("token/"))
                || [".py", ".json", ".toml"].iter().any(|e| token.contains(e));
            if is_name {
                continue;
            }
            for w in words(token) {
                if !ok.contains(&w) && !w.contains('_') {
                    left.push(format!("'{w}' in {line}"));
                }
            }
        }
    }
    left
}

#[test]
fn estimate_deploy_and_plan_in_chinese_leave_no_english() {
    let ok = allowed();
    let runs: &[&[&str]] = &[
        &["estimate", "--model", "qwen-7b", "--method", "lora"],
        &[
            "estimate",
            "--model",
            "chatglm3-6b",
            "--method",
            "ptuning-v2",
        ],
        &["estimate", "--model", "bge-large-zh", "--method", "adapter"],
        &[
            "estimate",
            "--model",
            "mistral-7b",
            "--method",
            "prompt-tuning",
        ],
        &["estimate", "--model", "minicpm-2b", "--method", "ia3"],
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--method",
            "qlora",
            "--hardware",
            "t4,a10",
        ],
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--method",
            "full",
            "--hardware",
            "t4",
        ],
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--compare",
            "method=qlora,rank=64",
        ],
        &["deploy", "--model", "qwen-7b"],
        &[
            "deploy",
            "--model",
            "qwen-7b",
            "--precision",
            "int4",
            "--qps",
            "2",
        ],
        &[
            "deploy",
            "--model",
            "chatglm3-6b",
            "--adapters",
            "3",
            "--max-ttft",
            "1",
            "--max-tpot",
            "0.05",
        ],
        &["deploy", "--model", "bge-large-zh"],
        &["deploy", "--all-models"],
        &[
            "plan",
            "--model",
            "mistral-7b",
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
        ],
    ];
    let mut left = Vec::new();
    for args in runs {
        for format in ["table", "md"] {
            let mut a = args.to_vec();
            a.extend(["--format", format]);
            let (out, err, code) = run_in(&a, "zh_CN.UTF-8");
            assert_eq!(code, 0, "{a:?}: {err}");
            left.extend(
                english_left(&out, &ok)
                    .into_iter()
                    .map(|l| format!("{a:?}: {l}")),
            );
        }
    }
    assert!(left.is_empty(), "English left:\n{}", left.join("\n"));
}

#[test]
fn errors_in_chinese_say_the_same_and_exit_the_same() {
    let ok = allowed();
    let bad: &[&[&str]] = &[
        &["estimate", "--model", "qwen-72b"],
        &["estimate", "--model", "qwen-7b", "--seq-len", "0"],
        &["estimate", "--model", "qwen-7b", "--seq-len", "99999999999"],
        &["estimate", "--model", "qwen-7b", "--provider", "nope"],
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--method",
            "full",
            "--hardware",
            "t4",
            "--fail-if-not-fits",
            "t4",
        ],
        &["deploy", "--model", "qwen-7b", "--qps", "0"],
        &["plan", "--model", "qwen-7b", "--budget=-1"],
        &[
            "plan",
            "--model",
            "qwen-7b",
            "--deadline",
            "0.01",
            "--budget",
            "1",
        ],
    ];
    for args in bad {
        let (_, en, en_code) = run_in(args, "C");
        let (_, zh, zh_code) = run_in(args, "zh_CN.UTF-8");
        assert_eq!(en_code, zh_code, "{args:?}");
        assert!(en.starts_with("error: "), "{args:?}: {en}");
        let line = zh.lines().last().unwrap_or_default();
        assert!(line.starts_with("错误："), "{args:?}: {zh}");
        // User input quoted back ('qwen-72b', 'nope') is theirs, not ours to translate.
        let ours: String = line.split('\'').step_by(2).collect::<Vec<_>>().join(" ");
        let left = english_left(&ours, &ok);
        assert!(left.is_empty(), "{args:?}: {left:?}");
    }
}

/// The catalogue's words, checked by hand: peftcost's own T4 note (the T4 has no bf16, so the
/// estimate runs in fp16) and the Qwen-7B table rows.
#[test]
fn the_locale_picks_chinese_and_machine_formats_stay_english() {
    let args = ["estimate", "--model", "qwen-7b", "--method", "lora"];
    let (zh, _, _) = run_in(&args, "zh_CN.UTF-8");
    assert!(zh.contains("peftcost 微调估算：qwen-7b + lora"), "{zh}");
    assert!(zh.contains("t4 不支持 bf16：按 fp16 估算"), "{zh}");
    assert!(
        zh.contains("可训练参数") && zh.contains("17,891,328"),
        "{zh}"
    );
    // --lang en wins over the locale; --lang fr is refused with a clear error.
    let (en, _, _) = run_in(&[&args[..], &["--lang", "en"]].concat(), "zh_CN.UTF-8");
    assert!(en.contains("t4 has no bf16: estimated in fp16"), "{en}");
    let (_, err, code) = run_in(&[&args[..], &["--lang", "fr"]].concat(), "C");
    assert_eq!(code, 2);
    assert!(
        err.contains("--lang 'fr'") && err.contains("en or zh"),
        "{err}"
    );
    for format in ["json", "csv"] {
        let a = [&args[..], &["--format", format]].concat();
        let (machine_zh, _, _) = run_in(&a, "zh_CN.UTF-8");
        let (machine_en, _, _) = run_in(&a, "C");
        assert_eq!(
            machine_zh, machine_en,
            "--format {format} must not depend on the language"
        );
    }
}
