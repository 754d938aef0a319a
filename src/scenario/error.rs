//! Errors in scenario files: which file, which key, which line, what was expected.
//!
//! Every problem a user can write gets one of these, never a panic and never a
//! silent default. Validation collects all the problems it finds, so a file with
//! three mistakes is fixed in one round trip, not three.

use std::fmt;

/// One problem in a scenario file (or in a `--set` override).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `pool.gpu.min_instances` or `chaos[2].factor`.
    pub key: String,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": {}: {}", self.key, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// All the problems found in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

/// A strategy, swarm or tier name that the scenario does not define.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown {what} `{name}`; the scenario defines: {}{}",
    if defined.is_empty() { "none (give a swarm a `tier` to have tiers)".to_string() } else { defined.join(", ") },
    suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean `{s}`?)"))
)]
pub struct UnknownName {
    /// "strategy", "swarm" or "tier".
    pub what: &'static str,
    pub name: String,
    pub defined: Vec<String>,
    pub suggestion: Option<String>,
}

impl ScenarioErrors {
    pub fn first(&self) -> Option<&ScenarioError> {
        self.0.first()
    }
}

pub use crate::suggest::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_key_and_help() {
        let e = ScenarioError {
            file: "s.toml".into(),
            line: Some(12),
            column: Some(1),
            key: "proxy.frist_byte_timeout".into(),
            message: "unknown key".into(),
            help: Some("did you mean `first_byte_timeout`?".into()),
        };
        assert_eq!(
            e.to_string(),
            "s.toml:12:1: proxy.frist_byte_timeout: unknown key\n  help: did you mean `first_byte_timeout`?"
        );
    }
}
