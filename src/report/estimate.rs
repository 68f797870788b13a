//! The estimate document: parameters, workload, memory and time per device, offers, notes.

use crate::core::estimate::{Change, Estimate, Launcher, Prepared, Suggestion};
use crate::core::pricing::{self};
use crate::report::{fmt, Document, Table};

/// The tables people read; every number comes from `est`.
pub fn document(p: &Prepared, est: &Estimate, top: usize) -> Document {
    let c = &est.params;
    let mut params = Table::new("Parameters", &["quantity", "value"]);
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    params.push(kv(
        "model",
        format!("{} ({})", p.scenario.profile.name, est.model),
    ));
    params.push(kv("method", est.method.describe()));
    params.push(kv("total (base model)", fmt::count(c.total)));
    if let Some(active) = c.active_per_token {
        params.push(kv(
            "active per token (routed experts)",
            format!(
                "{} (memory holds every expert; FLOPs follow the active ones)",
                fmt::count(active)
            ),
        ));
    }
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
        if est.fit.auto {
            (
                "global batch (sequences per step)",
                format!(
                    "{} on {} gpu(s): micro-batch and checkpointing fitted per device",
                    est.fit.global_batch, w.gpus
                ),
            )
        } else {
            (
                "micro-batch x grad-accum x gpus",
                format!("{} x {} x {}", w.micro_batch, w.grad_accum, w.gpus),
            )
        },
        ("optimizer steps", w.processed().steps().to_string()),
        (
            "dtype / weights",
            format!("{} / {}", w.dtype.as_str(), w.weights_dtype.as_str()),
        ),
        ("optimizer", w.optimizer.as_str().to_string()),
        (
            "gradient checkpointing",
            if est.fit.auto {
                "only where needed".into()
            } else {
                w.grad_checkpointing.to_string()
            },
        ),
        ("attention", format!("{:?}", w.attention).to_lowercase()),
        (
            "launcher",
            match w.launcher() {
                Launcher::Ddp if w.gpus == 1 => "one device",
                l => l.as_str(),
            }
            .into(),
        ),
        ("offload to host RAM", w.offload.as_str().into()),
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
    if let Some(l) = w.lengths {
        let mean = format!("{:.0}", l.mean_truncated(w.seq_len));
        job.push(vec![
            "sample lengths".into(),
            if w.packing {
                format!(
                    "mean {mean}: packed into {} rows of {} tokens",
                    w.processed().samples,
                    w.seq_len
                )
            } else {
                format!(
                    "mean {mean}, longest {}: micro-batches padded to their longest",
                    l.longest(w.seq_len)
                )
            },
        ]);
    }
    if w.expert_parallel {
        job.push(vec![
            "expert parallelism".into(),
            "experts sharded across the gpus (EP = gpus), all-to-all per sparse block".into(),
        ]);
    }

    let mut dev = Table::new(
        "Devices: memory per device in GiB (2^30 bytes)",
        &[
            "hardware",
            "fits",
            "configuration",
            "total",
            "weights",
            "state",
            "activ.",
            "logits",
            "overhead",
            "capacity",
            "max mb",
            "step s",
            "tok/s",
            "hours",
            "MFU",
            "peak",
        ],
    )
    .with_priority(&[
        "hardware",
        "fits",
        "configuration",
        "total",
        "hours",
        "capacity",
        "step s",
        "tok/s",
        "weights",
        "activ.",
        "logits",
        "state",
        "overhead",
        "max mb",
        "MFU",
        "peak",
    ]);
    let g = |b: u64| format!("{:.2}", b as f64 / fmt::GIB);
    for d in &est.devices {
        let m = &d.memory;
        dev.push(vec![
            d.hardware.clone(),
            if d.fits { "yes".into() } else { "NO".into() },
            if d.fits {
                fmt::config(&d.config)
            } else {
                d.fix
                    .as_ref()
                    .map_or("nothing in the search fits".into(), |f| {
                        format!("needs {}", fmt::changes(&f.changes))
                    })
            },
            g(m.total),
            g(m.weights),
            g(m.trainable_state),
            g(m.activations),
            g(m.logits),
            format!(
                "{}{}",
                g(m.overhead),
                if m.overhead_calibration != 0 {
                    " cal."
                } else {
                    ""
                }
            ),
            g(d.capacity_bytes),
            d.max_micro_batch.to_string(),
            d.step_seconds.map_or("-".into(), |s| format!("{s:.2}")),
            d.tokens_per_second
                .map_or("-".into(), |t| format!("{t:.0}")),
            d.hours.map_or("-".into(), fmt::hours),
            format!("{:.2}{}", d.mfu, if d.calibrated { " cal." } else { "" }),
            m.peak_phase.as_str().into(),
        ]);
    }
    let mut offers = Table::new(
        "Offers whose hardware fits, cheapest job first: job = setup + data + train + export",
        &[
            "#",
            "provider",
            "instance",
            "hw",
            "GPUs",
            "billing",
            "price/h",
            "billed h",
            "setup/data/train/export",
            "job cost",
            "USD",
            "CNY",
        ],
    )
    .with_priority(&[
        "#",
        "provider",
        "instance",
        "hw",
        "job cost",
        "billing",
        "price/h",
        "CNY",
        "USD",
        "GPUs",
        "billed h",
        "setup/data/train/export",
    ]);
    for (i, o) in est.offers.iter().take(top).enumerate() {
        let j = &o.job;
        let b = &j.cost_breakdown;
        offers.push(vec![
            (i + 1).to_string(),
            j.provider.clone(),
            j.instance.clone(),
            j.hardware.clone(),
            format!("{}x{}", j.instances, j.gpus),
            j.billing.as_str().into(),
            fmt::money(j.price_per_hour, &j.currency),
            format!("{:.2}", j.hours),
            format!(
                "{:.2}/{:.2}/{:.2}/{:.2}",
                b.setup, b.data, b.train, b.export
            ),
            fmt::money(j.cost, &j.currency),
            format!("{:.2}", o.cost_usd),
            format!("{:.2}", o.cost_cny),
        ]);
    }
    let mut notes = est.notes.clone();
    if !est.offers.is_empty() {
        notes.push("regions, sources and as_of dates of every offer: --format json|csv, or `peftcost pricing show PROVIDER`".into());
    }
    if est.offers.len() > top {
        notes.push(format!(
            "{} more offers: --top N, or --format json|csv",
            est.offers.len() - top
        ));
    }
    if est.offers.iter().any(|o| o.job.caveat.is_some()) {
        notes.push(format!("spot: {}", pricing::SPOT_CAVEAT));
    }
    if est.offers.is_empty() {
        notes.push(
            "no offer matches: the hardware does not fit, or the filters exclude every offer"
                .into(),
        );
    }
    notes.extend(est.devices.iter().filter_map(|d| d.note.clone()));
    if !est.suggestions.is_empty() {
        notes.push("fits on no device; what would make it fit:".into());
        notes.extend(
            est.suggestions
                .iter()
                .map(|s| format!("  {}", suggestion(s))),
        );
    }
    Document {
        title: format!(
            "peftcost estimate: {} + {}",
            est.model,
            est.method.kind.as_str()
        ),
        tables: vec![params, job, dev, offers],
        notes,
        ..Default::default()
    }
}

