//! Long stretches of CPU work inside async code.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work`, which keeps a core busy for long (decoding, hashing or folding a page of
/// 100,000 events takes a second), so that the runtime's other tasks are not held up by it.
///
/// On a multi-threaded runtime the worker thread hands its queue to another thread first
/// (`block_in_place`): otherwise a catch-up's read-ahead and fold, each in one long poll,
/// held both workers of a two-core machine, and the tasks feeding the database its writes
/// waited for them with their statements half sent. A current-thread runtime (the default of
/// `#[tokio::test]`) has no other thread to hand over to, so there the work runs in place.
pub fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::cpu_bound;

    #[test]
    fn the_runtime_runs_other_tasks_while_the_work_holds_its_worker() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .expect("a runtime");
        let received = runtime.block_on(async {
            tokio::spawn(async {
                let (tx, rx) = mpsc::channel();
                // Queued on the only worker, which the work below holds until it is sent.
                tokio::spawn(async move { tx.send(()) });
                cpu_bound(|| rx.recv_timeout(Duration::from_secs(5)).is_ok())
            })
            .await
            .expect("the task ran")
        });
        assert!(received, "the queued task never ran while the work waited");
    }

    #[tokio::test]
    async fn a_current_thread_runtime_runs_the_work_in_place() {
        assert_eq!(cpu_bound(|| 6 * 7), 42);
    }
}
