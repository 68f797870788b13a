//! `peftcost bench`: measure this machine and write a calibration file.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{emit, Context, Format};
use crate::bench::{self, BenchConfig, BenchDevice};
use crate::core::error::{Error, Result};
use crate::report::{self};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Model whose Linear shapes and block are measured (default: the model of the last
    /// `estimate`, else qwen-7b).
    #[arg(long, conflicts_with = "model_config")]
    pub model: Option<String>,
    /// A Hugging Face config.json whose shapes are measured instead of --model (the model you
    /// will estimate with `estimate --model-config`).
    #[arg(long, value_name = "FILE")]
    pub model_config: Option<PathBuf>,
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
        // A calibration for an id no profile has would be rejected by every later command.
        Some(id) => Some(ctx.hardware()?.get(id)?.id.clone()),
        None => None,
    };
    let out = if args.no_write {
        None
    } else {
        Some(args.out.clone().or_else(crate::core::data::default_calibration_path).ok_or_else(|| {
            Error::input("no data directory for the calibration: set PEFTCOST_DATA_DIR or use --out FILE")
        })?)
    };
    if let Some(path) = &out {
        crate::core::data::check_target(path)?;
    }
    let catalog = ctx.models()?;
    let imported;
    let profile = match &args.model_config {
        Some(path) => {
            let f = crate::core::data::read_file(path)?;
            imported = crate::core::arch::import_hf_config(&f.path, &f.text, None)?;
            &imported
        }
        None => {
            let model = args
                .model
                .clone()
                .or_else(crate::core::data::last_model)
                .unwrap_or_else(|| "qwen-7b".to_string());
            catalog.get(&model)?
        }
    };
    let cfg = BenchConfig::from_profile(profile, args.quick, device)?;
    // Size the largest allocation against the memory there is before allocating anything: a
    // profile with an 8192 x 1e7 Linear would ask for 327 GB.
    let need = cfg.peak_bytes();
    if let Some(avail) = crate::bench::available_memory_bytes() {
        if need > avail / 2 {
            return Err(Error::input(format!(
                "benchmarking {} would allocate {:.1} GiB at once (its largest Linear, in f32), more than half the {:.1} GiB available; pass --model with a smaller profile",
                profile.id,
                need as f64 / crate::core::units::GIB,
                avail as f64 / crate::core::units::GIB
            )));
        }
    }

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
        Format::Csv => report::to_csv(&report::bench::csv_rows(&report))?,
        Format::Table | Format::Md | Format::Html => args
            .format
            .render(&report::bench::document(&report), ctx.lang),
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
