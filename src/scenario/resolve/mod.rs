//! From scenario text to a typed, validated [`Scenario`].
//!
//! Steps: parse the TOML (keeping spans), apply the `--set` overrides, read
//! the document's shape with serde ([`shape`]), then resolve names into
//! indices and check every constraint ([`backend`], [`clients`], limits).
//! Every check names the key path it is about and problems are collected,
//! never returned at the first one; the key path finds the line, or the
//! override that wrote the key ([`ctx`]).

mod backend;
mod cache;
mod clients;
mod ctx;
mod defences;
mod shape;
mod tiers;

use std::collections::BTreeMap;

use toml_edit::Document;

pub use backend::{CURVES, DIRECTORS, DISCIPLINES, DISTS, SCALE_METRICS};
pub use cache::POPULARITIES;
pub use clients::{CHAOS_KINDS, JITTERS, KINDS, ON_FAILURE, PROCESSES, SPACINGS};
pub use ctx::Ctx;

use super::error::{ScenarioError, ScenarioErrors};
use super::overrides::Override;
use super::raw::*;
use super::source::{SourceMap, parse_path};
use super::{CompareSpec, Scenario, limits};
use crate::criteria::slo;
use crate::model::chaos::ChaosEvent;
use crate::time::{SimDuration, SimTime};
use backend::{resolve_class, resolve_pool, resolve_price, resolve_proxy};
use clients::{resolve_chaos, resolve_strategy, resolve_swarm};
use defences::resolve_rate_limit;

/// The name of the always-available strategy that never retries.
pub const BUILTIN_NONE: &str = "none";

/// Parses and resolves scenario text with `--set` overrides applied.
pub fn parse(text: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioErrors> {
    if text.len() > limits::MAX_FILE_BYTES {
        return Err(super::too_large(file));
    }
    if let Some(line) = limits::values_over_limit(text) {
        return Err(ScenarioErrors(vec![ScenarioError {
            file: file.to_string(),
            line: Some(line),
            column: None,
            key: String::new(),
            message: format!(
                "more than {} values (keys, list items and tables), the most a scenario file may hold \
                 (parsed, each takes about a kilobyte)",
                crate::format::thousands(limits::MAX_VALUES as u64)
            ),
            help: None,
        }]));
    }
    let doc = parse_toml(text, file)?;
    // The document is large (a hundred times the text): edited only when
    // there are overrides, and never kept twice.
    let as_run = if overrides.is_empty() {
        text.to_string()
    } else {
        let mut edited = doc.clone().into_mut();
        let mut errors = Vec::new();
        for o in overrides {
            if let Err(e) = o.apply(&mut edited) {
                errors.push(ScenarioError {
                    file: o.to_string(),
                    line: None,
                    column: None,
                    key: e.key,
                    message: e.message,
                    help: e.help,
                });
            }
        }
        if !errors.is_empty() {
            return Err(ScenarioErrors(errors));
        }
        edited.to_string()
    };
    let src = SourceMap::new(doc);
    let mut cx = Ctx::new(file, &src, overrides);
    // Too many classes is refused before they are resolved, one by one.
    let scenario = shape::deserialize_all(&mut cx, &as_run)
        .filter(|raw| {
            let n = raw.class.len();
            if n > limits::MAX_CLASSES {
                cx.error("class", format!("{n} classes are above the limit of {}", limits::MAX_CLASSES));
            }
            n <= limits::MAX_CLASSES
        })
        .map(|raw| resolve(&mut cx, raw, &as_run, file));
    // In file order: lines first, then what the overrides wrote.
    cx.errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
    match scenario {
        Some(mut sc) if cx.errors.is_empty() => {
            sc.warnings = cx.warnings;
            Ok(sc)
        }
        _ if overrides.is_empty() => Err(ScenarioErrors(cx.errors)),
        _ => Err(ScenarioErrors(blame_overrides(text, file, overrides, cx.errors))),
    }
}

/// Parses TOML text, with the line and column of a syntax error.
fn parse_toml(text: &str, file: &str) -> Result<Document<String>, ScenarioErrors> {
    text.to_string().parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e.span().map(|s| super::source::line_col(text, s.start)).unzip();
        let mut message = format!("invalid TOML: {}", e.message().trim());
        // toml_edit says "duplicate key" without naming it: the span does.
        if message.contains("duplicate key")
            && let Some(span) = e.span()
        {
            let key = text.get(span.clone()).unwrap_or_default().trim();
            if !key.is_empty() && !message.contains(key) {
                message = format!("invalid TOML: duplicate key `{key}`");
            }
        }
        ScenarioErrors(vec![ScenarioError {
            file: file.to_string(),
            line,
            column,
            key: String::new(),
            message,
            help: None,
        }])
    })
}

