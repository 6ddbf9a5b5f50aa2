//! The common case read fast: a file with no anchors, aliases, tags or merge
//! keys, whose every key is a distinct string and whose every scalar's type
//! is beyond doubt, is built into the tree straight from the events of the
//! parser serde-saphyr itself runs (granit-parser, with the options
//! serde-saphyr would give it), without serde's per-node machinery, which
//! cost three times the parse. Anything else, and every error, gives
//! `None`, and serde-saphyr reads the file as before: it alone decides what
//! is refused, how the refusal reads, and how aliases are expanded within
//! their budget. `plain_reading_agrees_with_serde_saphyr` in the tests holds
//! the two readers to the same trees.

use std::borrow::Cow;

use serde_saphyr::Budget;
use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, Span};

use super::yaml::{Node, NodeValue, Pos};

/// A collection being read, with where it starts.
enum Open {
    Seq(Pos, Vec<Node>),
    /// A mapping's entries, and its key waiting for a value.
    Map(Pos, Vec<(Node, Node)>, Option<Node>),
}

/// The parser options serde-saphyr derives from `budget` (see its
/// `Options::parser_options`), so that both readers see the same events.
pub(super) fn parser_options(budget: &Budget) -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.block_nesting_limit = options
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    options.emit_comments = true;
    options.max_buffered_comment_events = budget.max_buffered_comment_events;
    options.strict_indentation = false;
    options.bom_inside_document_as_content = false;
    options
}

/// Reads every document of `text`, or gives `None` when serde-saphyr must.
pub(super) fn read(text: &str, budget: &Budget) -> Option<Vec<Node>> {
    // Far from every limit, or not read here: near one, serde-saphyr
    // decides exactly where the line is.
    if text.len() > budget.max_reader_input_bytes.unwrap_or(usize::MAX) / 2
        || text.len() > budget.max_total_scalar_bytes / 2
        || text.len() > budget.max_total_comment_bytes / 2
    {
        return None;
    }
    let mut documents = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let (mut events, mut nodes, mut started) = (0usize, 0usize, 0usize);
    for item in Parser::with_options(granit_parser::StrInput::new(text), parser_options(budget)) {
        let (event, span) = item.ok()?;
        events += 1;
        if events > budget.max_events / 2 {
            return None;
        }
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::Comment(..) => continue,
            Event::DocumentStart(..) => {
                // Every document counts against the limit, kept or not.
                started += 1;
                if started > budget.max_documents / 2 {
                    return None;
                }
                continue;
            }
            Event::DocumentEnd => {
                // An empty or null document is skipped, as serde-saphyr does.
                match root.take() {
                    Some(Node {
                        value: NodeValue::Null,
                        ..
                    })
                    | None => {}
                    Some(node) => documents.push(node),
                }
                continue;
            }
            Event::Scalar(value, ScalarStyle::Plain, 0, None) => Node {
                pos: pos(&span),
                value: resolve_plain(value)?,
            },
            Event::Scalar(value, _, 0, None) => Node {
                pos: pos(&span),
                value: NodeValue::Str(value.into_owned()),
            },
            Event::SequenceStart(_, 0, None) => {
                open.push(Open::Seq(pos(&span), Vec::new()));
                if open.len() > budget.max_depth / 2 {
                    return None;
                }
                continue;
            }
            Event::MappingStart(_, 0, None) => {
                open.push(Open::Map(pos(&span), Vec::new(), None));
                if open.len() > budget.max_depth / 2 {
                    return None;
                }
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match open.pop()? {
                Open::Seq(pos, items) => Node {
                    pos,
                    value: NodeValue::Seq(items),
                },
                Open::Map(pos, entries, None) => Node {
                    pos,
                    value: NodeValue::Map(entries),
                },
                Open::Map(_, _, Some(_)) => return None,
            },
            // Anchors, aliases, tags: serde-saphyr's to expand and bound.
            _ => return None,
        };
        nodes += 1;
        if nodes > budget.max_nodes / 2 {
            return None;
        }
        match open.last_mut() {
            None => {
                if root.is_some() {
                    return None;
                }
                root = Some(node);
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => {
                    if !plain_key(&node, entries) {
                        return None;
                    }
                    *pending = Some(node);
                }
            },
        }
    }
    if !open.is_empty() || root.is_some() {
        return None;
    }
    Some(documents)
}

