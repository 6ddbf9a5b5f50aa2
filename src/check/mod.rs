//! Stage 7, check: ask the check rules (the `@severity`
//! policies of the pack) about every record, with its decision in the
//! request's context, and turn each satisfied rule into a [`Finding`]. Then
//! apply the reviewed waivers: a waived finding stays listed, an expired
//! waiver is an error of its own and a waiver that matches nothing is a
//! warning. Findings are data: [`Gate`] turns them into a verdict at the
//! threshold the caller sets, and [`baseline`] compares them with those of
//! a base revision.

pub mod baseline;
mod verdict;

pub use verdict::{Gate, Verdict};

use cedar_policy::{PolicySet, RestrictedExpression};
use jiff::Timestamp;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::decide::{Decision, Effect, Plan};
use crate::diag::{Code, Diagnostic, Severity, Span};
use crate::evaluate::{Evaluation, Requester};
use crate::model::{Kind, format_time};
use crate::reconcile::{Discrepancy, DiscrepancyCode};
use crate::validate::{FLAG, Inventory, PolicyPack, Waiver};

/// Where a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Loading or validating the input.
    Validation,
    /// A check rule of the policy pack.
    Rule,
    /// A rule or decision policy that failed to evaluate.
    Evaluation,
    /// The waivers file itself (expired or unmatched waivers).
    Waiver,
    /// A discrepancy between systems of record (stage reconcile).
    Reconciliation,
}

impl Origin {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Validation => "validation",
            Origin::Rule => "rule",
            Origin::Evaluation => "evaluation",
            Origin::Waiver => "waiver",
            Origin::Reconciliation => "reconciliation",
        }
    }
}

/// What a finding of `severance check` is, by name. Load, validation,
/// evaluation and waiver findings carry one of severance's own codes,
/// documented in `docs/diagnostics.md`; a check rule's finding carries the
/// rule's `@id`, which the policy pack defines and `docs/checks.md` lists.
/// Reports, waivers and fingerprints know a code only by its text
/// ([`FindingCode::as_str`]), so the two read the same everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingCode {
    /// One of severance's own codes.
    Diagnostic(Code),
    /// A check rule's `@id`.
    Rule(String),
    /// A discrepancy between systems of record, documented in
    /// `docs/reconciliation.md`.
    Discrepancy(DiscrepancyCode),
}

impl FindingCode {
    /// The stable kebab-case name.
    pub fn as_str(&self) -> &str {
        match self {
            FindingCode::Diagnostic(code) => code.as_str(),
            FindingCode::Rule(id) => id,
            FindingCode::Discrepancy(code) => code.as_str(),
        }
    }
}

/// One finding of `severance check`: a diagnostic (code, severity, message,
/// places, help), and what the check knows about it besides.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What is wrong, where, and what might fix it.
    pub diagnostic: Diagnostic<FindingCode>,
    /// Where it comes from.
    pub origin: Origin,
    /// The record at fault, when there is one.
    pub subject: Option<String>,
    /// The record's kind.
    pub kind: Option<Kind>,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// Where the record starts (when the finding is about one); the
    /// diagnostic's place is the field when one is at fault and written.
    pub record_span: Option<Span>,
    /// The controls the rule serves.
    pub controls: Vec<String>,
    /// The policies behind the finding: the rule, and for an overdue
    /// action the decision policies whose deadline passed.
    pub policies: Vec<String>,
    /// The waiver that covers it.
    pub waived_by: Option<String>,
    /// Whether the change under review introduced it (only with a base).
    pub new: Option<bool>,
}

impl Finding {
    /// A finding from a load or validation diagnostic.
    pub fn from_diagnostic(d: &Diagnostic, origin: Origin) -> Finding {
        Finding::new(d.clone().map_code(FindingCode::Diagnostic), origin)
    }

    /// A finding of `diagnostic`, about no record.
    pub fn new(diagnostic: Diagnostic<FindingCode>, origin: Origin) -> Finding {
        Finding {
            diagnostic,
            origin,
            subject: None,
            kind: None,
            field: None,
            record_span: None,
            controls: Vec::new(),
            policies: Vec::new(),
            waived_by: None,
            new: None,
        }
    }

    /// The code, as every report shows it.
    pub fn code(&self) -> &str {
        self.diagnostic.code.as_str()
    }

