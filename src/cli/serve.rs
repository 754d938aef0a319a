//! `stampede serve backend` and `serve proxy`: one part of the scenario's
//! stack as HTTP servers until Ctrl-C, then what they served.

use std::io::Write;

use std::net::{SocketAddr, ToSocketAddrs};

use super::{Failure, Global, ServeArgs, ServeBackendArgs, ServeProxyArgs};
use crate::live;
use crate::scenario::Scenario;

/// `--listen`: an address and port, or a host name that resolves to one
/// (`localhost:8080`).
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    let mut found = s.to_socket_addrs().map_err(|e| format!("not an ADDR:PORT or HOST:PORT ({e})"))?;
    found.next().ok_or_else(|| format!("{s} has no address"))
}

/// Says so when a server listens beyond loopback: nothing it serves asks
/// who is calling, `POST /chaos` included.
fn note_exposed(listen: SocketAddr, what: &str) {
    if !listen.ip().is_loopback() {
        say!(
            "note: --listen {listen} is reachable from other hosts, and nothing here asks who calls ({what}); \
             127.0.0.1 keeps it to this machine"
        );
    }
}

pub fn backend(args: &ServeBackendArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sc = g.load(&args.scenario)?;
    super::warn(&sc, false);
    note_exposed(args.listen, "jobs, POST /chaos");
    // Instances take the ports after --listen's: refused here as bad input,
    // rather than found out while binding.
    if args.listen.port() != 0 {
        let host = args.listen.ip().to_string();
        crate::varnish::vcl::serve_backend_layout(&sc, &host, args.listen.port()).map_err(|_| {
            let n: u32 = sc.pools.iter().map(|p| p.max_instances).sum();
            Failure::usage(format!(
                "--listen {}: the {n} instance port(s) after it (max_instances over the pools) run past 65535; \
                 choose a lower port, or 0 to let the system pick each",
                args.listen
            ))
        })?;
    }
    let ready = |s: &live::Serving| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "stampede serve backend · {} · time scale {}", sc.name, args.common.time_scale);
        let _ = writeln!(out, "control   http://{}/  (/metrics)", s.control);
        for (pool, ports) in &s.instances {
            let list: Vec<String> = ports.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(out, "pool {pool}: {}", list.join(" "));
        }
        let _ = writeln!(out, "classes   {}  (POST or GET /<class>; GET /health)", class_names(&sc).join(" "));
        let _ = writeln!(out, "Ctrl-C stops and prints what was served.");
        let _ = out.flush();
    };
    let opts = args.common.options(sc.seed, args.listen);
    let served = live::serve_backend(&sc, opts, ready, super::ctrl_c())
        .map_err(|e| Failure::runtime(format!("--listen {}: {e}", args.listen)))?;
    let mut out = std::io::stdout().lock();
    let secs = served.run.summary.engine.wall_seconds;
    let _ = writeln!(out, "\nstopped after {secs:.1}s; served:");
    for line in served.metrics.lines().filter(|l| !l.starts_with('#')) {
        let _ = writeln!(out, "  {line}");
    }
    Ok(0)
}

fn class_names(sc: &Scenario) -> Vec<String> {
    sc.classes.iter().map(|c| format!("/{}", c.name)).collect()
}

pub fn proxy(args: &ServeProxyArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sc = g.load(&args.scenario)?;
    super::warn(&sc, false);
    note_exposed(args.listen, "requests");
    let backends = args.backends.iter().map(|b| backend_spec(&sc, b)).collect::<Result<Vec<_>, _>>()?;
    for (i, (spec, b)) in args.backends.iter().zip(&backends).enumerate() {
        if backends[..i].contains(b) {
            return Err(Failure::usage(format!("--backend {spec}: this instance is named twice")));
        }
        if b.1 == args.listen {
            return Err(Failure::usage(format!("--backend {spec}: is where this proxy listens (--listen)")));
        }
    }
    let ready = |addr: SocketAddr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "stampede serve proxy · {} · time scale {}", sc.name, args.common.time_scale);
        let _ = writeln!(out, "proxy     http://{addr}/  (/metrics; {})", class_names(&sc).join(" "));
        for (pool, a) in &backends {
            let _ = writeln!(out, "backend   {} {a}", sc.pools[*pool].name);
        }
        let _ = writeln!(out, "Ctrl-C stops and prints what was served.");
        let _ = out.flush();
    };
    let opts = args.common.options(sc.seed, args.listen);
    let metrics = live::serve_proxy(&sc, opts, backends.clone(), ready, super::ctrl_c())
        .map_err(|e| Failure::runtime(format!("--listen {}: {e}", args.listen)))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\nstopped; served:");
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let _ = writeln!(out, "  {line}");
    }
    Ok(0)
}

/// `[POOL=]HOST:PORT` (an `http://` prefix is allowed) as (pool index, address):
/// written as `stampede vcl` reads it, then resolved.
fn backend_spec(sc: &Scenario, spec: &str) -> Result<(usize, SocketAddr), Failure> {
    let bad = |why: String| Failure::usage(format!("--backend {spec}: {why}"));
    let b = crate::varnish::vcl::parse_backend(sc, spec).map_err(bad)?;
    let resolved =
        (b.host.as_str(), b.port).to_socket_addrs().map_err(|e| bad(format!("not a HOST:PORT ({e})")))?.next();
    let addr = resolved.ok_or_else(|| bad("the host has no address".to_string()))?;
    if addr.port() == 0 {
        return Err(bad("port 0 is no instance's port".to_string()));
    }
    Ok((b.pool, addr))
}

impl ServeArgs {
    /// The options of a served part; `default_seed` is the scenario's.
    fn options(&self, default_seed: u64, listen: SocketAddr) -> live::ServeOptions {
        let limits = live::Limits {
            max_connections: self.max_connections as usize,
            header_read_timeout: self.header_timeout,
            max_work: self.max_work,
            ..live::Limits::default()
        };
        live::ServeOptions { seed: self.seed.unwrap_or(default_seed), time_scale: self.time_scale, listen, limits }
    }
}
