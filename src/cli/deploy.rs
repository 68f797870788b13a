//! `peftcost deploy`: what serving a model costs per month on each target class.

use clap::{Args, ValueEnum};

use super::{emit, Context, Format};
use crate::core::deploy::{
    self, Assumptions, DeploySuggestion, Int4Format, Precision, Quote, TargetResult,
};
use crate::core::error::{Error, Result};
use crate::core::spec::{ServeSpec, DEFAULT_SERVE_TARGETS, TABLE_MODELS};
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    Fp16,
    Bf16,
    Int8,
    Int4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Int4FormatArg {
    Gptq,
    Awq,
    #[value(name = "gguf-q4km", alias = "q4_k_m", alias = "gguf")]
    GgufQ4km,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Model id or alias (see `peftcost models list`).
    #[arg(long, short = 'm', required_unless_present = "all_models")]
    pub model: Option<String>,
    /// The deployment table: every model of the table x every target, at the best precision that fits.
    #[arg(long, conflicts_with = "model")]
    pub all_models: bool,
    /// Weights precision (int4 takes --int4-format).
    #[arg(long, value_enum, default_value = "bf16")]
    pub precision: PrecisionArg,
    /// How int4 weights are stored: GPTQ/AWQ group-128 (4.25 bits/weight) or GGUF Q4_K_M (4.85).
    #[arg(long, value_enum, default_value = "gptq")]
    pub int4_format: Int4FormatArg,
    /// Maximum tokens per request the server reserves KV cache for (default: input + output).
    #[arg(long)]
    pub context: Option<u64>,
    /// Requests per second (all adapters together).
    #[arg(
        long,
        conflicts_with = "requests_per_day",
        allow_negative_numbers = true
    )]
    pub qps: Option<f64>,
    /// Requests per day, instead of --qps.
    #[arg(long, allow_negative_numbers = true)]
    pub requests_per_day: Option<f64>,
    /// Prompt tokens per request (encoders: tokens per sequence embedded).
    #[arg(long, default_value_t = 512)]
    pub input_tokens: u64,
    /// Generated tokens per request (ignored for encoders).
    #[arg(long, default_value_t = 256)]
    pub output_tokens: u64,
    /// Time-to-first-token target in seconds.
    #[arg(long, allow_negative_numbers = true)]
    pub max_ttft: Option<f64>,
    /// Time-per-output-token target in seconds; limits the batch.
    #[arg(long, allow_negative_numbers = true)]
    pub max_tpot: Option<f64>,
    /// LoRA tasks served on one base model (compared with as many merged models).
    #[arg(long, default_value_t = 0)]
    pub adapters: u64,
    /// Hardware profiles (repeatable or comma-separated; default: t4, a10, a100-40g, cpu-16c).
    #[arg(long, visible_alias = "gpu", value_name = "ID")]
    pub hardware: Vec<String>,
    /// Only offers of these providers (repeatable or comma-separated).
    #[arg(long, value_name = "NAME")]
    pub provider: Vec<String>,
    /// Currency of every price shown.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

impl DeployArgs {
    /// The traffic flags as the core's serving spec (requests per day become requests/s).
    fn serve(&self) -> ServeSpec {
        let qps = match (self.qps, self.requests_per_day) {
            (Some(q), _) => q,
            (None, Some(d)) => d / 86_400.0,
            (None, None) => 1.0,
        };
        ServeSpec {
            precision: match self.precision {
                PrecisionArg::Fp16 => Precision::Fp16,
                PrecisionArg::Bf16 => Precision::Bf16,
                PrecisionArg::Int8 => Precision::Int8,
                PrecisionArg::Int4 => Precision::Int4,
            },
            int4_format: match self.int4_format {
                Int4FormatArg::Gptq => Int4Format::Gptq,
                Int4FormatArg::Awq => Int4Format::Awq,
                Int4FormatArg::GgufQ4km => Int4Format::GgufQ4km,
            },
            qps,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            context: self.context,
            max_ttft: self.max_ttft,
            max_tpot: self.max_tpot,
            adapters: self.adapters,
        }
    }
}

