//! The scenario's proxy as Varnish 7 VCL (`stampede vcl`).
//!
//! One `backend` per instance (a pool of `max_instances` GPU instances is that
//! many backends, as `serve backend` binds that many ports), each with the
//! proxy's connect / first-byte / between-bytes timeouts, `.max_connections`
//! and the probe; one director per pool; `vcl_recv` routes each job class's
//! path to its pool's director and passes it, or looks it up when the class
//! is cached; `vcl_backend_error` and `vcl_backend_response` retry as
//! `retry_on` and `max_retries` say, and `vcl_backend_response` stores a
//! cached class's responses as the model's proxy does: a 200 the backend lets
//! be stored for the class's `ttl` and `grace`, anything else as a
//! hit-for-miss marker for its `hit_for_miss`.
//!
//! Durations are divided by the time scale, so a VCL for `--time-scale 20`
//! fronts `serve backend --time-scale 20` with the same simulated timeouts.
//!
//! What VCL cannot express comes back as warnings (and comments in the file),
//! and the varnishd parameters it needs as `params` (`max_retries`, the
//! workspace limits `http_resp_size` and `http_resp_hdr_len`):
//! Varnish 7.1 gives VCL no way to tell one fetch error from another, so a
//! `retry_on` naming some of the proxy's own causes retries them all; there is
//! no least-connections director in stock Varnish; rate limits need
//! varnish-modules' vsthrottle; the wait queue needs Varnish 7.6. The cache's
//! capacity is varnishd's storage (`storage`, for `-s malloc`).

use std::fmt::Write;

use crate::model::outcome::{Cause, Outcome};
use crate::model::proxy::{CachePolicy, DirectorKind};
use crate::scenario::Scenario;
use crate::time::SimDuration;

/// Varnish's own `max_retries` parameter: `return (retry)` past it fails.
const VARNISHD_MAX_RETRIES: u32 = 4;

/// Where one backend instance listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendAddr {
    pub pool: usize,
    pub host: String,
    pub port: u16,
}

/// A VCL program and what it could not say.
#[derive(Clone, Debug)]
pub struct Vcl {
    pub text: String,
    pub warnings: Vec<String>,
    /// `-p` parameters varnishd needs for this VCL to mean what the scenario says.
    pub params: Vec<String>,
    /// Bytes of storage for `-s malloc,SIZE`, when a class is cached.
    pub storage: Option<u64>,
}

/// Bytes as varnishd writes a size: the largest binary unit that divides them.
pub fn size(bytes: u64) -> String {
    let units = [(1u64 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "k")];
    match units.iter().find(|(u, _)| bytes.is_multiple_of(*u) && bytes > 0) {
        Some((u, name)) => format!("{}{name}", bytes / u),
        None => bytes.to_string(),
    }
}

/// The instance ports `stampede serve backend --listen HOST:PORT` binds: PORT
/// is its control page, the instances follow it, pool after pool,
/// `max_instances` each.
pub fn serve_backend_layout(sc: &Scenario, host: &str, control_port: u16) -> Result<Vec<BackendAddr>, String> {
    let mut port = control_port;
    let mut out = Vec::new();
    for (pool, p) in sc.pools.iter().enumerate() {
        for _ in 0..p.max_instances {
            port = port.checked_add(1).ok_or("instance ports run past 65535")?;
            out.push(BackendAddr { pool, host: host.to_string(), port });
        }
    }
    Ok(out)
}

