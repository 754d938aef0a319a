//! The capacity planner: the smallest value of one key that meets every SLO.
//!
//! The planner bisects over the values of the tuned key (an integer or
//! duration range). It evaluates the highest value first — if even that fails,
//! the SLOs cannot be met in the range — then the lowest, then halves the
//! interval between a failing and a passing value until they are neighbours.
//! This assumes that raising the key never makes an SLO worse (more instances,
//! more slots, a longer timeout); for keys where that is not true, use
//! `stampede sweep` (a range met at its lowest value but missed at its
//! highest is refused, saying so). A budget (`instance_seconds <` a limit)
//! is the exception the planner knows: it usually gets worse as capacity
//! rises, so the bisection runs on the other SLOs, and the values from its
//! answer upward are tried in turn until one also meets the budget.
//!
//! **Decision rule.** A candidate is run on N seeds. It meets a threshold
//! `metric < limit` when the one-sided upper confidence bound of the metric's
//! mean over the seeds (mean + t·s/√N, at the chosen confidence, 95% by
//! default) is below the limit; `>` thresholds use the lower bound. A metric
//! that is undefined in any seed (a p99 with no success) fails, as in every
//! command ([`crate::replication`]). So a recommendation meets the SLOs with
//! that confidence, not just on average.

pub mod erlang;
pub mod vcl;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::criteria::Metric;
use crate::criteria::slo::{Op, Threshold};
use crate::metrics::LatencyHist;
use crate::replication::grid::Axis;
use crate::replication::{Base, Error, Rule, Runner, Variant, aggregate, per_seed};
use crate::scenario::{Override, Scenario};
use crate::stats::{Interval, mean_ci};

/// Seeds per candidate when the command line does not say.
pub const DEFAULT_SEEDS: u32 = 10;

/// What to plan.
/// The highest `--confidence` a plan takes.
pub const MAX_CONFIDENCE: f64 = 0.9999;

/// A confidence as a percentage with the digits it has: 95%, 99.9%, 99.99%
/// (`{:.0}` printed 99.99% as 100%).
pub fn confidence_label(c: f64) -> String {
    let s = format!("{:.2}", c * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// `KEY=LOW..HIGH[:STEP]`.
    pub tune: String,
    pub slos: Vec<Threshold>,
    pub seeds: u32,
    pub confidence: f64,
    /// Make every swarm use this strategy.
    pub strategy: Option<String>,
    /// Skip the estimate of events per run (`--no-limits`).
    pub no_limits: bool,
}

/// One threshold, judged at one candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloCheck {
    pub threshold: String,
    pub metric: String,
    /// Mean and 95% interval over the seeds where the metric is defined,
    /// clipped to its range (None if undefined in every seed).
    pub value: Option<Interval>,
    /// The metric in each seed (null: undefined).
    #[serde(with = "crate::extended::option_vec")]
    pub per_seed: Vec<Option<f64>>,
    /// Seeds whose own value meets the threshold.
    pub seeds_met: usize,
    /// The one-sided bound the decision uses.
    pub bound: Option<f64>,
    pub passed: bool,
}

/// One evaluated value of the key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub value: String,
    pub number: f64,
    pub passed: bool,
    pub slos: Vec<SloCheck>,
    /// Instance-seconds paid, mean and 95% interval over seeds.
    pub cost: Option<Interval>,
    /// Instance-seconds paid in each seed.
    pub cost_per_seed: Vec<f64>,
    /// Cost in money (`pool.<name>.price_per_hour`), mean and 95% interval; null without prices.
    pub money: Option<Interval>,
    pub amplification: Option<Interval>,
    pub wasted_gpu_seconds: Option<Interval>,
}

/// `plan.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    pub scenario: String,
    pub version: String,
    pub key: String,
    /// Every value the key may take, in order.
    pub values: Vec<String>,
    pub confidence: f64,
    pub seeds: Vec<u64>,
    pub slos: Vec<String>,
    /// Candidates evaluated, in key order.
    pub evaluated: Vec<Candidate>,
    /// The smallest value meeting every SLO, if any in the range does.
    pub recommendation: Option<String>,
    pub verdict: String,
    pub theory: Option<erlang::Estimate>,
    /// Why the simulation and theory differ (or, without theory, why it has no answer).
    pub theory_notes: Vec<String>,
    pub timeouts: Option<vcl::Timeouts>,
}

