//! From the cells of a comparison to intervals, paired differences, a ranking
//! and a verdict.
//!
//! Ranking is pairwise and significance-aware: A beats B on the first criterion
//! of the objective where their paired difference excludes zero, each of the
//! objective's k criteria tested at 1 − 5%/k so that a pair is misordered with
//! at most 5% probability; if none does, they tie. A strategy's rank is one
//! plus the number of strategies that beat it, so strategies the data cannot
//! separate share a rank, and a rank never claims more than the pairwise
//! results say. The score (wins minus losses) orders strategies within a
//! rank. A *winner* is only named when one strategy beats every other one;
//! otherwise the verdict says which strategies the data cannot tell apart.
//! Every pairwise result is kept ([`Pair`]), so reports can show what the
//! verdict rests on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cell, Plan};
use crate::criteria::objective::Criterion;
use crate::criteria::{Better, Metric};
use crate::metrics::resolution;
use crate::replication::{Rule, aggregate, per_seed};
use crate::stats::{Interval, mean_ci, paired_difference_at};

/// A strategy's paired difference against the baseline on one metric.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// This strategy minus the baseline, seed by seed.
    pub diff: Interval,
    /// The 95% interval excludes zero.
    pub significant: bool,
    /// The difference points in the metric's better direction.
    pub better: bool,
}

/// One strategy's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    pub name: String,
    /// One plus the number of strategies that beat this one: ties share a rank.
    pub rank: usize,
    /// Pairwise wins minus losses on the objective.
    pub score: i64,
    pub metrics: BTreeMap<String, Option<Interval>>,
    /// Each metric's value in each seed, in seed order (null: undefined).
    #[serde(with = "crate::extended::option_vec_map")]
    pub per_seed: BTreeMap<String, Vec<Option<f64>>>,
    /// Cost in money over seeds (`pool.<name>.price_per_hour`); null without prices.
    pub cost: Option<Interval>,
    pub vs_baseline: BTreeMap<String, Option<Difference>>,
    /// Share of ended requests of the compared swarms that took 1, 2, …
    /// attempts, pooled over seeds.
    pub attempts_per_request: BTreeMap<String, f64>,
    /// Each SLO threshold judged on the mean over seeds.
    pub slo: Vec<crate::metrics::summary::SloResult>,
}

/// How two strategies compare on the objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// The strategy that is better, or null when the data cannot tell them apart.
    pub better: Option<String>,
    /// The criterion that decided (for a tie: the first criterion).
    pub metric: String,
    /// a − b on that metric, paired by seed (null: no seed has both values).
    pub diff: Option<Interval>,
}

/// The whole comparison, as `compare.json` holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub scenario: String,
    pub version: String,
    pub seeds: Vec<u64>,
    pub baseline: String,
    /// Swarms that took the compared strategy.
    pub swarms: Vec<String>,
    /// Swarms whose requests the metrics and scores cover.
    pub scored_swarms: Vec<String>,
    /// Reported metrics that are recorded per pool and so cover every swarm
    /// whatever `scored_swarms` says (empty when every swarm is scored).
    pub pool_wide: Vec<String>,
    /// Metrics shown only for an SLO, taken over every swarm as the SLO is
    /// judged (empty when every swarm is scored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_wide: Vec<String>,
    pub objective: Vec<String>,
    pub confidence: f64,
    /// Metrics reported, in display order.
    pub metrics: Vec<String>,
    /// In rank order.
    pub strategies: Vec<StrategyResult>,
    /// Every pair of strategies, in display order: what the ranks and the verdict rest on.
    pub pairwise: Vec<Pair>,
    pub winner: Option<String>,
    pub verdict: String,
    /// Strategies that meet every SLO threshold (on their means); empty
    /// when there are thresholds and none meets them all.
    pub slo_met_by: Vec<String>,
    /// The live engine's time scale when the runs were live (`--engine
    /// live`); absent for the simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_time_scale: Option<f64>,
}

