//! Load from several machines: the part file one `load --shard I/N` writes,
//! and `merge` putting N parts back together into one run's results.
//!
//! A part holds the scenario as run, the seed, the shard and everything
//! measured, histograms included ([`StoredRecorder`], [`StoredWire`]): the
//! shards send disjoint requests, so the parts add up without loss and the
//! merged summary is built by the same code as any run's. Parts must come
//! from one load: the same scenario text, seed, strategy, time scale and
//! shard count, every shard exactly once. Every error names the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{HighWater, Run};
use crate::metrics::stored::{StoredRecorder, add};
use crate::metrics::summary::{EndState, EngineStats, Summary};
use crate::metrics::wire::{StoredWire, WireRecorder};
use crate::scenario::Scenario;

/// Identifies the file format. /2: the attempt counts gained `sent`.
pub const FORMAT: &str = "stampede-load-part/2";
/// What every load part's format begins with, whatever its version.
const FORMAT_FAMILY: &str = "stampede-load-part/";

/// What one shard of a load measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadPart {
    pub format: String,
    pub version: String,
    /// The scenario file as run (`--set` applied), and its path.
    pub scenario_text: String,
    pub scenario_path: String,
    /// `--strategy`, when given.
    pub strategy: Option<String>,
    pub seed: u64,
    pub time_scale: f64,
    /// (I, N), I from 1.
    pub shard: (usize, usize),
    pub targets: BTreeMap<String, String>,
    pub recorder: StoredRecorder,
    pub wire: StoredWire,
    /// Measured requests and bulk jobs still in flight at the end, per swarm.
    pub unfinished: Vec<u64>,
    pub bulk_unfinished: Vec<u64>,
    pub events: u64,
    pub wall_seconds: f64,
}

impl LoadPart {
    pub fn new(sc: &Scenario, strategy: Option<&str>, shard: (usize, usize), run: &Run) -> LoadPart {
        let s = &run.summary;
        let by_swarm = |f: &dyn Fn(&crate::metrics::summary::SwarmSummary) -> u64| {
            sc.swarms.iter().map(|w| s.swarms.get(&w.name).map_or(0, f)).collect()
        };
        LoadPart {
            format: FORMAT.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_text: sc.source_text.clone(),
            scenario_path: sc.source_path.clone(),
            strategy: strategy.map(str::to_string),
            seed: s.seed,
            time_scale: s.engine.live_time_scale.unwrap_or(1.0),
            shard,
            targets: s.engine.wire.as_ref().map(|w| w.targets.clone()).unwrap_or_default(),
            recorder: StoredRecorder::new(&run.recorder),
            wire: run.wire.as_ref().map(WireRecorder::to_stored).unwrap_or_else(|| WireRecorder::default().to_stored()),
            unfinished: by_swarm(&|w| w.requests.unfinished),
            bulk_unfinished: by_swarm(&|w| w.bulk_jobs.as_ref().map_or(0, |b| b.unfinished)),
            events: s.engine.events,
            wall_seconds: s.engine.wall_seconds,
        }
    }

    /// The conventional file name of a part.
    pub fn file_name(shard: (usize, usize)) -> String {
        format!("load-part-{}-of-{}.json", shard.0, shard.1)
    }
}

/// Whether a JSON document is a load part (rather than a sweep part).
pub fn is_load_part(doc: &serde_json::Value) -> bool {
    doc.get("format").and_then(|f| f.as_str()).is_some_and(|f| f.starts_with(FORMAT_FAMILY))
}

/// Refuses a load part of another format version by name, before reading
/// it as this version's (which would fail on some missing field instead).
pub fn check_format(name: &str, doc: &serde_json::Value) -> Result<(), String> {
    match doc.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => Ok(()),
        Some(other) => Err(format!(
            "{name}: a load part of format `{other}`, written by another version of stampede; this one reads \
             `{FORMAT}`: run the shards again with this version"
        )),
        None => Err(format!("{name}: not a load part file (no `format`)")),
    }
}

