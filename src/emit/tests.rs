use super::quote_yaml11_words;

#[test]
fn yaml_1_1_boolean_words_are_quoted_for_pyyaml() {
    // PyYAML (YAML 1.1) reads a bare NO / off / y as a boolean; real booleans stay bare.
    let body = "distributed_type: NO\nmixed_precision: no\nuse_cpu: false\nlist:\n- off\n- on_demand\nname: Norway\n";
    assert_eq!(
        quote_yaml11_words(body),
        "distributed_type: 'NO'\nmixed_precision: 'no'\nuse_cpu: false\nlist:\n- 'off'\n- on_demand\nname: Norway\n"
    );
}

use super::{emit, Engine, Job};
use crate::core::arch::ModelCatalog;
use crate::core::estimate::{DeviceConfig, FitReason, Scenario, Workload};
use crate::core::peft::{MethodConfig, MethodKind};

/// Full fine-tuning of Mistral-7B with ZeRO-3 over 16 GPUs on 2 machines (8 each).
fn two_machines() -> (crate::core::estimate::Prepared, DeviceConfig) {
    let profile = ModelCatalog::embedded()
        .unwrap()
        .get("mistral-7b")
        .unwrap()
        .clone();
    let config = DeviceConfig {
        micro_batch: 2,
        grad_accum: 2,
        grad_checkpointing: true,
        gpus: 16,
        zero: 3,
        fsdp: false,
        offload: crate::core::estimate::Offload::None,
        nodes: 2,
        seq_len: 1024,
        method: MethodKind::Full,
        auto: false,
        reason: FitReason::AsGiven,
    };
    let p = Scenario::new(
        profile,
        MethodConfig::new(MethodKind::Full),
        Workload::default(),
    )
    .prepare()
    .unwrap();
    (config.apply(&p).unwrap(), config)
}

/// The job of `p` as `config` on an A100-80G, for emitting.
fn a100_job<'a>(p: &'a crate::core::estimate::Prepared, config: &'a DeviceConfig) -> Job<'a> {
    Job {
        prepared: p,
        config,
        hardware: "a100-80g",
        offer: None,
        summary: "test",
    }
}

#[test]
fn a_job_over_two_machines_launches_on_every_node() {
    let (p, config) = two_machines();
    let job = a100_job(&p, &config);
    let out = emit(&job, &[Engine::Llamafactory, Engine::Axolotl, Engine::Peft]).unwrap();
    let file = |n: &str| &out.files.iter().find(|f| f.name == n).unwrap().contents;
    // LLaMA-Factory's multi-node launch (its examples/README.md): torchrun with the node count.
    assert!(file("run_llamafactory.sh").contains("FORCE_TORCHRUN=1 NNODES=2 NODE_RANK="));
    // axolotl through torchrun: 2 nodes x 8 processes.
    assert!(file("run_axolotl.sh").contains("--nnodes 2 --nproc_per_node 8"));
    // accelerate: 16 processes in all, on 2 machines, the DeepSpeed multi-node launcher.
    let acc = file("accelerate.yaml");
    assert!(
        acc.contains("num_machines: 2\n") && acc.contains("num_processes: 16\n"),
        "{acc}"
    );
    assert!(
        acc.contains("deepspeed_multinode_launcher: standard"),
        "{acc}"
    );
    assert!(
        !acc.contains("mixed_precision"),
        "accelerate refuses it beside a DeepSpeed file"
    );
    assert!(file("run_peft.sh").contains("--machine_rank"));
    // DeepSpeed: 2 x 2 x 16 sequences a step.
    let ds: serde_json::Value = serde_json::from_str(file("ds_config.json")).unwrap();
    assert_eq!(ds["train_batch_size"], 64);
    assert_eq!(ds["zero_optimization"]["stage"], 3);
    assert_eq!(
        ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"],
        true
    );
    // The reduce bucket the estimate held (DeepSpeed's default, 5e8, one without overlap).
    assert_eq!(ds["zero_optimization"]["reduce_bucket_size"], 500_000_000);
    // SkyPilot needs the priced offer.
    let err = emit(&job, &[Engine::Skypilot]).unwrap_err().to_string();
    assert!(err.contains("needs an offer"), "{err}");
}

