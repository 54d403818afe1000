//! The suspense library in process: the facade a bank service embeds.

use suspense::{Actor, Suspense};
use suspense_domain::{ItemAction, ItemId, UserId};
use suspense_read_models::ReportingCalendar;
use suspense_store::StoreError;

use super::{Outcome, Target};

pub struct Library {
    pub ledger: Suspense,
    actor: Actor,
}

impl Library {
    pub async fn open(url: &str) -> Self {
        let calendar =
            ReportingCalendar::parse(crate::seed::TIME_ZONE).unwrap_or_else(|e| panic!("{e}"));
        let ledger = Suspense::builder(url)
            .reporting_calendar(calendar)
            .conflict_attempts(50)
            .open()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            ledger,
            actor: Actor::new(UserId::parse("load").unwrap_or_else(|e| panic!("{e}")))
                .with_source("bench"),
        }
    }
}

#[async_trait::async_trait]
impl Target for Library {
    async fn command(&self, item: &str, _step: usize, action: ItemAction) -> Outcome {
        let Ok(id) = ItemId::parse(item) else {
            return Outcome::Error;
        };
        match self.ledger.execute(&self.actor, id, action).await {
            Ok(_) => Outcome::Done,
            Err(StoreError::Conflict { .. }) => Outcome::Conflict,
            Err(_) => Outcome::Error,
        }
    }

    async fn read_item(&self, item: &str) -> bool {
        match ItemId::parse(item) {
            Ok(id) => self.ledger.item(id).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn read_balance(&self) -> bool {
        self.ledger.reports().open_balance().await.is_ok()
    }
}
