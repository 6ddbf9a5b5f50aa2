//! What `severance check` reports, in one value every format renders: the
//! findings (waived ones included and marked), the waivers, the decision
//! diff against a base, and the verdict. Each output format is a function
//! of this value alone, so the formats cannot disagree.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::check::{Checked, Finding, Gate, Verdict, WaiverUse};
use crate::diag::Severity;
use crate::diff::DecisionDiff;
use crate::model::format_time;
use crate::validate::PolicyPack;

/// The version of the JSON check report (`docs/schemas/check-v3.schema.json`).
pub const SCHEMA_VERSION: u32 = 3;

/// Which tree of files a side of the comparison was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// What the user named (`main`, `HEAD~1`), or `working tree`.
    pub label: String,
    /// The commit it resolved to, when read from git.
    pub commit: Option<String>,
}

impl Revision {
    /// The working tree.
    pub fn working_tree() -> Revision {
        Revision {
            label: "working tree".into(),
            commit: None,
        }
    }

    /// `main (1a2b3c4d)` or `working tree`.
    pub fn describe(&self) -> String {
        match &self.commit {
            Some(c) => format!("{} ({})", self.label, &c[..c.len().min(12)]),
            None => self.label.clone(),
        }
    }
}

/// A check rule as reports describe it (SARIF rule metadata, docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The code (`@id` of the rule, or a diagnostic code).
    pub code: String,
    /// One line.
    pub description: String,
    /// The rule's severity (diagnostic codes: their usual one).
    pub severity: Severity,
    /// Controls it serves.
    pub controls: Vec<String>,
    /// What resolves a finding of it, in a sentence or two.
    pub fix: String,
    /// The field a check rule points at, when it names one.
    pub field: Option<String>,
    /// Where a check rule is defined: its file as shown, and its line.
    pub defined_at: Option<(String, u32)>,
}

/// How a check rule's finding is resolved: the record changes, or a
/// reviewed waiver accepts it.
const RULE_FIX: &str = "change the record so that the rule no longer matches it, or accept the finding with a waiver in `waivers.yaml` that names the rule and the record, with a justification, an owner, an approver, a ticket and an expiry";

/// Counts over the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Unwaived findings by severity.
    pub error: usize,
    /// Unwaived warnings.
    pub warning: usize,
    /// Unwaived notes.
    pub note: usize,
    /// Waived findings.
    pub waived: usize,
    /// Findings the change introduced (with a base).
    pub new: usize,
}

/// Everything a check report shows.
pub struct CheckReport<'a> {
    /// The run's instant.
    pub as_of: Timestamp,
    /// What was checked.
    pub head: Revision,
    /// What it was compared with.
    pub base: Option<Revision>,
    /// What fails the check.
    pub gate: Gate,
    /// Findings and waivers.
    pub checked: &'a Checked,
    /// Unwaived findings the base had and the head no longer has.
    pub resolved: &'a [Finding],
    /// The decision diff against the base, when there is one.
    pub diff: Option<&'a DecisionDiff>,
    /// Every rule and finding code the report can mention, by code.
    pub rules: BTreeMap<String, RuleInfo>,
    /// How many records were checked.
    pub records: usize,
    /// The inventory directory as shown in places (for findings that have
    /// no place of their own, formats that need one use it).
    pub inventory_dir: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Where the run was and the work tree it was in, so that formats read
    /// by other tools (SARIF, GitHub annotations) can give paths relative
    /// to the repository rather than to the working directory.
    pub repo: Option<RepoPaths>,
}

/// The working directory and the top of its git work tree, both canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPaths {
    /// The process's working directory.
    pub cwd: std::path::PathBuf,
    /// The top of the work tree.
    pub top: std::path::PathBuf,
}