/// Every offer in the display currency, filtered by provider.
fn quotes(ctx: &Context, providers: &[String], currency: &str) -> Result<(Vec<Quote>, String)> {
    deploy::quotes(ctx.pricing()?, providers, currency)
}

pub fn run(ctx: &Context, args: DeployArgs) -> Result<()> {
    let models = ctx.models()?;
    let catalog = ctx.hardware()?;
    let names: Vec<String> = if args.hardware.is_empty() {
        DEFAULT_SERVE_TARGETS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.hardware.clone()
    };
    let targets = catalog.select(&names)?;
    let (quotes, currency) = quotes(ctx, &args.provider, &args.currency)?;
    let a = Assumptions::default();

    if args.all_models {
        return all_models(&args, models, &targets, &quotes, &currency, &a);
    }
    let name = args
        .model
        .as_deref()
        .ok_or_else(|| Error::input("--model is required (or --all-models)"))?;
    let profile = models.get(name)?;
    let req = args.serve().request(profile);
    let d = deploy::deploy(
        profile,
        &targets,
        catalog.profiles(),
        &quotes,
        &req,
        &currency,
        &a,
    )?;
    let text = match args.format {
        Format::Json => report::to_json(&d)?,
        Format::Csv => report::to_csv(&d.csv_rows())?,
        Format::Table => document(&d).to_text(),
        Format::Md => document(&d).to_markdown(),
    };
    emit(&text)
}

fn secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1000.0),
        Some(s) => format!("{s:.2} s"),
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("-".into(), f)
}

fn target_label(t: &TargetResult) -> String {
    if (t.linear_bits_per_weight - t.bits_per_weight).abs() < 0.005 {
        format!(
            "{} ({} bits/w)",
            t.weights_format,
            fmt_bits(t.bits_per_weight)
        )
    } else {
        format!(
            "{} ({} bits/w Linears, {} avg)",
            t.weights_format,
            fmt_bits(t.linear_bits_per_weight),
            fmt_bits(t.bits_per_weight)
        )
    }
}

fn fmt_bits(b: f64) -> String {
    format!("{b:.2}")
}

