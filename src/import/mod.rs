//! Stage 0, import: turns the exports of systems of record (HR, identity
//! providers, device management, asset registers, cloud, code hosting)
//! into inventory records, in a directory the importer owns, so that the
//! inventory is no longer only as right as the last person who typed it.
//!
//! An import reads its exports whole and refuses them whole: a malformed
//! file, an unknown status, a duplicate key or a secret stops it with the
//! file and the row or JSON path, and nothing is written. Records join the
//! inventory's people and devices on strong keys (employee number, serial);
//! a match on an email alone is marked weak and links nobody. Facts the
//! exports do not carry (owners, legal holds) are curated by people in
//! `extends:` fragments of their own files, which validation merges in;
//! the importer never writes those files.

mod aws;
mod baton;
mod codes;
mod completeness;
mod directory;
mod entra;
mod export;
mod gcp;
mod github;
mod google;
mod hr;
mod intune;
mod jamf;
mod observed;
mod okta;
mod output;
mod scim;
mod secrets;
mod snipeit;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::{Value, json};

pub use codes::ImportCode;
pub use directory::Directory;
pub use export::Export;
pub use observed::{Match, Observed};

use crate::diag::{Diagnostic, Severity};
use crate::error::Error;
use crate::load::Limits;
use crate::model::{Kind, format_time};

/// A reason an import is refused.
pub type Finding = Diagnostic<ImportCode>;

/// The export formats severance reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The canonical worker CSV, or any HR report CSV through a column map.
    HrCsv,
    /// BambooHR's custom-report JSON.
    BambooHr,
    /// Okta's Users API JSON.
    Okta,
    /// SCIM 2.0 `/Users` and `/Groups` list responses (RFC 7644).
    Scim,
    /// Microsoft Entra ID users (Graph `GET /users`) JSON.
    Entra,
    /// Google Workspace Directory `users.list` JSON.
    GoogleWorkspace,
    /// Snipe-IT's hardware (and users) API JSON.
    SnipeIt,
    /// Intune's `managedDevices` (Graph) JSON.
    Intune,
    /// Jamf Pro's `computers-inventory` JSON.
    Jamf,
    /// ConductorOne Baton's `resources` and `grants` JSON.
    Baton,
    /// AWS IAM: the credential report CSV, `list-access-keys` and
    /// `get-access-key-last-used` JSON.
    AwsIam,
    /// Google Cloud service-account keys (`keys.list` JSON).
    GcpKeys,
    /// A GitHub organisation: members, fine-grained PAT grants, deploy keys.
    GitHub,
}

impl Source {
    /// Every source, in documentation order.
    pub const ALL: [Source; 13] = [
        Source::HrCsv,
        Source::BambooHr,
        Source::Okta,
        Source::Scim,
        Source::Entra,
        Source::GoogleWorkspace,
        Source::SnipeIt,
        Source::Intune,
        Source::Jamf,
        Source::Baton,
        Source::AwsIam,
        Source::GcpKeys,
        Source::GitHub,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Source::HrCsv => "hr-csv",
            Source::BambooHr => "bamboohr",
            Source::Okta => "okta",
            Source::SnipeIt => "snipe-it",
            Source::Intune => "intune",
            Source::Jamf => "jamf",
            Source::Baton => "baton",
            Source::AwsIam => "aws-iam",
            Source::GcpKeys => "gcp-keys",
            Source::GitHub => "github",
            Source::Scim => "scim",
            Source::Entra => "entra",
            Source::GoogleWorkspace => "google-workspace",
        }
    }

    /// The system the records are attributed to unless `--system` says
    /// otherwise.
    pub fn default_system(self) -> &'static str {
        match self {
            Source::HrCsv => "hr",
            Source::BambooHr => "bamboohr",
            Source::Okta => "okta",
            Source::SnipeIt => "snipe-it",
            Source::Intune => "intune",
            Source::Jamf => "jamf",
            Source::Baton => "baton",
            Source::AwsIam => "aws",
            Source::GcpKeys => "gcp",
            Source::GitHub => "github",
            Source::Scim => "scim",
            Source::Entra => "entra",
            Source::GoogleWorkspace => "google",
        }
    }

    /// What files `--in` takes.
    pub fn expects(self) -> &'static str {
        match self {
            Source::HrCsv => "worker CSV files (canonical columns, or mapped with `--columns`)",
            Source::BambooHr => "a custom report as JSON (`{fields, employees}`)",
            Source::Okta => "`GET /api/v1/users` responses (JSON lists of users)",
            Source::SnipeIt => {
                "`GET /api/v1/hardware` and `GET /api/v1/users` responses (`{total, rows}`)"
            }
            Source::Intune => "`GET /deviceManagement/managedDevices` responses (`{value}`)",
            Source::Jamf => "`GET /api/v1/computers-inventory` responses (`{totalCount, results}`)",
            Source::Baton => "`baton resources -o json` and `baton grants -o json` output",
            Source::AwsIam => {
                "the credential report (CSV), `aws iam list-access-keys` responses (`{AccessKeyMetadata}`) and a list of `get-access-key-last-used` responses each with its `AccessKeyId`"
            }
            Source::GcpKeys => "`projects.serviceAccounts.keys.list` responses (`{keys}`)",
            Source::GitHub => {
                "`GET /orgs/{org}/members`, `GET /orgs/{org}/personal-access-tokens` and deploy-key lists (`GET /repos/{owner}/{repo}/keys`, each key with its `repository`), as JSON arrays, and `GET /orgs/{org}/installations` (`{total_count, installations}`)"
            }
            Source::Scim => {
                "SCIM `GET /Users` and `GET /Groups` list responses (`{totalResults, Resources}`)"
            }
            Source::Entra => {
                "Graph `GET /users?$select=…` responses (`{value}`), with `accountEnabled` and `employeeId` selected"
            }
            Source::GoogleWorkspace => {
                "Directory `users.list` responses (`{kind, users}`), with `showDeleted=true` for deleted users"
            }
        }
    }
}

