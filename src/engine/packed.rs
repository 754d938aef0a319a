//! An event as two plain words, the form the simulator's queue stores.
//!
//! The models' timers are nested enums. Rust builds one in memory field by
//! field, and the queue then copied it into the heap in 16-byte pieces: a
//! load the CPU cannot forward from the narrower stores just made, so every
//! scheduled event stalled for about a dozen cycles. Two `u64`s stay in
//! registers until they are stored at their place. Packing is bookkeeping
//! only: the queue's order and every model's timers are unchanged.

use crate::arena::Key;
use crate::model::backend::BackendTimer;
use crate::model::client::ClientTimer;
use crate::model::proxy::ProxyTimer;

use super::sim::Event;

/// `head` holds the kind (bits 0–7), a 16-bit field (bits 16–31) and a
/// 32-bit field (bits 32–63); `key` holds an arena key, when there is one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Packed {
    head: u64,
    key: u64,
}

// The kinds, one per timer.
const ARRIVAL: u8 = 0;
const USER_WAKE: u8 = 1;
const SEND: u8 = 2;
const TIMEOUT: u8 = 3;
const HEDGE: u8 = 4;
const TRAFFIC: u8 = 5;
const CONNECT_TIMEOUT: u8 = 6;
const WAIT_TIMEOUT: u8 = 7;
const FIRST_BYTE_TIMEOUT: u8 = 8;
const BETWEEN_BYTES: u8 = 9;
const PROBE: u8 = 10;
const PROBE_TIMEOUT: u8 = 11;
const MILESTONE: u8 = 12;
const INSTANCE_READY: u8 = 13;
const DEREGISTER: u8 = 14;
const AUTOSCALE: u8 = 15;
const POOL_CONDITION: u8 = 16;
const KILL: u8 = 17;
const PATIENCE: u8 = 18;
const HELD: u8 = 19;

#[inline(always)]
fn packed(kind: u8, small: u16, wide: u32, key: Option<Key>) -> Packed {
    let head = u64::from(kind) | u64::from(small) << 16 | u64::from(wide) << 32;
    Packed { head, key: key.map_or(0, Key::to_bits) }
}

impl Packed {
    #[inline(always)]
    fn kind(self) -> u8 {
        self.head as u8
    }
    #[inline(always)]
    fn small(self) -> u16 {
        (self.head >> 16) as u16
    }
    #[inline(always)]
    fn wide(self) -> u32 {
        (self.head >> 32) as u32
    }
    #[inline(always)]
    fn key(self) -> Key {
        Key::from_bits(self.key)
    }
}

impl Event {
    #[inline(always)]
    pub(super) fn pack(self) -> Packed {
        match self {
            Event::Arrival { swarm } => packed(ARRIVAL, swarm, 0, None),
            Event::Client(t) => match t {
                ClientTimer::UserWake { swarm, user } => packed(USER_WAKE, swarm, user, None),
                ClientTimer::Send { req } => packed(SEND, 0, 0, Some(req)),
                ClientTimer::Timeout { req, attempt } => packed(TIMEOUT, 0, attempt, Some(req)),
                ClientTimer::Hedge { req, attempt } => packed(HEDGE, 0, attempt, Some(req)),
                ClientTimer::Traffic { swarm } => packed(TRAFFIC, swarm, 0, None),
            },
            Event::Proxy(t) => match t {
                ProxyTimer::ConnectTimeout { fetch, epoch } => packed(CONNECT_TIMEOUT, 0, epoch, Some(fetch)),
                ProxyTimer::WaitTimeout { fetch, epoch } => packed(WAIT_TIMEOUT, 0, epoch, Some(fetch)),
                ProxyTimer::FirstByteTimeout { fetch, epoch } => packed(FIRST_BYTE_TIMEOUT, 0, epoch, Some(fetch)),
                ProxyTimer::BetweenBytes { fetch, epoch } => packed(BETWEEN_BYTES, 0, epoch, Some(fetch)),
                ProxyTimer::Probe { pool, inst } => packed(PROBE, pool, 0, Some(inst)),
                ProxyTimer::ProbeTimeout { pool, inst, seq } => packed(PROBE_TIMEOUT, pool, seq, Some(inst)),
            },
            Event::Backend(t) => match t {
                BackendTimer::Milestone { pool, job, epoch } => packed(MILESTONE, pool, epoch, Some(job)),
                BackendTimer::InstanceReady { pool, inst } => packed(INSTANCE_READY, pool, 0, Some(inst)),
                BackendTimer::Deregister { pool, inst } => packed(DEREGISTER, pool, 0, Some(inst)),
                BackendTimer::Autoscale { pool } => packed(AUTOSCALE, pool, 0, None),
                BackendTimer::PoolCondition { pool } => packed(POOL_CONDITION, pool, 0, None),
                BackendTimer::Kill { event } => packed(KILL, 0, event, None),
                BackendTimer::Patience { pool, job } => packed(PATIENCE, pool, 0, Some(job)),
                BackendTimer::Held => packed(HELD, 0, 0, None),
            },
        }
    }

