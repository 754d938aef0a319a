//! Priority tiers: the tier travels with each request to the GPU queue, the
//! backend sheds the lower tier first and serves the higher first, and the
//! per-tier and per-swarm metrics say who absorbed the overload.

use stampede::criteria::Metric;
use stampede::engine::simulate;
use stampede::scenario::Scenario;

/// Two swarms of equal traffic share one saturated pool (offered 1.2× its
/// capacity); the only difference between them is their tier.
fn scenario(pool_rule: &str) -> Scenario {
    let text = format!(
        r#"[scenario]
name = "tiers"
duration = "10m"
warmup = "1m"
tiers = ["paid", "free"]

[pool.gpu]
slots = 2
initial_instances = 3
queue_limit = 10
{pool_rule}

[class.c]
pool = "gpu"
service = {{ dist = "exponential", mean = "1s" }}

[swarm.paid]
class = "c"
arrivals = {{ process = "poisson", rate = "3.6/s" }}
tier = "paid"

[swarm.free]
class = "c"
arrivals = {{ process = "poisson", rate = "3.6/s" }}
tier = "free"

[slo]
tier.paid.success_rate = ">= 99%"
swarm.free.rate_503 = "< 100%"
"#
    );
    Scenario::parse(&text, "tiers.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn without_a_pool_rule_both_tiers_suffer_alike_and_with_one_the_lower_tier_absorbs_the_overload() {
    let seeds = 1..=3u64;
    for seed in seeds {
        let plain = simulate(&scenario(""), seed).expect("runs").summary;
        let ruled =
            simulate(&scenario("tier_priority = true\ntier_shed_at = { free = 2 }"), seed).expect("runs").summary;
        let (p, f) = (&plain.tiers["paid"], &plain.tiers["free"]);
        // Alone, the tiers differ only by their Poisson noise: within 5
        // standard errors of a difference of two proportions.
        let n = p.attempts.min(f.attempts) as f64;
        let (rp, rf) = (p.rate_503.expect("attempts"), f.rate_503.expect("attempts"));
        let pooled = (rp + rf) / 2.0;
        let se = (2.0 * pooled * (1.0 - pooled) / n).sqrt();
        assert!((rp - rf).abs() < 5.0 * se, "seed {seed}: {p:?} {f:?}");
        assert!(pooled > 0.05, "seed {seed}: the pool is overloaded ({pooled})");
        // With the rule the free tier is shed at a queue of 2 and served last:
        // paying users keep their success, free users take the 503s.
        let (p, f) = (&ruled.tiers["paid"], &ruled.tiers["free"]);
        assert!(p.success_rate.expect("requests") >= 0.99, "seed {seed}: {p:?}");
        assert!(f.rate_503.expect("attempts") > pooled + 5.0 * se, "seed {seed}: {f:?}");
        assert_eq!(ruled.slo.iter().map(|s| s.passed).collect::<Vec<_>>(), [true, true], "seed {seed}");
        let paid_slo = plain.slo.iter().find(|s| s.metric == "tier.paid.success_rate").expect("the threshold");
        assert!(!paid_slo.passed, "seed {seed}: without the rule paid users lose too: {paid_slo:?}");
    }
}

#[test]
fn per_tier_and_per_swarm_metrics_read_the_summary_s_own_numbers() {
    let s = simulate(&scenario("tier_priority = true\ntier_shed_at = { free = 2 }"), 1).expect("runs").summary;
    let m = |name: &str| s.metric(Metric::lookup(name).expect("a metric"));
    let free = &s.tiers["free"];
    assert_eq!(free.swarms, ["free"]);
    assert_eq!(m("tier.free.rate_503"), free.rate_503);
    assert_eq!(m("tier.free.rate_429"), Some(0.0), "a 503 pool answers no 429");
    assert_eq!(m("tier.paid.success_rate"), s.tiers["paid"].success_rate);
    assert_eq!(m("swarm.free.success_rate"), s.swarms["free"].success_rate);
    let paid = &s.tiers["paid"].requests;
    assert_eq!(m("tier.paid.failure_rate"), Some(((paid.failed as f64 / paid.offered as f64) * 1e9).round() / 1e9));
    assert_eq!(m("swarm.paid.rate_503"), s.swarms["paid"].rate_503);
    assert_eq!(free.status_503 + s.tiers["paid"].status_503, s.attempts.status_503);
    // The text summary has a line per tier, as paid-vs-free's comment promises.
    let mut text = Vec::new();
    let sc = scenario("tier_priority = true\ntier_shed_at = { free = 2 }");
    stampede::report::text::print_summary(&mut text, &sc, &s).expect("printed");
    let text = String::from_utf8(text).expect("utf-8");
    let line = text.lines().find(|l| l.trim_start().starts_with("free ") && l.ends_with("  free"));
    let share = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.2}%", x * 100.0));
    let line = line.unwrap_or_else(|| panic!("no tier line for free:\n{text}"));
    assert!(line.contains(&share(free.success_rate)) && line.contains(&share(free.rate_429)), "{line}");
}

