//! Canonical JSON straight from stored text: keys sorted, no whitespace, strings and numbers
//! spelled as `serde_json` spells them. Byte for byte what parsing the text into a
//! `serde_json::Value` and writing it back gives (a property test holds the two together),
//! without building the `Value`: hashing the log for the chain parsed every event into a tree
//! of allocations only to print it again, and that was a third of a catch-up's own CPU time.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// Parses the JSON `text` into a tree borrowing from it, to be written canonically
/// (`Node::write`).
///
/// Parsed into this tree rather than re-parsing each nested value's raw text, as an earlier
/// version did, which parsed a payload once per level of nesting (16% of a catch-up's own
/// CPU).
pub(crate) fn parse(text: &str) -> Result<Node<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

/// A parsed JSON value whose strings borrow from the text where they hold no escapes. Parsed
/// by `serde_json` itself (its nesting limit included) with the same visits a `Value` takes,
/// so numbers come out as a `Value` would print them.
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Text<'a>),
    Array(Vec<Node<'a>>),
    /// Fields in the text's order, duplicates included (see `write`).
    Object(Vec<(Text<'a>, Node<'a>)>),
}

impl Node<'_> {
    /// Appends the canonical form of the value to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        match self {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Number(number) => serde_json::to_writer(&mut *out, number)?,
            Node::String(text) => serde_json::to_writer(&mut *out, text.0.as_ref())?,
            Node::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out)?;
                }
                out.push(b']');
            }
            Node::Object(fields) => {
                // A stable sort keeps duplicates in text order; the last of each run is the
                // one written, as a parsed `Value` keeps the last.
                let mut order: Vec<&(Text<'_>, Node<'_>)> = fields.iter().collect();
                order.sort_by(|a, b| a.0.cmp(&b.0));
                out.push(b'{');
                let mut first = true;
                for (i, (key, value)) in order.iter().map(|f| (&f.0, &f.1)).enumerate() {
                    if order.get(i + 1).is_some_and(|next| next.0 == *key) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut *out, key.0.as_ref())?;
                    out.push(b':');
                    value.write(out)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;

        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Node::Null)
            }

            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Node::Bool(b))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Node::Number(n.into()))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Node::Number(n.into()))
            }

            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                // As `Value` does: a number JSON cannot spell is null.
                Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Node::String(Text(Cow::Borrowed(s))))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Node::String(Text(Cow::Owned(s.to_owned()))))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Node::String(Text(Cow::Owned(s))))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Node::Object(fields))
            }
        }

        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A JSON string, borrowed from the text unless it holds escapes.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    fn canonical(text: &str) -> Result<String, serde_json::Error> {
        let mut out = Vec::new();
        parse(text)?.write(&mut out)?;
        Ok(String::from_utf8(out).unwrap_or_default())
    }

    fn through_value(text: &str) -> Result<String, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        serde_json::to_string(&value)
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC*|[\"\\\\/\u{0}-\u{1f}é中]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z\"\\\\é]{0,4}", inner), 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// The same JSON as `value` spelled differently: keys in reverse order, spaces, escapes.
    fn respelled(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let fields: Vec<String> = map
                    .iter()
                    .rev()
                    .map(|(k, v)| format!(" {} : {} ", escaped(k), respelled(v)))
                    .collect();
                format!("{{ {} }}", fields.join(" ,\n"))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(respelled).collect();
                format!("[ {} ]", items.join(" , "))
            }
            Value::String(s) => escaped(s),
            Value::Number(n) if n.is_f64() => format!("{:e}", n.as_f64().unwrap_or(0.0)),
            other => other.to_string(),
        }
    }

    /// Every character as a `\u` escape: the least canonical spelling there is.
    fn escaped(s: &str) -> String {
        let units: String = s
            .encode_utf16()
            .map(|unit| format!("\\u{unit:04x}"))
            .collect();
        format!("\"{units}\"")
    }

    proptest! {
        #[test]
        fn canonical_text_is_what_a_parsed_value_prints(value in json()) {
            let compact = serde_json::to_string(&value).unwrap_or_default();
            prop_assert_eq!(canonical(&compact)?, through_value(&compact)?);
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            prop_assert_eq!(canonical(&pretty)?, through_value(&pretty)?);
            let odd = respelled(&value);
            prop_assert_eq!(canonical(&odd)?, through_value(&odd)?);
        }
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_as_a_parsed_value_does() {
        let text = r#"{"b":1,"a":{"x":1},"b":2,"a":[3]}"#;
        assert_eq!(canonical(text).ok(), through_value(text).ok());
        assert_eq!(canonical(text).ok().as_deref(), Some(r#"{"a":[3],"b":2}"#));
    }

    #[test]
    fn numbers_keep_serde_jsons_spelling() {
        for text in [
            "1.0",
            "1e2",
            "-0",
            "-0.0",
            "18446744073709551615",
            "1E400",
            "0.1e-3",
        ] {
            assert_eq!(canonical(text).ok(), through_value(text).ok(), "{text}");
        }
    }

    #[test]
    fn what_does_not_parse_is_refused_as_a_parsed_value_refuses_it() {
        let too_deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for text in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "tru",
            "1 2",
            "\"\\x\"",
            too_deep.as_str(),
        ] {
            assert!(canonical(text).is_err(), "{text:?}");
            assert!(through_value(text).is_err(), "{text:?}");
        }
    }
}