/// What to import, and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The export format.
    pub source: Source,
    /// The system the records are attributed to (their ids' middle part).
    pub system: String,
    /// The export files.
    pub exports: Vec<PathBuf>,
    /// The inventory to join against.
    pub inventory: PathBuf,
    /// The directory the importer owns and writes.
    pub out: PathBuf,
    /// When the export was taken, for formats that do not say.
    pub observed_at: Option<Timestamp>,
    /// A column map for CSV formats.
    pub columns: Option<PathBuf>,
    /// The time zone of naive local times in the export (Snipe-IT's).
    pub time_zone: Option<jiff::tz::TimeZone>,
    /// Parser limits for the inventory read for joins.
    pub limits: Limits,
}

/// What an import did.
#[derive(Debug)]
pub enum Outcome {
    /// The exports were refused; nothing was written.
    Refused(Vec<Finding>),
    /// The output directory now holds the import.
    Written(Summary),
}

/// Counts of what an import wrote.
#[derive(Debug, Default)]
pub struct Summary {
    /// Records (and fragments) by kind.
    pub records: BTreeMap<Kind, usize>,
    /// New since the previous import.
    pub added: usize,
    /// Whose facts changed.
    pub changed: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// No longer returned by the source, kept and marked.
    pub missing: Vec<String>,
    /// Joined on an email or login alone.
    pub weak: usize,
}

/// What a format reader is given.
pub struct Context<'a> {
    /// The exports, read.
    pub exports: &'a [Export],
    /// The inventory's join keys.
    pub directory: &'a mut Directory,
    /// The system name.
    pub system: &'a str,
    /// When the exports were taken.
    pub observed_at: Timestamp,
    /// The column map's text, for CSV formats.
    pub columns: Option<&'a Export>,
    /// The time zone of naive local times.
    pub time_zone: Option<&'a jiff::tz::TimeZone>,
}

