//! The command line: clap definitions, validated into core types, one file per subcommand.
//!
//! `main` stays thin: [`main`] parses, dispatches, prints one line on error and returns the exit
//! code (0 ok, 2 bad input or a crossed `--fail-if-*` threshold, 1 internal error).

mod bench;
mod calibrate;
mod compare;
mod deploy;
mod emit_files;
mod estimate;
mod format;
mod gates;
mod meta;
mod models;
mod plan;
mod pricing;
mod report;
mod scenario;
mod tui;
#[cfg(test)]
mod tui_tests;
mod validate;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use format::Format;
pub use scenario::ScenarioArgs;

use crate::core::catalogs::{CalibrationSource, Catalogs};
use crate::core::error::{Error, Result};
use crate::core::units::Named;
use crate::report::i18n::Lang;

/// Estimate what parameter-efficient fine-tuning and serving a model will cost.
#[derive(Debug, Parser)]
#[command(name = "peftcost", version, about, long_about = None)]
pub struct Cli {
    /// Directory with user profiles and pricing (models/*.toml, hardware.toml, pricing/*.toml);
    /// default: $PEFTCOST_CONFIG_DIR or the XDG config dir.
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles: Option<PathBuf>,

    /// A `peftcost bench` calibration to apply (default: the one `bench` last wrote, if any):
    /// one of this machine adds `--hardware local`; one made with `bench --hardware-id ID` on a
    /// rented device calibrates that profile.
    #[arg(long, global = true, value_name = "FILE")]
    pub calibration: Option<PathBuf>,

    /// Apply a CPU calibration measured on another CPU model, vector units or thread count
    /// (refused otherwise: its figures describe that machine, not this one).
    #[arg(long, global = true)]
    pub force_calibration: bool,

    /// Print every table column whatever the terminal's width (tables otherwise hide their
    /// least important columns to fit $COLUMNS or the terminal, and say which).
    #[arg(long, global = true)]
    pub wide: bool,

    /// Colour in tables: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces
    /// it), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,

    /// Language of tables, notes, the TUI and errors: en or zh (default: the locale; LC_ALL,
    /// LC_MESSAGES or LANG starting with zh gives zh). CSV and JSON stay English.
    #[arg(long, global = true, value_name = "en|zh")]
    pub lang: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parameters, memory, time and cost of fine-tuning one model with one method.
    #[command(after_help = "Examples:
  peftcost estimate --model qwen-7b --method lora
  peftcost estimate --model mistral-7b --method qlora --hardware t4,a10 --provider alibaba
  peftcost estimate --model qwen-7b --global-batch 16 --allow-quantization --format json
  peftcost estimate --model qwen-7b --compare 'method=qlora,rank=64'
  peftcost estimate --model-config config.json --method adapter --fail-if-not-fits a10")]
    Estimate(estimate::EstimateArgs),
    /// The cheapest (or fastest) way to run a job under a deadline and a budget.
    #[command(after_help = "Examples:
  peftcost plan --model mistral-7b --samples 50000 --seq-len 1024 --deadline 12 --budget 300 --currency CNY
  peftcost plan --model qwen-7b --global-batch 16 --max-gpus 8 --allow-quantization --format csv")]
    Plan(plan::PlanArgs),
    /// The article's two tables: fine-tuning by stage and monthly serving, Alibaba in CNY.
    #[command(after_help = "Examples:
  peftcost report
  peftcost report --lang zh --format md
  peftcost report --format html --out report.html
  peftcost report --provider all --currency USD --methods lora,qlora")]
    Report(report::ReportArgs),
    /// Predictions next to published measurements, with the error (or next to your own run's
    /// log with --log).
    #[command(after_help = "Examples:
  peftcost validate
  peftcost validate --log trainer_state.json --hardware a10 --model qwen-7b --micro-batch 2 --samples 2000 --epochs 1")]
    Validate(validate::ValidateArgs),
    /// What serving a model costs per month: fit, throughput, instances and cost on each device.
    #[command(after_help = "Examples:
  peftcost deploy --model qwen-7b --precision int4 --qps 2
  peftcost deploy --model chatglm3-6b --adapters 3 --max-ttft 1 --max-tpot 0.05
  peftcost deploy --all-models")]
    Deploy(deploy::DeployArgs),
    /// List, show or import model profiles.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Cloud offers and prices: list, show one provider, validate a table, update from a URL.
    #[command(subcommand)]
    Pricing(pricing::PricingCommand),
    /// Measure this machine (matmul, memory bandwidth, training steps) and write a calibration.
    #[command(after_help = "Examples:
  peftcost bench --quick
  peftcost bench --model minicpm-2b --out cal.json && peftcost estimate --calibration cal.json --hardware local")]
    Bench(bench::BenchArgs),
    /// Fit a hardware profile's MFU to a real training run's log and write a calibration.
    #[command(after_help = "Examples:
  peftcost calibrate --from-log trainer_state.json --hardware a10 --model qwen-7b --micro-batch 2 --seq-len 1024 --samples 2000 --epochs 1
  peftcost calibrate --from-log saves/trainer_log.jsonl --from-config train.yaml --hardware a100-80g --dry-run")]
    Calibrate(calibrate::CalibrateArgs),
    /// The interactive planner: change inputs and watch memory, fit, hours and money move.
    Tui(tui::TuiArgs),
    /// Hardware profiles: list them, or show one with its datasheet figures and sources.
    #[command(subcommand)]
    Hardware(meta::HardwareCommand),
    /// A shell completion script (model, hardware and provider ids complete too), e.g.
    /// `source <(peftcost completions bash)`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page, from the same definitions as --help: `peftcost man | man -l -`.
    Man,
}

