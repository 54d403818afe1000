//! What the projector needs of a read model (`Projection`), and the list of read models it
//! keeps (`ReadModel::ALL`).
//!
//! A read model is a module with a `Projection` implementation, its migrations, and one line
//! in `ReadModel::ALL`. The pipeline around it (reading the log, checkpoints, the exactly-once
//! guard, poisoned events, bulk builds, rebuilds) is shared and knows no model by name.

use std::any::Any;
use std::fmt;

use async_trait::async_trait;
use suspense_database::{Pool, Tx};
use suspense_domain::SuspenseItemEvent;
use suspense_store::{EventLog, RecordedEvent};

use crate::calendar::ReportingCalendar;
use crate::fast_hash::Set;
use crate::projector::ProjectionError;
use crate::register::ItemRegister;
use crate::statistics::RootCauseStatistics;

/// What a model's fold may consult besides the events.
pub(crate) struct FoldContext<'a> {
    pub log: &'a EventLog,
    pub calendar: &'a ReportingCalendar,
    /// The log position the model has applied up to: the events folded come after it.
    pub after: u64,
}

/// How far a fold got: the position of the last event applied, and the poisoned event that
/// stopped it, with the reason.
pub(crate) type Folded<'e> = (u64, Option<(&'e RecordedEvent, String)>);

/// A read model as the projector drives it.
///
/// **Invariants** a model keeps: `fold` changes nothing outside the batch it returns, and a
/// poisoned event leaves that batch as it was before the event (check everything that can
/// refuse an event before a row changes); `write` writes exactly the batch, in the
/// transaction it is given, which moves the model's checkpoint with it.
#[async_trait]
pub(crate) trait Projection: Send + Sync + 'static {
    /// The rows one batch of events produces, ready to write.
    type Batch: Send + Sync + 'static;

    /// The name of its checkpoint (`projection_checkpoints.projection`).
    fn name(&self) -> &'static str;

    /// The tables it writes, which a rebuild empties.
    fn tables(&self) -> &'static [&'static str];

    /// Folds `events` (the page's events after the model's checkpoint, in log order) into a
    /// batch, stopping at a poisoned event. The current rows of their items come from `carry`
    /// (the batch before, folded but perhaps not committed yet) where it has them, else from
    /// the database.
    async fn fold<'e>(
        &self,
        cx: &FoldContext<'_>,
        events: &[&'e RecordedEvent],
        carry: Option<&Self::Batch>,
    ) -> Result<(Self::Batch, Folded<'e>), ProjectionError>;

    /// Writes `batch` in `tx`.
    async fn write(&self, tx: &mut Tx<'_>, batch: &Self::Batch) -> Result<(), sqlx::Error>;

    /// At the start of a bulk build from empty: stops keeping month-end stocks batch by
    /// batch, if the model keeps any whose batches cost more than building them once; true
    /// if it did. `build_deferred_stocks` builds them when the build ends.
    async fn defer_stocks(&self, _pool: &Pool) -> Result<bool, sqlx::Error> {
        Ok(false)
    }

    /// Builds the stocks `defer_stocks` deferred, if they still are (also after a build cut
    /// short by a crash), from the model's tables as they stand.
    async fn build_deferred_stocks(&self, _pool: &Pool) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// A batch of any read model, as the pipeline carries it.
pub(crate) type AnyBatch = Box<dyn Any + Send + Sync>;

/// `Projection` with its batch type erased, so the pipeline can hold a list of models.
#[async_trait]
pub(crate) trait AnyProjection: Send + Sync {
    fn name(&self) -> &'static str;
    fn tables(&self) -> &'static [&'static str];
    async fn fold<'e>(
        &self,
        cx: &FoldContext<'_>,
        events: &[&'e RecordedEvent],
        carry: Option<&AnyBatch>,
    ) -> Result<(AnyBatch, Folded<'e>), ProjectionError>;
    async fn write(&self, tx: &mut Tx<'_>, batch: &AnyBatch) -> Result<(), sqlx::Error>;
    async fn defer_stocks(&self, pool: &Pool) -> Result<bool, sqlx::Error>;
    async fn build_deferred_stocks(&self, pool: &Pool) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl<P: Projection> AnyProjection for P {
    fn name(&self) -> &'static str {
        Projection::name(self)
    }

    fn tables(&self) -> &'static [&'static str] {
        Projection::tables(self)
    }

    async fn fold<'e>(
        &self,
        cx: &FoldContext<'_>,
        events: &[&'e RecordedEvent],
        carry: Option<&AnyBatch>,
    ) -> Result<(AnyBatch, Folded<'e>), ProjectionError> {
        let carry = carry.and_then(|batch| batch.downcast_ref::<P::Batch>());
        let (batch, folded) = Projection::fold(self, cx, events, carry).await?;
        Ok((Box::new(batch), folded))
    }

    async fn write(&self, tx: &mut Tx<'_>, batch: &AnyBatch) -> Result<(), sqlx::Error> {
        match batch.downcast_ref::<P::Batch>() {
            Some(batch) => Projection::write(self, tx, batch).await,
            // The pipeline hands each model only the batch its own fold returned.
            None => Err(sqlx::Error::Protocol(format!(
                "{} was handed another read model's batch",
                Projection::name(self)
            ))),
        }
    }

    async fn defer_stocks(&self, pool: &Pool) -> Result<bool, sqlx::Error> {
        Projection::defer_stocks(self, pool).await
    }

    async fn build_deferred_stocks(&self, pool: &Pool) -> Result<(), sqlx::Error> {
        Projection::build_deferred_stocks(self, pool).await
    }
}

/// One of the read models the projector keeps.
#[derive(Clone, Copy)]
pub struct ReadModel(&'static dyn AnyProjection);

impl ReadModel {
    /// `item_register`, `open_balance`, `balance_movements` (aging reads these).
    pub const ITEM_REGISTER: ReadModel = ReadModel(&ItemRegister);
    /// `root_cause_monthly`, `root_cause_open`, `resolution_time_histogram`, `stats_items`.
    pub const ROOT_CAUSE_STATISTICS: ReadModel = ReadModel(&RootCauseStatistics);

    /// Every read model, in the order they are folded and written. A new read model is
    /// registered here.
    pub const ALL: &'static [ReadModel] = &[Self::ITEM_REGISTER, Self::ROOT_CAUSE_STATISTICS];

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name.trim())
    }

    /// The tables the model writes (and a rebuild empties).
    pub fn tables(&self) -> &'static [&'static str] {
        self.0.tables()
    }

    pub(crate) fn projection(&self) -> &'static dyn AnyProjection {
        self.0
    }

    pub(crate) async fn write(&self, tx: &mut Tx<'_>, batch: &AnyBatch) -> Result<(), sqlx::Error> {
        self.0.write(tx, batch).await
    }
}

