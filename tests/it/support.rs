//! Helpers shared by the integration tests.

use std::collections::BTreeMap;

use stampede::engine::{RequestId, Run, Trace, simulate};
use stampede::scenario::Scenario;
use stampede::time::SimTime;

/// Parses scenario text, failing the test with the full error on bad input.
pub fn scenario(toml: &str) -> Scenario {
    Scenario::parse(toml, "test.toml").unwrap_or_else(|e| panic!("test scenario is invalid:\n{e}"))
}

pub fn run(toml: &str, seed: u64) -> Run {
    simulate(&scenario(toml), seed).expect("the run finishes")
}

/// Loads a file from scenarios/.
pub fn shipped(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the `stampede` binary from the project directory.
pub fn stampede(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// An M/M/c scenario: c slots, arrival rate `lambda`/s, service mean 1 s,
/// `queue_limit` places beyond the slots (None = unlimited).
pub fn mmc(c: u32, lambda: f64, queue_limit: Option<u32>, hours: f64) -> String {
    let queue = queue_limit.map_or(String::new(), |q| format!("queue_limit = {q}"));
    format!(
        r#"
[scenario]
name = "mmc"
duration = "{hours}h"
warmup = "5m"
window = "{hours}h"

[proxy]
connect_timeout = "off"
first_byte_timeout = "off"
between_bytes_timeout = "off"

[pool.gpu]
slots = {c}
{queue}

[class.job]
pool = "gpu"
service = {{ dist = "exponential", mean = "1s" }}

[swarm.poisson]
class = "job"
arrivals = {{ process = "poisson", rate = "{lambda}/s" }}
"#
    )
}

/// A fresh, empty directory under the system temp dir, unique to this test run.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stampede-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The text of a process's stderr.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A trace of when each logical request sent each of its attempts.
#[derive(Default)]
pub struct AttemptTimes(pub BTreeMap<RequestId, Vec<SimTime>>);

impl Trace for AttemptTimes {
    fn attempt_sent(&mut self, id: RequestId, attempt: u32, at: SimTime) {
        let v = self.0.entry(id).or_default();
        assert_eq!(v.len() + 1, attempt as usize, "attempts are numbered in order");
        v.push(at);
    }
}

impl AttemptTimes {
    /// Per request, the gaps in seconds between consecutive attempts.
    pub fn gaps(&self) -> Vec<Vec<f64>> {
        self.0.values().map(|t| t.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect()).collect()
    }
}

/// The mean of independent replications and its standard error.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
    pub n: usize,
}

pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len();
    assert!(n >= 2, "need at least two replications");
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate { mean, se: (var / n as f64).sqrt(), n }
}

/// Two-sided 99.9% Student t quantile (t at 0.9995) for `df` degrees of freedom.
pub fn t999(df: usize) -> f64 {
    const T: [f64; 20] = [
        636.619, 31.599, 12.924, 8.610, 6.869, 5.959, 5.408, 5.041, 4.781, 4.587, 4.437, 4.318, 4.221, 4.140, 4.073,
        4.015, 3.965, 3.922, 3.883, 3.850,
    ];
    T[df.clamp(1, T.len()) - 1]
}

impl Estimate {
    /// Half-width of the 99.9% confidence interval.
    pub fn half_width(&self) -> f64 {
        t999(self.n - 1) * self.se
    }

    /// Asserts that `expected` lies in the 99.9% confidence interval, and that
    /// the interval is narrower than `max_rel` of the expected value — so the
    /// test keeps the power to catch a wrong model.
    pub fn assert_matches(&self, expected: f64, max_rel: f64, what: &str) {
        let hw = self.half_width();
        assert!(
            (self.mean - expected).abs() <= hw,
            "{what}: measured {:.6} ± {:.6} (99.9%, n = {}), theory {expected:.6}",
            self.mean,
            hw,
            self.n
        );
        assert!(
            hw <= max_rel * expected,
            "{what}: the interval ±{hw:.6} is wider than {:.1}% of {expected:.6}; the test would be too weak",
            max_rel * 100.0
        );
    }
}

