//! Varnish's counters (`varnishstat -1 -j`) as 503s by the model's causes,
//! and as cache lookups by the model's kinds.
//!
//! Varnish 7.1 counts some fetch failures by cause and not others: busy
//! (`MAIN.backend_busy`), sick (`MAIN.backend_unhealthy`) and failed
//! connections (`MAIN.backend_fail`) have counters; a first-byte timeout has
//! none of its own and is what is left of `MAIN.fetch_failed`, which counts
//! every failed fetch. With no VCL retries, each failed fetch is one 503 to a
//! client, so these are the numbers to set beside the model's causes.

use std::collections::BTreeMap;

use serde::Serialize;

/// Failed fetches by cause, as Varnish counted them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FetchFailures {
    pub busy: u64,
    pub unhealthy: u64,
    pub connect_failed: u64,
    /// `fetch_failed` less the causes Varnish counts: first-byte timeouts
    /// (and any other failure after the connection, e.g. a malformed response).
    pub first_byte_timeout: u64,
    pub fetch_failed: u64,
    /// Requests from clients (`MAIN.client_req`).
    pub client_requests: u64,
    /// Fetches that reached a backend (`MAIN.backend_req`).
    pub backend_requests: u64,
}

/// Every counter of a `varnishstat -j` document by name. Varnish 7.1 nests
/// them under `counters`; older versions put them at the top level.
pub fn counters(json: &str) -> Result<BTreeMap<String, u64>, String> {
    let doc: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not varnishstat JSON: {e}"))?;
    let map = doc.get("counters").unwrap_or(&doc).as_object().ok_or("varnishstat JSON without counters")?;
    Ok(map.iter().filter_map(|(k, v)| Some((k.clone(), v.get("value")?.as_u64()?))).collect())
}

impl FetchFailures {
    pub fn from_counters(c: &BTreeMap<String, u64>) -> Self {
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        let (busy, unhealthy, connect_failed) =
            (get("MAIN.backend_busy"), get("MAIN.backend_unhealthy"), get("MAIN.backend_fail"));
        let fetch_failed = get("MAIN.fetch_failed");
        FetchFailures {
            busy,
            unhealthy,
            connect_failed,
            first_byte_timeout: fetch_failed.saturating_sub(busy + unhealthy + connect_failed),
            fetch_failed,
            client_requests: get("MAIN.client_req"),
            backend_requests: get("MAIN.backend_req"),
        }
    }
}

/// Cache lookups by kind, as Varnish counted them, in the summary's terms
/// (`cache` in summary.json).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheLookups {
    /// Answered from a stored object (`MAIN.cache_hit`): fresh, grace, and
    /// requests that waited on a busy object and then found it stored.
    pub hits: u64,
    /// `MAIN.cache_hit_grace`.
    pub grace_hits: u64,
    /// Fetched, marking the object busy: `MAIN.cache_miss` counts the
    /// hit-for-miss lookups too, so they are taken out.
    pub misses: u64,
    /// `MAIN.cache_hitmiss`.
    pub hit_for_miss: u64,
    /// Requests that waited on a busy object (`MAIN.busy_sleep`).
    pub coalesced: u64,
}

impl CacheLookups {
    pub fn from_counters(c: &BTreeMap<String, u64>) -> Self {
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        let hit_for_miss = get("MAIN.cache_hitmiss");
        CacheLookups {
            hits: get("MAIN.cache_hit"),
            grace_hits: get("MAIN.cache_hit_grace"),
            misses: get("MAIN.cache_miss").saturating_sub(hit_for_miss),
            hit_for_miss,
            coalesced: get("MAIN.busy_sleep"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_byte_timeouts_are_what_the_counted_causes_leave_of_fetch_failed() {
        let json = r#"{"version": 1, "timestamp": "2026-12-02T12:00:00", "counters": {
            "MAIN.client_req": {"description": "Good client requests received", "flag": "c", "format": "i", "value": 100},
            "MAIN.backend_busy": {"description": "Backend conn. too many", "flag": "c", "format": "i", "value": 7},
            "MAIN.backend_unhealthy": {"description": "Backend conn. not attempted", "flag": "c", "format": "i", "value": 2},
            "MAIN.backend_fail": {"description": "Backend conn. failures", "flag": "c", "format": "i", "value": 1},
            "MAIN.fetch_failed": {"description": "Fetch failed (all causes)", "flag": "c", "format": "i", "value": 15},
            "MAIN.backend_req": {"description": "Backend requests made", "flag": "c", "format": "i", "value": 88}
        }}"#;
        let f = FetchFailures::from_counters(&counters(json).expect("parses"));
        assert_eq!((f.busy, f.unhealthy, f.connect_failed, f.first_byte_timeout), (7, 2, 1, 5));
        assert_eq!((f.client_requests, f.backend_requests), (100, 88));
    }

    #[test]
    fn hit_for_miss_lookups_are_taken_out_of_the_misses() {
        let json = r#"{"MAIN.cache_hit": {"value": 4833}, "MAIN.cache_hit_grace": {"value": 332},
            "MAIN.cache_miss": {"value": 1059}, "MAIN.cache_hitmiss": {"value": 426},
            "MAIN.busy_sleep": {"value": 27}}"#;
        let c = CacheLookups::from_counters(&counters(json).expect("parses"));
        assert_eq!(c, CacheLookups { hits: 4833, grace_hits: 332, misses: 633, hit_for_miss: 426, coalesced: 27 });
    }

    #[test]
    fn garbage_is_an_error_not_zeros() {
        assert!(counters("varnishstat: Could not open shared memory").is_err());
    }
}
