//! Parses the inventory's files and turns their raw YAML records into typed
//! [`Record`]s, reporting every problem of every record with its place:
//! unknown kinds and fields, wrong types, bad dates, duplicate ids and links
//! that lead nowhere or to the wrong kind.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{
    Code, Diagnostic, SourceFile, Span, did_you_mean, did_you_mean_id, hidden_char_kind,
    is_hidden_char, printable,
};
use crate::load::yaml::{Node, NodeValue};
use crate::load::{Limits, RawInventory, RawRecord, node_span};
use crate::model::{
    ENVELOPE, Field, FieldSpec, FieldType, Fields, Kind, LinkRef, Record, Value, parse_when,
    quote_list,
};

/// A validated inventory: every record well-typed, ids unique, links resolved.
#[derive(Debug)]
pub struct Inventory {
    /// Records sorted by id.
    pub records: Vec<Record>,
    /// Index of each id in `records`.
    pub index: IdIndex,
    /// The files the records came from.
    pub files: Vec<Arc<SourceFile>>,
    /// Reviewed exceptions to check findings, from `waivers.yaml`, by id.
    pub waivers: Vec<crate::validate::Waiver>,
    /// The workloads that run as each non-human identity (by `identity`).
    runs_as: HashMap<usize, Vec<usize>>,
    /// What each importer's manifest says of its directory, by path.
    pub snapshots: Vec<ImportSnapshot>,
}

/// What an importer's manifest (`import.json`) says of its directory: the
/// records there were read from these exports, then, and whether the
/// exports proved themselves complete.
#[derive(Debug, Clone)]
pub struct ImportSnapshot {
    /// The directory, as reports show paths (`inventory/imported/okta`).
    pub dir: String,
    /// The export format (`okta`, `snipe-it`).
    pub source: String,
    /// The system the records are attributed to.
    pub system: String,
    /// When the exports were taken.
    pub observed_at: Option<jiff::Timestamp>,
    /// Whether the exports proved themselves complete (envelope counts,
    /// an exhausted page cursor); `None` when the format cannot say.
    pub complete: Option<bool>,
    /// How the importer knows, in a few words.
    pub completeness: Option<String>,
    /// The manifest's first line, where a finding about it points.
    pub span: crate::diag::Span,
    /// The export files the import read, each with its `sha256:` digest.
    pub exports: Vec<(String, String)>,
}

/// Reads the importers' manifests. A manifest that cannot be read is a
/// warning, and its directory counts as neither fresh nor complete: what
/// rests on it is only ever reviewed.
fn read_snapshots(
    files: &[Arc<SourceFile>],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ImportSnapshot> {
    let mut out = Vec::new();
    for file in files {
        let dir = file
            .path
            .rsplit_once('/')
            .map_or_else(String::new, |(dir, _)| dir.to_string());
        let manifest: serde_json::Value = match serde_json::from_str(&file.text) {
            Ok(v) => v,
            Err(e) => {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::ManifestUnreadable,
                        format!("`{}` is not an import manifest: {e}", file.path),
                    )
                    .at(crate::diag::Span::new(file, 0..0))
                    .help("run the import again: it writes the manifest; until then the directory's completeness is unknown"),
                );
                continue;
            }
        };
        let text = |key: &str| {
            manifest
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        out.push(ImportSnapshot {
            dir,
            source: text("source").unwrap_or_default(),
            system: text("system").unwrap_or_default(),
            observed_at: text("observed_at").and_then(|t| crate::model::parse_time(&t).ok()),
            complete: manifest
                .get("complete")
                .and_then(serde_json::Value::as_bool),
            completeness: text("completeness"),
            span: crate::diag::Span::new(file, 0..0),
            exports: manifest
                .get("exports")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    Some((
                        e.get("file")?.as_str()?.to_string(),
                        e.get("digest")?.as_str()?.to_string(),
                    ))
                })
                .collect(),
        });
    }
    out
}

impl Inventory {
    /// A record by id.
    pub fn get(&self, id: &str) -> Option<&Record> {
        self.index.get(id).map(|&i| &self.records[i])
    }