/// Shared state for a command: where user data lives and the catalogues, loaded once.
#[derive(Debug, Clone)]
pub struct Context {
    pub config_dir: Option<PathBuf>,
    pub catalogs: Catalogs,
    /// The language of what people read (`--lang` or the locale).
    pub lang: Lang,
}

impl Context {
    fn new(cli: &Cli, lang: Lang) -> Self {
        let config_dir = cli.profiles.clone().or_else(crate::core::data::config_dir);
        let calibration = CalibrationSource::from_user(cli.calibration.clone());
        let catalogs =
            Catalogs::load_forced(config_dir.as_deref(), &calibration, cli.force_calibration);
        for w in &catalogs.warnings {
            eprintln!(
                "{}{}",
                lang.tr("warning: "),
                lang.tr(&crate::report::fmt::one_line(&w.to_string()))
            );
        }
        Context {
            config_dir,
            catalogs,
            lang,
        }
    }

    /// The user's data as the environment names it (no flags parsed yet).
    fn from_env() -> Self {
        let config_dir = crate::core::data::config_dir();
        let calibration = CalibrationSource::from_user(None);
        Context {
            catalogs: Catalogs::load(config_dir.as_deref(), &calibration),
            config_dir,
            lang: Lang::En,
        }
    }

    /// Embedded data only, no calibration (what tests use).
    #[cfg(test)]
    pub fn embedded() -> Self {
        Context {
            config_dir: None,
            catalogs: Catalogs::embedded(),
            lang: Lang::En,
        }
    }

    /// The model `--model ID` names: the catalogue's, or for an `OWNER/NAME[@REVISION]` it does
    /// not know, the Hugging Face repository's config.json (cached; see [`crate::http::hub`]).
    pub fn model_ref(&self, id: &str) -> Result<crate::core::spec::ModelRef> {
        use crate::core::spec::ModelRef;
        use crate::http::hub::{self, HubRef, Origin};
        let known = self.models().is_ok_and(|m| m.get(id).is_ok());
        let hub_ref = match HubRef::parse(id.trim()) {
            Some(r) if !known => r?,
            _ => return Ok(ModelRef::Id(id.to_string())),
        };
        let name = hub_ref
            .repo
            .rsplit('/')
            .next()
            .unwrap_or(&hub_ref.repo)
            .to_ascii_lowercase();
        let label = format!("{}@{}", hub_ref.repo, hub_ref.revision);
        let import = |text: &str| crate::core::arch::import_hf_config(&label, text, Some(&name));
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| hub::DEFAULT_ENDPOINT.into());
        let token = std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty());
        let cache = crate::core::data::cache_dir();
        let (text, origin) = hub::config_json(
            &hub_ref,
            &endpoint,
            token.as_deref(),
            cache.as_deref(),
            |t| import(t).map(|_| ()),
        )?;
        let mut profile = import(&text)?;
        profile.hf_repo = hub_ref.repo.clone();
        match origin {
            Origin::Cache(path) => eprintln!(
                "note: {label}: config.json from the cache {} (delete it to fetch again)",
                path.display()
            ),
            Origin::Fetched(url, Some(path)) => {
                eprintln!("note: {label}: fetched {url}, cached at {}", path.display())
            }
            Origin::Fetched(url, None) => {
                eprintln!("note: {label}: fetched {url} (no cache directory)")
            }
        }
        profile.source = format!("{label} config.json");
        Ok(ModelRef::Imported {
            source: label,
            profile: Box::new(profile),
        })
    }

    pub fn models(&self) -> Result<&crate::core::arch::ModelCatalog> {
        self.catalogs.models()
    }

    /// Embedded price tables overlaid by `<config dir>/pricing/*.toml`.
    pub fn pricing(&self) -> Result<&crate::core::pricing::PricingCatalog> {
        self.catalogs.pricing()
    }

    /// Hardware profiles with the calibration applied: the one given with `--calibration`, or
    /// else the one `bench` last wrote (a broken default file is reported and ignored).
    pub fn hardware(&self) -> Result<&crate::core::hardware::HardwareCatalog> {
        self.catalogs.hardware()
    }
}

/// A clap parser for a closed set the core names ([`Named`]): the possible values are the
/// core's own names.
pub fn named<T: Named + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, TypedValueParser};
    clap::builder::PossibleValuesParser::new(T::ALL.iter().map(|v| {
        let p = PossibleValue::new(v.name());
        match v.help() {
            Some(h) => p.help(h),
            None => p,
        }
    }))
    .try_map(|s: String| T::from_name(&s).ok_or("not a known value"))
}

