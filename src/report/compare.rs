//! The compare document: scenarios side by side with the change.

use crate::core::estimate::{compare, CompareRow, Estimate, Unit};
use crate::report::{fmt, Document, Table};

/// One scenario of a comparison.
#[derive(Debug, Serialize)]
pub struct Compared {
    pub label: String,
    pub estimate: Estimate,
}

use serde::Serialize;

/// A compared value with units.
/// One compared value with its unit, for the CLI and the TUI alike; `short` counts (7.72B)
/// where columns are narrow. A missing amount of money means the prices did not load.
pub fn value(r: &CompareRow, v: Option<f64>, currency: &str, short: bool) -> String {
    match (v, r.unit) {
        (None, Unit::Money) => "pricing n/a".into(),
        (None, _) => "-".into(),
        (Some(v), Unit::Count) if short => fmt::short(v as u64),
        (Some(v), Unit::Count) => fmt::count(v as u64),
        (Some(v), Unit::Bytes) => fmt::bytes(v),
        (Some(v), Unit::Hours) => fmt::hours(v),
        (Some(v), Unit::Money) => fmt::money(v, currency),
        (Some(v), Unit::Fits) => if v > 0.5 { "yes" } else { "NO" }.into(),
    }
}

/// Rows of quantities, one column per scenario; changed cells carry their change against the
/// first scenario (computed by the core's [`compare`]).
pub fn document(scenarios: &[Compared], currency: &str) -> Document {
    let mut headers: Vec<&str> = vec!["quantity"];
    headers.extend(scenarios.iter().map(|s| s.label.as_str()));
    let mut t = Table::new(
        "Scenarios side by side (changes relative to the first)",
        &headers,
    );
    let Some(base) = scenarios.first() else {
        return Document::default();
    };
    let text_row = |name: &str, f: &dyn Fn(&Estimate) -> String| {
        let first = f(&base.estimate);
        let mut r = vec![name.to_string()];
        for s in scenarios {
            let v = f(&s.estimate);
            let mark = if v == first { "" } else { " *" };
            r.push(format!("{v}{mark}"));
        }
        r
    };
    t.push(text_row("method", &|e| e.method.describe()));
    let compared: Vec<Vec<CompareRow>> = scenarios
        .iter()
        .map(|s| compare(&base.estimate, &s.estimate, currency))
        .collect();
    for (i, first) in compared[0].iter().enumerate() {
        let mut r = vec![first.quantity.clone()];
        for rows in &compared {
            let cell = rows.get(i).filter(|c| c.quantity == first.quantity);
            r.push(match cell {
                Some(c) => {
                    let change = match c.change_percent {
                        Some(p) if p.abs() > 1e-9 => format!(" ({p:+.1}%)"),
                        None if c.base != c.other => " *".into(),
                        _ => String::new(),
                    };
                    format!("{}{change}", value(c, c.other, currency, false))
                }
                None => "-".into(),
            });
        }
        t.push(r);
    }
    t.push(text_row("cheapest offer", &|e| match e.offers.first() {
        Some(o) => format!("{} {} ({})", o.job.provider, o.job.instance, o.job.billing),
        None => "none fits".into(),
    }));
    Document {
        title: "peftcost estimate --compare".into(),
        tables: vec![t],
        notes: vec![
            "a change is shown as (+x%) against the first scenario; * marks a changed text value"
                .into(),
        ],
        ..Default::default()
    }
}