/// One evaluation: the candidate and its runs' time to first byte and chunk gaps.
struct Evaluated {
    index: usize,
    candidate: Candidate,
    /// Meets every SLO but the budgets (see [`is_budget`]).
    capacity_passed: bool,
    first_byte: vcl::FirstByte,
    chunk_gap: LatencyHist,
}

/// A budget: an upper limit on instance-seconds, which may get worse as the
/// key rises. The bisection runs on the other SLOs; the budgets are checked
/// from its answer upward.
fn is_budget(t: &Threshold) -> bool {
    t.metric == Metric::InstanceSeconds && matches!(t.op, Op::Lt | Op::Le)
}

/// The scenario at one value of the key.
fn scenario_at(source: &Base<'_>, axis: &Axis, i: usize, strategy: Option<&str>) -> Result<Scenario, Error> {
    let v = Variant { overrides: vec![axis.levels[i].set.clone()], strategy, flag: "--strategy" };
    source.variant(&v, None)
}

/// Plans `req` for the scenario `text` (from `file`, with `sets` applied).
pub fn plan(
    text: &str,
    file: &str,
    sets: &[Override],
    req: &PlanRequest,
    runner: Runner,
    jobs: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<PlanResult, Error> {
    let jobs = runner.jobs(jobs);
    let axis = Axis::parse_as(&req.tune, "--tune").map_err(|e| Error::Usage(format!("--tune {e}")))?;
    // Bisection needs values in increasing order: a range, or a sorted list.
    let increasing = axis.levels.windows(2).all(|w| w[0].number < w[1].number);
    if axis.numeric() && axis.levels.len() < 2 {
        return Err(Error::Usage(format!(
            "--tune `{}` has one value; a plan bisects between at least two, e.g. pool.gpu.max_instances=4..64",
            req.tune
        )));
    }
    if !axis.numeric() || !increasing {
        return Err(Error::Usage(format!(
            "--tune `{}`: give increasing numbers or durations, e.g. the range pool.gpu.max_instances=4..64",
            req.tune
        )));
    }
    if req.slos.is_empty() {
        return Err(Error::Usage("nothing to plan for: give --slo \"metric<value\" or an [slo] section".into()));
    }
    if req.seeds < 2 {
        return Err(Error::Usage("--seeds must be at least 2 (the decision needs a confidence bound)".into()));
    }
    if !(0.5..=MAX_CONFIDENCE).contains(&req.confidence) {
        return Err(Error::Usage(format!(
            "--confidence must be in [0.5, {MAX_CONFIDENCE}], got {} (beyond 99.99% the t quantile over a few seeds \
             is so large that no bound means anything)",
            req.confidence
        )));
    }
    let source = Base { text, file, sets };
    let base = source.scenario().map_err(Error::Scenario)?;
    // Validate every value before simulating any.
    for i in 0..axis.levels.len() {
        let sc = scenario_at(&source, &axis, i, req.strategy.as_deref())?;
        if !req.no_limits {
            sc.check_events().map_err(Error::Scenario)?;
        }
    }
    let seeds = crate::replication::seeds(base.seed, req.seeds);
    let mut done: BTreeMap<usize, Evaluated> = BTreeMap::new();
    // (meets every SLO but the budgets, meets every SLO)
    let mut evaluate = |i: usize| -> Result<(bool, bool), Error> {
        if let Some(e) = done.get(&i) {
            return Ok((e.capacity_passed, e.candidate.passed));
        }
        let sc = scenario_at(&source, &axis, i, req.strategy.as_deref())?;
        let runs = crate::parallel::map(seeds.len(), jobs, |k| runner.run(&sc, seeds[k]), tick)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| Error::Failed { file: file.to_string(), source })?;
        let ev = judge(&sc, i, &axis, &runs, req);
        let passed = (ev.capacity_passed, ev.candidate.passed);
        done.insert(i, ev);
        Ok(passed)
    };
    let n = axis.levels.len();
    let smallest = if !evaluate(n - 1)?.0 {
        // Missed at the top but met at the bottom: some SLO gets worse as
        // the key rises, and a bisection would call it unattainable.
        if evaluate(0)?.0 {
            let worse: Vec<String> = done[&(n - 1)]
                .candidate
                .slos
                .iter()
                .zip(&req.slos)
                .filter(|(c, t)| !c.passed && !is_budget(t))
                .map(|(c, _)| c.threshold.clone())
                .collect();
            return Err(Error::Usage(format!(
                "{} = {} meets the SLOs but {} = {} misses {}: a plan assumes that raising {} never makes an SLO \
                 worse, so it cannot bisect here; run `stampede sweep` over the range to see where each SLO holds",
                axis.key,
                axis.levels[0].text,
                axis.key,
                axis.levels[n - 1].text,
                worse.join(", "),
                axis.key
            )));
        }
        None
    } else if evaluate(0)?.0 {
        Some(0)
    } else {
        let (mut lo, mut hi) = (0, n - 1);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if evaluate(mid)?.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    };
    // The budgets, from the smallest value meeting the rest upward: cost
    // need not grow with the key (with an autoscaler, more slots can mean
    // fewer instances), so each larger value is tried until one meets all.
    let mut recommendation = None;
    if let Some(s) = smallest {
        for i in s..n {
            if evaluate(i)?.1 {
                recommendation = Some(i);
                break;
            }
        }
    }
    let theory = erlang::estimate(&base, &axis.key, &req.slos);
    let rec = recommendation.and_then(|i| done.get(&i));
    let timeouts = match rec {
        None => None,
        Some(e) => {
            let sc = scenario_at(&source, &axis, e.index, req.strategy.as_deref())?;
            // The timeout hid the p99.9: the same seeds again without it.
            let uncut = if vcl::needs_uncut_measurement(&sc, &e.first_byte) {
                let mut off = sc.clone();
                off.proxy.first_byte_timeout = None;
                let runs = crate::parallel::map(seeds.len(), jobs, |k| runner.run(&off, seeds[k]), tick)
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| Error::Failed { file: format!("{file} (first_byte_timeout off)"), source })?;
                Some(first_byte_of(&off, &runs))
            } else {
                None
            };
            Some(vcl::recommend(
                &sc,
                &axis.key,
                &axis.levels[e.index].text,
                &e.first_byte,
                uncut.as_ref(),
                &e.chunk_gap,
            ))
        }
    };
    let theory_notes = match (&theory, rec) {
        (Ok(t), Some(e)) => explain(&base, t, e, &axis),
        (Ok(_), None) => Vec::new(),
        (Err(why), _) => vec![why.clone()],
    };
    let theory = theory.ok();
    let verdict = verdict(&axis, req, &done, recommendation, smallest);
    Ok(PlanResult {
        scenario: base.name.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        key: axis.key.clone(),
        values: axis.levels.iter().map(|l| l.text.clone()).collect(),
        confidence: req.confidence,
        seeds,
        slos: req.slos.iter().map(ToString::to_string).collect(),
        evaluated: done.values().map(|e| e.candidate.clone()).collect(),
        recommendation: recommendation.map(|i| axis.levels[i].text.clone()),
        verdict,
        theory,
        theory_notes,
        timeouts,
    })
}

