//! Cost in one unit: instance-hours everywhere, and money where pools have a
//! price per instance-hour.

use crate::support::{scratch, stampede, stderr};

#[test]
fn a_price_per_instance_hour_shows_the_cost_in_money() {
    let out = scratch("cost-run");
    let o = stampede(&[
        "run",
        "scenarios/mmc-erlang.toml",
        "--set",
        "scenario.duration=20m",
        "--set",
        "pool.gpu.price_per_hour=2.5",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("json")).expect("json");
    let hours = v["gpu"]["instance_seconds"].as_f64().expect("instance_seconds") / 3600.0;
    assert!(text.contains(&format!("instance-hours {hours:.1}")), "{text}");
    assert!(text.contains(&format!("cost {:.2}", hours * 2.5)), "{text}");
    let cost = v["gpu"]["cost"].as_f64().expect("summary.json has the cost");
    assert!((cost - hours * 2.5).abs() < 1e-9 * cost, "{cost} vs 2.5 × {hours}");
    assert!(!text.contains("instance time"), "one unit for cost: {text}");
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(html.contains(&format!("{:.2}", hours * 2.5)), "the page shows the cost too");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_negative_price_is_refused_naming_the_key() {
    let o = stampede(&["validate", "scenarios/mmc-erlang.toml", "--set", "pool.gpu.price_per_hour=-1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("pool.gpu.price_per_hour") && err.contains("must be a number of at least 0"), "{err}");
}

#[test]
fn compare_shows_each_strategys_cost_when_pools_have_a_price() {
    let out = scratch("cost-compare");
    let o = stampede(&[
        "compare",
        "scenarios/retry-storm.toml",
        "--seeds",
        "2",
        "--set",
        "scenario.duration=12m",
        "--set",
        "pool.gpu.price_per_hour=3",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).expect("json")).expect("json");
    for s in c["strategies"].as_array().expect("strategies") {
        let hours = s["metrics"]["instance_seconds"]["mean"].as_f64().expect("instance-seconds") / 3600.0;
        let cost = s["cost"]["mean"].as_f64().expect("a cost with a price");
        assert!((cost - 3.0 * hours).abs() < 1e-6 * cost.max(1.0), "{cost} vs 3 × {hours}");
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("cost"));
    let _ = std::fs::remove_dir_all(out);
}

/// A price varied by a sweep prices each point at its own value, and
/// sweep.csv carries the cost; a price of 0 (an owned pool) is allowed.
#[test]
fn a_swept_price_costs_each_point_at_its_own_price() {
    let out = scratch("cost-sweep");
    let o = stampede(&[
        "sweep",
        "scenarios/mmc-erlang.toml",
        "--vary",
        "pool.gpu.price_per_hour=0,1,3",
        "--seeds",
        "2",
        "--set",
        "scenario.duration=10m",
        "-q",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let (hours, cost) = (col("instance_seconds_mean"), col("cost_mean"));
    for row in lines {
        let cells: Vec<&str> = row.split(',').collect();
        let price: f64 = cells[0].parse().expect("price");
        let h: f64 = cells[hours].parse::<f64>().expect("instance-seconds") / 3600.0;
        let c: f64 = cells[cost].parse().expect("cost");
        assert!((c - price * h).abs() <= 1e-9 * c.max(1.0), "price {price}: cost {c}, {h} instance-hours");
    }
    let _ = std::fs::remove_dir_all(out);
}
