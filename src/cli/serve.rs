//! `stampede serve backend`: the scenario's GPU pools as HTTP servers until
//! Ctrl-C, then what they served.

use std::io::Write;

use super::{Failure, Global, ServeBackendArgs};
use crate::live;

pub fn backend(args: &ServeBackendArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sc = g.load(&args.scenario)?;
    super::warn(&sc, false);
    let seed = args.seed.unwrap_or(sc.seed);
    let ready = |s: &live::Serving| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "stampede serve backend · {} · time scale {}", sc.name, args.time_scale);
        let _ = writeln!(out, "control   http://{}/  (/metrics)", s.control);
        for (pool, ports) in &s.instances {
            let list: Vec<String> = ports.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(out, "pool {pool}: {}", list.join(" "));
        }
        let _ = writeln!(out, "classes   {}  (POST or GET /<class>; GET /health)", class_names(&sc).join(" "));
        let _ = writeln!(out, "Ctrl-C stops and prints what was served.");
        let _ = out.flush();
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let limits = live::Limits {
        max_connections: args.max_connections as usize,
        header_read_timeout: args.header_timeout,
        ..live::Limits::default()
    };
    let served = live::serve_backend(&sc, seed, args.time_scale, args.listen, limits, ready, stop)
        .map_err(|e| Failure::runtime(format!("{}: {e}", args.listen)))?;
    let mut out = std::io::stdout().lock();
    let secs = served.run.summary.engine.wall_seconds;
    let _ = writeln!(out, "\nstopped after {secs:.1}s; served:");
    for line in served.metrics.lines().filter(|l| !l.starts_with('#')) {
        let _ = writeln!(out, "  {line}");
    }
    Ok(0)
}

fn class_names(sc: &crate::scenario::Scenario) -> Vec<String> {
    sc.classes.iter().map(|c| format!("/{}", c.name)).collect()
}
