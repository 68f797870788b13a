//! The one key table: dispatch reads it to turn a key into a [`Command`], and the help popup
//! and the hint line print it, so what the help says is what the keys do.

use ratatui::crossterm::event::KeyCode;

/// What a key asks for; the state decides what it means for the focused panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Up: previous input, or scroll the results up.
    Up,
    /// Down: next input, or scroll the results down.
    Down,
    /// Left: step the input down, or the previous tab.
    Left,
    /// Right: step the input up, or the next tab.
    Right,
    /// Start typing a number into the focused input.
    Type,
    SwitchPanel,
    /// Tab 1-5 (the digit typed).
    Tab,
    PrevTab,
    NextTab,
    PageUp,
    PageDown,
    ToggleBilling,
    Pin,
    Unpin,
    /// Edit the hardware focus set.
    Hardware,
    /// Open the searchable picker of the focused field (the model's elsewhere).
    Search,
    /// Plan tab: chart or table.
    PlanView,
    Export,
    Help,
    Quit,
}

/// One line of the help: the keys as shown, what they do, and the codes they bind.
pub struct KeyHelp {
    pub keys: &'static str,
    pub what: &'static str,
    /// Short keys and label in the bottom hint line, if shown there.
    pub hint: Option<(&'static str, &'static str)>,
    pub bindings: &'static [(KeyCode, Command)],
}

use Command as C;
use KeyCode as K;

/// Every key the planner understands (the `?` popup lists all of them).
pub const KEYS: &[KeyHelp] = &[
    KeyHelp {
        keys: "↑/↓ k/j",
        what: "move between inputs (or scroll results)",
        hint: Some(("↑↓", "move")),
        bindings: &[
            (K::Up, C::Up),
            (K::Char('k'), C::Up),
            (K::Down, C::Down),
            (K::Char('j'), C::Down),
        ],
    },
    KeyHelp {
        keys: "←/→ -/+",
        what: "change the input (results panel: switch tab)",
        hint: Some(("←→", "change")),
        bindings: &[
            (K::Left, C::Left),
            (K::Char('-'), C::Left),
            (K::Right, C::Right),
            (K::Char('+'), C::Right),
        ],
    },
    KeyHelp {
        keys: "Space",
        what: "toggle / next value",
        hint: None,
        bindings: &[(K::Char(' '), C::Right)],
    },
    KeyHelp {
        keys: "Enter",
        what: "edit a number or the targets (Tab completes); pick",
        hint: Some(("Enter", "edit")),
        bindings: &[(K::Enter, C::Type)],
    },
    KeyHelp {
        keys: "/",
        what: "search the focused model/provider/currency",
        hint: Some(("/", "search")),
        bindings: &[(K::Char('/'), C::Search)],
    },
    KeyHelp {
        keys: "h",
        what: "hardware shown: Space ticks, Enter applies",
        hint: Some(("h", "hardware")),
        bindings: &[(K::Char('h'), C::Hardware)],
    },
    KeyHelp {
        keys: "Tab / Shift-Tab",
        what: "switch panel (inputs <-> results)",
        hint: Some(("Tab", "panel")),
        bindings: &[(K::Tab, C::SwitchPanel), (K::BackTab, C::SwitchPanel)],
    },
    KeyHelp {
        keys: "1-5",
        what: "tab Memory / Cost / Deploy / Compare / Plan",
        hint: Some(("1-5", "tabs")),
        bindings: &[
            (K::Char('1'), C::Tab),
            (K::Char('2'), C::Tab),
            (K::Char('3'), C::Tab),
            (K::Char('4'), C::Tab),
            (K::Char('5'), C::Tab),
        ],
    },
    KeyHelp {
        keys: "[ ]",
        what: "previous / next tab",
        hint: None,
        bindings: &[(K::Char('['), C::PrevTab), (K::Char(']'), C::NextTab)],
    },
    KeyHelp {
        keys: "PgUp/PgDn",
        what: "scroll the results",
        hint: None,
        bindings: &[(K::PageUp, C::PageUp), (K::PageDown, C::PageDown)],
    },
    KeyHelp {
        keys: "b",
        what: "billing: on-demand <-> spot",
        hint: None,
        bindings: &[(K::Char('b'), C::ToggleBilling)],
    },
    KeyHelp {
        keys: "v",
        what: "Plan tab: cost-vs-hours chart <-> Pareto table",
        hint: None,
        bindings: &[(K::Char('v'), C::PlanView)],
    },
    KeyHelp {
        keys: "p",
        what: "pin for Compare (up to 3: A, B, C)",
        hint: Some(("p", "pin")),
        bindings: &[(K::Char('p'), C::Pin)],
    },
    KeyHelp {
        keys: "u",
        what: "unpin the newest",
        hint: None,
        bindings: &[(K::Char('u'), C::Unpin)],
    },
    KeyHelp {
        keys: "e",
        what: "export as CSV: asks the path, never overwrites",
        hint: Some(("e", "export")),
        bindings: &[(K::Char('e'), C::Export)],
    },
    KeyHelp {
        keys: "?",
        what: "this help (any key closes it)",
        hint: Some(("?", "help")),
        bindings: &[(K::Char('?'), C::Help)],
    },
    KeyHelp {
        keys: "q Ctrl-C",
        what: "quit (twice if pinned); Esc never quits",
        hint: Some(("q", "quit")),
        bindings: &[(K::Char('q'), C::Quit)],
    },
];

/// The command a key is bound to, if any (Ctrl-C is handled before the table: in raw mode it
/// is a key, not a signal).
pub fn command(code: KeyCode) -> Option<Command> {
    KEYS.iter()
        .flat_map(|k| k.bindings.iter())
        .find(|(c, _)| *c == code)
        .map(|(_, cmd)| *cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_bound_once() {
        let codes: Vec<KeyCode> = KEYS
            .iter()
            .flat_map(|k| k.bindings.iter().map(|(c, _)| *c))
            .collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(!codes[i + 1..].contains(c), "{c:?} is bound twice");
        }
        assert_eq!(command(KeyCode::Char(' ')), Some(Command::Right));
        assert_eq!(command(KeyCode::Char('Z')), None);
    }
}
