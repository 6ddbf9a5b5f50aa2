//! The decision diff for people (a terminal) and for programs (versioned
//! JSON, `docs/schemas/diff-v2.schema.json`). The Markdown form, for pull
//! request comments, is in [`crate::report::markdown`].

use jiff::Timestamp;
use serde::Serialize;

use crate::diff::{Cause, Changed, DecisionDiff, Outcome};
use crate::model::format_time;
use crate::report::check::{Revision, plural};

/// The version of the JSON diff document.
pub const SCHEMA_VERSION: u32 = 2;

/// A diff and what it compares.
pub struct DiffReport<'a> {
    /// The run's instant (both sides are decided at it).
    pub as_of: Timestamp,
    /// The base.
    pub base: Revision,
    /// The head.
    pub head: Revision,
    /// The diff.
    pub diff: &'a DecisionDiff,
}

/// `retain → revoke` for a change, with `(new record)` and `(removed)`.
pub fn transition(c: &Changed) -> (String, String) {
    let show = |o: &Option<Outcome>, missing: &str| {
        o.as_ref()
            .map_or_else(|| missing.to_string(), Outcome::describe)
    };
    (show(&c.before, "(new record)"), show(&c.after, "(removed)"))
}

/// A cause in one line: `` `person/a` edited at inventory/people.yaml:3:3 ``.
pub fn cause_line(cause: &Cause) -> String {
    match cause {
        Cause::Record { id, change, span } => {
            format!("record `{id}` {} at {span}", change.as_str())
        }
        Cause::Policy { id, change, span } => {
            format!("policy `{id}` {} at {span}", change.as_str())
        }
    }
}

/// Counts of changed records and policies, in words.
pub fn scope_line(diff: &DecisionDiff) -> String {
    let records: Vec<String> = diff
        .records
        .iter()
        .map(|(how, n)| format!("{n} {how}"))
        .collect();
    let mut policies = std::collections::BTreeMap::new();
    for p in &diff.policies {
        *policies.entry(p.change.as_str()).or_insert(0usize) += 1;
    }
    let policies: Vec<String> = policies
        .iter()
        .map(|(how, n)| format!("{n} {how}"))
        .collect();
    let or_none = |v: Vec<String>| {
        if v.is_empty() {
            "none changed".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut s = format!(
        "records: {}; policies: {}",
        or_none(records),
        or_none(policies)
    );
    if diff.schema_changed {
        s.push_str("; the Cedar schema changed");
    }
    s
}

/// The diff for a terminal.
pub fn human(report: &DiffReport<'_>) -> String {
    let diff = report.diff;
    let mut out = format!(
        "decision diff {} → {} as of {}\n{}\n",
        report.base.describe(),
        report.head.describe(),
        format_time(report.as_of),
        scope_line(diff)
    );
    for p in &diff.policies {
        out.push_str(&format!(
            "policy `{}` {} at {}\n",
            p.id,
            p.change.as_str(),
            p.span
        ));
    }
    for c in &diff.changes {
        let (before, after) = transition(c);
        out.push_str(&format!(
            "\n{} ({}, {})\n  {before} → {after}\n",
            c.subject, c.kind, c.span
        ));
        if c.causes.is_empty() {
            out.push_str(
                "  because: no attributable cause (a change more than two links away, or the schema)\n",
            );
        }
        for cause in &c.causes {
            out.push_str(&format!("  because: {}\n", cause_line(cause)));
        }
    }
    out.push_str(&format!(
        "\n{} decision{} changed\n",
        diff.changes.len(),
        plural(diff.changes.len())
    ));
    out
}

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    as_of: String,
    base: RevisionDoc<'a>,
    head: RevisionDoc<'a>,
    #[serde(flatten)]
    body: DiffDoc,
}

/// A revision in JSON.
#[derive(Serialize)]
pub struct RevisionDoc<'a> {
    label: &'a str,
    commit: Option<&'a str>,
}

impl<'a> RevisionDoc<'a> {
    /// Borrows a revision.
    pub fn of(r: &'a Revision) -> Self {
        RevisionDoc {
            label: &r.label,
            commit: r.commit.as_deref(),
        }
    }
}

/// The diff's body in JSON, shared with the check report.
#[derive(Serialize)]
pub struct DiffDoc {
    summary: SummaryDoc,
    changes: Vec<ChangeDoc>,
    policies: Vec<PolicyDoc>,
}

#[derive(Serialize)]
struct SummaryDoc {
    changed: usize,
    records: std::collections::BTreeMap<&'static str, usize>,
    policies: usize,
    schema_changed: bool,
}

#[derive(Serialize)]
struct OutcomeDoc {
    status: &'static str,
    actions: Vec<String>,
    blocked: Vec<String>,
    constraints: Vec<String>,
    due: Option<String>,
}

#[derive(Serialize)]
struct ChangeDoc {
    subject: String,
    kind: &'static str,
    place: String,
    before: Option<OutcomeDoc>,
    after: Option<OutcomeDoc>,
    causes: Vec<CauseDoc>,
}

#[derive(Serialize)]
struct CauseDoc {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    change: &'static str,
    place: String,
}

#[derive(Serialize)]
struct PolicyDoc {
    id: String,
    change: &'static str,
    place: String,
}

/// The diff's body as a serializable value.
pub fn body(diff: &DecisionDiff) -> DiffDoc {
    let outcome = |o: &Outcome| OutcomeDoc {
        status: o.status.as_str(),
        actions: o.actions.clone(),
        blocked: o.blocked.clone(),
        constraints: o.constraints.clone(),
        due: o.due.map(format_time),
    };
    DiffDoc {
        summary: SummaryDoc {
            changed: diff.changes.len(),
            records: diff.records.clone(),
            policies: diff.policies.len(),
            schema_changed: diff.schema_changed,
        },
        changes: diff
            .changes
            .iter()
            .map(|c| ChangeDoc {
                subject: c.subject.clone(),
                kind: c.kind.as_str(),
                place: c.span.to_string(),
                before: c.before.as_ref().map(outcome),
                after: c.after.as_ref().map(outcome),
                causes: c
                    .causes
                    .iter()
                    .map(|cause| match cause {
                        Cause::Record { id, change, span } => CauseDoc {
                            kind: "record",
                            id: id.clone(),
                            change: change.as_str(),
                            place: span.to_string(),
                        },
                        Cause::Policy { id, change, span } => CauseDoc {
                            kind: "policy",
                            id: id.clone(),
                            change: change.as_str(),
                            place: span.to_string(),
                        },
                    })
                    .collect(),
            })
            .collect(),
        policies: diff
            .policies
            .iter()
            .map(|p| PolicyDoc {
                id: p.id.clone(),
                change: p.change.as_str(),
                place: p.span.to_string(),
            })
            .collect(),
    }
}

/// The diff as one JSON document.
pub fn json(report: &DiffReport<'_>) -> String {
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        as_of: format_time(report.as_of),
        base: RevisionDoc::of(&report.base),
        head: RevisionDoc::of(&report.head),
        body: body(report.diff),
    };
    // INVARIANT: the document holds only strings, numbers, booleans and
    // maps with string keys, which always serialize.
    let text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| unreachable!("diff document serializes: {e}"));
    format!("{text}\n")
}
