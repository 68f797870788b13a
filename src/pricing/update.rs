//! `pricing update --from URL`: fetch a table, validate it completely, and only then replace the
//! user's copy atomically (temp file in the same directory, fsync, rename), keeping the previous
//! file as `<name>.bak`. Whatever fails, the installed table is left byte-for-byte as it was.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::table::{is_provider_name, PriceTable};
use super::{Fx, PricingCatalog, FX_FILE};
use crate::data::{self, DataFile};
use crate::error::{Error, Result};
use crate::hardware::HardwareCatalog;

/// Refuse bodies larger than this by default (2 MiB; the largest shipped table is ~15 KiB).
pub const MAX_TABLE_BYTES: u64 = 2 * 1024 * 1024;

/// Limits of one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Time allowed to establish the connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for the whole request including the body (default 30 s).
    pub timeout: Duration,
    /// Largest body accepted, in bytes (default [`MAX_TABLE_BYTES`]).
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_bytes: MAX_TABLE_BYTES,
        }
    }
}

/// What an update installed.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    /// The provider, or `fx` for the exchange-rate table.
    pub provider: String,
    pub path: PathBuf,
    /// The previous user copy, if there was one.
    pub backup: Option<PathBuf>,
    pub offers: usize,
    pub as_of: String,
}

/// Whether a URL's host is a loopback address (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

fn scheme_allowed(url: &reqwest::Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

/// Parse a URL and require HTTPS, except plain HTTP to a loopback address.
pub fn check_url(url: &str) -> Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::input(format!("--from '{url}' is not a URL: {e}")))?;
    if !scheme_allowed(&parsed) {
        return Err(Error::input(format!(
            "--from '{url}': only https:// URLs are accepted (http:// only for 127.0.0.1, ::1 or localhost)"
        )));
    }
    Ok(parsed)
}

/// The error and its causes on one line, without repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string().replace(['\n', '\r'], " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<reqwest::Error>() {
            if r.is_timeout() {
                return true;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// Fetch `url` as UTF-8 text within the limits of `opts`.
pub fn fetch(url: &str, opts: &FetchOptions) -> Result<String> {
    let parsed = check_url(url)?;
    let fail = |why: String| Error::Network(format!("fetching {url} failed: {why}"));
    let net = |e: &(dyn std::error::Error + 'static)| {
        if is_timeout(e) {
            fail(format!(
                "timed out (connect limit {:?}, total limit {:?})",
                opts.connect_timeout, opts.timeout
            ))
        } else {
            fail(chain(e))
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::blocking::Client::builder()
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .user_agent(concat!("peftcost/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if scheme_allowed(attempt.url()) {
                attempt.follow()
            } else {
                attempt.error("redirect to a non-HTTPS URL refused")
            }
        }));
    if is_loopback(&parsed) {
        builder = builder.no_proxy();
    }
    let client = builder
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {}", chain(&e))))?;
    let resp = client.get(parsed).send().map_err(|e| net(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    if let Some(len) = resp.content_length() {
        if len > opts.max_bytes {
            return Err(fail(format!(
                "the body is {len} bytes, over the {}-byte limit",
                opts.max_bytes
            )));
        }
    }
    let mut body = Vec::new();
    resp.take(opts.max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|e| net(&e))?;
    if body.len() as u64 > opts.max_bytes {
        return Err(fail(format!(
            "the body is over the {}-byte limit",
            opts.max_bytes
        )));
    }
    String::from_utf8(body).map_err(|_| fail("the body is not UTF-8 text".into()))
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

/// Fetch a table from `url`, validate it, and install it as `<config_dir>/pricing/<provider>.toml`.
pub fn update(
    config_dir: &Path,
    url: &str,
    provider: Option<&str>,
    opts: &FetchOptions,
) -> Result<UpdateOutcome> {
    let text = fetch(url, opts)?;
    let (name, provider, offers, as_of) = validate_fetched(config_dir, url, &text, provider)
        .map_err(|e| {
            Error::input(format!(
                "{e} (downloaded table rejected; nothing was changed)"
            ))
        })?;
    let dir = super::user_dir(config_dir);
    let backup = install(&dir, &name, text.as_bytes())?;
    Ok(UpdateOutcome {
        provider,
        path: dir.join(&name),
        backup,
        offers,
        as_of,
    })
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}.{nanos}", std::process::id())
}

/// Write `bytes` to a new file in `dir` and fsync it; removes it again on failure.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let res = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(path);
        Error::io(path, e)
    })
}

/// Replace `dir/name` with `bytes` atomically, keeping the previous file as `dir/name.bak`.
/// Returns the backup's path when there was a previous file. On any error `dir/name` is
/// unchanged.
pub fn install(dir: &Path, name: &str, bytes: &[u8]) -> Result<Option<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", unique_suffix()));
    write_synced(&tmp, bytes)?;
    let cleanup = |e: Error| {
        let _ = std::fs::remove_file(&tmp);
        e
    };
    let backup = if target.is_file() {
        let old = std::fs::read(&target).map_err(|e| cleanup(Error::io(&target, e)))?;
        let bak = dir.join(format!("{name}.bak"));
        let bak_tmp = dir.join(format!(".{name}.bak.{}.tmp", unique_suffix()));
        write_synced(&bak_tmp, &old).map_err(cleanup)?;
        std::fs::rename(&bak_tmp, &bak).map_err(|e| {
            let _ = std::fs::remove_file(&bak_tmp);
            cleanup(Error::io(&bak, e))
        })?;
        Some(bak)
    } else {
        None
    };
    std::fs::rename(&tmp, &target).map_err(|e| cleanup(Error::io(&target, e)))?;
    // Make the rename itself durable.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(backup)
}
