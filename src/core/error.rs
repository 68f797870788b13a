//! One error type for the whole library.
//!
//! Every variant renders as a single line that says what is wrong and how to fix it. `main` maps
//! [`Error::is_user_error`] to exit code 2 and everything else to exit code 1.

use std::path::PathBuf;

/// Errors the core and the command line can report.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A flag or value the user gave is not acceptable.
    #[error("{0}")]
    Input(String),
    /// An id that names nothing in a catalogue (`kind` is `model`, `hardware`, ...).
    #[error("unknown {kind} '{name}': {}known: {}", did_you_mean(.suggestion), .known.join(", "))]
    Unknown {
        /// What the id should name: `model`, `hardware`, ...
        kind: &'static str,
        /// The id as given.
        name: String,
        /// The closest known name, when one is close enough to be a likely typo.
        suggestion: Option<String>,
        /// Every known id.
        known: Vec<String>,
    },
    /// A value outside what a field accepts. `field` is the canonical name (`seq-len`) that
    /// starts the message: the CLI shows it as a flag (`--seq-len`), the TUI as its label.
    #[error("{field} must be {expected} (got {value})")]
    Invalid {
        /// Canonical field name, e.g. `seq-len`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What the field accepts.
        expected: String,
    },
    /// A value larger than any real model or job has (same `field` convention as `Invalid`).
    #[error("{field} = {value} is absurd: at most {max} is accepted")]
    Absurd {
        /// Canonical field name, e.g. `seq-len`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// The largest accepted value.
        max: String,
    },
    /// A data file (profile, pricing table, calibration, config.json) could not be parsed.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file's path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file's path.
        path: PathBuf,
        /// The underlying error, as text.
        message: String,
    },
    /// A network fetch failed.
    #[error("{0}")]
    Network(String),
    /// A `--fail-if-*` threshold was crossed.
    #[error("{0}")]
    Threshold(String),
    /// A bug or an environment problem that the user cannot fix by changing their input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Build an input error from anything printable.
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// Build an I/O error that names the file.
    pub fn io(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }

    /// A parse error at a byte offset of `text`, converted to 1-based line and column.
    pub fn parse_at(
        path: &str,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = offset.map_or((1, 1), |o| line_col(text, o));
        Error::Parse {
            path: path.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The field an `Invalid` or `Absurd` error is about (the first word of its message).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } | Error::Absurd { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the error is the user's to fix (exit code 2) rather than ours (exit code 1).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("did you mean '{s}'? "))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parse TOML into `T`, reporting errors as `path:line:col: message`.
pub fn from_toml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        Error::parse_at(path, text, offset, e.message().trim().to_string())
    })
}

/// Parse JSON into `T`, reporting errors as `path:line:col: message`.
pub fn from_json<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Parse {
        path: path.to_string(),
        line: e.line().max(1),
        column: e.column().max(1),
        message: strip_json_position(&e.to_string()),
    })
}

fn strip_json_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nb = [\nc";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 10), (2, 5));
    }

    #[test]
    fn toml_errors_carry_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let err = from_toml::<T>("x.toml", "\n\na = \"nope\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml:3:5:"), "{msg}");
    }
}
