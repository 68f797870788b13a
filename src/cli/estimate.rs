//! `peftcost estimate`: one scenario, every hardware profile.

use clap::Args;

use super::{emit, Context, Format, ScenarioArgs};
use crate::error::Result;
use crate::estimate::{Assumptions, Estimate, Prepared};
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Hardware profiles to estimate on (repeatable or comma-separated; default: every profile).
    #[arg(long, visible_alias = "gpu", value_name = "ID")]
    pub hardware: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(ctx: &Context, args: EstimateArgs) -> Result<()> {
    let scenario = args.scenario.scenario(ctx)?;
    let prepared = scenario.prepare()?;
    let hardware = ctx.hardware()?.select(&args.hardware)?;
    let est = Estimate::new(&prepared, &hardware, &Assumptions::default());
    let text = match args.format {
        Format::Json => report::to_json(&est)?,
        Format::Csv => report::to_csv(&est.csv_rows())?,
        Format::Table => document(&prepared, &est).to_text(),
        Format::Md => document(&prepared, &est).to_markdown(),
    };
    emit(&text)
}

/// The tables people read; every number comes from `est`.
pub fn document(p: &Prepared, est: &Estimate) -> Document {
    let c = &est.params;
    let mut params = Table::new("Parameters", &["quantity", "value"]);
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    params.push(kv(
        "model",
        format!("{} ({})", p.scenario.profile.name, est.model),
    ));
    params.push(kv("method", est.method.describe()));
    params.push(kv("total (base model)", fmt::count(c.total)));
    params.push(kv("trainable", fmt::count(c.trainable)));
    params.push(kv("all (peft 'all params')", fmt::count(c.all)));
    params.push(kv("trainable %", format!("{:.4}", c.trainable_percent)));
    let a = &c.artifact;
    params.push(kv(
        "adapter file (fp16 / fp32)",
        format!(
            "{} / {}",
            fmt::bytes(a.adapter_fp16_bytes as f64),
            fmt::bytes(a.adapter_fp32_bytes as f64)
        ),
    ));
    params.push(kv(
        "merged model (bf16)",
        a.merged_bytes
            .map_or("n/a (cannot be merged)".into(), |b| fmt::bytes(b as f64)),
    ));
    params.push(kv("exported artifact", fmt::bytes(a.export_bytes as f64)));

    let w = &est.workload;
    let mut job = Table::new("Workload (every assumption)", &["setting", "value"]);
    for (k, v) in [
        ("samples x epochs", format!("{} x {}", w.samples, w.epochs)),
        ("tokens per sample", w.seq_len.to_string()),
        (
            "micro-batch x grad-accum x gpus",
            format!("{} x {} x {}", w.micro_batch, w.grad_accum, w.gpus),
        ),
        ("optimizer steps", w.steps().to_string()),
        (
            "dtype / weights",
            format!("{} / {}", w.dtype.as_str(), w.weights_dtype.as_str()),
        ),
        ("optimizer", w.optimizer.as_str().to_string()),
        ("gradient checkpointing", w.grad_checkpointing.to_string()),
        ("attention", format!("{:?}", w.attention).to_lowercase()),
        ("ZeRO stage", w.zero.to_string()),
        ("FLOPs per token", format!("{:.3e}", est.flops.per_token)),
        ("FLOPs of the job", format!("{:.3e}", est.flops.total)),
        (
            "runtime overhead / allocator slack",
            format!(
                "{} GiB / {:.0}%",
                est.assumptions.runtime_overhead_gib,
                est.assumptions.allocator_slack * 100.0
            ),
        ),
    ] {
        job.push(vec![k.into(), v]);
    }

    let mut dev = Table::new(
        "Devices (memory per device, GiB = 2^30 bytes)",
        &[
            "hardware",
            "fits",
            "total",
            "weights",
            "train state",
            "activations",
            "logits",
            "overhead",
            "capacity",
            "max micro-batch",
            "step",
            "tokens/s",
            "hours",
            "MFU",
        ],
    );
    for d in &est.devices {
        let m = &d.memory;
        dev.push(vec![
            d.hardware.clone(),
            if d.fits { "yes".into() } else { "NO".into() },
            fmt::gib(m.total as f64),
            fmt::gib(m.weights as f64),
            fmt::gib(m.trainable_state as f64),
            fmt::gib(m.activations as f64),
            fmt::gib(m.logits as f64),
            fmt::gib(m.overhead as f64),
            fmt::gib(d.capacity_bytes as f64),
            d.max_micro_batch.to_string(),
            d.step_seconds.map_or("-".into(), |s| format!("{s:.2} s")),
            d.tokens_per_second
                .map_or("-".into(), |t| format!("{t:.0}")),
            d.hours.map_or("-".into(), fmt::hours),
            format!(
                "{:.2}{}",
                d.mfu,
                if d.calibrated { " (calibrated)" } else { "" }
            ),
        ]);
    }
    let mut notes = est.notes.clone();
    notes.extend(est.devices.iter().filter_map(|d| d.note.clone()));
    if !est.suggestions.is_empty() {
        notes.push("fits on no device; what would make it fit:".into());
        notes.extend(est.suggestions.iter().map(|s| format!("  {s}")));
    }
    Document {
        title: format!(
            "peftcost estimate: {} + {}",
            est.model,
            est.method.kind.as_str()
        ),
        tables: vec![params, job, dev],
        notes,
    }
}
