//! The planner: exhaustive, never proposes what does not fit, and never beaten by a plain estimate.

use peftcost::estimate::{
    Assumptions, Estimate, FitPolicy, OfferQuery, Offload, Scenario, Workload,
};
use peftcost::hardware::HardwareCatalog;
use peftcost::peft::{MethodConfig, MethodKind};
use peftcost::plan::{plan, PlanQuery};
use peftcost::pricing::PricingCatalog;
use proptest::prelude::*;

fn scenario(model: &str, kind: MethodKind, w: Workload) -> Scenario {
    crate::common::scenario(model, MethodConfig::new(kind), w)
}

fn catalogs() -> (Vec<peftcost::hardware::HardwareProfile>, PricingCatalog) {
    (
        HardwareCatalog::embedded().unwrap().select(&[]).unwrap(),
        PricingCatalog::embedded().unwrap(),
    )
}

#[test]
fn mistral_issue_example_plans_or_explains() {
    // The issue's example: 50,000 samples x 1024 tokens, 12 h, 300 CNY.
    let (hw, pricing) = catalogs();
    let s = scenario(
        "mistral-7b",
        MethodKind::Lora,
        Workload {
            samples: 50_000,
            seq_len: 1024,
            ..Workload::default()
        },
    );
    let q = PlanQuery {
        deadline_hours: Some(12.0),
        budget: Some(300.0),
        budget_currency: "CNY".into(),
        ..PlanQuery::default()
    };
    let r = plan(&s, &hw, &pricing, &q, &Assumptions::default()).unwrap();
    match &r.cheapest {
        Some(c) => {
            assert!(c.cost <= 300.0 && c.wall_hours <= 12.0);
            assert!(c.device.fits);
            // Same global batch as asked: 4 sequences per step.
            assert_eq!(c.workload.global_batch(), 4);
            let f = r.fastest.as_ref().unwrap();
            assert!(f.wall_hours <= c.wall_hours && f.cost >= c.cost);
        }
        None => assert!(
            r.infeasible.as_ref().unwrap().contains("over"),
            "{:?}",
            r.infeasible
        ),
    }
    // Pareto: cost rises strictly while time falls strictly.
    for pair in r.pareto.windows(2) {
        assert!(pair[0].cost <= pair[1].cost && pair[0].wall_hours > pair[1].wall_hours);
    }
}

#[test]
fn impossible_budget_says_by_how_much() {
    let (hw, pricing) = catalogs();
    let s = scenario(
        "mistral-7b",
        MethodKind::Lora,
        Workload {
            samples: 50_000,
            seq_len: 1024,
            ..Workload::default()
        },
    );
    let q = PlanQuery {
        budget: Some(0.01),
        budget_currency: "CNY".into(),
        ..PlanQuery::default()
    };
    let r = plan(&s, &hw, &pricing, &q, &Assumptions::default()).unwrap();
    assert!(r.cheapest.is_none());
    let why = r.infeasible.unwrap();
    assert!(
        why.contains("the budget") && why.contains("over 0.01 CNY"),
        "{why}"
    );
    let q = PlanQuery {
        deadline_hours: Some(0.001),
        ..PlanQuery::default()
    };
    let why = plan(&s, &hw, &pricing, &q, &Assumptions::default())
        .unwrap()
        .infeasible
        .unwrap();
    assert!(
        why.contains("the deadline") && why.contains("h over 0.001 h"),
        "{why}"
    );
}

#[test]
fn quantization_only_when_allowed() {
    let (hw, pricing) = catalogs();
    let s = scenario("qwen-7b", MethodKind::Lora, Workload::default());
    let base = plan(
        &s,
        &hw,
        &pricing,
        &PlanQuery::default(),
        &Assumptions::default(),
    )
    .unwrap();
    assert!(base
        .plans()
        .iter()
        .all(|p| p.method.kind == MethodKind::Lora));
    let q = PlanQuery {
        allow_quantization: true,
        ..PlanQuery::default()
    };
    let with = plan(&s, &hw, &pricing, &q, &Assumptions::default()).unwrap();
    assert!(with.configurations > base.configurations);
    assert!(with.cheapest.unwrap().cost <= base.cheapest.unwrap().cost);
}

use crate::common::model_strategy;

