//! Findings as values: every problem severance finds in its input is a
//! [`Diagnostic`] with a stable code and a place in a source file, so that a
//! whole run's problems can be collected, sorted and reported together.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

/// One file that severance read, kept whole so that diagnostics can quote it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user will recognise it (relative to where they ran us
    /// when they passed a relative directory).
    pub path: String,
    /// The file's text.
    pub text: String,
    /// The offset of every [`LINES_PER_MARK`]th line's start: a full index
    /// costs 8 bytes a line, eight times a file of empty lines, for every
    /// file read whether or not anything is found in it.
    marks: Vec<usize>,
}

/// How many lines apart [`SourceFile`]'s marks are; a lookup scans at most
/// this many lines.
const LINES_PER_MARK: usize = 64;

impl SourceFile {
    /// Wraps the text of a file read from `path`.
    pub fn new(path: impl Into<String>, text: String) -> Arc<Self> {
        let marks = std::iter::once(0)
            .chain(
                text.match_indices('\n')
                    .map(|(i, _)| i + 1)
                    .skip(LINES_PER_MARK - 1)
                    .step_by(LINES_PER_MARK),
            )
            .collect();
        Arc::new(SourceFile {
            path: path.into(),
            text,
            marks,
        })
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let mark = match self.marks.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let from = self.marks[mark];
        let before = self.text.as_bytes().get(from..offset).unwrap_or_default();
        let newlines = before.iter().filter(|&&b| b == b'\n').count();
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(from, |i| from + i + 1);
        let line = mark * LINES_PER_MARK + newlines;
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }

