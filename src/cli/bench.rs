//! `peftcost bench`: measure this machine and write a calibration file.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{emit, Context, Format};
use crate::bench::{self, BenchConfig, BenchDevice, BenchReport};
use crate::core::error::{Error, Result};
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Model whose Linear shapes and block are measured (default: the model of the last
    /// `estimate`, else qwen-7b).
    #[arg(long)]
    pub model: Option<String>,
    /// Fewer tokens and repetitions: seconds instead of a minute.
    #[arg(long)]
    pub quick: bool,
    /// cpu, or cuda:N (needs a build with --features cuda).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: String,
    /// Write the calibration here (default: <data dir>/calibration.json, where the data dir is
    /// $PEFTCOST_DATA_DIR or the XDG data dir).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The hardware profile this machine stands for (e.g. a10 on a rented A10); default: this
    /// machine ("local").
    #[arg(long, value_name = "ID")]
    pub hardware_id: Option<String>,
    /// Measure and print, but write no calibration file.
    #[arg(long, conflicts_with = "out")]
    pub no_write: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(ctx: &Context, args: BenchArgs) -> Result<()> {
    let device: BenchDevice = args.device.parse()?;
    // Fail before measuring: a missing cuda feature or device, a bad id, no place to write.
    device.open()?;
    let hardware_id = match args.hardware_id.as_deref().map(str::trim) {
        Some("") => return Err(Error::input("--hardware-id must not be empty")),
        Some(id) => Some(crate::core::data::normalise(id)),
        None => None,
    };
    let out = if args.no_write {
        None
    } else {
        Some(args.out.clone().or_else(crate::core::data::default_calibration_path).ok_or_else(|| {
            Error::input("no data directory for the calibration: set PEFTCOST_DATA_DIR or use --out FILE")
        })?)
    };
    let catalog = ctx.models()?;
    let model = args
        .model
        .clone()
        .or_else(crate::core::data::last_model)
        .unwrap_or_else(|| "qwen-7b".to_string());
    let profile = catalog.get(&model)?;
    let cfg = BenchConfig::from_profile(profile, args.quick, device)?;

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed:>3} [{bar:30}] {percent:>3}% {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let result = bench::run_bench(&cfg, &mut |label, done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(label.to_string());
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = result?;

    let text = match args.format {
        Format::Json => report::to_json(&report)?,
        Format::Csv => report::to_csv(&csv_rows(&report))?,
        Format::Table => document(&report).to_text(),
        Format::Md => document(&report).to_markdown(),
    };
    emit(&text)?;

    if let Some(path) = out {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let cal = report.to_calibration(created, hardware_id.clone());
        crate::core::hardware::save_calibration(&path, &cal)?;
        eprintln!("wrote calibration: {}", path.display());
        eprintln!(
            "use it: peftcost estimate --hardware {} ...",
            hardware_id.as_deref().unwrap_or("local")
        );
    }
    Ok(())
}

/// One tidy CSV row per measurement.
#[derive(serde::Serialize)]
struct CsvRow<'a> {
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

fn csv_rows(r: &BenchReport) -> Vec<CsvRow<'_>> {
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

fn spread(min: f64, max: f64, median: f64) -> String {
    if median > 0.0 {
        format!("±{:.0}%", 50.0 * (max - min) / median)
    } else {
        "-".into()
    }
}

fn document(r: &BenchReport) -> Document {
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
        "efficiency = training GFLOP/s (analytic matmul FLOPs of the step / best step time) over the f32 matmul GFLOP/s ({:.1}, median over shapes of each shape's best run); the calibration uses best runs because noise only slows a run down",
        r.matmul_gflops.get("f32").copied().unwrap_or(0.0)
    ));
    doc.notes.push(format!(
        "LoRA r={} on every Linear; adapter bottleneck {} after attention and MLP; prompt tuning {} virtual tokens; frozen weights get no weight gradient",
        r.sizes.lora_rank, r.sizes.adapter_bottleneck, r.sizes.prompt_tokens
    ));
    doc.notes.extend(r.notes.iter().cloned());
    doc
}
