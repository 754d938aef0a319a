//! Tables as cells — a comparison's results and differences, a sweep's points —
//! built once and rendered as aligned text for the terminal, Markdown for
//! report.md, or HTML (by `html`).

use crate::compare::{Comparison, rank::show_difference_short};
use crate::metrics::catalog::{self, Unit};
use crate::stats::Interval;

/// A table: a header row and body rows of cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// "49.31% ±0.82", "4m02s ±12.3s", "2.334 ±0.012".
pub fn show_interval(unit: Unit, i: &Interval) -> String {
    if !i.mean.is_finite() {
        // An infinite mean is exact (a percentile counting failures): no ±.
        return catalog::show(unit, i.mean);
    }
    let hw = i.half_width();
    match unit {
        Unit::Ratio if hw.is_finite() => format!("{:.2}% ±{:.2}", i.mean * 100.0, hw * 100.0),
        Unit::Ratio => format!("{:.2}% ±∞", i.mean * 100.0),
        _ => format!("{} ±{}", catalog::show(unit, i.mean), catalog::show(unit, hw)),
    }
}

/// Per strategy, each metric's mean and 95% half-width.
pub fn results(c: &Comparison) -> Table {
    let mut header = vec!["rank".to_string(), "strategy".to_string()];
    header.extend(c.metrics.iter().map(|m| catalog::label(m).to_string()));
    let rows = c
        .strategies
        .iter()
        .map(|s| {
            let mut row = vec![s.rank.to_string(), s.name.clone()];
            row.extend(c.metrics.iter().map(|m| match s.metrics.get(m).copied().flatten() {
                Some(i) => show_interval(catalog::unit(m), &i),
                None => "-".into(),
            }));
            row
        })
        .collect();
    Table { header, rows }
}

/// Per strategy, each metric's paired difference against the baseline; `~`
/// marks a difference whose 95% interval contains zero.
pub fn differences(c: &Comparison) -> Table {
    let mut header = vec!["vs baseline".to_string()];
    header.extend(c.metrics.iter().map(|m| catalog::label(m).to_string()));
    let rows = c
        .strategies
        .iter()
        .filter(|s| s.name != c.baseline)
        .map(|s| {
            let mut row = vec![s.name.clone()];
            row.extend(c.metrics.iter().map(|m| match s.vs_baseline.get(m).copied().flatten() {
                Some(d) => {
                    format!(
                        "{}{}",
                        show_difference_short(catalog::unit(m), &d.diff),
                        if d.significant { "" } else { " ~" }
                    )
                }
                None => "-".into(),
            }));
            row
        })
        .collect();
    Table { header, rows }
}

impl Table {
    /// Space-aligned text: first column left, the rest right.
    pub fn to_text(&self) -> String {
        let cols = self.header.len();
        let width: Vec<usize> = (0..cols)
            .map(|i| std::iter::once(&self.header).chain(&self.rows).map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let line = |r: &Vec<String>| {
            r.iter()
                .enumerate()
                .map(|(i, cell)| {
                    let pad = width[i] - cell.chars().count();
                    if i == 0 || (i == 1 && self.header[0] == "rank") {
                        format!("{cell}{}", " ".repeat(pad))
                    } else {
                        format!("{}{cell}", " ".repeat(pad))
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = line(&self.header);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table.
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = format!("| {} |\n", self.header.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "));
        out.push_str(&format!(
            "|{}|\n",
            self.header
                .iter()
                .enumerate()
                .map(|(i, _)| if i < 2 { "---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        ));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
        }
        out
    }
}

/// A sweep: one row per (grid point, strategy) with each metric's interval.
pub fn sweep(r: &crate::sweep::result::SweepResult) -> Table {
    let mut header: Vec<String> = r.axes.iter().map(|a| a.key.clone()).collect();
    header.push("strategy".into());
    header.extend(r.metrics.iter().map(|m| catalog::label(m).to_string()));
    let rows = r
        .points
        .iter()
        .map(|p| {
            let mut row = p.values.clone();
            row.push(p.strategy.clone());
            row.extend(r.metrics.iter().map(|m| match p.metrics.get(m).copied().flatten() {
                Some(i) => show_interval(catalog::unit(m), &i),
                None => "-".into(),
            }));
            row
        })
        .collect();
    Table { header, rows }
}
