//! Renderers: the same rows as a terminal table (comfy-table), Markdown, CSV or JSON.
//!
//! One document builder per answer (`estimate`, `plan`, `deploy`, `compare`, `bench`, and the
//! article's `tables`) turns what the core computed into a [`Document`] of [`Table`]s; nothing
//! here computes a number, it only formats. The command line picks the format.

pub mod article;
pub mod bench;
pub mod compare;
pub mod deploy;
pub mod estimate;
pub mod fmt;
pub mod i18n;
pub mod plan;
pub mod tables;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement};

use crate::core::error::{Error, Result};

/// One table: a title, headers and rows of formatted cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Table {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// What a command prints for people: tables and the notes under them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub tables: Vec<Table>,
    pub notes: Vec<String>,
    /// What precedes each note in a terminal ("note: " when empty; "注：" in Chinese).
    pub note_prefix: &'static str,
}

impl Document {
    /// Render for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&self.title);
            out.push('\n');
        }
        for t in &self.tables {
            if !t.title.is_empty() {
                out.push('\n');
                out.push_str(&t.title);
                out.push('\n');
            }
            let mut c = comfy_table::Table::new();
            c.load_style(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(t.headers.clone());
            for r in &t.rows {
                c.add_row(r.clone());
            }
            out.push_str(&c.to_string());
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push('\n');
            let prefix = if self.note_prefix.is_empty() {
                "note: "
            } else {
                self.note_prefix
            };
            for n in &self.notes {
                out.push_str(prefix);
                out.push_str(n);
                out.push('\n');
            }
        }
        out
    }

    /// Render as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&format!("# {}\n", self.title));
        }
        for t in &self.tables {
            out.push('\n');
            if !t.title.is_empty() {
                out.push_str(&format!("## {}\n\n", t.title));
            }
            let esc = |s: &str| s.replace('|', "\\|");
            out.push_str(&format!(
                "| {} |\n",
                t.headers
                    .iter()
                    .map(|h| esc(h))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
            out.push_str(&format!("|{}\n", "---|".repeat(t.headers.len())));
            for r in &t.rows {
                out.push_str(&format!(
                    "| {} |\n",
                    r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
                ));
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }
}

/// Write records as CSV with the csv crate (headers from the record type's field names).
pub fn to_csv<T: serde::Serialize>(records: &[T]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.serialize(r)
            .map_err(|e| Error::Internal(format!("CSV: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("CSV: {e}")))
}

/// Pretty JSON.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Internal(format!("JSON: {e}")))
}
