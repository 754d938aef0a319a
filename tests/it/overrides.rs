//! `--set`, `--vary` and `--tune` change keys; they never add a section the
//! scenario does not have, and their errors name the flag that caused them.

use crate::support::{stampede, stderr};

/// Runs the binary and returns its stderr, asserting exit code 2.
fn refused(args: &[&str]) -> String {
    let o = stampede(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}:\n{err}");
    err
}

fn assert_has(text: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(text.contains(f), "`{f}` missing from:\n{text}");
    }
}

const PLAYGROUND: &str = "scenarios/playground-img2img.toml";

#[test]
fn an_override_of_a_pool_the_scenario_lacks_is_refused_with_a_suggestion() {
    let expected = [
        "pool.gpu: the scenario has no pool `gpu` (it defines: a100); an override changes a pool, it cannot add one",
        "help: did you mean `pool.a100.max_instances`?",
    ];
    let err = refused(&["run", PLAYGROUND, "--set", "pool.gpu.max_instances=40"]);
    assert_has(&err, &["error: --set pool.gpu.max_instances=40: "]);
    assert_has(&err, &expected);
    let err = refused(&["sweep", PLAYGROUND, "--vary", "pool.gpu.max_instances=24,48"]);
    assert_has(&err, &["--vary pool.gpu.max_instances=24: pool.gpu: the scenario has no pool `gpu`"]);
    let err = refused(&["plan", PLAYGROUND, "--tune", "pool.gpu.min_instances=16..64", "--slo", "rate_503<0.01"]);
    assert_has(&err, &["--tune pool.gpu.min_instances=16: pool.gpu: the scenario has no pool `gpu`"]);
}

#[test]
fn classes_swarms_strategies_and_chaos_entries_are_not_created_either() {
    for (set, fragment) in [
        ("class.new.pool=a100", "the scenario has no class `new` (it defines: txt2img, img2img)"),
        ("swarm.webb.timeout=10s", "did you mean `swarm.web.timeout`?"),
        ("strategy.steped.kind=immediate", "did you mean `strategy.stepped.kind`?"),
        ("chaos[5].at=20m", "no chaos events, so no entry [5]"),
        ("pool.a100.autoscaler.nope.x=1", "no [pool.a100.autoscaler.nope] section"),
    ] {
        assert_has(&refused(&["validate", PLAYGROUND, "--set", set]), &[fragment]);
    }
    // An optional key inside an existing section is a change, not a new section.
    let o = stampede(&["validate", PLAYGROUND, "--set", "pool.a100.retry_after=5s", "--set", "proxy.max_sessions=100"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A whole section given as the value is how an override adds one (documented).
    let o = stampede(&["validate", PLAYGROUND, "--set", "strategy.fixed={ kind = \"fixed\", delay = \"2s\" }"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_override_error_names_the_override_once() {
    let err = refused(&["validate", "scenarios/retry-storm.toml", "--set", "chaos[5].at=20m"]);
    assert_eq!(err.matches("chaos[5].at=20m").count(), 1, "{err}");
    assert_has(&err, &["--set chaos[5].at=20m: chaos[5]: index [5] is out of range: there is 1 entry"]);
}

#[test]
fn tune_errors_say_tune() {
    let err = refused(&["plan", PLAYGROUND, "--tune", "pool.a100.min_instance=16..64", "--slo", "rate_503<0.01"]);
    assert_has(&err, &["error: --tune pool.a100.min_instance=16: pool.a100.min_instance: unknown key `min_instance`"]);
    assert!(!err.contains("--vary"), "{err}");
}

#[test]
fn errors_an_override_causes_elsewhere_name_the_override_not_a_line() {
    let err = refused(&["validate", PLAYGROUND, "--set", "strategy.stepped.kind=exponential"]);
    assert_has(
        &err,
        &[
            "--set strategy.stepped.kind=exponential: strategy.stepped.base: is required for kind = \"exponential\"",
            "--set strategy.stepped.kind=exponential: strategy.stepped.ranges: does not apply",
        ],
    );
    assert!(!err.contains("playground-img2img.toml:"), "{err}");
}

#[test]
fn a_duration_range_that_misses_its_end_says_by_how_much_as_a_duration() {
    let err = refused(&["sweep", PLAYGROUND, "--vary", "pool.a100.cold_start=1m..4m:100s"]);
    assert_has(&err, &["the last value would be 1m20s short of it"]);
    assert!(!err.contains("80000000000"), "{err}");
}

#[test]
fn a_bare_ratio_of_one_or_more_is_refused_on_the_command_line() {
    let err = refused(&["plan", PLAYGROUND, "--tune", "pool.a100.min_instances=16..64", "--slo", "rate_503<1"]);
    assert_has(&err, &["--slo rate_503 is a ratio: a bare number must be a fraction below 1; write 100% or 1% (0.01)"]);
}

#[test]
fn a_strategy_listed_twice_is_refused_and_names_are_trimmed() {
    let err = refused(&["sweep", PLAYGROUND, "--vary", "pool.a100.min_instances=16,20", "--strategies", "none,none"]);
    assert_has(&err, &["--strategies: `none` is listed twice"]);
    let err = refused(&["compare", PLAYGROUND, "--strategies", "none, none"]);
    assert_has(&err, &["--strategies: `none` is listed twice"]);
}
