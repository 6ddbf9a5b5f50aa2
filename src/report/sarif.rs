//! SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure
//! DevOps, IDE viewers), so that a check's findings show up where security
//! teams already triage static-analysis results, with waivers as reviewed
//! suppressions rather than silently missing results.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use serde_sarif::sarif::{
    self, ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation,
    PropertyBag, Region, ReportingConfiguration, ReportingConfigurationLevel, ReportingDescriptor,
    ResultBaselineState, ResultColumnKind, ResultLevel, Run, Sarif, Suppression, SupressionKind,
    SupressionStatus, Tool, ToolComponent, Version,
};

use crate::check::Finding;
use crate::diag::{Severity, Span};
use crate::report::check::{CheckReport, RuleInfo};

/// The schema the output is written against (and tested with).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where people learn about the tool; rule help links are under it.
const INFORMATION_URI: &str = "https://github.com/severance/severance";

/// The key of our fingerprint in `partialFingerprints`; versioned so that a
/// future change of what is hashed does not match old results by accident.
const FINGERPRINT_KEY: &str = "severance/v1";

/// The base every relative artifact URI is resolved against: the checkout.
const SRCROOT: &str = "%SRCROOT%";

/// The most results one log carries unless told otherwise: what GitHub code
/// scanning keeps of a run (it rejects a run of over 25,000 outright).
pub const DEFAULT_MAX_RESULTS: usize = 5_000;

/// A SARIF log and the results it had no room for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The log.
    pub text: String,
    /// The findings left out by the cap, by kind; all zero when none were.
    pub left_out: LeftOut,
}

/// Findings a capped log left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Unwaived errors.
    pub error: usize,
    /// Unwaived warnings.
    pub warning: usize,
    /// Unwaived notes.
    pub note: usize,
    /// Waived findings of any severity.
    pub waived: usize,
}

impl LeftOut {
    /// How many in all.
    pub fn total(&self) -> usize {
        self.error + self.warning + self.note + self.waived
    }

    /// `3 errors, 40 warnings, 0 notes and 2 waived`.
    pub fn describe(&self) -> String {
        use crate::report::check::plural;
        format!(
            "{} error{}, {} warning{}, {} note{} and {} waived",
            self.error,
            plural(self.error),
            self.warning,
            plural(self.warning),
            self.note,
            plural(self.note),
            self.waived
        )
    }
}

/// Renders the check report as one SARIF 2.1.0 log with a single run,
/// with at most `max_results` results (`None`: all of them). What a capped
/// log keeps is what a reviewer needs first: unwaived findings before
/// waived ones, findings the change introduced before old ones, errors
/// before warnings before notes; the log says what it left out.
pub fn render(report: &CheckReport<'_>, max_results: Option<usize>) -> Rendered {
    let findings = report.findings();
    let kept = keep(report, max_results);
    let mut left_out = LeftOut::default();
    for (f, _) in findings.iter().zip(&kept).filter(|(_, k)| !**k) {
        match (f.waived_by.is_some(), f.diagnostic.severity) {
            (true, _) => left_out.waived += 1,
            (false, Severity::Error) => left_out.error += 1,
            (false, Severity::Warning) => left_out.warning += 1,
            (false, Severity::Note) => left_out.note += 1,
        }
    }
    let shown: Vec<&Finding> = findings
        .iter()
        .zip(&kept)
        .filter_map(|(f, k)| k.then_some(f))
        .collect();
    let (rules, index) = rules(report, &shown);
    let results = shown
        .iter()
        .map(|f| result(report, f, index.get(f.code()).copied()))
        .collect::<Vec<_>>();
    let driver = ToolComponent::builder()
        .name("severance")
        .full_name(concat!("severance ", env!("CARGO_PKG_VERSION")))
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .build();
    let mut invocation = serde_sarif::sarif::Invocation::builder()
        // A run that could not evaluate its input has no trustworthy
        // results; consumers must not read the absence of one as a pass.
        .execution_successful(report.verdict != crate::check::Verdict::CouldNotEvaluate)
        .build();
    if left_out.total() > 0 {
        // A dashboard that shows fewer alerts than there are must say so,
        // or a reader takes the silence for a clean inventory.
        invocation.tool_execution_notifications = Some(vec![
            sarif::Notification::builder()
                .level(Value::from(sarif::NotificationLevel::Warning.to_string()))
                .message(
                    Message::builder()
                        .text(left_out_message(&left_out, findings.len(), shown.len()))
                        .build(),
                )
                .build(),
        ]);
    }
    let run = Run::builder()
        .tool(Tool::from(driver))
        // Columns are counted in characters (`SourceFile::line_col`), not in
        // the UTF-16 code units SARIF assumes by default.
        .column_kind(Value::from(ResultColumnKind::UnicodeCodePoints.to_string()))
        .results(results)
        .invocations(vec![invocation])
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(Value::from(Version::V2_1_0.to_string()))
        .runs(vec![run])
        .build();
    // INVARIANT: every map key is a string and no float is NaN, so the log
    // always serialises.
    let mut text = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| unreachable!("a SARIF log always serialises: {e}"));
    text.push('\n');
    Rendered { text, left_out }
}