/// Imports exports into the request's output directory. `Err` means the
/// import could not run (an output directory that cannot be written);
/// refused exports are an [`Outcome::Refused`].
pub fn import(request: &Request) -> Result<Outcome, Error> {
    let mut findings = Vec::new();
    let mut exports = Vec::new();
    for path in &request.exports {
        match Export::read(path, export::MAX_EXPORT_BYTES) {
            Ok(e) => exports.push(e),
            Err(f) => findings.push(*f),
        }
    }
    let columns = match &request.columns {
        Some(path) => match Export::read(path, request.limits.max_file_bytes) {
            Ok(e) => Some(e),
            Err(f) => {
                findings.push(*f);
                None
            }
        },
        None => None,
    };
    if !findings.is_empty() {
        return Ok(Outcome::Refused(findings));
    }
    let Some(observed_at) = request.observed_at else {
        return Ok(Outcome::Refused(vec![Finding::new(
            ImportCode::ExportShape,
            Severity::Error,
            format!(
                "{} exports carry no time of their own: pass `--observed-at` with when the export was taken",
                request.source.name()
            ),
        )]));
    };
    let mut directory = match Directory::read(&request.inventory, &request.out, &request.limits) {
        Ok(d) => d,
        Err(f) => return Ok(Outcome::Refused(vec![*f])),
    };
    let mut ctx = Context {
        exports: &exports,
        directory: &mut directory,
        system: &request.system,
        observed_at,
        columns: columns.as_ref(),
        time_zone: request.time_zone.as_ref(),
    };
    let observed = match request.source {
        Source::HrCsv => hr::read_csv(&mut ctx),
        Source::BambooHr => hr::read_bamboohr(&mut ctx),
        Source::Okta => okta::read(&mut ctx),
        Source::SnipeIt => snipeit::read(&mut ctx),
        Source::Intune => intune::read(&mut ctx),
        Source::Jamf => jamf::read(&mut ctx),
        Source::Baton => baton::read(&mut ctx),
        Source::AwsIam => aws::read(&mut ctx),
        Source::GcpKeys => gcp::read(&mut ctx),
        Source::GitHub => github::read(&mut ctx),
        Source::Scim => scim::read(&mut ctx),
        Source::Entra => entra::read(&mut ctx),
        Source::GoogleWorkspace => google::read(&mut ctx),
    };
    let observed = match observed {
        Ok(observed) => observed,
        Err(findings) => return Ok(Outcome::Refused(findings)),
    };
    // Judged from the envelopes while the texts are still here.
    let completeness = completeness::judge(request.source, &exports);
    // The exports' texts are the largest thing read; past the readers only
    // their names and digests are needed.
    let read: Vec<(String, String)> = exports.into_iter().map(|e| (e.name, e.digest)).collect();
    drop(columns);
    drop(directory);
    if let Some(findings) = duplicates(&observed) {
        return Ok(Outcome::Refused(findings));
    }

    output::recover(&request.out)?;
    let mut previous = match output::read_previous(&request.out, &request.limits)? {
        Ok(p) => p,
        Err(findings) => return Ok(Outcome::Refused(findings)),
    };
    let previous_manifest = previous.manifest.take();
    let previous_files = std::mem::take(&mut previous.files);
    let (records, summary) = assemble(observed, &read, observed_at, &request.system, previous)?;
    let mut manifest = manifest(request, &read, observed_at, &summary, &completeness);
    // The same exports again: the output keeps the time they were first
    // read, so that re-importing an unchanged export changes no byte.
    if let Some(old) = &previous_manifest
        && old.get("exports") == manifest.get("exports")
        && let (Some(when), Some(slot)) = (old.get("observed_at"), manifest.get_mut("observed_at"))
    {
        *slot = when.clone();
    }
    let rendered = output::render(request.source.name(), &records, &manifest)?;
    let unchanged = rendered.files.len() == previous_files.len()
        && rendered
            .files
            .iter()
            .all(|file| previous_files.get(&file.name) == Some(&file.digest()));
    if !unchanged {
        output::commit(&request.out, &rendered)?;
    }
    Ok(Outcome::Written(summary))
}

/// Two observations of one id: the export repeats a key.
fn duplicates(observed: &[Observed]) -> Option<Vec<Finding>> {
    let mut seen = HashSet::new();
    let findings: Vec<Finding> = observed
        .iter()
        .filter(|o| !seen.insert(o.id.as_str()))
        .map(|o| {
            Finding::new(
                ImportCode::DuplicateKey,
                Severity::Error,
                format!(
                    "the exports describe `{}` twice (source id `{}`)",
                    o.id, o.record_id
                ),
            )
        })
        .collect();
    (!findings.is_empty()).then_some(findings)
}

