//! The client side: swarms produce logical requests (alone or as bulk jobs),
//! requests send attempts, failed attempts go to the swarm's retry strategy.

use rand::RngExt;

use crate::arena::Key;
use crate::model::outcome::Outcome;
use crate::model::retry::{Decision, RetryState};
use crate::model::workload::{BulkProgress, BulkStep};
use crate::rng::{Stream, stream};
use crate::scenario::ArrivalSpec;
use crate::time::SimDuration;

use super::state::{Attempt, Bulk, Event, Origin, Phase, Request, Sim, User};
use super::{RequestId, Trace};

impl<T: Trace> Sim<'_, T> {
    pub(super) fn on_arrival(&mut self, swarm: usize) {
        let seq = self.swarms[swarm].arrivals;
        self.swarms[swarm].arrivals += 1;
        self.begin_work(swarm, 0, seq, None);
        let s = &mut self.swarms[swarm];
        if let Some(next) = s.open.as_mut().and_then(|o| o.next(&mut s.rng))
            && next < self.end
        {
            // A swarm has one pending arrival at a time: it lives in the swarm's lane.
            self.queue.push_lane(swarm, next.max(self.now), Event::Arrival { swarm: swarm as u16 });
        }
    }

    /// One unit of a swarm's work: a request, or a bulk job of many.
    /// `source` is 0 for open-loop arrivals and user + 1 for closed-loop users.
    fn begin_work(&mut self, swarm: usize, source: u64, seq: u64, user: Option<u32>) {
        let spec = &self.sc.swarms[swarm];
        let Some(bulk) = spec.bulk else {
            self.start_request(swarm, source, seq, 0, None, Origin::Single { user });
            return;
        };
        let mut rng = stream(self.seed, Stream::Bulk { swarm: spec.id, source, seq });
        let class = pick_class(&spec.mix, &mut rng);
        let measured = self.rec.is_measured(self.now);
        self.rec.bulk_submitted(swarm, measured);
        let mut progress = BulkProgress::new(bulk);
        let first: Vec<u32> = progress.start().collect();
        let b = self.bulks.insert(Bulk {
            swarm: swarm as u16,
            class: class as u16,
            progress,
            submitted: self.now,
            measured,
            user,
            source,
            seq,
        });
        for image in first {
            self.start_request(swarm, source, seq, u64::from(image), Some(class), Origin::Bulk(b));
        }
    }

    fn start_request(&mut self, swarm: usize, source: u64, seq: u64, image: u64, class: Option<usize>, origin: Origin) {
        let spec = &self.sc.swarms[swarm];
        let mut rng = self.swarms[swarm].requests.derive([source, seq, image]);
        let class = class.unwrap_or_else(|| pick_class(&spec.mix, &mut rng));
        let work = self.sc.classes[class].service.sample(&mut rng);
        let measured = self.rec.is_measured(self.now);
        self.rec.offered(swarm, measured);
        let id = RequestId { swarm, source, seq, image };
        self.trace.offered(id, self.now, class, work);
        let req = self.requests.insert(Request {
            id,
            swarm: swarm as u16,
            class: class as u16,
            work,
            rng,
            retry: RetryState::default(),
            first_sent: self.now,
            measured,
            origin,
        });
        self.send_attempt(req);
    }

    /// Sends the next attempt of `req` through the proxy.
    pub(super) fn send_attempt(&mut self, req: Key) {
        let Some(r) = self.requests.get_mut(req) else { return };
        r.retry.attempts += 1;
        self.trace.attempt_sent(r.id, r.retry.attempts, self.now);
        let class = &self.sc.classes[r.class as usize];
        let att = self.attempts.insert(Attempt {
            req,
            swarm: r.swarm,
            pool: class.pool as u16,
            work: r.work,
            chunks: class.chunks,
            measured: r.measured,
            sent_at: self.now,
            client_waiting: true,
            epoch: 0,
            phase: Phase::Routing,
            inst: None,
            holds_conn: false,
            job: None,
            retries: 0,
            bb_deadline: self.now,
            bb_armed: false,
            session: false,
            backend_sent: self.now,
            last_chunk: self.now,
        });
        if let Some(timeout) = self.sc.swarms[r.swarm as usize].timeout {
            self.schedule(self.now + timeout, Event::ClientTimeout { att });
        }
        if !self.proxy.open_session() {
            self.client_outcome(att, Outcome::ConnectError, None);
            self.attempts.remove(att);
            return;
        }
        self.attempts.get_mut(att).expect("just inserted").session = true;
        self.start_fetch(att, false);
    }

    pub(super) fn on_client_timeout(&mut self, att: Key) {
        if self.attempts.get(att).is_some_and(|a| a.client_waiting) {
            // The proxy does not notice: its fetch goes on until it ends by itself.
            self.client_outcome(att, Outcome::ClientTimeout, None);
        }
    }

    /// The client learns how `att` ended. The attempt record stays (its fetch may go on).
    pub(super) fn client_outcome(&mut self, att: Key, outcome: Outcome, retry_after: Option<SimDuration>) {
        let a = self.attempts.get_mut(att).expect("live attempt");
        a.client_waiting = false;
        let (req, swarm, measured, latency) = (a.req, a.swarm as usize, a.measured, self.now - a.sent_at);
        self.rec.attempt(swarm, measured, outcome, latency);
        if outcome == Outcome::Ok {
            self.finish_request(req, true);
            return;
        }
        let policy = &self.sc.strategies[self.sc.swarms[swarm].strategy].policy;
        let r = self.requests.get_mut(req).expect("a waiting attempt has its request");
        match policy.on_failure(&mut r.retry, outcome, retry_after, &mut r.rng) {
            Decision::RetryAfter(delay) => self.schedule(self.now + delay, Event::Send { req }),
            Decision::NotRetryable | Decision::Exhausted => self.finish_request(req, false),
        }
    }

    fn finish_request(&mut self, req: Key, succeeded: bool) {
        let r = self.requests.remove(req).expect("live request");
        let swarm = r.swarm as usize;
        self.rec.request_done(swarm, r.measured, succeeded, r.retry.attempts, self.now - r.first_sent);
        match r.origin {
            Origin::Bulk(b) => self.bulk_image_done(b, succeeded),
            Origin::Single { user: Some(u) } => self.user_cycle_done(swarm, u),
            Origin::Single { user: None } => {}
        }
    }

    fn bulk_image_done(&mut self, b: Key, succeeded: bool) {
        let bulk = self.bulks.get_mut(b).expect("live bulk job");
        match bulk.progress.image_done(succeeded) {
            BulkStep::Send(image) => {
                let (swarm, source, seq, class) = (bulk.swarm as usize, bulk.source, bulk.seq, bulk.class as usize);
                self.start_request(swarm, source, seq, u64::from(image), Some(class), Origin::Bulk(b));
            }
            BulkStep::Wait => {}
            BulkStep::Done { succeeded } => {
                let bulk = self.bulks.remove(b).expect("live bulk job");
                let swarm = bulk.swarm as usize;
                self.rec.bulk_done(swarm, bulk.measured, succeeded, self.now - bulk.submitted);
                if let Some(u) = bulk.user {
                    self.user_cycle_done(swarm, u);
                }
            }
        }
    }

    /// Starts the closed-loop users that should be active and are idle.
    pub(super) fn start_users(&mut self, swarm: usize) {
        let ArrivalSpec::Closed(c) = &self.sc.swarms[swarm].arrivals else { return };
        let id = self.sc.swarms[swarm].id;
        let active = self.swarms[swarm].active_users;
        for u in 0..active {
            if self.swarms[swarm].users.len() <= u as usize {
                let rng = stream(self.seed, Stream::User { swarm: id, user: u64::from(u) });
                self.swarms[swarm].users.push(User { cycling: false, cycles: 0, rng });
            }
            let user = &mut self.swarms[swarm].users[u as usize];
            if !user.cycling {
                user.cycling = true;
                // Stagger the start over one think time so users do not move in lockstep.
                let think = c.think.sample(&mut user.rng);
                let offset = SimDuration::from_nanos(user.rng.random_range(0..=think.as_nanos()));
                self.schedule(self.now + offset, Event::UserWake { swarm: swarm as u16, user: u });
            }
        }
    }

    pub(super) fn on_user_wake(&mut self, swarm: usize, user: u32) {
        let s = &mut self.swarms[swarm];
        if user >= s.active_users {
            s.users[user as usize].cycling = false;
            return;
        }
        let u = &mut s.users[user as usize];
        let seq = u.cycles;
        u.cycles += 1;
        self.begin_work(swarm, u64::from(user) + 1, seq, Some(user));
    }

    fn user_cycle_done(&mut self, swarm: usize, user: u32) {
        let ArrivalSpec::Closed(c) = &self.sc.swarms[swarm].arrivals else { return };
        let s = &mut self.swarms[swarm];
        let u = &mut s.users[user as usize];
        if user < s.active_users {
            let think = c.think.sample(&mut u.rng);
            self.schedule(self.now + think, Event::UserWake { swarm: swarm as u16, user });
        } else {
            u.cycling = false;
        }
    }
}

/// Draws a class from a cumulative mix; a single-class mix draws nothing.
fn pick_class(mix: &[(usize, f64)], rng: &mut crate::rng::SimRng) -> usize {
    if let [(only, _)] = mix {
        return *only;
    }
    let u: f64 = rng.random();
    mix.iter().find(|(_, cum)| u < *cum).or(mix.last()).map_or(0, |(c, _)| *c)
}
