//! Command-line arguments. Clap types live here and nowhere else: they are
//! turned into [`crate::commands::Command`] settings once, so commands never
//! see clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::commands::{
    AuditFormat, AuditSettings, CheckSettings, Command, DiffFormat, DiffSettings, ExplainSettings,
    Format, Input, KeygenSettings, LedgerCommand, LedgerTarget, PlanSettings, ProveAgainst,
    ProveSettings, ProveWhat, ReconcileSettings, RecordSettings, RecordWhat, ReplaySettings,
    ReportFormat, ReportTarget, ValidateSettings, VerifyProofSettings,
};
use crate::diag::Severity;
use crate::ledger::LogFilter;

/// Offboarding as a provable control point: inventory and Cedar policies as
/// code, a decision for every record a leaver leaves behind.
#[derive(Debug, Parser)]
#[command(name = "severance", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
    /// Never draw a progress bar (one appears on a terminal for runs longer than about two seconds).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Check the inventory and policies, reporting every problem with its place.
    Validate(ValidateArgs),
    /// Decide, for every record, which offboarding actions are due.
    Plan(PlanArgs),
    /// Show one record, what it links to, and why each action is or is not due.
    Explain(ExplainArgs),
    /// Create an Ed25519 key: the private key file (mode 0600) and FILE.pub.
    Keygen(KeygenArgs),
    /// Record evidence in, verify, and read a signed ledger.
    Ledger(LedgerArgs),
    /// Write a synthetic organisation (deterministic for a seed): a demo, or a load test.
    Generate(GenerateArgs),
    /// The merge gate: validation plus the check rules, waivers applied; with --base, the decision diff and which findings are new.
    Check(CheckArgs),
    /// What a change does to decisions: every record whose decision differs between two revisions, and why.
    Diff(DiffArgs),
    /// Turn a system of record's export (HR, identity provider, …) into inventory records, in a directory the importer owns.
    Import(ImportArgs),
    /// Where the systems of record disagree: per source, what it reported and how it joined, and every discrepancy by code.
    Reconcile(ReconcileArgs),
    /// An auditor's review of a period: the ledger verified, then per leaver and per control what was decided, approved, executed and observed, against each deadline.
    Audit(AuditArgs),
}

/// `severance audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pinned: PinnedLedgerArgs,
    /// The policy pack whose `@control` annotations map policies to controls.
    #[arg(long, value_name = "DIR", default_value = "policies")]
    policies: PathBuf,
    /// The period starts at this instant (RFC 3339, or a date: its midnight UTC).
    #[arg(long, value_name = "WHEN", value_parser = parse_instant)]
    from: Option<Timestamp>,
    /// The period ends before this instant (RFC 3339, or a date: its midnight UTC); deadlines are judged at it.
    #[arg(long, value_name = "WHEN", value_parser = parse_instant)]
    to: Option<Timestamp>,
    /// Only decisions about this record, or that follow from this person.
    #[arg(long, value_name = "ID")]
    subject: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormatArg::Markdown)]
    format: AuditFormatArg,
    /// Write the report to this file (replaced whole, never half-written) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The audit report's formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuditFormatArg {
    /// A self-contained HTML page: inline styles and SVG charts, no network access; prints to PDF.
    Html,
    /// Markdown, as a GitHub comment renders it.
    Markdown,
    /// One versioned JSON document (docs/schemas/audit-v1.schema.json).
    Json,
}

/// An RFC 3339 instant, or a date meaning its midnight UTC.
fn parse_instant(s: &str) -> Result<Timestamp, String> {
    crate::model::parse_time(s)
}

/// `severance reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Human)]
    format: DiffFormatArg,
    /// A ledger: say, for every revoke and reclaim its latest decisions made due, whether an import since shows it done, and report an executed one an import still shows in effect (`revocation-drift`, exit 1).
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    /// The ledger's private key: record each action an import newly shows done as a `verification` entry (the export's digest, the source's id, the observed time).
    #[arg(long, value_name = "FILE", requires = "ledger")]
    key: Option<PathBuf>,
}