/// The new output, each record rendered: each observation as a document,
/// keeping the previous provenance of a record whose facts did not change,
/// and every previous record the source no longer returned, marked.
/// Observations are rendered on every core, a batch at a time, and each
/// is dropped once its record is rendered.
fn assemble(
    observed: Vec<Observed>,
    exports: &[(String, String)],
    observed_at: Timestamp,
    system: &str,
    mut previous: output::Previous,
) -> Result<(BTreeMap<String, output::Block>, Summary), Error> {
    use rayon::prelude::*;

    /// What became of an observation's record.
    enum Fate {
        Added,
        Changed,
        Unchanged,
    }
    let mut summary = Summary::default();
    let mut records = BTreeMap::new();
    let when = format_time(observed_at);
    let render = |o: &Observed, old: Option<Value>| -> Result<(output::Block, Fate), Error> {
        let digest = exports.get(o.export).map_or("", |(_, d)| d.as_str());
        Ok(match old {
            Some(old) => {
                let fresh = o.to_json(system, digest, observed_at);
                if output::facts(&old) == output::facts(&fresh) && missing_since(&old).is_none() {
                    (output::Block::of_value(&o.id, &old)?, Fate::Unchanged)
                } else {
                    (output::Block::of_value(&o.id, &fresh)?, Fate::Changed)
                }
            }
            None => {
                let block = match o.written(system, digest, &when) {
                    Some(written) => output::Block {
                        kind: o.kind,
                        bucket_id: None,
                        text: output::render_record(&o.id, &written)?,
                    },
                    None => {
                        output::Block::of_value(&o.id, &o.to_json(system, digest, observed_at))?
                    }
                };
                (block, Fate::Added)
            }
        })
    };
    let mut observed = observed.into_iter();
    loop {
        let batch: Vec<(Observed, Option<Value>)> = observed
            .by_ref()
            .take(BATCH)
            .map(|o| {
                let old = previous.records.remove(&o.id);
                (o, old)
            })
            .collect();
        if batch.is_empty() {
            break;
        }
        let rendered: Vec<(Observed, output::Block, Fate)> = batch
            .into_par_iter()
            .map(|(o, old)| render(&o, old).map(|(block, fate)| (o, block, fate)))
            .collect::<Result<_, Error>>()?;
        for (o, block, fate) in rendered {
            match fate {
                Fate::Added => summary.added += 1,
                Fate::Changed => summary.changed += 1,
                Fate::Unchanged => summary.unchanged += 1,
            }
            if o.matched == Some(Match::Weak) {
                summary.weak += 1;
            }
            *summary.records.entry(o.kind).or_insert(0) += 1;
            records.insert(o.id, block);
        }
    }
    let when = Value::String(when);
    for (id, mut old) in std::mem::take(&mut previous.records) {
        if missing_since(&old).is_none()
            && let Some(Value::Array(sources)) = old.get_mut("sources")
            && let Some(Value::Object(source)) = sources.first_mut()
        {
            source.insert("missing_since".into(), when.clone());
        }
        if let Some(kind) = old
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::parse)
        {
            *summary.records.entry(kind).or_insert(0) += 1;
        }
        summary.missing.push(id.clone());
        let block = output::Block::of_value(&id, &old)?;
        records.insert(id, block);
    }
    Ok((records, summary))
}

/// How many observations are rendered together: enough to keep both
/// cores busy, few enough that those already rendered are freed as it goes.
const BATCH: usize = 4096;

fn missing_since(record: &Value) -> Option<&Value> {
    record.get("sources")?.get(0)?.get("missing_since")
}

/// The manifest: which exports this output was read from, and when.
fn manifest(
    request: &Request,
    exports: &[(String, String)],
    observed_at: Timestamp,
    summary: &Summary,
    completeness: &completeness::Completeness,
) -> Value {
    let records: BTreeMap<&str, usize> = summary
        .records
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    json!({
        "schema": output::MANIFEST_SCHEMA,
        "source": request.source.name(),
        "system": request.system,
        "observed_at": format_time(observed_at),
        "exports": exports.iter().map(|(file, digest)| json!({"file": file, "digest": digest})).collect::<Vec<_>>(),
        "records": records,
        "missing": summary.missing,
        "complete": completeness.complete,
        "completeness": completeness.evidence,
    })
}

