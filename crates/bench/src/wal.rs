//! PostgreSQL's write-ahead log written during a phase (`pg_stat_wal`, cluster-wide): on a
//! large database the writes of a catch-up cost what they log, above all the full-page images
//! of index pages touched for the first time since a checkpoint.

use suspense_database::Pool;

/// WAL bytes, records and full-page images written so far by the whole cluster; `None` on
/// SQLite.
#[derive(Clone, Copy)]
pub struct WalWritten(Option<(i64, i64, i64)>);

impl WalWritten {
    pub async fn now(pool: &Pool) -> Result<Self, sqlx::Error> {
        let Pool::Postgres(pg) = pool else {
            return Ok(Self(None));
        };
        let row: (i64, i64, i64) =
            sqlx::query_as("SELECT wal_bytes::bigint, wal_records, wal_fpi FROM pg_stat_wal")
                .fetch_one(pg)
                .await?;
        Ok(Self(Some(row)))
    }

    /// `MB (records, full-page images)` written since `earlier`, or `-` on SQLite.
    pub fn since(&self, earlier: &WalWritten) -> String {
        match (self.0, earlier.0) {
            (Some((bytes, records, fpi)), Some((bytes0, records0, fpi0))) => format!(
                "{:.0} MB ({} records, {} full-page images)",
                (bytes - bytes0) as f64 / 1e6,
                records - records0,
                fpi - fpi0
            ),
            _ => "-".to_owned(),
        }
    }
}
