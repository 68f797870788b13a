//! `--emit` (engine configs for the chosen configuration) and `--from-config` (a user's own
//! LLaMA-Factory / axolotl / DeepSpeed file as the scenario).
//!
//! Golden files: the emitted files are snapshots (`tests/it/snapshots/it__emit__*.snap`); their
//! keys were checked against the engines' own parsers by `tests/truth/validate_emit.py`
//! (`tests/truth/validate_emit.md` has the versions and the run). The example configs read by
//! `--from-config` are the projects' own (`tests/data/engine-configs/SOURCES.md`).

use std::path::Path;

use crate::common::{fails, json_of, peftcost};

const CONFIGS: &str = "tests/data/engine-configs";
const LLAMA: &str = "tests/truth/configs/llama-3.1-8b.json";

/// Run with `--emit ... --out DIR` and return the files written, by name.
fn emitted(args: &[&str]) -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = peftcost(dir.path())
        .args(args)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<(String, String)> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    (dir, files)
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| {
            panic!(
                "{name} not written: {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
        .1
}

#[test]
fn lora_on_one_a10g_writes_every_engine_with_the_fitted_batch() {
    let (_d, files) = emitted(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--method",
        "lora",
        "--hardware",
        "a10g",
        "--provider",
        "aws",
        "--billing",
        "on-demand",
        "--emit",
        "all",
    ]);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "accelerate.yaml",
            "axolotl.yaml",
            "ds_config.json",
            "llamafactory.yaml",
            "run_axolotl.sh",
            "run_llamafactory.sh",
            "run_peft.sh",
            "skypilot.yaml",
            "train_peft.py"
        ]
    );
    for (name, text) in &files {
        insta::assert_snapshot!(format!("qwen7b_lora_a10g_{name}"), text);
    }
    // The auto-fitted configuration of the estimate is what the files carry.
    let est = json_of(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--method",
        "lora",
        "--hardware",
        "a10g",
        "--provider",
        "aws",
        "--billing",
        "on-demand",
        "--format",
        "json",
    ]);
    let c = &est["offers"][0]["config"];
    let c = if c.is_null() {
        &est["devices"][0]["config"]
    } else {
        c
    };
    let lf = file(&files, "llamafactory.yaml");
    assert!(lf.contains(&format!(
        "per_device_train_batch_size: {}\n",
        c["micro_batch"]
    )));
    assert!(lf.contains(&format!(
        "gradient_accumulation_steps: {}\n",
        c["grad_accum"]
    )));
    // Qwen v1's default targets (its finetune.py), as peft names; c_proj is both attention and
    // MLP projection and both are targeted, so the short suffix is exact.
    assert!(lf.contains("lora_target: c_attn,c_proj,w1,w2\n"), "{lf}");
    // Remote code.
    assert!(lf.contains("trust_remote_code: true\n"));
    // The instance priced is the one SkyPilot launches.
    let sky = file(&files, "skypilot.yaml");
    assert!(sky.contains(&format!(
        "instance_type: {}\n",
        est["offers"][0]["instance"].as_str().unwrap()
    )));
    assert!(sky.contains("accelerators: A10G:1\n"));
    assert!(sky.contains("use_spot: false\n"));
    // accelerate reads YAML 1.1, where a bare NO is a boolean.
    assert!(file(&files, "accelerate.yaml").contains("distributed_type: 'NO'\n"));
}

