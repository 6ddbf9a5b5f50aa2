//! Stage 3a, reconcile: where the systems of record disagree. Imports put
//! what HR, the identity providers, device management, the asset register,
//! cloud and code hosting observed into the inventory, each record with its
//! `sources`; this stage joins those observations with each other and with
//! the curated records and names every disagreement with a stable code.
//!
//! It decides nothing. Each discrepancy becomes an attribute the policies
//! read (`discrepancies` when it rests on strong keys and fresh, complete
//! sources; `suspected_discrepancies` otherwise) and a finding of
//! `severance check`, so that what follows from a disagreement is written
//! in the policy pack, reviewed like any policy. Only observations are
//! reconciled: a record nobody imported (no `sources`) is a person's claim,
//! judged by the policies alone.

mod codes;
pub mod removal;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

pub use codes::{DiscrepancyCode, Family};

use crate::departure::Departure;
use crate::diag::{Severity, Span};
use crate::model::{Fields, Kind, Record, Value, format_time};
use crate::validate::{ImportSnapshot, Inventory};

/// The limits a discrepancy of age is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// An enabled account unused this long is dormant (CIS Controls 5.3).
    pub dormant: SignedDuration,
    /// An active credential unused this long is stale.
    pub stale_credential: SignedDuration,
    /// A credential meant to live longer than this is long-lived.
    pub credential_lifetime: SignedDuration,
    /// A deployed device silent this long is not checking in.
    pub checkin: SignedDuration,
    /// An observation older than this is stale.
    pub source_age: SignedDuration,
}

impl Default for Thresholds {
    fn default() -> Self {
        const DAY: i64 = 24;
        Thresholds {
            dormant: SignedDuration::from_hours(45 * DAY),
            stale_credential: SignedDuration::from_hours(90 * DAY),
            credential_lifetime: SignedDuration::from_hours(365 * DAY),
            checkin: SignedDuration::from_hours(30 * DAY),
            source_age: SignedDuration::from_hours(72),
        }
    }
}

/// What a discrepancy rests on, and so whether the policies may act on it
/// or only review it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    /// Strong keys (employee number, serial, key id) or a person's own
    /// record, and fresh observations.
    Proven,
    /// A join on an email or login alone (`match: weak`).
    WeakMatch,
    /// An observation older than the freshness limit.
    StaleSource,
    /// Something's absence from an export not proven complete: without
    /// an envelope count or an exhausted cursor, "gone" and "not on this
    /// page" look the same.
    UnprovenAbsence,
}

impl Basis {
    /// Whether policies may act on it (`discrepancies`), rather than only
    /// review it (`suspected_discrepancies`).
    pub fn proven(self) -> bool {
        self == Basis::Proven
    }

    /// The lowercase name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Proven => "proven",
            Basis::WeakMatch => "weak-match",
            Basis::StaleSource => "stale-source",
            Basis::UnprovenAbsence => "unproven-absence",
        }
    }

    /// Why a suspected discrepancy is only suspected.
    pub fn why_suspected(self) -> Option<&'static str> {
        match self {
            Basis::Proven => None,
            Basis::WeakMatch => Some(
                "it rests on a match by email or login alone (`match: weak`), so it is reviewed, never acted on",
            ),
            Basis::StaleSource => Some(
                "it rests on an observation older than the freshness limit, so it is reviewed, never acted on",
            ),
            Basis::UnprovenAbsence => Some(
                "it rests on absence from an export not proven complete (no envelope count or exhausted page cursor says so), so it is reviewed, never acted on",
            ),
        }
    }
}

/// One observation a discrepancy rests on: a `sources` entry of a record.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The reporting system.
    pub system: String,
    /// The record's id in that system.
    pub record_id: Option<String>,
    /// The `sha256:` digest of the export the facts were read from.
    pub export: Option<String>,
    /// That export's file name, as the import's manifest records it.
    pub export_file: Option<String>,
    /// When the system reported it.
    pub observed_at: Option<Timestamp>,
    /// Where the `sources` entry is written.
    pub span: Span,
}

/// One disagreement about one record.
#[derive(Debug, Clone)]
pub struct Discrepancy {
    /// What kind of disagreement.
    pub code: DiscrepancyCode,
    /// The record it is about (the one whose policies see it), by index.
    pub record: usize,
    /// What it rests on.
    pub basis: Basis,
    /// One line, lowercase, ids in backticks.
    pub message: String,
    /// The field of the record at fault, when one is.
    pub field: Option<&'static str>,
    /// Other places it rests on (the person's termination, the other
    /// system's record), each with what it shows.
    pub evidence: Vec<(Span, String)>,
    /// The observation of the record it rests on.
    pub observation: Option<Observation>,
}

impl Discrepancy {
    /// The severity of its finding: a suspected one is at most a warning.
    pub fn severity(&self) -> Severity {
        let severity = self.code.severity();
        if self.basis.proven() {
            severity
        } else {
            severity.max(Severity::Warning)
        }
    }
}

/// What one system reported, in figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSummary {
    /// The system's name.
    pub system: String,
    /// Records it reported, by kind.
    pub records: BTreeMap<Kind, usize>,
    /// Records joined to a person on a strong key.
    pub strong: usize,
    /// Records joined to a person on an email or login alone.
    pub weak: usize,
    /// Records of a kind that names a person, joined to nobody.
    pub unmatched: usize,
    /// Records with at least one discrepancy.
    pub conflicting: usize,
    /// Records it no longer returns (`missing_since`).
    pub missing: usize,
    /// Its oldest and newest observation.
    pub oldest: Option<Timestamp>,
    /// Its latest report: its newest observation, or the latest import
    /// its manifests date, whichever is later.
    pub newest: Option<Timestamp>,
    /// Whether its newest observation is older than the freshness limit.
    pub stale: bool,
    /// Discrepancies on its records, by code.
    pub discrepancies: BTreeMap<DiscrepancyCode, usize>,
    /// Whether its imports proved their exports complete: `None` when no
    /// manifest of it says (a format without envelope counts, or records
    /// typed by hand).
    pub complete: Option<bool>,
}

/// The output of the reconcile stage.
#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    /// Every discrepancy, sorted by record id, then by code in
    /// documentation order.
    pub discrepancies: Vec<Discrepancy>,
    /// Each record's discrepancies, by index into `discrepancies`.
    pub by_record: HashMap<usize, Vec<usize>>,
    /// Per system, in name order.
    pub sources: Vec<SourceSummary>,
    /// The limits used.
    pub thresholds: Thresholds,
    /// The run's instant.
    pub as_of: Timestamp,
    /// The imports whose exports proved incomplete, by directory.
    pub incomplete: Vec<ImportSnapshot>,
}

