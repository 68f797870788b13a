//! Parser fuzzing on stable Rust: proptest feeds every parser arbitrary bytes and structure-aware
//! mutations of the shipped files (a byte replaced, inserted or deleted; a cut), asserting that
//! nothing panics and that every syntax error names its file with line and column. A price
//! table cut anywhere must never be accepted by `pricing update`.
//!
//! Short in CI (`PEFTCOST_FUZZ_CASES`, default 48 cases a target); the long mode is the same
//! tests with e.g. `PEFTCOST_FUZZ_CASES=200000 cargo test --release --test it fuzz::`.

use peftcost::arch::{import_hf_config, ModelCatalog};
use peftcost::hardware::{parse_calibration, HardwareCatalog};
use peftcost::pricing::install::validate_fetched;
use peftcost::pricing::{Fx, PriceTable};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PEFTCOST_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

macro_rules! shipped {
    ($p:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $p))
    };
}

const ALIBABA: &str = shipped!("pricing/alibaba.toml");
const FX: &str = shipped!("pricing/fx.toml");
const HARDWARE: &str = shipped!("profiles/hardware.toml");
const PROFILE: &str = shipped!("profiles/models/qwen-7b.toml");
const HF_CONFIG: &str = shipped!("tests/data/llama-2-7b.json");
/// A Retail Prices API page in its documented shape (anchors-2026.md §2.2).
const AZURE_PAGE: &str = r#"{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[{"currencyCode":"USD","tierMinimumUnits":0.0,"retailPrice":3.673,"unitPrice":3.673,"armRegionName":"eastus","location":"US East","effectiveStartDate":"2024-01-01T00:00:00Z","meterId":"m","meterName":"NC24ads A100 v4","productId":"p","skuId":"s","productName":"Virtual Machines NCads A100 v4 Series","skuName":"NC24ads A100 v4","serviceName":"Virtual Machines","serviceId":"v","serviceFamily":"Compute","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4"}],"NextPageLink":null,"Count":1}"#;
/// The head of an AWS offer file: the disclaimers, the header and two rows.
const AWS_OFFERS: &str = "\"FormatVersion\",\"v1.0\"\n\"Disclaimer\",\"x\"\n\"Publication Date\",\"2026-11-30\"\n\"Version\",\"1\"\n\"OfferCode\",\"AmazonEC2\"\n\"TermType\",\"Unit\",\"PricePerUnit\",\"Currency\",\"Instance Type\",\"Tenancy\",\"Operating System\",\"Pre Installed S/W\",\"CapacityStatus\",\"Region Code\",\"GPU\"\n\"OnDemand\",\"Hrs\",\"0.526\",\"USD\",\"g4dn.xlarge\",\"Shared\",\"Linux\",\"NA\",\"Used\",\"us-east-1\",\"1\"\n\"OnDemand\",\"Hrs\",\"21.9576\",\"USD\",\"p4d.24xlarge\",\"Shared\",\"Linux\",\"\",\"Used\",\"us-east-1\",\"8\"\n";
/// Lambda's instance types, RunPod's GPU types and a Cloud Billing Catalog page in their
/// documented shapes (anchors-2026.md §2.2).
const LAMBDA_TYPES: &str = r#"{"data":{"gpu_8x_a100_80gb_sxm4":{"instance_type":{"name":"gpu_8x_a100_80gb_sxm4","description":"8x A100 (80 GB SXM4)","price_cents_per_hour":1432,"specs":{"vcpus":240,"memory_gib":1800,"storage_gib":19500}},"regions_with_capacity_available":[]},"gpu_1x_a6000":{"instance_type":{"name":"gpu_1x_a6000","description":"1x A6000 (48 GB)","price_cents_per_hour":80,"specs":{"vcpus":14,"memory_gib":100,"storage_gib":512}},"regions_with_capacity_available":[]}}}"#;
const RUNPOD_TYPES: &str = r#"{"data":{"gpuTypes":[{"id":"NVIDIA A100 80GB PCIe","displayName":"A100 PCIe","memoryInGb":80,"securePrice":1.64,"communityPrice":1.19,"lowestPrice":{"minimumBidPrice":0.82,"uninterruptablePrice":1.19}},{"id":"NVIDIA A40","securePrice":0.44,"communityPrice":0.35,"lowestPrice":{"minimumBidPrice":0.2}}]}}"#;
const GCP_PAGE: &str = r#"{"skus":[{"description":"N1 Predefined Instance Core running in Americas","category":{"resourceFamily":"Compute","resourceGroup":"CPU","usageType":"OnDemand"},"serviceRegions":["us-central1"],"pricingInfo":[{"pricingExpression":{"usageUnit":"h","tieredRates":[{"startUsageAmount":0,"unitPrice":{"currencyCode":"USD","units":"0","nanos":31611000}}]}}]},{"description":"N1 Predefined Instance Ram running in Americas","category":{"resourceFamily":"Compute","resourceGroup":"RAM","usageType":"OnDemand"},"serviceRegions":["us-central1"],"pricingInfo":[{"pricingExpression":{"usageUnit":"GiBy.h","tieredRates":[{"startUsageAmount":0,"unitPrice":{"currencyCode":"USD","units":"0","nanos":4237000}}]}}]},{"description":"Nvidia Tesla T4 GPU running in Americas","category":{"resourceFamily":"Compute","resourceGroup":"GPU","usageType":"OnDemand"},"serviceRegions":["us-central1"],"pricingInfo":[{"pricingExpression":{"usageUnit":"h","tieredRates":[{"startUsageAmount":0,"unitPrice":{"currencyCode":"USD","units":"0","nanos":350000000}}]}}]}],"nextPageToken":""}"#;
const VAST_OFFERS: &str = r#"{"offers":[{"id":1,"gpu_name":"RTX 4090","num_gpus":1,"gpu_ram":24564,"dph_base":0.3,"dph_total":0.35,"min_bid":0.2,"storage_cost":0.1,"geolocation":"Sweden, SE"},{"id":5,"gpu_name":"RTX A6000","num_gpus":1,"gpu_ram":49140,"dph_total":0.45,"geolocation":"Texas, US"}]}"#;
const SKYPILOT_CSV: &str = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\np4d.24xlarge,A100,8.0,96.0,1152.0,,21.9576,8.1,us-east-1,us-east-1a,x86_64\ng5.xlarge,A10G,1.0,4.0,16.0,,1.006,0.4,us-east-1,us-east-1b,x86_64\n";
const ALIBABA_PRICE: &str = r#"{"RequestId":"r","PriceInfo":{"Price":{"OriginalPrice":12.0,"DiscountPrice":0.29,"TradePrice":11.71,"Currency":"CNY"},"Rules":{"Rule":[]}}}"#;
const HF_MOE_CONFIG: &str = shipped!("tests/truth/configs/qwen1.5-moe-a2.7b.json");
const HF_NESTED_CONFIG: &str = shipped!("tests/truth/configs/gemma-3-12b.json");
/// Latent attention, dense blocks among experts, shared experts and an FP8 quantization_config.
const HF_LATENT_CONFIG: &str = shipped!("tests/truth/configs/deepseek-v3.json");
const LATENT_PROFILE: &str = shipped!("profiles/models/deepseek-v3.toml");
const LF_YAML: &str = shipped!("tests/data/engine-configs/llamafactory/qwen3_lora_sft_ds3.yaml");
const AXOLOTL_YAML: &str = shipped!("tests/data/engine-configs/axolotl/lora-8b.yml");
const DS_JSON: &str = shipped!("tests/data/engine-configs/llamafactory/ds_z3_offload_config.json");
const TRAINER_STATE: &str = shipped!("tests/truth/trainer-run/trainer_state.json");
const STEPS_CSV: &str = shipped!("tests/truth/trainer-run/steps.csv");
const VLLM: &str = shipped!("tests/data/vllm-bench/qwen2.5-7b-a100-80g-bf16-input1.json");
const CALIBRATION: &str = r#"{"format_version": 1, "tool_version": "0.1.0", "created_unix": 1796000000,
 "device": "cpu: fuzz", "device_kind": "cpu", "hardware_id": null, "model": "qwen-7b",
 "memory_gib": 24.0, "matmul_gflops": {"f32": 190.0}, "bandwidth_gbs": 25.0,
 "train_gflops": {"lora": 85.5}, "train_efficiency": {"lora": 0.45}}"#;