/// Applies the decision rule to one candidate's runs.
fn judge(sc: &Scenario, index: usize, axis: &Axis, runs: &[crate::engine::Run], req: &PlanRequest) -> Evaluated {
    let values = |m: Metric| per_seed(runs.iter().map(|r| &r.summary), m);
    let interval = |m: Metric| aggregate(m, &values(m));
    let slos: Vec<SloCheck> = req
        .slos
        .iter()
        .map(|t| {
            let each = values(t.metric);
            // A percentile's values are histogram buckets: the bound covers them.
            let slack = crate::metrics::resolution(t.metric, &each);
            let j = t.judge(&each, Rule::Bound { confidence: req.confidence, slack });
            SloCheck {
                threshold: t.to_string(),
                metric: t.metric.to_string(),
                value: aggregate(t.metric, &each),
                seeds_met: t.seeds_meeting(&each),
                per_seed: each,
                bound: (!j.value.is_nan()).then_some(j.value),
                passed: j.passed,
            }
        })
        .collect();
    let mut chunk_gap = LatencyHist::default();
    for r in runs {
        chunk_gap.merge_from(&r.recorder.chunk_gap);
    }
    let level = &axis.levels[index];
    let capacity_passed = slos.iter().zip(&req.slos).all(|(s, t)| s.passed || is_budget(t));
    Evaluated {
        index,
        capacity_passed,
        candidate: Candidate {
            value: level.text.clone(),
            number: level.number.unwrap_or(index as f64),
            passed: slos.iter().all(|s| s.passed),
            slos,
            cost: interval(Metric::InstanceSeconds),
            cost_per_seed: runs.iter().map(|r| r.summary.gpu.instance_seconds).collect(),
            money: runs.iter().map(|r| r.summary.gpu.cost).collect::<Option<Vec<f64>>>().and_then(|xs| mean_ci(&xs)),
            amplification: interval(Metric::Amplification),
            wasted_gpu_seconds: interval(Metric::WastedGpuSeconds),
        },
        first_byte: first_byte_of(sc, runs),
        chunk_gap,
    }
}

