//! `report.md`: the comparison's verdict and tables, for pasting into
//! capacity-planning documents. Chart images are linked, not embedded.

use crate::compare::{Comparison, Plan};
use crate::report::table;

pub fn comparison(plan: &Plan, c: &Comparison) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Strategy comparison: {}\n\n", c.scenario));
    s.push_str(&format!("**Verdict.** {}\n\n", c.verdict));
    if !plan.slos.is_empty() {
        let met = if c.slo_met_by.is_empty() { "no strategy".to_string() } else { c.slo_met_by.join(", ") };
        s.push_str(&format!(
            "**SLOs** ({}) are met, on the mean over seeds, by: {met}.\n\n",
            plan.slos.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ));
    }
    s.push_str(&setup_line(plan, c));
    s.push_str("\n\n## Results (mean ± 95% half-width over seeds)\n\n");
    s.push_str(&table::results(c).to_markdown());
    s.push_str(&format!("\n## Difference from the baseline `{}` (paired by seed)\n\n", c.baseline));
    s.push_str(&table::differences(c).to_markdown());
    s.push_str(&format!("\n{}\n\n## Charts\n\n", LEGEND));
    for (file, title) in CHARTS {
        s.push_str(&format!("![{title}]({file}.png)\n\n"));
    }
    s
}

/// The charts of a comparison, by file stem, in report order.
pub const CHARTS: [(&str, &str); 6] = [
    ("compare-503-rate", "503 rate over time"),
    ("compare-capacity", "Offered load and GPU instances"),
    ("compare-completion-cdf", "Completion time distribution"),
    ("compare-headline", "Headline metrics"),
    ("compare-attempts", "Attempts per request"),
    ("compare-causes", "503s by cause"),
];

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
}
