//! The canonical form of a ledger line: RFC 8785 (JCS) over a deliberately
//! narrow JSON (no floats, integers in 0..2^53−1), and a strict parser that
//! refuses duplicate keys, so that two verifiers can never read one line two
//! ways.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The largest integer a line may hold (I-JSON's exact range).
pub const MAX_INT: u64 = (1 << 53) - 1;

/// Encodes a JSON value in canonical (JCS) form.
pub fn encode(value: &Value) -> String {
    // INVARIANT: `Value`s we build hold only strings, integers, booleans,
    // null, arrays and objects; canonicalizing them cannot fail.
    serde_json_canonicalizer::to_string(value)
        .unwrap_or_else(|e| unreachable!("canonical JSON: {e}"))
}

/// Why a line is not acceptable JSON for the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON, or not UTF-8.
    Syntax(String),
    /// A key appears twice in one object.
    DuplicateKey(String),
    /// A float, a negative number or an integer above 2^53−1.
    Number(String),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Syntax(m) => write!(f, "not JSON: {m}"),
            LineError::DuplicateKey(k) => write!(f, "duplicate key `{k}`"),
            LineError::Number(n) => write!(f, "number `{n}` is not an integer in 0..2^53-1"),
        }
    }
}

struct Strict(Value);

struct StrictVisitor;

const DUP: &str = "\u{0}duplicate:";
const NUM: &str = "\u{0}number:";

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Strict, E> {
        if v > MAX_INT {
            return Err(E::custom(format!("{NUM}{v}")));
        }
        Ok(Strict(Value::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Strict, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format!("{NUM}{v}"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Err(E::custom(format!("{NUM}{v}")))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut seen = BTreeSet::new();
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("{DUP}{key}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

/// Parses one line strictly: valid JSON, no duplicate keys, only integers
/// in range.
pub fn parse(line: &str) -> Result<Value, LineError> {
    serde_json::from_str::<Strict>(line)
        .map(|Strict(v)| v)
        .map_err(|e| {
            let m = e.to_string();
            if let Some(rest) = m.strip_prefix(DUP) {
                LineError::DuplicateKey(rest.split(" at line").next().unwrap_or(rest).to_string())
            } else if let Some(rest) = m.strip_prefix(NUM) {
                LineError::Number(rest.split(" at line").next().unwrap_or(rest).to_string())
            } else {
                LineError::Syntax(m)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_utf16_units_and_output_is_compact() {
        let v = serde_json::json!({"b": 1, "a": [true, null, "x"], "\u{e000}": 1, "\u{10000}": 2});
        // U+10000 is the surrogate pair D800 DC00, which sorts before E000.
        assert_eq!(
            encode(&v),
            "{\"a\":[true,null,\"x\"],\"b\":1,\"\u{10000}\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn strings_escape_like_ecmascript() {
        let v = serde_json::json!({"s": "tab\there \"q\" \\ \u{1f} é"});
        assert_eq!(
            encode(&v),
            "{\"s\":\"tab\\there \\\"q\\\" \\\\ \\u001f é\"}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert_eq!(
            parse(r#"{"a":1,"b":{"c":1,"c":2}}"#),
            Err(LineError::DuplicateKey("c".into()))
        );
    }

    #[test]
    fn only_safe_integers() {
        assert!(matches!(parse(r#"{"a":1.5}"#), Err(LineError::Number(_))));
        assert!(matches!(parse(r#"{"a":-1}"#), Err(LineError::Number(_))));
        assert!(matches!(
            parse(r#"{"a":9007199254740993}"#),
            Err(LineError::Number(_))
        ));
        assert!(parse(r#"{"a":9007199254740991}"#).is_ok());
    }

    #[test]
    fn canonical_lines_round_trip() {
        let line = r#"{"log":"x","prev":"sha256:00","seq":3,"type":"run","v":1}"#;
        assert_eq!(encode(&parse(line).expect("parses")), line);
        let spaced = r#"{"log": "x","prev":"sha256:00","seq":3,"type":"run","v":1}"#;
        assert_ne!(encode(&parse(spaced).expect("parses")), spaced);
    }
}