/// The export formats `import` reads (docs/importers.md maps each).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportSource {
    /// The canonical worker CSV, or any HR report CSV through `--columns`.
    HrCsv,
    /// A BambooHR custom report (JSON).
    Bamboohr,
    /// Okta Users API lists (`GET /api/v1/users`, JSON).
    Okta,
    /// SCIM 2.0 Users and Groups list responses (JSON).
    Scim,
    /// Microsoft Entra ID users (Graph `GET /users`, JSON).
    Entra,
    /// Google Workspace users (Directory `users.list`, JSON).
    GoogleWorkspace,
    /// Snipe-IT hardware and users (`GET /api/v1/hardware`, `/users`, JSON).
    SnipeIt,
    /// Intune managed devices (Graph `managedDevices`, JSON).
    Intune,
    /// Jamf Pro computers inventory (`GET /api/v1/computers-inventory`, JSON).
    Jamf,
    /// ConductorOne Baton output (`baton resources -o json`, `baton grants -o json`).
    Baton,
    /// AWS IAM: credential report (CSV), `list-access-keys` and last-used (JSON).
    AwsIam,
    /// Google Cloud service-account keys (`keys.list`, JSON).
    GcpKeys,
    /// GitHub organisation members, fine-grained PAT grants and deploy keys (JSON).
    Github,
}

impl From<ImportSource> for crate::import::Source {
    fn from(s: ImportSource) -> Self {
        match s {
            ImportSource::HrCsv => crate::import::Source::HrCsv,
            ImportSource::Bamboohr => crate::import::Source::BambooHr,
            ImportSource::Okta => crate::import::Source::Okta,
            ImportSource::Scim => crate::import::Source::Scim,
            ImportSource::Entra => crate::import::Source::Entra,
            ImportSource::GoogleWorkspace => crate::import::Source::GoogleWorkspace,
            ImportSource::SnipeIt => crate::import::Source::SnipeIt,
            ImportSource::Intune => crate::import::Source::Intune,
            ImportSource::Jamf => crate::import::Source::Jamf,
            ImportSource::Baton => crate::import::Source::Baton,
            ImportSource::AwsIam => crate::import::Source::AwsIam,
            ImportSource::GcpKeys => crate::import::Source::GcpKeys,
            ImportSource::Github => crate::import::Source::GitHub,
        }
    }
}

/// `severance import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export's format.
    #[arg(value_enum)]
    source: ImportSource,
    /// The export files (several for a paged export).
    #[arg(long = "in", value_name = "FILE", required = true, num_args = 1..)]
    exports: Vec<PathBuf>,
    /// The directory the importer owns and writes [default: INVENTORY/imported/SYSTEM].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The inventory the records join against (people by employee number, devices by serial).
    #[arg(long, value_name = "DIR", default_value = "inventory")]
    inventory: PathBuf,
    /// The system the records belong to, the middle of their ids (`account/okta/…`) [default: the format's].
    #[arg(long, value_name = "NAME")]
    system: Option<String>,
    /// When the export was taken; recorded as the records' `observed_at`.
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of)]
    observed_at: Option<Timestamp>,
    /// A column map (YAML) for a CSV whose headers are not the canonical ones.
    #[arg(long, value_name = "FILE")]
    columns: Option<PathBuf>,
    /// The IANA time zone of naive local times in the export (Snipe-IT's `APP_TIMEZONE`).
    #[arg(long, value_name = "ZONE", value_parser = parse_time_zone)]
    time_zone: Option<jiff::tz::TimeZone>,
}

fn parse_time_zone(s: &str) -> Result<jiff::tz::TimeZone, String> {
    jiff::tz::TimeZone::get(s).map_err(|e| format!("`{s}` is not an IANA time zone: {e}"))
}