impl RepoPaths {
    /// A shown path (relative to `cwd`, or absolute) relative to `top`, with
    /// forward slashes; unchanged when it is outside the work tree.
    pub fn relative(&self, shown: &str) -> String {
        use std::path::Component;
        let joined = self.cwd.join(shown);
        let mut normal = std::path::PathBuf::new();
        for c in joined.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    normal.pop();
                }
                other => normal.push(other),
            }
        }
        match normal.strip_prefix(&self.top) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().replace('\\', "/"),
            _ => shown.to_string(),
        }
    }
}

impl CheckReport<'_> {
    /// The findings.
    pub fn findings(&self) -> &[Finding] {
        &self.checked.findings
    }

    /// The waivers.
    pub fn waivers(&self) -> &[WaiverUse] {
        &self.checked.waivers
    }

    /// A shown path as tools that resolve paths against the repository
    /// want it.
    pub fn tool_path(&self, shown: &str) -> String {
        self.repo
            .as_ref()
            .map_or_else(|| shown.to_string(), |r| r.relative(shown))
    }

    /// Whether a finding fails this check.
    pub fn fails(&self, f: &Finding) -> bool {
        self.gate.blocks(f)
    }

    /// Counts over the findings.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in self.findings() {
            if f.new == Some(true) {
                c.new += 1;
            }
            if f.waived_by.is_some() {
                c.waived += 1;
                continue;
            }
            match f.diagnostic.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Note => c.note += 1,
            }
        }
        c
    }

    /// One line: the verdict and the counts.
    pub fn summary_line(&self) -> String {
        let c = self.counts();
        let verdict = match self.verdict {
            Verdict::Pass => "check passed",
            Verdict::Fail => "check failed",
            Verdict::CouldNotEvaluate => "check could not evaluate the input",
        };
        let mut s = format!(
            "{verdict}: {} error{}, {} warning{}, {} note{}, {} waived",
            c.error,
            plural(c.error),
            c.warning,
            plural(c.warning),
            c.note,
            plural(c.note),
            c.waived
        );
        if self.base.is_some() {
            s.push_str(&format!(
                ", {} new, {} resolved",
                c.new,
                self.resolved.len()
            ));
        }
        let records = if self.verdict == Verdict::CouldNotEvaluate && self.records == 0 {
            "input not valid".to_string()
        } else {
            format!("{} records", self.records)
        };
        s.push_str(&format!(
            " ({records}, fail on {}{}, as of {})",
            self.gate.fail_on.as_str(),
            if self.gate.only_new { " when new" } else { "" },
            format_time(self.as_of)
        ));
        if let Some(diff) = self.diff {
            s.push_str(&format!(
                "; {} decision{} changed",
                diff.changes.len(),
                plural(diff.changes.len())
            ));
        }
        s
    }
}

/// Rule metadata for every check rule of the pack and every diagnostic code.
pub fn rules(pack: Option<&PolicyPack>) -> BTreeMap<String, RuleInfo> {
    let mut out = BTreeMap::new();
    for code in crate::diag::Code::ALL {
        let severity = code.usual_severity();
        out.insert(
            code.as_str().to_string(),
            RuleInfo {
                code: code.as_str().to_string(),
                description: code.description().to_string(),
                severity,
                controls: Vec::new(),
                fix: code.fix().to_string(),
                field: None,
                defined_at: None,
            },
        );
    }
    for code in crate::reconcile::DiscrepancyCode::ALL {
        out.insert(
            code.as_str().to_string(),
            RuleInfo {
                code: code.as_str().to_string(),
                description: code.description().to_string(),
                severity: code.severity(),
                controls: Vec::new(),
                fix: code.fix().to_string(),
                field: None,
                defined_at: None,
            },
        );
    }
    for info in pack.iter().flat_map(|p| p.info.values()) {
        if let Some(rule) = &info.rule {
            out.insert(
                info.id.clone(),
                RuleInfo {
                    code: info.id.clone(),
                    description: info.description.clone(),
                    severity: rule.severity,
                    controls: info.controls.clone(),
                    fix: RULE_FIX.to_string(),
                    field: rule.field.clone(),
                    defined_at: Some((info.span.file.path.clone(), info.span.line)),
                },
            );
        }
    }
    out
}

