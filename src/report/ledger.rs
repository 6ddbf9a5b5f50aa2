//! `ledger verify` and `ledger log` as text or as versioned JSON documents
//! (`docs/schemas/ledger-verify-v1.schema.json`,
//! `docs/schemas/ledger-log-v1.schema.json`): the verdict with its summary
//! and every failure, and the history one entry a row.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::ledger::entry::{Body, Entry, Tag};
use crate::ledger::verify::Failure;
use crate::ledger::{History, Logged, Report, merkle};

/// The version of the `ledger verify` document's shape.
pub const VERIFY_SCHEMA_VERSION: u32 = 1;

/// The version of the `ledger log` document's shape.
pub const LOG_SCHEMA_VERSION: u32 = 1;

/// Every failure, one line each, for the error stream.
pub fn verify_failures(report: &Report) -> String {
    let mut text = String::new();
    for f in &report.failures {
        let _ = writeln!(text, "failure[{}]: {}: {}", f.code, f.place, f.message);
    }
    text
}

/// `verified`, or how many checks failed.
pub(crate) fn verdict(failures: usize) -> String {
    match failures {
        0 => "verified".to_string(),
        1 => "1 failure".to_string(),
        n => format!("{n} failures"),
    }
}

/// The verdict on the ledger in `dir` and what it holds.
pub fn verify_summary(dir: &Path, report: &Report) -> String {
    let mut text = String::new();
    let verdict = verdict(report.failures.len());
    let _ = writeln!(text, "ledger `{}`: {verdict}", dir.display());
    let _ = writeln!(text, "  origin       {}", report.origin);
    let _ = writeln!(text, "  key          {}", report.key);
    let _ = writeln!(
        text,
        "  entries      {} (sealed {})",
        report.size, report.sealed
    );
    let root = report.root.as_ref().map(merkle::tag);
    let _ = writeln!(text, "  root         {}", root.unwrap_or_default());
    if let Some((a, b)) = &report.time_range {
        let _ = writeln!(text, "  time range   {a} .. {b}");
    }
    let types: Vec<String> = report
        .types
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    let _ = writeln!(text, "  by type      {}", types.join(", "));
    let sizes: Vec<String> = report
        .checkpoints
        .iter()
        .map(|c| {
            let size = c.size.map_or("unreadable".to_string(), |s| s.to_string());
            format!("{} ({size})", c.source)
        })
        .collect();
    let _ = writeln!(text, "  checkpoints  {}", sizes.join(", "));
    text
}

#[derive(Serialize)]
struct VerifyDoc<'a> {
    schema_version: u32,
    ok: bool,
    origin: &'a str,
    key: &'a str,
    size: u64,
    sealed: u64,
    root: Option<String>,
    time_range: Option<TimeRange<'a>>,
    entries: &'a std::collections::BTreeMap<&'static str, u64>,
    checkpoints: Vec<CheckpointDoc<'a>>,
    failures: &'a [Failure],
}

#[derive(Serialize)]
struct TimeRange<'a> {
    first: &'a str,
    last: &'a str,
}

#[derive(Serialize)]
struct CheckpointDoc<'a> {
    source: &'a str,
    size: Option<u64>,
}

/// The verdict as one JSON document, with its newline.
pub fn verify_json(report: &Report) -> String {
    let doc = VerifyDoc {
        schema_version: VERIFY_SCHEMA_VERSION,
        ok: report.ok(),
        origin: &report.origin,
        key: &report.key,
        size: report.size,
        sealed: report.sealed,
        root: report.root.as_ref().map(merkle::tag),
        time_range: report
            .time_range
            .as_ref()
            .map(|(first, last)| TimeRange { first, last }),
        entries: &report.types,
        checkpoints: report
            .checkpoints
            .iter()
            .map(|c| CheckpointDoc {
                source: &c.source,
                size: c.size,
            })
            .collect(),
        failures: &report.failures,
    };
    pretty(&doc)
}