/// Runs `toml` with seeds 1..=reps.
pub fn replications(toml: &str, reps: u64) -> Vec<Run> {
    let sc = scenario(toml);
    (1..=reps).map(|seed| simulate(&sc, seed).expect("the run finishes")).collect()
}

/// The estimate of `metric` over replications.
pub fn over(runs: &[Run], metric: impl Fn(&Run) -> f64) -> Estimate {
    estimate(&runs.iter().map(metric).collect::<Vec<_>>())
}

/// Erlang B by the stable recursion B(0) = 1, B(n) = a·B(n−1) / (n + a·B(n−1)).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, n| a * b / (f64::from(n) + a * b))
}

/// Erlang C: probability of waiting in M/M/c (ρ < 1).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// Blocking probability of M/M/c/K (K places in all, in service plus waiting).
pub fn mmck_blocking(c: u32, k: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    let mut terms = Vec::new();
    let mut t = 1.0;
    for n in 0..=k {
        if n > 0 {
            t *= if n <= c { a / f64::from(n) } else { rho };
        }
        terms.push(t);
    }
    terms[k as usize] / terms.iter().sum::<f64>()
}

/// Erlang-A (M/M/c+M: c servers at rate μ = 1, Poisson arrivals λ = a,
/// exponential patience at rate θ while waiting): (P(wait > 0), P(abandon),
/// E[Wq]). The queue is the birth-death chain with death rate
/// min(n, c) + θ·max(n − c, 0) (Palm 1946; Garnett, Mandelbaum & Reiman,
/// "Designing a call center with impatient customers", MSOM 2002); the sum
/// is carried until its terms no longer change it. By Little's law and the
/// rate of abandonments θ·E[Q], P(abandon) = θ·E[Q] / λ and E[Wq] = E[Q] / λ.
pub fn erlang_a(c: u32, a: f64, theta: f64) -> (f64, f64, f64) {
    let (mut t, mut n) = (1.0, 0u32);
    let (mut total, mut waiting, mut queued) = (1.0, 0.0, 0.0);
    loop {
        n += 1;
        let death = f64::from(n.min(c)) + theta * f64::from(n.saturating_sub(c));
        t *= a / death;
        total += t;
        if n >= c {
            waiting += t; // an arrival that finds n ≥ c busy waits (PASTA)
        }
        if n > c {
            queued += t * f64::from(n - c);
        }
        if n > c && t < 1e-18 * total {
            break;
        }
    }
    // An arrival waits when it finds all c servers busy: states n ≥ c.
    let p_wait = waiting / total;
    let eq = queued / total;
    (p_wait, theta * eq / a, eq / a)
}

#[test]
fn the_formulas_reproduce_the_guides_reference_values() {
    let (wait, abandon, wq) = erlang_a(10, 9.0, 0.5);
    assert!((wait - 0.468942).abs() < 5e-7, "{wait}");
    assert!((abandon - 0.067012).abs() < 5e-7, "{abandon}");
    assert!((wq - 0.134023).abs() < 5e-7, "{wq}");
    assert!((erlang_b(10, 9.0) - 0.167963).abs() < 5e-7);
    assert!((erlang_b(1000, 950.0) - 3.649294e-3).abs() < 5e-9);
    assert!((erlang_c(10, 9.0) - 0.668732).abs() < 5e-7);
    assert!((mmck_blocking(10, 15, 9.0) - 0.061259).abs() < 5e-7);
}

/// A property-test runner with a fixed seed, so the suite is deterministic.
/// `STAMPEDE_FUZZ_CASES` raises the number of cases and `STAMPEDE_FUZZ_SEED`
/// picks another seed for longer runs (docs/architecture.md, Fuzzing).
pub fn fuzz_runner(default_cases: u32) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("STAMPEDE_FUZZ_CASES").map_or(default_cases, |c| c as u32);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let rng = match env("STAMPEDE_FUZZ_SEED") {
        Some(seed) => TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    };
    TestRunner::new_with_rng(config, rng)
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, chunk) in b.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&seed.wrapping_add(i as u64).to_le_bytes());
    }
    b
}