/// `severance check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
    #[command(flatten)]
    revisions: RevisionArgs,
    /// The severity at which an unwaived finding fails the check (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// With --base, only findings the change introduced can fail the check (adopting the gate on an inventory that already has findings).
    #[arg(long, requires = "base")]
    only_new: bool,
    /// A report to write: FORMAT to standard output, or FORMAT=PATH to a file. Repeatable; formats: human, json, markdown, sarif, junit (as GitLab reads it), junit-strict (valid against junit-10.xsd), github.
    #[arg(long = "format", value_name = "FORMAT[=PATH]", value_parser = parse_report_target)]
    formats: Vec<ReportTarget>,
    /// The most results a SARIF report carries: unwaived, new and more severe findings first, and the log says what it left out. GitHub code scanning keeps 5,000 of a run and rejects more than 25,000; 0 keeps every finding.
    #[arg(long, value_name = "N", default_value_t = crate::report::sarif::DEFAULT_MAX_RESULTS)]
    sarif_max_results: usize,
}

/// `severance validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    head: HeadArgs,
}

/// Which revisions to read.
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// Compare with the inventory and policies at this git revision (read from git; the working tree is not touched). `HEAD` in a repository with no commit yet compares with nothing: every finding is new.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    #[command(flatten)]
    head: HeadArgs,
}

/// What to read as the head, when not the working tree.
#[derive(Debug, Args)]
pub struct HeadArgs {
    /// Read the head at this git revision instead of the working tree.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    head: Option<String>,
    /// Read what is staged in git's index (what the next commit holds) instead of the working tree: unstaged and untracked files play no part. For pre-commit hooks.
    #[arg(long)]
    staged: bool,
}

impl HeadArgs {
    fn into_snapshot(self) -> Option<crate::load::Snapshot> {
        let HeadArgs { head, staged } = self;
        if staged {
            Some(crate::load::Snapshot::Index)
        } else {
            head.map(crate::load::Snapshot::Revision)
        }
    }
}

/// `severance diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
    /// The git revision to compare with.
    #[arg(long, value_name = "REV")]
    base: String,
    #[command(flatten)]
    head: HeadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Human)]
    format: DiffFormatArg,
}

/// Severities a check can fail on.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warning,
    /// Any unwaived finding, notes included.
    Note,
}

/// Formats of `diff`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiffFormatArg {
    /// For people.
    Human,
    /// One versioned JSON document.
    Json,
    /// A pull request comment.
    Markdown,
}

fn parse_report_target(s: &str) -> Result<ReportTarget, String> {
    let (name, path) = match s.split_once('=') {
        Some((name, path)) if !path.is_empty() => (name, Some(PathBuf::from(path))),
        Some((name, _)) => return Err(format!("`{name}=` needs a file after `=`")),
        None => (s, None),
    };
    let format = match name {
        "human" => ReportFormat::Human,
        "json" => ReportFormat::Json,
        "markdown" => ReportFormat::Markdown,
        "sarif" => ReportFormat::Sarif,
        "junit" => ReportFormat::Junit,
        "junit-strict" => ReportFormat::JunitStrict,
        "github" => ReportFormat::Github,
        other => {
            return Err(format!(
                "`{other}` is not a report format; use human, json, markdown, sarif, junit, junit-strict or github"
            ));
        }
    };
    Ok(ReportTarget { format, path })
}

/// `severance generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many people; the inventory holds about eleven records per person.
    #[arg(long)]
    people: usize,
    /// The random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The directory to write (new or empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The instant the organisation's dates are relative to.
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of, default_value = "2026-11-25T00:00:00Z")]
    anchor: Timestamp,
}

/// `severance keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's name: a ledger's origin (e.g. `ledger.example.com/offboarding`) or an approver's identity. No spaces or `+`.
    #[arg(long)]
    name: String,
    /// Where to write the private key; the verifier key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `severance ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerSub,
}

