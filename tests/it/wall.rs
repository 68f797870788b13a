//! The core's wall: nothing under `src/core/` names a front-end crate, and no front-end module
//! is reached from the core or from the TUI back into the CLI.

use std::path::{Path, PathBuf};

/// Crates only front-ends may use (design §2).
const FRONT_END_CRATES: [&str; 7] = [
    "clap",
    "ratatui",
    "crossterm",
    "candle",
    "reqwest",
    "comfy_table",
    "indicatif",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn offending_lines(dir: &str, words: &[&str]) -> Vec<String> {
    offending_lines_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), words)
}

fn offending_lines_in(root: &Path, words: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in words {
                let hit = code.match_indices(w).any(|(at, _)| {
                    let before = code[..at].chars().last();
                    let after = code[at + w.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    bad
}

#[test]
fn the_core_names_no_front_end_crate() {
    let mut words: Vec<&str> = FRONT_END_CRATES.to_vec();
    words.extend([
        "comfy-table",
        "crate::cli",
        "crate::tui",
        "crate::report",
        "crate::bench",
        "crate::http",
    ]);
    let bad = offending_lines("src/core", &words);
    assert!(
        bad.is_empty(),
        "the core names a front-end:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_tui_does_not_reach_into_the_cli() {
    let bad = offending_lines("src/tui", &["crate::cli"]);
    assert!(
        bad.is_empty(),
        "the TUI imports the CLI:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_wall_test_sees_a_violation() {
    // The checker itself: a line naming clap is found; one in a comment and a longer word are not.
    let dir = std::env::temp_dir().join(format!("peftcost-wall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.rs"),
        "use clap::Args;\n// clap in a comment\nlet clapper = 1;\n",
    )
    .unwrap();
    let bad = offending_lines_in(&dir, &["clap"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].ends_with("use clap::Args;"), "{bad:?}");
}
