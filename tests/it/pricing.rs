//! Pricing: job cost arithmetic (hand-worked), table validation (every error class), the
//! catalog overlay, the CLI, and `pricing update` against a local HTTP server that serves good,
//! malformed, invalid, truncated, slow, oversized and failing responses.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use peftcost::data::DataFile;
use peftcost::hardware::HardwareCatalog;
use peftcost::http::update::{self, FetchOptions};
use peftcost::pricing::{
    job_cost, Billing, CostAssumptions, Fx, JobInputs, PriceTable, PricingCatalog, SPOT_CAVEAT,
};
use predicates::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers

const FX: &str = r#"
base = "USD"
as_of = "2026-06-19"
source = "test"
[rates]
USD = 1.0
CNY = 6.7686
"#;

fn fx() -> Fx {
    Fx::parse("fx.toml", FX).unwrap()
}

fn hw() -> HardwareCatalog {
    HardwareCatalog::embedded().unwrap()
}

/// A table header with the given currency/billing rules, followed by `rest` (storage, offers).
fn table(currency: &str, increment: u64, minimum: Option<u64>, rest: &str) -> PriceTable {
    let min = minimum.map_or(String::new(), |m| format!("minimum_billed_seconds = {m}\n"));
    let text = format!(
        "provider = \"test\"\ndisplay_name = \"Test\"\ncurrency = \"{currency}\"\nbilling_increment_seconds = {increment}\n{min}as_of = \"2026-11-01\"\nsource = \"hand-made\"\nconfidence = \"estimate\"\n{rest}"
    );
    PriceTable::parse("test.toml", &text, &hw(), Some(&fx())).unwrap()
}

fn offer(instance: &str, hardware: &str, gpus: u64, on_demand: f64, extra: &str) -> String {
    format!(
        "\n[[offers]]\ninstance = \"{instance}\"\nregion = \"r1\"\nhardware = \"{hardware}\"\ngpus = {gpus}\non_demand = {on_demand:?}\n{extra}\n"
    )
}

