//! `severance ledger prove` and `ledger verify-proof`: hand an auditor one
//! entry with the proof that it is in the signed log (or the proof that the
//! log only grew since a checkpoint they kept), and check such a proof
//! with nothing but the pinned key.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Format, read_verifier};
use crate::error::{Error, Ledger};
use crate::exit::ExitStatus;
use crate::ledger::proof::{self, Against};
use crate::report::proof as render;

/// What `ledger prove` proves.
#[derive(Debug, Clone)]
pub enum ProveWhat {
    /// That the entry of this sequence number is in the log.
    Entry(u64),
    /// That the log only grew since the checkpoint in this file.
    Consistency {
        /// The older checkpoint the auditor holds.
        old: PathBuf,
    },
}

/// Which checkpoint a proof is made against.
#[derive(Debug, Clone)]
pub enum ProveAgainst {
    /// The ledger's `checkpoint`.
    Latest,
    /// `checkpoints/<size>`.
    Size(u64),
    /// A checkpoint file the auditor holds.
    File(PathBuf),
}

/// Settings of `ledger prove`.
#[derive(Debug, Clone)]
pub struct ProveSettings {
    /// The ledger.
    pub ledger: PathBuf,
    /// What to prove.
    pub what: ProveWhat,
    /// Against which checkpoint.
    pub against: ProveAgainst,
    /// Where to write the proof; stdout when `None`.
    pub output: Option<PathBuf>,
}

/// Settings of `ledger verify-proof`.
#[derive(Debug, Clone)]
pub struct VerifyProofSettings {
    /// The proof file.
    pub proof: PathBuf,
    /// The pinned verifier key file.
    pub vkey: PathBuf,
    /// The older checkpoint a consistency proof starts from.
    pub old: Option<PathBuf>,
    /// Output format.
    pub format: Format,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Ledger {
            path: path.display().to_string(),
            message: format!("could not read the {what}: {e}"),
        }
        .into()
    })
}

fn read_text(path: &Path, what: &str) -> Result<String, Error> {
    String::from_utf8(read(path, what)?).map_err(|_| {
        Ledger {
            path: path.display().to_string(),
            message: format!("the {what} is not UTF-8"),
        }
        .into()
    })
}

pub(super) fn prove(s: &ProveSettings, out: &mut dyn Write) -> Result<ExitStatus, Error> {
    let against = match &s.against {
        ProveAgainst::Latest => Against::Latest,
        ProveAgainst::Size(size) => Against::Size(*size),
        ProveAgainst::File(path) => Against::Held(read_text(path, "checkpoint")?),
    };
    let text = match &s.what {
        ProveWhat::Entry(seq) => proof::prove(&s.ledger, *seq, &against),
        ProveWhat::Consistency { old } => {
            proof::prove_consistency(&s.ledger, &read_text(old, "old checkpoint")?, &against)
        }
    }
    .map_err(|message| Ledger {
        path: s.ledger.display().to_string(),
        message,
    })?;
    match &s.output {
        Some(path) => super::check::write_atomically(path, &text).map_err(|e| Ledger {
            path: path.display().to_string(),
            message: format!("could not write the proof: {e}"),
        })?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(ExitStatus::Ok)
}

pub(super) fn verify_proof(
    s: &VerifyProofSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let key = read_verifier(&s.vkey)?;
    let bytes = read(&s.proof, "proof")?;
    let old = s
        .old
        .as_deref()
        .map(|path| read(path, "old checkpoint"))
        .transpose()?;
    let report = proof::verify_proof(&bytes, &key, old.as_deref()).map_err(|message| Ledger {
        path: s.proof.display().to_string(),
        message,
    })?;
    match s.format {
        Format::Json => out.write_all(render::json(&report).as_bytes())?,
        Format::Human => {
            err.write_all(render::failures(&report).as_bytes())?;
            out.write_all(render::summary(&s.proof, &report).as_bytes())?;
        }
    }
    Ok(if report.ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Integrity
    })
}
