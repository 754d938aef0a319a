//! Integration tests: one binary, one file per behaviour.
//!
//! Statistical tests use fixed seeds and tolerances computed from the data
//! (Student t over independent replications), so they are deterministic and
//! cannot quietly loosen. Nothing here sleeps or measures wall-clock time.

mod backoff;
mod bad_input;
mod cache;
mod chaos_admin;
mod cli;
mod compare;
mod conservation;
mod cost;
mod defences;
mod determinism;
mod docs;
mod faults;
mod fuzz;
mod golden;
mod hedging;
mod install;
mod interrupt;
mod limits;
mod load;
mod memory;
mod merge_validation;
mod module_graph;
mod overrides;
mod plan;
mod plan_timeouts;
mod progress;
mod properties;
mod proxy;
mod rate_limit;
mod replication;
mod report_folders;
mod reports;
mod scope;
mod serve;
mod slo;
mod status_page;
mod support;
mod sweep;
mod theory;
mod tiers;
mod undefined;
