//! What an import joins against: the people, devices and credentials the
//! inventory already holds, read leniently from its YAML (the import must
//! work before the inventory validates, e.g. on the first import), by the
//! keys the joins use. The importer's own previous output is left out, so
//! that a record never joins to its own earlier copy.

use std::collections::HashMap;
use std::path::Path;

use crate::diag::Severity;
use crate::load::Limits;
use crate::load::yaml::{Node, NodeValue};

use super::{Finding, ImportCode};

/// The inventory's records by join key.
#[derive(Debug, Default)]
pub struct Directory {
    people_by_number: HashMap<String, String>,
    people_by_email: HashMap<String, Vec<String>>,
    devices_by_serial: HashMap<String, String>,
    devices_by_tag: HashMap<String, String>,
}

impl Directory {
    /// Reads every record file under `inventory` except those under
    /// `skip`, listed and parsed as validation does (`load_inventory`,
    /// `parse_records`): the same files, links refused, the same text
    /// decoding. A missing inventory is an empty one (a first import); a
    /// file that cannot be read or parsed refuses the import, since a join
    /// against it could silently miss.
    pub fn read(inventory: &Path, skip: &Path, limits: &Limits) -> Result<Directory, Box<Finding>> {
        let mut directory = Directory::default();
        if !inventory.is_dir() {
            return Ok(directory);
        }
        let unreadable = |d: &crate::diag::Diagnostic| {
            let at = d.span.as_ref().map_or_else(
                || crate::load::display_path(inventory),
                |s| s.path().to_string(),
            );
            Box::new(Finding::new(
                ImportCode::JoinUnreadable,
                Severity::Error,
                format!("could not read `{at}` to join against: {}", d.message),
            ))
        };
        let raw = crate::load::load_inventory(inventory, limits).map_err(|e| {
            Box::new(Finding::new(
                ImportCode::JoinUnreadable,
                Severity::Error,
                format!("could not read the inventory to join against: {e}"),
            ))
        })?;
        if let Some(d) = raw.diagnostics.first() {
            return Err(unreadable(d));
        }
        let skip = skip.canonicalize().ok();
        for file in &raw.files {
            if let (Some(skip), Ok(here)) = (&skip, Path::new(&file.path).canonicalize())
                && here.starts_with(skip)
            {
                continue;
            }
            let (records, problems) = crate::load::parse_records(file, limits);
            if let Some(d) = problems.first() {
                return Err(unreadable(d));
            }
            for record in &records {
                directory.add(&record.node);
            }
        }
        Ok(directory)
    }

    fn add(&mut self, node: &Node) {
        let NodeValue::Map(entries) = &node.value else {
            return;
        };
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.is_key(name))
                .and_then(|(_, v)| v.as_key())
        };
        let (Some(kind), Some(id)) = (get("kind"), get("id")) else {
            return;
        };
        match kind.as_str() {
            "person" => {
                if let Some(n) = get("employee_number") {
                    self.people_by_number
                        .insert(n.trim().to_string(), id.clone());
                }
                for key in ["email", "user_name"] {
                    if let Some(e) = get(key) {
                        let list = self
                            .people_by_email
                            .entry(e.trim().to_lowercase())
                            .or_default();
                        if !list.contains(&id) {
                            list.push(id.clone());
                        }
                    }
                }
            }
            "device" => {
                if let Some(s) = get("serial") {
                    self.devices_by_serial
                        .insert(normalise_serial(&s), id.clone());
                }
                if let Some(t) = get("asset_tag") {
                    self.devices_by_tag.insert(t.trim().to_string(), id);
                }
            }
            _ => {}
        }
    }

    /// Records a person the import itself describes, so that later
    /// exports of the same import join to it.
    pub fn add_person(&mut self, employee_number: &str, email: Option<&str>, id: &str) {
        self.people_by_number
            .insert(employee_number.trim().to_string(), id.to_string());
        if let Some(e) = email {
            let list = self
                .people_by_email
                .entry(e.trim().to_lowercase())
                .or_default();
            if !list.iter().any(|x| x == id) {
                list.push(id.to_string());
            }
        }
    }

    /// The person with this employee number: a strong match.
    pub fn person_by_number(&self, number: &str) -> Option<&str> {
        self.people_by_number.get(number.trim()).map(String::as_str)
    }

    /// The one person with this email or login: a weak match (none when
    /// several share it, which is itself ambiguous).
    pub fn person_by_email(&self, email: &str) -> Option<&str> {
        match self.people_by_email.get(&email.trim().to_lowercase()) {
            Some(ids) if ids.len() == 1 => Some(ids[0].as_str()),
            _ => None,
        }
    }

    /// The one person that any of these emails or logins names: a weak
    /// match (none when they name different people).
    pub fn person_by_emails<'e>(&self, emails: impl IntoIterator<Item = &'e str>) -> Option<&str> {
        let mut found: Option<&str> = None;
        for person in emails.into_iter().filter_map(|e| self.person_by_email(e)) {
            match found {
                Some(p) if p != person => return None,
                _ => found = Some(person),
            }
        }
        found
    }

    /// The device with this hardware serial.
    pub fn device_by_serial(&self, serial: &str) -> Option<&str> {
        self.devices_by_serial
            .get(&normalise_serial(serial))
            .map(String::as_str)
    }

    /// The device with this asset tag.
    pub fn device_by_tag(&self, tag: &str) -> Option<&str> {
        self.devices_by_tag.get(tag.trim()).map(String::as_str)
    }
}

/// Serials are compared upper-case and trimmed: MDMs and registers differ
/// in case and padding.
pub fn normalise_serial(serial: &str) -> String {
    serial.trim().to_uppercase()
}
