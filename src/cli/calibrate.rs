//! `peftcost calibrate --from-log FILE`: fit a hardware profile's MFU to a real run, print the
//! prediction before and after, and write a calibration in the format `bench` writes.

use std::path::PathBuf;

use clap::Args;

use super::{emit, Context, ScenarioArgs};
use crate::core::error::{Error, Result};
use crate::core::estimate::{fit_mfu, Assumptions, MfuFit};
use crate::core::hardware::{
    load_calibration, save_calibration, Calibration, HardwareKind, HardwareProfile,
    CALIBRATION_FORMAT_VERSION,
};
use crate::core::units::GIB;

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The run's log: a HF Trainer trainer_state.json, a LLaMA-Factory trainer_log.jsonl, or a
    /// CSV with a step_seconds column (and optionally peak_memory_gib).
    #[arg(long, value_name = "FILE")]
    pub from_log: PathBuf,
    /// The hardware profile the run was on.
    #[arg(long, visible_alias = "gpu", value_name = "ID")]
    pub hardware: String,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Where to write the calibration [default: the file every command reads by default].
    #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
    pub out: Option<PathBuf>,
    /// Print the comparison only (what `validate` does for published rows); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace a calibration of other hardware at the output path.
    #[arg(long)]
    pub force: bool,
    /// Print the fit as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, mut args: CalibrateArgs) -> Result<()> {
    let notes = args.scenario.apply_configs(ctx)?;
    let file = crate::core::data::read_file(&args.from_log)?;
    let log = crate::emit::log::parse(&args.from_log.display().to_string(), &file.text)?;
    let prepared = args.scenario.scenario(ctx)?.prepare()?;
    let hw = ctx.hardware()?.get(&args.hardware)?.clone();
    let fit = fit_mfu(
        &prepared,
        &hw,
        &Assumptions::default(),
        log.step_seconds,
        log.peak_memory_bytes,
    )?;
    let out = if args.dry_run {
        None
    } else {
        Some(
            args.out
                .clone()
                .or_else(crate::core::data::default_calibration_path)
                .ok_or_else(|| {
                    Error::input("no data directory for the calibration: set PEFTCOST_DATA_DIR or use --out FILE")
                })?,
        )
    };
    if let Some(path) = &out {
        let new = calibration(&hw, &fit, &prepared.scenario.profile.id, &args)?;
        save_calibration(path, &merged(path, new, args.force)?)?;
    }
    let text = if args.json {
        crate::report::to_json(&fit)?
    } else {
        summary(&fit, &log, &args, &notes, out.as_ref())
    };
    emit(&text)
}

/// The fit as a `bench` calibration of `hw`: the datasheet peaks as the matmul rates (so the
/// MFU is the training efficiency), the profile's decode bandwidth kept.
fn calibration(
    hw: &HardwareProfile,
    fit: &MfuFit,
    model: &str,
    args: &CalibrateArgs,
) -> Result<Calibration> {
    let p = &hw.peak_tflops;
    let matmul_gflops = [("f32", p.fp32), ("f16", p.fp16), ("bf16", p.bf16)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v? * 1000.0)))
        .collect();
    let bandwidth_gbs = hw
        .memory_bandwidth_gbs
        .map(|b| b * hw.decode_bandwidth_efficiency)
        .ok_or_else(|| Error::input(format!("{} has no memory bandwidth in its profile", hw.id)))?;
    let created_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    Ok(Calibration {
        format_version: CALIBRATION_FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_unix,
        device: format!("training log {}", args.from_log.display()),
        device_kind: match hw.kind {
            HardwareKind::Cpu => "cpu",
            HardwareKind::Gpu => "cuda",
        }
        .into(),
        hardware_id: Some(hw.id.clone()),
        model: model.to_string(),
        memory_gib: hw.memory_gib,
        matmul_gflops,
        bandwidth_gbs,
        fma_peak_gflops: None,
        first_touch_gbs: None,
        train_gflops: [(fit.family.clone(), fit.achieved_flops / 1e9)].into(),
        train_efficiency: [(fit.family.clone(), fit.mfu_after)].into(),
        memory_offset_gib: fit
            .memory_offset
            .map(|b| (fit.family.clone(), b as f64 / GIB))
            .into_iter()
            .collect(),
        cpu: None,
    })
}

