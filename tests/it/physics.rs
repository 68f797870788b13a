//! Training physics: published measurements within the targets, and properties that must hold for
//! every valid input.

use peftcost::arch::{ModelCatalog, Task};
use peftcost::estimate::validate::{validation_rows, MEMORY_TOLERANCE, TIME_TOLERANCE};
use peftcost::estimate::{Assumptions, DeviceResult, Scenario, Shapes, Workload};
use peftcost::hardware::HardwareCatalog;
use peftcost::peft::{MethodConfig, MethodKind};
use proptest::prelude::*;

#[test]
fn qwen7b_single_gpu_rows_within_targets() {
    // measurements.md §1.1 (QwenLM/Qwen README): memory within 15%, step time within 30%.
    let rows = validation_rows(
        &ModelCatalog::embedded().unwrap(),
        &HardwareCatalog::embedded().unwrap(),
    )
    .unwrap();
    let asserted: Vec<_> = rows.iter().filter(|r| r.asserted).collect();
    assert_eq!(
        asserted.len(),
        18,
        "LoRA, LoRA (emb), Q-LoRA at six lengths"
    );
    for r in asserted {
        assert!(
            r.memory_error.abs() <= MEMORY_TOLERANCE,
            "{}: memory {:+.3}",
            r.name,
            r.memory_error
        );
        let t = r.time_error.unwrap();
        assert!(t.abs() <= TIME_TOLERANCE, "{}: time {t:+.3}", r.name);
    }
}

use crate::common::scenario;

fn device(s: &Scenario, hw: &str) -> DeviceResult {
    let p = s.prepare().unwrap();
    let hw = HardwareCatalog::embedded()
        .unwrap()
        .get(hw)
        .unwrap()
        .clone();
    DeviceResult::new(&Shapes::new(&p), &s.workload, &hw, &Assumptions::default())
}

#[test]
fn done_criterion_qwen_lora_2048_on_a100() {
    // Published 23.8 G for r=64 on c_attn,c_proj,w1,w2, micro-batch 1, grad-accum 8, flash, ckpt.
    let m = MethodConfig {
        rank: 64,
        ..MethodConfig::new(MethodKind::Lora)
    };
    let w = Workload {
        seq_len: 2048,
        micro_batch: 1,
        grad_accum: 8,
        grad_checkpointing: true,
        ..Workload::default()
    };
    let d = device(&scenario("qwen-7b", m, w), "a100-80g");
    let gib = d.memory.total as f64 / (1u64 << 30) as f64;
    assert!((gib - 23.8).abs() / 23.8 <= 0.15, "{gib}");
    assert!(d.fits);
    // The breakdown adds up.
    let mm = d.memory;
    let sum = mm.weights + mm.trainable_state + mm.activations + mm.logits + mm.overhead;
    assert!(sum.abs_diff(mm.total) <= 5, "{sum} vs {}", mm.total);
}

#[test]
fn full_finetune_flops_are_three_forwards_and_lora_about_two() {
    // design §5: full FT ~ 3F, LoRA ~ 2F (no checkpointing).
    let w = Workload::default();
    let full = Shapes::new(
        &scenario("mistral-7b", MethodConfig::new(MethodKind::Full), w)
            .prepare()
            .unwrap(),
    )
    .flops_per_token(&w);
    let lora = Shapes::new(
        &scenario("mistral-7b", MethodConfig::new(MethodKind::Lora), w)
            .prepare()
            .unwrap(),
    )
    .flops_per_token(&w);
    let r_full = full.total / full.forward;
    let r_lora = lora.total / lora.forward;
    assert!((2.9..3.1).contains(&r_full), "{r_full}");
    assert!((2.0..2.1).contains(&r_lora), "{r_lora}");
    // Forward of Mistral at 512 tokens: matmul weights 32 * (2*4096*4096 + 2*4096*1024 + 3*4096*14336)
    // + head 4096*32000 = 7,110,393,856 (norms and the embedding lookup are no matmuls), times 2,
    // plus causal attention 4 * 4096 * (512+1)/2 * 32 layers = 134,479,872.
    let expected = 2.0 * 7_110_393_856.0 + 4.0 * 4096.0 * 256.5 * 32.0;
    assert!(
        (full.forward - expected).abs() / expected < 1e-9,
        "{} vs {expected}",
        full.forward
    );
}

