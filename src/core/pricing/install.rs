//! Installing a price table into the user's config dir: check it is whole (a completeness
//! marker or its offer count), that it does not silently shrink the table it replaces, and that
//! it validates in the context of the user's other tables; then replace the file atomically
//! under a lock, keeping [`BACKUPS`] previous generations (`.bak`, `.bak.1`, ...). The download
//! itself is the front-end's (`crate::http`); this module never touches the network.
//!
//! Wart: with only an offer count, a cut inside the last offer's last number still passes the
//! table check; the download's Content-Length check (in `crate::http`) is what catches it.

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

/// The last line of a complete table (every shipped table ends with it).
pub const END_MARKER: &str = "# end of peftcost table";

/// Previous versions kept of an installed table.
pub const BACKUPS: usize = 3;

/// A table may lose at most this fraction of the offers of the one it replaces without
/// `--allow-shrink`.
pub const MAX_SHRINK: f64 = 0.2;

/// Whether `text` ends with [`END_MARKER`] (trailing blank lines allowed).
pub fn has_end_marker(text: &str) -> bool {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim() == END_MARKER)
}

/// Why a fetched table may not replace `old` without `--allow-shrink`: it lists much fewer
/// offers, or loses hardware the current table has.
fn shrink_problem(old: &PriceTable, new: &PriceTable) -> Option<String> {
    let (n_old, n_new) = (old.offers.len(), new.offers.len());
    let lost: std::collections::BTreeSet<&str> = old
        .offers
        .iter()
        .map(|o| o.hardware.as_str())
        .filter(|h| !new.offers.iter().any(|o| o.hardware == *h))
        .collect();
    let shrinks = (n_new as f64) < (n_old as f64) * (1.0 - MAX_SHRINK);
    if !shrinks && lost.is_empty() {
        return None;
    }
    let mut why = format!(
        "it would replace {} offers of {} with {n_new}",
        n_old, old.provider
    );
    if !lost.is_empty() {
        why.push_str(&format!(
            " and lose every offer of {}",
            lost.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Some(why)
}

/// Validate fetched text as the table it claims to be, in the context of the user's other
/// tables: it must be whole (it ends with [`END_MARKER`] or carries a matching `offer_count`),
/// and may not shrink the table in force unless `allow_shrink`. Returns the file name to install
/// it under, the provider, offers and as_of.
pub fn validate_fetched(
    config_dir: &Path,
    source: &str,
    text: &str,
    provider: Option<&str>,
    allow_shrink: bool,
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
        if !has_end_marker(text) {
            return Err(Error::input(format!(
                "{source}: the table does not end with '{END_MARKER}': it may be cut off"
            )));
        }
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
        if !has_end_marker(text) && t.offer_count.is_none() {
            return Err(Error::input(format!(
                "{source}: the table neither ends with '{END_MARKER}' nor says its offer_count: it may be cut off"
            )));
        }
        let name = format!("{}.toml", t.provider);
        let current = match user.iter().find(|f| f.name == name) {
            Some(f) => PriceTable::parse(&f.path, &f.text, &hardware, Some(&fx)).ok(),
            None => PricingCatalog::embedded()
                .ok()
                .and_then(|c| c.tables.into_iter().find(|x| x.provider == t.provider)),
        };
        if let Some(old) = current.filter(|_| !allow_shrink) {
            if let Some(why) = shrink_problem(&old, &t) {
                return Err(Error::input(format!(
                    "{source}: {why}; add --allow-shrink if that is intended"
                )));
            }
        }
        (name, t.provider, t.offers.len(), t.as_of)
    };
    // The catalog as it will be after the update must load (e.g. no other user file may define
    // the same provider; a new fx table must still cover every table's currency).
    let mut files: Vec<DataFile> = user.into_iter().filter(|f| f.name != name).collect();
    files.push(DataFile {
        path: source.to_string(),
        name: name.clone(),
        text: text.to_string(),
    });
    PricingCatalog::from_files(&data::overlay(super::embedded_files(), files), &hardware).map_err(
        |e| {
            Error::input(format!(
                "the table itself is valid, but not with your other tables in {}: {e}",
                super::user_dir(config_dir).display()
            ))
        },
    )?;
    Ok((name, provider, offers, as_of))
}

/// Hold the pricing directory's lock while `f` reads, validates and installs: two updates never
/// interleave, and the second validates against what the first installed.
pub fn locked<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(".update.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    lock.lock().map_err(|e| Error::io(&path, e))?;
    let out = f();
    let _ = lock.unlock();
    out
}

/// The `n`-th backup of `name` (0: the newest, `name.bak`).
pub fn backup_path(dir: &Path, name: &str, n: usize) -> PathBuf {
    if n == 0 {
        dir.join(format!("{name}.bak"))
    } else {
        dir.join(format!("{name}.bak.{n}"))
    }
}

/// Replace `dir/name` with `bytes` atomically, keeping the previous file as `dir/name.bak` and
/// older ones as `.bak.1` .. `.bak.{BACKUPS - 1}`. Returns the backup's path when there was a
/// previous file. On any error `dir/name` is unchanged.
pub fn install(dir: &Path, name: &str, bytes: &[u8]) -> Result<Option<PathBuf>> {
    let target = dir.join(name);
    let backup = if target.is_file() {
        let old = std::fs::read(&target).map_err(|e| Error::io(&target, e))?;
        for n in (1..BACKUPS).rev() {
            let from = backup_path(dir, name, n - 1);
            if from.is_file() {
                let b = std::fs::read(&from).map_err(|e| Error::io(&from, e))?;
                data::write_atomic(&backup_path(dir, name, n), &b)?;
            }
        }
        let bak = backup_path(dir, name, 0);
        data::write_atomic(&bak, &old)?;
        Some(bak)
    } else {
        None
    };
    data::write_atomic(&target, bytes)?;
    Ok(backup)
}

/// `pricing rollback PROVIDER`: put the newest backup back, after validating it with the
/// user's other tables; the current table becomes the backup (a second rollback undoes it).
pub fn rollback(config_dir: &Path, provider: &str) -> Result<UpdateOutcome> {
    let provider = data::normalise(provider);
    let name = if provider == "fx" {
        FX_FILE.to_string()
    } else {
        format!("{provider}.toml")
    };
    let dir = super::user_dir(config_dir);
    locked(&dir, || {
        let bak = backup_path(&dir, &name, 0);
        let target = dir.join(&name);
        if !bak.is_file() {
            return Err(Error::input(format!(
                "{}: no backup to roll back to (an update keeps one)",
                bak.display()
            )));
        }
        let text = data::read_file(&bak)?.text;
        let (_, provider, offers, as_of) = validate_fetched(
            config_dir,
            &bak.display().to_string(),
            &text,
            Some(&provider),
            true,
        )?;
        let current = std::fs::read(&target).map_err(|e| Error::io(&target, e))?;
        data::write_atomic(&bak, &current)?;
        data::write_atomic(&target, text.as_bytes())?;
        Ok(UpdateOutcome {
            provider,
            path: target.clone(),
            backup: Some(bak.clone()),
            offers,
            as_of,
        })
    })
}
