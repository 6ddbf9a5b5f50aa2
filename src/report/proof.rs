//! `ledger verify-proof` as text or as a versioned JSON document
//! (`docs/schemas/ledger-proof-v1.schema.json`): what the proof shows (the
//! entry and the signed tree it is in, or the two sizes of a log that only
//! grew), and every failure with its code.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::ledger::merkle;
use crate::ledger::proof::{Claim, ProofFailure, ProofReport, ProvenEntry, SignedTree};

/// The version of the `ledger verify-proof` document's shape.
pub const PROOF_SCHEMA_VERSION: u32 = 1;

/// Every failure, one line each, for the error stream.
pub fn failures(report: &ProofReport) -> String {
    let mut text = String::new();
    for f in &report.failures {
        let _ = writeln!(text, "failure[{}]: {}", f.code, f.message);
    }
    text
}

/// The verdict on the proof in `path` and what it shows.
pub fn summary(path: &Path, report: &ProofReport) -> String {
    let mut text = String::new();
    let verdict = super::ledger::verdict(report.failures.len());
    let _ = writeln!(text, "proof `{}`: {verdict}", path.display());
    let size = report
        .checkpoint
        .as_ref()
        .map_or("?".to_string(), |t| t.size.to_string());
    match &report.claim {
        Some(Claim::Inclusion { index, entry }) => {
            let _ = writeln!(
                text,
                "  proves       entry {index} is in the log of size {size}"
            );
            if let Some(e) = entry {
                let subject = e
                    .subject
                    .as_ref()
                    .map_or(String::new(), |s| format!(" about `{s}`"));
                let _ = writeln!(text, "  entry        {}{subject} at {}", e.kind, e.ts);
                let _ = writeln!(text, "  leaf         {}", merkle::tag(&e.leaf));
            }
        }
        Some(Claim::Consistency { old, old_tree }) => {
            let _ = writeln!(
                text,
                "  proves       the log of size {old} is a prefix of the log of size {size}"
            );
            if let Some(t) = old_tree {
                let _ = writeln!(text, "  old root     {}", merkle::tag(&t.root));
            }
        }
        None => {}
    }
    if let Some(t) = &report.checkpoint {
        let _ = writeln!(text, "  origin       {}", t.origin);
        let _ = writeln!(text, "  size         {}", t.size);
        let _ = writeln!(text, "  root         {}", merkle::tag(&t.root));
    }
    let _ = writeln!(text, "  key          {}", report.key);
    text
}

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    ok: bool,
    key: &'a str,
    kind: Option<&'static str>,
    index: Option<u64>,
    entry: Option<EntryDoc<'a>>,
    old: Option<OldDoc>,
    checkpoint: Option<TreeDoc<'a>>,
    failures: &'a [ProofFailure],
}

#[derive(Serialize)]
struct EntryDoc<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    subject: Option<&'a str>,
    ts: &'a str,
    leaf: String,
}

#[derive(Serialize)]
struct OldDoc {
    size: u64,
    root: Option<String>,
}

#[derive(Serialize)]
struct TreeDoc<'a> {
    origin: &'a str,
    size: u64,
    root: String,
}

fn entry_doc(e: &ProvenEntry) -> EntryDoc<'_> {
    EntryDoc {
        kind: e.kind,
        subject: e.subject.as_deref(),
        ts: &e.ts,
        leaf: merkle::tag(&e.leaf),
    }
}

fn tree_doc(t: &SignedTree) -> TreeDoc<'_> {
    TreeDoc {
        origin: &t.origin,
        size: t.size,
        root: merkle::tag(&t.root),
    }
}

/// The verdict as one JSON document, with its newline.
pub fn json(report: &ProofReport) -> String {
    let (kind, index, entry, old) = match &report.claim {
        Some(Claim::Inclusion { index, entry }) => (
            Some("inclusion"),
            Some(*index),
            entry.as_ref().map(entry_doc),
            None,
        ),
        Some(Claim::Consistency { old, old_tree }) => (
            Some("consistency"),
            None,
            None,
            Some(OldDoc {
                size: *old,
                root: old_tree.as_ref().map(|t| merkle::tag(&t.root)),
            }),
        ),
        None => (None, None, None, None),
    };
    let doc = Doc {
        schema_version: PROOF_SCHEMA_VERSION,
        ok: report.ok(),
        key: &report.key,
        kind,
        index,
        entry,
        old,
        checkpoint: report.checkpoint.as_ref().map(tree_doc),
        failures: &report.failures,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
