//! Reading a line a verifier has parsed into the typed entry of its kind,
//! straight from the parsed line (no second parse, strings not copied until
//! a field keeps them), and saying which field does not fit, by its dotted
//! path, the way `docs/ledger.md` and `tools/verify_ledger.py` say it.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::jcs::Json;

/// Why a line does not fit the schema of its entry type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Misfit {
    /// A field is missing (its dotted path).
    Missing(String),
    /// A field the type does not have.
    Unknown(String),
    /// A field's value is of the wrong type or form.
    WrongForm(String),
    /// Anything else, said in full.
    Said(String),
}

impl Misfit {
    /// The same misfit one object further out, inside its member `key`.
    fn within(self, key: &str) -> Misfit {
        let path = |p: String| {
            if p.is_empty() {
                key.to_string()
            } else {
                format!("{key}.{p}")
            }
        };
        match self {
            Misfit::Missing(p) => Misfit::Missing(path(p)),
            Misfit::Unknown(p) => Misfit::Unknown(path(p)),
            Misfit::WrongForm(p) => Misfit::WrongForm(path(p)),
            said @ Misfit::Said(_) => said,
        }
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misfit::Missing(p) => write!(f, "`{p}` is missing"),
            Misfit::Unknown(p) => write!(f, "unknown field `{p}`"),
            Misfit::WrongForm(p) => write!(f, "`{p}` has the wrong type or form"),
            Misfit::Said(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(message: T) -> Misfit {
        Misfit::Said(message.to_string())
    }

    fn invalid_type(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Misfit {
        Misfit::WrongForm(String::new())
    }

    fn invalid_value(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Misfit {
        Misfit::WrongForm(String::new())
    }

    fn invalid_length(_: usize, _: &dyn de::Expected) -> Misfit {
        Misfit::WrongForm(String::new())
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Misfit {
        Misfit::WrongForm(String::new())
    }

    fn unknown_field(field: &str, _: &'static [&'static str]) -> Misfit {
        Misfit::Unknown(field.to_string())
    }

    fn missing_field(field: &'static str) -> Misfit {
        Misfit::Missing(field.to_string())
    }
}

/// One value of a parsed line, as a deserializer.
#[derive(Clone, Copy)]
pub struct Node<'de, 'j>(pub &'de Json<'j>);

/// An object's members, those `keep` accepts, as a deserializer of a
/// struct: how an entry's envelope and its body are each read from the one
/// object that holds both.
#[derive(Clone, Copy)]
pub struct Fields<'de, 'j> {
    members: &'de [(Cow<'j, str>, Json<'j>)],
    keep: fn(&str) -> bool,
}

impl<'de, 'j> Fields<'de, 'j> {
    /// The members of `members` whose key `keep` accepts.
    pub fn new(members: &'de [(Cow<'j, str>, Json<'j>)], keep: fn(&str) -> bool) -> Self {
        Fields { members, keep }
    }

    /// The value of member `key`, read as a `T` (`key` need not be kept).
    pub fn member<T: de::Deserialize<'de>>(&self, key: &'static str) -> Result<T, Misfit> {
        match self.members.iter().find(|(k, _)| k == key) {
            Some((_, v)) => T::deserialize(Node(v)).map_err(|e| e.within(key)),
            None => Err(Misfit::Missing(key.to_string())),
        }
    }
}

/// Members handed to a visitor one by one. When they are a struct's
/// fields, a misfit inside a value is placed at the value's key.
struct Members<'de, 'j, I> {
    members: I,
    value: Option<(&'de str, &'de Json<'j>)>,
    fields: bool,
}

impl<'de, 'j, I> MapAccess<'de> for Members<'de, 'j, I>
where
    I: Iterator<Item = &'de (Cow<'j, str>, Json<'j>)>,
{
    type Error = Misfit;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Misfit> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Misfit> {
        let Some((key, value)) = self.value.take() else {
            return Err(Misfit::Said("a value was asked for before its key".into()));
        };
        let read = seed.deserialize(Node(value));
        if self.fields {
            read.map_err(|e| e.within(key))
        } else {
            read
        }
    }
}

impl<'de, 'j> IntoDeserializer<'de, Misfit> for Node<'de, 'j> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, 'j> Node<'de, 'j> {
    fn visit_members<V: Visitor<'de>>(
        members: &'de [(Cow<'j, str>, Json<'j>)],
        fields: bool,
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        visitor.visit_map(Members {
            members: members.iter(),
            value: None,
            fields,
        })
    }
}

impl<'de, 'j> Deserializer<'de> for Node<'de, 'j> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        match self.0 {
            Json::Null => visitor.visit_unit(),
            Json::Bool(b) => visitor.visit_bool(*b),
            Json::Int(n) => visitor.visit_u64(*n),
            Json::Str(s) => visitor.visit_borrowed_str(s),
            Json::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(Node));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Json::Object(members) => Node::visit_members(members, false, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        match self.0 {
            Json::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        match self.0 {
            Json::Object(members) => Node::visit_members(members, true, visitor),
            _ => Err(Misfit::WrongForm(String::new())),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

impl<'de, 'j> Deserializer<'de> for Fields<'de, 'j> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        let keep = self.keep;
        visitor.visit_map(Members {
            members: self.members.iter().filter(move |(k, _)| keep(k)),
            value: None,
            fields: true,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::ledger::jcs;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        tool: Inner,
        list: Vec<String>,
        by_key: BTreeMap<String, Vec<String>>,
        n: u64,
    }

    fn read(line: &str) -> Result<Outer, String> {
        let (json, _) = jcs::parse_checked(line).expect("parses");
        Outer::deserialize(Node(&json)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_misfit_names_its_field_by_its_path() {
        let ok = r#"{"by_key":{"a":["x"]},"list":["y"],"n":1,"tool":{"name":"t"}}"#;
        assert!(read(ok).is_ok());
        for (line, said) in [
            (
                r#"{"by_key":{},"list":[],"n":1,"tool":{}}"#,
                "`tool.name` is missing",
            ),
            (
                r#"{"by_key":{},"list":[],"n":1,"tool":{"name":"t","x":1}}"#,
                "unknown field `tool.x`",
            ),
            (
                r#"{"by_key":{},"list":[],"n":1,"tool":{"name":1}}"#,
                "`tool.name` has the wrong type or form",
            ),
            (
                r#"{"by_key":{"a":[1]},"list":[],"n":1,"tool":{"name":"t"}}"#,
                "`by_key` has the wrong type or form",
            ),
            (
                r#"{"by_key":{},"list":[null],"n":1,"tool":{"name":"t"}}"#,
                "`list` has the wrong type or form",
            ),
            (
                r#"{"by_key":{},"list":[],"n":"1","tool":{"name":"t"}}"#,
                "`n` has the wrong type or form",
            ),
            (
                r#"{"by_key":{},"list":[],"n":1,"tool":"t"}"#,
                "`tool` has the wrong type or form",
            ),
        ] {
            assert_eq!(read(line).err().as_deref(), Some(said), "{line}");
        }
    }
}
