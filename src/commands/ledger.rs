//! `severance ledger …`: record evidence about decisions, trust approvers,
//! verify a ledger offline, and read its history.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Format, ledger_error, read_signer, read_verifier};
use crate::error::{Error, Ledger};
use crate::exit::ExitStatus;
use crate::ledger::{self, DecisionRef, Evidence, LogFilter};
use crate::model::format_time;

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
    /// Show history.
    Log {
        /// The ledger.
        ledger: PathBuf,
        /// Filter.
        filter: LogFilter,
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
        LedgerCommand::Log { ledger, filter } => {
            let history = ledger::history(ledger, filter).map_err(|message| Ledger {
                path: ledger.display().to_string(),
                message,
            })?;
            write!(out, "{}", render_log(&history))?;
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
    let mut external = Vec::new();
    for path in checkpoints {
        let bytes = std::fs::read(path).map_err(|e| Ledger {
            path: path.display().to_string(),
            message: format!("could not read the checkpoint: {e}"),
        })?;
        // Not UTF-8 is a malformed note, reported as such, not a usage error.
        let text = String::from_utf8(bytes).unwrap_or_else(|_| "\u{0}".to_string());
        external.push((path.display().to_string(), text));
    }
    let report = ledger::verify(dir, &key, &external);
    let root = report.root.as_ref().map(ledger::merkle::tag);
    match format {
        Format::Json => {
            let doc = json!({
                "schema_version": 1,
                "ok": report.ok(),
                "origin": report.origin,
                "key": report.key,
                "size": report.size,
                "sealed": report.sealed,
                "root": root,
                "time_range": report.time_range.as_ref().map(|(a, b)| json!({"first": a, "last": b})),
                "entries": report.types,
                "checkpoints": report.checkpoints.iter().map(|c| json!({"source": c.source, "size": c.size})).collect::<Vec<_>>(),
                "failures": report.failures.iter().map(|f| json!({"code": f.code, "place": f.place, "message": f.message})).collect::<Vec<_>>(),
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        Format::Human => {
            for f in &report.failures {
                writeln!(err, "failure[{}]: {}: {}", f.code, f.place, f.message)?;
            }
            let mut text = String::new();
            let _ = writeln!(
                text,
                "ledger `{}`: {}",
                dir.display(),
                if report.ok() {
                    "verified".to_string()
                } else {
                    format!(
                        "{} failure{}",
                        report.failures.len(),
                        if report.failures.len() == 1 { "" } else { "s" }
                    )
                }
            );
            let _ = writeln!(text, "  origin       {}", report.origin);
            let _ = writeln!(text, "  key          {}", report.key);
            let _ = writeln!(
                text,
                "  entries      {} (sealed {})",
                report.size, report.sealed
            );
            let _ = writeln!(text, "  root         {}", root.unwrap_or_default());
            if let Some((a, b)) = &report.time_range {
                let _ = writeln!(text, "  time range   {a} .. {b}");
            }
            let types: Vec<String> = report
                .types
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect();
            let _ = writeln!(text, "  by type      {}", types.join(", "));
            let sizes: Vec<String> = report
                .checkpoints
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        c.source,
                        c.size.map_or("unreadable".to_string(), |s| s.to_string())
                    )
                })
                .collect();
            let _ = writeln!(text, "  checkpoints  {}", sizes.join(", "));
            write!(out, "{text}")?;
        }
    }
    Ok(if report.ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Integrity
    })
}

fn summary(e: &Value, history: &ledger::History) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    let decision = || {
        let leaf = s("decision");
        match history.seq_of.get(&leaf) {
            Some(seq) => format!("decision {seq}"),
            None => leaf,
        }
    };
    match e["type"].as_str().unwrap_or_default() {
        "genesis" => format!("log started; key {}", s("key")),
        "approvers" => format!(
            "{} trusted approvers",
            e["approvers"].as_array().map_or(0, Vec::len)
        ),
        "run" => format!(
            "plan as of {}: {} decisions, {} written; inventory {} policies {}",
            s("as_of"),
            e["decisions"]["count"],
            e["decisions"]["written"],
            e["inventory"]["digest"].as_str().unwrap_or_default(),
            e["policies"]["digest"].as_str().unwrap_or_default()
        ),
        "decision" => {
            let actions: Vec<&str> = e["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let verdict = if s("status") == "absent" {
                "no longer in the inventory".to_string()
            } else if actions.is_empty() {
                "retain".to_string()
            } else {
                actions.join(", ")
            };
            let mut text = format!("{}: {verdict}", s("subject"));
            if let Some(l) = e["leaver"].as_str() {
                let _ = write!(text, " (leaver {l})");
            }
            if let Some(d) = e["due"].as_str() {
                let _ = write!(text, " due {d}");
            }
            text
        }
        "approval" => format!(
            "{} approved by {}",
            decision(),
            s("approver").split('+').next().unwrap_or_default()
        ),
        "execution" => format!(
            "{}: {} request {} answered {}",
            decision(),
            s("system"),
            s("request_id"),
            s("status")
        ),
        "verification" => {
            let observed: Vec<String> = e["observed"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            format!(
                "{}: {} observed {}",
                decision(),
                s("method"),
                observed.join(" ")
            )
        }
        "recovery" => {
            let found: Vec<&str> = e["found"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "recovered from an interrupted write ({}); discarded {} lines, {} bytes",
                found.join(", "),
                e["discarded_lines"],
                e["discarded_bytes"]
            )
        }
        other => other.to_string(),
    }
}

fn render_log(history: &ledger::History) -> String {
    let rows = history
        .entries
        .iter()
        .map(|e| {
            vec![
                e["seq"].to_string(),
                e["ts"].as_str().unwrap_or_default().to_string(),
                e["type"].as_str().unwrap_or_default().to_string(),
                summary(e, history),
            ]
        })
        .collect();
    crate::report::human::table(rows, "")
}