/// Errors of a document with overrides that the file alone does not have come
/// from the overrides, even when they name another key (`--set
/// strategy.s.kind=exponential` makes `strategy.s.base` required): they are
/// reported against the override that shares most of their key path.
fn blame_overrides(text: &str, file: &str, overrides: &[Override], errors: Vec<ScenarioError>) -> Vec<ScenarioError> {
    let alone = match parse(text, file, &[]) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    };
    errors
        .into_iter()
        .map(|mut e| {
            let from_file = e.line.is_some() || e.file == file;
            if !from_file || alone.iter().any(|a| a.key == e.key && a.message == e.message) {
                return e;
            }
            let segs = parse_path(&e.key);
            let best = overrides.iter().rev().max_by_key(|o| o.shared_prefix(&segs));
            match best {
                Some(o) if o.shared_prefix(&segs) > 0 => {
                    e.file = o.to_string();
                    e.line = None;
                    e.column = None;
                }
                _ => {
                    let all: Vec<String> = overrides.iter().map(Override::to_string).collect();
                    let why = format!("the file alone does not have this problem: it comes from {}", all.join(", "));
                    e.help = Some(e.help.map_or(why.clone(), |h| format!("{h}\n  {why}")));
                }
            }
            e
        })
        .collect()
}

fn resolve(cx: &mut Ctx<'_>, raw: RawScenario, text: &str, file: &str) -> Scenario {
    let m = match &raw.scenario {
        Some(m) => m.clone(),
        None => {
            cx.error_help("scenario", "the [scenario] table is missing", "add [scenario] with a name and a duration");
            RawMeta::default()
        }
    };
    let name = cx.required("scenario.name", &m.name, "(it names the report directory)").unwrap_or_default();
    if m.name.as_ref().is_some_and(|n| n.0.is_ok()) {
        if name.trim().is_empty() {
            cx.error("scenario.name", "must not be empty");
        } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.') {
            cx.error_help(
                "scenario.name",
                format!("`{name}` cannot name a report directory"),
                "use letters, digits, '-', '_' and '.' only, not starting with '.'",
            );
        }
    }
    let known = cx.required("scenario.duration", &m.duration, "(the simulated time, e.g. \"1h\")").map(|d| d.0);
    let duration = known.map_or(SimDuration::from_secs(1), |d| cx.positive("scenario.duration", d));
    let warmup = cx.get("scenario.warmup", &m.warmup).map_or(SimDuration::ZERO, |w| w.0);
    if warmup >= duration && known.is_some_and(|d| !d.is_zero()) {
        cx.error("scenario.warmup", format!("({warmup}) must be shorter than the duration ({duration})"));
    }
    let window = cx.get("scenario.window", &m.window).map_or(SimDuration::from_secs(10), |w| w.0);
    let window = cx.positive("scenario.window", window);
    let seed = match cx.get("scenario.seed", &m.seed) {
        None => 1,
        Some(s) if s < 0 => {
            cx.error("scenario.seed", format!("must not be negative, got {s}"));
            1
        }
        Some(s) => s as u64,
    };

    let tiers = tiers::resolve_tiers(cx, &m);
    let mut proxy = resolve_proxy(cx, &raw.proxy);
    cache::resolve_proxy_cache(cx, &raw.proxy, &mut proxy);
    let mut pools: Vec<_> = raw.pool.iter().map(|(name, p)| resolve_pool(cx, name, p)).collect();
    for (pool, (name, p)) in pools.iter_mut().zip(&raw.pool) {
        pool.priority = tiers::resolve_priority(cx, name, p, &tiers);
    }
    let prices = raw.pool.iter().map(|(name, p)| resolve_price(cx, name, &p.price_per_hour)).collect();
    if pools.is_empty() {
        cx.error_help("pool", "the scenario defines no GPU pool", "add e.g. [pool.gpu] with slots and instance counts");
    }
    let (classes, rules): (Vec<_>, Vec<_>) =
        raw.class.iter().map(|(name, c)| resolve_class(cx, name, c, &raw.pool)).unzip();
    proxy.classes = rules;
    for (i, name) in raw.class.keys().enumerate() {
        if let Some(policy) = proxy.classes[i].cache.filter(|p| p.size > proxy.cache.capacity) {
            cx.warn(
                &format!("class.{name}.cache.size"),
                format!(
                    "({} bytes) is larger than the whole cache (proxy.cache.capacity, {} bytes): no object of this class is ever stored",
                    policy.size, proxy.cache.capacity
                ),
                Some("raise proxy.cache.capacity, or lower the size".into()),
            );
        }
        if proxy.overflows(i) {
            cx.warn(
                &format!("class.{name}.headers"),
                "do not fit the proxy's workspace (http_resp_size, http_resp_hdr_len): every response fails as 503 overflow",
                Some("raise proxy.http_resp_size / proxy.http_resp_hdr_len, or send smaller headers".into()),
            );
        }
    }
    if classes.is_empty() {
        cx.error_help(
            "class",
            "the scenario defines no job class",
            "add e.g. [class.txt2img] with a pool and a service time",
        );
    }

    let mut strategy_map = raw.strategy.clone();
    if !strategy_map.contains_key(BUILTIN_NONE) {
        let none = RawStrategy { kind: Some(super::value::Val::ok("none".into())), ..RawStrategy::default() };
        strategy_map.insert(BUILTIN_NONE.to_string(), none);
    }
    let strategies: Vec<_> = strategy_map.iter().map(|(name, s)| resolve_strategy(cx, name, s)).collect();

    // Without a valid duration, no event can be said to start after the end.
    let end = if known.is_some() { SimTime::ZERO + duration } else { SimTime::NEVER };
    let mut swarms: Vec<_> =
        raw.swarm.iter().map(|(name, s)| resolve_swarm(cx, name, s, &raw.class, &strategy_map)).collect();
    for (swarm, (name, s)) in swarms.iter_mut().zip(&raw.swarm) {
        swarm.tier = tiers::resolve_swarm_tier(cx, name, s, &tiers);
    }
    // Tiers are reported (tier.<name>.* metrics, the summary's `tiers`) only
    // when the file speaks of them: older summaries stay as they were.
    let tiered = m.tiers.is_some()
        || raw.swarm.values().any(|s| s.tier.is_some())
        || raw.pool.values().any(|p| p.tier_priority.is_some() || p.tier_shed_at.is_some());
    proxy.rate_limits = raw.swarm.iter().map(|(name, s)| resolve_rate_limit(cx, name, s)).collect();
    if swarms.is_empty() {
        cx.error_help(
            "swarm",
            "the scenario defines no client swarm",
            "add e.g. [swarm.web] with arrivals and a class",
        );
    }
    let chaos: Vec<ChaosEvent> =
        raw.chaos.iter().enumerate().filter_map(|(i, c)| resolve_chaos(cx, i, c, &raw.pool, &raw.swarm, end)).collect();

    let mut thresholds = Vec::new();
    let conditions = cx.get("slo", &raw.slo).unwrap_or_default();
    for (metric, cond) in conditions.0 {
        let path = format!("slo.{metric}");
        if let Some(cond) = cx.get(&path, &Some(super::value::Val(cond))) {
            match slo::parse(&metric, &cond) {
                Ok(t) => match part_named(&swarms, &tiers, tiered, t.metric) {
                    Ok(()) => thresholds.push(t),
                    Err((e, help)) => cx.error_help(&path, e, help),
                },
                Err(e) => cx.error(&path, e.to_string()),
            }
        }
    }

    let compare =
        raw.compare.as_ref().map_or_else(CompareSpec::default, |c| resolve_compare(cx, c, &strategy_map, &raw.swarm));
    for c in compare.objective.iter().flatten() {
        if let Err((e, help)) = part_named(&swarms, &tiers, tiered, c.metric) {
            cx.error_help("compare.objective", e, help);
        }
    }

    let sc = Scenario {
        name,
        description: cx.get("scenario.description", &m.description).unwrap_or_default(),
        duration,
        warmup,
        seed,
        window,
        proxy,
        pools,
        classes,
        strategies,
        swarms,
        chaos,
        slo: thresholds,
        compare,
        tiers: tiers.names,
        tiered,
        prices,
        source_text: text.to_string(),
        source_path: file.to_string(),
        warnings: Vec::new(),
    };
    for t in &sc.slo {
        if let Err(e) = sc.produces(t.metric) {
            cx.error(&format!("slo.{}", t.metric), e);
        }
    }
    for c in sc.compare.objective.iter().flatten() {
        if let Err(e) = sc.produces(c.metric) {
            cx.error("compare.objective", e);
        }
    }
    // Like a chaos event's `at`: a rise that starts after the end never happens.
    for s in &sc.swarms {
        for &(at, _, what) in s.surges.iter().filter(|&&(at, _, _)| at >= sc.end()) {
            cx.error(
                &format!("swarm.{}.arrivals.start", s.name),
                format!("the {what} starts ({}) at or after the end of the run ({})", at - SimTime::ZERO, sc.duration),
            );
        }
    }
    if known.is_some() {
        limits::check(cx, &sc);
    }
    warn_unused(cx, &sc, &raw);
    // A kill of more instances than the pool can ever have kills them all:
    // likely a mistake, yet a meaningful event, so a warning.
    for (i, e) in sc.chaos.iter().enumerate() {
        if let crate::model::chaos::ChaosAction::Kill { pool, count } = e.action {
            let max = sc.pools[pool].max_instances;
            if count > max {
                let said = format!("kills {count} instances of a pool that never has more than {max}: it kills all");
                cx.warn(&format!("chaos[{i}].count"), said, None);
            }
        }
    }
    sc
}

