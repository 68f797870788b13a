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

/// The user's cache directory (Hugging Face configs fetched for `--model OWNER/NAME`), if one
/// can be determined: `PEFTCOST_CACHE_DIR`, else the platform's (`~/.cache/peftcost`).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PEFTCOST_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "peftcost").map(|d| d.cache_dir().to_path_buf())
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

/// Most bytes a data file may have: profiles, price tables, configs and calibrations are a few
/// KB; the cap keeps `/dev/zero` or a runaway file from exhausting memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Read one file as text: a regular file (never a FIFO, device or directory, which could block
/// or never end) of at most [`MAX_FILE_BYTES`], in UTF-8.
pub fn read_file(path: &Path) -> Result<DataFile> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::input(format!(
            "{}: not a regular file (a directory, FIFO or device); give the path of a file",
            path.display()
        )));
    }
    let too_big = |n: u64| {
        Error::input(format!(
            "{}: {n} bytes or more, larger than the {MAX_FILE_BYTES} bytes a data file may have",
            path.display()
        ))
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::input(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
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

/// A temporary name no one can predict: the process id and 64 random bits (std's per-process
/// random hash keys), so a planted symlink cannot be waiting at it.
fn temp_name(name: &std::ffi::OsStr) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!(
        ".{}.{}.{:016x}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        h.finish()
    )
}

/// Remove temporary files of `name` that a killed writer left over an hour ago.
fn remove_stale_temps(dir: &Path, name: &std::ffi::OsStr) {
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let old = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if file.starts_with(&prefix) && file.ends_with(".tmp") && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Write `bytes` to `path` atomically: a new temporary file (`create_new`, an unpredictable name)
/// in the same directory, fsync, rename, fsync of the directory. The target must be a regular
/// file or not exist: a symlink, FIFO or device is refused, never replaced; a replaced file keeps
/// its permissions. On any error the previous file (if any) is untouched and the temporary file
/// removed. The one writer of every file peftcost writes (price tables, calibrations, reports,
/// imported profiles, the last model).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::input(format!("{}: not a file name", path.display())))?;
    let existing = check_target(path)?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    remove_stale_temps(&dir, name);
    let tmp = dir.join(temp_name(name));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(p) = &existing {
            f.set_permissions(p.clone())?;
        }
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

/// Whether [`write_atomic`] may write `path`: it does not exist, or is a regular file (whose
/// permissions are returned, to keep). A symlink, directory, FIFO or device is an error. Lets a
/// command check where it will write before it works (`bench` measures for seconds first).
pub fn check_target(path: &Path) -> Result<Option<std::fs::Permissions>> {
    Ok(match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Some(m.permissions()),
        Ok(m) => {
            let what = if m.file_type().is_symlink() {
                "a symbolic link"
            } else if m.is_dir() {
                "a directory"
            } else {
                "not a regular file (a FIFO, socket or device)"
            };
            return Err(Error::input(format!(
                "{}: is {what}; refusing to replace it, write to a regular file instead",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(path, e)),
    })
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
