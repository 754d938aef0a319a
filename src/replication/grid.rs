//! The parameter grid of a sweep: `--vary KEY=V1,V2,...` or `--vary KEY=A..B:STEP`.
//!
//! Each value becomes a `--set KEY=VALUE`, so every grid point is a scenario
//! validated like any file. Ranges are inclusive, their end must lie on a step,
//! and they work on integers (`8..24:4`, step 1 by default), durations
//! (`30s..3m:30s`) and plain numbers (`0.5..0.9:0.1`).

use crate::scenario::Override;
use crate::scenario::units::parse_duration;
use crate::time::SimDuration;

/// One value of an axis.
#[derive(Clone, Debug)]
pub struct Level {
    /// As it goes into `--set` (and into tables and charts).
    pub text: String,
    /// Its position on a numeric axis (seconds for durations), if it has one.
    pub number: Option<f64>,
    pub set: Override,
}

/// One varied key and its values.
#[derive(Clone, Debug)]
pub struct Axis {
    pub key: String,
    pub levels: Vec<Level>,
    /// The `--vary` argument as given.
    pub spec: String,
}

/// Most values one axis may have (a typo like `1..100000` would otherwise run for hours).
pub const MAX_LEVELS: usize = 1000;

/// Why a `--vary` grid or a `--tune` axis cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("a sweep needs at least one --vary KEY=VALUES")]
    NoAxis,
    /// One axis specification is malformed (`problem` says how).
    #[error("`{spec}`: {problem}")]
    Axis { spec: String, problem: String },
    /// A value that is no valid override (`flag` is `--vary` or `--tune`).
    #[error("{flag} {source}")]
    Value { flag: &'static str, source: crate::scenario::OverrideSyntax },
    #[error("`{0}` is varied twice")]
    Twice(String),
    /// More grid points than [`MAX_CELLS`](crate::scenario::limits::MAX_CELLS) runs.
    #[error(
        "the grid has {} points ({}), already more than the limit of {} runs in all (points × strategies × seeds)",
        points.map_or("too many".into(), |p| p.to_string()),
        sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" × "),
        crate::scenario::limits::MAX_CELLS
    )]
    TooLarge { points: Option<usize>, sizes: Vec<usize> },
}

impl Axis {
    /// Parses a `--vary` specification.
    pub fn parse(spec: &str) -> Result<Axis, GridError> {
        Axis::parse_as(spec, "--vary")
    }

