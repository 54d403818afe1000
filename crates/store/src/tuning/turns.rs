//! One command at a time per item, within this process.
//!
//! Commands on the same item are decided on its last state and written at the next sequence;
//! two at once would both decide on the same version, and all but one would collide on the
//! primary key, reload the item's history and try again. Under contention on a busy item that
//! turns most of the work into conflicts. Queueing them here instead lets each one decide on
//! the state its predecessor just wrote (kept by the item cache), with no history read and no
//! collision. Other processes writing the same log are still caught by the version check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use suspense_domain::ItemId;
use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

/// Above this many entries, entries nobody holds or waits for are swept out (a waiter whose
/// future was dropped leaves one behind).
const SWEEP_ABOVE: usize = 4_096;

#[derive(Default)]
pub(crate) struct ItemTurns {
    locks: Mutex<HashMap<ItemId, Arc<TurnLock<()>>>>,
}

/// Held while a command on one item runs; the next command on the item waits for it.
pub(crate) struct Turn<'a> {
    turns: &'a ItemTurns,
    item_id: ItemId,
    guard: Option<OwnedMutexGuard<()>>,
}

impl ItemTurns {
    pub(crate) async fn take(&self, item_id: ItemId) -> Turn<'_> {
        let lock = match self.locks.lock() {
            Ok(mut locks) => {
                if locks.len() > SWEEP_ABOVE {
                    locks.retain(|_, lock| Arc::strong_count(lock) > 1);
                }
                Some(locks.entry(item_id).or_default().clone())
            }
            // A panic elsewhere poisoned the map: run unqueued (the version check still holds).
            Err(_) => None,
        };
        let guard = match lock {
            Some(lock) => Some(lock.lock_owned().await),
            None => None,
        };
        Turn {
            turns: self,
            item_id,
            guard,
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // Release first, so the count below no longer includes this turn.
        if self.guard.take().is_none() {
            return;
        }
        if let Ok(mut locks) = self.turns.locks.lock() {
            // Only the map holds it: nobody is waiting, the entry can go.
            if locks
                .get(&self.item_id)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
            {
                locks.remove(&self.item_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn item(n: u8) -> ItemId {
        ItemId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02x}")).expect("uuid")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn commands_on_one_item_take_turns_and_leave_nothing_behind() {
        let turns = Arc::new(ItemTurns::default());
        let item = item(1);
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (turns, inside, most) = (turns.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    for _ in 0..20 {
                        let _turn = turns.take(item).await;
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "two commands ran at once");
        assert!(turns.locks.lock().expect("map").is_empty());
    }

    #[tokio::test]
    async fn different_items_do_not_wait_for_each_other() {
        let turns = ItemTurns::default();
        let _first = turns.take(item(1)).await;
        let second =
            tokio::time::timeout(std::time::Duration::from_secs(1), turns.take(item(2))).await;
        assert!(second.is_ok());
    }
}
