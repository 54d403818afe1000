//! A parsed JSON `Node` deserialised into typed values, as `serde_json` deserialises a
//! `&Value`: an event's payload is parsed once, then both hashed for the chain (its canonical
//! bytes) and decoded (this), where parsing the text twice was a sixth of a catch-up's own
//! CPU.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::Error;
use std::borrow::Cow;

use super::{Node, Text};

impl<'de> Deserializer<'de> for &Node<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Number(n) => n.deserialize_any(visitor),
            Node::String(text) => text.deserialize_any(visitor),
            Node::Array(items) => {
                let mut seq = Items(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(items.len(), &"fewer elements")),
                }
            }
            Node::Object(fields) => visitor.visit_map(Fields {
                fields: fields.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Externally tagged, as serde_json writes enums: "Variant" or {"Variant": value}.
        match self {
            Node::String(text) => visitor.visit_enum(Variant {
                name: text,
                value: None,
            }),
            Node::Object(fields) => match fields.as_slice() {
                [(name, value)] => visitor.visit_enum(Variant {
                    name,
                    value: Some(value),
                }),
                _ => Err(de::Error::invalid_value(
                    de::Unexpected::Map,
                    &"a map with a single key",
                )),
            },
            other => Err(de::Error::invalid_type(other.unexpected(), &"an enum")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> Node<'de> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Node::Null => de::Unexpected::Unit,
            Node::Bool(b) => de::Unexpected::Bool(*b),
            Node::Number(_) => de::Unexpected::Other("number"),
            Node::String(text) => de::Unexpected::Str(&text.0),
            Node::Array(_) => de::Unexpected::Seq,
            Node::Object(_) => de::Unexpected::Map,
        }
    }
}

impl<'de> Text<'de> {
    /// Hands the string over borrowed from the text where it holds no escapes.
    fn deserialize_any<V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, Error> {
        match &self.0 {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_str(s),
        }
    }

    fn seed<T: DeserializeSeed<'de>>(&self, seed: T) -> Result<T::Value, Error> {
        match &self.0 {
            Cow::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::new(s)),
            Cow::Owned(s) => seed.deserialize(s.as_str().into_deserializer()),
        }
    }
}

struct Items<'a, 'de>(std::slice::Iter<'a, Node<'de>>);

impl<'a, 'de> SeqAccess<'de> for Items<'a, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|node| seed.deserialize(node)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's fields in the text's order, duplicates included: a derived `Deserialize`
/// refuses a duplicate field, as it does reading the text itself.
struct Fields<'a, 'de> {
    fields: std::slice::Iter<'a, (Text<'de>, Node<'de>)>,
    value: Option<&'a Node<'de>>,
}

impl<'a, 'de> MapAccess<'de> for Fields<'a, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        key.seed(seed).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

struct Variant<'a, 'de> {
    name: &'a Text<'de>,
    value: Option<&'a Node<'de>>,
}

impl<'a, 'de> EnumAccess<'de> for Variant<'a, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let name = self.name.seed(seed)?;
        Ok((name, self))
    }
}

impl<'a, 'de> VariantAccess<'de> for Variant<'a, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            None | Some(Node::Null) => Ok(()),
            Some(other) => Err(de::Error::invalid_type(other.unexpected(), &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.value {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Some(value @ Node::Array(_)) => value.deserialize_any(visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"tuple variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Some(value @ (Node::Object(_) | Node::Array(_))) => value.deserialize_any(visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::Value;

    use super::super::parse;

    fn both<'de, T: Deserialize<'de>>(text: &'de str) -> (Result<T, String>, Result<T, String>) {
        let from_tree = parse(text)
            .and_then(|tree| T::deserialize(&tree))
            .map_err(|e| e.to_string());
        let from_text = serde_json::from_str::<T>(text).map_err(|e| e.to_string());
        (from_tree, from_text)
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Shape {
        Unit,
        Newtype(u64),
        Tuple(i64, String),
        Struct {
            name: String,
            note: Option<String>,
            ratio: f64,
            items: Vec<Shape>,
        },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Wrapper(Shape);

    #[test]
    fn typed_values_come_out_of_the_tree_as_out_of_the_text() {
        for text in [
            r#""Unit""#,
            r#"{"Unit":null}"#,
            r#"{"Newtype":18446744073709551615}"#,
            r#"{"Tuple":[-9223372036854775808,"a\"b\u00e9"]}"#,
            r#"{"Struct":{"name":"x","note":null,"ratio":1.5e3,"items":["Unit",{"Newtype":1}]}}"#,
            r#"{"Struct":{"ratio":0,"items":[],"name":"\u4e2d","note":"n","extra":[1,{"a":2}]}}"#,
            // serde_json takes a struct's fields in order from an array too.
            r#"{"Struct":["x",null,1,[]]}"#,
        ] {
            let (from_tree, from_text) = both::<Shape>(text);
            assert!(from_tree.is_ok(), "{text}: {from_tree:?}");
            assert_eq!(from_tree, from_text, "{text}");
            let (wrapped, _) = both::<Wrapper>(text);
            assert_eq!(wrapped.ok().map(|w| w.0), from_text.ok(), "{text} wrapped");
        }
    }

    #[test]
    fn what_the_text_refuses_the_tree_refuses() {
        for text in [
            r#""Nothing""#,
            r#"{"Newtype":-1}"#,
            r#"{"Newtype":1,"Unit":null}"#,
            r#"{"Unit":1}"#,
            r#"{"Tuple":[1]}"#,
            r#"{"Tuple":[1,"a",2]}"#,
            r#"{"Struct":{"name":"x","note":null,"items":[]}}"#,
            r#"{"Struct":{"name":"x","name":"y","note":null,"ratio":1,"items":[]}}"#,
            "[]",
            "7",
        ] {
            let (from_tree, from_text) = both::<Shape>(text);
            assert!(from_text.is_err(), "{text}: the text should be refused");
            assert!(from_tree.is_err(), "{text}: the tree took {from_tree:?}");
        }
    }

    #[test]
    fn borrowed_strings_stay_borrowed_where_the_text_has_no_escapes() {
        #[derive(Deserialize)]
        struct Borrowing<'a> {
            name: &'a str,
        }
        let text = r#"{"name":"plain"}"#;
        let tree = parse(text).expect("parses");
        let borrowed = Borrowing::deserialize(&tree).expect("borrows");
        assert_eq!(borrowed.name, "plain");
        let _: Value = Value::deserialize(&tree).expect("any value");
    }
}