/// The tables people read; every number comes from `d`.
pub fn document(d: &deploy::Deployment) -> Document {
    let w = &d.request.workload;
    let cur = &d.currency;
    let mut setup = Table::new("Request", &["setting", "value"]);
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    setup.push(kv(
        "model",
        format!("{} ({} params)", d.model, fmt::count(d.params)),
    ));
    setup.push(kv(
        "precision",
        if d.request.precision == Precision::Int4 {
            format!("int4 ({})", d.request.int4_format.as_str())
        } else {
            d.request.precision.as_str().to_string()
        },
    ));
    setup.push(kv(
        "traffic",
        format!("{:.4} requests/s ({:.0} per day)", w.qps, w.qps * 86_400.0),
    ));
    if d.encoder {
        setup.push(kv("tokens per sequence", w.input_tokens.to_string()));
    } else {
        setup.push(kv(
            "input / output tokens",
            format!("{} / {}", w.input_tokens, w.output_tokens),
        ));
        setup.push(kv(
            "context reserved per sequence",
            format!("{} tokens", w.context),
        ));
    }
    setup.push(kv(
        "TTFT / TPOT targets",
        format!("{} / {}", secs(w.max_ttft), secs(w.max_tpot)),
    ));
    setup.push(kv(
        "LoRA adapters on one base",
        d.request.adapters.to_string(),
    ));

    let unit = if d.encoder {
        "embeddings/s"
    } else {
        "tokens/s"
    };
    let per_m = if d.encoder {
        "per M embeddings"
    } else {
        "per M tokens"
    };
    let mut main = Table::new(
        format!(
            "Serving, cheapest first ({cur}; per instance; tokens/s include the prefill share)"
        ),
        &[
            "hardware",
            "fits",
            "weights",
            "instances",
            "batch",
            unit,
            "TTFT",
            "TPOT",
            "monthly",
            per_m,
            "util",
            "offer",
        ],
    );
    for t in &d.targets {
        main.push(vec![
            t.hardware.clone(),
            if t.fits { "yes".into() } else { "NO".into() },
            target_label(t),
            if t.fits {
                t.instances.to_string()
            } else {
                "-".into()
            },
            if t.fits {
                t.batch.to_string()
            } else {
                "-".into()
            },
            opt(
                t.output_tokens_per_second.or(t.embeddings_per_second),
                |x| format!("{x:.1}"),
            ),
            secs(t.ttft_seconds),
            secs(t.tpot_seconds),
            opt(t.monthly_cost, |c| fmt::money(c, cur)),
            opt(t.cost_per_million, |c| fmt::money(c, cur)),
            opt(t.utilisation, |u| format!("{:.0}%", u * 100.0)),
            t.offer.as_ref().map_or("-".into(), |o| {
                format!(
                    "{} {} x{} ({})",
                    o.provider, o.instance, o.machines, o.billing
                )
            }),
        ]);
    }

    let mut mem = Table::new(
        "Memory per instance (GiB = 2^30 bytes)",
        &[
            "hardware",
            "usable",
            "weights",
            "adapters",
            "overhead",
            "KV / token",
            "KV / sequence",
            "max sequences",
            "decode tokens/s at batch",
        ],
    );
    for t in &d.targets {
        mem.push(vec![
            t.hardware.clone(),
            fmt::gib(t.usable_memory_bytes),
            fmt::gib(t.weights_bytes),
            fmt::bytes(t.adapters_bytes),
            fmt::gib(t.overhead_bytes),
            fmt::bytes(t.kv_bytes_per_token),
            fmt::bytes(t.kv_bytes_per_sequence),
            t.max_sequences.to_string(),
            opt(t.decode_tokens_per_second, |x| format!("{x:.0}")),
        ]);
    }
    let mut tables = vec![setup, main, mem];

    if d.request.adapters > 0 {
        let mut ad = Table::new(
            format!(
                "{} LoRA adapters on one base vs {} merged models ({cur})",
                d.request.adapters, d.request.adapters
            ),
            &[
                "hardware",
                "adapter",
                "memory shared / merged",
                "instances shared / merged",
                "monthly shared",
                "monthly merged",
                "saving",
            ],
        );
        for t in d.targets.iter().filter(|t| t.fits) {
            if let Some(s) = &t.adapters {
                ad.push(vec![
                    t.hardware.clone(),
                    format!(
                        "{} ({} params)",
                        fmt::bytes(s.adapter_bytes),
                        fmt::short(s.adapter_trainable_params)
                    ),
                    format!(
                        "{} / {}",
                        fmt::gib(s.shared_memory_bytes),
                        fmt::gib(s.merged_memory_bytes)
                    ),
                    format!("{} / {}", s.shared_instances, s.merged_instances),
                    opt(s.shared_monthly_cost, |c| fmt::money(c, cur)),
                    opt(s.merged_monthly_cost, |c| fmt::money(c, cur)),
                    match (s.saving, s.saving_fraction) {
                        (Some(v), Some(f)) => format!("{} ({:.0}%)", fmt::money(v, cur), f * 100.0),
                        (Some(v), None) => fmt::money(v, cur),
                        _ => "-".into(),
                    },
                ]);
            }
        }
        tables.push(ad);
    }

    let mut notes = d.notes.clone();
    if d.request.adapters > 0 {
        notes.push(format!(
            "adapters: default LoRA of the model (rank 8, fp16) each; unmerged LoRA adds {:.0}% per-token compute; merged models each take their own instances",
            d.assumptions.lora_unmerged_overhead * 100.0
        ));
    }
    // The same note on several targets is printed once, naming them all.
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    for t in &d.targets {
        for n in &t.notes {
            match grouped.iter_mut().find(|(m, _)| m == n) {
                Some((_, hs)) => hs.push(&t.hardware),
                None => grouped.push((n.clone(), vec![&t.hardware])),
            }
        }
    }
    notes.extend(
        grouped
            .into_iter()
            .map(|(n, hs)| format!("{}: {n}", hs.join(", "))),
    );
    if !d.suggestions.is_empty() {
        notes.push(format!(
            "fits nowhere at {}; what would fit:",
            d.request.precision.as_str()
        ));
        notes.extend(
            d.suggestions
                .iter()
                .map(|s| format!("  {}", deploy_suggestion(s))),
        );
    }
    Document {
        title: format!("peftcost deploy: {}", d.model),
        tables,
        notes,
    }
}

