//! Stage 5, ledger: the signed, hash-chained evidence of every decision. A
//! directory holds `entries.jsonl` (one RFC 8785 canonical JSON object per
//! line, append-only), `checkpoint` (the latest C2SP signed checkpoint over
//! the RFC 6962 Merkle root) and `checkpoints/<size>` (every checkpoint ever
//! signed). `docs/ledger.md` is the normative description.

pub mod codes;
pub mod disk;
pub mod entry;
pub mod jcs;
mod log;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod replay;
pub mod shape;
pub mod store;
pub mod verify;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::decide::{Decision, Effect, Plan};
use crate::diag::SourceFile;
use crate::model::format_time;
use crate::validate::{Inventory, PolicyPack};
pub use codes::FailureCode;
use entry::{
    Approval, Approvers, Body, DecisionBody, Entry, Execution, Kind, Run, RunDecisions,
    RunInventory, RunPolicies, Tag, Time, Tool, Verification,
};
pub use log::{History, Latest, LogFilter, Logged, VERIFIABLE, history, history_of};
use merkle::Hash;
pub use note::{SignerKey, VerifierKey};
pub use store::{Sealed, WriteError};
pub use verify::{Report, verify};

/// Responses up to this size are kept whole in an execution entry; larger
/// ones only by digest.
pub const MAX_INLINE_RESPONSE: usize = 4096;

/// What a decision entry says, without its envelope and run reference: the
/// unit of change detection and of the run's decision digest.
pub fn decision_body(d: &Decision, inventory: &Inventory) -> DecisionBody {
    let mut actions = d.actions.clone();
    actions.sort_unstable();
    let mut policies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut blocked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &d.reasons {
        if r.effect == Effect::Permit && d.actions.contains(&r.action) {
            policies
                .entry(r.action.clone())
                .or_default()
                .push(r.policy.clone());
        } else if r.effect == Effect::Forbid {
            blocked
                .entry(r.action.clone())
                .or_default()
                .push(r.policy.clone());
        }
    }
    for list in policies.values_mut().chain(blocked.values_mut()) {
        list.sort_unstable();
    }
    DecisionBody {
        subject: d.subject.clone(),
        kind: d.kind.as_str().to_string(),
        status: d.status.as_str().to_string(),
        actions,
        policies,
        blocked,
        leaver: d.leaver.map(|p| inventory.records[p].id.clone()),
        due: d.due.map(|t| Time(format_time(t))),
    }
}

/// The envelope and reference fields of a decision entry; the rest is its body.
const ENVELOPE_FIELDS: [&str; 7] = ["v", "seq", "prev", "type", "log", "ts", "run"];

/// What a writer keeps of a recorded decision entry: its subject, kind and
/// status, and the digest of its canonical body, which is equal to a new
/// body's exactly when the two bodies are equal. A million full entries
/// would hold gigabytes; their summaries a small part of that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionSummary {
    /// The record.
    pub subject: String,
    /// Its kind.
    pub kind: String,
    /// Its status.
    pub status: String,
    /// The digest of the canonical body.
    pub body_digest: Hash,
}

impl DecisionSummary {
    /// The summary of a decision body.
    pub fn of(body: &DecisionBody) -> DecisionSummary {
        DecisionSummary {
            subject: body.subject.clone(),
            kind: body.kind.clone(),
            status: body.status.clone(),
            body_digest: merkle::digest(jcs::encode(body).as_bytes()),
        }
    }

    /// The summary of a decision line a verifier has read, when the line is
    /// canonical: its body's canonical text is then its members less the
    /// envelope's, written compactly as they stand, so the line is neither
    /// read into a body nor encoded again (a writer reads a million of them
    /// on every run).
    pub(crate) fn of_line(entry: &jcs::Json) -> DecisionSummary {
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
        let text_of = |field: &str| entry[field].as_str().unwrap_or_default().to_string();
        DecisionSummary {
            subject: text_of("subject"),
            kind: text_of("kind"),
            status: text_of("status"),
            body_digest: merkle::digest(&text),
        }
    }
}

/// What a writer keeps of an entry it read: a decision as its summary,
/// which is all a writer needs of it, any other entry whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A decision entry.
    Decision(DecisionSummary),
    /// Any other entry (boxed: a million decision summaries are not to be
    /// as large as the largest entry).
    Entry(Box<Entry>),
}

