//! `pricing fetch azure` against a server on 127.0.0.1 replaying the Retail Prices API's shape
//! (the documented sample's fields, `shared/reference/anchors-2026.md` §2.2): three pages joined
//! by `NextPageLink`, an HTTP 429 before the second, Windows, low-priority and fractional-GPU rows
//! to leave out, spot rows to pair with their on-demand ones.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{json_in, peftcost};

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
    let body = if path.starts_with("/api/retail/prices?") {
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
                Some(format!("{base}/page2")),
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let out = peftcost(dir.path())
        .args([
            "pricing",
            "fetch",
            "aws",
            "--endpoint",
            &base,
            "--out",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let out = peftcost(dir.path())
        .args([
            "pricing",
            "fetch",
            "aws",
            "--endpoint",
            &cut,
            "--out",
            again.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!again.exists());
}
