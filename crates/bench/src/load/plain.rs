//! Plain cqrs-es, the framework's own way: its `CqrsFramework` over the same store and a JSON
//! view updated after each command.

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::persist::{GenericQuery, ViewRepository};
use cqrs_es::{AggregateError, CqrsFramework, EventEnvelope, Query, View};
use serde::{Deserialize, Serialize};
use suspense_database::Pool;
use suspense_domain::{ItemAction, ItemCommand, SuspenseItem, UserId};
use suspense_testkit::fixed_services;

use super::{Outcome, Target};

/// The framework demo's read side: a JSON view updated after each command.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ItemSummary {
    status: String,
    events: u64,
}

impl View<SuspenseItem> for ItemSummary {
    fn update(&mut self, event: &EventEnvelope<SuspenseItem>) {
        self.events += 1;
        self.status = event.payload.name().to_owned();
    }
}

pub enum PlainCqrs {
    Postgres(
        CqrsFramework<
            SuspenseItem,
            cqrs_es::persist::PersistedEventStore<
                postgres_es::PostgresEventRepository,
                SuspenseItem,
            >,
        >,
        Arc<postgres_es::PostgresViewRepository<ItemSummary, SuspenseItem>>,
    ),
    Sqlite(
        CqrsFramework<
            SuspenseItem,
            cqrs_es::persist::PersistedEventStore<sqlite_es::SqliteEventRepository, SuspenseItem>,
        >,
        Arc<sqlite_es::SqliteViewRepository<ItemSummary, SuspenseItem>>,
    ),
}

impl PlainCqrs {
    pub async fn open(url: &str) -> Self {
        let location = suspense_store::StoreLocation::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let log = suspense_store::EventLog::open(&location, fixed_services(), &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        match log.pool().clone() {
            Pool::Postgres(pool) => {
                sqlx::query("CREATE TABLE item_view (view_id text PRIMARY KEY, version bigint NOT NULL, payload json NOT NULL)")
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let views = Arc::new(postgres_es::PostgresViewRepository::new(
                    "item_view",
                    pool.clone(),
                ));
                let query: Box<dyn Query<SuspenseItem>> =
                    Box::new(GenericQuery::new(Arc::clone(&views)));
                Self::Postgres(
                    postgres_es::postgres_cqrs(pool, vec![query], fixed_services()),
                    views,
                )
            }
            Pool::Sqlite(pool) => {
                sqlx::query("CREATE TABLE item_view (view_id text PRIMARY KEY, version integer NOT NULL, payload text NOT NULL)")
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let views = Arc::new(sqlite_es::SqliteViewRepository::new(
                    "item_view",
                    pool.clone(),
                ));
                let query: Box<dyn Query<SuspenseItem>> =
                    Box::new(GenericQuery::new(Arc::clone(&views)));
                Self::Sqlite(
                    sqlite_es::sqlite_cqrs(pool, vec![query], fixed_services()),
                    views,
                )
            }
        }
    }
}

impl PlainCqrs {
    /// Runs one command the framework's way: load, handle, commit, then update the view.
    pub async fn execute(
        &self,
        item: &str,
        action: ItemAction,
    ) -> Result<(), AggregateError<suspense_domain::ItemError>> {
        let command = ItemCommand::new(
            UserId::parse("load").unwrap_or_else(|e| panic!("{e}")),
            action,
        );
        let metadata = HashMap::from([("actor".to_owned(), "load".to_owned())]);
        match self {
            Self::Postgres(cqrs, _) => cqrs.execute_with_metadata(item, command, metadata).await,
            Self::Sqlite(cqrs, _) => cqrs.execute_with_metadata(item, command, metadata).await,
        }
    }

    /// The item's view, as the demo's query endpoint returns it.
    pub async fn view(
        &self,
        item: &str,
    ) -> Result<Option<ItemSummary>, cqrs_es::persist::PersistenceError> {
        match self {
            Self::Postgres(_, views) => views.load(item).await,
            Self::Sqlite(_, views) => views.load(item).await,
        }
    }
}

#[async_trait::async_trait]
impl Target for PlainCqrs {
    async fn command(&self, item: &str, _step: usize, action: ItemAction) -> Outcome {
        match self.execute(item, action).await {
            Ok(()) => Outcome::Done,
            Err(AggregateError::AggregateConflict) => Outcome::Conflict,
            Err(_) => Outcome::Error,
        }
    }

    async fn read_item(&self, item: &str) -> bool {
        self.view(item).await.is_ok()
    }

    async fn read_balance(&self) -> bool {
        true
    }
}
