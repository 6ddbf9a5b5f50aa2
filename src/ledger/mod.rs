//! Stage 5, ledger: the signed, hash-chained evidence of every decision. A
//! directory holds `entries.jsonl` (one RFC 8785 canonical JSON object per
//! line, append-only), `checkpoint` (the latest C2SP signed checkpoint over
//! the RFC 6962 Merkle root) and `checkpoints/<size>` (every checkpoint ever
//! signed). `docs/ledger.md` is the normative description.

pub mod disk;
pub mod entry;
pub mod jcs;
pub mod merkle;
pub mod note;
pub mod store;
pub mod verify;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::decide::{Decision, Effect, Plan};
use crate::diag::SourceFile;
use crate::model::format_time;
use crate::validate::{Inventory, PolicyPack};
pub use note::{SignerKey, VerifierKey};
pub use store::{Sealed, WriteError};
pub use verify::{Report, verify};

/// Responses up to this size are kept whole in an execution entry; larger
/// ones only by digest.
pub const MAX_INLINE_RESPONSE: usize = 4096;

/// What a decision entry says, without its envelope and run reference: the
/// unit of change detection and of the run's decision digest.
pub fn decision_body(d: &Decision, inventory: &Inventory) -> Value {
    let mut actions: Vec<&str> = d.actions.iter().map(String::as_str).collect();
    actions.sort_unstable();
    let mut policies: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut blocked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &d.reasons {
        if r.effect == Effect::Permit && d.actions.contains(&r.action) {
            policies.entry(&r.action).or_default().push(&r.policy);
        } else if r.effect == Effect::Forbid {
            blocked.entry(&r.action).or_default().push(&r.policy);
        }
    }
    for list in policies.values_mut().chain(blocked.values_mut()) {
        list.sort_unstable();
    }
    json!({
        "subject": d.subject,
        "kind": d.kind.as_str(),
        "status": d.status.as_str(),
        "actions": actions,
        "policies": policies,
        "blocked": blocked,
        "leaver": d.leaver.map(|p| inventory.records[p].id.as_str()),
        "due": d.due.map(format_time),
    })
}

/// The key under which a decision summary holds its body's digest.
const SUMMARY_DIGEST: &str = "body_digest";

/// The envelope and reference fields of a decision entry; the rest is its body.
const ENVELOPE_FIELDS: [&str; 7] = ["v", "seq", "prev", "type", "log", "ts", "run"];

/// What a writer keeps of a recorded decision entry: its type, subject,
/// kind and status, and the digest of its canonical body, which is equal to
/// a new body's exactly when the two bodies are equal. A million full
/// entries would hold gigabytes; their summaries a small part of that.
pub(crate) fn decision_summary(entry: &Value) -> Value {
    let mut body = entry.clone();
    if let Some(m) = body.as_object_mut() {
        for k in ENVELOPE_FIELDS {
            m.remove(k);
        }
    }
    summary(
        entry["subject"].clone(),
        entry["kind"].clone(),
        entry["status"].clone(),
        merkle::digest_tag(jcs::encode(&body).as_bytes()),
    )
}

/// [`decision_summary`] of a decision line a verifier has read, when the
/// line is canonical: its body's canonical text is then its members less
/// the envelope's, written compactly as they stand, so the line is neither
/// converted to a `Value` nor encoded again (a writer reads a million of
/// them on every run).
pub(crate) fn decision_summary_of_line(entry: &jcs::Json) -> Value {
    /// The members of a decision entry that make its body.
    struct Body<'a, 'j>(&'a jcs::Json<'j>);
    impl serde::Serialize for Body<'_, '_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let members = match self.0 {
                jcs::Json::Object(members) => members.as_slice(),
                _ => &[],
            };
            s.collect_map(
                members
                    .iter()
                    .filter(|(k, _)| !ENVELOPE_FIELDS.contains(&k.as_ref()))
                    .map(|(k, v)| (k.as_ref(), v)),
            )
        }
    }
    // INVARIANT: a `Json` holds only strings, integers, booleans, null,
    // arrays and objects with string keys; writing it to memory cannot fail.
    let text = serde_json::to_vec(&Body(entry))
        .unwrap_or_else(|e| unreachable!("compact JSON of a line: {e}"));
    summary(
        entry["subject"].to_value(),
        entry["kind"].to_value(),
        entry["status"].to_value(),
        merkle::digest_tag(&text),
    )
}

