//! The cache side of a scenario: `[proxy.cache]`, the proxy's workspace
//! limits, and each class's response headers and `[class.<name>.cache]`.
//! Every key defaults to off, so a file without them runs exactly as before.

use super::ctx::Ctx;
use crate::model::proxy::{CacheConfig, CachePolicy, ClassRules, DEFAULT_HEADERS, MIN_CHARGE, ProxyConfig};
use crate::model::workload::{Objects, Popularity};
use crate::scenario::limits;
use crate::scenario::raw::{RawClass, RawClassCache, RawProxy, V};
use crate::scenario::units::Bytes;
use crate::time::SimDuration;

pub const POPULARITIES: [(&str, Pop); 3] = [("zipf", Pop::Zipf), ("uniform", Pop::Uniform), ("unique", Pop::Unique)];

/// The popularity names, before their parameters.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Pop {
    Zipf,
    Uniform,
    Unique,
}

/// varnishd's `default_ttl`, `default_grace`, and the built-in VCL's hit-for-miss time.
const DEFAULT_TTL: SimDuration = SimDuration::from_secs(120);
const DEFAULT_GRACE: SimDuration = SimDuration::from_secs(10);
const DEFAULT_HIT_FOR_MISS: SimDuration = SimDuration::from_secs(120);

fn bytes(cx: &mut Ctx<'_>, path: &str, v: &V<Bytes>, dflt: u64) -> u64 {
    cx.get(path, v).map_or(dflt, |b| b.0)
}

/// `[proxy.cache]` and the workspace limits, into `proxy`.
pub fn resolve_proxy_cache(cx: &mut Ctx<'_>, p: &RawProxy, proxy: &mut ProxyConfig) {
    let d = ProxyConfig::default();
    proxy.http_resp_hdr_len = bytes(cx, "proxy.http_resp_hdr_len", &p.http_resp_hdr_len, d.http_resp_hdr_len);
    proxy.http_resp_size = bytes(cx, "proxy.http_resp_size", &p.http_resp_size, d.http_resp_size);
    let Some(c) = &p.cache else { return };
    let dflt = CacheConfig::default();
    let capacity = bytes(cx, "proxy.cache.capacity", &c.capacity, dflt.capacity);
    if capacity == 0 {
        cx.error("proxy.cache.capacity", "must be greater than zero");
    } else if capacity / MIN_CHARGE > limits::MAX_CACHE_OBJECTS {
        cx.error_help(
            "proxy.cache.capacity",
            format!("{capacity} bytes is above the limit of 4GB"),
            limits::WHY_MAX_CACHE_OBJECTS,
        );
    }
    let rush_exponent = cx.int_in(
        "proxy.cache.rush_exponent",
        &c.rush_exponent,
        dflt.rush_exponent,
        2,
        limits::MAX_RUSH_EXPONENT,
        "waves of more than a thousand woken requests are one wave",
    );
    proxy.cache = CacheConfig { capacity, rush_exponent };
}

/// A class's response headers and caching: the objects its requests ask for
/// (client side) and how the proxy stores its responses.
pub fn resolve_class_cache(cx: &mut Ctx<'_>, name: &str, c: &RawClass) -> (Option<Objects>, ClassRules) {
    let base = format!("class.{name}");
    let headers = bytes(cx, &format!("{base}.headers"), &c.headers, DEFAULT_HEADERS);
    let largest_header = bytes(cx, &format!("{base}.largest_header"), &c.largest_header, headers);
    if largest_header > headers {
        cx.error(
            &format!("{base}.largest_header"),
            format!("({largest_header} bytes) cannot exceed the class's headers ({headers} bytes)"),
        );
    }
    let Some(raw) = &c.cache else {
        return (None, ClassRules { cache: None, headers, largest_header });
    };
    let (objects, policy) = resolve_policy(cx, &format!("{base}.cache"), raw);
    (objects, ClassRules { cache: policy, headers, largest_header })
}

fn resolve_policy(cx: &mut Ctx<'_>, base: &str, c: &RawClassCache) -> (Option<Objects>, Option<CachePolicy>) {
    let path = |k: &str| format!("{base}.{k}");
    let pop = cx.choose(&path("popularity"), &c.popularity, &POPULARITIES).unwrap_or(Pop::Zipf);
    let count = match (pop, cx.get(&path("objects"), &c.objects)) {
        (Pop::Unique, Some(_)) => {
            cx.error(&path("objects"), "does not apply when popularity = \"unique\" (every request is its own object)");
            1
        }
        (Pop::Unique, None) => 1,
        (_, None) => {
            cx.error(&path("objects"), "is required (how many distinct objects the class has)");
            1
        }
        (_, Some(n)) if n < 1 => {
            cx.error(&path("objects"), format!("must be at least 1, got {n}"));
            1
        }
        (_, Some(n)) if n as u64 > limits::MAX_OBJECTS => {
            cx.error_help(&path("objects"), format!("{n} is above the limit of 10^12"), limits::WHY_MAX_OBJECTS);
            1
        }
        (_, Some(n)) => n as u64,
    };
    let s = cx.get(&path("zipf_s"), &c.zipf_s);
    let popularity = match (pop, s) {
        (Pop::Zipf, None) => Popularity::Zipf { s: 1.0 },
        (Pop::Zipf, Some(s)) if !(s > 0.0 && s.is_finite()) => {
            cx.error(&path("zipf_s"), format!("must be a number greater than 0, got {s}"));
            Popularity::Zipf { s: 1.0 }
        }
        (Pop::Zipf, Some(s)) => Popularity::Zipf { s },
        (other, s) => {
            if s.is_some() {
                cx.error(&path("zipf_s"), "applies only when popularity = \"zipf\"");
            }
            if other == Pop::Unique { Popularity::Unique } else { Popularity::Uniform }
        }
    };
    let cacheable = match cx.get(&path("cacheable"), &c.cacheable) {
        None => 1.0,
        Some(x) if (0.0..=1.0).contains(&x) => x,
        Some(x) => {
            cx.error(&path("cacheable"), format!("must be a share in [0, 1], got {x}"));
            1.0
        }
    };
    let size = cx.required(&path("size"), &c.size, "(the response body's size, e.g. \"1.5MB\")").map_or(1, |b| b.0);
    if size == 0 {
        cx.error(&path("size"), "must be greater than zero");
    }
    let dur = |cx: &mut Ctx<'_>, k: &str, v: &V<crate::scenario::units::Dur>, d| cx.get(&path(k), v).map_or(d, |x| x.0);
    let ttl = dur(cx, "ttl", &c.ttl, DEFAULT_TTL);
    let ttl = cx.positive(&path("ttl"), ttl);
    let hit_for_miss = dur(cx, "hit_for_miss", &c.hit_for_miss, DEFAULT_HIT_FOR_MISS);
    if hit_for_miss == SimDuration::ZERO {
        cx.warn(
            &path("hit_for_miss"),
            "0s leaves no hit-for-miss marker: requests for an uncacheable object, or one the backend refused, \
             wait on its waiting list and are fetched one at a time (request serialisation)",
            Some("keep a hit-for-miss time, e.g. the built-in VCL's 120s".into()),
        );
    }
    let policy = CachePolicy { cacheable, size, ttl, grace: dur(cx, "grace", &c.grace, DEFAULT_GRACE), hit_for_miss };
    let objects = Objects::new(count, popularity).map_err(|e| cx.error(&path("zipf_s"), e)).ok();
    (objects, Some(policy))
}