/// Pools no class uses, classes no swarm sends, strategies no swarm or
/// comparison uses: probably a typo or a leftover, so say so (not an error).
fn warn_unused(cx: &mut Ctx<'_>, sc: &Scenario, raw: &RawScenario) {
    for (i, p) in sc.pools.iter().enumerate() {
        if !sc.classes.iter().any(|c| c.pool == i) {
            cx.warn(&format!("pool.{}", p.name), "no class uses this pool", None);
        }
    }
    for (i, c) in sc.classes.iter().enumerate() {
        if !sc.swarms.iter().any(|s| s.mix.iter().any(|&(k, _)| k == i)) {
            cx.warn(&format!("class.{}", c.name), "no swarm sends this class", None);
        }
    }
    // Without a [compare] list, `stampede compare` compares every strategy:
    // then each one has a use.
    if sc.compare.strategies.is_empty() {
        return;
    }
    for (i, s) in sc.strategies.iter().enumerate() {
        let used = sc.compare.strategies.contains(&i) || sc.swarms.iter().any(|w| w.strategy == i);
        if raw.strategy.contains_key(&s.name) && !used {
            cx.warn(
                &format!("strategy.{}", s.name),
                "no swarm uses this strategy and [compare] strategies does not list it",
                Some("only --strategy can still use it".into()),
            );
        }
    }
}

