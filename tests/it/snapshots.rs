//! The documents `estimate`, `plan` and `deploy` print, as text and Markdown, held by insta
//! snapshots: a change of wording, a column or a number shows up in review (`cargo insta review`).
//! The price-staleness note is redacted: it depends on today's date.

use assert_cmd::Command;

fn document(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("peftcost")
        .unwrap()
        .env("PEFTCOST_CONFIG_DIR", dir.path())
        .env("PEFTCOST_DATA_DIR", dir.path().join("data"))
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            if l.contains("prices older than") {
                "<staleness note redacted: depends on the date>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn estimate_documents() {
    let args = ["estimate", "--model", "qwen-7b", "--method", "lora"];
    insta::assert_snapshot!("estimate_qwen_lora_table", document(&args));
    let md = [&args[..], &["--format", "md"]].concat();
    insta::assert_snapshot!("estimate_qwen_lora_md", document(&md));
}

#[test]
fn plan_documents() {
    let args = [
        "plan",
        "--model",
        "mistral-7b",
        "--method",
        "lora",
        "--deadline",
        "4",
    ];
    insta::assert_snapshot!("plan_mistral_lora_table", document(&args));
    let md = [&args[..], &["--format", "md"]].concat();
    insta::assert_snapshot!("plan_mistral_lora_md", document(&md));
}

#[test]
fn deploy_documents() {
    let args = ["deploy", "--model", "chatglm3-6b"];
    insta::assert_snapshot!("deploy_chatglm3_table", document(&args));
    let md = [&args[..], &["--format", "md"]].concat();
    insta::assert_snapshot!("deploy_chatglm3_md", document(&md));
}
