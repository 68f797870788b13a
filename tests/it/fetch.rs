//! `pricing fetch azure` against a server on 127.0.0.1 replaying the Retail Prices API's shape
//! (the documented sample's fields, `shared/reference/anchors-2026.md` §2.2): three pages joined
//! by `NextPageLink`, an HTTP 429 before the second, Windows, low-priority and fractional-GPU rows
//! to leave out, spot rows to pair with their on-demand ones.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{json_in, peftcost};

/// `pricing fetch PROVIDER --endpoint URL --out FILE` in `dir` with `env` set (a `None` value
/// removes the variable).
fn fetch_into(
    dir: &std::path::Path,
    provider: &str,
    endpoint: &str,
    out: &std::path::Path,
    env: &[(&str, Option<&str>)],
) -> std::process::Output {
    let mut cmd = peftcost(dir);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.args([
        "pricing",
        "fetch",
        provider,
        "--endpoint",
        endpoint,
        "--out",
    ])
    .arg(out)
    .output()
    .unwrap()
}

/// A command that must have succeeded, its stderr shown when it did not.
fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn item(sku: &str, region: &str, meter: &str, product: &str, price: f64) -> String {
    format!(
        r#"{{"currencyCode":"USD","tierMinimumUnits":0.0,"retailPrice":{price},"unitPrice":{price},"armRegionName":"{region}","location":"x","effectiveStartDate":"2024-01-01T00:00:00Z","meterId":"m","meterName":"{meter}","productId":"p","skuId":"s","productName":"{product}","skuName":"{meter}","serviceName":"Virtual Machines","serviceId":"v","serviceFamily":"Compute","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"{sku}"}}"#
    )
}

fn page(items: &[String], next: Option<String>) -> String {
    format!(
        r#"{{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[{}],"NextPageLink":{},"Count":{}}}"#,
        items.join(","),
        next.map_or("null".into(), |n| format!("{n:?}")),
        items.len()
    )
}

/// Serve the three pages (or a broken variant) until the process ends; returns the base URL.
fn api(variant: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let b = base.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let (b, hits) = (b.clone(), hits.clone());
            std::thread::spawn(move || answer(s, &b, variant, &hits));
        }
    });
    base
}