fn summary(subject: Value, kind: Value, status: Value, body_digest: String) -> Value {
    json!({
        "type": "decision",
        "subject": subject,
        "kind": kind,
        "status": status,
        SUMMARY_DIGEST: body_digest,
    })
}

/// The digest of a set of files under a directory: SHA-256 over, for each
/// file in path order, its path relative to the directory, a zero byte, the
/// SHA-256 of its bytes, and a newline.
pub fn files_digest(root: &Path, files: &[Arc<SourceFile>]) -> String {
    let root = root.to_string_lossy().replace('\\', "/");
    let root = root
        .strip_prefix("./")
        .unwrap_or(&root)
        .trim_end_matches('/')
        .to_string();
    let mut entries: Vec<(String, [u8; 32])> = files
        .iter()
        .map(|f| {
            let rel = if root == "." || root.is_empty() {
                f.path.clone()
            } else {
                f.path
                    .strip_prefix(&format!("{root}/"))
                    .unwrap_or(&f.path)
                    .to_string()
            };
            (rel, Sha256::digest(f.text.as_bytes()).into())
        })
        .collect();
    entries.sort();
    let mut h = Sha256::new();
    for (path, digest) in entries {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(digest);
        h.update([b'\n']);
    }
    merkle::tag(&h.finalize().into())
}

fn git_commit(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    // A commit describes the inputs only when the inventory has no
    // uncommitted changes; otherwise the digest alone does.
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["status", "--porcelain", "--", "."])
        .output()
        .ok()?;
    let clean = status.status.success() && status.stdout.is_empty();
    (clean && !commit.is_empty()).then_some(commit)
}

/// Where a plan's inputs came from.
pub struct RunInputs<'a> {
    /// The inventory directory.
    pub inventory_dir: &'a Path,
    /// The policy directory.
    pub policies_dir: &'a Path,
}

/// What recording a run did.
#[derive(Debug)]
pub struct RunRecorded {
    /// The run entry's sequence number.
    pub run_seq: u64,
    /// Decision entries written (new or changed decisions).
    pub decisions_written: usize,
    /// The seal.
    pub sealed: Sealed,
}

