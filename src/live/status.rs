//! The status page and `/metrics` answer of the live servers: the same
//! numbers, as Prometheus text or as a page an operator keeps open during a
//! surge.
//!
//! The page is drawn from the `/metrics` text itself, so it can never show
//! a number `/metrics` does not: every figure carries the series it comes
//! from (`data-series`), which is also how the browser test checks it. One
//! self-contained HTML document (inline style, no scripts, no external
//! resources) that reloads itself every 2 s.

use std::collections::BTreeMap;
use std::fmt::Write;

use hyper::Response;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::http::{Body, whole};
use crate::model::outcome::Cause;

/// How often the page reloads itself, in seconds.
pub const REFRESH_SECS: u32 = 2;

/// `/metrics` (`page_wanted` false) or `/` (true) from the metrics text.
pub fn respond(metrics: &str, page_wanted: bool, title: &str) -> Response<Body> {
    let (body, kind) = if page_wanted {
        (page(metrics, title), "text/html; charset=utf-8")
    } else {
        (metrics.to_string(), "text/plain; version=0.0.4; charset=utf-8")
    };
    let mut r = Response::new(whole(body));
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// One sample of the exposition: `name{labels} value`.
#[derive(Clone, Debug)]
struct Sample {
    /// The series as written, `name{labels}`: the key the page and the test share.
    series: String,
    name: String,
    labels: BTreeMap<String, String>,
    value: u64,
}

fn parse(metrics: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse() else { continue };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        // Label values here are pool names, addresses and outcome names: no commas or quotes inside.
        let labels = labels
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        out.push(Sample { series: series.to_string(), name: name.to_string(), labels, value });
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A number with the series it comes from.
fn num(s: &Sample) -> String {
    format!("<td class=n data-series=\"{}\">{}</td>", esc(&s.series), s.value)
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "–".into() } else { format!("{:.1}%", 100.0 * part as f64 / whole as f64) }
}

struct Page {
    samples: Vec<Sample>,
}

impl Page {
    fn family<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a Sample> + use<'a, 'n> {
        self.samples.iter().filter(move |s| s.name == name)
    }

    fn one(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Sample> {
        self.family(name).find(|s| labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v)))
    }

    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for s in self.family(name) {
            if let Some(v) = s.labels.get(label).filter(|v| !seen.contains(v)) {
                seen.push(v.clone());
            }
        }
        seen
    }

    /// The last minute's answers of one family (optionally one pool's):
    /// the total, the 503 rate, and each outcome that occurred.
    fn last_minute(&self, out: &mut String, name: &str, pool: Option<&str>) {
        let rows: Vec<&Sample> =
            self.family(name).filter(|s| pool.is_none_or(|p| s.labels.get("pool").is_some_and(|x| x == p))).collect();
        let total: u64 = rows.iter().map(|s| s.value).sum();
        // A 503 is an outcome named after its cause; 429, 500 and 502 are not 503s.
        let is_503 = |s: &&&Sample| s.labels.get("outcome").is_some_and(|o| Cause::from_name(o).is_some());
        let failed: u64 = rows.iter().filter(is_503).map(|s| s.value).sum();
        let _ = writeln!(
            out,
            "<p class=big>503 rate <b class=rate>{}</b> <span class=dim>({failed} of {total} answers)</span></p>",
            pct(failed, total)
        );
        let _ = writeln!(out, "<table><tr><th>outcome</th><th>answers</th><th>share</th></tr>");
        for s in &rows {
            let outcome = s.labels.get("outcome").map_or("", String::as_str);
            let class = if outcome == "ok" {
                ""
            } else if s.value > 0 {
                " class=bad"
            } else {
                " class=dim"
            };
            let _ = writeln!(
                out,
                "<tr{class}><td>{}</td>{}<td class=n>{}</td></tr>",
                esc(outcome),
                num(s),
                pct(s.value, total)
            );
        }
        out.push_str("</table>\n");
    }

    /// The proxy's backends: health, probe window, connections.
    fn backends(&self, out: &mut String) {
        let rows: Vec<&Sample> = self.family("stampede_proxy_backend_healthy").collect();
        if rows.is_empty() {
            return;
        }
        out.push_str("<h2>Backends</h2>\n<table><tr><th>pool</th><th>backend</th><th>health</th><th>probe window</th><th>good</th><th>of</th><th>needs</th><th>connections</th><th>waiting</th></tr>\n");
        for h in rows {
            let key: Vec<(&str, &str)> = h.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let get = |name: &str| self.one(name, &key);
            let (good, window, needs) = (
                get("stampede_proxy_backend_probe_good"),
                get("stampede_proxy_backend_probe_window"),
                get("stampede_proxy_backend_probe_threshold"),
            );
            let (g, w) = (good.map_or(0, |s| s.value), window.map_or(0, |s| s.value));
            let probed = needs.is_some_and(|s| s.value > 0);
            let bar = if probed {
                let cells: String =
                    (0..w).map(|i| if i < g { "<i class=ok></i>" } else { "<i class=ko></i>" }).collect();
                format!("<span class=win title=\"{g} of the last {w} probes good\">{cells}</span>")
            } else {
                "<span class=dim>no probe</span>".into()
            };
            let state = if h.value == 1 { "<b class=good>healthy</b>" } else { "<b class=sick>sick</b>" };
            let cell = |s: Option<&Sample>| s.map_or("<td></td>".into(), num);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td data-series=\"{}\" data-value={}>{state}</td><td>{bar}</td>{}{}{}{}{}</tr>",
                esc(h.labels.get("pool").map_or("", String::as_str)),
                esc(h.labels.get("backend").map_or("", String::as_str)),
                esc(&h.series),
                h.value,
                cell(good),
                cell(window),
                cell(needs),
                cell(get("stampede_proxy_backend_connections")),
                cell(get("stampede_proxy_backend_waiting")),
            );
        }
        out.push_str("</table>\n");
    }

    /// The chaos windows open now, by pool and kind.
    fn chaos(&self, out: &mut String) {
        out.push_str("<h2>Chaos open now</h2>\n");
        let open: Vec<&Sample> = self.family("stampede_backend_chaos_open").filter(|s| s.value > 0).collect();
        if open.is_empty() {
            out.push_str("<p class=dim>None. <code>GET /chaos</code> lists the schedule; <code>POST /chaos</code> adds an event.</p>\n");
            return;
        }
        out.push_str("<table><tr><th>pool</th><th>kind</th><th>windows</th></tr>\n");
        for s in open {
            let label = |k: &str| esc(s.labels.get(k).map_or("", String::as_str));
            let _ = writeln!(out, "<tr class=bad><td>{}</td><td>{}</td>{}</tr>", label("pool"), label("kind"), num(s));
        }
        out.push_str("</table>\n");
    }

    /// The backend's pools: instances, slots, queue, jobs in flight.
    fn pools(&self, out: &mut String) {
        let pools = self.label_values("stampede_backend_requests_total", "pool");
        if pools.is_empty() {
            return;
        }
        out.push_str("<h2>Pools</h2>\n<table><tr><th>pool</th><th>instances ready</th><th>provisioning</th><th>busy slots</th><th>queued</th><th>in flight</th><th>requests</th></tr>\n");
        for pool in &pools {
            let p = pool.as_str();
            let cell = |name: &str, extra: &[(&str, &str)]| {
                let mut key = vec![("pool", p)];
                key.extend_from_slice(extra);
                self.one(name, &key).map_or("<td></td>".into(), num)
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td>{}{}{}{}{}{}</tr>",
                esc(p),
                cell("stampede_backend_instances", &[("state", "ready")]),
                cell("stampede_backend_instances", &[("state", "provisioning")]),
                cell("stampede_backend_busy_slots", &[]),
                cell("stampede_backend_queue_depth", &[]),
                cell("stampede_backend_in_flight", &[]),
                cell("stampede_backend_requests_total", &[]),
            );
        }
        out.push_str("</table>\n");
        self.chaos(out);
        for pool in &pools {
            let _ = writeln!(out, "<h2>Last minute: pool {}</h2>", esc(pool));
            self.last_minute(out, "stampede_backend_last_minute_responses", Some(pool));
        }
    }
}

