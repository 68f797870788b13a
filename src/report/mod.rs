//! Renderers: the same rows as a terminal table (comfy-table), Markdown, CSV or JSON.
//!
//! One document builder per answer (`estimate`, `plan`, `deploy`, `compare`, `bench`, and the
//! article's `tables`) turns what the core computed into a [`Document`] of [`Table`]s; nothing
//! here computes a number, it only formats. The command line picks the format.

pub mod article;
pub mod bench;
pub mod charts;
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
    /// Column indices, most important first: on a narrow terminal the last are hidden first
    /// (empty: left to right).
    pub priority: Vec<usize>,
}

/// `--wide`: never hide columns to fit the terminal.
static WIDE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Colour in terminal tables (fits in green, NO in red, missed targets in yellow).
static COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turn colour on or off (the command line decides: `--color`, `NO_COLOR`, `CLICOLOR_FORCE`).
pub fn set_color(on: bool) {
    COLOR.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A cell, coloured by what it says when colour is on.
fn cell(text: &str) -> comfy_table::Cell {
    use comfy_table::Color;
    let c = comfy_table::Cell::new(text);
    if !COLOR.load(std::sync::atomic::Ordering::Relaxed) {
        return c;
    }
    match text {
        "NO" => c.fg(Color::Red),
        "yes" | "fits" => c.fg(Color::Green),
        t if t.starts_with("misses") || t.starts_with("needs ") => c.fg(Color::Yellow),
        _ => c,
    }
}

/// Print every column whatever the terminal's width (`--wide`).
pub fn set_wide(wide: bool) {
    WIDE.store(wide, std::sync::atomic::Ordering::Relaxed);
}

/// The width terminal tables must fit: `$COLUMNS`, else the terminal's when stdout is one,
/// else none (piped output keeps every column).
fn target_width() -> Option<usize> {
    use std::io::IsTerminal;
    if WIDE.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|c| *c >= 20)
    {
        return Some(c);
    }
    if std::io::stdout().is_terminal() {
        return ratatui::crossterm::terminal::size()
            .ok()
            .map(|(w, _)| w as usize)
            .filter(|w| *w >= 20);
    }
    None
}

