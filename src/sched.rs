//! How the kernel schedules the server's threads.
//!
//! The HTTP workers each serve many requests at once, and their event loop is never in a
//! hurry for one wake-up: a little later it finds more to do in the same turn. On Linux they
//! run as `SCHED_BATCH` (`GUICHET_BATCH_SCHEDULING`, on by default): the kernel does not let
//! their wake-ups preempt the task running on a core. PostgreSQL's backend on the same host
//! answers the statements queued on its connection in one turn, the client sends its next
//! requests, and the worker, when it runs, finds several answers and requests ready at once
//! instead of being switched in for each. Without it, on two cores shared with PostgreSQL a
//! fifth of guichet's CPU was the kernel's task switching. Batched, reading one application at
//! peak cost guichet 53 µs and PostgreSQL 45 µs a request instead of 62 and 52, and the peak
//! rose by 18 % (medians of five alternating runs; bench/README, "Where the time goes"). The
//! price: a list page (a fifth of a millisecond on the worker) had a p99 0.3-1.0 ms longer at a
//! fixed rate, as a batched worker woken while the core is busy waits for the running task's
//! turn; `off` suits an instance that serves mostly lists on a busy shared host.
//!
//! The blocking pool's threads stay normal ones ([`spawn_blocking`]): they run the
//! transactions, which hold a connection for one request at a time and wait on every round
//! trip, so whoever waits for that connection or its row locks waits with them. With them as
//! `SCHED_BATCH` too, creating and submitting applications at peak lost some 5 %.
//!
//! Neither policy needs a privilege, and a kernel that refuses one leaves the thread as it was.

use std::cell::Cell;

/// Makes the calling thread `SCHED_BATCH` (the HTTP workers call it as they start). Returns
/// whether the kernel took it.
pub fn batch_this_thread() -> bool {
    set_this_thread(Policy::Batch)
}

/// Runs `f` on the blocking pool as a normal thread: the pool's threads are started by the
/// workers and inherit their policy. Every blocking task of the server goes through here.
pub fn spawn_blocking<F, R>(f: F) -> actix_web::rt::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    actix_web::rt::task::spawn_blocking(move || {
        normal_this_thread();
        f()
    })
}

/// Makes the calling thread a normal one again, once per thread. Cheap after the first call on
/// a thread.
fn normal_this_thread() {
    thread_local! {
        static NORMAL: Cell<bool> = const { Cell::new(false) };
    }
    NORMAL.with(|done| {
        if !done.get() {
            set_this_thread(Policy::Normal);
            done.set(true);
        }
    });
}

enum Policy {
    Batch,
    Normal,
}

#[cfg(target_os = "linux")]
fn set_this_thread(policy: Policy) -> bool {
    let policy = match policy {
        Policy::Batch => libc::SCHED_BATCH,
        Policy::Normal => libc::SCHED_OTHER,
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param that outlives the call, which only reads it; on
    // Linux pid 0 is the calling thread, so no other thread's scheduling changes.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn set_this_thread(_policy: Policy) -> bool {
    false
}

/// The calling thread's policy, as the kernel reports it (`SCHED_OTHER` is 0, `SCHED_BATCH` 3).
#[cfg(all(test, target_os = "linux"))]
fn this_thread_policy() -> i32 {
    // SAFETY: no arguments but the calling thread's id (0).
    unsafe { libc::sched_getscheduler(0) }
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use super::*;

    /// Blocking work runs on a normal thread although the pool's threads are started by a
    /// batched worker and inherit its policy.
    #[test]
    fn blocking_work_runs_on_a_normal_thread_under_a_batched_worker() {
        std::thread::spawn(|| {
            assert!(batch_this_thread());
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                // the fresh pool's first thread, started by this one, inherits SCHED_BATCH
                let raw = tokio::task::spawn_blocking(this_thread_policy).await.unwrap();
                assert_eq!(raw, libc::SCHED_BATCH);
                let ours: Vec<_> = (0..4).map(|_| spawn_blocking(this_thread_policy)).collect();
                for policy in ours {
                    assert_eq!(policy.await.unwrap(), libc::SCHED_OTHER);
                }
            });
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_goes_batch_and_back_and_its_children_inherit() {
        std::thread::spawn(|| {
            assert_eq!(this_thread_policy(), libc::SCHED_OTHER);
            assert!(batch_this_thread());
            assert_eq!(this_thread_policy(), libc::SCHED_BATCH);
            // a thread it starts (as a worker starts the blocking pool's) inherits the policy,
            // until it asks to be normal
            std::thread::spawn(|| {
                assert_eq!(this_thread_policy(), libc::SCHED_BATCH);
                normal_this_thread();
                assert_eq!(this_thread_policy(), libc::SCHED_OTHER);
            })
            .join()
            .unwrap();
            // only the calling thread changed
            assert_eq!(this_thread_policy(), libc::SCHED_BATCH);
        })
        .join()
        .unwrap();
    }
}