    /// The byte offset of a 1-based line and column (in characters).
    pub fn offset_of(&self, line: u32, col: u32) -> usize {
        let line = (line as usize).saturating_sub(1);
        let Some(&from) = self.marks.get(line / LINES_PER_MARK) else {
            return self.text.len();
        };
        let mut start = from;
        for _ in 0..line % LINES_PER_MARK {
            match self.text[start..].find('\n') {
                Some(i) => start += i + 1,
                None => return self.text.len(),
            }
        }
        let rest = &self.text[start..];
        let skip = rest
            .char_indices()
            .nth((col as usize).saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        start + skip
    }

    /// The byte range of the whole lines that hold `range`, without the
    /// last newline: what a snippet quoting `range` needs of the file.
    pub fn lines_around(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = range.start.min(self.text.len());
        let end = range.end.clamp(start, self.text.len());
        // Bytes, not `str`: a range that is not on a character boundary
        // must not panic, and a newline is always one.
        let bytes = self.text.as_bytes();
        let first = bytes[..start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let last = bytes[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| end + i);
        first..last
    }
}

/// A place in a source file: the file, a byte range, and its line and column.
#[derive(Clone)]
pub struct Span {
    /// The file the place is in.
    pub file: Arc<SourceFile>,
    /// Byte range of the text at fault (may be empty).
    pub range: Range<usize>,
    /// 1-based line of the start of `range`.
    pub line: u32,
    /// 1-based column (in characters) of the start of `range`.
    pub col: u32,
}

impl Span {
    /// A span over `range` in `file`.
    pub fn new(file: &Arc<SourceFile>, range: Range<usize>) -> Span {
        let (line, col) = file.line_col(range.start);
        Span {
            file: Arc::clone(file),
            range,
            line,
            col,
        }
    }

    /// A span of `len` bytes starting at a line and column.
    pub fn at(file: &Arc<SourceFile>, line: u32, col: u32, len: usize) -> Span {
        let start = file.offset_of(line, col);
        let end = (start + len).min(file.text.len());
        Span {
            file: Arc::clone(file),
            range: start..end,
            line,
            col,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        &self.file.path
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.path, self.line, self.col)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.path, self.line, self.col)
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input cannot be used as it is.
    Error,
    /// The input can be used, but probably not as intended.
    Warning,
    /// Worth knowing; never fails anything by itself.
    Note,
}

impl Severity {
    /// Parses `error`, `warning` or `note`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "note" => Some(Severity::Note),
            _ => None,
        }
    }

    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A table of stable kebab-case codes: each with its name, one line saying
/// what it means and one saying what fixes it. The findings' codes below and
/// the ledger's verification failures (`ledger::codes`) are both such tables.
macro_rules! codes {
    ($(#[$meta:meta])* $code:ident; $($variant:ident = $name:literal: $desc:literal => $fix:literal,)*) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $code {
            $(#[doc = $desc] $variant,)*
        }

        impl $code {
            /// Every code, in documentation order.
            pub const ALL: &'static [$code] = &[$($code::$variant,)*];

            /// The stable kebab-case name.
            pub fn as_str(self) -> &'static str {
                match self { $($code::$variant => $name,)* }
            }

            /// One line saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $($code::$variant => $desc,)* }
            }

            /// What usually fixes it: the help of code-scanning rules and
            /// of the documentation.
            pub fn fix(self) -> &'static str {
                match self { $($code::$variant => $fix,)* }
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// Stable kebab-case codes of findings; `docs/diagnostics.md` documents each.
    Code;
    ReadFailed = "read-failed": "a file under the inventory or policy directory could not be read"
        => "make the path a regular file that the user running severance can read",
    YamlSyntax = "yaml-syntax": "a file is not well-formed YAML"
        => "correct the YAML at the line and column shown; quoting a value that contains `:` or `#` is the usual fix",
    YamlLimit = "yaml-limit": "a file exceeds a size, alias or nesting limit that protects the run from crafted input"
        => "split the file, or write out the aliases and nesting that exceed the limit; records need neither",
    NotARecord = "not-a-record": "a YAML document or list item is not a mapping and so cannot be a record"
        => "make each document or list item a mapping that has at least `id` and `kind`",
    UnknownKind = "unknown-kind": "a record's `kind` is not one severance knows"
        => "use one of the kinds listed in docs/inventory.md; the message suggests the nearest one",
    MissingField = "missing-field": "a field that the record's kind requires is absent"
        => "add the field; docs/inventory.md lists the fields each kind requires",
    UnknownField = "unknown-field": "a field is not part of the record's kind"
        => "remove the field or correct its spelling; the message suggests the nearest known field",
    WrongType = "wrong-type": "a field's value has the wrong YAML type"
        => "write the value with the type the field expects, quoting strings that YAML would read as numbers, booleans or dates",
    InvalidValue = "invalid-value": "a field's value is not one of the values its kind allows"
        => "use one of the values the message lists for the field",
    InvalidId = "invalid-id": "a record's id contains a control, bidirectional or zero-width character, which could forge lines of a plan or make two ids look alike"
        => "write the id with visible characters only; by convention ids read `<kind>/<system>/<key>`",
    InvalidDate = "invalid-date": "a date or time is not RFC 3339"
        => "write the instant in RFC 3339 with an offset, for example `2026-10-01T00:00:00Z`, or a date `2026-10-01`",
    DuplicateId = "duplicate-id": "two records share an id"
        => "give each record its own id; if both describe the same thing, merge them into one record",
    DanglingLink = "dangling-link": "a link names a record that does not exist"
        => "correct the id, or add the record it names",
    WrongLinkKind = "wrong-link-kind": "a link names a record of a kind the link does not allow"
        => "point the link at a record of a kind the field allows (docs/inventory.md lists them)",
    ConflictingFacts = "conflicting-facts": "a field of one record is given in two places (the record and an `extends:` fragment, or two fragments); a curated fragment that replaces a value an importer reported without being its authority is a warning"
        => "keep each fact in one place: correct a system of record's fact at the source, and keep curated facts (owners, legal holds) in curated fragments only",
    InconsistentRecord = "inconsistent-record": "fields of one record contradict each other"
        => "change one of the contradicting fields, named in the message, so that the record tells one story",
    DepartureUndated = "departure-undated": "a terminated person has no termination date; severance treats them as departed at the run's instant"
        => "add `employments[-1].termination.effective` from the HR record, so that deadlines count from the real departure",
    EmptyInventory = "empty-inventory": "no records were found under the inventory directory"
        => "point `--inventory` at the directory that holds the YAML records",
    SchemaSyntax = "schema-syntax": "the Cedar schema does not parse"
        => "correct the Cedar schema at the line and column shown",
    PolicySyntax = "policy-syntax": "a Cedar policy file does not parse"
        => "correct the Cedar policy at the line and column shown",
    PolicyTooDeep = "policy-too-deep": "a policy or schema file nests brackets or `if` expressions deeper than the limit that protects the run from crafted input"
        => "flatten the expression: split it into several `when` clauses, `&&`-joined conditions or policies; docs/policies.md gives the limits",
    PolicyTemplate = "policy-template": "a policy is a template (it has a `?principal` or `?resource` slot); severance links no templates, so it would never apply"
        => "write the policy for the entities it is meant for, with `resource is …` and a `when` condition in place of the slot",
    UnconditionalForbid = "unconditional-forbid": "a `forbid` without a `when` or `unless` blocks its action on every record of the kinds its scope names"
        => "add the `when` condition under which the action must be blocked; if blocking it everywhere is the intent, remove the action from the schema instead",
    PolicyInvalid = "policy-invalid": "a policy does not type-check against the schema in strict mode"
        => "make the policy type-check against the schema: the message names the attribute or type at fault; guard optional attributes with `has`",
    PolicyAnnotation = "policy-annotation": "a policy lacks a required annotation (`@id`, `@description`, `@control`) or one is malformed"
        => "add the annotation or correct its value; docs/policies.md describes each",
    DuplicatePolicyId = "duplicate-policy-id": "two policies share an `@id`"
        => "give each policy its own `@id`; finding codes and waivers name policies by it",
    NoPolicies = "no-policies": "the policy directory holds no policies"
        => "point `--policies` at the directory that holds the `.cedar` files and the schema",
    EvaluationFailed = "evaluation-failed": "a policy could not be evaluated on a record; the record's decision is `error`, never a silent retain"
        => "fix the record or the policy so that every attribute the policy reads is there (guard optional ones with `has`); until then the record's decision is `error`",
    WaiverExpired = "waiver-expired": "a waiver in `waivers.yaml` has passed its `expires`; it no longer waives anything"
        => "renew the waiver with a new `expires` and a fresh approval, or fix what it waived and delete it",
    WaiverOwnerDeparted = "waiver-owner-departed": "a waiver's owner (an error) or approver (a warning) has left; an exception needs an owner who is still here"
        => "give the waiver an `owner` and an `approver` who are still here",
    BaseInvalid = "base-invalid": "the `--base` revision does not validate, so `check` has no decision diff and counts every finding as new"
        => "make the base revision validate (`severance validate` at it); until then every finding counts as new",
    WaiverUnmatched = "waiver-unmatched": "a waiver lists a record on which nothing it names was found; stale exceptions hide the next real finding"
        => "take the record out of the waiver, or delete the waiver, now that nothing it waives is found there",
    ManifestUnreadable = "manifest-unreadable": "an importer's manifest (`import.json`) is not the JSON an import writes, so its directory's completeness and freshness are unknown"
        => "run the import again, which writes the manifest; never edit it by hand",
}

impl Code {
    /// The severity findings of this code usually have (a waiver's departed
    /// approver is a warning, its departed owner an error).
    pub fn usual_severity(self) -> Severity {
        match self {
            Code::WaiverUnmatched
            | Code::DepartureUndated
            | Code::BaseInvalid
            | Code::ManifestUnreadable => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary place that helps explain a finding.
#[derive(Clone, Debug)]
pub struct Note {
    /// Where.
    pub span: Span,
    /// What is there.
    pub label: String,
}

/// One finding: a code, a message, where it is and what might fix it.
///
/// The code's type is a parameter because not every code is in the table
/// above: what load and validate find carries a [`Code`] (the default),
/// while a finding of `severance check` may be a check rule's, named by the
/// `@id` the policy pack gives it (`crate::check::FindingCode`). Everything
/// else about a finding, and how it is rendered, is the same for both.
#[derive(Clone, Debug)]
pub struct Diagnostic<C = Code> {
    /// Stable code.
    pub code: C,
    /// How bad.
    pub severity: Severity,
    /// Lowercase message; user input in backticks.
    pub message: String,
    /// Where the fault is, when it has a place.
    pub span: Option<Span>,
    /// Label under the primary place.
    pub label: Option<String>,
    /// Other places that explain it (e.g. the first of two duplicates).
    pub notes: Vec<Note>,
    /// A hint at the fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with code and message.
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    /// A warning with code and message.
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    /// Sort key that puts findings in file, line, column order.
    pub fn sort_key(&self) -> (String, u32, u32, Code, String) {
        match &self.span {
            Some(s) => (
                s.file.path.clone(),
                s.line,
                s.col,
                self.code,
                self.message.clone(),
            ),
            None => (String::new(), 0, 0, self.code, self.message.clone()),
        }
    }
}

impl<C> Diagnostic<C> {
    /// A finding with code, severity and message, not yet placed.
    pub fn new(code: C, severity: Severity, message: impl Into<String>) -> Diagnostic<C> {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span: None,
            label: None,
            notes: Vec::new(),
            help: None,
        }
    }

    /// Places the finding.
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Labels the primary place.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary place.
    pub fn note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            label: label.into(),
        });
        self
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same finding under a code of another type.
    pub fn map_code<D>(self, f: impl FnOnce(C) -> D) -> Diagnostic<D> {
        Diagnostic {
            code: f(self.code),
            severity: self.severity,
            message: self.message,
            span: self.span,
            label: self.label,
            notes: self.notes,
            help: self.help,
        }
    }
}

/// Sorts findings by place so that output is byte-stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_cached_key(Diagnostic::sort_key);
}

/// Counts errors and warnings.
pub fn count(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diagnostics.len() - errors)
}

