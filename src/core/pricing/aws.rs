//! AWS's public Price List bulk offer file (`AmazonEC2/current/{region}/index.csv`, no
//! credentials) into a peftcost table, read as a stream: five disclaimer lines, a header, then
//! one row per price dimension; only Linux, shared-tenancy, on-demand hourly rows of the GPU
//! families peftcost maps (and the CPU boxes it prices) are kept, so memory stays bounded by the
//! offers, not the file (hundreds of MB for us-east-1).
//!
//! Warts: the bulk file has no spot prices (AWS says so), so the fetched table has none; GPU
//! models come from the instance family (the file gives only a GPU count).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use super::fetched::FetchedOffer;
use super::table::MAX_PRICE;
use crate::core::error::{Error, Result};

/// Disclaimer lines before the header (`FormatVersion`, `Disclaimer`, `Publication Date`,
/// `Version`, `OfferCode`).
const PREAMBLE_LINES: usize = 5;

/// The hardware profile of an instance type and its GPU count (`gpus` from the file's GPU
/// column; 0 for the CPU boxes), or `None` for types peftcost does not price.
pub fn instance_hardware(instance: &str, gpus: u64) -> Option<(&'static str, u64)> {
    let family = instance.split('.').next()?;
    let hw = match family {
        "g4dn" => "t4",
        "g5" => "a10g",
        "g6" => "l4",
        "g6e" => "l40s",
        "p3" => "v100-16g",
        "p3dn" => "v100-32g",
        "p4d" => "a100-40g",
        "p4de" => "a100-80g",
        "p5" => "h100-sxm",
        "p5e" | "p5en" => "h200",
        // The 16-vCPU / 32 GiB CPU boxes the CPU profiles describe.
        _ if instance == "c6i.4xlarge" => return Some(("cpu-16c", 0)),
        _ if instance == "c7i.4xlarge" => return Some(("cpu-16c-amx", 0)),
        _ => return None,
    };
    (gpus > 0).then_some((hw, gpus))
}

/// The offers of one region's offer file, and how many rows were read.
pub fn read_offer_file(source: &str, reader: impl Read) -> Result<(Vec<FetchedOffer>, u64)> {
    let mut r = BufReader::new(reader);
    let schema = |why: String| {
        Error::input(format!(
            "{source}: not an AWS EC2 offer file ({why}): the Price List format may have changed"
        ))
    };
    let mut line = String::new();
    for n in 0..PREAMBLE_LINES {
        line.clear();
        let read = r
            .read_line(&mut line)
            .map_err(|e| schema(format!("line {}: {e}", n + 1)))?;
        if read == 0 {
            return Err(schema(format!("it ends at line {}", n + 1)));
        }
    }
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(r);
    let headers = csv
        .headers()
        .map_err(|e| schema(format!("header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| schema(format!("no '{name}' column")))
    };
    let c = Columns {
        term: col("TermType")?,
        unit: col("Unit")?,
        price: col("PricePerUnit")?,
        currency: col("Currency")?,
        instance: col("Instance Type")?,
        tenancy: col("Tenancy")?,
        os: col("Operating System")?,
        software: col("Pre Installed S/W")?,
        capacity: col("CapacityStatus")?,
        region: col("Region Code")?,
        gpu: col("GPU")?,
    };
    let mut best: BTreeMap<(String, String), (f64, &'static str, u64)> = BTreeMap::new();
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(schema(format!("row {}: {e}", rows + 1))),
        }
        rows += 1;
        let get = |i: usize| record.get(i).unwrap_or("");
        let keep = get(c.term) == "OnDemand"
            && get(c.unit) == "Hrs"
            && get(c.currency) == "USD"
            && get(c.tenancy) == "Shared"
            && get(c.os) == "Linux"
            && matches!(get(c.software), "" | "NA")
            && get(c.capacity) == "Used";
        if !keep {
            continue;
        }
        let gpus = get(c.gpu).trim().parse::<u64>().unwrap_or(0);
        let Some((hw, gpus)) = instance_hardware(get(c.instance), gpus) else {
            continue;
        };
        let Ok(price) = get(c.price).parse::<f64>() else {
            return Err(schema(format!(
                "row {rows}: price '{}' is not a number",
                get(c.price)
            )));
        };
        if !(price.is_finite() && price > 0.0) {
            continue;
        }
        // A price no instance costs is a broken file, not a price: refuse it.
        if price > MAX_PRICE {
            return Err(schema(format!(
                "row {rows}: {} is priced {price:e} USD an hour, over {MAX_PRICE:e}",
                get(c.instance)
            )));
        }
        let key = (get(c.instance).to_string(), get(c.region).to_string());
        let e = best.entry(key).or_insert((price, hw, gpus));
        e.0 = e.0.min(price);
    }
    let offers = best
        .into_iter()
        .map(
            |((instance, region), (on_demand, hardware, gpus))| FetchedOffer {
                instance,
                region,
                hardware: hardware.to_string(),
                gpus,
                on_demand,
                spot: None,
                monthly: None,
            },
        )
        .collect();
    Ok((offers, rows))
}

/// Column positions of the fields read.
struct Columns {
    term: usize,
    unit: usize,
    price: usize,
    currency: usize,
    instance: usize,
    tenancy: usize,
    os: usize,
    software: usize,
    capacity: usize,
    region: usize,
    gpu: usize,
}

/// What the table's header says its prices are.
pub const WHAT: &str = "Linux on-demand per instance-hour from the AWS Price List bulk offer file (no spot prices there)";

/// What a source without a single offer lacked.
pub const NONE: &str = "no Linux on-demand price of an instance peftcost maps (g4dn, g5, g6, g6e, p3, p4d, p4de, p5, p5e, c6i/c7i.4xlarge)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_families_map_to_their_gpus() {
        assert_eq!(instance_hardware("g4dn.xlarge", 1), Some(("t4", 1)));
        assert_eq!(instance_hardware("g5.48xlarge", 8), Some(("a10g", 8)));
        assert_eq!(instance_hardware("p4de.24xlarge", 8), Some(("a100-80g", 8)));
        assert_eq!(instance_hardware("p5en.48xlarge", 8), Some(("h200", 8)));
        assert_eq!(instance_hardware("c6i.4xlarge", 0), Some(("cpu-16c", 0)));
        // A GPU family row without a GPU count, and families peftcost does not price.
        assert_eq!(instance_hardware("g5.xlarge", 0), None);
        assert_eq!(instance_hardware("m5.large", 0), None);
        assert_eq!(instance_hardware("c6i.8xlarge", 0), None);
    }
}
