//! Running independent simulations on every core, deterministically.
//!
//! Each task writes its result into its own slot, so the output is in task
//! order whatever the number of threads or the order in which they finish:
//! `--jobs 1` and `--jobs 8` give identical results.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Computes `f(0), f(1), …, f(n − 1)` on `jobs` threads, calling `tick` after
/// each task, and returns the results in task order.
pub fn map<T: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> T + Sync, tick: &(dyn Fn() + Sync)) -> Vec<T> {
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let value = f(i);
                    *slots[i].lock().expect("no panics while holding the lock") = Some(value);
                    tick();
                }
            });
        }
    });
    slots.into_iter().map(|m| m.into_inner().expect("not poisoned").expect("every task ran")).collect()
}

/// Threads to use by default: every core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_task_order_for_any_thread_count() {
        let one = map(100, 1, |i| i * i, &|| {});
        let many = map(100, 7, |i| i * i, &|| {});
        assert_eq!(one, many);
        assert_eq!(one[9], 81);
        assert!(map(0, 4, |i| i, &|| {}).is_empty());
    }
}
