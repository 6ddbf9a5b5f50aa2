//! What a ledger line may say: one type for each kind of entry, which a
//! writer serializes and a verifier reads each line back into, so that
//! what is written and what is accepted cannot drift apart. The schema is
//! narrow on purpose (strings, integers, booleans, null, arrays, objects;
//! hashes as `sha256:` + hex; times as RFC 3339 UTC) so that a verifier in
//! any language reads each line exactly one way; no field beyond a type's
//! own is accepted.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::jcs::{self, Json};
use super::merkle::{self, Hash};
use super::shape::{Fields, Misfit};

/// The kinds of entry, as an entry's `type` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Entry 0: the log and its key.
    Genesis,
    /// The list of trusted approvers from here on.
    Approvers,
    /// One `plan --ledger` run.
    Run,
    /// One record's decision.
    Decision,
    /// A human approved a decision.
    Approval,
    /// A target system's answer.
    Execution,
    /// The target re-read.
    Verification,
    /// A writer recovered from a write that did not finish.
    Recovery,
}

impl Kind {
    /// Every kind, in the order `docs/ledger.md` lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Genesis,
        Kind::Approvers,
        Kind::Run,
        Kind::Decision,
        Kind::Approval,
        Kind::Execution,
        Kind::Verification,
        Kind::Recovery,
    ];

    /// The `type` that names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::Approvers => "approvers",
            Kind::Run => "run",
            Kind::Decision => "decision",
            Kind::Approval => "approval",
            Kind::Execution => "execution",
            Kind::Verification => "verification",
            Kind::Recovery => "recovery",
        }
    }

    /// The kind a `type` names.
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hash or digest as entries write it: `sha256:` and 64 lowercase hex
/// digits, one spelling for one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag(pub Hash);

impl Tag {
    /// The tag of the SHA-256 of `bytes`.
    pub fn digest(bytes: &[u8]) -> Tag {
        Tag(merkle::digest(bytes))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&merkle::tag(&self.0))
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&merkle::tag(&self.0))
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        text_of_form(d, "`sha256:` and 64 lowercase hex digits", |text| {
            merkle::parse_tag(text).map(Tag)
        })
    }
}

/// Reads a string that `read` accepts, refusing any other as a value of
/// the wrong form.
fn text_of_form<'de, D: Deserializer<'de>, T>(
    d: D,
    form: &'static str,
    read: fn(&str) -> Option<T>,
) -> Result<T, D::Error> {
    struct Form<T> {
        form: &'static str,
        read: fn(&str) -> Option<T>,
    }
    impl<T> Visitor<'_> for Form<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.form)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
            (self.read)(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
        }
    }
    d.deserialize_str(Form { form, read })
}

/// An instant as entries write it, RFC 3339 UTC with `Z` (and perhaps
/// milliseconds), kept as written. A writer's text is held to that form
/// when its line is checked, before anything is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Time(pub String);

impl Time {
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        text_of_form(d, "an RFC 3339 UTC time", |text| {
            is_time(text).then(|| Time(text.to_string()))
        })
    }
}

/// The format version, `v`: always 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version;

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(1)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        match u64::deserialize(d)? {
            1 => Ok(Version),
            _ => Err(de::Error::custom("`v` must be 1")),
        }
    }
}

/// Reads a field that must be present and may be null: serde would take a
/// missing `Option` for `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::deserialize(d)
}

/// The fields every entry has besides its `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The format version.
    pub v: Version,
    /// The entry's 0-based line index.
    pub seq: u64,
    /// The leaf hash of the line before (zeros for entry 0).
    pub prev: Tag,
    /// The ledger's origin.
    pub log: String,
    /// The writer's claim of when.
    pub ts: Time,
}

/// The names of the envelope's fields and `type`: what is not an entry's body.
const ENVELOPE: [&str; 6] = ["v", "seq", "prev", "type", "log", "ts"];

/// `genesis`: the log and its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The log's verifier key.
    pub key: String,
}

/// `approvers`: the full list of trusted approvers from here on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approvers {
    /// Verifier keys.
    pub approvers: Vec<String>,
}

