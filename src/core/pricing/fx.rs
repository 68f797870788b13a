//! Currency conversion from `pricing/fx.toml`: units of each currency per one unit of `base`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::date::parse_date;
use crate::core::error::{from_toml, Error, Result};

/// Exchange rates with their date and source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fx {
    /// The currency the rates are quoted against (its own rate is 1.0).
    pub base: String,
    /// Date the rates were recorded (`YYYY-MM-DD`).
    pub as_of: String,
    /// Where the rates come from.
    pub source: String,
    /// Units of the currency per one unit of `base`, e.g. `CNY = 6.7686` with base USD.
    pub rates: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFx {
    base: Spanned<String>,
    as_of: Spanned<String>,
    source: Spanned<String>,
    rates: Spanned<BTreeMap<String, Spanned<f64>>>,
}

/// Whether `code` looks like an ISO 4217 code (three ASCII capitals).
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl Fx {
    /// Parse and check an fx file; the first problem, as `path:line:col: message`.
    pub fn parse(path: &str, text: &str) -> Result<Self> {
        Self::check(path, text).map_err(|mut e| e.remove(0))
    }

    /// Parse and check an fx file, returning every problem found.
    pub fn check(path: &str, text: &str) -> std::result::Result<Self, Vec<Error>> {
        let raw: RawFx = from_toml(path, text).map_err(|e| vec![e])?;
        let mut errs = Vec::new();
        let at = |pos: usize, msg: String| Error::parse_at(path, text, Some(pos), msg);
        if !is_currency_code(raw.base.get_ref()) {
            errs.push(at(
                raw.base.span().start,
                format!(
                    "base '{}' is not a currency code (three capitals such as USD)",
                    raw.base.get_ref()
                ),
            ));
        }
        if parse_date(raw.as_of.get_ref()).is_none() {
            errs.push(at(
                raw.as_of.span().start,
                format!("as_of '{}' is not a date (YYYY-MM-DD)", raw.as_of.get_ref()),
            ));
        } else if let Some(why) = super::date::future_date(raw.as_of.get_ref()) {
            errs.push(at(
                raw.as_of.span().start,
                format!("as_of '{}' {why}", raw.as_of.get_ref()),
            ));
        }
        if raw.source.get_ref().trim().is_empty() {
            errs.push(at(
                raw.source.span().start,
                "source is empty: say where the rates come from".into(),
            ));
        }
        let mut rates = BTreeMap::new();
        for (code, rate) in raw.rates.get_ref() {
            let v = *rate.get_ref();
            if !is_currency_code(code) {
                errs.push(at(
                    rate.span().start,
                    format!("'{code}' is not a currency code (three capitals such as CNY)"),
                ));
            } else if !(v.is_finite() && (1e-4..=1e6).contains(&v)) {
                // Every currency is within 10^-4..10^6 per US dollar (the Iranian rial is ~4e4).
                errs.push(at(
                    rate.span().start,
                    format!(
                        "rate of {code} must be a positive number between 1e-4 and 1e6 per {}, not {}",
                        raw.base.get_ref(),
                        crate::core::units::short_number(v)
                    ),
                ));
            } else if code == raw.base.get_ref() && v != 1.0 {
                errs.push(at(
                    rate.span().start,
                    format!("the base currency {code} must have rate 1.0, not {v}"),
                ));
            }
            rates.insert(code.clone(), v);
        }
        if !rates.contains_key(raw.base.get_ref()) {
            errs.push(at(
                raw.rates.span().start,
                format!(
                    "rates has no entry for the base currency {0} (add `{0} = 1.0`)",
                    raw.base.get_ref()
                ),
            ));
        }
        if !errs.is_empty() {
            errs.sort_by_key(|e| match e {
                Error::Parse { line, column, .. } => (*line, *column),
                _ => (0, 0),
            });
            return Err(errs);
        }
        Ok(Fx {
            base: raw.base.into_inner(),
            as_of: raw.as_of.into_inner(),
            source: raw.source.into_inner(),
            rates,
        })
    }

    /// Units of `code` per one unit of the base currency.
    pub fn rate(&self, code: &str) -> Option<f64> {
        self.rates.get(code).copied()
    }

    /// The currencies this table can convert between.
    pub fn currencies(&self) -> impl Iterator<Item = &str> {
        self.rates.keys().map(String::as_str)
    }

    /// Check that a currency code typed by a user is known; returns it in capitals.
    pub fn known(&self, code: &str) -> Result<String> {
        let up = code.trim().to_ascii_uppercase();
        if self.rates.contains_key(&up) {
            Ok(up)
        } else {
            Err(Error::input(format!(
                "unknown currency '{code}': fx.toml has rates for {} (add one to <config dir>/pricing/fx.toml)",
                self.currencies().collect::<Vec<_>>().join(", ")
            )))
        }
    }

    /// Convert `amount` from one currency to another.
    pub fn convert(&self, amount: f64, from: &str, to: &str) -> Result<f64> {
        if from == to {
            return Ok(amount);
        }
        let rate = |c: &str| {
            self.rate(c)
                .or_else(|| self.rate(&c.to_ascii_uppercase()))
                .ok_or_else(|| {
                    Error::input(format!(
                        "no exchange rate for '{c}': fx.toml has {} (as of {})",
                        self.currencies().collect::<Vec<_>>().join(", "),
                        self.as_of
                    ))
                })
        };
        Ok(amount / rate(from)? * rate(to)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FX: &str = "base = \"USD\"\nas_of = \"2026-06-19\"\nsource = \"x\"\n[rates]\nUSD = 1.0\nCNY = 6.7686\nEUR = 0.9\n";

    #[test]
    fn converts_through_the_base() {
        let fx = Fx::parse("fx.toml", FX).unwrap();
        // 10 USD x 6.7686 = 67.686 CNY.
        assert!((fx.convert(10.0, "USD", "CNY").unwrap() - 67.686).abs() < 1e-9);
        // 67.686 CNY / 6.7686 = 10 USD.
        assert!((fx.convert(67.686, "CNY", "USD").unwrap() - 10.0).abs() < 1e-9);
        // 6.7686 CNY = 1 USD = 0.9 EUR.
        assert!((fx.convert(6.7686, "CNY", "EUR").unwrap() - 0.9).abs() < 1e-9);
        assert!(fx
            .convert(1.0, "USD", "JPY")
            .unwrap_err()
            .to_string()
            .contains("JPY"));
        assert_eq!(fx.known("cny").unwrap(), "CNY");
    }

    #[test]
    fn rejects_bad_rates_with_positions() {
        let text = FX
            .replace("CNY = 6.7686", "CNY = -6.7")
            .replace("2026-06-19", "2026-06-31");
        let errs = Fx::check("fx.toml", &text).unwrap_err();
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("fx.toml:2:9:") && msgs[0].contains("not a date"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].starts_with("fx.toml:6:7:") && msgs[1].contains("positive"),
            "{msgs:?}"
        );
    }
}
