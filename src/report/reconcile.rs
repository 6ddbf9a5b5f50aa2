//! `severance reconcile`'s report: per system of record, what it reported
//! and how it joined, and the discrepancies grouped by code, for a person
//! (text), a pull request (Markdown) or a program (JSON, schema
//! `docs/schemas/reconcile-v1.schema.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use super::markdown::cell;
use super::{capitalised, place_text};
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

/// A place in a file, as the JSON report gives it.
#[derive(Serialize)]
struct Place<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

impl<'a> Place<'a> {
    fn of(span: &'a Span) -> Place<'a> {
        Place {
            file: &span.file.path,
            line: span.line,
            column: span.col,
            label: None,
        }
    }
}

/// Counts by name, in the order given (kinds and codes in their own order,
/// not alphabetical).
struct Counted<'a>(Vec<(&'a str, usize)>);

impl Serialize for Counted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, n)| (*k, *n)))
    }
}

#[derive(Serialize)]
struct ThresholdsDoc {
    dormant_days: i64,
    stale_credential_days: i64,
    credential_lifetime_days: i64,
    checkin_days: i64,
    source_age_hours: i64,
}

#[derive(Serialize)]
struct SourceDoc<'a> {
    system: &'a str,
    records: Counted<'a>,
    strong: usize,
    weak: usize,
    unmatched: usize,
    conflicting: usize,
    missing: usize,
    oldest_observed_at: Option<String>,
    newest_observed_at: Option<String>,
    age_hours: Option<i64>,
    stale: bool,
    complete: Option<bool>,
    discrepancies: Counted<'a>,
}

#[derive(Serialize)]
struct CountsDoc<'a> {
    total: usize,
    proven: usize,
    suspected: usize,
    by_code: Counted<'a>,
}

#[derive(Serialize)]
struct ObservationDoc<'a> {
    system: &'a str,
    record_id: Option<&'a str>,
    export: Option<&'a str>,
    export_file: Option<&'a str>,
    observed_at: Option<String>,
    place: Place<'a>,
}

#[derive(Serialize)]
struct DiscrepancyDoc<'a> {
    code: &'a str,
    family: &'a str,
    severity: &'a str,
    basis: &'a str,
    subject: &'a str,
    kind: &'a str,
    field: Option<&'a str>,
    message: &'a str,
    place: Place<'a>,
    evidence: Vec<Place<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspected_because: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observation: Option<ObservationDoc<'a>>,
}

/// Every discrepancy, each made into its document only as it is written:
/// half a million discrepancies are not to be held twice.
struct Discrepancies<'r, 'a>(&'r ReconcileReport<'a>);

impl Serialize for Discrepancies<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        s.collect_seq(
            report
                .reconciliation
                .discrepancies
                .iter()
                .map(|d| DiscrepancyEntry {
                    d,
                    record: &report.inventory.records[d.record],
                    place: report.place(d),
                }),
        )
    }
}

/// One discrepancy with the place it is written at, which is computed.
struct DiscrepancyEntry<'a> {
    d: &'a Discrepancy,
    record: &'a crate::model::Record,
    place: Span,
}

impl Serialize for DiscrepancyEntry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.d;
        DiscrepancyDoc {
            code: d.code.as_str(),
            family: d.code.family().as_str(),
            severity: d.severity().as_str(),
            basis: d.basis.as_str(),
            subject: &self.record.id,
            kind: self.record.kind.as_str(),
            field: d.field,
            message: &d.message,
            place: Place::of(&self.place),
            evidence: d
                .evidence
                .iter()
                .map(|(span, label)| Place {
                    label: Some(label),
                    ..Place::of(span)
                })
                .collect(),
            suspected_because: d.basis.why_suspected(),
            observation: d.observation.as_ref().map(|o| ObservationDoc {
                system: &o.system,
                record_id: o.record_id.as_deref(),
                export: o.export.as_deref(),
                export_file: o.export_file.as_deref(),
                observed_at: o.observed_at.map(format_time),
                place: Place::of(&o.span),
            }),
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct IncompleteDoc<'a> {
    code: &'a str,
    source: &'a str,
    system: &'a str,
    dir: &'a str,
    evidence: Option<&'a str>,
    place: Place<'a>,
}