    /// Parses a specification given with `flag` (`--vary` or `--tune`), which
    /// messages about its values name.
    pub fn parse_as(spec: &str, flag: &'static str) -> Result<Axis, GridError> {
        let bad = |problem: String| GridError::Axis { spec: spec.to_string(), problem };
        let Some((key, values)) = spec.split_once('=') else {
            return Err(bad("expected KEY=V1,V2,... or KEY=A..B:STEP".into()));
        };
        let (key, values) = (key.trim(), values.trim());
        // Seeds are replications shared by every point, drawn before the
        // grid: a seed axis would label identical runs as different points.
        if key == "scenario.seed" {
            return Err(bad(format!(
                "the seed is not a {flag} key: every value runs the same seeds (scenario.seed, +1, …); \
                 choose how many with --seeds and where they start with --set scenario.seed=S"
            )));
        }
        let texts = if values.contains("..") {
            range(values).map_err(bad)?
        } else {
            values.split(',').map(|v| v.trim().to_string()).collect()
        };
        if texts.iter().any(String::is_empty) {
            return Err(bad("empty value in the list".into()));
        }
        if texts.len() > MAX_LEVELS {
            return Err(bad(format!("{} values; at most {MAX_LEVELS} per key", texts.len())));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = texts.iter().find(|t| !seen.insert(t.as_str())) {
            return Err(bad(format!("the value `{dup}` is listed twice")));
        }
        let levels = texts
            .into_iter()
            .map(|text| {
                let mut set: Override =
                    format!("{key}={text}").parse().map_err(|source| GridError::Value { flag, source })?;
                set.flag = flag;
                let number =
                    text.parse::<f64>().ok().or_else(|| parse_duration(&text).ok().map(SimDuration::as_secs_f64));
                Ok(Level { text, number, set })
            })
            .collect::<Result<Vec<_>, GridError>>()?;
        Ok(Axis { key: key.to_string(), levels, spec: spec.to_string() })
    }

    /// True when every level sits on a numeric axis.
    pub fn numeric(&self) -> bool {
        self.levels.iter().all(|l| l.number.is_some())
    }
}

/// Expands `A..B` or `A..B:STEP` into value texts.
fn range(text: &str) -> Result<Vec<String>, String> {
    let (span, step) = match text.split_once(':') {
        Some((s, st)) => (s, Some(st.trim())),
        None => (text, None),
    };
    let (a, b) = span.split_once("..").ok_or("expected A..B")?;
    let (a, b) = (a.trim(), b.trim());
    // Integer ends with an integer step (or none); a decimal step makes a decimal range.
    let int_step = step.map_or(Some(1), |s| s.parse::<i64>().ok());
    if let (Ok(lo), Ok(hi), Some(st)) = (a.parse::<i64>(), b.parse::<i64>(), int_step) {
        if st <= 0 {
            return Err("the step must be positive".into());
        }
        if hi < lo {
            return Err(format!("{hi} is below {lo}"));
        }
        let st = st.unsigned_abs();
        let n = steps_to_end(u128::from(hi.abs_diff(lo)), u128::from(st), b, &|x| x.to_string())? as u64;
        return Ok((0..=n).map(|i| (i128::from(lo) + i128::from(i * st)).to_string()).collect());
    }
    if let (Ok(lo), Ok(hi)) = (parse_duration(a), parse_duration(b)) {
        let st = parse_duration(step.ok_or("a duration range needs a step, e.g. 30s..3m:30s")?)
            .map_err(|e| e.to_string())?;
        if st.is_zero() {
            return Err("the step must be positive".into());
        }
        if hi < lo {
            return Err(format!("{b} is below {a}"));
        }
        let show = |ns: u128| SimDuration::from_nanos(ns as u64).to_string();
        let n = steps_to_end(u128::from((hi - lo).as_nanos()), u128::from(st.as_nanos()), b, &show)?;
        return Ok((0..=n as u64).map(|i| show_duration(lo + st.saturating_mul(i))).collect());
    }
    if let (Ok(lo), Ok(hi)) = (a.parse::<f64>(), b.parse::<f64>()) {
        let st: f64 = step
            .ok_or("a decimal range needs a step, e.g. 0.5..0.9:0.1")?
            .parse()
            .map_err(|_| "the step is not a number")?;
        if st.is_nan() || st <= 0.0 {
            return Err("the step must be positive".into());
        }
        if hi < lo {
            return Err(format!("{b} is below {a}"));
        }
        let steps = (hi - lo) / st;
        let n = steps.round();
        if (steps - n).abs() > 1e-6 {
            return Err(format!("{b} is not a whole number of steps of {st} from {a}"));
        }
        if n >= MAX_LEVELS as f64 {
            return Err(format!("{} values; at most {MAX_LEVELS} per key", n + 1.0));
        }
        let n = n as u64;
        // Values from the index, not by accumulation, and rounded, so 0.1 steps stay clean.
        return Ok((0..=n).map(|i| format!("{}", ((lo + i as f64 * st) * 1e9).round() / 1e9)).collect());
    }
    Err(format!("`{a}` and `{b}` are not both integers, durations or numbers"))
}

/// The number of steps from a range's start to its end, checked before any
/// value is built: the end must lie on a step (else the range would silently
/// stop short of it), and the count must stay within [`MAX_LEVELS`].
/// `show` writes an amount in the range's unit.
fn steps_to_end(span: u128, step: u128, end: &str, show: &dyn Fn(u128) -> String) -> Result<u128, String> {
    if !span.is_multiple_of(step) {
        let below = span / step * step;
        return Err(format!(
            "{end} is not a whole number of steps from the start; the last value would be {} short of it",
            show(span - below)
        ));
    }
    let n = span / step;
    if n >= MAX_LEVELS as u128 {
        return Err(format!("{} values; at most {MAX_LEVELS} per key", n + 1));
    }
    Ok(n)
}

/// A duration as exact text: whole seconds ("90s"), else milliseconds, else nanoseconds.
fn show_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{ns}ns")
    }
}

