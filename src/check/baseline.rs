//! The check of a change against its base revision: which findings the
//! change introduced, which it resolved, and which waivers it added or
//! edited. A reviewer is asked about their change, not the whole
//! inventory, and `--only-new` gates on exactly this.

use std::collections::{HashMap, HashSet};

use super::{Checked, Finding, Origin};
use crate::diag::{Code, Diagnostic};
use crate::diff::Change;
use crate::validate::Waiver;

/// What the head is compared with.
pub enum Base<'a> {
    /// The base revision, checked.
    Checked {
        /// Every finding it had, validation warnings included.
        findings: Vec<Finding>,
        /// Its waivers.
        waivers: &'a [Waiver],
    },
    /// The base names the parent of a repository's first commit: there is
    /// nothing before it, so every finding and every waiver is new.
    Unborn,
    /// The base does not validate, so it cannot be checked: every finding
    /// counts as new, and which waivers changed is not known.
    Invalid {
        /// The revision as the user named it.
        label: &'a str,
        /// Its load and validation findings.
        findings: &'a [Finding],
    },
}

/// The head's check, compared with its base.
pub struct Compared {
    /// The head's findings, each marked new or not, with a warning when the
    /// base does not validate, sorted; its waivers marked when the change
    /// added or edited them.
    pub checked: Checked,
    /// Unwaived findings the base had and the head no longer has, sorted.
    pub resolved: Vec<Finding>,
}

/// Compares the head's check with its base, when there is one; without a
/// base nothing is marked and nothing is resolved.
pub fn compare(head: Checked, base: Option<Base<'_>>) -> Compared {
    let mut checked = head;
    let mut resolved = Vec::new();
    match base {
        None => {}
        Some(Base::Checked { findings, waivers }) => {
            mark_new(&mut checked.findings, &findings);
            mark_changed_waivers(&mut checked, waivers);
            let now: HashSet<String> = checked.findings.iter().map(Finding::fingerprint).collect();
            resolved = findings
                .into_iter()
                .filter(|f| f.waived_by.is_none() && !now.contains(&f.fingerprint()))
                .collect();
            super::sort(&mut resolved);
        }
        Some(Base::Unborn) => {
            mark_all_new(&mut checked.findings);
            // The first commit adds every waiver it holds.
            for w in &mut checked.waivers {
                w.change = Some(Change::Added);
            }
        }
        Some(Base::Invalid { label, findings }) => {
            checked.findings.push(base_invalid(label, findings));
            mark_all_new(&mut checked.findings);
        }
    }
    super::sort(&mut checked.findings);
    Compared { checked, resolved }
}

/// A finding is new when the base did not have it, or had it waived and
/// the change took the waiver away.
fn mark_new(findings: &mut [Finding], base: &[Finding]) {
    let mut was_waived: HashMap<String, bool> = HashMap::new();
    for f in base {
        let waived = was_waived.entry(f.fingerprint()).or_insert(true);
        *waived &= f.waived_by.is_some();
    }
    for f in findings {
        f.new = Some(match was_waived.get(&f.fingerprint()) {
            None => true,
            Some(&was_waived) => was_waived && f.waived_by.is_none(),
        });
    }
}

fn mark_all_new(findings: &mut [Finding]) {
    for f in findings {
        f.new = Some(true);
    }
}

/// A waiver the change adds or edits is what a reviewer of the change must
/// look at hardest.
fn mark_changed_waivers(checked: &mut Checked, base: &[Waiver]) {
    let before: HashMap<&str, String> = base.iter().map(|w| (w.id.as_str(), w.terms())).collect();
    for w in &mut checked.waivers {
        w.change = match before.get(w.waiver.id.as_str()) {
            None => Some(Change::Added),
            Some(terms) if *terms != w.waiver.terms() => Some(Change::Edited),
            Some(_) => None,
        };
    }
}

/// The warning that the base could not be compared with.
fn base_invalid(label: &str, findings: &[Finding]) -> Finding {
    let errors = super::errors(findings);
    let d = Diagnostic::warning(
        Code::BaseInvalid,
        format!(
            "the base `{label}` does not validate ({errors} error{}): no decision diff, and every finding counts as new",
            if errors == 1 { "" } else { "s" }
        ),
    )
    .help("run `severance validate` at the base to see why");
    Finding::from_diagnostic(&d, Origin::Validation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::FindingCode;
    use crate::diag::Severity;

    fn rule_finding(subject: &str, waived: bool) -> Finding {
        let d = Diagnostic::new(
            FindingCode::Rule("nhi-owner-missing".into()),
            Severity::Error,
            format!("`{subject}`: has no owner"),
        );
        Finding {
            subject: Some(subject.into()),
            waived_by: waived.then(|| "waiver/x".to_string()),
            ..Finding::new(d, Origin::Rule)
        }
    }

    fn checked(findings: Vec<Finding>) -> Checked {
        Checked {
            findings,
            waivers: Vec::new(),
            could_not_evaluate: false,
        }
    }

    fn new_by_subject(compared: &Compared) -> Vec<(&str, Option<bool>)> {
        compared
            .checked
            .findings
            .iter()
            .map(|f| (f.subject.as_deref().unwrap_or("-"), f.new))
            .collect()
    }

    #[test]
    fn new_is_what_the_base_lacked_or_had_waived() {
        let head = checked(vec![
            rule_finding("nhi/kept", false),
            rule_finding("nhi/added", false),
            rule_finding("nhi/unwaived", false),
            rule_finding("nhi/still-waived", true),
        ]);
        let base = Base::Checked {
            findings: vec![
                rule_finding("nhi/kept", false),
                rule_finding("nhi/unwaived", true),
                rule_finding("nhi/still-waived", true),
                rule_finding("nhi/fixed", false),
                rule_finding("nhi/fixed-but-waived", true),
            ],
            waivers: &[],
        };
        let compared = compare(head, Some(base));
        assert_eq!(
            new_by_subject(&compared),
            [
                ("nhi/added", Some(true)),
                ("nhi/kept", Some(false)),
                ("nhi/still-waived", Some(false)),
                ("nhi/unwaived", Some(true)),
            ]
        );
        let resolved: Vec<_> = compared
            .resolved
            .iter()
            .map(|f| f.subject.as_deref())
            .collect();
        assert_eq!(resolved, [Some("nhi/fixed")]);
    }

    #[test]
    fn an_invalid_base_makes_everything_new_and_says_so() {
        let base_findings = [Finding::from_diagnostic(
            &Diagnostic::error(Code::YamlSyntax, "bad"),
            Origin::Validation,
        )];
        let base = Base::Invalid {
            label: "main",
            findings: &base_findings,
        };
        let compared = compare(checked(vec![rule_finding("nhi/a", false)]), Some(base));
        assert_eq!(
            new_by_subject(&compared),
            [("-", Some(true)), ("nhi/a", Some(true))]
        );
        assert_eq!(
            compared.checked.findings[0].diagnostic.message,
            "the base `main` does not validate (1 error): no decision diff, and every finding counts as new"
        );
        assert!(compared.resolved.is_empty());
    }

    #[test]
    fn without_a_base_nothing_is_marked() {
        let compared = compare(checked(vec![rule_finding("nhi/a", false)]), None);
        assert_eq!(new_by_subject(&compared), [("nhi/a", None)]);
    }
}