    #[inline(always)]
    pub(super) fn unpack(p: Packed) -> Event {
        let (small, wide, key) = (p.small(), p.wide(), p.key());
        match p.kind() {
            ARRIVAL => Event::Arrival { swarm: small },
            USER_WAKE => Event::Client(ClientTimer::UserWake { swarm: small, user: wide }),
            SEND => Event::Client(ClientTimer::Send { req: key }),
            TIMEOUT => Event::Client(ClientTimer::Timeout { req: key, attempt: wide }),
            HEDGE => Event::Client(ClientTimer::Hedge { req: key, attempt: wide }),
            TRAFFIC => Event::Client(ClientTimer::Traffic { swarm: small }),
            CONNECT_TIMEOUT => Event::Proxy(ProxyTimer::ConnectTimeout { fetch: key, epoch: wide }),
            WAIT_TIMEOUT => Event::Proxy(ProxyTimer::WaitTimeout { fetch: key, epoch: wide }),
            FIRST_BYTE_TIMEOUT => Event::Proxy(ProxyTimer::FirstByteTimeout { fetch: key, epoch: wide }),
            BETWEEN_BYTES => Event::Proxy(ProxyTimer::BetweenBytes { fetch: key, epoch: wide }),
            PROBE => Event::Proxy(ProxyTimer::Probe { pool: small, inst: key }),
            PROBE_TIMEOUT => Event::Proxy(ProxyTimer::ProbeTimeout { pool: small, inst: key, seq: wide }),
            MILESTONE => Event::Backend(BackendTimer::Milestone { pool: small, job: key, epoch: wide }),
            INSTANCE_READY => Event::Backend(BackendTimer::InstanceReady { pool: small, inst: key }),
            DEREGISTER => Event::Backend(BackendTimer::Deregister { pool: small, inst: key }),
            AUTOSCALE => Event::Backend(BackendTimer::Autoscale { pool: small }),
            POOL_CONDITION => Event::Backend(BackendTimer::PoolCondition { pool: small }),
            KILL => Event::Backend(BackendTimer::Kill { event: wide }),
            PATIENCE => Event::Backend(BackendTimer::Patience { pool: small, job: key }),
            HELD => Event::Backend(BackendTimer::Held),
            kind => unreachable!("no event of kind {kind} is ever packed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_unpacks_to_itself() {
        let k = Key::from_bits(0xdead_beef_0000_0007);
        let (s, w) = (0xfffe, 0xffff_fffd);
        let events = [
            Event::Arrival { swarm: s },
            Event::Client(ClientTimer::UserWake { swarm: s, user: w }),
            Event::Client(ClientTimer::Send { req: k }),
            Event::Client(ClientTimer::Timeout { req: k, attempt: w }),
            Event::Client(ClientTimer::Hedge { req: k, attempt: w }),
            Event::Client(ClientTimer::Traffic { swarm: s }),
            Event::Proxy(ProxyTimer::ConnectTimeout { fetch: k, epoch: w }),
            Event::Proxy(ProxyTimer::WaitTimeout { fetch: k, epoch: w }),
            Event::Proxy(ProxyTimer::FirstByteTimeout { fetch: k, epoch: w }),
            Event::Proxy(ProxyTimer::BetweenBytes { fetch: k, epoch: w }),
            Event::Proxy(ProxyTimer::Probe { pool: s, inst: k }),
            Event::Proxy(ProxyTimer::ProbeTimeout { pool: s, inst: k, seq: w }),
            Event::Backend(BackendTimer::Milestone { pool: s, job: k, epoch: w }),
            Event::Backend(BackendTimer::InstanceReady { pool: s, inst: k }),
            Event::Backend(BackendTimer::Deregister { pool: s, inst: k }),
            Event::Backend(BackendTimer::Autoscale { pool: s }),
            Event::Backend(BackendTimer::PoolCondition { pool: s }),
            Event::Backend(BackendTimer::Kill { event: w }),
            Event::Backend(BackendTimer::Patience { pool: s, job: k }),
            Event::Backend(BackendTimer::Held),
        ];
        let mut kinds: Vec<u8> = events.iter().map(|e| e.pack().kind()).collect();
        kinds.dedup();
        assert_eq!(kinds.len(), events.len(), "each event has its own kind");
        for e in events {
            assert_eq!(format!("{:?}", Event::unpack(e.pack())), format!("{e:?}"));
        }
    }
}