#[test]
fn a_zero_plan_shards_over_every_gpu_of_the_offer() {
    let (_d, files) = emitted(&[
        "plan",
        "--model",
        "mistral-7b",
        "--method",
        "full",
        "--hardware",
        "a100-80g",
        "--provider",
        "aws",
        "--billing",
        "on-demand",
        "--global-batch",
        "16",
        "--max-gpus",
        "16",
        "--emit",
        "llamafactory,skypilot,accelerate",
    ]);
    let lf = file(&files, "llamafactory.yaml");
    assert!(lf.contains("finetuning_type: full\n"), "{lf}");
    assert!(lf.contains("deepspeed: ds_config.json\n"));
    let ds: serde_json::Value = serde_json::from_str(file(&files, "ds_config.json")).unwrap();
    // DeepSpeed's rule: train_batch_size = micro-batch x accumulation x world size.
    let world = ds["train_batch_size"].as_u64().unwrap()
        / (ds["train_micro_batch_size_per_gpu"].as_u64().unwrap()
            * ds["gradient_accumulation_steps"].as_u64().unwrap());
    assert!(world >= 2, "{ds}");
    assert!(
        ds["zero_optimization"]["stage"].as_u64().unwrap() >= 2,
        "{ds}"
    );
    let acc = file(&files, "accelerate.yaml");
    assert!(acc.contains("distributed_type: DEEPSPEED\n"), "{acc}");
    assert!(acc.contains(&format!("num_processes: {world}\n")), "{acc}");
    let sky = file(&files, "skypilot.yaml");
    assert!(sky.contains("infra: aws/us-east-1\n"), "{sky}");
    assert!(sky.contains("accelerators: A100-80GB:"), "{sky}");
    assert!(sky.contains("SKYPILOT_NODE_IPS"), "{sky}");
    for (name, text) in &files {
        insta::assert_snapshot!(format!("mistral7b_full_plan_{name}"), text);
    }
}