/// A key read here is a string, not `<<` (a merge), not written before in
/// its mapping (serde-saphyr refuses repeats and words the error), and
/// does not start like a number: serde-saphyr compares such keys by the
/// integer they spell in any radix, with underscores (`1_000` repeats
/// `10_00`), even where the value would stay text.
fn plain_key(key: &Node, entries: &[(Node, Node)]) -> bool {
    let NodeValue::Str(text) = &key.value else {
        return false;
    };
    text != "<<" && !starts_like_number(text) && !entries.iter().any(|(k, _)| k.is_key(text))
}

/// Whether `text`, after one sign, starts with a digit or `.`: how every
/// integer and float YAML's core schema knows is spelled.
fn starts_like_number(text: &str) -> bool {
    text.strip_prefix(['+', '-'])
        .unwrap_or(text)
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
}

/// Where a node starts, as serde-saphyr reports it: 1-based line and
/// column, and the byte range when the parser knows it.
fn pos(span: &Span) -> Pos {
    let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
    let col = u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX);
    let (offset, len) = match (span.start.byte_offset(), span.end.byte_offset()) {
        (Some(start), Some(end))
            if u32::try_from(start).is_ok() && u32::try_from(end - start).is_ok() =>
        {
            (Some(start), end.saturating_sub(start))
        }
        _ => (None, 0),
    };
    Pos {
        line,
        col,
        offset,
        len,
    }
}

