//! Work shared out over the machine's cores: the engine's passes over a
//! period's rows (decoding days, one pass per definition, linking answers)
//! are independent of each other.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `work(k)` for every `k` in `0..jobs`, taken in that order by one thread
/// per core as each finishes its last; the results in order of `k`. A
/// panic in a job is raised again here.
pub fn on_cores<T: Send>(jobs: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = cores().min(jobs);
    if threads <= 1 {
        return (0..jobs).map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= jobs {
                            break mine;
                        }
                        mine.push((k, work(k)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, result)| result).collect()
}

/// `work` over `0..len` cut into one run of indices per core (the last
/// may be shorter; none when `len` is 0); the results in index order.
pub fn over_shares<T: Send>(len: usize, work: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    let share = len.div_ceil(cores()).max(1);
    on_cores(len.div_ceil(share), |n| {
        work(n * share..((n + 1) * share).min(len))
    })
}

/// The number of cores `on_cores` uses, asked once: on Linux
/// `available_parallelism` reads three files (the cgroup's CPU quota) on
/// every call.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_and_results_keep_their_order() {
        let runs = AtomicUsize::new(0);
        let squares = on_cores(1_000, |k| {
            runs.fetch_add(1, Ordering::Relaxed);
            k * k
        });
        assert_eq!(runs.into_inner(), 1_000);
        assert_eq!(squares, (0..1_000).map(|k| k * k).collect::<Vec<_>>());
        assert!(on_cores(0, |k| k).is_empty());
    }

    #[test]
    fn shares_cover_every_index_once_in_order() {
        for len in [0, 1, 7, 1_000] {
            let shares = over_shares(len, |rows| rows);
            let covered: Vec<usize> = shares.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(covered, (0..len).collect::<Vec<_>>(), "{len}");
            assert!(shares.iter().all(|r| !r.is_empty()));
        }
    }
}