/// The closest candidate to `word` among `candidates`, when close enough to be
/// a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// The id closest to `id` among `candidates`, when it is one slip away;
/// ids share long prefixes, so they need a stricter measure than words.
pub fn did_you_mean_id<'a>(
    id: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(id, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Whether `c` must not reach a terminal as it is: a control character (C0,
/// DEL, C1: newlines forge lines, escape sequences drive the terminal), a
/// bidirectional override, mark or isolate (which reorders what follows), or
/// a zero-width character (which makes two different texts look the same).
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// What kind of [`is_hidden_char`] `c` is, for messages.
pub fn hidden_char_kind(c: char) -> &'static str {
    if c.is_control() {
        "a control character"
    } else if matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}') {
        "a zero-width character"
    } else {
        "a bidirectional formatting character"
    }
}

/// `text` fit to print in human output: every [`is_hidden_char`] written as
/// an escape (`\n`, `\t`, `\u{1b}`), so that input text (ids, names, file
/// names) can neither start a line of its own nor drive the terminal. The one
/// helper every human rendering passes input text through; machine formats
/// (JSON, SARIF, JUnit) escape by their own rules.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hidden_char(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let f = SourceFile::new("x.yaml", "a: 1\nname: \"Zoë\" x\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(5), (2, 1));
        let x = f.text.find(" x").expect("present") + 1;
        assert_eq!(f.line_col(x), (2, 13));
        assert_eq!(f.offset_of(2, 13), x);
    }

    #[test]
    fn printable_escapes_what_would_forge_lines_or_drive_a_terminal() {
        assert_eq!(printable("person/E1"), "person/E1");
        assert!(matches!(printable("Zoë"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nrevoke  b\x1b[2J\u{202e}c\u{200b}\u{85}\t\x7f"),
            "a\\nrevoke  b\\u{1b}[2J\\u{202e}c\\u{200b}\\u{85}\\t\\u{7f}"
        );
    }

    #[test]
    fn line_col_and_offsets_agree_across_marks() {
        let text: String = (0..300)
            .map(|i| format!("{}é{i}\n", "x".repeat(i % 7)))
            .collect();
        let f = SourceFile::new("x.yaml", text.clone());
        let mut start = 0;
        for (line, l) in (1..).zip(text.split_inclusive('\n')) {
            for (col, (i, _)) in l.char_indices().enumerate() {
                let offset = start + i;
                assert_eq!(f.line_col(offset), (line, col as u32 + 1), "{offset}");
                assert_eq!(f.offset_of(line, col as u32 + 1), offset);
            }
            start += l.len();
        }
        assert_eq!(f.line_col(text.len()), (301, 1));
        assert_eq!(f.offset_of(400, 1), text.len());
        assert_eq!(f.lines_around(5..6), 4..8);
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        let fields = ["owner", "backup_owner", "created_by"];
        assert_eq!(did_you_mean("ownr", fields), Some("owner"));
        assert_eq!(did_you_mean("backup_ownr", fields), Some("backup_owner"));
        assert_eq!(did_you_mean("colour", fields), None);
    }

    #[test]
    fn diagnostics_docs_list_every_code() {
        // A heading per code, so that links to `#code` (SARIF rule help,
        // the JSON report) land on it.
        let mut table = String::new();
        for c in Code::ALL {
            let mut meaning = c.description().to_string();
            if let Some(first) = meaning.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            table.push_str(&format!(
                "### {}\n\n{meaning}.\n\n- severity: `{}`\n- fix: {}.\n\n",
                c.as_str(),
                c.usual_severity().as_str(),
                c.fix()
            ));
        }
        crate::model::tests::keep_in_step(
            "docs/diagnostics.md",
            "<!-- codes:begin -->",
            "<!-- codes:end -->",
            &table,
        );
    }

    #[test]
    fn id_suggestions_need_a_near_miss() {
        let ids = ["person/E1009", "person/E1010"];
        assert_eq!(did_you_mean_id("person/E1090", ids), Some("person/E1009"));
        assert_eq!(did_you_mean_id("person/E9999", ids), None);
    }

    #[test]
    fn every_code_is_kebab_case_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(
                s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{s}"
            );
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(!c.description().is_empty());
        }
    }
}
