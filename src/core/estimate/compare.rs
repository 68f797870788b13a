//! Two estimates side by side: the quantities a user compares and how much they changed.
//! The CLI's `--compare` and the TUI's Compare tab both render these rows.

use serde::Serialize;

use super::Estimate;

/// What a compared number measures, so renderers can format it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A plain count (parameters).
    Count,
    /// Bytes.
    Bytes,
    /// Hours.
    Hours,
    /// Money, in the comparison's currency.
    Money,
    /// 1 when the scenario fits the device, 0 when it does not.
    Fits,
}

/// One compared quantity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    /// What is compared, e.g. `trainable params`.
    pub quantity: String,
    /// What the values measure.
    pub unit: Unit,
    /// The value of the base estimate.
    pub base: Option<f64>,
    /// The value of the other estimate.
    pub other: Option<f64>,
    /// other - base.
    pub change: Option<f64>,
    /// 100 * change / base.
    pub change_percent: Option<f64>,
}

impl CompareRow {
    fn new(quantity: String, unit: Unit, base: Option<f64>, other: Option<f64>) -> Self {
        let change = base
            .zip(other)
            .filter(|_| unit != Unit::Fits)
            .map(|(a, b)| b - a);
        CompareRow {
            quantity,
            unit,
            base,
            other,
            change,
            change_percent: change
                .zip(base)
                .and_then(|(d, a)| (a != 0.0).then(|| 100.0 * d / a)),
        }
    }
}

/// The cheapest job of an estimate in `currency` (USD or CNY, or the offers' display currency).
fn cheapest(e: &Estimate, currency: &str) -> Option<f64> {
    let o = e.offers.first()?;
    match currency {
        "USD" => Some(o.cost_usd),
        "CNY" => Some(o.cost_cny),
        c => (o.job.display_currency == c).then_some(o.job.cost_display),
    }
}

/// Compare `other` with `base`: parameters, artifact, cheapest job in `currency`, and memory and
/// hours on every device of `other`.
pub fn compare(base: &Estimate, other: &Estimate, currency: &str) -> Vec<CompareRow> {
    let count = |e: &Estimate, f: fn(&Estimate) -> u64| Some(f(e) as f64);
    let mut rows = vec![
        CompareRow::new(
            "trainable params".into(),
            Unit::Count,
            count(base, |e| e.params.trainable),
            count(other, |e| e.params.trainable),
        ),
        CompareRow::new(
            "all params".into(),
            Unit::Count,
            count(base, |e| e.params.all),
            count(other, |e| e.params.all),
        ),
        CompareRow::new(
            "exported artifact".into(),
            Unit::Bytes,
            count(base, |e| e.params.artifact.export_bytes),
            count(other, |e| e.params.artifact.export_bytes),
        ),
        CompareRow::new(
            format!("cheapest job {currency}"),
            Unit::Money,
            cheapest(base, currency),
            cheapest(other, currency),
        ),
    ];
    let fits = |f: bool| if f { 1.0 } else { 0.0 };
    for d in &other.devices {
        let b = base.devices.iter().find(|x| x.hardware == d.hardware);
        rows.push(CompareRow::new(
            format!("{} fits", d.hardware),
            Unit::Fits,
            b.map(|x| fits(x.fits)),
            Some(fits(d.fits)),
        ));
        rows.push(CompareRow::new(
            format!("{} memory", d.hardware),
            Unit::Bytes,
            b.map(|x| x.memory.total as f64),
            Some(d.memory.total as f64),
        ));
        rows.push(CompareRow::new(
            format!("{} hours", d.hardware),
            Unit::Hours,
            b.and_then(|x| x.hours),
            d.hours,
        ));
    }
    rows
}
