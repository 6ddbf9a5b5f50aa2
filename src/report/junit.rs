//! JUnit XML, the one test-report format every CI system (Jenkins, GitLab,
//! Azure Pipelines, CircleCI, Buildkite) can show without a plugin: each
//! record with findings is a test case, so a failing check reads like a
//! failing test suite, record by record.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::check::{Finding, Origin};
use crate::diag::Severity;
use crate::model::format_time;
use crate::report::check::{CheckReport, place};

/// The name of the suite and of the report that holds it.
const SUITE: &str = "severance check";

/// The class of test cases that are not about one record.
const INVENTORY: &str = "inventory";

/// One test case: a record and its findings, or one finding that has no
/// record.
struct Case<'r> {
    name: String,
    classname: &'static str,
    file: Option<(&'r str, u32)>,
    findings: Vec<&'r Finding>,
}

/// What a test case says, which decides the child element it gets.
enum Outcome<'r> {
    /// Findings that fail the check; the first one leads.
    Failure(&'r Finding),
    /// Like a failure, but the input could not be loaded or evaluated, which
    /// JUnit tells apart from an assertion that failed.
    Error(&'r Finding),
    /// Only waived findings (and perhaps some below the threshold).
    Skipped(String),
    /// Only findings below the threshold.
    Passed,
}

/// Which readers of JUnit XML the document is written for. There is no one
/// JUnit schema: GitLab and most CI systems read a test case's `file` and
/// `line` and a `skipped` count on `testsuites`, which the strict
/// `junit-10.xsd` that schema-checking consumers use refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// What GitLab, Azure Pipelines, CircleCI and Buildkite read: test
    /// cases carry `file` and `line`, so merge requests link to them.
    Common,
    /// Valid against `junit-10.xsd`: no attribute the schema lacks. The
    /// place of each finding is still in its failure text.
    Strict,
}

/// Renders the check report as a JUnit XML document.
pub fn render(report: &CheckReport<'_>, dialect: Dialect) -> String {
    let cases = cases(report);
    let outcomes: Vec<Outcome<'_>> = cases.iter().map(|c| outcome(report, c)).collect();
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // INVARIANT: writing into a `Vec` cannot fail.
    write(&mut writer, report, &cases, &outcomes, dialect)
        .unwrap_or_else(|e| unreachable!("writing XML into memory: {e}"));
    let mut out = String::from_utf8(writer.into_inner())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    out.push('\n');
    out
}

/// Records in subject order, then the findings that have no record in
/// the order they are reported.
fn cases<'r>(report: &'r CheckReport<'_>) -> Vec<Case<'r>> {
    let mut records: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let mut loose = Vec::new();
    for f in report.findings() {
        match &f.subject {
            Some(subject) => records.entry(subject.as_str()).or_default().push(f),
            None => loose.push(f),
        }
    }
    let mut out: Vec<Case<'r>> = records
        .into_iter()
        .map(|(subject, findings)| Case {
            name: subject.to_string(),
            classname: findings
                .iter()
                .find_map(|f| f.kind)
                .map_or(INVENTORY, |k| k.as_str()),
            file: findings
                .iter()
                .find_map(|f| f.record_span.as_ref().or(f.diagnostic.span.as_ref()))
                .map(|s| (s.file.path.as_str(), s.line)),
            findings,
        })
        .collect();
    out.extend(loose.into_iter().map(|f| {
        let span = f.diagnostic.span.as_ref();
        Case {
            name: format!(
                "{} {}",
                f.code(),
                if span.is_some() {
                    place(f)
                } else {
                    report.inventory_dir.clone()
                }
            ),
            classname: INVENTORY,
            file: span.map(|s| (s.file.path.as_str(), s.line)),
            findings: vec![f],
        }
    }));
    out
}

