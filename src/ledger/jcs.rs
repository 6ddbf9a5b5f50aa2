//! The canonical form of a ledger line: RFC 8785 (JCS) over a deliberately
//! narrow JSON (no floats, integers in 0..2^53−1), and a strict parser that
//! refuses duplicate keys, so that two verifiers can never read one line two
//! ways.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::ops::Index;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The largest integer a line may hold (I-JSON's exact range).
pub const MAX_INT: u64 = (1 << 53) - 1;

/// Encodes a JSON value, or an entry, in canonical (JCS) form.
pub fn encode<T: Serialize>(value: &T) -> String {
    // INVARIANT: what we encode holds only strings, integers, booleans,
    // null, arrays and objects with string keys; canonicalizing it cannot
    // fail.
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

/// A line's JSON as a verifier reads it: strings borrowed from the line
/// where they are written without escapes, objects as their members in
/// the order written. Reading a million lines into `serde_json::Value`s (a
/// hash map for every object, a copy of every string) cost more than all
/// the checks then made of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer in `0..=MAX_INT`, the only numbers a line may hold.
    Int(u64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members, in the order written, no key twice.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

static NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value`, for code that keeps it.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => Value::from(*n),
            Json::Str(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// `value["key"]`, `null` when there is no such member, as with
/// `serde_json::Value`.
impl<'a> Index<&str> for Json<'a> {
    type Output = Json<'a>;

    fn index(&self, key: &str) -> &Json<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

/// The compact JSON text, for messages.
impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Int(n) => s.serialize_u64(*n),
            Json::Str(t) => s.serialize_str(t),
            Json::Array(items) => s.collect_seq(items),
            Json::Object(members) => s.collect_map(members.iter().map(|(k, v)| (k.as_ref(), v))),
        }
    }
}

/// A parsed value, and whether every object in it had its keys in
/// canonical order (strictly ascending by UTF-16 code units).
struct Strict<'a>(Json<'a>, bool);

struct StrictVisitor;

const DUP: &str = "\u{0}duplicate:";
const NUM: &str = "\u{0}number:";

/// An object with more members than this, written out of order, has its
/// keys checked for repeats through a set rather than by looking back.
const LOOK_BACK: usize = 32;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict<'de>, E> {
        Ok(Strict(Json::Bool(v), true))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Strict<'de>, E> {
        if v > MAX_INT {
            return Err(E::custom(format!("{NUM}{v}")));
        }
        Ok(Strict(Json::Int(v), true))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Strict<'de>, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format!("{NUM}{v}"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict<'de>, E> {
        Err(E::custom(format!("{NUM}{v}")))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Strict<'de>, E> {
        Ok(Strict(Json::Str(Cow::Borrowed(v)), true))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict<'de>, E> {
        Ok(Strict(Json::Str(Cow::Owned(v.to_string())), true))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict<'de>, E> {
        Ok(Strict(Json::Str(Cow::Owned(v)), true))
    }

    fn visit_unit<E>(self) -> Result<Strict<'de>, E> {
        Ok(Strict(Json::Null, true))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict<'de>, A::Error> {
        let mut items = Vec::new();
        let mut sorted = true;
        while let Some(Strict(v, s)) = seq.next_element()? {
            items.push(v);
            sorted &= s;
        }
        Ok(Strict(Json::Array(items), sorted))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        let mut sorted = true;
        // While keys ascend none can repeat; once they do not, each new
        // key is looked for among the earlier ones.
        let mut ascending = true;
        let mut seen: Option<HashSet<String>> = None;
        while let Some(Key(key)) = map.next_key()? {
            ascending &= members
                .last()
                .is_none_or(|(last, _)| utf16_order(last, &key) == Ordering::Less);
            // A repeat is refused before its value is read, so that an
            // error inside that value never hides it.
            if !ascending {
                let repeated = match &mut seen {
                    Some(set) => !set.insert(key.to_string()),
                    None if members.len() < LOOK_BACK => members.iter().any(|(k, _)| *k == key),
                    None => {
                        let mut set: HashSet<String> =
                            members.iter().map(|(k, _)| k.to_string()).collect();
                        let repeated = !set.insert(key.to_string());
                        seen = Some(set);
                        repeated
                    }
                };
                if repeated {
                    return Err(de::Error::custom(format!("{DUP}{key}")));
                }
            }
            let Strict(v, s) = map.next_value()?;
            sorted &= s;
            members.push((key, v));
        }
        Ok(Strict(Json::Object(members), sorted && ascending))
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// How JCS orders object keys: by their UTF-16 code units.
fn utf16_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

impl<'de> Deserialize<'de> for Strict<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

/// Parses one line strictly: valid JSON, no duplicate keys, only integers
/// in range.
pub fn parse(line: &str) -> Result<Value, LineError> {
    parse_checked(line).map(|(v, _)| v.to_value())
}

/// Reads one line strictly, as [`parse`] does, and tells whether it is in
/// canonical form, that is, whether `encode` of what it says is the line
/// itself, found without encoding: for the values a line may hold (no
/// floats), the canonical form is serde_json's compact output with every
/// object's keys in UTF-16 order, and serde_json escapes strings exactly as
/// RFC 8785 does (the short escapes `\b \t \n \f \r \" \\`, other control
/// characters as lowercase `\u00xx`, nothing else). So a line is canonical
/// when its keys were already in that order and serde_json's compact
/// output of what was read is the line, byte for byte. The property test
/// `the_fast_check_agrees_with_encoding` holds this to [`encode`].
pub fn parse_checked(line: &str) -> Result<(Json<'_>, bool), LineError> {
    let (json, sorted) = read_sorted(line)?;
    let canonical = sorted && {
        let mut compact = Vec::with_capacity(line.len());
        serde_json::to_writer(&mut compact, &json).is_ok() && compact == line.as_bytes()
    };
    Ok((json, canonical))
}

/// Reads one line strictly, as [`parse`] does, without telling whether it
/// is canonical: for a reader of a ledger that has already verified.
pub fn read(line: &str) -> Result<Json<'_>, LineError> {
    read_sorted(line).map(|(json, _)| json)
}

/// The strict read, and whether every object's keys were in order.
fn read_sorted(line: &str) -> Result<(Json<'_>, bool), LineError> {
    let Strict(json, sorted) = serde_json::from_str::<Strict>(line).map_err(|e| {
        let m = e.to_string();
        if let Some(rest) = m.strip_prefix(DUP) {
            LineError::DuplicateKey(rest.split(" at line").next().unwrap_or(rest).to_string())
        } else if let Some(rest) = m.strip_prefix(NUM) {
            LineError::Number(rest.split(" at line").next().unwrap_or(rest).to_string())
        } else {
            LineError::Syntax(m)
        }
    })?;
    Ok((json, sorted))
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
        // Out of order, spelled with an escape, and in an object long
        // enough that repeats are looked for through a set.
        assert_eq!(
            parse(r#"{"b":1,"a":2,"\u0062":3}"#),
            Err(LineError::DuplicateKey("b".into()))
        );
        let mut long: Vec<String> = (0..100).rev().map(|i| format!("\"k{i}\":{i}")).collect();
        assert!(parse(&format!("{{{}}}", long.join(","))).is_ok());
        long.push("\"k7\":0".into());
        // The repeat is found before anything wrong inside its value.
        assert_eq!(
            parse(r#"{"a":0,"a":{"x":1,"x":2}}"#),
            Err(LineError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse(r#"{"a":0,"a":1.5}"#),
            Err(LineError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse(r#"{"a":0,"a":["#),
            Err(LineError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse(&format!("{{{}}}", long.join(","))),
            Err(LineError::DuplicateKey("k7".into()))
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

    use proptest::prelude::*;

    /// Strings that stress the corners RFC 8785 defines: control characters
    /// (short and `\u00xx` escapes), quotes and backslashes, DEL, U+2028,
    /// characters on both sides of the surrogate range (whose UTF-8 and
    /// UTF-16 orders differ) and ordinary text.
    fn text() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            Just('a'),
            Just('b'),
            Just('Z'),
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('\n'),
            Just('\t'),
            Just('\u{1}'),
            Just('\u{1f}'),
            Just('\u{7f}'),
            Just('é'),
            Just('\u{2028}'),
            Just('\u{e000}'),
            Just('\u{ffff}'),
            Just('\u{10000}'),
            Just('\u{1f600}'),
        ];
        proptest::collection::vec(chars, 0..4).prop_map(|v| v.into_iter().collect())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..=MAX_INT).prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((text(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// The ways a writer might put a value on a line: canonical, compact in
    /// the order it was built, pretty, and with one character written as a
    /// `\u` escape (in either case of hex digit).
    fn spellings(v: &Value, at: usize, upper: bool) -> Vec<String> {
        let compact = serde_json::to_string(v).expect("serializes");
        let mut escaped = compact.clone();
        if let Some((i, c)) = compact
            .char_indices()
            .nth(at % compact.chars().count().max(1))
            && c.is_alphanumeric()
            && c.len_utf16() == 1
        {
            let e = if upper {
                format!("\\u{:04X}", c as u32)
            } else {
                format!("\\u{:04x}", c as u32)
            };
            escaped.replace_range(i..i + c.len_utf8(), &e);
        }
        vec![
            encode(v),
            compact,
            serde_json::to_string_pretty(v).expect("serializes"),
            escaped,
        ]
    }

    proptest! {
        #[test]
        fn the_fast_check_agrees_with_encoding(v in value(), at in 0usize..64, upper in any::<bool>()) {
            for line in spellings(&v, at, upper) {
                // A `\u` escape inside a key can make two keys equal; any
                // spelling must then be refused the same way by both.
                let Ok((parsed, canonical)) = parse_checked(&line) else {
                    continue;
                };
                prop_assert_eq!(canonical, encode(&parsed.to_value()) == line, "line: {}", line);
            }
            let (_, canonical) = parse_checked(&encode(&v)).expect("canonical text parses");
            prop_assert!(canonical);
        }
    }
}
