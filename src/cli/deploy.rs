//! `peftcost deploy`: what serving a model costs per month on each target class.

use crate::report::i18n::Lang;
use clap::{Args, ValueEnum};

use super::{emit, Context, Format};
use crate::core::deploy::{self, Assumptions, Int4Format, Precision, Quote};
use crate::core::error::{Error, Result};
use crate::core::spec::{ServeSpec, DEFAULT_SERVE_TARGETS, TABLE_MODELS};
use crate::report::{self, Document};

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
    /// Weights precision (int4 takes --int4-format) [default: the checkpoint's: bf16, or what its
    /// quantization_config ships]
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
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
    #[arg(long, visible_alias = "gpu", value_name = "ID", value_parser = super::not_empty)]
    pub hardware: Vec<String>,
    /// Only offers of these providers (repeatable or comma-separated).
    #[arg(long, value_name = "NAME", value_parser = super::not_empty)]
    pub provider: Vec<String>,
    /// Currency of every price shown.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// A `vllm bench serve --save-result` JSON measured on the one --hardware target: its
    /// median TPOT (and TTFT at concurrency 1) replace that target's decode (and prefill)
    /// efficiency for this answer.
    #[arg(long, value_name = "FILE", requires = "model")]
    pub calibrate_from: Option<std::path::PathBuf>,
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
            precision: self.precision.map(|p| match p {
                PrecisionArg::Fp16 => Precision::Fp16,
                PrecisionArg::Bf16 => Precision::Bf16,
                PrecisionArg::Int8 => Precision::Int8,
                PrecisionArg::Int4 => Precision::Int4,
            }),
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
    let mut targets = catalog.select(&names)?;
    let (quotes, currency) = quotes(ctx, &args.provider, &args.currency)?;
    let mut a = Assumptions::default();
    let mut fit_notes = Vec::new();
    if let Some(path) = &args.calibrate_from {
        let [hw] = targets.as_slice() else {
            return Err(Error::input(
                "--calibrate-from calibrates one target: give the --hardware the benchmark ran on",
            ));
        };
        let profile = &ctx
            .model_ref(args.model.as_deref().unwrap_or_default())?
            .profile(&ctx.catalogs)?;
        let file = crate::core::data::read_file(path)?;
        let m = crate::emit::log::vllm_bench(&path.display().to_string(), &file.text)?;
        let req = args.serve().request(profile);
        let (hw2, a2, fit) =
            deploy::calibrate_serving(profile, hw, req.precision, req.int4_format, &a, &m)?;
        fit_notes.push(format!(
            "calibrated from {} ({} requests in flight, {:.0} in / {:.0} out tokens): TPOT measured {:.1} ms, predicted {:.1} ms before, {:.1} ms after ({}-bound decode); TTFT measured {}, prefill predicted {:.0} ms before, {:.0} ms after",
            path.display(),
            m.concurrency,
            m.input_tokens,
            m.output_tokens,
            fit.tpot_measured * 1e3,
            fit.tpot_before * 1e3,
            fit.tpot_after * 1e3,
            fit.decode_bound,
            fit.ttft_measured
                .map_or("-".to_string(), |t| format!("{:.0} ms", t * 1e3)),
            fit.ttft_before * 1e3,
            fit.ttft_after * 1e3,
        ));
        fit_notes.extend(fit.notes);
        targets = vec![hw2];
        a = a2;
    }

    if args.all_models {
        return all_models(&args, models, &targets, &quotes, &currency, &a, ctx.lang);
    }
    let name = args
        .model
        .as_deref()
        .ok_or_else(|| Error::input("--model is required (or --all-models)"))?;
    let profile = &ctx.model_ref(name)?.profile(&ctx.catalogs)?;
    let req = args.serve().request(profile);
    let mut d = deploy::deploy(
        profile,
        &targets,
        catalog.profiles(),
        &quotes,
        &req,
        &currency,
        &a,
    )?;
    d.notes.splice(0..0, fit_notes);
    let text = match args.format {
        Format::Json => report::to_json(&d)?,
        Format::Csv => report::to_csv(&d.csv_rows())?,
        Format::Table | Format::Md | Format::Html => {
            args.format.render(&report::deploy::document(&d), ctx.lang)
        }
    };
    emit(&text)
}

/// One row of the deployment table.
fn all_models(
    args: &DeployArgs,
    models: &crate::core::arch::ModelCatalog,
    targets: &[crate::core::hardware::HardwareProfile],
    quotes: &[Quote],
    currency: &str,
    a: &Assumptions,
    lang: Lang,
) -> Result<()> {
    let rows = deploy::table_rows(&TABLE_MODELS, models, targets, quotes, currency, a, |p| {
        args.serve().request(p)
    })?;
    let text = match args.format {
        Format::Json => report::to_json(&rows)?,
        Format::Csv => report::to_csv(&rows)?,
        Format::Table | Format::Md | Format::Html => {
            let t = report::deploy::table_of_rows(
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
                ..Default::default()
            };
            args.format.render(&doc, lang)
        }
    };
    emit(&text)
}
