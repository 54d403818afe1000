//! The production clock. The domain never reads the time itself (it gets a `Clock`), so that
//! tests and replays can run at a fixed instant.

use chrono::{DateTime, Utc};
use suspense_domain::Clock;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
