//! `peftcost estimate`: one scenario, every hardware profile.

use clap::Args;

use super::{emit, Context, Format, ScenarioArgs};
use crate::error::Result;
use crate::estimate::Prepared;
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(ctx: &Context, args: EstimateArgs) -> Result<()> {
    let scenario = args.scenario.scenario(ctx)?;
    let prepared = scenario.prepare()?;
    let est = crate::estimate::Estimate::new(&prepared);
    let text = match args.format {
        Format::Json => report::to_json(&est)?,
        Format::Csv => report::to_csv(&est.csv_rows())?,
        Format::Table => document(&prepared, &est).to_text(),
        Format::Md => document(&prepared, &est).to_markdown(),
    };
    emit(&text)
}

fn document(p: &Prepared, est: &crate::estimate::Estimate) -> Document {
    let c = &est.params;
    let mut params = Table::new("Parameters", &["quantity", "value"]);
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    params.push(kv(
        "model",
        format!("{} ({})", p.scenario.profile.name, est.model),
    ));
    params.push(kv("method", est.method.describe()));
    params.push(kv("total (base model)", fmt::count(c.total)));
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
            .map_or("n/a (virtual tokens cannot be merged)".into(), |b| {
                fmt::bytes(b as f64)
            }),
    ));
    params.push(kv("exported artifact", fmt::bytes(a.export_bytes as f64)));
    Document {
        title: format!(
            "peftcost estimate: {} + {}",
            est.model,
            est.method.kind.as_str()
        ),
        tables: vec![params],
        notes: est.notes.clone(),
    }
}
