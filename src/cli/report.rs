//! `peftcost report`: the article's two tables — fine-tuning by stage on its GPUs and monthly
//! serving on T4 / A10 / A100-40G / a CPU box — on Alibaba Cloud in CNY unless told otherwise,
//! in English or Chinese (`--lang`, or a `zh` locale).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::core::spec::{DEFAULT_SERVE_TARGETS, FINETUNE_GPUS};
use serde::Serialize;

use super::estimate::OfferArgs;
use super::scenario::WorkloadArgs;
use super::{emit, Context, Format};
use crate::core::deploy::{self, TableRow};
use crate::core::error::Result;
use crate::core::estimate::Workload;
use crate::report::tables::{
    finetune_table, gap_summaries, FinetuneLine, FinetuneRow, FinetuneSpec, MODELS,
};
use crate::report::{self};

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
    /// Time-to-first-token target of the serving table, in seconds.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub max_ttft: f64,
    /// Time-per-output-token target of the serving table, in seconds (0.1 s = 10 tokens/s).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub max_tpot: f64,
    /// Offers: the article's Alibaba Cloud in CNY, on-demand with spot beside it, unless
    /// --provider (`all` for every provider), --currency or --billing say otherwise.
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
    cost_setup: Option<f64>,
    cost_data: Option<f64>,
    cost_train: Option<f64>,
    cost_export: Option<f64>,
    billed_hours: Option<f64>,
    requests_per_second: Option<f64>,
    ttft_seconds: Option<f64>,
    tpot_seconds: Option<f64>,
    pay_as_you_go_monthly: Option<f64>,
    subscription_monthly: Option<f64>,
    monthly_billing: Option<String>,
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
            cost_setup: Some(r.cost_setup),
            cost_data: Some(r.cost_data),
            cost_train: Some(r.cost_train),
            cost_export: Some(r.cost_export),
            billed_hours: Some(r.billed_hours),
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
            requests_per_second: r.requests_per_second,
            ttft_seconds: r.ttft_seconds,
            tpot_seconds: r.tpot_seconds,
            pay_as_you_go_monthly: r.pay_as_you_go_monthly,
            subscription_monthly: r.subscription_monthly,
            monthly_billing: r.billing.clone(),
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
    /// The article's lines: a model x method on each of its GPUs (indices into `finetune`).
    finetune_table: &'a [FinetuneLine],
    deploy: &'a [TableRow],
}

/// The article's provider and currency, unless the flags name others.
const DEFAULT_PROVIDER: &str = "alibaba";
const DEFAULT_CURRENCY: &str = "CNY";

pub fn run(ctx: &Context, args: ReportArgs) -> Result<()> {
    let lang = ctx.lang;
    let models = ctx.models()?;
    let hw_catalog = ctx.hardware()?;
    let pricing = ctx.pricing()?;
    // LoRA, adapters and prompt tuning load the base weights in --dtype alike.
    let workload = crate::core::spec::resolve_workload(
        args.workload.job()?,
        args.workload.weights_dtype,
        crate::core::peft::MethodKind::Lora,
    );
    workload.validate()?;
    let mut offers = args.offers.clone();
    let all_providers = offers
        .provider
        .iter()
        .any(|p| p.eq_ignore_ascii_case("all"));
    if all_providers {
        offers.provider.clear();
    } else if offers.provider.is_empty() {
        offers.provider.push(DEFAULT_PROVIDER.into());
    }
    if offers.currency.is_none() {
        offers.currency = Some(DEFAULT_CURRENCY.into());
    }
    let query = offers.query(&pricing.fx)?;
    let display = query
        .currency
        .clone()
        .unwrap_or_else(|| DEFAULT_CURRENCY.into());
    let policy = args.workload.fit_policy();
    let global_batch = policy.global_batch(&workload)?;
    let finetune = if args.section == Section::Deploy {
        Default::default()
    } else {
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
            gpus: &FINETUNE_GPUS,
        };
        finetune_table(models, &hw_catalog.select(&[])?, pricing, &spec)?
    };
    let serve = crate::core::spec::ServeSpec {
        qps: args.qps,
        input_tokens: args.input_tokens,
        output_tokens: args.output_tokens,
        max_ttft: Some(args.max_ttft),
        max_tpot: Some(args.max_tpot),
        ..Default::default()
    };
    let targets = hw_catalog.select(&DEFAULT_SERVE_TARGETS.map(String::from))?;
    let (quotes, cur) = deploy::quotes(pricing, &offers.provider, &display)?;
    let a = deploy::Assumptions::default();
    let deploy_rows = if args.section == Section::Finetune {
        Vec::new()
    } else {
        deploy::table_rows(&MODELS, models, &targets, &quotes, &cur, &a, |p| {
            serve.request(p)
        })?
    };
    let as_of: BTreeMap<String, String> = pricing
        .tables
        .iter()
        .map(|t| (t.provider.clone(), t.as_of.clone()))
        .collect();
    let gaps = gap_summaries(&finetune);

    let text = match args.format {
        Format::Json => report::to_json(&ReportJson {
            workload,
            pricing_as_of: &as_of,
            finetune: &finetune.rows,
            finetune_gaps: &gaps,
            finetune_table: &finetune.lines,
            deploy: &deploy_rows,
        })?,
        Format::Csv => {
            let rows: Vec<CsvRow> = finetune
                .rows
                .iter()
                .map(CsvRow::finetune)
                .chain(deploy_rows.iter().map(CsvRow::deploy))
                .collect();
            report::to_csv(&rows)?
        }
        Format::Table | Format::Md | Format::Html => {
            // The worked serving example: the first model that fits the first target with an offer.
            let serve_example = deploy_rows
                .iter()
                .find(|r| r.fits && r.monthly_cost.is_some())
                .and_then(|r| {
                    let profile = models.get(&r.model).ok()?;
                    let hw = targets.iter().find(|h| h.id == r.hardware)?;
                    let t =
                        deploy::best_fit(profile, hw, &quotes, &serve.request(profile), &a).ok()?;
                    Some((r.model.clone(), t))
                });
            let providers = if all_providers {
                "all providers".to_string()
            } else {
                offers.provider.join(",")
            };
            let article = crate::report::article::Context {
                lang,
                providers,
                currency: display.clone(),
                workload: &workload,
                global_batch,
                serve: &serve,
                pricing,
                cost: query.cost,
                serve_example,
            };
            let doc = crate::report::article::document(&finetune, &deploy_rows, &article);
            if args.format == Format::Html {
                let t = lang.text();
                let mut charts = Vec::new();
                if !finetune.rows.is_empty() {
                    charts.push(crate::report::charts::cost_vs_hours(
                        &finetune, t, &display,
                    )?);
                    charts.extend(crate::report::charts::memory_per_gpu(&finetune, t)?);
                }
                if !deploy_rows.is_empty() {
                    charts.push(crate::report::charts::serving_per_target(
                        &deploy_rows,
                        t,
                        &display,
                    )?);
                }
                doc.to_html(lang, &charts, t.charts_title)
            } else {
                args.format.render(&doc, lang)
            }
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
