//! Where a command's results go: the report directory, `--json`, and the
//! human summary (on stderr when JSON takes stdout, so pipes stay clean).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Failure;
use crate::report;
use crate::report::folder::ReportDir;

/// The output flags every command that reports shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Folder for the command's reports (default: reports/<scenario-name>/<command>).
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
    /// The report folder of `command` for a scenario: `--out`, else
    /// `reports/<scenario>/<command>`.
    pub fn dir(&self, scenario: &str, command: &str) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(scenario).join(command))
    }

    /// Opens the report folder of `command`, replacing what the last command
    /// wrote there (see [`report::folder`]).
    pub fn open(&self, scenario: &str, command: &str) -> Result<ReportDir, Failure> {
        let dir = self.dir(scenario, command);
        self.check_json(&dir)?;
        ReportDir::open(&dir, command).map_err(writing(&dir))
    }

    /// Checks, changing nothing, that [`Self::open`] and [`Self::emit`] will
    /// be able to write without destroying one of the command's `inputs`:
    /// called before a run that takes real time.
    pub fn check(&self, scenario: &str, command: &str, inputs: &[&Path]) -> Result<(), Failure> {
        self.refuse_inputs(inputs)?;
        let dir = self.dir(scenario, command);
        self.check_json(&dir)?;
        report::folder::check(&dir).map_err(writing(&dir))
    }

    /// Refuses a `--json` file that is one of the command's inputs (its
    /// scenario, a part to merge): the results would replace what was read.
    pub fn refuse_inputs(&self, inputs: &[&Path]) -> Result<(), Failure> {
        let Some(json) = self.json.as_deref().filter(|j| *j != "-") else { return Ok(()) };
        match inputs.iter().find(|input| same_file(input, Path::new(json))) {
            Some(input) => Err(Failure::usage(format!(
                "--json {json}: that is {}, which the command reads; choose another path",
                input.display()
            ))),
            None => Ok(()),
        }
    }

    /// Refuses a `--json` path inside the report folder `dir`, or one that
    /// cannot be written (no such folder, or a folder in its place), so that
    /// a long run does not end in that error.
    fn check_json(&self, dir: &Path) -> Result<(), Failure> {
        let Some(json) = self.json.as_deref().filter(|j| *j != "-") else { return Ok(()) };
        let path = Path::new(json);
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        // Through `..` and symlinks, where both exist.
        let real = |p: &Path| std::fs::canonicalize(p).ok();
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let same_folder =
            abs(path).parent() == Some(abs(dir).as_path()) || real(parent).is_some_and(|p| Some(p) == real(dir));
        // The folder is the command's: a --json file there would overwrite a
        // report (index.html) or the manifest, or be deleted by the next run.
        if same_folder {
            return Err(Failure::usage(format!(
                "--json {json} is inside the report folder {}, whose files the command replaces; \
                 choose a path outside it",
                dir.display()
            )));
        }
        // The command creates the report folder and its parents.
        if !parent.is_dir() && !abs(dir).starts_with(abs(parent)) {
            let what = if parent.exists() { "is not a folder" } else { "does not exist" };
            return Err(Failure::usage(format!("--json {json}: {} {what}", parent.display())));
        }
        if path.is_dir() {
            return Err(Failure::usage(format!("--json {json}: is a folder; name a file")));
        }
        Ok(())
    }

    /// Warns (unless `--quiet`) about report-like files the command left in place.
    pub fn note_strays(&self, dir: &ReportDir) {
        let strays = dir.strays();
        if !self.quiet && !strays.is_empty() {
            say!(
                "note: {} also holds {} from an earlier stampede (not in its manifest, left in place)",
                dir.path().display(),
                strays.join(", ")
            );
        }
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

/// Whether two paths name one existing file: the same path once resolved,
/// or, for hard links, the same device and inode.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(x), Ok(y)) = (std::fs::canonicalize(a), std::fs::canonicalize(b))
        && x == y
    {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// Turns a failure to write reports into a usage error naming the directory.
pub fn writing(dir: &Path) -> impl Fn(io::Error) -> Failure + '_ {
    move |e| Failure::usage(format!("cannot write reports to {}: {e}", dir.display()))
}
