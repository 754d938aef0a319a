//! Tables as cells — a comparison's results, differences and pairwise
//! results, a sweep's points — built once and rendered as aligned text for
//! the terminal, Markdown for report.md, or HTML (by `html`).
//!
//! Terminal tables fit [`TEXT_WIDTH`] columns: a table wider than that is
//! printed in blocks of columns, each block repeating the table's key columns
//! (strategy, grid values), so every number stays on screen in a 100-column
//! terminal.

use crate::compare::Comparison;
use crate::criteria::slo::Threshold;
use crate::report::{spread, units};

/// Widest line of a terminal table; printed with a two-space indent, 100 columns.
pub const TEXT_WIDTH: usize = 98;

/// A table: a header row, body rows of cells, and how many leading columns
/// identify a row (repeated in every block when the table is wrapped).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub keys: usize,
}

impl Table {
    pub fn new(header: Vec<String>, keys: usize) -> Table {
        Table { header, rows: Vec::new(), keys }
    }

    /// True when a cell shows seeds split into two groups (see [`spread`]).
    pub fn has_split(&self) -> bool {
        self.rows.iter().flatten().any(|c| c.contains('×'))
    }

    /// Space-aligned text within [`TEXT_WIDTH`]: key columns left, the rest right.
    pub fn to_text(&self) -> String {
        self.to_text_width(TEXT_WIDTH)
    }

    /// Space-aligned text; wider tables are split into blocks of columns.
    pub fn to_text_width(&self, max: usize) -> String {
        let cols = self.header.len();
        let width: Vec<usize> = (0..cols)
            .map(|i| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let keys = self.keys.min(cols);
        let key_width: usize = width[..keys].iter().map(|w| w + 2).sum();
        let mut blocks: Vec<Vec<usize>> = Vec::new();
        let mut used = key_width;
        for (i, w) in width.iter().enumerate().skip(keys) {
            match blocks.last_mut() {
                Some(b) if used + w <= max => b.push(i),
                _ => {
                    blocks.push(vec![i]);
                    used = key_width;
                }
            }
            used += w + 2;
        }
        if blocks.is_empty() {
            blocks.push(Vec::new());
        }
        let line = |r: &Vec<String>, block: &[usize]| {
            let cell = |i: usize| r.get(i).map_or("", String::as_str);
            let mut parts: Vec<String> =
                (0..keys).map(|i| format!("{}{}", cell(i), " ".repeat(width[i] - cell(i).chars().count()))).collect();
            parts.extend(
                block.iter().map(|&i| format!("{}{}", " ".repeat(width[i] - cell(i).chars().count()), cell(i))),
            );
            parts.join("  ").trim_end().to_string()
        };
        let mut out = String::new();
        for (n, block) in blocks.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&line(&self.header, block));
            out.push('\n');
            for r in &self.rows {
                out.push_str(&line(r, block));
                out.push('\n');
            }
        }
        out
    }

    /// A GitHub-flavoured Markdown table (never wrapped: documents scroll).
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = format!("| {} |\n", self.header.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "));
        out.push_str(&format!(
            "|{}|\n",
            (0..self.header.len()).map(|i| if i < self.keys { "---" } else { "---:" }).collect::<Vec<_>>().join("|")
        ));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
        }
        out
    }
}

/// Seeds (by index) that meet every threshold, out of all seeds.
pub fn seeds_meeting_all(slos: &[Threshold], per_seed: impl Fn(&str) -> Option<Vec<Option<f64>>>) -> (usize, usize) {
    let columns: Vec<(&Threshold, Vec<Option<f64>>)> =
        slos.iter().map(|t| (t, per_seed(t.metric.name()).unwrap_or_default())).collect();
    let n = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let met = (0..n)
        .filter(|&k| columns.iter().all(|(t, v)| v.get(k).copied().flatten().is_some_and(|x| t.op.holds(x, t.limit))))
        .count();
    (met, n)
}

/// "7 of 10".
pub fn of(k: (usize, usize)) -> String {
    format!("{} of {}", k.0, k.1)
}

/// Per strategy: its rank, each metric over seeds (mean ± 95% half-width, or
/// the two groups of a split), and with SLOs the seeds that meet them all.
pub fn results(c: &Comparison, slos: &[Threshold]) -> Table {
    let mut t = Table::new(vec!["rank".into(), "strategy".into()], 2);
    t.header.extend(c.metrics.iter().map(|m| units::label(m)));
    if !slos.is_empty() {
        t.header.push("SLOs met".into());
    }
    let priced = c.strategies.iter().any(|s| s.cost.is_some());
    if priced {
        t.header.push("cost".into());
    }
    for s in &c.strategies {
        let mut row = vec![s.rank.to_string(), s.name.clone()];
        row.extend(c.metrics.iter().map(|m| {
            let values = s.per_seed.get(m).map_or(&[][..], Vec::as_slice);
            spread::cell(m, s.metrics.get(m).copied().flatten().as_ref(), values)
        }));
        if !slos.is_empty() {
            row.push(of(seeds_meeting_all(slos, |m| s.per_seed.get(m).cloned())));
        }
        if priced {
            row.push(s.cost.as_ref().map_or("-".into(), units::money_interval));
        }
        t.rows.push(row);
    }
    t
}

