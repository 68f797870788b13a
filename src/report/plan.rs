//! The plan document: cheapest, fastest and Pareto plans with their configuration and caveats.

use crate::core::plan::{Plan, PlanQuery, PlanResult};
use crate::report::{fmt, Document, Table};

pub fn row(p: &Plan) -> Vec<String> {
    let j = &p.offer.job;
    let w = &p.workload;
    vec![
        p.label.clone(),
        format!("{} {} ({})", j.provider, j.instance, j.region),
        format!("{} x{}", j.hardware, w.gpus),
        j.billing.as_str().into(),
        p.method.kind.as_str().into(),
        format!("{} x {}", w.micro_batch, w.grad_accum),
        if w.grad_checkpointing {
            "on".into()
        } else {
            "off".into()
        },
        w.zero.to_string(),
        fmt::gib(p.device.memory.total as f64),
        fmt::hours(p.wall_hours),
        fmt::money(p.cost, &p.currency),
    ]
}

pub fn document(r: &PlanResult, q: &PlanQuery, top: usize) -> Document {
    let headers = [
        "plan",
        "offer",
        "hardware",
        "billing",
        "method",
        "micro-batch x accum",
        "ckpt",
        "ZeRO",
        "memory/device",
        "wall time",
        "job cost",
    ];
    let priority = [
        "plan",
        "offer",
        "hardware",
        "job cost",
        "wall time",
        "billing",
        "memory/device",
        "micro-batch x accum",
        "ckpt",
        "method",
        "ZeRO",
    ];
    let mut best = Table::new("Best plans", &headers).with_priority(&priority);
    for p in r.cheapest.iter().chain(r.fastest.iter()) {
        best.push(row(p));
    }
    let mut front = Table::new("Pareto front: cost vs time (cheapest first)", &headers)
        .with_priority(&priority);
    for p in r.pareto.iter().take(top) {
        front.push(row(p));
    }
    let mut notes = Vec::new();
    if let Some(reason) = &r.infeasible {
        notes.push(format!("no feasible plan: {reason}"));
    }
    for p in r.cheapest.iter().chain(r.fastest.iter()) {
        notes.push(format!("{}: {}", p.label, p.why));
        if let Some(c) = &p.offer.job.caveat {
            notes.push(format!("{}: {c}", p.label));
        }
    }
    notes.push(format!(
        "searched {} configurations, {} fitting candidates, {} within deadline {} and budget {}",
        r.configurations,
        r.candidates,
        r.feasible,
        q.deadline_hours.map_or("-".into(), |d| format!("{d} h")),
        q.budget
            .map_or("-".into(), |b| format!("{b} {}", q.budget_currency))
    ));
    if r.pareto.len() > top {
        notes.push(format!(
            "{} more Pareto plans: --top N or --format json",
            r.pareto.len() - top
        ));
    }
    notes.extend(r.notes.iter().cloned());
    if r.qlora_not_considered {
        notes.push("QLoRA not considered: add --allow-quantization".into());
    }
    Document {
        title: format!("peftcost plan: {}", r.model),
        tables: vec![best, front],
        notes,
        ..Default::default()
    }
}
