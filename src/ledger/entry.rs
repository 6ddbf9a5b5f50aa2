//! What a ledger line may say. The schema is narrow on purpose (strings,
//! integers, booleans, null, arrays, objects; hashes as `sha256:` + hex;
//! times as RFC 3339 UTC) so that a verifier in any language reads each line
//! exactly one way.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::jcs::{self, Json};

/// The entry types.
pub const TYPES: &[&str] = &[
    "genesis",
    "approvers",
    "run",
    "decision",
    "approval",
    "execution",
    "verification",
    "recovery",
];

/// The shape a field's value must have.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Str,
    Int,
    Hash,
    Time,
    /// A string or null.
    OptStr,
    /// A time or null.
    OptTime,
    /// An array of strings.
    Strs,
    /// An object whose values are arrays of strings.
    StrsByKey,
    /// An object whose values are strings.
    StrByKey,
    /// An object whose values are integers.
    IntByKey,
    /// An object with its own fields.
    Obj(&'static [(&'static str, Shape)]),
}

const ENVELOPE: &[(&str, Shape)] = &[
    ("v", Shape::Int),
    ("seq", Shape::Int),
    ("prev", Shape::Hash),
    ("type", Shape::Str),
    ("log", Shape::Str),
    ("ts", Shape::Time),
];

const TOOL: &[(&str, Shape)] = &[("name", Shape::Str), ("version", Shape::Str)];
const INVENTORY: &[(&str, Shape)] = &[
    ("commit", Shape::OptStr),
    ("digest", Shape::Hash),
    ("files", Shape::Int),
    ("records", Shape::Int),
];
const POLICIES: &[(&str, Shape)] = &[
    ("digest", Shape::Hash),
    ("files", Shape::Int),
    ("policies", Shape::Int),
];
const DECISIONS: &[(&str, Shape)] = &[
    ("count", Shape::Int),
    ("digest", Shape::Hash),
    ("written", Shape::Int),
];

fn body(kind: &str) -> Option<&'static [(&'static str, Shape)]> {
    Some(match kind {
        "genesis" => &[("key", Shape::Str)],
        "approvers" => &[("approvers", Shape::Strs)],
        "run" => &[
            ("as_of", Shape::Time),
            ("tool", Shape::Obj(TOOL)),
            ("inventory", Shape::Obj(INVENTORY)),
            ("policies", Shape::Obj(POLICIES)),
            ("counts", Shape::IntByKey),
            ("decisions", Shape::Obj(DECISIONS)),
        ],
        "decision" => &[
            ("run", Shape::Hash),
            ("subject", Shape::Str),
            ("kind", Shape::Str),
            ("status", Shape::Str),
            ("actions", Shape::Strs),
            ("policies", Shape::StrsByKey),
            ("blocked", Shape::StrsByKey),
            ("leaver", Shape::OptStr),
            ("due", Shape::OptTime),
        ],
        "approval" => &[
            ("decision", Shape::Hash),
            ("approver", Shape::Str),
            ("signature", Shape::Str),
            ("comment", Shape::OptStr),
        ],
        "execution" => &[
            ("decision", Shape::Hash),
            ("system", Shape::Str),
            ("request_id", Shape::Str),
            ("status", Shape::Str),
            ("response_digest", Shape::Hash),
            ("response", Shape::OptStr),
        ],
        "verification" => &[
            ("decision", Shape::Hash),
            ("method", Shape::Str),
            ("observed", Shape::StrByKey),
        ],
        "recovery" => &[
            ("found", Shape::Strs),
            ("sealed", Shape::Int),
            ("discarded_lines", Shape::Int),
            ("discarded_bytes", Shape::Int),
            ("discarded_digest", Shape::Hash),
        ],
        _ => return None,
    })
}

/// Whether a string is `sha256:` followed by 64 lowercase hex digits.
pub fn is_hash(s: &str) -> bool {
    super::merkle::is_tag(s)
}

/// Whether a string is an RFC 3339 UTC time as severance writes them.
pub fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    let shape_ok = |pattern: &str| {
        pattern.len() == b.len()
            && pattern.bytes().zip(b).all(|(p, c)| {
                if p == b'9' {
                    c.is_ascii_digit()
                } else {
                    p == *c
                }
            })
    };
    (shape_ok("9999-99-99T99:99:99Z") || shape_ok("9999-99-99T99:99:99.999Z"))
        && s.parse::<jiff::Timestamp>().is_ok()
}

