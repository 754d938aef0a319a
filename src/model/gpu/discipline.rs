//! Which queued job an instance serves next.
//!
//! FIFO is fair but, under overload, serves the jobs most likely to have been
//! given up on already: the oldest. LIFO serves the newest first, whose
//! clients are still waiting, so some requests keep succeeding while the
//! backlog is hopeless. Adaptive LIFO (Facebook, "Fail at Scale", 2015) is
//! FIFO while the queue drains normally and LIFO once its oldest job has
//! waited longer than `after`, i.e. once a standing queue has built up.

use crate::time::SimDuration;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum QueueDiscipline {
    #[default]
    Fifo,
    Lifo,
    AdaptiveLifo {
        after: SimDuration,
    },
}

impl QueueDiscipline {
    /// Whether to serve the newest queued job, given how long the oldest
    /// has waited (asked only when the discipline depends on it).
    #[inline]
    pub fn serve_newest(self, oldest_wait: impl FnOnce() -> SimDuration) -> bool {
        match self {
            QueueDiscipline::Fifo => false,
            QueueDiscipline::Lifo => true,
            QueueDiscipline::AdaptiveLifo { after } => oldest_wait() > after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_lifo_turns_lifo_only_past_its_threshold() {
        let a = QueueDiscipline::AdaptiveLifo { after: SimDuration::from_millis(100) };
        assert!(!a.serve_newest(|| SimDuration::from_millis(100)));
        assert!(a.serve_newest(|| SimDuration::from_millis(101)));
        assert!(QueueDiscipline::Lifo.serve_newest(|| SimDuration::ZERO));
        assert!(!QueueDiscipline::Fifo.serve_newest(|| SimDuration::MAX));
    }
}