/// One row of the deployment table.
fn all_models(
    args: &DeployArgs,
    models: &crate::core::arch::ModelCatalog,
    targets: &[crate::core::hardware::HardwareProfile],
    quotes: &[Quote],
    currency: &str,
    a: &Assumptions,
) -> Result<()> {
    let rows = deploy::table_rows(
        &TABLE_MODELS,
        models,
        targets,
        quotes,
        currency,
        a,
        &args.serve(),
    )?;
    let text = match args.format {
        Format::Json => report::to_json(&rows)?,
        Format::Csv => report::to_csv(&rows)?,
        Format::Table | Format::Md => {
            let t = table_of_rows(
                format!("Deployment table: best precision that fits, per instance, cheapest offer ({currency})"),
                &rows.iter().collect::<Vec<_>>(),
            );
            let serve = args.serve();
            let mut notes = vec![format!(
                "workload: {:.4} requests/s, {} input / {} output tokens (encoders: {} tokens per sequence); order tried: bf16 (fp16 where no bf16), int8, int4 ({})",
                serve.qps,
                serve.input_tokens,
                serve.output_tokens,
                serve.input_tokens,
                serve.int4_format.as_str()
            )];
            notes.extend(a.describe());
            let doc = Document {
                title: "peftcost deploy --all-models".into(),
                tables: vec![t],
                notes,
            };
            args.format.render(&doc)
        }
    };
    emit(&text)
}

/// The deployment table rows as a table for people (shared with `peftcost report`).
pub(crate) fn table_of_rows(title: String, rows: &[&deploy::TableRow]) -> Table {
    let mut t = Table::new(
        title,
        &[
            "model",
            "hardware",
            "fits at",
            "bits/w",
            "tokens/s (embeddings/s)",
            "instances",
            "monthly",
            "offer",
        ],
    );
    for r in rows {
        t.push(vec![
            r.model.clone(),
            r.hardware.clone(),
            r.weights_format
                .clone()
                .unwrap_or_else(|| "does not fit".into()),
            opt(r.bits_per_weight, fmt_bits),
            match (r.tokens_per_second, r.embeddings_per_second) {
                (Some(x), _) => format!("{x:.1}"),
                (None, Some(e)) => format!("({e:.1})"),
                _ => "-".into(),
            },
            if r.fits {
                r.instances.to_string()
            } else {
                "-".into()
            },
            opt(r.monthly_cost, |c| fmt::money(c, &r.currency)),
            match (&r.provider, &r.instance) {
                (Some(p), Some(i)) => format!("{p} {i}"),
                _ => "-".into(),
            },
        ]);
    }
    t
}

/// A serving remedy in flags.
fn deploy_suggestion(s: &DeploySuggestion) -> String {
    match s {
        DeploySuggestion::Precision {
            precision,
            hardware,
        } => format!(
            "--precision {} fits on {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::OtherHardware {
            precision,
            hardware,
        } => format!(
            "--precision {} fits on --hardware {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::ShorterContext { context } => {
            format!("nothing fits; a shorter --context than {context} or fewer --adapters may help")
        }
    }
}
