//! The client attempts a world has in flight, polled by the world itself.
//!
//! `stampede load` sends one attempt per request at up to hundreds of
//! thousands a second, so what an attempt costs beside its HTTP exchange
//! matters. Each attempt's future lives in a slot whose box the next attempt
//! reuses (a future of one type, set in place), and each slot has a waker made
//! once: starting an attempt allocates nothing. An attempt can be dropped by
//! its [`Ticket`] (which closes its connection), so the client's give-up time
//! is a timer of the world's own queue rather than a tokio timer per attempt.
//!
//! Like `FuturesUnordered`, only futures that were woken are polled; unlike
//! it, a slot is never freed, so memory follows the peak number in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// One attempt: its slot, and the slot's generation when it started, so a
/// late hang-up cannot reach the attempt that reuses the slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    slot: u32,
    generation: u32,
}

/// Slots woken since the set last looked, and the set's owner's waker.
#[derive(Default)]
struct Ready {
    slots: Mutex<Vec<u32>>,
    owner: AtomicWaker,
}

/// A slot's waker: queues the slot once until it is polled again.
struct SlotWake {
    slot: u32,
    queued: AtomicBool,
    ready: Arc<Ready>,
}

impl Wake for SlotWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.slots.lock().unwrap_or_else(|e| e.into_inner()).push(self.slot);
            self.ready.owner.wake();
        }
    }
}

struct Slot<F, M> {
    future: Pin<Box<Option<F>>>,
    generation: u32,
    meta: M,
    wake: Arc<SlotWake>,
    waker: Waker,
}

/// Futures of one type `F`, each with what its owner keeps beside it (`M`).
pub struct InFlight<F, M> {
    slots: Vec<Slot<F, M>>,
    free: Vec<u32>,
    ready: Arc<Ready>,
    /// Slots taken from the ready list (or just started), still to poll.
    due: Vec<u32>,
    running: usize,
}

impl<F: Future, M: Copy> Default for InFlight<F, M> {
    fn default() -> Self {
        InFlight { slots: Vec::new(), free: Vec::new(), ready: Arc::default(), due: Vec::new(), running: 0 }
    }
}

impl<F: Future, M: Copy> InFlight<F, M> {
    /// No future started is still running.
    pub fn is_empty(&self) -> bool {
        self.running == 0
    }