/// Runs imports in a scratch directory, for the formats' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Imports `exports` (paths relative to the repository, or absolute)
    /// as `source`, joining against `inventory` (relative too, or none), at
    /// 2026-11-24T06:00:00Z. Returns the outcome and every file written,
    /// concatenated in name order.
    pub fn run(source: Source, exports: &[&str], inventory: Option<&str>) -> (Outcome, String) {
        let (outcome, files) = run_files(source, exports, inventory);
        let written = files.into_iter().map(|(_, text)| text).collect();
        (outcome, written)
    }

    /// As [`run`], with the records written read back from their YAML, by
    /// id (or the id a fragment extends).
    pub fn run_records(
        source: Source,
        exports: &[&str],
        inventory: Option<&str>,
    ) -> (Outcome, BTreeMap<String, Value>) {
        let (outcome, files) = run_files(source, exports, inventory);
        let mut records = BTreeMap::new();
        for (name, text) in files {
            if name == output::MANIFEST {
                continue;
            }
            let documents = crate::load::yaml::parse_documents(&text, &Limits::default())
                .unwrap_or_else(|e| panic!("`{name}` does not re-parse: {}", e.message));
            for document in documents {
                let Value::Array(items) = output::to_json(&document) else {
                    panic!("`{name}` is not a list of records");
                };
                for item in items {
                    let id = item
                        .get("id")
                        .or_else(|| item.get("extends"))
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| panic!("a record of `{name}` has no id"))
                        .to_string();
                    records.insert(id, item);
                }
            }
        }
        (outcome, records)
    }

    /// The files an import wrote, by name, in name order.
    fn run_files(
        source: Source,
        exports: &[&str],
        inventory: Option<&str>,
    ) -> (Outcome, Vec<(String, String)>) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let out = scratch.path().join("out");
        let request = Request {
            source,
            system: source.default_system().to_string(),
            exports: exports.iter().map(|e| root.join(e)).collect(),
            inventory: inventory.map_or_else(|| scratch.path().join("none"), |i| root.join(i)),
            out: out.clone(),
            observed_at: Some("2026-11-24T06:00:00Z".parse().expect("an instant")),
            columns: None,
            time_zone: Some(jiff::tz::TimeZone::UTC),
            limits: Limits::default(),
        };
        let outcome = import(&request).expect("the import runs");
        let mut files = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&out) {
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((name, std::fs::read_to_string(&p).unwrap_or_default()));
            }
        }
        (outcome, files)
    }

    /// Writes `text` to a file named `name` in a new scratch directory, for
    /// an export written inside a test; keep the directory while it is used.
    pub fn scratch_export(name: &str, text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("the export is written");
        let path = path.to_string_lossy().into_owned();
        (dir, path)
    }

    /// Every way a written record departs from the inventory model: an
    /// unknown kind, status or field, or a value outside a field's words.
    pub fn model_errors(records: &BTreeMap<String, Value>) -> Vec<String> {
        use crate::model::FieldType;
        let mut errors = Vec::new();
        for (id, record) in records {
            let Some(kind) = record
                .get("kind")
                .and_then(Value::as_str)
                .and_then(Kind::parse)
            else {
                errors.push(format!("{id}: no known kind"));
                continue;
            };
            if let Some(status) = record.get("status").and_then(Value::as_str)
                && !kind.statuses().contains(&status)
            {
                errors.push(format!("{id}: status `{status}` is not a {kind} status"));
            }
            let Some(fields) = record.as_object() else {
                continue;
            };
            for (name, value) in fields {
                match kind.field(name).map(|f| &f.ty) {
                    None if name == "extends" => {}
                    None => errors.push(format!("{id}: `{name}` is not a {kind} field")),
                    Some(FieldType::Enum(words)) => {
                        if !value.as_str().is_some_and(|v| words.contains(&v)) {
                            errors.push(format!("{id}: `{name}: {value}` is not one of its words"));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        errors
    }

    /// The records (and fragments) of what `run` wrote, parsed; the
    /// manifest is left out.
    pub fn records(written: &str) -> Vec<Value> {
        let mut yaml = String::new();
        let mut in_manifest = false;
        for line in written.lines() {
            if line == "{" {
                in_manifest = true;
            } else if in_manifest && line == "}" {
                in_manifest = false;
            } else if !in_manifest {
                yaml.push_str(line);
                yaml.push('\n');
            }
        }
        serde_saphyr::from_str(&yaml).expect("the output parses")
    }

    /// The written record `id`; panics when there is none.
    pub fn record(written: &str, id: &str) -> Value {
        records(written)
            .into_iter()
            .find(|r| r.get("id").or_else(|| r.get("extends")) == Some(&json!(id)))
            .unwrap_or_else(|| panic!("no record `{id}` in:\n{written}"))
    }

    /// A record's first `sources` entry.
    pub fn source(record: &Value) -> &Value {
        &record["sources"][0]
    }

    /// Fails with the refusals unless the import wrote its output.
    pub fn assert_written(outcome: &Outcome) {
        assert!(
            matches!(outcome, Outcome::Written(_)),
            "{}",
            refusals(outcome)
        );
    }

    /// The messages of a refusal, one per line.
    pub fn refusals(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Refused(findings) => findings
                .iter()
                .map(|f| format!("{}: {}", f.code, f.message))
                .collect::<Vec<_>>()
                .join("\n"),
            Outcome::Written(_) => String::new(),
        }
    }
}
