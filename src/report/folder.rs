//! Report folders: where a command's files go, and how a re-run replaces them.
//!
//! Every command that reports writes into a folder of its own,
//! `reports/<scenario>/<command>/` (or `--out DIR`), so a sweep never sits
//! beside a run's `index.html`. A folder holds the files of the *last*
//! command that wrote to it, and only those: each command records every file
//! it writes in the folder's manifest, [`MANIFEST`], before writing it, and a
//! command that opens the folder first deletes the files the previous
//! manifest lists. A one-key sweep therefore leaves no heatmap of an earlier
//! two-key sweep behind.
//!
//! Why a manifest and not "delete whatever looks like ours": a user's `--out`
//! may point at a folder holding anything. A manifest names exactly what
//! stampede wrote, so nothing else is ever deleted; names in it that are not
//! plain file names (a path, `..`) are ignored, directories are never
//! removed, and a manifest stampede cannot read stops the command instead of
//! being overwritten. Files that look like stampede's but are not in the
//! manifest (an older stampede's) are left in place and reported as strays.

use std::cell::RefCell;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The manifest's file name in every report folder.
pub const MANIFEST: &str = "stampede-report.json";
const FORMAT: &str = "stampede-report/1";

/// What a report folder holds: written before each file, so a command that
/// stops halfway still leaves a manifest naming every file it started.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    command: String,
    version: String,
    files: Vec<String>,
}

/// A report folder opened by one command.
#[derive(Debug)]
pub struct ReportDir {
    path: PathBuf,
    command: String,
    files: RefCell<Vec<String>>,
}

/// A name that stays inside the folder: no separators, not `.` or `..`.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\']) && !name.contains('\0')
}