/// The axes of a sweep and their product.
#[derive(Clone, Debug)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    pub fn parse(specs: &[String]) -> Result<Grid, GridError> {
        if specs.is_empty() {
            return Err(GridError::NoAxis);
        }
        let axes: Vec<Axis> = specs.iter().map(|s| Axis::parse(s)).collect::<Result<_, _>>()?;
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.key == a.key) {
                return Err(GridError::Twice(a.key.clone()));
            }
        }
        let sizes: Vec<usize> = axes.iter().map(|a| a.levels.len()).collect();
        let points = sizes.iter().try_fold(1usize, |n, &k| n.checked_mul(k));
        if points.is_none_or(|p| p > crate::scenario::limits::MAX_CELLS) {
            return Err(GridError::TooLarge { points, sizes });
        }
        Ok(Grid { axes })
    }

    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.levels.len()).product()
    }

    /// The level index on each axis of point `p` (the last axis varies fastest).
    pub fn coords(&self, mut p: usize) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            c[i] = p % a.levels.len();
            p /= a.levels.len();
        }
        c
    }

    /// The overrides that make point `p`.
    pub fn overrides(&self, p: usize) -> Vec<Override> {
        self.coords(p).iter().zip(&self.axes).map(|(&l, a)| a.levels[l].set.clone()).collect()
    }

    /// "key=value, key=value" for point `p`.
    pub fn label(&self, p: usize) -> String {
        self.coords(p)
            .iter()
            .zip(&self.axes)
            .map(|(&l, a)| format!("{}={}", a.key, a.levels[l].text))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(spec: &str) -> Vec<String> {
        Axis::parse(spec).expect(spec).levels.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn lists_and_ranges_of_every_kind() {
        assert_eq!(texts("pool.gpu.max_instances=8,16,32"), ["8", "16", "32"]);
        assert_eq!(texts("pool.gpu.max_instances=8..20:4"), ["8", "12", "16", "20"]);
        assert_eq!(texts("pool.gpu.slots=1..3"), ["1", "2", "3"]);
        assert_eq!(texts("proxy.first_byte_timeout=30s..2m:30s"), ["30s", "60s", "90s", "120s"]);
        assert_eq!(texts("pool.gpu.autoscaler.target=0.5..0.8:0.1"), ["0.5", "0.6", "0.7", "0.8"]);
        assert_eq!(texts("proxy.director=round_robin,random"), ["round_robin", "random"]);
    }

    #[test]
    fn numeric_positions_for_charts() {
        let a = Axis::parse("proxy.first_byte_timeout=30s,1m").expect("ok");
        assert_eq!(a.levels.iter().map(|l| l.number).collect::<Vec<_>>(), [Some(30.0), Some(60.0)]);
        assert!(!Axis::parse("proxy.director=random,round_robin").expect("ok").numeric());
    }

    #[test]
    fn the_grid_is_the_product_with_the_last_axis_fastest() {
        let g = Grid::parse(&["a.x=1,2".into(), "a.y=10,20,30".into()]).expect("ok");
        assert_eq!(g.points(), 6);
        assert_eq!(g.coords(4), [1, 1]);
        assert_eq!(g.label(4), "a.x=2, a.y=20");
    }

    #[test]
    fn bad_specs_are_explained() {
        for (spec, msg) in [
            ("pool.gpu.slots", "expected KEY=V1,V2"),
            ("pool.gpu.slots=1..5:0", "step must be positive"),
            ("pool.gpu.slots=5..1", "below"),
            ("proxy.first_byte_timeout=30s..2m", "needs a step"),
            ("pool.gpu.slots=1..x", "not both integers"),
            ("pool.gpu.slots=1,,2", "empty value"),
            ("pool.gpu.slots=1,1", "listed twice"),
            ("pool.gpu.slots=1..100000", "at most 1000"),
            ("pool.gpu.slots=1..2000000000", "at most 1000"),
            ("pool.gpu.slots=8..30:4", "not a whole number of steps"),
            ("proxy.first_byte_timeout=30s..100s:30s", "not a whole number of steps"),
            ("pool.a100.cold_start=1m..4m:100s", "would be 1m20s short of it"),
            ("pool.gpu.autoscaler.target=0.5..0.85:0.1", "not a whole number of steps"),
            ("pool.gpu.autoscaler.target=0..1000:0.1", "at most 1000"),
            ("scenario.seed=1,11,21", "the seed is not a --vary key"),
        ] {
            let e = Axis::parse(spec).expect_err(spec);
            assert!(matches!(&e, GridError::Axis { spec: s, .. } if s == spec), "{e:?}");
            assert!(e.to_string().contains(msg), "{spec}: {e}");
        }
        assert!(
            Grid::parse(&["a.x=1".into(), "a.x=2".into()]).expect_err("twice").to_string().contains("varied twice")
        );
        let big = ["a.x=1..1000", "a.y=1..1000", "a.z=1..1000"].map(String::from);
        let e = Grid::parse(&big).expect_err("1e9 points").to_string();
        assert!(
            e.contains("1000000000 points (1000 × 1000 × 1000), already more than the limit of 100000 runs"),
            "{e}"
        );
    }
}
