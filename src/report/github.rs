//! GitHub Actions output: workflow commands that the runner turns into
//! annotations on the pull request's changed lines, and the Markdown job
//! summary, so a reviewer sees each finding where the YAML is without
//! opening the log or uploading SARIF.

use crate::check::Finding;
use crate::diag::{Severity, Span};
use crate::report::check::CheckReport;

/// One workflow command per finding: those that fail the check first, and
/// of those the ones the change introduced first, because the runner shows
/// only the first few annotations of each level per step.
pub fn render(report: &CheckReport<'_>) -> String {
    let mut out = String::new();
    let mut findings: Vec<&Finding> = report.findings().iter().collect();
    findings.sort_by_key(|f| (!report.fails(f), f.new != Some(true)));
    for f in findings {
        out.push_str(&command(report, f));
        out.push('\n');
    }
    out
}

/// The job summary (for `$GITHUB_STEP_SUMMARY`): the same Markdown as the
/// pull request comment, so the two cannot drift apart.
pub fn step_summary(report: &CheckReport<'_>) -> String {
    crate::report::markdown::check(report)
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=code::message`.
fn command(report: &CheckReport<'_>, f: &Finding) -> String {
    // A waived finding is an accepted exception, not a problem to fix in
    // this change; it stays visible but does not look like an error.
    let name = match (&f.waived_by, f.severity) {
        (Some(_), _) | (None, Severity::Note) => "notice",
        (None, Severity::Error) => "error",
        (None, Severity::Warning) => "warning",
    };
    let mut properties = f
        .span
        .as_ref()
        .map(|s| position(report, s))
        .unwrap_or_default();
    let title = match &f.waived_by {
        Some(w) => format!("{} (waived by {w})", f.code),
        None => f.code.clone(),
    };
    properties.push(("title", title));
    let properties: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!(
        "::{name} {}::{}",
        properties.join(","),
        escape_data(&f.message)
    )
}

/// The annotation's place. The runner drops columns when the start and
/// end lines differ, so a range over several lines is given by lines
/// only; GitHub's end column is the last character of the range (SARIF's
/// is the one after it).
fn position(report: &CheckReport<'_>, span: &Span) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("file", report.tool_path(&span.file.path)),
        ("line", span.line.to_string()),
    ];
    let last = span
        .file
        .text
        .get(span.range.clone())
        .and_then(|text| text.chars().next_back())
        .map(|c| span.file.line_col(span.range.end - c.len_utf8()));
    match last {
        Some((line, col)) if line == span.line => {
            out.push(("col", span.col.to_string()));
            out.push(("endLine", line.to_string()));
            out.push(("endColumn", col.to_string()));
        }
        Some((line, _)) => out.push(("endLine", line.to_string())),
        None => out.push(("col", span.col.to_string())),
    }
    out
}

/// The runner's escaping of a command's message: a line break would end
/// the command and `%` starts an escape.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The runner's escaping of a property value, where `:` and `,` also
/// delimit (a path with a comma would otherwise start a new property).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::report::sarif::tests::{sample_checked, sample_report};

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(escape_data("100%: a,b\r\nc"), "100%25: a,b%0D%0Ac");
        assert_eq!(escape_property("100%: a,b\r\nc"), "100%25%3A a%2Cb%0D%0Ac");
        assert_eq!(escape_data("%0A"), "%250A", "no double unescaping");
    }

    #[test]
    fn one_line_per_finding_new_and_failing_first() {
        let checked = sample_checked();
        let report = sample_report(&checked);
        let out = render(&report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "::error file=./inventory/creds%2C old.yaml,line=1,col=1,endLine=1,endColumn=12,title=evaluation-failed::check rule `cred-age` could not be evaluated on `cred/x`",
                "::error file=./inventory/creds%2C old.yaml,line=2,col=3,title=yaml-syntax::100%25 broken: `a<b> & \"c\"`,%0D%0Asecond\u{7} line",
                "::error file=inventory/nhi.yaml,line=3,col=3,endLine=3,endColumn=17,title=nhi-owner-missing::`nhi/a`: has no owner",
                "::error title=empty-inventory::no records were found under `inventory`",
                "::notice file=inventory/nhi.yaml,line=1,col=3,endLine=1,endColumn=11,title=nhi-note::`nhi/a`: worth a look",
                "::notice file=inventory/nhi.yaml,line=4,endLine=5,title=nhi-unused (waived by waiver/b)::`nhi/b`: unused for 90 days",
            ]
        );
        assert_eq!(out.matches('\n').count(), report.findings().len());
    }

    #[test]
    fn a_range_ending_in_a_multibyte_character_ends_on_it() {
        let file = SourceFile::new("a.yaml", "x: Zoë\n".to_string());
        let span = Span::new(&file, 3..7);
        let checked = sample_checked();
        let report = sample_report(&checked);
        assert_eq!(
            position(&report, &span),
            [
                ("file", "a.yaml".to_string()),
                ("line", "1".to_string()),
                ("col", "4".to_string()),
                ("endLine", "1".to_string()),
                ("endColumn", "6".to_string()),
            ]
        );
    }

    #[test]
    fn the_step_summary_is_the_markdown_report() {
        let checked = sample_checked();
        let report = sample_report(&checked);
        assert_eq!(
            step_summary(&report),
            crate::report::markdown::check(&report)
        );
    }
}