    /// A fingerprint that survives edits elsewhere in the file: the code,
    /// the record, the field and the policies behind it, or for findings
    /// without a record the file and the message. Lines are left out on purpose, so moving a
    /// record does not make its findings "new".
    pub fn fingerprint(&self) -> String {
        let d = &self.diagnostic;
        let mut hasher = Sha256::new();
        hasher.update(self.code().as_bytes());
        hasher.update([0]);
        match &self.subject {
            Some(subject) => {
                hasher.update(subject.as_bytes());
                hasher.update([0]);
                hasher.update(self.field.as_deref().unwrap_or_default().as_bytes());
                for policy in &self.policies {
                    hasher.update([0]);
                    hasher.update(policy.as_bytes());
                }
            }
            None => {
                hasher.update(
                    d.span
                        .as_ref()
                        .map(|s| s.file.path.as_str())
                        .unwrap_or_default()
                        .as_bytes(),
                );
                hasher.update([0]);
                hasher.update(d.message.as_bytes());
            }
        }
        hex::encode(&hasher.finalize()[..16])
    }

    /// Whether the finding fails a gate set at `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.waived_by.is_none() && self.diagnostic.severity <= threshold
    }

    fn sort_key(&self) -> (String, u32, u32, String, String) {
        let (path, line, col) = match &self.diagnostic.span {
            Some(s) => (s.file.path.clone(), s.line, s.col),
            None => (String::new(), 0, 0),
        };
        (
            path,
            line,
            col,
            self.code().to_string(),
            self.subject.clone().unwrap_or_default(),
        )
    }
}

/// How one waiver was used.
#[derive(Debug, Clone)]
pub struct WaiverUse {
    /// The waiver.
    pub waiver: Waiver,
    /// Whether it had expired at the run's instant.
    pub expired: bool,
    /// How many findings it covers.
    pub waived: usize,
    /// Whether the change under review added or edited it (only with a base).
    pub change: Option<crate::diff::Change>,
}

/// The output of the check stage.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every finding, sorted by place.
    pub findings: Vec<Finding>,
    /// Every waiver, by id.
    pub waivers: Vec<WaiverUse>,
    /// Whether any policy failed to evaluate (decisions or rules).
    pub could_not_evaluate: bool,
}

impl Checked {
    /// What stands for the check of an input that does not validate: its
    /// load and validation findings, sorted; nothing could be evaluated.
    pub fn invalid(mut findings: Vec<Finding>) -> Checked {
        sort(&mut findings);
        Checked {
            findings,
            waivers: Vec::new(),
            could_not_evaluate: true,
        }
    }
}

/// Sorts findings by file, line, column, code and record.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_cached_key(Finding::sort_key);
}

/// How many of the findings are errors.
pub fn errors(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.diagnostic.severity == Severity::Error)
        .count()
}

