//! Markdown for pull request comments and CI job summaries: a reviewer should
//! get the verdict in the first line and what the change does to decisions
//! in the first table, within twenty seconds. Long tables are cut with a
//! count of what was left out; the JSON report always has everything.

use crate::check::{Finding, Verdict};
use crate::diag::Severity;
use crate::diff::DecisionDiff;
use crate::report::check::{CheckReport, place, plural};
use crate::report::diff::{DiffReport, cause_line, scope_line, transition};

/// Rows shown per table before the rest is summarised.
const MAX_ROWS: usize = 50;

/// Makes text safe inside a table cell: no column breaks, no line breaks,
/// and no HTML from the inventory in a comment a bot posts.
pub(crate) fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The decision-diff table.
fn diff_table(out: &mut String, diff: &DecisionDiff) {
    out.push_str(&format!(
        "#### Decision changes ({})\n\n",
        diff.changes.len()
    ));
    out.push_str(&format!("{}\n\n", cell(&scope_line(diff))));
    if !diff.policies.is_empty() {
        let list: Vec<String> = diff
            .policies
            .iter()
            .map(|p| format!("`{}` {}", cell(&p.id), p.change.as_str()))
            .collect();
        out.push_str(&format!("Policies changed: {}.\n\n", list.join(", ")));
    }
    if diff.changes.is_empty() {
        out.push_str("No decision changes.\n\n");
        return;
    }
    out.push_str("| Record | Before | After | Because |\n|---|---|---|---|\n");
    for c in diff.changes.iter().take(MAX_ROWS) {
        let (before, after) = transition(c);
        let causes: Vec<String> = c.causes.iter().map(|c| cell(&cause_line(c))).collect();
        let because = if causes.is_empty() {
            "no attributable cause (a change more than two links away, or the schema)".to_string()
        } else {
            causes.join("<br>")
        };
        out.push_str(&format!(
            "| `{}` | {} | **{}** | {} |\n",
            cell(&c.subject),
            cell(&before),
            cell(&after),
            because
        ));
    }
    more(out, diff.changes.len());
    out.push('\n');
}

fn more(out: &mut String, total: usize) {
    if total > MAX_ROWS {
        out.push_str(&format!(
            "\n… and {} more (see the JSON report).\n",
            total - MAX_ROWS
        ));
    }
}

fn marker(f: &Finding) -> &'static str {
    match (f.waived_by.is_some(), f.diagnostic.severity) {
        (true, _) => "waived",
        (false, Severity::Error) => "error",
        (false, Severity::Warning) => "warning",
        (false, Severity::Note) => "note",
    }
}

/// A findings table under a heading (none when `title` is empty).
fn findings_table(out: &mut String, title: &str, findings: &[&Finding]) {
    if !title.is_empty() {
        out.push_str(&format!("#### {title}\n\n"));
    }
    if findings.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    out.push_str("| | Code | Record | Where | Finding |\n|---|---|---|---|---|\n");
    for f in findings.iter().take(MAX_ROWS) {
        let mut message = cell(&f.diagnostic.message);
        if let Some(w) = &f.waived_by {
            message.push_str(&format!(" (waived by `{}`)", cell(w)));
        }
        out.push_str(&format!(
            "| {} | `{}` | {} | `{}` | {message} |\n",
            marker(f),
            cell(f.code()),
            f.subject
                .as_deref()
                .map_or_else(String::new, |s| format!("`{}`", cell(s))),
            cell(&place(f)),
        ));
    }
    more(out, findings.len());
    out.push('\n');
}

/// The check report as a pull request comment.
pub fn check(report: &CheckReport<'_>) -> String {
    let icon = match report.verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::CouldNotEvaluate => "⛔",
    };
    let mut out = format!("### {icon} severance check\n\n");
    out.push_str(&format!("{}\n\n", cell(&report.summary_line())));
    if let Some(base) = &report.base {
        out.push_str(&format!(
            "Compared `{}` with `{}`.\n\n",
            cell(&base.describe()),
            cell(&report.head.describe())
        ));
    }
    if let Some(diff) = report.diff {
        diff_table(&mut out, diff);
    }

    // Unwaived findings first, worst first, then waived ones. With a base,
    // what the change introduced comes first and the rest is folded away:
    // the reviewer is asked about their change, not the whole inventory.
    let mut findings: Vec<&Finding> = report.findings().iter().collect();
    findings.sort_by_key(|f| (f.waived_by.is_some(), f.diagnostic.severity));
    if report.base.is_some() {
        let (new, old): (Vec<&Finding>, Vec<&Finding>) =
            findings.into_iter().partition(|f| f.new == Some(true));
        findings_table(&mut out, &format!("New findings ({})", new.len()), &new);
        if !old.is_empty() {
            out.push_str(&format!(
                "<details><summary>Findings already on the base ({})</summary>\n\n",
                old.len()
            ));
            findings_table(&mut out, "", &old);
            out.push_str("</details>\n\n");
        }
    } else {
        findings_table(
            &mut out,
            &format!("Findings ({})", findings.len()),
            &findings,
        );
    }

    let waivers = report.waivers();
    if !waivers.is_empty() {
        out.push_str(&format!("#### Waivers ({})\n\n", waivers.len()));
        out.push_str(
            "| Waiver | Waives | Records | Approver | Ticket | Expires | Status |\n|---|---|---|---|---|---|---|\n",
        );
        for w in waivers.iter().take(MAX_ROWS) {
            let what = w
                .waiver
                .finding
                .as_deref()
                .or(w.waiver.policy.as_deref())
                .unwrap_or_default();
            let mut status = if w.expired {
                "expired".to_string()
            } else {
                format!("covers {} finding{}", w.waived, plural(w.waived))
            };
            if let Some(change) = w.change {
                status = format!("**{} in this change**, {status}", change.as_str());
            }
            out.push_str(&format!(
                "| `{}` | `{}` | {} | `{}` | {} | {} | {status} |\n",
                cell(&w.waiver.id),
                cell(what),
                w.waiver.records.len(),
                cell(&w.waiver.approver),
                cell(&w.waiver.ticket),
                cell(&w.waiver.expires_as_written),
            ));
        }
        more(&mut out, waivers.len());
        out.push('\n');
    }
    out
}

/// The decision diff alone, as a pull request comment.
pub fn diff(report: &DiffReport<'_>) -> String {
    let mut out = format!(
        "### severance diff\n\n`{}` → `{}`, as of {}: {} decision{} changed.\n\n",
        cell(&report.base.describe()),
        cell(&report.head.describe()),
        crate::model::format_time(report.as_of),
        report.diff.changes.len(),
        plural(report.diff.changes.len())
    );
    diff_table(&mut out, report.diff);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