    /// Starts the future `make` makes (made in its slot, not moved there);
    /// it is first polled by the next [`InFlight::poll_next`].
    pub fn start(&mut self, make: impl FnOnce() -> F, meta: M) -> Ticket {
        let slot = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 attempts in flight");
                let wake = Arc::new(SlotWake { slot: i, queued: AtomicBool::new(false), ready: self.ready.clone() });
                let waker = Waker::from(wake.clone());
                self.slots.push(Slot { future: Box::pin(None), generation: 0, meta, wake, waker });
                i
            }
        };
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1);
        s.meta = meta;
        s.future.as_mut().set(Some(make()));
        // A new future is polled once whether or not anything woke it; a
        // wake from the slot's previous future may already have queued it.
        if !s.wake.queued.swap(true, Ordering::AcqRel) {
            self.due.push(slot);
        }
        self.running += 1;
        Ticket { slot, generation: s.generation }
    }

    /// Whether `t`'s future is still running.
    pub fn is_running(&self, t: Ticket) -> bool {
        self.slots.get(t.slot as usize).is_some_and(|s| s.generation == t.generation && s.future.is_some())
    }

    /// Drops `t`'s future if it is still running, and gives its meta back.
    pub fn cancel(&mut self, t: Ticket) -> Option<M> {
        if !self.is_running(t) {
            return None;
        }
        let s = &mut self.slots[t.slot as usize];
        s.future.as_mut().set(None);
        self.free.push(t.slot);
        self.running -= 1;
        Some(s.meta)
    }

    /// The next future to finish, with its meta; `None` when none is running.
    ///
    /// Polls each future at most once per call, in effect: a future that
    /// wakes itself while polled (as every tokio resource does once its
    /// task's cooperative budget is spent) would otherwise be polled again
    /// at once, and again, and the budget, renewed only when the task yields,
    /// never would be. After as many polls as there are futures running, the
    /// set hands back to the runtime, asking to be polled again.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(M, F::Output)>> {
        let mut polls_left = self.running;
        loop {
            if self.running == 0 {
                return Poll::Ready(None);
            }
            let Some(slot) = self.due.pop() else {
                // Register first, then look: a wake in between is not lost.
                self.ready.owner.register(cx.waker());
                std::mem::swap(&mut self.due, &mut *self.ready.slots.lock().unwrap_or_else(|e| e.into_inner()));
                if self.due.is_empty() {
                    return Poll::Pending;
                }
                continue;
            };
            let s = &mut self.slots[slot as usize];
            if s.future.is_some() && polls_left == 0 {
                // Still queued (its flag is set): it is polled first next time.
                self.due.push(slot);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // Cleared before the poll: a wake during it queues the slot again.
            s.wake.queued.store(false, Ordering::Release);
            let Some(future) = s.future.as_mut().as_pin_mut() else { continue };
            polls_left -= 1;
            if let Poll::Ready(out) = future.poll(&mut Context::from_waker(&s.waker)) {
                s.future.as_mut().set(None);
                self.free.push(slot);
                self.running -= 1;
                return Poll::Ready(Some((s.meta, out)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use tokio::sync::oneshot;

    fn next<F: Future, M: Copy>(set: &mut InFlight<F, M>) -> Option<Option<(M, F::Output)>> {
        std::future::poll_fn(|cx| set.poll_next(cx)).now_or_never()
    }

    #[test]
    fn futures_finish_in_the_order_they_are_woken_and_slots_are_reused() {
        let mut set = InFlight::default();
        let (tx, rx): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel::<u32>()).unzip();
        let tickets: Vec<Ticket> = rx.into_iter().enumerate().map(|(i, r)| set.start(|| r, i)).collect();
        assert_eq!(next(&mut set), None, "nothing has answered");
        let mut tx: Vec<_> = tx.into_iter().map(Some).collect();
        tx[2].take().expect("sender").send(20).expect("receiver");
        assert_eq!(next(&mut set), Some(Some((2, Ok(20)))));
        assert!(!set.is_running(tickets[2]) && set.is_running(tickets[0]));
        assert_eq!(set.running, 2);
        // The freed slot takes the next future; the old ticket misses it.
        let (tx3, rx3) = oneshot::channel();
        let t3 = set.start(|| rx3, 3);
        assert_eq!(t3.slot, tickets[2].slot);
        assert_eq!(set.cancel(tickets[2]), None);
        assert_eq!(set.slots.len(), 3, "no new slot");
        tx3.send(30).expect("receiver");
        tx[0].take().expect("sender").send(0).expect("receiver");
        let mut got = vec![next(&mut set), next(&mut set)];
        got.sort_by_key(|g| g.as_ref().map(|o| o.as_ref().map(|x| x.0)));
        assert_eq!(got, [Some(Some((0, Ok(0)))), Some(Some((3, Ok(30))))]);
        assert_eq!(set.running, 1);
    }

    #[test]
    fn a_cancelled_future_is_dropped_and_never_answers() {
        let mut set = InFlight::default();
        let (tx, rx) = oneshot::channel::<u32>();
        let t = set.start(|| rx, 'a');
        assert_eq!(next(&mut set), None);
        assert_eq!(set.cancel(t), Some('a'));
        assert!(tx.is_closed(), "dropping the future dropped its receiver");
        assert!(set.is_empty());
        assert_eq!(next(&mut set), Some(None), "an empty set is done");
    }

    /// A future that wakes itself at every poll until it has been polled
    /// `left` more times.
    struct Restless {
        left: u32,
    }

    impl Future for Restless {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.left == 0 {
                return Poll::Ready(());
            }
            self.left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Wakes counted, for the set's owner.
    struct CountWakes(std::sync::atomic::AtomicU32);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A future that keeps waking itself (a tokio resource out of budget
    /// does) is polled once per call, and the set asks its owner to poll
    /// again rather than spinning until the future is done.
    #[test]
    fn a_self_waking_future_is_polled_once_per_call_and_the_owner_is_woken() {
        let mut set = InFlight::default();
        set.start(|| Restless { left: 1000 }, 'r');
        set.start(|| Restless { left: 1 }, 's');
        let wakes = Arc::new(CountWakes(0.into()));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending, "two polls, neither done");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "the owner is asked to poll again");
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some(('s', ()))));
        // It has been polled twice; it finishes at its 1001st poll.
        let mut calls = 2;
        loop {
            calls += 1;
            if set.poll_next(&mut cx).is_ready() {
                break;
            }
            assert!(calls < 2000, "the restless future finishes");
        }
        assert_eq!(calls, 1001, "one poll of the restless future per call");
        assert!(set.is_empty());
    }

    #[test]
    fn a_wake_between_polls_is_not_lost() {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(async {
            let mut set = InFlight::default();
            let (tx, rx) = oneshot::channel::<u32>();
            set.start(|| rx, ());
            let sender = tokio::spawn(async move {
                tokio::task::yield_now().await;
                tx.send(7).expect("receiver");
            });
            let got = std::future::poll_fn(|cx| set.poll_next(cx)).await;
            assert_eq!(got, Some(((), Ok(7))));
            sender.await.expect("sender task");
        });
    }
}
