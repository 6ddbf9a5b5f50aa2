//! Stage 7, audit: what an auditor asks of a period, answered from the
//! ledger alone once it has verified. For every leaver, each record's
//! decisions and what was approved, carried out and observed about them,
//! against the deadline; for every control, the policies that implement it
//! and how their decisions fared; the runs and the changes of trusted
//! approvers. Nothing is reconstructed after the fact: every figure is a
//! count of ledger entries and names their sequence numbers. The policy
//! pack is read only for its `@control` annotations, and the report says
//! whether it is the pack the runs used.

mod fold;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use crate::ledger::entry::{DecisionBody, Tag};
use crate::ledger::{Report, VerifierKey, merkle, store, verify};
use crate::model::format_time;
pub use fold::Folded;

/// The version of the JSON report (`docs/schemas/audit-v1.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

/// Which part of the ledger the audit covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Entries at or after this instant.
    pub from: Option<Timestamp>,
    /// Entries before this instant; deadlines are judged at it.
    pub to: Option<Timestamp>,
    /// Only decisions about this record, or following from this person.
    pub subject: Option<String>,
}

/// What the policy pack says about controls.
#[derive(Debug, Clone, Default)]
pub struct ControlMap {
    /// The pack's digest, as a run records it.
    pub digest: Option<Tag>,
    /// Policy id → the controls its `@control` names.
    pub controls_of: BTreeMap<String, Vec<String>>,
}

/// What an audit reads.
pub struct AuditInput<'a> {
    /// The ledger directory.
    pub dir: &'a Path,
    /// The pinned log key.
    pub key: &'a VerifierKey,
    /// Checkpoints the auditor kept, `(name, text)`.
    pub external: &'a [(String, String)],
    /// The period and subject.
    pub scope: Scope,
    /// The pack's control annotations.
    pub controls: ControlMap,
}

/// The audit's result: a report, or the verification that refused one.
pub enum Outcome {
    /// The ledger did not verify: no report is made from it.
    Unverified(Box<Report>),
    /// The report.
    Audited(Box<Audit>),
}

/// Why an audit could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditError {
    /// The ledger could not be read as entries.
    Read(String),
    /// No decision in the ledger is about the subject or follows from it.
    Subject(String),
    /// `from` is not before `to`.
    Period,
}

/// Audits the ledger. `Err` means no report can be made: the ledger cannot
/// be read, or the scope selects nothing by construction; a ledger that
/// does not verify (including one that is not UTF-8) is
/// [`Outcome::Unverified`].
pub fn audit(input: &AuditInput<'_>) -> Result<Outcome, AuditError> {
    let scope = &input.scope;
    if let (Some(from), Some(to)) = (scope.from, scope.to)
        && from >= to
    {
        return Err(AuditError::Period);
    }
    let unverified = || {
        Ok(Outcome::Unverified(Box::new(verify::verify(
            input.dir,
            input.key,
            input.external,
        ))))
    };
    let Ok(Some(contents)) = store::read_entries(input.dir) else {
        return unverified();
    };
    // The pass over the entries runs beside their verification, on the
    // same bytes (never a second read of the file), and is thrown away
    // unless every check holds: the cores one leaves idle, the other uses.
    // The pass over the entries runs beside their verification, on the
    // same bytes (never a second read of the file), and its result is
    // thrown away unless every check holds.
    let lines = contents.lines();
    let (report, folded) = rayon::join(
        || verify::verify_contents(input.dir, &contents, input.key, input.external),
        || fold::fold(&lines, scope),
    );
    if !report.ok() {
        return Ok(Outcome::Unverified(Box::new(report)));
    }
    let folded = folded?;
    drop(lines);
    drop(contents);
    Ok(Outcome::Audited(Box::new(fold::assemble(
        folded, &report, input,
    ))))
}

/// The audit report.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The ledger that was verified.
    pub ledger: LedgerFacts,
    /// What the audit covers and the instant deadlines are judged at.
    pub period: Period,
    /// The policy pack the control annotations were read from.
    pub policies: PackFacts,
    /// Totals over the period.
    pub summary: Summary,
    /// Every person a decision in the period followed from, by id.
    pub leavers: Vec<Leaver>,
    /// Decisions in the period that follow from no leaver and make an
    /// action due (hygiene: an expired credential, an unowned key).
    pub other: Vec<Trail>,
    /// Every control the pack or the decisions name, by id.
    pub controls: Vec<Control>,
    /// Policies that permitted a decided action but that the pack does not
    /// annotate (or no longer holds).
    pub unmapped_policies: Vec<String>,
    /// The runs recorded in the period.
    pub runs: Vec<RunFacts>,
    /// Evidence about the decisions shown that claims an instant before
    /// its decision was made (`ts` is the writer's claim): listed so that a
    /// backdated record cannot pass as done on time unnoticed.
    pub backdated_evidence: Vec<u64>,
    /// Every change of the trusted approvers in the period, after the list
    /// in force when it began.
    pub approvers: Vec<ApproverChange>,
    /// Open decisions after each instant at which entries were recorded.
    pub open_over_time: Vec<OpenPoint>,
}

