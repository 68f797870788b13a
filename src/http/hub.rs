//! `--model OWNER/NAME[@REVISION]`: a Hugging Face repository's `config.json`, fetched over HTTPS
//! (`HF_ENDPOINT` for a mirror, `HF_TOKEN` for gated repositories) and cached under the cache
//! directory by repository and revision, so that later runs work offline. Importing the text is
//! the core's ([`crate::core::arch::import_hf_config`]); this module fetches and caches.
//!
//! Wart: a cached revision is used as is; a moving revision such as `main` is refreshed only by
//! deleting its cache file (the note says where it is).

use std::path::{Path, PathBuf};

use super::update::{fetch_authorized, FetchOptions};
use crate::core::data;
use crate::core::error::{Error, Result};

/// The Hub's address when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// A repository id and revision, checked to be safe in a URL and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRef {
    /// `OWNER/NAME`.
    pub repo: String,
    /// A branch, tag or commit (`main` by default).
    pub revision: String,
}

impl HubRef {
    /// `OWNER/NAME` or `OWNER/NAME@REVISION` (default revision `main`); `None` when `id` is not
    /// shaped like a repository id (a catalogue id or alias).
    pub fn parse(id: &str) -> Option<Result<HubRef>> {
        let (repo, revision) = match id.split_once('@') {
            Some((r, rev)) => (r, rev),
            None => (id, "main"),
        };
        let (owner, name) = repo.split_once('/')?;
        let part_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 96
                && !s.starts_with(['.', '-'])
                && !s.contains("..")
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let rev_ok = !revision.is_empty()
            && revision.len() <= 128
            && !revision.contains("..")
            && revision
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        Some(if part_ok(owner) && part_ok(name) && rev_ok {
            Ok(HubRef {
                repo: repo.to_string(),
                revision: revision.to_string(),
            })
        } else {
            Err(Error::input(format!(
                "--model '{id}' is not a Hugging Face repository id: expected OWNER/NAME or OWNER/NAME@REVISION (letters, digits, '-', '_', '.')"
            )))
        })
    }

    /// Where the config is cached: `<cache>/hub/OWNER/NAME/REVISION/config.json`.
    pub fn cache_file(&self, cache: &Path) -> PathBuf {
        cache
            .join("hub")
            .join(&self.repo)
            .join(&self.revision)
            .join("config.json")
    }

    /// `ENDPOINT/OWNER/NAME/resolve/REVISION/config.json`.
    pub fn url(&self, endpoint: &str) -> String {
        format!(
            "{}/{}/resolve/{}/config.json",
            endpoint.trim_end_matches('/'),
            self.repo,
            self.revision
        )
    }
}

/// Where a config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from the cache file.
    Cache(PathBuf),
    /// Downloaded from this URL (and cached at the path, when there is a cache directory).
    Fetched(String, Option<PathBuf>),
}

/// The text of a repository's `config.json`: from the cache when there, else fetched from
/// `endpoint` and checked with `check` (the importer) before it is cached.
pub fn config_json(
    hub: &HubRef,
    endpoint: &str,
    token: Option<&str>,
    cache: Option<&Path>,
    check: impl Fn(&str) -> Result<()>,
) -> Result<(String, Origin)> {
    let cached = cache.map(|c| hub.cache_file(c));
    if let Some(path) = &cached {
        if path.is_file() {
            let f = data::read_file(path)?;
            return Ok((f.text, Origin::Cache(path.clone())));
        }
    }
    let url = hub.url(endpoint);
    let opts = FetchOptions {
        max_bytes: 1024 * 1024,
        ..FetchOptions::default()
    };
    let text = fetch_authorized(&url, &opts, token).map_err(|e| match e {
        Error::Network(m) => Error::Network(format!(
            "{m} (--model {}: set HF_ENDPOINT for a mirror, HF_TOKEN for a gated repository, or use --model-config with a local config.json)",
            hub.repo
        )),
        other => other,
    })?;
    // Only a config the importer accepts is cached: a bad download is never reused.
    check(&text)?;
    if let Some(path) = &cached {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        data::write_atomic(path, text.as_bytes())?;
    }
    Ok((text, Origin::Fetched(url, cached)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_ids_parse_and_unsafe_ones_are_refused() {
        let r = HubRef::parse("Qwen/Qwen3-8B").unwrap().unwrap();
        assert_eq!(
            (r.repo.as_str(), r.revision.as_str()),
            ("Qwen/Qwen3-8B", "main")
        );
        assert_eq!(
            r.url("https://hf-mirror.com/"),
            "https://hf-mirror.com/Qwen/Qwen3-8B/resolve/main/config.json"
        );
        let pinned = HubRef::parse("Qwen/Qwen3-8B@9c925d6").unwrap().unwrap();
        assert_eq!(
            pinned.cache_file(Path::new("/c")),
            Path::new("/c/hub/Qwen/Qwen3-8B/9c925d6/config.json")
        );
        // Not a repository id: a catalogue id.
        assert!(HubRef::parse("qwen3-8b").is_none());
        for bad in ["../x/y", "a/..", "a/b/c", "a/b@../..", "a/ b", "/b", "a/"] {
            assert!(matches!(HubRef::parse(bad), Some(Err(_))), "{bad}");
        }
    }
}
