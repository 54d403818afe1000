//! Background work on one instance at a time: several services on one PostgreSQL database all
//! take commands, but only the one holding the lease (`EventLog::try_lead`) runs the projector,
//! the hash chain, the escalation sweep and the delivery of subscriptions. The others ask
//! again every `RETRY`, and one of them takes over within about that long after the leader
//! dies. Reads with `fresh=true` catch up on any instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ledger::{Background, Suspense};

/// How often an instance that does not lead asks for the lease.
const RETRY: Duration = Duration::from_secs(2);

/// How often the leader checks that its lease still holds.
const CHECK: Duration = Duration::from_secs(1);

/// What the leader runs, and how often.
#[derive(Clone)]
pub struct BackgroundWork {
    /// The projector's and the hash chain's interval.
    pub interval: Duration,
    /// The escalation sweep's, if it runs.
    pub sweep: Option<Duration>,
    /// The subscriptions to deliver, if any.
    pub delivery: Option<Arc<suspense_delivery::Delivery>>,
}

/// The leadership loop of one instance.
#[must_use = "the loop runs until stopped"]
pub struct Leadership {
    leading: Arc<AtomicBool>,
    running: Arc<Mutex<Option<Background>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Leadership {
    /// Whether this instance leads now.
    pub fn is_leading(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    /// A flag that says whether this instance leads, for those who report it.
    pub fn leading_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.leading)
    }

    /// Stops asking, and stops the background work if it runs here (its lease goes with the
    /// loop's connection).
    pub fn stop(self) {
        self.task.abort();
        let running = self.running.lock().ok().and_then(|mut r| r.take());
        if let Some(background) = running {
            background.stop();
        }
        self.leading.store(false, Ordering::Relaxed);
    }
}

impl Suspense {
    /// Runs `work` whenever this instance holds the lease, until stopped.
    pub fn lead_background(self: &Arc<Self>, work: BackgroundWork) -> Leadership {
        let leading = Arc::new(AtomicBool::new(false));
        let running: Arc<Mutex<Option<Background>>> = Arc::new(Mutex::new(None));
        let ledger = Arc::clone(self);
        let (flag, slot) = (Arc::clone(&leading), Arc::clone(&running));
        let task = tokio::spawn(async move {
            loop {
                match ledger.log().try_lead().await {
                    Ok(Some(mut lease)) => {
                        tracing::info!("this instance leads the background work");
                        let mut background = ledger.spawn_background(work.interval);
                        if let Some(every) = work.sweep {
                            background = background.sweeping(Arc::clone(&ledger), every);
                        }
                        if let Some(delivery) = &work.delivery {
                            background = background.delivering(delivery);
                        }
                        if let Ok(mut slot) = slot.lock() {
                            *slot = Some(background);
                        }
                        flag.store(true, Ordering::Relaxed);
                        while lease.still_held().await {
                            tokio::time::sleep(CHECK).await;
                        }
                        flag.store(false, Ordering::Relaxed);
                        let stopped = slot.lock().ok().and_then(|mut s| s.take());
                        if let Some(background) = stopped {
                            background.stop();
                        }
                        tracing::warn!("the lease on the background work was lost");
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot ask for the lease"),
                }
                tokio::time::sleep(RETRY).await;
            }
        });
        Leadership {
            leading,
            running,
            task,
        }
    }
}