/// `s` unless one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Where a finding is, as `path:line:col`, or the path alone, or `-`.
pub fn place(f: &Finding) -> String {
    match &f.diagnostic.span {
        Some(s) => super::place_text(s),
        None => "-".into(),
    }
}

/// One finding rendered like rustc, marked when waived or new.
pub fn render_one(f: &Finding) -> String {
    let mut footer = Vec::new();
    if !f.controls.is_empty() {
        footer.push(format!("controls: {}", f.controls.join(", ")));
    }
    if let Some(w) = &f.waived_by {
        footer.push(format!("waived by `{w}`"));
    }
    if f.new == Some(true) {
        footer.push("new in this change".into());
    }
    let code = if f.waived_by.is_some() {
        format!("{} (waived)", f.code())
    } else {
        f.code().to_string()
    };
    crate::report::render_finding(&crate::report::Rendered::of(&f.diagnostic, &code, &footer))
}

/// The check report for a terminal: every finding rendered like rustc
/// (waived and new ones marked), the decision diff when there is a base,
/// then the summary line.
pub fn human(report: &CheckReport<'_>) -> String {
    let mut out = String::new();
    for f in report.findings() {
        out.push_str(&render_one(f));
        out.push_str("\n\n");
    }
    if let (Some(diff), Some(base)) = (report.diff, &report.base) {
        out.push_str(&crate::report::diff::human(
            &crate::report::diff::DiffReport {
                as_of: report.as_of,
                base: base.clone(),
                head: report.head.clone(),
                diff,
            },
        ));
        out.push('\n');
    }
    out.push_str(&report.summary_line());
    out.push('\n');
    out
}

#[derive(serde::Serialize)]
struct Doc<'a> {
    schema_version: u32,
    as_of: String,
    head: crate::report::diff::RevisionDoc<'a>,
    base: Option<crate::report::diff::RevisionDoc<'a>>,
    fail_on: &'static str,
    only_new: bool,
    verdict: &'static str,
    summary: SummaryDoc,
    findings: Vec<FindingDoc<'a>>,
    resolved: Vec<FindingDoc<'a>>,
    waivers: Vec<WaiverDoc<'a>>,
    diff: Option<crate::report::diff::DiffDoc>,
}

#[derive(serde::Serialize)]
struct SummaryDoc {
    records: usize,
    error: usize,
    warning: usize,
    note: usize,
    waived: usize,
    new: Option<usize>,
    resolved: Option<usize>,
}

#[derive(serde::Serialize)]
struct PlaceDoc<'a> {
    path: &'a str,
    line: u32,
    col: u32,
}

#[derive(serde::Serialize)]
struct FindingDoc<'a> {
    code: &'a str,
    severity: &'static str,
    origin: &'static str,
    message: &'a str,
    subject: Option<&'a str>,
    kind: Option<&'static str>,
    field: Option<&'a str>,
    place: Option<PlaceDoc<'a>>,
    record_place: Option<PlaceDoc<'a>>,
    controls: &'a [String],
    policies: &'a [String],
    fingerprint: String,
    waived_by: Option<&'a str>,
    new: Option<bool>,
    blocking: bool,
}

#[derive(serde::Serialize)]
struct WaiverDoc<'a> {
    id: &'a str,
    finding: Option<&'a str>,
    policy: Option<&'a str>,
    records: Vec<&'a str>,
    justification: &'a str,
    owner: &'a str,
    approver: &'a str,
    ticket: &'a str,
    expires: String,
    expired: bool,
    waived: usize,
    change: Option<&'static str>,
    place: PlaceDoc<'a>,
}

fn place_doc(span: &crate::diag::Span) -> PlaceDoc<'_> {
    PlaceDoc {
        path: &span.file.path,
        line: span.line,
        col: span.col,
    }
}