/// Appends a `run` entry and a `decision` entry for every subject whose
/// decision is new or changed (or that dropped out), then seals.
pub fn record_run(
    dir: &Path,
    key: &SignerKey,
    plan: &Plan,
    inventory: &Inventory,
    pack: &PolicyPack,
    inputs: &RunInputs<'_>,
) -> Result<RunRecorded, WriteError> {
    if plan.summary.error > 0 {
        return Err(WriteError::Refused(format!(
            "{} decisions could not be evaluated; nothing was recorded",
            plan.summary.error
        )));
    }
    let ts = format_time(plan.as_of);
    crate::progress::stage("writing", 1);
    let mut writer = store::Writer::open(dir, key, &ts)?;

    // The last recorded decision of every subject, as its summary.
    let mut last: HashMap<&str, &Value> = HashMap::new();
    for e in &writer.existing {
        if e["type"] == "decision"
            && let Some(subject) = e["subject"].as_str()
        {
            last.insert(subject, e);
        }
    }

    // Each body's canonical text, on both cores: it gives both the body's
    // digest (compared with the last recorded one) and the run's digest of
    // the whole list.
    use rayon::prelude::*;
    let bodies: Vec<Value> = plan
        .decisions
        .par_iter()
        .map(|d| decision_body(d, inventory))
        .collect();
    let texts: Vec<String> = bodies.par_iter().map(jcs::encode).collect();
    let mut changed: Vec<Value> = bodies
        .into_iter()
        .zip(&texts)
        .filter(|(b, text)| {
            let recorded = b["subject"]
                .as_str()
                .and_then(|s| last.get(s))
                .and_then(|e| e[SUMMARY_DIGEST].as_str());
            recorded != Some(merkle::digest_tag(text.as_bytes()).as_str())
        })
        .map(|(b, _)| b)
        .collect();
    let present: std::collections::HashSet<&str> =
        plan.decisions.iter().map(|d| d.subject.as_str()).collect();
    let mut gone: Vec<(&str, &Value)> = last
        .iter()
        .filter(|(s, e)| !present.contains(**s) && e["status"] != "absent")
        .map(|(s, e)| (*s, *e))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    for (subject, before) in gone {
        changed.push(json!({
            "subject": subject, "kind": before["kind"], "status": "absent", "actions": [],
            "policies": {}, "blocked": {}, "leaver": null, "due": null,
        }));
    }
    changed.sort_by(|a, b| a["subject"].as_str().cmp(&b["subject"].as_str()));
    // RFC 8785 writes an array as its elements' canonical forms, in order,
    // between brackets and separated by commas, so the list's digest can be
    // taken from the texts above without building the array again.
    let mut list = Sha256::new();
    list.update(b"[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            list.update(b",");
        }
        list.update(text.as_bytes());
    }
    list.update(b"]");
    let list_digest: [u8; 32] = list.finalize().into();
    let decided = texts.len();
    drop(texts);

    let mut counts = Map::new();
    counts.insert("records".into(), json!(plan.summary.records));
    counts.insert("decided".into(), json!(plan.summary.decided));
    counts.insert("retain".into(), json!(plan.summary.retain));
    counts.insert("blocked".into(), json!(plan.summary.blocked));
    counts.insert("error".into(), json!(plan.summary.error));
    for (a, n) in &plan.summary.actions {
        counts.insert(a.clone(), json!(n));
    }
    let run_seq = writer.next_seq();
    let run = writer.push(
        json!({
            "type": "run",
            "as_of": ts,
            "tool": {"name": "severance", "version": env!("CARGO_PKG_VERSION")},
            "inventory": {
                "commit": git_commit(inputs.inventory_dir),
                "digest": files_digest(inputs.inventory_dir, &inventory.files),
                "files": inventory.files.len(),
                "records": inventory.records.len(),
            },
            "policies": {
                "digest": files_digest(inputs.policies_dir, &pack.files),
                "files": pack.files.len(),
                "policies": pack.info.len(),
            },
            "counts": counts,
            "decisions": {"count": decided, "digest": merkle::tag(&list_digest), "written": changed.len()},
        }),
        &ts,
    )?;
    let decisions_written = changed.len();
    let entries: Vec<Value> = changed
        .into_iter()
        .map(|mut body| {
            if let Some(m) = body.as_object_mut() {
                m.insert("type".into(), json!("decision"));
                m.insert("run".into(), json!(run));
            }
            body
        })
        .collect();
    writer.push_all(entries, &ts)?;
    let sealed = writer.commit()?;
    Ok(RunRecorded {
        run_seq,
        decisions_written,
        sealed,
    })
}

/// Evidence about a decision.
pub enum Evidence<'a> {
    /// A human approved the decision, signing its leaf hash with their own key.
    Approval {
        /// The approver's private key.
        approver: &'a SignerKey,
        /// Why, or a ticket.
        comment: Option<String>,
    },
    /// A target system carried out the action.
    Execution {
        /// Which system.
        system: String,
        /// Its request id.
        request_id: String,
        /// Its status (e.g. `200`, `succeeded`).
        status: String,
        /// Its response body.
        response: Vec<u8>,
    },
    /// Someone re-read the target and saw the result.
    Verification {
        /// How (e.g. `credential_report`).
        method: String,
        /// What was observed.
        observed: BTreeMap<String, String>,
    },
}

/// Which decision evidence refers to: its sequence number or leaf hash.
pub enum DecisionRef {
    /// `entries.jsonl` line index.
    Seq(u64),
    /// `sha256:…` leaf hash.
    Leaf(String),
}