/// `[POOL=]HOST:PORT` (an `http://` prefix is allowed). The host is kept as
/// written: Varnish resolves it when it loads the VCL.
pub fn parse_backend(sc: &Scenario, spec: &str) -> Result<BackendAddr, String> {
    let (pool, addr) = match spec.split_once('=') {
        Some((p, a)) => (Some(p), a),
        None => (None, spec),
    };
    let pool = match pool {
        Some(name) => sc.pools.iter().position(|p| p.name == name).ok_or_else(|| {
            let names: Vec<&str> = sc.pools.iter().map(|p| p.name.as_str()).collect();
            format!("no pool `{name}` in the scenario (it has {})", names.join(", "))
        })?,
        None if sc.pools.len() == 1 => 0,
        None => return Err("the scenario has several pools: write POOL=HOST:PORT".into()),
    };
    let addr = addr.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = addr.rsplit_once(':').ok_or("not HOST:PORT (the port is missing)")?;
    let port: u16 = port.parse().map_err(|_| format!("`{port}` is not a port number"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['"', ' ', '/']) {
        return Err(format!("`{host}` is not a host name or address"));
    }
    Ok(BackendAddr { pool, host: host.to_string(), port })
}

/// A VCL identifier from a scenario name (letters, digits, `_`; a letter first).
fn ident(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "p_");
    }
    s
}

/// A simulated duration as a VCL duration in real time at `scale`, to the
/// microsecond (VCL takes fractional milliseconds: `87.5ms`, `0.1ms`), never
/// zero, which Varnish reads as off.
fn duration(d: SimDuration, scale: f64) -> String {
    let us = (d.as_secs_f64() / scale * 1e6).round().max(1.0) as u64;
    if us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else {
        let frac = format!("{:03}", us % 1000);
        format!("{}.{}ms", us / 1000, frac.trim_end_matches('0'))
    }
}

/// Like [`duration`], but zero stays zero: a grace of none.
fn zero_or_duration(d: SimDuration, scale: f64) -> String {
    if d == SimDuration::ZERO { "0s".into() } else { duration(d, scale) }
}