fn answer(mut s: TcpStream, base: &str, variant: &str, hits: &AtomicUsize) {
    let Some(head) = crate::common::request_head(&mut s) else {
        return;
    };
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let windows = "Virtual Machines NCasT4_v3 Series Windows";
    let linux = "Virtual Machines NCasT4_v3 Series";
    let body = if path.starts_with("/api/retail/prices?") && path.contains("%24skip=6") {
        // The `$skip` fallback asks for what follows the first page's six items.
        page(
            &[item(
                "Standard_ND96isr_H100_v5",
                "eastus",
                "ND96isr H100 v5",
                "Virtual Machines ND H100 v5 Series",
                98.32,
            )],
            None,
        )
    } else if path.starts_with("/api/retail/prices?") {
        assert!(path.contains("api-version=2023-01-01-preview"), "{path}");
        match variant {
            "schema" => r#"{"items":[],"nextPage":null}"#.to_string(),
            "elsewhere" => page(&[], None)
                .replace("null", "\"https://example.com/p2\"")
                .replace(
                    "\"Items\":[]",
                    &format!(
                        "\"Items\":[{}]",
                        item(
                            "Standard_NC4as_T4_v3",
                            "eastus",
                            "NC4as T4 v3",
                            linux,
                            0.526
                        )
                    ),
                ),
            _ => page(
                &[
                    item(
                        "Standard_NC24ads_A100_v4",
                        "eastus",
                        "NC24ads A100 v4",
                        "Virtual Machines NCads A100 v4 Series",
                        3.673,
                    ),
                    item(
                        "Standard_NC24ads_A100_v4",
                        "eastus",
                        "NC24ads A100 v4 Spot",
                        "Virtual Machines NCads A100 v4 Series",
                        0.4407,
                    ),
                    item(
                        "Standard_NC4as_T4_v3",
                        "eastus",
                        "NC4as T4 v3",
                        linux,
                        0.526,
                    ),
                    item(
                        "Standard_NC4as_T4_v3",
                        "eastus",
                        "NC4as T4 v3",
                        windows,
                        0.71,
                    ),
                    item(
                        "Standard_NC4as_T4_v3",
                        "eastus",
                        "NC4as T4 v3 Low Priority",
                        linux,
                        0.105,
                    ),
                    item(
                        "Standard_NV6ads_A10_v5",
                        "eastus",
                        "NV6ads A10 v5",
                        "Virtual Machines NVadsA10 v5 Series",
                        0.454,
                    ),
                ],
                Some(format!(
                    "{base}/{}",
                    if variant == "broken-link" {
                        "gone"
                    } else {
                        "page2"
                    }
                )),
            ),
        }
    } else if path == "/page2" {
        // Too many requests first: the fetcher waits and asks again.
        if hits.fetch_add(1, Ordering::SeqCst) == 0 {
            let _ = s.write_all(
                b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        page(
            &[
                item(
                    "Standard_NV36ads_A10_v5",
                    "westus2",
                    "NV36ads A10 v5",
                    "Virtual Machines NVadsA10 v5 Series",
                    3.2,
                ),
                item(
                    "Standard_ND96isr_H100_v5",
                    "eastus",
                    "ND96isr H100 v5",
                    "Virtual Machines ND H100 v5 Series",
                    98.32,
                ),
                item(
                    "Standard_NC40ads_H100_v5",
                    "eastus",
                    "NC40ads H100 v5",
                    "Virtual Machines NCads H100 v5 Series",
                    6.98,
                ),
            ],
            Some(format!("{base}/page3")),
        )
    } else if path == "/page3" {
        page(&[], None)
    } else {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    // The API's pages come chunked, without a Content-Length.
    let _ = s.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
}

#[test]
fn azure_retail_prices_become_a_validated_table_across_three_pages() {
    let dir = tempfile::tempdir().unwrap();
    let base = api("pages");
    let run = |extra: &[&str]| {
        let mut args = vec!["pricing", "fetch", "azure", "--endpoint", &base];
        args.extend(extra);
        peftcost(dir.path()).args(&args).output().unwrap()
    };
    // Four VMs of whole GPUs against the embedded table's 13 offers: a shrink, refused unasked,
    // nothing installed.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-shrink"), "{err}");
    assert!(!dir.path().join("pricing/azure.toml").exists());
    // The fractional A10 and the H100 NVL are named as skipped.
    assert!(
        err.contains("skipped Standard_NV6ads_A10_v5: a fraction of an A10"),
        "{err}"
    );
    assert!(err.contains("skipped Standard_NC40ads_H100_v5"), "{err}");

    let out = run(&["--allow-shrink"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let installed = std::fs::read_to_string(dir.path().join("pricing/azure.toml")).unwrap();
    assert!(installed.contains("offer_count = 4"), "{installed}");
    assert!(installed.trim_end().ends_with("# end of peftcost table"));
    // Every command now reads it: the offers, their prices as the API gave them, spot paired.
    let rows = json_in(
        dir.path(),
        &["pricing", "list", "--provider", "azure", "--format", "json"],
    );
    let find = |instance: &str, billing: &str| {
        rows["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["instance"] == instance && r["billing"] == billing)
            .cloned()
    };
    let a100 = find("Standard_NC24ads_A100_v4", "on-demand").unwrap();
    assert_eq!(a100["price"], 3.673);
    assert_eq!(a100["hardware"], "a100-80g-pcie");
    assert_eq!(
        find("Standard_NC24ads_A100_v4", "spot").unwrap()["price"],
        0.4407
    );
    // Linux, not Windows nor low priority.
    assert_eq!(
        find("Standard_NC4as_T4_v3", "on-demand").unwrap()["price"],
        0.526
    );
    assert!(find("Standard_NC4as_T4_v3", "spot").is_none());
    let h100 = find("Standard_ND96isr_H100_v5", "on-demand").unwrap();
    assert_eq!(h100["gpus"], 8);
    assert_eq!(
        find("Standard_NV36ads_A10_v5", "on-demand").unwrap()["region"],
        "westus2"
    );
    // --out writes the table for review; pricing validate accepts it.
    let file = dir.path().join("azure-fetched.toml");
    let out = run(&["--out", file.to_str().unwrap()]);
    assert_ok(&out);
    let v = peftcost(dir.path())
        .args(["pricing", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn a_changed_schema_or_a_page_elsewhere_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    for (variant, says) in [
        ("schema", "schema may have changed"),
        ("elsewhere", "another host"),
    ] {
        let base = api(variant);
        let out = peftcost(dir.path())
            .args([
                "pricing",
                "fetch",
                "azure",
                "--endpoint",
                &base,
                "--allow-shrink",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{variant}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{variant}: {err}"
        );
        assert!(!dir.path().join("pricing/azure.toml").exists());
    }
}

// ---------------------------------------------------------------------------------------------
// AWS: the Price List bulk offer file, streamed.

/// Columns of the offer file (a subset, in the file's order and spelling).
const AWS_HEADER: &str = r#""SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency","Product Family","serviceCode","Location","Location Type","Instance Type","Current Generation","Instance Family","vCPU","Memory","GPU","Tenancy","Operating System","License Model","Usagetype","Operation","CapacityStatus","Pre Installed S/W","Region Code""#;

fn aws_row(
    term: &str,
    instance: &str,
    gpus: &str,
    tenancy: &str,
    os: &str,
    capacity: &str,
    price: &str,
) -> String {
    format!(
        r#""SKU1","T1","R1","{term}","$x per On Demand Linux {instance} Instance Hour","2026-11-01","0","Inf","Hrs","{price}","USD","Compute Instance","AmazonEC2","US East (N. Virginia)","AWS Region","{instance}","Yes","GPU instance","8","32 GiB","{gpus}","{tenancy}","{os}","No License required","BoxUsage:{instance}","RunInstances","{capacity}","NA","us-east-1""#
    )
}

/// A multi-megabyte offer file: the five disclaimer lines, the header, 40,000 rows of other
/// instances, and the rows that matter with the ones the filters must drop.
fn offer_file() -> String {
    let mut f = String::from(
        "\"FormatVersion\",\"v1.0\"\n\"Disclaimer\",\"This pricing list is for informational purposes only.\"\n\"Publication Date\",\"2026-11-30T00:00:00Z\"\n\"Version\",\"20261130000000\"\n\"OfferCode\",\"AmazonEC2\"\n",
    );
    f.push_str(AWS_HEADER);
    f.push('\n');
    for i in 0..40_000 {
        f.push_str(&aws_row(
            "OnDemand",
            &format!("m5.{i}xlarge"),
            "",
            "Shared",
            "Linux",
            "Used",
            "0.192",
        ));
        f.push('\n');
    }
    for row in [
        aws_row(
            "OnDemand",
            "g4dn.xlarge",
            "1",
            "Shared",
            "Linux",
            "Used",
            "0.5260000000",
        ),
        aws_row(
            "OnDemand",
            "g4dn.xlarge",
            "1",
            "Shared",
            "Windows",
            "Used",
            "0.7100000000",
        ),
        aws_row(
            "Reserved",
            "g4dn.xlarge",
            "1",
            "Shared",
            "Linux",
            "Used",
            "0.3300000000",
        ),
        aws_row(
            "OnDemand",
            "g4dn.xlarge",
            "1",
            "Dedicated",
            "Linux",
            "Used",
            "0.5790000000",
        ),
        aws_row(
            "OnDemand",
            "g4dn.xlarge",
            "1",
            "Shared",
            "Linux",
            "UnusedCapacityReservation",
            "0.5260000000",
        ),
        aws_row(
            "OnDemand",
            "g5.12xlarge",
            "4",
            "Shared",
            "Linux",
            "Used",
            "5.6720000000",
        ),
        aws_row(
            "OnDemand",
            "p4d.24xlarge",
            "8",
            "Shared",
            "Linux",
            "Used",
            "21.9576000000",
        ),
        aws_row(
            "OnDemand",
            "p5.48xlarge",
            "8",
            "Shared",
            "Linux",
            "Used",
            "55.0400000000",
        ),
        aws_row(
            "OnDemand",
            "c6i.4xlarge",
            "",
            "Shared",
            "Linux",
            "Used",
            "0.6800000000",
        ),
    ] {
        f.push_str(&row);
        f.push('\n');
    }
    f
}

/// Serve the offer file at the path AWS uses; `cut` sends only the first half of it under the
/// whole file's Content-Length.
fn aws_api(cut: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let file = Arc::new(offer_file());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let file = file.clone();
            std::thread::spawn(move || {
                let Some(head) = crate::common::request_head(&mut s) else {
                    return;
                };
                if !head.starts_with("GET /offers/v1.0/aws/AmazonEC2/current/us-east-1/index.csv ")
                {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                let body = if cut {
                    &file[..file.len() / 2]
                } else {
                    &file[..]
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        file.len()
                    )
                    .as_bytes(),
                );
                let _ = s.write_all(body.as_bytes());
            });
        }
    });
    base
}

#[test]
fn an_aws_offer_file_is_streamed_into_a_table_of_its_linux_on_demand_rows() {
    assert!(offer_file().len() > 10 << 20, "a multi-megabyte fixture");
    let dir = tempfile::tempdir().unwrap();
    let base = aws_api(false);
    let file = dir.path().join("aws-fetched.toml");
    let out = fetch_into(dir.path(), "aws", &base, &file, &[]);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    // Four GPU instances and the CPU box; Windows, reserved, dedicated and capacity-reservation
    // rows dropped; m5 not priced by peftcost.
    assert!(text.contains("offer_count = 5"), "{text}");
    assert!(text.contains("instance = \"g4dn.xlarge\"\nregion = \"us-east-1\"\nhardware = \"t4\"\ngpus = 1\non_demand = 0.526\n"), "{text}");
    assert!(text.contains("instance = \"p4d.24xlarge\"\nregion = \"us-east-1\"\nhardware = \"a100-40g\"\ngpus = 8\non_demand = 21.9576\n"), "{text}");
    assert!(text.contains("hardware = \"cpu-16c\"\ngpus = 0"), "{text}");
    assert!(!text.contains("spot ="), "the bulk file has no spot prices");
    let v = peftcost(dir.path())
        .args(["pricing", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // A download cut at half its Content-Length is an error, and nothing is written.
    let cut = aws_api(true);
    let again = dir.path().join("cut.toml");
    let out = fetch_into(dir.path(), "aws", &cut, &again, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!again.exists());
}

/// A server on 127.0.0.1 answering one JSON body to `GET /api/v1/instance-types` with the
/// Bearer key `test-key` (Lambda), `POST /graphql` whose body asks for gpuTypes (RunPod) or
/// `POST /api/v0/bundles/` with a search body (Vast.ai);
/// HTTP 401 for a wrong key, 404 elsewhere. No Content-Length: the connection closes after the
/// body, as a chunked API answer may.
fn json_api(route: &'static str, body: &'static str) -> String {
    use std::io::Read;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let Some(head) = crate::common::request_head(&mut s) else {
                    return;
                };
                let lower = head.to_ascii_lowercase();
                let ok = match route {
                    "lambda" => {
                        if !head.starts_with("GET /api/v1/instance-types ") {
                            false
                        } else if !lower.contains("authorization: bearer test-key\r\n") {
                            let _ = s.write_all(
                                b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
                            );
                            return;
                        } else {
                            true
                        }
                    }
                    _ => {
                        // The query travels in the body: read it to its Content-Length.
                        let len: usize = lower
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        let start = head.find("\r\n\r\n").map_or(head.len(), |i| i + 4);
                        let mut got = head.as_bytes()[start..].to_vec();
                        let mut buf = [0u8; 4096];
                        while got.len() < len {
                            match s.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        let (path, asks) = if route == "vast" {
                            ("POST /api/v0/bundles/ ", "rentable")
                        } else {
                            ("POST /graphql ", "gpuTypes")
                        };
                        head.starts_with(path)
                            && lower.contains("content-type: application/json")
                            && String::from_utf8_lossy(&got).contains(asks)
                    }
                };
                if !ok {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                );
                let _ = s.write_all(body.as_bytes());
            });
        }
    });
    base
}

/// Lambda's instance-types answer in the shape SkyPilot's and gpuhunt's readers parse
/// (anchors-2026.md §2.2; prices illustrative): three types peftcost maps, one it has no profile
/// of (the A6000).
const LAMBDA_TYPES: &str = r#"{"data":{
 "gpu_1x_a10":{"instance_type":{"name":"gpu_1x_a10","description":"1x A10 (24 GB PCIe)","price_cents_per_hour":75,"specs":{"vcpus":30,"memory_gib":200,"storage_gib":1400}},"regions_with_capacity_available":[{"name":"us-east-1","description":"Virginia, USA"}]},
 "gpu_8x_a100_80gb_sxm4":{"instance_type":{"name":"gpu_8x_a100_80gb_sxm4","description":"8x A100 (80 GB SXM4)","price_cents_per_hour":1432,"specs":{"vcpus":240,"memory_gib":1800,"storage_gib":19500}},"regions_with_capacity_available":[]},
 "gpu_1x_h100_pcie":{"instance_type":{"name":"gpu_1x_h100_pcie","description":"1x H100 (80 GB PCIe)","price_cents_per_hour":249,"specs":{"vcpus":26,"memory_gib":200,"storage_gib":1000}},"regions_with_capacity_available":[]},
 "gpu_1x_a6000":{"instance_type":{"name":"gpu_1x_a6000","description":"1x A6000 (48 GB)","price_cents_per_hour":80,"specs":{"vcpus":14,"memory_gib":100,"storage_gib":512}},"regions_with_capacity_available":[]}
}}"#;

#[test]
fn lambda_instance_types_become_a_table_with_the_users_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = json_api("lambda", LAMBDA_TYPES);
    let file = dir.path().join("lambda-fetched.toml");
    let fetch = |key: Option<&str>, out: &std::path::Path| {
        fetch_into(dir.path(), "lambda", &base, out, &[("LAMBDA_API_KEY", key)])
    };
    let out = fetch(Some("test-key"), &file);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    // 1432 cents an hour for the 8-GPU machine = 14.32 USD per instance-hour.
    assert!(text.contains("offer_count = 3"), "{text}");
    assert!(text.contains("instance = \"gpu_8x_a100_80gb_sxm4\"\nregion = \"all regions\"\nhardware = \"a100-80g\"\ngpus = 8\non_demand = 14.32\n"), "{text}");
    assert!(
        text.contains("hardware = \"h100-pcie\"\ngpus = 1\non_demand = 2.49\n"),
        "{text}"
    );
    assert!(!text.contains("spot ="), "Lambda sells no spot");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("left out (no hardware profile): gpu_1x_a6000"),
        "{err}"
    );
    let v = peftcost(dir.path())
        .args(["pricing", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // No key: a one-line error naming the variable; a wrong key: the server's 401. Nothing written.
    let none = dir.path().join("none.toml");
    let out = fetch(None, &none);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LAMBDA_API_KEY") && err.lines().count() == 1,
        "{err}"
    );
    let out = fetch(Some("wrong"), &none);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    assert!(!none.exists());
}

/// RunPod's gpuTypes answer with the fields of gpuhunt's query (anchors-2026.md §2.2; prices
/// illustrative): two types peftcost maps (one community-only), one it has no profile of.
const RUNPOD_TYPES: &str = r#"{"data":{"gpuTypes":[
 {"id":"NVIDIA A100 80GB PCIe","displayName":"A100 PCIe","memoryInGb":80,"securePrice":1.64,"communityPrice":1.19,"lowestPrice":{"minimumBidPrice":0.82,"uninterruptablePrice":1.19}},
 {"id":"NVIDIA GeForce RTX 4090","displayName":"RTX 4090","memoryInGb":24,"securePrice":0,"communityPrice":0.34,"lowestPrice":{"minimumBidPrice":null,"uninterruptablePrice":0.34}},
 {"id":"NVIDIA A40","displayName":"A40","memoryInGb":48,"securePrice":0.44,"communityPrice":0.35,"lowestPrice":{"minimumBidPrice":0.2,"uninterruptablePrice":0.35}}
]}}"#;

