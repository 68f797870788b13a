//! Where data files come from: embedded defaults and the user's directories.
//!
//! Every table (models, hardware, pricing) ships inside the binary. A user directory adds files or
//! replaces embedded ones with the same file name. The directories are
//! `$PEFTCOST_CONFIG_DIR` (or the XDG config dir, e.g. `~/.config/peftcost`) for profiles and
//! pricing, and `$PEFTCOST_DATA_DIR` (or the XDG data dir) for calibrations.

use std::path::{Path, PathBuf};

use crate::core::error::{Error, Result};

/// One data file: a display path (for error messages) and its text.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// Path shown in error messages (`<embedded>/...` for built-in files).
    pub path: String,
    /// File name without its directory.
    pub name: String,
    /// The file's contents.
    pub text: String,
}

impl DataFile {
    /// A file compiled into the binary, named by its repository path.
    pub fn embedded(path: &str, text: &str) -> Self {
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        DataFile {
            path: format!("<embedded>/{path}"),
            name,
            text: text.to_string(),
        }
    }
}

/// The user's configuration directory, if one can be determined.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PEFTCOST_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "peftcost").map(|d| d.config_dir().to_path_buf())
}

/// The user's data directory (calibrations), if one can be determined.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PEFTCOST_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "peftcost").map(|d| d.data_dir().to_path_buf())
}

/// Read every `*.toml` in `dir`, sorted by name. A missing directory is empty, not an error.
pub fn read_toml_dir(dir: &Path) -> Result<Vec<DataFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    paths.iter().map(|p| read_file(p)).collect()
}

/// Read one file as text.
pub fn read_file(path: &Path) -> Result<DataFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(DataFile {
        path: path.display().to_string(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        text,
    })
}

/// Embedded files overlaid by the user's: a user file with the same name replaces the embedded one.
pub fn overlay(embedded: Vec<DataFile>, user: Vec<DataFile>) -> Vec<DataFile> {
    let mut out: Vec<DataFile> = embedded
        .into_iter()
        .filter(|e| !user.iter().any(|u| u.name == e.name))
        .collect();
    out.extend(user);
    out
}

/// Normalise a name a user typed: lowercase, `_` and spaces as `-`.
pub fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// The closest of `candidates` to `name`, if it is close enough to be a likely typo.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = normalise(name);
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&name, c), c))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Write `bytes` to `path` atomically: a new temporary file (`create_new`, a name no other
/// process uses) in the same directory, fsync, rename, fsync of the directory. On any error the
/// previous file (if any) is untouched and the temporary file removed. The one writer of every
/// file peftcost installs (price tables, calibrations, the last model).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::input(format!("{}: not a file name", path.display())))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".{}.{}.{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    // Make the rename itself durable.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `<data dir>/calibration.json`: where `bench` writes and every command looks for a calibration.
pub fn default_calibration_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("calibration.json"))
}

/// Remember the model of the last `estimate` (best effort: `bench` measures it by default).
pub fn remember_last_model(id: &str) {
    if let Some(dir) = data_dir() {
        let _ = write_atomic(&dir.join("last-model"), id.as_bytes());
    }
}

/// The model of the last `estimate`, if one was remembered.
pub fn last_model() -> Option<String> {
    let text = std::fs::read_to_string(data_dir()?.join("last-model")).ok()?;
    let id = text.trim();
    (!id.is_empty() && id.len() < 200).then(|| id.to_string())
}
