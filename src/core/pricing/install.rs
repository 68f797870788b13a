//! Installing a price table into the user's config dir: validate it in the context of the
//! user's other tables, then replace the file atomically, keeping the previous one as `.bak`.
//! The download itself is the front-end's (`crate::http`); this module never touches the network.

use std::path::{Path, PathBuf};

use super::table::{is_provider_name, PriceTable};
use super::{Fx, PricingCatalog, FX_FILE};
use crate::core::data::{self, DataFile};
use crate::core::error::{Error, Result};
use crate::core::hardware::HardwareCatalog;

/// What an update installed.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    /// The provider, or `fx` for the exchange-rate table.
    pub provider: String,
    /// Where the table was installed.
    pub path: PathBuf,
    /// The previous user copy, if there was one.
    pub backup: Option<PathBuf>,
    /// Number of offers in the installed table (0 for `fx`).
    pub offers: usize,
    /// Date of the installed prices or rates (`YYYY-MM-DD`).
    pub as_of: String,
}

/// Validate fetched text as the table it claims to be, in the context of the user's other
/// tables. Returns the file name to install it under, the provider, offers and as_of.
pub fn validate_fetched(
    config_dir: &Path,
    source: &str,
    text: &str,
    provider: Option<&str>,
) -> Result<(String, String, usize, String)> {
    let hardware = HardwareCatalog::load(Some(config_dir))?;
    let wanted = provider.map(data::normalise);
    if let Some(p) = &wanted {
        if p != "fx" && !is_provider_name(p) {
            return Err(Error::input(format!(
                "--provider '{p}' must be lowercase letters, digits and '-'"
            )));
        }
    }
    let user = data::read_toml_dir(&super::user_dir(config_dir))?;
    let (name, provider, offers, as_of) = if wanted.as_deref() == Some("fx") {
        let fx = Fx::parse(source, text)?;
        (FX_FILE.to_string(), "fx".to_string(), 0, fx.as_of)
    } else {
        // Currencies are checked against the fx table in force (user copy if valid, else embedded).
        let fx = match user.iter().find(|f| f.name == FX_FILE) {
            Some(f) => Fx::parse(&f.path, &f.text).ok(),
            None => None,
        };
        let fx = match fx {
            Some(fx) => fx,
            None => PricingCatalog::embedded()?.fx,
        };
        let t = PriceTable::parse(source, text, &hardware, Some(&fx))?;
        if let Some(p) = &wanted {
            if *p != t.provider {
                return Err(Error::input(format!(
                    "{source}: the table is for provider '{}', not '{p}'",
                    t.provider
                )));
            }
        }
        (
            format!("{}.toml", t.provider),
            t.provider,
            t.offers.len(),
            t.as_of,
        )
    };
    // The catalog as it will be after the update must load (e.g. no other user file may define
    // the same provider; a new fx table must still cover every table's currency).
    let mut files: Vec<DataFile> = user.into_iter().filter(|f| f.name != name).collect();
    files.push(DataFile {
        path: source.to_string(),
        name: name.clone(),
        text: text.to_string(),
    });
    PricingCatalog::from_files(&data::overlay(super::embedded_files(), files), &hardware)?;
    Ok((name, provider, offers, as_of))
}

/// Replace `dir/name` with `bytes` atomically, keeping the previous file as `dir/name.bak`.
/// Returns the backup's path when there was a previous file. On any error `dir/name` is
/// unchanged.
pub fn install(dir: &Path, name: &str, bytes: &[u8]) -> Result<Option<PathBuf>> {
    let target = dir.join(name);
    let backup = if target.is_file() {
        let old = std::fs::read(&target).map_err(|e| Error::io(&target, e))?;
        let bak = dir.join(format!("{name}.bak"));
        data::write_atomic(&bak, &old)?;
        Some(bak)
    } else {
        None
    };
    data::write_atomic(&target, bytes)?;
    Ok(backup)
}