#[test]
fn a_scenario_that_never_speaks_of_tiers_reports_none() {
    let sc = Scenario::parse(
        "[scenario]\nname = \"t\"\nduration = \"1m\"\n[pool.gpu]\n[class.c]\npool = \"gpu\"\n\
         service = { dist = \"constant\", value = \"1s\" }\n\
         [swarm.w]\nclass = \"c\"\narrivals = { process = \"poisson\", rate = \"0.5/s\" }\n",
        "t.toml",
    )
    .expect("valid");
    let s = simulate(&sc, 1).expect("runs").summary;
    assert!(s.tiers.is_empty());
    assert!(!serde_json::to_string(&s).expect("json").contains("\"tiers\""));
}

/// scenarios/paid-vs-free.toml, with its pool's tier rules or without them.
pub fn shipped_paid_vs_free(tiers: bool) -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/paid-vs-free.toml")).expect("file");
    assert!(text.contains("tier_priority = true") && text.contains("tier_shed_at = { free = 1 }"), "the shipped rule");
    if tiers {
        return text;
    }
    text.replace("tier_priority = true", "tier_priority = false")
        .replace("tier_shed_at = { free = 1 }", "tier_shed_at = {}")
}

/// The other half of the paid-vs-free story: without the rate limit, the
/// tiers at the GPU queue alone keep the paying users' failures near 0.1%,
/// where without either defence more than a tenth of their requests fail;
/// and the shipped file (both defences) meets its one-threshold SLO.
#[test]
fn tiers_alone_protect_the_paying_users_of_paid_vs_free_and_both_meet_its_slo() {
    let unlimited = |text: String| text.replace("rate_limit = \"3/s\"", "rate_limit = \"1000/s\"");
    let failed = |toml: &str| {
        let sc = crate::support::scenario(toml);
        let xs: Vec<f64> = (1..=5)
            .map(|seed| {
                simulate(&sc, seed)
                    .expect("runs")
                    .summary
                    .metric(Metric::lookup("tier.paid.failure_rate").expect("a metric"))
                    .expect("requests")
            })
            .collect();
        crate::support::estimate(&xs)
    };
    let tiers = failed(&unlimited(shipped_paid_vs_free(true)));
    let neither = failed(&unlimited(shipped_paid_vs_free(false)));
    assert!(tiers.mean + tiers.half_width() < 0.005, "tiers alone: {tiers:?}");
    assert!(neither.mean - neither.half_width() > 0.05, "neither defence: {neither:?}");
    let both = crate::support::scenario(&shipped_paid_vs_free(true));
    for seed in 1..=3 {
        assert!(simulate(&both, seed).expect("runs").summary.slo_passed(), "seed {seed}");
    }
}