/// The notification of a capped log, also printed by `check`.
pub fn left_out_message(left_out: &LeftOut, total: usize, kept: usize) -> String {
    format!(
        "{} of {total} findings left out of the SARIF log ({}): it keeps {kept}, those that fail the check first, then unwaived, new and more severe ones; the JSON report lists them all",
        left_out.total(),
        left_out.describe()
    )
}

/// Which findings a log of at most `max` results keeps, in the order given:
/// those that fail the check first (whatever else is true of them), then
/// unwaived before waived, new before old, and by severity.
fn keep(report: &CheckReport<'_>, max: Option<usize>) -> Vec<bool> {
    let findings = report.findings();
    let Some(max) = max.filter(|m| *m < findings.len()) else {
        return vec![true; findings.len()];
    };
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // Stable: equal ranks keep the report's order (file, line, column).
    order.sort_by_key(|&i| {
        let f = &findings[i];
        (
            !report.fails(f),
            f.waived_by.is_some(),
            f.new != Some(true),
            f.diagnostic.severity,
        )
    });
    let mut kept = vec![false; findings.len()];
    for &i in order.iter().take(max) {
        kept[i] = true;
    }
    kept
}

/// The rules the shown findings use (known ones in code order, then any
/// code without metadata) and each code's index in them. The report knows
/// every diagnostic code; listing the unused ones would bury the few that
/// fired.
fn rules<'r>(
    report: &CheckReport<'_>,
    shown: &[&'r Finding],
) -> (Vec<ReportingDescriptor>, BTreeMap<&'r str, i64>) {
    let used: BTreeSet<&str> = shown.iter().map(|f| f.code()).collect();
    let mut infos: Vec<RuleInfo> = report
        .rules
        .values()
        .filter(|r| used.contains(r.code.as_str()))
        .cloned()
        .collect();
    // A code the report has no metadata for still needs a rule, or its
    // results would have no `ruleIndex` and viewers could not group them.
    for code in used.iter().filter(|c| !report.rules.contains_key(**c)) {
        if let Some(f) = shown.iter().find(|f| f.code() == *code) {
            infos.push(RuleInfo {
                code: f.code().to_string(),
                description: String::new(),
                severity: f.diagnostic.severity,
                controls: f.controls.clone(),
                fix: f.diagnostic.help.clone().unwrap_or_default(),
                field: f.field.clone(),
                defined_at: None,
            });
        }
    }
    let index = infos
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((*used.get(r.code.as_str())?, i as i64)))
        .collect();
    (infos.iter().map(|r| descriptor(report, r)).collect(), index)
}

