//! Versioned data published in the log (the organisation registry, the escalation policy)
//! as the item commands consult it: shared between clones of `ItemServices`, and replaced
//! whole when a version is published or read again from the log.

use std::sync::{Arc, RwLock};

/// The latest state of a published stream, shared.
#[derive(Debug, Default)]
pub struct Published<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Published<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Published<T> {
    pub fn new(value: T) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// What it holds now.
    pub fn current(&self) -> Arc<T> {
        self.0.read().map_or_else(
            |poisoned| Arc::clone(&poisoned.into_inner()),
            |g| Arc::clone(&g),
        )
    }

    /// Replaces what it holds (every clone sees the new value).
    pub fn replace(&self, value: T) {
        let next = Arc::new(value);
        match self.0.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}
