//! The docs keep up with the code: every metric name and every flag is documented.

use clap::CommandFactory;
use stampede::cli::Cli;
use stampede::criteria::Metric;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_metric_name_is_in_metrics_md() {
    let doc = read("docs/metrics.md");
    let missing: Vec<&str> =
        Metric::ALL.iter().map(|m| m.name()).filter(|n| !doc.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/metrics.md lacks {missing:?}");
}

#[test]
fn every_metric_says_which_requests_it_sees() {
    let doc = read("docs/metrics.md");
    let header = "| metric | unit | better | sees | meaning |";
    assert!(doc.contains(header), "the metric table has a `sees` column");
    for n in Metric::ALL.iter().map(|m| m.name()) {
        let row =
            doc.lines().find(|l| l.starts_with(&format!("| `{n}` |"))).unwrap_or_else(|| panic!("no row for {n}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(cells.len() == 7 && !cells[4].is_empty(), "{n}: {row}");
    }
}

#[test]
fn attempts_per_request_buckets_are_the_documented_ones() {
    let run = stampede::engine::simulate(&crate::support::shipped("mmc-erlang.toml"), 1).expect("the run finishes");
    let keys: Vec<&str> = run.summary.attempts_per_request.keys().map(String::as_str).collect();
    let expected: Vec<String> = (1..=14).map(|k| format!("{k:02}")).chain(["15+".to_string()]).collect();
    assert_eq!(keys, expected);
    assert!(read("docs/metrics.md").contains("`attempts_per_request.{01..14, 15+}`"));
}

#[test]
fn every_command_and_flag_is_in_cli_md() {
    let doc = read("docs/cli.md");
    let mut missing = Vec::new();
    for cmd in Cli::command().get_subcommands() {
        let name = cmd.get_name();
        if !doc.contains(&format!("stampede {name}")) {
            missing.push(format!("stampede {name}"));
        }
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long()
                && !["help", "version"].contains(&long)
                && !doc.contains(&format!("--{long}"))
            {
                missing.push(format!("stampede {name} --{long}"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/cli.md lacks {missing:?}");
}

#[test]
fn the_metric_table_says_what_the_metric_enum_says() {
    use stampede::criteria::{Better, Unit};
    let doc = read("docs/metrics.md");
    for &m in Metric::ALL {
        let row =
            doc.lines().find(|l| l.starts_with(&format!("| `{m}` |"))).unwrap_or_else(|| panic!("no row for {m}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let unit = match m.unit() {
            Unit::Ratio => "ratio",
            Unit::Duration => "duration",
            Unit::Number => "number",
        };
        let better = if m.better() == Better::Higher { "higher" } else { "lower" };
        assert_eq!((cells[2], cells[3]), (unit, better), "{m}: {row}");
        assert!(cells[5].starts_with(m.meaning()), "{m}: the docs say `{}`, the enum `{}`", cells[5], m.meaning());
    }
}
