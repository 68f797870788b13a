//! `peftcost validate`: predictions next to published measurements, with the error.

use clap::Args;

use super::{emit, Context, Format};
use crate::core::error::Result;
use crate::core::estimate::validate::{validation_rows, MEMORY_TOLERANCE, TIME_TOLERANCE};
use crate::report::{self, Document, Table};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Compare with your own run instead: a training log (as `calibrate --from-log` reads) of
    /// the scenario given by the flags or --from-config; nothing is written.
    #[arg(long, value_name = "FILE", requires = "hardware")]
    pub log: Option<std::path::PathBuf>,
    /// The hardware profile the logged run was on.
    #[arg(long, visible_alias = "gpu", value_name = "ID", requires = "log")]
    pub hardware: Option<String>,
    #[command(flatten)]
    pub scenario: super::ScenarioArgs,
}

pub fn run(ctx: &Context, args: ValidateArgs) -> Result<()> {
    if let (Some(log), Some(hardware)) = (&args.log, &args.hardware) {
        return super::calibrate::run(
            ctx,
            super::calibrate::CalibrateArgs {
                from_log: log.clone(),
                hardware: hardware.clone(),
                scenario: args.scenario.clone(),
                out: None,
                dry_run: true,
                force: false,
                json: args.format == Format::Json,
            },
        );
    }
    let rows = validation_rows(ctx.models()?, ctx.hardware()?)?;
    let text = match args.format {
        Format::Json => report::to_json(&serde_json::json!({
            "training": rows,
            "serving": crate::core::deploy::validate::validation_rows()?,
        }))?,
        Format::Csv => report::to_csv(&rows)?,
        Format::Table | Format::Md | Format::Html => {
            let mut t = Table::new(
                "Training: predicted vs published (memory per device in GiB, seconds per optimizer step)",
                &["setup", "hw", "mem measured", "mem predicted", "error", "step measured", "step predicted", "error", "targets"],
            );
            let pct = |e: f64| format!("{:+.1}%", e * 100.0);
            for r in &rows {
                t.push(vec![
                    r.name.clone(),
                    r.hardware.into(),
                    format!("{:.2}", r.measured_memory_gib),
                    format!("{:.2}", r.predicted_memory_gib),
                    pct(r.memory_error),
                    r.measured_step_seconds
                        .map_or("-".into(), |s| format!("{s:.2}")),
                    r.predicted_step_seconds
                        .map_or("-".into(), |s| format!("{s:.2}")),
                    r.time_error.map_or("-".into(), pct),
                    if r.asserted {
                        "asserted".into()
                    } else {
                        "shown".into()
                    },
                ]);
            }
            let mut notes = vec![format!(
                "asserted rows must stay within {:.0}% memory and {:.0}% step time (tests/it/physics.rs)",
                MEMORY_TOLERANCE * 100.0,
                TIME_TOLERANCE * 100.0
            )];
            let mut seen = Vec::new();
            for r in &rows {
                if !seen.contains(&r.source) {
                    seen.push(r.source);
                    notes.push(format!("source: {}", r.source));
                }
                if !r.note.is_empty() && !r.asserted {
                    notes.push(format!("{}: {}", r.name, r.note));
                }
            }
            let serving = crate::core::deploy::validate::validation_rows()?;
            let mut d = Table::new(
                "Serving: predicted vs published (memory in GiB, speed in tokens or sequences per second)",
                &["setup", "unit", "measured", "predicted", "error", "tolerance", "targets"],
            );
            for r in &serving {
                d.push(vec![
                    r.name.clone(),
                    r.unit.clone(),
                    format!("{:.2}", r.measured),
                    format!("{:.2}", r.predicted),
                    pct(r.error),
                    format!("{:.0}%", r.tolerance * 100.0),
                    if r.asserted {
                        "asserted".into()
                    } else {
                        "shown".into()
                    },
                ]);
                if let Some(n) = &r.note {
                    notes.push(format!("{}: {n}", r.name));
                }
            }
            notes.push(
                "serving rows: sources in src/core/deploy/validate.rs; asserted in tests/it/deploy.rs"
                    .into(),
            );
            let doc = Document {
                title: "peftcost validate".into(),
                tables: vec![t, d],
                notes,
                ..Default::default()
            };
            args.format.render(&doc, ctx.lang)
        }
    };
    emit(&text)
}