fn resolve_compare(
    cx: &mut Ctx<'_>,
    c: &RawCompare,
    strategies: &BTreeMap<String, RawStrategy>,
    swarm_names: &BTreeMap<String, RawSwarm>,
) -> CompareSpec {
    let names = cx.get("compare.strategies", &c.strategies);
    if let Some(names) = &names {
        match names.len() {
            0 => cx.error(
                "compare.strategies",
                "is empty; a comparison needs at least two strategies (leave the key out to compare every one)",
            ),
            1 => cx.error("compare.strategies", "lists one strategy; a comparison needs at least two"),
            _ => {}
        }
        for (i, name) in names.iter().enumerate().filter(|(i, n)| names[..*i].contains(n)) {
            cx.error(&format!("compare.strategies[{i}]"), format!("`{name}` is listed twice"));
        }
    }
    let list: Vec<usize> = names
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| cx.reference(&format!("compare.strategies[{i}]"), "strategy", s, strategies))
        .collect();
    let baseline = cx
        .get("compare.baseline", &c.baseline)
        .and_then(|b| cx.reference("compare.baseline", "strategy", &b, strategies));
    if let Some(b) = baseline
        && !list.is_empty()
        && !list.contains(&b)
    {
        cx.error("compare.baseline", "must be one of compare.strategies");
    }
    let seeds = c.seeds.as_ref().map(|_| cx.int_in("compare.seeds", &c.seeds, 2, 2, limits::MAX_SEEDS, WHY_SEEDS));
    let swarms = cx
        .get("compare.swarms", &c.swarms)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| cx.reference(&format!("compare.swarms[{i}]"), "swarm", s, swarm_names))
        .collect();
    let objective =
        cx.get("compare.objective", &c.objective).and_then(|o| match crate::criteria::objective::parse(&o) {
            Ok(o) => Some(o),
            Err(e) => {
                cx.error("compare.objective", e.to_string());
                None
            }
        });
    CompareSpec { strategies: list, baseline, seeds, swarms, objective }
}