/// `run`: one `plan --ledger` run and what it committed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// The run's `--as-of`.
    pub as_of: Time,
    /// The tool that ran.
    pub tool: Tool,
    /// The inventory it read.
    pub inventory: RunInventory,
    /// The policies it applied.
    pub policies: RunPolicies,
    /// The plan's counts, by name.
    pub counts: BTreeMap<String, u64>,
    /// Its decisions.
    pub decisions: RunDecisions,
}

/// The tool a run names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `severance`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The inventory a run read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInventory {
    /// The commit, when the inventory had no uncommitted changes.
    #[serde(deserialize_with = "present")]
    pub commit: Option<String>,
    /// The digest of its files.
    pub digest: Tag,
    /// How many files.
    pub files: u64,
    /// How many records.
    pub records: u64,
}

/// The policies a run applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPolicies {
    /// The digest of their files.
    pub digest: Tag,
    /// How many files.
    pub files: u64,
    /// How many policies.
    pub policies: u64,
}

/// What a run decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDecisions {
    /// Every decision of the run.
    pub count: u64,
    /// The digest of all their bodies, in subject order.
    pub digest: Tag,
    /// The `decision` entries written (new or changed).
    pub written: u64,
}

/// `decision`: one record's decision, made by a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The leaf hash of its run.
    pub run: Tag,
    /// What was decided.
    #[serde(flatten)]
    pub body: DecisionBody,
}

/// What a decision says, without the run that made it: the unit of change
/// detection and of a run's decision digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The record.
    pub subject: String,
    /// Its kind.
    pub kind: String,
    /// `ok`, `absent` for a subject that left the inventory, and so on.
    pub status: String,
    /// The actions, sorted.
    pub actions: Vec<String>,
    /// Action → the policies that permit it.
    pub policies: BTreeMap<String, Vec<String>>,
    /// Action → the policies that forbid it.
    pub blocked: BTreeMap<String, Vec<String>>,
    /// The person the decision follows from.
    #[serde(deserialize_with = "present")]
    pub leaver: Option<String>,
    /// When its actions are due.
    #[serde(deserialize_with = "present")]
    pub due: Option<Time>,
}

impl DecisionBody {
    /// The decision about a subject that left the inventory.
    pub fn absent(subject: &str, kind: &str) -> DecisionBody {
        DecisionBody {
            subject: subject.to_string(),
            kind: kind.to_string(),
            status: "absent".to_string(),
            actions: Vec::new(),
            policies: BTreeMap::new(),
            blocked: BTreeMap::new(),
            leaver: None,
            due: None,
        }
    }
}

/// `approval`: a human approved a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The decision's leaf hash.
    pub decision: Tag,
    /// The approver's verifier key.
    pub approver: String,
    /// Their signature over [`approval_message`], standard base64.
    pub signature: String,
    /// Why, or a ticket.
    #[serde(deserialize_with = "present")]
    pub comment: Option<String>,
}

/// `execution`: a target system's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Execution {
    /// The decision's leaf hash.
    pub decision: Tag,
    /// Which system.
    pub system: String,
    /// Its request id.
    pub request_id: String,
    /// Its status.
    pub status: String,
    /// The digest of its response body.
    pub response_digest: Tag,
    /// The body, when UTF-8 and small enough.
    #[serde(deserialize_with = "present")]
    pub response: Option<String>,
}

/// `verification`: the target re-read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// The decision's leaf hash.
    pub decision: Tag,
    /// How.
    pub method: String,
    /// What was observed, by name.
    pub observed: BTreeMap<String, String>,
}

/// `recovery`: what a writer found left by a write that did not finish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// What it found, sorted.
    pub found: Vec<String>,
    /// The largest size a valid checkpoint signed.
    pub sealed: u64,
    /// Complete lines cut off.
    pub discarded_lines: u64,
    /// Bytes cut off.
    pub discarded_bytes: u64,
    /// Their digest.
    pub discarded_digest: Tag,
}