impl Recorded {
    /// The entry's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Recorded::Decision(_) => Kind::Decision,
            Recorded::Entry(e) => e.body.kind(),
        }
    }
}

/// The digest of a set of files under a directory: SHA-256 over, for each
/// file in path order, its path relative to the directory, a zero byte, the
/// SHA-256 of its bytes, and a newline.
pub fn files_digest(root: &Path, files: &[Arc<SourceFile>]) -> Tag {
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
    Tag(h.finalize().into())
}

/// Where a plan's inputs came from.
pub struct RunInputs<'a> {
    /// The inventory directory.
    pub inventory_dir: &'a Path,
    /// The policy directory.
    pub policies_dir: &'a Path,
}

impl RunInputs<'_> {
    /// The run's `inventory.digest`: of the inventory's files, by their
    /// paths relative to its directory.
    pub fn inventory_digest(&self, inventory: &Inventory) -> Tag {
        files_digest(self.inventory_dir, &inventory.files)
    }

    /// The run's `policies.digest`: of the policy pack's files, by their
    /// paths relative to its directory.
    pub fn policies_digest(&self, pack: &PolicyPack) -> Tag {
        files_digest(self.policies_dir, &pack.files)
    }
}

/// Every decision body of a plan, in subject order, with its canonical
/// (RFC 8785) text: what a run records and commits to, and what a replay
/// recomputes.
pub struct RunBodies {
    /// The bodies, in the plan's (subject) order.
    pub bodies: Vec<DecisionBody>,
    /// The canonical text of each body, in the same order.
    pub texts: Vec<String>,
}

impl RunBodies {
    /// The bodies of a plan's decisions and their texts, on both cores (a
    /// million decisions are encoded on every run).
    pub fn of(plan: &Plan, inventory: &Inventory) -> RunBodies {
        use rayon::prelude::*;
        let bodies: Vec<DecisionBody> = plan
            .decisions
            .par_iter()
            .map(|d| decision_body(d, inventory))
            .collect();
        let texts: Vec<String> = bodies.par_iter().map(jcs::encode).collect();
        RunBodies { bodies, texts }
    }
}