/// Runs the check rules on every record and applies the waivers.
pub fn check(
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
    plan: &Plan,
) -> Checked {
    // A decision that could not be made is a finding about its record.
    let mut findings: Vec<Finding> = Vec::new();
    for d in plan
        .decisions
        .iter()
        .filter(|d| d.status == crate::decide::Status::Error)
    {
        let record = &inventory.records[d.record];
        for f in &d.failures {
            let diagnostic = d.failure_diagnostic(f, inventory, pack);
            findings.push(Finding {
                subject: Some(record.id.clone()),
                kind: Some(record.kind),
                record_span: Some(record.span.clone()),
                policies: vec![f.policy.clone()],
                ..Finding::from_diagnostic(&diagnostic, Origin::Evaluation)
            });
        }
    }
    let could_not_evaluate_decisions = !findings.is_empty();

    let decisions: HashMap<usize, &Decision> =
        plan.decisions.iter().map(|d| (d.record, d)).collect();
    // The check rules that can flag each kind.
    let scoped = crate::evaluate::scoped_sets(pack);
    let rules: HashMap<Kind, &PolicySet> = Kind::ALL
        .into_iter()
        .filter_map(|kind| {
            let set = scoped.get(&(kind, FLAG.to_string()))?;
            (!set.is_empty()).then(|| (kind, set.policies()))
        })
        .collect();
    let requester = Requester::new(
        inventory,
        &evaluation.derived,
        &evaluation.store,
        evaluation.as_of,
    );

    let per_record: Vec<Vec<Finding>> = inventory
        .records
        .par_iter()
        .enumerate()
        .filter_map(|(index, record)| Some((index, record, *rules.get(&record.kind)?)))
        .map_init(
            || (crate::evaluate::principal(), crate::evaluate::action(FLAG)),
            |(principal, action), (index, record, set)| {
                let decision = decisions.get(&index).copied();
                let context = requester.context(Some(("decision", decided(decision))));
                let subject = requester.subject(index);
                let answer = requester.ask(principal, action, &subject, &context, set);
                let mut out: Vec<Finding> = answer
                    .errors
                    .iter()
                    .map(|e| {
                        let at = crate::evaluate::failed_at(pack, &e.policy, e.at);
                        failed_rule(record, &e.policy, &e.message, at)
                    })
                    .collect();
                for id in &answer.reasons {
                    if let Some(info) = pack.info.get(id) {
                        out.extend(rule_findings(record, info, decision, evaluation.as_of));
                    }
                }
                out
            },
        )
        .collect();
    findings.extend(per_record.into_iter().flatten());
    findings.extend(
        evaluation
            .derived
            .reconciliation
            .discrepancies
            .iter()
            .map(|d| discrepancy_finding(inventory, d)),
    );
    findings.extend(
        evaluation
            .derived
            .reconciliation
            .incomplete
            .iter()
            .map(incomplete_finding),
    );
    let could_not_evaluate =
        could_not_evaluate_decisions || findings.iter().any(|f| f.origin == Origin::Evaluation);

    let waivers = apply_waivers(&mut findings, &inventory.waivers, evaluation.as_of);
    findings.extend(departed_waiver_people(inventory, evaluation));
    sort(&mut findings);
    Checked {
        findings,
        waivers,
        could_not_evaluate,
    }
}

/// The finding of a discrepancy: at the field at fault in the record,
/// with the observation it rests on and the other places it joins.
fn discrepancy_finding(inventory: &Inventory, d: &Discrepancy) -> Finding {
    let record = &inventory.records[d.record];
    let at = d
        .field
        .map_or_else(|| record.span.clone(), |f| record.field_span(f));
    let mut diagnostic = Diagnostic::new(
        FindingCode::Discrepancy(d.code),
        d.severity(),
        d.message.clone(),
    )
    .at(at);
    if let Some(o) = &d.observation {
        let mut seen = format!("observed by `{}`", o.system);
        if let Some(id) = &o.record_id {
            seen.push_str(&format!(" as `{id}`"));
        }
        if let Some(when) = o.observed_at {
            seen.push_str(&format!(" at {}", format_time(when)));
        }
        match (&o.export_file, &o.export) {
            (Some(file), Some(digest)) => {
                seen.push_str(&format!(" in the export `{file}` ({digest})"))
            }
            (None, Some(digest)) => seen.push_str(&format!(" in the export `{digest}`")),
            _ => {}
        }
        diagnostic = diagnostic.note(o.span.clone(), seen);
    }
    for (span, label) in &d.evidence {
        diagnostic = diagnostic.note(span.clone(), label.clone());
    }
    let help = match d.basis.why_suspected() {
        Some(why) => format!("suspected, not proven: {why}; {}", d.code.fix()),
        None => d.code.fix().to_string(),
    };
    Finding {
        subject: Some(record.id.clone()),
        kind: Some(record.kind),
        field: d.field.map(str::to_string),
        record_span: Some(record.span.clone()),
        ..Finding::new(diagnostic.help(help), Origin::Reconciliation)
    }
}

/// The finding of an import whose exports proved incomplete, at its
/// manifest.
fn incomplete_finding(snapshot: &crate::validate::ImportSnapshot) -> Finding {
    let code = DiscrepancyCode::IncompleteSnapshot;
    let diagnostic = Diagnostic::new(
        FindingCode::Discrepancy(code),
        code.severity(),
        format!(
            "the `{}` import into `{}` is incomplete: {}",
            snapshot.source,
            snapshot.dir,
            snapshot
                .completeness
                .as_deref()
                .unwrap_or("its exports fall short")
        ),
    )
    .at(snapshot.span.clone())
    .help(code.fix());
    Finding::new(diagnostic, Origin::Reconciliation)
}