#[test]
fn a_deepspeed_file_gives_its_reduce_buckets() {
    use crate::emit::read::parse;
    // Qwen's finetune/ds_config_zero2.json: 2e8 elements with overlap_comm (double-buffered).
    let qwen = r#"{"zero_optimization": {"stage": 2, "overlap_comm": true,
        "reduce_bucket_size": 2e8, "contiguous_gradients": true}}"#;
    let c = parse("ds_config_zero2.json", qwen).unwrap();
    assert_eq!((c.zero, c.zero_bucket), (Some(2), Some(400_000_000)));
    // One bucket without overlap_comm.
    let single = r#"{"zero_optimization": {"stage": 2, "reduce_bucket_size": 500000000}}"#;
    let c = parse("z2.json", single).unwrap();
    assert_eq!(c.zero_bucket, Some(500_000_000));
    // "auto" is the Trainer's hidden^2, which the file does not say: a note, the default.
    let auto = r#"{"zero_optimization": {"stage": 3, "reduce_bucket_size": "auto"}}"#;
    let c = parse("z3.json", auto).unwrap();
    assert_eq!(c.zero_bucket, None);
    assert!(
        c.not_modelled
            .iter()
            .any(|n| n.contains("reduce_bucket_size")),
        "{:?}",
        c.not_modelled
    );
}

#[test]
fn paged_8bit_adamw_is_read_and_written_as_itself() {
    use crate::core::estimate::Optimizer;
    use crate::emit::read::parse;
    // HF TrainingArguments' optim names (OptimizerNames): paged_adamw_8bit keeps bitsandbytes'
    // 8-bit state (2 B per parameter) in paged memory.
    let yaml = "model_name_or_path: Qwen/Qwen-7B\nfinetuning_type: lora\noptim: paged_adamw_8bit\n";
    let c = parse("train.yaml", yaml).unwrap();
    assert_eq!(c.optimizer, Some(Optimizer::PagedAdamw8bit));
    assert_eq!(Optimizer::PagedAdamw8bit.state_bytes(4.0), 2.0);
}

#[test]
fn packing_is_read_from_both_trainers() {
    use crate::emit::read::parse;
    // LLaMA-Factory data_args `packing`; axolotl `sample_packing`.
    let lf = "model_name_or_path: Qwen/Qwen-7B\nfinetuning_type: lora\npacking: true\n";
    assert_eq!(parse("lf.yaml", lf).unwrap().packing, Some(true));
    let ax = "base_model: Qwen/Qwen-7B\nadapter: lora\nsample_packing: true\n";
    let c = parse("ax.yaml", ax).unwrap();
    assert_eq!(c.packing, Some(true));
    assert!(
        !c.not_modelled.iter().any(|n| n.contains("sample_packing")),
        "{:?}",
        c.not_modelled
    );
}

#[test]
fn fused_losses_and_offloaded_checkpoints_are_read_and_written_back() {
    use crate::core::estimate::LossKernel;
    use crate::emit::read::parse;
    // LLaMA-Factory model_args: `enable_liger_kernel` (Liger's fused linear cross-entropy
    // among its kernels) and `use_unsloth_gc` (Unsloth's offloaded checkpointing).
    let lf = "model_name_or_path: Qwen/Qwen-7B\nfinetuning_type: lora\nenable_liger_kernel: true\nuse_unsloth_gc: true\n";
    let c = parse("lf.yaml", lf).unwrap();
    assert_eq!(c.loss, Some(LossKernel::Fused));
    assert_eq!(c.offload_activations, Some(true));
    // axolotl: the Liger plugin's `liger_fused_linear_cross_entropy`, Cut Cross-Entropy's
    // `cut_cross_entropy`, and `gradient_checkpointing: offload`.
    for key in ["liger_fused_linear_cross_entropy", "cut_cross_entropy"] {
        let ax = format!(
            "base_model: Qwen/Qwen-7B\nadapter: lora\n{key}: true\ngradient_checkpointing: offload\n"
        );
        let c = parse("ax.yaml", &ax).unwrap();
        assert_eq!(c.loss, Some(LossKernel::Fused), "{key}");
        assert_eq!(
            (c.grad_checkpointing, c.offload_activations),
            (Some(true), Some(true))
        );
        assert!(c.not_modelled.is_empty(), "{:?}", c.not_modelled);
    }
    // Written back: a fused, offloaded job's configs say so.
    let (p, mut config) = two_machines();
    config.gpus = 1;
    config.nodes = 1;
    config.zero = 0;
    config.method = MethodKind::Lora;
    let mut p = config.apply(&p).unwrap();
    p.scenario.workload.loss = LossKernel::Fused;
    p.scenario.workload.offload_activations = true;
    let job = a100_job(&p, &config);
    let out = emit(&job, &[Engine::Llamafactory, Engine::Axolotl]).unwrap();
    let all: String = out.files.iter().map(|f| f.contents.as_str()).collect();
    for line in [
        "enable_liger_kernel: true",
        "use_unsloth_gc: true",
        "liger_fused_linear_cross_entropy: true",
        "- axolotl.integrations.liger.LigerPlugin",
        "gradient_checkpointing: offload",
    ] {
        assert!(all.contains(line), "{line} missing:\n{all}");
    }
}