impl Comparison {
    /// Builds the comparison from `cells[strategy][seed]`.
    pub fn build(plan: &Plan, cells: &[Vec<Cell>]) -> Comparison {
        let has_bulk = plan.scenario.swarms.iter().any(|s| s.bulk.is_some());
        let mut metrics = Metric::headline(has_bulk);
        // The objective's and the SLOs' metrics too: reports show their
        // per-seed values and count the seeds that meet each SLO.
        let extra = plan.objective.iter().map(|c| c.metric).chain(plan.slos.iter().map(|t| t.metric));
        for m in extra {
            if !metrics.contains(&m) {
                metrics.push(m);
            }
        }
        // An SLO describes the service: a metric shown only for an SLO is
        // taken over every swarm, as the SLO is judged, whatever the scope.
        let scoped = plan.scored.len() < plan.scenario.swarms.len();
        let service_wide: Vec<Metric> = metrics
            .iter()
            .copied()
            .filter(|m| {
                scoped
                    && !m.pool_wide()
                    && plan.slos.iter().any(|t| t.metric == *m)
                    && !plan.objective.iter().any(|c| c.metric == *m)
                    && !Metric::headline(has_bulk).contains(m)
            })
            .collect();
        // values[strategy][metric][seed]
        let values: Vec<BTreeMap<Metric, Vec<Option<f64>>>> = cells
            .iter()
            .map(|seeds| {
                metrics
                    .iter()
                    .map(|&m| {
                        let whole = service_wide.contains(&m);
                        (m, per_seed(seeds.iter().map(|c| if whole { &c.summary } else { &c.scored }), m))
                    })
                    .collect()
            })
            .collect();
        let n = plan.strategies.len();
        // beats[a][b]: a beats b on the objective (see the module doc).
        let beats: Vec<Vec<bool>> =
            (0..n).map(|a| (0..n).map(|b| a != b && decide(plan, &values, a, b) == Some(true)).collect()).collect();
        let score: Vec<i64> =
            (0..n).map(|a| (0..n).map(|b| i64::from(beats[a][b]) - i64::from(beats[b][a])).sum()).collect();
        let primary = plan.objective[0];
        let primary_mean: Vec<f64> = (0..n)
            .map(|s| {
                let xs: Vec<f64> = values[s][&primary.metric].iter().flatten().copied().collect();
                // Undefined sorts last whichever way is better, like an infinite value.
                let worst = if primary.maximize { f64::NEG_INFINITY } else { f64::INFINITY };
                mean_ci(&xs).map_or(worst, |i| if i.mean.is_nan() { worst } else { i.mean })
            })
            .collect();
        let rank: Vec<usize> = (0..n).map(|a| 1 + (0..n).filter(|&b| beats[b][a]).count()).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&x, &y| {
            rank[x].cmp(&rank[y]).then(score[y].cmp(&score[x])).then_with(|| {
                let (a, b) = (primary_mean[x], primary_mean[y]);
                let by_primary = if primary.maximize { b.total_cmp(&a) } else { a.total_cmp(&b) };
                by_primary.then_with(|| plan.strategy_name(x).cmp(plan.strategy_name(y)))
            })
        });
        let base = plan.baseline;
        let strategies: Vec<StrategyResult> = order
            .iter()
            .map(|&s| StrategyResult {
                name: plan.strategy_name(s).to_string(),
                rank: rank[s],
                score: score[s],
                metrics: metrics.iter().map(|m| (m.to_string(), aggregate(*m, &values[s][m]))).collect(),
                per_seed: metrics.iter().map(|m| (m.to_string(), values[s][m].clone())).collect(),
                cost: cells[s]
                    .iter()
                    .map(|c| c.summary.gpu.cost)
                    .collect::<Option<Vec<f64>>>()
                    .and_then(|xs| mean_ci(&xs)),
                vs_baseline: metrics
                    .iter()
                    .map(|m| {
                        let d = difference(*m, &values[s][m], &values[base][m], 0.95).map(|diff| Difference {
                            diff,
                            significant: diff.excludes_zero(),
                            better: diff.direction() != 0.0
                                && (m.better() == Better::Higher) == (diff.direction() > 0.0),
                        });
                        (m.to_string(), d)
                    })
                    .collect(),
                attempts_per_request: attempts_shares(plan, &cells[s]),
                slo: plan
                    .slos
                    .iter()
                    .map(|t| {
                        // Over every swarm: SLOs describe the service.
                        let xs = per_seed(cells[s].iter().map(|c| &c.summary), t.metric);
                        crate::metrics::summary::SloResult::new(t, t.judge(&xs, Rule::Mean))
                    })
                    .collect(),
            })
            .collect();
        let slo_met_by = if plan.slos.is_empty() {
            Vec::new()
        } else {
            strategies
                .iter()
                .filter(|s: &&StrategyResult| s.slo.iter().all(|r| r.passed))
                .map(|s| s.name.clone())
                .collect()
        };
        let winner = order.first().filter(|&&top| (0..n).all(|o| o == top || beats[top][o])).copied();
        let verdict = verdict(plan, &order, &beats, &rank, winner, &values);
        let pairwise = order
            .iter()
            .enumerate()
            .flat_map(|(i, &a)| order[i + 1..].iter().map(move |&b| (a, b)))
            .map(|(a, b)| pair(plan, &values, a, b))
            .collect();
        Comparison {
            scenario: plan.scenario.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            seeds: plan.seeds.clone(),
            baseline: plan.strategy_name(base).to_string(),
            swarms: plan.swarms.iter().map(|&s| plan.scenario.swarms[s].name.clone()).collect(),
            scored_swarms: plan.scored.iter().map(|&s| plan.scenario.swarms[s].name.clone()).collect(),
            pool_wide: if plan.scored.len() < plan.scenario.swarms.len() {
                metrics.iter().filter(|m| m.pool_wide()).map(ToString::to_string).collect()
            } else {
                Vec::new()
            },
            service_wide: service_wide.iter().map(ToString::to_string).collect(),
            objective: plan.objective.iter().map(ToString::to_string).collect(),
            confidence: 0.95,
            metrics: metrics.iter().map(ToString::to_string).collect(),
            strategies,
            pairwise,
            winner: winner.map(|w| plan.strategy_name(w).to_string()),
            verdict,
            slo_met_by,
            live_time_scale: cells.first().and_then(|c| c.first()).and_then(|c| c.summary.engine.live_time_scale),
        }
    }

    pub fn strategy(&self, name: &str) -> Option<&StrategyResult> {
        self.strategies.iter().find(|s| s.name == name)
    }
}

