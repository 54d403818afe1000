//! SQLite writes of many rows: one multi-row statement per chunk, the next one built while
//! the one before it runs.

use sqlx::{QueryBuilder, Transaction};

use crate::sql::CHUNK;

type Db = sqlx::Sqlite;

/// Runs one statement per `CHUNK` of `items`, as `build` writes it, one after another in
/// `tx`. Each statement is built while the one before it runs: SQLite runs it on the
/// connection's own thread, so binding the next chunk's values does not wait for it.
pub(crate) async fn execute_chunks<'a, T>(
    tx: &mut Transaction<'_, Db>,
    items: &'a [T],
    build: impl Fn(&'a [T]) -> QueryBuilder<'a, Db>,
) -> Result<(), sqlx::Error> {
    let mut chunks = items.chunks(CHUNK);
    let Some(first) = chunks.next() else {
        return Ok(());
    };
    let mut query = build(first);
    loop {
        let next = chunks.next();
        // `join!` polls the statement first, which hands it to the connection's thread.
        let (done, built) =
            tokio::join!(query.build().execute(&mut **tx), async { next.map(&build) });
        done?;
        match built {
            Some(built) => query = built,
            None => return Ok(()),
        }
    }
}