/// What an entry says beyond its envelope, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Body {
    /// `genesis`.
    Genesis(Genesis),
    /// `approvers`.
    Approvers(Approvers),
    /// `run`.
    Run(Run),
    /// `decision`.
    Decision(Decision),
    /// `approval`.
    Approval(Approval),
    /// `execution`.
    Execution(Execution),
    /// `verification`.
    Verification(Verification),
    /// `recovery`.
    Recovery(Recovery),
}

/// An entry's reference to an earlier one, which must be of a given kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The field that holds it.
    pub field: &'static str,
    /// The kind it must point at.
    pub target: Kind,
    /// The leaf hash it names.
    pub leaf: Tag,
}

impl Body {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Genesis(_) => Kind::Genesis,
            Body::Approvers(_) => Kind::Approvers,
            Body::Run(_) => Kind::Run,
            Body::Decision(_) => Kind::Decision,
            Body::Approval(_) => Kind::Approval,
            Body::Execution(_) => Kind::Execution,
            Body::Verification(_) => Kind::Verification,
            Body::Recovery(_) => Kind::Recovery,
        }
    }

    /// The earlier entry it refers to: a decision's run, evidence's decision.
    pub fn reference(&self) -> Option<Reference> {
        let (field, target, leaf) = match self {
            Body::Decision(d) => ("run", Kind::Run, d.run),
            Body::Approval(Approval { decision, .. })
            | Body::Execution(Execution { decision, .. })
            | Body::Verification(Verification { decision, .. }) => {
                ("decision", Kind::Decision, *decision)
            }
            _ => return None,
        };
        Some(Reference {
            field,
            target,
            leaf,
        })
    }

    /// Reads the body of a `kind` entry from the members of its line (the
    /// envelope's are left out).
    fn read(kind: Kind, members: Members<'_, '_>) -> Result<Body, Misfit> {
        let fields = Fields::new(members, |k| !ENVELOPE.contains(&k));
        Ok(match kind {
            Kind::Genesis => Body::Genesis(Genesis::deserialize(fields)?),
            Kind::Approvers => Body::Approvers(Approvers::deserialize(fields)?),
            Kind::Run => Body::Run(Run::deserialize(fields)?),
            Kind::Decision => Body::Decision(Decision {
                run: fields.member("run")?,
                body: DecisionBody::deserialize(Fields::new(members, |k| {
                    !ENVELOPE.contains(&k) && k != "run"
                }))?,
            }),
            Kind::Approval => Body::Approval(Approval::deserialize(fields)?),
            Kind::Execution => Body::Execution(Execution::deserialize(fields)?),
            Kind::Verification => Body::Verification(Verification::deserialize(fields)?),
            Kind::Recovery => Body::Recovery(Recovery::deserialize(fields)?),
        })
    }
}

/// The members of a parsed line.
type Members<'a, 'j> = &'a [(std::borrow::Cow<'j, str>, Json<'j>)];

/// One entry: its envelope and its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The envelope.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The body, with its `type`.
    #[serde(flatten)]
    pub body: Body,
}

impl Entry {
    /// A body in its envelope: line `seq` of the log `log`, after the line
    /// whose leaf hash is `prev`.
    pub fn new(body: Body, seq: u64, prev: Hash, log: &str, ts: &str) -> Entry {
        Entry {
            envelope: Envelope {
                v: Version,
                seq,
                prev: Tag(prev),
                log: log.to_string(),
                ts: Time(ts.to_string()),
            },
            body,
        }
    }

    /// Reads a parsed line as the entry of its type, refusing a missing,
    /// unknown or ill-formed field.
    pub fn read(line: &Json) -> Result<Entry, Misfit> {
        let Json::Object(members) = line else {
            return Err(Misfit::Said("an entry is a JSON object".into()));
        };
        let named = line["type"].as_str().unwrap_or_default();
        let Some(kind) = Kind::parse(named) else {
            return Err(Misfit::Said(format!("unknown entry type `{named}`")));
        };
        let envelope = Envelope::deserialize(Fields::new(members, |k| {
            k != "type" && ENVELOPE.contains(&k)
        }))?;
        let body = Body::read(kind, members)?;
        Ok(Entry { envelope, body })
    }