    /// The workloads that use a non-human identity: those in its `used_by`
    /// and those whose `identity` it is, each once, in index order.
    pub fn workloads_of(&self, nhi: usize) -> Vec<usize> {
        let mut out = self.records[nhi].fields.links("used_by");
        out.extend(self.runs_as.get(&nhi).into_iter().flatten());
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How many records of each kind.
    pub fn counts(&self) -> BTreeMap<Kind, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.records {
            *counts.entry(r.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// Marks a pending link whose record did not validate.
const NO_RECORD: usize = usize::MAX;

/// A link as written, before the target is known.
struct LinkAt {
    path: Vec<LinkSlot>,
    id: String,
    declared_kind: Option<(Kind, Span)>,
    allowed: &'static [Kind],
    field: String,
    span: Span,
}

/// Each record's position by id. Hashed with foldhash (seeded per
/// process, as std's hasher is) rather than SipHash: a million ids are
/// hashed several times over between validation and evaluation.
pub type IdIndex = HashMap<String, usize, foldhash::fast::RandomState>;

/// Every id whose record could be identified, valid or not, with its kind
/// and where it is first defined.
type SeenIds = HashMap<String, (Option<Kind>, Span), foldhash::fast::RandomState>;

/// What checking one raw record found.
struct Read {
    /// Its id, the id's place and its kind, when they could be read.
    identity: Option<(String, Span, Option<Kind>)>,
    /// Problems with the id or kind.
    identity_problems: Vec<Diagnostic>,
    /// The record, when every field is valid.
    record: Option<Record>,
    /// Problems with the fields.
    problems: Vec<Diagnostic>,
    /// Its links, unresolved.
    links: Vec<LinkAt>,
    /// Written as `extends:`: facts to add to a record defined elsewhere.
    fragment: bool,
}

/// A link and the index of the record it is written in.
struct PendingLink {
    record: usize,
    link: LinkAt,
}

#[derive(Clone, Copy)]
enum LinkSlot {
    Field(&'static str),
    Item(usize),
}

struct Checker<'a> {
    file: &'a Arc<SourceFile>,
    diagnostics: Vec<Diagnostic>,
    links: Vec<LinkAt>,
    /// The record read is an `extends:` fragment (set by `identify`).
    fragment: bool,
}

/// Validates the raw inventory. Returns the inventory only when it has no
/// errors; the diagnostics hold every problem found either way.
pub fn validate_inventory(raw: RawInventory) -> (Option<Inventory>, Vec<Diagnostic>) {
    let RawInventory {
        mut files,
        limits,
        mut diagnostics,
        waivers: waiver_file,
        snapshots,
    } = raw;
    let snapshots = read_snapshots(&snapshots, &mut diagnostics);

    let per_file = read_files(&files, &limits);
    let read_count: usize = per_file.iter().map(|(_, reads)| reads.len()).sum();
    crate::progress::stage("linking", read_count as u64);
    let Claimed {
        mut records,
        pending,
        seen,
        mut broken,
    } = claim_ids(per_file, read_count, &mut diagnostics);
    let new_pos = sort_by_id(&mut records);
    let index: IdIndex = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    broken |= resolve_links(
        pending,
        &new_pos,
        &index,
        &seen,
        &mut records,
        &mut diagnostics,
    );

    if records.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::EmptyInventory, "the inventory holds no records").help(
                "records are YAML files (`*.yaml`, `*.yml`) anywhere under the inventory directory",
            ),
        );
    }

    check_people(&records, &mut diagnostics);
    check_credentials(&records, &mut diagnostics);

    // Waivers name people and records, so they are checked once the
    // records are known; their problems make the inventory invalid like
    // any other input error.
    let mut waivers = Vec::new();
    if let Some(file) = waiver_file {
        let broken = |id: &str| seen.contains_key(id) && !index.contains_key(id);
        let (valid, problems) = crate::validate::validate_waivers(&file, &records, &index, &broken);
        waivers = valid;
        diagnostics.extend(problems);
        files.push(file);
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }

    crate::progress::advance(read_count as u64);
    let has_errors = broken
        || diagnostics
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error);
    crate::diag::sort(&mut diagnostics);
    if has_errors {
        return (None, diagnostics);
    }
    let runs_as = workloads_by_identity(&records);
    (
        Some(Inventory {
            records,
            index,
            files,
            waivers,
            runs_as,
            snapshots,
        }),
        diagnostics,
    )
}

/// Parses every file and checks its records, on both cores. Each raw tree
/// is dropped as soon as its record is read: at a million records the
/// trees would outweigh the records.
fn read_files(files: &[Arc<SourceFile>], limits: &Limits) -> Vec<(Vec<Diagnostic>, Vec<Read>)> {
    crate::progress::stage("parsing", files.len() as u64);
    files
        .par_iter()
        .map(|file| {
            let (raw_records, problems) = crate::load::parse_records(file, limits);
            let reads = raw_records
                .into_iter()
                .map(|RawRecord { file, node }| {
                    let mut checker = Checker::new(&file);
                    let identity = checker.identify(&node);
                    let identity_problems = std::mem::take(&mut checker.diagnostics);
                    let record = match &identity {
                        Some((id, _, Some(kind))) => checker.record(&node, id.clone(), *kind),
                        _ => None,
                    };
                    Read {
                        identity,
                        identity_problems,
                        record,
                        problems: checker.diagnostics,
                        links: checker.links,
                        fragment: checker.fragment,
                    }
                })
                .collect();
            crate::progress::advance(1);
            (problems, reads)
        })
        .collect()
}

/// The records whose ids could be claimed, their links still unresolved.
struct Claimed {
    records: Vec<Record>,
    pending: Vec<PendingLink>,
    /// Ids of every record whose kind could be read, valid or not, so that
    /// a broken record does not also make every link to it "dangling".
    seen: SeenIds,
    /// Whether some record could not be kept.
    broken: bool,
}

