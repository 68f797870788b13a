//! The bench document and CSV rows: what the device achieved against its peak.

use crate::bench::BenchReport;
use crate::report::{fmt, Document, Table};

/// One tidy CSV row per measurement.
#[derive(serde::Serialize)]
pub struct CsvRow<'a> {
    kind: &'static str,
    name: &'a str,
    dtype: &'a str,
    m: u64,
    k: u64,
    n: u64,
    median: f64,
    min: f64,
    max: f64,
    unit: &'static str,
    efficiency: Option<f64>,
}

pub fn csv_rows(r: &BenchReport) -> Vec<CsvRow<'_>> {
    let mut rows = Vec::new();
    for m in &r.matmul {
        rows.push(CsvRow {
            kind: "matmul",
            name: &m.name,
            dtype: &m.dtype,
            m: m.m,
            k: m.k,
            n: m.n,
            median: m.gflops_median,
            min: m.gflops_min,
            max: m.gflops_max,
            unit: "GFLOP/s",
            efficiency: None,
        });
    }
    for b in &r.bandwidth {
        rows.push(CsvRow {
            kind: "bandwidth",
            name: &b.probe,
            dtype: "f32",
            m: 0,
            k: 0,
            n: b.buffer_bytes,
            median: b.gbs_median,
            min: b.gbs_min,
            max: b.gbs_max,
            unit: "GB/s",
            efficiency: None,
        });
    }
    for t in &r.training {
        rows.push(CsvRow {
            kind: "train",
            name: t.method.as_str(),
            dtype: "f32",
            m: t.dims.tokens,
            k: t.dims.block.hidden,
            n: t.dims.layers,
            median: t.step_s_median,
            min: t.step_s_min,
            max: t.step_s_max,
            unit: "s/step",
            efficiency: Some(t.efficiency),
        });
    }
    rows
}

pub fn spread(min: f64, max: f64, median: f64) -> String {
    if median > 0.0 {
        format!("±{:.0}%", 50.0 * (max - min) / median)
    } else {
        "-".into()
    }
}

pub fn document(r: &BenchReport) -> Document {
    let mut doc = Document {
        title: format!(
            "Benchmark of {} with {} shapes{}",
            r.device,
            r.model,
            if r.quick { " (quick)" } else { "" }
        ),
        ..Default::default()
    };

    let mut s = Table::new("Summary (calibration)", &["measure", "value"]);
    for (dt, g) in &r.matmul_gflops {
        s.push(vec![format!("matmul {dt}"), format!("{g:.1} GFLOP/s")]);
    }
    s.push(vec![
        "memory bandwidth".into(),
        format!("{:.1} GB/s", r.bandwidth_gbs),
    ]);
    if let Some(g) = r.fma_peak_gflops {
        s.push(vec!["FMA peak f32".into(), format!("{g:.1} GFLOP/s")]);
    }
    if let Some(g) = r.first_touch_gbs {
        s.push(vec![
            "first touch (fresh pages)".into(),
            format!("{g:.2} GB/s"),
        ]);
    }
    for t in &r.training {
        s.push(vec![
            format!("training {}", t.method.as_str()),
            format!(
                "{:.1} GFLOP/s ({:.0}% of f32 matmul)",
                t.gflops,
                100.0 * t.efficiency
            ),
        ]);
    }
    s.push(vec!["memory".into(), format!("{:.1} GiB", r.memory_gib)]);
    doc.tables.push(s);

    let mut t = Table::new(
        format!(
            "Matmul [m, in] x [in, out], m = {} tokens, median of {}",
            r.matmul_tokens, r.sizes.matmul_reps
        ),
        &[
            "modules", "in x out", "dtype", "GFLOP/s", "min", "max", "spread",
        ],
    );
    for m in &r.matmul {
        t.push(vec![
            m.name.clone(),
            format!("{} x {}", m.k, m.n),
            m.dtype.clone(),
            format!("{:.1}", m.gflops_median),
            format!("{:.1}", m.gflops_min),
            format!("{:.1}", m.gflops_max),
            spread(m.gflops_min, m.gflops_max, m.gflops_median),
        ]);
    }
    doc.tables.push(t);

    let mut t = Table::new(
        "Memory bandwidth",
        &["probe", "buffer", "GB/s", "min", "max", "spread"],
    );
    for b in &r.bandwidth {
        t.push(vec![
            b.probe.clone(),
            fmt::bytes(b.buffer_bytes as f64),
            format!("{:.1}", b.gbs_median),
            format!("{:.1}", b.gbs_min),
            format!("{:.1}", b.gbs_max),
            spread(b.gbs_min, b.gbs_max, b.gbs_median),
        ]);
    }
    doc.tables.push(t);

    if let Some(d) = r.training.first().map(|t| t.dims) {
        let mut t = Table::new(
            format!(
                "Training steps: {} {} block{} at hidden {}, {} heads ({} kv) x {}, MLP {}, {} tokens, f32",
                d.layers,
                if d.block.gated { "SwiGLU" } else { "GELU" },
                if d.layers == 1 { "" } else { "s" },
                d.block.hidden,
                d.block.heads,
                d.block.kv_heads,
                d.block.head_dim,
                d.block.intermediate,
                d.tokens
            ),
            &[
                "method",
                "trainable",
                "s/step",
                "spread",
                "fwd s",
                "bwd+upd s",
                "GFLOP/step",
                "GFLOP/s",
                "efficiency",
            ],
        );
        for s in &r.training {
            t.push(vec![
                s.method.as_str().into(),
                fmt::short(s.trainable_params),
                format!("{:.3}", s.step_s_median),
                spread(s.step_s_min, s.step_s_max, s.step_s_median),
                format!("{:.3}", s.forward_s),
                format!("{:.3}", s.backward_s),
                format!("{:.1}", s.flops_per_step / 1e9),
                format!("{:.1}", s.gflops),
                format!("{:.0}%", 100.0 * s.efficiency),
            ]);
        }
        doc.tables.push(t);
    }

    doc.notes.push(format!(
        "efficiency = training GFLOP/s (analytic matmul FLOPs of the step / median step time) over the f32 matmul GFLOP/s ({:.1}, median over shapes of each shape's median run); medians follow the machine's steady state, not its luckiest moment",
        r.matmul_gflops.get("f32").copied().unwrap_or(0.0)
    ));
    doc.notes.push(format!(
        "LoRA r={} on every Linear; adapter bottleneck {} after attention and MLP; prompt tuning {} virtual tokens; frozen weights get no weight gradient",
        r.sizes.lora_rank, r.sizes.adapter_bottleneck, r.sizes.prompt_tokens
    ));
    doc.notes.extend(r.notes.iter().cloned());
    doc
}