    /// The canonical line.
    pub fn line(&self) -> String {
        jcs::encode(self)
    }
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

/// Reads a line a writer is about to append, as a verifier will read it.
pub fn check_line(line: &str) -> Result<Entry, String> {
    let (json, canonical) = jcs::parse_checked(line).map_err(|e| e.to_string())?;
    if !canonical {
        return Err("the line is not in canonical form".into());
    }
    Entry::read(&json).map_err(|e| e.to_string())
}

/// The message an approver signs: domain-separated, naming the log and the
/// decision's leaf hash.
pub fn approval_message(origin: &str, decision: &str) -> String {
    format!("severance/approval/v1\n{origin}\n{decision}\n")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The schema is checked on lines as written; so are these.
    fn check(entry: &Value) -> Result<Entry, String> {
        check_line(&jcs::encode(entry))
    }

    fn recovery_entry() -> Value {
        json!({
            "v": 1, "seq": 1, "prev": format!("sha256:{}", "a".repeat(64)), "type": "recovery",
            "log": "x", "ts": "2026-11-25T09:00:00Z", "found": ["torn-tail"], "sealed": 1,
            "discarded_lines": 0, "discarded_bytes": 12,
            "discarded_digest": format!("sha256:{}", "b".repeat(64)),
        })
    }

    #[test]
    fn a_well_formed_entry_reads_and_writes_the_same_line() {
        let line = jcs::encode(&recovery_entry());
        let entry = check_line(&line).expect("reads");
        assert_eq!(entry.body.kind(), Kind::Recovery);
        assert_eq!(entry.line(), line);
    }

    /// Each field set to a value (or, with none, removed), and what the
    /// check says of it.
    #[test]
    fn every_deviation_is_caught() {
        let cases = [
            ("v", Some(json!(2)), "`v` must be 1"),
            (
                "ts",
                Some(json!("2026-11-25T09:00:00+00:00")),
                "`ts` has the wrong type or form",
            ),
            (
                "prev",
                Some(json!(format!("sha256:{}", "A".repeat(64)))),
                "`prev` has the wrong type or form",
            ),
            ("extra", Some(json!(1)), "unknown field `extra`"),
            ("discarded_bytes", None, "`discarded_bytes` is missing"),
            ("type", Some(json!("decree")), "unknown entry type `decree`"),
            ("seq", Some(json!("1")), "`seq` has the wrong type or form"),
            ("log", None, "`log` is missing"),
        ];
        for (field, value, message) in cases {
            let mut e = recovery_entry();
            match (e.as_object_mut(), value) {
                (Some(m), Some(v)) => m.insert(field.to_string(), v),
                (Some(m), None) => m.remove(field),
                (None, _) => None,
            };
            assert_eq!(check(&e).err().as_deref(), Some(message), "{field}");
        }
    }

    #[test]
    fn nullable_fields_must_still_be_there() {
        let decision = json!({
            "v": 1, "seq": 2, "prev": format!("sha256:{}", "a".repeat(64)), "type": "decision",
            "log": "x", "ts": "2026-11-25T09:00:00Z", "run": format!("sha256:{}", "c".repeat(64)),
            "subject": "account/a", "kind": "account", "status": "ok", "actions": [],
            "policies": {}, "blocked": {"revoke": ["p"]}, "leaver": null, "due": null,
        });
        let entry = check(&decision).expect("reads");
        assert_eq!(
            entry.body.reference().map(|r| (r.field, r.target)),
            Some(("run", Kind::Run))
        );
        let mut e = decision.clone();
        e.as_object_mut().map(|m| m.remove("leaver"));
        assert_eq!(check(&e).err().as_deref(), Some("`leaver` is missing"));
        let mut e = decision.clone();
        e.as_object_mut().map(|m| m.remove("run"));
        assert_eq!(check(&e).err().as_deref(), Some("`run` is missing"));
        let mut e = decision;
        e["due"] = json!("tomorrow");
        assert_eq!(
            check(&e).err().as_deref(),
            Some("`due` has the wrong type or form")
        );
    }
}