/// Claims ids in file order, so that "first defined here" always names the
/// same copy of a duplicate; a later copy is reported and its fields are
/// not (they were checked, and are dropped unread).
fn claim_ids(
    per_file: Vec<(Vec<Diagnostic>, Vec<Read>)>,
    read_count: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Claimed {
    let link_count: usize = per_file
        .iter()
        .flat_map(|(_, reads)| reads.iter().map(|r| r.links.len()))
        .sum();
    let mut claimed = Claimed {
        records: Vec::with_capacity(read_count),
        pending: Vec::with_capacity(link_count),
        seen: SeenIds::with_capacity_and_hasher(read_count, Default::default()),
        broken: false,
    };
    let mut fragments = Vec::new();
    for (problems, reads) in per_file {
        diagnostics.extend(problems);
        for read in reads {
            diagnostics.extend(read.identity_problems);
            let Some((id, id_span, kind)) = read.identity else {
                claimed.broken = true;
                continue;
            };
            if read.fragment {
                diagnostics.extend(read.problems);
                fragments.push(Fragment {
                    id,
                    id_span,
                    kind,
                    record: read.record,
                    links: read.links,
                });
                continue;
            }
            if let Some((_, first)) = claimed.seen.get(&id) {
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateId, format!("duplicate id `{id}`"))
                        .at(id_span)
                        .label("defined again here")
                        .note(first.clone(), "first defined here")
                        .help("ids must be unique across the whole inventory"),
                );
                claimed.broken = true;
                continue;
            }
            claimed.seen.insert(id, (kind, id_span));
            diagnostics.extend(read.problems);
            // Links of a broken record are still checked, so that one run
            // reports every problem; they just have no record to resolve into.
            let at = if read.record.is_some() {
                claimed.records.len()
            } else {
                NO_RECORD
            };
            claimed.pending.extend(
                read.links
                    .into_iter()
                    .map(|link| PendingLink { record: at, link }),
            );
            match read.record {
                Some(record) => claimed.records.push(record),
                None => claimed.broken = true,
            }
        }
    }
    merge_fragments(&mut claimed, fragments, diagnostics);
    claimed
}

/// An `extends:` document: facts for a record defined elsewhere.
struct Fragment {
    id: String,
    id_span: Span,
    kind: Option<Kind>,
    record: Option<Record>,
    links: Vec<LinkAt>,
}

/// Adds each fragment's fields to the record it extends, in file order.
/// `sources` accumulate (each system that reported the record adds its
/// own); any other field may come from one place only, except that a
/// curated fragment (one without `sources`, written by a person) may set a
/// field that an importer reported without being its authority: the
/// person's value is used and a warning says so. A field set in two places
/// otherwise is an error, because which one holds would be an accident.
fn merge_fragments(
    claimed: &mut Claimed,
    fragments: Vec<Fragment>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if fragments.is_empty() {
        return;
    }
    let targets: Vec<Option<usize>> = {
        let position: HashMap<&str, usize> = claimed
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        fragments
            .iter()
            .map(|f| position.get(f.id.as_str()).copied())
            .collect()
    };
    // Fields a fragment set, and whether that fragment was an importer's.
    let mut set_by: HashMap<(usize, &'static str), (bool, Span)> = HashMap::new();
    let mut added_links = Vec::new();
    for (fragment, target) in fragments.into_iter().zip(targets) {
        let Some(kind) = fragment.kind else {
            claimed.broken = true;
            continue;
        };
        let Some(pos) = target else {
            // A broken base record has its own findings.
            if !claimed.seen.contains_key(&fragment.id) {
                let mut d = Diagnostic::error(
                    Code::DanglingLink,
                    format!(
                        "`extends` names `{}`, which is not in the inventory",
                        fragment.id
                    ),
                )
                .at(fragment.id_span.clone())
                .label("no record has this id");
                if let Some(close) =
                    did_you_mean_id(&fragment.id, claimed.records.iter().map(|r| r.id.as_str()))
                {
                    d = d.help(format!("did you mean `{close}`?"));
                }
                diagnostics.push(d);
            }
            claimed.broken = true;
            continue;
        };
        let base = &mut claimed.records[pos];
        if base.kind != kind {
            diagnostics.push(
                Diagnostic::error(
                    Code::WrongLinkKind,
                    format!(
                        "`extends` says `{}` is a {kind}, but it is a {}",
                        fragment.id, base.kind
                    ),
                )
                .at(fragment.id_span.clone())
                .note(base.span.clone(), format!("`{}` is defined here", base.id)),
            );
            claimed.broken = true;
            continue;
        }
        let Some(record) = fragment.record else {
            claimed.broken = true;
            continue;
        };
        let imported = record.fields.get("sources").is_some();
        for (name, field) in record.fields.into_fields() {
            if name == "sources" {
                append_sources(&mut base.fields, field);
                continue;
            }
            if let Some(existing) = base.fields.field(name) {
                let earlier = set_by.get(&(pos, name));
                let base_imported = base.fields.get("sources").is_some();
                let curated_over_source = !imported
                    && earlier.is_none()
                    && base_imported
                    && !authoritative_for(&base.fields, name);
                if !curated_over_source {
                    let first = earlier.map_or(existing.span.clone(), |(_, s)| s.clone());
                    diagnostics.push(
                        Diagnostic::error(
                            Code::ConflictingFacts,
                            format!("`{name}` of `{}` is given in two places", base.id),
                        )
                        .at(field.span.clone())
                        .label("given again here")
                        .note(first, "first given here")
                        .help(if authoritative_for(&base.fields, name) {
                            "the system that reported the record is the authority for this field: correct it there, and drop it here"
                        } else {
                            "keep the fact in one place: a curated fragment adds what the systems of record do not report"
                        }),
                    );
                    claimed.broken = true;
                    continue;
                }
                diagnostics.push(
                    Diagnostic::warning(
                        Code::ConflictingFacts,
                        format!(
                            "a curated `{name}` of `{}` replaces the value the system of record reported",
                            base.id
                        ),
                    )
                    .at(field.span.clone())
                    .label("used")
                    .note(existing.span.clone(), "reported here, not used"),
                );
            }
            set_by.insert((pos, name), (imported, field.span.clone()));
            base.fields.insert(name, field);
        }
        added_links.extend(
            fragment
                .links
                .into_iter()
                .map(|link| PendingLink { record: pos, link }),
        );
    }
    // A replaced field's own links no longer exist.
    claimed.pending.retain(|p| match p.link.path.first() {
        Some(LinkSlot::Field(f)) => !set_by.contains_key(&(p.record, *f)),
        _ => true,
    });
    claimed.pending.extend(added_links);
}

/// Whether a record's `sources` name a system authoritative for `field`.
fn authoritative_for(fields: &Fields, field: &str) -> bool {
    fields.objects("sources").iter().any(|source| {
        matches!(source.get("authoritative_for"), Some(Value::Strs(names)) if names.iter().any(|n| n == field))
    })
}

/// Adds a fragment's `sources` to the record's own.
fn append_sources(fields: &mut Fields, more: Field) {
    let Value::Objects(more_sources) = more.value else {
        return;
    };
    match fields.field_mut("sources") {
        Some(Field {
            value: Value::Objects(sources),
            ..
        }) => sources.extend(more_sources),
        _ => fields.insert(
            "sources",
            Field {
                value: Value::Objects(more_sources),
                span: more.span,
            },
        ),
    }
}

/// Sorts the records by id, in place, and returns each old position's new
/// one. Ids are unique here, so an unstable sort gives the one order.
fn sort_by_id(records: &mut [Record]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.par_sort_unstable_by(|&a, &b| records[a].id.cmp(&records[b].id));
    let mut new_pos = vec![0; records.len()];
    for (new, &old) in order.iter().enumerate() {
        new_pos[old] = new;
    }
    permute(records, &order);
    new_pos
}

/// Points every link at its target's position. Each link is looked up on
/// both cores; what it resolves to is then applied in order, so findings
/// come out in the order the links were written. Returns whether a link
/// was broken.
fn resolve_links(
    pending: Vec<PendingLink>,
    new_pos: &[usize],
    index: &IdIndex,
    seen: &SeenIds,
    records: &mut [Record],
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let resolved: Vec<Resolution> = pending
        .par_iter()
        .map(|PendingLink { link, .. }| resolve(link, index, seen, records))
        .collect();
    let mut broken = false;
    for (PendingLink { record: at, link }, resolution) in pending.into_iter().zip(resolved) {
        match resolution {
            Resolution::Target(target) => {
                if at != NO_RECORD {
                    let record = &mut records[new_pos[at]];
                    set_link_target(&mut record.fields, &link.path, target);
                }
            }
            Resolution::Broken(problem) => {
                diagnostics.extend(problem.map(|d| *d));
                broken = true;
            }
        }
    }
    broken
}

/// The workloads that run as each non-human identity.
fn workloads_by_identity(records: &[Record]) -> HashMap<usize, Vec<usize>> {
    let mut runs_as: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if r.kind == Kind::Workload
            && let Some(nhi) = r.fields.link("identity")
        {
            runs_as.entry(nhi).or_default().push(i);
        }
    }
    runs_as
}

