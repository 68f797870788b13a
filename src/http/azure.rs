//! `pricing fetch azure`: every page of the Azure Retail Prices API for the GPU VM series
//! peftcost maps (see [`crate::core::pricing::azure`]), following `NextPageLink` on the same
//! host, retrying HTTP 429, and asking for a page by `$skip` when its NextPageLink fails. The
//! pages are turned into a table by the core.

use std::time::Duration;

use super::update::{check_url, fetch, FetchOptions};
use crate::core::error::{Error, Result};
use crate::core::pricing::azure::{parse_page, RetailItem};

/// The API's address when `--endpoint` is not given.
pub const DEFAULT_ENDPOINT: &str = "https://prices.azure.com";

/// Pages read at most: the GPU series of every region fit in a few dozen.
const MAX_PAGES: usize = 500;
/// Tries of one page answered HTTP 429 (too many requests).
const TRIES: u32 = 4;

/// The first page's URL: Linux-or-not consumption prices in USD of the mapped GPU series, in
/// `region` when given (filter values are case-sensitive since api-version 2023-01-01-preview).
pub fn first_url(endpoint: &str, region: Option<&str>) -> Result<String> {
    let mut filter = String::from(
        "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and currencyCode eq 'USD' and (contains(armSkuName, '_T4_v3') or contains(armSkuName, '_A100_v4') or contains(armSkuName, '_A10_v5') or contains(armSkuName, '_H100_v5') or contains(armSkuName, '_H200_v5'))",
    );
    if let Some(r) = region {
        filter.push_str(&format!(" and armRegionName eq '{r}'"));
    }
    let mut url = check_url(&format!(
        "{}/api/retail/prices",
        endpoint.trim_end_matches('/')
    ))?;
    url.query_pairs_mut()
        .append_pair("api-version", "2023-01-01-preview")
        .append_pair("$filter", &filter);
    Ok(url.to_string())
}

/// Every item of every page from `endpoint`. `wait` is the pause after an HTTP 429.
pub fn fetch_items(
    endpoint: &str,
    region: Option<&str>,
    opts: &FetchOptions,
    wait: Duration,
) -> Result<Vec<RetailItem>> {
    let base = check_url(endpoint)?;
    let mut url = first_url(endpoint, region)?;
    let mut seen: Vec<String> = Vec::new();
    let mut items = Vec::new();
    let opts = FetchOptions {
        require_length: false,
        ..*opts
    };
    let first = url.clone();
    // The same page by `$skip` (the item count so far) from the first page's query: the API's
    // documented paging, used when a NextPageLink fails (it has been broken before).
    let mut by_skip: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let text = match (fetch_retrying(&url, &opts, wait), by_skip.take()) {
            (Ok(t), _) => t,
            (Err(e), Some(skip)) => match fetch_retrying(&skip, &opts, wait) {
                Ok(t) => {
                    url = skip;
                    t
                }
                Err(_) => return Err(e),
            },
            (Err(e), None) => return Err(e),
        };
        let page = parse_page(&url, &text)?;
        let empty = page.items.is_empty();
        items.extend(page.items);
        let Some(next) = page.next_page_link.filter(|n| !n.is_empty() && !empty) else {
            return Ok(items);
        };
        // A next page on another host (or scheme) is not followed: prices come from the API asked.
        let n = check_url(&next)?;
        if n.host_str() != base.host_str() || n.scheme() != base.scheme() {
            return Err(Error::Network(format!(
                "{url}: NextPageLink leads to another host ({next}); not followed"
            )));
        }
        if seen.contains(&next) {
            return Err(Error::Network(format!(
                "{url}: NextPageLink repeats a page already read ({next}); the paging does not end"
            )));
        }
        seen.push(next.clone());
        let mut skip = check_url(&first)?;
        skip.query_pairs_mut()
            .append_pair("$skip", &items.len().to_string());
        by_skip = Some(skip.to_string());
        url = next;
    }
    Err(Error::Network(format!(
        "{endpoint}: more than {MAX_PAGES} pages; stopped (narrow it with --region)"
    )))
}

/// One page, tried again after `wait` while the API answers HTTP 429.
fn fetch_retrying(url: &str, opts: &FetchOptions, wait: Duration) -> Result<String> {
    let mut tries = 0;
    loop {
        match fetch(url, opts) {
            Err(Error::Network(m)) if m.contains("HTTP 429") && tries + 1 < TRIES => {
                tries += 1;
                std::thread::sleep(wait);
            }
            other => return other,
        }
    }
}
