//! `severance reconcile`: where the systems of record disagree, per source
//! and per code, without asking the policies (the plan says what follows).

use std::io::Write;

use jiff::Timestamp;

use super::{DiffFormat, Input, load_and_validate};
use crate::error::Error;
use crate::exit::ExitStatus;
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
    let derived = crate::evaluate::derive(inventory, settings.as_of);
    let inventory_dir = settings.input.inventory.display().to_string();
    let view = report::reconcile::ReconcileReport {
        inventory,
        reconciliation: &derived.reconciliation,
        as_of: settings.as_of,
        inventory_dir: &inventory_dir,
    };
    let text = match settings.format {
        DiffFormat::Human => report::reconcile::human(&view),
        DiffFormat::Markdown => report::reconcile::markdown(&view),
        DiffFormat::Json => {
            // INVARIANT: the document holds only strings, numbers, booleans,
            // nulls and maps with string keys, which always serialize.
            let text = serde_json::to_string_pretty(&report::reconcile::json(&view))
                .unwrap_or_else(|e| unreachable!("reconcile document serializes: {e}"));
            format!("{text}\n")
        }
    };
    super::write_out(out, &text)?;
    super::release((validation, derived));
    Ok(ExitStatus::Ok)
}
