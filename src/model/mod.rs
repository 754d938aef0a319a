//! The models of the system under test, and every rule they follow.
//!
//! Each model is a state machine plus the rules that move it: given `now` and
//! an input it updates itself and says what should happen next (start a job,
//! wait, fail with a cause). None of them reads a clock, sleeps, or touches a
//! global RNG — randomness arrives as an explicit stream — and each talks to
//! the world only through its context ([`context`]): the simulated engine
//! implements the contexts with an event queue, a live engine with timers and
//! sockets, and both drive the same rules.
//!
//! The three actors and their contexts:
//! * [`client`] — swarms, requests, attempts, retries, bulk jobs ([`client::ClientCx`]);
//! * [`proxy`] — the Varnish-like fetch, director, probes ([`proxy::ProxyCx`]);
//! * [`backend`] — GPU pools, autoscaling, chaos ([`backend::BackendCx`]).
//!
//! The rest are their building blocks: [`gpu`] (one pool's bookkeeping),
//! [`autoscaler`], [`chaos`], [`retry`], [`workload`], [`dist`], [`gauge`],
//! [`outcome`].

pub mod autoscaler;
pub mod backend;
pub mod chaos;
pub mod client;
pub mod context;
pub mod dist;
pub mod gauge;
pub mod gpu;
pub mod load;
pub mod outcome;
pub mod proxy;
pub mod retry;
#[cfg(test)]
pub(crate) mod testkit;
pub mod workload;