/// A structure-aware mutation of `base`: replace, insert or delete one byte, or cut the text.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let n = base.len();
    (0..4u8, 0..n, any::<u8>()).prop_map(move |(op, at, byte)| {
        let mut b = base.as_bytes().to_vec();
        match op {
            0 => b[at] = byte,
            1 => b.insert(at, byte),
            2 => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
        String::from_utf8_lossy(&b).into_owned()
    })
}

/// Arbitrary text, or a mutation of a shipped file.
fn input(base: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        3 => mutated(base),
    ]
}

/// A syntax error names the file with a line and a column; every error is one line.
fn well_formed(e: &peftcost::Error, path: &str) -> std::result::Result<(), TestCaseError> {
    let s = e.to_string();
    prop_assert!(!s.is_empty());
    if let peftcost::Error::Parse { .. } = e {
        prop_assert!(s.starts_with(&format!("{path}:")), "{s}");
    }
    Ok(())
}

fn hardware() -> HardwareCatalog {
    HardwareCatalog::embedded().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn price_tables(text in input(ALIBABA)) {
        let fx = Fx::parse("fx.toml", FX).unwrap();
        if let Err(e) = PriceTable::parse("t.toml", &text, &hardware(), Some(&fx)) {
            well_formed(&e, "t.toml")?;
        }
    }

    #[test]
    fn exchange_rates(text in input(FX)) {
        if let Err(e) = Fx::parse("fx.toml", &text) {
            well_formed(&e, "fx.toml")?;
        }
    }

    #[test]
    fn hardware_tables(text in input(HARDWARE)) {
        if let Err(e) = HardwareCatalog::with_user_file("hw.toml", &text) {
            well_formed(&e, "hw.toml")?;
        }
    }

    #[test]
    fn model_profiles(text in input(PROFILE)) {
        if let Err(e) = ModelCatalog::parse_profile("m.toml", &text) {
            well_formed(&e, "m.toml")?;
        }
    }

    #[test]
    fn hugging_face_configs(text in input(HF_CONFIG)) {
        if let Err(e) = import_hf_config("config.json", &text, None) {
            well_formed(&e, "config.json")?;
        }
    }

    #[test]
    fn hugging_face_moe_and_nested_configs(moe in input(HF_MOE_CONFIG), nested in input(HF_NESTED_CONFIG)) {
        // Mixtures of experts (shared expert) and a multimodal config's text_config.
        for (name, text) in [("moe.json", &moe), ("gemma3.json", &nested)] {
            match import_hf_config(name, text, None) {
                Ok(p) => {
                    // What imports is a model every count can be taken of, without overflow.
                    let inv = peftcost::arch::Inventory::build(&p, peftcost::arch::Task::CausalLm, 2);
                    prop_assert!(inv.is_ok(), "{:?}", inv.err());
                    let inv = inv.unwrap();
                    prop_assert!(inv.active_params() <= inv.total_params());
                }
                Err(e) => well_formed(&e, name)?,
            }
        }
    }

    #[test]
    fn latent_attention_configs_and_profiles(cfg in input(HF_LATENT_CONFIG), prof in input(LATENT_PROFILE)) {
        let imported = match import_hf_config("deepseek.json", &cfg, None) {
            Ok(p) => Some(p),
            Err(e) => {
                well_formed(&e, "deepseek.json")?;
                None
            }
        };
        let parsed = match ModelCatalog::parse_profile("d.toml", &prof) {
            Ok(p) => Some(p),
            Err(e) => {
                well_formed(&e, "d.toml")?;
                None
            }
        };
        // What loads is a model every count, KV cache and weight format can be taken of.
        for p in imported.iter().chain(parsed.iter()) {
            let inv = peftcost::arch::Inventory::build(p, peftcost::arch::Task::CausalLm, 2);
            prop_assert!(inv.is_ok(), "{:?}", inv.err());
            let inv = inv.unwrap();
            prop_assert!(inv.active_params() <= inv.total_params());
            let kv = p.kv_bytes(4096.0, 2.0);
            prop_assert!(kv.is_finite() && kv >= 0.0, "{kv}");
            if let Some(q) = &p.quantization {
                prop_assert!(q.bits_per_weight().is_finite());
            }
        }
    }

    #[test]
    fn provider_price_data(
        page in input(AZURE_PAGE),
        offers in input(AWS_OFFERS),
        lambda in input(LAMBDA_TYPES),
        runpod in input(RUNPOD_TYPES),
        gcp in input(GCP_PAGE),
        vast in input(VAST_OFFERS),
        feed in input(SKYPILOT_CSV),
        ali in input(ALIBABA_PRICE),
    ) {
        // `pricing fetch`: an API page or offer file parses into prices or is refused with
        // its source named; a price it keeps is finite and positive.
        let pricing = peftcost::pricing::PricingCatalog::embedded().unwrap();
        match peftcost::pricing::azure::parse_page("page.json", &page) {
            // What parses builds a table that validates, or is refused with its source named.
            Ok(p) => {
                let base = pricing.table("azure").unwrap();
                match peftcost::pricing::azure::build_table(&p.items, base, "2026-12-05", "page.json") {
                    Ok((toml, _)) => {
                        let t = PriceTable::parse("t.toml", &toml, &hardware(), Some(&pricing.fx));
                        prop_assert!(t.is_ok(), "{:?}\n{toml}", t.err());
                    }
                    Err(e) => prop_assert!(e.to_string().starts_with("page.json"), "{e}"),
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("page.json"), "{e}"),
        }
        let build = |offers: &[peftcost::pricing::fetched::FetchedOffer], provider: &str| {
            peftcost::pricing::fetched::table_toml(
                pricing.table(provider).unwrap(), offers, "2026-12-05", "api", "fuzz", "primary")
        };
        // Lambda, RunPod and GCP: what parses is a table that validates.
        let mut tables = Vec::new();
        match peftcost::pricing::lambda::read_instance_types("lambda.json", &lambda) {
            Ok((o, _)) => tables.push(build(&o, "lambda")),
            Err(e) => prop_assert!(e.to_string().starts_with("lambda.json"), "{e}"),
        }
        match peftcost::pricing::runpod::read_gpu_types("runpod.json", &runpod) {
            Ok((o, _)) => tables.push(build(&o, "runpod")),
            Err(e) => prop_assert!(e.to_string().starts_with("runpod.json"), "{e}"),
        }
        let mut catalog = peftcost::pricing::gcp::Catalog::default();
        match catalog.read_page("gcp.json", &gcp) {
            Ok(_) => tables.push(build(&catalog.offers(), "gcp")),
            Err(e) => prop_assert!(e.to_string().starts_with("gcp.json"), "{e}"),
        }
        match peftcost::pricing::vast::read_bundles("vast.json", &vast) {
            Ok((o, _)) => tables.push(peftcost::pricing::fetched::table_toml(
                &peftcost::pricing::vast::first_table(), &o, "2026-12-05", "api", "fuzz", "primary")),
            Err(e) => prop_assert!(e.to_string().starts_with("vast.json"), "{e}"),
        }
        match peftcost::pricing::alibaba::read_price("price.json", &ali) {
            Ok((p, c)) => prop_assert!(p.is_finite() && p > 0.0 && !c.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with("price.json"), "{e}"),
        }
        use peftcost::pricing::feeds::{self, Feed};
        match feeds::read(Feed::Skypilot, "vms.csv", &feed) {
            Ok(i) => tables.push(build(&i.offers, "aws")),
            Err(e) => prop_assert!(e.to_string().starts_with("vms.csv"), "{e}"),
        }
        for toml in tables.iter().filter(|t| !t.contains("offer_count = 0")) {
            let t = PriceTable::parse("t.toml", toml, &hardware(), Some(&pricing.fx));
            prop_assert!(t.is_ok(), "{:?}\n{toml}", t.err());
        }
        match peftcost::pricing::aws::read_offer_file("index.csv", offers.as_bytes()) {
            Ok((rows, _)) => {
                for o in &rows {
                    prop_assert!(o.on_demand.is_finite() && o.on_demand > 0.0, "{o:?}");
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("index.csv"), "{e}"),
        }
    }

    #[test]
    fn calibrations(text in input(CALIBRATION)) {
        if let Err(e) = parse_calibration("cal.json", &text) {
            well_formed(&e, "cal.json")?;
        }
    }

    #[test]
    fn engine_configs(lf in input(LF_YAML), ax in input(AXOLOTL_YAML), ds in input(DS_JSON)) {
        // `--from-config`: every error names the file (YAML and JSON errors with line:column).
        for (name, text) in [("train.yaml", &lf), ("axolotl.yml", &ax), ("ds.json", &ds)] {
            if let Err(e) = peftcost::emit::read::parse(name, text) {
                let m = e.to_string();
                prop_assert!(m.starts_with(name) && !m.contains('\n'), "{m}");
            }
        }
    }

    #[test]
    fn training_logs(state in input(TRAINER_STATE), csv in input(STEPS_CSV), vllm in input(VLLM)) {
        use peftcost::emit::log;
        for (name, text) in [("trainer_state.json", &state), ("steps.csv", &csv), ("trainer_log.jsonl", &state)] {
            match log::parse(name, text) {
                // A log read is a usable duration or refused.
                Ok(r) => prop_assert!(r.step_seconds.is_finite() && r.step_seconds > 0.0, "{r:?}"),
                Err(e) => prop_assert!(e.to_string().starts_with(name), "{e}"),
            }
        }
        if let Err(e) = log::vllm_bench("bench.json", &vllm) {
            prop_assert!(e.to_string().starts_with("bench.json"), "{e}");
        }
    }

    #[test]
    fn a_cut_table_is_never_installed(cut in 0..ALIBABA.len()) {
        // Every strict prefix of a shipped table that still parses lacks the end marker (and
        // its offers): `pricing update` must refuse it. A cut in the trailing newline alone
        // leaves the whole table (the long mode found cut = len - 1; see
        // tests/proptest-regressions/fuzz.txt).
        prop_assume!(!ALIBABA.as_bytes()[cut..].iter().all(u8::is_ascii_whitespace));
        let dir = tempfile::tempdir().unwrap();
        let prefix = String::from_utf8_lossy(&ALIBABA.as_bytes()[..cut]).into_owned();
        prop_assert!(validate_fetched(dir.path(), "cut.toml", &prefix, None, true).is_err());
    }
}
