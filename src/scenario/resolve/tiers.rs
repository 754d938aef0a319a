//! Priority tiers: `scenario.tiers` (their names, highest first), each
//! swarm's `tier`, and a pool's `tier_priority` and `tier_shed_at`.
//!
//! Without `scenario.tiers` the tiers are Google SRE's criticalities, highest
//! first: critical_plus, critical, sheddable_plus, sheddable; a swarm without
//! a `tier` is `critical`, gRPC's default criticality. With a list of its own
//! a swarm's default is the list's first tier. Nothing uses tiers until a pool
//! says how (its keys default off), so every older scenario runs as before.

use super::ctx::Ctx;
use crate::model::gpu::Priority;
use crate::scenario::did_you_mean;
use crate::scenario::limits;
use crate::scenario::raw::{RawMeta, RawPool, RawSwarm};

/// Google SRE's criticality names ("Handling Overload"), highest first.
pub const SRE_TIERS: [&str; 4] = ["critical_plus", "critical", "sheddable_plus", "sheddable"];

/// The scenario's tiers, highest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tiers {
    pub names: Vec<String>,
    /// The rank of a swarm that names no tier.
    pub default: u8,
}

impl Tiers {
    /// Looks a tier up by name, or explains the miss with the defined
    /// names, highest first.
    fn rank(&self, cx: &mut Ctx<'_>, path: &str, name: &str) -> Option<u8> {
        if let Some(r) = self.names.iter().position(|n| n == name) {
            return Some(r as u8);
        }
        let mut help = format!("defined, highest first: {}", self.names.join(", "));
        if let Some(s) = did_you_mean(name, self.names.iter().map(String::as_str)) {
            help = format!("did you mean `{s}`? ({help})");
        }
        cx.error_help(path, format!("refers to tier `{name}`, which is not defined"), help);
        None
    }
}

pub fn resolve_tiers(cx: &mut Ctx<'_>, m: &RawMeta) -> Tiers {
    let Some(list) = cx.get("scenario.tiers", &m.tiers) else {
        return Tiers { names: SRE_TIERS.iter().map(|s| s.to_string()).collect(), default: 1 };
    };
    if list.is_empty() {
        cx.error_help("scenario.tiers", "is empty", "list the tiers highest first, e.g. [\"paid\", \"free\"]");
    }
    if list.len() > limits::MAX_TIERS {
        cx.error_help(
            "scenario.tiers",
            format!("lists {} tiers; at most {} are allowed", list.len(), limits::MAX_TIERS),
            limits::WHY_MAX_TIERS,
        );
    }
    for (i, name) in list.iter().enumerate() {
        if list[..i].contains(name) {
            cx.error(&format!("scenario.tiers[{i}]"), format!("`{name}` is listed twice"));
        } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            cx.error_help(
                &format!("scenario.tiers[{i}]"),
                format!("`{name}` cannot name a tier"),
                "use letters, digits, '-' and '_' (it becomes part of metric names such as tier.<name>.rate_503)",
            );
        }
    }
    let names: Vec<String> = list.into_iter().take(limits::MAX_TIERS).collect();
    Tiers { names, default: 0 }
}

/// A swarm's tier rank.
pub fn resolve_swarm_tier(cx: &mut Ctx<'_>, name: &str, s: &RawSwarm, tiers: &Tiers) -> u8 {
    let path = format!("swarm.{name}.tier");
    match cx.get(&path, &s.tier) {
        Some(t) => tiers.rank(cx, &path, &t).unwrap_or(tiers.default),
        None => tiers.default,
    }
}

/// A pool's tier rule, when it has `tier_priority` or `tier_shed_at`.
pub fn resolve_priority(cx: &mut Ctx<'_>, name: &str, p: &RawPool, tiers: &Tiers) -> Option<Priority> {
    let serve_first = cx.get(&format!("pool.{name}.tier_priority"), &p.tier_priority);
    let shed = cx.get(&format!("pool.{name}.tier_shed_at"), &p.tier_shed_at);
    if serve_first.is_none() && shed.is_none() {
        return None;
    }
    let mut shed_at = vec![None; tiers.names.len()];
    for (tier, at) in shed.iter().flatten() {
        let path = format!("pool.{name}.tier_shed_at.{tier}");
        let Some(rank) = tiers.rank(cx, &path, tier) else { continue };
        if *at < 0 || *at > i64::from(u32::MAX) {
            cx.error(&path, format!("must be a queue length of at least 0, got {at}"));
            continue;
        }
        shed_at[usize::from(rank)] = Some(*at as u32);
    }
    Some(Priority { tiers: tiers.names.len() as u8, serve_first: serve_first.unwrap_or(false), shed_at })
}