#[test]
fn t4_runs_bf16_requests_in_fp16() {
    let d = device(
        &scenario(
            "minicpm-2b",
            MethodConfig::new(MethodKind::Lora),
            Workload::default(),
        ),
        "t4",
    );
    assert_eq!(d.dtype.as_str(), "fp16");
    assert!(d.note.unwrap().contains("no bf16"));
}

#[test]
fn nothing_fits_says_what_would() {
    // Full fine-tuning of Qwen-7B at 2048 tokens, micro-batch 8: ~8 B/param of state alone is > 80 GiB.
    let profile = ModelCatalog::embedded()
        .unwrap()
        .get("qwen-7b")
        .unwrap()
        .clone();
    let s = Scenario {
        task: Task::CausalLm,
        num_labels: 0,
        profile,
        method: MethodConfig::new(MethodKind::Full),
        workload: Workload {
            seq_len: 2048,
            micro_batch: 8,
            ..Workload::default()
        },
        allow_rope_extension: false,
    };
    let p = s.prepare().unwrap();
    // Every device up to the H200's 141 GB (the 180 GB B200 holds it whole).
    let hw: Vec<_> = HardwareCatalog::embedded()
        .unwrap()
        .select(&[])
        .unwrap()
        .into_iter()
        .filter(|h| h.memory_gib <= 141.0)
        .collect();
    let est = peftcost::estimate::Estimate::new(&p, &hw, &Assumptions::default());
    assert!(est.devices.iter().all(|d| !d.fits));
    // Each suggestion is a fitting combination of levers on one device, worded as changes.
    assert!(!est.suggestions.is_empty());
    for s in &est.suggestions {
        let d = hw.iter().find(|h| h.id == s.hardware).unwrap();
        assert!(s.fits && s.memory as f64 <= d.memory_bytes(), "{s:?}");
        assert_eq!(s.change, s.changes[0]);
    }
    // On an 80 GB card micro-batch 1 (x 8 accumulation) is enough: 16-bit weights, gradients
    // and AdamW states (2 + 2 + 4 B/param x 7.72e9 = 57.5 GiB) plus one sequence's activations
    // (76.4 GiB in all); on a 24 GB card it takes ZeRO-3 over 8 GPUs with the optimizer in
    // host RAM: DeepSpeed's engine holds 2 B of 16-bit weights, 2 of gradients and 12 of fp32
    // master and Adam state a parameter, 16 x 7.72e9 / 8 = 14.4 GiB a GPU, and steps a
    // partition of 0.97e9 elements with an fp32 gradient and foreach AdamW's sqrt(v) beside it
    // (8 B each, 7.2 GiB): 24.3 GiB with the rest, over the A10's 24.
    let a100 = est
        .devices
        .iter()
        .find(|d| d.hardware == "a100-80g")
        .unwrap();
    let fix = a100.fix.as_ref().unwrap();
    assert_eq!(fix.changes, vec![peftcost::estimate::Change::MicroBatchOne]);
    assert_eq!((fix.config.micro_batch, fix.config.grad_accum), (1, 8));
    let a10 = est.devices.iter().find(|d| d.hardware == "a10").unwrap();
    let fix = a10.fix.as_ref().unwrap();
    assert_eq!(
        fix.changes[..2],
        [
            peftcost::estimate::Change::Zero3 { gpus: 8 },
            peftcost::estimate::Change::Offload {
                offload: peftcost::estimate::Offload::Optimizer
            }
        ]
    );
    // The host holds the fp32 master, m, v and fp32 gradients of the GPU's eighth:
    // 16 B x 7,721,324,544 / 8 = 14.38 GiB.
    assert_eq!(fix.host_memory, 16 * 7_721_324_544 / 8);
}