/// A regular expression matching `s` literally.
fn regex_literal(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() && c != '_' && c != '-' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Writes the scenario's proxy in front of `backends` as VCL, its durations
/// divided by `time_scale`.
pub fn render(sc: &Scenario, backends: &[BackendAddr], time_scale: f64) -> Vcl {
    let p = &sc.proxy;
    let mut warnings = Vec::new();
    let mut params = Vec::new();
    let mut v = String::new();
    let w = &mut v;
    let _ = writeln!(w, "vcl 4.1;");
    let _ = writeln!(w, "# The proxy of scenario `{}`, written by `stampede vcl`.", sc.name);
    if time_scale != 1.0 {
        let _ = writeln!(
            w,
            "# Durations are divided by the time scale {time_scale}: front `serve backend --time-scale {time_scale}`."
        );
    }
    let _ = writeln!(w, "\nimport directors;\nimport std;\n");

    if let Some(pr) = &p.probe {
        let _ = writeln!(w, "probe stampede_probe {{");
        let _ = writeln!(w, "    .url = \"/health\";");
        let _ = writeln!(w, "    .interval = {};", duration(pr.interval, time_scale));
        let _ = writeln!(w, "    .timeout = {};", duration(pr.timeout, time_scale));
        let _ = writeln!(w, "    .window = {};", pr.window);
        let _ = writeln!(w, "    .threshold = {};", pr.threshold);
        let _ = writeln!(w, "    .initial = {};", pr.initial);
        let _ = writeln!(w, "    .expected_response = 200;\n}}\n");
    }

    let mut members: Vec<Vec<String>> = vec![Vec::new(); sc.pools.len()];
    for b in backends {
        let name = format!("{}_{}", ident(&sc.pools[b.pool].name), members[b.pool].len());
        let host = if b.host.contains(':') { format!("[{}]", b.host) } else { b.host.clone() };
        let _ = writeln!(w, "backend {name} {{");
        let _ = writeln!(w, "    .host = \"{host}\";\n    .port = \"{}\";", b.port);
        let timeouts = [
            ("connect_timeout", p.connect_timeout),
            ("first_byte_timeout", p.first_byte_timeout),
            ("between_bytes_timeout", p.between_bytes_timeout),
        ];
        for (key, t) in timeouts {
            match t {
                Some(t) => drop(writeln!(w, "    .{key} = {};", duration(t, time_scale))),
                // Off in the scenario: as long as VCL allows (a day of real time).
                None => drop(writeln!(w, "    .{key} = 86400s;  # off in the scenario")),
            }
        }
        if let Some(n) = p.max_connections {
            let _ = writeln!(w, "    .max_connections = {n};");
        }
        if let Some(q) = &p.wait {
            let _ = writeln!(w, "    # Varnish 7.6+ only: the proxy's wait queue.");
            let _ = writeln!(w, "    # .wait_limit = {};", q.limit);
            let _ = writeln!(w, "    # .wait_timeout = {};", duration(q.timeout, time_scale));
        }
        if p.probe.is_some() {
            let _ = writeln!(w, "    .probe = stampede_probe;");
        }
        let _ = writeln!(w, "}}\n");
        members[b.pool].push(name);
    }
    if p.wait.is_some() {
        warnings.push(
            "proxy.wait: Varnish 7.1 has no backend wait queue (7.6 added .wait_limit / .wait_timeout): \
             the VCL has them commented out, and busy fetches fail at once"
                .into(),
        );
    }

    let (director, weight) = match p.director {
        DirectorKind::RoundRobin => ("round_robin", ""),
        DirectorKind::Random => ("random", ", 1.0"),
        DirectorKind::LeastConnections => {
            warnings.push(
                "proxy.director = \"least_connections\": stock Varnish has no such director; the VCL uses round_robin"
                    .into(),
            );
            ("round_robin", "")
        }
    };
    let _ = writeln!(w, "sub vcl_init {{");
    for (pool, names) in members.iter().enumerate() {
        let d = ident(&sc.pools[pool].name);
        let _ = writeln!(w, "    new {d} = directors.{director}();");
        for n in names {
            let _ = writeln!(w, "    {d}.add_backend({n}{weight});");
        }
    }
    let _ = writeln!(w, "}}\n");
    for (pool, names) in members.iter().enumerate() {
        if names.is_empty() && sc.classes.iter().any(|c| c.pool == pool) {
            warnings.push(format!("pool `{}` has no backend: its classes get 503s", sc.pools[pool].name));
        }
    }

    let _ = writeln!(w, "sub vcl_recv {{");
    if !p.retry_on.is_empty() {
        // A retried fetch sends the request body again: keep it.
        let _ = writeln!(w, "    std.cache_req_body(64KB);");
    }
    for (i, class) in sc.classes.iter().enumerate() {
        let d = ident(&sc.pools[class.pool].name);
        let path = regex_literal(&class.name);
        let cached = p.classes.get(i).is_some_and(|r| r.cache.is_some());
        if cached {
            // The object is in the URL (`?object=N`), so the default hash
            // (URL and host) is the model's key (class, object).
            let _ = writeln!(w, "    # class.{}.cache: looked up; a miss is fetched as a GET.", class.name);
        }
        let _ = writeln!(w, "    if (req.url ~ \"^/{path}(\\?.*)?$\") {{");
        let _ = writeln!(w, "        set req.backend_hint = {d}.backend();");
        let _ = writeln!(w, "        return ({});\n    }}", if cached { "hash" } else { "pass" });
    }
    let _ = writeln!(w, "    return (synth(404, \"No such job class\"));\n}}\n");

    let synthetic: Vec<Cause> =
        Cause::ALL.into_iter().filter(|c| c.is_synthetic() && p.retry_on.contains(Outcome::Status503(*c))).collect();
    let passed: Vec<Cause> =
        Cause::ALL.into_iter().filter(|c| !c.is_synthetic() && p.retry_on.contains(Outcome::Status503(*c))).collect();
    let n = p.max_retries;
    if !p.retry_on.is_empty() && n > VARNISHD_MAX_RETRIES {
        params.push(format!("max_retries={n}"));
    }
    // The workspace limits are varnishd parameters, not VCL.
    let d = crate::model::proxy::ProxyConfig::default();
    if p.http_resp_size != d.http_resp_size {
        params.push(format!("http_resp_size={}", p.http_resp_size));
    }
    if p.http_resp_hdr_len != d.http_resp_hdr_len {
        params.push(format!("http_resp_hdr_len={}", p.http_resp_hdr_len));
    }
    let cached: Vec<(&str, CachePolicy)> =
        sc.classes.iter().enumerate().filter_map(|(i, c)| Some((c.name.as_str(), p.classes.get(i)?.cache?))).collect();
    if !passed.is_empty() || !cached.is_empty() {
        let _ = writeln!(w, "sub vcl_backend_response {{");
    }
    if !passed.is_empty() {
        let _ = writeln!(w, "    # The backend's own 503s that the scenario retries.");
        let names: Vec<String> =
            passed.iter().map(|c| format!("beresp.http.x-stampede-cause == \"{}\"", c.name())).collect();
        let unknown = passed.contains(&Cause::Unknown);
        let cond = if unknown { String::new() } else { format!(" && ({})", names.join(" || ")) };
        let _ = writeln!(w, "    if (beresp.status == 503 && bereq.retries < {n}{cond}) {{");
        let _ = writeln!(w, "        return (retry);\n    }}");
    }
    for (name, c) in &cached {
        let _ = writeln!(w, "    # class.{name}.cache: a 200 that may be stored is fresh for ttl, then stale for");
        let _ = writeln!(w, "    # grace; anything else (a private 200, the backend's 503 or 429) is hit-for-miss.");
        let _ = writeln!(w, "    if (bereq.url ~ \"^/{}(\\?.*)?$\") {{", regex_literal(name));
        let _ = writeln!(
            w,
            "        if (beresp.status != 200 || beresp.http.Set-Cookie || \
             beresp.http.Cache-Control ~ \"(?i)(no-cache|no-store|private)\") {{"
        );
        let _ = writeln!(w, "            set beresp.ttl = {};", zero_or_duration(c.hit_for_miss, time_scale));
        let _ = writeln!(w, "            set beresp.grace = 0s;");
        let _ = writeln!(w, "            set beresp.uncacheable = true;");
        let _ = writeln!(w, "        }} else {{");
        let _ = writeln!(w, "            set beresp.ttl = {};", duration(c.ttl, time_scale));
        let _ = writeln!(w, "            set beresp.grace = {};", zero_or_duration(c.grace, time_scale));
        let _ = writeln!(w, "        }}");
        let _ = writeln!(w, "        return (deliver);\n    }}");
    }
    if !passed.is_empty() || !cached.is_empty() {
        let _ = writeln!(w, "}}\n");
    }
    let storage = (!cached.is_empty()).then_some(p.cache.capacity);
    if storage.is_some() && p.cache.rush_exponent != crate::model::proxy::CacheConfig::default().rush_exponent {
        params.push(format!("rush_exponent={}", p.cache.rush_exponent));
    }
    if !synthetic.is_empty() {
        let all: Vec<Cause> = Cause::ALL.into_iter().filter(|c| c.is_synthetic()).collect();
        if synthetic != all {
            let named: Vec<&str> = synthetic.iter().map(|c| c.name()).collect();
            warnings.push(format!(
                "proxy.retry_on names {}: Varnish's VCL cannot tell fetch errors apart, so the VCL retries every \
                 fetch error (busy, unhealthy, timeouts, failed connections)",
                named.join(", ")
            ));
        }
        let _ = writeln!(w, "sub vcl_backend_error {{");
        let _ = writeln!(w, "    # Varnish's own fetch errors (VCL cannot tell which one happened).");
        let _ = writeln!(w, "    if (bereq.retries < {n}) {{\n        return (retry);\n    }}\n}}\n");
    }

    if time_scale != 1.0 && !cached.is_empty() {
        // Varnish keeps a failed fetch's error 1 s, then 5 s of grace, when
        // requests wait on it (the only case it sets a ttl): real seconds,
        // the model's ERROR_TTL and ERROR_GRACE in scaled time.
        let _ = writeln!(w, "sub vcl_backend_error {{");
        let _ = writeln!(w, "    # An error kept for its waiting list: 1 s and 5 s of grace in the scenario's time.");
        let _ = writeln!(w, "    if (beresp.ttl > 0s) {{");
        let _ = writeln!(w, "        set beresp.ttl = {};", duration(crate::model::proxy::ERROR_TTL, time_scale));
        let _ = writeln!(w, "        set beresp.grace = {};", duration(crate::model::proxy::ERROR_GRACE, time_scale));
        let _ = writeln!(w, "    }}\n}}\n");
    }
    if time_scale != 1.0 {
        // Varnish's own 503 says `Retry-After: 5`, real seconds: in the
        // scenario's time that is the model's 5 s divided by the scale, and
        // stampede's clients read the simulated value, as `wire::put_failure`
        // writes both for the served proxy. The backend's own 503s (with a
        // cause) keep theirs.
        let real = (crate::model::outcome::SYNTHETIC_RETRY_AFTER.as_secs_f64() / time_scale).ceil();
        let _ = writeln!(w, "sub vcl_deliver {{");
        let _ = writeln!(w, "    # Varnish's own 503: its Retry-After of 5 s in the scenario's time.");
        let _ = writeln!(
            w,
            "    if (resp.status == 503 && !resp.http.x-stampede-cause && resp.http.Retry-After == \"5\") {{"
        );
        let _ = writeln!(w, "        set resp.http.Retry-After = \"{real}\";");
        let _ = writeln!(
            w,
            "        set resp.http.x-stampede-retry-after-us = \"{}\";",
            crate::model::outcome::SYNTHETIC_RETRY_AFTER.as_micros()
        );
        let _ = writeln!(w, "    }}\n}}\n");
    }
    let limited: Vec<String> = p
        .rate_limits
        .iter()
        .zip(&sc.swarms)
        .filter(|(l, _)| l.is_some())
        .map(|(_, s)| format!("swarm.{}.rate_limit", s.name))
        .collect();
    if !limited.is_empty() {
        warnings.push(format!(
            "{}: stock Varnish has no rate limiter (varnish-modules' vsthrottle does): not in the VCL",
            limited.join(", ")
        ));
    }
    if p.max_sessions.is_some() {
        warnings.push("proxy.max_sessions: Varnish limits sessions per thread pool, not in VCL: not in the VCL".into());
    }
    if p.between_bytes_timeout.is_some() {
        let _ = writeln!(
            w,
            "# Streaming (Varnish's default): a between-bytes timeout mid-body cuts the client's 200 short\n\
             # instead of answering 503, as the model does."
        );
    }
    Vcl { text: v, warnings, params, storage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_scaled_and_written_as_an_operator_would() {
        assert_eq!(duration(SimDuration::from_secs(60), 1.0), "60s");
        assert_eq!(duration(SimDuration::from_millis(3500), 1.0), "3500ms");
        assert_eq!(duration(SimDuration::from_secs(60), 20.0), "3s");
        assert_eq!(duration(SimDuration::from_secs(5), 20.0), "250ms");
        assert_eq!(duration(SimDuration::from_nanos(10_000), 1.0), "0.01ms");
        assert_eq!(duration(SimDuration::from_nanos(10), 1.0), "0.001ms", "never zero: Varnish reads 0 as off");
        // Not rounded to whole milliseconds: 3.5 s at 40 is 87.5 ms, 100 ms at 1000 is 0.1 ms.
        assert_eq!(duration(SimDuration::from_millis(3500), 40.0), "87.5ms");
        assert_eq!(duration(SimDuration::from_millis(100), 1000.0), "0.1ms");
        assert_eq!(duration(SimDuration::from_millis(1), 1000.0), "0.001ms");
    }

    /// What the VCL cannot carry is said, never dropped: the workspace
    /// limits and `rush_exponent` (varnishd parameters), the storage, a
    /// swarm's rate limit.
    #[test]
    fn untranslated_settings_become_warnings_and_parameters() {
        let text = std::fs::read_to_string("scenarios/cache-txt2img.toml").expect("shipped");
        let sets: Vec<crate::scenario::Override> =
            ["proxy.http_resp_size=64KB", "swarm.web.rate_limit=5/s", "proxy.cache.rush_exponent=5"]
                .iter()
                .map(|s| s.parse().expect("syntax"))
                .collect();
        let sc = Scenario::parse_with(&text, "cache-txt2img.toml", &sets).expect("valid");
        let backends = serve_backend_layout(&sc, "127.0.0.1", 9000).expect("ports");
        let vcl = render(&sc, &backends, 1.0);
        let all = vcl.warnings.join("\n");
        assert!(!all.contains("cache"), "the cache is translated: {all}");
        assert!(all.contains("swarm.web.rate_limit: stock Varnish has no rate limiter"), "{all}");
        assert_eq!(vcl.params, ["http_resp_size=65536", "rush_exponent=5"]);
        assert_eq!(vcl.storage.map(size), Some("4G".into()), "capacity = \"4GB\"");
    }

    /// A cached class is looked up and its responses stored for the
    /// scenario's durations (scaled); a passed class stays passed.
    #[test]
    fn a_cached_class_is_hashed_and_stored_as_the_model_stores_it() {
        let text = std::fs::read_to_string("scenarios/cache-txt2img.toml").expect("shipped");
        let sets: Vec<crate::scenario::Override> =
            ["class.txt2img.cache.hit_for_miss=0s"].iter().map(|s| s.parse().expect("syntax")).collect();
        let sc = Scenario::parse_with(&text, "cache-txt2img.toml", &sets).expect("valid");
        let backends = serve_backend_layout(&sc, "127.0.0.1", 9000).expect("ports");
        let vcl = render(&sc, &backends, 20.0).text;
        let recv = &vcl[vcl.find("sub vcl_recv").expect("vcl_recv")..];
        let route = |class: &str| {
            let at = recv.find(&format!("\"^/{class}(")).expect("routed");
            recv[at..].lines().nth(2).expect("its return").trim().to_string()
        };
        assert_eq!(route("txt2img"), "return (hash);");
        assert_eq!(route("img2img"), "return (pass);");
        let resp = &vcl[vcl.find("sub vcl_backend_response").expect("stores")..];
        // ttl 1h, grace 10m at time scale 20; a hit-for-miss of 0s stays 0.
        for line in ["set beresp.ttl = 180s;", "set beresp.grace = 30s;", "set beresp.ttl = 0s;"] {
            assert!(resp.contains(line), "{line} in {resp}");
        }
        assert!(resp.contains("Cache-Control ~ \"(?i)(no-cache|no-store|private)\""), "{resp}");
        assert!(!resp.contains("img2img"), "a passed class is not stored: {resp}");
        // Varnish's own 503 carries the model's 5 s Retry-After in the scenario's time.
        let deliver = &vcl[vcl.find("sub vcl_deliver").expect("scaled Retry-After")..];
        assert!(deliver.contains("set resp.http.Retry-After = \"1\";"), "5 s / 20 rounds up to 1 s: {deliver}");
        assert!(deliver.contains("set resp.http.x-stampede-retry-after-us = \"5000000\";"), "{deliver}");
        assert!(!render(&sc, &backends, 1.0).text.contains("vcl_deliver"), "unscaled, Varnish's 5 s is right");
        // An error kept for waiters: 1 s and 5 s of grace, at time scale 20.
        assert!(
            vcl.contains("if (beresp.ttl > 0s) {\n        set beresp.ttl = 50ms;\n        set beresp.grace = 250ms;")
        );
    }

    #[test]
    fn sizes_are_written_as_varnishd_reads_them() {
        assert_eq!(size(100 << 20), "100M");
        assert_eq!(size(4 << 30), "4G");
        assert_eq!(size(1536 << 10), "1536k");
        assert_eq!(size(1_000_000), "1000000");
    }

    #[test]
    fn names_become_identifiers_and_paths_literal_patterns() {
        assert_eq!(ident("gpu-a100"), "gpu_a100");
        assert_eq!(ident("4090s"), "p_4090s");
        assert_eq!(regex_literal("img2img.v2"), "img2img\\.v2");
    }
}
