//! A chaos event posted to a served backend (`POST /chaos`): the keys of
//! one `[[chaos]]` entry, held to the same rules as the scenario file's.
//!
//! The entry is resolved inside the scenario's own text (its chaos list
//! replaced by the posted entry), so it can name only the pools the file
//! defines and passes every check a file's event passes; errors come back
//! with the posted text's own lines and keys. `at` is optional: left out, the
//! event starts now.

use toml_edit::{DocumentMut, Item};

use super::{Scenario, ScenarioError, ScenarioErrors};
use crate::model::chaos::ChaosEvent;
use crate::time::SimTime;

/// What errors in a posted entry name as their file.
pub const LABEL: &str = "POST /chaos";

/// The largest body a control port reads (bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// The most events a served backend's schedule holds, the file's included:
/// every boundary re-reads the schedule, so it must stay short.
pub const MAX_EVENTS: usize = 10_000;

impl Scenario {
    /// The chaos event `body` describes, starting at `now` unless it names
    /// its own `at` (run time, as in the file; not in the past, and not
    /// bounded by `scenario.duration`, which a served run outlives).
    pub fn posted_chaos(&self, body: &str, now: SimTime) -> Result<ChaosEvent, ScenarioErrors> {
        let mut doc = self.source_text.parse::<DocumentMut>().map_err(|e| one(None, "", e.to_string()))?;
        doc.remove("chaos");
        let mut text = doc.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        // The posted keys, optionally under one [[chaos]] header (as pasted from a file).
        let (entry, header) = match body.parse::<DocumentMut>() {
            Ok(mut posted) => {
                let header = pasted_header(&posted)?;
                let table = match header {
                    true => posted["chaos"].as_array_of_tables_mut().and_then(|a| a.get_mut(0)).expect("checked"),
                    false => posted.as_table_mut(),
                };
                // A served run goes on past scenario.duration, which the
                // file's rule `at` < duration assumes is the end: a valid
                // `at` is checked against the run's clock instead, below.
                let given = table.get("at").and_then(Item::as_str).and_then(|t| crate::units::parse_duration(t).ok());
                let now_at = !table.contains_key("at");
                if now_at || given.is_some() {
                    table.insert("at", toml_edit::value("0s"));
                }
                (Some((posted.to_string(), now_at, given)), header)
            }
            // Resolved as it is, for the syntax error with its line.
            Err(_) => (None, false),
        };
        if !header {
            text.push_str("[[chaos]]\n");
        }
        let offset = text.lines().count();
        let now_at = entry.as_ref().is_some_and(|e| e.1);
        let event_at = entry.as_ref().and_then(|e| e.2).map(|given| SimTime::ZERO + given);
        text.push_str(entry.as_ref().map_or(body, |e| e.0.as_str()));
        let resolved = super::resolve::parse(&text, LABEL, &[]).map_err(|e| posted_lines(e, offset, header))?;
        let mut event = resolved.chaos.into_iter().next_back().ok_or_else(|| one(None, "", "no chaos entry".into()))?;
        if let Some(at) = event_at {
            event.at = at;
        }
        if now_at {
            event.at = now;
        } else if event.at < now {
            let names_at = |l: &str| l.trim_start().strip_prefix("at").is_some_and(|r| r.trim_start().starts_with('='));
            let line = body.lines().position(names_at).map(|i| i + 1);
            return Err(one(
                line,
                "at",
                format!("({}) is in the past: the run is at {}; leave `at` out to start now", ago(event.at), ago(now)),
            ));
        }
        Ok(event)
    }
}

/// Whether the body is one `[[chaos]]` entry under its header (else it must
/// be bare keys): any other table would change the scenario itself.
fn pasted_header(posted: &DocumentMut) -> Result<bool, ScenarioErrors> {
    let tables: Vec<&str> = posted
        .iter()
        .filter(|(_, item)| matches!(item, Item::Table(_) | Item::ArrayOfTables(_)))
        .map(|(k, _)| k)
        .collect();
    match tables.as_slice() {
        [] => Ok(false),
        ["chaos"] if posted.len() == 1 && posted["chaos"].as_array_of_tables().is_some_and(|a| a.len() == 1) => {
            Ok(true)
        }
        _ => Err(one(
            None,
            "",
            "the body is one chaos event's keys (kind = \"stall\", pool = \"gpu\", duration = \"30s\", ...), \
             optionally under one [[chaos]] header, and no other table"
                .into(),
        )),
    }
}

/// The errors of the composed text, with the posted text's lines and keys
/// (the posted text starts after line `offset`; without a header of its own
/// the one added is line `offset`, blamed as the body's first).
fn posted_lines(errors: ScenarioErrors, offset: usize, header: bool) -> ScenarioErrors {
    let first = if header { offset + 1 } else { offset };
    let posted = |line: usize| (line >= first).then(|| line.saturating_sub(offset).max(1));
    ScenarioErrors(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                e.line = e.line.and_then(posted);
                if let Some(key) = e.key.strip_prefix("chaos[0]") {
                    e.key = key.trim_start_matches('.').to_string();
                }
                e
            })
            .collect(),
    )
}

fn one(line: Option<usize>, key: &str, message: String) -> ScenarioErrors {
    ScenarioErrors(vec![ScenarioError {
        file: LABEL.to_string(),
        line,
        column: None,
        key: key.to_string(),
        message,
        help: None,
    }])
}

fn ago(t: SimTime) -> crate::time::SimDuration {
    t - SimTime::ZERO
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    const SCENARIO: &str = "[scenario]\nname = \"p\"\nduration = \"20m\"\n[pool.gpu]\nslots = 1\n\
        [class.c]\npool = \"gpu\"\nservice = { dist = \"constant\", value = \"1s\" }\n\
        [swarm.s]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"1/s\" }\n";
    const STALL: &str = "kind = \"stall\"\npool = \"gpu\"\nduration = \"1m\"\n";

    fn at(m: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(60 * m)
    }

    #[test]
    fn a_served_run_past_its_duration_takes_events_now_or_later_but_not_earlier() {
        let sc = Scenario::parse(SCENARIO, "p.toml").expect("valid");
        let now = at(30);
        assert_eq!(sc.posted_chaos(STALL, now).expect("now").at, now);
        let later = sc.posted_chaos(&format!("{STALL}at = \"40m\"\n"), now).expect("later, past the 20m duration");
        assert_eq!(later.at, at(40));
        let pasted = sc.posted_chaos(&format!("[[chaos]]\n{STALL}at = \"35m\"\n"), now).expect("pasted");
        assert_eq!(pasted.at, at(35));
        let past = sc.posted_chaos(&format!("{STALL}at = \"10m\"\n"), now).expect_err("past").to_string();
        assert!(past.contains("POST /chaos:4") && past.contains("is in the past"), "{past}");
        let bad = sc.posted_chaos(&format!("{STALL}at = \"soon\"\n"), now).expect_err("not a duration").to_string();
        assert!(bad.contains("POST /chaos:4") && bad.contains("at"), "{bad}");
    }
}