/// A run's `decisions.digest`, from the canonical texts of its decision
/// bodies in subject order: SHA-256 of the JCS array of them. RFC 8785
/// writes an array as its elements' canonical forms, in order, between
/// brackets and separated by commas, so the digest is taken from the texts
/// without building the array again.
pub fn decisions_digest<T: AsRef<str>>(texts: &[T]) -> Tag {
    let mut list = Sha256::new();
    list.update(b"[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            list.update(b",");
        }
        list.update(text.as_ref().as_bytes());
    }
    list.update(b"]");
    Tag(list.finalize().into())
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
    let mut last: HashMap<&str, &DecisionSummary> = HashMap::new();
    for e in &writer.existing {
        if let Recorded::Decision(summary) = e {
            last.insert(&summary.subject, summary);
        }
    }

    // Each body's canonical text gives both the body's digest (compared
    // with the last recorded one) and the run's digest of the whole list.
    let RunBodies { bodies, texts } = RunBodies::of(plan, inventory);
    let mut changed: Vec<DecisionBody> = bodies
        .into_iter()
        .zip(&texts)
        .filter(|(b, text)| {
            let recorded = last.get(b.subject.as_str()).map(|s| s.body_digest);
            recorded != Some(merkle::digest(text.as_bytes()))
        })
        .map(|(b, _)| b)
        .collect();
    let present: HashSet<&str> = plan.decisions.iter().map(|d| d.subject.as_str()).collect();
    let mut gone: Vec<&DecisionSummary> = last
        .values()
        .filter(|s| !present.contains(s.subject.as_str()) && s.status != "absent")
        .copied()
        .collect();
    gone.sort_by(|a, b| a.subject.cmp(&b.subject));
    changed.extend(
        gone.into_iter()
            .map(|before| DecisionBody::absent(&before.subject, &before.kind)),
    );
    changed.sort_by(|a, b| a.subject.cmp(&b.subject));
    let list_digest = decisions_digest(&texts);
    let decided = texts.len();
    drop(texts);

    let mut counts = BTreeMap::new();
    let summary = &plan.summary;
    for (name, n) in [
        ("records", summary.records),
        ("decided", summary.decided),
        ("retain", summary.retain),
        ("blocked", summary.blocked),
        ("error", summary.error),
    ] {
        counts.insert(name.to_string(), n as u64);
    }
    for (a, n) in &summary.actions {
        counts.insert(a.clone(), *n as u64);
    }
    let run_seq = writer.next_seq();
    let run = writer.push(
        Body::Run(Run {
            as_of: Time(ts.clone()),
            tool: Tool {
                name: "severance".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            inventory: RunInventory {
                commit: crate::load::clean_commit(inputs.inventory_dir),
                digest: inputs.inventory_digest(inventory),
                files: inventory.files.len() as u64,
                records: inventory.records.len() as u64,
            },
            policies: RunPolicies {
                digest: inputs.policies_digest(pack),
                files: pack.files.len() as u64,
                policies: pack.info.len() as u64,
            },
            counts,
            decisions: RunDecisions {
                count: decided as u64,
                digest: list_digest,
                written: changed.len() as u64,
            },
        }),
        &ts,
    )?;
    let decisions_written = changed.len();
    let entries: Vec<Body> = changed
        .into_iter()
        .map(|body| Body::Decision(entry::Decision { run, body }))
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
    let found = match decision {
        DecisionRef::Seq(s) => usize::try_from(*s).ok(),
        DecisionRef::Leaf(h) => merkle::parse_tag(h)
            .and_then(|h| (0..writer.existing.len()).find(|&i| writer.leaf_of(i) == Some(Tag(h)))),
    };
    let Some(leaf) = found.and_then(|s| decision_leaf(&writer, s)) else {
        return Err(WriteError::Refused(
            "no decision entry has that sequence number or leaf hash".into(),
        ));
    };
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
            let sig = approver
                .sign(entry::approval_message(writer.origin(), &leaf.to_string()).as_bytes());
            Body::Approval(Approval {
                decision: leaf,
                approver: vkey,
                signature: STANDARD.encode(sig),
                comment: comment.clone(),
            })
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
            Body::Execution(Execution {
                decision: leaf,
                system: system.clone(),
                request_id: request_id.clone(),
                status: status.clone(),
                response_digest: Tag::digest(response),
                response: inline,
            })
        }
        Evidence::Verification { method, observed } => Body::Verification(Verification {
            decision: leaf,
            method: method.clone(),
            observed: observed.clone(),
        }),
    };
    writer.push(body, ts)?;
    writer.commit()
}

/// The leaf hash of entry `seq`, when it is a decision.
fn decision_leaf(writer: &store::Writer<'_>, seq: usize) -> Option<Tag> {
    writer
        .existing
        .get(seq)
        .is_some_and(|e| e.kind() == Kind::Decision)
        .then(|| writer.leaf_of(seq))
        .flatten()
}

/// Appends verifications of decisions, each `(decision seq, method,
/// observed)`, in one write sealed once: what an import showed of actions
/// the ledger decided.
pub fn record_verifications(
    dir: &Path,
    key: &SignerKey,
    verifications: &[(u64, String, BTreeMap<String, String>)],
    ts: &str,
) -> Result<Sealed, WriteError> {
    let mut writer = store::Writer::open(dir, key, ts)?;
    let mut bodies = Vec::with_capacity(verifications.len());
    for (seq, method, observed) in verifications {
        let leaf = usize::try_from(*seq)
            .ok()
            .and_then(|s| decision_leaf(&writer, s))
            .ok_or_else(|| {
                WriteError::Refused(format!("entry {seq} is not a decision of this ledger"))
            })?;
        bodies.push(Body::Verification(Verification {
            decision: leaf,
            method: method.clone(),
            observed: observed.clone(),
        }));
    }
    writer.push_all(bodies, ts)?;
    writer.commit()
}

/// The verifier keys of the most recent `approvers` entry (none before the first).
fn trusted_approvers(entries: &[Recorded]) -> Vec<String> {
    entries
        .iter()
        .rev()
        .find_map(|e| match e {
            Recorded::Entry(e) => match &e.body {
                Body::Approvers(a) => Some(a.approvers.clone()),
                _ => None,
            },
            _ => None,
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
    writer.push(Body::Approvers(Approvers { approvers: list }), ts)?;
    writer.commit()
}