impl Reconciliation {
    /// Adds a `revocation-drift` discrepancy for every decided action that
    /// the ledger records as executed and a later import still shows in
    /// effect.
    pub fn add_drift(&mut self, inventory: &Inventory, removals: &[removal::Removal]) {
        for r in removals {
            let removal::State::Drift {
                executed_at,
                seen_at,
            } = &r.state
            else {
                continue;
            };
            let Some(&index) = inventory.index.get(&r.subject) else {
                continue;
            };
            let record = &inventory.records[index];
            let observation =
                newest_live_source(record).map(|s| observation(inventory, s, &record.span));
            self.discrepancies.push(Discrepancy {
                code: DiscrepancyCode::RevocationDrift,
                record: index,
                basis: Basis::Proven,
                message: format!(
                    "`{}`: the ledger records the `{}` of decision {} as executed at {executed_at}, yet `{}`'s import of {seen_at} still reports it {}",
                    r.subject,
                    r.action,
                    r.decision_seq,
                    r.observed.get("system").map_or("its source", String::as_str),
                    record.status,
                ),
                field: Some("status"),
                evidence: Vec::new(),
                observation,
            });
        }
        self.index(inventory);
    }

    /// Sorts the discrepancies by record and code, each pair once (the
    /// records are in id order, so this is id order too), and counts them
    /// again per record and per system.
    fn index(&mut self, inventory: &Inventory) {
        self.discrepancies.sort_by_key(|d| (d.record, d.code));
        self.discrepancies
            .dedup_by(|a, b| a.record == b.record && a.code == b.code);
        self.by_record.clear();
        for (i, d) in self.discrepancies.iter().enumerate() {
            self.by_record.entry(d.record).or_default().push(i);
        }
        self.sources = summaries(
            inventory,
            &self.discrepancies,
            &self.by_record,
            self.as_of,
            &self.thresholds,
        );
    }

    /// The codes of a record's discrepancies, proven and suspected, each
    /// sorted and once.
    pub fn codes_of(&self, record: usize) -> (BTreeSet<&'static str>, BTreeSet<&'static str>) {
        let mut proven = BTreeSet::new();
        let mut suspected = BTreeSet::new();
        for &i in self.by_record.get(&record).into_iter().flatten() {
            let d = &self.discrepancies[i];
            if d.basis.proven() {
                proven.insert(d.code.as_str());
            } else {
                suspected.insert(d.code.as_str());
            }
        }
        (proven, suspected)
    }
}

/// Reconciles the observations in `inventory` at `as_of`.
pub fn reconcile(
    inventory: &Inventory,
    departures: &HashMap<usize, Departure>,
    as_of: Timestamp,
) -> Reconciliation {
    let thresholds = Thresholds::default();
    let mut r = Reconciler {
        inventory,
        departures,
        as_of,
        t: thresholds,
        found: Vec::new(),
        last: last_reported(inventory),
        has_mdm_source: inventory
            .records
            .iter()
            .any(|r| r.kind == Kind::Device && sources(r).any(|s| authoritative_for(s, "mdm"))),
        idp_closed: inventory
            .records
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.kind == Kind::Account
                    && a.fields.get("idp_status").is_some()
                    && matches!(a.status.as_str(), "disabled" | "suspended" | "deleted")
            })
            .filter_map(|(i, a)| Some((a.fields.link("principal")?, i)))
            .collect(),
    };
    let mut accounts_by_holder: BTreeMap<(&str, usize), Vec<usize>> = BTreeMap::new();
    for (index, record) in inventory.records.iter().enumerate() {
        if !observed(record) {
            continue;
        }
        match record.kind {
            Kind::Person => r.person(index, record),
            Kind::Account => {
                r.account(index, record);
                if record.status == "enabled" {
                    let holder = record
                        .fields
                        .link("principal")
                        .or_else(|| record.fields.link("suspected_principal"));
                    if let (Some(system), Some(holder)) = (record.fields.str("system"), holder) {
                        accounts_by_holder
                            .entry((system, holder))
                            .or_default()
                            .push(index);
                    }
                }
            }
            Kind::Grant => r.grant(index, record),
            Kind::Nhi | Kind::Credential => r.machine(index, record),
            Kind::Device => r.device(index, record),
            Kind::Team | Kind::Workload => {}
        }
        r.import(index, record);
    }
    for ((system, holder), accounts) in accounts_by_holder {
        if accounts.len() < 2 {
            continue;
        }
        let person = &inventory.records[holder];
        // Held on a strong key by every account, or only suspected.
        let basis = if accounts
            .iter()
            .all(|&a| inventory.records[a].fields.link("principal").is_some())
        {
            Basis::Proven
        } else {
            Basis::WeakMatch
        };
        for &a in &accounts {
            let others: Vec<String> = accounts
                .iter()
                .filter(|&&o| o != a)
                .map(|&o| format!("`{}`", inventory.records[o].id))
                .collect();
            r.push(
                DiscrepancyCode::AmbiguousMatch,
                a,
                basis,
                None,
                format!(
                    "`{}` is one of {} enabled `{system}` accounts of `{}` (also {})",
                    inventory.records[a].id,
                    accounts.len(),
                    person.id,
                    others.join(", ")
                ),
                vec![(person.span.clone(), "the person they all name".into())],
            );
        }
    }
    let mut reconciliation = Reconciliation {
        discrepancies: r.found,
        by_record: HashMap::new(),
        sources: Vec::new(),
        thresholds,
        as_of,
        incomplete: inventory
            .snapshots
            .iter()
            .filter(|s| s.complete == Some(false))
            .cloned()
            .collect(),
    };
    reconciliation.index(inventory);
    reconciliation
}

/// Whether a system of record reported the record.
fn observed(record: &Record) -> bool {
    !record.fields.objects("sources").is_empty()
}

fn sources(record: &Record) -> impl Iterator<Item = &Fields> {
    record.fields.objects("sources").iter()
}

fn authoritative_for(source: &Fields, field: &str) -> bool {
    matches!(source.get("authoritative_for"), Some(Value::Strs(list)) if list.iter().any(|f| f == field))
}

