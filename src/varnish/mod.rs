//! The bridge to a real Varnish: the scenario's proxy written as Varnish 7
//! VCL ([`vcl`]), and Varnish's own counters read back ([`stat`]) so a run
//! behind a real varnishd can be set beside the model's prediction.
//!
//! The proxy model (src/model/proxy/) is the reference; this module only
//! translates it. Where VCL cannot say what the model does (a cause-by-cause
//! retry rule, a least-connections director, a rate limit without
//! varnish-modules), the translation says so in the VCL and in its warnings
//! instead of silently doing something else.

pub mod stat;
pub mod vcl;
