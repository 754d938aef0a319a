//! What a run is judged by: the named metrics ([`Metric`]), thresholds on
//! them ([`slo`]) and the objectives that rank strategies ([`objective`]).
//!
//! One place, so that `[slo]`, `--slo`, a comparison's objective, a sweep's
//! `--metrics` and the planner accept the same names with the same units, and
//! a typo gets the same did-you-mean everywhere. This layer sits just above the
//! leaves (units, formatting, suggestions): the scenario parses its `[slo]`
//! and `[compare]` sections with it, and everything that aggregates runs
//! reads metrics through it.

pub mod metric;
pub mod objective;
pub mod show;
pub mod slo;

pub use metric::{Better, Metric, Unit, UnknownMetric};

/// Why a threshold or an objective cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error(transparent)]
    UnknownMetric(#[from] UnknownMetric),
    #[error("condition `{0}` must start with <, <=, > or >= (e.g. \"< 0.01\")")]
    NoComparison(String),
    /// The limit is not a value of the metric's unit (the message says why).
    #[error("{0}")]
    Limit(String),
    #[error("`{0}` is not a threshold; expected e.g. \"rate_503<0.01\" or \"completion_p99<120s\"")]
    NotAThreshold(String),
    #[error("`{text}`: expected `max <metric>` or `min <metric>`, not `{word}`")]
    Direction { text: String, word: String },
    #[error("an objective needs at least one criterion")]
    EmptyObjective,
}
