//! `stampede docs [TOPIC]` and `stampede completions SHELL`: what an installed
//! binary needs without the source tree.
//!
//! `cargo install` copies the binary alone, so the documents are compiled in:
//! `stampede docs cli` prints docs/cli.md wherever the binary runs.

use std::io::Write;

use super::{Cli, Failure};

/// Every document a user may want, by topic, with its first line shown in the list.
pub const TOPICS: [(&str, &str); 7] = [
    ("cli", include_str!("../../docs/cli.md")),
    ("scenario-format", include_str!("../../docs/scenario-format.md")),
    ("metrics", include_str!("../../docs/metrics.md")),
    ("models", include_str!("../../docs/models.md")),
    ("distributed", include_str!("../../docs/distributed.md")),
    ("live", include_str!("../../docs/live.md")),
    ("architecture", include_str!("../../docs/architecture.md")),
];

/// Writes `bytes` to stdout; a reader that stops early (`| head`) is no error.
fn print(bytes: &[u8]) -> Result<u8, Failure> {
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::usage(format!("cannot print: {e}"))),
        _ => Ok(0),
    }
}

/// Prints a document, or the list of topics.
pub fn docs(topic: Option<&str>) -> Result<u8, Failure> {
    match topic {
        None => {
            let mut text = String::from("stampede docs TOPIC prints one of:\n");
            for (name, doc) in TOPICS {
                let title = doc.lines().next().unwrap_or_default().trim_start_matches("# ");
                text.push_str(&format!("  {name:<16} {title}\n"));
            }
            print(text.as_bytes())
        }
        Some(t) => match TOPICS.iter().find(|(name, _)| *name == t) {
            Some((_, doc)) => print(doc.as_bytes()),
            None => {
                let names: Vec<&str> = TOPICS.iter().map(|(n, _)| *n).collect();
                let mut msg = format!("docs: no topic `{t}`; topics: {}", names.join(", "));
                if let Some(s) = crate::scenario::did_you_mean(t, names.iter().copied()) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                Err(Failure::usage(msg))
            }
        },
    }
}

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    use clap::CommandFactory;
    // Into a buffer first: clap_complete panics when stdout is closed early.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "stampede", &mut script);
    print(&script)
}
