//! Criterion benches of the analytic core (not of the device: that is `peftcost bench`).
//!
//! - `trainable_count`: profile -> inventory -> trainable count, every valid model x method.
//! - `estimate_all_hardware`: one full estimate (params, FLOPs, memory, time) on every profile.
//! - `auto_fit_all_hardware`: the same with auto-fit (micro-batch and checkpointing searched per
//!   device, fixes searched where nothing fits): the default of `estimate` and every TUI key.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use peftcost::arch::ModelCatalog;
use peftcost::estimate::{trainable_params, Assumptions, Estimate, FitPolicy, Scenario, Workload};
use peftcost::hardware::HardwareCatalog;
use peftcost::peft::{MethodConfig, MethodKind};

fn scenarios() -> Vec<Scenario> {
    let models = ModelCatalog::embedded().expect("embedded models");
    let mut out = Vec::new();
    for p in models.profiles() {
        for &kind in MethodKind::ALL {
            out.push(Scenario::new(
                p.clone(),
                MethodConfig::new(kind),
                Workload::default(),
            ));
        }
    }
    // A method's bare defaults do not fit every model (peft refuses to wrap an MoE router):
    // time the pairs that are valid as they stand.
    out.retain(|s| trainable_params(s).is_ok());
    out
}

fn bench_trainable(c: &mut Criterion) {
    let all = scenarios();
    c.bench_function(&format!("trainable_count/{}_cases", all.len()), |b| {
        b.iter(|| {
            for s in &all {
                black_box(trainable_params(black_box(s)).expect("valid scenario"));
            }
        })
    });
}

fn bench_estimate(c: &mut Criterion) {
    let hw = HardwareCatalog::embedded().expect("embedded hardware");
    let profiles = hw.select(&[]).expect("all profiles");
    let models = ModelCatalog::embedded().expect("embedded models");
    let s = Scenario::new(
        models.get("qwen-7b").expect("qwen").clone(),
        MethodConfig::new(MethodKind::Lora),
        Workload::default(),
    );
    let a = Assumptions::default();
    c.bench_function(
        &format!("estimate_all_hardware/{}_profiles", profiles.len()),
        |b| {
            b.iter(|| {
                let p = black_box(&s).prepare().expect("valid");
                black_box(Estimate::new(&p, &profiles, &a))
            })
        },
    );
    c.bench_function(
        &format!("auto_fit_all_hardware/{}_profiles", profiles.len()),
        |b| {
            b.iter(|| {
                let p = black_box(&s).prepare().expect("valid");
                black_box(Estimate::fitted(&p, &profiles, &a, &FitPolicy::AUTO).expect("fits"))
            })
        },
    );
}

fn bench_plan(c: &mut Criterion) {
    let hw = HardwareCatalog::embedded().expect("embedded hardware");
    let profiles = hw.select(&[]).expect("all profiles");
    let pricing = peftcost::pricing::PricingCatalog::embedded().expect("embedded pricing");
    let models = ModelCatalog::embedded().expect("embedded models");
    // The example, with a global batch of 16 and QLoRA allowed: a larger search space.
    let s = Scenario::new(
        models.get("mistral-7b").expect("mistral").clone(),
        MethodConfig::new(MethodKind::Lora),
        Workload {
            samples: 50_000,
            seq_len: 1024,
            micro_batch: 4,
            grad_accum: 4,
            ..Workload::default()
        },
    );
    let q = peftcost::plan::PlanQuery {
        allow_quantization: true,
        deadline_hours: Some(12.0),
        budget: Some(300.0),
        budget_currency: "CNY".into(),
        ..Default::default()
    };
    let a = Assumptions::default();
    c.bench_function("plan_all_offers/mistral_global_batch_16", |b| {
        b.iter(|| {
            black_box(
                peftcost::plan::plan(black_box(&s), &profiles, &pricing, &q, &a).expect("plan"),
            )
        })
    });
}

criterion_group!(benches, bench_trainable, bench_estimate, bench_plan);
criterion_main!(benches);
