//! Getting stampede: completions, the documents an installed binary carries,
//! and a Dockerfile whose build stage has every file the build reads.

use std::path::{Path, PathBuf};

use crate::support::{stampede, stderr};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completions_cover_every_command_for_each_shell() {
    let bash = stampede(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0), "{}", stderr(&bash));
    let script = stdout(&bash);
    for word in ["run", "compare", "sweep", "merge", "plan", "validate", "docs", "--vary", "--tune", "--out"] {
        assert!(script.contains(word), "the bash script lacks `{word}`");
    }
    assert!(stdout(&stampede(&["completions", "zsh"])).starts_with("#compdef stampede"));
    assert!(stdout(&stampede(&["completions", "fish"])).contains("complete -c stampede"));
    let bad = stampede(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("possible values"), "{}", stderr(&bad));
}

#[test]
fn help_points_to_documents_an_installed_binary_can_print() {
    let help = stdout(&stampede(&["--help"]));
    assert!(help.contains("stampede docs"), "{help}");
    assert!(!help.contains("docs/cli.md"), "an installed binary cannot reach the source tree: {help}");
    let cli = stampede(&["docs", "cli"]);
    assert_eq!(cli.status.code(), Some(0));
    assert_eq!(stdout(&cli), std::fs::read_to_string("docs/cli.md").expect("docs/cli.md"));
    let list = stdout(&stampede(&["docs"]));
    for t in ["cli", "scenario-format", "metrics", "models", "distributed"] {
        assert!(list.contains(t), "{list}");
    }
    let typo = stampede(&["docs", "metric"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(stderr(&typo).contains("did you mean `metrics`"), "{}", stderr(&typo));
}

/// Files a `.rs` file compiles in with include_str!/include_bytes!, relative to the repository.
fn includes(file: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let text = std::fs::read_to_string(file).expect("source");
    for marker in ["include_str!(\"", "include_bytes!(\""] {
        for part in text.split(marker).skip(1) {
            let rel = part.split('"').next().expect("a path");
            let abs = file.parent().expect("dir").join(rel);
            let abs = abs.canonicalize().unwrap_or_else(|e| panic!("{}: {rel}: {e}", file.display()));
            out.push(abs.strip_prefix(root).expect("inside the repository").to_path_buf());
        }
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_dockerfile_build_stage_copies_everything_the_build_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().expect("root");
    let docker = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let build_stage = docker.split("\nFROM ").nth(1).expect("a build stage after the first FROM");
    let copied: Vec<&str> = build_stage
        .lines()
        .filter_map(|l| l.strip_prefix("COPY "))
        .filter(|l| !l.starts_with("--from"))
        .flat_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w[..w.len() - 1].to_vec()
        })
        .collect();
    assert!(build_stage.contains("cargo build --release --locked --bin stampede"), "{build_stage}");
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut needed: Vec<PathBuf> = vec!["Cargo.toml".into(), "Cargo.lock".into(), "src".into(), "benches".into()];
    for f in &files {
        includes(f, &root, &mut needed);
    }
    for n in needed {
        let top = n.components().next().expect("a path").as_os_str().to_string_lossy().into_owned();
        assert!(copied.contains(&top.as_str()), "the build stage does not COPY `{top}` (needed for {})", n.display());
    }
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"), "the build context leaves target/ out");
}