/// A job with no setup, no evaluation, no transfers: only `train_hours` on `gpus` GPUs.
fn bare_job(train_hours: f64, gpus: u64) -> JobInputs {
    JobInputs {
        train_hours,
        gpus,
        base_model_bytes: 0,
        data_bytes: 0,
        export_bytes: 0,
        assumptions: CostAssumptions {
            setup_hours: 0.0,
            download_gbps: 1.0,
            eval_fraction: 0.0,
            storage_months: 1.0,
        },
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

// ---------------------------------------------------------------------------------------------
// Cost arithmetic

#[test]
fn billing_increment_and_minimum_round_the_session_up() {
    let t = table("USD", 60, Some(60), &offer("m1", "t4", 1, 1.2, ""));
    let o = &t.offers[0];
    let cost = |hours: f64| {
        job_cost(&t, o, Billing::OnDemand, &bare_job(hours, 1), &fx(), None)
            .unwrap()
            .unwrap()
    };
    // 630 s of training -> 11 started minutes = 660 s = 0.18333 h; x 1.2 USD/h = 0.22 USD.
    let c = cost(630.0 / 3600.0);
    assert_close!(c.hours, 660.0 / 3600.0);
    assert_close!(c.cost, 0.22);
    // The rounding is counted with training: train = 0.22, nothing else.
    assert_close!(c.cost_breakdown.train, 0.22);
    assert_close!(c.wall_hours, 630.0 / 3600.0);
    // Exactly one hour: 3600 s is already a multiple of 60 -> 1 h x 1.2 = 1.2 USD.
    assert_close!(cost(1.0).cost, 1.2);
    // 20 s is raised to the 60 s minimum: 60 s = 1/60 h x 1.2 = 0.02 USD.
    assert_close!(cost(20.0 / 3600.0).cost, 0.02);

    // Per-second billing with a 60 s minimum (the AWS rule): 630 s stays 630 s,
    // 0.175 h x 1.2 = 0.21 USD; 20 s -> 60 s -> 0.02 USD.
    let t = table("USD", 1, Some(60), &offer("m1", "t4", 1, 1.2, ""));
    let c = job_cost(
        &t,
        &t.offers[0],
        Billing::OnDemand,
        &bare_job(630.0 / 3600.0, 1),
        &fx(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_close!(c.cost, 0.21);
    let c = job_cost(
        &t,
        &t.offers[0],
        Billing::OnDemand,
        &bare_job(20.0 / 3600.0, 1),
        &fx(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_close!(c.cost, 0.02);
}

#[test]
fn multi_gpu_instances_are_rounded_up_to_whole_instances() {
    let t = table(
        "USD",
        1,
        None,
        &(offer("eight", "a100-80g", 8, 20.0, "") + &offer("one", "a100-80g", 1, 3.0, "")),
    );
    let job = JobInputs {
        train_hours: 2.0,
        gpus: 12,
        base_model_bytes: 15_000_000_000,
        data_bytes: 0,
        export_bytes: 0,
        assumptions: CostAssumptions::default(),
    };
    // Setup 0.25 h + download 15e9 B x 8 / 1e9 bit/s = 120 s = 1/30 h; eval 5% x 2 h = 0.1 h.
    // Wall time = 0.25 + 0.033333 + 2 + 0.1 = 2.383333 h = 8580 s (a whole second: no rounding).
    // 12 GPUs on 8-GPU instances -> ceil(12/8) = 2 instances.
    // Cost = 2 x 2.383333 h x 20 USD/h = 95.3333 USD; setup = 2 x 0.283333 x 20 = 11.3333 USD.
    let c = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_eq!((c.instances, c.gpus), (2, 8));
    assert_close!(c.hours, 2.0 * 8580.0 / 3600.0);
    assert_close!(c.cost, 2.0 * 8580.0 / 3600.0 * 20.0);
    assert_close!(c.cost_breakdown.setup, 2.0 * (0.25 + 1.0 / 30.0) * 20.0);
    assert_close!(c.cost_breakdown.train, 2.0 * 2.1 * 20.0);
    assert_close!(c.hours_breakdown.eval, 0.1);

    // The same job on 1-GPU instances: 12 instances x 2.383333 h x 3 USD/h = 85.8 USD.
    let c = job_cost(&t, &t.offers[1], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_eq!(c.instances, 12);
    assert_close!(c.cost, 85.8);

    // A 4-GPU job still pays for the whole 8-GPU instance: 1 x 2.383333 h x 20 = 47.6667 USD.
    let c = job_cost(
        &t,
        &t.offers[0],
        Billing::OnDemand,
        &JobInputs { gpus: 4, ..job },
        &fx(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(c.instances, 1);
    assert_close!(c.cost, 8580.0 / 3600.0 * 20.0);
}

#[test]
fn costs_are_converted_to_the_display_currency() {
    let t = table("CNY", 1, None, &offer("c", "a10", 1, 6.7686, ""));
    let job = bare_job(10.0, 1);
    // 10 h x 6.7686 CNY/h = 67.686 CNY; / 6.7686 CNY per USD = 10 USD.
    let c = job_cost(
        &t,
        &t.offers[0],
        Billing::OnDemand,
        &job,
        &fx(),
        Some("USD"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (c.currency.as_str(), c.display_currency.as_str()),
        ("CNY", "USD")
    );
    assert_close!(c.cost, 67.686);
    assert_close!(c.cost_display, 10.0);
    // Default display currency: CNY for a table billed in CNY ...
    let c = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_eq!(c.display_currency, "CNY");
    assert_close!(c.cost_display, 67.686);
    // ... USD otherwise: 10 h x 1.5 USD/h = 15 USD = 15 x 6.7686 = 101.529 CNY.
    let u = table("USD", 1, None, &offer("u", "a10g", 1, 1.5, ""));
    let c = job_cost(&u, &u.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_eq!(c.display_currency, "USD");
    let c = job_cost(
        &u,
        &u.offers[0],
        Billing::OnDemand,
        &job,
        &fx(),
        Some("CNY"),
    )
    .unwrap()
    .unwrap();
    assert_close!(c.cost_display, 101.529);
    // An unknown display currency is an error naming it.
    let e = job_cost(
        &u,
        &u.offers[0],
        Billing::OnDemand,
        &job,
        &fx(),
        Some("EUR"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("EUR"), "{e}");
}

const OSS: &str = r#"
[storage]
name = "object storage"
price_per_gb_month = 0.12
ingress_per_gb = 0.0
egress_per_gb = 0.5
source = "test"
as_of = "2026-11-01"
confidence = "secondary"
"#;

#[test]
fn export_of_an_adapter_costs_little_and_a_merged_model_costs_upload_storage_and_egress() {
    // 36 CNY/h = 0.01 CNY/s, per-second billing; storage 0.12 CNY/GB-month, egress 0.5 CNY/GB.
    let t = table(
        "CNY",
        1,
        None,
        &format!("{OSS}{}", offer("h", "h20", 1, 36.0, "")),
    );
    let mut job = bare_job(1.0, 1);

    // Adapter, 40 MB = 0.04 GB: upload 0.04e9 x 8 / 1e9 = 0.32 s -> 0.0032 CNY;
    // storage 0.04 x 0.12 x 1 month = 0.0048; egress 0.04 x 0.5 = 0.02. Export = 0.028 CNY.
    job.export_bytes = 40_000_000;
    let adapter = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(adapter.cost_breakdown.export, 0.028);
    assert_close!(adapter.hours_breakdown.export, 0.32 / 3600.0);

    // Merged model, 15.2 GB: upload 15.2e9 x 8 / 1e9 = 121.6 s -> 1.216 CNY;
    // storage 15.2 x 0.12 = 1.824; egress 15.2 x 0.5 = 7.6. Export = 10.64 CNY.
    job.export_bytes = 15_200_000_000;
    let merged = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(merged.cost_breakdown.export, 10.64);
    // Session 3600 + 121.6 = 3721.6 s, billed 3722 s: the extra 0.4 s (0.004 CNY) goes to train.
    assert_close!(merged.hours, 3722.0 / 3600.0);
    assert_close!(merged.cost_breakdown.train, 36.004);
    assert_close!(merged.cost, 36.004 + 10.64);
}

#[test]
fn data_upload_and_storage_and_missing_storage_prices() {
    // 2 GB of data: ingress 2 x 0.0 = 0; storage 2 x 0.12 x 3 months = 0.72 CNY. Its download
    // onto the instance (2e9 x 8 / 1e9 = 16 s at 36 CNY/h = 0.16 CNY) counts as setup.
    let t = table(
        "CNY",
        1,
        None,
        &format!("{OSS}{}", offer("h", "h20", 1, 36.0, "")),
    );
    let mut job = bare_job(1.0, 1);
    job.data_bytes = 2_000_000_000;
    job.assumptions.storage_months = 3.0;
    let c = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(c.cost_breakdown.data, 0.72);
    assert_close!(c.cost_breakdown.setup, 0.16);
    assert_close!(c.cost, 36.0 + 0.16 + 0.72);
    assert!(c.notes.is_empty(), "{:?}", c.notes);

    // No [storage] table: storage counts as 0 and the result says so.
    let bare = table("CNY", 1, None, &offer("h", "h20", 1, 36.0, ""));
    let c = job_cost(&bare, &bare.offers[0], Billing::OnDemand, &job, &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(c.cost_breakdown.data, 0.0);
    assert!(
        c.notes[0].contains("no storage/ingress price"),
        "{:?}",
        c.notes
    );
}

#[test]
fn monthly_billing_charges_whole_months_and_spot_carries_its_caveat() {
    let t = table(
        "USD",
        60,
        None,
        &offer(
            "a2",
            "a100-40g",
            1,
            3.673385,
            "spot = 1.293355\nmonthly = 2681.57",
        ),
    );
    let o = &t.offers[0];
    // 800 h -> ceil(800 / 730) = 2 months x 2681.57 = 5363.14 USD; billed 2 x 730 = 1460 h.
    let c = job_cost(&t, o, Billing::Monthly, &bare_job(800.0, 1), &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(c.cost, 5363.14);
    assert_close!(c.hours, 1460.0);
    assert_eq!(c.price_per_month, Some(2681.57));
    assert_close!(c.price_per_hour, 2681.57 / 730.0);
    // 10 h still costs a whole month.
    let c = job_cost(&t, o, Billing::Monthly, &bare_job(10.0, 1), &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(c.cost, 2681.57);

    // Spot: 10 h x 1.293355 = 12.93355 USD, with the interruption caveat.
    let c = job_cost(&t, o, Billing::Spot, &bare_job(10.0, 1), &fx(), None)
        .unwrap()
        .unwrap();
    assert_close!(c.cost, 12.93355);
    assert_eq!(c.caveat.as_deref(), Some(SPOT_CAVEAT));
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["billing"], "spot");
    assert!(json["caveat"].as_str().unwrap().contains("reclaimed"));
    // On-demand has no caveat; an offer without a spot price gives None.
    let c = job_cost(&t, o, Billing::OnDemand, &bare_job(10.0, 1), &fx(), None)
        .unwrap()
        .unwrap();
    assert!(c.caveat.is_none());
    let plain = table("USD", 60, None, &offer("p", "t4", 1, 0.5, ""));
    assert!(job_cost(
        &plain,
        &plain.offers[0],
        Billing::Spot,
        &bare_job(1.0, 1),
        &fx(),
        None
    )
    .unwrap()
    .is_none());
}

#[test]
fn job_cost_json_has_the_design_fields() {
    let cat = PricingCatalog::embedded().unwrap();
    let t = cat.table("alibaba").unwrap();
    let o = t
        .offers
        .iter()
        .find(|o| o.instance == "ecs.gn7e-c16g1.4xlarge")
        .unwrap();
    let c = job_cost(t, o, Billing::OnDemand, &bare_job(1.0, 1), &cat.fx, None)
        .unwrap()
        .unwrap();
    let v = serde_json::to_value(&c).unwrap();
    for k in [
        "provider",
        "region",
        "instance",
        "hardware",
        "gpus",
        "billing",
        "price_per_hour",
        "currency",
        "hours",
        "cost",
        "cost_breakdown",
    ] {
        assert!(v.get(k).is_some(), "missing {k}: {v}");
    }
    for k in ["setup", "data", "train", "export"] {
        assert!(
            v["cost_breakdown"].get(k).is_some(),
            "missing cost_breakdown.{k}"
        );
    }
    assert_eq!(v["billing"], "on-demand");
    assert_eq!(v["price_per_hour"], 34.83);
    assert_eq!(v["currency"], "CNY");
    // 1 h x 34.83 CNY/h, per-second billing.
    assert_close!(c.cost, 34.83);
}

#[test]
fn invalid_job_inputs_are_input_errors() {
    let t = table("USD", 1, None, &offer("p", "t4", 1, 0.5, ""));
    let mut job = bare_job(f64::NAN, 1);
    assert!(job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None).is_err());
    job.train_hours = 1.0;
    job.assumptions.download_gbps = 0.0;
    let e = job_cost(&t, &t.offers[0], Billing::OnDemand, &job, &fx(), None).unwrap_err();
    assert!(
        e.is_user_error() && e.to_string().contains("bandwidth"),
        "{e}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The breakdown sums to the cost, and rounding never bills less than the session.
        #[test]
        fn breakdown_sums_to_cost(
            hours in 0.0f64..2000.0, gpus in 0u64..20, inc in 1u64..3600,
            model in 0u64..50_000_000_000, data in 0u64..5_000_000_000, export in 0u64..20_000_000_000,
            billing in prop_oneof![Just(Billing::OnDemand), Just(Billing::Spot), Just(Billing::Monthly)],
        ) {
            let t = table("USD", inc, Some(60), &format!("{OSS}{}",
                offer("x", "a100-80g", 8, 20.0, "spot = 7.0\nmonthly = 9000.0")));
            let job = JobInputs { train_hours: hours, gpus, base_model_bytes: model, data_bytes: data,
                export_bytes: export, assumptions: CostAssumptions::default() };
            let c = job_cost(&t, &t.offers[0], billing, &job, &fx(), Some("CNY")).unwrap().unwrap();
            let b = c.cost_breakdown;
            prop_assert!(close(b.setup + b.data + b.train + b.export, c.cost));
            prop_assert!(b.setup >= 0.0 && b.data >= 0.0 && b.train >= 0.0 && b.export >= 0.0);
            prop_assert!(c.hours + 1e-9 >= c.wall_hours * c.instances as f64);
            prop_assert!(close(c.cost_display, c.cost * 6.7686));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

const GOOD: &str = r#"provider = "aws"
display_name = "Test AWS"
currency = "USD"
billing_increment_seconds = 1
as_of = "2026-11-01"
source = "test server"
confidence = "secondary"

[[offers]]
instance = "g4dn.xlarge"
region = "us-east-1"
hardware = "t4"
gpus = 1
on_demand = 0.5
"#;

/// The errors of a table: each `file:line:col: message`.
fn problems(text: &str) -> Vec<String> {
    PriceTable::check("bad.toml", text, &hw(), Some(&fx()))
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn one_problem(text: &str, at: &str, says: &str) {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with(at), "expected {at}: {p:?}");
    assert!(p[0].contains(says), "expected '{says}': {p:?}");
}

#[test]
fn good_table_is_accepted_and_aliases_resolve() {
    let t = PriceTable::parse("good.toml", GOOD, &hw(), Some(&fx())).unwrap();
    assert_eq!(t.offers[0].hardware, "t4");
    let t = PriceTable::parse(
        "good.toml",
        &GOOD.replace("\"t4\"", "\"tesla-t4\""),
        &hw(),
        None,
    )
    .unwrap();
    assert_eq!(t.offers[0].hardware, "t4");
}

#[test]
fn unknown_hardware_is_reported_at_the_value() {
    // line 12: `hardware = "t5"`, value at column 12.
    one_problem(
        &GOOD.replace("\"t4\"", "\"t5\""),
        "bad.toml:12:12:",
        "unknown hardware 't5'",
    );
}

#[test]
fn negative_and_zero_prices_are_rejected() {
    one_problem(
        &GOOD.replace("0.5", "-0.5"),
        "bad.toml:14:13:",
        "on_demand price must be a number > 0 and at most 1e7, not -0.5",
    );
    one_problem(
        &GOOD.replace("0.5", "0.0"),
        "bad.toml:14:13:",
        "> 0 and at most 1e7, not 0",
    );
    one_problem(
        &format!("{GOOD}spot = -1.0\n"),
        "bad.toml:15:8:",
        "spot price",
    );
}

#[test]
fn missing_currency_is_rejected() {
    one_problem(
        &GOOD.replace("currency = \"USD\"\n", ""),
        "bad.toml:1:1:",
        "missing `currency`",
    );
    one_problem(
        &GOOD.replace("\"USD\"", "\"usd\""),
        "bad.toml:3:12:",
        "not an ISO code",
    );
    one_problem(
        &GOOD.replace("\"USD\"", "\"EUR\""),
        "bad.toml:3:12:",
        "no rate in fx.toml",
    );
}

#[test]
fn duplicate_instances_in_a_region_are_rejected() {
    let dup = format!("{GOOD}\n[[offers]]\ninstance = \"g4dn.xlarge\"\nregion = \"us-east-1\"\nhardware = \"t4\"\ngpus = 1\non_demand = 0.6\n");
    one_problem(
        &dup,
        "bad.toml:17:12:",
        "duplicate instance 'g4dn.xlarge' in region 'us-east-1' (first listed at line 10)",
    );
    // The same instance in another region is fine.
    let other = dup.replace(
        "region = \"us-east-1\"\nhardware = \"t4\"\ngpus = 1\non_demand = 0.6",
        "region = \"us-west-2\"\nhardware = \"t4\"\ngpus = 1\non_demand = 0.6",
    );
    assert!(PriceTable::check("ok.toml", &other, &hw(), Some(&fx())).is_ok());
}

#[test]
fn bad_dates_are_rejected() {
    one_problem(
        &GOOD.replace("2026-11-01", "2026-02-30"),
        "bad.toml:5:9:",
        "as_of '2026-02-30' is not a date",
    );
    one_problem(
        &GOOD.replace("2026-11-01", "Nov 2026"),
        "bad.toml:5:9:",
        "YYYY-MM-DD",
    );
    one_problem(
        &format!("{GOOD}as_of = \"2026-1-5\"\n"),
        "bad.toml:15:9:",
        "not a date",
    );
}

#[test]
fn other_classes_of_bad_tables() {
    // Syntax error: line and column from the TOML parser.
    let p = problems("provider = \"aws\"\ncurrency = \n");
    assert!(p[0].starts_with("bad.toml:2:"), "{p:?}");
    // Unknown field (a typo) is rejected.
    let p = problems(&GOOD.replace("on_demand", "ondemand"));
    assert!(
        p[0].starts_with("bad.toml:") && p[0].contains("ondemand"),
        "{p:?}"
    );
    // A GPU offer without GPUs, a CPU offer with GPUs.
    one_problem(
        &GOOD.replace("gpus = 1", "gpus = 0"),
        "bad.toml:13:8:",
        "gpus must be >= 1",
    );
    one_problem(
        &GOOD.replace("\"t4\"", "\"cpu-16c\""),
        "bad.toml:13:8:",
        "gpus must be 0",
    );
    one_problem(
        &GOOD.replace("\"secondary\"", "\"guess\""),
        "bad.toml:7:14:",
        "confidence 'guess'",
    );
    one_problem(
        &GOOD.replace("increment_seconds = 1", "increment_seconds = 0"),
        "bad.toml:4:29:",
        "between 1 (per-second billing)",
    );
    one_problem(
        &GOOD.replace("\"aws\"", "\"../evil\""),
        "bad.toml:1:12:",
        "provider '../evil'",
    );
    // Several problems are all reported, in file order.
    let p = problems(&GOOD.replace("0.5", "-0.5").replace("2026-11-01", "x"));
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("bad.toml:5:") && p[1].starts_with("bad.toml:14:"),
        "{p:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Catalog: overlay and staleness

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_user_file_replaces_the_embedded_one_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("pricing/aws.toml"), GOOD);
    let cat = PricingCatalog::load(Some(dir.path())).unwrap();
    let aws = cat.table("aws").unwrap();
    assert_eq!(aws.offers.len(), 1);
    assert_eq!(aws.offers[0].on_demand, 0.5);
    // Other providers are still the embedded ones.
    assert!(cat.table("alibaba").unwrap().offers.len() > 30);
    assert_eq!(cat.offers().filter(|(t, _)| t.provider == "aws").count(), 1);

    // A second file for the same provider is an error that names both.
    write(&dir.path().join("pricing/aws-copy.toml"), GOOD);
    let e = PricingCatalog::load(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("aws-copy.toml") && e.contains("already defined"),
        "{e}"
    );

    // A broken user file is reported with its path and position.
    std::fs::remove_file(dir.path().join("pricing/aws-copy.toml")).unwrap();
    write(
        &dir.path().join("pricing/aws.toml"),
        &GOOD.replace("0.5", "-1.0"),
    );
    let e = PricingCatalog::load(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("aws.toml:14:13:"), "{e}");
}

#[test]
fn user_fx_and_hardware_are_used_for_validation() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("pricing/fx.toml"),
        &format!("{FX}EUR = 0.9\n"),
    );
    write(
        &dir.path().join("pricing/eu.toml"),
        &GOOD
            .replace("\"aws\"", "\"eu\"")
            .replace("\"USD\"", "\"EUR\""),
    );
    let cat = PricingCatalog::load(Some(dir.path())).unwrap();
    assert_eq!(cat.table("eu").unwrap().currency, "EUR");
    // 0.9 EUR = 1 USD.
    assert!(close(cat.fx.convert(0.9, "EUR", "USD").unwrap(), 1.0));
}

#[test]
fn stale_tables_are_listed_with_their_as_of() {
    let files = vec![
        DataFile::embedded("pricing/fx.toml", FX),
        DataFile::embedded("pricing/aws.toml", GOOD),
    ];
    let cat = PricingCatalog::from_files(&files, &hw()).unwrap();
    // as_of 2026-11-01: 2027-01-30 is 90 days later (fresh), 2027-01-31 is 91 (stale).
    assert!(cat.stale_tables("2027-01-30", 90).is_empty());
    assert_eq!(
        cat.stale_tables("2027-01-31", 90),
        vec![("aws".to_string(), "2026-11-01".to_string())]
    );
}

// ---------------------------------------------------------------------------------------------
// CLI

fn peftcost(config: &Path) -> Command {
    let mut c = Command::cargo_bin("peftcost").unwrap();
    c.env("PEFTCOST_CONFIG_DIR", config)
        .env("PEFTCOST_DATA_DIR", config.join("data"))
        .env("NO_COLOR", "1");
    c
}

#[test]
fn cli_show_alibaba_prints_sources_dates_confidence_and_storage() {
    let dir = tempfile::tempdir().unwrap();
    let out = peftcost(dir.path())
        .args(["pricing", "show", "alibaba", "--today", "2026-11-29"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    let cat = PricingCatalog::embedded().unwrap();
    let t = cat.table("alibaba").unwrap();
    for o in &t.offers {
        let line = s
            .lines()
            .find(|l| {
                l.contains(&format!(" {} ", o.instance)) && l.contains(&format!(" {} ", o.region))
            })
            .unwrap_or_else(|| panic!("{} {} not shown", o.instance, o.region));
        assert!(line.contains(o.source_in(t)), "{line}");
        assert!(
            line.contains(o.as_of_in(t)) && line.contains(o.confidence_in(t)),
            "{line}"
        );
    }
    assert!(
        s.contains("OSS Standard (LRS), Hangzhou") && s.contains("0.12 CNY"),
        "{s}"
    );
    // The placeholder as_of 2026-01-01 is over 90 days before 2026-11-29.
    assert!(
        s.contains("WARNING: alibaba prices are as of 2026-01-01"),
        "{s}"
    );
}

#[test]
fn cli_list_filters_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    let out = peftcost(dir.path())
        .args([
            "pricing",
            "list",
            "--provider",
            "alibaba",
            "--hardware",
            "A100-80GB",
            "--billing",
            "on-demand",
            "--currency",
            "usd",
            "--max-price",
            "11",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let offers = v["offers"].as_array().unwrap();
    // gn7e-c16g1.4xlarge 34.83 CNY = 5.15 USD and gn7e-c16g1.8xlarge 69.57 CNY = 10.28 USD are
    // under 11 USD; sccgn7ex.32xlarge (361.40 CNY = 53.39 USD) is not.
    let names: Vec<&str> = offers
        .iter()
        .map(|o| o["instance"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ecs.gn7e-c16g1.4xlarge", "ecs.gn7e-c16g1.8xlarge"]);
    assert!(close(
        offers[0]["price_display"].as_f64().unwrap(),
        34.83 / 6.7686
    ));
    assert_eq!(offers[0]["display_currency"], "USD");

    peftcost(dir.path())
        .args(["pricing", "list", "--provider", "alibab"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean 'alibaba'"));
    peftcost(dir.path())
        .args(["pricing", "list", "--currency", "EUR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown currency 'EUR'"));
    let csv = peftcost(dir.path())
        .args(["pricing", "list", "--billing", "spot", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(
        csv.starts_with("provider,region,instance,hardware,gpus"),
        "{csv}"
    );
    assert!(csv.lines().skip(1).all(|l| l.contains(",spot,")), "{csv}");
}

#[test]
fn cli_validate_reports_file_line_col_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    // A whole table ends with the end marker (pricing validate refuses a cut one).
    write(&good, &format!("{GOOD}\n# end of peftcost table\n"));
    peftcost(dir.path())
        .args(["pricing", "validate"])
        .arg(&good)
        .args(["--today", "2026-11-29"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: aws"));
    let bad = dir.path().join("bad.toml");
    write(&bad, &GOOD.replace("\"t4\"", "\"t5\""));
    peftcost(dir.path())
        .args(["pricing", "validate"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:12:12: unknown hardware 't5'",
            bad.display()
        )));
    // Two problems: both listed, then a summary.
    write(
        &bad,
        &GOOD.replace("\"t4\"", "\"t5\"").replace("0.5", "-0.5"),
    );
    peftcost(dir.path())
        .args(["pricing", "validate"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(":12:12:")
                .and(predicate::str::contains(":14:13:"))
                .and(predicate::str::contains("2 problems")),
        );
    // fx.toml is recognised and checked too.
    let fxp = dir.path().join("fx.toml");
    write(&fxp, &FX.replace("6.7686", "0"));
    peftcost(dir.path())
        .args(["pricing", "validate"])
        .arg(&fxp)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "fx.toml:7:7: rate of CNY must be a positive number",
        ));
}

// ---------------------------------------------------------------------------------------------
// pricing update against a local server

/// Serve canned responses on 127.0.0.1 until the test process exits. Paths:
/// /good /good2 /malformed /negative /truncated /slow /500 /big /liar /unlimited /redirect
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream));
        }
    });
    base
}

/// A served table: the body with the completeness marker a whole table ends with.
fn whole(body: &str) -> String {
    format!("{body}# end of peftcost table\n")
}

fn good() -> String {
    whole(GOOD)
}

fn good2() -> String {
    whole(&GOOD.replace("0.5", "0.45"))
}

fn handle(mut s: TcpStream) {
    let Some(req) = crate::common::request_head(&mut s) else {
        return;
    };
    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
    let ok = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let big = "# padding\n".repeat(500); // 5000 bytes
    let resp = match path.as_str() {
        "/good" => ok(&good()),
        "/good2" => ok(&good2()),
        "/malformed" => ok("provider = \"aws\"\n[[offers]\ninstance = "),
        "/negative" => ok(&whole(&GOOD.replace("0.5", "-0.5"))),
        "/fx" => ok(&whole(&format!("{FX}EUR = 0.9\n"))),
        "/fx-without-cny" => ok(&whole(&FX.replace("CNY = 6.7686\n", ""))),
        "/wrong-provider" => ok(&whole(&GOOD.replace("\"aws\"", "\"gcp\""))),
        // The whole table without its marker, cut at a quarter, half, three quarters.
        "/unmarked" => ok(GOOD),
        "/cut25" => ok(&good()[..good().len() / 4]),
        "/cut50" => ok(&good()[..good().len() / 2]),
        "/cut75" => ok(&good()[..good().len() * 3 / 4]),
        "/counted-short" => ok(&GOOD.replace(
            "provider = \"aws\"",
            "provider = \"aws\"\noffer_count = 2",
        )),
        "/truncated" => {
            // Promise 1000 bytes (under the limit), send 100, hang up.
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{}",
                &GOOD[..100]
            )
        }
        "/slow" => {
            // Send nothing until the client gives up (it closes the connection) or 10 s pass.
            let _ = s.read(&mut [0u8; 1]);
            return;
        }
        "/500" => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"
            .to_string(),
        "/big" => ok(&format!("{GOOD}{big}")),
        // Claims 200 bytes but sends the whole padded table: the client must not read past 200.
        "/liar" => format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 200\r\nConnection: close\r\n\r\n{GOOD}{big}"
        ),
        // No Content-Length: the body runs until the connection closes.
        "/unlimited" => format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{GOOD}{big}"),
        // Headers at once, then one byte every 100 ms of a 2000-byte body.
        "/trickle" => {
            let body = good();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            if s.write_all(head.as_bytes()).is_err() {
                return;
            }
            for b in body.bytes() {
                std::thread::sleep(Duration::from_millis(100));
                if s.write_all(&[b]).and_then(|_| s.flush()).is_err() {
                    return;
                }
            }
            return;
        }
        "/redirect" => "HTTP/1.1 302 Found\r\nLocation: http://example.com/aws.toml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_string(),
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    };
    let _ = s.write_all(resp.as_bytes());
    let _ = s.flush();
}

fn opts() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        max_bytes: 4096,
        require_length: true,
    }
}

const PREVIOUS: &str = "# the user's previous table\n";

/// A config dir whose pricing/aws.toml holds a valid previous table.
fn config_with_previous() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pricing/aws.toml");
    let prev = format!("{PREVIOUS}{}", GOOD.replace("0.5", "0.526"));
    write(&path, &prev);
    (dir, path, prev.into_bytes())
}

/// Only aws.toml, nothing else (no .bak, no temp files; the update lock is not data).
fn only_the_table(dir: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("pricing"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".update.lock")
        .collect();
    names.sort();
    assert_eq!(names, ["aws.toml"]);
}

#[test]
fn update_installs_a_good_table_and_keeps_the_previous_as_bak() {
    let base = serve();
    let (dir, path, prev) = config_with_previous();
    let out = update::update(
        dir.path(),
        &format!("{base}/good"),
        Some("aws"),
        &opts(),
        false,
    )
    .unwrap();
    assert_eq!(out.path, path);
    assert_eq!(std::fs::read(&path).unwrap(), good().as_bytes());
    let bak = out.backup.unwrap();
    assert_eq!(bak, dir.path().join("pricing/aws.toml.bak"));
    assert_eq!(std::fs::read(&bak).unwrap(), prev);
    assert_eq!(
        (out.provider.as_str(), out.offers, out.as_of.as_str()),
        ("aws", 1, "2026-11-01")
    );
    // The catalog now uses it.
    let cat = PricingCatalog::load(Some(dir.path())).unwrap();
    assert_eq!(cat.table("aws").unwrap().offers[0].on_demand, 0.5);

    // A second update: the backup is the table it replaced.
    update::update(dir.path(), &format!("{base}/good2"), None, &opts(), false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), good2().as_bytes());
    assert_eq!(std::fs::read(&bak).unwrap(), good().as_bytes());
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("pricing"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".update.lock")
        .collect();
    names.sort();
    assert_eq!(names, ["aws.toml", "aws.toml.bak", "aws.toml.bak.1"]);
    // Rollback puts the previous table back; the one it replaced becomes the backup.
    let back = peftcost::pricing::install::rollback(dir.path(), "aws").unwrap();
    assert_eq!(back.path, path);
    assert_eq!(std::fs::read(&path).unwrap(), good().as_bytes());
    assert_eq!(std::fs::read(&bak).unwrap(), good2().as_bytes());
}

#[test]
fn update_without_a_previous_user_copy_creates_it() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    // One offer replaces the embedded table's twelve: a shrink, refused without allow_shrink.
    let e = update::update(dir.path(), &format!("{base}/good"), None, &opts(), false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--allow-shrink") && e.contains("lose every offer of"),
        "{e}"
    );
    let out = update::update(dir.path(), &format!("{base}/good"), None, &opts(), true).unwrap();
    assert!(out.backup.is_none());
    only_the_table(dir.path());
}

/// Every failure leaves the previous table byte-identical and no other file behind.
fn refused(path: &str, says: &str) {
    refused_with(path, says, &opts())
}

fn refused_with(path: &str, says: &str, opts: &FetchOptions) {
    let base = serve();
    let (dir, table, prev) = config_with_previous();
    let err = update::update(
        dir.path(),
        &format!("{base}{path}"),
        Some("aws"),
        opts,
        false,
    )
    .unwrap_err()
    .to_string();
    eprintln!("{path}: {err}");
    assert!(err.contains(says), "{path}: expected '{says}' in: {err}");
    assert!(!err.contains('\n'), "{path}: not one line: {err}");
    assert_eq!(
        std::fs::read(&table).unwrap(),
        prev,
        "{path}: table changed"
    );
    only_the_table(dir.path());
}

#[test]
fn update_refuses_a_malformed_table() {
    refused("/malformed", "nothing was changed");
}

#[test]
fn update_refuses_a_negative_price() {
    refused("/negative", ":14:13: on_demand price must be a number > 0");
}

#[test]
fn update_refuses_a_table_for_another_provider() {
    refused("/wrong-provider", "for provider 'gcp', not 'aws'");
}

#[test]
fn update_refuses_a_truncated_body() {
    refused("/truncated", "body");
}

#[test]
fn update_gives_up_on_a_slow_server() {
    let short = FetchOptions {
        timeout: Duration::from_millis(300),
        ..opts()
    };
    refused_with("/slow", "timed out", &short);
}

#[test]
fn update_refuses_an_http_error() {
    refused("/500", "HTTP 500");
}

#[test]
fn update_refuses_bodies_over_the_limit() {
    // Content-Length says 5 KB+, over the 4096-byte limit of the test.
    refused("/big", "over the 4096-byte limit");
    // No Content-Length: the limit is enforced while reading.
    refused("/unlimited", "no Content-Length");
    // Cut-off tables: refused as unparsable or, where the cut still parses, as incomplete;
    // either way the installed table stays byte-identical.
    refused("/unmarked", "cut off");
    for cut in ["/cut25", "/cut50", "/cut75"] {
        refused(cut, "the download was rejected");
    }
    refused(
        "/counted-short",
        "offer_count says 2 offers but the table has 1",
    );
    // A Content-Length smaller than what is sent: only 200 bytes are read, which is not a table.
    refused("/liar", "nothing was changed");
}

#[test]
fn update_refuses_a_redirect_to_plain_http() {
    refused("/redirect", "non-HTTPS");
}

#[test]
fn update_requires_https_except_for_loopback() {
    let (dir, table, prev) = config_with_previous();
    for url in [
        "http://example.com/aws.toml",
        "http://10.0.0.1/aws.toml",
        "ftp://127.0.0.1/aws.toml",
        "file:///etc/passwd",
        "not a url",
    ] {
        let e = update::update(dir.path(), url, None, &opts(), false).unwrap_err();
        assert!(e.is_user_error(), "{url}: {e}");
    }
    assert_eq!(std::fs::read(&table).unwrap(), prev);
    for url in [
        "http://127.0.0.1:1/x",
        "http://127.8.9.10/x",
        "http://[::1]:1/x",
        "http://localhost:1/x",
        "https://example.com/x",
    ] {
        assert!(update::check_url(url).is_ok(), "{url}");
    }
}

#[test]
fn cli_update_installs_and_reports_failures_in_one_line() {
    let base = serve();
    let (dir, table, prev) = config_with_previous();
    peftcost(dir.path())
        .args([
            "pricing",
            "update",
            "--from",
            &format!("{base}/negative"),
            "--timeout-secs",
            "2",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("on_demand price")
                .and(predicate::str::contains("nothing was changed")),
        );
    assert_eq!(std::fs::read(&table).unwrap(), prev);
    peftcost(dir.path())
        .args(["pricing", "update", "--from", "http://example.com/aws.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only https:// URLs"));
    peftcost(dir.path())
        .args([
            "pricing",
            "update",
            "--from",
            &format!("{base}/good"),
            "--provider",
            "aws",
            "--timeout-secs",
            "2",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("installed").and(predicate::str::contains("aws.toml.bak")),
        );
    assert_eq!(std::fs::read(&table).unwrap(), good().as_bytes());
}

#[test]
fn update_of_the_exchange_rates_is_checked_against_every_table() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    // Embedded tables bill in CNY: rates without CNY would break them, so they are refused.
    let e = update::update(
        dir.path(),
        &format!("{base}/fx-without-cny"),
        Some("fx"),
        &opts(),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("CNY") && e.contains("nothing was changed"),
        "{e}"
    );
    assert!(!dir.path().join("pricing/fx.toml").exists());
    let out = update::update(
        dir.path(),
        &format!("{base}/fx"),
        Some("fx"),
        &opts(),
        false,
    )
    .unwrap();
    assert_eq!(out.path, dir.path().join("pricing/fx.toml"));
    let cat = PricingCatalog::load(Some(dir.path())).unwrap();
    assert_eq!(cat.fx.rate("EUR"), Some(0.9));
}

#[test]
fn the_timeout_bounds_the_whole_download() {
    // A server trickling a byte every 100 ms: with a 1 s limit the update gives up after ~1 s,
    // not after the ~50 s the body would take.
    let base = serve();
    let (dir, table, prev) = config_with_previous();
    let opts = FetchOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    };
    let started = std::time::Instant::now();
    let e = update::update(dir.path(), &format!("{base}/trickle"), None, &opts, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("timed out"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(std::fs::read(&table).unwrap(), prev);
}

#[test]
fn concurrent_updates_never_interleave() {
    // Two updates of the same provider at once: the lock serialises read-validate-install, so
    // the result is one of the two tables whole, with the other as its backup.
    let base = serve();
    let (dir, table, _) = config_with_previous();
    let d = dir.path().to_path_buf();
    let threads: Vec<_> = ["/good", "/good2"]
        .into_iter()
        .map(|p| {
            let (d, url) = (d.clone(), format!("{base}{p}"));
            std::thread::spawn(move || update::update(&d, &url, None, &opts(), false))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let now = std::fs::read_to_string(&table).unwrap();
    let bak = std::fs::read_to_string(dir.path().join("pricing/aws.toml.bak")).unwrap();
    assert!(now == good() || now == good2(), "{now}");
    assert!(bak == good() || bak == good2());
    assert_ne!(now, bak);
    PricingCatalog::load(Some(dir.path())).unwrap();
}

#[test]
fn diff_and_dry_run_say_what_a_refresh_changes() {
    let base = serve();
    let (dir, table, prev) = config_with_previous();
    // The user's table prices the offer at 0.526 USD/h; /good2 at 0.45: -14.4%.
    let out = peftcost(dir.path())
        .args([
            "pricing",
            "update",
            "--from",
            &format!("{base}/good2"),
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 prices changed") && text.contains("-14.4%"),
        "{text}"
    );
    assert!(text.contains("nothing installed"), "{text}");
    assert_eq!(std::fs::read(&table).unwrap(), prev);
    // pricing diff of two files, as JSON.
    let new = dir.path().join("new.toml");
    write(&new, &good2());
    let out = peftcost(dir.path())
        .args([
            "pricing",
            "diff",
            table.to_str().unwrap(),
            new.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["changed"][0]["old"], 0.526);
    assert_eq!(d["changed"][0]["new"], 0.45);
    assert_eq!(d["added"].as_array().unwrap().len(), 0);
}

#[test]
fn max_price_age_leaves_old_offers_out_of_the_ranking() {
    let today = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        peftcost::pricing::date::date_from_unix_days((secs / 86_400) as i64)
    };
    let v = crate::common::json_of(&["estimate", "--max-price-age", "365", "--format", "json"]);
    let offers = v["offers"].as_array().unwrap();
    assert!(!offers.is_empty());
    for o in offers {
        let age =
            peftcost::pricing::date::days_between(o["as_of"].as_str().unwrap(), &today).unwrap();
        assert!(
            age <= 365,
            "{} {} is {age} days old",
            o["provider"],
            o["instance"]
        );
    }
    let notes = v["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n.as_str().unwrap().contains("(--max-price-age)")));
}
