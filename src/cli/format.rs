//! The `--format` flag shared by every command.

use clap::ValueEnum;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table for people (the default).
    #[default]
    Table,
    /// Tidy CSV: one row per result, stable headers (see README).
    Csv,
    /// One JSON object (the contract in design §10).
    Json,
    /// Markdown tables.
    Md,
    /// One self-contained HTML page (`report`: with charts).
    Html,
}

impl Format {
    /// A document for people in `lang`: Markdown for `md`, a page for `html`, a terminal
    /// table otherwise.
    pub fn render(self, doc: &crate::report::Document, lang: crate::report::i18n::Lang) -> String {
        match self {
            Format::Md => doc.to_markdown(lang),
            Format::Html => doc.to_html(lang, &[], ""),
            _ => doc.to_text(lang),
        }
    }
}