type Values = [BTreeMap<Metric, Vec<Option<f64>>>];

/// Some(true) if a beats b, Some(false) if b beats a, None for a tie.
fn decide(plan: &Plan, values: &Values, a: usize, b: usize) -> Option<bool> {
    deciding(plan, values, a, b).map(|(c, d)| c.favours(d.direction()))
}

/// The confidence of each criterion's test in a pairwise decision: with k
/// criteria tried in turn, each at 1 − 5%/k, a pair is misordered with at
/// most 5% probability (Bonferroni), where k tests at 95% each would allow
/// up to k × 5%.
pub fn decision_confidence(plan: &Plan) -> f64 {
    1.0 - 0.05 / plan.objective.len().max(1) as f64
}

/// The first criterion whose paired difference a − b excludes zero at the
/// decision's confidence, with that interval.
fn deciding(plan: &Plan, values: &Values, a: usize, b: usize) -> Option<(Criterion, Interval)> {
    let level = decision_confidence(plan);
    plan.objective.iter().find_map(|c| {
        let d = difference(c.metric, &values[a][&c.metric], &values[b][&c.metric], level)?;
        d.excludes_zero().then_some((*c, d))
    })
}

/// The paired difference a − b on `metric`, widened by what its values may
/// be off by: two p99s one histogram bucket apart in every seed differ by
/// exactly one bucket's width with no spread, which says nothing.
fn difference(metric: Metric, a: &[Option<f64>], b: &[Option<f64>], confidence: f64) -> Option<Interval> {
    let d = paired_difference_at(a, b, confidence)?;
    Some(d.widened(resolution(metric, a) + resolution(metric, b)))
}