/// Appends one evidence entry about a decision and seals.
pub fn record_evidence(
    dir: &Path,
    key: &SignerKey,
    decision: &DecisionRef,
    evidence: &Evidence<'_>,
    ts: &str,
) -> Result<Sealed, WriteError> {
    let mut writer = store::Writer::open(dir, key, ts)?;
    let seq = match decision {
        DecisionRef::Seq(s) => usize::try_from(*s).ok(),
        DecisionRef::Leaf(h) => {
            (0..writer.existing.len()).find(|&i| writer.leaf_of(i).as_deref() == Some(h.as_str()))
        }
    };
    let Some(seq) = seq.filter(|&s| {
        writer
            .existing
            .get(s)
            .is_some_and(|e| e["type"] == "decision")
    }) else {
        return Err(WriteError::Refused(
            "no decision entry has that sequence number or leaf hash".into(),
        ));
    };
    let leaf = writer.leaf_of(seq).unwrap_or_default();
    let body = match evidence {
        Evidence::Approval { approver, comment } => {
            let vkey = approver.verifier().encode();
            let trusted = trusted_approvers(&writer.existing).contains(&vkey);
            if !trusted {
                return Err(WriteError::Refused(format!(
                    "approver `{}` is not trusted by this ledger; add them with `severance ledger trust`",
                    approver.verifier().short()
                )));
            }
            let sig = approver.sign(entry::approval_message(writer.origin(), &leaf).as_bytes());
            json!({"type": "approval", "decision": leaf, "approver": vkey, "signature": STANDARD.encode(sig), "comment": comment})
        }
        Evidence::Execution {
            system,
            request_id,
            status,
            response,
        } => {
            let inline = (response.len() <= MAX_INLINE_RESPONSE)
                .then(|| String::from_utf8(response.clone()).ok())
                .flatten();
            json!({
                "type": "execution", "decision": leaf, "system": system, "request_id": request_id,
                "status": status, "response_digest": merkle::digest_tag(response), "response": inline,
            })
        }
        Evidence::Verification { method, observed } => {
            json!({"type": "verification", "decision": leaf, "method": method, "observed": observed})
        }
    };
    writer.push(body, ts)?;
    writer.commit()
}

/// The verifier keys of the most recent `approvers` entry (none before the first).
fn trusted_approvers(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .rev()
        .find(|e| e["type"] == "approvers")
        .and_then(|e| e["approvers"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Adds an approver's public key to the ledger's list of trusted approvers.
pub fn trust_approver(
    dir: &Path,
    key: &SignerKey,
    approver: &VerifierKey,
    ts: &str,
) -> Result<Sealed, WriteError> {
    let mut writer = store::Writer::open(dir, key, ts)?;
    let mut list = trusted_approvers(&writer.existing);
    let encoded = approver.encode();
    if !list.contains(&encoded) {
        list.push(encoded);
    }
    list.sort();
    writer.push(json!({"type": "approvers", "approvers": list}), ts)?;
    writer.commit()
}

/// Which entries `ledger log` shows.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Entries about this record, or about decisions that follow from this person.
    pub subject: Option<String>,
    /// Only this entry type.
    pub kind: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<jiff::Timestamp>,
}

/// Entries matching a filter, and the sequence number of every leaf hash
/// (so that evidence can name the decision it is about).
#[derive(Debug, Default)]
pub struct History {
    /// The matching entries, in order.
    pub entries: Vec<Value>,
    /// `sha256:…` leaf hash → sequence number.
    pub seq_of: HashMap<String, u64>,
}

/// The entries matching a filter.
pub fn history(dir: &Path, filter: &LogFilter) -> Result<History, String> {
    let Some(contents) = store::read_entries(dir)? else {
        return Err(format!("`{}` holds no ledger", dir.display()));
    };
    let lines = contents.lines();
    let mut entries = Vec::with_capacity(lines.len());
    let mut leaf_of = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        entries.push(jcs::parse(line).map_err(|e| format!("line {}: {e}", i + 1))?);
        leaf_of.push(merkle::tag(&merkle::leaf(line.as_bytes())));
    }
    // Decisions about the subject (or following from them) and evidence about those decisions.
    let mut related = std::collections::HashSet::new();
    if let Some(subject) = &filter.subject {
        for (i, e) in entries.iter().enumerate() {
            if e["type"] == "decision"
                && (e["subject"] == subject.as_str() || e["leaver"] == subject.as_str())
            {
                related.insert(leaf_of[i].clone());
            }
        }
    }
    let seq_of = leaf_of
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i as u64))
        .collect();
    let entries = entries
        .into_iter()
        .enumerate()
        .filter(|(i, e)| {
            let about = match &filter.subject {
                None => true,
                Some(_) => {
                    related.contains(&leaf_of[*i])
                        || e["decision"].as_str().is_some_and(|d| related.contains(d))
                }
            };
            let kind = filter.kind.as_deref().is_none_or(|k| e["type"] == k);
            let since = filter.since.is_none_or(|s| {
                e["ts"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t >= s)
            });
            about && kind && since
        })
        .map(|(_, e)| e)
        .collect();
    Ok(History { entries, seq_of })
}