/// When each system last reported anything: the newest `observed_at` of
/// its records. An importer keeps a record's provenance byte for byte while
/// its facts hold (so that an unchanged record makes no diff), so a
/// record's own `observed_at` says when its facts were first seen; that the
/// latest import still returned it is said by the absence of
/// `missing_since`, and when that import ran by the system's newest
/// observation.
pub fn last_reported(inventory: &Inventory) -> BTreeMap<String, Timestamp> {
    let mut out: BTreeMap<String, Timestamp> = BTreeMap::new();
    for snapshot in &inventory.snapshots {
        if let Some(at) = snapshot.observed_at {
            let slot = out.entry(snapshot.system.clone()).or_insert(at);
            *slot = (*slot).max(at);
        }
    }
    for record in &inventory.records {
        for source in sources(record) {
            if let (Some(system), Some(at)) = (source.str("system"), source.time("observed_at")) {
                let slot = out.entry(system.to_string()).or_insert(at);
                *slot = (*slot).max(at);
            }
        }
    }
    out
}

/// The newest `sources` entry of a system that still returns the record.
pub(crate) fn newest_live_source(record: &Record) -> Option<&Fields> {
    sources(record)
        .filter(|s| s.time("missing_since").is_none())
        .max_by_key(|s| s.time("observed_at"))
}

/// The manifest of the directory a record was imported into.
fn snapshot_of<'i>(inventory: &'i Inventory, record: &Record) -> Option<&'i ImportSnapshot> {
    let dir = record.span.file.path.rsplit_once('/').map(|(d, _)| d)?;
    inventory.snapshots.iter().find(|s| s.dir == dir)
}

/// Proven when every import of these formats proved its exports complete
/// (and there is one), otherwise an absence nobody proved.
fn absence_basis(inventory: &Inventory, formats: &[&str]) -> Basis {
    let mut of_format = inventory
        .snapshots
        .iter()
        .filter(|s| formats.contains(&s.source.as_str()))
        .peekable();
    if of_format.peek().is_some() && of_format.all(|s| s.complete == Some(true)) {
        Basis::Proven
    } else {
        Basis::UnprovenAbsence
    }
}

/// The asset registers' import formats.
const REGISTERS: &[&str] = &["snipe-it"];
/// Device management's import formats.
const MDMS: &[&str] = &["intune", "jamf"];

/// When a record was last confirmed: the manifest of the directory it was
/// imported into says when that import ran (so a record of an older export
/// of a system stays as old as that export, whatever a newer one of the
/// same system says); a record without one counts the latest report of
/// any system that still returns it.
pub(crate) fn confirmed(
    inventory: &Inventory,
    record: &Record,
    last: &BTreeMap<String, Timestamp>,
) -> Option<Timestamp> {
    let own = sources(record)
        .filter(|s| s.time("missing_since").is_none())
        .filter_map(|s| s.time("observed_at"))
        .max();
    if let Some(snapshot) = snapshot_of(inventory, record) {
        return own.max(snapshot.observed_at);
    }
    sources(record)
        .filter(|s| s.time("missing_since").is_none())
        .filter_map(|s| {
            let own = s.time("observed_at");
            let system = s.str("system").and_then(|n| last.get(n)).copied();
            own.max(system)
        })
        .max()
}

fn observation(inventory: &Inventory, source: &Fields, fallback: &Span) -> Observation {
    let export = source.str("export");
    let export_file = export.and_then(|digest| {
        inventory
            .snapshots
            .iter()
            .flat_map(|s| &s.exports)
            .find(|(_, d)| d == digest)
            .map(|(file, _)| file.clone())
    });
    Observation {
        system: source.str("system").unwrap_or_default().to_string(),
        record_id: source.str("record_id").map(str::to_string),
        export: export.map(str::to_string),
        export_file,
        observed_at: source.time("observed_at"),
        span: source
            .field("system")
            .map_or_else(|| fallback.clone(), |f| f.span.clone()),
    }
}

struct Reconciler<'a> {
    inventory: &'a Inventory,
    departures: &'a HashMap<usize, Departure>,
    as_of: Timestamp,
    t: Thresholds,
    found: Vec<Discrepancy>,
    /// Whether any device management was imported: without one, every
    /// register device would look unmanaged.
    has_mdm_source: bool,
    /// When each system last reported anything.
    last: BTreeMap<String, Timestamp>,
    /// Each person's identity-provider account that is closed (disabled,
    /// suspended or deleted), by person.
    idp_closed: HashMap<usize, usize>,
}