/// The ledger subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerSub {
    /// Append evidence about a decision (approval, execution, verification) and seal.
    Record(RecordArgs),
    /// Add an approver's public key to the ledger's trusted approvers and seal.
    Trust(TrustArgs),
    /// Verify a ledger offline against a pinned verifier key.
    Verify(VerifyArgs),
    /// Show the ledger's history, e.g. everything about one leaver.
    Log(LogArgs),
    /// Write a proof that one entry is in the signed log (or, with `--consistency`, that the log only grew since a checkpoint).
    Prove(ProveArgs),
    /// Check a proof from `ledger prove` offline against a pinned verifier key.
    VerifyProof(VerifyProofArgs),
    /// Verify the ledger, then run a recorded run again from the git commit it names, at its instant, and report every decision that differs (exit 1).
    Replay(ReplayArgs),
}

/// Where a ledger write goes.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The log's private key file (from `severance keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// When it happened, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of)]
    at: Option<Timestamp>,
}

/// `severance ledger record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(subcommand)]
    what: RecordSub,
}

/// Which decision evidence is about.
#[derive(Debug, Args)]
pub struct DecisionArg {
    /// The decision entry: its sequence number, or its `sha256:…` leaf hash.
    #[arg(long, value_name = "SEQ")]
    decision: String,
}

/// Kinds of evidence.
#[derive(Debug, Subcommand)]
pub enum RecordSub {
    /// A human approved the decision; signed with the approver's own key.
    Approval {
        /// The ledger and its key.
        #[command(flatten)]
        write: WriteArgs,
        /// The decision.
        #[command(flatten)]
        decision: DecisionArg,
        /// The approver's private key file.
        #[arg(long, value_name = "FILE")]
        approver_key: PathBuf,
        /// A comment or ticket reference.
        #[arg(long)]
        comment: Option<String>,
    },
    /// A target system carried out the action.
    Execution {
        /// The ledger and its key.
        #[command(flatten)]
        write: WriteArgs,
        /// The decision.
        #[command(flatten)]
        decision: DecisionArg,
        /// The system that carried it out (e.g. `aws-iam`, `okta`).
        #[arg(long)]
        system: String,
        /// The system's request id.
        #[arg(long)]
        request_id: String,
        /// The system's status (e.g. `200`, `succeeded`).
        #[arg(long)]
        status: String,
        /// A file holding the system's response body (digested; kept whole when small).
        #[arg(long, value_name = "FILE")]
        response: Option<PathBuf>,
    },
    /// The target was re-read and its state observed.
    Verification {
        /// The ledger and its key.
        #[command(flatten)]
        write: WriteArgs,
        /// The decision.
        #[command(flatten)]
        decision: DecisionArg,
        /// How it was observed (e.g. `credential_report`).
        #[arg(long)]
        method: String,
        /// An observation, `key=value` (repeatable).
        #[arg(long = "observed", value_name = "KEY=VALUE", value_parser = parse_pair, required = true)]
        observed: Vec<(String, String)>,
    },
}

/// `severance ledger trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(flatten)]
    write: WriteArgs,
    /// The approver's verifier key file (`FILE.pub` from `severance keygen`).
    #[arg(long, value_name = "FILE")]
    approver: PathBuf,
}

/// A ledger to verify before anything is read from it, and what it is
/// verified against.
#[derive(Debug, Args)]
pub struct PinnedLedgerArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The pinned verifier key file, obtained out of band (never from the ledger).
    #[arg(long, value_name = "FILE")]
    vkey: PathBuf,
    /// A checkpoint you kept from earlier (repeatable): a larger size than the ledger means truncation, a different root a fork.
    #[arg(long = "checkpoint", value_name = "FILE")]
    checkpoints: Vec<PathBuf>,
}

/// `severance ledger verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pinned: PinnedLedgerArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

