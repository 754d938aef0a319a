//! The status page and `/metrics` answer of the live servers: the same
//! numbers, as Prometheus text or as a page that refreshes itself.

use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue};

use super::http::{Body, whole};

/// `/metrics` (`page_wanted` false) or `/` (true) from the metrics text.
pub fn respond(metrics: &str, page_wanted: bool, title: &str) -> Response<Body> {
    let (body, kind) = if page_wanted {
        (page(metrics, title), "text/html; charset=utf-8")
    } else {
        (metrics.to_string(), "text/plain; version=0.0.4; charset=utf-8")
    };
    let mut r = Response::new(whole(body));
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

/// A page that refreshes itself every 2 s and shows every series of `/metrics`.
fn page(metrics: &str, title: &str) -> String {
    let mut rows = String::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or((line, ""));
        let series = series.replace('&', "&amp;").replace('<', "&lt;");
        rows.push_str(&format!("<tr><td>{series}</td><td class=n>{value}</td></tr>\n"));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8><meta http-equiv=refresh content=2>\
         <title>{title}</title><style>body{{font:14px system-ui,sans-serif;margin:2em}}\
         td{{padding:2px 12px}}.n{{text-align:right;font-variant-numeric:tabular-nums}}</style></head>\
         <body><h1>{title}</h1><table>\n{rows}</table></body></html>\n"
    )
}