impl Reconciler<'_> {
    fn record(&self, index: usize) -> &Record {
        &self.inventory.records[index]
    }

    fn leaver(&self, person: usize) -> Option<&Departure> {
        self.departures.get(&person).filter(|d| d.leaver)
    }

    /// Whether a record's newest observation is older than the limit.
    fn stale(&self, record: &Record) -> bool {
        confirmed(self.inventory, record, &self.last)
            .is_some_and(|t| self.as_of.duration_since(t) > self.t.source_age)
    }

    fn older_than(&self, t: Timestamp, limit: SignedDuration) -> bool {
        self.as_of.duration_since(t) > limit
    }

    /// Records a discrepancy about the record at `index`. A proven basis on
    /// a record whose observations are stale becomes `StaleSource`.
    fn push(
        &mut self,
        code: DiscrepancyCode,
        index: usize,
        basis: Basis,
        field: Option<&'static str>,
        message: String,
        evidence: Vec<(Span, String)>,
    ) {
        let record = self.record(index);
        let basis =
            if basis == Basis::Proven && code != DiscrepancyCode::StaleSource && self.stale(record)
            {
                Basis::StaleSource
            } else {
                basis
            };
        let observation = sources(record)
            .max_by_key(|s| s.time("observed_at"))
            .map(|s| observation(self.inventory, s, &record.span));
        self.found.push(Discrepancy {
            code,
            record: index,
            basis,
            message,
            field,
            evidence,
            observation,
        });
    }

    /// A place in a person's record that shows they left.
    fn departure_evidence(&self, person: usize) -> (Span, String) {
        let p = self.record(person);
        let when = self
            .departures
            .get(&person)
            .and_then(|d| d.at)
            .map_or_else(|| "no date recorded".to_string(), format_time);
        let span = p
            .fields
            .field("employments")
            .map_or_else(|| p.span.clone(), |f| f.span.clone());
        (
            span,
            format!("`{}` left: HR says `{}`, departure {when}", p.id, p.status),
        )
    }

    fn person(&mut self, index: usize, record: &Record) {
        let Some(d) = self.departures.get(&index) else {
            return;
        };
        if let Some(at) = d.at.filter(|at| *at > self.as_of && !d.leaver) {
            self.push(
                DiscrepancyCode::PendingLeaver,
                index,
                Basis::Proven,
                Some("employments"),
                format!(
                    "`{}` leaves at {}: access must end then",
                    record.id,
                    format_time(at)
                ),
                Vec::new(),
            );
        }
    }

    fn account(&mut self, index: usize, record: &Record) {
        let system = record.fields.str("system").unwrap_or_default();
        let principal = record.fields.link("principal");
        let suspected = record.fields.link("suspected_principal");
        let enabled = record.status == "enabled";
        // The person the account is joined to, and how firmly.
        let holder = principal
            .map(|p| (p, Basis::Proven))
            .or_else(|| suspected.map(|p| (p, Basis::WeakMatch)));

        if let Some((p, basis)) = holder
            && let Some(d) = self.leaver(p)
        {
            let departed = d.at;
            let evidence = vec![self.departure_evidence(p)];
            if enabled {
                self.push(
                    DiscrepancyCode::TerminatedButActive,
                    index,
                    basis,
                    Some("status"),
                    format!(
                        "`{}` is enabled in `{system}`, but its person `{}` has left",
                        record.id,
                        self.record(p).id
                    ),
                    evidence.clone(),
                );
            }
            if let (Some(login), Some(left)) = (record.fields.time("last_login"), departed)
                && login > left
            {
                self.push(
                    DiscrepancyCode::PostTerminationActivity,
                    index,
                    basis,
                    Some("last_login"),
                    format!(
                        "`{}` signed in at {}, after its person `{}` left at {}",
                        record.id,
                        format_time(login),
                        self.record(p).id,
                        format_time(left)
                    ),
                    evidence,
                );
            }
        }

        if let Some(p) = principal
            && self.leaver(p).is_none()
            && matches!(record.status.as_str(), "disabled" | "deleted")
            && self.record(p).status == "active"
        {
            self.push(
                DiscrepancyCode::AuthorityConflict,
                index,
                Basis::Proven,
                Some("status"),
                format!(
                    "`{system}` reports `{}` {}, but HR lists its person `{}` as active",
                    record.id,
                    record.status,
                    self.record(p).id
                ),
                vec![(self.record(p).span.clone(), "HR: active".into())],
            );
        }

        if enabled && principal.is_none() && record.fields.link("owner").is_none() {
            let external = matches!(
                record.fields.str("employee_type"),
                Some("contractor" | "vendor" | "guest")
            );
            let basis = if suspected.is_some() {
                Basis::WeakMatch
            } else {
                Basis::Proven
            };
            let human = matches!(record.fields.str("account_type"), None | Some("human"));
            if external {
                self.push(
                    DiscrepancyCode::UnsponsoredExternal,
                    index,
                    basis,
                    Some("employee_type"),
                    format!(
                        "`{}` is an enabled `{}` account of a {} with no HR record and no sponsor",
                        record.id,
                        system,
                        record.fields.str("employee_type").unwrap_or_default()
                    ),
                    Vec::new(),
                );
            } else if human {
                self.push(
                    DiscrepancyCode::OrphanAccount,
                    index,
                    basis,
                    Some("principal"),
                    match suspected {
                        Some(p) => format!(
                            "`{}` is enabled in `{system}` and joined to no person on a strong key (only by email or login, to `{}`)",
                            record.id,
                            self.record(p).id
                        ),
                        None => format!(
                            "`{}` is enabled in `{system}` and linked to no person and no owner",
                            record.id
                        ),
                    },
                    Vec::new(),
                );
            }
        }

        if enabled {
            match record.fields.time("last_login") {
                Some(login) if self.older_than(login, self.t.dormant) => self.push(
                    DiscrepancyCode::DormantAccount,
                    index,
                    Basis::Proven,
                    Some("last_login"),
                    format!(
                        "`{}` has not signed in since {} (more than {} days)",
                        record.id,
                        format_time(login),
                        self.t.dormant.as_hours() / 24
                    ),
                    Vec::new(),
                ),
                // A sign-in is a person's: a service or system account
                // (an IAM user with keys and no password) never has one.
                None if matches!(record.fields.str("account_type"), None | Some("human"))
                    && sources(record).any(|s| authoritative_for(s, "last_login")) =>
                {
                    self.push(
                        DiscrepancyCode::NeverUsedAccount,
                        index,
                        Basis::Proven,
                        Some("last_login"),
                        format!(
                            "`{}` is enabled and `{system}` reports no sign-in ever",
                            record.id
                        ),
                        Vec::new(),
                    )
                }
                _ => {}
            }
        }

        // Provisioning that did not reach a downstream system.
        if enabled && let Some(p) = principal {
            let idp = self
                .idp_closed
                .get(&p)
                .map(|&i| self.record(i))
                .filter(|idp| idp.fields.str("system") != Some(system));
            if record.fields.get("idp_status").is_none()
                && let Some(idp) = idp
            {
                self.push(
                    DiscrepancyCode::DownstreamNotDeprovisioned,
                    index,
                    Basis::Proven,
                    Some("status"),
                    format!(
                        "`{}` is enabled in `{system}`, but `{}`'s identity-provider account `{}` is {}",
                        record.id,
                        self.record(p).id,
                        idp.id,
                        idp.status
                    ),
                    vec![(idp.span.clone(), format!("the identity provider: {}", idp.status))],
                );
            }
        }

        // Only a join on the employee number can drift from the names: a
        // principal a person curated (a GitHub or IAM login, which is never
        // an email) was never a match by name to begin with.
        if let Some(p) = principal
            && sources(record).any(|s| s.str("match") == Some("strong"))
            && let Some(login) = record.fields.str("login")
        {
            let person = self.record(p);
            let names: Vec<&str> = ["user_name", "email"]
                .into_iter()
                .filter_map(|f| person.fields.str(f))
                .collect();
            if !names.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(login)) {
                self.push(
                    DiscrepancyCode::IdentifierDrift,
                    index,
                    Basis::Proven,
                    Some("login"),
                    format!(
                        "`{}` logs in as `{login}`, which matches neither the user name nor the email of its person `{}`",
                        record.id, person.id
                    ),
                    vec![(person.span.clone(), format!("HR: {}", names.join(", ")))],
                );
            }
        }
    }

    fn grant(&mut self, index: usize, record: &Record) {
        if record.status != "active" {
            return;
        }
        let Some(account) = record.fields.link("account") else {
            return;
        };
        let a = self.record(account);
        if matches!(a.status.as_str(), "disabled" | "deleted") {
            self.push(
                DiscrepancyCode::ResidualEntitlement,
                index,
                Basis::Proven,
                Some("status"),
                format!(
                    "`{}` is still active on `{}`, which is {}",
                    record.id, a.id, a.status
                ),
                vec![(a.span.clone(), format!("the account: {}", a.status))],
            );
        }
    }

    fn machine(&mut self, index: usize, record: &Record) {
        let active = record.status == "active";
        if !active {
            return;
        }
        let owner = record.fields.link("owner");
        let team = record.fields.link("owning_team");
        let backup = record
            .fields
            .link("backup_owner")
            .filter(|&b| self.leaver(b).is_none());
        let integration = record.kind == Kind::Nhi
            && matches!(
                record.fields.str("nhi_type"),
                Some("oauth_app" | "bot" | "ai_agent")
            );
        let bound = record.kind == Kind::Credential
            && ["bound_to", "known_to"]
                .iter()
                .any(|f| record.fields.get(f).is_some());
        match owner {
            Some(o) if self.leaver(o).is_some() && backup.is_none() => {
                let evidence = vec![self.departure_evidence(o)];
                self.push(
                    DiscrepancyCode::OwnerlessNhi,
                    index,
                    Basis::Proven,
                    Some("owner"),
                    format!(
                        "`{}`'s owner `{}` has left and no backup owner remains",
                        record.id,
                        self.record(o).id
                    ),
                    evidence,
                );
            }
            None if team.is_none() && backup.is_none() => {
                if integration {
                    self.push(
                        DiscrepancyCode::UnownedIntegration,
                        index,
                        Basis::Proven,
                        Some("owner"),
                        format!("`{}` has no owner and no owning team", record.id),
                        Vec::new(),
                    );
                } else if record.kind == Kind::Credential && !bound {
                    self.push(
                        DiscrepancyCode::UnregisteredCredential,
                        index,
                        Basis::Proven,
                        Some("owner"),
                        format!(
                            "`{}` was reported by `{}` but has no owner, team or binding in the inventory",
                            record.id,
                            record.fields.str("system").unwrap_or_default()
                        ),
                        Vec::new(),
                    );
                } else {
                    self.push(
                        DiscrepancyCode::OwnerlessNhi,
                        index,
                        Basis::Proven,
                        Some("owner"),
                        format!("`{}` has no owner and no owning team", record.id),
                        Vec::new(),
                    );
                }
            }
            _ => {}
        }

        if let Some(creator) = record.fields.link("created_by")
            && let Some(d) = self.leaver(creator)
        {
            let rotated_since = match (record.fields.time("last_rotated"), d.at) {
                (Some(rotated), Some(left)) => rotated > left,
                _ => false,
            };
            if !rotated_since {
                let evidence = vec![self.departure_evidence(creator)];
                self.push(
                    DiscrepancyCode::LeaverCreatedCredential,
                    index,
                    Basis::Proven,
                    Some("created_by"),
                    format!(
                        "`{}` was created by `{}`, who has left, and has not been rotated since",
                        record.id,
                        self.record(creator).id
                    ),
                    evidence,
                );
            }
        }

        // Use after the departure of the person it follows.
        let follows = owner.or_else(|| record.fields.link("created_by"));
        if let Some(p) = follows
            && let Some(left) = self.leaver(p).and_then(|d| d.at)
            && let Some(used) = record.fields.time("last_used")
            && used > left
            && record.kind == Kind::Credential
            && record
                .fields
                .str("cred_type")
                .is_some_and(|t| matches!(t, "pat" | "oauth_token" | "session_token"))
        {
            let evidence = vec![self.departure_evidence(p)];
            self.push(
                DiscrepancyCode::PostTerminationActivity,
                index,
                Basis::Proven,
                Some("last_used"),
                format!(
                    "`{}`, a personal token of `{}`, was used at {}, after they left at {}",
                    record.id,
                    self.record(p).id,
                    format_time(used),
                    format_time(left)
                ),
                evidence,
            );
        }

        if record.kind == Kind::Credential {
            match record.fields.time("last_used") {
                Some(used) if self.older_than(used, self.t.stale_credential) => self.push(
                    DiscrepancyCode::StaleCredential,
                    index,
                    Basis::Proven,
                    Some("last_used"),
                    format!(
                        "`{}` has not been used since {} (more than {} days)",
                        record.id,
                        format_time(used),
                        self.t.stale_credential.as_hours() / 24
                    ),
                    Vec::new(),
                ),
                None if sources(record).any(|s| authoritative_for(s, "last_used"))
                    && record
                        .fields
                        .time("issued_at")
                        .is_some_and(|t| self.older_than(t, self.t.stale_credential)) =>
                {
                    self.push(
                        DiscrepancyCode::StaleCredential,
                        index,
                        Basis::Proven,
                        Some("last_used"),
                        format!(
                            "`{}` was issued more than {} days ago and its system reports no use ever",
                            record.id,
                            self.t.stale_credential.as_hours() / 24
                        ),
                        Vec::new(),
                    )
                }
                _ => {}
            }
            let lifetime = match (
                record.fields.time("issued_at"),
                record.fields.time("expires_at"),
            ) {
                (_, None) => Some(None),
                (Some(from), Some(to)) if to.duration_since(from) > self.t.credential_lifetime => {
                    Some(Some((from, to)))
                }
                _ => None,
            };
            if let Some(span) = lifetime {
                let message = match span {
                    None => format!("`{}` never expires", record.id),
                    Some((from, to)) => format!(
                        "`{}` lives from {} to {}, longer than {} days",
                        record.id,
                        format_time(from),
                        format_time(to),
                        self.t.credential_lifetime.as_hours() / 24
                    ),
                };
                self.push(
                    DiscrepancyCode::LongLivedCredential,
                    index,
                    Basis::Proven,
                    Some("expires_at"),
                    message,
                    Vec::new(),
                );
            }
        }
    }

    fn device(&mut self, index: usize, record: &Record) {
        let mdm = record.fields.object("mdm");
        let personal = record.fields.str("ownership") == Some("personal");
        let registered = sources(record).any(|s| !authoritative_for(s, "mdm"));
        let managed = sources(record).any(|s| authoritative_for(s, "mdm"));
        // How firmly device management's user is joined.
        let mdm_basis = if sources(record)
            .filter(|s| authoritative_for(s, "mdm"))
            .any(|s| s.str("match") == Some("weak"))
        {
            Basis::WeakMatch
        } else {
            Basis::Proven
        };
        let assigned = record.fields.link("assigned_to");
        let primary = mdm.and_then(|m| m.link("primary_user"));
        let status = record.status.as_str();

        if managed && !registered && !personal && status != "archived" {
            self.push(
                DiscrepancyCode::UnregisteredDevice,
                index,
                absence_basis(self.inventory, REGISTERS),
                None,
                format!(
                    "`{}` is reported by device management but not by the asset register",
                    record.id
                ),
                Vec::new(),
            );
        }
        if registered
            && !managed
            && mdm.is_none()
            && self.has_mdm_source
            && !personal
            && status == "deployed"
            && matches!(
                record.fields.str("category"),
                Some("laptop" | "desktop" | "phone" | "tablet")
            )
        {
            self.push(
                DiscrepancyCode::UnmanagedDevice,
                index,
                absence_basis(self.inventory, MDMS),
                Some("mdm"),
                format!(
                    "`{}` is deployed in the asset register but no device management reports it",
                    record.id
                ),
                Vec::new(),
            );
        }
        if let (Some(a), Some(u)) = (assigned, primary)
            && a != u
        {
            self.push(
                DiscrepancyCode::AssignmentMismatch,
                index,
                mdm_basis,
                Some("assigned_to"),
                format!(
                    "the register assigns `{}` to `{}`, device management sees `{}` as its user",
                    record.id,
                    self.record(a).id,
                    self.record(u).id
                ),
                Vec::new(),
            );
        }
        if !personal
            && matches!(status, "deployed" | "pending_return")
            && let Some(a) = assigned
            && self.leaver(a).is_some()
        {
            let evidence = vec![self.departure_evidence(a)];
            self.push(
                DiscrepancyCode::UnreturnedAsset,
                index,
                Basis::Proven,
                Some("assigned_to"),
                format!(
                    "`{}` is still assigned to `{}`, who has left",
                    record.id,
                    self.record(a).id
                ),
                evidence,
            );
        }
        let checkin = mdm.and_then(|m| m.time("last_checkin"));
        if status == "deployed"
            && let Some(seen) = checkin
            && self.older_than(seen, self.t.checkin)
        {
            self.push(
                DiscrepancyCode::DeviceNotCheckingIn,
                index,
                Basis::Proven,
                Some("mdm"),
                format!(
                    "`{}` last checked in at {} (more than {} days ago)",
                    record.id,
                    format_time(seen),
                    self.t.checkin.as_hours() / 24
                ),
                Vec::new(),
            );
        }
        if personal && mdm.is_some() {
            let holder = assigned
                .map(|a| (a, Basis::Proven))
                .or_else(|| primary.map(|p| (p, mdm_basis)));
            if let Some((p, basis)) = holder
                && self.leaver(p).is_some()
            {
                let evidence = vec![self.departure_evidence(p)];
                self.push(
                    DiscrepancyCode::PersonalDeviceWithAccess,
                    index,
                    basis,
                    Some("ownership"),
                    format!(
                        "`{}`, a personal device enrolled in device management, belongs to `{}`, who has left",
                        record.id,
                        self.record(p).id
                    ),
                    evidence,
                );
            }
        }
        if matches!(status, "archived" | "lost" | "stolen")
            && let Some(seen) = checkin
            && !self.older_than(seen, self.t.checkin)
        {
            self.push(
                DiscrepancyCode::RetiredButPresent,
                index,
                Basis::Proven,
                Some("status"),
                format!(
                    "`{}` is {status} in the register, yet checked in at {}",
                    record.id,
                    format_time(seen)
                ),
                Vec::new(),
            );
        }
    }

    fn import(&mut self, index: usize, record: &Record) {
        if let Some(since) = sources(record)
            .filter_map(|s| s.time("missing_since"))
            .min()
        {
            let basis =
                if snapshot_of(self.inventory, record).is_some_and(|s| s.complete == Some(true)) {
                    Basis::Proven
                } else {
                    Basis::UnprovenAbsence
                };
            self.push(
                DiscrepancyCode::GhostRecord,
                index,
                basis,
                Some("sources"),
                format!(
                    "`{}` is no longer returned by its source (since {})",
                    record.id,
                    format_time(since)
                ),
                Vec::new(),
            );
        }
        if let Some(seen) = confirmed(self.inventory, record, &self.last)
            && self.older_than(seen, self.t.source_age)
        {
            self.push(
                DiscrepancyCode::StaleSource,
                index,
                Basis::Proven,
                Some("sources"),
                format!(
                    "`{}` was last reported at {}, more than {} hours ago",
                    record.id,
                    format_time(seen),
                    self.t.source_age.as_hours()
                ),
                Vec::new(),
            );
        }
    }
}

