//! What an importer reports: one record (or a fragment of one defined
//! elsewhere) per thing the export describes, with its provenance, in the
//! shape an inventory file holds.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::Directory;
use crate::model::{Kind, format_time};

/// How a record was joined to the person (or device) it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// On an immutable key: employee number, serial, key id.
    Strong,
    /// On an email address or login alone: never acted on by itself.
    Weak,
}

impl Match {
    /// As written in `sources[].match`.
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Strong => "strong",
            Match::Weak => "weak",
        }
    }
}

/// One record an export describes.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Its kind.
    pub kind: Kind,
    /// Its id; for a fragment, the id of the record it extends.
    pub id: String,
    /// Facts about a record defined elsewhere (written `extends:`).
    pub fragment: bool,
    /// Its lifecycle status (`None` for a fragment).
    pub status: Option<String>,
    /// Its fields, in the order they are written.
    pub fields: Map<String, Value>,
    /// The source's own id of the thing.
    pub record_id: String,
    /// The status as the source wrote it.
    pub raw_status: Option<String>,
    /// How it was joined to what it names, when it names someone.
    pub matched: Option<Match>,
    /// The fields the source is the authority for.
    pub authoritative_for: &'static [&'static str],
    /// Which of the import's exports it was read from.
    pub export: usize,
}

impl Observed {
    /// A record of `kind`.
    pub fn record(kind: Kind, id: String, status: &str, record_id: String, export: usize) -> Self {
        Observed {
            kind,
            id,
            fragment: false,
            status: Some(status.to_string()),
            fields: Map::new(),
            record_id,
            raw_status: None,
            matched: None,
            authoritative_for: &[],
            export,
        }
    }

    /// Facts to add to the record `id` of `kind`, defined elsewhere.
    pub fn fragment(kind: Kind, id: String, record_id: String, export: usize) -> Self {
        Observed {
            kind,
            id,
            fragment: true,
            status: None,
            fields: Map::new(),
            record_id,
            raw_status: None,
            matched: None,
            authoritative_for: &[],
            export,
        }
    }

    /// Sets a text field (an empty text is left out: unknown).
    pub fn text(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.fields
                .insert(name.to_string(), Value::String(v.to_string()));
        }
        self
    }

    /// Sets a boolean field; `None` (unknown) is left out.
    pub fn flag(&mut self, name: &str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.fields.insert(name.to_string(), Value::Bool(v));
        }
        self
    }

    /// Sets an instant.
    pub fn time(&mut self, name: &str, value: Option<Timestamp>) -> &mut Self {
        if let Some(t) = value {
            self.fields
                .insert(name.to_string(), Value::String(format_time(t)));
        }
        self
    }

    /// Links an account to its person: on the employee number, a strong
    /// match that sets `principal`; failing that, on the one person any of
    /// `emails` (emails or logins) names, a weak match that sets only
    /// `suspected_principal`. A login never sets `principal`.
    pub fn join_person(
        &mut self,
        directory: &Directory,
        employee_number: Option<&str>,
        emails: &[&str],
    ) -> &mut Self {
        if let Some(person) = employee_number.and_then(|n| directory.person_by_number(n)) {
            self.text("principal", Some(person));
            self.matched = Some(Match::Strong);
        } else if let Some(person) = directory.person_by_emails(emails.iter().copied()) {
            self.text("suspected_principal", Some(person));
            self.matched = Some(Match::Weak);
        }
        self
    }

    /// Sets any value.
    pub fn value(&mut self, name: &str, value: Value) -> &mut Self {
        self.fields.insert(name.to_string(), value);
        self
    }

    /// The record as written to its file, with its provenance: `system`,
    /// and the export's digest and time.
    pub fn to_json(&self, system: &str, export_digest: &str, observed_at: Timestamp) -> Value {
        let mut out = Map::new();
        out.insert("kind".into(), Value::String(self.kind.as_str().into()));
        let id_key = if self.fragment { "extends" } else { "id" };
        out.insert(id_key.into(), Value::String(self.id.clone()));
        if let Some(status) = &self.status {
            out.insert("status".into(), Value::String(status.clone()));
        }
        for (k, v) in &self.fields {
            out.insert(k.clone(), v.clone());
        }
        let mut source = Map::new();
        source.insert("system".into(), Value::String(system.into()));
        source.insert("record_id".into(), Value::String(self.record_id.clone()));
        if let Some(raw) = &self.raw_status {
            source.insert("raw_status".into(), Value::String(raw.clone()));
        }
        if let Some(m) = self.matched {
            source.insert("match".into(), Value::String(m.as_str().into()));
        }
        source.insert(
            "observed_at".into(),
            Value::String(format_time(observed_at)),
        );
        source.insert("export".into(), Value::String(export_digest.into()));
        if !self.authoritative_for.is_empty() {
            source.insert(
                "authoritative_for".into(),
                Value::Array(
                    self.authoritative_for
                        .iter()
                        .map(|f| Value::String((*f).into()))
                        .collect(),
                ),
            );
        }
        out.insert("sources".into(), Value::Array(vec![Value::Object(source)]));
        Value::Object(out)
    }
}