/// N parts of one load, by file name, as one run.
pub fn merge(parts: Vec<(String, LoadPart)>) -> Result<(Scenario, Run), String> {
    let (first_name, first) = parts.first().ok_or("no parts")?;
    let n = first.shard.1;
    let mut seen = vec![false; n];
    for (name, p) in &parts {
        let differs =
            |what: &str| Err(format!("{name}: {what} differs from {first_name}'s: not a part of the same load"));
        if p.format != FORMAT || p.version != first.version {
            return Err(format!(
                "{name}: written by stampede {} ({}), {first_name} by {}",
                p.version, p.format, first.version
            ));
        }
        if p.scenario_text != first.scenario_text {
            return differs("the scenario");
        }
        if p.seed != first.seed {
            return differs("the seed");
        }
        if p.strategy != first.strategy {
            return differs("--strategy");
        }
        if p.time_scale != first.time_scale {
            return differs("--time-scale");
        }
        if p.shard.1 != n {
            return differs("the shard count");
        }
        let i = p.shard.0;
        if i == 0 || i > n {
            return Err(format!("{name}: shard {i}/{n} does not exist"));
        }
        if std::mem::replace(&mut seen[i - 1], true) {
            return Err(format!("{name}: shard {i}/{n} is given twice"));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("shard {}/{n} is missing (every shard's part is needed)", missing + 1));
    }
    let mut sc = Scenario::parse(&first.scenario_text, &first.scenario_path)
        .map_err(|e| format!("{first_name}: its scenario no longer parses: {e}"))?;
    if let Some(name) = &first.strategy {
        sc = sc.with_strategy(name).map_err(|e| format!("{first_name}: --strategy {e}"))?;
    }
    // As `load` judged each part: on what its clients saw.
    sc.drop_server_side_slos();
    let run = combine(&sc, first.seed, first.time_scale, parts.iter().map(|(name, p)| (name.as_str(), p)))?;
    Ok((sc, run))
}

/// Adds up parts of one load (checked to belong together) into one run.
/// `stampede load` uses it too, for the worlds it runs on each core.
pub fn combine<'p>(
    sc: &Scenario,
    seed: u64,
    time_scale: f64,
    parts: impl Iterator<Item = (&'p str, &'p LoadPart)>,
) -> Result<Run, String> {
    let pools = sc.pools.len();
    let swarms = sc.swarms.len();
    let mut rec = None;
    let mut wire = WireRecorder::default();
    let (mut unfinished, mut bulk_unfinished) = (vec![0; swarms], vec![0; swarms]);
    let (mut events, mut wall) = (0, 0.0f64);
    let mut targets = BTreeMap::new();
    for (name, p) in parts {
        let bad = |e: String| format!("{name}: {e}");
        if p.recorder.swarms.len() != swarms || p.unfinished.len() != swarms || p.bulk_unfinished.len() != swarms {
            return Err(bad(format!("holds other swarms than the scenario's {swarms}")));
        }
        let r = p.recorder.load(pools).map_err(|e| bad(e.to_string()))?;
        match &mut rec {
            None => rec = Some(r),
            Some(total) => add(total, &r).map_err(|e| bad(e.to_string()))?,
        }
        wire.merge(&WireRecorder::from_stored(&p.wire).map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(e.to_string()))?;
        for (i, (u, b)) in p.unfinished.iter().zip(&p.bulk_unfinished).enumerate() {
            unfinished[i] += u;
            bulk_unfinished[i] += b;
        }
        events += p.events;
        wall = wall.max(p.wall_seconds);
        for (swarm, url) in &p.targets {
            targets.entry(swarm.clone()).or_insert_with(|| url.clone());
        }
    }
    let rec = rec.ok_or("no parts")?;
    let end = EndState {
        unfinished,
        bulk_unfinished,
        pool_areas: vec![[0.0; 6]; pools],
        measured_seconds: (sc.end() - rec.warmup()).as_secs_f64(),
        engine: EngineStats {
            live_time_scale: Some(time_scale),
            wire: Some(wire.stats(targets)),
            ..EngineStats::new(events, wall)
        },
    };
    let summary = Summary::build(sc, seed, &rec, &end);
    Ok(Run { summary, recorder: rec, high_water: HighWater::default(), wire: Some(wire), failure: None })
}