/// The figures of each system.
fn summaries(
    inventory: &Inventory,
    found: &[Discrepancy],
    by_record: &HashMap<usize, Vec<usize>>,
    as_of: Timestamp,
    t: &Thresholds,
) -> Vec<SourceSummary> {
    let mut out: BTreeMap<String, SourceSummary> = BTreeMap::new();
    for (index, record) in inventory.records.iter().enumerate() {
        for source in sources(record) {
            let Some(system) = source.str("system") else {
                continue;
            };
            let s = out
                .entry(system.to_string())
                .or_insert_with(|| SourceSummary {
                    system: system.to_string(),
                    ..SourceSummary::default()
                });
            *s.records.entry(record.kind).or_insert(0) += 1;
            match source.str("match") {
                Some("strong") => s.strong += 1,
                Some("weak") => s.weak += 1,
                _ if record.kind == Kind::Account
                    && record.fields.link("principal").is_none()
                    && record.fields.link("owner").is_none() =>
                {
                    s.unmatched += 1
                }
                _ => {}
            }
            if source.time("missing_since").is_some() {
                s.missing += 1;
            }
            if let Some(at) = source.time("observed_at") {
                s.oldest = Some(s.oldest.map_or(at, |o| o.min(at)));
                s.newest = Some(s.newest.map_or(at, |n| n.max(at)));
            }
            let mine = by_record.get(&index).map(Vec::as_slice).unwrap_or_default();
            if !mine.is_empty() {
                s.conflicting += 1;
            }
            for &i in mine {
                *s.discrepancies.entry(found[i].code).or_insert(0) += 1;
            }
        }
    }
    for s in out.values_mut() {
        // An import that changed nothing still ran: its manifest dates it.
        for m in inventory.snapshots.iter().filter(|m| m.system == s.system) {
            s.newest = s.newest.max(m.observed_at);
        }
        let mut manifests = inventory
            .snapshots
            .iter()
            .filter(|m| m.system == s.system)
            .map(|m| m.complete)
            .peekable();
        if manifests.peek().is_some() {
            s.complete = manifests.try_fold(true, |all, c| c.map(|c| all && c));
        }
        s.stale = s
            .newest
            .is_some_and(|n| as_of.duration_since(n) > t.source_age);
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_inventory;

    const AS_OF: &str = "2026-11-25T09:00:00Z";
    const SEEN: &str = "observed_at: 2026-11-24T06:00:00Z";

    /// People every case can name: one who left, one who works here.
    fn people() -> String {
        format!(
            "- {{kind: person, id: person/left, employee_number: '1', status: terminated, user_name: left@x.example, employments: [{{start: 2020-01-01, termination: {{effective: 2026-11-06}}}}], sources: [{{system: hr, {SEEN}}}]}}\n\
             - {{kind: person, id: person/here, employee_number: '2', status: active, user_name: here@x.example, employments: [{{start: 2020-01-01}}], sources: [{{system: hr, {SEEN}}}]}}\n"
        )
    }

    /// The codes found in `records` (after the people), with their basis.
    fn found(records: &str) -> Vec<(String, &'static str, &'static str)> {
        let inventory = test_inventory(&format!("{}{records}", people()));
        let as_of = crate::model::parse_time(AS_OF).expect("time");
        let departures = crate::departure::departures(&inventory, as_of);
        reconcile(&inventory, &departures, as_of)
            .discrepancies
            .iter()
            .map(|d| {
                (
                    inventory.records[d.record].id.clone(),
                    d.code.as_str(),
                    d.basis.as_str(),
                )
            })
            .collect()
    }

    fn codes(records: &str) -> Vec<&'static str> {
        found(records).into_iter().map(|(_, c, _)| c).collect()
    }

    #[test]
    fn the_clean_cases_produce_nothing() {
        // An active employee present everywhere, recently signed in.
        let present = format!(
            "- {{kind: account, id: account/okta/here, status: enabled, system: okta, login: here@x.example, principal: person/here, last_login: 2026-11-24T08:00:00Z, idp_status: ACTIVE, sources: [{{system: okta, match: strong, {SEEN}, authoritative_for: [status, last_login]}}]}}\n\
             - {{kind: device, id: device/LAP-1, status: deployed, category: laptop, ownership: company, assigned_to: person/here, mdm: {{provider: intune, primary_user: person/here, last_checkin: 2026-11-24T07:00:00Z}}, sources: [{{system: snipe-it, match: strong, {SEEN}, authoritative_for: [assignment]}}, {{system: intune, {SEEN}, authoritative_for: [mdm]}}]}}\n"
        );
        assert_eq!(codes(&present), Vec::<&str>::new());
        // A leaver removed everywhere: account disabled, laptop returned.
        let removed = format!(
            "- {{kind: account, id: account/okta/left, status: disabled, system: okta, login: left@x.example, principal: person/left, idp_status: DEPROVISIONED, sources: [{{system: okta, match: strong, {SEEN}}}]}}\n\
             - {{kind: device, id: device/LAP-2, status: returned, category: laptop, ownership: company, sources: [{{system: snipe-it, {SEEN}}}]}}\n"
        );
        assert_eq!(codes(&removed), Vec::<&str>::new());
        // A BYOD phone of an active person, and a laptop in stock, not enrolled.
        let quiet = format!(
            "- {{kind: device, id: device/PHN-1, status: deployed, category: phone, ownership: personal, mdm: {{provider: intune, primary_user: person/here, last_checkin: 2026-11-24T07:00:00Z}}, sources: [{{system: intune, match: weak, {SEEN}, authoritative_for: [mdm]}}]}}\n\
             - {{kind: device, id: device/LAP-3, status: in_stock, category: laptop, ownership: company, sources: [{{system: snipe-it, {SEEN}}}]}}\n"
        );
        assert_eq!(codes(&quiet), Vec::<&str>::new());
    }

    #[test]
    fn a_leavers_enabled_account_is_proven_on_a_strong_key_and_suspected_on_an_email() {
        let strong = format!(
            "- {{kind: account, id: account/okta/left, status: enabled, system: okta, login: left@x.example, principal: person/left, last_login: 2026-11-20T00:00:00Z, sources: [{{system: okta, match: strong, {SEEN}}}]}}\n"
        );
        assert_eq!(
            found(&strong),
            vec![
                (
                    "account/okta/left".into(),
                    "terminated-but-active",
                    "proven"
                ),
                (
                    "account/okta/left".into(),
                    "post-termination-activity",
                    "proven"
                ),
            ]
        );
        let weak = format!(
            "- {{kind: account, id: account/okta/left, status: enabled, system: okta, login: left@x.example, suspected_principal: person/left, last_login: 2026-11-20T00:00:00Z, sources: [{{system: okta, match: weak, {SEEN}}}]}}\n"
        );
        assert_eq!(
            found(&weak),
            vec![
                (
                    "account/okta/left".into(),
                    "terminated-but-active",
                    "weak-match"
                ),
                (
                    "account/okta/left".into(),
                    "post-termination-activity",
                    "weak-match"
                ),
                ("account/okta/left".into(), "orphan-account", "weak-match"),
            ]
        );
    }

    #[test]
    fn a_stale_observation_makes_every_discrepancy_only_suspected() {
        let stale = "- {kind: account, id: account/okta/left, status: enabled, system: okta, principal: person/left, sources: [{system: okta, match: strong, observed_at: 2026-11-01T00:00:00Z}]}\n";
        assert_eq!(
            found(stale),
            vec![
                (
                    "account/okta/left".into(),
                    "terminated-but-active",
                    "stale-source"
                ),
                ("account/okta/left".into(), "stale-source", "proven"),
            ]
        );
    }

    /// Two imports of one system into two directories, taken at different
    /// times: the newer's records are fresh, the older's are stale.
    #[test]
    fn the_older_of_two_exports_of_a_system_is_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, at, id) in [
            ("new", "2026-11-24T06:00:00Z", "account/okta/a"),
            ("old", "2026-11-10T06:00:00Z", "account/okta/b"),
        ] {
            let sub = dir.path().join(name);
            std::fs::create_dir_all(&sub).expect("mkdir");
            std::fs::write(
                sub.join("import.json"),
                format!(r#"{{"source": "okta", "system": "okta", "observed_at": "{at}", "complete": null}}"#),
            )
            .expect("write");
            std::fs::write(
                sub.join("accounts.yaml"),
                format!("- {{kind: account, id: {id}, status: disabled, system: okta, sources: [{{system: okta, observed_at: 2026-11-01T00:00:00Z}}]}}\n"),
            )
            .expect("write");
        }
        let raw = crate::load::load_inventory(dir.path(), &crate::load::Limits::default())
            .expect("loads");
        let (inventory, problems) = crate::validate::validate_inventory(raw);
        let inventory = inventory.unwrap_or_else(|| panic!("{problems:#?}"));
        assert_eq!(inventory.snapshots.len(), 2);
        let as_of = crate::model::parse_time(AS_OF).expect("time");
        let departures = crate::departure::departures(&inventory, as_of);
        let stale: Vec<&str> = reconcile(&inventory, &departures, as_of)
            .discrepancies
            .iter()
            .filter(|d| d.code == DiscrepancyCode::StaleSource)
            .map(|d| inventory.records[d.record].id.as_str())
            .collect();
        assert_eq!(stale, ["account/okta/b"]);
    }

    #[test]
    fn records_nobody_imported_are_not_reconciled() {
        let typed = "- {kind: account, id: account/okta/left, status: enabled, system: okta, principal: person/left}\n";
        assert_eq!(codes(typed), Vec::<&str>::new());
    }

    #[test]
    fn access_left_behind_on_a_disabled_account() {
        let records = format!(
            "- {{kind: account, id: account/okta/here, status: disabled, system: okta, login: here@x.example, principal: person/here, idp_status: DEPROVISIONED, sources: [{{system: okta, match: strong, {SEEN}}}]}}\n\
             - {{kind: account, id: account/github/here, status: enabled, system: github, login: here@x.example, principal: person/here, last_login: 2026-11-24T00:00:00Z, sources: [{{system: github, match: strong, {SEEN}}}]}}\n\
             - {{kind: grant, id: grant/aws/admin/here, status: active, system: aws, entitlement: AdministratorAccess, account: account/okta/here, sources: [{{system: aws, {SEEN}}}]}}\n"
        );
        assert_eq!(
            found(&records),
            vec![
                (
                    "account/github/here".into(),
                    "downstream-not-deprovisioned",
                    "proven"
                ),
                ("account/okta/here".into(), "authority-conflict", "proven"),
                (
                    "grant/aws/admin/here".into(),
                    "residual-entitlement",
                    "proven"
                ),
            ]
        );
    }

    #[test]
    fn identifier_drift_needs_a_join_on_the_employee_number() {
        // Okta joined the account on the employee number; its login is an
        // old name.
        let strong = format!(
            "- {{kind: account, id: account/okta/here, status: enabled, system: okta, login: old@x.example, principal: person/here, last_login: 2026-11-24T00:00:00Z, sources: [{{system: okta, match: strong, {SEEN}}}]}}\n"
        );
        assert_eq!(codes(&strong), vec!["identifier-drift"]);
        // A person curated whose GitHub login it is: a login is never a
        // name to match, so nothing drifted.
        let curated = format!(
            "- {{kind: account, id: account/github/1, status: enabled, system: github, login: here-gh, principal: person/here, sources: [{{system: github, {SEEN}}}]}}\n"
        );
        assert_eq!(codes(&curated), Vec::<&str>::new());
    }

    #[test]
    fn several_accounts_of_one_person_are_only_suspected_when_a_join_is_weak() {
        // Two enabled Okta accounts of one person: the first joined on the
        // employee number, the second as given.
        let pair = |link: &str, strength: &str| {
            ["principal: person/here, sources: [{system: okta, match: strong", &format!("{link}: person/here, sources: [{{system: okta, match: {strength}")]
                .iter()
                .zip(["a", "b"])
                .map(|(join, id)| format!(
                    "- {{kind: account, id: account/okta/{id}, status: enabled, system: okta, login: here@x.example, last_login: 2026-11-24T00:00:00Z, {join}, {SEEN}}}]}}\n"
                ))
                .collect::<String>()
        };
        assert_eq!(
            found(&pair("principal", "strong")),
            vec![
                ("account/okta/a".into(), "ambiguous-match", "proven"),
                ("account/okta/b".into(), "ambiguous-match", "proven"),
            ]
        );
        assert_eq!(
            found(&pair("suspected_principal", "weak")),
            vec![
                ("account/okta/a".into(), "ambiguous-match", "weak-match"),
                ("account/okta/b".into(), "orphan-account", "weak-match"),
                ("account/okta/b".into(), "ambiguous-match", "weak-match"),
            ]
        );
    }

    #[test]
    fn absence_is_never_proven_without_a_complete_export() {
        let records = format!(
            "- {{kind: device, id: device/mdm-only, status: deployed, category: laptop, ownership: company, mdm: {{provider: intune, last_checkin: 2026-11-24T00:00:00Z}}, sources: [{{system: intune, {SEEN}, authoritative_for: [mdm]}}]}}\n\
             - {{kind: device, id: device/register-only, status: deployed, category: laptop, ownership: company, assigned_to: person/here, sources: [{{system: snipe-it, {SEEN}}}]}}\n\
             - {{kind: account, id: account/okta/gone, status: disabled, system: okta, sources: [{{system: okta, {SEEN}, missing_since: 2026-11-24T06:00:00Z}}]}}\n"
        );
        assert_eq!(
            found(&records),
            vec![
                (
                    "account/okta/gone".into(),
                    "ghost-record",
                    "unproven-absence"
                ),
                (
                    "device/mdm-only".into(),
                    "unregistered-device",
                    "unproven-absence"
                ),
                (
                    "device/register-only".into(),
                    "unmanaged-device",
                    "unproven-absence"
                ),
            ]
        );
    }
}
