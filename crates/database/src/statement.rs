//! A statement built piece by piece, with its parameters, once for both backends.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::{on_tx, with_pool, Pool, Tx};

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<NaiveDate> for Param {
    fn from(value: NaiveDate) -> Self {
        Self::Date(value)
    }
}

impl From<DateTime<Utc>> for Param {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Time(value)
    }
}

/// SQL text with `$1, $2, …` parameters and their values, built as sqlx's `QueryBuilder` is
/// but for either backend: what the statement says is decided once, and only running it
/// depends on the backend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    sql: String,
    params: Vec<Param>,
}

/// Binds `$params` to `$query` in order (`sqlx::query`, `query_as` or `query_scalar`).
macro_rules! bound {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(text) => query.bind(text.as_str()),
                Param::Int(int) => query.bind(*int),
                Param::Date(date) => query.bind(*date),
                Param::Time(time) => query.bind(*time),
            };
        }
        query
    }};
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends the next parameter (`$n`) and its value.
    pub fn push_param(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "${}", self.params.len());
        self
    }

    /// Appends one parameter per value, separated by commas (an `IN` list's contents).
    pub fn push_params<P: Into<Param>>(
        &mut self,
        values: impl IntoIterator<Item = P>,
    ) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_param(value);
        }
        self
    }

    /// Adds the value of the next parameter of text that already names it (`$n`).
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The same parameters inside `before … after` (e.g. a subquery wrapped by an outer
    /// `SELECT`).
    pub fn wrapped(self, before: &str, after: &str) -> Self {
        Self {
            sql: format!("{before}{}{after}", self.sql),
            params: self.params,
        }
    }

    pub async fn fetch_all<T>(&self, pool: &Pool) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        with_pool!(pool, p => bound!(sqlx::query_as(&self.sql), &self.params).fetch_all(p).await)
    }

    /// `fetch_all` inside the transaction `tx`.
    pub async fn fetch_all_in<T>(&self, tx: &mut Tx<'_>) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        on_tx!(tx, t => bound!(sqlx::query_as(&self.sql), &self.params).fetch_all(&mut **t).await)
    }

    pub async fn fetch_optional<T>(&self, pool: &Pool) -> Result<Option<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        with_pool!(pool, p => bound!(sqlx::query_as(&self.sql), &self.params).fetch_optional(p).await)
    }

    /// The one text value of the statement's one row.
    pub async fn fetch_text(&self, pool: &Pool) -> Result<String, sqlx::Error> {
        with_pool!(pool, p => bound!(sqlx::query_scalar(&self.sql), &self.params).fetch_one(p).await)
    }

    pub async fn execute(&self, pool: &Pool) -> Result<u64, sqlx::Error> {
        with_pool!(pool, p => bound!(sqlx::query(&self.sql), &self.params)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_the_order_they_are_pushed() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date");
        let mut statement = Statement::new("SELECT * FROM t WHERE k IN (");
        statement.push_params(["p", "q"]).push(") AND a = ");
        statement
            .push_param("x")
            .push(" AND b >= ")
            .push_param(day)
            .push(" LIMIT ")
            .push_param(5);
        let statement = statement.wrapped("SELECT count(*) FROM (", ") s");
        assert_eq!(
            statement.sql(),
            "SELECT count(*) FROM (SELECT * FROM t WHERE k IN ($1, $2) AND a = $3 AND b >= $4 \
             LIMIT $5) s"
        );
        assert_eq!(
            statement.params,
            vec![
                Param::Text("p".into()),
                Param::Text("q".into()),
                Param::Text("x".into()),
                Param::Date(day),
                Param::Int(5)
            ]
        );
    }
}
