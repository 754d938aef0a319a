//! The models' contexts over the live world: a model's timer becomes a queue
//! entry, its effects become network tasks or calls into the other models.
//! One method each, no rule: the mapping between model ids and sockets.

use super::*;

impl<'a> Env for World<'a> {
    type Obs = Observers<'a, NoTrace>;
    fn now(&self) -> SimTime {
        self.now
    }
    fn obs(&mut self) -> &mut Self::Obs {
        &mut self.obs
    }
}

impl<'a> ClientCx<'a> for World<'a> {
    fn clients(&mut self) -> &mut Clients<'a> {
        &mut self.clients
    }
    fn wake(&mut self, at: SimTime, timer: ClientTimer) {
        if at < self.end {
            self.queue.push(at.max(self.now), Event::Client(timer));
        }
    }
    fn wake_arrival(&mut self, swarm: usize, at: SimTime) {
        if at < self.end {
            self.queue.push_lane(swarm, at.max(self.now), Event::Arrival { swarm: swarm as u16 });
        }
    }
    fn send(&mut self, from: AttemptRef, job: JobSpec) {
        let io = &mut self.io;
        let to = &io.routes[job.swarm as usize][job.class as usize];
        let req = client_http::request(to, &job, &mut io.numbers);
        // One clock read for both: the lag ends when the request leaves.
        let sent = std::time::Instant::now();
        let lag = io.clock.real(io.clock.at(sent).saturating_since(self.now));
        let out = client_http::Outgoing { conns: io.conns.clone(), clock: io.clock, host: to.host.clone(), req, sent };
        let ticket = io.attempts.start(out, client_http::Sent { from, lag });
        self.sent += 1;
        // The model stops listening at its timeout; the socket is closed a
        // little later, as a real client hangs up, so no connection outlives it.
        if let Some(t) = self.sc.swarms[job.swarm as usize].timeout {
            let at = self.now + t + io.clock.simulated(client_http::HANG_UP_GRACE);
            if at < self.end {
                self.queue.push_steady(self.now, at, Event::HangUp(ticket));
            }
        }
    }
}

impl ProxyCx for World<'_> {
    fn proxy(&mut self) -> &mut Proxy {
        &mut self.proxy
    }
    fn wake(&mut self, at: SimTime, timer: ProxyTimer) {
        if at < self.end {
            self.queue.push(at.max(self.now), Event::Proxy(timer));
        }
    }
    fn submit(&mut self, fetch: u64, pool: usize, inst: Key, job: JobSpec) {
        self.stop_fetch(fetch);
        let Some(addr) = self.addr(pool, inst) else {
            // The instance's port is gone: nothing listens there.
            return proxy::on_backend(self, Key::from_bits(fetch), BackendEvent::ConnectFailed);
        };
        self.generation = self.generation.wrapping_add(1);
        let io = &self.io;
        let job_io = FetchJob {
            fetch,
            generation: self.generation,
            addr,
            class: io.class_paths[job.class as usize].clone(),
            work: job.work,
            chunks: io.chunks[job.class as usize],
            tier: io.tier_tags[usize::from(job.tier)].clone(),
            patience: job.patience,
        };
        let task = tokio::spawn(proxy_http::fetch(io.client.clone(), io.tx.clone(), io.clock, job_io));
        self.fetches.insert(fetch, (self.generation, task.abort_handle()));
        // Connections are pooled and kept alive: the request is on its way at
        // once, and the first-byte timeout starts now.
        proxy::on_backend(self, Key::from_bits(fetch), BackendEvent::Accepted { job: fetch });
    }
    fn abandon(&mut self, _pool: usize, job: u64) {
        // The job is named by its fetch: hanging up tells the backend.
        self.stop_fetch(job);
    }
    fn close(&mut self, fetch: u64) {
        self.stop_fetch(fetch);
    }
    fn probe(&mut self, pool: usize, inst: Key, seq: u32) {
        let Some(addr) = self.addr(pool, inst) else { return };
        let io = &self.io;
        tokio::spawn(proxy_http::probe(io.client.clone(), io.tx.clone(), addr, pool as u16, inst.to_bits(), seq));
    }
    fn respond(&mut self, to: AttemptRef, response: Response) {
        // Every attempt the proxy server answers came in over HTTP, named by its number.
        let Attempt::Held { req, .. } = to.get() else { return };
        if let Some(reply) = self.attempts.remove(&req.to_bits()) {
            self.answered[response.outcome.index()] += 1;
            self.recent_answers.record(self.now, response.outcome);
            let _ = reply.send(response);
        }
    }
}

impl<'a> BackendCx<'a> for World<'a> {
    fn backend(&mut self) -> &mut Backend<'a> {
        &mut self.backend
    }
    fn wake(&mut self, at: SimTime, timer: BackendTimer) {
        if at < self.end {
            self.queue.push(at.max(self.now), Event::Backend(timer));
        }
    }
    fn deliver(&mut self, token: u64, event: BackendEvent) {
        let Some(x) = self.jobs.get_mut(&token) else { return };
        let served = match event {
            BackendEvent::Accepted { job } => {
                x.job = Some(Key::from_bits(job));
                return;
            }
            BackendEvent::Chunk { .. } => {
                let _ = x.frames.send(event);
                return;
            }
            BackendEvent::Refused { outcome, .. } => outcome,
            BackendEvent::Complete { .. } => Outcome::Ok,
            BackendEvent::ConnectFailed => Outcome::Status503(Cause::ConnectFailed),
        };
        self.tallies[x.pool].served[served.index()] += 1;
        self.recent_served[x.pool].record(self.now, served);
        let _ = x.frames.send(event);
        self.jobs.remove(&token);
    }
    fn instance_up(&mut self, pool: usize, inst: Key) {
        // Binding a loopback port fails only when descriptors run out: the
        // instance stays out of the proxy's list and the run reports it.
        match self.assign_slot(pool, inst) {
            Ok(()) if matches!(self.mode, Mode::Stack) => proxy::register(self, pool, inst),
            Ok(()) => {}
            Err(e) => {
                self.failure.get_or_insert(e);
            }
        }
    }
    fn instance_gone(&mut self, pool: usize, inst: Key) {
        if matches!(self.mode, Mode::Stack) {
            proxy::deregister(self, pool, inst);
        }
        if let Some(slot) = self.slot_of.remove(&(pool, inst.to_bits())) {
            self.slots[pool][slot as usize].inst = None;
        }
    }
}