/// Whether a per-swarm or per-tier metric names a swarm or tier the file
/// defines; else the message and its help (the defined names, a did-you-mean).
fn part_named(
    swarms: &[crate::model::client::SwarmSpec],
    tiers: &tiers::Tiers,
    tiered: bool,
    m: crate::criteria::Metric,
) -> Result<(), (String, String)> {
    use crate::criteria::metric::Group;
    let crate::criteria::Metric::Part(p) = m else { return Ok(()) };
    let (what, names): (&str, Vec<&str>) = match p.group {
        Group::Swarm => ("swarm", swarms.iter().map(|s| s.name.as_str()).collect()),
        Group::Tier if !tiered => {
            return Err((
                format!("{m} needs priority tiers, and the scenario has none"),
                "give the swarms a `tier` (e.g. tier = \"sheddable\"), or list scenario.tiers".into(),
            ));
        }
        Group::Tier => ("tier", tiers.names.iter().map(String::as_str).collect()),
    };
    if names.contains(&p.of) {
        return Ok(());
    }
    let mut help = format!("defined: {}", names.join(", "));
    if let Some(s) = crate::suggest::did_you_mean(p.of, names.iter().copied()) {
        help = format!("did you mean `{what}.{s}.{}`? ({help})", p.what.name());
    }
    Err((format!("{m} refers to {what} `{}`, which is not defined", p.of), help))
}

const WHY_SEEDS: &str =
    "intervals narrow as 1/√N: 1000 seeds are already 10× narrower than 10, and each seed is a whole run";

#[cfg(test)]
mod tests {
    use super::*;

    /// Each table of choices names distinct values by distinct names: a name
    /// means its value whatever the table's order.
    fn one_name_per_value<T: Copy + PartialEq + std::fmt::Debug>(table: &[(&str, T)]) {
        for (i, (a, x)) in table.iter().enumerate() {
            for (b, y) in &table[i + 1..] {
                assert!(a != b && x != y, "{a} = {x:?} and {b} = {y:?}");
            }
        }
    }

    #[test]
    fn every_choice_table_is_one_to_one() {
        one_name_per_value(&backend::DIST_CHOICES);
        one_name_per_value(&DIRECTORS);
        one_name_per_value(&SCALE_METRICS);
        one_name_per_value(&clients::KIND_CHOICES);
        one_name_per_value(&clients::PROCESS_CHOICES);
        one_name_per_value(&clients::CHAOS_CHOICES);
        one_name_per_value(&JITTERS);
        one_name_per_value(&SPACINGS);
        one_name_per_value(&ON_FAILURE);
        assert_eq!(KINDS, ["none", "immediate", "fixed", "exponential", "stepped"]);
    }

    #[test]
    fn a_choice_is_the_value_its_name_means() {
        let sc = Scenario::parse(
            "[scenario]\nname = \"c\"\nduration = \"1m\"\n[proxy]\ndirector = \"least_connections\"\n[pool.gpu]\n\
             [class.c]\npool = \"gpu\"\nservice = { dist = \"gamma\", mean = \"1s\", cv = 2.0 }\n\
             [strategy.s]\nkind = \"exponential\"\nbase = \"1s\"\ncap = \"8s\"\njitter = \"equal\"\n\
             [swarm.w]\nclass = \"c\"\nstrategy = \"s\"\narrivals = { process = \"constant\", rate = \"1/s\" }\n",
            "c.toml",
        )
        .expect("valid");
        assert_eq!(sc.proxy.director, crate::model::proxy::DirectorKind::LeastConnections);
        let b = &sc.strategies[sc.swarms[0].strategy].policy.backoff;
        assert!(matches!(
            b,
            crate::model::retry::Backoff::Exponential { jitter: crate::model::retry::Jitter::Equal, .. }
        ));
        assert!(
            matches!(
                &sc.swarms[0].arrivals,
                crate::scenario::ArrivalSpec::Open { spacing: crate::model::workload::Spacing::Uniform, .. }
            ),
            "constant arrivals are evenly spaced"
        );
    }
}
