//! Whether a check fails: the gate a run sets (how severe a finding must
//! be, and whether only the change's own findings count) applied to what
//! the check found. Findings are data; this is the one place that turns
//! them into pass or fail.

use super::{Checked, Finding, Origin};
use crate::diag::Severity;

/// What fails a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// The severity at which an unwaived finding fails the check.
    pub fail_on: Severity,
    /// Only findings new since the base fail the check.
    pub only_new: bool,
}

/// The verdict of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing at or above the threshold.
    Pass,
    /// Unwaived findings at or above the threshold.
    Fail,
    /// The input could not be evaluated.
    CouldNotEvaluate,
}

impl Verdict {
    /// `pass`, `fail` or `could-not-evaluate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::CouldNotEvaluate => "could-not-evaluate",
        }
    }
}

impl Gate {
    /// Whether a finding fails the check: unwaived, at or above the
    /// threshold, and new when only new findings count.
    pub fn blocks(&self, f: &Finding) -> bool {
        // An expired or stale waiver is never "old news": it always counts.
        f.fails(self.fail_on)
            && (!self.only_new || f.new == Some(true) || f.origin == Origin::Waiver)
    }

    /// The verdict on what a check found: an input that did not validate
    /// or a policy that did not evaluate leaves nothing to judge.
    pub fn verdict(&self, checked: &Checked) -> Verdict {
        let invalid = checked
            .findings
            .iter()
            .any(|f| f.origin == Origin::Validation && f.diagnostic.severity == Severity::Error);
        if checked.could_not_evaluate || invalid {
            Verdict::CouldNotEvaluate
        } else if checked.findings.iter().any(|f| self.blocks(f)) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Diagnostic};

    fn finding(severity: Severity, origin: Origin, new: bool) -> Finding {
        let d = Diagnostic {
            severity,
            ..Diagnostic::error(Code::EvaluationFailed, "x")
        };
        Finding {
            new: Some(new),
            ..Finding::from_diagnostic(&d, origin)
        }
    }

    fn verdict(gate: Gate, findings: Vec<Finding>) -> Verdict {
        gate.verdict(&Checked {
            findings,
            waivers: Vec::new(),
            could_not_evaluate: false,
        })
    }

    #[test]
    fn only_new_findings_fail_when_asked_but_a_waiver_problem_always_does() {
        let only_new = Gate {
            fail_on: Severity::Error,
            only_new: true,
        };
        let old_rule = finding(Severity::Error, Origin::Rule, false);
        let old_waiver = finding(Severity::Error, Origin::Waiver, false);
        assert_eq!(verdict(only_new, vec![old_rule.clone()]), Verdict::Pass);
        assert_eq!(verdict(only_new, vec![old_waiver]), Verdict::Fail);
        let every = Gate {
            only_new: false,
            ..only_new
        };
        assert_eq!(verdict(every, vec![old_rule]), Verdict::Fail);
        let warning = finding(Severity::Warning, Origin::Rule, true);
        assert_eq!(verdict(every, vec![warning]), Verdict::Pass);
        let invalid = finding(Severity::Error, Origin::Validation, false);
        assert_eq!(verdict(only_new, vec![invalid]), Verdict::CouldNotEvaluate);
    }
}