#[test]
fn offload_and_fsdp_are_written_and_read_back() {
    use crate::core::estimate::Offload;
    use crate::emit::read::parse;
    // ZeRO-3 over 16 GPUs with the optimizer and the parameters offloaded: DeepSpeed's
    // `offload_optimizer` and `offload_param` blocks (LLaMA-Factory's ds_z3_offload_config.json
    // writes `{"device": "cpu", "pin_memory": true}`), read back as the same job.
    let (p, mut config) = two_machines();
    config.offload = Offload::Params;
    let p = config.apply(&p).unwrap();
    let job = a100_job(&p, &config);
    let out = emit(&job, &[Engine::Deepspeed]).unwrap();
    let ds = &out.files[0].contents;
    let v: serde_json::Value = serde_json::from_str(ds).unwrap();
    for key in ["offload_optimizer", "offload_param"] {
        assert_eq!(v["zero_optimization"][key]["device"], "cpu", "{key}");
        assert_eq!(v["zero_optimization"][key]["pin_memory"], true, "{key}");
    }
    let c = parse("ds_config.json", ds).unwrap();
    assert_eq!((c.zero, c.offload), (Some(3), Some(Offload::Params)));
    assert!(c.not_modelled.is_empty(), "{:?}", c.not_modelled);
    // The optimizer alone; parameters are offloaded only at stage 3 (DeepSpeed's rule).
    let z2 = r#"{"zero_optimization": {"stage": 2, "offload_optimizer": {"device": "cpu"},
        "offload_param": {"device": "cpu"}}}"#;
    let c = parse("z2.json", z2).unwrap();
    assert_eq!(c.offload, Some(Offload::Optimizer));
    assert!(c.not_modelled.iter().any(|n| n.contains("stage 2")));
    // FSDP with offloaded parameters: accelerate's FSDP section (no DeepSpeed file), axolotl's
    // `fsdp_config`, LLaMA-Factory launched through accelerate.
    config.zero = 3;
    config.fsdp = true;
    let p = config.apply(&p).unwrap();
    let job = a100_job(&p, &config);
    let out = emit(
        &job,
        &[Engine::Llamafactory, Engine::Axolotl, Engine::Deepspeed],
    )
    .unwrap();
    let file = |n: &str| {
        out.files
            .iter()
            .find(|f| f.name == n)
            .map(|f| f.contents.as_str())
    };
    assert_eq!(file("ds_config.json"), None);
    let acc = file("accelerate.yaml").unwrap();
    for line in [
        "distributed_type: FSDP",
        "fsdp_offload_params: true",
        "fsdp_sharding_strategy: FULL_SHARD",
        "fsdp_backward_prefetch: BACKWARD_PRE",
    ] {
        assert!(acc.contains(line), "{line} missing:\n{acc}");
    }
    assert!(file("run_llamafactory.sh")
        .unwrap()
        .contains("accelerate launch --config_file accelerate.yaml --machine_rank"));
    let ax = file("axolotl.yaml").unwrap();
    let c = parse("axolotl.yaml", ax).unwrap();
    assert_eq!(
        (c.zero, c.fsdp, c.offload),
        (Some(3), Some(true), Some(Offload::Params))
    );
}

#[test]
fn sync_each_batch_is_written_for_accumulating_fsdp_and_read_back() {
    use crate::emit::read::parse;
    // FSDP over 16 GPUs accumulating 2 micro-batches: with --sync-each-batch the LLaMA-Factory
    // YAML carries transformers' `accelerator_config.gradient_accumulation_kwargs
    // .sync_each_batch` (accelerate's plugin key), and reading the YAML gives it back; without
    // the flag the key is absent (the Trainer's `no_sync` default).
    let (p, mut config) = two_machines();
    config.fsdp = true;
    for sync in [true, false] {
        let mut p = p.clone();
        p.scenario.workload.sync_each_batch = sync;
        let p = config.apply(&p).unwrap();
        let job = a100_job(&p, &config);
        let out = emit(&job, &[Engine::Llamafactory]).unwrap();
        let yaml = &out
            .files
            .iter()
            .find(|f| f.name == crate::emit::llamafactory::CONFIG)
            .unwrap()
            .contents;
        assert_eq!(yaml.contains("sync_each_batch: true"), sync, "{yaml}");
        let c = parse(crate::emit::llamafactory::CONFIG, yaml).unwrap();
        assert_eq!(c.sync_each_batch, sync.then_some(true));
        assert!(c.not_modelled.is_empty(), "{:?}", c.not_modelled);
    }
}