/// The pairwise result of a and b, for reports.
fn pair(plan: &Plan, values: &Values, a: usize, b: usize) -> Pair {
    let (better, metric, diff) = match deciding(plan, values, a, b) {
        Some((c, d)) => (Some(if c.favours(d.mean) { a } else { b }), c.metric, Some(d)),
        None => {
            let first = plan.objective[0].metric;
            (None, first, difference(first, &values[a][&first], &values[b][&first], decision_confidence(plan)))
        }
    };
    Pair {
        a: plan.strategy_name(a).to_string(),
        b: plan.strategy_name(b).to_string(),
        better: better.map(|s| plan.strategy_name(s).to_string()),
        metric: metric.to_string(),
        diff,
    }
}

/// Attempts-per-request shares over the swarms that took the compared strategy.
fn attempts_shares(plan: &Plan, cells: &[Cell]) -> BTreeMap<String, f64> {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for c in cells {
        for &sw in &plan.swarms {
            let name = &plan.scenario.swarms[sw].name;
            for (k, v) in c.summary.swarms.get(name).map(|s| &s.attempts_per_request).into_iter().flatten() {
                *totals.entry(k.clone()).or_default() += v;
            }
        }
    }
    let all: u64 = totals.values().sum();
    // No ended request: no shares at all, rather than shares of 0.
    if all == 0 {
        return BTreeMap::new();
    }
    totals.into_iter().map(|(k, v)| (k, v as f64 / all as f64)).collect()
}

/// A confidence as text: `95%`, `97.5%`, `98.33%`.
pub fn level_text(confidence: f64) -> String {
    let pct = format!("{:.2}", confidence * 100.0);
    format!("{}%", pct.trim_end_matches('0').trim_end_matches('.'))
}

