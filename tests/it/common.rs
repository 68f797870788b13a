//! What the integration test modules share: the binary run against a private config dir, the
//! one-line failure every bad input must give, JSON output, and scenarios on catalogue models.

use std::path::Path;

use assert_cmd::Command;
use peftcost::arch::ModelCatalog;
use peftcost::estimate::{Scenario, Workload};
use peftcost::peft::MethodConfig;

/// The binary with an empty, private config dir so the user's own files never leak in.
pub fn peftcost(config: &Path) -> Command {
    let mut c = Command::cargo_bin("peftcost").unwrap();
    c.env("PEFTCOST_CONFIG_DIR", config)
        .env("PEFTCOST_DATA_DIR", config.join("data"))
        .env("NO_COLOR", "1");
    c
}

/// A successful run's stdout.
pub fn run_ok(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = peftcost(dir.path()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A successful run's stdout as JSON.
pub fn json_of(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run_ok(args)).unwrap()
}

/// A successful run's stdout as JSON, with `dir` as the config directory.
pub fn json_in(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = peftcost(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "args {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A failing run: exit code 2 and no panic or backtrace; returns stderr.
pub fn fails(args: &[&str], config: &Path) -> String {
    let out = peftcost(config).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

/// A scenario on a catalogue model. The property tests draw lengths up to 4096 tokens: RoPE
/// models may train beyond their positions (with RoPE scaling); BERT's 512 learned positions
/// are a hard stop, so its lengths are capped at 400 (+64 and 20 virtual tokens stay inside;
/// `physics::sequences_stop_at_the_models_positions` checks the limit itself).
pub fn scenario(model: &str, method: MethodConfig, mut w: Workload) -> Scenario {
    let profile = ModelCatalog::embedded()
        .unwrap()
        .get(model)
        .unwrap()
        .clone();
    if !profile.family.uses_rope() {
        w.seq_len = w.seq_len.min(400);
    }
    let mut s = Scenario::new(profile, method, w);
    s.allow_rope_extension = true;
    s
}

/// Every model of the article's tables, for property tests.
pub fn model_strategy() -> impl proptest::strategy::Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "chatglm3-6b",
        "qwen-7b",
        "mistral-7b",
        "minicpm-2b",
        "bge-large-zh-v1.5",
    ])
}

/// The head of one HTTP request read from a test server's connection (up to the blank line),
/// or `None` when the client hung up first.
pub fn request_head(s: &mut std::net::TcpStream) -> Option<String> {
    use std::io::Read;
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&req).into_owned())
}

/// Runs of 3 or more ASCII letters (with `_`): the unit of the scans for English left in
/// Chinese output.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphabetic() || (c == '_' && !cur.is_empty()) {
            cur.push(c);
        } else {
            if cur.trim_end_matches('_').len() >= 3 {
                out.push(cur.trim_end_matches('_').to_string());
            }
            cur.clear();
        }
    }
    out
}
