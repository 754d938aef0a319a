//! The proxy side of an attempt: a backend fetch.
//!
//! A fetch is routed by the director, takes a connection slot (or waits for
//! one), connects, hands the job to the backend and waits for the first byte and
//! then for each further chunk. It ends with a response, or with a synthetic
//! 503 whose cause says which rule fired; VCL may retry it on another instance.
//! The client's own timeout does not end a fetch: Varnish only notices a gone
//! client when it writes the response, so the fetch holds its connection slot
//! (and the backend keeps working) until it ends by itself.

use crate::arena::Key;
use crate::model::gpu::{Admit, QueueFullStatus, Reject};
use crate::model::outcome::{Cause, Outcome, SYNTHETIC_RETRY_AFTER};
use crate::model::proxy::Route;
use crate::time::SimDuration;

use super::Trace;
use super::state::{Event, Phase, Sim};

impl<T: Trace> Sim<'_, T> {
    /// Routes a fetch (again, when `retry` is a VCL retry).
    pub(super) fn start_fetch(&mut self, att: Key, retry: bool) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        a.epoch += 1;
        a.phase = Phase::Routing;
        a.inst = None;
        let (pool, measured) = (a.pool as usize, a.measured);
        self.rec.fetch(measured, retry);
        match self.proxy.route(pool, att.to_bits()) {
            Route::Fail(cause) => self.fetch_failed(att, cause),
            Route::Wait(inst) => {
                let a = self.attempts.get_mut(att).expect("live attempt");
                a.phase = Phase::Waiting;
                a.inst = Some(inst);
                let epoch = a.epoch;
                let timeout = self.proxy.cfg.wait.map_or(SimDuration::MAX, |w| w.timeout);
                self.schedule(self.now + timeout, Event::WaitTimeout { att, epoch });
            }
            Route::Connect(inst) => {
                let a = self.attempts.get_mut(att).expect("live attempt");
                a.inst = Some(inst);
                a.holds_conn = true;
                self.connect(att);
            }
        }
    }

    /// The fetch holds a connection slot: connect and hand the job to the backend.
    fn connect(&mut self, att: Key) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        let (pool, inst) = (a.pool as usize, a.inst.expect("routed"));
        match self.pools[pool].submit(self.now, inst, a.work, a.chunks, att.to_bits()) {
            Admit::Rejected(Reject::Dead) => {
                // The host is gone: the SYN goes unanswered until connect_timeout.
                a.epoch += 1;
                a.phase = Phase::Connecting;
                let epoch = a.epoch;
                if let Some(t) = self.proxy.cfg.connect_timeout {
                    self.schedule(self.now + t, Event::ConnectTimeout { att, epoch });
                }
            }
            Admit::Rejected(Reject::Maintenance) => self.fetch_failed(att, Cause::Maintenance),
            Admit::Rejected(Reject::QueueFull) => match self.pools[pool].cfg.queue_full_status {
                QueueFullStatus::S503 => self.fetch_failed(att, Cause::BackendQueueFull),
                QueueFullStatus::S429 => {
                    let retry_after = self.pools[pool].cfg.retry_after;
                    self.release_conn(att);
                    self.end_fetch(att, Outcome::Status429, retry_after);
                }
            },
            Admit::Started { job, wake } => {
                self.rec.queue_wait(self.now, SimDuration::ZERO);
                self.trace.job_started(pool, inst.to_bits(), self.now);
                if let Some(w) = wake {
                    self.schedule_wake(pool, w);
                }
                self.await_first_byte(att, job);
            }
            Admit::Queued { job } => self.await_first_byte(att, job),
        }
    }

    fn await_first_byte(&mut self, att: Key, job: Key) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        a.job = Some(job);
        a.backend_sent = self.now;
        a.epoch += 1;
        a.phase = Phase::AwaitingFirstByte;
        let epoch = a.epoch;
        if let Some(t) = self.proxy.cfg.first_byte_timeout {
            self.schedule(self.now + t, Event::FirstByteTimeout { att, epoch });
        }
    }

    /// A chunk of the response arrived (not the last one).
    pub(super) fn on_chunk(&mut self, att: Key) {
        let Some(a) = self.attempts.get_mut(att) else { return };
        if !matches!(a.phase, Phase::AwaitingFirstByte | Phase::Streaming) {
            return;
        }
        if a.phase == Phase::AwaitingFirstByte {
            a.phase = Phase::Streaming;
            a.epoch += 1;
            a.bb_armed = false;
            self.rec.first_byte(a.measured, self.now - a.backend_sent);
        } else {
            self.rec.chunk_gap(a.measured, self.now - a.last_chunk);
        }
        a.last_chunk = self.now;
        let Some(bbt) = self.proxy.cfg.between_bytes_timeout else { return };
        a.bb_deadline = self.now + bbt;
        if !a.bb_armed {
            a.bb_armed = true;
            let (deadline, epoch) = (a.bb_deadline, a.epoch);
            self.schedule(deadline, Event::BetweenBytes { att, epoch });
        }
    }

    /// The last chunk arrived: the response is complete.
    pub(super) fn on_response(&mut self, att: Key) {
        let Some(a) = self.attempts.get_mut(att) else { return };
        a.job = None;
        match a.phase {
            // A response in one piece: its first byte is its completion.
            Phase::AwaitingFirstByte => self.rec.first_byte(a.measured, self.now - a.backend_sent),
            _ => self.rec.chunk_gap(a.measured, self.now - a.last_chunk),
        }
        self.release_conn(att);
        self.end_fetch(att, Outcome::Ok, None);
    }

    fn current(&self, att: Key, epoch: u32, phase: Phase) -> bool {
        self.attempts.get(att).is_some_and(|a| a.epoch == epoch && a.phase == phase)
    }

    pub(super) fn on_first_byte_timeout(&mut self, att: Key, epoch: u32) {
        if self.current(att, epoch, Phase::AwaitingFirstByte) {
            self.abandon_job(att);
            self.fetch_failed(att, Cause::FirstByteTimeout);
        }
    }

    pub(super) fn on_between_bytes(&mut self, att: Key, epoch: u32) {
        if !self.current(att, epoch, Phase::Streaming) {
            return;
        }
        let a = self.attempts.get_mut(att).expect("current");
        if self.now < a.bb_deadline {
            // A chunk came meanwhile: re-arm for the new deadline.
            let deadline = a.bb_deadline;
            self.schedule(deadline, Event::BetweenBytes { att, epoch });
            return;
        }
        self.abandon_job(att);
        self.fetch_failed(att, Cause::BetweenBytesTimeout);
    }

    pub(super) fn on_connect_timeout(&mut self, att: Key, epoch: u32) {
        if self.current(att, epoch, Phase::Connecting) {
            self.fetch_failed(att, Cause::ConnectTimeout);
        }
    }

    pub(super) fn on_wait_timeout(&mut self, att: Key, epoch: u32) {
        if self.current(att, epoch, Phase::Waiting) {
            let a = self.attempts.get(att).expect("current");
            let (pool, inst) = (a.pool as usize, a.inst.expect("waiting on an instance"));
            self.proxy.cancel_wait(pool, inst, att.to_bits());
            self.fetch_failed(att, Cause::Busy);
        }
    }

    /// The proxy stops waiting for the backend job of `att`.
    fn abandon_job(&mut self, att: Key) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        let Some(job) = a.job.take() else { return };
        let pool = a.pool as usize;
        let Some(ab) = self.pools[pool].abandon(self.now, job) else { return };
        if let Some(started) = ab.stopped.and_then(|s| s.started_at) {
            self.rec.wasted(started, self.now);
        }
        if let Some(p) = ab.promoted {
            self.job_promoted(pool, p);
        }
    }

    /// Fails the fetch with a 503 of `cause`: VCL retries it if told to, otherwise
    /// the client gets the 503.
    pub(super) fn fetch_failed(&mut self, att: Key, cause: Cause) {
        self.release_conn(att);
        let a = self.attempts.get_mut(att).expect("live attempt");
        let cfg = &self.proxy.cfg;
        if cfg.retry_on.contains(Outcome::Status503(cause)) && a.retries < cfg.max_retries {
            a.retries += 1;
            self.start_fetch(att, true);
            return;
        }
        let retry_after = if cause.is_synthetic() {
            Some(SYNTHETIC_RETRY_AFTER)
        } else {
            self.pools[a.pool as usize].cfg.retry_after
        };
        self.end_fetch(att, Outcome::Status503(cause), retry_after);
    }

    /// Gives back the connection slot; a fetch waiting for one takes it over.
    fn release_conn(&mut self, att: Key) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        if !a.holds_conn {
            return;
        }
        a.holds_conn = false;
        let (pool, inst) = (a.pool as usize, a.inst.expect("held a connection"));
        if let Some(bits) = self.proxy.release(pool, inst) {
            let waiter = Key::from_bits(bits);
            let w = self.attempts.get_mut(waiter).expect("waiters are live attempts");
            w.holds_conn = true;
            w.epoch += 1; // cancels its wait timeout
            self.connect(waiter);
        }
    }

    /// The fetch is over; the client hears of it if it still listens.
    fn end_fetch(&mut self, att: Key, outcome: Outcome, retry_after: Option<SimDuration>) {
        let a = self.attempts.get(att).expect("live attempt");
        let (waiting, session) = (a.client_waiting, a.session);
        if session {
            self.proxy.close_session();
        }
        if waiting {
            self.client_outcome(att, outcome, retry_after);
        }
        self.attempts.remove(att);
    }

    /// Fails every fetch in `waiters` (their instance went sick or away).
    pub(super) fn fail_waiters(&mut self, waiters: Vec<u64>) {
        for bits in waiters {
            let att = Key::from_bits(bits);
            if self.attempts.get(att).is_some_and(|a| a.phase == Phase::Waiting) {
                self.fetch_failed(att, Cause::Unhealthy);
            }
        }
    }
}