/// A filter or id flag's value: an empty one is refused, not read as "every one" (leave the
/// flag out for that).
pub fn not_empty(s: &str) -> std::result::Result<String, String> {
    if s.trim().is_empty() {
        Err("an empty value names nothing: give an id, or leave the flag out for every one".into())
    } else {
        Ok(s.to_string())
    }
}

/// An error as the command line says it: a field the core names becomes its flag.
pub fn message(e: &Error) -> String {
    match e {
        Error::Invalid { .. } | Error::Absurd { .. } => format!("--{e}"),
        Error::Unknown { kind: "model", .. } => {
            format!("{e} (or pass --model-config config.json)")
        }
        _ => e.to_string(),
    }
}

/// Print command output to stdout; a closed pipe is not an error.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Internal(format!("writing output: {e}"))),
    }
}

/// Run a parsed command line.
/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour, per no-color.org and the CLICOLOR convention.
    fn enabled(self) -> bool {
        use std::io::IsTerminal;
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !set("NO_COLOR") && (set("CLICOLOR_FORCE") || std::io::stdout().is_terminal())
            }
        }
    }
}

/// The language `--lang` or the locale asks for.
fn language(cli: &Cli) -> Result<Lang> {
    Lang::detect(cli.lang.as_deref(), |k| std::env::var(k).ok()).ok_or_else(|| {
        Error::input(format!(
            "--lang '{}' is not a language of peftcost: use en or zh",
            cli.lang.as_deref().unwrap_or_default()
        ))
    })
}

pub fn run(cli: Cli, lang: Lang) -> Result<()> {
    crate::core::pricing::date::set_today(&pricing::today());
    crate::report::set_wide(cli.wide);
    crate::report::set_color(cli.color.enabled());
    let ctx = Context::new(&cli, lang);
    match cli.command {
        Command::Estimate(args) => estimate::run(&ctx, args),
        Command::Deploy(args) => deploy::run(&ctx, args),
        Command::Models(cmd) => models::run(&ctx, cmd),
        Command::Pricing(cmd) => pricing::run(&ctx, cmd),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Plan(args) => plan::run(&ctx, args),
        Command::Report(args) => report::run(&ctx, args),
        Command::Bench(args) => bench::run(&ctx, args),
        Command::Calibrate(args) => calibrate::run(&ctx, args),
        Command::Tui(args) => tui::run(&ctx, args),
        Command::Hardware(cmd) => meta::hardware(&ctx, cmd),
        Command::Completions { shell } => meta::completions(&ctx, shell),
        Command::Man => meta::man(),
    }
}

/// Parse `std::env::args`, recording which scenario flags were given on the command line (so
/// `--from-config` fills only the others).
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let given = |m: &clap::ArgMatches| -> Vec<String> {
        m.ids()
            .map(|id| id.as_str().to_string())
            .filter(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
            .collect()
    };
    if let Some((_, sub)) = matches.subcommand() {
        match &mut cli.command {
            Command::Estimate(a) => a.scenario.given = given(sub),
            Command::Plan(a) => a.scenario.given = given(sub),
            Command::Calibrate(a) => a.scenario.given = given(sub),
            Command::Validate(a) => a.scenario.given = given(sub),
            _ => {}
        }
    }
    Ok(cli)
}

/// Parse `std::env::args`, run, and return the process exit code.
pub fn main() -> i32 {
    // `--version` alone: the version, the commit and the dates of the data in force.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 1 && (args[0] == "--version" || args[0] == "-V") {
        let ctx = Context::from_env();
        let _ = emit(&format!("peftcost {}\n", meta::long_version(&ctx)));
        return 0;
    }
    let cli = match parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let (lang, result) = match language(&cli) {
        Ok(lang) => (lang, run(cli, lang)),
        Err(e) => (Lang::En, Err(e)),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let line = crate::report::fmt::one_line(&message(&e));
            eprintln!("{}{}", lang.tr("error: "), lang.tr(&line));
            if e.is_user_error() {
                2
            } else {
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    #[test]
    fn every_help_example_parses() {
        let cmd = super::Cli::command();
        let mut seen = 0;
        for sub in cmd.get_subcommands() {
            let Some(help) = sub.get_after_help() else {
                continue;
            };
            for line in help.to_string().lines() {
                for example in line.split("&&").map(str::trim) {
                    let Some(rest) = example.strip_prefix("peftcost ") else {
                        continue;
                    };
                    let mut argv = vec!["peftcost".to_string()];
                    argv.extend(
                        rest.split_whitespace()
                            .map(|w| w.trim_matches('\'').to_string()),
                    );
                    super::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{example}: {e}"));
                    seen += 1;
                }
            }
        }
        assert!(seen >= 15, "{seen} examples");
    }

    #[test]
    fn command_line_definition_is_consistent() {
        // clap's own checks: unique names, valid defaults, no conflicting flags.
        super::Cli::command().debug_assert();
    }
}