/// What a link resolves to: its target, or why it has none (a finding, or
/// none when the target is itself broken and its own findings say why).
enum Resolution {
    Target(usize),
    /// Boxed: there is one resolution per link, and nearly all are targets.
    Broken(Option<Box<Diagnostic>>),
}

fn resolve(link: &LinkAt, index: &IdIndex, seen: &SeenIds, records: &[Record]) -> Resolution {
    let Some(&target) = index.get(&link.id) else {
        if seen.contains_key(&link.id) {
            // The target exists but is itself broken; its own findings say why.
            return Resolution::Broken(None);
        }
        let mut d = Diagnostic::error(
            Code::DanglingLink,
            format!(
                "`{}` links to `{}`, which is not in the inventory",
                link.field, link.id
            ),
        )
        .at(link.span.clone())
        .label("no record has this id");
        let ids = index.keys().map(String::as_str);
        if let Some(close) = did_you_mean_id(&link.id, ids) {
            d = d.help(format!("did you mean `{close}`?"));
        }
        return Resolution::Broken(Some(Box::new(d)));
    };
    let target_kind = records[target].kind;
    if let Some((declared, span)) = &link.declared_kind
        && *declared != target_kind
    {
        return Resolution::Broken(Some(Box::new(
            Diagnostic::error(
                Code::WrongLinkKind,
                format!(
                    "`{}` says `{}` is a {declared}, but it is a {target_kind}",
                    link.field, link.id
                ),
            )
            .at(span.clone())
            .note(
                records[target].span.clone(),
                format!("`{}` is defined here", link.id),
            ),
        )));
    }
    if !link.allowed.contains(&target_kind) {
        let allowed: Vec<&str> = link.allowed.iter().map(|k| k.as_str()).collect();
        return Resolution::Broken(Some(Box::new(
            Diagnostic::error(
                Code::WrongLinkKind,
                format!(
                    "`{}` must link to a {}, but `{}` is a {target_kind}",
                    link.field,
                    allowed.join(" or "),
                    link.id
                ),
            )
            .at(link.span.clone())
            .note(
                records[target].span.clone(),
                format!("`{}` is defined here", link.id),
            ),
        )));
    }
    Resolution::Target(target)
}

