//! A YAML tree in which every node knows where it came from, so that the
//! validation stage can point at the exact line and column of any field,
//! and can report every problem of a record rather than the first one serde
//! meets.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

/// Where a node starts: 1-based line and column, and its byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Byte offset into the file, when known.
    pub offset: Option<usize>,
    /// Length in bytes of the node's text, when known.
    pub len: usize,
}

/// A YAML value with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value is written (for an alias, where the alias is used).
    pub pos: Pos,
    /// The value.
    pub value: NodeValue,
}

/// The shapes a YAML value can take.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Any other scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, keys as written.
    Map(Vec<(Node, Node)>),
}

impl NodeValue {
    /// The YAML type's name, for "expected …, found …" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// Whether this is the scalar key `name` ([`Node::as_key`] without
    /// building a string: every field lookup of every record asks this).
    pub fn is_key(&self, name: &str) -> bool {
        match &self.value {
            NodeValue::Str(s) => s == name,
            _ => self.as_key().as_deref() == Some(name),
        }
    }

    /// The text of a scalar key or value, as a string.
    pub fn as_key(&self) -> Option<String> {
        match &self.value {
            NodeValue::Str(s) => Some(s.clone()),
            NodeValue::Int(i) => Some(i.to_string()),
            NodeValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        i64::try_from(v)
            .map(NodeValue::Int)
            .map_err(|_| E::custom(format!("integer `{v}` is too large")))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeValue, E> {
        i64::try_from(v)
            .map(NodeValue::Int)
            .map_err(|_| E::custom(format!("integer `{v}` is too large")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeValue, E> {
        i64::try_from(v)
            .map(NodeValue::Int)
            .map_err(|_| E::custom(format!("integer `{v}` is too large")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<NodeValue, E> {
        Err(E::custom("binary values are not supported"))
    }

    fn visit_none<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_unit<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(NodeValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(d)?;
        let loc = spanned.referenced;
        let span = loc.span();
        Ok(Node {
            pos: Pos {
                line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
                col: u32::try_from(loc.column()).unwrap_or(u32::MAX),
                offset: span.byte_offset().and_then(|o| usize::try_from(o).ok()),
                len: span
                    .byte_len()
                    .and_then(|l| usize::try_from(l).ok())
                    .unwrap_or(0),
            },
            value: spanned.value,
        })
    }
}

/// Limits that keep a crafted file from exhausting memory or time.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file severance will read, in bytes.
    pub max_file_bytes: u64,
    /// Most parser events (scalars, collection starts and ends) in one file.
    pub max_events: usize,
    /// Most alias uses in one file.
    pub max_aliases: usize,
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Most nodes (after alias expansion) in one file.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_events: 4_000_000,
            max_aliases: 10_000,
            // Records nest five levels deep. The deserialiser recurses once
            // per level with large frames (tens of KiB each in a debug
            // build), and files are parsed on worker threads with 2 MiB
            // stacks: 64 levels overflowed them.
            max_depth: 32,
            max_nodes: 2_000_000,
        }
    }
}

/// Why a file's YAML could not be read.
#[derive(Debug)]
pub struct YamlError {
    /// What went wrong, in the parser's words.
    pub message: String,
    /// Where, when the parser knows.
    pub line_col: Option<(u32, u32)>,
    /// Whether a limit (rather than a syntax rule) was hit.
    pub limit: bool,
}

/// Parses every document of a file into spanned trees.
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    let options = saphyr_options(limits);
    let budget = options.budget.clone().unwrap_or_default();
    if let Some(documents) = super::plain::read(text, &budget) {
        return Ok(documents);
    }
    parse_with_serde_saphyr(text, options)
}

/// How serde-saphyr is asked to read inventory files.
pub(super) fn saphyr_options(limits: &Limits) -> Options {
    let mut budget = Budget::default();
    budget.max_events = limits.max_events;
    budget.max_aliases = limits.max_aliases;
    budget.max_depth = limits.max_depth;
    budget.max_nodes = limits.max_nodes;
    budget.max_reader_input_bytes = Some(limits.max_file_bytes as usize);
    let mut options = Options::default();
    options.budget = Some(budget);
    // Its snippet indexes every line of the file (16 bytes a line); ours
    // quotes only the lines at fault.
    options.with_snippet = false;
    options.strict_booleans = true;
    // Keep `00123` and `1_000` as the text they are (ids, serials).
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    // `.inf` and `.nan` are floats to the core schema. Refused, they failed
    // the whole file (and every link to its records) for a name written
    // `.inf`; passed on, a text field takes them as written, like any
    // number, and any other field reports one `wrong-type`.
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    options.alias_limits.max_total_replayed_events = limits.max_events;
    options
}

/// Every file the plain reader passes on: aliases and tags, and every
/// error, worded by serde-saphyr.
pub(super) fn parse_with_serde_saphyr(
    text: &str,
    options: Options,
) -> Result<Vec<Node>, YamlError> {
    serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|e| {
        let line_col = e.location().map(|l| {
            (
                u32::try_from(l.line()).unwrap_or(u32::MAX),
                u32::try_from(l.column()).unwrap_or(u32::MAX),
            )
        });
        let message = e.without_snippet().to_string();
        let limit = message.contains("budget") || message.contains("limit");
        let message = match message.split_once("budget breached: ") {
            Some((_, breach)) => {
                let what = breach.split(" at line").next().unwrap_or(breach);
                format!("the file exceeds a YAML safety limit ({what})")
            }
            None => first_line(&message),
        };
        YamlError {
            message,
            line_col,
            limit,
        }
    })
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    // The parser appends its own position; we print ours from `line_col`.
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_line_and_column() {
        let docs = parse_documents(
            "kind: person\nid: person/E1\nflags: [a, b]\n",
            &Limits::default(),
        )
        .expect("parses");
        assert_eq!(docs.len(), 1);
        let NodeValue::Map(entries) = &docs[0].value else {
            panic!("expected a mapping")
        };
        let (k, v) = &entries[1];
        assert_eq!(k.as_key().as_deref(), Some("id"));
        assert!(k.is_key("id") && !k.is_key("kind"));
        assert_eq!((v.pos.line, v.pos.col), (2, 5));
        let NodeValue::Seq(items) = &entries[2].1.value else {
            panic!("expected a list")
        };
        assert_eq!((items[1].pos.line, items[1].pos.col), (3, 12));
    }

    #[test]
    fn several_documents_and_lists() {
        let docs =
            parse_documents("a: 1\n---\n- b: 2\n- c: 3\n", &Limits::default()).expect("parses");
        assert_eq!(docs.len(), 2);
        assert!(matches!(docs[1].value, NodeValue::Seq(ref v) if v.len() == 2));
    }

    #[test]
    fn alias_bombs_hit_a_limit() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in 'b'..='k' {
            bomb.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let err = parse_documents(&bomb, &Limits::default()).expect_err("must be refused");
        assert!(err.limit, "{}", err.message);
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let err = parse_documents("a: [1, 2\nb: 3\n", &Limits::default()).expect_err("malformed");
        assert!(err.line_col.is_some());
        assert!(!err.limit);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = parse_documents("a: 1\na: 2\n", &Limits::default()).expect_err("duplicate");
        assert_eq!(err.line_col.map(|p| p.0), Some(2));
    }
}
