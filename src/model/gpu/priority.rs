//! Priority tiers at the GPU queue: who is shed first, who is served first.
//!
//! Not every request is worth the same: a paying user's image matters more
//! than a free user's, a CRITICAL_PLUS call more than a SHEDDABLE one (Google
//! SRE, "Handling Overload": criticality travels with the request and the
//! backend rejects the least critical first). A job carries its tier as a
//! rank, 0 the highest. With a [`Priority`] rule an instance
//! * refuses a job of tier t when its queue already holds `shed_at[t]` jobs
//!   (lower tiers are given lower thresholds, so they are shed first while
//!   higher tiers still queue), and
//! * optionally (`serve_first`) hands a freed slot to the highest tier that
//!   has a job waiting; the pool's discipline orders jobs within a tier.
//!
//! Without a rule every job is tier 0 of one queue: the pool behaves exactly
//! as before tiers existed.

use crate::arena::Key;
use crate::ring::Ring;

/// A pool's tier rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Priority {
    /// How many tiers there are (ranks 0..tiers).
    pub tiers: u8,
    /// A freed slot takes the highest tier's job first.
    pub serve_first: bool,
    /// Per tier rank: the queue length at which its jobs are refused (None:
    /// only the pool's queue limit applies).
    pub shed_at: Vec<Option<u32>>,
}

impl Priority {
    /// Whether a job of tier `tier` is shed when the instance queues `queued` jobs.
    pub fn sheds(&self, tier: u8, queued: u32) -> bool {
        self.shed_at.get(usize::from(tier)).copied().flatten().is_some_and(|at| queued >= at)
    }

    /// How many separate queues an instance keeps: one per tier when higher
    /// tiers are served first, else one.
    pub fn queues(rule: Option<&Priority>) -> usize {
        match rule {
            Some(p) if p.serve_first => usize::from(p.tiers.max(1)),
            _ => 1,
        }
    }
}

/// An instance's queued jobs, one FIFO-ordered deque per served tier, the
/// highest tier first.
#[derive(Debug)]
pub(super) struct TierQueues {
    tiers: Vec<Ring<Key>>,
}

impl TierQueues {
    pub fn new(queues: usize) -> Self {
        TierQueues { tiers: (0..queues.max(1)).map(|_| Ring::new()).collect() }
    }

    /// Appends a job of tier `tier` (one shared queue: every tier is 0).
    #[inline(always)]
    pub fn push(&mut self, tier: u8, job: Key) {
        let last = self.tiers.len() - 1;
        self.tiers[usize::from(tier).min(last)].push_back(job);
    }

    /// The queues in serving order, highest tier first.
    pub fn each_mut(&mut self) -> impl Iterator<Item = &mut Ring<Key>> {
        self.tiers.iter_mut()
    }

    pub fn clear(&mut self) {
        self.tiers.iter_mut().for_each(Ring::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;

    #[test]
    fn a_tier_is_shed_from_its_threshold_on_and_an_unlisted_tier_never() {
        let p = Priority { tiers: 2, serve_first: false, shed_at: vec![None, Some(2)] };
        assert!(!p.sheds(1, 1));
        assert!(p.sheds(1, 2));
        assert!(!p.sheds(0, 1000));
        assert!(!p.sheds(7, 1000), "a rank beyond the table has no threshold");
    }

    #[test]
    fn separate_queues_only_when_higher_tiers_are_served_first() {
        let mut p = Priority { tiers: 3, serve_first: false, shed_at: vec![] };
        assert_eq!(Priority::queues(Some(&p)), 1);
        p.serve_first = true;
        assert_eq!(Priority::queues(Some(&p)), 3);
        assert_eq!(Priority::queues(None), 1);
    }

    #[test]
    fn a_single_queue_holds_every_tier_in_arrival_order() {
        let mut a = Arena::new();
        let (x, y) = (a.insert(()), a.insert(()));
        let mut q = TierQueues::new(1);
        q.push(3, x);
        q.push(0, y);
        let all: Vec<Vec<Key>> = q.each_mut().map(|d| d.iter().copied().collect()).collect();
        assert_eq!(all, [vec![x, y]]);
    }
}
