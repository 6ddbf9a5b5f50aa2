//! `severance ledger replay`: verify the ledger, then run a recorded run
//! again from the commit it names, at its instant, and say whether the
//! same inputs still give the same decisions, and if not which differ.

use std::io::Write;
use std::path::PathBuf;

use super::{Decided, Format, decide_or_summarize, read_verifier, write_findings, write_out};
use crate::error::{Error, Integrity, Ledger};
use crate::exit::ExitStatus;
use crate::ledger::replay::{self, Replayed};
use crate::ledger::{self, LogFilter, RunBodies, RunInputs};
use crate::load::{Limits, Snapshot, Sources};
use crate::report;
use crate::report::replay as render;

/// Settings of `ledger replay`.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    /// The ledger.
    pub ledger: PathBuf,
    /// The pinned verifier key file.
    pub vkey: PathBuf,
    /// The `run` entry to replay.
    pub seq: u64,
    /// The inventory directory, read at the run's commit in the
    /// repository that holds it.
    pub inventory: PathBuf,
    /// The policy directory, read at the run's commit (or at
    /// `policies_at`) in the repository that holds it.
    pub policies: PathBuf,
    /// A revision to read the policies at instead of the run's commit.
    pub policies_at: Option<String>,
    /// Output format.
    pub format: Format,
}

pub(super) fn run(
    s: &ReplaySettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let path = s.ledger.display().to_string();
    let ledger_error = |message: String| -> Error {
        Ledger {
            path: path.clone(),
            message,
        }
        .into()
    };
    // Nothing is replayed from evidence that does not verify: a run entry
    // could say anything.
    let key = read_verifier(&s.vkey)?;
    // Read once: what is replayed is the bytes that verified.
    let (verified, contents) = match ledger::store::read_entries(&s.ledger) {
        Ok(Some(contents)) => (
            ledger::verify::verify_contents(&s.ledger, &contents, &key, &[]),
            Some(contents),
        ),
        _ => (ledger::verify(&s.ledger, &key, &[]), None),
    };
    // The first failure says enough to act on; `ledger verify`, which the
    // error's help names, lists them all.
    if let Some(first) = verified.failures.first() {
        let n = verified.failures.len();
        return Err(Integrity {
            path,
            message: format!(
                "the ledger does not verify against the pinned key ({n} failure{}, the first [{}] at {}: {}); nothing was replayed",
                if n == 1 { "" } else { "s" },
                first.code,
                first.place,
                first.message
            ),
        }
        .into());
    }
    // A ledger that verified was read whole.
    let Some(contents) = contents else {
        return Err(ledger_error("the ledger has no entries".to_string()));
    };
    let history = ledger::history_of(&contents, &LogFilter::default()).map_err(ledger_error)?;
    drop(contents);
    let recorded =
        replay::recorded_run(&history, s.seq).map_err(|e| ledger_error(e.to_string()))?;
    drop(history);
    let as_of = recorded
        .run
        .as_of
        .as_str()
        .parse()
        .map_err(|e| ledger_error(format!("run {}: `as_of` is not an instant: {e}", s.seq)))?;

    let commit = Snapshot::Revision(recorded.commit.clone());
    let policies_at = s
        .policies_at
        .clone()
        .map_or_else(|| commit.clone(), Snapshot::Revision);
    let sources = Sources {
        inventory: s.inventory.clone(),
        policies: s.policies.clone(),
        limits: Limits::default(),
        revision: None,
    };
    let loaded = crate::load::load_each_at(&sources, &commit, &policies_at)?;
    let validation = crate::validate::validate(loaded);
    write_findings(&validation.diagnostics, err)?;
    let dirs = report::InputDirs {
        inventory: &s.inventory,
        policies: &s.policies,
    };
    let Some(Decided {
        inventory,
        pack,
        evaluation,
        plan,
    }) = decide_or_summarize(validation, dirs, as_of, err)?
    else {
        return Ok(ExitStatus::CouldNotEvaluate);
    };
    // A run with decisions that could not be evaluated is never recorded,
    // so there is nothing such a replay could be compared with.
    if plan.summary.error > 0 {
        write_findings(&report::evaluation_failures(&plan, &inventory, &pack), err)?;
        return Err(ledger_error(format!(
            "run {}: {} decisions could not be evaluated; nothing was compared",
            s.seq, plan.summary.error
        )));
    }
    let inputs = RunInputs {
        inventory_dir: &s.inventory,
        policies_dir: &s.policies,
    };
    let replayed = Replayed {
        inventory_digest: inputs.inventory_digest(&inventory),
        policies_digest: inputs.policies_digest(&pack),
        policies_at: s.policies_at.clone(),
        bodies: RunBodies::of(&plan, &inventory),
    };
    super::release((inventory, evaluation, plan));
    let verdict = replay::compare(&recorded, &replayed);
    let text = match s.format {
        Format::Human => render::human(&s.ledger, &verdict),
        Format::Json => render::json(&s.ledger, &verdict),
    };
    write_out(out, &text)?;
    Ok(if verdict.confirmed() {
        ExitStatus::Ok
    } else {
        ExitStatus::Blocking
    })
}
