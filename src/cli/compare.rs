//! `estimate --compare 'method=qlora,rank=64'`: scenarios side by side, differences marked.

use clap::Parser;
use serde::Serialize;

use super::ScenarioArgs;
use crate::error::{Error, Result};
use crate::estimate::Estimate;
use crate::report::{fmt, Document, Table};

/// Lets clap apply `--flag value` overrides to a copy of the base scenario flags.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct Overrides {
    #[command(flatten)]
    scenario: ScenarioArgs,
}

/// Flags that take no value: `key=true|false`.
const SWITCHES: [&str; 2] = ["grad-checkpointing", "prefix-projection"];

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
    out.scenario.workload.grad_checkpointing = base.workload.grad_checkpointing;
    out.scenario.prefix_projection = base.prefix_projection;
    for (k, on) in switches {
        match k {
            "grad-checkpointing" => out.scenario.workload.grad_checkpointing = on,
            _ => out.scenario.prefix_projection = on,
        }
    }
    Ok(out.scenario)
}

/// One scenario of a comparison.
#[derive(Debug, Serialize)]
pub struct Compared {
    pub label: String,
    pub estimate: Estimate,
}

fn pct(v: f64, base: f64) -> String {
    if base == 0.0 || (v - base).abs() < 1e-12 * base.abs().max(1.0) {
        String::new()
    } else {
        format!(" ({:+.1}%)", 100.0 * (v - base) / base)
    }
}

/// Rows of metrics, one column per scenario; changed cells carry their change against the first.
pub fn document(scenarios: &[Compared]) -> Document {
    let mut headers: Vec<&str> = vec!["metric"];
    headers.extend(scenarios.iter().map(|s| s.label.as_str()));
    let mut t = Table::new(
        "Scenarios side by side (changes relative to the first)",
        &headers,
    );
    let Some(base) = scenarios.first() else {
        return Document::default();
    };
    let row = |name: &str, f: &dyn Fn(&Estimate) -> (String, Option<f64>)| -> Vec<String> {
        let (_, b) = f(&base.estimate);
        let mut r = vec![name.to_string()];
        for s in scenarios {
            let (text, v) = f(&s.estimate);
            let mark = match (v, b) {
                (Some(v), Some(b)) => pct(v, b),
                _ if text != f(&base.estimate).0 => " *".into(),
                _ => String::new(),
            };
            r.push(format!("{text}{mark}"));
        }
        r
    };
    t.push(row("method", &|e| (e.method.describe(), None)));
    t.push(row("trainable params", &|e| {
        (
            fmt::count(e.params.trainable),
            Some(e.params.trainable as f64),
        )
    }));
    t.push(row("exported artifact", &|e| {
        (
            fmt::bytes(e.params.artifact.export_bytes as f64),
            Some(e.params.artifact.export_bytes as f64),
        )
    }));
    t.push(row("FLOPs per token", &|e| {
        (
            format!("{:.3e}", e.flops.per_token),
            Some(e.flops.per_token),
        )
    }));
    for d in &base.estimate.devices {
        let id = d.hardware.clone();
        let find = move |e: &Estimate| e.devices.iter().find(|x| x.hardware == id).cloned();
        let f1 = find.clone();
        t.push(row(
            &format!("{} memory", d.hardware),
            &move |e| match f1(e) {
                Some(x) => (
                    format!(
                        "{}{}",
                        fmt::gib(x.memory.total as f64),
                        if x.fits { "" } else { " NO FIT" }
                    ),
                    Some(x.memory.total as f64),
                ),
                None => ("-".into(), None),
            },
        ));
        t.push(row(
            &format!("{} hours", d.hardware),
            &move |e| match find(e).and_then(|x| x.hours) {
                Some(h) => (fmt::hours(h), Some(h)),
                None => ("-".into(), None),
            },
        ));
    }
    t.push(row("cheapest offer", &|e| match e.offers.first() {
        Some(o) => (
            format!("{} {} ({})", o.job.provider, o.job.instance, o.job.billing),
            None,
        ),
        None => ("none fits".into(), None),
    }));
    t.push(row("cheapest job (USD)", &|e| match e.offers.first() {
        Some(o) => (format!("{:.2}", o.cost_usd), Some(o.cost_usd)),
        None => ("-".into(), None),
    }));
    t.push(row("cheapest job (CNY)", &|e| match e.offers.first() {
        Some(o) => (format!("{:.2}", o.cost_cny), Some(o.cost_cny)),
        None => ("-".into(), None),
    }));
    Document {
        title: "peftcost estimate --compare".into(),
        tables: vec![t],
        notes: vec![
            "a change is shown as (+x%) against the first scenario; * marks a changed text value"
                .into(),
        ],
    }
}
