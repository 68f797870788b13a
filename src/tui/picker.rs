//! The searchable picker: a list of ids with a line of detail each (a model's family, size and
//! source; a device's memory and price range; a provider's currency and date), filtered by what
//! the user types. One id is picked (model, provider, currency), or a set is ticked (the hardware
//! focus set). Knows nothing of the app or the screen: [`Picker::key`] says what happened.
//!
//! Matching is fuzzy in the fzf sense but simple: the query's characters in order, case folded;
//! an exact id ranks first, then a prefix, a substring, a subsequence of the id, and last a
//! match in the detail only. Ties keep the catalogue's order.

use ratatui::crossterm::event::KeyCode;

use crate::core::catalogs::Catalogs;
use crate::core::estimate::Scenario;
use crate::core::hardware::HardwareProfile;
use crate::core::pricing::PricingCatalog;
use crate::report::fmt;

/// What the picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickKind {
    Model,
    Provider,
    Currency,
    /// The devices the tables show (several ticked).
    Hardware,
}

impl PickKind {
    pub fn title(self) -> &'static str {
        match self {
            PickKind::Model => "model",
            PickKind::Provider => "provider",
            PickKind::Currency => "currency",
            PickKind::Hardware => "hardware shown (Space ticks, Enter applies)",
        }
    }

    fn multi(self) -> bool {
        self == PickKind::Hardware
    }
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct PickItem {
    pub id: String,
    pub detail: String,
}

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq)]
pub enum Picked {
    /// Still open (the query or the cursor may have moved).
    Open,
    Cancelled,
    /// One id chosen (`None`: the "all"/"auto" entry).
    One(Option<String>),
    /// The ticked ids, in catalogue order.
    Set(Vec<String>),
}

/// The open picker.
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub kind: PickKind,
    pub items: Vec<PickItem>,
    pub query: String,
    /// Index into [`Picker::matches`].
    pub cursor: usize,
    /// Ticked ids (hardware only).
    pub ticked: Vec<String>,
    /// An "all"/"auto" entry first, meaning no choice (provider, currency).
    pub none_label: Option<&'static str>,
}

/// Longest query kept: ids are short, a paste is cut here.
const MAX_QUERY: usize = 40;

impl Picker {
    pub fn new(kind: PickKind, items: Vec<PickItem>, current: &[String]) -> Self {
        let none_label = match kind {
            PickKind::Provider => Some("all"),
            PickKind::Currency => Some("auto"),
            _ => None,
        };
        let mut p = Picker {
            kind,
            items,
            query: String::new(),
            cursor: 0,
            ticked: if kind.multi() {
                current.to_vec()
            } else {
                Vec::new()
            },
            none_label,
        };
        // Start on the current value, so Enter alone keeps it.
        if let Some(cur) = current.first().filter(|_| !kind.multi()) {
            p.cursor = p.matches().iter().position(|m| m == cur).unwrap_or(0);
        }
        p
    }

