//! Every kind of bad input gets a message naming the file, the key and the
//! line, with a suggestion where one is likely to help.

use stampede::scenario::{Scenario, ScenarioError, ScenarioErrors};

/// A valid scenario; each test breaks one thing in it.
const BASE: &str = r#"[scenario]
name = "base"
duration = "10m"

[proxy]
first_byte_timeout = "60s"
director = "round_robin"

[pool.gpu]
slots = 2
min_instances = 1
max_instances = 4

[class.txt2img]
pool = "gpu"
service = { dist = "lognormal", median = "3s", p99 = "9s" }

[class.img2img]
pool = "gpu"
service = { dist = "gamma", mean = "8s", cv = 0.5 }

[strategy.backoff]
kind = "exponential"
base = "1s"
cap = "30s"

[swarm.web]
mix = { txt2img = 0.7, img2img = 0.3 }
arrivals = { process = "poisson", rate = "2/s" }
strategy = "backoff"
"#;

#[test]
fn the_base_scenario_is_valid() {
    Scenario::parse(BASE, "bad.toml").unwrap_or_else(|e| panic!("{e}"));
}

/// Parses `BASE` with `from` replaced by `to` and returns every error.
fn errors(from: &str, to: &str) -> Vec<ScenarioError> {
    assert!(BASE.contains(from), "test setup: `{from}` not in BASE");
    match Scenario::parse(&BASE.replacen(from, to, 1), "bad.toml") {
        Ok(_) => panic!("`{to}` was accepted"),
        Err(e) => e.0,
    }
}

/// The single error, checked for its key, line and message fragments.
fn expect(from: &str, to: &str, key: &str, line: usize, fragments: &[&str]) -> ScenarioError {
    let errs = errors(from, to);
    assert_eq!(errs.len(), 1, "expected one error, got: {errs:#?}");
    let e = errs.into_iter().next().expect("one");
    let text = e.to_string();
    assert_eq!(e.file, "bad.toml");
    assert_eq!(e.key, key, "{text}");
    assert_eq!(e.line, Some(line), "{text}");
    assert!(text.starts_with(&format!("bad.toml:{line}:")), "{text}");
    for f in fragments {
        assert!(text.contains(f), "`{f}` missing from:\n{text}");
    }
    e
}

#[test]
fn malformed_toml_names_the_line() {
    let errs = errors("[pool.gpu]", "[pool.gpu");
    let text = errs[0].to_string();
    assert!(text.starts_with("bad.toml:9:") && text.contains("invalid TOML"), "{text}");
}

#[test]
fn unknown_keys_suggest_the_intended_one() {
    expect(
        "first_byte_timeout = \"60s\"",
        "frist_byte_timeout = \"60s\"",
        "proxy.frist_byte_timeout",
        6,
        &["unknown key `frist_byte_timeout`", "did you mean `first_byte_timeout`?"],
    );
    expect("slots = 2", "slot = 2", "pool.gpu.slot", 10, &["unknown key `slot`", "did you mean `slots`?"]);
    expect(
        "rate = \"2/s\" }",
        "rat = \"2/s\" }",
        "swarm.web.arrivals.rat",
        29,
        &["unknown key `rat`", "did you mean `rate`?"],
    );
}

#[test]
fn unknown_values_list_the_choices() {
    expect(
        "director = \"round_robin\"",
        "director = \"round-robin\"",
        "proxy.director",
        7,
        &["unknown value `round-robin`", "did you mean `round_robin`?", "least_connections"],
    );
    expect(
        "kind = \"exponential\"",
        "kind = \"exponentail\"",
        "strategy.backoff.kind",
        23,
        &["unknown value `exponentail`", "did you mean `exponential`?"],
    );
}

#[test]
fn wrong_units_are_explained() {
    expect("duration = \"10m\"", "duration = \"600\"", "scenario.duration", 3, &["missing unit", "\"90s\""]);
    expect("duration = \"10m\"", "duration = 600", "scenario.duration", 3, &["integer", "duration"]);
    expect("duration = \"10m\"", "duration = \"10mins\"", "scenario.duration", 3, &["unknown unit `mins`"]);
    expect("rate = \"2/s\"", "rate = \"2\"", "swarm.web.arrivals.rate", 29, &["expected a rate", "\"12/s\""]);
    expect("rate = \"2/s\"", "rate = \"2/day\"", "swarm.web.arrivals.rate", 29, &["unknown unit `/day`"]);
}

