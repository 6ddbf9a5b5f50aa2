//! Stage 8, report: render findings, plans and explanations as text or JSON.
//! Rendering makes no decisions and reads no clock; the same plan always
//! gives the same bytes.

pub mod audit;
pub mod audit_html;
pub mod check;
pub mod diff;
pub mod explain;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod ledger;
pub mod markdown;
pub mod proof;
pub mod reconcile;
pub mod replay;
pub mod sarif;

use std::borrow::Cow;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diag::{Diagnostic, Severity, printable};

/// Where a run read its input, as reports name it: the inventory and policy
/// directories as the user gave them. The command that read them builds it.
#[derive(Debug, Clone, Copy)]
pub struct InputDirs<'a> {
    /// The inventory directory.
    pub inventory: &'a std::path::Path,
    /// The policy directory.
    pub policies: &'a std::path::Path,
}

/// `text` with its first letter in upper case: a description as the first
/// words of a sentence or a paragraph.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A place as reports write it: `file:line:column`.
pub(crate) fn place_text(span: &crate::diag::Span) -> String {
    format!("{}:{}:{}", span.file.path, span.line, span.col)
}

/// Renders a finding the way rustc renders its errors, with the file, line,
/// column and the offending text.
pub fn render_diagnostic(d: &Diagnostic) -> String {
    render_finding(&Rendered::of(d, d.code.as_str(), &[]))
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

impl<'a> Rendered<'a> {
    /// The parts of a diagnostic, shown under `code` (its own, or one
    /// marked up for the report) with `footer`.
    pub fn of<C>(d: &'a Diagnostic<C>, code: &'a str, footer: &'a [String]) -> Self {
        Rendered {
            severity: d.severity,
            code,
            message: &d.message,
            span: d.span.as_ref(),
            label: d.label.as_deref(),
            notes: &d.notes,
            help: d.help.as_deref(),
            footer,
        }
    }
}

/// Renders any finding (a diagnostic or a check finding) like rustc. Every
/// text in it may quote input, so each goes through [`printable`];
/// annotate-snippets shows the quoted source's control characters as
/// symbols itself, keeping its columns.
pub fn render_finding(d: &Rendered<'_>) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let message = printable(d.message);
    let mut group = Group::with_title(level.primary_title(message.as_ref()).id(d.code));
    let label = d.label.map(printable);
    let notes: Vec<(&crate::diag::Span, Cow<'_, str>)> = d
        .notes
        .iter()
        .map(|n| (&n.span, printable(&n.label)))
        .collect();
    let paths: Vec<Cow<'_, str>> = notes
        .iter()
        .map(|(span, _)| printable(span.path()))
        .collect();
    let path = d.span.map(|span| printable(span.path()));
    if let (Some(span), Some(path)) = (d.span, &path) {
        // Notes near the primary place share its snippet; the others get
        // their own, so that no snippet quotes more than the lines between.
        let (near, far): (Vec<_>, Vec<_>) = notes.iter().zip(&paths).partition(|((n, _), _)| {
            n.file.path == span.file.path
                && n.range.start.abs_diff(span.range.start) < SNIPPET_REACH
        });
        let mut annotations = vec![(span.range.clone(), label.as_deref(), true)];
        annotations.extend(
            near.iter()
                .map(|((n, l), _)| (n.range.clone(), Some(l.as_ref()), false)),
        );
        group = group.element(snippet(&span.file, path, &annotations));
        for ((note, label), path) in far {
            group = group.element(snippet(
                &note.file,
                path,
                &[(note.range.clone(), Some(label.as_ref()), false)],
            ));
        }
    }
    let footer: Vec<Cow<'_, str>> = d.footer.iter().map(|l| printable(l)).collect();
    for line in &footer {
        group = group.element(Level::NOTE.message(line.as_ref()));
    }
    let help = d.help.map(printable);
    if let Some(help) = &help {
        group = group.element(Level::HELP.message(help.as_ref()));
    }
    Renderer::plain().render(&[group])
}

/// How far apart (in bytes) two places of one file may be and still be
/// quoted in one snippet.
const SNIPPET_REACH: usize = 16 * 1024;

/// A snippet quoting only the lines that hold `annotations` (range, label,
/// whether primary), not the whole file: annotate-snippets prepares every
/// line of the source it is given, which for a 60 MB file of empty lines
/// took gigabytes to show one line.
fn snippet<'a>(
    file: &'a crate::diag::SourceFile,
    path: &'a str,
    annotations: &[(std::ops::Range<usize>, Option<&'a str>, bool)],
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let start = annotations.iter().map(|a| a.0.start).min().unwrap_or(0);
    let end = annotations.iter().map(|a| a.0.end).max().unwrap_or(0);
    let lines = file.lines_around(start..end);
    let (first_line, _) = file.line_col(lines.start);
    let mut snippet = Snippet::source(&file.text[lines.clone()])
        .line_start(first_line as usize)
        .path(path);
    for (range, label, primary) in annotations {
        let from = range.start.clamp(lines.start, lines.end) - lines.start;
        let to = range.end.clamp(lines.start, lines.end) - lines.start;
        let kind = if *primary {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        let mut annotation = kind.span(from..to.max(from));
        if let Some(label) = label {
            annotation = annotation.label(*label);
        }
        snippet = snippet.annotation(annotation);
    }
    snippet
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
                .map(move |f| d.failure_diagnostic(f, inventory, pack))
        })
        .collect()
}

/// Renders an error that stopped the run.
pub fn render_error(e: &crate::error::Error) -> String {
    use miette::Diagnostic as _;
    let mut text = format!("error: {}", printable(&e.to_string()));
    if let Some(help) = e.help() {
        text.push_str(&format!("\n  = help: {}", printable(&help.to_string())));
    }
    text
}