/// The type of an untagged plain scalar under the YAML 1.2 core schema as
/// serde-saphyr resolves it with the options severance sets (strict
/// booleans; leading zeros and underscores keep a number as text), or
/// `None` where the answer takes its finer rules (other radices, overflow,
/// `.inf` and `.nan`).
fn resolve_plain(text: Cow<'_, str>) -> Option<NodeValue> {
    match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Some(NodeValue::Null),
        "true" | "True" | "TRUE" => return Some(NodeValue::Bool(true)),
        "false" | "False" | "FALSE" => return Some(NodeValue::Bool(false)),
        _ => {}
    }
    let t = text.as_ref();
    // serde-saphyr trims this padding before typing a scalar; a plain
    // scalar never has it, and one that did would not be read here.
    if t.starts_with([' ', '\t', '\r', '\n']) || t.ends_with([' ', '\t', '\r', '\n']) {
        return None;
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    // Neither an integer (a digit first) nor a float (a digit or `.` first;
    // Rust's `inf` and `nan` are refused as not finite): text.
    if !starts_like_number(t) {
        return Some(NodeValue::Str(text.into_owned()));
    }
    let uppercase_radix = matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]);
    let all_digits = unsigned.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = all_digits && unsigned.len() > 1 && unsigned.starts_with('0');
    if t.contains('_') || uppercase_radix || leading_zero {
        return Some(NodeValue::Str(text.into_owned()));
    }
    if all_digits {
        return t.parse::<i64>().ok().map(NodeValue::Int);
    }
    if ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p))
        || matches!(
            unsigned,
            ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
        )
    {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(NodeValue::Float(v)),
        Ok(_) => None,
        Err(_) => Some(NodeValue::Str(text.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    use super::super::yaml::{Limits, parse_with_serde_saphyr, saphyr_options};

    fn serde_saphyr(text: &str) -> Result<Vec<Node>, String> {
        parse_with_serde_saphyr(text, saphyr_options(&Limits::default())).map_err(|e| e.message)
    }

    /// The budget serde-saphyr is given for `limits`, which bounds both readers.
    fn budget(limits: &Limits) -> Budget {
        saphyr_options(limits).budget.unwrap_or_default()
    }

    fn plain(text: &str) -> Option<Vec<Node>> {
        read(text, &budget(&Limits::default()))
    }

    /// Where the plain reader answers, its answer is serde-saphyr's, node
    /// for node and position for position.
    fn agrees(text: &str, what: &str) -> bool {
        let Some(fast) = plain(text) else {
            return false;
        };
        assert_eq!(Ok(fast), serde_saphyr(text), "{what}");
        true
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.expect("walk");
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path.to_path_buf());
            }
        }
    }

    #[test]
    fn plain_reading_agrees_with_serde_saphyr() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["inventory", "tests", "examples"] {
            yaml_files(&root.join(dir), &mut files);
        }
        let generated = tempfile::tempdir().expect("tempdir");
        let out = generated.path().join("org");
        crate::generate::generate(&crate::generate::GenerateSettings {
            people: 300,
            seed: 7,
            out: out.clone(),
            anchor: "2026-11-25T09:00:00Z".parse().expect("time"),
        })
        .expect("generates");
        yaml_files(&out, &mut files);
        let mut read_here = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).expect("read");
            if agrees(&text, &path.display().to_string()) {
                read_here += 1;
            }
        }
        // Nearly every file is plain; the few that are not (aliases, bad
        // syntax on purpose) go to serde-saphyr.
        assert!(
            read_here * 10 >= files.len() * 9,
            "{read_here} of {} files read here",
            files.len()
        );
    }

    #[test]
    fn scalars_are_typed_as_serde_saphyr_types_them() {
        let spellings = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "0",
            "-0",
            "+0",
            "7",
            "-7",
            "+7",
            "00",
            "007",
            "-007",
            "+007",
            "1_000",
            "0x1F",
            "0X1F",
            "0o17",
            "0O17",
            "0b101",
            "0B101",
            "0x",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
            "1.5",
            "-1.5",
            "+1.5",
            ".5",
            "5.",
            "1e3",
            "1E3",
            "-1e-3",
            "1e999",
            "-1e999",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".INF",
            ".nan",
            ".NaN",
            "-.nan",
            "+.nan",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "infinity",
            ".",
            "-",
            "+",
            "+-1",
            "--1",
            "1.2.3",
            "10.0.0.1",
            "2026-01-01",
            "2026-01-01T09:00:00Z",
            "12:30",
            "1:2:3",
            "0.0",
            "-0.0",
            "1e",
            "e1",
            "1x",
            "x1",
            "a b",
            "\u{e9}t\u{e9}",
            "0123.5",
            "00.5",
            "1__0",
            "_1",
        ];
        let mut typed_here = 0;
        for s in spellings {
            for text in [format!("k: {s}\n"), format!("- {s}\n"), format!("{s}\n")] {
                typed_here += usize::from(agrees(&text, &text));
            }
            // Quoted, every spelling is text.
            assert!(agrees(&format!("k: '{s}'\n"), s));
        }
        assert!(typed_here > spellings.len() * 2, "{typed_here}");
        // The spellings an inventory is made of are all typed here.
        for s in [
            "",
            "~",
            "null",
            "true",
            "False",
            "0",
            "-7",
            "+7",
            "007",
            "1_000",
            "0X1F",
            "1.5",
            "1e3",
            "2026-01-01",
            "2026-01-01T09:00:00Z",
            "10.0.0.1",
            "inf",
            "text",
        ] {
            let text = format!("k: {s}\n");
            assert!(agrees(&text, &text), "{text:?} should be read here");
        }
    }

    #[test]
    fn shapes_and_places_agree() {
        let texts = [
            "a: 1\nb:\n  - x\n  - {c: d, e: [1, 2]}\n",
            "---\na: 1\n---\n---\n~\n---\n- 1\n...\n",
            "# only a comment\n",
            "",
            "a: |\n  two\n  lines\nb: >\n  folded\n  text\nc: \"esc\\u00e9\\n\"\n",
            "k: plain\n  continued\n",
            "? complex\n: value\n",
            "a: {}\nb: []\nc:\n",
            "\u{feff}a: 1\n",
            "a:   1   # trailing comment\n",
            "\"quoted key\": 1\n'single': 2\n",
            "a: caf\u{e9}\nb: \u{1f600}\n",
        ];
        for text in texts {
            assert!(agrees(text, text), "{text:?} should be read here");
        }
    }

    #[test]
    fn what_serde_saphyr_must_decide_is_passed_on() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "base: &b {x: 1}\nc:\n  <<: *b\n",
            "<<: {x: 1}\n",
            "a: 1\na: 2\n",
            "a: 1\n'a': 2\n",
            "1: x\n",
            "[1]: x\n",
            "a: [1, 2\n",
            "a: b: c\n",
            "a: .inf\n",
            "a: 0x1F\n",
            "a: 99999999999999999999\n",
            "1_000: a\n10_00: b\n",
            "0X1F: a\n0X1f: b\n",
            "007: a\n",
        ] {
            assert!(plain(text).is_none(), "{text:?} must go to serde-saphyr");
        }
    }

    #[test]
    fn limits_leave_the_deciding_to_serde_saphyr() {
        let limits = Limits {
            max_nodes: 20,
            ..Limits::default()
        };
        let many: String = (0..15).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(read(&many, &budget(&limits)).is_none());
        // Null documents are skipped, but each still counts.
        assert!(plain(&"---\n".repeat(1100)).is_none());
        assert!(plain(&"---\n~\n".repeat(1100)).is_none());
        assert!(serde_saphyr(&"---\n".repeat(1100)).is_err());
        let deep = "a:\n".to_string()
            + &(1..40)
                .map(|i| format!("{}b{i}:\n", "  ".repeat(i)))
                .collect::<String>();
        assert!(plain(&deep).is_none());
    }
}