/// The whole page.
fn page(metrics: &str, title: &str) -> String {
    let p = Page { samples: parse(metrics) };
    let mut body = String::new();
    if p.family("stampede_proxy_last_minute_responses").next().is_some() {
        body.push_str("<h2>Last minute</h2>\n");
        p.last_minute(&mut body, "stampede_proxy_last_minute_responses", None);
    }
    p.backends(&mut body);
    p.pools(&mut body);
    body.push_str("<details><summary>Every series of <a href=\"/metrics\">/metrics</a></summary><table>\n");
    for s in &p.samples {
        let _ = writeln!(body, "<tr><td>{}</td>{}</tr>", esc(&s.series), num(s));
    }
    body.push_str("</table></details>\n");
    format!(
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><meta http-equiv=refresh content={REFRESH_SECS}>\
         <meta name=viewport content=\"width=device-width\"><title>{title}</title><style>\
         body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}h1{{margin:0 0 .2em}}h2{{margin:1.4em 0 .4em;font-size:1.1em}}\
         table{{border-collapse:collapse}}td,th{{padding:3px 12px;border-bottom:1px solid #eee;text-align:left}}\
         .n{{text-align:right;font-variant-numeric:tabular-nums}}.dim{{color:#999}}.bad td{{color:#b00}}\
         .big{{font-size:1.3em}}.good{{color:#080}}.sick{{color:#b00}}\
         .win i{{display:inline-block;width:9px;height:14px;margin-right:2px;border-radius:2px}}\
         .win .ok{{background:#3a3}}.win .ko{{background:#d33}}</style></head>\
         <body><h1>{title}</h1><p class=dim>Reloads every {REFRESH_SECS} s. The last minute is simulated time \
         (the server's time scale).</p>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY: &str = "# HELP x\n\
        stampede_proxy_last_minute_responses{outcome=\"ok\"} 6\n\
        stampede_proxy_last_minute_responses{outcome=\"busy\"} 2\n\
        stampede_proxy_last_minute_responses{outcome=\"status_429\"} 0\n\
        stampede_proxy_backend_healthy{pool=\"gpu\",backend=\"127.0.0.1:9\"} 1\n\
        stampede_proxy_backend_probe_good{pool=\"gpu\",backend=\"127.0.0.1:9\"} 5\n\
        stampede_proxy_backend_probe_window{pool=\"gpu\",backend=\"127.0.0.1:9\"} 8\n\
        stampede_proxy_backend_probe_threshold{pool=\"gpu\",backend=\"127.0.0.1:9\"} 3\n\
        stampede_proxy_backend_connections{pool=\"gpu\",backend=\"127.0.0.1:9\"} 4\n\
        stampede_proxy_backend_waiting{pool=\"gpu\",backend=\"127.0.0.1:9\"} 1\n";

    #[test]
    fn the_page_shows_the_last_minute_s_503_rate_and_each_backend_s_probe_window() {
        let html = page(PROXY, "stampede proxy");
        assert!(html.contains("503 rate <b class=rate>25.0%</b>"), "{html}");
        assert!(html.contains("<b class=good>healthy</b>"));
        assert_eq!(html.matches("<i class=ok></i>").count(), 5);
        assert_eq!(html.matches("<i class=ko></i>").count(), 3);
        assert!(html.contains(
            "data-series=\"stampede_proxy_backend_connections{pool=&quot;gpu&quot;,backend=&quot;127.0.0.1:9&quot;}\">4<"
        ));
        assert!(!html.contains("src=") && !html.contains("<script"), "self-contained, no scripts");
    }

    #[test]
    fn the_backend_page_lists_the_chaos_windows_open_now() {
        let pools = "stampede_backend_requests_total{pool=\"gpu\"} 3\n";
        let open = format!(
            "{pools}stampede_backend_chaos_open{{pool=\"gpu\",kind=\"stall\"}} 1\n\
            stampede_backend_chaos_open{{pool=\"gpu\",kind=\"slow\"}} 0\n"
        );
        let html = page(&open, "b");
        assert!(html.contains("<td>gpu</td><td>stall</td>"), "{html}");
        assert!(!html.contains("<td>slow</td>"), "closed windows are not listed");
        assert!(page(pools, "b").contains("None. <code>GET /chaos</code>"));
    }

    #[test]
    fn every_number_on_the_page_is_a_series_of_metrics() {
        let samples = parse(PROXY);
        let html = page(PROXY, "t");
        for part in html.split("data-series=\"").skip(1) {
            let (series, rest) = part.split_once('"').expect("closed attribute");
            let series = series.replace("&quot;", "\"").replace("&amp;", "&");
            let shown: u64 = rest
                .trim_start_matches('>')
                .trim_start_matches(" data-value=")
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|v| v.parse().ok())
                .expect("a number");
            let s = samples.iter().find(|s| s.series == series).expect("a series of /metrics");
            assert_eq!(shown, s.value, "{series}");
        }
    }
}