fn kind_strategy() -> impl Strategy<Value = MethodKind> {
    prop::sample::select(vec![
        MethodKind::Lora,
        MethodKind::Adapter,
        MethodKind::Prompt,
        MethodKind::Full,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn cheapest_plan_beats_every_plain_estimate(model in model_strategy(), kind in kind_strategy(), seq in 64u64..2048, mb in 1u64..5, ckpt in any::<bool>()) {
        let (hw, pricing) = catalogs();
        let w = Workload { seq_len: seq, micro_batch: mb, grad_checkpointing: ckpt, samples: 2_000, ..Workload::default() };
        let s = scenario(model, kind, w);
        let q = PlanQuery::default();
        let r = plan(&s, &hw, &pricing, &q, &Assumptions::default()).unwrap();
        // Every offer a plain estimate would list (same workload) is within the search space.
        let p = s.prepare().unwrap();
        // ... and so is every configuration auto-fit chooses (the same global batch).
        for policy in [FitPolicy::EXACT, FitPolicy::AUTO] {
            let est = Estimate::fitted(&p, &hw, &Assumptions::default(), &policy).unwrap()
                .with_offers(&p, &hw, &pricing, &OfferQuery::default()).unwrap();
            if let Some(best_single) = est.offers.first() {
                let cheapest = r.cheapest.as_ref().expect("a fitting estimate implies a plan");
                prop_assert!(cheapest.cost <= best_single.cost_usd * (1.0 + 1e-9), "{} > {}", cheapest.cost, best_single.cost_usd);
            }
        }
        for plan in r.plans() {
            prop_assert!(plan.device.fits);
        }
    }

    #[test]
    fn loosening_the_budget_never_removes_a_plan(model in model_strategy(), budget in 1.0f64..200.0, extra in 0.0f64..500.0) {
        let (hw, pricing) = catalogs();
        let s = scenario(model, MethodKind::Lora, Workload { samples: 5_000, ..Workload::default() });
        let tight = PlanQuery { budget: Some(budget), ..PlanQuery::default() };
        let loose = PlanQuery { budget: Some(budget + extra), ..PlanQuery::default() };
        let a = plan(&s, &hw, &pricing, &tight, &Assumptions::default()).unwrap();
        let b = plan(&s, &hw, &pricing, &loose, &Assumptions::default()).unwrap();
        prop_assert!(b.feasible >= a.feasible);
        if let (Some(x), Some(y)) = (&a.cheapest, &b.cheapest) {
            prop_assert!(y.cost <= x.cost);
        }
        if a.cheapest.is_some() {
            prop_assert!(b.cheapest.is_some());
        }
    }
}

#[test]
fn cheapest_and_fastest_are_the_ends_of_the_pareto_front() {
    let (hw, pricing) = catalogs();
    let s = scenario(
        "mistral-7b",
        MethodKind::Lora,
        Workload {
            samples: 20_000,
            ..Workload::default()
        },
    );
    for budget in [None, Some(1.0), Some(5.0)] {
        let q = PlanQuery {
            budget,
            ..PlanQuery::default()
        };
        let r = plan(&s, &hw, &pricing, &q, &Assumptions::default()).unwrap();
        let (Some(c), Some(f)) = (&r.cheapest, &r.fastest) else {
            continue;
        };
        let first = r.pareto.first().unwrap();
        let last = r.pareto.last().unwrap();
        assert_eq!((first.cost, first.wall_hours), (c.cost, c.wall_hours));
        assert_eq!(last.wall_hours, f.wall_hours);
    }
}

#[test]
fn offloading_plans_keep_the_launcher_and_fit_their_machines_ram() {
    // Qwen-7B full fine-tuning under FSDP with parameters offloaded. The planner searches the
    // stage but keeps the user's launcher family and offloading: DDP cannot offload and FSDP is
    // always FULL_SHARD (stage 3), so every configuration is FSDP stage 3 with offloaded
    // parameters, one GPU included. FSDP shards the model in its own dtype, so each GPU's host
    // keeps 8 B a parameter over the GPUs (bf16 weight, gradient, AdamW m and v: torch keeps the
    // state in the parameter's dtype), and a plan's machine with a stated RAM must hold that
    // times its GPUs.
    let (hw, pricing) = catalogs();
    let s = scenario(
        "qwen-7b",
        MethodKind::Full,
        Workload {
            gpus: 8,
            zero: 3,
            fsdp: true,
            offload: Offload::Params,
            ..Workload::default()
        },
    );
    let r = plan(
        &s,
        &hw,
        &pricing,
        &PlanQuery::default(),
        &Assumptions::default(),
    )
    .unwrap();
    let plans = r.plans();
    assert!(!plans.is_empty());
    for p in plans {
        let w = &p.workload;
        assert!(
            w.fsdp && w.zero == 3 && w.offload == Offload::Params,
            "{w:?}"
        );
        let host = 8.0 * 7_721_324_544.0 / w.gpus as f64;
        assert_eq!(p.device.memory.host_state_bytes, host as u64);
        let offer = pricing
            .offers()
            .map(|(_, o)| o)
            .find(|o| o.instance == p.offer.job.instance && o.region == p.offer.job.region)
            .unwrap();
        if let Some(gib) = offer.ram_gib {
            assert!(host * w.gpus as f64 <= gib * 1024f64.powi(3), "{offer:?}");
        }
    }
    assert!(
        r.notes.iter().any(|n| n.contains("candidates left out")),
        "{:?}",
        r.notes
    );
}
