//! Export of the current tab as CSV: the rows the CLI writes, to a path the user confirmed in
//! the export prompt, never over an existing file. Called by the event loop ([`super::run`]) on
//! [`super::state::Action::Export`], so key handling has no side effects.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::state::{offers, App, Pinned, Tab};
use crate::core::estimate::{CompareRow, OfferResult, Unit};
use crate::report;

/// The rows of the current tab as CSV, written by the same writer as the CLI.
pub fn export_csv(app: &App) -> std::result::Result<(String, usize), String> {
    let est = app
        .estimate
        .as_ref()
        .map_err(|_| "the current inputs have an error")?;
    let r = match app.tab {
        Tab::Memory => {
            let rows = est.csv_rows();
            report::to_csv(&rows).map(|t| (t, rows.len()))
        }
        Tab::Cost => {
            let o = offers(est, app.priced).ok_or("pricing not loaded: nothing to export")?;
            let rows: Vec<OfferCsvRow> = o.iter().map(OfferCsvRow::from).collect();
            report::to_csv(&rows).map(|t| (t, rows.len()))
        }
        Tab::Deploy => {
            let d = app
                .deployment
                .as_ref()
                .map_err(|_| "the serving inputs have an error")?;
            let rows = d.csv_rows();
            report::to_csv(&rows).map(|t| (t, rows.len()))
        }
        // Each pinned scenario against the current one, named in the first column.
        Tab::Compare => {
            if app.comparisons.is_empty() {
                return Err("nothing pinned: press p first".into());
            }
            let rows: Vec<PinnedCompareRow> = app
                .pinned
                .iter()
                .zip(&app.comparisons)
                .flat_map(|(p, rows)| rows.iter().map(move |r| PinnedCompareRow::new(p, r)))
                .collect();
            report::to_csv(&rows).map(|t| (t, rows.len()))
        }
        // The rows of `peftcost plan --format csv` (`PlanResult::csv_rows`).
        Tab::Plan => {
            let p = match &app.plan {
                Some(Ok(p)) => p,
                Some(Err(e)) => return Err(e.clone()),
                None => return Err("the plan is not computed".into()),
            };
            if let Some(reason) = &p.infeasible {
                return Err(format!("no feasible plan to export: {reason}"));
            }
            let rows = p.csv_rows();
            report::to_csv(&rows).map(|t| (t, rows.len()))
        }
    };
    r.map_err(|e| e.to_string())
}

/// The first free `dir/peftcost-export-<tab>[-N].csv`: the path the export prompt offers.
pub fn default_path(dir: &Path, tab: Tab) -> PathBuf {
    (0..1000)
        .map(|n| match n {
            0 => format!("peftcost-export-{}.csv", tab.slug()),
            n => format!("peftcost-export-{}-{n}.csv", tab.slug()),
        })
        .map(|name| dir.join(name))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or_else(|| dir.join(format!("peftcost-export-{}.csv", tab.slug())))
}

/// Write the current tab to `path`, which must not exist yet (a file is never overwritten, a
/// link never followed): the number of rows written.
pub fn export_to(app: &App, path: &Path) -> std::result::Result<usize, String> {
    let (text, rows) = export_csv(app)?;
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(rows)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
            "{} exists: not overwritten, choose another name",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// A Compare row with the pinned scenario it compares against the current one.
#[derive(Debug, Clone, Serialize)]
pub struct PinnedCompareRow<'a> {
    /// The pin's name (A, B, C).
    pub pinned: String,
    pub pinned_label: &'a str,
    pub quantity: &'a str,
    pub unit: Unit,
    pub base: Option<f64>,
    pub other: Option<f64>,
    pub change: Option<f64>,
    pub change_percent: Option<f64>,
}

impl<'a> PinnedCompareRow<'a> {
    fn new(p: &'a Pinned, r: &'a CompareRow) -> Self {
        PinnedCompareRow {
            pinned: p.name.to_string(),
            pinned_label: &p.label,
            quantity: &r.quantity,
            unit: r.unit,
            base: r.base,
            other: r.other,
            change: r.change,
            change_percent: r.change_percent,
        }
    }
}

/// One flat CSV row per offer (the CLI's `estimate --format csv` has device rows only).
#[derive(Debug, Clone, Serialize)]
pub struct OfferCsvRow {
    pub provider: String,
    pub region: String,
    pub instance: String,
    pub hardware: String,
    pub gpus: u64,
    pub instances: u64,
    pub billing: String,
    pub price_per_hour: f64,
    pub currency: String,
    pub hours: f64,
    pub cost_setup: f64,
    pub cost_data: f64,
    pub cost_train: f64,
    pub cost_export: f64,
    pub cost: f64,
    pub display_currency: String,
    pub cost_display: f64,
    pub cost_usd: f64,
    pub cost_cny: f64,
    pub as_of: String,
}

impl From<&OfferResult> for OfferCsvRow {
    fn from(o: &OfferResult) -> Self {
        let j = &o.job;
        OfferCsvRow {
            provider: j.provider.clone(),
            region: j.region.clone(),
            instance: j.instance.clone(),
            hardware: j.hardware.clone(),
            gpus: j.gpus,
            instances: j.instances,
            billing: j.billing.as_str().into(),
            price_per_hour: j.price_per_hour,
            currency: j.currency.clone(),
            hours: j.hours,
            cost_setup: j.cost_breakdown.setup,
            cost_data: j.cost_breakdown.data,
            cost_train: j.cost_breakdown.train,
            cost_export: j.cost_breakdown.export,
            cost: j.cost,
            display_currency: j.display_currency.clone(),
            cost_display: j.cost_display,
            cost_usd: o.cost_usd,
            cost_cny: o.cost_cny,
            as_of: j.as_of.clone(),
        }
    }
}