    /// The ids that match the query, best first (with the "all"/"auto" entry first while the
    /// query is empty).
    pub fn matches(&self) -> Vec<String> {
        let q = self.query.to_lowercase();
        let mut scored: Vec<(u32, usize)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| score(&q, &it.id, &it.detail).map(|s| (s, i)))
            .collect();
        scored.sort_by_key(|(s, i)| (*s, *i));
        let mut out: Vec<String> = Vec::with_capacity(scored.len() + 1);
        if let (Some(none), true) = (self.none_label, q.is_empty()) {
            out.push(none.to_string());
        }
        out.extend(scored.into_iter().map(|(_, i)| self.items[i].id.clone()));
        out
    }

    /// The detail line of an id (empty for the "all"/"auto" entry).
    pub fn detail(&self, id: &str) -> &str {
        self.items
            .iter()
            .find(|it| it.id == id)
            .map_or("", |it| it.detail.as_str())
    }

    pub fn is_ticked(&self, id: &str) -> bool {
        self.ticked.iter().any(|t| t == id)
    }

    /// Handle one key.
    pub fn key(&mut self, code: KeyCode) -> Picked {
        let n = self.matches().len();
        match code {
            KeyCode::Esc => return Picked::Cancelled,
            KeyCode::Up => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Down => self.cursor = (self.cursor + 1).min(n.saturating_sub(1)),
            KeyCode::PageUp => self.cursor = self.cursor.saturating_sub(10),
            KeyCode::PageDown => self.cursor = (self.cursor + 10).min(n.saturating_sub(1)),
            KeyCode::Backspace => {
                self.query.pop();
                self.cursor = 0;
            }
            KeyCode::Char(' ') if self.kind.multi() => self.toggle(),
            KeyCode::Char(c) if !c.is_control() && c != ' ' => self.type_text(&c.to_string()),
            KeyCode::Enter => return self.enter(),
            _ => {}
        }
        Picked::Open
    }

    /// Typed or pasted text goes into the query (control characters dropped, length capped).
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control() && *c != ' ') {
            if self.query.chars().count() >= MAX_QUERY {
                break;
            }
            self.query.push(c);
        }
        self.cursor = 0;
    }

    fn toggle(&mut self) {
        let Some(id) = self.matches().get(self.cursor).cloned() else {
            return;
        };
        match self.ticked.iter().position(|t| *t == id) {
            Some(i) => {
                self.ticked.remove(i);
            }
            None => self.ticked.push(id),
        }
    }

    fn enter(&mut self) -> Picked {
        if self.kind.multi() {
            if self.ticked.is_empty() {
                return Picked::Open;
            }
            let order = |id: &String| self.items.iter().position(|it| it.id == *id);
            let mut set = self.ticked.clone();
            set.sort_by_key(order);
            return Picked::Set(set);
        }
        match self.matches().get(self.cursor) {
            None => Picked::Open,
            Some(id) if Some(id.as_str()) == self.none_label => Picked::One(None),
            Some(id) => Picked::One(Some(id.clone())),
        }
    }
}

/// How well `query` (lower case) matches an item; lower is better, `None` is no match.
pub fn score(query: &str, id: &str, detail: &str) -> Option<u32> {
    if query.is_empty() {
        return Some(0);
    }
    let id = id.to_lowercase();
    if id == query {
        return Some(0);
    }
    if id.starts_with(query) {
        return Some(1);
    }
    if let Some(at) = id.find(query) {
        return Some(2 + at as u32);
    }
    if let Some(span) = subsequence_span(query, &id) {
        return Some(100 + span);
    }
    let detail = detail.to_lowercase();
    if detail.contains(query) {
        return Some(1000);
    }
    subsequence_span(query, &detail).map(|s| 2000 + s)
}

/// The length of the shortest-start greedy span of `text` holding `query`'s characters in order.
fn subsequence_span(query: &str, text: &str) -> Option<u32> {
    let mut chars = text.char_indices();
    let mut start = None;
    let mut end = 0;
    for q in query.chars() {
        let (i, c) = chars.by_ref().find(|(_, c)| *c == q)?;
        start.get_or_insert(i);
        end = i + c.len_utf8();
    }
    Some((end - start.unwrap_or(0)) as u32)
}

/// Every model: its family, parameter count and where its architecture comes from.
pub fn model_items(catalogs: &Catalogs) -> Vec<PickItem> {
    let Ok(models) = catalogs.models() else {
        return Vec::new();
    };
    models
        .profiles()
        .iter()
        .map(|p| {
            let size = Scenario::base_params(p).map_or_else(|_| "?".into(), fmt::short);
            PickItem {
                id: p.id.clone(),
                detail: format!("{} · {size} params · {}", p.family.as_str(), p.hf_repo),
            }
        })
        .collect()
}

/// Every device: its memory and the range of its per-GPU on-demand price in USD.
pub fn hardware_items(
    hardware: &[HardwareProfile],
    pricing: Option<&PricingCatalog>,
) -> Vec<PickItem> {
    hardware
        .iter()
        .map(|h| {
            let mut usd: Vec<f64> = Vec::new();
            if let Some(p) = pricing {
                for (table, offer) in p.offers().filter(|(_, o)| o.hardware == h.id) {
                    if let Ok(v) = p.fx.convert(offer.on_demand, &table.currency, "USD") {
                        usd.push(v / offer.gpus.max(1) as f64);
                    }
                }
            }
            let lo = usd.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = usd.iter().copied().fold(0.0, f64::max);
            let price = match usd.len() {
                0 => "no offer".to_string(),
                _ if hi - lo < 0.005 => format!("USD {lo:.2}/GPU·h"),
                _ => format!("USD {lo:.2}–{hi:.2}/GPU·h"),
            };
            PickItem {
                id: h.id.clone(),
                detail: format!("{} GiB · {price} · {}", h.memory_gib, h.name),
            }
        })
        .collect()
}