/// Per strategy, each metric's paired difference against the baseline; `~`
/// marks a difference whose 95% interval contains zero.
pub fn differences(c: &Comparison) -> Table {
    let mut t = Table::new(vec!["vs baseline".into()], 1);
    t.header.extend(c.metrics.iter().map(|m| units::label(m)));
    for s in c.strategies.iter().filter(|s| s.name != c.baseline) {
        let mut row = vec![s.name.clone()];
        row.extend(c.metrics.iter().map(|m| match s.vs_baseline.get(m).copied().flatten() {
            Some(d) => format!("{}{}", units::difference(m, &d.diff), if d.significant { "" } else { " ~" }),
            None => "-".into(),
        }));
        t.rows.push(row);
    }
    t
}

/// Every pair of strategies: which is better on the objective, on which
/// criterion, by how much — what the ranks and the verdict rest on.
pub fn pairwise(c: &Comparison) -> Table {
    let mut t = Table::new(vec!["pair a vs b".into(), "result".into(), "criterion".into(), "a − b".into()], 3);
    for p in &c.pairwise {
        let result = match &p.better {
            Some(w) => format!("{w} better"),
            None => "tie".into(),
        };
        // A tie shows the first criterion: none excluded zero.
        let metric = units::quantity(&p.metric);
        let by = if p.better.is_some() { metric } else { format!("{metric} (first)") };
        let diff = p.diff.as_ref().map_or("-".into(), |d| units::difference(&p.metric, d));
        t.rows.push(vec![format!("{} vs {}", p.a, p.b), result, by, diff]);
    }
    t
}

/// A sweep: one row per (grid point, strategy) with each metric over seeds,
/// and with the scenario's SLOs the seeds that meet them all.
pub fn sweep(r: &crate::sweep::result::SweepResult) -> Table {
    let mut t = Table::new(r.axes.iter().map(|a| a.key.clone()).collect(), r.axes.len() + 1);
    t.header.push("strategy".into());
    t.header.extend(r.metrics.iter().map(|m| units::label(m)));
    let slo = !r.slos.is_empty();
    if slo {
        t.header.push("SLOs met".into());
    }
    if r.points.iter().any(|p| p.cost.is_some()) {
        t.header.push("cost".into());
    }
    for p in &r.points {
        let mut row = p.values.clone();
        row.push(p.strategy.clone());
        row.extend(r.metrics.iter().map(|m| {
            let values = p.per_seed.get(m).map_or(&[][..], Vec::as_slice);
            spread::cell(m, p.metrics.get(m).copied().flatten().as_ref(), values)
        }));
        if slo {
            row.push(of((p.slos_met, r.seeds.len())));
        }
        if let Some(c) = &p.cost {
            row.push(units::money_interval(c));
        }
        t.rows.push(row);
    }
    t
}

/// A plan: one row per evaluated value: pass or fail, each SLO's metric over
/// seeds with the bound the decision used and the seeds that meet it, cost.
pub fn plan(r: &crate::plan::PlanResult, slos: &[Threshold]) -> Table {
    let seeds = r.seeds.len();
    let mut t = Table::new(vec!["value".into(), "result".into()], 2);
    t.header.extend(slos.iter().map(|s| format!("{} (bound)", units::label(s.metric.name()))));
    // A budget on instance time shows the cost already.
    let cost = !slos.iter().any(|s| s.metric.name() == "instance_seconds");
    if cost {
        t.header.push("instance-h".into());
    }
    let priced = r.evaluated.iter().any(|c| c.money.is_some());
    if priced {
        t.header.push("cost".into());
    }
    for c in &r.evaluated {
        let mut row = vec![c.value.clone(), if c.passed { "pass".into() } else { "FAIL".into() }];
        for s in &c.slos {
            let met = format!("{}/{seeds}", s.seeds_met);
            row.push(match (s.value, s.bound) {
                (Some(i), Some(b)) => format!(
                    "{} ({}) {met}{}",
                    spread::cell(&s.metric, Some(&i), &s.per_seed),
                    // In the column's unit, at the precision of the ± beside it.
                    units::value_to(&s.metric, b, i.margin()),
                    // A blank as wide as the mark keeps right-aligned cells in line.
                    if s.passed { "  " } else { " ✗" }
                ),
                _ => format!("undefined {met} ✗"),
            });
        }
        if cost {
            row.push(c.cost.map_or("-".into(), |i| units::interval("instance_seconds", &i)));
        }
        if priced {
            row.push(c.money.map_or("-".into(), |i| units::money_interval(&i)));
        }
        t.rows.push(row);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide() -> Table {
        let mut t = Table::new(vec!["strategy".into()], 1);
        t.header.extend((0..9).map(|i| format!("metric {i}")));
        t.rows.push(std::iter::once("expo-full".to_string()).chain((0..9).map(|_| "153,486 ±5,193".into())).collect());
        t
    }

    #[test]
    fn a_wide_table_fits_100_columns_and_keeps_every_cell() {
        let text = wide().to_text();
        assert!(text.lines().all(|l| l.chars().count() + 2 <= 100), "{text}");
        assert_eq!(text.matches("153,486 ±5,193").count(), 9, "{text}");
        assert_eq!(text.matches("expo-full").count(), text.matches("strategy").count(), "keys repeat per block");
    }
}