/// A rule as code scanning shows it: a one-line description, a full one,
/// and help a person can act on without leaving the alert.
fn descriptor(report: &CheckReport<'_>, rule: &RuleInfo) -> ReportingDescriptor {
    let description = if rule.description.is_empty() {
        rule.code.clone()
    } else {
        rule.description.clone()
    };
    // The policy's place, relative to the repository like every result's,
    // so that the help reads the same on every machine.
    let defined_at = rule
        .defined_at
        .as_ref()
        .map(|(path, line)| format!("{}:{line}", report.tool_path(path)));
    let uri = help_uri(&rule.code);
    let (help_text, help_markdown) =
        help(rule, &description, defined_at.as_deref(), uri.as_deref());
    let mut d = ReportingDescriptor::builder()
        .id(rule.code.clone())
        .name(friendly_name(&rule.code))
        .short_description(
            MultiformatMessageString::builder()
                .text(first_sentence(&description))
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(sentence(&description))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(Value::from(configuration_level(rule.severity).to_string()))
                .build(),
        )
        .build();
    d.help_uri = uri;
    if !rule.controls.is_empty() {
        d.properties = Some(PropertyBag::builder().tags(rule.controls.clone()).build());
    }
    d
}

/// The help of a rule, as plain text and as Markdown.
fn help(
    rule: &RuleInfo,
    description: &str,
    defined_at: Option<&str>,
    uri: Option<&str>,
) -> (String, String) {
    let mut text = vec![sentence(description)];
    let mut markdown = vec![format!("**{}**: {}", rule.code, sentence(description))];
    let mut facts = vec![format!("Severity: {}.", rule.severity.as_str())];
    if !rule.controls.is_empty() {
        facts.push(format!("Controls: {}.", rule.controls.join(", ")));
    }
    if let Some(field) = &rule.field {
        facts.push(format!("Points at the field `{field}`."));
    }
    if let Some(at) = defined_at {
        facts.push(format!("Defined by the policy `{}` at `{at}`.", rule.code));
    }
    text.push(facts.join(" "));
    markdown.push(facts.join(" "));
    if !rule.fix.is_empty() {
        text.push(format!("To resolve: {}", sentence(&rule.fix)));
        markdown.push(format!("**To resolve:** {}", sentence(&rule.fix)));
    }
    if let Some(uri) = uri {
        text.push(format!("Documentation: {uri}"));
        markdown.push(format!("[Documentation]({uri})"));
    }
    (text.join("\n\n"), markdown.join("\n\n"))
}

