//! What an importer reports: one record (or a fragment of one defined
//! elsewhere) per thing the export describes, with its provenance, in the
//! shape an inventory file holds.

use jiff::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};
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

/// A record's fields, in the order they are first set: a short list, not
/// a map, since a million observations' hash tables and copied names cost
/// more than their values.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    /// Sets a field; one already set keeps its place, as in a map.
    pub fn insert(&mut self, name: &'static str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((name, value)),
        }
    }

    /// The field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// How many fields are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.0.iter().map(|(k, v)| (*k, v))
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
    pub fields: Fields,
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
            fields: Fields::default(),
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
            fields: Fields::default(),
            record_id,
            raw_status: None,
            matched: None,
            authoritative_for: &[],
            export,
        }
    }

    /// Sets a text field (an empty text is left out: unknown).
    pub fn text(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.fields.insert(name, Value::String(v.to_string()));
        }
        self
    }

    /// Sets a boolean field; `None` (unknown) is left out.
    pub fn flag(&mut self, name: &'static str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.fields.insert(name, Value::Bool(v));
        }
        self
    }

    /// Sets an instant.
    pub fn time(&mut self, name: &'static str, value: Option<Timestamp>) -> &mut Self {
        if let Some(t) = value {
            self.fields.insert(name, Value::String(format_time(t)));
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
    pub fn value(&mut self, name: &'static str, value: Value) -> &mut Self {
        self.fields.insert(name, value);
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
        for (k, v) in self.fields.iter() {
            out.insert(k.to_string(), v.clone());
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

    /// The record as [`Observed::to_json`] writes it, serialised without
    /// building that value first (a million records' values cost a copy of
    /// every text and a hash table each). `None` when a field shares a
    /// name with one `to_json` sets itself, whose order only `to_json`
    /// gets right. `observed_at` is already formatted.
    pub fn written<'a>(
        &'a self,
        system: &'a str,
        export_digest: &'a str,
        observed_at: &'a str,
    ) -> Option<Written<'a>> {
        let own = ["kind", "id", "extends", "status", "sources"];
        if own.iter().any(|k| self.fields.get(k).is_some()) {
            return None;
        }
        Some(Written {
            observed: self,
            system,
            export_digest,
            observed_at,
        })
    }
}

/// An [`Observed`] as its file holds it; it serialises to the same map,
/// entry for entry and in the same order, as its [`Observed::to_json`].
pub struct Written<'a> {
    observed: &'a Observed,
    system: &'a str,
    export_digest: &'a str,
    observed_at: &'a str,
}

impl Serialize for Written<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let o = self.observed;
        let len = 3 + usize::from(o.status.is_some()) + o.fields.len();
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("kind", o.kind.as_str())?;
        map.serialize_entry(if o.fragment { "extends" } else { "id" }, &o.id)?;
        if let Some(status) = &o.status {
            map.serialize_entry("status", status)?;
        }
        for (k, v) in o.fields.iter() {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("sources", std::slice::from_ref(&WrittenSource(self)))?;
        map.end()
    }
}

/// The one `sources` entry of a [`Written`].
struct WrittenSource<'a, 'b>(&'b Written<'a>);

impl Serialize for WrittenSource<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = self.0;
        let o = w.observed;
        let len = 4
            + usize::from(o.raw_status.is_some())
            + usize::from(o.matched.is_some())
            + usize::from(!o.authoritative_for.is_empty());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("system", w.system)?;
        map.serialize_entry("record_id", &o.record_id)?;
        if let Some(raw) = &o.raw_status {
            map.serialize_entry("raw_status", raw)?;
        }
        if let Some(m) = o.matched {
            map.serialize_entry("match", m.as_str())?;
        }
        map.serialize_entry("observed_at", w.observed_at)?;
        map.serialize_entry("export", w.export_digest)?;
        if !o.authoritative_for.is_empty() {
            map.serialize_entry("authoritative_for", o.authoritative_for)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::output::render_record;

    /// `written` must render byte for byte what `to_json` renders, for
    /// every optional part a record can have.
    #[test]
    fn a_written_record_renders_as_its_json_value_does() {
        let at: Timestamp = "2026-11-24T06:00:00Z".parse().expect("an instant");
        let when = format_time(at);
        let mut full =
            Observed::record(Kind::Person, "person/E1".into(), "active", "W-1".into(), 0);
        full.raw_status = Some("Active".into());
        full.matched = Some(Match::Weak);
        full.authoritative_for = &["status", "team"];
        full.text("display_name", Some("Ada: 1 # not a comment"))
            .flag("rehire_eligible", Some(false))
            .value(
                "employments",
                serde_json::json!([{"start": "2022-03-01", "termination": {"immediate": true}}]),
            );
        let mut fragment = Observed::fragment(Kind::Device, "device/X".into(), "42".into(), 1);
        fragment.text("serial", Some("00123"));
        let bare = Observed::record(
            Kind::Account,
            "account/okta/1".into(),
            "enabled",
            "1".into(),
            0,
        );
        for o in [full, fragment, bare] {
            let written = o
                .written("hr", "sha256:ab", &when)
                .expect("no reserved field");
            assert_eq!(
                render_record(&o.id, &written).expect("renders"),
                render_record(&o.id, &o.to_json("hr", "sha256:ab", at)).expect("renders"),
            );
        }
        let mut odd = Observed::record(Kind::Account, "account/x".into(), "enabled", "1".into(), 0);
        odd.text("status", Some("shadowed"));
        assert!(odd.written("hr", "", &when).is_none());
    }
}