/// A field's dotted path, for messages: built only when a check fails, as
/// a verifier asks this of every field of a million lines.
fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn check_shape(prefix: &str, name: &str, value: &Json, shape: Shape) -> Result<(), String> {
    let strs = |v: &Json| v.as_array().is_some_and(|a| a.iter().all(is_str));
    let ok = match (shape, value) {
        (Shape::Str, Json::Str(_)) => true,
        (Shape::Int, Json::Int(_)) => true,
        (Shape::Hash, Json::Str(s)) => is_hash(s),
        (Shape::Time, Json::Str(s)) => is_time(s),
        (Shape::OptStr, Json::Str(_) | Json::Null) => true,
        (Shape::OptTime, Json::Null) => true,
        (Shape::OptTime, Json::Str(s)) => is_time(s),
        (Shape::Strs, v) => strs(v),
        (Shape::StrsByKey, Json::Object(m)) => m.iter().all(|(_, v)| strs(v)),
        (Shape::StrByKey, Json::Object(m)) => m.iter().all(|(_, v)| is_str(v)),
        (Shape::IntByKey, Json::Object(m)) => m.iter().all(|(_, v)| v.as_u64().is_some()),
        (Shape::Obj(fields), Json::Object(m)) => {
            check_fields(&path(prefix, name), m, &[fields])?;
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` has the wrong type or form",
            path(prefix, name)
        ))
    }
}

fn is_str(v: &Json) -> bool {
    matches!(v, Json::Str(_))
}

/// Checks that `members` are exactly the fields of `groups` (the envelope
/// and a body, or an object's own fields), each of its shape.
fn check_fields(
    prefix: &str,
    members: &[(Cow<str>, Json)],
    groups: &[&[(&str, Shape)]],
) -> Result<(), String> {
    let fields = || groups.iter().flat_map(|g| g.iter());
    for (name, shape) in fields() {
        let Some((_, v)) = members.iter().find(|(k, _)| k == name) else {
            return Err(format!("`{}` is missing", path(prefix, name)));
        };
        check_shape(prefix, name, v, *shape)?;
    }
    // Every field was found and keys are unique, so a count that matches
    // leaves no room for another.
    if members.len() != fields().count()
        && let Some((extra, _)) = members.iter().find(|(k, _)| !fields().any(|(n, _)| n == k))
    {
        return Err(format!("unknown field `{}`", path(prefix, extra)));
    }
    Ok(())
}

/// Checks an entry against the schema of its type.
pub fn check(entry: &Json) -> Result<(), String> {
    let Json::Object(members) = entry else {
        return Err("an entry is a JSON object".into());
    };
    let kind = entry["type"].as_str().unwrap_or_default();
    let Some(fields) = body(kind) else {
        return Err(format!("unknown entry type `{kind}`"));
    };
    if !fits_sorted(kind, members) {
        check_fields("", members, &[ENVELOPE, fields])?;
    }
    if entry["v"].as_u64() != Some(1) {
        return Err("`v` must be 1".into());
    }
    Ok(())
}

/// A list of fields and the shape of each.
type FieldList = Vec<(&'static str, Shape)>;

/// Each type's fields, the envelope's and its body's together, sorted by
/// name.
static SORTED: LazyLock<Vec<(&'static str, FieldList)>> = LazyLock::new(|| {
    TYPES
        .iter()
        .filter_map(|kind| {
            let mut all: FieldList = ENVELOPE.iter().chain(body(kind)?).copied().collect();
            all.sort_by_key(|(name, _)| *name);
            Some((*kind, all))
        })
        .collect()
});

/// Whether `members`, in the sorted order a canonical line has them, are
/// exactly `kind`'s fields, each of its shape: one walk instead of a
/// search per field. Any other answer leaves it to [`check_fields`], which
/// says what is wrong the way it always has.
fn fits_sorted(kind: &str, members: &[(Cow<str>, Json)]) -> bool {
    let Some((_, sorted)) = SORTED.iter().find(|(k, _)| *k == kind) else {
        return false;
    };
    members.len() == sorted.len()
        && members
            .iter()
            .zip(sorted)
            .all(|((key, value), (name, shape))| {
                key == name && check_shape("", name, value, *shape).is_ok()
            })
}

/// Checks a line a writer is about to append, as a verifier will read it.
pub fn check_line(line: &str) -> Result<(), String> {
    let (json, canonical) = jcs::parse_checked(line).map_err(|e| e.to_string())?;
    if !canonical {
        return Err("the line is not in canonical form".into());
    }
    check(&json)
}

/// Adds the envelope to an entry body.
pub fn with_envelope(body: Value, seq: u64, prev: &str, log: &str, ts: &str) -> Value {
    let mut m = match body {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("v".into(), json!(1));
    m.insert("seq".into(), json!(seq));
    m.insert("prev".into(), json!(prev));
    m.insert("log".into(), json!(log));
    m.insert("ts".into(), json!(ts));
    Value::Object(m)
}

/// The message an approver signs: domain-separated, naming the log and the
/// decision's leaf hash.
pub fn approval_message(origin: &str, decision: &str) -> String {
    format!("severance/approval/v1\n{origin}\n{decision}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema is checked on lines as written; so are these.
    fn check(entry: &Value) -> Result<(), String> {
        check_line(&jcs::encode(entry))
    }

    fn run_entry() -> Value {
        json!({
            "v": 1, "seq": 1, "prev": format!("sha256:{}", "a".repeat(64)), "type": "recovery",
            "log": "x", "ts": "2026-11-25T09:00:00Z", "found": ["torn-tail"], "sealed": 1,
            "discarded_lines": 0, "discarded_bytes": 12,
            "discarded_digest": format!("sha256:{}", "b".repeat(64)),
        })
    }

    #[test]
    fn a_well_formed_entry_passes() {
        assert_eq!(check(&run_entry()), Ok(()));
    }

    #[test]
    fn every_deviation_is_caught() {
        let mut e = run_entry();
        e["v"] = json!(2);
        assert!(check(&e).is_err());
        let mut e = run_entry();
        e["ts"] = json!("2026-11-25T09:00:00+00:00");
        assert!(check(&e).is_err(), "times are UTC with Z");
        let mut e = run_entry();
        e["prev"] = json!(format!("sha256:{}", "A".repeat(64)));
        assert!(check(&e).is_err(), "hashes are lowercase");
        let mut e = run_entry();
        e["extra"] = json!(1);
        assert!(check(&e).is_err(), "unknown fields");
        let mut e = run_entry();
        e.as_object_mut().expect("object").remove("discarded_bytes");
        assert!(check(&e).is_err(), "missing fields");
        let mut e = run_entry();
        e["type"] = json!("decree");
        assert!(check(&e).is_err(), "unknown types");
    }
}