/// The ledger the audit read.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerFacts {
    /// Its origin.
    pub origin: String,
    /// The pinned key, `name+id`.
    pub key: String,
    /// Entries.
    pub size: u64,
    /// The root over them.
    pub root: String,
    /// The checkpoints the auditor gave, by name.
    pub checkpoints: Vec<String>,
}

/// The period.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// `--from`, if given.
    pub from: Option<String>,
    /// `--to`, if given.
    pub to: Option<String>,
    /// The instant deadlines are judged at: `--to`, or the latest `ts`.
    pub judged_at: String,
    /// `--subject`, if given.
    pub subject: Option<String>,
}

/// Where the control map came from.
#[derive(Debug, Clone, Serialize)]
pub struct PackFacts {
    /// Its digest, when a pack was read.
    pub digest: Option<String>,
    /// Whether every run in the period recorded this digest.
    pub matches_runs: bool,
}

/// Totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Decisions in the period that make an action due.
    pub decisions: Figure,
    /// With at least one target system's answer (`execution` entry).
    pub executed: Figure,
    /// The first answer by the deadline.
    pub executed_on_time: Figure,
    /// With at least one observation (`verification` entry).
    pub verified: Figure,
    /// The first observation by the deadline.
    pub verified_on_time: Figure,
    /// Carried out and, where an observation can prove it, observed.
    pub done: Figure,
    /// Done by the deadline.
    pub on_time: Figure,
    /// Done after the deadline.
    pub late: Figure,
    /// Not done and past the deadline.
    pub overdue: Figure,
    /// Not done, deadline not reached (or none).
    pub pending: Figure,
    /// Carried out, but no observation proves a revoke or reclaim yet.
    pub unverified: Figure,
    /// Replaced by a later decision before they were done.
    pub superseded: Figure,
}

/// A count and the sequence numbers of the entries it counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figure {
    /// How many.
    pub count: usize,
    /// The entries, ascending.
    pub seqs: Vec<u64>,
}

impl Figure {
    fn add(&mut self, seq: u64) {
        self.count += 1;
        self.seqs.push(seq);
    }
}

impl Summary {
    /// Puts every figure's entries in ascending order.
    fn finish(&mut self) {
        for figure in [
            &mut self.decisions,
            &mut self.executed,
            &mut self.executed_on_time,
            &mut self.verified,
            &mut self.verified_on_time,
            &mut self.done,
            &mut self.on_time,
            &mut self.late,
            &mut self.overdue,
            &mut self.pending,
            &mut self.unverified,
            &mut self.superseded,
        ] {
            figure.seqs.sort_unstable();
        }
    }
}

/// A leaver and everything decided because of them.
#[derive(Debug, Clone, Serialize)]
pub struct Leaver {
    /// The person's record id.
    pub person: String,
    /// When the ledger first recorded a decision following from them.
    pub first_decided: String,
    /// That decision's entry.
    pub first_seq: u64,
    /// The earliest deadline among their decisions.
    pub earliest_due: Option<String>,
    /// How their actionable decisions stand.
    pub summary: Summary,
    /// Their records' decisions, by record then entry.
    pub records: Vec<Trail>,
}

/// One decision and the evidence about it.
#[derive(Debug, Clone, Serialize)]
pub struct Trail {
    /// The decision entry.
    pub seq: u64,
    /// Its leaf hash.
    pub leaf: String,
    /// When it was recorded (the run's instant).
    pub decided: String,
    /// Decided before the period began, and still open then.
    pub carried_over: bool,
    /// Evidence about it that claims an instant before it was decided.
    pub backdated_evidence: Vec<u64>,
    /// What it decided, as the entry says.
    #[serde(flatten)]
    pub decision: DecisionBody,
    /// `due`, read once (not part of the report).
    #[serde(skip)]
    pub due_at: Option<Timestamp>,
    /// Where it stands at the judging instant.
    pub state: State,
    /// Whether its deadline was met.
    pub deadline: Deadline,
    /// When it was done, and by which entry.
    pub done: Option<Done>,
    /// The later decision about the record that replaced it.
    pub superseded_by: Option<u64>,
    /// Approvals, in order.
    pub approvals: Vec<ApprovalFact>,
    /// The target systems' answers, in order.
    pub executions: Vec<ExecutionFact>,
    /// Observations, in order.
    pub verifications: Vec<VerificationFact>,
}

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Nothing due.
    Retained,
    /// Nothing carried out yet.
    Open,
    /// Carried out; a revoke or reclaim that no observation proves yet.
    Unverified,
    /// Done: observed for a revoke or reclaim, carried out for the rest.
    Done,
    /// A later decision replaced it before it was done.
    Superseded,
}

