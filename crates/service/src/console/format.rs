//! Amounts and times as the console shows them: exact decimals with thousands separators
//! and the currency code (the same in both languages: banks in mainland China write
//! 1,234.56 too), times in the bank's time zone.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use suspense_read_models::ReportingCalendar;

/// `minor` units of a currency with `scale` decimals: `1234567, 2` → `12,345.67`.
pub fn minor_units(minor: i64, scale: u32) -> String {
    grouped(&Decimal::new(minor, scale).to_string())
}

/// A decimal as text (`-12345.6`) with its whole part grouped by thousands (`-12,345.6`).
pub fn grouped(decimal: &str) -> String {
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(decimal.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A moment as the bank's clock showed it: `2026-03-02 09:15`.
pub fn local_time(calendar: &ReportingCalendar, at: DateTime<Utc>) -> String {
    at.with_timezone(&calendar.time_zone())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands_and_keep_every_decimal() {
        assert_eq!(minor_units(1_234_567, 2), "12,345.67");
        assert_eq!(minor_units(-100, 2), "-1.00");
        assert_eq!(minor_units(5, 0), "5");
        assert_eq!(minor_units(123_456_789, 3), "123,456.789");
        assert_eq!(grouped("1000000"), "1,000,000");
        assert_eq!(grouped("999.5"), "999.5");
    }
}
