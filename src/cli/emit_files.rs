//! `--emit FORMAT --out DIR` (estimate and plan): engine configs for the chosen configuration,
//! written into one directory, never over a user's files without `--force`.

use std::path::PathBuf;

use clap::Args;

use crate::core::data;
use crate::core::error::{Error, Result};
use crate::core::estimate::{DeviceConfig, Dtype, Prepared};
use crate::core::pricing::JobCost;
use crate::emit::{self, Engine, Job};

/// The configuration the files are for: as fitted on a device and priced on an offer.
#[derive(Debug, Clone, Copy)]
pub struct Chosen<'a> {
    pub config: DeviceConfig,
    pub hardware: &'a str,
    /// The dtype the device trains in.
    pub dtype: Dtype,
    pub offer: Option<&'a JobCost>,
}

#[derive(Debug, Clone, Args)]
pub struct EmitArgs {
    /// Write the configuration as files for engines: llamafactory, axolotl, peft, deepspeed,
    /// accelerate, skypilot or all (comma-separated); estimate needs one --hardware.
    #[arg(long, value_name = "FORMATS", requires = "out")]
    pub emit: Option<String>,
    /// Directory for the --emit files (created if missing).
    #[arg(long, value_name = "DIR", requires = "emit")]
    pub out: Option<PathBuf>,
    /// Replace files of the same names already in --out.
    #[arg(long, requires = "emit")]
    pub force: bool,
}

impl EmitArgs {
    /// The engines asked for, checked before any estimate runs.
    pub fn engines(&self) -> Result<Option<Vec<Engine>>> {
        self.emit.as_deref().map(Engine::parse_list).transpose()
    }

    /// Write the files of `engines` for the configuration `chosen` of the prepared scenario;
    /// say on stderr what was written and what the engines cannot express.
    pub fn write(&self, engines: &[Engine], prepared: &Prepared, chosen: Chosen) -> Result<()> {
        let Some(dir) = &self.out else {
            return Ok(());
        };
        let mut applied = chosen.config.apply(prepared)?;
        // The dtype the device trains in (a T4 has no bf16: fp16), not the one asked for.
        applied.scenario.workload.dtype = chosen.dtype;
        let summary = summary(prepared, &chosen.config, chosen.hardware, chosen.offer);
        let job = Job {
            prepared: &applied,
            config: &chosen.config,
            hardware: chosen.hardware,
            offer: chosen.offer,
            summary: &summary,
        };
        let emitted = emit::emit(&job, engines)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let existing: Vec<&str> = emitted
            .files
            .iter()
            .filter(|f| dir.join(f.name).exists())
            .map(|f| f.name)
            .collect();
        if !existing.is_empty() && !self.force {
            return Err(Error::input(format!(
                "{} already has {}: choose another --out directory or add --force",
                dir.display(),
                existing.join(", ")
            )));
        }
        let mut written = Vec::new();
        for f in &emitted.files {
            let path = dir.join(f.name);
            data::write_atomic(&path, f.contents.as_bytes())?;
            #[cfg(unix)]
            if f.executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| Error::io(&path, e))?;
            }
            written.push(path.display().to_string());
        }
        eprintln!("wrote {}", written.join(", "));
        for n in &emitted.notes {
            eprintln!("note: {n}");
        }
        Ok(())
    }
}

/// One line naming what the files are for.
fn summary(
    prepared: &Prepared,
    config: &DeviceConfig,
    hardware: &str,
    offer: Option<&JobCost>,
) -> String {
    let mut s = format!(
        "{} {} on {}: micro-batch {} x accumulation {} x {} GPU(s){}, checkpointing {}, {}{}, {} tokens",
        prepared.scenario.profile.id,
        config.method.as_str(),
        hardware,
        config.micro_batch,
        config.grad_accum,
        config.gpus,
        if config.nodes > 1 { format!(" on {} machines", config.nodes) } else { String::new() },
        if config.grad_checkpointing { "on" } else { "off" },
        if config.fsdp { "FSDP".to_string() } else { format!("ZeRO {}", config.zero) },
        match config.offload {
            crate::core::estimate::Offload::None => String::new(),
            o => format!(" + offload {}", o.as_str()),
        },
        config.seq_len,
    );
    if let Some(o) = offer {
        s.push_str(&format!(
            "; {:.1} h, {:.2} {} on {} {} ({})",
            o.wall_hours,
            o.cost,
            o.currency,
            o.provider,
            o.instance,
            o.billing.as_str()
        ));
    }
    s
}
