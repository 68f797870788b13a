//! `peftcost tui`: the interactive planner, started from the same flags as `estimate`, so a CLI
//! estimate can be continued on screen.

use std::io::IsTerminal;

use clap::Args;

use super::{Context, ScenarioArgs};
use crate::core::error::{Error, Result};
use crate::core::pricing::Billing;
use crate::tui::{self, state::StartOptions, App};

#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Hardware profiles to show (repeatable or comma-separated; default: T4, A10, A100 40/80 GB
    /// and a 16-core CPU, plus the smallest device that fits when none of those does).
    #[arg(long, visible_alias = "gpu", value_name = "ID")]
    pub hardware: Vec<String>,
    /// Only offers of this provider on the Cost tab (default: all).
    #[arg(long)]
    pub provider: Option<String>,
    /// Show money in this currency (default: each table's own).
    #[arg(long)]
    pub currency: Option<String>,
    /// Billing mode of the offers (default: on-demand and spot, as `estimate`).
    #[arg(long, value_parser = super::named::<Billing>())]
    pub billing: Option<Billing>,
}

pub fn run(ctx: &Context, args: TuiArgs) -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::input(
            "peftcost tui needs an interactive terminal; use `peftcost estimate` in scripts and pipes",
        ));
    }
    let opts = StartOptions {
        hardware: args.hardware,
        provider: args.provider,
        currency: args.currency,
        billing: args.billing,
        fit: args.scenario.workload.fit_policy(),
        color: !tui::no_color(),
        lang: ctx.lang,
        today: super::pricing::today(),
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
    };
    let app = App::new(ctx.catalogs.clone(), args.scenario.spec_in(ctx)?, opts)?;
    tui::run(app)
}