/// The decision as the rules see it in `context.decision`.
fn decided(decision: Option<&Decision>) -> RestrictedExpression {
    let strings = |list: &[String]| {
        RestrictedExpression::new_set(
            list.iter()
                .map(|a| RestrictedExpression::new_string(a.clone())),
        )
    };
    let mut attrs: Vec<(String, RestrictedExpression)> = vec![
        (
            "actions".into(),
            strings(decision.map(|d| d.actions.as_slice()).unwrap_or_default()),
        ),
        (
            "blocked".into(),
            strings(decision.map(|d| d.blocked.as_slice()).unwrap_or_default()),
        ),
    ];
    if let Some(due) = decision.and_then(|d| d.due) {
        attrs.push((
            "due".into(),
            RestrictedExpression::new_datetime(format_time(due)),
        ));
    }
    // INVARIANT: the attribute names are distinct constants.
    RestrictedExpression::new_record(attrs).unwrap_or_else(|e| unreachable!("decision record: {e}"))
}

fn failed_rule(
    record: &crate::model::Record,
    policy: &str,
    message: &str,
    at: Option<(crate::diag::Span, &str)>,
) -> Finding {
    let mut d = Diagnostic::error(
        Code::EvaluationFailed,
        format!(
            "check rule `{policy}` could not be evaluated on `{}`",
            record.id
        ),
    )
    .at(record.span.clone())
    .label(message.to_string())
    .help("the record is not silently passed; fix the rule or the record");
    if let Some((span, label)) = at {
        d = d.note(span, label);
    }
    Finding {
        subject: Some(record.id.clone()),
        kind: Some(record.kind),
        record_span: Some(record.span.clone()),
        policies: vec![policy.to_string()],
        ..Finding::from_diagnostic(&d, Origin::Evaluation)
    }
}