#[test]
fn runpod_gpu_types_become_secure_and_community_offers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runpod-fetched.toml");
    let fetch = |base: &str, out: &std::path::Path| {
        fetch_into(dir.path(), "runpod", base, out, &[("RUNPOD_API_KEY", None)])
    };
    let out = fetch(&json_api("runpod", RUNPOD_TYPES), &file);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    // A100: secure 1.64 and community 1.19 with the 0.82 bid; the 4090 has no secure price (0).
    assert!(text.contains("offer_count = 3"), "{text}");
    assert!(text.contains("instance = \"1x NVIDIA A100 80GB PCIe (community cloud)\"\nregion = \"all regions\"\nhardware = \"a100-80g-pcie\"\ngpus = 1\non_demand = 1.19\nspot = 0.82\n"), "{text}");
    assert!(text.contains("instance = \"1x NVIDIA A100 80GB PCIe (secure cloud)\"\nregion = \"all regions\"\nhardware = \"a100-80g-pcie\"\ngpus = 1\non_demand = 1.64\n\n"), "{text}");
    assert!(
        text.contains("hardware = \"rtx4090\"\ngpus = 1\non_demand = 0.34\n"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("NVIDIA A40"));
    // A changed schema and a GraphQL error are one-line errors, and nothing is written.
    for (body, says) in [
        (r#"{"data":{"gpus":[]}}"#, "not a RunPod gpuTypes answer"),
        (
            r#"{"errors":[{"message":"Cannot query field \"securePrice\""}]}"#,
            "Cannot query field",
        ),
    ] {
        let again = dir.path().join("again.toml");
        let out = fetch(&json_api("runpod", body), &again);
        assert_eq!(out.status.code(), Some(2), "{says}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
        assert!(!again.exists());
    }
}

/// One Cloud Billing Catalog SKU in the documented response shape (anchors-2026.md §2.2):
/// `units` a decimal string, `nanos` an integer.
fn gcp_sku(
    description: &str,
    group: &str,
    usage: &str,
    regions: &[&str],
    units: u64,
    nanos: u64,
) -> String {
    let unit = if description.contains("Ram") {
        "GiBy.h"
    } else {
        "h"
    };
    format!(
        r#"{{"name":"services/6F81-5844-456A/skus/X","skuId":"X","description":"{description}","category":{{"serviceDisplayName":"Compute Engine","resourceFamily":"Compute","resourceGroup":"{group}","usageType":"{usage}"}},"serviceRegions":{regions:?},"pricingInfo":[{{"effectiveTime":"2026-11-01T00:00:00Z","summary":"","pricingExpression":{{"usageUnit":"{unit}","usageUnitDescription":"hour","baseUnit":"s","baseUnitConversionFactor":3600,"displayQuantity":1,"tieredRates":[{{"startUsageAmount":0,"unitPrice":{{"currencyCode":"USD","units":"{units}","nanos":{nanos}}}}}]}},"currencyConversionRate":1}}],"serviceProviderName":"Google"}}"#
    )
}

/// Two pages of SKUs (prices as GCP's us-central1 list gives them for an a2-highgpu-1g:
/// 3.673385 USD an hour in all; the rest illustrative), served to the key `test-key` in the
/// `x-goog-api-key` header; 403 otherwise.
fn gcp_api() -> String {
    let both = ["us-central1", "europe-west4"];
    let central = ["us-central1"];
    let page1 = format!(
        r#"{{"skus":[{}],"nextPageToken":"p2"}}"#,
        [
            gcp_sku(
                "N1 Predefined Instance Core running in Americas",
                "CPU",
                "OnDemand",
                &both,
                0,
                31_611_000
            ),
            gcp_sku(
                "N1 Predefined Instance Ram running in Americas",
                "RAM",
                "OnDemand",
                &both,
                0,
                4_237_000
            ),
            gcp_sku(
                "Nvidia Tesla T4 GPU running in Americas",
                "GPU",
                "OnDemand",
                &central,
                0,
                350_000_000
            ),
            gcp_sku(
                "Spot Preemptible N1 Predefined Instance Core running in Americas",
                "CPU",
                "Preemptible",
                &central,
                0,
                6_980_000
            ),
            gcp_sku(
                "Spot Preemptible N1 Predefined Instance Ram running in Americas",
                "RAM",
                "Preemptible",
                &central,
                0,
                940_000
            ),
            gcp_sku(
                "Spot Preemptible Nvidia Tesla T4 GPU running in Americas",
                "GPU",
                "Preemptible",
                &central,
                0,
                140_000_000
            ),
            gcp_sku(
                "Commitment v1: N1 Cpu in Americas for 1 Year",
                "CPU",
                "Commit1Yr",
                &central,
                0,
                19_915_000
            ),
        ]
        .join(",")
    );
    let page2 = format!(
        r#"{{"skus":[{}],"nextPageToken":""}}"#,
        [
            gcp_sku(
                "A2 Instance Core running in Americas",
                "CPU",
                "OnDemand",
                &central,
                0,
                31_611_000
            ),
            gcp_sku(
                "A2 Instance Ram running in Americas",
                "RAM",
                "OnDemand",
                &central,
                0,
                4_237_000
            ),
            gcp_sku(
                "Nvidia Tesla A100 GPU running in Americas",
                "GPU",
                "OnDemand",
                &central,
                2,
                933_908_000
            ),
        ]
        .join(",")
    );
    let pages = Arc::new((page1, page2));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let pages = pages.clone();
            std::thread::spawn(move || {
                let Some(head) = crate::common::request_head(&mut s) else {
                    return;
                };
                let first = "GET /v1/services/6F81-5844-456A/skus?pageSize=5000";
                let body = if !head
                    .to_ascii_lowercase()
                    .contains("x-goog-api-key: test-key\r\n")
                {
                    let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                    return;
                } else if head.starts_with(&format!("{first}&pageToken=p2 ")) {
                    pages.1.clone()
                } else if head.starts_with(&format!("{first} ")) {
                    pages.0.clone()
                } else {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    return;
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    base
}

/// GCP prices a machine as separate SKUs: n1-standard-8 + T4 in us-central1 = 8 x 0.031611 +
/// 30 x 0.004237 + 0.35 = 0.729998 USD an hour (spot 8 x 0.00698 + 30 x 0.00094 + 0.14 =
/// 0.22404); a2-highgpu-1g = 12 x 0.031611 + 85 x 0.004237 + 2.933908 = 3.673385, on the second
/// page. europe-west4 prices the N1 host but no T4: no offer there. Worked by hand.
#[test]
fn gcp_sums_host_and_gpu_skus_across_pages_with_the_key_in_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let base = gcp_api();
    let fetch = |key: &str, out: &std::path::Path| {
        fetch_into(
            dir.path(),
            "gcp",
            &base,
            out,
            &[("GOOGLE_API_KEY", Some(key))],
        )
    };
    let file = dir.path().join("gcp-fetched.toml");
    let out = fetch("test-key", &file);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("offer_count = 2"), "{text}");
    assert!(text.contains("instance = \"n1-standard-8+t4\"\nregion = \"us-central1\"\nhardware = \"t4\"\ngpus = 1\non_demand = 0.729998\nspot = 0.22404\n"), "{text}");
    assert!(text.contains("instance = \"a2-highgpu-1g\"\nregion = \"us-central1\"\nhardware = \"a100-40g\"\ngpus = 1\non_demand = 3.673385\n\n"), "{text}");
    assert!(!text.contains("test-key"), "the key stays out of the table");
    let v = peftcost(dir.path())
        .args(["pricing", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // A wrong key: the server's 403, and the key is never printed.
    let none = dir.path().join("none.toml");
    let out = fetch("secret-wrong-key", &none);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("403") && !err.contains("secret-wrong-key"),
        "{err}"
    );
    assert!(!none.exists());
}

/// Vast.ai's offer search answer with the fields gpuhunt reads (anchors-2026.md §2.2; prices
/// illustrative): two RTX 4090 hosts in Sweden (the cheaper kept), one in the US, an 8x A100
/// 80 GB machine, and an RTX A6000 peftcost has no profile of.
const VAST_OFFERS: &str = r#"{"offers":[
 {"id":1,"gpu_name":"RTX 4090","num_gpus":1,"gpu_ram":24564,"dph_base":0.3,"dph_total":0.35,"min_bid":0.2,"storage_cost":0.1,"geolocation":"Sweden, SE"},
 {"id":2,"gpu_name":"RTX 4090","num_gpus":1,"gpu_ram":24564,"dph_base":0.27,"dph_total":0.31,"min_bid":0.18,"storage_cost":0.1,"geolocation":"Sweden, SE"},
 {"id":3,"gpu_name":"RTX 4090","num_gpus":1,"gpu_ram":24564,"dph_base":0.36,"dph_total":0.4,"min_bid":0.25,"storage_cost":0.1,"geolocation":"Texas, US"},
 {"id":4,"gpu_name":"A100 SXM4","num_gpus":8,"gpu_ram":81920,"dph_base":9.4,"dph_total":9.6,"min_bid":6.0,"storage_cost":0.15,"geolocation":"Texas, US"},
 {"id":5,"gpu_name":"RTX A6000","num_gpus":1,"gpu_ram":49140,"dph_base":0.4,"dph_total":0.45,"min_bid":0.3,"storage_cost":0.1,"geolocation":"Texas, US"}
]}"#;

#[test]
fn vast_offers_become_the_cheapest_per_gpu_count_and_country_and_install_as_a_new_provider() {
    let dir = tempfile::tempdir().unwrap();
    let base = json_api("vast", VAST_OFFERS);
    let out = peftcost(dir.path())
        .args(["pricing", "fetch", "vast", "--endpoint", &base])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("RTX A6000"));
    let text = std::fs::read_to_string(dir.path().join("pricing/vast.toml")).unwrap();
    assert!(text.contains("offer_count = 3"), "{text}");
    assert!(text.contains("instance = \"1x RTX 4090\"\nregion = \"SE\"\nhardware = \"rtx4090\"\ngpus = 1\non_demand = 0.31\nspot = 0.18\n"), "{text}");
    assert!(text.contains("instance = \"8x A100 SXM4\"\nregion = \"US\"\nhardware = \"a100-80g\"\ngpus = 8\non_demand = 9.6\nspot = 6.0\n"), "{text}");
    // The new provider is priced like any other.
    let v = json_in(
        dir.path(),
        &["pricing", "list", "--provider", "vast", "--format", "json"],
    );
    assert!(v.to_string().contains("rtx4090"), "{v}");
}

/// SkyPilot's v8 catalog layout (anchors-2026.md §2.3: the Lambda header and its sample A6000
/// row; AWS adds AvailabilityZone and Arch; other prices illustrative).
const SKYPILOT_LAMBDA: &str = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice
gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,\"{'Gpus': [{'Name': 'A10', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 24576}}], 'TotalGpuMemoryInMiB': 24576}\",
gpu_8x_a100_80gb_sxm4,A100-80GB,8.0,240.0,1800.0,14.32,us-east-1,\"{'Gpus': [{'Name': 'A100-80GB', 'Manufacturer': 'NVIDIA', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 655360}\",
gpu_1x_a6000,A6000,1.0,14.0,100.0,1.09,us-east-1,\"{'Gpus': [{'Name': 'A6000', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 49152}}], 'TotalGpuMemoryInMiB': 49152}\",
";
const SKYPILOT_AWS: &str = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
p4d.24xlarge,A100,8.0,96.0,1152.0,,21.9576,8.1,us-east-1,us-east-1a,x86_64
p4d.24xlarge,A100,8.0,96.0,1152.0,,21.9576,7.9,us-east-1,us-east-1b,x86_64
m5.large,,,2.0,8.0,,0.096,0.04,us-east-1,us-east-1a,x86_64
";
const SKYPILOT_GCP: &str = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice
,,,T4,1,,us-central1,us-central1-a,0.35,0.14
";
/// gpuhunt's catalog columns (anchors-2026.md §2.3), a spot and an on-demand row of one offer.
const GPUHUNT_RUNPOD: &str = "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,gpu_vendor,flags,cpu_arch,provider_data
NVIDIA A100 80GB PCIe,CA,1.19,8,117,1,A100,80.0,False,,nvidia,,x86,
NVIDIA A100 80GB PCIe,CA,0.82,8,117,1,A100,80.0,True,,nvidia,,x86,
";

#[test]
fn skypilot_and_gpuhunt_catalogs_import_as_a_providers_table() {
    let dir = tempfile::tempdir().unwrap();
    let import = |feed: &str, csv: &str, provider: &str| {
        let src = dir.path().join(format!("{feed}-{provider}.csv"));
        std::fs::write(&src, csv).unwrap();
        let out = dir.path().join(format!("{feed}-{provider}.toml"));
        let o = peftcost(dir.path())
            .args([
                "pricing",
                "import",
                feed,
                src.to_str().unwrap(),
                "--provider",
                provider,
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        (o, out)
    };
    let (o, out) = import("skypilot", SKYPILOT_LAMBDA, "lambda");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("A6000"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("offer_count = 2") && text.contains("confidence = \"secondary\""),
        "{text}"
    );
    assert!(text.contains("instance = \"gpu_8x_a100_80gb_sxm4\"\nregion = \"us-east-1\"\nhardware = \"a100-80g\"\ngpus = 8\non_demand = 14.32\n"), "{text}");
    let v = peftcost(dir.path())
        .args(["pricing", "validate", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // Two zones of one region: one offer at the lower spot price; a CPU row left out.
    let (o, out) = import("skypilot", SKYPILOT_AWS, "aws");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("offer_count = 1"), "{text}");
    assert!(
        text.contains("hardware = \"a100-40g\"\ngpus = 8\non_demand = 21.9576\nspot = 7.9\n"),
        "{text}"
    );
    // GCP's catalog prices GPUs apart from hosts: refused with the way to sum them.
    let (o, out) = import("skypilot", SKYPILOT_GCP, "gcp");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pricing fetch gcp"));
    assert!(!out.exists());
    // gpuhunt: the spot row pairs with its on-demand row.
    let (o, out) = import("gpuhunt", GPUHUNT_RUNPOD, "runpod");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("instance = \"NVIDIA A100 80GB PCIe\"\nregion = \"CA\"\nhardware = \"a100-80g\"\ngpus = 1\non_demand = 1.19\nspot = 0.82\n"), "{text}");
    // A file of another format names the column it lacks.
    let (o, _) = import("gpuhunt", SKYPILOT_LAMBDA, "lambda");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no 'price' column"));
}

/// A DescribePrice server on 127.0.0.1 that checks every request's signature (v1.0, HMAC-SHA1
/// keyed by `test-secret&`; the signer itself is checked against Alibaba's documented example in
/// its unit test) and answers in the Go SDK's shape: 10.5 CNY an hour, 3.2 spot, 5000 a month,
/// except that ecs.gn6i-c4g1.xlarge sells no subscription (HTTP 400 with an error code).
fn alibaba_api() -> String {
    use percent_encoding::percent_decode_str;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let Some(head) = crate::common::request_head(&mut s) else {
                    return;
                };
                let target = head.split_whitespace().nth(1).unwrap_or("");
                let query = target.strip_prefix("/?").unwrap_or("");
                let mut params: Vec<(String, String)> = query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| {
                        let d = |x: &str| percent_decode_str(x).decode_utf8_lossy().into_owned();
                        (d(k), d(v))
                    })
                    .collect();
                let sig = params
                    .iter()
                    .position(|(k, _)| k == "Signature")
                    .map(|i| params.remove(i).1);
                let get = |k: &str| {
                    params
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("")
                };
                let signed = sig.as_deref()
                    == Some(&peftcost::http::alibaba::signature(&params, "test-secret")[..]);
                let (status, body) = if !signed || get("AccessKeyId") != "test-id" {
                    (
                        "403 Forbidden",
                        r#"{"Code":"SignatureDoesNotMatch","Message":"bad"}"#.to_string(),
                    )
                } else if get("Action") != "DescribePrice" || get("SystemDisk.Size") != "40" {
                    (
                        "400 Bad Request",
                        r#"{"Code":"MissingParameter"}"#.to_string(),
                    )
                } else if get("PriceUnit") == "Month"
                    && get("InstanceType") == "ecs.gn6i-c4g1.xlarge"
                {
                    (
                        "400 Bad Request",
                        r#"{"Code":"InvalidPeriod","Message":"no subscription"}"#.to_string(),
                    )
                } else {
                    let price = match (get("PriceUnit"), get("SpotStrategy")) {
                        ("Month", _) => 5000.0,
                        (_, "SpotAsPriceGo") => 3.2,
                        _ => 10.5,
                    };
                    (
                        "200 OK",
                        format!(
                            r#"{{"RequestId":"r","PriceInfo":{{"Price":{{"OriginalPrice":{price},"DiscountPrice":0,"TradePrice":{price},"Currency":"CNY"}},"Rules":{{"Rule":[]}}}}}}"#
                        ),
                    )
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    base
}

#[test]
fn alibaba_prices_are_fetched_with_signed_calls_for_the_tables_instances() {
    let dir = tempfile::tempdir().unwrap();
    let base = alibaba_api();
    let fetch = |id: Option<&str>, out: &std::path::Path| {
        let mut cmd = peftcost(dir.path());
        cmd.env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret");
        if let Some(id) = id {
            cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", id);
        }
        cmd.args([
            "pricing",
            "fetch",
            "alibaba",
            "--endpoint",
            &base,
            "--region",
            "cn-hangzhou",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap()
    };
    let file = dir.path().join("alibaba-fetched.toml");
    let out = fetch(Some("test-id"), &file);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    // Every cn-hangzhou instance of the embedded table (34), each priced three ways.
    assert!(text.contains("offer_count = 34"), "{text}");
    assert!(text.contains("instance = \"ecs.gn6i-c8g1.2xlarge\"\nregion = \"cn-hangzhou\"\nhardware = \"t4\"\ngpus = 1\non_demand = 10.5\nspot = 3.2\nmonthly = 5000.0\n"), "{text}");
    assert!(text.contains("instance = \"ecs.gn6i-c4g1.xlarge\"\nregion = \"cn-hangzhou\"\nhardware = \"t4\"\ngpus = 1\non_demand = 10.5\nspot = 3.2\n\n"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 spot or subscription prices refused"));
    assert!(!text.contains("test-id") && !text.contains("test-secret"));
    let v = peftcost(dir.path())
        .args(["pricing", "validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // The fetch against the table in force: every cn-hangzhou price moved (gn6i-c8g1.2xlarge
    // 14.08 -> 10.5 CNY an hour), the other regions' offers are not in the fetch.
    let d = json_in(
        dir.path(),
        &[
            "pricing",
            "diff",
            "alibaba",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let changed = d["changed"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c.to_string().contains("ecs.gn6i-c8g1.2xlarge")
                && c["old"] == 14.08
                && c["new"] == 10.5),
        "{d}"
    );
    assert_eq!(d["removed"].as_array().unwrap().len(), 39 - 34, "{d}");
    // No key id: a one-line error naming the variables; a wrong one: the server refuses the
    // signature, the error names the action but not the key. Nothing written.
    let none = dir.path().join("none.toml");
    let out = fetch(None, &none);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
    let out = fetch(Some("other-id"), &none);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("403") && err.contains("DescribePrice") && !err.contains("other-id"),
        "{err}"
    );
    assert!(!none.exists());
}

/// A NextPageLink that fails (it has been broken before): the fetcher asks for the same page by
/// `$skip`, the item count so far, and goes on from there.
#[test]
fn azure_falls_back_to_skip_when_a_next_page_link_fails() {
    let dir = tempfile::tempdir().unwrap();
    let base = api("broken-link");
    let file = dir.path().join("azure-skip.toml");
    let out = fetch_into(dir.path(), "azure", &base, &file, &[]);
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("instance = \"Standard_ND96isr_H100_v5\""),
        "{text}"
    );
}