impl PartialEq for ReadModel {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for ReadModel {}

impl std::hash::Hash for ReadModel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl fmt::Debug for ReadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ReadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies `apply` to each event in turn until one is refused (see `Folded`).
pub(crate) fn fold_each<'e>(
    events: &[&'e RecordedEvent],
    mut apply: impl FnMut(&RecordedEvent) -> Result<(), String>,
) -> Folded<'e> {
    let mut applied = 0;
    for event in events {
        if let Err(reason) = apply(event) {
            return (applied, Some((event, reason)));
        }
        applied = event.position.unwrap_or(applied);
    }
    (applied, None)
}

/// Splits `ids` into the values `carried` has for them and the ids left to read.
/// The error for an event of an item's history that did not replay: it was applied once
/// already, so this means a changed log.
pub(crate) fn unreplayable(
    projection: &'static str,
    (event, reason): (&RecordedEvent, String),
) -> ProjectionError {
    ProjectionError::Poisoned {
        projection,
        position: event.position.unwrap_or(0),
        item_id: event.item_id.to_string(),
        reason: format!("replaying the item's history: {reason}"),
    }
}

pub(crate) fn split_carried<T>(
    ids: Vec<String>,
    carried: impl Fn(&str) -> Option<T>,
) -> (Vec<(String, T)>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match carried(&id) {
            Some(value) => found.push((id, value)),
            None => missing.push(id),
        }
    }
    (found, missing)
}

/// The batch's items split into the rows `carried` has for them and the ids whose rows are
/// read from the database; items in `opened` have none anywhere (see `opened_in`).
pub(crate) fn rows_to_read<T>(
    events: &[&RecordedEvent],
    opened: &Set<String>,
    carried: impl Fn(&str) -> Option<T>,
) -> (Vec<(String, T)>, Vec<String>) {
    let (carried, mut ids) = split_carried(item_ids(events), carried);
    ids.retain(|id| !opened.contains(id));
    (carried, ids)
}

/// The items opened by one of `events`. A model that has not applied an item's opening has
/// no row for it, and the log holds nothing of it before: there is nothing to read for them.
pub(crate) fn opened_in(events: &[&RecordedEvent]) -> Set<String> {
    events
        .iter()
        .filter(|e| matches!(e.event, SuspenseItemEvent::Opened { .. }))
        .map(|e| e.item_id.to_string())
        .collect()
}

fn item_ids(events: &[&RecordedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.item_id.to_string())
        .collect::<Set<_>>()
        .into_iter()
        .collect()
}
