//! `severance reconcile`: where the systems of record disagree, per source
//! and per code, without asking the policies (the plan says what follows).

use std::io::Write;

use jiff::Timestamp;

use super::{DiffFormat, Input, load_and_validate};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::reconcile::removal::{Removal, State};
use crate::report;

/// Settings of `reconcile`.
#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    /// Input (the policies are validated too: the report is of a runnable
    /// input, as the plan that acts on it is).
    pub input: Input,
    /// The run's instant.
    pub as_of: Timestamp,
    /// Output format.
    pub format: DiffFormat,
    /// A ledger whose decided actions the observations verify.
    pub ledger: Option<std::path::PathBuf>,
    /// The ledger's private key: record what the observations verify.
    pub key: Option<std::path::PathBuf>,
}

pub(super) fn run(
    settings: &ReconcileSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let validation = load_and_validate(&settings.input, err)?;
    let Some((inventory, _)) = validation.valid() else {
        write!(
            err,
            "{}",
            report::human::validation_summary(&validation, settings.input.dirs())
        )?;
        return Ok(ExitStatus::CouldNotEvaluate);
    };
    let mut derived = crate::evaluate::derive(inventory, settings.as_of);
    let removals = match &settings.ledger {
        Some(dir) => {
            let history = crate::ledger::history(dir, &crate::ledger::LogFilter::default())
                .map_err(|message| crate::error::Ledger {
                    path: dir.display().to_string(),
                    message,
                })?;
            let removals = crate::reconcile::removal::removals(inventory, &history);
            derived.reconciliation.add_drift(inventory, &removals);
            if let Some(key) = &settings.key {
                record(dir, key, &removals, settings.as_of, err)?;
            }
            Some(removals)
        }
        None => None,
    };
    let inventory_dir = settings.input.inventory.display().to_string();
    let view = report::reconcile::ReconcileReport {
        inventory,
        reconciliation: &derived.reconciliation,
        as_of: settings.as_of,
        inventory_dir: &inventory_dir,
        removals: removals.as_deref(),
        recorded: settings.key.is_some(),
    };
    match settings.format {
        DiffFormat::Human => super::write_out(out, &report::reconcile::human(&view))?,
        DiffFormat::Markdown => super::write_out(out, &report::reconcile::markdown(&view))?,
        // Written as it is made: a million discrepancies are not to be
        // held as a document first.
        DiffFormat::Json => super::write_streamed(out, |w| report::reconcile::json(&view, w))?,
    }
    let drift = removals
        .iter()
        .flatten()
        .any(|r| matches!(r.state, State::Drift { .. }));
    super::release((validation, derived));
    // A revocation that did not hold blocks like any error finding.
    Ok(if drift {
        ExitStatus::Blocking
    } else {
        ExitStatus::Ok
    })
}

/// Appends a verification for every action an observation newly proves
/// done, in one sealed write.
fn record(
    dir: &std::path::Path,
    key: &std::path::Path,
    removals: &[Removal],
    as_of: Timestamp,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let new: Vec<(u64, String, std::collections::BTreeMap<String, String>)> = removals
        .iter()
        .filter(|r| r.state == State::Verified { recorded: false })
        .map(|r| (r.decision_seq, "import".to_string(), r.observed.clone()))
        .collect();
    if new.is_empty() {
        writeln!(err, "no new verification to record in `{}`", dir.display())?;
        return Ok(());
    }
    let key = super::read_signer(key)?;
    let sealed =
        crate::ledger::record_verifications(dir, &key, &new, &crate::model::format_time(as_of))
            .map_err(|e| super::ledger_error(dir, e))?;
    super::note_recovery(err, dir, &sealed)?;
    writeln!(
        err,
        "recorded {} verification{} as entries {}–{}; sealed at size {}",
        new.len(),
        crate::report::check::plural(new.len()),
        sealed.size - new.len() as u64,
        sealed.size - 1,
        sealed.size
    )?;
    Ok(())
}