fn verdict(
    plan: &Plan,
    order: &[usize],
    beats: &[Vec<bool>],
    rank: &[usize],
    winner: Option<usize>,
    values: &Values,
) -> String {
    let name = |s: usize| plan.strategy_name(s).to_string();
    let list = |xs: &[usize]| xs.iter().map(|&s| name(s)).collect::<Vec<_>>().join(", ");
    let seeds = plan.seeds.len();
    let objective = plan.objective.iter().map(ToString::to_string).collect::<Vec<_>>().join(", then ");
    let mean = |s: usize, m: Metric| {
        let xs: Vec<f64> = values[s][&m].iter().flatten().copied().collect();
        mean_ci(&xs)
    };
    let top = order[0];
    if let Some(w) = winner {
        // Explain the closest call: the runner-up, on the criterion that decided it.
        let runner_up = order[1];
        let (c, d) = deciding(plan, values, w, runner_up).expect("a winner beat the runner-up on some criterion");
        let m = c.metric;
        // The means at the difference's precision: a close call shows where they differ.
        let show = |i: Option<Interval>| {
            i.map_or("undefined".into(), |i| crate::criteria::show::value_to(m.name(), i.mean, d.margin()))
        };
        return format!(
            "{} wins: it beats every other strategy on the objective ({objective}). Against the runner-up {}, {} is {} vs {} ({}, {} paired interval over {seeds} seeds).",
            name(w),
            name(runner_up),
            crate::criteria::show::quantity(m.name()),
            show(mean(w, m)),
            show(mean(runner_up, m)),
            crate::criteria::show::difference(m.name(), &d),
            level_text(decision_confidence(plan)),
        );
    }
    let firsts: Vec<usize> = order.iter().copied().filter(|&s| rank[s] == 1).collect();
    let mut text = if firsts.len() > 1 {
        format!(
            "No single winner at 95% confidence over {seeds} seeds: {} share rank 1, since no strategy beats any of them on the objective ({objective}).",
            list(&firsts)
        )
    } else {
        format!(
            "No single winner at 95% confidence over {seeds} seeds: {} ranks first, since no strategy beats it on the objective ({objective}).",
            name(top)
        )
    };
    // Lower-ranked strategies that the first cannot be told apart from:
    // ranked lower because another strategy beats them, not the first.
    let unbeaten: Vec<usize> = order.iter().copied().filter(|&o| rank[o] > 1 && !beats[top][o]).collect();
    if !unbeaten.is_empty() {
        let by: Vec<String> = unbeaten
            .iter()
            .map(|&o| {
                let who: Vec<usize> = order.iter().copied().filter(|&b| beats[b][o]).collect();
                format!("{} (rank {}, beaten by {})", name(o), rank[o], list(&who))
            })
            .collect();
        text.push_str(&format!(" {} does not beat {} either; see the pairwise results.", name(top), by.join(", ")));
    }
    text.push_str(" More seeds narrow the intervals.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Cell, Plan, Request};
    use crate::metrics::summary::Summary;
    use crate::metrics::{LatencyHist, Percentiles};
    use crate::scenario::Scenario;

    const TOML: &str = r#"
[scenario]
name = "rank"
duration = "1m"
[pool.gpu]
[class.c]
pool = "gpu"
service = { dist = "constant", value = "1s" }
[strategy.a]
kind = "immediate"
[strategy.b]
kind = "immediate"
[strategy.c]
kind = "immediate"
[swarm.s]
class = "c"
arrivals = { process = "poisson", rate = "1/s" }
"#;

    fn plan() -> Plan {
        let sc = Scenario::parse(TOML, "rank.toml").expect("valid");
        let req = Request { strategies: Some(vec!["a".into(), "b".into(), "c".into()]), ..Default::default() };
        Plan::new(sc, &req).expect("plan")
    }

    /// Cells with the given per-seed success rates and completion p99 (seconds).
    fn cells(success: &[f64], p99: &[f64]) -> Vec<Cell> {
        success
            .iter()
            .zip(p99)
            .map(|(&s, &p)| {
                let mut summary = Summary::default();
                summary.requests.offered = 1000;
                summary.success_rate = Some(s);
                summary.completion_ms = Percentiles { count: 10, p99: Some(p * 1e3), ..Default::default() };
                Cell { scored: summary.clone(), summary, rows: Vec::new(), completion: LatencyHist::default() }
            })
            .collect()
    }

    #[test]
    fn a_clear_winner_is_named_with_its_margin() {
        let p = plan();
        let flat = [30.0; 5];
        let all = vec![
            cells(&[0.90, 0.92, 0.91, 0.93, 0.92], &flat),
            cells(&[0.80, 0.81, 0.79, 0.82, 0.80], &flat),
            cells(&[0.81, 0.80, 0.80, 0.81, 0.79], &flat),
        ];
        let c = Comparison::build(&p, &all);
        assert_eq!(c.winner.as_deref(), Some("a"));
        assert_eq!(c.strategies[0].name, "a");
        assert_eq!(c.strategies[0].score, 2);
        assert!(c.verdict.starts_with("a wins"), "{}", c.verdict);
        // b and c tie: neither success rate nor completion p99 separates them,
        // so they share rank 2.
        assert_eq!((c.strategies[1].score, c.strategies[2].score), (-1, -1));
        assert_eq!((c.strategies[1].rank, c.strategies[2].rank), (2, 2));
        assert_eq!(c.pairwise.len(), 3);
        assert!(c.pairwise.iter().any(|p| p.better.is_none() && p.metric == "success_rate"));
        let b = c.strategy("b").expect("b");
        assert!(b.vs_baseline["success_rate"].expect("paired").significant, "b vs the baseline a");
    }

    #[test]
    fn a_tie_on_the_first_criterion_falls_through_to_the_next() {
        let p = plan();
        let same = [0.9, 0.91, 0.89, 0.9, 0.9];
        let all = vec![
            cells(&same, &[40.0, 41.0, 39.0, 40.0, 42.0]),
            cells(&[0.9, 0.9, 0.9, 0.91, 0.89], &[30.0, 31.0, 29.0, 30.0, 30.0]),
            cells(&same, &[40.0, 40.0, 41.0, 39.0, 41.0]),
        ];
        let c = Comparison::build(&p, &all);
        assert_eq!(c.winner.as_deref(), Some("b"), "{}", c.verdict);
    }

    #[test]
    fn no_ended_request_gives_no_attempt_shares_and_one_pair_no_bound() {
        let p = plan();
        let flat = [30.0; 3];
        let all = vec![cells(&[0.9, 0.8, 0.7], &flat), cells(&[0.9, 0.8, 0.7], &flat), cells(&[0.9, 0.8, 0.7], &flat)];
        let c = Comparison::build(&p, &all);
        assert!(c.strategies.iter().all(|s| s.attempts_per_request.is_empty()), "no shares of 0 without requests");
        let one = crate::stats::paired_difference(&[Some(2.0)], &[Some(1.0)]).expect("a pair");
        assert_eq!(crate::criteria::show::difference("completion_p99", &one), "+1.00s ±∞");
        assert_eq!(crate::criteria::show::difference("rate_503", &one), "+100.00pp ±∞");
    }

    /// Seeds that agree on a p99's histogram bucket do not pin the p99 down:
    /// one bucket (4.096 ms at 5.36 s) apart in every seed is no difference.
    #[test]
    fn percentiles_one_bucket_apart_in_every_seed_are_not_told_apart() {
        let p = plan();
        let same = [0.9, 0.91, 0.89];
        let all = vec![cells(&same, &[5.36; 3]), cells(&same, &[5.364096; 3]), cells(&same, &[6.0, 6.1, 6.2])];
        let c = Comparison::build(&p, &all);
        let ab = c.pairwise.iter().find(|x| x.a == "a" && x.b == "b").expect("a vs b");
        assert_eq!(ab.better, None, "{ab:?}");
        let b = c.strategy("b").expect("b").vs_baseline["completion_p99"].expect("paired");
        assert!((b.diff.mean - 0.004096).abs() < 1e-9 && !b.significant, "{b:?}");
        let ac = c.pairwise.iter().find(|x| x.a == "a" && x.b == "c").expect("a vs c");
        assert_eq!(ac.better.as_deref(), Some("a"), "real differences still count");
    }

    /// With three criteria each is tested at 98.33%: a success difference
    /// whose paired t is 3.0 over 5 seeds (95% needs 2.78, 98.33% about 3.96)
    /// is significant on its own (vs the baseline) but decides no pair.
    #[test]
    fn each_of_k_criteria_is_tested_at_one_minus_five_percent_over_k() {
        let p = plan();
        assert!((decision_confidence(&p) - (1.0 - 0.05 / 3.0)).abs() < 1e-12);
        assert_eq!(level_text(decision_confidence(&p)), "98.33%");
        let base = [0.80, 0.81, 0.79, 0.82, 0.80];
        let up: Vec<f64> = base.iter().zip([0.01, 0.03, 0.0, 0.02, 0.015]).map(|(b, d)| b + d).collect();
        let flat = [30.0; 5];
        let all = vec![cells(&base, &flat), cells(&up, &flat), cells(&base, &flat)];
        let c = Comparison::build(&p, &all);
        let b = c.strategy("b").expect("b").vs_baseline["success_rate"].expect("paired");
        assert!(b.significant, "at 95% on its own: {b:?}");
        let ab = c.pairwise.iter().find(|x| [&x.a, &x.b] == ["b", "a"] || [&x.a, &x.b] == ["a", "b"]).expect("a, b");
        assert_eq!(ab.better, None, "{ab:?}");
        let d = ab.diff.expect("shown at the decision's level");
        assert!(d.lo < 0.0 && d.hi > 0.0 && d.margin() > b.diff.margin(), "{d:?} vs {:?}", b.diff);
    }

    /// Three strategies drawn from one distribution, 600 times over: a pair
    /// is decided (falsely) in at most 5% of cases. Two of the criteria vary
    /// here, so the rate expected is about 1 − (1 − 5%/3)² ≈ 3.3%; testing
    /// each at 95% would give about 9.75%. Bound: 5% plus three binomial
    /// standard deviations of 1,800 pairs (1.5 points).
    #[test]
    fn equivalent_strategies_are_told_apart_in_at_most_five_percent_of_pairs() {
        let p = plan();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut normal = move || (-2.0 * (1.0 - uniform()).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
        let (mut decided, mut pairs) = (0, 0);
        for _ in 0..600 {
            let all: Vec<Vec<Cell>> = (0..3)
                .map(|_| {
                    let success: Vec<f64> = (0..5).map(|_| 0.9 + 0.01 * normal()).collect();
                    let p99: Vec<f64> = (0..5).map(|_| 30.0 + normal()).collect();
                    cells(&success, &p99)
                })
                .collect();
            let c = Comparison::build(&p, &all);
            decided += c.pairwise.iter().filter(|x| x.better.is_some()).count();
            pairs += c.pairwise.len();
        }
        // 95% per criterion decided 164 of these 1,800 pairs (9.1%).
        let rate = decided as f64 / pairs as f64;
        assert!(rate <= 0.05 + 3.0 * (0.05f64 * 0.95 / pairs as f64).sqrt(), "{decided} of {pairs} pairs decided");
    }

    #[test]
    fn indistinguishable_strategies_give_no_winner() {
        let p = plan();
        let flat = [30.0; 4];
        let all = vec![
            cells(&[0.90, 0.80, 0.95, 0.85], &flat),
            cells(&[0.85, 0.90, 0.80, 0.95], &flat),
            cells(&[0.80, 0.85, 0.90, 0.95], &flat),
        ];
        let c = Comparison::build(&p, &all);
        assert_eq!(c.winner, None);
        assert!(c.verdict.starts_with("No single winner"), "{}", c.verdict);
        assert!(c.strategies.iter().all(|s| s.score == 0));
        assert!(c.strategies.iter().all(|s| s.rank == 1), "ties share a rank");
    }

    #[test]
    fn ranks_never_separate_strategies_the_verdict_cannot_tell_apart() {
        // a beats b; c is noisy: neither a nor b can be told from c.
        let p = plan();
        let flat = [30.0; 5];
        let all = vec![
            cells(&[0.90, 0.92, 0.91, 0.93, 0.92], &flat),
            cells(&[0.80, 0.81, 0.79, 0.82, 0.80], &flat),
            cells(&[0.70, 0.99, 0.80, 0.95, 0.85], &flat),
        ];
        let c = Comparison::build(&p, &all);
        let rank = |n: &str| c.strategy(n).expect(n).rank;
        assert_eq!((rank("a"), rank("c"), rank("b")), (1, 1, 2), "{}", c.verdict);
        assert!(c.verdict.contains("a, c share rank 1"), "{}", c.verdict);
        // The verdict's "cannot tell apart" is a pairwise tie in the data.
        let ac = c.pairwise.iter().find(|p| p.a == "a" && p.b == "c" || p.a == "c" && p.b == "a").expect("a-c");
        assert_eq!(ac.better, None);
        let ab = c.pairwise.iter().find(|p| p.a == "a" && p.b == "b").expect("a-b");
        assert_eq!(ab.better.as_deref(), Some("a"));
    }
}