#[test]
fn zero_and_negative_rates_are_refused() {
    expect("rate = \"2/s\"", "rate = \"0/s\"", "swarm.web.arrivals.rate", 29, &["must be greater than zero"]);
    expect("rate = \"2/s\"", "rate = \"-2/s\"", "swarm.web.arrivals.rate", 29, &["non-negative"]);
    expect("slots = 2", "slots = 0", "pool.gpu.slots", 10, &["must be at least 1, got 0"]);
    expect("slots = 2", "slots = -3", "pool.gpu.slots", 10, &["must be at least 1, got -3"]);
}

#[test]
fn min_above_max_instances_is_refused() {
    expect(
        "min_instances = 1",
        "min_instances = 6",
        "pool.gpu.min_instances",
        11,
        &["(6) is greater than max_instances (4)"],
    );
}

#[test]
fn references_to_undefined_names_suggest_defined_ones() {
    expect(
        "pool = \"gpu\"\nservice = { dist = \"lognormal\"",
        "pool = \"gpus\"\nservice = { dist = \"lognormal\"",
        "class.txt2img.pool",
        15,
        &["refers to pool `gpus`, which is not defined", "did you mean `gpu`?"],
    );
    expect(
        "mix = { txt2img = 0.7, img2img = 0.3 }",
        "mix = { txt2imgg = 0.7, img2img = 0.3 }",
        "swarm.web.mix.txt2imgg",
        28,
        &["refers to class `txt2imgg`", "did you mean `txt2img`?"],
    );
    expect(
        "strategy = \"backoff\"",
        "strategy = \"back-off\"",
        "swarm.web.strategy",
        30,
        &["refers to strategy `back-off`", "did you mean `backoff`?"],
    );
}

#[test]
fn class_shares_must_sum_to_one() {
    expect(
        "mix = { txt2img = 0.7, img2img = 0.3 }",
        "mix = { txt2img = 0.6, img2img = 0.3 }",
        "swarm.web.mix",
        28,
        &["probabilities sum to 0.9", "not 1"],
    );
}

#[test]
fn missing_and_misplaced_keys_name_the_kind() {
    expect(
        "pool = \"gpu\"\nservice = { dist = \"gamma\"",
        "service = { dist = \"gamma\"",
        "class.img2img.pool",
        18,
        &["is required (the pool that serves this class)"],
    );
    expect(
        "cap = \"30s\"",
        "cap = \"30s\"\ndelay = \"1s\"",
        "strategy.backoff.delay",
        26,
        &["does not apply when kind = \"exponential\""],
    );
    expect(
        "cv = 0.5 }",
        "cv = 0.5, median = \"3s\" }",
        "class.img2img.service.median",
        20,
        &["does not apply when dist = \"gamma\""],
    );
    expect(
        "p99 = \"9s\" }",
        "p99 = \"2s\" }",
        "class.txt2img.service",
        16,
        &["p99 (2.00s) must be greater than the median (3.00s)"],
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let broken =
        BASE.replacen("slots = 2", "slots = 0", 1).replacen("strategy = \"backoff\"", "strategy = \"nope\"", 1);
    let errs = Scenario::parse(&broken, "bad.toml").expect_err("two problems").0;
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["pool.gpu.slots", "swarm.web.strategy"]);
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let e = Scenario::load(std::path::Path::new("does/not/exist.toml")).expect_err("missing");
    assert!(e.to_string().starts_with("does/not/exist.toml: cannot read the file"), "{e}");
}