/// `new` merged into the calibration already at `path`: the other method families of the same
/// hardware are kept; a calibration of other hardware is replaced only with `--force`.
fn merged(path: &std::path::Path, mut new: Calibration, force: bool) -> Result<Calibration> {
    if !path.exists() {
        return Ok(new);
    }
    let old = match load_calibration(path) {
        Ok(old) => old,
        Err(_) if force => return Ok(new),
        Err(e) => {
            return Err(Error::input(format!(
                "{e} (it would be replaced: pass --force, or --out another file)"
            )))
        }
    };
    if old.hardware_id != new.hardware_id {
        if force {
            return Ok(new);
        }
        return Err(Error::input(format!(
            "{} holds a calibration of {}; replace it with --force, or write this one with --out another file",
            path.display(),
            old.hardware_id.as_deref().unwrap_or("this machine (peftcost bench)")
        )));
    }
    // The machine the merged file describes stays recorded.
    new.cpu = new.cpu.or(old.cpu);
    let refitted: Vec<String> = new.train_efficiency.keys().cloned().collect();
    for (family, v) in old.train_efficiency {
        new.train_efficiency.entry(family).or_insert(v);
    }
    for (family, v) in old.train_gflops {
        new.train_gflops.entry(family).or_insert(v);
    }
    for (family, v) in old.memory_offset_gib {
        // A family refitted without a peak drops its old offset: it described another run.
        if !refitted.contains(&family) || new.memory_offset_gib.contains_key(&family) {
            new.memory_offset_gib.entry(family).or_insert(v);
        }
    }
    Ok(new)
}

fn summary(
    fit: &MfuFit,
    log: &crate::emit::log::RunLog,
    args: &CalibrateArgs,
    notes: &[String],
    out: Option<&PathBuf>,
) -> String {
    let error = |pred: f64| (pred - fit.measured_step_seconds) / fit.measured_step_seconds * 100.0;
    let mut s = format!(
        "{} ({}, {} steps) on {}, method family {}\n\
         seconds per optimizer step: measured {:.4}\n  \
         before: predicted {:.4} ({:+.1}%) at MFU {:.3}\n  \
         after:  predicted {:.4} ({:+.1}%) at MFU {:.3}\n",
        args.from_log.display(),
        log.format,
        log.steps,
        fit.hardware,
        fit.family,
        fit.measured_step_seconds,
        fit.predicted_before,
        error(fit.predicted_before),
        fit.mfu_before,
        fit.predicted_after,
        error(fit.predicted_after),
        fit.mfu_after,
    );
    let gib = |b: u64| b as f64 / GIB;
    match fit.memory_measured {
        Some(m) => {
            let error = |pred: u64| (pred as f64 - m as f64) / m as f64 * 100.0;
            s.push_str(&format!(
                "peak memory per device: measured {:.2} GiB\n  before: predicted {:.2} GiB ({:+.1}%)\n",
                gib(m),
                gib(fit.memory_predicted),
                error(fit.memory_predicted),
            ));
            match (fit.memory_predicted_after, fit.memory_offset, &fit.memory_not_fitted) {
                (Some(after), Some(offset), _) => s.push_str(&format!(
                    "  after:  predicted {:.2} GiB ({:+.1}%) with {:+.2} GiB on the overhead\n",
                    gib(after),
                    error(after),
                    offset as f64 / GIB
                )),
                (_, _, Some(why)) => s.push_str(&format!("  not calibrated: {why}\n")),
                _ => {}
            }
        }
        None => s.push_str(&format!(
            "peak memory per device: predicted {:.2} GiB (the log has none to compare; not calibrated)\n",
            gib(fit.memory_predicted)
        )),
    }
    for n in notes {
        s.push_str(&format!("note: {n}\n"));
    }
    match out {
        Some(p) => s.push_str(&format!(
            "wrote {} (used by every command; or pass --calibration {0})\n",
            p.display()
        )),
        None => s.push_str("nothing written (a comparison only)\n"),
    }
    s
}
