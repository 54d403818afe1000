//! Where the event log lives: an SQLite file (the embedded default) or a PostgreSQL URL.

use std::fmt;
use std::path::PathBuf;

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A single SQLite file, created and migrated on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by connection URL.
    Postgres(String),
}

impl StoreLocation {
    /// Accepts `postgres://…` / `postgresql://…`, `sqlite://path` / `sqlite:path`, or a plain
    /// file path (taken as SQLite).
    pub fn parse(location: &str) -> Result<Self, StoreError> {
        let location = location.trim();
        let invalid = |reason: &str| StoreError::InvalidLocation {
            location: location.to_owned(),
            reason: reason.to_owned(),
        };
        if location.is_empty() {
            return Err(invalid("it is empty"));
        }
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Ok(Self::Postgres(location.to_owned()));
        }
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        if path.is_empty() {
            return Err(invalid("the SQLite file path is empty"));
        }
        if path.contains("://") {
            return Err(invalid(
                "only postgres:// URLs and SQLite file paths are supported",
            ));
        }
        if path.starts_with(":memory:") {
            return Err(invalid(
                "an in-memory SQLite database would lose the log; give a file path",
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Display for StoreLocation {
    /// Never prints a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(url) => match url.split_once('@') {
                Some((_, host)) => write!(f, "postgres://…@{host}"),
                None => f.write_str(url),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_backends() {
        assert_eq!(
            StoreLocation::parse("postgres://u@h/db").ok(),
            Some(StoreLocation::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            StoreLocation::parse("sqlite://data/s.db").ok(),
            Some(StoreLocation::Sqlite("data/s.db".into()))
        );
        assert_eq!(
            StoreLocation::parse("./suspense.db").ok(),
            Some(StoreLocation::Sqlite("./suspense.db".into()))
        );
    }

    #[test]
    fn rejects_what_would_lose_data_or_cannot_work() {
        assert!(StoreLocation::parse("").is_err());
        assert!(StoreLocation::parse("sqlite::memory:").is_err());
        assert!(StoreLocation::parse("mysql://h/db").is_err());
    }

    #[test]
    fn display_hides_credentials() {
        let location = StoreLocation::parse("postgres://u:secret@h:5432/db").expect("valid");
        assert_eq!(location.to_string(), "postgres://…@h:5432/db");
    }
}
