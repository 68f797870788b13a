//! Alibaba Cloud's RPC-style OpenAPI, signed with the user's AccessKey (signature version 1.0:
//! the sorted, RFC 3986-encoded query, `GET&%2F&` + that query encoded again, HMAC-SHA1 keyed by
//! `secret&`, base64), as Alibaba's "Request signatures" document specifies it; its worked
//! example is this module's test. Only ECS `DescribePrice` is called.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::update::{fetch, FetchOptions};
use crate::core::error::{Error, Result};

/// RFC 3986's unreserved characters stay; everything else is %XX (space as %20, `*` as %2A).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The canonical query of `params`: sorted by name, names and values encoded.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The signature of a GET with `params` under `secret`.
pub fn signature(params: &[(String, String)], secret: &str) -> String {
    let to_sign = format!("GET&%2F&{}", encode(&canonical_query(params)));
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{secret}&").as_bytes(),
    );
    let tag = ring::hmac::sign(&key, to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// An AccessKey: its id, secret and (for temporary credentials) security token.
pub struct AccessKey {
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID`.
    pub id: String,
    /// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`.
    pub secret: String,
    /// `ALIBABA_CLOUD_SECURITY_TOKEN`, for STS credentials.
    pub token: Option<String>,
}

/// A fresh unpredictable nonce: 128 random bits in hex.
fn nonce() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("no system randomness for a request nonce".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Call `action` (API version 2014-05-26) at `endpoint` with `params`, signed; returns the JSON
/// text. `timestamp` is the UTC time, `YYYY-MM-DDThh:mm:ssZ`. The URL in an error carries only
/// the action, never the key id or the signature.
pub fn call(
    endpoint: &str,
    action: &str,
    params: &[(&str, String)],
    key: &AccessKey,
    timestamp: &str,
    opts: &FetchOptions,
) -> Result<String> {
    let mut all: Vec<(String, String)> = vec![
        ("Action".into(), action.into()),
        ("Version".into(), "2014-05-26".into()),
        ("Format".into(), "JSON".into()),
        ("AccessKeyId".into(), key.id.clone()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureVersion".into(), "1.0".into()),
        ("SignatureNonce".into(), nonce()?),
        ("Timestamp".into(), timestamp.into()),
    ];
    if let Some(t) = &key.token {
        all.push(("SecurityToken".into(), t.clone()));
    }
    all.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let sig = signature(&all, &key.secret);
    let url = format!(
        "{}/?{}&Signature={}",
        endpoint.trim_end_matches('/'),
        canonical_query(&all),
        encode(&sig)
    );
    fetch(&url, opts).map_err(|e| {
        let shown = format!("{}/?Action={action}", endpoint.trim_end_matches('/'));
        match e {
            Error::Network(m) => Error::Network(m.replace(&url, &shown)),
            Error::Input(m) => Error::Input(m.replace(&url, &shown)),
            other => other,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Alibaba Cloud's ECS "Request signatures" document: DescribeRegions
    /// for AccessKeyId `testid`, secret `testsecret`, signs as `OLeaidS1JvxuMvnyHOwuJ+uX5qY=`.
    #[test]
    fn the_documented_example_signs_as_documented() {
        let params: Vec<(String, String)> = [
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            signature(&params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
        assert_eq!(encode("a b*c~d"), "a%20b%2Ac~d");
    }
}
