//! The deploy documents: one model on each target class, and the all-models table.

use crate::core::deploy::{self, DeploySuggestion, Precision, TargetResult};
use crate::report::{fmt, Document, Table};

pub fn secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1000.0),
        Some(s) => format!("{s:.2} s"),
    }
}

pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("-".into(), f)
}

pub fn target_label(t: &TargetResult) -> String {
    if (t.linear_bits_per_weight - t.bits_per_weight).abs() < 0.005 {
        format!(
            "{} ({} bits/w)",
            t.weights_format,
            fmt_bits(t.bits_per_weight)
        )
    } else {
        format!(
            "{} ({} bits/w Linears, {} avg)",
            t.weights_format,
            fmt_bits(t.linear_bits_per_weight),
            fmt_bits(t.bits_per_weight)
        )
    }
}

pub fn fmt_bits(b: f64) -> String {
    format!("{b:.2}")
}

/// The tables people read; every number comes from `d`.
pub fn document(d: &deploy::Deployment) -> Document {
    let w = &d.request.workload;
    let cur = &d.currency;
    let mut setup = Table::new("Request", &["setting", "value"]);
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    setup.push(kv(
        "model",
        format!("{} ({} params)", d.model, fmt::count(d.params)),
    ));
    setup.push(kv("precision", {
        let gpu = if d.request.precision == Precision::Int4 {
            format!("int4 ({})", d.request.int4_format.as_str())
        } else {
            d.request.precision.as_str().to_string()
        };
        if d.request.precision_given {
            gpu
        } else {
            format!("{gpu} (the checkpoint's); CPU: GGUF Q4_K_M")
        }
    }));
    setup.push(kv(
        "traffic",
        format!("{:.4} requests/s ({:.0} per day)", w.qps, w.qps * 86_400.0),
    ));
    if d.encoder {
        setup.push(kv("tokens per sequence", w.input_tokens.to_string()));
    } else {
        setup.push(kv(
            "input / output tokens",
            format!("{} / {}", w.input_tokens, w.output_tokens),
        ));
        setup.push(kv(
            "context reserved per sequence",
            format!("{} tokens", w.context),
        ));
    }
    setup.push(kv(
        "TTFT / TPOT targets",
        format!("{} / {}", secs(w.max_ttft), secs(w.max_tpot)),
    ));
    setup.push(kv(
        "LoRA adapters on one base",
        d.request.adapters.to_string(),
    ));

    let unit = if d.encoder {
        "embeddings/s"
    } else {
        "tokens/s"
    };
    let per_m = if d.encoder {
        "per M embeddings"
    } else {
        "per M tokens"
    };
    let mut main = Table::new(
        format!(
            "Serving, cheapest first ({cur}; per instance; tokens/s include the prefill share)"
        ),
        &[
            "hardware",
            "fits",
            "weights",
            "instances",
            "batch",
            unit,
            "req/s",
            "TTFT",
            "TPOT",
            "monthly",
            per_m,
            "util",
            "offer",
        ],
    )
    .with_priority(&[
        "hardware",
        "fits",
        "monthly",
        "instances",
        "weights",
        "TTFT",
        "TPOT",
        "req/s",
        "tokens/s",
        "embeddings/s",
        "per M tokens",
        "per M embeddings",
        "util",
        "batch",
        "offer",
    ]);
    for t in &d.targets {
        main.push(vec![
            t.hardware.clone(),
            match (t.fits, t.meets_ttft, t.meets_tpot) {
                (false, _, _) => "NO".into(),
                (true, Some(false), _) => "misses TTFT".into(),
                (true, _, Some(false)) => "misses TPOT".into(),
                _ => "yes".into(),
            },
            target_label(t),
            if t.fits {
                t.instances.to_string()
            } else {
                "-".into()
            },
            if t.fits {
                t.batch.to_string()
            } else {
                "-".into()
            },
            opt(
                t.output_tokens_per_second.or(t.embeddings_per_second),
                |x| format!("{x:.1}"),
            ),
            opt(t.requests_per_second, |x| format!("{x:.2}")),
            secs(t.ttft_seconds),
            secs(t.tpot_seconds),
            opt(t.monthly_cost, |c| fmt::money(c, cur)),
            opt(t.cost_per_million, |c| fmt::money(c, cur)),
            opt(t.utilisation, |u| format!("{:.0}%", u * 100.0)),
            t.offer.as_ref().map_or("-".into(), |o| {
                format!(
                    "{} {} x{} ({})",
                    o.provider, o.instance, o.machines, o.billing
                )
            }),
        ]);
    }

    let mut mem = Table::new(
        "Memory per instance (GiB = 2^30 bytes)",
        &[
            "hardware",
            "usable",
            "weights",
            "adapters",
            "overhead",
            "KV / token",
            "KV / sequence",
            "max sequences",
            "decode tokens/s at batch",
        ],
    );
    for t in &d.targets {
        mem.push(vec![
            t.hardware.clone(),
            fmt::gib(t.usable_memory_bytes),
            fmt::gib(t.weights_bytes),
            fmt::bytes(t.adapters_bytes),
            fmt::gib(t.overhead_bytes),
            fmt::bytes(t.kv_bytes_per_token),
            fmt::bytes(t.kv_bytes_per_sequence),
            t.max_sequences.to_string(),
            opt(t.decode_tokens_per_second, |x| format!("{x:.0}")),
        ]);
    }
    let mut tables = vec![setup, main, mem];

    if d.request.adapters > 0 {
        let mut ad = Table::new(
            format!(
                "{} LoRA adapters on one base vs {} merged models ({cur})",
                d.request.adapters, d.request.adapters
            ),
            &[
                "hardware",
                "adapter",
                "memory shared / merged",
                "instances shared / merged",
                "monthly shared",
                "monthly merged",
                "saving",
            ],
        );
        for t in d.targets.iter().filter(|t| t.fits) {
            if let Some(s) = &t.adapters {
                ad.push(vec![
                    t.hardware.clone(),
                    format!(
                        "{} ({} params)",
                        fmt::bytes(s.adapter_bytes),
                        fmt::short(s.adapter_trainable_params)
                    ),
                    format!(
                        "{} / {}",
                        fmt::gib(s.shared_memory_bytes),
                        fmt::gib(s.merged_memory_bytes)
                    ),
                    format!("{} / {}", s.shared_instances, s.merged_instances),
                    opt(s.shared_monthly_cost, |c| fmt::money(c, cur)),
                    opt(s.merged_monthly_cost, |c| fmt::money(c, cur)),
                    match (s.saving, s.saving_fraction) {
                        (Some(v), Some(f)) => format!("{} ({:.0}%)", fmt::money(v, cur), f * 100.0),
                        (Some(v), None) => fmt::money(v, cur),
                        _ => "-".into(),
                    },
                ]);
            }
        }
        tables.push(ad);
    }

    let mut notes = d.notes.clone();
    if let Some(t) = d.targets.first().filter(|t| t.meets_targets) {
        if let (Some(rps), Some(ttft)) = (t.requests_per_second, t.ttft_seconds) {
            let tpot = t
                .tpot_seconds
                .map_or(String::new(), |s| format!(", TPOT {}", secs(Some(s))));
            notes.push(format!(
                "one {} serves {rps:.2} requests/s at batch {} (TTFT {}{tpot}); {} instance(s) for {} requests/s",
                t.hardware,
                t.batch,
                secs(Some(ttft)),
                t.instances,
                d.request.workload.qps
            ));
        }
    }
    if d.request.adapters > 0 {
        notes.push(format!(
            "adapters: default LoRA of the model (rank 8, fp16) each; unmerged LoRA adds {:.0}% per-token compute; merged models each take their own instances",
            d.assumptions.lora_unmerged_overhead * 100.0
        ));
    }
    // The same note on several targets is printed once, naming them all.
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    for t in &d.targets {
        for n in &t.notes {
            match grouped.iter_mut().find(|(m, _)| m == n) {
                Some((_, hs)) => hs.push(&t.hardware),
                None => grouped.push((n.clone(), vec![&t.hardware])),
            }
        }
    }
    notes.extend(
        grouped
            .into_iter()
            .map(|(n, hs)| format!("{}: {n}", hs.join(", "))),
    );
    if !d.suggestions.is_empty() {
        notes.push(format!(
            "fits nowhere at {}; what would fit:",
            d.request.precision.as_str()
        ));
        notes.extend(
            d.suggestions
                .iter()
                .map(|s| format!("  {}", deploy_suggestion(s))),
        );
    }
    Document {
        title: format!("peftcost deploy: {}", d.model),
        tables,
        notes,
        ..Default::default()
    }
}

