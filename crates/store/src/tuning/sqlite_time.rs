//! SQLite keeps times as text. A page of the log read as JSON (`log::PAGE_SQLITE`) gets that
//! text, and must turn it into the same instant as sqlx's own `DateTime<Utc>` decoding would:
//! `recorded_at` enters the hash chain, so a time read differently by the two routes would
//! break the chain of an existing database. This is sqlx-sqlite 0.8's text route, rule for
//! rule; a property test holds the two together.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

/// The formats sqlx tries after RFC 3339, in its order.
const FORMATS: [&str; 12] = [
    "%F %T%.f",
    "%F %R",
    "%F %RZ",
    "%F %R%:z",
    "%F %T%.fZ",
    "%F %T%.f%:z",
    "%FT%R",
    "%FT%RZ",
    "%FT%R%:z",
    "%FT%T%.f",
    "%FT%T%.fZ",
    "%FT%T%.f%:z",
];

/// The instant `text` names, as sqlx reads a SQLite text value into `DateTime<Utc>`.
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    let at = parse_fixed(text)?;
    Some(Utc.from_utc_datetime(&at.naive_utc()))
}

fn parse_fixed(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at);
    }
    for format in FORMATS {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at);
        }
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.fix().from_utc_datetime(&at));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use sqlx::SqlitePool;

    /// What sqlx makes of `text` stored in SQLite, through the same decoding our rows use.
    async fn sqlx_reads(pool: &SqlitePool, text: &str) -> Option<DateTime<Utc>> {
        sqlx::query_scalar::<_, DateTime<Utc>>("SELECT CAST($1 AS TEXT)")
            .bind(text)
            .fetch_one(pool)
            .await
            .ok()
    }

    /// Times as SQLite's `strftime` default, as sqlx and chrono write them, and near misses:
    /// separators, fractions of any length, offsets, missing seconds, stray characters.
    fn time_text() -> impl Strategy<Value = String> {
        (
            1900i32..2200,
            1u32..13,
            1u32..29,
            0u32..24,
            0u32..60,
            proptest::option::of(0u32..61),
            proptest::option::of("[0-9]{0,10}"),
            prop_oneof!["", "Z", "z", "\\+08:00", "-05:30", "\\+0800", "\\+00:00"],
            prop_oneof!["T", " ", "t", "_"],
            prop_oneof!["", " ", "x"],
        )
            .prop_map(|(y, mo, d, h, mi, s, frac, zone, sep, tail)| {
                let mut text = format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}");
                if let Some(s) = s {
                    text.push_str(&format!(":{s:02}"));
                    if let Some(frac) = frac {
                        text.push('.');
                        text.push_str(&frac);
                    }
                }
                text.push_str(&zone);
                text.push_str(&tail);
                text
            })
    }

    #[test]
    fn parses_every_text_as_sqlx_does() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let pool = runtime.block_on(async {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await
                .expect("in-memory SQLite")
        });
        proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(2_000))
            .run(&time_text(), |text| {
                let by_sqlx = runtime.block_on(sqlx_reads(&pool, &text));
                prop_assert_eq!(parse(&text), by_sqlx, "{:?}", text);
                Ok(())
            })
            .expect("the same instant as sqlx, or an error from both");
    }

    #[test]
    fn reads_what_the_log_stores() {
        // The column's default, and what a replicated event carries (`canonical_time`).
        let expected = "2026-11-28T23:40:01.123Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(parse("2026-11-28T23:40:01.123Z"), expected);
        assert_eq!(parse("2026-11-28T23:40:01.123000Z"), expected);
        assert_eq!(parse("2026-11-28 23:40:01.123"), expected);
        assert_eq!(parse("not a time"), None);
    }
}