/// Every provider's table: display name, currency, offers and date.
pub fn provider_items(pricing: Option<&PricingCatalog>) -> Vec<PickItem> {
    let Some(p) = pricing else {
        return Vec::new();
    };
    p.tables
        .iter()
        .map(|t| PickItem {
            id: t.provider.clone(),
            detail: format!(
                "{} · {} · {} offers · as of {}",
                t.display_name,
                t.currency,
                t.offers.len(),
                t.as_of
            ),
        })
        .collect()
}

/// Every currency of the exchange-rate table, with its rate.
pub fn currency_items(pricing: Option<&PricingCatalog>) -> Vec<PickItem> {
    let Some(p) = pricing else {
        return Vec::new();
    };
    p.fx.currencies()
        .map(|c| PickItem {
            id: c.to_string(),
            detail: match p.fx.convert(1.0, "USD", c) {
                Ok(r) => format!("1 USD = {r:.4} {c}"),
                Err(_) => String::new(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker(ids: &[&str]) -> Picker {
        let items = ids
            .iter()
            .map(|id| PickItem {
                id: id.to_string(),
                detail: String::new(),
            })
            .collect();
        Picker::new(PickKind::Model, items, &[])
    }

    #[test]
    fn exact_prefix_substring_then_subsequence() {
        // Worked by hand: "q7" is no prefix or substring of any id, a subsequence of three.
        let mut p = picker(&[
            "mistral-7b",
            "qwen-7b",
            "qwen2.5-7b",
            "qwen3-8b",
            "minicpm-2b",
        ]);
        p.type_text("qwen");
        assert_eq!(p.matches(), ["qwen-7b", "qwen2.5-7b", "qwen3-8b"]);
        p.query.clear();
        p.type_text("q7");
        // Spans: qwen-7b "qwen-7" = 6, qwen2.5-7b "qwen2.5-7" = 9; qwen3-8b has no 7.
        assert_eq!(p.matches(), ["qwen-7b", "qwen2.5-7b"]);
        p.query.clear();
        p.type_text("7b");
        // Substrings: at 8 in mistral-7b, 5 in qwen-7b, 8 in qwen2.5-7b.
        assert_eq!(p.matches(), ["qwen-7b", "mistral-7b", "qwen2.5-7b"]);
        assert_eq!(score("qwen-7b", "qwen-7b", ""), Some(0));
        assert_eq!(score("zz", "qwen-7b", ""), None);
    }

    #[test]
    fn enter_picks_esc_cancels_and_the_none_entry_means_all() {
        let mut p = picker(&["a10", "t4"]);
        p.key(KeyCode::Char('t'));
        assert_eq!(p.key(KeyCode::Enter), Picked::One(Some("t4".into())));
        assert_eq!(p.key(KeyCode::Esc), Picked::Cancelled);
        let mut prov = Picker::new(PickKind::Provider, picker(&["aws", "alibaba"]).items, &[]);
        assert_eq!(prov.matches(), ["all", "aws", "alibaba"]);
        assert_eq!(prov.key(KeyCode::Enter), Picked::One(None));
        prov.key(KeyCode::Down);
        assert_eq!(prov.key(KeyCode::Enter), Picked::One(Some("aws".into())));
    }

    #[test]
    fn the_hardware_set_ticks_with_space_and_keeps_catalogue_order() {
        let items = picker(&["t4", "a10", "a100-80g"]).items;
        let mut p = Picker::new(PickKind::Hardware, items, &["a100-80g".into()]);
        p.key(KeyCode::Char(' ')); // ticks t4, the first line
        assert_eq!(
            p.key(KeyCode::Enter),
            Picked::Set(vec!["t4".into(), "a100-80g".into()])
        );
        // Nothing ticked: Enter does nothing rather than show an empty table.
        p.ticked.clear();
        assert_eq!(p.key(KeyCode::Enter), Picked::Open);
    }
}
