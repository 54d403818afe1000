//! Nested objects in bodies. serde fills a struct from a JSON array as readily as from an
//! object (its fields in order), which the API's document does not allow: `Body::json`
//! refuses a top-level array, and fields holding objects read through these.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads `T` from a JSON object only.
struct ObjectOnly<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ObjectOnly<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

/// An object.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    ObjectOnly(PhantomData).deserialize(d)
}

/// An object or `null`.
pub fn optional<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct Optional<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Optional<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            object(d).map(Some)
        }
    }

    d.deserialize_option(Optional(PhantomData))
}

/// A list of objects.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct List<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of objects")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(item) = seq.next_element_seed(ObjectOnly(PhantomData))? {
                items.push(item);
            }
            Ok(items)
        }
    }

    d.deserialize_seq(List(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fee {
        amount: String,
        currency: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Open {
        #[serde(deserialize_with = "super::object")]
        main: Fee,
        #[serde(default, deserialize_with = "super::optional")]
        fee: Option<Fee>,
        #[serde(default, deserialize_with = "super::list")]
        more: Vec<Fee>,
    }

    fn fee(amount: &str) -> Fee {
        Fee {
            amount: amount.to_owned(),
            currency: "CNY".to_owned(),
        }
    }

    #[test]
    fn objects_are_read_as_serde_reads_them() {
        let open: Open = serde_json::from_str(
            r#"{"main": {"amount": "1", "currency": "CNY"},
                "fee": {"amount": "2", "currency": "CNY"},
                "more": [{"amount": "3", "currency": "CNY"}]}"#,
        )
        .expect("valid");
        assert_eq!(open.main, fee("1"));
        assert_eq!(open.fee, Some(fee("2")));
        assert_eq!(open.more, vec![fee("3")]);

        let open: Open =
            serde_json::from_str(r#"{"main": {"amount": "1", "currency": "CNY"}, "fee": null}"#)
                .expect("valid");
        assert_eq!(open.fee, None);
        assert!(open.more.is_empty());
    }

    #[test]
    fn an_array_in_place_of_an_object_is_refused_at_every_depth() {
        for body in [
            r#"{"main": ["1", "CNY"]}"#,
            r#"{"main": {"amount": "1", "currency": "CNY"}, "fee": ["2", "CNY"]}"#,
            r#"{"main": {"amount": "1", "currency": "CNY"}, "more": [["3", "CNY"]]}"#,
            r#"{"main": {"amount": "1", "currency": "CNY"}, "more": {"amount": "3"}}"#,
        ] {
            let error = serde_json::from_str::<Open>(body).expect_err(body);
            assert!(
                error.to_string().contains("invalid type"),
                "{body}: {error}"
            );
        }
    }

    #[test]
    fn an_object_s_own_rules_still_apply() {
        let error = serde_json::from_str::<Open>(
            r#"{"main": {"amount": "1", "currency": "CNY", "extra": 1}}"#,
        )
        .expect_err("unknown field");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }
}