/// The history as a table: sequence number, time, type and what the
/// entry says, evidence naming its decision by sequence number.
pub fn log_human(history: &History) -> String {
    let rows = history
        .entries
        .iter()
        .map(|Logged { entry, .. }| {
            vec![
                entry.envelope.seq.to_string(),
                entry.envelope.ts.as_str().to_string(),
                entry.body.kind().as_str().to_string(),
                log_line(entry, history),
            ]
        })
        .collect();
    let mut out = crate::report::human::table(rows, "");
    let unverified = history.unverified();
    if !unverified.is_empty() {
        let _ = writeln!(
            out,
            "\nstill unverified: {} no verification entry proves done",
            if unverified.len() == 1 {
                "1 decided revoke or reclaim that".to_string()
            } else {
                format!("{} decided revokes and reclaims that", unverified.len())
            }
        );
        let rows = unverified
            .into_iter()
            .map(|(seq, subject, actions)| vec![seq.to_string(), subject, actions.join(", ")])
            .collect();
        out.push_str(&crate::report::human::table(rows, "  "));
    }
    out
}

/// What one entry says, in a few words.
fn log_line(entry: &Entry, history: &History) -> String {
    let decision = |leaf: &Tag| match history.seq_of.get(leaf) {
        Some(seq) => format!("decision {seq}"),
        None => leaf.to_string(),
    };
    match &entry.body {
        Body::Genesis(g) => format!("log started; key {}", g.key),
        Body::Approvers(a) => format!("{} trusted approvers", a.approvers.len()),
        Body::Run(r) => format!(
            "plan as of {}: {} decisions, {} written; inventory {} policies {}",
            r.as_of.as_str(),
            r.decisions.count,
            r.decisions.written,
            r.inventory.digest,
            r.policies.digest
        ),
        Body::Decision(d) => {
            let d = &d.body;
            let verdict = if d.status == "absent" {
                "no longer in the inventory".to_string()
            } else if d.actions.is_empty() {
                "retain".to_string()
            } else {
                d.actions.join(", ")
            };
            let mut text = format!("{}: {verdict}", d.subject);
            if let Some(l) = &d.leaver {
                let _ = write!(text, " (leaver {l})");
            }
            if let Some(due) = &d.due {
                let _ = write!(text, " due {}", due.as_str());
            }
            text
        }
        Body::Approval(a) => format!(
            "{} approved by {}",
            decision(&a.decision),
            a.approver.split('+').next().unwrap_or_default()
        ),
        Body::Execution(e) => format!(
            "{}: {} request {} answered {}",
            decision(&e.decision),
            e.system,
            e.request_id,
            e.status
        ),
        Body::Verification(v) => {
            // In the order the line holds them: RFC 8785 sorts keys by
            // UTF-16 code units, not by the bytes a `BTreeMap` sorts by.
            let mut observed: Vec<(&String, &String)> = v.observed.iter().collect();
            observed.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            let observed: Vec<String> = observed.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{}: {} observed {}",
                decision(&v.decision),
                v.method,
                observed.join(" ")
            )
        }
        Body::Recovery(r) => format!(
            "recovered from an interrupted write ({}); discarded {} lines, {} bytes",
            r.found.join(", "),
            r.discarded_lines,
            r.discarded_bytes
        ),
    }
}

#[derive(Serialize)]
struct LogDoc<'a> {
    schema_version: u32,
    entries: &'a [Logged],
}

/// The history as one JSON document, with its newline: every entry as its
/// line says it, with the leaf hash by which later entries name it.
pub fn log_json(history: &History) -> String {
    pretty(&LogDoc {
        schema_version: LOG_SCHEMA_VERSION,
        entries: &history.entries,
    })
}

/// Pretty JSON and a newline.
pub(crate) fn pretty(doc: &impl Serialize) -> String {
    // INVARIANT: the documents hold strings, integers, booleans, null,
    // arrays and maps with string keys; writing them to memory cannot fail.
    let mut text = serde_json::to_string_pretty(doc)
        .unwrap_or_else(|e| unreachable!("JSON of a ledger report: {e}"));
    text.push('\n');
    text
}