fn finding_doc<'a>(report: &CheckReport<'_>, f: &'a Finding) -> FindingDoc<'a> {
    FindingDoc {
        code: f.code(),
        severity: f.diagnostic.severity.as_str(),
        origin: f.origin.as_str(),
        message: &f.diagnostic.message,
        subject: f.subject.as_deref(),
        kind: f.kind.map(crate::model::Kind::as_str),
        field: f.field.as_deref(),
        place: f.diagnostic.span.as_ref().map(place_doc),
        record_place: f.record_span.as_ref().map(place_doc),
        controls: &f.controls,
        policies: &f.policies,
        fingerprint: f.fingerprint(),
        waived_by: f.waived_by.as_deref(),
        new: f.new,
        blocking: report.fails(f),
    }
}

/// The check report as one versioned JSON document
/// (`docs/schemas/check-v3.schema.json`).
pub fn json(report: &CheckReport<'_>) -> String {
    let c = report.counts();
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        as_of: format_time(report.as_of),
        head: crate::report::diff::RevisionDoc::of(&report.head),
        base: report
            .base
            .as_ref()
            .map(crate::report::diff::RevisionDoc::of),
        fail_on: report.gate.fail_on.as_str(),
        only_new: report.gate.only_new,
        verdict: report.verdict.as_str(),
        summary: SummaryDoc {
            records: report.records,
            error: c.error,
            warning: c.warning,
            note: c.note,
            waived: c.waived,
            new: report.base.as_ref().map(|_| c.new),
            resolved: report.base.as_ref().map(|_| report.resolved.len()),
        },
        findings: report
            .findings()
            .iter()
            .map(|f| finding_doc(report, f))
            .collect(),
        resolved: report
            .resolved
            .iter()
            .map(|f| FindingDoc {
                blocking: false,
                ..finding_doc(report, f)
            })
            .collect(),
        waivers: report
            .waivers()
            .iter()
            .map(|w| WaiverDoc {
                id: &w.waiver.id,
                finding: w.waiver.finding.as_deref(),
                policy: w.waiver.policy.as_deref(),
                records: w.waiver.records.iter().map(|(id, _)| id.as_str()).collect(),
                justification: &w.waiver.justification,
                owner: &w.waiver.owner,
                approver: &w.waiver.approver,
                ticket: &w.waiver.ticket,
                expires: format_time(w.waiver.expires),
                expired: w.expired,
                waived: w.waived,
                change: w.change.map(crate::diff::Change::as_str),
                place: place_doc(&w.waiver.span),
            })
            .collect(),
        diff: report.diff.map(crate::report::diff::body),
    };
    // INVARIANT: the document holds only strings, numbers, booleans and
    // maps with string keys, which always serialize.
    let text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| unreachable!("check document serializes: {e}"));
    format!("{text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_metadata_gives_warnings_their_usual_severity() {
        let rules = rules(None);
        assert_eq!(rules["base-invalid"].severity, Severity::Warning);
        assert_eq!(rules["waiver-unmatched"].severity, Severity::Warning);
        assert_eq!(rules["waiver-expired"].severity, Severity::Error);
    }

    #[test]
    fn paths_are_made_relative_to_the_work_tree() {
        let repo = RepoPaths {
            cwd: "/repo/inventory".into(),
            top: "/repo".into(),
        };
        assert_eq!(repo.relative("nhi/a.yaml"), "inventory/nhi/a.yaml");
        assert_eq!(repo.relative("../policies/x.cedar"), "policies/x.cedar");
        assert_eq!(repo.relative("/repo/inventory/b.yaml"), "inventory/b.yaml");
        assert_eq!(repo.relative("/elsewhere/c.yaml"), "/elsewhere/c.yaml");
        assert_eq!(repo.relative("../../outside.yaml"), "../../outside.yaml");
    }
}
