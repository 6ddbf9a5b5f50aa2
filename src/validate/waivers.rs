//! Waivers are reviewed exceptions to check findings. They live in one file,
//! `waivers.yaml` at the top of the inventory, never inside the records they
//! waive, so that granting an exception is a change of its own that a
//! reviewer sees, with a justification, an approver and an end date.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::diag::{Code, Diagnostic, SourceFile, Span, did_you_mean, did_you_mean_id};
use crate::load::node_span;
use crate::load::yaml::{Limits, Node, NodeValue};
use crate::model::{Kind, Record, Value, quote_list};

/// One reviewed exception.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// Its id (`waiver/…`), unique in the file.
    pub id: String,
    /// The finding code it waives, if it names one.
    pub finding: Option<String>,
    /// The policy whose findings it waives, if it names one.
    pub policy: Option<String>,
    /// The records it covers, each with where it is listed.
    pub records: Vec<(String, Span)>,
    /// Why the exception is acceptable.
    pub justification: String,
    /// The person who carries the risk.
    pub owner: String,
    /// The person who approved it.
    pub approver: String,
    /// The ticket that tracks it.
    pub ticket: String,
    /// When it stops applying.
    pub expires: Timestamp,
    /// `expires` as written (`2027-01-31` holds through that day).
    pub expires_as_written: String,
    /// Where the waiver starts.
    pub span: Span,
    /// Where `expires` is written.
    pub expires_span: Span,
}

const FIELDS: &[&str] = &[
    "id",
    "finding",
    "policy",
    "records",
    "justification",
    "owner",
    "approver",
    "ticket",
    "expires",
];

/// Field names a record might use to carry an exception inline.
pub const INLINE_NAMES: &[&str] = &[
    "waiver",
    "waivers",
    "waived",
    "exception",
    "exceptions",
    "suppress",
    "suppressions",
];

/// Parses and checks the waivers file against the validated records.
/// `broken` says whether an id belongs to a record that was read but did
/// not validate: its own findings say why, and a waiver naming it is not
/// dangling.
pub fn validate_waivers(
    file: &Arc<SourceFile>,
    records: &[Record],
    index: &crate::validate::IdIndex,
    broken: &dyn Fn(&str) -> bool,
) -> (Vec<Waiver>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let documents = match crate::load::yaml::parse_documents(&file.text, &Limits::default()) {
        Ok(d) => d,
        Err(e) => {
            let mut d = Diagnostic::error(Code::YamlSyntax, e.message);
            if let Some((line, col)) = e.line_col {
                d = d.at(Span::at(file, line, col, 0));
            }
            return (Vec::new(), vec![d]);
        }
    };
    let mut items: Vec<&Node> = Vec::new();
    for document in &documents {
        match &document.value {
            NodeValue::Null => {}
            NodeValue::Map(entries) => {
                for (key, value) in entries {
                    match key.as_key().as_deref() {
                        Some("waivers") => match &value.value {
                            NodeValue::Seq(list) => items.extend(list),
                            NodeValue::Null => {}
                            other => diagnostics.push(
                                Diagnostic::error(
                                    Code::WrongType,
                                    format!(
                                        "`waivers` must be a list, found {}",
                                        other.type_name()
                                    ),
                                )
                                .at(node_span(file, value)),
                            ),
                        },
                        _ => diagnostics.push(
                            Diagnostic::error(
                                Code::UnknownField,
                                format!(
                                    "unknown field `{}` in the waivers file",
                                    key.as_key().unwrap_or_default()
                                ),
                            )
                            .at(node_span(file, key))
                            .help("the file holds one field, `waivers`: a list of waivers"),
                        ),
                    }
                }
            }
            other => diagnostics.push(
                Diagnostic::error(
                    Code::NotARecord,
                    format!(
                        "expected a mapping with `waivers`, found {}",
                        other.type_name()
                    ),
                )
                .at(node_span(file, document)),
            ),
        }
    }

    let mut waivers: Vec<Waiver> = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for item in items {
        let mut checker = Checker {
            file,
            records,
            index,
            broken,
            diagnostics: &mut diagnostics,
        };
        if let Some(w) = checker.waiver(item) {
            if let Some(first) = seen.get(&w.id) {
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateId, format!("duplicate waiver id `{}`", w.id))
                        .at(w.span.clone())
                        .note(first.clone(), "first used here"),
                );
                continue;
            }
            seen.insert(w.id.clone(), w.span.clone());
            waivers.push(w);
        }
    }
    waivers.sort_by(|a, b| a.id.cmp(&b.id));
    (waivers, diagnostics)
}