/// Puts `items` in `order` (position `i` gets the item that was at
/// `order[i]`) by following each cycle of the permutation with swaps, so
/// that a million records are not copied into a second vector.
fn permute<T>(items: &mut [T], order: &[usize]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        let mut at = start;
        while !placed[at] {
            placed[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

fn set_link_target(fields: &mut Fields, path: &[LinkSlot], target: usize) {
    let [LinkSlot::Field(name), rest @ ..] = path else {
        return;
    };
    let Some(field) = fields.field_mut(name) else {
        return;
    };
    match (&mut field.value, rest) {
        (Value::Link(l), []) => l.target = target,
        (Value::Links(ls), [LinkSlot::Item(i)]) => {
            if let Some(l) = ls.get_mut(*i) {
                l.target = target;
            }
        }
        (Value::Object(inner), rest) => set_link_target(inner, rest, target),
        (Value::Objects(items), [LinkSlot::Item(i), rest @ ..]) => {
            if let Some(inner) = items.get_mut(*i) {
                set_link_target(inner, rest, target);
            }
        }
        _ => {}
    }
}

/// Contradictions that types alone do not catch: employment history out of
/// order, and two people sharing the HR key that is never reused.
fn check_people(records: &[Record], diagnostics: &mut Vec<Diagnostic>) {
    let mut by_number: HashMap<&str, &Record> = HashMap::new();
    for record in records.iter().filter(|r| r.kind == Kind::Person) {
        check_consistency(record, diagnostics);
        let Some(number) = record.fields.str("employee_number") else {
            continue;
        };
        if let Some(first) = by_number.get(number) {
            let span = record.field_span("employee_number");
            let first_span = first.field_span("employee_number");
            diagnostics.push(
                Diagnostic::error(
                    Code::InconsistentRecord,
                    format!("`{}` and `{}` share employee number `{number}`", first.id, record.id),
                )
                .at(span)
                .note(first_span, "first used here")
                .help("employee numbers are never reused: a rehire is a new entry in the same person's `employments`"),
            );
        } else {
            by_number.insert(number, record);
        }
    }
}

/// Credential types that prove a person's (or an account's) identity. One of
/// them is never a device's own secret, so `bound_to` a device is a mistake:
/// the device is where it is accepted (`hosts`), and read as the device's
/// own secret it would be rotated, not revoked, when its owner leaves.
const PERSONAL_CREDENTIALS: &[&str] = &[
    "ssh_key",
    "pat",
    "session_token",
    "oauth_token",
    "passkey",
    "otp_seed",
    "hardware_token",
    "badge",
];

/// A credential whose type says "a person's login" but whose `bound_to`
/// says "a device's own secret".
fn check_credentials(records: &[Record], diagnostics: &mut Vec<Diagnostic>) {
    for record in records.iter().filter(|r| r.kind == Kind::Credential) {
        let Some(cred_type) = record.fields.str("cred_type") else {
            continue;
        };
        let Some(device) = record
            .fields
            .link("bound_to")
            .and_then(|t| records.get(t))
            .filter(|t| t.kind == Kind::Device)
        else {
            continue;
        };
        if !PERSONAL_CREDENTIALS.contains(&cred_type) {
            continue;
        }
        let span = record.field_span("bound_to");
        let type_span = record.field_span("cred_type");
        diagnostics.push(
            Diagnostic::error(
                Code::InconsistentRecord,
                format!(
                    "`{}` has type `{cred_type}`, a person's login, but is bound to the device `{}`",
                    record.id, device.id
                ),
            )
            .at(span)
            .label("`bound_to` names what a credential authenticates")
            .note(type_span, "a personal credential type")
            .help(format!(
                "bind it to the account it signs in to (or leave `bound_to` out and name its `owner`), and list the device that accepts it in `hosts: [{}]`; a device's own SSH host key is `cred_type: host_key`",
                device.id
            )),
        );
    }
}

/// Contradictions inside one person record.
fn check_consistency(record: &Record, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(field) = record.fields.field("time_zone")
        && let Value::Str(name) = &field.value
        && jiff::tz::TimeZone::get(name).is_err()
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{name}` is not an IANA time zone"),
            )
            .at(field.span.clone())
            .help("write a name such as `Europe/London` or `America/New_York`"),
        );
    }
    let employments = record.fields.objects("employments");
    let starts: Vec<_> = employments.iter().map(|e| e.time("start")).collect();
    if starts.windows(2).any(|w| w[0] > w[1]) {
        let span = record.field_span("employments");
        diagnostics.push(
            Diagnostic::error(
                Code::InconsistentRecord,
                format!(
                    "the employments of `{}` are not in order of `start`",
                    record.id
                ),
            )
            .at(span)
            .help("list employments oldest first; the last one is the current employment"),
        );
    }
    let current = record.fields.objects("employments").last();
    let termination = current.and_then(|e| e.object("termination"));
    let dated = termination
        .is_some_and(|t| t.time("effective").is_some() || t.time("last_day_of_work").is_some());
    if record.status == "terminated" && !dated {
        diagnostics.push(
            Diagnostic::warning(
                Code::DepartureUndated,
                format!("`{}` is terminated but has no termination date", record.id),
            )
            .at(record.span.clone())
            .help("add `employments[-1].termination.effective`; until then severance fails safe and treats the person as departed at the run's instant"),
        );
    }
}

impl<'a> Checker<'a> {
    fn span(&self, node: &Node) -> Span {
        node_span(self.file, node)
    }

    /// A scalar exactly as written in the file.
    fn raw_text(&self, node: &Node) -> String {
        let span = self.span(node);
        let text = self
            .file
            .text
            .get(span.range.clone())
            .unwrap_or_default()
            .trim();
        match &node.value {
            _ if !text.is_empty() => text.to_string(),
            NodeValue::Int(i) => i.to_string(),
            NodeValue::Float(f) => f.to_string(),
            NodeValue::Bool(b) => b.to_string(),
            _ => String::new(),
        }
    }

    fn new(file: &'a Arc<SourceFile>) -> Checker<'a> {
        Checker {
            file,
            diagnostics: Vec::new(),
            links: Vec::new(),
            fragment: false,
        }
    }

    /// Reads a record's id (with its place) and kind. `None` when the id
    /// cannot be read; the kind is `None` when it cannot be (a diagnostic
    /// each), and the record's fields are then not checked.
    fn identify(&mut self, node: &Node) -> Option<(String, Span, Option<Kind>)> {
        let NodeValue::Map(entries) = &node.value else {
            return None;
        };
        let record_span = self.span(node);
        let entry = |name: &str| entries.iter().find(|(k, _)| k.is_key(name));

        // A fragment names the record it adds to where a record names itself.
        let extends = entry("extends");
        if let (Some((key, _)), Some(_)) = (extends, entry("id")) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "a record has both `id` and `extends`",
                )
                .at(self.span(key))
                .help("a record defines `id`; an `extends:` fragment only adds facts to the record it names, so it has no `id` of its own"),
            );
            return None;
        }
        self.fragment = extends.is_some();
        let id_key = if self.fragment { "extends" } else { "id" };

        let id = match entry(id_key) {
            Some((_, v)) => match &v.value {
                NodeValue::Str(s) if !s.trim().is_empty() => {
                    match s.chars().find(|c| is_hidden_char(*c)) {
                        Some(c) => {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::InvalidId,
                                    format!(
                                        "id `{}` contains {} (`{}`)",
                                        printable(s),
                                        hidden_char_kind(c),
                                        printable(&c.to_string())
                                    ),
                                )
                                .at(self.span(v))
                                .help("ids are shown in plans and findings: write them with visible characters only"),
                            );
                            None
                        }
                        None => Some((s.clone(), self.span(v))),
                    }
                }
                NodeValue::Int(_) => Some((self.raw_text(v), self.span(v))),
                other => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::WrongType,
                            format!(
                                "`{id_key}` must be a non-empty string, found {}",
                                other.type_name()
                            ),
                        )
                        .at(self.span(v)),
                    );
                    None
                }
            },
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::MissingField, "record has no `id`")
                        .at(record_span.clone())
                        .help("every record needs an `id` unique across the inventory, e.g. `device/LAP-0001`"),
                );
                None
            }
        };

        let kind = match entry("kind") {
            Some((_, v)) => match &v.value {
                NodeValue::Str(s) => match Kind::parse(s) {
                    Some(k) => Some(k),
                    None => {
                        let mut d =
                            Diagnostic::error(Code::UnknownKind, format!("unknown kind `{s}`"))
                                .at(self.span(v));
                        d = match did_you_mean(s, Kind::ALL.iter().map(|k| k.as_str())) {
                            Some(close) => d.help(format!("did you mean `{close}`?")),
                            None => d.help(format!(
                                "the kinds are {}",
                                quote_list(&Kind::ALL.map(|k| k.as_str()))
                            )),
                        };
                        self.diagnostics.push(d);
                        None
                    }
                },
                other => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::WrongType,
                            format!("`kind` must be a string, found {}", other.type_name()),
                        )
                        .at(self.span(v)),
                    );
                    None
                }
            },
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::MissingField, "record has no `kind`")
                        .at(record_span.clone())
                        .help(format!(
                            "the kinds are {}",
                            quote_list(&Kind::ALL.map(|k| k.as_str()))
                        )),
                );
                None
            }
        };

        let (id, id_span) = id?;
        Some((id, id_span, kind))
    }

    /// Checks every field of a record whose id and kind [`Checker::identify`] read.
    fn record(&mut self, node: &Node, id: String, kind: Kind) -> Option<Record> {
        let NodeValue::Map(entries) = &node.value else {
            return None;
        };
        let record_span = self.span(node);
        let entry = |name: &str| entries.iter().find(|(k, _)| k.is_key(name));
        let errors_before = self.diagnostics.len();
        let mut status = None;
        let mut fields = Fields::default();
        for (key, value) in entries {
            let Some(name) = key.as_key() else {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!(
                            "field names must be strings, found {}",
                            key.value.type_name()
                        ),
                    )
                    .at(self.span(key)),
                );
                continue;
            };
            if name == "kind" || name == "id" || (self.fragment && name == "extends") {
                continue;
            }
            if self.fragment && name == "status" {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("an `extends:` fragment of `{id}` sets `status`"),
                    )
                    .at(self.span(key))
                    .help("a record's status comes from the record itself (or the system of record that wrote it); a fragment only adds facts"),
                );
                continue;
            }
            let Some(spec) = kind.field(&name) else {
                self.unknown_field(
                    &name,
                    key,
                    kind.as_str(),
                    ENVELOPE.iter().chain(kind.fields()),
                );
                continue;
            };
            if name == "status" {
                status = self.status(kind, value);
                continue;
            }
            if let Some(v) = self.value(spec, value, vec![LinkSlot::Field(spec.name)], &name) {
                fields.insert(
                    spec.name,
                    Field {
                        value: v,
                        span: self.span(value),
                    },
                );
            }
        }
        for spec in ENVELOPE.iter().chain(kind.fields()) {
            let present = spec.name == "kind" || spec.name == "id" || entry(spec.name).is_some();
            if spec.required && !present && !self.fragment {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::MissingField,
                        format!("{kind} `{id}` has no `{}`", spec.name),
                    )
                    .at(record_span.clone())
                    .help(format!(
                        "`{}` is {}: {}",
                        spec.name,
                        spec.ty.describe(),
                        spec.doc
                    )),
                );
            }
        }
        if self.diagnostics.len() > errors_before {
            return None;
        }
        fields.shrink();
        let status = if self.fragment {
            Some(String::new())
        } else {
            status
        };
        Some(Record {
            kind,
            id,
            status: status?,
            span: record_span,
            fields,
        })
    }

    fn unknown_field<'s>(
        &mut self,
        name: &str,
        key: &Node,
        owner: &str,
        specs: impl Iterator<Item = &'s FieldSpec> + Clone,
    ) {
        let mut d = Diagnostic::error(
            Code::UnknownField,
            format!("unknown field `{name}` in {owner}"),
        )
        .at(self.span(key));
        if crate::validate::INLINE_NAMES.contains(&name) {
            d = d.help("waivers are never written inside the records they waive: add one to `waivers.yaml` at the top of the inventory, with a justification, an approver and an expiry");
        } else if let Some(close) = did_you_mean(name, specs.clone().map(|s| s.name)) {
            d = d.help(format!("did you mean `{close}`?"));
        } else {
            let names: Vec<&str> = specs
                .map(|s| s.name)
                .filter(|n| *n != "kind" && *n != "id")
                .collect();
            d = d.help(format!("the fields of {owner} are {}", quote_list(&names)));
        }
        self.diagnostics.push(d);
    }

    fn status(&mut self, kind: Kind, node: &Node) -> Option<String> {
        let NodeValue::Str(s) = &node.value else {
            self.wrong_type("status", "a string", node);
            return None;
        };
        if kind.statuses().contains(&s.as_str()) {
            return Some(s.clone());
        }
        let mut d = Diagnostic::error(
            Code::InvalidValue,
            format!("`{s}` is not a status of a {kind}"),
        )
        .at(self.span(node));
        d = match did_you_mean(s, kind.statuses().iter().copied()) {
            Some(close) => d.help(format!("did you mean `{close}`?")),
            None => d.help(format!(
                "a {kind}'s status is {}",
                quote_list(kind.statuses())
            )),
        };
        self.diagnostics.push(d);
        None
    }

    fn wrong_type(&mut self, field: &str, expected: &str, node: &Node) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::WrongType,
                format!(
                    "`{field}` must be {expected}, found {}",
                    node.value.type_name()
                ),
            )
            .at(self.span(node)),
        );
    }

    fn value(
        &mut self,
        spec: &FieldSpec,
        node: &Node,
        path: Vec<LinkSlot>,
        shown: &str,
    ) -> Option<Value> {
        match (&spec.ty, &node.value) {
            // An explicit null means "not known" for optional values; a
            // boolean must be said (an empty `legal_hold:` is not `false`).
            (FieldType::Bool, NodeValue::Null) => {
                self.wrong_type(shown, "`true` or `false`", node);
                None
            }
            (_, NodeValue::Null) if !spec.required => None,
            (FieldType::Str, NodeValue::Str(s)) => Some(Value::Str(s.clone())),
            // Unquoted numbers are accepted where text is expected (serials
            // and ids often look numeric), exactly as written: `0x1F` stays
            // `0x1F`, not `31`.
            (FieldType::Str, NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_)) => {
                Some(Value::Str(self.raw_text(node)))
            }
            (FieldType::Enum(allowed), NodeValue::Str(s)) => {
                if allowed.contains(&s.as_str()) {
                    Some(Value::Str(s.clone()))
                } else {
                    let mut d = Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{s}` is not a valid `{shown}`"),
                    )
                    .at(self.span(node));
                    d = match did_you_mean(s, allowed.iter().copied()) {
                        Some(close) => d.help(format!("did you mean `{close}`?")),
                        None => d.help(format!("`{shown}` is {}", quote_list(allowed))),
                    };
                    self.diagnostics.push(d);
                    None
                }
            }
            (FieldType::Bool, NodeValue::Bool(b)) => Some(Value::Bool(*b)),
            (FieldType::Time, NodeValue::Str(s)) => match parse_when(s) {
                Ok(v) => Some(v),
                Err(why) => {
                    self.diagnostics.push(
                        Diagnostic::error(Code::InvalidDate, format!("`{shown}` is not an RFC 3339 date: `{s}`"))
                            .at(self.span(node))
                            .label(why)
                            .help("write `2026-07-31` (midnight UTC) or `2026-07-31T17:00:00Z` / `2026-07-31T17:00:00+02:00`"),
                    );
                    None
                }
            },
            (FieldType::Link(allowed), _) => self
                .link(node, allowed, path, shown)
                .map(|l| Value::Link(Box::new(l))),
            (FieldType::Links(allowed), NodeValue::Seq(items)) => {
                let mut links = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(LinkSlot::Item(links.len()));
                    if let Some(l) = self.link(item, allowed, p, &format!("{shown}[{i}]")) {
                        links.push(l);
                    }
                }
                Some(Value::Links(links))
            }
            (FieldType::Strs, NodeValue::Seq(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match &item.value {
                        NodeValue::Str(s) => out.push(s.clone()),
                        NodeValue::Int(_) | NodeValue::Float(_) => out.push(self.raw_text(item)),
                        _ => self.wrong_type(&format!("{shown}[]"), "a string", item),
                    }
                }
                Some(Value::Strs(out))
            }
            (FieldType::Object(specs), NodeValue::Map(entries)) => Some(Value::Object(
                self.object(specs, entries, node, path, shown),
            )),
            (FieldType::Objects(specs), NodeValue::Seq(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let NodeValue::Map(entries) = &item.value else {
                        self.wrong_type(&format!("{shown}[{i}]"), "a mapping", item);
                        continue;
                    };
                    let mut p = path.clone();
                    p.push(LinkSlot::Item(out.len()));
                    out.push(self.object(specs, entries, item, p, &format!("{shown}[{i}]")));
                }
                Some(Value::Objects(out))
            }
            (ty, _) => {
                self.wrong_type(shown, &ty.describe(), node);
                None
            }
        }
    }

    fn object(
        &mut self,
        specs: &'static [FieldSpec],
        entries: &[(Node, Node)],
        node: &Node,
        path: Vec<LinkSlot>,
        shown: &str,
    ) -> Fields {
        let mut fields = Fields::default();
        for (key, value) in entries {
            let Some(name) = key.as_key() else {
                self.wrong_type(shown, "a mapping with string keys", key);
                continue;
            };
            let Some(spec) = specs.iter().find(|s| s.name == name) else {
                self.unknown_field(&name, key, &format!("`{shown}`"), specs.iter());
                continue;
            };
            let mut p = path.clone();
            p.push(LinkSlot::Field(spec.name));
            let child = format!("{shown}.{name}");
            if let Some(v) = self.value(spec, value, p, &child) {
                fields.insert(
                    spec.name,
                    Field {
                        value: v,
                        span: self.span(value),
                    },
                );
            }
        }
        for spec in specs.iter().filter(|s| s.required) {
            if !entries.iter().any(|(k, _)| k.is_key(spec.name)) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::MissingField,
                        format!("`{shown}` has no `{}`", spec.name),
                    )
                    .at(self.span(node))
                    .help(format!(
                        "`{}` is {}: {}",
                        spec.name,
                        spec.ty.describe(),
                        spec.doc
                    )),
                );
            }
        }
        fields.shrink();
        fields
    }

    /// A link is written as an id (`person/E1001`) or as `{kind: person, id: person/E1001}`.
    fn link(
        &mut self,
        node: &Node,
        allowed: &'static [Kind],
        path: Vec<LinkSlot>,
        shown: &str,
    ) -> Option<LinkRef> {
        let span = self.span(node);
        let (id, declared) = match &node.value {
            NodeValue::Str(s) if !s.trim().is_empty() => (s.clone(), None),
            NodeValue::Map(entries) => {
                let mut id = None;
                let mut declared = None;
                for (k, v) in entries {
                    match (k.as_key().as_deref(), &v.value) {
                        (Some("id"), NodeValue::Str(s)) => id = Some(s.clone()),
                        (Some("kind"), NodeValue::Str(s)) => match Kind::parse(s) {
                            Some(kind) => declared = Some((kind, self.span(v))),
                            None => {
                                self.diagnostics.push(
                                    Diagnostic::error(
                                        Code::UnknownKind,
                                        format!("unknown kind `{s}` in `{shown}`"),
                                    )
                                    .at(self.span(v)),
                                );
                                return None;
                            }
                        },
                        (Some(other), _) if other != "id" && other != "kind" => {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::UnknownField,
                                    format!("unknown field `{other}` in link `{shown}`"),
                                )
                                .at(self.span(k))
                                .help("a link is an id, or a mapping with `kind` and `id`"),
                            );
                            return None;
                        }
                        _ => {
                            self.wrong_type(
                                &format!("{shown}.{}", k.as_key().unwrap_or_default()),
                                "a string",
                                v,
                            );
                            return None;
                        }
                    }
                }
                let Some(id) = id else {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::MissingField,
                            format!("link `{shown}` has no `id`"),
                        )
                        .at(span),
                    );
                    return None;
                };
                (id, declared)
            }
            _ => {
                self.wrong_type(shown, "a record id or a `{kind, id}` mapping", node);
                return None;
            }
        };
        self.links.push(LinkAt {
            path,
            id: id.clone(),
            declared_kind: declared,
            allowed,
            field: shown.to_string(),
            span: span.clone(),
        });
        Some(LinkRef {
            id,
            target: usize::MAX,
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_puts_every_item_where_the_order_says() {
        // Every permutation of five items, including fixed points and
        // several cycles.
        let n = 5;
        let mut order: Vec<usize> = (0..n).collect();
        let mut count = 0;
        loop {
            let mut items: Vec<String> = (0..n).map(|i| format!("item{i}")).collect();
            permute(&mut items, &order);
            let want: Vec<String> = order.iter().map(|i| format!("item{i}")).collect();
            assert_eq!(items, want, "order {order:?}");
            count += 1;
            // Next permutation in lexicographic order.
            let Some(i) = (0..n - 1).rev().find(|&i| order[i] < order[i + 1]) else {
                break;
            };
            let j = (i + 1..n)
                .rev()
                .find(|&j| order[j] > order[i])
                .expect("exists");
            order.swap(i, j);
            order[i + 1..].reverse();
        }
        assert_eq!(count, 120);
    }
}