#[test]
fn sequences_stop_at_the_models_positions() {
    // profiles/models: qwen-7b max_position 8192 (seq_length), bge-large-zh-v1.5 512.
    let long = Workload {
        seq_len: 8193,
        ..Workload::default()
    };
    let mut s = scenario("qwen-7b", MethodConfig::new(MethodKind::Lora), long);
    s.allow_rope_extension = false;
    let err = s.prepare().unwrap_err().to_string();
    assert!(
        err.contains("at most 8192") && err.contains("--allow-rope-extension"),
        "{err}"
    );
    s.allow_rope_extension = true;
    assert!(s.prepare().is_ok());
    // Prompt tuning's 20 virtual tokens take positions too: 500 + 20 > 512 on BERT, and
    // BERT's learned positions cannot be extended.
    let w = Workload {
        seq_len: 500,
        ..Workload::default()
    };
    let bge = ModelCatalog::embedded()
        .unwrap()
        .get("bge-large-zh-v1.5")
        .unwrap()
        .clone();
    let mut s = Scenario::new(bge, MethodConfig::new(MethodKind::Prompt), w);
    s.allow_rope_extension = true;
    let err = s.prepare().unwrap_err().to_string();
    assert!(err.contains("got 520 with 20 virtual tokens"), "{err}");
    assert!(err.contains("cannot be extended"), "{err}");
}

#[test]
fn absurd_workloads_are_rejected() {
    let w = Workload {
        seq_len: 0,
        ..Workload::default()
    };
    let err = scenario("qwen-7b", MethodConfig::new(MethodKind::Lora), w)
        .prepare()
        .unwrap_err();
    // The core names the field; the CLI shows it as `--seq-len` (tests/it/cli.rs).
    assert_eq!(err.field(), Some("seq-len"));
    let w = Workload {
        samples: 1_000_000_000_000,
        ..Workload::default()
    };
    let err = scenario("qwen-7b", MethodConfig::new(MethodKind::Lora), w)
        .prepare()
        .unwrap_err();
    assert_eq!(err.field(), Some("samples"));
}

fn method_strategy() -> impl Strategy<Value = MethodKind> {
    prop::sample::select(MethodKind::ALL.to_vec())
}

fn model_strategy() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "chatglm3-6b",
        "qwen-7b",
        "qwen2.5-7b",
        "mistral-7b",
        "minicpm-2b",
        "bge-large-zh-v1.5",
    ])
}

fn workload_strategy() -> impl Strategy<Value = Workload> {
    (1u64..4096, 1u64..16, 1u64..8, any::<bool>(), 1u64..100_000).prop_map(
        |(seq, mb, ga, ckpt, samples)| Workload {
            seq_len: seq,
            micro_batch: mb,
            grad_accum: ga,
            grad_checkpointing: ckpt,
            samples,
            ..Workload::default()
        },
    )
}

fn with_kind(kind: MethodKind) -> MethodConfig {
    let mut m = MethodConfig::new(kind);
    if kind == MethodKind::Qlora {
        m.targets = None;
    }
    m
}

