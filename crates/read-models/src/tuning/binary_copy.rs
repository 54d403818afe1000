//! Rows for PostgreSQL's `COPY … FROM STDIN (FORMAT binary)`: how the rows a batch creates
//! reach their tables. COPY is the server's bulk-load path (no statement to parse, plan or
//! unpack from arrays), and the client writes each value once, into one buffer, instead of
//! cloning it into an array per column. Measured against `INSERT … SELECT FROM UNNEST(…)`:
//! about a tenth less CPU for a whole catch-up (docs/performance.md).
//!
//! Each value is encoded by sqlx's own `Encode`, exactly as it would be bound as a parameter
//! of the same type, so a copied row is the row an insert would have stored. The Rust type of a
//! value must be the one sqlx maps to the column's type (`String` → text, `i64` → bigint,
//! `i32` → integer, …): in binary format the server reads the bytes as the column's type, and
//! refuses a value of the wrong size.

use sqlx::encode::IsNull;
use sqlx::postgres::PgArgumentBuffer;
use sqlx::{Encode, Postgres, Transaction};

/// The binary COPY header: signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Rows of one table, encoded as they are added.
pub(crate) struct BinaryRows {
    buffer: PgArgumentBuffer,
    columns: i16,
    rows: u64,
    /// The first value that did not encode: reported by `copy_into`, so that rows can be
    /// written as one chain of `value` calls.
    error: Option<sqlx::Error>,
}

impl BinaryRows {
    pub(crate) fn new(columns: i16) -> Self {
        let mut buffer = PgArgumentBuffer::default();
        buffer.extend_from_slice(HEADER);
        Self {
            buffer,
            columns,
            rows: 0,
            error: None,
        }
    }

    /// Starts a row: follow with one `value` per column, in the order `copy_into` names them.
    pub(crate) fn row(&mut self) -> &mut Self {
        self.buffer.extend_from_slice(&self.columns.to_be_bytes());
        self.rows += 1;
        self
    }

    /// Adds a value to the current row; `None` of an `Option` is NULL.
    pub(crate) fn value<'q, T: Encode<'q, Postgres>>(&mut self, value: &T) -> &mut Self {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&[0; 4]);
        let length = match value.encode_by_ref(&mut self.buffer) {
            Ok(IsNull::No) => i32::try_from(self.buffer.len() - start - 4)
                .map_err(|e| sqlx::Error::Encode(Box::new(e))),
            Ok(IsNull::Yes) => {
                self.buffer.truncate(start + 4);
                Ok(-1)
            }
            Err(e) => Err(sqlx::Error::Encode(e)),
        };
        match length {
            Ok(length) => self.buffer[start..start + 4].copy_from_slice(&length.to_be_bytes()),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Copies the rows into `target` (`table (column, …)`) within `tx`.
    pub(crate) async fn copy_into(
        mut self,
        tx: &mut Transaction<'_, Postgres>,
        target: &str,
    ) -> Result<(), sqlx::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.rows == 0 {
            return Ok(());
        }
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        let mut copy = tx
            .copy_in_raw(&format!("COPY {target} FROM STDIN (FORMAT binary)"))
            .await?;
        copy.send(self.buffer.as_slice()).await?;
        let copied = copy.finish().await?;
        if copied != self.rows {
            return Err(sqlx::Error::Protocol(format!(
                "COPY into {target} took {copied} of {} rows",
                self.rows
            )));
        }
        Ok(())
    }
}
