//! Whole numbers in bodies. JSON has one number type: `3.0` is as whole as `3`, and the API's
//! document (a JSON Schema `integer`) allows both, so both are taken; `3.5` is refused.

use serde::de::Error;
use serde::{Deserialize, Deserializer};

fn whole<T: TryFrom<u64>, E: Error>(number: &serde_json::Number) -> Result<T, E> {
    let value = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            // Exact: a whole f64 below 2^64 converts without loss.
            .map(|f| f as u64)
    });
    value.and_then(|v| T::try_from(v).ok()).ok_or_else(|| {
        E::custom(format!(
            "invalid value: {number}, expected a whole number in range"
        ))
    })
}

/// A whole number.
pub fn number<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    whole(&serde_json::Number::deserialize(d)?)
}

/// A whole number or `null`.
pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(|n| whole(&n))
        .transpose()
}

/// A list of whole numbers.
pub fn list<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<serde_json::Number>::deserialize(d)?
        .iter()
        .map(whole)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Counts {
        #[serde(deserialize_with = "super::number")]
        one: u8,
        #[serde(default, deserialize_with = "super::optional")]
        maybe: Option<u32>,
        #[serde(default, deserialize_with = "super::list")]
        many: Vec<u32>,
    }

    #[test]
    fn whole_numbers_are_taken_with_or_without_a_fraction_of_zero() {
        let counts: Counts =
            serde_json::from_str(r#"{"one": 3.0, "maybe": 7, "many": [1, 2.0]}"#).expect("valid");
        assert_eq!(
            (counts.one, counts.maybe, counts.many),
            (3, Some(7), vec![1, 2])
        );
        let counts: Counts = serde_json::from_str(r#"{"one": 3}"#).expect("valid");
        assert_eq!(counts.maybe, None);
        for bad in [
            r#"{"one": 3.5}"#,
            r#"{"one": 256}"#,
            r#"{"one": -1}"#,
            r#"{"one": "3"}"#,
        ] {
            assert!(serde_json::from_str::<Counts>(bad).is_err(), "{bad}");
        }
    }
}