/// A description as a sentence: capitalised, with a full stop.
fn sentence(s: &str) -> String {
    let mut out = super::capitalised(s.trim());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The first sentence of a description, for the one-line summary.
fn first_sentence(s: &str) -> String {
    let s = sentence(s);
    match s.find(". ").or_else(|| s.find("; ")) {
        Some(end) => format!("{}.", &s[..end]),
        None => s,
    }
}

/// `nhi-owner-missing` as `NhiOwnerMissing`, the form SARIF viewers show
/// as a rule's name.
fn friendly_name(code: &str) -> String {
    code.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(super::capitalised)
        .collect()
}

/// Where a code is documented, when it is: diagnostic codes and the
/// default pack's rules have a heading of their own; a rule of the
/// user's own pack has no page of ours to point at.
fn help_uri(code: &str) -> Option<String> {
    let page = if crate::diag::Code::ALL.iter().any(|c| c.as_str() == code) {
        "diagnostics"
    } else if crate::reconcile::DiscrepancyCode::parse(code).is_some() {
        "reconciliation"
    } else if documented_rule(code) {
        "checks"
    } else {
        return None;
    };
    // The docs of this release: a later one may word a code differently.
    Some(format!(
        "{INFORMATION_URI}/blob/v{}/docs/{page}.md#{code}",
        env!("CARGO_PKG_VERSION")
    ))
}

/// Whether `docs/checks.md` has a heading for the rule.
fn documented_rule(code: &str) -> bool {
    const CHECKS: &str = include_str!("../../docs/checks.md");
    CHECKS.lines().any(|l| l.strip_prefix("### ") == Some(code))
}

fn configuration_level(severity: Severity) -> ReportingConfigurationLevel {
    match severity {
        Severity::Error => ReportingConfigurationLevel::Error,
        Severity::Warning => ReportingConfigurationLevel::Warning,
        Severity::Note => ReportingConfigurationLevel::Note,
    }
}

fn result_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn result(report: &CheckReport<'_>, f: &Finding, rule_index: Option<i64>) -> sarif::Result {
    let mut properties = BTreeMap::new();
    if let Some(subject) = &f.subject {
        properties.insert("subject".to_string(), Value::from(subject.as_str()));
    }
    properties.insert("controls".to_string(), Value::from(f.controls.clone()));
    properties.insert("origin".to_string(), Value::from(f.origin.as_str()));
    properties.insert("policies".to_string(), Value::from(f.policies.clone()));
    if let Some(waiver) = &f.waived_by {
        properties.insert("waiver".to_string(), Value::from(waiver.as_str()));
    }
    let mut r = sarif::Result::builder()
        .rule_id(f.code().to_string())
        .level(result_level(f.diagnostic.severity))
        .message(
            Message::builder()
                .text(f.diagnostic.message.clone())
                .build(),
        )
        .locations(vec![location(report, f)])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            f.fingerprint(),
        )]))
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    r.rule_index = rule_index;
    if let Some(id) = &f.waived_by {
        // A waived finding stays a result, marked as an accepted exception,
        // so the dashboard shows the exception and its reason instead of
        // pretending the problem is gone.
        let mut s = Suppression::builder()
            .kind(Value::from(SupressionKind::External.to_string()))
            .status(Value::from(SupressionStatus::Accepted.to_string()))
            .build();
        s.justification = report
            .waivers()
            .iter()
            .find(|w| w.waiver.id == *id)
            .map(|w| w.waiver.justification.clone());
        r.suppressions = Some(vec![s]);
    }
    if report.base.is_some() {
        r.baseline_state = f.new.map(|new| {
            let state = if new {
                ResultBaselineState::New
            } else {
                ResultBaselineState::Unchanged
            };
            Value::from(state.to_string())
        });
    }
    r
}

/// Every result gets a physical location, because code scanning needs a
/// place to show it; a finding with no place of its own points at the
/// inventory directory.
fn location(report: &CheckReport<'_>, f: &Finding) -> Location {
    let physical = match &f.diagnostic.span {
        Some(span) => PhysicalLocation::builder()
            .artifact_location(artifact(&report.tool_path(&span.file.path)))
            .region(region(span))
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact(&directory(
                &report.tool_path(&report.inventory_dir),
            )))
            .build(),
    };
    Location::builder().physical_location(physical).build()
}

fn region(span: &Span) -> Region {
    let mut region = Region::builder()
        .start_line(i64::from(span.line))
        .start_column(i64::from(span.col))
        .build();
    // SARIF's end column is the character after the region, which is what
    // `line_col` gives for the end offset; an empty range is a point and
    // has no end.
    if !span.range.is_empty() {
        let (line, col) = span.file.line_col(span.range.end);
        region.end_line = Some(i64::from(line));
        region.end_column = Some(i64::from(col));
    }
    region
}

/// A directory's URI ends in `/`, so viewers do not look for a file.
fn directory(path: &str) -> String {
    if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    }
}

/// A path as a URI reference: relative paths resolve against the checkout
/// (`%SRCROOT%`) so the log is portable between machines; absolute paths
/// become `file:` URIs, since a base would not apply to them.
fn artifact(path: &str) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && bytes.get(2).is_none_or(|b| *b == b'/');
    if path.starts_with('/') || drive {
        let slash = if drive { "/" } else { "" };
        return ArtifactLocation::builder()
            .uri(format!("file://{slash}{}", encode(&path, true)))
            .build();
    }
    let mut relative = path.as_str();
    while let Some(rest) = relative.strip_prefix("./")
        && !rest.is_empty()
    {
        relative = rest;
    }
    ArtifactLocation::builder()
        .uri(encode(relative, false))
        .uri_base_id(SRCROOT)
        .build()
}