/// `severance ledger prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The entry to prove, by its sequence number.
    #[arg(
        long,
        value_name = "N",
        required_unless_present = "consistency",
        conflicts_with = "consistency"
    )]
    seq: Option<u64>,
    /// Prove instead that the log only grew since the checkpoint given with `--old`.
    #[arg(long, requires = "old")]
    consistency: bool,
    /// The older checkpoint the auditor holds (with `--consistency`).
    #[arg(long, value_name = "FILE", requires = "consistency")]
    old: Option<PathBuf>,
    /// Prove against this checkpoint file (e.g. one the auditor holds) rather than the ledger's latest.
    #[arg(long, value_name = "FILE", conflicts_with = "size")]
    checkpoint: Option<PathBuf>,
    /// Prove against the ledger's `checkpoints/<N>` rather than its latest.
    #[arg(long, value_name = "N")]
    size: Option<u64>,
    /// Write the proof to this file (atomically) rather than to stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `severance ledger verify-proof`.
#[derive(Debug, Args)]
pub struct VerifyProofArgs {
    /// The proof file (`.tlog-proof`).
    #[arg(value_name = "PROOF")]
    proof: PathBuf,
    /// The pinned verifier key file, obtained out of band (never from the proof).
    #[arg(long, value_name = "FILE")]
    vkey: PathBuf,
    /// The older checkpoint you hold, which a consistency proof starts from.
    #[arg(long, value_name = "FILE")]
    old: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

/// `severance ledger replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The pinned verifier key file, obtained out of band (never from the ledger).
    #[arg(long, value_name = "FILE")]
    vkey: PathBuf,
    /// The sequence number of the `run` entry to replay (`ledger log --type run` lists them).
    #[arg(long, value_name = "N")]
    seq: u64,
    #[command(flatten)]
    input: InputArgs,
    /// Read the policies at this git revision instead of at the run's commit (e.g. when they live in a repository of their own).
    #[arg(long, value_name = "REV")]
    policies_at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

/// `severance ledger log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// Only entries about this record, or about decisions that follow from this person.
    #[arg(long, value_name = "ID")]
    subject: Option<String>,
    /// Only entries of this type (`run`, `decision`, `approval`, `execution`, `verification`, …).
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Only entries at or after this instant.
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of)]
    since: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not `key=value`")),
    }
}

/// Where the inventory and policies are.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Directory of YAML records (searched recursively).
    #[arg(long, default_value = "inventory", value_name = "DIR")]
    pub inventory: PathBuf,
    /// Directory holding `schema.cedarschema` and `*.cedar` policies.
    #[arg(long, default_value = "policies", value_name = "DIR")]
    pub policies: PathBuf,
}

/// The instant decisions are made at.
#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// The run's instant, RFC 3339 (default: now). Printed in every output so
    /// a run can be replayed exactly.
    #[arg(long, value_name = "RFC3339", value_parser = parse_as_of)]
    pub as_of: Option<Timestamp>,
}

/// `severance plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
    /// Record the run and every new or changed decision in this ledger directory, then seal it.
    #[arg(long, value_name = "DIR", requires = "key")]
    ledger: Option<PathBuf>,
    /// The ledger's private key file (from `severance keygen`).
    #[arg(long, value_name = "FILE", requires = "ledger")]
    key: Option<PathBuf>,
}

/// `severance explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The id of the record to explain.
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    as_of: AsOfArgs,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// For people.
    Human,
    /// One versioned JSON document.
    Json,
}

fn parse_as_of(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("`{s}` is not an RFC 3339 date-time with an offset ({e})"))
}

impl InputArgs {
    fn into_input(self) -> Input {
        let InputArgs {
            inventory,
            policies,
        } = self;
        Input {
            inventory,
            policies,
            revision: None,
        }
    }
}

impl AsOfArgs {
    fn resolve(self) -> Timestamp {
        let AsOfArgs { as_of } = self;
        as_of.unwrap_or_else(Timestamp::now)
    }
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
        }
    }
}