/// A fit remedy in flags, with its memory, hours and cost on the device it fits.
pub fn suggestion(s: &Suggestion) -> String {
    let mut flags: Vec<String> = s
        .changes
        .iter()
        .map(|c| match *c {
            Change::GradCheckpointing => "--grad-checkpointing".to_string(),
            Change::MicroBatchOne => "--micro-batch 1".into(),
            Change::MicroBatch { micro_batch } => format!("--micro-batch {micro_batch}"),
            Change::Qlora => "--method qlora".into(),
            Change::Zero3 { gpus } => format!("--gpus {gpus} --zero 3"),
            Change::Offload { offload } => format!("--offload {}", offload.as_str()),
            Change::SyncEachBatch => "--sync-each-batch".into(),
            Change::SeqLen { seq_len } => format!("--seq-len {seq_len}"),
        })
        .collect();
    if s.config.grad_accum > 1 {
        flags.push(format!("--grad-accum {}", s.config.grad_accum));
    }
    remedy(&flags.join(" "), s)
}

/// "CHANGE: 11.20 GiB on t4 (fits), 2.31 h, 1.20 USD": shared by the CLI and the TUI wording.
pub fn remedy(change: &str, s: &Suggestion) -> String {
    let verdict = if s.fits { "fits" } else { "still does not fit" };
    let mut out = format!(
        "{change}: {} on {} ({verdict})",
        fmt::gib(s.memory as f64),
        s.hardware
    );
    if let Some(h) = s.hours {
        out.push_str(&format!(", {}", fmt::hours(h)));
    }
    if s.host_memory > 0 {
        out.push_str(&format!(
            ", {} host RAM per GPU",
            fmt::gib(s.host_memory as f64)
        ));
    }
    if let Some(c) = s.cost_usd {
        out.push_str(&format!(", from {c:.2} USD"));
    }
    out
}