/// Percent-encodes everything but unreserved characters and `/`. A `:` in
/// a relative path would otherwise read as a URI scheme, and spaces are
/// not allowed in URIs at all. `drive` keeps the `:` of `C:`.
fn encode(path: &str, drive: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (drive && b == b':' && i == 1);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "sarif_schema.rs"]
mod sarif_schema;

#[cfg(test)]
pub(crate) mod tests {
    //! Also the sample report the other CI formats are tested with: they
    //! render the same value, so they share one.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::check::{Checked, FindingCode, Gate, Origin, Verdict, WaiverUse};
    use crate::diag::{Code, Diagnostic, SourceFile};
    use crate::model::Kind;
    use crate::report::check::Revision;
    use crate::validate::Waiver;

    fn span_of(file: &Arc<SourceFile>, needle: &str) -> Span {
        let start = file.text.find(needle).expect("needle in sample");
        Span::new(file, start..start + needle.len())
    }

    fn rule(code: &str, severity: Severity, controls: &[&str]) -> RuleInfo {
        RuleInfo {
            code: code.into(),
            description: format!("Rule {code}"),
            severity,
            controls: controls.iter().map(|c| c.to_string()).collect(),
            fix: "fix it".into(),
            field: None,
            defined_at: Some(("policies/x.cedar".into(), 1)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        code: &str,
        severity: Severity,
        origin: Origin,
        message: &str,
        subject: Option<(&str, Kind)>,
        span: Option<Span>,
        waived_by: Option<&str>,
        new: bool,
    ) -> Finding {
        // One of severance's own codes, or else a rule's.
        let own = Code::ALL.iter().find(|c| c.as_str() == code);
        let finding_code = own.map_or_else(
            || FindingCode::Rule(code.into()),
            |c| FindingCode::Diagnostic(*c),
        );
        let d = Diagnostic {
            span,
            ..Diagnostic::new(finding_code, severity, message)
        };
        Finding {
            subject: subject.map(|(s, _)| s.to_string()),
            kind: subject.map(|(_, k)| k),
            controls: if origin == Origin::Rule {
                vec!["NHI1".into(), "AC-2".into()]
            } else {
                Vec::new()
            },
            policies: if origin == Origin::Rule {
                vec![code.to_string()]
            } else {
                Vec::new()
            },
            waived_by: waived_by.map(str::to_string),
            new: Some(new),
            ..Finding::new(d, origin)
        }
    }

    /// Findings of every shape the formats must handle: rule errors,
    /// warnings and notes, one waived, an evaluation failure, a validation
    /// error with awkward characters at an empty range, and one with no
    /// place at all.
    pub(crate) fn sample_checked() -> Checked {
        let nhi = SourceFile::new(
            "inventory/nhi.yaml",
            "- id: nhi/a\n  kind: nhi\n  name: Zoë's bot\n- id: nhi/b\n  kind: nhi\n".to_string(),
        );
        let cred = SourceFile::new(
            "./inventory/creds, old.yaml",
            "- id: cred/x\n  kind: credential\n".to_string(),
        );
        let waivers = SourceFile::new(
            "inventory/waivers.yaml",
            "- id: waiver/b\n  records: [nhi/b]\n  expires: 2027-01-01T00:00:00Z\n".to_string(),
        );
        let broken = cred.text.find("kind").expect("kind");
        let mut findings = vec![
            finding(
                "nhi-owner-missing",
                Severity::Error,
                Origin::Rule,
                "`nhi/a`: has no owner",
                Some(("nhi/a", Kind::Nhi)),
                Some(span_of(&nhi, "name: Zoë's bot")),
                None,
                true,
            ),
            finding(
                "nhi-note",
                Severity::Note,
                Origin::Rule,
                "`nhi/a`: worth a look",
                Some(("nhi/a", Kind::Nhi)),
                Some(span_of(&nhi, "id: nhi/a")),
                None,
                false,
            ),
            finding(
                "nhi-unused",
                Severity::Warning,
                Origin::Rule,
                "`nhi/b`: unused for 90 days",
                Some(("nhi/b", Kind::Nhi)),
                Some(span_of(&nhi, "- id: nhi/b\n  kind: nhi\n")),
                Some("waiver/b"),
                false,
            ),
            finding(
                Code::EvaluationFailed.as_str(),
                Severity::Error,
                Origin::Evaluation,
                "check rule `cred-age` could not be evaluated on `cred/x`",
                Some(("cred/x", Kind::Credential)),
                Some(span_of(&cred, "- id: cred/x")),
                None,
                true,
            ),
            finding(
                Code::YamlSyntax.as_str(),
                Severity::Error,
                Origin::Validation,
                "100% broken: `a<b> & \"c\"`,\r\nsecond\u{7} line",
                None,
                Some(Span::new(&cred, broken..broken)),
                None,
                true,
            ),
            finding(
                Code::EmptyInventory.as_str(),
                Severity::Error,
                Origin::Validation,
                "no records were found under `inventory`",
                None,
                None,
                None,
                false,
            ),
        ];
        crate::check::sort(&mut findings);
        let waiver = Waiver {
            id: "waiver/b".into(),
            finding: Some("nhi-unused".into()),
            policy: None,
            records: vec![("nhi/b".into(), span_of(&waivers, "nhi/b"))],
            justification: "kept until the migration, see SEC-1".into(),
            owner: "person/E1".into(),
            approver: "person/E2".into(),
            ticket: "SEC-1".into(),
            expires: "2027-01-01T00:00:00Z".parse().expect("time"),
            expires_as_written: "2027-01-01T00:00:00Z".into(),
            span: span_of(&waivers, "- id: waiver/b"),
            expires_span: span_of(&waivers, "2027-01-01T00:00:00Z"),
        };
        Checked {
            findings,
            waivers: vec![WaiverUse {
                waiver,
                expired: false,
                waived: 1,
                change: None,
            }],
            could_not_evaluate: true,
        }
    }

    /// A report over [`sample_checked`], compared with a base.
    pub(crate) fn sample_report(checked: &Checked) -> CheckReport<'_> {
        let mut rules: BTreeMap<String, RuleInfo> = crate::report::check::rules(None);
        for r in [
            rule("nhi-owner-missing", Severity::Error, &["NHI1", "AC-2"]),
            rule("nhi-unused", Severity::Warning, &["NHI1"]),
            rule("nhi-note", Severity::Note, &[]),
            rule("never-fires", Severity::Error, &["CM-8"]),
        ] {
            rules.insert(r.code.clone(), r);
        }
        CheckReport {
            as_of: "2026-11-25T09:00:00Z".parse().expect("time"),
            head: Revision::working_tree(),
            base: Some(Revision {
                label: "main".into(),
                commit: Some("1a2b3c4d5e6f7a8b".into()),
            }),
            gate: Gate {
                fail_on: Severity::Warning,
                only_new: false,
            },
            checked,
            resolved: &[],
            diff: None,
            rules,
            records: 3,
            inventory_dir: "inventory".into(),
            verdict: Verdict::CouldNotEvaluate,
            repo: None,
        }
    }

    fn rendered() -> Value {
        let checked = sample_checked();
        let text = render(&sample_report(&checked), None).text;
        assert!(text.ends_with("}\n"));
        serde_json::from_str(&text).expect("SARIF is JSON")
    }

    fn result_with<'v>(log: &'v Value, rule: &str) -> &'v Value {
        log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["ruleId"] == rule)
            .expect("result for rule")
    }

    #[test]
    fn validates_against_the_oasis_schema() {
        let schema = super::sarif_schema::oasis_schema();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        let log = rendered();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // The validator must be able to fail, or the test proves nothing.
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
        broken["runs"][0]["tool"]["driver"]["informationUri"] = Value::from("not a uri");
        assert_eq!(validator.iter_errors(&broken).count(), 2);
    }

    #[test]
    fn rules_are_the_used_ones_and_results_point_at_them() {
        let log = rendered();
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                "empty-inventory",
                "evaluation-failed",
                "nhi-note",
                "nhi-owner-missing",
                "nhi-unused",
                "yaml-syntax"
            ]
        );
        for r in log["runs"][0]["results"].as_array().expect("results") {
            let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        let owner = &rules[3];
        assert_eq!(owner["defaultConfiguration"]["level"], "error");
        assert_eq!(
            owner["helpUri"],
            concat!(
                "https://github.com/severance/severance/blob/v",
                env!("CARGO_PKG_VERSION"),
                "/docs/checks.md#nhi-owner-missing"
            )
        );
        assert_eq!(
            owner["properties"]["tags"],
            serde_json::json!(["NHI1", "AC-2"])
        );
        assert_eq!(
            rules[1]["helpUri"],
            concat!(
                "https://github.com/severance/severance/blob/v",
                env!("CARGO_PKG_VERSION"),
                "/docs/diagnostics.md#evaluation-failed"
            )
        );
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["version"],
            env!("CARGO_PKG_VERSION")
        );
    }

    #[test]
    fn places_regions_and_suppressions() {
        let log = rendered();
        let owner = result_with(&log, "nhi-owner-missing");
        let physical = &owner["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "inventory/nhi.yaml");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            physical["region"],
            serde_json::json!({"endColumn": 18, "endLine": 3, "startColumn": 3, "startLine": 3})
        );
        assert_eq!(owner["baselineState"], "new");
        assert_eq!(owner["properties"]["subject"], "nhi/a");
        assert_eq!(owner["properties"]["origin"], "rule");
        assert!(owner.get("suppressions").is_none());
        assert_eq!(
            owner["partialFingerprints"]["severance/v1"]
                .as_str()
                .map(str::len),
            Some(32)
        );

        let syntax = result_with(&log, "yaml-syntax");
        let physical = &syntax["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            "inventory/creds%2C%20old.yaml"
        );
        assert_eq!(
            physical["region"],
            serde_json::json!({"startColumn": 3, "startLine": 2})
        );

        let empty = result_with(&log, "empty-inventory");
        let physical = &empty["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "inventory/");
        assert!(physical.get("region").is_none());
        assert_eq!(empty["baselineState"], "unchanged");

        let waived = result_with(&log, "nhi-unused");
        assert_eq!(
            waived["suppressions"],
            serde_json::json!([{
                "justification": "kept until the migration, see SEC-1",
                "kind": "external",
                "status": "accepted"
            }])
        );
        assert_eq!(waived["properties"]["waiver"], "waiver/b");
        assert_eq!(waived["level"], "warning");
    }

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            artifact("/srv/inv/a b.yaml").uri.as_deref(),
            Some("file:///srv/inv/a%20b.yaml")
        );
        assert_eq!(artifact("/srv/x.yaml").uri_base_id, None);
        assert_eq!(
            artifact("C:\\inv\\x.yaml").uri.as_deref(),
            Some("file:///C:/inv/x.yaml")
        );
        assert_eq!(artifact("a:b.yaml").uri.as_deref(), Some("a%3Ab.yaml"));
    }

    #[test]
    fn without_a_base_there_is_no_baseline_state() {
        let checked = sample_checked();
        let mut report = sample_report(&checked);
        report.base = None;
        let text = render(&report, None).text;
        assert!(!text.contains("baselineState"));
        assert_eq!(text, render(&report, None).text, "byte-stable");
    }

    #[test]
    fn every_rule_has_help_for_code_scanning() {
        // GitHub's rules for SARIF (GH2012) want each rule's full
        // description and help, not only a one-liner.
        let log = rendered();
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        for rule in rules {
            let id = rule["id"].as_str().expect("id");
            for field in ["shortDescription", "fullDescription"] {
                let text = rule[field]["text"].as_str().unwrap_or_default();
                assert!(text.ends_with('.'), "{id} {field}: {text:?}");
            }
            let help = rule["help"]["text"].as_str().unwrap_or_default();
            assert!(help.contains("To resolve: "), "{id}: {help:?}");
            assert!(
                rule["help"]["markdown"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(&format!("**{id}**"))),
                "{id}"
            );
            assert!(rule["name"].as_str().is_some_and(|n| !n.contains('-')));
        }
        let owner = &rules[3];
        assert_eq!(owner["name"], "NhiOwnerMissing");
        assert!(owner["help"]["text"].as_str().is_some_and(|t| {
            t.contains("Defined by the policy `nhi-owner-missing` at `policies/x.cedar:1`.")
        }));
    }

    #[test]
    fn help_links_land_on_a_heading() {
        // An anchor must name a heading of the page it points into, or the
        // link opens the page at its top (the codes used to be table rows).
        let log = rendered();
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut linked = 0;
        for rule in rules {
            let Some(uri) = rule["helpUri"].as_str() else {
                // No rules of the default pack: no page of ours to link.
                assert!(["nhi-note", "nhi-unused"].contains(&rule["id"].as_str().unwrap_or("")));
                continue;
            };
            let (page, anchor) = uri
                .strip_prefix(&format!(
                    "{INFORMATION_URI}/blob/v{}/",
                    env!("CARGO_PKG_VERSION")
                ))
                .and_then(|rest| rest.split_once('#'))
                .expect("a link into the repository");
            let text = std::fs::read_to_string(root.join(page)).expect("the page exists");
            assert!(
                text.lines().any(|l| l == format!("### {anchor}")),
                "{uri}: no heading `{anchor}`"
            );
            linked += 1;
        }
        assert_eq!(linked, rules.len() - 2);
        for code in crate::diag::Code::ALL {
            assert!(help_uri(code.as_str()).is_some(), "{code}");
        }
    }

    #[test]
    fn a_capped_log_keeps_what_matters_and_says_what_it_left_out() {
        let checked = sample_checked();
        let report = sample_report(&checked);
        let all = render(&report, None);
        assert_eq!(all.left_out, LeftOut::default());
        assert!(!all.text.contains("toolExecutionNotifications"));
        assert_eq!(
            render(&report, Some(6)),
            all,
            "a cap above the count is none"
        );

        let capped = render(&report, Some(2));
        let log: Value = serde_json::from_str(&capped.text).expect("JSON");
        let results = log["runs"][0]["results"].as_array().expect("results");
        let kept: Vec<&str> = results
            .iter()
            .filter_map(|r| r["ruleId"].as_str())
            .collect();
        // New unwaived errors first (three of them), in the report's order.
        assert_eq!(kept, ["evaluation-failed", "yaml-syntax"]);
        assert_eq!(
            capped.left_out,
            LeftOut {
                error: 2,
                warning: 0,
                note: 1,
                waived: 1
            }
        );
        let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(rules, ["evaluation-failed", "yaml-syntax"]);
        let note = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "warning");
        assert_eq!(
            note["message"]["text"],
            "4 of 6 findings left out of the SARIF log (2 errors, 0 warnings, 1 note and 1 waived): it keeps 2, those that fail the check first, then unwaived, new and more severe ones; the JSON report lists them all"
        );

        // What fails the check outranks what is merely new: a new note
        // must not push out the only errors that block the merge.
        let mut old = sample_checked();
        for f in &mut old.findings {
            f.new = Some(f.code() == "nhi-note");
        }
        let mut errors_only = sample_report(&old);
        errors_only.gate.fail_on = Severity::Error;
        let capped = render(&errors_only, Some(1));
        let log: Value = serde_json::from_str(&capped.text).expect("JSON");
        assert_eq!(log["runs"][0]["results"][0]["level"], "error");
        assert_eq!(capped.left_out.note, 1);

        // Old unwaived findings still come before waived ones.
        let capped = render(&report, Some(5));
        assert_eq!(capped.left_out.waived, 1);
        assert_eq!(capped.left_out.total(), 1);
    }
}