/// The findings of one satisfied rule on one record: one, or for a rule
/// about deadlines (`@detail("due")`) one per decision policy whose
/// deadline has passed, so that a waiver can name exactly which.
fn rule_findings(
    record: &crate::model::Record,
    info: &crate::validate::PolicyInfo,
    decision: Option<&Decision>,
    as_of: Timestamp,
) -> Vec<Finding> {
    let rule = info.rule.as_ref();
    let field = rule.and_then(|r| r.field.clone());
    let field_span = field
        .as_deref()
        .and_then(|f| record.fields.field(f))
        .map(|f| f.span.clone());
    let label = match (&field, &field_span) {
        (Some(f), Some(_)) => Some(format!("`{f}` is at fault")),
        (Some(f), None) => Some(format!("`{f}` is missing")),
        _ => None,
    };
    let message = format!("`{}`: {}", record.id, lowercase_first(&info.description));
    let diagnostic = Diagnostic {
        label,
        ..Diagnostic::new(
            FindingCode::Rule(info.id.clone()),
            rule.map_or(Severity::Error, |r| r.severity),
            message,
        )
        .at(field_span.unwrap_or_else(|| record.span.clone()))
    };
    let finding = Finding {
        subject: Some(record.id.clone()),
        kind: Some(record.kind),
        field,
        record_span: Some(record.span.clone()),
        controls: info.controls.clone(),
        policies: vec![info.id.clone()],
        ..Finding::new(diagnostic, Origin::Rule)
    };
    let Some(d) = decision.filter(|_| rule.is_some_and(|r| r.detail_due)) else {
        return vec![finding];
    };
    // Every permit whose own deadline has passed, grouped by policy.
    let mut overdue: BTreeMap<&str, (Timestamp, BTreeSet<&str>)> = BTreeMap::new();
    for reason in &d.reasons {
        if reason.effect == Effect::Permit
            && let Some(due) = reason.due
            && due < as_of
        {
            let entry = overdue
                .entry(reason.policy.as_str())
                .or_insert((due, BTreeSet::new()));
            entry.0 = entry.0.min(due);
            entry.1.insert(reason.action.as_str());
        }
    }
    if overdue.is_empty() {
        return vec![finding];
    }
    overdue
        .into_iter()
        .map(|(policy, (due, actions))| {
            let mut f = finding.clone();
            f.diagnostic.message.push_str(&format!(
                " (`{}` due {} under `{policy}`)",
                actions.into_iter().collect::<Vec<_>>().join(", "),
                format_time(due)
            ));
            f.policies = vec![info.id.clone(), policy.to_string()];
            f
        })
        .collect()
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A waiver whose owner has left has nobody carrying its risk (an error);
/// one whose approver has left keeps its approval but is worth a look.
fn departed_waiver_people(inventory: &Inventory, evaluation: &Evaluation) -> Vec<Finding> {
    let left = |id: &str| {
        inventory
            .index
            .get(id)
            .and_then(|i| evaluation.derived.departures.get(i))
            .is_some_and(|d| d.leaver)
    };
    let mut out = Vec::new();
    for w in inventory
        .waivers
        .iter()
        .filter(|w| w.expires > evaluation.as_of)
    {
        for (role, person, severity) in [
            ("owner", &w.owner, Severity::Error),
            ("approver", &w.approver, Severity::Warning),
        ] {
            if left(person) {
                let d = Diagnostic {
                    severity,
                    ..Diagnostic::error(
                        Code::WaiverOwnerDeparted,
                        format!("the {role} of waiver `{}`, `{person}`, has left", w.id),
                    )
                    .at(w.span.clone())
                    .help("give the exception an owner who is still here, with a new approval, or retire it")
                };
                out.push(Finding::from_diagnostic(&d, Origin::Waiver));
            }
        }
    }
    out
}

/// Marks the findings each live waiver covers, and returns a finding for
/// every expired waiver and every listed record a waiver matched nothing on.
fn apply_waivers(
    findings: &mut Vec<Finding>,
    waivers: &[Waiver],
    as_of: Timestamp,
) -> Vec<WaiverUse> {
    let mut uses = Vec::new();
    let mut extra = Vec::new();
    let codes: BTreeSet<String> = findings.iter().map(|f| f.code().to_string()).collect();
    for waiver in waivers {
        let expired = waiver.expires <= as_of;
        let mut waived = 0;
        let mut matched: BTreeMap<&str, bool> = waiver
            .records
            .iter()
            .map(|(id, _)| (id.as_str(), false))
            .collect();
        if expired {
            extra.push(Finding::from_diagnostic(
                &Diagnostic::error(
                    Code::WaiverExpired,
                    format!(
                        "waiver `{}` expired at {}; the findings it covered count again",
                        waiver.id,
                        format_time(waiver.expires)
                    ),
                )
                .at(waiver.expires_span.clone())
                .help("renew it with a new approval and `expires`, or fix what it waived and delete it"),
                Origin::Waiver,
            ));
        } else {
            for finding in findings.iter_mut() {
                let covers = matches!(finding.origin, Origin::Rule | Origin::Reconciliation)
                    && waiver
                        .finding
                        .as_ref()
                        .is_none_or(|code| code == finding.code())
                    && waiver
                        .policy
                        .as_ref()
                        .is_none_or(|p| finding.policies.contains(p));
                if !covers {
                    continue;
                }
                if let Some(subject) = &finding.subject
                    && let Some(hit) = matched.get_mut(subject.as_str())
                {
                    // A finding two waivers cover counts as a match for
                    // both: neither is stale. The first (by id) is cited.
                    *hit = true;
                    if finding.waived_by.is_none() {
                        finding.waived_by = Some(waiver.id.clone());
                        waived += 1;
                    }
                }
            }
            for (id, span) in &waiver.records {
                if matched.get(id.as_str()).copied().unwrap_or(true) {
                    continue;
                }
                let what = match (&waiver.finding, &waiver.policy) {
                    (Some(code), _) => format!("finding `{code}`"),
                    (None, Some(policy)) => format!("policy `{policy}`"),
                    (None, None) => "anything".into(),
                };
                let mut d = Diagnostic::warning(
                    Code::WaiverUnmatched,
                    format!("waiver `{}` matches no {what} on `{id}`", waiver.id),
                )
                .at(span.clone())
                .help("remove the record from the waiver (or the waiver): a stale exception hides the next real finding");
                if let Some(code) = &waiver.finding
                    && !codes.contains(code)
                    && let Some(close) =
                        crate::diag::did_you_mean(code, codes.iter().map(String::as_str))
                {
                    d = d.help(format!(
                        "no finding has code `{code}`; did you mean `{close}`?"
                    ));
                }
                extra.push(Finding::from_diagnostic(&d, Origin::Waiver));
            }
        }
        uses.push(WaiverUse {
            waiver: waiver.clone(),
            expired,
            waived,
            change: None,
        });
    }
    findings.extend(extra);
    uses
}

/// The reference of every check rule of a pack, for `docs/checks.md`.
pub fn rules_markdown(pack: &PolicyPack) -> String {
    let mut out = String::new();
    for info in pack.info.values() {
        let Some(rule) = &info.rule else { continue };
        out.push_str(&format!("### {}\n\n", info.id));
        out.push_str(&format!("{}.\n\n", info.description.trim_end_matches('.')));
        out.push_str(&format!("- severity: `{}`\n", rule.severity.as_str()));
        out.push_str(&format!("- controls: {}\n", info.controls.join(", ")));
        if let Some(field) = &rule.field {
            out.push_str(&format!("- points at: `{field}`\n"));
        }
        out.push_str(&format!(
            "- defined at: `{}:{}`\n\n",
            info.span.file.path, info.span.line
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_docs_list_every_rule() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::load::load_policies(&root.join("policies")).expect("policies load");
        // Paths as a reader of the docs sees them, from the repository root.
        let sources = crate::load::PolicySources {
            schema: crate::diag::SourceFile::new(
                "policies/schema.cedarschema",
                sources.schema.text.clone(),
            ),
            policies: sources
                .policies
                .iter()
                .map(|f| {
                    let name = std::path::Path::new(&f.path)
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    crate::diag::SourceFile::new(format!("policies/{name}"), f.text.clone())
                })
                .collect(),
        };
        let (pack, diagnostics) = crate::validate::validate_policies(sources);
        let pack = pack.unwrap_or_else(|| panic!("the default pack is valid: {diagnostics:#?}"));
        crate::model::tests::keep_in_step(
            "docs/checks.md",
            "<!-- rules:begin -->",
            "<!-- rules:end -->",
            &rules_markdown(&pack),
        );
    }

    #[test]
    fn fingerprints_ignore_lines_but_not_records() {
        let d = Diagnostic::error(Code::EvaluationFailed, "x");
        let mut a = Finding {
            subject: Some("nhi/a".into()),
            ..Finding::from_diagnostic(&d, Origin::Rule)
        };
        a.diagnostic.code = FindingCode::Rule("nhi-owner-missing".into());
        let b = a.clone();
        let mut c = a.clone();
        c.subject = Some("nhi/b".into());
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
    }

    /// Baselines and SARIF `partialFingerprints` stored by earlier runs
    /// hold these values: a change to how a finding is built must not
    /// change them.
    #[test]
    fn fingerprints_are_stable_across_versions() {
        let rule = Diagnostic::new(
            FindingCode::Rule("nhi-owner-missing".into()),
            Severity::Error,
            "`nhi/a`: has no owner",
        );
        let record = Finding {
            subject: Some("nhi/a".into()),
            field: Some("owner".into()),
            policies: vec!["nhi-owner-missing".into(), "offboard-due".into()],
            ..Finding::new(rule, Origin::Rule)
        };
        assert_eq!(record.fingerprint(), "75e9a196ebf2a9dca948cb15d29bc8ba");
        let file = crate::diag::SourceFile::new("inventory/waivers.yaml", "- id: x\n".into());
        let expired = Diagnostic::error(Code::WaiverExpired, "waiver `waiver/x` expired")
            .at(Span::new(&file, 2..7));
        let placed = Finding::from_diagnostic(&expired, Origin::Waiver);
        assert_eq!(placed.fingerprint(), "f9f1a2aea7dda7e1ce8ef5eb44da01a4");
    }

    #[test]
    fn waived_findings_never_fail_and_notes_fail_only_at_note() {
        let d = Diagnostic::warning(Code::EvaluationFailed, "x");
        let mut f = Finding::from_diagnostic(&d, Origin::Rule);
        assert!(f.fails(Severity::Warning));
        assert!(!f.fails(Severity::Error));
        f.waived_by = Some("waiver/x".into());
        assert!(!f.fails(Severity::Warning));
    }
}