#[test]
fn every_value_error_in_a_file_is_reported_in_one_run() {
    let broken = BASE
        .replacen("max_instances = 4", "max_instances = 4\ncold_start = \"240\"", 1)
        .replacen("rate = \"2/s\"", "rate = \"5\"", 1)
        .replacen("strategy = \"backoff\"", "strategy = \"retry\"", 1)
        .replacen("slots = 2", "slots = \"2\"", 1)
        .replacen("cv = 0.5", "cv = \"0.5\"", 1);
    let errs = Scenario::parse(&broken, "bad.toml").expect_err("five problems").0;
    let got: Vec<(String, Option<usize>)> = errs.iter().map(|e| (e.key.clone(), e.line)).collect();
    assert_eq!(
        got,
        [
            ("pool.gpu.slots".to_string(), Some(10)),
            ("pool.gpu.cold_start".to_string(), Some(13)),
            ("class.img2img.service.cv".to_string(), Some(21)),
            ("swarm.web.arrivals.rate".to_string(), Some(30)),
            ("swarm.web.strategy".to_string(), Some(31)),
        ],
        "{errs:#?}"
    );
    let text = ScenarioErrors(errs).to_string();
    for f in [
        "bad.toml:10:1: pool.gpu.slots: expected an integer, found the string \"2\" (write it without quotes)",
        "bad.toml:13:1: pool.gpu.cold_start: invalid duration `240`: missing unit",
        "cv: expected a number, found the string \"0.5\"",
        "swarm.web.arrivals.rate: invalid rate `5`",
        "swarm.web.strategy: refers to strategy `retry`, which is not defined",
    ] {
        assert!(text.contains(f), "`{f}` missing from:\n{text}");
    }
}

#[test]
fn unknown_keys_in_several_tables_are_reported_together() {
    let broken = BASE.replacen("slots = 2", "slot = 2", 1).replacen("cap = \"30s\"", "cap = \"30s\"\nbsae = \"1s\"", 1);
    let keys: Vec<String> =
        Scenario::parse(&broken, "bad.toml").expect_err("two").0.into_iter().map(|e| e.key).collect();
    assert_eq!(keys, ["pool.gpu.slot", "strategy.backoff.bsae"]);
}

#[test]
fn shape_errors_speak_of_tables_not_rust_types() {
    let e = errors("[scenario]", "[[scenario]]");
    let text = ScenarioErrors(e).to_string();
    assert!(text.starts_with("bad.toml:1:3: scenario: expected the [scenario] table"), "{text}");
    assert!(text.contains("found a list of tables") && text.contains("write [name] for a table"), "{text}");
    let no_proxy = BASE.replacen("[proxy]\nfirst_byte_timeout = \"60s\"\ndirector = \"round_robin\"\n", "", 1);
    let text = Scenario::parse(&format!("proxy = [1, 2]\n{no_proxy}"), "bad.toml").expect_err("a list").to_string();
    assert!(text.contains("bad.toml:1:1: proxy: expected the [proxy] table"), "{text}");
    assert!(text.contains("found a list"), "{text}");
    for (from, to) in [
        ("service = { dist = \"gamma\", mean = \"8s\", cv = 0.5 }", "service = \"8s\""),
        ("arrivals = { process = \"poisson\", rate = \"2/s\" }", "arrivals = 5"),
        ("[pool.gpu]", "[pool.gpu.autoscaler]\ntarget = 0.5\n[pool.gpu]"),
    ] {
        let text = ScenarioErrors(errors(from, to)).to_string();
        for leak in ["Raw", "struct", "StoredHist", "i64", "f64"] {
            assert!(!text.contains(leak), "`{leak}` leaks into:\n{text}");
        }
    }
}

#[test]
fn duplicate_keys_are_named() {
    let e = errors("slots = 2", "slots = 2\nslots = 3");
    assert!(e[0].to_string().starts_with("bad.toml:11:1: invalid TOML: duplicate key `slots`"), "{}", e[0]);
}

