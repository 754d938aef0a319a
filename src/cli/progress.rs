//! A progress bar on stderr for work that takes more than a moment.
//!
//! indicatif hides the bar by itself when stderr is not a terminal (CI logs,
//! pipes); `--quiet` hides it too.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar for `len` steps of known count.
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    styled(Some(len), style, what, quiet)
}

/// A counter for work whose size is not known up front (a bisection).
pub fn counter(what: &str, unit: &str, quiet: bool) -> ProgressBar {
    let style = ProgressStyle::with_template(&format!("{{prefix}} {{spinner}} {{pos}} {unit} {{elapsed_precise}}"))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    styled(None, style, what, quiet)
}

fn styled(len: Option<u64>, style: ProgressStyle, what: &str, quiet: bool) -> ProgressBar {
    let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let pb = ProgressBar::with_draw_target(len, target);
    pb.set_style(style);
    pb.set_prefix(what.to_string());
    pb
}
