//! Stage 6, report: render findings, plans and explanations as text or JSON.
//! Rendering makes no decisions and reads no clock; the same plan always
//! gives the same bytes.

pub mod check;
pub mod diff;
pub mod explain;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diag::{Diagnostic, Severity};

/// Renders a finding the way rustc renders its errors, with the file, line,
/// column and the offending text.
pub fn render_diagnostic(d: &Diagnostic) -> String {
    render_finding(&Rendered {
        severity: d.severity,
        code: d.code.as_str(),
        message: &d.message,
        span: d.span.as_ref(),
        label: d.label.as_deref(),
        notes: &d.notes,
        help: d.help.as_deref(),
        footer: &[],
    })
}

/// The parts of a finding that the terminal rendering shows.
pub struct Rendered<'a> {
    /// How bad.
    pub severity: Severity,
    /// Stable code.
    pub code: &'a str,
    /// The message.
    pub message: &'a str,
    /// Where.
    pub span: Option<&'a crate::diag::Span>,
    /// Label under the place.
    pub label: Option<&'a str>,
    /// Other places.
    pub notes: &'a [crate::diag::Note],
    /// A hint.
    pub help: Option<&'a str>,
    /// Extra `= note:` lines.
    pub footer: &'a [String],
}

/// Renders any finding (a diagnostic or a check finding) like rustc.
pub fn render_finding(d: &Rendered<'_>) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let mut group = Group::with_title(level.primary_title(d.message).id(d.code));
    if let Some(span) = d.span {
        let mut primary = AnnotationKind::Primary.span(span.range.clone());
        if let Some(label) = d.label {
            primary = primary.label(label);
        }
        let mut snippet = Snippet::source(span.file.text.as_str())
            .path(span.file.path.as_str())
            .annotation(primary);
        for note in d
            .notes
            .iter()
            .filter(|n| n.span.file.path == span.file.path)
        {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(note.span.range.clone())
                    .label(note.label.as_str()),
            );
        }
        group = group.element(snippet);
        for note in d
            .notes
            .iter()
            .filter(|n| n.span.file.path != span.file.path)
        {
            group = group.element(
                Snippet::source(note.span.file.text.as_str())
                    .path(note.span.file.path.as_str())
                    .annotation(
                        AnnotationKind::Context
                            .span(note.span.range.clone())
                            .label(note.label.as_str()),
                    ),
            );
        }
    }
    for line in d.footer {
        group = group.element(Level::NOTE.message(line.as_str()));
    }
    if let Some(help) = d.help {
        group = group.element(Level::HELP.message(help));
    }
    Renderer::plain().render(&[group])
}

/// Findings for every policy that failed to evaluate, placed at the record
/// with a note at the policy.
pub fn evaluation_failures(
    plan: &crate::decide::Plan,
    inventory: &crate::validate::Inventory,
    pack: &crate::validate::PolicyPack,
) -> Vec<Diagnostic> {
    plan.decisions
        .iter()
        .filter(|d| d.status == crate::decide::Status::Error)
        .flat_map(|d| {
            d.failures
                .iter()
                .map(move |f| evaluation_failure(d, f, inventory, pack))
        })
        .collect()
}

/// The finding for one policy that failed to evaluate on a decided record.
pub fn evaluation_failure(
    d: &crate::decide::Decision,
    f: &crate::decide::Failure,
    inventory: &crate::validate::Inventory,
    pack: &crate::validate::PolicyPack,
) -> Diagnostic {
    let record = &inventory.records[d.record];
    let mut diag = Diagnostic::error(
        crate::diag::Code::EvaluationFailed,
        format!(
            "policy `{}` could not be evaluated on `{}` for `{}`",
            f.policy, d.subject, f.action
        ),
    )
    .at(record.span.clone())
    .label(f.message.clone())
    .help("the record is reported as `error`, not retained; fix the policy or the record");
    if let Some((span, label)) = failed_at(pack, &f.policy, f.at) {
        diag = diag.note(span, label);
    }
    diag
}

/// Where a policy failed: the expression Cedar names, when its range lies
/// within the policy's text; else the policy's first line.
pub fn failed_at(
    pack: &crate::validate::PolicyPack,
    policy: &str,
    at: Option<(usize, usize)>,
) -> Option<(crate::diag::Span, &'static str)> {
    let info = pack.info.get(policy)?;
    let start = info.span.range.start;
    let end = start + info.text.len();
    Some(match at {
        Some((from, to)) if start <= from && to <= end && from < to => (
            crate::diag::Span::new(&info.span.file, from..to),
            "this expression failed",
        ),
        _ => (info.span.clone(), "this policy failed"),
    })
}

/// Renders an error that stopped the run.
pub fn render_error(e: &crate::error::Error) -> String {
    use miette::Diagnostic as _;
    let mut text = format!("error: {e}");
    if let Some(help) = e.help() {
        text.push_str(&format!("\n  = help: {help}"));
    }
    text
}
