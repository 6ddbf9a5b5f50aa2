//! `severance reconcile`'s report: per system of record, what it reported
//! and how it joined, and the discrepancies grouped by code, for a person
//! (text), a pull request (Markdown) or a program (JSON, schema
//! `docs/schemas/reconcile-v1.schema.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::diag::Span;
use crate::model::format_time;
use crate::reconcile::removal::{Removal, State};
use crate::reconcile::{Discrepancy, DiscrepancyCode, Reconciliation, SourceSummary};
use crate::validate::Inventory;

/// The version of the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

/// What the report shows.
pub struct ReconcileReport<'a> {
    /// The validated inventory.
    pub inventory: &'a Inventory,
    /// What reconciliation found.
    pub reconciliation: &'a Reconciliation,
    /// The run's instant.
    pub as_of: Timestamp,
    /// The inventory directory, as the user named it.
    pub inventory_dir: &'a str,
    /// With a ledger: what the observations say of its decided actions.
    pub removals: Option<&'a [Removal]>,
    /// Whether new verifications were recorded in the ledger.
    pub recorded: bool,
}

impl ReconcileReport<'_> {
    /// The discrepancies of each code, in code order.
    fn by_code(&self) -> BTreeMap<DiscrepancyCode, Vec<&Discrepancy>> {
        let mut out: BTreeMap<DiscrepancyCode, Vec<&Discrepancy>> = BTreeMap::new();
        for d in &self.reconciliation.discrepancies {
            out.entry(d.code).or_default().push(d);
        }
        out
    }

    fn place(&self, d: &Discrepancy) -> Span {
        let record = &self.inventory.records[d.record];
        d.field
            .map_or_else(|| record.span.clone(), |f| record.field_span(f))
    }

    fn proven(&self) -> usize {
        self.reconciliation
            .discrepancies
            .iter()
            .filter(|d| d.basis.proven())
            .count()
    }
}

/// A removal's state in a word, and what it rests on.
fn state_text(r: &Removal, recorded: bool) -> (&'static str, String) {
    let seen = || {
        format!(
            "`{}` reports it {} at {}{}",
            r.observed.get("system").map_or("?", String::as_str),
            r.observed.get("status").map_or("?", String::as_str),
            r.observed.get("observed_at").map_or("?", String::as_str),
            r.observed
                .get("export")
                .map_or_else(String::new, |e| format!(" (export `{e}`)"))
        )
    };
    match &r.state {
        State::Verified { recorded: true } => {
            ("verified", format!("{}; already in the ledger", seen()))
        }
        State::Verified { recorded: false } => (
            "verified",
            format!(
                "{}; {}",
                seen(),
                if recorded {
                    "recorded now"
                } else {
                    "not yet recorded (pass `--key`)"
                }
            ),
        ),
        State::Drift {
            executed_at,
            seen_at,
        } => (
            "drift",
            format!(
                "executed at {executed_at}, yet `{}`'s import of {seen_at} still reports it {}",
                r.observed.get("system").map_or("?", String::as_str),
                r.observed.get("status").map_or("?", String::as_str),
            ),
        ),
        State::Unverified { why } => ("unverified", why.clone()),
    }
}

/// The removal section's rows: state, action, record, decision, what.
fn removal_rows(removals: &[Removal], recorded: bool) -> Vec<Vec<String>> {
    removals
        .iter()
        .map(|r| {
            let (state, what) = state_text(r, recorded);
            vec![
                state.to_string(),
                r.action.clone(),
                r.subject.clone(),
                format!("decision {}", r.decision_seq),
                what,
            ]
        })
        .collect()
}

fn removal_counts(removals: &[Removal]) -> (usize, usize, usize) {
    let verified = removals
        .iter()
        .filter(|r| matches!(r.state, State::Verified { .. }))
        .count();
    let drift = removals
        .iter()
        .filter(|r| matches!(r.state, State::Drift { .. }))
        .count();
    (verified, drift, removals.len() - verified - drift)
}

fn age(summary: &SourceSummary, as_of: Timestamp) -> String {
    match summary.newest {
        Some(newest) => {
            let hours = as_of.duration_since(newest).as_hours();
            if hours >= 48 {
                format!("{}d", hours / 24)
            } else {
                format!("{hours}h")
            }
        }
        None => "unknown".into(),
    }
}

