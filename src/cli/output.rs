//! Where a command's results go: the report directory, `--json`, and the
//! human summary (on stderr when JSON takes stdout, so pipes stay clean).

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use super::Failure;
use crate::report;

/// The output flags every command that reports shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Directory for the reports (default: reports/<scenario-name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the results as JSON to PATH, or to stdout with "-".
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<String>,
    /// Print nothing but errors; no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl OutputArgs {
    /// The report directory for a scenario.
    pub fn dir(&self, scenario: &str) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(scenario))
    }

    fn json_to_stdout(&self) -> bool {
        self.json.as_deref() == Some("-")
    }

    /// Writes `value` where `--json` asks.
    pub fn emit<T: Serialize>(&self, value: &T) -> Result<(), Failure> {
        match self.json.as_deref() {
            None => Ok(()),
            Some("-") => closed_pipe_is_fine(report::write_json(io::stdout().lock(), value))
                .map_err(|e| Failure::usage(format!("stdout: {e}"))),
            Some(path) => std::fs::File::create(path)
                .and_then(|f| report::write_json(io::BufWriter::new(f), value))
                .map_err(|e| Failure::usage(format!("--json {path}: {e}"))),
        }
    }

    /// Prints the human summary unless `--quiet`, on stderr when JSON goes to stdout.
    pub fn human(&self, print: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
        if self.quiet {
            return Ok(());
        }
        let shown =
            if self.json_to_stdout() { print(&mut io::stderr().lock()) } else { print(&mut io::stdout().lock()) };
        closed_pipe_is_fine(shown).map_err(|e| Failure::usage(format!("cannot print: {e}")))
    }
}

/// A reader that stops early (`| head`) has seen all it wants: not an error.
fn closed_pipe_is_fine(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Turns a failure to write reports into a usage error naming the directory.
pub fn writing(dir: &std::path::Path) -> impl Fn(io::Error) -> Failure + '_ {
    move |e| Failure::usage(format!("cannot write reports to {}: {e}", dir.display()))
}
