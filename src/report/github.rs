//! GitHub Actions output: workflow commands that the runner turns into
//! annotations on the pull request's changed lines, and the Markdown job
//! summary, so a reviewer sees each finding where the YAML is without
//! opening the log or uploading SARIF.
//!
//! The runner keeps only the first 10 error, 10 warning and 10 notice
//! annotations of a step (and 50 of a job) and drops the rest without a
//! word, so this format chooses which findings get the places and says how
//! many it left out.

use crate::check::Finding;
use crate::diag::{Severity, Span};
use crate::report::check::{CheckReport, plural};

/// Annotations of each level (error, warning, notice) the runner keeps per
/// step; it drops the rest silently. A job keeps 50 in all, so one step
/// of this format (at most 30) leaves room for the job's other steps.
pub const PER_LEVEL: usize = 10;

/// An annotation's level, in the order the levels are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    const ALL: [Level; 3] = [Level::Error, Level::Warning, Level::Notice];

    /// A waived finding is an accepted exception, not a problem to fix in
    /// this change; it stays visible but does not look like an error.
    fn of(f: &Finding) -> Level {
        match (&f.waived_by, f.diagnostic.severity) {
            (Some(_), _) | (None, Severity::Note) => Level::Notice,
            (None, Severity::Error) => Level::Error,
            (None, Severity::Warning) => Level::Warning,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One workflow command per finding, at most [`PER_LEVEL`] of each level:
/// those that fail the check first, of those the ones the change
/// introduced first, unwaived before waived, and otherwise in the order of
/// the findings (file, line, column). When findings are left out, a last
/// notice says how many and where every finding is; a notice place is kept
/// for it so that the runner does not drop it too.
pub fn render(report: &CheckReport<'_>) -> String {
    let mut findings: Vec<&Finding> = report.findings().iter().collect();
    findings.sort_by_key(|f| (!report.fails(f), f.new != Some(true), f.waived_by.is_some()));
    let total = |level: Level| findings.iter().filter(|f| Level::of(f) == level).count();
    let overflows = Level::ALL.iter().any(|&l| total(l) > PER_LEVEL);
    let cap = |level: Level| match level {
        Level::Notice if overflows => PER_LEVEL - 1,
        _ => PER_LEVEL,
    };
    let mut shown = [0; 3];
    let mut left_out = [0; 3];
    let mut out = String::new();
    for f in &findings {
        let level = Level::of(f);
        let i = level as usize;
        if shown[i] < cap(level) {
            shown[i] += 1;
            out.push_str(&command(report, f, level));
            out.push('\n');
        } else {
            left_out[i] += 1;
        }
    }
    if let Some(notice) = left_out_notice(left_out, findings.len()) {
        out.push_str(&notice);
        out.push('\n');
    }
    out
}

/// `::notice title=…::…` naming how many findings of each level were left
/// out and where to read them all, or nothing when none was.
fn left_out_notice(left_out: [usize; 3], total: usize) -> Option<String> {
    let count: usize = left_out.iter().sum();
    if count == 0 {
        return None;
    }
    let parts: Vec<String> = Level::ALL
        .iter()
        .zip(left_out)
        .filter(|(_, n)| *n > 0)
        .map(|(level, n)| format!("{n} {}{}", level.command(), plural(n)))
        .collect();
    let title = format!("{count} of {total} findings not annotated");
    let message = format!(
        "GitHub shows {PER_LEVEL} annotations of each level per step, and failing and new \
         findings were annotated first; left out: {}. The JSON report lists them all; the job \
         summary and code scanning (SARIF) show the first ones.",
        parts.join(", ")
    );
    Some(format!(
        "::notice title={}::{}",
        escape_property(&title),
        escape_data(&message)
    ))
}

/// The job summary (for `$GITHUB_STEP_SUMMARY`): the same Markdown as the
/// pull request comment, so the two cannot drift apart.
pub fn step_summary(report: &CheckReport<'_>) -> String {
    crate::report::markdown::check(report)
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=code::message`.
fn command(report: &CheckReport<'_>, f: &Finding, level: Level) -> String {
    let name = level.command();
    let mut properties = f
        .diagnostic
        .span
        .as_ref()
        .map(|s| position(report, s))
        .unwrap_or_default();
    let title = match &f.waived_by {
        Some(w) => format!("{} (waived by {w})", f.code()),
        None => f.code().to_string(),
    };
    properties.push(("title", title));
    let properties: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!(
        "::{name} {}::{}",
        properties.join(","),
        escape_data(&f.diagnostic.message)
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
    use crate::check::{Checked, FindingCode, Origin};
    use crate::diag::{Diagnostic, SourceFile};
    use crate::report::sarif::tests::{sample_checked, sample_report};
    use std::sync::Arc;

    /// A file of `n` records, one a line, each line `LINE` bytes long.
    fn records(n: usize) -> Arc<SourceFile> {
        let text: String = (0..n).map(|i| format!("- id: r/{i:03}\n")).collect();
        SourceFile::new("inventory/r.yaml", text)
    }

    const LINE: usize = "- id: r/000\n".len();

    /// A rule's finding about the record on line `i + 1`.
    fn at(
        file: &Arc<SourceFile>,
        i: usize,
        severity: Severity,
        new: bool,
        waived: bool,
    ) -> Finding {
        let subject = format!("r/{i:03}");
        let message = format!("`{subject}`: broken");
        let d = Diagnostic::new(FindingCode::Rule("rule".into()), severity, message)
            .at(Span::new(file, i * LINE + 2..i * LINE + 11));
        Finding {
            subject: Some(subject),
            waived_by: waived.then(|| "waiver/w".to_string()),
            new: Some(new),
            ..Finding::new(d, Origin::Rule)
        }
    }

    fn checked(mut findings: Vec<Finding>) -> Checked {
        crate::check::sort(&mut findings);
        Checked {
            findings,
            waivers: Vec::new(),
            could_not_evaluate: false,
        }
    }

    /// The level and line of each annotation; the left-out notice, which
    /// has no place, as line 0.
    fn levels_and_lines(out: &str) -> Vec<(&str, usize)> {
        out.lines()
            .map(|l| {
                let level = &l[2..l.find(' ').expect("properties")];
                let line = l
                    .split([' ', ','])
                    .find_map(|p| p.strip_prefix("line="))
                    .map_or(0, |n| n.parse().expect("a line number"));
                (level, line)
            })
            .collect()
    }

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

    #[test]
    fn thirty_warnings_give_ten_annotations_and_say_twenty_were_left_out() {
        let file = records(30);
        let checked = checked(
            (0..30)
                .map(|i| at(&file, i, Severity::Warning, false, false))
                .collect(),
        );
        let out = render(&sample_report(&checked));
        let got = levels_and_lines(&out);
        let want: Vec<(&str, usize)> = (1..=10)
            .map(|line| ("warning", line))
            .chain([("notice", 0)])
            .collect();
        assert_eq!(got, want, "{out}");
        assert_eq!(
            out.lines().last(),
            Some(
                "::notice title=20 of 30 findings not annotated::GitHub shows 10 annotations of \
                 each level per step, and failing and new findings were annotated first; left \
                 out: 20 warnings. The JSON report lists them all; the job summary and code scanning \
                 (SARIF) show the first ones."
            )
        );
    }

    #[test]
    fn new_findings_take_the_places_first_then_file_order() {
        let file = records(15);
        // Records 12, 13 and 14 are new: last in the file, first annotated.
        let checked = checked(
            (0..15)
                .map(|i| at(&file, i, Severity::Error, i >= 12, false))
                .collect(),
        );
        let out = render(&sample_report(&checked));
        let lines: Vec<usize> = levels_and_lines(&out).into_iter().map(|(_, l)| l).collect();
        assert_eq!(lines, [13, 14, 15, 1, 2, 3, 4, 5, 6, 7, 0], "{out}");
        assert!(out.ends_with("left out: 5 errors. The JSON report lists them all; the job summary and code scanning (SARIF) show the first ones.\n"));
    }

    #[test]
    fn the_left_out_notice_keeps_a_notice_place_for_itself() {
        let file = records(30);
        // 12 errors, then 8 notes and 10 waived warnings: 18 notices.
        let checked = checked(
            (0..30)
                .map(|i| match i {
                    0..12 => at(&file, i, Severity::Error, false, false),
                    12..20 => at(&file, i, Severity::Note, false, false),
                    _ => at(&file, i, Severity::Warning, false, true),
                })
                .collect(),
        );
        let out = render(&sample_report(&checked));
        let got = levels_and_lines(&out);
        let count = |level: &str| got.iter().filter(|(l, _)| *l == level).count();
        assert_eq!(
            (count("error"), count("warning"), count("notice")),
            (10, 0, 10)
        );
        // The unwaived notes come before the waived findings, and the
        // left-out notice is the tenth notice, so the runner keeps it.
        let notices: Vec<usize> = got
            .iter()
            .filter(|(l, _)| *l == "notice")
            .map(|(_, line)| *line)
            .collect();
        assert_eq!(notices, [13, 14, 15, 16, 17, 18, 19, 20, 21, 0], "{out}");
        assert!(
            out.ends_with("::notice title=11 of 30 findings not annotated::GitHub shows 10 annotations of each level per step, and failing and new findings were annotated first; left out: 2 errors, 9 notices. The JSON report lists them all; the job summary and code scanning (SARIF) show the first ones.\n"),
            "{out}"
        );
    }

    #[test]
    fn ten_of_each_level_fit_without_a_notice() {
        let file = records(30);
        let severities = [Severity::Error, Severity::Warning, Severity::Note];
        let checked = checked(
            (0..30)
                .map(|i| at(&file, i, severities[i / 10], false, false))
                .collect(),
        );
        let out = render(&sample_report(&checked));
        assert_eq!(out.lines().count(), 30, "{out}");
        assert!(!out.contains("not annotated"), "{out}");
    }

    #[test]
    fn never_more_than_the_runner_keeps_and_every_finding_counted() {
        let severities = [Severity::Error, Severity::Warning, Severity::Note];
        for errors in [0, 9, 10, 11, 25] {
            for warnings in [0, 10, 11] {
                for notes in [0, 9, 10, 11] {
                    let file = records(errors + warnings + notes);
                    let findings: Vec<Finding> = (0..errors + warnings + notes)
                        .map(|i| {
                            let s = if i < errors {
                                severities[0]
                            } else if i < errors + warnings {
                                severities[1]
                            } else {
                                severities[2]
                            };
                            at(&file, i, s, i % 3 == 0, false)
                        })
                        .collect();
                    let total = findings.len();
                    let checked = checked(findings);
                    let report = sample_report(&checked);
                    let out = render(&report);
                    assert_eq!(out, render(&report), "byte-stable");
                    let got = levels_and_lines(&out);
                    for level in ["error", "warning", "notice"] {
                        let n = got.iter().filter(|(l, _)| *l == level).count();
                        assert!(n <= PER_LEVEL, "{errors}/{warnings}/{notes}: {n} {level}s");
                    }
                    let annotated = got.iter().filter(|(_, line)| *line > 0).count();
                    let left_out = out
                        .lines()
                        .find_map(|l| l.strip_prefix("::notice title="))
                        .and_then(|l| l.split(' ').next())
                        .map_or(0, |n| n.parse().expect("a count"));
                    assert_eq!(annotated + left_out, total, "{errors}/{warnings}/{notes}");
                    assert_eq!(
                        left_out > 0,
                        errors > PER_LEVEL || warnings > PER_LEVEL || notes > PER_LEVEL,
                        "{errors}/{warnings}/{notes}"
                    );
                }
            }
        }
    }
}
