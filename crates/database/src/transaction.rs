//! A transaction on either backend.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::Pool;

/// A transaction on either backend, e.g. the one a read model's batch is written in with its
/// checkpoint.
pub enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

/// Runs the same expression in whichever transaction `$tx` (a `&mut Tx`) is, with `$t` the
/// backend's `&mut Transaction`; see [`with_pool!`](crate::with_pool).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $t:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite($t) => $body,
            $crate::Tx::Postgres($t) => $body,
        }
    };
}

impl Tx<'static> {
    pub async fn begin(pool: &Pool) -> Result<Self, sqlx::Error> {
        Ok(match pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on_tx!(self, t => t.commit().await)
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        on_tx!(self, t => t.rollback().await)
    }
}
