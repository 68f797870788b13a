//! `--model OWNER/NAME` on the Hugging Face Hub: fetched from `HF_ENDPOINT` (a server on
//! 127.0.0.1 here) with `HF_TOKEN` sent as a bearer token, cached, then used with the server gone.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;

use crate::common::peftcost;

/// Serve `body` at `/Qwen/Qwen3-4B-Base/resolve/main/config.json` for `requests` requests, then
/// stop; each request's head is sent on the channel.
fn hub(body: &'static str, requests: usize) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests).flatten() {
            answer(stream, body, &tx);
        }
    });
    (base, rx)
}

fn answer(mut s: TcpStream, body: &str, tx: &mpsc::Sender<String>) {
    let Some(head) = crate::common::request_head(&mut s) else {
        return;
    };
    let resp = if head.starts_with("GET /Qwen/Qwen3-4B-Base/resolve/main/config.json ") {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
    };
    let _ = s.write_all(resp.as_bytes());
    let _ = tx.send(head);
}

/// Qwen3-4B-Base has Qwen3-4B's config.json (tests/truth/configs/qwen3-4b.json).
const QWEN3_4B: &str = include_str!("../truth/configs/qwen3-4b.json");

#[test]
fn a_hub_id_is_fetched_once_then_served_from_the_cache_offline() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (endpoint, seen) = hub(QWEN3_4B, 1);
    let total = |endpoint: &str| {
        let out = peftcost(dir.path())
            .env("HF_ENDPOINT", endpoint)
            .env("HF_TOKEN", "hf_test_token")
            .env("PEFTCOST_CACHE_DIR", &cache)
            .args([
                "estimate",
                "--model",
                "Qwen/Qwen3-4B-Base",
                "--hardware",
                "a10",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["params"]["total"].as_u64().unwrap(), err)
    };
    // peft 0.21.2 on the meta device: 4,022,468,096 (tests/truth/peft_counts_2026.json).
    let (fetched, note) = total(&endpoint);
    assert_eq!(fetched, 4_022_468_096);
    assert!(
        note.contains("fetched") && note.contains("cached at"),
        "{note}"
    );
    let head = seen.recv().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer hf_test_token"),
        "{head}"
    );
    let cached = cache.join("hub/Qwen/Qwen3-4B-Base/main/config.json");
    assert_eq!(std::fs::read_to_string(&cached).unwrap(), QWEN3_4B);
    // The server has stopped: the second run reads the cache.
    let (offline, note) = total(&endpoint);
    assert_eq!(offline, fetched);
    assert!(note.contains("from the cache"), "{note}");
}

#[test]
fn a_bad_download_is_refused_and_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (endpoint, _) = hub("{\"model_type\": \"qwen3\"}", 1);
    let out = peftcost(dir.path())
        .env("HF_ENDPOINT", &endpoint)
        .env("PEFTCOST_CACHE_DIR", &cache)
        .args(["estimate", "--model", "Qwen/Qwen3-4B-Base"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing field 'hidden_size'"), "{err}");
    assert!(!cache
        .join("hub/Qwen/Qwen3-4B-Base/main/config.json")
        .exists());
    // A repository the server does not have: a one-line error naming the way out.
    let (endpoint, _) = hub(QWEN3_4B, 1);
    let out = peftcost(dir.path())
        .env("HF_ENDPOINT", &endpoint)
        .env("PEFTCOST_CACHE_DIR", &cache)
        .args(["estimate", "--model", "nobody/nothing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("404") && err.contains("HF_ENDPOINT") && err.lines().count() == 1,
        "{err}"
    );
    // A built-in id never touches the network.
    let out = peftcost(dir.path())
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .args(["estimate", "--model", "qwen3-8b", "--hardware", "a10"])
        .output()
        .unwrap();
    assert!(out.status.success());
}