impl State {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Retained => "retained",
            State::Open => "open",
            State::Unverified => "unverified",
            State::Done => "done",
            State::Superseded => "superseded",
        }
    }
}

/// Whether a decision met its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deadline {
    /// Done by the deadline.
    Met,
    /// Done after it.
    Late,
    /// Not done, and the deadline has passed.
    Overdue,
    /// Not done, the deadline not yet reached.
    Pending,
    /// No deadline, or nothing due, or superseded.
    None,
}

impl Deadline {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::Met => "met",
            Deadline::Late => "late",
            Deadline::Overdue => "overdue",
            Deadline::Pending => "pending",
            Deadline::None => "none",
        }
    }
}

/// When a decision was done.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    /// The entry that completed it.
    pub seq: u64,
    /// Its `ts`.
    pub at: String,
    /// Minutes from the decision to it (0 when the claims run backwards).
    pub minutes: u64,
}

/// An approval.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalFact {
    /// Its entry.
    pub seq: u64,
    /// Its `ts`.
    pub at: String,
    /// The approver's key, `name+id`.
    pub approver: String,
    /// Their comment.
    pub comment: Option<String>,
}

/// A target system's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionFact {
    /// Its entry.
    pub seq: u64,
    /// Its `ts`.
    pub at: String,
    /// The system.
    pub system: String,
    /// Its request id.
    pub request_id: String,
    /// Its status.
    pub status: String,
    /// The digest of its response.
    pub response_digest: String,
}

/// An observation of the target.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationFact {
    /// Its entry.
    pub seq: u64,
    /// Its `ts`.
    pub at: String,
    /// How it was observed.
    pub method: String,
    /// What was observed.
    pub observed: BTreeMap<String, String>,
}

/// A control and its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    /// The control, as the pack's `@control` names it.
    pub control: String,
    /// The policies that implement it.
    pub policies: Vec<String>,
    /// Its figures.
    pub summary: Summary,
    /// Minutes from decision to done, for its revoke decisions done.
    pub time_to_revoke: Option<Spread>,
}

/// A distribution of durations.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    /// How many.
    pub count: usize,
    /// The median (the lower of the middle two), in minutes.
    pub median_minutes: u64,
    /// The longest, in minutes.
    pub max_minutes: u64,
    /// The decisions measured.
    pub seqs: Vec<u64>,
}

/// A run.
#[derive(Debug, Clone, Serialize)]
pub struct RunFacts {
    /// Its entry.
    pub seq: u64,
    /// Its `as_of`.
    pub as_of: String,
    /// The tool version that made it.
    pub tool_version: String,
    /// The inventory commit, when the inventory was committed.
    pub inventory_commit: Option<String>,
    /// The inventory digest.
    pub inventory_digest: String,
    /// The policy pack digest.
    pub policies_digest: String,
    /// Decisions made.
    pub decisions: u64,
    /// Decision entries written (new or changed).
    pub written: u64,
    /// Whether the pack the controls were read from is this run's.
    pub same_policies: Option<bool>,
}

/// A change of the trusted approvers.
#[derive(Debug, Clone, Serialize)]
pub struct ApproverChange {
    /// Its entry (`None` for the list in force when the period began).
    pub seq: Option<u64>,
    /// Its `ts`.
    pub at: Option<String>,
    /// Keys added, `name+id`.
    pub added: Vec<String>,
    /// Keys removed.
    pub removed: Vec<String>,
    /// The list after it.
    pub trusted: Vec<String>,
}

/// Open decisions at an instant.
#[derive(Debug, Clone, Serialize)]
pub struct OpenPoint {
    /// The instant.
    pub at: String,
    /// The last entry recorded at it.
    pub seq: u64,
    /// Decisions open then (not done and not superseded).
    pub open: usize,
}

/// `sha256:…` of a hash.
fn tag(hash: &merkle::Hash) -> String {
    merkle::tag(hash)
}

/// A time as reports write it.
fn when(t: Timestamp) -> String {
    format_time(t)
}