impl Table {
    pub fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Table {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            priority: Vec::new(),
        }
    }

    /// Name the columns in order of importance (headers not named come after, left to right).
    pub fn with_priority(mut self, most_important_first: &[&str]) -> Self {
        let mut order: Vec<usize> = most_important_first
            .iter()
            .filter_map(|h| self.headers.iter().position(|x| x == h))
            .collect();
        for i in 0..self.headers.len() {
            if !order.contains(&i) {
                order.push(i);
            }
        }
        self.priority = order;
        self
    }

    /// Rendered keeping only the columns in `keep` (in table order): without wrapping, or,
    /// with `wrap_to`, with text cells wrapped at word boundaries to that width.
    fn render(&self, keep: &[usize], wrap_to: Option<usize>) -> String {
        let mut c = comfy_table::Table::new();
        c.load_style(UTF8_FULL_CONDENSED)
            .set_header(keep.iter().map(|&i| self.headers[i].clone()));
        match wrap_to {
            Some(w) => {
                c.set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(w.min(u16::MAX as usize) as u16);
            }
            None => {
                c.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        if COLOR.load(std::sync::atomic::Ordering::Relaxed) {
            c.enforce_styling();
        } else {
            c.force_no_tty();
        }
        for r in &self.rows {
            c.add_row(
                keep.iter()
                    .map(|&i| cell(r.get(i).map(String::as_str).unwrap_or_default())),
            );
        }
        c.to_string()
    }

    /// The table at most `width` characters wide by hiding its least important columns (never
    /// wrapping a cell, so no number or id is split), and the headers it hid.
    fn fitted(&self, width: Option<usize>) -> (String, Vec<String>) {
        let n = self.headers.len();
        let mut order: Vec<usize> = if self.priority.len() == n {
            self.priority.clone()
        } else {
            (0..n).collect()
        };
        let widest = |s: &str| s.lines().map(visible_width).max().unwrap_or(0);
        let mut hidden = Vec::new();
        loop {
            let mut keep = order.clone();
            keep.sort_unstable();
            let text = self.render(&keep, None);
            match width {
                Some(w) if widest(&text) > w && order.len() > 2 => {
                    if let Some(i) = order.pop() {
                        hidden.push(self.headers[i].clone());
                    }
                }
                // Two columns of text (setting / value): wrap the text instead.
                Some(w) if widest(&text) > w => return (self.render(&keep, Some(w)), hidden),
                _ => return (text, hidden),
            }
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
    /// What precedes each note in a terminal (empty: the language's, "note: " or "注：").
    pub note_prefix: &'static str,
}

impl Document {
    /// A copy in `lang` ([`i18n::Lang::tr`]) with every title, header, cell and note made
    /// [`fmt::printable`].
    fn printable(&self, lang: i18n::Lang) -> Document {
        let p = |s: &String| fmt::printable(&lang.tr(s));
        Document {
            title: p(&self.title),
            tables: self
                .tables
                .iter()
                .map(|t| Table {
                    title: p(&t.title),
                    headers: t.headers.iter().map(p).collect(),
                    rows: t.rows.iter().map(|r| r.iter().map(p).collect()).collect(),
                    priority: t.priority.clone(),
                })
                .collect(),
            notes: self.notes.iter().map(p).collect(),
            note_prefix: if self.note_prefix.is_empty() {
                lang.text().note
            } else {
                self.note_prefix
            },
        }
    }

    /// Render for a terminal in `lang` (control characters of the data shown as escapes).
    pub fn to_text(&self, lang: i18n::Lang) -> String {
        self.printable(lang).text_of()
    }

    fn text_of(&self) -> String {
        let width = target_width();
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&wrap(&self.title, width, 0));
            out.push('\n');
        }
        for t in &self.tables {
            if !t.title.is_empty() {
                out.push('\n');
                out.push_str(&wrap(&t.title, width, 0));
                out.push('\n');
            }
            let (text, hidden) = t.fitted(width);
            out.push_str(&text);
            out.push('\n');
            if !hidden.is_empty() {
                let note = format!(
                    "({} hidden to fit {} columns: --wide, or --format csv|json for every column)",
                    hidden.join(", "),
                    width.unwrap_or(0)
                );
                out.push_str(&wrap(&note, width, 1));
                out.push('\n');
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&wrap(&format!("{}{n}", self.note_prefix), width, 2));
                out.push('\n');
            }
        }
        out
    }

    /// Render as Markdown in `lang` (control characters of the data shown as escapes).
    pub fn to_markdown(&self, lang: i18n::Lang) -> String {
        self.printable(lang).markdown_of()
    }

    fn markdown_of(&self) -> String {
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

/// Characters a terminal shows of `line`: colour escapes (`ESC [ ... m`) take no columns.
fn visible_width(line: &str) -> usize {
    let mut n = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// `text` wrapped at spaces to `width` columns (a word longer than the width stays whole, so no
/// number or id is split), continuation lines indented by `indent` spaces.
fn wrap(text: &str, width: Option<usize>, indent: usize) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        } else if len > 0 && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// Escape text for HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Document {
    /// Render as one self-contained HTML page in `lang` (inline CSS; `charts` are inline SVG
    /// documents with their captions). No script, no external resource.
    pub fn to_html(
        &self,
        lang: i18n::Lang,
        charts: &[(String, String)],
        charts_title: &str,
    ) -> String {
        let doc = self.printable(lang);
        let lang = lang.code();
        let mut out = String::new();
        out.push_str(&format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n",
            html_escape(&doc.title)
        ));
        out.push_str(
            "<style>\nbody{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif;margin:2rem;color:#222}\n\
table{border-collapse:collapse;margin:0.5rem 0 1.5rem;font-size:0.9rem}\n\
th,td{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:left}\n\
th{background:#f0f3f7}\ntr:nth-child(even) td{background:#fafafa}\n\
figure{margin:1rem 0}\nfigcaption{font-weight:600}\nli{margin:0.15rem 0}\n</style>\n</head>\n<body>\n",
        );
        out.push_str(&format!("<h1>{}</h1>\n", html_escape(&doc.title)));
        for t in &doc.tables {
            out.push_str(&format!(
                "<h2>{}</h2>\n<table>\n<thead><tr>",
                html_escape(&t.title)
            ));
            for h in &t.headers {
                out.push_str(&format!("<th>{}</th>", html_escape(h)));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for r in &t.rows {
                out.push_str("<tr>");
                for c in r {
                    out.push_str(&format!("<td>{}</td>", html_escape(c)));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n");
        }
        if !charts.is_empty() {
            out.push_str(&format!("<h2>{}</h2>\n", html_escape(charts_title)));
            for (caption, svg) in charts {
                // plotters writes a standalone SVG document: drop its XML prologue, if any.
                let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
                out.push_str(&format!(
                    "<figure>\n<figcaption>{}</figcaption>\n{body}\n</figure>\n",
                    html_escape(caption)
                ));
            }
        }
        if !doc.notes.is_empty() {
            out.push_str("<ul>\n");
            for n in &doc.notes {
                out.push_str(&format!("<li>{}</li>\n", html_escape(n)));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</body>\n</html>\n");
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
