//! `peftcost report`: the fine-tuning cost table and the deployment cost table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::core::spec::DEFAULT_SERVE_TARGETS;
use serde::Serialize;

use super::estimate::OfferArgs;
use super::scenario::WorkloadArgs;
use super::{emit, Context, Format};
use crate::core::deploy::{self, TableRow};
use crate::core::error::Result;
use crate::core::estimate::Workload;
use crate::report::tables::{finetune_rows, FinetuneRow, FinetuneSpec, MODELS};
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Section {
    Finetune,
    Deploy,
    All,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which table(s).
    #[arg(long, value_enum, default_value = "all")]
    pub section: Section,
    /// The stated dataset and training setup of the fine-tuning table.
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Methods of the fine-tuning table (comma-separated), e.g. lora,adapter,prompt,qlora.
    #[arg(long, value_delimiter = ',', default_value = "lora,adapter,prompt")]
    pub methods: Vec<String>,
    /// Serving traffic for the deployment table (requests per second).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub qps: f64,
    #[arg(long, default_value_t = 512)]
    pub input_tokens: u64,
    #[arg(long, default_value_t = 256)]
    pub output_tokens: u64,
    #[command(flatten)]
    pub offers: OfferArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report here (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// One row of the combined CSV; `table` says which table it belongs to, and columns that do not
/// apply to that table are empty, so the file stays rectangular with one header line.
#[derive(Serialize, Default)]
struct CsvRow {
    table: &'static str,
    model: String,
    method: Option<String>,
    trainable_params: Option<u64>,
    total_params: Option<u64>,
    recommended: Option<bool>,
    hardware: String,
    memory_bytes: Option<u64>,
    train_hours: Option<f64>,
    provider: Option<String>,
    region: Option<String>,
    instance: Option<String>,
    billing: Option<String>,
    price_per_hour: Option<f64>,
    currency: String,
    job_cost: Option<f64>,
    job_cost_usd: Option<f64>,
    job_cost_cny: Option<f64>,
    samples: Option<u64>,
    seq_len: Option<u64>,
    epochs: Option<u64>,
    micro_batch: Option<u64>,
    dtype: Option<String>,
    pricing_as_of: Option<String>,
    pricing_source: Option<String>,
    fits: Option<bool>,
    precision: Option<String>,
    weights_format: Option<String>,
    bits_per_weight: Option<f64>,
    tokens_per_second: Option<f64>,
    embeddings_per_second: Option<f64>,
    instances: Option<u64>,
    monthly_cost: Option<f64>,
    grad_accum: Option<u64>,
    grad_checkpointing: Option<bool>,
    gpus: Option<u64>,
}

impl CsvRow {
    fn finetune(r: &FinetuneRow) -> Self {
        CsvRow {
            table: "finetune",
            model: r.model.clone(),
            method: Some(r.method.clone()),
            trainable_params: Some(r.trainable_params),
            total_params: Some(r.total_params),
            recommended: Some(r.recommended),
            hardware: r.hardware.clone(),
            memory_bytes: Some(r.memory_bytes),
            train_hours: r.train_hours,
            provider: Some(r.provider.clone()),
            region: Some(r.region.clone()),
            instance: Some(r.instance.clone()),
            billing: Some(r.billing.clone()),
            price_per_hour: Some(r.price_per_hour),
            currency: r.currency.clone(),
            job_cost: Some(r.job_cost),
            job_cost_usd: Some(r.job_cost_usd),
            job_cost_cny: Some(r.job_cost_cny),
            samples: Some(r.samples),
            seq_len: Some(r.seq_len),
            epochs: Some(r.epochs),
            micro_batch: Some(r.micro_batch),
            grad_accum: Some(r.grad_accum),
            grad_checkpointing: Some(r.grad_checkpointing),
            gpus: Some(r.gpus),
            dtype: Some(r.dtype.clone()),
            pricing_as_of: Some(r.pricing_as_of.clone()),
            pricing_source: Some(r.pricing_source.clone()),
            ..Default::default()
        }
    }

    fn deploy(r: &TableRow) -> Self {
        CsvRow {
            table: "deploy",
            model: r.model.clone(),
            hardware: r.hardware.clone(),
            provider: r.provider.clone(),
            instance: r.instance.clone(),
            currency: r.currency.clone(),
            fits: Some(r.fits),
            precision: r.precision.clone(),
            weights_format: r.weights_format.clone(),
            bits_per_weight: r.bits_per_weight,
            tokens_per_second: r.tokens_per_second,
            embeddings_per_second: r.embeddings_per_second,
            instances: r.fits.then_some(r.instances),
            monthly_cost: r.monthly_cost,
            ..Default::default()
        }
    }
}

#[derive(Serialize)]
struct ReportJson<'a> {
    workload: Workload,
    pricing_as_of: &'a BTreeMap<String, String>,
    finetune: &'a [FinetuneRow],
    /// Why a model x method of the fine-tuning table has no row.
    finetune_gaps: &'a [String],
    deploy: &'a [TableRow],
}

pub fn run(ctx: &Context, args: ReportArgs) -> Result<()> {
    let models = ctx.models()?;
    let hw_catalog = ctx.hardware()?;
    let pricing = ctx.pricing()?;
    // LoRA, adapters and prompt tuning load the base weights in --dtype alike.
    let workload = crate::core::spec::resolve_workload(
        args.workload.job(),
        args.workload.weights_dtype,
        crate::core::peft::MethodKind::Lora,
    );
    workload.validate()?;
    let query = args.offers.query(&pricing.fx)?;
    let display = query.currency.clone().unwrap_or_else(|| "USD".into());
    let (finetune, gaps) = if args.section == Section::Deploy {
        (Vec::new(), Vec::new())
    } else {
        let policy = args.workload.fit_policy();
        let methods = args
            .methods
            .iter()
            .map(|m| crate::core::peft::MethodKind::parse(m.trim()))
            .collect::<Result<Vec<_>>>()?;
        let spec = FinetuneSpec {
            workload,
            weights_dtype: args.workload.weights_dtype,
            methods: &methods,
            policy,
            offers: &query,
        };
        finetune_rows(models, &hw_catalog.select(&[])?, pricing, &spec)?
    };
    let deploy_rows = if args.section == Section::Finetune {
        Vec::new()
    } else {
        let targets = hw_catalog.select(&DEFAULT_SERVE_TARGETS.map(String::from))?;
        let (quotes, cur) = deploy::quotes(pricing, &args.offers.provider, &display)?;
        let a = deploy::Assumptions::default();
        let (qps, input, output) = (args.qps, args.input_tokens, args.output_tokens);
        let serve = crate::core::spec::ServeSpec {
            qps,
            input_tokens: input,
            output_tokens: output,
            ..Default::default()
        };
        deploy::table_rows(&MODELS, models, &targets, &quotes, &cur, &a, |p| {
            serve.request(p)
        })?
    };
    let as_of: BTreeMap<String, String> = pricing
        .tables
        .iter()
        .map(|t| (t.provider.clone(), t.as_of.clone()))
        .collect();

    let text = match args.format {
        Format::Json => report::to_json(&ReportJson {
            workload,
            pricing_as_of: &as_of,
            finetune: &finetune,
            finetune_gaps: &gaps,
            deploy: &deploy_rows,
        })?,
        Format::Csv => {
            let rows: Vec<CsvRow> = finetune
                .iter()
                .map(CsvRow::finetune)
                .chain(deploy_rows.iter().map(CsvRow::deploy))
                .collect();
            report::to_csv(&rows)?
        }
        Format::Table | Format::Md => {
            let mut doc = document(&finetune, &deploy_rows, &workload, &as_of, &display, &args);
            doc.notes
                .extend(gaps.iter().map(|g| format!("no row for {g}")));
            args.format.render(&doc)
        }
    };
    match &args.out {
        None => emit(&text),
        Some(path) => {
            crate::core::data::write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
    }
}

fn document(
    finetune: &[FinetuneRow],
    deploy_rows: &[TableRow],
    w: &Workload,
    as_of: &BTreeMap<String, String>,
    display: &str,
    args: &ReportArgs,
) -> Document {
    let mut tables = Vec::new();
    if !finetune.is_empty() {
        let mut t = Table::new(
            format!(
                "Fine-tuning cost: {} samples x {} tokens x {} epochs, global batch {}, {}, cheapest fitting offer",
                w.samples, w.seq_len, w.epochs, w.global_batch(), w.dtype.as_str()
            ),
            &["model", "method", "trainable params", "recommended GPU", "configuration", "memory", "hours", "offer", "job cost", "USD", "CNY"],
        );
        for r in finetune.iter().filter(|r| r.recommended) {
            t.push(vec![
                r.model.clone(),
                r.method.clone(),
                fmt::count(r.trainable_params),
                r.hardware.clone(),
                fmt::batch(r.micro_batch, r.grad_accum, r.grad_checkpointing, r.gpus),
                fmt::gib(r.memory_bytes as f64),
                r.train_hours.map_or("-".into(), fmt::hours),
                format!("{} {} ({})", r.provider, r.instance, r.billing),
                fmt::money(r.job_cost, &r.currency),
                format!("{:.2}", r.job_cost_usd),
                format!("{:.2}", r.job_cost_cny),
            ]);
        }
        tables.push(t);
    }
    if !deploy_rows.is_empty() {
        // Grouped by target class, in the order of the seed's table.
        let mut rows: Vec<&TableRow> = deploy_rows.iter().collect();
        rows.sort_by_key(|r| DEFAULT_SERVE_TARGETS.iter().position(|t| *t == r.hardware));
        tables.push(crate::report::deploy::table_of_rows(
            format!(
                "Deployment cost per month: best precision that fits, {} requests/s, {} in / {} out tokens ({display})",
                args.qps, args.input_tokens, args.output_tokens
            ),
            &rows,
        ));
    }
    let mut notes = vec![
        "memory in GiB (2^30 bytes) per device; hours are training hours; job cost = setup + data + train + export".into(),
        format!(
            "pricing as of: {}",
            as_of.iter().map(|(p, d)| format!("{p} {d}")).collect::<Vec<_>>().join(", ")
        ),
    ];
    notes.extend(crate::core::pricing::CostAssumptions::default().describe());
    Document {
        title: "peftcost report".into(),
        tables,
        notes,
    }
}