fn complete_text(summary: &SourceSummary) -> &'static str {
    match summary.complete {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn records_line(summary: &SourceSummary) -> String {
    summary
        .records
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn place_text(span: &Span) -> String {
    format!("{}:{}:{}", span.file.path, span.line, span.col)
}

/// The report for a person.
pub fn human(report: &ReconcileReport<'_>) -> String {
    let r = report.reconciliation;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "reconciliation as of {}: inventory `{}` ({} records), {} systems of record",
        format_time(report.as_of),
        report.inventory_dir,
        report.inventory.records.len(),
        r.sources.len()
    );
    if r.sources.is_empty() {
        out.push_str("\nno record carries `sources`: nothing was imported, so there is nothing to reconcile\n");
        return out;
    }
    let mut rows = vec![vec![
        "system".to_string(),
        "records".into(),
        "strong".into(),
        "weak".into(),
        "unmatched".into(),
        "conflicting".into(),
        "missing".into(),
        "newest observation".into(),
        "age".into(),
        "complete".into(),
    ]];
    for s in &r.sources {
        rows.push(vec![
            s.system.clone(),
            records_line(s),
            s.strong.to_string(),
            s.weak.to_string(),
            s.unmatched.to_string(),
            s.conflicting.to_string(),
            s.missing.to_string(),
            s.newest.map_or_else(|| "unknown".into(), format_time),
            format!(
                "{}{}",
                age(s, report.as_of),
                if s.stale { " (stale)" } else { "" }
            ),
            complete_text(s).into(),
        ]);
    }
    out.push('\n');
    out.push_str(&super::human::table(rows, ""));
    for s in &r.incomplete {
        let _ = writeln!(
            out,
            "\nincomplete-snapshot: the `{}` import into `{}` is incomplete: {} ({})",
            s.source,
            s.dir,
            s.completeness
                .as_deref()
                .unwrap_or("its exports fall short"),
            place_text(&s.span)
        );
    }
    let total = r.discrepancies.len();
    let proven = report.proven();
    let _ = writeln!(
        out,
        "\n{total} discrepancies: {proven} proven, {} suspected (reviewed only)",
        total - proven
    );
    for (code, list) in report.by_code() {
        let _ = writeln!(out, "\n{code} ({}): {}", list.len(), code.description());
        let rows = list
            .iter()
            .map(|d| {
                vec![
                    d.severity().as_str().to_string(),
                    report.inventory.records[d.record].id.clone(),
                    place_text(&report.place(d)),
                    d.basis.as_str().to_string(),
                    d.message.clone(),
                ]
            })
            .collect();
        out.push_str(&super::human::table(rows, "  "));
    }
    if let Some(removals) = report.removals {
        let (verified, drift, unverified) = removal_counts(removals);
        let _ = writeln!(
            out,
            "\nremoval: {} decided revokes and reclaims: {verified} verified by an import, {drift} drifted, {unverified} unverified",
            removals.len()
        );
        out.push_str(&super::human::table(
            removal_rows(removals, report.recorded),
            "  ",
        ));
    }
    out
}

/// A description as the first words of a paragraph.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Makes text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The report for a pull request comment.
pub fn markdown(report: &ReconcileReport<'_>) -> String {
    let r = report.reconciliation;
    let mut out = String::new();
    let total = r.discrepancies.len();
    let proven = report.proven();
    let _ = writeln!(
        out,
        "## severance reconcile\n\nAs of {}: {} systems of record, **{total} discrepancies** ({proven} proven, {} suspected and reviewed only).\n",
        format_time(report.as_of),
        r.sources.len(),
        total - proven
    );
    if !r.sources.is_empty() {
        out.push_str("| system | records | strong | weak | unmatched | conflicting | missing | newest observation | age | complete |\n|---|---|--:|--:|--:|--:|--:|---|---|---|\n");
        for s in &r.sources {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} | {}{} | {} |",
                cell(&s.system),
                records_line(s),
                s.strong,
                s.weak,
                s.unmatched,
                s.conflicting,
                s.missing,
                s.newest.map_or_else(|| "unknown".into(), format_time),
                age(s, report.as_of),
                if s.stale { " (stale)" } else { "" },
                complete_text(s)
            );
        }
        out.push('\n');
    }
    for s in &r.incomplete {
        let _ = writeln!(
            out,
            "**`incomplete-snapshot`**: the `{}` import into `{}` is incomplete: {}.\n",
            cell(&s.source),
            cell(&s.dir),
            cell(
                s.completeness
                    .as_deref()
                    .unwrap_or("its exports fall short")
            )
        );
    }
    for (code, list) in report.by_code() {
        let _ = writeln!(
            out,
            "### `{code}` ({})\n\n{}\n\n| severity | record | place | basis | what |\n|---|---|---|---|---|",
            list.len(),
            capitalised(code.description())
        );
        for d in list {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                d.severity().as_str(),
                cell(&report.inventory.records[d.record].id),
                cell(&place_text(&report.place(d))),
                d.basis.as_str(),
                cell(&d.message)
            );
        }
        out.push('\n');
    }
    if let Some(removals) = report.removals {
        let (verified, drift, unverified) = removal_counts(removals);
        let _ = writeln!(
            out,
            "### Removal\n\n{} decided revokes and reclaims: {verified} verified by an import, {drift} drifted, {unverified} unverified.\n\n| state | action | record | decision | what |\n|---|---|---|--:|---|",
            removals.len()
        );
        for row in removal_rows(removals, report.recorded) {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                row[0],
                row[1],
                cell(&row[2]),
                cell(&row[3]),
                cell(&row[4])
            );
        }
        out.push('\n');
    }
    out
}

