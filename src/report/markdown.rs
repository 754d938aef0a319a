//! `report.md`: the comparison's verdict and tables, for pasting into
//! capacity-planning documents. Chart images are linked, not embedded.

use crate::compare::{Comparison, Plan};
use crate::report::charts::Chart;
use crate::report::table;

pub fn comparison(plan: &Plan, c: &Comparison, charts: &[Chart]) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Strategy comparison: {}\n\n", c.scenario));
    s.push_str(&format!("**Verdict.** {}\n\n", c.verdict));
    if let Some(slo) = slo_line(plan, c) {
        s.push_str(&format!("{slo}\n\n"));
    }
    s.push_str(&setup_line(plan, c));
    s.push_str("\n\n## Results (mean ± 95% half-width over seeds; ties share a rank)\n\n");
    let results = table::results(c, &plan.slos);
    s.push_str(&results.to_markdown());
    if results.has_split() {
        s.push_str(&format!("\n{}.\n", crate::report::spread::SPLIT_NOTE));
    }
    s.push_str(&format!("\n## Difference from the baseline `{}` (paired by seed)\n\n", c.baseline));
    s.push_str(&table::differences(c).to_markdown());
    s.push_str(&format!("\n{LEGEND}\n"));
    if has_infinite(c) {
        s.push_str(&format!("\n{INFINITE_NOTE}\n"));
    }
    s.push_str("\n## Pairwise results\n\n");
    s.push_str(&table::pairwise(c).to_markdown());
    s.push_str(&format!("\n{}\n\n## Charts\n\n", pairwise_note(plan)));
    for chart in charts {
        s.push_str(&format!("![{}]({}.png)\n\n", chart.title, chart.name));
    }
    s
}

/// Which strategies meet the SLOs, when there are any.
pub fn slo_line(plan: &Plan, c: &Comparison) -> Option<String> {
    if plan.slos.is_empty() {
        return None;
    }
    let met = if c.slo_met_by.is_empty() { "no strategy".to_string() } else { c.slo_met_by.join(", ") };
    let all: Vec<String> = plan.slos.iter().map(ToString::to_string).collect();
    let over = if c.scored_swarms.len() < plan.scenario.swarms.len() { ", over every swarm" } else { "" };
    Some(format!("SLOs ({}) are met{over}, on the mean over seeds, by: {met}.", all.join(", ")))
}

/// The level each criterion of a pairwise decision is tested at (`97.5%`).
pub fn decision_level(plan: &Plan) -> String {
    crate::compare::rank::level_text(crate::compare::rank::decision_confidence(plan))
}

/// How a pair is decided: the level each criterion is tested at, and why.
fn decision_rule(plan: &Plan) -> String {
    let k = plan.objective.len();
    let level = decision_level(plan);
    let each = if k > 1 {
        format!(
            " (each of the objective's {k} criteria at {level}, so that a pair is misordered with at most 5% probability)"
        )
    } else {
        String::new()
    };
    format!("the first objective criterion whose paired {level} interval excludes zero decides{each}")
}

/// Said under the pairwise table.
pub fn pairwise_note(plan: &Plan) -> String {
    format!(
        "A strategy is better than another when {}; a strategy's rank is one plus the number of strategies better than it, \
         so strategies the data cannot tell apart share a rank.",
        decision_rule(plan)
    )
}

/// Said under a differences table with an infinite difference.
pub const INFINITE_NOTE: &str = "-∞ or +∞: in most seeds one side never got there (never recovered, or a percentile \
that fell among failures) and the other did. Its interval is the median difference's, which excludes zero only from 6 seeds.";

/// Whether some strategy differs from the baseline by an infinite amount
/// (not merely an unbounded ±, which one seed gives).
pub fn has_infinite(c: &Comparison) -> bool {
    c.strategies.iter().flat_map(|s| s.vs_baseline.values().flatten()).any(infinite)
}

fn infinite(d: &crate::compare::Difference) -> bool {
    d.diff.mean.is_infinite()
}

pub const LEGEND: &str = "`~` marks a difference whose 95% interval contains zero: not statistically significant. \
pp = percentage points. Each strategy ran on the same seeds, so differences are paired seed by seed.";

/// One line saying what was compared, on what.
pub fn setup_line(plan: &Plan, c: &Comparison) -> String {
    format!(
        "{} strategies × {} seeds ({}…{}), baseline `{}`, applied to swarm(s) {}; objective: {}; stampede {}.",
        c.strategies.len(),
        c.seeds.len(),
        c.seeds.first().copied().unwrap_or_default(),
        c.seeds.last().copied().unwrap_or_default(),
        c.baseline,
        c.swarms.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
        c.objective.join(", then "),
        c.version,
    ) + if plan.swarms.len() < plan.scenario.swarms.len() { " Other swarms keep their own strategies." } else { "" }
        + &score_line(plan, c)
        + &c.live_time_scale.map_or(String::new(), |f| {
            format!(" Runs: the live engine (HTTP on loopback) at time scale {f}, not the simulator.")
        })
}

/// Which swarms' requests the scores cover, and which metrics cannot be restricted.
fn score_line(plan: &Plan, c: &Comparison) -> String {
    let quoted = |v: &[String]| v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
    if c.scored_swarms.len() == plan.scenario.swarms.len() {
        return if plan.swarms.len() < plan.scenario.swarms.len() { " Scores cover every swarm." } else { "" }.into();
    }
    let mut line = format!(" Scores cover swarm(s) {} only", quoted(&c.scored_swarms));
    if !c.pool_wide.is_empty() {
        line.push_str(&format!("; {} are per pool and cover every swarm", quoted(&c.pool_wide)));
    }
    if !c.service_wide.is_empty() {
        let (verb, whose) =
            if c.service_wide.len() == 1 { ("covers", "its SLO is") } else { ("cover", "their SLOs are") };
        line.push_str(&format!("; {} {verb} every swarm, as {whose} judged", quoted(&c.service_wide)));
    }
    line + "."
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Difference;
    use crate::stats::Interval;

    #[test]
    fn an_infinite_difference_is_told_apart_from_an_unbounded_margin() {
        let d = |mean: f64| Difference {
            diff: Interval { mean, lo: f64::NEG_INFINITY, hi: f64::INFINITY, n: 1 },
            significant: false,
            better: true,
        };
        assert!(infinite(&d(f64::NEG_INFINITY)), "never recovered against recovered");
        assert!(!infinite(&d(1.0)), "one seed: a finite difference, an unbounded ±");
    }
}
