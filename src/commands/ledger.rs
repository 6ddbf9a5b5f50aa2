//! `severance ledger …`: record evidence about decisions, trust approvers,
//! verify a ledger offline, read its history (proofs of single entries
//! are in `proof.rs`), and replay a run (`replay.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;

use super::{Format, ledger_error, read_signer, read_verifier};
use crate::error::{Error, Ledger};
use crate::exit::ExitStatus;
use crate::ledger::{self, DecisionRef, Evidence, LogFilter};
use crate::model::format_time;
use crate::report::ledger as render;

/// What a `ledger record` writes.
#[derive(Debug, Clone)]
pub enum RecordWhat {
    /// An approval signed by the approver's key file.
    Approval {
        /// The approver's private key file.
        approver_key: PathBuf,
        /// Why, or a ticket.
        comment: Option<String>,
    },
    /// A target system's answer.
    Execution {
        /// Which system.
        system: String,
        /// Its request id.
        request_id: String,
        /// Its status.
        status: String,
        /// A file holding its response body.
        response: Option<PathBuf>,
    },
    /// A re-read of the target.
    Verification {
        /// How.
        method: String,
        /// `key=value` observations.
        observed: Vec<(String, String)>,
    },
}

/// Settings of `ledger record`.
#[derive(Debug, Clone)]
pub struct RecordSettings {
    /// The ledger.
    pub ledger: PathBuf,
    /// The log key file.
    pub key: PathBuf,
    /// The decision: a sequence number or `sha256:…` leaf hash.
    pub decision: String,
    /// When it happened.
    pub at: Timestamp,
    /// What to record.
    pub what: RecordWhat,
}

/// The `ledger` subcommands, resolved.
#[derive(Debug, Clone)]
pub enum LedgerCommand {
    /// Append evidence.
    Record(RecordSettings),
    /// Trust an approver's key.
    Trust {
        /// The ledger.
        ledger: PathBuf,
        /// The log key file.
        key: PathBuf,
        /// The approver's verifier key file.
        approver: PathBuf,
        /// When.
        at: Timestamp,
    },
    /// Verify offline.
    Verify {
        /// The ledger.
        ledger: PathBuf,
        /// The pinned verifier key file.
        vkey: PathBuf,
        /// Checkpoints the auditor kept.
        checkpoints: Vec<PathBuf>,
        /// Output format.
        format: Format,
    },
    /// Prove one entry, or that the log only grew.
    Prove(super::ProveSettings),
    /// Check a proof offline.
    VerifyProof(super::VerifyProofSettings),
    /// Run a recorded run again from its commit.
    Replay(super::ReplaySettings),
    /// Show history.
    Log {
        /// The ledger.
        ledger: PathBuf,
        /// Filter.
        filter: LogFilter,
        /// Output format.
        format: Format,
    },
}

pub(super) fn run(
    command: &LedgerCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    match command {
        LedgerCommand::Record(s) => record(s, out, err),
        LedgerCommand::Trust {
            ledger,
            key,
            approver,
            at,
        } => {
            let key = read_signer(key)?;
            let approver_key = read_verifier(approver)?;
            let sealed = ledger::trust_approver(ledger, &key, &approver_key, &format_time(*at))
                .map_err(|e| ledger_error(ledger, e))?;
            super::note_recovery(err, ledger, &sealed)?;
            writeln!(
                out,
                "trusted approver {}; sealed at size {}",
                approver_key.short(),
                sealed.size
            )?;
            Ok(ExitStatus::Ok)
        }
        LedgerCommand::Verify {
            ledger,
            vkey,
            checkpoints,
            format,
        } => verify(ledger, vkey, checkpoints, *format, out, err),
        LedgerCommand::Prove(s) => super::proof::prove(s, out),
        LedgerCommand::VerifyProof(s) => super::proof::verify_proof(s, out, err),
        LedgerCommand::Replay(s) => super::replay::run(s, out, err),
        LedgerCommand::Log {
            ledger,
            filter,
            format,
        } => {
            let history = ledger::history(ledger, filter).map_err(|message| Ledger {
                path: ledger.display().to_string(),
                message,
            })?;
            let text = match format {
                Format::Human => render::log_human(&history),
                Format::Json => render::log_json(&history),
            };
            out.write_all(text.as_bytes())?;
            Ok(ExitStatus::Ok)
        }
    }
}

fn record(
    s: &RecordSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let key = read_signer(&s.key)?;
    let decision = match s.decision.parse::<u64>() {
        Ok(seq) => DecisionRef::Seq(seq),
        Err(_) => DecisionRef::Leaf(s.decision.clone()),
    };
    let approver;
    let evidence = match &s.what {
        RecordWhat::Approval {
            approver_key,
            comment,
        } => {
            approver = read_signer(approver_key)?;
            Evidence::Approval {
                approver: &approver,
                comment: comment.clone(),
            }
        }
        RecordWhat::Execution {
            system,
            request_id,
            status,
            response,
        } => {
            let response = match response {
                Some(path) => std::fs::read(path).map_err(|e| Ledger {
                    path: path.display().to_string(),
                    message: format!("could not read the response: {e}"),
                })?,
                None => Vec::new(),
            };
            Evidence::Execution {
                system: system.clone(),
                request_id: request_id.clone(),
                status: status.clone(),
                response,
            }
        }
        RecordWhat::Verification { method, observed } => Evidence::Verification {
            method: method.clone(),
            observed: observed.iter().cloned().collect::<BTreeMap<_, _>>(),
        },
    };
    let sealed = ledger::record_evidence(&s.ledger, &key, &decision, &evidence, &format_time(s.at))
        .map_err(|e| ledger_error(&s.ledger, e))?;
    super::note_recovery(err, &s.ledger, &sealed)?;
    let kind = match s.what {
        RecordWhat::Approval { .. } => "approval",
        RecordWhat::Execution { .. } => "execution",
        RecordWhat::Verification { .. } => "verification",
    };
    writeln!(
        out,
        "recorded {kind} as entry {}; sealed at size {}",
        sealed.size - 1,
        sealed.size
    )?;
    Ok(ExitStatus::Ok)
}

fn verify(
    dir: &std::path::Path,
    vkey: &std::path::Path,
    checkpoints: &[PathBuf],
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let key = read_verifier(vkey)?;
    let external = read_checkpoints(checkpoints)?;
    let report = ledger::verify(dir, &key, &external);
    match format {
        Format::Json => out.write_all(render::verify_json(&report).as_bytes())?,
        Format::Human => {
            err.write_all(render::verify_failures(&report).as_bytes())?;
            out.write_all(render::verify_summary(dir, &report).as_bytes())?;
        }
    }
    Ok(if report.ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Integrity
    })
}

/// The checkpoints an auditor kept, as `(name, text)`.
pub(super) fn read_checkpoints(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Error> {
    let mut external = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).map_err(|e| Ledger {
            path: path.display().to_string(),
            message: format!("could not read the checkpoint: {e}"),
        })?;
        // Not UTF-8 is a malformed note, reported as such, not a usage error.
        let text = String::from_utf8(bytes).unwrap_or_else(|_| "\u{0}".to_string());
        external.push((path.display().to_string(), text));
    }
    Ok(external)
}