/// The deployment table rows as a table for people (shared with `peftcost report`).
pub fn table_of_rows(title: String, rows: &[&deploy::TableRow]) -> Table {
    let mut t = Table::new(
        title,
        &[
            "model",
            "hardware",
            "fits at",
            "bits/w",
            "tokens/s (embeddings/s)",
            "instances",
            "monthly",
            "offer",
        ],
    );
    for r in rows {
        t.push(vec![
            r.model.clone(),
            r.hardware.clone(),
            r.weights_format
                .clone()
                .unwrap_or_else(|| "does not fit".into()),
            opt(r.bits_per_weight, fmt_bits),
            match (r.tokens_per_second, r.embeddings_per_second) {
                (Some(x), _) => format!("{x:.1}"),
                (None, Some(e)) => format!("({e:.1})"),
                _ => "-".into(),
            },
            if r.fits {
                r.instances.to_string()
            } else {
                "-".into()
            },
            opt(r.monthly_cost, |c| fmt::money(c, &r.currency)),
            match (&r.provider, &r.instance) {
                (Some(p), Some(i)) => format!("{p} {i}"),
                _ => "-".into(),
            },
        ]);
    }
    t
}

/// A serving remedy in flags.
pub fn deploy_suggestion(s: &DeploySuggestion) -> String {
    match s {
        DeploySuggestion::Precision {
            precision,
            hardware,
        } => format!(
            "--precision {} fits on {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::OtherHardware {
            precision,
            hardware,
        } => format!(
            "--precision {} fits on --hardware {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::ShorterContext { context } => {
            format!("nothing fits; a shorter --context than {context} or fewer --adapters may help")
        }
    }
}