/// Time to first byte over `runs`, with the fetches the first-byte timeout cut off.
fn first_byte_of(sc: &Scenario, runs: &[crate::engine::Run]) -> vcl::FirstByte {
    let mut f = vcl::FirstByte::default();
    let cause = crate::model::outcome::Cause::FirstByteTimeout;
    for r in runs {
        f.observed.merge_from(&r.recorder.first_byte);
        f.cut += r.recorder.totals.count(crate::model::outcome::Outcome::Status503(cause));
    }
    // VCL retries of first-byte timeouts hide all but an attempt's last fetch.
    f.cut_at_least = sc.proxy.retry_on.contains(crate::model::outcome::Outcome::Status503(cause));
    f
}

fn verdict(
    axis: &Axis,
    req: &PlanRequest,
    done: &BTreeMap<usize, Evaluated>,
    rec: Option<usize>,
    smallest: Option<usize>,
) -> String {
    let conf = confidence_label(req.confidence);
    if let (None, Some(i)) = (rec, smallest) {
        let c = &done[&i].candidate;
        let over: Vec<&str> = c.slos.iter().filter(|s| !s.passed).map(|s| s.threshold.as_str()).collect();
        let rest: Vec<&str> =
            c.slos.iter().zip(&req.slos).filter(|(_, t)| !is_budget(t)).map(|(s, _)| s.threshold.as_str()).collect();
        let which = if rest.is_empty() {
            "the lowest value tried".to_string()
        } else {
            format!("the smallest value that meets {}", rest.join(", "))
        };
        return format!(
            "Not attainable in the range: {} = {} is {which}, and it and every larger value miss {} at {conf} \
             confidence.",
            axis.key,
            axis.levels[i].text,
            over.join(", ")
        );
    }
    match rec {
        Some(i) => {
            let e = &done[&i];
            let money = e
                .candidate
                .money
                .map_or(String::new(), |m| format!(" ({})", crate::criteria::show::money_interval(&m)));
            let cost = e.candidate.cost.map_or(String::new(), |c| {
                format!(", costing {} instance-hours{money}", crate::criteria::show::interval("instance_seconds", &c))
            });
            // The smallest value is not always the cheapest: with an
            // autoscaler, more capacity at the start can end a backlog
            // sooner. Said only when cheaper seed by seed (the same seeds
            // run every value): a 95% interval of the paired difference below 0.
            let cheaper_by = |o: &Candidate| {
                let diffs: Vec<f64> =
                    o.cost_per_seed.iter().zip(&e.candidate.cost_per_seed).map(|(a, b)| a - b).collect();
                mean_ci(&diffs).filter(|d| d.hi < 0.0).map(|d| d.mean)
            };
            let cheaper = done
                .values()
                .filter(|o| o.candidate.passed && o.index != i)
                .filter_map(|o| Some((o, cheaper_by(&o.candidate)?)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(String::new(), |(o, d)| {
                    format!(
                        " {} = {} meets every SLO too and costs {:.1} instance-hours less over the same seeds.",
                        axis.key,
                        o.candidate.value,
                        -d / 3600.0
                    )
                });
            let below = if i == 0 {
                format!(
                    " It is the lowest value tried: a lower {} than {} may meet the SLOs too.",
                    axis.key, axis.levels[0].text
                )
            } else {
                format!(" {} = {} does not.", axis.key, axis.levels[i - 1].text)
            };
            format!(
                "{} = {} is the smallest value that meets every SLO with {conf} confidence over {} seeds{cost}.{below}{cheaper}",
                axis.key, axis.levels[i].text, req.seeds
            )
        }
        None => {
            let last = axis.levels.len() - 1;
            let failing: Vec<&str> =
                done[&last].candidate.slos.iter().filter(|s| !s.passed).map(|s| s.threshold.as_str()).collect();
            format!(
                "Not attainable in the range: even {} = {} misses {} at {conf} confidence.",
                axis.key,
                axis.levels[last].text,
                failing.join(", ")
            )
        }
    }
}

/// Why the simulation's answer differs from theory's, from what the scenario contains.
fn explain(sc: &Scenario, t: &erlang::Estimate, e: &Evaluated, axis: &Axis) -> Vec<String> {
    let key = axis.key.as_str();
    let sim = axis.levels[e.index].number.unwrap_or(0.0);
    let diff = sim - f64::from(t.value);
    // The lowest value tried may be above what the simulation needs: then
    // only a bound on the difference is known.
    let floor = e.index == 0;
    let mut notes = vec![match diff.partial_cmp(&0.0) {
        Some(std::cmp::Ordering::Greater) if floor => {
            format!(
                "The simulation needs at most {diff} more than steady-state theory (the lowest value tried met the SLOs)."
            )
        }
        Some(std::cmp::Ordering::Greater) => format!("The simulation needs {diff} more than steady-state theory."),
        Some(std::cmp::Ordering::Less) if floor => format!(
            "The lowest value tried is {} below steady-state theory and met the SLOs; the simulation may need fewer still.",
            -diff
        ),
        Some(std::cmp::Ordering::Less) => format!("The simulation needs {} fewer than steady-state theory.", -diff),
        _ if floor => {
            "The lowest value tried is steady-state theory's and met the SLOs; the simulation may need fewer."
                .to_string()
        }
        _ => "The simulation agrees with steady-state theory.".to_string(),
    }];
    let pool = sc.pools.iter().find(|p| p.name == t.pool);
    if let Some(p) = pool
        && let Some(a) = &p.autoscaler
    {
        notes.push(format!(
            "Autoscaling lag: instances are added at most every {} and serve only after a {} cold start; theory assumes the capacity is there when the peak arrives.",
            a.interval, p.cold_start
        ));
    }
    if let Some(amp) = e.candidate.amplification
        && amp.mean > 1.005
    {
        notes.push(format!(
            "Retries: {:.2} attempts per request at the recommendation; theory counts each request once.",
            amp.mean
        ));
    }
    if let Some(w) = e.candidate.wasted_gpu_seconds
        && w.mean > 0.5
    {
        notes.push(format!(
            "Abandoned work: {:.0} GPU-seconds went to results nobody received (cancel_on_abandon is {}).",
            w.mean,
            pool.is_some_and(|p| p.cancel_on_abandon)
        ));
    }
    let cvs: Vec<f64> = sc.classes.iter().map(|c| c.service.cv()).collect();
    if cvs.iter().any(|cv| (cv - 1.0).abs() > 0.05) {
        notes.push(format!(
            "Service times are not exponential (cv {}); queueing delay grows roughly with (1 + cv²)/2.",
            cvs.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>().join(", ")
        ));
    }
    if sc.swarms.iter().any(|s| !s.surges.is_empty()) || !sc.chaos.is_empty() {
        notes.push(
            "The peak does not last forever: queues absorb part of a short surge, which theory's steady state cannot."
                .into(),
        );
    }
    if pool.is_some_and(|p| p.initial_instances > 1 || key.contains("instances"))
        && sc.proxy.director != crate::model::proxy::DirectorKind::LeastConnections
    {
        notes.push("Each instance queues its own work behind a director that does not look at load; theory has one shared queue.".into());
    }
    if !t.unmapped.is_empty() {
        let them = if t.unmapped.len() == 1 { "it" } else { "them" };
        notes.push(format!("Theory cannot express {}; its answer ignores {them}.", t.unmapped.join(", ")));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confidence_reads_with_the_digits_it_has() {
        assert_eq!(confidence_label(0.95), "95%");
        assert_eq!(confidence_label(0.999), "99.9%");
        assert_eq!(confidence_label(MAX_CONFIDENCE), "99.99%", "not 100%");
        assert_eq!(confidence_label(0.5), "50%");
    }
}