/// The manifest of the command that last wrote to `path`, if any; an error
/// for a manifest stampede cannot read.
fn previous(path: &Path) -> io::Result<Option<Manifest>> {
    let manifest = path.join(MANIFEST);
    match fs::read_to_string(&manifest) {
        Ok(text) => {
            serde_json::from_str(&text).ok().filter(|m: &Manifest| m.format == FORMAT).map(Some).ok_or_else(|| {
                io::Error::other(format!(
                    "{} is not a stampede report manifest; stampede does not overwrite it (choose another --out)",
                    manifest.display()
                ))
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether [`ReportDir::open`] could open `path`, changing nothing: a
/// command that runs for long asks first, so that a folder it cannot use
/// fails it at once rather than after the run.
pub fn check(path: &Path) -> io::Result<()> {
    // The nearest part of the path that exists must be a folder.
    let existing =
        path.ancestors().filter(|a| !a.as_os_str().is_empty()).find_map(|a| Some((a, fs::metadata(a).ok()?)));
    match existing {
        Some((at, m)) if !m.is_dir() => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} is a file", at.display())))
        }
        Some((at, _)) if at == path => previous(path).map(drop),
        _ => Ok(()),
    }
}

impl ReportDir {
    /// Creates `path` if needed and deletes the files the previous command
    /// recorded there (and only those).
    pub fn open(path: &Path, command: &str) -> io::Result<ReportDir> {
        fs::create_dir_all(path)?;
        let old = previous(path)?.map(|m| m.files).unwrap_or_default();
        for name in old.iter().filter(|n| plain_name(n) && n.as_str() != MANIFEST) {
            let file = path.join(name);
            // A symlink is removed as a link; its target is never touched.
            match fs::symlink_metadata(&file) {
                Ok(m) if !m.is_dir() => fs::remove_file(&file)?,
                _ => {}
            }
        }
        let dir = ReportDir { path: path.to_path_buf(), command: command.to_string(), files: RefCell::default() };
        dir.save()?;
        Ok(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `name` as this command's and returns its path.
    pub fn file(&self, name: &str) -> io::Result<PathBuf> {
        if !plain_name(name) || name == MANIFEST {
            return Err(io::Error::other(format!("`{name}` is not a report file name")));
        }
        let new = {
            let mut files = self.files.borrow_mut();
            let new = !files.iter().any(|f| f == name);
            if new {
                files.push(name.to_string());
            }
            new
        };
        if new {
            self.save()?;
        }
        Ok(self.path.join(name))
    }

    /// Writes `contents` to the file `name`.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> io::Result<()> {
        fs::write(self.file(name)?, contents)
    }

    /// Creates the file `name` for writing, buffered.
    pub fn create(&self, name: &str) -> io::Result<io::BufWriter<fs::File>> {
        Ok(io::BufWriter::new(fs::File::create(self.file(name)?)?))
    }

    /// The files written so far, in order.
    pub fn files(&self) -> Vec<String> {
        self.files.borrow().clone()
    }

    /// Regular files in the folder that look like stampede's report files but
    /// that this command did not write: left in place, worth a warning.
    pub fn strays(&self) -> Vec<String> {
        let ours = self.files.borrow();
        let mut out: Vec<String> = fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| looks_like_a_report_file(n) && !ours.contains(n))
            .collect();
        out.sort();
        out
    }

    fn save(&self) -> io::Result<()> {
        let m = Manifest {
            format: FORMAT.into(),
            command: self.command.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            files: self.files.borrow().clone(),
        };
        let mut text = serde_json::to_string_pretty(&m).map_err(io::Error::other)?;
        text.push('\n');
        fs::write(self.path.join(MANIFEST), text)
    }
}

/// Names stampede's commands write (part files excepted: shards share a folder).
fn looks_like_a_report_file(name: &str) -> bool {
    const NAMES: [&str; 11] = [
        "summary.json",
        "timeseries.csv",
        "compare.json",
        "compare.csv",
        "report.md",
        "index.html",
        "sweep.json",
        "sweep.csv",
        "plan.json",
        "plan.vcl",
        "run.json",
    ];
    const PREFIXES: [&str; 4] = ["run-", "compare-", "sweep-", "plan-"];
    let chart = [".png", ".svg"].iter().any(|e| name.ends_with(e));
    NAMES.contains(&name) || (chart && PREFIXES.iter().any(|p| name.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("stampede-folder-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_second_command_removes_only_the_files_the_first_wrote() {
        let d = scratch("replace");
        let first = ReportDir::open(&d, "sweep").expect("open");
        first.write("sweep-heatmap-rate_503.png", "old").expect("write");
        first.write("sweep.json", "old").expect("write");
        fs::write(d.join("notes.txt"), "mine").expect("user file");
        fs::write(d.join("sweep-old.png"), "an older stampede's").expect("stray");
        let second = ReportDir::open(&d, "sweep").expect("reopen");
        assert!(!d.join("sweep-heatmap-rate_503.png").exists(), "the first command's chart is gone");
        assert!(!d.join("sweep.json").exists());
        assert_eq!(fs::read_to_string(d.join("notes.txt")).expect("kept"), "mine");
        second.write("sweep.json", "new").expect("write");
        assert_eq!(second.strays(), vec!["sweep-old.png".to_string()]);
        fs::remove_dir_all(&d).expect("clean");
    }

    #[test]
    fn a_manifest_never_reaches_outside_its_folder() {
        let d = scratch("escape");
        fs::create_dir_all(d.join("inner")).expect("dir");
        fs::write(d.join("outside.txt"), "keep").expect("file");
        fs::write(d.join("inner").join("sub.txt"), "keep").expect("file");
        let m = r#"{"format":"stampede-report/1","command":"run","version":"0","files":["../outside.txt","inner","/etc/hostname","..","inner/sub.txt"]}"#;
        fs::write(d.join("inner").join(MANIFEST), m).expect("manifest");
        ReportDir::open(&d.join("inner"), "run").expect("open");
        assert!(d.join("outside.txt").exists());
        assert!(d.join("inner").join("sub.txt").exists());
        fs::remove_dir_all(&d).expect("clean");
    }

    #[test]
    fn a_foreign_manifest_file_stops_the_command() {
        let d = scratch("foreign");
        fs::create_dir_all(&d).expect("dir");
        fs::write(d.join(MANIFEST), "{\"something\": \"else\"}").expect("file");
        let e = ReportDir::open(&d, "run").expect_err("refused");
        assert!(e.to_string().contains("not a stampede report manifest"), "{e}");
        assert_eq!(fs::read_to_string(d.join(MANIFEST)).expect("kept"), "{\"something\": \"else\"}");
        fs::remove_dir_all(&d).expect("clean");
    }
}