/// `waiver/` and a lowercase slug.
fn is_waiver_id(id: &str) -> bool {
    id.strip_prefix("waiver/").is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '/')
            })
    })
}

impl Waiver {
    /// What the waiver says, without where it says it: two waivers with the
    /// same terms are the same exception wherever they are written.
    pub fn terms(&self) -> String {
        let records: Vec<&str> = self.records.iter().map(|(id, _)| id.as_str()).collect();
        format!(
            "{:?}",
            (
                &self.id,
                &self.finding,
                &self.policy,
                records,
                &self.justification,
                &self.owner,
                &self.approver,
                &self.ticket,
                &self.expires_as_written,
            )
        )
    }
}

struct Checker<'a> {
    file: &'a Arc<SourceFile>,
    records: &'a [Record],
    index: &'a crate::validate::IdIndex,
    broken: &'a dyn Fn(&str) -> bool,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn span(&self, node: &Node) -> Span {
        node_span(self.file, node)
    }

    fn waiver(&mut self, node: &Node) -> Option<Waiver> {
        let span = self.span(node);
        let NodeValue::Map(entries) = &node.value else {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::NotARecord,
                    format!(
                        "expected a waiver (a mapping), found {}",
                        node.value.type_name()
                    ),
                )
                .at(span),
            );
            return None;
        };
        let before = self.diagnostics.len();
        let mut fields: HashMap<String, &Node> = HashMap::new();
        for (key, value) in entries {
            let name = key.as_key().unwrap_or_default();
            if !FIELDS.contains(&name.as_str()) {
                let mut d = Diagnostic::error(
                    Code::UnknownField,
                    format!("unknown field `{name}` in a waiver"),
                )
                .at(self.span(key));
                d = match did_you_mean(&name, FIELDS.iter().copied()) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None => d.help(format!("the fields of a waiver are {}", quote_list(FIELDS))),
                };
                self.diagnostics.push(d);
                continue;
            }
            fields.insert(name, value);
        }
        let id = self.text(&fields, "id", &span);
        if let (Some(id), Some(node)) = (&id, fields.get("id"))
            && !is_waiver_id(id)
        {
            let at = self.span(node);
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("waiver id `{id}` is not `waiver/` followed by lowercase letters, digits, `-`, `_`, `.` or `/`"),
                )
                .at(at)
                .help("e.g. `waiver/release-bot-single-owner`; the id is what reports cite"),
            );
        }
        let finding = self.optional_text(&fields, "finding");
        let policy = self.optional_text(&fields, "policy");
        if finding.is_none()
            && policy.is_none()
            && !fields.contains_key("finding")
            && !fields.contains_key("policy")
        {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::MissingField,
                    "a waiver names no `finding` or `policy`",
                )
                .at(span.clone())
                .help("add `finding: <code>` (a check rule's id) or `policy: <@id>`"),
            );
        }
        let records = self.record_list(&fields, &span);
        let justification = self.text(&fields, "justification", &span);
        let owner = self.person(&fields, "owner", &span);
        let approver = self.person(&fields, "approver", &span);
        let ticket = self.text(&fields, "ticket", &span);
        let expires = self.expiry(&fields, &span);
        if let (Some(o), Some(a), Some(node)) = (&owner, &approver, fields.get("approver"))
            && o == a
        {
            let at = self.span(node);
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InconsistentRecord,
                    format!("waiver is approved by its own owner `{o}`"),
                )
                .at(at)
                .help("an exception needs a second person: the approver cannot be the owner"),
            );
        }
        if self.diagnostics.len() > before {
            return None;
        }
        let (expires, expires_span) = expires?;
        let expires_as_written = fields
            .get("expires")
            .and_then(|n| n.as_key())
            .unwrap_or_default();
        Some(Waiver {
            id: id?,
            finding,
            policy,
            records: records?,
            justification: justification?,
            owner: owner?,
            approver: approver?,
            ticket: ticket?,
            expires,
            expires_as_written,
            span,
            expires_span,
        })
    }

    fn missing(&mut self, name: &str, span: &Span) {
        self.diagnostics.push(
            Diagnostic::error(Code::MissingField, format!("a waiver needs `{name}`"))
                .at(span.clone()),
        );
    }

    fn text(&mut self, fields: &HashMap<String, &Node>, name: &str, span: &Span) -> Option<String> {
        if !fields.contains_key(name) {
            self.missing(name, span);
        }
        self.optional_text(fields, name)
    }

    fn optional_text(&mut self, fields: &HashMap<String, &Node>, name: &str) -> Option<String> {
        let node = fields.get(name)?;
        match node.as_key() {
            Some(s) if !s.trim().is_empty() => Some(s),
            _ => {
                self.wrong_type(name, "a non-empty string", node);
                None
            }
        }
    }

    fn wrong_type(&mut self, name: &str, expected: &str, node: &Node) {
        let at = self.span(node);
        self.diagnostics.push(
            Diagnostic::error(
                Code::WrongType,
                format!(
                    "`{name}` must be {expected}, found {}",
                    node.value.type_name()
                ),
            )
            .at(at),
        );
    }

    fn record_list(
        &mut self,
        fields: &HashMap<String, &Node>,
        span: &Span,
    ) -> Option<Vec<(String, Span)>> {
        let Some(node) = fields.get("records") else {
            self.missing("records", span);
            return None;
        };
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type("records", "a list of record ids", node);
            return None;
        };
        if items.is_empty() {
            let at = self.span(node);
            self.diagnostics.push(
                Diagnostic::error(Code::InvalidValue, "`records` is empty")
                    .at(at)
                    .help("list every record the exception covers; a waiver never covers the whole inventory"),
            );
            return None;
        }
        let mut out = Vec::new();
        for item in items {
            match item.as_key() {
                Some(id) if self.index.contains_key(&id) => out.push((id, self.span(item))),
                Some(id) if (self.broken)(&id) => {}
                Some(id) => {
                    // A typo here would make the waiver silently cover
                    // nothing, or the wrong thing after a rename.
                    let mut d = Diagnostic::error(
                        Code::DanglingLink,
                        format!("waiver lists `{id}`, which is not in the inventory"),
                    )
                    .at(self.span(item));
                    if let Some(close) =
                        did_you_mean_id(&id, self.records.iter().map(|r| r.id.as_str()))
                    {
                        d = d.help(format!("did you mean `{close}`?"));
                    }
                    self.diagnostics.push(d);
                }
                None => self.wrong_type("records", "a list of record ids", item),
            }
        }
        Some(out)
    }

    /// A link to a person in the inventory.
    fn person(
        &mut self,
        fields: &HashMap<String, &Node>,
        name: &str,
        span: &Span,
    ) -> Option<String> {
        let id = self.text(fields, name, span)?;
        let node = fields.get(name)?;
        match self.index.get(&id).map(|&i| &self.records[i]) {
            Some(r) if r.kind == Kind::Person => Some(id),
            Some(r) => {
                let at = self.span(node);
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::WrongLinkKind,
                        format!(
                            "waiver `{name}` must be a person, but `{id}` is a {}",
                            r.kind
                        ),
                    )
                    .at(at),
                );
                None
            }
            None if (self.broken)(&id) => None,
            None => {
                let at = self.span(node);
                let mut d = Diagnostic::error(
                    Code::DanglingLink,
                    format!("waiver `{name}` names `{id}`, which is not in the inventory"),
                )
                .at(at);
                let people = self
                    .records
                    .iter()
                    .filter(|r| r.kind == Kind::Person)
                    .map(|r| r.id.as_str());
                if let Some(close) = did_you_mean_id(&id, people) {
                    d = d.help(format!("did you mean `{close}`?"));
                }
                self.diagnostics.push(d);
                None
            }
        }
    }

    /// `expires`: a date (the waiver holds through that day, UTC) or an instant.
    fn expiry(
        &mut self,
        fields: &HashMap<String, &Node>,
        span: &Span,
    ) -> Option<(Timestamp, Span)> {
        let text = self.text(fields, "expires", span)?;
        let node = fields.get("expires")?;
        let at = self.span(node);
        let when = match crate::model::parse_when(&text) {
            Ok(Value::Time(t)) => Some(t),
            // `9999-12-31` has no tomorrow: it holds to the last instant.
            Ok(Value::Date(d)) => d
                .tomorrow()
                .ok()
                .and_then(crate::model::midnight_utc)
                .or(Some(Timestamp::MAX)),
            _ => None,
        };
        match when {
            Some(t) => Some((t, at)),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::InvalidDate, format!("`{text}` is not a date or an RFC 3339 time"))
                        .at(at)
                        .help("write `2027-01-31` (the waiver holds through that day, UTC) or `2027-01-31T17:00:00Z`"),
                );
                None
            }
        }
    }
}
