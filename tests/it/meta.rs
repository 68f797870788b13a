//! The tool about itself: completions that source in bash and complete ids, a man page that
//! renders, `hardware list|show`, and a `--version` that dates the data.

use assert_cmd::Command;

use crate::common::run_ok as run;

fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn bash_completion_sources_and_completes_model_ids() {
    let script = run(&["completions", "bash"]);
    if !have("bash") {
        eprintln!("skipped: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peftcost.bash");
    std::fs::write(&path, script).unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e; source {}; COMP_WORDS=(peftcost estimate --model q); COMP_CWORD=3; \
             COMP_LINE='peftcost estimate --model q'; COMP_POINT=${{#COMP_LINE}}; \
             _peftcost peftcost q --model; echo \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    // The Qwen profiles of profiles/models/ (bash sorts them).
    assert_eq!(
        words,
        [
            "qwen-1.8b",
            "qwen-7b",
            "qwen1.5-moe-a2.7b",
            "qwen2.5-14b",
            "qwen2.5-7b",
            "qwen3-14b",
            "qwen3-30b-a3b",
            "qwen3-32b",
            "qwen3-4b",
            "qwen3-8b"
        ]
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        assert!(run(&["completions", shell]).contains("peftcost"));
    }
}

#[test]
fn the_man_page_renders() {
    let page = run(&["man"]);
    assert!(page.contains(".TH peftcost") && page.contains("peftcost\\-estimate"));
    if !have("man") {
        eprintln!("skipped rendering: no man");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peftcost.1");
    std::fs::write(&path, page).unwrap();
    let out = std::process::Command::new("man")
        .args(["-l", path.to_str().unwrap()])
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("SYNOPSIS"));
}

#[test]
fn hardware_list_and_show_carry_datasheet_figures_and_sources() {
    let list = run(&["hardware", "list", "--format", "csv"]);
    assert!(list.lines().count() >= 22, "{list}");
    let a10: serde_json::Value =
        serde_json::from_str(&run(&["hardware", "show", "a10", "--format", "json"])).unwrap();
    // NVIDIA A10 datasheet: 24 GB GDDR6, 600 GB/s, 125 TFLOPS bf16 dense.
    assert_eq!(a10["memory_gib"], 24.0);
    assert_eq!(a10["memory_bandwidth_gbs"], 600.0);
    assert_eq!(a10["peak_tflops"]["bf16"], 125.0);
    let text = run(&["hardware", "show", "A100-80GB"]);
    assert!(text.contains("a100-80g") && text.contains("source") && text.contains("as of"));
}

#[test]
fn version_dates_the_data() {
    let v = run(&["--version"]);
    assert!(
        v.starts_with(&format!("peftcost {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(
        v.contains("commit ") && v.contains("prices as of 20"),
        "{v}"
    );
}

/// Display width: CJK characters take two columns.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn tables_fit_80_columns_without_splitting_a_number() {
    for args in [
        &["estimate"][..],
        &["plan", "--model", "mistral-7b"],
        &["deploy", "--model", "qwen-7b"],
        &["pricing", "list"],
        &["report"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::cargo_bin("peftcost")
            .unwrap()
            .env("PEFTCOST_CONFIG_DIR", dir.path())
            .env("PEFTCOST_DATA_DIR", dir.path().join("data"))
            .env("COLUMNS", "80")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(display_width(line) <= 80, "{args:?}: {line}");
            // A number cut by a wrap shows as a cell ending or starting with its decimal point.
            if line.starts_with('│') {
                for cell in line.split(['│', '┆']).map(str::trim) {
                    let cut = (cell.ends_with('.') || cell.starts_with('.'))
                        && cell.chars().any(|c| c.is_ascii_digit());
                    assert!(!cut, "{args:?}: split number '{cell}' in {line}");
                }
            }
        }
        // What was hidden is said, with the way to see it.
        if args[0] == "estimate" {
            assert!(text.contains("hidden to fit 80 columns: --wide"), "{text}");
        }
    }
    // --wide keeps every column.
    let dir = tempfile::tempdir().unwrap();
    let wide = Command::cargo_bin("peftcost")
        .unwrap()
        .env("PEFTCOST_CONFIG_DIR", dir.path())
        .env("COLUMNS", "80")
        .args(["estimate", "--wide"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wide.stdout).contains("MFU"));
}

#[test]
fn colour_follows_the_flag_no_color_and_clicolor_force() {
    let dir = tempfile::tempdir().unwrap();
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::cargo_bin("peftcost").unwrap();
        c.env("PEFTCOST_CONFIG_DIR", dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c
            .args(["estimate", "--hardware", "t4,a10"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    // fits NO in red (ANSI 38;5;9), yes in green; piped output has none unless forced.
    assert!(run(&[], &["--color", "always"]).contains("\u{1b}[38;5;9m NO"));
    assert!(!run(&[], &[]).contains('\u{1b}'));
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]).contains('\u{1b}'));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains('\u{1b}'));
    assert!(!run(&[], &["--color", "never"]).contains('\u{1b}'));
}