#[derive(Serialize)]
struct RemovalDoc<'a> {
    subject: &'a str,
    leaver: Option<&'a str>,
    decision_seq: u64,
    decided_at: &'a str,
    action: &'a str,
    observed: &'a std::collections::BTreeMap<String, String>,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_ledger: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    executed_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
}

#[derive(Serialize)]
struct Doc<'r, 'a> {
    schema_version: u32,
    as_of: String,
    inventory: &'a str,
    thresholds: ThresholdsDoc,
    sources: Vec<SourceDoc<'a>>,
    counts: CountsDoc<'a>,
    discrepancies: Discrepancies<'r, 'a>,
    incomplete: Vec<IncompleteDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removals: Option<Vec<RemovalDoc<'a>>>,
}

/// The report for programs, written to `out` as it is made.
pub fn json(report: &ReconcileReport<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let r = report.reconciliation;
    let t = &r.thresholds;
    let counted = |map: &BTreeMap<DiscrepancyCode, usize>| {
        Counted(map.iter().map(|(c, n)| (c.as_str(), *n)).collect())
    };
    let mut by_code: BTreeMap<DiscrepancyCode, usize> = BTreeMap::new();
    for d in &r.discrepancies {
        *by_code.entry(d.code).or_insert(0) += 1;
    }
    let proven = report.proven();
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        as_of: format_time(report.as_of),
        inventory: report.inventory_dir,
        thresholds: ThresholdsDoc {
            dormant_days: t.dormant.as_hours() / 24,
            stale_credential_days: t.stale_credential.as_hours() / 24,
            credential_lifetime_days: t.credential_lifetime.as_hours() / 24,
            checkin_days: t.checkin.as_hours() / 24,
            source_age_hours: t.source_age.as_hours(),
        },
        sources: r
            .sources
            .iter()
            .map(|s| SourceDoc {
                system: &s.system,
                records: Counted(s.records.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
                strong: s.strong,
                weak: s.weak,
                unmatched: s.unmatched,
                conflicting: s.conflicting,
                missing: s.missing,
                oldest_observed_at: s.oldest.map(format_time),
                newest_observed_at: s.newest.map(format_time),
                age_hours: s.newest.map(|n| report.as_of.duration_since(n).as_hours()),
                stale: s.stale,
                complete: s.complete,
                discrepancies: counted(&s.discrepancies),
            })
            .collect(),
        counts: CountsDoc {
            total: r.discrepancies.len(),
            proven,
            suspected: r.discrepancies.len() - proven,
            by_code: counted(&by_code),
        },
        discrepancies: Discrepancies(report),
        incomplete: r
            .incomplete
            .iter()
            .map(|s| IncompleteDoc {
                code: DiscrepancyCode::IncompleteSnapshot.as_str(),
                source: &s.source,
                system: &s.system,
                dir: &s.dir,
                evidence: s.completeness.as_deref(),
                place: Place::of(&s.span),
            })
            .collect(),
        removals: report.removals.map(|list| {
            list.iter()
                .map(|r| {
                    let mut doc = RemovalDoc {
                        subject: &r.subject,
                        leaver: r.leaver.as_deref(),
                        decision_seq: r.decision_seq,
                        decided_at: &r.decided_at,
                        action: &r.action,
                        observed: &r.observed,
                        state: "",
                        in_ledger: None,
                        executed_at: None,
                        seen_at: None,
                        why: None,
                    };
                    match &r.state {
                        State::Verified { recorded } => {
                            doc.state = "verified";
                            doc.in_ledger = Some(*recorded || report.recorded);
                        }
                        State::Drift {
                            executed_at,
                            seen_at,
                        } => {
                            doc.state = "drift";
                            doc.executed_at = Some(executed_at);
                            doc.seen_at = Some(seen_at);
                        }
                        State::Unverified { why } => {
                            doc.state = "unverified";
                            doc.why = Some(why);
                        }
                    }
                    doc
                })
                .collect()
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    writeln!(out)
}
