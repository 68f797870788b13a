//! Commands about the tool itself: shell completions and the man page (generated from the same
//! clap definitions), `hardware list|show`, and the long `--version` with the data's dates.

use clap::{CommandFactory, Subcommand};

use super::{emit, Cli, Context, Format};
use crate::core::error::{Error, Result};
use crate::report::{Document, Table};

/// `peftcost hardware ...`
#[derive(Debug, Subcommand)]
pub enum HardwareCommand {
    /// Every hardware profile: memory, peaks, bandwidth, link, source date, calibration.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// One profile with every figure, its source and notes.
    Show {
        /// Hardware id or alias, e.g. a10, A100-80GB.
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

/// The command tree, with the ids of the catalogues as the values of `--model`, `--hardware`
/// and `--provider` so a generated completion offers them (parsing still takes any spelling).
fn command_with_ids(ctx: &Context) -> clap::Command {
    let mut models: Vec<String> = ctx
        .models()
        .map(|c| c.profiles().iter().map(|p| p.id.clone()).collect())
        .unwrap_or_default();
    models.sort();
    let hardware: Vec<String> = ctx
        .hardware()
        .map(|c| c.profiles().iter().map(|p| p.id.clone()).collect())
        .unwrap_or_default();
    let providers: Vec<String> = ctx
        .pricing()
        .map(|c| c.tables.iter().map(|t| t.provider.clone()).collect())
        .unwrap_or_default();
    fn with(arg: clap::Arg, values: &[String]) -> clap::Arg {
        arg.value_parser(clap::builder::PossibleValuesParser::new(
            values
                .iter()
                .map(|v| clap::builder::PossibleValue::new(v.clone())),
        ))
    }
    let mut cmd = Cli::command();
    for name in ["estimate", "plan", "tui", "report", "deploy"] {
        cmd = cmd.mut_subcommand(name, |sub| {
            let mut sub = sub;
            for (arg, values) in [
                ("model", &models),
                ("hardware", &hardware),
                ("provider", &providers),
            ] {
                if sub.get_arguments().any(|a| a.get_id() == arg) {
                    sub = sub.mut_arg(arg, |a| with(a, values));
                }
            }
            sub
        });
    }
    cmd
}

/// `peftcost completions SHELL`: a completion script on stdout.
pub fn completions(ctx: &Context, shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = command_with_ids(ctx);
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "peftcost", &mut out);
    emit(&String::from_utf8_lossy(&out))
}

/// `peftcost man`: the man page (roff) on stdout.
pub fn man() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::Internal(format!("man page: {e}")))?;
    for sub in Cli::command().get_subcommands() {
        out.extend_from_slice(b"\n");
        clap_mangen::Man::new(sub.clone().name(format!("peftcost-{}", sub.get_name())))
            .render(&mut out)
            .map_err(|e| Error::Internal(format!("man page: {e}")))?;
    }
    emit(&String::from_utf8_lossy(&out))
}

/// One flat CSV row per hardware profile.
#[derive(serde::Serialize)]
struct HardwareRow<'a> {
    id: &'a str,
    name: &'a str,
    kind: String,
    memory_gib: f64,
    memory_bandwidth_gbs: Option<f64>,
    interconnect: Option<&'a str>,
    interconnect_gbs: Option<f64>,
    bf16_tflops: Option<f64>,
    fp16_tflops: Option<f64>,
    tf32_tflops: Option<f64>,
    fp32_tflops: Option<f64>,
    int8_tops: Option<f64>,
    train_mfu: f64,
    calibrated: bool,
    as_of: &'a str,
    confidence: &'a str,
    source: &'a str,
}

impl<'a> From<&'a crate::core::hardware::HardwareProfile> for HardwareRow<'a> {
    fn from(h: &'a crate::core::hardware::HardwareProfile) -> Self {
        HardwareRow {
            id: &h.id,
            name: &h.name,
            kind: format!("{:?}", h.kind).to_lowercase(),
            memory_gib: h.memory_gib,
            memory_bandwidth_gbs: h.memory_bandwidth_gbs,
            interconnect: h.interconnect.as_deref(),
            interconnect_gbs: h.interconnect_gbs,
            bf16_tflops: h.peak_tflops.bf16,
            fp16_tflops: h.peak_tflops.fp16,
            tf32_tflops: h.peak_tflops.tf32,
            fp32_tflops: h.peak_tflops.fp32,
            int8_tops: h.peak_tflops.int8,
            train_mfu: h.train_mfu,
            calibrated: h.calibrated,
            as_of: &h.as_of,
            confidence: &h.confidence,
            source: &h.source,
        }
    }
}

fn tflops(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v}"))
}

