//! `estimate --compare 'method=qlora,rank=64'`: scenarios side by side, differences marked.

use clap::Parser;

use super::ScenarioArgs;
use crate::core::error::{Error, Result};
pub use crate::report::compare::Compared;

/// Lets clap apply `--flag value` overrides to a copy of the base scenario flags.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct Overrides {
    #[command(flatten)]
    scenario: ScenarioArgs,
}

/// Flags that take no value: `key=true|false`.
const SWITCHES: [&str; 5] = [
    "grad-checkpointing",
    "prefix-projection",
    "no-auto-fit",
    "allow-quantization",
    "allow-rope-extension",
];

/// Apply a spec such as `method=qlora,rank=64,targets=q,v` to the base flags. A comma-separated
/// piece without `=` continues the previous value (so lists need no quoting).
pub fn apply(base: &ScenarioArgs, spec: &str) -> Result<ScenarioArgs> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in spec.split(',') {
        match piece.split_once('=') {
            Some((k, v)) => pairs.push((k.trim().replace('_', "-"), v.trim().to_string())),
            None => match pairs.last_mut() {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(piece.trim());
                }
                None => {
                    return Err(Error::input(format!(
                        "--compare '{spec}': write key=value pairs, e.g. 'method=qlora,rank=64'"
                    )))
                }
            },
        }
    }
    let mut out = Overrides {
        scenario: base.clone(),
    };
    let mut tokens = Vec::new();
    let mut switches = Vec::new();
    for (k, v) in &pairs {
        if SWITCHES.contains(&k.as_str()) {
            let on = match v.as_str() {
                "true" | "on" | "yes" => true,
                "false" | "off" | "no" => false,
                _ => {
                    return Err(Error::input(format!(
                        "--compare: {k} takes true or false, not '{v}'"
                    )))
                }
            };
            switches.push((k.as_str(), on));
        } else {
            tokens.push(format!("--{k}"));
            tokens.push(v.clone());
        }
    }
    // Without defaults, only the flags the spec names are present, so nothing else of the base
    // scenario is reset by the update.
    use clap::{CommandFactory, FromArgMatches};
    let clap_err = |e: clap::Error| {
        let msg = e.to_string();
        let first = msg
            .lines()
            .next()
            .unwrap_or("invalid value")
            .trim_start_matches("error: ")
            .to_string();
        Error::input(format!("--compare '{spec}': {first}"))
    };
    let mut matches = Overrides::command()
        .mut_args(|a| a.default_value(None))
        .try_get_matches_from(tokens)
        .map_err(clap_err)?;
    out.update_from_arg_matches_mut(&mut matches)
        .map_err(clap_err)?;
    // clap's update resets absent boolean flags: restore the base's, then apply the spec's.
    let w = &mut out.scenario.workload;
    w.grad_checkpointing = base.workload.grad_checkpointing;
    w.no_auto_fit = base.workload.no_auto_fit;
    w.allow_quantization = base.workload.allow_quantization;
    out.scenario.prefix_projection = base.prefix_projection;
    out.scenario.allow_rope_extension = base.allow_rope_extension;
    for (k, on) in switches {
        let w = &mut out.scenario.workload;
        match k {
            "grad-checkpointing" => w.grad_checkpointing = on,
            "no-auto-fit" => w.no_auto_fit = on,
            "allow-quantization" => w.allow_quantization = on,
            "allow-rope-extension" => out.scenario.allow_rope_extension = on,
            _ => out.scenario.prefix_projection = on,
        }
    }
    Ok(out.scenario)
}
