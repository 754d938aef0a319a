//! The pure models of the system under test.
//!
//! Each model is a state machine: given `now` and an input it updates itself and
//! says what should happen next (start a job, wait, fail with a cause). None of
//! them reads a clock, sleeps, or touches a global RNG — randomness arrives as an
//! explicit stream — so the simulated engine drives them in virtual time and a
//! live engine can drive the same logic in wall-clock time.

pub mod autoscaler;
pub mod chaos;
pub mod dist;
pub mod gauge;
pub mod gpu;
pub mod outcome;
pub mod proxy;
pub mod retry;
pub mod workload;
