//! Report rows read on either backend. On SQLite a query's rows come back as one JSON array
//! in one row instead: the driver hands every row across a thread on its own, which cost
//! more than the query itself for a report's few hundred rows.

use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use suspense_database::{Pool, Statement};

/// A row type a report reads: from rows on PostgreSQL, from a JSON array of objects on
/// SQLite.
pub(super) trait ReportRow:
    DeserializeOwned
    + for<'r> sqlx::FromRow<'r, PgRow>
    + for<'r> sqlx::FromRow<'r, SqliteRow>
    + Send
    + Unpin
{
    /// The row's columns, as the statement selects them.
    fn columns() -> Vec<&'static str>;

    /// The value of `column` in the JSON object of a row.
    fn json_value(column: &str) -> String {
        column.to_owned()
    }
}

/// The rows `statement` selects, as `T`s.
pub(super) async fn fetch_rows<T: ReportRow>(
    pool: &Pool,
    statement: Statement,
) -> Result<Vec<T>, sqlx::Error> {
    match pool {
        Pool::Sqlite(_) => {
            let object: Vec<String> = T::columns()
                .into_iter()
                .map(|column| format!("'{column}', {}", T::json_value(column)))
                .collect();
            let open = format!(
                "SELECT json_group_array(json_object({})) FROM (",
                object.join(", ")
            );
            let json = statement.wrapped(&open, ")").fetch_text(pool).await?;
            serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        }
        Pool::Postgres(_) => statement.fetch_all(pool).await,
    }
}
