//! `stampede vcl` and `stampede import`: the bridges to a real Varnish and
//! its logs (the scenario's proxy as VCL; an access log as traffic).

use std::io::Write;

use super::output::same_file;
use super::{Failure, Global, ImportArgs, VclArgs};
use crate::scenario::limits::show_duration;
use crate::varnish::vcl;

pub fn vcl(args: &VclArgs, g: Global<'_>) -> Result<u8, Failure> {
    let sc = g.load(&args.scenario)?;
    super::warn(&sc, false);
    let backends = if args.backends.is_empty() {
        vcl::serve_backend_layout(&sc, "127.0.0.1", 8080).map_err(Failure::usage)?
    } else {
        let parse = |b: &String| vcl::parse_backend(&sc, b).map_err(|e| Failure::usage(format!("--backend {b}: {e}")));
        args.backends.iter().map(parse).collect::<Result<Vec<_>, _>>()?
    };
    if let Some(path) = &args.output
        && same_file(&args.scenario, path)
    {
        return Err(Failure::usage(format!("--output {}: that is the scenario being read", path.display())));
    }
    let out = vcl::render(&sc, &backends, args.time_scale);
    for w in &out.warnings {
        say!("warning: {w}");
    }
    let mut flags: Vec<String> = out.params.iter().map(|p| format!("-p {p}")).collect();
    if let Some(bytes) = out.storage {
        flags.push(format!("-s malloc,{}", vcl::size(bytes)));
    }
    if !flags.is_empty() {
        say!("note: start varnishd with {}", flags.join(" "));
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &out.text).map_err(|e| Failure::usage(format!("--output {}: {e}", path.display())))?
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(out.text.as_bytes()).map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
        }
    }
    Ok(0)
}

/// `stampede import`: an access log as a scenario fragment.
pub fn import(args: &ImportArgs) -> Result<u8, Failure> {
    let stdin = args.log.as_os_str() == "-";
    let name = if stdin { crate::import::STDIN.to_string() } else { args.log.display().to_string() };
    let secs = args.window.as_secs();
    if secs == 0 || args.window.subsec_nanos() != 0 {
        return Err(Failure::usage(format!("--window {:?}: a whole number of seconds, at least 1s", args.window)));
    }
    // Writing the fragment over the log would lose the log.
    if let Some(out) = &args.output
        && same_file(&args.log, out)
    {
        return Err(Failure::usage(format!("--output {}: that is the log being imported", out.display())));
    }
    let longest = crate::scenario::limits::histogram_range();
    if secs > longest.as_nanos() / 1_000_000_000 {
        return Err(Failure::usage(format!(
            "--window {secs}s: longer than a scenario may run ({}); choose a shorter --window",
            show_duration(longest)
        )));
    }
    // "-" is standard input, as for other log tools (`zcat x.gz | stampede import -`).
    let input: Box<dyn std::io::Read> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.log).map_err(|e| Failure::usage(format!("{name}: cannot read the file: {e}")))?,
        )
    };
    let traffic =
        crate::import::read(&name, std::io::BufReader::new(input), secs).map_err(|e| Failure::usage(e.to_string()))?;
    // The fragment lasts from the first request to the last: it must be a
    // duration a scenario may have.
    let span = traffic.span_secs();
    if span > longest.as_nanos() / 1_000_000_000 {
        return Err(Failure::usage(format!(
            "{name}: the log spans {span} s ({:.1} days), longer than a scenario may run ({}); \
             import a shorter stretch of it (e.g. the day of the peak)",
            span as f64 / 86_400.0,
            show_duration(longest)
        )));
    }
    let text = crate::import::fragment(&name, &traffic, secs);
    write_out(args.output.as_deref(), &text)
}

fn write_out(path: Option<&std::path::Path>, text: &str) -> Result<u8, Failure> {
    match path {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| Failure::usage(format!("--output {}: {e}", path.display())))?
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
        }
    }
    Ok(0)
}
