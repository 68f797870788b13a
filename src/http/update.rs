//! `pricing update --from URL`: fetch a table, validate it completely, and only then replace the
//! user's copy atomically (temp file in the same directory, fsync, rename), keeping the previous
//! file as `<name>.bak`. Whatever fails, the installed table is left byte-for-byte as it was.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::core::error::{Error, Result};
use crate::core::pricing::install::{install, locked, validate_fetched, UpdateOutcome};

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
    /// Refuse a body without `Content-Length` (tables: a cut-off one could pass for whole).
    /// APIs whose JSON cannot parse when cut may stream without one.
    pub require_length: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_bytes: MAX_TABLE_BYTES,
            require_length: true,
        }
    }
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
    let parsed =
        reqwest::Url::parse(url).map_err(|e| Error::input(format!("'{url}' is not a URL: {e}")))?;
    if !scheme_allowed(&parsed) {
        return Err(Error::input(format!(
            "'{url}': only https:// URLs are accepted (http:// only for 127.0.0.1, ::1 or localhost)"
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
    fetch_authorized(url, opts, None)
}

/// A failed fetch of `url`, and why.
fn failed(url: &str, why: String) -> Error {
    Error::Network(format!("fetching {url} failed: {why}"))
}

/// A transport error of a fetch of `url` on one line: a timeout names the limits.
fn net_error(url: &str, opts: &FetchOptions, e: &(dyn std::error::Error + 'static)) -> Error {
    if is_timeout(e) {
        failed(
            url,
            format!(
                "timed out (connect limit {:?}, total limit {:?})",
                opts.connect_timeout, opts.timeout
            ),
        )
    } else {
        failed(url, chain(e))
    }
}

/// A successful response to a GET of `url` (the body unread), when the request started, and the
/// client, which must outlive the body: dropping it stops the runtime streaming the body.
fn get(
    url: &str,
    opts: &FetchOptions,
    token: Option<&str>,
) -> Result<(
    reqwest::blocking::Response,
    std::time::Instant,
    reqwest::blocking::Client,
)> {
    send(url, opts, token.map(Auth::Bearer), None)
}

/// How a request proves who sends it.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// A key in a named header (Google's `x-goog-api-key`), kept out of the URL and so out of
    /// every error message.
    Header(&'static str, &'a str),
}

/// [`get`], or with `json` a POST of that JSON body (GraphQL APIs).
fn send(
    url: &str,
    opts: &FetchOptions,
    auth: Option<Auth>,
    json: Option<&str>,
) -> Result<(
    reqwest::blocking::Response,
    std::time::Instant,
    reqwest::blocking::Client,
)> {
    let parsed = check_url(url)?;
    let fail = |why: String| failed(url, why);
    let net = |e: &(dyn std::error::Error + 'static)| net_error(url, opts, e);
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
    let started = std::time::Instant::now();
    let mut request = match json {
        None => client.get(parsed),
        Some(body) => client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string()),
    };
    match auth {
        Some(Auth::Bearer(t)) => request = request.bearer_auth(t),
        Some(Auth::Header(name, value)) => request = request.header(name, value),
        None => {}
    }
    let resp = request.send().map_err(|e| net(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    Ok((resp, started, client))
}

/// A response body read against the fetch's limits: the whole-transfer deadline, the byte
/// limit, and (when declared) the Content-Length, so a cut-off stream is an error, not an end.
struct Limited {
    inner: reqwest::blocking::Response,
    _client: reqwest::blocking::Client,
    started: std::time::Instant,
    timeout: Duration,
    max_bytes: u64,
    declared: Option<u64>,
    read: u64,
}

impl std::io::Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let err = |m: String| std::io::Error::other(m);
        if self.started.elapsed() > self.timeout {
            return Err(err(format!(
                "timed out after {:?} with {} bytes (total limit {:?})",
                self.started.elapsed(),
                self.read,
                self.timeout
            )));
        }
        let n = self.inner.read(buf).map_err(|e| {
            let of = self.declared.map_or(String::new(), |l| format!(" of {l}"));
            err(format!(
                "truncated: the download broke off after {}{of} bytes ({e})",
                self.read
            ))
        })?;
        self.read += n as u64;
        if self.read > self.max_bytes {
            return Err(err(format!(
                "the body is over the {}-byte limit",
                self.max_bytes
            )));
        }
        if let (0, Some(len)) = (n, self.declared) {
            if self.read < len {
                return Err(err(format!(
                    "truncated: {} of {len} bytes arrived",
                    self.read
                )));
            }
        }
        Ok(n)
    }
}

/// Stream `url`'s body to `f` within the limits of `opts` (for bodies too large to hold, such
/// as AWS's offer files); an error while reading names the URL.
pub fn fetch_streaming<T>(
    url: &str,
    opts: &FetchOptions,
    f: impl FnOnce(&mut dyn std::io::Read) -> Result<T>,
) -> Result<T> {
    let (resp, started, client) = get(url, opts, None)?;
    let declared = resp.content_length();
    if declared.is_some_and(|l| l > opts.max_bytes) {
        return Err(Error::Network(format!(
            "fetching {url} failed: the body is over the {}-byte limit",
            opts.max_bytes
        )));
    }
    let mut body = Limited {
        inner: resp,
        _client: client,
        started,
        timeout: opts.timeout,
        max_bytes: opts.max_bytes,
        declared,
        read: 0,
    };
    f(&mut body)
}

/// [`fetch`] with an `Authorization: Bearer` token (gated Hugging Face repositories).
pub fn fetch_authorized(url: &str, opts: &FetchOptions, token: Option<&str>) -> Result<String> {
    read_body(url, opts, send(url, opts, token.map(Auth::Bearer), None)?)
}

/// [`fetch`] with a key in a named header.
pub fn fetch_with_header(
    url: &str,
    opts: &FetchOptions,
    header: &'static str,
    key: &str,
) -> Result<String> {
    read_body(
        url,
        opts,
        send(url, opts, Some(Auth::Header(header, key)), None)?,
    )
}

/// POST `json` to `url` (a GraphQL query) and read the answer as [`fetch`] reads a body.
pub fn post_json(
    url: &str,
    opts: &FetchOptions,
    token: Option<&str>,
    json: &str,
) -> Result<String> {
    read_body(
        url,
        opts,
        send(url, opts, token.map(Auth::Bearer), Some(json))?,
    )
}

/// A response's body as UTF-8 text, within the limits of `opts`.
fn read_body(
    url: &str,
    opts: &FetchOptions,
    (mut resp, started, _client): (
        reqwest::blocking::Response,
        std::time::Instant,
        reqwest::blocking::Client,
    ),
) -> Result<String> {
    let fail = |why: String| failed(url, why);
    let net = |e: &(dyn std::error::Error + 'static)| net_error(url, opts, e);
    // Without a length a cut-off download cannot be told from a whole one (a JSON API's body
    // can: it no longer parses).
    let len =
        match resp.content_length() {
            Some(len) => len,
            None if !opts.require_length => opts.max_bytes,
            None => return Err(fail(
                "the server sent no Content-Length, so a truncated download could not be detected"
                    .into(),
            )),
        };
    let declared = resp.content_length().is_some();
    if len > opts.max_bytes {
        return Err(fail(format!(
            "the body is {len} bytes, over the {}-byte limit",
            opts.max_bytes
        )));
    }
    // Read against one deadline for the whole download: a server trickling a byte a second
    // must not stretch --timeout-secs.
    let mut body = Vec::with_capacity(len.min(1 << 20) as usize);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if started.elapsed() > opts.timeout {
            return Err(fail(format!(
                "timed out after {:?} with {} of {len} bytes (total limit {:?})",
                started.elapsed(),
                body.len(),
                opts.timeout
            )));
        }
        let n = resp.read(&mut chunk).map_err(|e| net(&e))?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        if body.len() as u64 > len {
            return Err(fail(if declared {
                format!("the body is longer than its Content-Length of {len} bytes")
            } else {
                format!("the body is over the {len}-byte limit")
            }));
        }
    }
    if declared && (body.len() as u64) < len {
        return Err(fail(format!(
            "truncated: {} of {len} bytes arrived",
            body.len()
        )));
    }
    String::from_utf8(body).map_err(|_| fail("the body is not UTF-8 text".into()))
}

/// Fetch a table from `url`, validate it, and install it as `<config_dir>/pricing/<provider>.toml`
/// under the pricing directory's lock. A table that would lose more than a fifth of the offers
/// (or some hardware) of the one in force is refused unless `allow_shrink`.
pub fn update(
    config_dir: &Path,
    url: &str,
    provider: Option<&str>,
    opts: &FetchOptions,
    allow_shrink: bool,
) -> Result<UpdateOutcome> {
    let text = fetch(url, opts)?;
    install_fetched(config_dir, url, &text, provider, allow_shrink)
}

/// Validate a fetched table (`source` names where it came from) and install it, as [`update`]
/// does after its download: under the pricing directory's lock, refusing a shrink unless
/// `allow_shrink`.
pub fn install_fetched(
    config_dir: &Path,
    source: &str,
    text: &str,
    provider: Option<&str>,
    allow_shrink: bool,
) -> Result<UpdateOutcome> {
    let dir = crate::core::pricing::user_dir(config_dir);
    locked(&dir, || {
        let (name, provider, offers, as_of) =
            validate_fetched(config_dir, source, text, provider, allow_shrink).map_err(|e| {
                Error::input(format!(
                    "{e} (the download was rejected; nothing was changed)"
                ))
            })?;
        let backup = install(&dir, &name, text.as_bytes())?;
        Ok(UpdateOutcome {
            provider,
            path: dir.join(&name),
            backup,
            offers,
            as_of,
        })
    })
}