/// Failing is judged by the report's threshold, so the test report and
/// the check's verdict never disagree.
fn outcome<'r>(report: &CheckReport<'_>, case: &Case<'r>) -> Outcome<'r> {
    let mut failing = case.findings.iter().filter(|f| report.fails(f));
    // Input that could not be evaluated is an error whatever the
    // threshold or `--only-new` say: the check itself did not run.
    let broken = case.findings.iter().find(|f| {
        f.waived_by.is_none()
            && f.diagnostic.severity == Severity::Error
            && matches!(f.origin, Origin::Evaluation | Origin::Validation)
    });
    if let Some(f) = broken {
        return Outcome::Error(f);
    }
    if let Some(f) = failing.next() {
        return Outcome::Failure(f);
    }
    let mut waivers: Vec<&str> = Vec::new();
    for id in case.findings.iter().filter_map(|f| f.waived_by.as_deref()) {
        if !waivers.contains(&id) {
            waivers.push(id);
        }
    }
    if waivers.is_empty() {
        return Outcome::Passed;
    }
    let named: Vec<String> = waivers.iter().map(|w| format!("`{w}`")).collect();
    Outcome::Skipped(format!("waived by {}", named.join(", ")))
}

fn write(
    w: &mut Writer<Vec<u8>>,
    report: &CheckReport<'_>,
    cases: &[Case<'_>],
    outcomes: &[Outcome<'_>],
    dialect: Dialect,
) -> io::Result<()> {
    let count = |pick: fn(&Outcome<'_>) -> bool| outcomes.iter().filter(|o| pick(o)).count();
    let totals = vec![
        ("name", SUITE.to_string()),
        ("tests", cases.len().to_string()),
        (
            "failures",
            count(|o| matches!(o, Outcome::Failure(_))).to_string(),
        ),
        (
            "errors",
            count(|o| matches!(o, Outcome::Error(_))).to_string(),
        ),
        (
            "skipped",
            count(|o| matches!(o, Outcome::Skipped(_))).to_string(),
        ),
    ];
    // `junit-10.xsd` has no `skipped` on `testsuites`.
    let suites_totals: Vec<(&str, String)> = totals
        .iter()
        .filter(|(name, _)| dialect == Dialect::Common || *name != "skipped")
        .cloned()
        .collect();
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes(attributes(&suites_totals))
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes(attributes(&totals))
                .write_inner_content(|w| {
                    write_properties(w, report)?;
                    for (case, outcome) in cases.iter().zip(outcomes) {
                        write_case(w, report, case, outcome, dialect)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

/// The run's inputs, so a test report can be traced back to the check
/// that produced it.
fn write_properties(w: &mut Writer<Vec<u8>>, report: &CheckReport<'_>) -> io::Result<()> {
    let mut properties = vec![
        ("as-of", format_time(report.as_of)),
        ("head", report.head.describe()),
    ];
    if let Some(base) = &report.base {
        properties.push(("base", base.describe()));
    }
    properties.push(("fail-on", report.gate.fail_on.as_str().to_string()));
    properties.push(("only-new", report.gate.only_new.to_string()));
    properties.push(("verdict", report.verdict.as_str().to_string()));
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in &properties {
            w.create_element("property")
                .with_attributes(attributes(&[
                    ("name", name.to_string()),
                    ("value", value.clone()),
                ]))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_case(
    w: &mut Writer<Vec<u8>>,
    report: &CheckReport<'_>,
    case: &Case<'_>,
    outcome: &Outcome<'_>,
    dialect: Dialect,
) -> io::Result<()> {
    let mut attrs = vec![
        ("name", case.name.clone()),
        ("classname", case.classname.to_string()),
    ];
    if let Some((file, line)) = case.file.filter(|_| dialect == Dialect::Common) {
        attrs.push(("file", file.to_string()));
        attrs.push(("line", line.to_string()));
    }
    let (failing, rest): (Vec<&Finding>, Vec<&Finding>) =
        case.findings.iter().partition(|f| report.fails(f));
    let element = w
        .create_element("testcase")
        .with_attributes(attributes(&attrs));
    if matches!(outcome, Outcome::Passed) && rest.is_empty() {
        element.write_empty()?;
        return Ok(());
    }
    element.write_inner_content(|w| {
        match outcome {
            Outcome::Failure(lead) | Outcome::Error(lead) => {
                let name = if matches!(outcome, Outcome::Error(_)) {
                    "error"
                } else {
                    "failure"
                };
                let body: Vec<String> = failing.iter().map(|f| line(f)).collect();
                w.create_element(name)
                    .with_attributes(attributes(&[
                        ("type", lead.code().to_string()),
                        ("message", lead.diagnostic.message.clone()),
                    ]))
                    .write_text_content(BytesText::new(&xml_safe(&body.join("\n"))))?;
            }
            Outcome::Skipped(message) => {
                w.create_element("skipped")
                    .with_attributes(attributes(&[("message", message.clone())]))
                    .write_empty()?;
            }
            Outcome::Passed => {}
        }
        // What does not fail the check is still worth reading next to what
        // does: notes, findings below the threshold and waived findings.
        if !rest.is_empty() {
            let body: Vec<String> = rest.iter().map(|f| line(f)).collect();
            w.create_element("system-out")
                .write_text_content(BytesText::new(&xml_safe(&body.join("\n"))))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `severity code place message`, on one line whatever the message holds.
fn line(f: &Finding) -> String {
    let message = f.diagnostic.message.lines().collect::<Vec<_>>().join(" ");
    let mut s = format!(
        "{} {} {} {message}",
        f.diagnostic.severity.as_str(),
        f.code(),
        place(f)
    );
    if let Some(w) = &f.waived_by {
        s.push_str(&format!(" (waived by `{w}`)"));
    }
    s
}

/// Attribute pairs with their values made safe; quick-xml escapes them.
fn attributes<'a>(pairs: &'a [(&'a str, String)]) -> Vec<(&'a str, Cow<'a, str>)> {
    pairs.iter().map(|(k, v)| (*k, xml_safe(v))).collect()
}

/// XML 1.0 cannot carry most control characters even escaped, and one in a
/// message (from a YAML file, say) would make the whole report unreadable
/// to the CI; they become U+FFFD.
fn xml_safe(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use quick_xml::Reader;
    use quick_xml::XmlVersion;
    use quick_xml::events::BytesStart;

    use super::*;
    use crate::report::sarif::tests::{sample_checked, sample_report};

    #[derive(Debug, Default)]
    struct Parsed {
        suites: Vec<BTreeMap<String, String>>,
        cases: Vec<BTreeMap<String, String>>,
        children: Vec<(String, String, BTreeMap<String, String>)>,
        texts: Vec<String>,
    }

    fn attrs(e: &BytesStart<'_>) -> BTreeMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .expect("attribute value")
                        .into_owned(),
                )
            })
            .collect()
    }

    /// Reads the document back, failing on anything that is not
    /// well-formed (quick-xml checks that end tags match).
    fn parse(xml: &str) -> Parsed {
        let mut reader = Reader::from_str(xml);
        let mut parsed = Parsed::default();
        let mut open: Vec<String> = Vec::new();
        let mut case = String::new();
        loop {
            let event = reader.read_event().expect("well-formed XML");
            let (e, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::Text(t) => {
                    let text = t.xml10_content();
                    if !text.trim().is_empty() {
                        parsed.texts.push(text.into_owned());
                    }
                    continue;
                }
                Event::GeneralRef(r) => {
                    parsed.texts.push(format!("&{};", r.xml10_content()));
                    continue;
                }
                Event::End(_) => {
                    open.pop();
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = e.name().as_ref().to_string();
            let a = attrs(e);
            match name.as_str() {
                "testsuites" | "testsuite" => parsed.suites.push(a),
                "testcase" => {
                    case = a.get("name").cloned().unwrap_or_default();
                    parsed.cases.push(a);
                }
                "failure" | "error" | "skipped" | "system-out" => {
                    parsed.children.push((case.clone(), name.clone(), a));
                }
                _ => {}
            }
            if !empty {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed {open:?}");
        parsed
    }

    fn rendered() -> (String, Parsed) {
        let checked = sample_checked();
        let xml = render(&sample_report(&checked), Dialect::Common);
        let parsed = parse(&xml);
        (xml, parsed)
    }

    fn child<'p>(p: &'p Parsed, case: &str, name: &str) -> Option<&'p BTreeMap<String, String>> {
        p.children
            .iter()
            .find(|(c, n, _)| c == case && n == name)
            .map(|(_, _, a)| a)
    }

    #[test]
    fn well_formed_and_counts_match_the_cases() {
        let (xml, p) = rendered();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
        assert_eq!(p.suites.len(), 2);
        let count = |name: &str| p.children.iter().filter(|(_, n, _)| n == name).count();
        for suite in &p.suites {
            assert_eq!(suite["name"], "severance check");
            assert_eq!(suite["tests"], p.cases.len().to_string());
            assert_eq!(suite["failures"], count("failure").to_string());
            assert_eq!(suite["errors"], count("error").to_string());
            assert_eq!(suite["skipped"], count("skipped").to_string());
        }
        let names: Vec<&str> = p.cases.iter().map(|c| c["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "cred/x",
                "nhi/a",
                "nhi/b",
                "empty-inventory inventory",
                "yaml-syntax ./inventory/creds, old.yaml:2:3"
            ]
        );
        assert_eq!(
            (count("failure"), count("error"), count("skipped")),
            (1, 3, 1)
        );
    }

    #[test]
    fn outcomes_follow_origin_waivers_and_threshold() {
        let (_, p) = rendered();
        let cred = &p.cases[0];
        assert_eq!(cred["classname"], "credential");
        assert_eq!(cred["file"], "./inventory/creds, old.yaml");
        assert_eq!(cred["line"], "1");
        assert_eq!(
            child(&p, "cred/x", "error").map(|a| a["type"].as_str()),
            Some("evaluation-failed")
        );

        let failure = child(&p, "nhi/a", "failure").expect("nhi/a fails");
        assert_eq!(failure["type"], "nhi-owner-missing");
        assert_eq!(failure["message"], "`nhi/a`: has no owner");
        assert!(child(&p, "nhi/a", "system-out").is_some(), "the note");

        let skipped = child(&p, "nhi/b", "skipped").expect("nhi/b is waived");
        assert_eq!(skipped["message"], "waived by `waiver/b`");
        assert!(child(&p, "nhi/b", "failure").is_none());

        let syntax = child(&p, "yaml-syntax ./inventory/creds, old.yaml:2:3", "error")
            .expect("validation errors are errors");
        assert_eq!(
            syntax["message"],
            "100% broken: `a<b> & \"c\"`,\r\nsecond\u{FFFD} line"
        );
        assert_eq!(p.cases[3]["classname"], "inventory");
        assert!(!p.cases[3].contains_key("file"));
    }

    #[test]
    fn bodies_list_one_line_per_finding() {
        let (xml, p) = rendered();
        assert!(!xml.contains('\u{7}'));
        let text = p.texts.concat();
        assert!(
            text.contains("error nhi-owner-missing inventory/nhi.yaml:3:3 `nhi/a`: has no owner")
        );
        assert!(text.contains("note nhi-note inventory/nhi.yaml:1:3 `nhi/a`: worth a look"));
        assert!(text.contains("(waived by `waiver/b`)"));
    }

    #[test]
    fn the_threshold_decides_what_fails() {
        let mut checked = sample_checked();
        for f in &mut checked.findings {
            f.waived_by = None;
        }
        let mut report = sample_report(&checked);
        let p = parse(&render(&report, Dialect::Common));
        assert!(
            child(&p, "nhi/b", "failure").is_some(),
            "an unwaived warning fails"
        );
        report.gate.fail_on = Severity::Error;
        let p = parse(&render(&report, Dialect::Common));
        assert!(child(&p, "nhi/b", "failure").is_none());
        assert!(child(&p, "nhi/b", "system-out").is_some());
        assert_eq!(p.suites[0]["failures"], "1");
        report.gate.fail_on = Severity::Note;
        let p = parse(&render(&report, Dialect::Common));
        assert!(
            child(&p, "nhi/a", "system-out").is_none(),
            "the note fails too"
        );
        assert_eq!(
            render(&report, Dialect::Common),
            render(&report, Dialect::Common),
            "byte-stable"
        );
    }

    #[test]
    fn the_strict_dialect_has_only_what_junit_10_allows() {
        let checked = sample_checked();
        let report = sample_report(&checked);
        let p = parse(&render(&report, Dialect::Strict));
        // `junit-10.xsd`: `testsuites` has no `skipped`, `testcase` no
        // `file` or `line`.
        assert!(!p.suites[0].contains_key("skipped"));
        assert_eq!(p.suites[1]["skipped"], "1");
        for case in &p.cases {
            let keys: Vec<&str> = case.keys().map(String::as_str).collect();
            assert_eq!(keys, ["classname", "name"], "{case:?}");
        }
        // The place is still there, in the text of each finding.
        assert!(
            p.texts
                .concat()
                .contains("error nhi-owner-missing inventory/nhi.yaml:3:3")
        );
        let common = parse(&render(&report, Dialect::Common));
        assert_eq!(common.children, p.children, "the same outcomes");
    }
}
