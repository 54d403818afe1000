//! Root causes (對掛賬問題進行分類): the five categories of the remediation plan, and the
//! bank-configurable catalogue of finer sub-codes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::{text_newtype, InvalidInput};

/// The plan's five root-cause categories. The set is fixed: statistics are compared across
/// banks and periods by category; finer distinctions belong in [`RootCauseCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootCauseCategory {
    /// 操作失誤: non-standard operation, carelessness, missing review.
    OperationalError,
    /// 系統故障: the bank's own systems failing or misbehaving.
    SystemFailure,
    /// 客戶原因: the customer did not follow the procedure or forgot a date.
    CustomerCause,
    /// 外部原因: third-party platforms, partner institutions, attacks.
    ExternalCause,
    /// 內部管理制度不完善: gaps in rules and workflows.
    ProcessGap,
}

impl RootCauseCategory {
    pub const ALL: [RootCauseCategory; 5] = [
        Self::OperationalError,
        Self::SystemFailure,
        Self::CustomerCause,
        Self::ExternalCause,
        Self::ProcessGap,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OperationalError => "operational_error",
            Self::SystemFailure => "system_failure",
            Self::CustomerCause => "customer_cause",
            Self::ExternalCause => "external_cause",
            Self::ProcessGap => "process_gap",
        }
    }

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == value)
            .ok_or_else(|| {
                InvalidInput::new(
                    "category",
                    format!(
                        "'{value}' is not one of operational_error, system_failure, \
                         customer_cause, external_cause, process_gap"
                    ),
                )
            })
    }
}

impl fmt::Display for RootCauseCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_newtype!(
    /// A sub-code of a category from the bank's catalogue, e.g. `OP-KEYING`.
    RootCauseCode, field = "code", max = 32, multiline = false
);

/// A classification: category plus sub-code. Only built by [`RootCauseCatalogue::resolve`]
/// or read back from the log, so a code always belongs to its category.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RootCause {
    pub category: RootCauseCategory,
    pub code: RootCauseCode,
}

impl fmt::Display for RootCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.category, self.code)
    }
}

/// One sub-code of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub category: RootCauseCategory,
    pub description: String,
}

/// Why a (category, code) pair was refused by the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("root-cause code '{code}' is not in the catalogue")]
    UnknownCode { code: RootCauseCode },
    #[error("root-cause code '{code}' belongs to {actual}, not {requested}")]
    WrongCategory {
        code: RootCauseCode,
        requested: RootCauseCategory,
        actual: RootCauseCategory,
    },
}

/// The bank's sub-codes: each code belongs to exactly one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseCatalogue {
    entries: BTreeMap<RootCauseCode, CatalogueEntry>,
}

impl RootCauseCatalogue {
    pub fn new(entries: BTreeMap<RootCauseCode, CatalogueEntry>) -> Self {
        Self { entries }
    }

    pub fn entries(&self) -> &BTreeMap<RootCauseCode, CatalogueEntry> {
        &self.entries
    }

    /// Checks that `code` exists and belongs to `category`.
    pub fn resolve(
        &self,
        category: RootCauseCategory,
        code: &RootCauseCode,
    ) -> Result<RootCause, CatalogueError> {
        let entry = self
            .entries
            .get(code)
            .ok_or_else(|| CatalogueError::UnknownCode { code: code.clone() })?;
        if entry.category != category {
            return Err(CatalogueError::WrongCategory {
                code: code.clone(),
                requested: category,
                actual: entry.category,
            });
        }
        Ok(RootCause {
            category,
            code: code.clone(),
        })
    }
}

impl Default for RootCauseCatalogue {
    /// A starter catalogue drawn from the remediation plan's examples; banks replace it.
    fn default() -> Self {
        use RootCauseCategory::*;
        let rows: [(&str, RootCauseCategory, &str); 14] = [
            (
                "OP-KEYING",
                OperationalError,
                "wrong account or amount keyed",
            ),
            ("OP-REVIEW", OperationalError, "missing or skipped review"),
            ("OP-PROCEDURE", OperationalError, "non-standard operation"),
            (
                "SYS-OUTAGE",
                SystemFailure,
                "system unavailable during posting",
            ),
            (
                "SYS-INTERFACE",
                SystemFailure,
                "interface or batch file failure",
            ),
            (
                "SYS-DEFECT",
                SystemFailure,
                "software defect in posting logic",
            ),
            (
                "CUS-REFERENCE",
                CustomerCause,
                "missing or unusable payment reference",
            ),
            (
                "CUS-PROCEDURE",
                CustomerCause,
                "customer did not follow the procedure",
            ),
            (
                "CUS-REPAYMENT-DATE",
                CustomerCause,
                "repayment date missed or forgotten",
            ),
            (
                "EXT-TPP-SETTLEMENT",
                ExternalCause,
                "third-party payment settlement mismatch",
            ),
            ("EXT-PARTNER", ExternalCause, "partner institution error"),
            ("EXT-ATTACK", ExternalCause, "network attack or malware"),
            ("PRC-RULE-GAP", ProcessGap, "no rule covers the case"),
            ("PRC-WORKFLOW", ProcessGap, "workflow hand-off gap"),
        ];
        let entries = rows
            .into_iter()
            .filter_map(|(code, category, description)| {
                RootCauseCode::parse(code).ok().map(|code| {
                    (
                        code,
                        CatalogueEntry {
                            category,
                            description: description.to_owned(),
                        },
                    )
                })
            })
            .collect();
        Self { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RootCauseCode {
        RootCauseCode::parse(s).expect("valid code")
    }

    #[test]
    fn default_catalogue_covers_every_category() {
        let catalogue = RootCauseCatalogue::default();
        assert_eq!(catalogue.entries().len(), 14);
        for category in RootCauseCategory::ALL {
            assert!(catalogue.entries().values().any(|e| e.category == category));
        }
    }

    #[test]
    fn resolve_checks_existence_and_category() {
        let catalogue = RootCauseCatalogue::default();
        assert!(catalogue
            .resolve(RootCauseCategory::SystemFailure, &code("SYS-OUTAGE"))
            .is_ok());
        assert_eq!(
            catalogue.resolve(RootCauseCategory::SystemFailure, &code("NOPE")),
            Err(CatalogueError::UnknownCode { code: code("NOPE") })
        );
        assert!(matches!(
            catalogue.resolve(RootCauseCategory::CustomerCause, &code("SYS-OUTAGE")),
            Err(CatalogueError::WrongCategory { .. })
        ));
    }

    #[test]
    fn category_parses_its_wire_names_only() {
        for category in RootCauseCategory::ALL {
            assert_eq!(RootCauseCategory::parse(category.as_str()), Ok(category));
        }
        assert_eq!(
            RootCauseCategory::parse("other").map_err(|e| e.field),
            Err("category".to_owned())
        );
    }
}