fn place_json(span: &Span) -> Value {
    json!({"file": span.file.path, "line": span.line, "column": span.col})
}

/// The report for programs.
pub fn json(report: &ReconcileReport<'_>) -> Value {
    let r = report.reconciliation;
    let t = &r.thresholds;
    let sources: Vec<Value> = r
        .sources
        .iter()
        .map(|s| {
            json!({
                "system": s.system,
                "records": s.records.iter().map(|(k, n)| (k.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "strong": s.strong,
                "weak": s.weak,
                "unmatched": s.unmatched,
                "conflicting": s.conflicting,
                "missing": s.missing,
                "oldest_observed_at": s.oldest.map(format_time),
                "newest_observed_at": s.newest.map(format_time),
                "age_hours": s.newest.map(|n| report.as_of.duration_since(n).as_hours()),
                "stale": s.stale,
                "complete": s.complete,
                "discrepancies": s.discrepancies.iter().map(|(c, n)| (c.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    let discrepancies: Vec<Value> = r
        .discrepancies
        .iter()
        .map(|d| {
            let record = &report.inventory.records[d.record];
            let mut v = json!({
                "code": d.code.as_str(),
                "family": d.code.family().as_str(),
                "severity": d.severity().as_str(),
                "basis": d.basis.as_str(),
                "subject": record.id,
                "kind": record.kind.as_str(),
                "field": d.field,
                "message": d.message,
                "place": place_json(&report.place(d)),
                "evidence": d.evidence.iter().map(|(span, label)| {
                    let mut p = place_json(span);
                    p["label"] = json!(label);
                    p
                }).collect::<Vec<_>>(),
            });
            if let Some(why) = d.basis.why_suspected() {
                v["suspected_because"] = json!(why);
            }
            if let Some(o) = &d.observation {
                v["observation"] = json!({
                    "system": o.system,
                    "record_id": o.record_id,
                    "export": o.export,
                    "export_file": o.export_file,
                    "observed_at": o.observed_at.map(format_time),
                    "place": place_json(&o.span),
                });
            }
            v
        })
        .collect();
    let mut by_code = serde_json::Map::new();
    for (code, list) in report.by_code() {
        by_code.insert(code.as_str().to_string(), json!(list.len()));
    }
    let proven = report.proven();
    let removals = report.removals.map(|list| {
        list.iter()
            .map(|r| {
                let mut v = json!({
                    "subject": r.subject,
                    "leaver": r.leaver,
                    "decision_seq": r.decision_seq,
                    "decided_at": r.decided_at,
                    "action": r.action,
                    "observed": r.observed,
                });
                match &r.state {
                    State::Verified { recorded } => {
                        v["state"] = json!("verified");
                        v["in_ledger"] = json!(*recorded || report.recorded);
                    }
                    State::Drift {
                        executed_at,
                        seen_at,
                    } => {
                        v["state"] = json!("drift");
                        v["executed_at"] = json!(executed_at);
                        v["seen_at"] = json!(seen_at);
                    }
                    State::Unverified { why } => {
                        v["state"] = json!("unverified");
                        v["why"] = json!(why);
                    }
                }
                v
            })
            .collect::<Vec<_>>()
    });
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "as_of": format_time(report.as_of),
        "inventory": report.inventory_dir,
        "thresholds": {
            "dormant_days": t.dormant.as_hours() / 24,
            "stale_credential_days": t.stale_credential.as_hours() / 24,
            "credential_lifetime_days": t.credential_lifetime.as_hours() / 24,
            "checkin_days": t.checkin.as_hours() / 24,
            "source_age_hours": t.source_age.as_hours(),
        },
        "sources": sources,
        "counts": {
            "total": r.discrepancies.len(),
            "proven": proven,
            "suspected": r.discrepancies.len() - proven,
            "by_code": by_code,
        },
        "discrepancies": discrepancies,
    });
    doc["incomplete"] = r
        .incomplete
        .iter()
        .map(|s| {
            json!({
                "code": DiscrepancyCode::IncompleteSnapshot.as_str(),
                "source": s.source,
                "system": s.system,
                "dir": s.dir,
                "evidence": s.completeness,
                "place": place_json(&s.span),
            })
        })
        .collect();
    if let Some(removals) = removals {
        doc["removals"] = json!(removals);
    }
    doc
}
