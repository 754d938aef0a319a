//! The `stampede` command line.
//!
//! Arguments are parsed by clap into [`Cli`], then each command loads and
//! validates its inputs before doing any work. Errors are printed with their
//! whole chain and map to documented exit codes (docs/cli.md):
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | an SLO threshold failed (run), no strategy met them all (compare), or no value in the range did (plan) |
//! | 2 | bad input: usage, scenario file, override, output path |
//! | 3 | the machine failed the run: a port could not be bound, a load target refused connections |

// The argument structs' doc comments are clap's --help text, written for a
// terminal: [proxy] is a TOML section and <class> a placeholder, not a
// markdown link or an HTML tag.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links, rustdoc::invalid_html_tags)]

mod compare;
mod docs;
mod load;
mod output;
mod plan;
mod progress;
mod run;
mod serve;
mod sweep;
mod validate;
mod vcl;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
pub use output::OutputArgs;

/// Exit code when an SLO threshold failed.
pub const EXIT_SLO: u8 = 1;
/// Exit code for bad input or usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the machine failed the run (a port could not be bound).
pub const EXIT_RUNTIME: u8 = 3;
/// Exit code when Ctrl-C stopped a live run early (its reports are written).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "stampede",
    version,
    about = "Simulate swarms of clients, a Varnish-like proxy and an autoscaled GPU pool; measure 503s and completion times",
    long_about = None,
    after_help = "Exit codes: 0 ok, 1 an SLO threshold failed, 2 bad input or usage, 3 the machine failed the run (a port, a target), 130 Ctrl-C stopped a live run (what ran is reported).\nDocs: `stampede docs` lists them; `stampede docs cli` prints every command and flag."
)]
pub struct Cli {
    /// Override a scenario key, checked like the file: --set proxy.first_byte_timeout=90s (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<crate::scenario::Override>,
    /// Run scenarios estimated at more events than the documented limit (runs may take long).
    #[arg(long = "no-limits", global = true)]
    pub no_limits: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate one scenario with one seed and report.
    Run(RunArgs),
    /// Run every strategy on the same seeds and compare them with statistics.
    Compare(CompareArgs),
    /// Run a grid of parameter values × strategies × seeds (optionally one shard of it).
    Sweep(SweepArgs),
    /// Combine the part files of a sharded sweep, or of a sharded load, into its results.
    Merge(MergeArgs),
    /// Find the smallest value of a key that meets every SLO, and what it costs.
    Plan(PlanArgs),
    /// Check scenario files without running them.
    Validate {
        /// Scenario files to check.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Serve a scenario's parts as real HTTP servers (see docs/live.md).
    #[command(subcommand)]
    Serve(ServeCommand),
    /// Send the scenario's client swarms as real HTTP load to URLs you name (see docs/live.md).
    Load(LoadArgs),
    /// Write the scenario's proxy as Varnish 7 VCL, one backend per instance.
    Vcl(VclArgs),
    /// Turn an access log (combined format, varnishncsa's default) into a scenario fragment that replays it.
    Import(ImportArgs),
    /// Print the JSON Schema of the scenario format (for editors).
    Schema,
    /// Print a document (cli, scenario-format, metrics, …); without a topic, list them.
    Docs {
        /// The document to print.
        topic: Option<String>,
    },
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Seed for every random stream (default: the file's scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Make every swarm use this strategy.
    #[arg(long)]
    pub strategy: Option<String>,
    /// A threshold such as "rate_503<0.01" (repeatable; adds to the file's [slo]); one not met exits 1.
    #[arg(long, value_name = "METRIC<VALUE")]
    pub slo: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--engine` and `--time-scale`, for every command that runs scenarios.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct EngineArgs {
    /// What runs the scenario: the simulator, or real HTTP servers and clients on loopback.
    #[arg(long, value_enum, default_value_t = Engine::Sim)]
    pub engine: Engine,
    /// Live engine: simulated seconds per real second (0.01 to 1000; default 1).
    #[arg(long, value_name = "F", value_parser = time_scale)]
    pub time_scale: Option<f64>,
}

impl EngineArgs {
    pub fn runner(&self) -> Result<crate::replication::Runner, Failure> {
        use crate::replication::Runner;
        match (self.engine, self.time_scale) {
            (Engine::Sim, Some(_)) => Err(Failure::usage("--time-scale applies to --engine live only")),
            (Engine::Sim, None) => Ok(Runner::Sim),
            (Engine::Live, scale) => Ok(Runner::Live { time_scale: scale.unwrap_or(1.0) }),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The scenario file (TOML): its swarms, classes and strategies.
    pub scenario: PathBuf,
    /// Where every swarm sends (http://HOST:PORT[/BASE]); a class's requests go to BASE/<class>.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Where one swarm sends instead: NAME=URL (repeatable).
    #[arg(long = "swarm", value_name = "NAME=URL")]
    pub swarms: Vec<String>,
    /// Seed for every random stream (default: the file's scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Make every swarm use this strategy.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Simulated seconds per real second (0.01 to 1000; default 1): the scenario's times run this much faster.
    #[arg(long, value_name = "F", value_parser = time_scale, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Send only shard I of N of every swarm's arrivals and write a part file (combine with `stampede merge`).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Threads sending at once, each with its own connections and its part of the arrivals (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The access log: combined or common log format (Apache, nginx, varnishncsa's default); "-" reads standard input.
    pub log: PathBuf,
    /// The width of one step of the rate profile.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = real_duration)]
    pub window: std::time::Duration,
    /// Write the fragment here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct VclArgs {
    /// The scenario file (TOML): its [proxy] section, classes and pools.
    pub scenario: PathBuf,
    /// A backend instance: [POOL=]HOST:PORT (repeat for each; default: the ports `serve backend` binds from 127.0.0.1:8080).
    #[arg(long = "backend", value_name = "[POOL=]HOST:PORT")]
    pub backends: Vec<String>,
    /// Divide every duration by F, to front `serve backend --time-scale F`.
    #[arg(long, value_name = "F", value_parser = time_scale, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Write the VCL here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `serve` serves.
#[derive(Subcommand, Debug)]
pub enum ServeCommand {
    /// The GPU pools: one HTTP port per instance up to max_instances, plus / and /metrics.
    Backend(ServeBackendArgs),
    /// The Varnish-like proxy in front of backends you name, plus / and /metrics.
    Proxy(ServeProxyArgs),
}

#[derive(clap::Args, Debug)]
pub struct ServeProxyArgs {
    /// The scenario file (TOML): its [proxy] section, classes and pools.
    pub scenario: PathBuf,
    /// A backend instance: [POOL=]HOST:PORT (POOL may be left out when the scenario has one pool). Repeat for each.
    #[arg(long = "backend", value_name = "[POOL=]HOST:PORT", required = true)]
    pub backends: Vec<String>,
    /// Where the proxy listens (clients, / and /metrics).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:6081", value_parser = serve::parse_listen)]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub common: ServeArgs,
}

#[derive(clap::Args, Debug)]
pub struct ServeBackendArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Where / and /metrics listen; instance ports follow it (port + 1, + 2, ...), or are the OS's choice with port 0.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080", value_parser = serve::parse_listen)]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub common: ServeArgs,
}

/// A name from a comma-separated list, without the spaces around it
/// (`--strategies "a, b"`).
fn trimmed(s: &str) -> Result<String, String> {
    Ok(s.trim().to_string())
}

/// What every `serve` command takes.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Simulated seconds per real second (0.01 to 1000): timeouts, service times and probes run this much faster.
    #[arg(long, value_name = "F", value_parser = time_scale, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Seed for the random draws the served part makes itself (default: the file's scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Open connections per port; past it a new connection is closed at once.
    #[arg(long, value_name = "N", value_parser = at_least(1), default_value_t = 4096)]
    pub max_connections: u32,
    /// A client must send its request head within this real time, or its connection is closed.
    #[arg(long, value_name = "DURATION", value_parser = real_duration, default_value = "10s")]
    pub header_timeout: std::time::Duration,
    /// The most GPU work (simulated) a request may ask for in x-stampede-work-us; above it, 400.
    #[arg(long, value_name = "DURATION", value_parser = sim_duration, default_value = "1h")]
    pub max_work: crate::time::SimDuration,
}

/// A span of simulated time, above zero and within what the histograms record.
fn sim_duration(s: &str) -> Result<crate::time::SimDuration, String> {
    let d = crate::units::parse_duration(s).map_err(|e| e.to_string())?;
    let top = crate::scenario::limits::histogram_range();
    if d.as_nanos() == 0 {
        return Err("must be above zero".to_string());
    }
    if d > top {
        return Err(format!(
            "is above {}, the longest duration stampede records",
            crate::time::format_secs(top.as_secs_f64())
        ));
    }
    Ok(d)
}

/// A span of real time, in the scenario format's units (`10s`, `500ms`), above zero.
fn real_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = crate::units::parse_duration(s).map_err(|e| e.to_string())?;
    if d.as_nanos() == 0 {
        return Err("must be above zero".to_string());
    }
    Ok(std::time::Duration::from_nanos(d.as_nanos()))
}

/// The engine behind `run`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Discrete-event simulation: fast and reproducible to the bit.
    Sim,
    /// The same models as HTTP/1.1 servers and clients on 127.0.0.1, in real time.
    Live,
}

fn time_scale(s: &str) -> Result<f64, String> {
    use crate::live::{MAX_TIME_SCALE, MIN_TIME_SCALE};
    match s.parse::<f64>() {
        Ok(f) if (MIN_TIME_SCALE..=MAX_TIME_SCALE).contains(&f) => Ok(f),
        Ok(f) => Err(format!("must be between {MIN_TIME_SCALE} and {MAX_TIME_SCALE}, got {f}")),
        Err(e) => Err(format!("expected a number: {e}")),
    }
}

/// Whose requests a comparison's metrics and scores cover.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Score {
    /// The swarms that take the compared strategy (`--swarms`).
    Compared,
    /// Every swarm.
    All,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Strategies to compare, comma-separated (default: [compare] or every strategy in the file).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...", value_parser = trimmed)]
    pub strategies: Option<Vec<String>>,
    /// Seeds per strategy (default: [compare] seeds, else 10). Seeds are scenario.seed, +1, +2, ...
    #[arg(long, value_name = "N", value_parser = seeds)]
    pub seeds: Option<u32>,
    /// Threads to run on (default: every core). Results do not depend on it.
    #[arg(long, value_name = "J", value_parser = at_least(1))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// The strategy differences are measured against (default: [compare] baseline if compared, else the first).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Swarms that take the compared strategy, comma-separated (default: [compare] swarms, else all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...", value_parser = trimmed)]
    pub swarms: Option<Vec<String>>,
    /// Whose requests metrics and scores cover: the swarms that take the strategy, or all.
    #[arg(long, value_enum, default_value_t = Score::Compared)]
    pub score: Score,
    /// Ranking objective, comma-separated criteria such as "max bulk_success_rate,min completion_p99".
    #[arg(long, value_delimiter = ',', value_name = "CRITERIA")]
    pub objective: Option<Vec<String>>,
    /// Strategy whose capacity and 503-cause charts are drawn (default: the baseline).
    #[arg(long, value_name = "NAME")]
    pub detail: Option<String>,
    /// A threshold every strategy is judged against on its mean, e.g. "rate_503<0.01" (repeatable; adds to [slo]).
    #[arg(long, value_name = "METRIC<VALUE")]
    pub slo: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// A key and its values: KEY=V1,V2,... or KEY=A..B:STEP (repeatable; the grid is the product).
    #[arg(long, required = true, value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Strategies to run at every point, comma-separated (default: the file's own).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...", value_parser = trimmed)]
    pub strategies: Option<Vec<String>>,
    /// Swarms that take the strategy, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...", value_parser = trimmed)]
    pub swarms: Option<Vec<String>>,
    /// Whose requests metrics cover: the --swarms ones, or all.
    #[arg(long, value_enum, default_value_t = Score::Compared)]
    pub score: Score,
    /// Seeds per point and strategy (default 5). Every point uses the same seeds.
    #[arg(long, value_name = "N", value_parser = seeds)]
    pub seeds: Option<u32>,
    /// Metrics to report, comma-separated (default: the headline metrics).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...", value_parser = trimmed)]
    pub metrics: Option<Vec<String>>,
    /// Threads to run on (default: every core). Results do not depend on it.
    #[arg(long, value_name = "J", value_parser = at_least(1))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Run only shard I of N and write its part file (combine parts with `stampede merge`).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The key to size and its values: KEY=LOW..HIGH[:STEP] (integers, durations or numbers),
    /// or an increasing list KEY=V1,V2,…
    #[arg(long, required = true, value_name = "KEY=LOW..HIGH")]
    pub tune: String,
    /// A threshold to meet, e.g. "rate_503<0.01" or "completion_all_p99<120s" (repeatable; adds to [slo]).
    #[arg(long, value_name = "METRIC<VALUE")]
    pub slo: Vec<String>,
    /// Seeds per evaluated value (default 10).
    #[arg(long, value_name = "N", value_parser = seeds)]
    pub seeds: Option<u32>,
    /// Confidence of the one-sided bounds the decision uses (default 0.95).
    #[arg(long, value_name = "P")]
    pub confidence: Option<f64>,
    /// Make every swarm use this strategy.
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Threads to run on (default: every core). Results do not depend on it.
    #[arg(long, value_name = "J", value_parser = at_least(1))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The part files written by `stampede sweep --shard I/N` (or by `stampede load --shard I/N`).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A count with a floor: `--jobs 0` or `--seeds 1` is refused with the reason.
/// (Confidence intervals need two seeds; a run needs a thread.)
fn at_least(min: u32) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync + 'static {
    move |s| match s.parse::<u32>() {
        Ok(n) if n >= min => Ok(n),
        Ok(n) => Err(format!("must be at least {min}, got {n}")),
        Err(e) => Err(format!("expected a whole number: {e}")),
    }
}

/// `stampede schema`: the scenario format's JSON Schema on stdout.
fn schema() -> Result<u8, Failure> {
    let text = serde_json::to_string_pretty(&crate::scenario::schema::json_schema())
        .map_err(|e| Failure::usage(format!("cannot write the schema: {e}")))?;
    OutputArgs::default().human(|w| writeln!(w, "{text}"))?;
    Ok(0)
}

/// A seed count: at least 2 (intervals), at most the documented limit.
fn seeds(s: &str) -> Result<u32, String> {
    let n = s.parse::<u64>().map_err(|e| format!("expected a whole number: {e}"))?;
    if n < 2 {
        return Err(format!("must be at least 2, got {n}"));
    }
    crate::scenario::limits::check_seeds("--seeds", n).map_err(|e| e.to_string())?;
    Ok(n as u32)
}

/// What every command takes besides its own flags.
#[derive(Clone, Copy, Debug)]
pub struct Global<'a> {
    pub sets: &'a [crate::scenario::Override],
    pub no_limits: bool,
}

impl Global<'_> {
    /// Loads a scenario file as every command does: overrides applied, the
    /// event estimate checked (unless `--no-limits`).
    fn load(&self, path: &std::path::Path) -> Result<crate::scenario::Scenario, Failure> {
        let sc = crate::scenario::Scenario::load_with(path, self.sets)?;
        self.check(&sc)?;
        Ok(sc)
    }

    /// Reads a scenario file's text (sweep and plan parse it again per point).
    fn read(&self, path: &std::path::Path) -> Result<String, Failure> {
        Ok(crate::scenario::read_text(path)?)
    }

    /// The event estimate of one run, unless `--no-limits`.
    fn check(&self, sc: &crate::scenario::Scenario) -> Result<(), Failure> {
        if self.no_limits { Ok(()) } else { Ok(sc.check_events()?) }
    }
}

/// Prints a scenario's warnings on stderr (unless `quiet`).
fn warn(sc: &crate::scenario::Scenario, quiet: bool) {
    if quiet {
        return;
    }
    for w in &sc.warnings {
        for (i, line) in w.to_string().lines().enumerate() {
            if i == 0 {
                say!("warning: {line}");
            } else {
                say!("{line}");
            }
        }
    }
}

/// The thresholds given with `--slo` (they add to the file's `[slo]`); a
/// per-swarm or per-tier metric must name one of the scenario's.
fn inline_slos(
    sc: &crate::scenario::Scenario,
    args: &[String],
) -> Result<Vec<crate::criteria::slo::Threshold>, Failure> {
    args.iter()
        .map(|s| {
            let t = crate::criteria::slo::parse_inline(s).map_err(|e| Failure::usage(format!("--slo {e}")))?;
            sc.check_metric(t.metric).map_err(|e| Failure::usage(format!("--slo {s}: {e}")))?;
            sc.produces(t.metric).map_err(|e| Failure::usage(format!("--slo {s}: {e}")))?;
            Ok(t)
        })
        .collect()
}

/// The threads to run on: `--jobs`, else every core.
fn jobs(arg: Option<u32>) -> usize {
    arg.map_or_else(crate::parallel::default_jobs, |j| j as usize)
}

/// Waits for Ctrl-C or SIGTERM (see [`crate::live::stop_signal`]).
pub async fn ctrl_c() {
    crate::live::stop_signal().await;
}

/// A live run that Ctrl-C stopped early: says so (unless quiet) and cuts
/// `sc` to the time that ran, so that reports and charts cover that time.
pub fn interrupted(sc: &mut crate::scenario::Scenario, run: &crate::engine::Run, quiet: bool) -> bool {
    let s = &run.summary;
    if !s.engine.interrupted {
        return false;
    }
    if !quiet {
        let what = if s.duration_s <= s.warmup_s {
            "still in the warmup, so nothing was measured"
        } else {
            "the reports cover the time that ran"
        };
        say!(
            "interrupted at {} of {}: {what}",
            crate::time::format_secs(s.duration_s),
            crate::time::format_secs(sc.duration.as_secs_f64())
        );
    }
    *sc = sc.cut(crate::time::SimDuration::from_secs_f64(s.duration_s));
    true
}

/// An error that ends the program with a given exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { code: EXIT_USAGE, message: message.into() }
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Failure { code: EXIT_RUNTIME, message: message.into() }
    }
}

/// Every error of compare, sweep and plan is bad input: exit code 2.
impl From<crate::replication::Error> for Failure {
    fn from(e: crate::replication::Error) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<crate::scenario::ScenarioErrors> for Failure {
    fn from(e: crate::scenario::ScenarioErrors) -> Self {
        Failure::usage(e.to_string())
    }
}

/// Runs the command line; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let g = Global { sets: &cli.set, no_limits: cli.no_limits };
    let result = match scenario_flags_unused(&cli) {
        Some(f) => Err(f),
        None => dispatch(cli.command, g),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            for (i, line) in f.message.lines().enumerate() {
                if i == 0 {
                    say!("error: {line}");
                } else {
                    say!("{line}");
                }
            }
            ExitCode::from(f.code)
        }
    }
}

/// `--set` and `--no-limits` are global (they may go anywhere on the line),
/// but only commands that read a scenario file use them: elsewhere they are
/// refused rather than silently ignored.
fn scenario_flags_unused(cli: &Cli) -> Option<Failure> {
    let command = match cli.command {
        Command::Merge(_) => "merge",
        Command::Import(_) => "import",
        Command::Schema => "schema",
        Command::Docs { .. } => "docs",
        Command::Completions { .. } => "completions",
        _ => return None,
    };
    let flag = match (cli.set.first(), cli.no_limits) {
        (Some(o), _) => o.to_string(),
        (None, true) => "--no-limits".to_string(),
        (None, false) => return None,
    };
    // Merge's parts carry their scenario, which a change would break.
    let why = if command == "merge" { " (the parts carry their scenario)" } else { "" };
    Some(Failure::usage(format!("{flag}: `{command}` reads no scenario file{why}, so there is nothing to change")))
}

fn dispatch(command: Command, g: Global<'_>) -> Result<u8, Failure> {
    match command {
        Command::Run(args) => run::run(&args, g),
        Command::Compare(args) => compare::compare(&args, g),
        Command::Sweep(args) => sweep::sweep(&args, g),
        Command::Merge(args) => sweep::merge(&args),
        Command::Plan(args) => plan::plan(&args, g),
        Command::Validate { scenarios } => validate::validate(&scenarios, g),
        Command::Serve(ServeCommand::Backend(args)) => serve::backend(&args, g),
        Command::Serve(ServeCommand::Proxy(args)) => serve::proxy(&args, g),
        Command::Load(args) => load::load(&args, g),
        Command::Vcl(args) => vcl::vcl(&args, g),
        Command::Import(args) => vcl::import(&args),
        Command::Schema => schema(),
        Command::Docs { topic } => docs::docs(topic.as_deref()),
        Command::Completions { shell } => docs::completions(shell),
    }
}