fn prepared_workload(kind: MethodKind, mut w: Workload) -> Workload {
    if kind == MethodKind::Qlora {
        w.weights_dtype = peftcost::estimate::WeightsDtype::Nf4;
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn memory_grows_with_batch_length_and_rank(model in model_strategy(), kind in method_strategy(), w in workload_strategy(), rank in 1u64..128) {
        let w = prepared_workload(kind, w);
        let m = MethodConfig { rank, ..with_kind(kind) };
        let base = device(&scenario(model, m.clone(), w), "a100-80g").memory.total;
        let bigger_batch = device(&scenario(model, m.clone(), Workload { micro_batch: w.micro_batch + 1, ..w }), "a100-80g").memory.total;
        let longer = device(&scenario(model, m.clone(), Workload { seq_len: w.seq_len + 64, ..w }), "a100-80g").memory.total;
        let higher_rank = device(&scenario(model, MethodConfig { rank: rank + 8, ..m }, w), "a100-80g").memory.total;
        prop_assert!(bigger_batch >= base);
        prop_assert!(longer >= base);
        prop_assert!(higher_rank >= base);
    }

    #[test]
    fn checkpointing_never_increases_memory(model in model_strategy(), kind in method_strategy(), w in workload_strategy()) {
        let w = prepared_workload(kind, w);
        let on = device(&scenario(model, with_kind(kind), Workload { grad_checkpointing: true, ..w }), "a100-80g").memory.total;
        let off = device(&scenario(model, with_kind(kind), Workload { grad_checkpointing: false, ..w }), "a100-80g").memory.total;
        prop_assert!(on <= off);
    }

    #[test]
    fn hours_scale_linearly_with_samples_and_epochs(model in model_strategy(), kind in method_strategy(), w in workload_strategy(), k in 1u64..5) {
        let w = prepared_workload(kind, Workload { samples: w.global_batch() * 100, ..w });
        let h1 = device(&scenario(model, with_kind(kind), w), "h100-sxm").hours.unwrap();
        let hk = device(&scenario(model, with_kind(kind), Workload { samples: w.samples * k, ..w }), "h100-sxm").hours.unwrap();
        let he = device(&scenario(model, with_kind(kind), Workload { epochs: w.epochs * k, ..w }), "h100-sxm").hours.unwrap();
        prop_assert!((hk / h1 - k as f64).abs() < 1e-9);
        prop_assert!((he / h1 - k as f64).abs() < 1e-9);
    }

    #[test]
    fn every_number_is_finite(model in model_strategy(), kind in method_strategy(), w in workload_strategy(), gpus in 1u64..9, zero in 0u8..4) {
        let w = prepared_workload(kind, Workload { gpus, zero, ..w });
        for hw in HardwareCatalog::embedded().unwrap().profiles() {
            let d = device(&scenario(model, with_kind(kind), w), &hw.id);
            for v in [d.step_seconds, d.tokens_per_second, d.hours].into_iter().flatten() {
                prop_assert!(v.is_finite() && v > 0.0);
            }
        }
    }
}

/// Expert parallelism over 8 A100-80G (NVLink 600 GB/s x link efficiency 0.7), Qwen3-30B-A3B
/// with LoRA r=8 on q_proj, v_proj and the fused experts, bf16, micro-batch 4 x 512 tokens, no
/// ZeRO. Worked by hand:
/// - weights: the 48 x 128 experts of 4,718,592 weights (28,991,029,248) shard 16 per device;
///   the other 1,541,093,376 parameters stay whole: 2 B x (1,541,093,376 + 28,991,029,248 / 8)
///   = 10,329,944,064 B (61,064,245,248 without EP);
/// - trainable state (16 B per fp32 LoRA parameter): the experts' LoRA 48 x 128 x 8 x (2048 +
///   1536 + 768 + 2048) = 314,572,800 sharded 8 ways, q/v's 3,342,336 whole: 682,622,976 B;
/// - time, each micro-batch: two all-to-alls of 2048 tokens x 48 blocks x 8 experts x 2048 x 2 B
///   per pass, forward and backward, 7/8 off the device: 11,274,289,152 B / 420 GB/s; less the
///   experts' gradients no longer all-reduced (2 x 7/8 x 314,572,800 x 4 B / 420 GB/s) and the
///   optimizer's smaller state (2 x the state saved / (2039 GB/s x 0.7)).
#[test]
fn expert_parallelism_keeps_a_share_of_the_experts_and_pays_all_to_alls() {
    let method = MethodConfig {
        targets: Some(
            [
                "q_proj",
                "v_proj",
                "experts.gate_up_proj",
                "experts.down_proj",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ..MethodConfig::new(MethodKind::Lora)
    };
    let w = Workload {
        micro_batch: 4,
        gpus: 8,
        ..Workload::default()
    };
    let plain = device(&scenario("qwen3-30b-a3b", method.clone(), w), "a100-80g");
    let ep = device(
        &scenario(
            "qwen3-30b-a3b",
            method,
            Workload {
                expert_parallel: true,
                ..w
            },
        ),
        "a100-80g",
    );
    assert_eq!(plain.memory.weights, 61_064_245_248);
    assert_eq!(ep.memory.weights, 10_329_944_064);
    // Weights and state (12 B) plus gradients (4 B); the forward-end peak holds no gradients
    // (one micro-batch per step: they are born in backward), so 12/16 of it.
    let state = |d: &DeviceResult| -> u64 {
        d.memory
            .buffers
            .iter()
            .filter(|b| b.name == "gradients" || b.name == "trainable weights and optimizer state")
            .map(|b| b.bytes)
            .sum()
    };
    assert_eq!(state(&ep), 682_622_976);
    assert_eq!(ep.memory.trainable_state, 682_622_976 / 16 * 12);
    let link = 600e9 * 0.7;
    let all_to_all = 11_274_289_152.0 / link;
    let grads_kept = 2.0 * 7.0 / 8.0 * 314_572_800.0 * 4.0 / link;
    let optimizer = 2.0 * (state(&plain) - state(&ep)) as f64 / (2039e9 * 0.7);
    let delta = ep.step_seconds.unwrap() - plain.step_seconds.unwrap();
    assert!(
        (delta - (all_to_all - grads_kept - optimizer)).abs() < 1e-9,
        "{delta}"
    );
    // A dense model has no experts to shard.
    let dense = scenario(
        "qwen3-8b",
        MethodConfig::new(MethodKind::Lora),
        Workload {
            expert_parallel: true,
            ..w
        },
    );
    let err = dense.prepare().unwrap_err();
    assert_eq!(err.field(), Some("expert-parallel"));
}

/// `tokens_per_second` is the job's rate over all devices (README "Offers"); the per-device
/// rate divides it by the GPUs: 4 GPUs x 4 sequences x 512 tokens a step.
#[test]
fn tokens_per_second_is_the_jobs_and_per_device_is_one_gpus() {
    let w = Workload {
        gpus: 4,
        ..Workload::default()
    };
    let d = device(
        &scenario("qwen-7b", MethodConfig::new(MethodKind::Lora), w),
        "a100-80g",
    );
    let step = d.step_seconds.unwrap();
    assert!((d.tokens_per_second.unwrap() - 4.0 * 4.0 * 512.0 / step).abs() < 1e-6);
    assert!((d.tokens_per_second_per_device.unwrap() - 4.0 * 512.0 / step).abs() < 1e-6);
}

/// Padded and packed data (issue 15 item 5). 10,000 samples x 3 epochs averaging 200 tokens,
/// cut at 512, micro-batch 4: padded micro-batches process 200-token rows (every sample the
/// same length: the longest of a batch is 200) and peak at 200 tokens; packed, the samples
/// fill ceil(10,000 x 200 / 512) = 3,907 rows of 512 tokens, ceil(3,907 x 3 / 4) = 2,931
/// steps of the full-length step (7,500 padded to 512).
#[test]
fn padded_and_packed_samples_cost_what_they_process() {
    use peftcost::estimate::Lengths;
    let full = Workload::default();
    let padded = Workload {
        lengths: Some(Lengths::constant(200)),
        ..full
    };
    let packed = Workload {
        packing: true,
        ..padded
    };
    assert_eq!(
        (full.processed().seq_len, full.processed().steps()),
        (512, 7_500)
    );
    assert_eq!(
        (padded.processed().seq_len, padded.longest_batch().seq_len),
        (200, 200)
    );
    assert_eq!(packed.processed().samples, 3_907);
    assert_eq!(packed.processed().steps(), 2_931);
    assert_eq!(packed.longest_batch().seq_len, 512);
    let run = |w: Workload| {
        device(
            &scenario("qwen-7b", MethodConfig::new(MethodKind::Lora), w),
            "a100-80g",
        )
    };
    let (f, pa, pk) = (run(full), run(padded), run(packed));
    // Packed: the same step, fewer of them.
    assert_eq!(pk.step_seconds, f.step_seconds);
    assert_eq!(pk.memory, f.memory);
    let ratio = pk.hours.unwrap() / f.hours.unwrap();
    assert!((ratio - 2_931.0 / 7_500.0).abs() < 1e-12, "{ratio}");
    // Padded to 200 tokens: less memory and a shorter step than 512-token rows.
    assert!(pa.memory.total < f.memory.total);
    assert!(pa.step_seconds.unwrap() < f.step_seconds.unwrap());
}

#[test]
fn framework_presets_set_the_loss_and_offloading_and_flags_win() {
    use crate::common::json_of;
    let run = |extra: &[&str]| {
        let mut args = vec![
            "estimate",
            "--model",
            "qwen-7b",
            "--hardware",
            "a100-80g",
            "--micro-batch",
            "2",
            "--seq-len",
            "2048",
            "--grad-checkpointing",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json_of(&args)
    };
    let hf = run(&[]);
    let unsloth = run(&["--framework", "unsloth"]);
    let tt = run(&["--framework", "torchtune"]);
    let chosen = run(&["--framework", "unsloth", "--loss", "standard"]);
    assert_eq!(hf["workload"]["loss"], "standard");
    assert_eq!(unsloth["workload"]["loss"], "fused");
    assert_eq!(unsloth["workload"]["offload_activations"], true);
    assert_eq!(tt["workload"]["loss"], "chunked");
    assert_eq!(chosen["workload"]["loss"], "standard");
    let mem = |v: &serde_json::Value, k: &str| v["devices"][0]["memory"][k].as_u64().unwrap();
    // Unsloth's offloaded checkpoints: 32 blocks x 2 x 2048 x 4096 x 2 B = 1 GiB in host RAM.
    assert_eq!(
        mem(&unsloth, "host_offload_bytes"),
        32 * 2 * 2048 * 4096 * 2
    );
    assert_eq!(mem(&hf, "host_offload_bytes"), 0);
    assert!(mem(&unsloth, "total") < mem(&tt, "total") && mem(&tt, "total") < mem(&hf, "total"));
}

#[test]
fn optimizer_in_backward_with_accumulation_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = crate::common::fails(
        &[
            "estimate",
            "--optimizer-in-backward",
            "--micro-batch",
            "1",
            "--grad-accum",
            "4",
        ],
        dir.path(),
    );
    assert!(
        err.contains("optimizer-in-backward") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn offload_needs_a_sharding_engine_that_can_do_it() {
    // DDP has nothing to offload; DeepSpeed offloads parameters only under ZeRO-3; FSDP's
    // CPUOffload moves parameters, gradients and the step together. Each is one line.
    let dir = tempfile::tempdir().unwrap();
    for (flags, says) in [
        (
            &["--offload", "optimizer"][..],
            "--launcher zero1, zero2, zero3 or fsdp",
        ),
        (
            &["--launcher", "zero2", "--offload", "params"][..],
            "zero3 or fsdp",
        ),
        (
            &["--launcher", "fsdp", "--offload", "optimizer"][..],
            "params under FSDP",
        ),
    ] {
        let mut args = vec!["estimate", "--gpus", "2"];
        args.extend_from_slice(flags);
        let err = crate::common::fails(&args, dir.path());
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{flags:?}: {err}"
        );
    }
    // --launcher names the stage --zero would: clap refuses the pair.
    let err = crate::common::fails(
        &["estimate", "--launcher", "zero3", "--zero", "2"],
        dir.path(),
    );
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn the_launcher_and_offload_are_in_the_json_and_the_host_ram_in_a_note() {
    // Qwen-7B full fine-tuning, 2 GPUs ZeRO-3 with the optimizer offloaded: each GPU's host
    // keeps 16 B (fp32 master, m, v, fp32 gradients) x 7,721,324,544 / 2 = 57.52 GiB.
    let v = crate::common::json_of(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--method",
        "full",
        "--hardware",
        "a100-80g-pcie",
        "--gpus",
        "2",
        "--launcher",
        "zero3",
        "--offload",
        "optimizer",
        "--micro-batch",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(v["workload"]["zero"], 3);
    assert_eq!(v["workload"]["fsdp"], false);
    assert_eq!(v["workload"]["offload"], "optimizer");
    let d = &v["devices"][0];
    assert_eq!(d["memory"]["host_state_bytes"], 16 * 7_721_324_544u64 / 2);
    assert_eq!(d["config"]["offload"], "optimizer");
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("57.5 GiB per GPU")),
        "{notes:?}"
    );
}

#[test]
fn a_job_sharded_over_every_gpu_it_gets_is_told_to_offload_its_optimizer() {
    // Qwen-7B full fine-tuning, ZeRO-3 over 8 A10s (24 GB): 24.30 GiB a GPU, the optimizer step's
    // fp32 masters and moments alone are 12 B x 7,721,324,544 / 8 = 10.79 GiB. More GPUs is not
    // a lever (8 is the search's most), so the fix is to offload the optimizer alone; each GPU's
    // host then keeps 16 B x 7,721,324,544 / 8 = 15,442,649,088 bytes.
    let v = crate::common::json_of(&[
        "estimate",
        "--model",
        "qwen-7b",
        "--method",
        "full",
        "--hardware",
        "a10",
        "--gpus",
        "8",
        "--zero",
        "3",
        "--format",
        "json",
    ]);
    let d = &v["devices"][0];
    assert_eq!(d["fits"], false);
    let fix = &d["fix"];
    assert_eq!(fix["change"]["lever"], "offload", "{fix}");
    assert_eq!(fix["change"]["offload"], "optimizer");
    assert_eq!(fix["config"]["gpus"], 8);
    assert_eq!(fix["host_memory"], 16 * 7_721_324_544u64 / 8);
}

#[test]
fn fsdp_accumulation_that_does_not_fit_is_told_to_sync_each_batch() {
    // Qwen-7B full fine-tuning under FSDP on 8 A10s (24 GB) with 128 sequences a step: every
    // micro-batch that fits needs accumulation, and under the Trainer's no_sync each GPU then
    // holds all 7,721,324,544 bf16 gradients, 7/8 of them beyond its shard (12.58 GiB): nothing
    // fits, even micro-batch 1 with checkpointing. The least disruptive fix is accelerate's
    // sync_each_batch, which reduce-scatters every micro-batch.
    let base = [
        "estimate",
        "--model",
        "qwen-7b",
        "--method",
        "full",
        "--hardware",
        "a10",
        "--gpus",
        "8",
        "--launcher",
        "fsdp",
        "--global-batch",
        "128",
        "--format",
        "json",
    ];
    let v = crate::common::json_of(&base);
    let d = &v["devices"][0];
    assert_eq!(d["fits"], false);
    let fix = &d["fix"];
    assert_eq!(fix["change"]["lever"], "sync-each-batch", "{fix}");
    assert_eq!(fix["fits"], true);
    // The fix's configuration as given, with and without the flag: 7/8 of the bf16 gradients
    // apart, less the one block's unsharded gradients (1/32 of them) that each reduce-scatter
    // holds when every micro-batch syncs, to the byte.
    let (mb, ga) = (
        fix["config"]["micro_batch"].to_string(),
        fix["config"]["grad_accum"].to_string(),
    );
    let ckpt = fix["config"]["grad_checkpointing"] == true;
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--micro-batch", &mb, "--grad-accum", &ga]);
    if ckpt {
        args.push("--grad-checkpointing");
    }
    let no_sync = crate::common::json_of(&args);
    args.push("--sync-each-batch");
    let synced = crate::common::json_of(&args);
    let total = |v: &serde_json::Value| v["devices"][0]["memory"]["total"].as_u64().unwrap();
    assert_eq!(total(&synced), fix["memory"].as_u64().unwrap());
    assert_eq!(synced["workload"]["sync_each_batch"], true);
    let allocated =
        |v: &serde_json::Value| v["devices"][0]["memory"]["allocated"].as_u64().unwrap();
    assert_eq!(
        allocated(&no_sync) - allocated(&synced),
        15_442_649_088 / 8 * 7 - 15_442_649_088 / 32
    );
    assert_eq!(no_sync["devices"][0]["fits"], false);
}