impl LedgerSub {
    fn into_command(self) -> LedgerCommand {
        let now = || Timestamp::now();
        match self {
            LedgerSub::Record(RecordArgs { what }) => {
                let (write, decision, what) = match what {
                    RecordSub::Approval {
                        write,
                        decision,
                        approver_key,
                        comment,
                    } => (
                        write,
                        decision,
                        RecordWhat::Approval {
                            approver_key,
                            comment,
                        },
                    ),
                    RecordSub::Execution {
                        write,
                        decision,
                        system,
                        request_id,
                        status,
                        response,
                    } => (
                        write,
                        decision,
                        RecordWhat::Execution {
                            system,
                            request_id,
                            status,
                            response,
                        },
                    ),
                    RecordSub::Verification {
                        write,
                        decision,
                        method,
                        observed,
                    } => (
                        write,
                        decision,
                        RecordWhat::Verification { method, observed },
                    ),
                };
                let WriteArgs { ledger, key, at } = write;
                LedgerCommand::Record(RecordSettings {
                    ledger,
                    key,
                    decision: decision.decision,
                    at: at.unwrap_or_else(now),
                    what,
                })
            }
            LedgerSub::Trust(TrustArgs { write, approver }) => {
                let WriteArgs { ledger, key, at } = write;
                LedgerCommand::Trust {
                    ledger,
                    key,
                    approver,
                    at: at.unwrap_or_else(now),
                }
            }
            LedgerSub::Verify(VerifyArgs {
                pinned:
                    PinnedLedgerArgs {
                        ledger,
                        vkey,
                        checkpoints,
                    },
                format,
            }) => LedgerCommand::Verify {
                ledger,
                vkey,
                checkpoints,
                format: format.into(),
            },
            LedgerSub::Replay(ReplayArgs {
                ledger,
                vkey,
                seq,
                input,
                policies_at,
                format,
            }) => LedgerCommand::Replay(ReplaySettings {
                ledger,
                vkey,
                seq,
                inventory: input.inventory,
                policies: input.policies,
                policies_at,
                format: format.into(),
            }),
            LedgerSub::Log(LogArgs {
                ledger,
                subject,
                kind,
                since,
                format,
            }) => LedgerCommand::Log {
                ledger,
                filter: LogFilter {
                    subject,
                    kind,
                    since,
                },
                format: format.into(),
            },
            LedgerSub::Prove(ProveArgs {
                ledger,
                seq,
                consistency: _,
                old,
                checkpoint,
                size,
                output,
            }) => LedgerCommand::Prove(ProveSettings {
                ledger,
                // clap requires `--seq` or `--consistency --old`.
                what: match (seq, old) {
                    (Some(seq), _) => ProveWhat::Entry(seq),
                    (None, old) => ProveWhat::Consistency {
                        old: old.unwrap_or_default(),
                    },
                },
                against: match (checkpoint, size) {
                    (Some(file), _) => ProveAgainst::File(file),
                    (None, Some(size)) => ProveAgainst::Size(size),
                    (None, None) => ProveAgainst::Latest,
                },
                output,
            }),
            LedgerSub::VerifyProof(VerifyProofArgs {
                proof,
                vkey,
                old,
                format,
            }) => LedgerCommand::VerifyProof(VerifyProofSettings {
                proof,
                vkey,
                old,
                format: format.into(),
            }),
        }
    }
}