#[test]
fn methods_the_yaml_trainers_lack_get_a_peft_script() {
    // ChatGLM3's P-tuning v2 as peft's PromptEncoderConfig; LLaMA-Factory has no P-tuning.
    let (_d, files) = emitted(&[
        "estimate",
        "--model",
        "chatglm3-6b",
        "--method",
        "ptuning",
        "--hardware",
        "a10",
        "--emit",
        "peft",
    ]);
    let py = file(&files, "train_peft.py");
    assert!(py.contains("PromptEncoderConfig("), "{py}");
    assert!(py.contains("num_virtual_tokens=20"), "{py}");
    assert!(py.contains("TRUST_REMOTE_CODE = True"), "{py}");
    insta::assert_snapshot!("chatglm3_ptuning_train_peft.py", py);
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        &[
            "estimate",
            "--model",
            "chatglm3-6b",
            "--method",
            "ptuning",
            "--hardware",
            "a10",
            "--emit",
            "llamafactory",
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(err.contains("use --emit peft"), "{err}");
    // A BERT encoder's targets: `output.dense` would also hit `attention.output.dense`, so the
    // names peft gets are the shortest suffixes that select exactly the targeted modules.
    let (_d, files) = emitted(&[
        "estimate",
        "--model",
        "bge-large-zh-v1.5",
        "--method",
        "lora",
        "--task",
        "seq-cls",
        "--targets",
        "query,value,intermediate.dense",
        "--hardware",
        "t4",
        "--emit",
        "peft",
    ]);
    let py = file(&files, "train_peft.py");
    assert!(
        py.contains(r#"target_modules=["query", "value", "intermediate.dense"]"#),
        "{py}"
    );
    assert!(py.contains("TaskType.SEQ_CLS"), "{py}");
}

/// The estimate's figures that the configuration decides.
fn figures(v: &serde_json::Value) -> serde_json::Value {
    let d = &v["devices"][0];
    serde_json::json!({
        "trainable": v["params"]["trainable"],
        "memory": d["memory"],
        "step_seconds": d["step_seconds"],
        "hours": d["hours"],
        "micro_batch": d["config"]["micro_batch"],
        "grad_accum": d["config"]["grad_accum"],
        "grad_checkpointing": d["config"]["grad_checkpointing"],
        "seq_len": d["config"]["seq_len"],
        "method": d["config"]["method"],
    })
}

#[test]
fn emitted_llamafactory_config_reads_back_as_the_same_estimate() {
    for (model, method, hw) in [
        ("mistral-7b", "lora", "a10"),
        ("qwen-7b", "dora", "a100-40g"),
        ("minicpm-2b", "full", "a100-80g"),
        ("chatglm3-6b", "qlora", "t4"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let base = [
            "estimate",
            "--model",
            model,
            "--method",
            method,
            "--hardware",
            hw,
            "--samples",
            "2000",
        ];
        let mut emit = base.to_vec();
        emit.extend(["--emit", "llamafactory", "--out", out.to_str().unwrap()]);
        let status = peftcost(dir.path()).args(&emit).output().unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let mut json = base.to_vec();
        json.extend(["--format", "json"]);
        let original = json_of(&json);
        let yaml = out.join("llamafactory.yaml");
        let back = json_of(&[
            "estimate",
            "--from-config",
            yaml.to_str().unwrap(),
            "--hardware",
            hw,
            "--samples",
            "2000",
            "--format",
            "json",
        ]);
        assert_eq!(back["model"], original["model"], "{model}");
        assert_eq!(figures(&back), figures(&original), "{model} {method} {hw}");
    }
}

#[test]
fn llamafactory_and_axolotl_examples_read_as_the_equivalent_flags() {
    // Each example (tests/data/engine-configs/SOURCES.md) against the flags that say the same,
    // with the engine's defaults written out: LLaMA-Factory lora_alpha = 2 x rank, lora_target
    // all, cutoff_len 2048, checkpointing on; axolotl lora_r/lora_alpha as written.
    let cases: [(&str, &[&str]); 5] = [
        (
            "llamafactory/qwen3_lora_sft.yaml",
            &[
                "--samples",
                "1000",
                "--method",
                "lora",
                "--rank",
                "8",
                "--alpha",
                "16",
                "--targets",
                "all-linear",
                "--seq-len",
                "2048",
                "--micro-batch",
                "1",
                "--grad-accum",
                "8",
                "--epochs",
                "3",
                "--grad-checkpointing",
                "--dtype",
                "bf16",
            ],
        ),
        (
            "llamafactory/qwen3_lora_sft_otfq.yaml",
            &[
                "--samples",
                "1000",
                "--method",
                "qlora",
                "--rank",
                "8",
                "--alpha",
                "16",
                "--targets",
                "all-linear",
                "--seq-len",
                "2048",
                "--micro-batch",
                "1",
                "--grad-accum",
                "8",
                "--epochs",
                "3",
                "--grad-checkpointing",
                "--dtype",
                "bf16",
            ],
        ),
        (
            "llamafactory/qwen3_full_sft.yaml",
            &[
                "--samples",
                "1000",
                "--method",
                "full",
                "--seq-len",
                "2048",
                "--micro-batch",
                "1",
                "--grad-accum",
                "2",
                "--epochs",
                "3",
                "--grad-checkpointing",
                "--dtype",
                "bf16",
                "--zero",
                "3",
                "--gpus",
                "4",
            ],
        ),
        (
            "axolotl/qlora-1b.yml",
            &[
                "--method",
                "qlora",
                "--rank",
                "32",
                "--alpha",
                "16",
                "--targets",
                "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                "--seq-len",
                "2048",
                "--micro-batch",
                "2",
                "--grad-accum",
                "4",
                "--epochs",
                "1",
                "--grad-checkpointing",
                "--dtype",
                "bf16",
                "--optimizer",
                "adamw-8bit",
            ],
        ),
        (
            "axolotl/lora-8b.yml",
            &[
                "--method",
                "lora",
                "--rank",
                "32",
                "--alpha",
                "16",
                "--targets",
                "all-linear",
                "--modules-to-save",
                "embed_tokens,lm_head",
                "--weights-dtype",
                "int8",
                "--seq-len",
                "4096",
                "--micro-batch",
                "2",
                "--grad-accum",
                "4",
                "--epochs",
                "4",
                "--grad-checkpointing",
                "--dtype",
                "bf16",
                "--optimizer",
                "adamw-8bit",
            ],
        ),
    ];
    for (file, flags) in cases {
        let path = format!("{CONFIGS}/{file}");
        let common = [
            "estimate",
            "--model-config",
            LLAMA,
            "--hardware",
            "a100-80g",
            "--format",
            "json",
        ];
        let mut from = common.to_vec();
        from.extend(["--from-config", &path]);
        if file.contains("full") {
            from.extend(["--gpus", "4"]);
        }
        let mut by_flags = common.to_vec();
        by_flags.extend(flags.iter().copied());
        assert_eq!(
            figures(&json_of(&from)),
            figures(&json_of(&by_flags)),
            "{file}"
        );
    }
    // peft's count for Llama-3-8B LoRA r=8 on every Linear: 20,971,520 (7 projections x 32
    // layers: (8192+5120+5120+8192+18432x3) x 8 x 32).
    let v = json_of(&[
        "estimate",
        "--model-config",
        LLAMA,
        "--hardware",
        "a100-80g",
        "--format",
        "json",
        "--from-config",
        &format!("{CONFIGS}/llamafactory/qwen3_lora_sft.yaml"),
    ]);
    assert_eq!(v["params"]["trainable"], 20_971_520);
}

#[test]
fn config_files_that_cannot_be_read_say_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("train.yaml");
    std::fs::write(&bad, "model_name_or_path: Qwen/Qwen-7B\nlora_rank: [8\n").unwrap();
    let err = fails(
        &["estimate", "--from-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("train.yaml:"), "{err}");
    assert!(err.lines().count() == 1, "{err}");
    std::fs::write(&bad, "model_name_or_path: Qwen/Qwen-7B\nlora_rank: eight\n").unwrap();
    let err = fails(
        &["estimate", "--from-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("train.yaml:2:"), "{err}");
    std::fs::write(
        &bad,
        "model_name_or_path: Qwen/Qwen-7B\nfinetuning_type: oft\n",
    )
    .unwrap();
    let err = fails(
        &["estimate", "--from-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("finetuning_type 'oft'"), "{err}");
    std::fs::write(
        &bad,
        "model_name_or_path: Qwen/Qwen-7B\ndeepspeed: nowhere/ds_z3.json\n",
    )
    .unwrap();
    let err = fails(
        &["estimate", "--from-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("deepspeed: nowhere/ds_z3.json"), "{err}");
    let ds = dir.path().join("ds.json");
    std::fs::write(&ds, "{\"zero_optimization\": {\"stage\": 7}}").unwrap();
    let err = fails(
        &["estimate", "--from-config", ds.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("stages 0 to 3"), "{err}");
    std::fs::write(&bad, "model_name_or_path: someone/unknown-model\n").unwrap();
    let err = fails(
        &["estimate", "--from-config", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("not in peftcost's catalogue"), "{err}");
}

#[test]
fn emit_refuses_what_it_cannot_write_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    // Several devices: which one?
    let err = fails(
        &["estimate", "--emit", "llamafactory", "--out", o],
        dir.path(),
    );
    assert!(err.contains("add --hardware"), "{err}");
    // SkyPilot has no Alibaba Cloud.
    let err = fails(
        &[
            "estimate",
            "--hardware",
            "a10",
            "--provider",
            "alibaba",
            "--emit",
            "skypilot",
            "--out",
            o,
        ],
        dir.path(),
    );
    assert!(err.contains("SkyPilot cannot launch on alibaba"), "{err}");
    // A job that does not fit writes nothing and says what would fit.
    let err = fails(
        &[
            "estimate",
            "--model",
            "qwen-7b",
            "--method",
            "full",
            "--hardware",
            "t4",
            "--emit",
            "peft",
            "--out",
            o,
        ],
        dir.path(),
    );
    assert!(err.contains("does not fit on t4"), "{err}");
    assert!(!Path::new(&out).join("train_peft.py").exists());
    let err = fails(
        &[
            "estimate",
            "--hardware",
            "a10",
            "--emit",
            "nonsense",
            "--out",
            o,
        ],
        dir.path(),
    );
    assert!(err.contains("unknown format 'nonsense'"), "{err}");
    // Existing files are kept unless --force.
    let args = [
        "estimate",
        "--hardware",
        "a10",
        "--emit",
        "peft",
        "--out",
        o,
    ];
    assert!(peftcost(dir.path())
        .args(args)
        .output()
        .unwrap()
        .status
        .success());
    std::fs::write(out.join("train_peft.py"), "# mine\n").unwrap();
    let err = fails(&args, dir.path());
    assert!(err.contains("already has train_peft.py"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("train_peft.py")).unwrap(),
        "# mine\n"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(peftcost(dir.path())
        .args(&forced)
        .output()
        .unwrap()
        .status
        .success());
    assert!(std::fs::read_to_string(out.join("train_peft.py"))
        .unwrap()
        .contains("build_peft_config"));
}