pub fn hardware(ctx: &Context, cmd: HardwareCommand) -> Result<()> {
    let catalog = ctx.hardware()?;
    match cmd {
        HardwareCommand::List { format } => {
            if format == Format::Json {
                return emit(&crate::report::to_json(&catalog.profiles())?);
            }
            let mut t = Table::new(
                "Hardware profiles (dense peaks; GB = 10^9 bytes)",
                &[
                    "id",
                    "name",
                    "memory GiB",
                    "bf16 TFLOPS",
                    "fp16",
                    "fp32",
                    "GB/s",
                    "link GB/s",
                    "as of",
                    "calibrated",
                ],
            );
            for h in catalog.profiles() {
                t.push(vec![
                    h.id.clone(),
                    h.name.clone(),
                    format!("{}", h.memory_gib),
                    tflops(h.peak_tflops.bf16),
                    tflops(h.peak_tflops.fp16),
                    tflops(h.peak_tflops.fp32),
                    h.memory_bandwidth_gbs
                        .map_or("-".into(), |b| format!("{b}")),
                    h.interconnect_gbs.map_or("-".into(), |b| format!("{b}")),
                    h.as_of.clone(),
                    if h.calibrated { "yes" } else { "no" }.into(),
                ]);
            }
            let doc = Document {
                title: String::new(),
                tables: vec![t],
                notes: vec!["`peftcost hardware show ID` for sources and notes; `peftcost bench` calibrates this machine (local) or, with --hardware-id, a rented one".into()],
                ..Default::default()
            };
            match format {
                Format::Csv => {
                    let rows: Vec<HardwareRow> =
                        catalog.profiles().iter().map(HardwareRow::from).collect();
                    emit(&crate::report::to_csv(&rows)?)
                }
                _ => emit(&format.render(&doc, ctx.lang)),
            }
        }
        HardwareCommand::Show { id, format } => {
            let h = catalog.get(&id)?;
            if format == Format::Json {
                return emit(&crate::report::to_json(h)?);
            }
            let mut t = Table::new(format!("{} ({})", h.name, h.id), &["field", "value"]);
            let mut kv = |k: &str, v: String| t.push(vec![k.into(), v]);
            kv("kind", format!("{:?}", h.kind).to_lowercase());
            kv("memory", format!("{} GiB", h.memory_gib));
            kv(
                "memory bandwidth",
                h.memory_bandwidth_gbs
                    .map_or("-".into(), |b| format!("{b} GB/s")),
            );
            kv(
                "interconnect",
                format!(
                    "{} {}",
                    h.interconnect.as_deref().unwrap_or("-"),
                    h.interconnect_gbs
                        .map_or(String::new(), |b| format!("{b} GB/s"))
                ),
            );
            for (name, v) in [
                ("bf16 peak", h.peak_tflops.bf16),
                ("fp16 peak", h.peak_tflops.fp16),
                ("tf32 peak", h.peak_tflops.tf32),
                ("fp32 peak", h.peak_tflops.fp32),
                ("int8 peak (TOPS)", h.peak_tflops.int8),
            ] {
                kv(name, v.map_or("-".into(), |x| format!("{x} TFLOPS")));
            }
            kv("training MFU", format!("{}", h.train_mfu));
            kv(
                "decode bandwidth efficiency",
                format!("{}", h.decode_bandwidth_efficiency),
            );
            if !h.method_mfu.is_empty() {
                kv(
                    "calibrated MFU",
                    h.method_mfu
                        .iter()
                        .map(|(k, v)| format!("{k} {v:.3}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            kv("calibrated", if h.calibrated { "yes" } else { "no" }.into());
            kv("source", h.source.clone());
            kv("as of", h.as_of.clone());
            kv("confidence", h.confidence.clone());
            if let Some(n) = &h.notes {
                kv("notes", n.clone());
            }
            if let Some(v) = &h.variant_of {
                kv("variant of", v.clone());
            }
            let doc = Document {
                tables: vec![t],
                ..Default::default()
            };
            emit(&format.render(&doc, ctx.lang))
        }
    }
}

/// "peftcost 0.1.0 (commit abc1234)" and the date range of each embedded table family.
pub fn long_version(ctx: &Context) -> String {
    let range = |dates: Vec<String>| -> String {
        let mut d: Vec<String> = dates.into_iter().filter(|x| !x.is_empty()).collect();
        d.sort();
        match (d.first(), d.last()) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} .. {b}"),
            _ => "-".into(),
        }
    };
    let hardware = ctx
        .hardware()
        .map(|c| range(c.profiles().iter().map(|p| p.as_of.clone()).collect()))
        .unwrap_or_else(|e| format!("unavailable ({e})"));
    let (prices, fx) = match ctx.pricing() {
        Ok(p) => (
            range(p.tables.iter().map(|t| t.as_of.clone()).collect()),
            p.fx.as_of.clone(),
        ),
        Err(e) => (format!("unavailable ({e})"), "-".into()),
    };
    let models = ctx.models().map(|m| m.profiles().len()).unwrap_or(0);
    format!(
        "{} (commit {})\ndata: {models} model profiles; hardware as of {hardware}; prices as of {prices}; exchange rates as of {fx}",
        env!("CARGO_PKG_VERSION"),
        option_env!("PEFTCOST_COMMIT").unwrap_or("unknown"),
    )
}