impl Cli {
    /// Resolves arguments into command settings (defaults applied, the
    /// clock read once) and whether a progress bar may be drawn.
    pub fn into_command(self) -> (Command, bool) {
        let show_progress = !self.quiet;
        let command = match self.command {
            Sub::Validate(ValidateArgs { input, head }) => Command::Validate(ValidateSettings {
                input: Input {
                    revision: head.into_snapshot(),
                    ..input.into_input()
                },
            }),
            Sub::Plan(PlanArgs {
                input,
                as_of,
                format,
                ledger,
                key,
            }) => Command::Plan(PlanSettings {
                input: input.into_input(),
                as_of: as_of.resolve(),
                format: format.into(),
                ledger: ledger.zip(key).map(|(dir, key)| LedgerTarget { dir, key }),
            }),
            Sub::Keygen(KeygenArgs { name, out }) => Command::Keygen(KeygenSettings { name, out }),
            Sub::Import(ImportArgs {
                source,
                exports,
                out,
                inventory,
                system,
                observed_at,
                columns,
                time_zone,
            }) => {
                let source: crate::import::Source = source.into();
                let system = system.unwrap_or_else(|| source.default_system().to_string());
                Command::Import(crate::import::Request {
                    out: out.unwrap_or_else(|| inventory.join("imported").join(&system)),
                    source,
                    system,
                    exports,
                    inventory,
                    observed_at,
                    columns,
                    time_zone,
                    limits: crate::load::Limits::default(),
                })
            }
            Sub::Generate(GenerateArgs {
                people,
                seed,
                out,
                anchor,
            }) => Command::Generate(crate::generate::GenerateSettings {
                people,
                seed,
                out,
                anchor,
            }),
            Sub::Ledger(LedgerArgs { command }) => Command::Ledger(command.into_command()),
            Sub::Check(CheckArgs {
                input,
                as_of,
                revisions: RevisionArgs { base, head },
                fail_on,
                only_new,
                formats,
                sarif_max_results,
            }) => Command::Check(CheckSettings {
                sarif_max_results: Some(sarif_max_results).filter(|n| *n > 0),
                only_new,
                input: Input {
                    revision: head.into_snapshot(),
                    ..input.into_input()
                },
                base,
                as_of: as_of.resolve(),
                fail_on: match fail_on {
                    FailOn::Error => Severity::Error,
                    FailOn::Warning => Severity::Warning,
                    FailOn::Note => Severity::Note,
                },
                reports: if formats.is_empty() {
                    vec![ReportTarget {
                        format: ReportFormat::Human,
                        path: None,
                    }]
                } else {
                    formats
                },
                step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from),
            }),
            Sub::Diff(DiffArgs {
                input,
                as_of,
                base,
                head,
                format,
            }) => Command::Diff(DiffSettings {
                input: Input {
                    revision: head.into_snapshot(),
                    ..input.into_input()
                },
                base,
                as_of: as_of.resolve(),
                format: match format {
                    DiffFormatArg::Human => DiffFormat::Human,
                    DiffFormatArg::Json => DiffFormat::Json,
                    DiffFormatArg::Markdown => DiffFormat::Markdown,
                },
            }),
            Sub::Reconcile(ReconcileArgs {
                input,
                as_of,
                format,
                ledger,
                key,
            }) => Command::Reconcile(ReconcileSettings {
                ledger,
                key,
                input: input.into_input(),
                as_of: as_of.resolve(),
                format: match format {
                    DiffFormatArg::Human => DiffFormat::Human,
                    DiffFormatArg::Json => DiffFormat::Json,
                    DiffFormatArg::Markdown => DiffFormat::Markdown,
                },
            }),
            Sub::Audit(AuditArgs {
                pinned:
                    PinnedLedgerArgs {
                        ledger,
                        vkey,
                        checkpoints,
                    },
                policies,
                from,
                to,
                subject,
                format,
                output,
            }) => Command::Audit(AuditSettings {
                ledger,
                vkey,
                checkpoints,
                policies,
                scope: crate::audit::Scope { from, to, subject },
                format: match format {
                    AuditFormatArg::Html => AuditFormat::Html,
                    AuditFormatArg::Markdown => AuditFormat::Markdown,
                    AuditFormatArg::Json => AuditFormat::Json,
                },
                output,
            }),
            Sub::Explain(ExplainArgs { id, input, as_of }) => Command::Explain(ExplainSettings {
                id,
                input: input.into_input(),
                as_of: as_of.resolve(),
            }),
        };
        (command, show_progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn as_of_needs_an_offset() {
        assert!(parse_as_of("2026-11-25T00:00:00Z").is_ok());
        assert!(parse_as_of("2026-11-25T00:00:00").is_err());
    }
}