#[test]
fn invalid_utf8_names_the_line_and_byte_offset() {
    let dir = crate::support::scratch("bad-utf8");
    let path = dir.join("latin1.toml");
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("base").expect("name") + 2;
    bytes[at] = 0xe9;
    std::fs::write(&path, bytes).expect("write");
    let e = Scenario::load(&path).expect_err("latin-1").to_string();
    assert!(e.contains(":2:11: the file is not UTF-8 text: invalid byte 0xe9 at byte offset 21"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn proxy_retry_on_takes_a_single_string_as_documented() {
    let sc = Scenario::parse(&BASE.replacen("director", "retry_on = \"503\"\ndirector", 1), "ok.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!sc.proxy.retry_on.is_empty());
    expect(
        "director = \"round_robin\"",
        "director = \"round_robin\"\nretry_on = \"busyy\"",
        "proxy.retry_on",
        8,
        &["unknown cause `busyy`", "did you mean `busy`?"],
    );
}

#[test]
fn a_gamma_cv_too_large_to_draw_from_says_so() {
    expect(
        "cv = 0.5",
        "cv = 1e200",
        "class.img2img.service.cv",
        20,
        &["1e200 is above the limit of 10", "shape is 1/cv²"],
    );
}

#[test]
fn only_documented_duration_spellings_are_accepted() {
    for (spelling, why) in [
        ("1h1h", "write each unit once"),
        ("5 s", "no space between a number and its unit"),
        ("3.s", "`3.` is not a number"),
        ("5sec", "unknown unit `sec`"),
        ("5min", "unknown unit `min`"),
    ] {
        expect("duration = \"10m\"", &format!("duration = \"{spelling}\""), "scenario.duration", 3, &[why]);
    }
}

#[test]
fn ratios_above_one_and_a_bare_one_are_refused() {
    let slo = |cond: &str| format!("strategy = \"backoff\"\n\n[slo]\nrate_503 = \"{cond}\"\n");
    let bare_one = ["a bare number must be a fraction below 1", "write 100% or 1%"];
    expect("strategy = \"backoff\"\n", &slo("< 1"), "slo.rate_503", 33, &bare_one);
    expect("strategy = \"backoff\"\n", &slo("< 5"), "slo.rate_503", 33, &["write 5%"]);
    let sc = Scenario::parse(&format!("{BASE}\n[slo]\nrate_503 = \"< 100%\"\nsuccess_rate = \">= 0.99\"\n"), "ok.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.slo.iter().map(|t| t.limit).collect::<Vec<_>>(), [1.0, 0.99]);
}

#[test]
fn a_load_curve_names_its_bad_key() {
    let load = "max_instances = 4\n\n[pool.gpu.load]\n";
    expect(
        "max_instances = 4\n",
        &format!("{load}curve = \"knee\"\nknee = 2\nfactor = 0.5\n"),
        "pool.gpu.load.factor",
        17,
        &["at least 1"],
    );
    expect(
        "max_instances = 4\n",
        &format!("{load}curve = \"table\"\npoints = [[4, 1.0], [2, 3.0]]\n"),
        "pool.gpu.load.points[1]",
        16,
        &["loads must increase"],
    );
    expect(
        "max_instances = 4\n",
        &format!("{load}curve = \"linear\"\nslope = 0.1\nfactor = 2\n"),
        "pool.gpu.load.factor",
        17,
        &["does not apply when curve = \"linear\""],
    );
}

#[test]
fn a_rate_limit_burst_needs_a_rate_limit_and_a_rate_must_be_positive() {
    let at = "strategy = \"backoff\"\n";
    expect(
        at,
        "strategy = \"backoff\"\nrate_limit_burst = 5\n",
        "swarm.web.rate_limit_burst",
        31,
        &["needs rate_limit"],
    );
    expect(at, "strategy = \"backoff\"\nrate_limit = \"0/s\"\n", "swarm.web.rate_limit", 31, &["above 0"]);
}

#[test]
fn an_unknown_tier_is_named_with_the_defined_ones() {
    let at = "strategy = \"backoff\"\n";
    expect(
        at,
        "strategy = \"backoff\"\ntier = \"sheddabel\"\n",
        "swarm.web.tier",
        31,
        &["refers to tier `sheddabel`", "did you mean `sheddable`?", "critical_plus, critical, sheddable_plus"],
    );
}

#[test]
fn tier_keys_of_a_pool_name_their_bad_tier_or_length() {
    let at = "max_instances = 4\n";
    expect(
        at,
        "max_instances = 4\ntier_shed_at = { sheddable = -1 }\n",
        "pool.gpu.tier_shed_at.sheddable",
        13,
        &["queue length of at least 0"],
    );
    expect(
        at,
        "max_instances = 4\ntier_shed_at = { free = 2 }\n",
        "pool.gpu.tier_shed_at.free",
        13,
        &["refers to tier `free`"],
    );
    expect(
        "name = \"base\"\n",
        "name = \"base\"\ntiers = [\"paid\", \"paid\"]\n",
        "scenario.tiers[1]",
        3,
        &["`paid` is listed twice"],
    );
}

#[test]
fn per_swarm_and_per_tier_slos_must_name_a_swarm_or_tier_of_the_file() {
    let slo = |line: &str| format!("strategy = \"backoff\"\ntier = \"sheddable\"\n\n[slo]\n{line}\n");
    let at = "strategy = \"backoff\"\n";
    expect(
        at,
        &slo("swarm.wbe.success_rate = \">= 99%\""),
        "slo.swarm.wbe.success_rate",
        34,
        &["refers to swarm `wbe`", "defined: web"],
    );
    expect(
        at,
        &slo("tier.sheddabel.rate_503 = \"< 1%\""),
        "slo.tier.sheddabel.rate_503",
        34,
        &["did you mean `tier.sheddable.rate_503`?"],
    );
    expect(
        at,
        &slo("tier.sheddable.rate_249 = \"< 1%\""),
        "slo.tier.sheddable.rate_249",
        34,
        &["did you mean `rate_429`?", "expected tier.<name>.{success_rate, failure_rate, rate_503, rate_429}"],
    );
    expect(
        at,
        &slo("\"tier.paid.success_rate\" = \">= 99%\""),
        "slo.tier.paid.success_rate",
        33, // a quoted dotted key is found by its table's line
        &["refers to tier `paid`", "defined: critical_plus, critical, sheddable_plus, sheddable"],
    );
    let untiered = "strategy = \"backoff\"\n\n[slo]\ntier.critical.rate_503 = \"< 1%\"\n";
    expect(at, untiered, "slo.tier.critical.rate_503", 33, &["needs priority tiers", "give the swarms a `tier`"]);
    // Both spellings of a dotted name are one threshold.
    for line in ["swarm.web.success_rate = \">= 99%\"", "\"swarm.web.success_rate\" = \">= 99%\""] {
        let sc = Scenario::parse(&BASE.replacen(at, &slo(line), 1), "ok.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sc.slo[0].to_string(), "swarm.web.success_rate >= 99%");
    }
}

#[test]
fn a_patience_must_be_a_positive_duration() {
    let at = "strategy = \"backoff\"\n";
    expect(at, "strategy = \"backoff\"\npatience = \"0s\"\n", "swarm.web.patience", 31, &["greater than zero"]);
    expect(at, "strategy = \"backoff\"\npatience = 2\n", "swarm.web.patience", 31, &["found the integer 2"]);
}

#[test]
fn a_hedge_needs_room_for_a_second_attempt_and_a_real_delay() {
    let at = "cap = \"30s\"\n";
    let one = "cap = \"30s\"\nmax_attempts = 1\nhedge_after = \"2s\"\n";
    expect(at, one, "strategy.backoff.max_attempts", 26, &["a hedge is an attempt", "at least 2"]);
    let none = "kind = \"none\"\nhedge_after = \"2s\"\n";
    let e = errors("kind = \"exponential\"\nbase = \"1s\"\ncap = \"30s\"\n", none);
    assert!(
        e.iter().any(|e| e.key == "strategy.backoff.hedge_after" && e.to_string().contains("max_attempts is 1")),
        "{e:#?}"
    );
    expect(
        at,
        "cap = \"30s\"\nhedge_after = \"0s\"\n",
        "strategy.backoff.hedge_after",
        26,
        &["below the shortest allowed"],
    );
}

/// `BASE` with txt2img cached: its `[class.txt2img.cache]` table starts on line 18.
const SERVICE: &str = "service = { dist = \"lognormal\", median = \"3s\", p99 = \"9s\" }\n";

fn cached(keys: &str) -> String {
    format!("{SERVICE}\n[class.txt2img.cache]\n{keys}\n")
}

#[test]
fn the_cached_base_is_valid() {
    let text = BASE.replacen(SERVICE, &cached("objects = 1000\nzipf_s = 0.9\nsize = \"1.5MB\""), 1);
    let sc = Scenario::parse(&text, "ok.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(sc.proxy.caches());
    assert!(sc.classes[1].objects.is_some() && sc.classes[0].objects.is_none(), "only txt2img is cached");
}

#[test]
fn cache_keys_name_their_problem_key_and_line() {
    let base = "objects = 1000\nsize = \"1MB\"\n";
    let with = |extra: &str| cached(&format!("{base}{extra}"));
    // Line 19 is `objects`, 20 `size`, 21 the key under test.
    expect(SERVICE, &with("ttll = \"5s\""), "class.txt2img.cache.ttll", 21, &["unknown key", "did you mean `ttl`"]);
    expect(SERVICE, &with("ttl = \"-5s\""), "class.txt2img.cache.ttl", 21, &["expected a number before `-5s`"]);
    expect(SERVICE, &with("ttl = \"0s\""), "class.txt2img.cache.ttl", 21, &["greater than zero"]);
    expect(SERVICE, &with("zipf_s = 0"), "class.txt2img.cache.zipf_s", 21, &["greater than 0, got 0"]);
    expect(SERVICE, &with("zipf_s = -1.5"), "class.txt2img.cache.zipf_s", 21, &["greater than 0, got -1.5"]);
    expect(SERVICE, &with("cacheable = 1.5"), "class.txt2img.cache.cacheable", 21, &["share in [0, 1]"]);
    expect(SERVICE, &with("popularity = \"zipfian\""), "class.txt2img.cache.popularity", 21, &["did you mean `zipf`"]);
    expect(
        SERVICE,
        &with("popularity = \"uniform\"\nzipf_s = 1.1"),
        "class.txt2img.cache.zipf_s",
        22,
        &["only when popularity = \"zipf\""],
    );
    expect(SERVICE, &with("popularity = \"unique\""), "class.txt2img.cache.objects", 19, &["does not apply"]);
    expect(SERVICE, &cached("size = \"1MB\""), "class.txt2img.cache.objects", 18, &["is required"]);
    expect(SERVICE, &cached("objects = 0\nsize = \"1MB\""), "class.txt2img.cache.objects", 19, &["at least 1"]);
    expect(SERVICE, &cached("objects = 10"), "class.txt2img.cache.size", 18, &["is required"]);
    expect(SERVICE, &cached("objects = 10\nsize = \"10\""), "class.txt2img.cache.size", 20, &["missing unit", "32KB"]);
    expect(SERVICE, &cached("objects = 10\nsize = 10"), "class.txt2img.cache.size", 20, &["write the unit"]);
}

#[test]
fn proxy_cache_and_workspace_keys_name_their_problem() {
    let proxy = "director = \"round_robin\"\n";
    let with = |keys: &str| format!("{proxy}\n[proxy.cache]\n{keys}\n");
    expect(proxy, &with("capacity = \"8GB\""), "proxy.cache.capacity", 10, &["above the limit of 4GB"]);
    expect(proxy, &with("capacity = \"0B\""), "proxy.cache.capacity", 10, &["greater than zero"]);
    expect(proxy, &with("rush_exponent = 1"), "proxy.cache.rush_exponent", 10, &["at least 2"]);
    expect(proxy, &with("rush = 3"), "proxy.cache.rush", 10, &["unknown key", "rush_exponent"]);
    expect(proxy, &format!("{proxy}http_resp_size = \"32kb\"\n"), "proxy.http_resp_size", 8, &["unknown unit `kb`"]);
    expect(
        SERVICE,
        &format!("{SERVICE}headers = \"1KB\"\nlargest_header = \"2KB\"\n"),
        "class.txt2img.largest_header",
        18,
        &["cannot exceed the class's headers"],
    );
}

#[test]
fn headers_beyond_the_workspace_are_a_warning_not_an_error() {
    let text = BASE.replacen(SERVICE, &format!("{SERVICE}headers = \"40KB\"\n"), 1);
    let sc = Scenario::parse(&text, "warn.toml").unwrap_or_else(|e| panic!("{e}"));
    let w = sc.warnings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(w.contains("class.txt2img.headers") && w.contains("503 overflow"), "{w}");
    assert!(sc.proxy.any_overflow());
}

/// `BASE` with one chaos event of `body` (lines 32 on) appended.
fn chaos_errors(body: &str) -> Vec<ScenarioError> {
    let to = format!("strategy = \"backoff\"\n\n[[chaos]]\n{body}");
    errors("strategy = \"backoff\"\n", &to)
}

fn has(errs: &[ScenarioError], key: &str, line: Option<usize>, fragment: &str) {
    let e = errs.iter().find(|e| e.key == key).unwrap_or_else(|| panic!("no error at {key}: {errs:#?}"));
    let text = e.to_string();
    assert_eq!(e.file, "bad.toml");
    if line.is_some() {
        assert_eq!(e.line, line, "{text}");
    }
    assert!(text.contains(fragment), "`{fragment}` missing from:\n{text}");
}

#[test]
fn injected_faults_refuse_a_share_outside_0_1_an_unknown_status_and_a_missing_pool() {
    let e =
        chaos_errors("kind = \"errors\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = 1.5\nstatus = 503\n");
    has(&e, "chaos[0].share", Some(37), "must be a share in [0, 1], got 1.5");
    let e = chaos_errors("kind = \"connect_failures\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = -0.1\n");
    has(&e, "chaos[0].share", Some(37), "got -0.1");
    let e =
        chaos_errors("kind = \"errors\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = 0.1\nstatus = 504\n");
    has(&e, "chaos[0].status", Some(38), "a backend error is 500, 502 or 503, got 504");
    let e = chaos_errors("kind = \"errors\"\nat = \"1m\"\nduration = \"1m\"\nshare = 0.1\nstatus = 500\n");
    has(&e, "chaos[0].pool", None, "is required for kind = \"errors\"");
    let e = chaos_errors("kind = \"errors\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = 0.1\n");
    has(&e, "chaos[0].status", None, "is required for kind = \"errors\"");
    let e = chaos_errors("kind = \"flap\"\npool = \"gpi\"\nat = \"1m\"\nduration = \"1m\"\nshare = 0.5\n");
    has(&e, "chaos[0].pool", Some(34), "gpi");
    let e = chaos_errors(
        "kind = \"latency\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nadded = \"100ms\"\njitter = \"1s\"\n",
    );
    has(&e, "chaos[0].jitter", Some(38), "must not exceed added");
    let e = chaos_errors(
        "kind = \"latency\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = 0.5\nadded = \"1s\"\n",
    );
    has(&e, "chaos[0].share", Some(37), "does not apply when kind = \"latency\"");
    let ok = "strategy = \"backoff\"\n\n[[chaos]]\nkind = \"errors\"\npool = \"gpu\"\nat = \"1m\"\nduration = \"1m\"\nshare = 1\nstatus = 502\n";
    Scenario::parse(&BASE.replacen("strategy = \"backoff\"\n", ok, 1), "ok.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_proxy_cannot_retry_a_backend_500() {
    let e = errors("director = \"round_robin\"", "director = \"round_robin\"\nretry_on = [\"500\"]");
    has(&e, "proxy.retry_on", Some(8), "the proxy cannot retry `500`");
}

/// `validate` sees what `compare` would refuse in `[compare]`, with the key and line.
#[test]
fn a_compare_list_of_one_strategy_or_one_listed_twice_is_refused_where_it_is_written() {
    let section = |list: &str| format!("strategy = \"backoff\"\n\n[compare]\nstrategies = {list}\n");
    let at = "strategy = \"backoff\"\n";
    expect(at, &section(r#"["backoff"]"#), "compare.strategies", 33, &["a comparison needs at least two"]);
    expect(at, &section(r#"["backoff", "backoff"]"#), "compare.strategies[1]", 33, &["`backoff` is listed twice"]);
}
