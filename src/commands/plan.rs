//! `severance plan`: every stage from files to decisions, then a report.

use std::io::Write;

use super::{Decided, Format, PlanSettings, decide_input};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(
    settings: &PlanSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let Some(Decided {
        inventory,
        pack,
        evaluation,
        plan,
    }) = decide_input(&settings.input, settings.as_of, err)?
    else {
        return Ok(ExitStatus::CouldNotEvaluate);
    };
    // Findings and the status come first, so that a closed stdout can
    // neither lose them nor change the exit code.
    super::write_findings(&report::evaluation_failures(&plan, &inventory, &pack), err)?;
    let status = if plan.summary.error > 0 {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    };
    if let Some(target) = &settings.ledger {
        let key = super::read_signer(&target.key)?;
        let inputs = crate::ledger::RunInputs {
            inventory_dir: &settings.input.inventory,
            policies_dir: &settings.input.policies,
        };
        let recorded =
            crate::ledger::record_run(&target.dir, &key, &plan, &inventory, &pack, &inputs)
                .map_err(|e| super::ledger_error(&target.dir, e))?;
        super::note_recovery(err, &target.dir, &recorded.sealed)?;
        writeln!(
            err,
            "ledger `{}`: run {} recorded with {} changed decision{}; sealed at size {}",
            target.dir.display(),
            recorded.run_seq,
            recorded.decisions_written,
            if recorded.decisions_written == 1 {
                ""
            } else {
                "s"
            },
            recorded.sealed.size
        )?;
    }
    // The report goes out last, once the ledger holds the run, and streams:
    // at a million records the JSON plan is hundreds of megabytes.
    match settings.format {
        Format::Human => super::write_out(
            out,
            &report::human::plan(&plan, &inventory, &pack, &evaluation, settings.input.dirs()),
        )?,
        Format::Json => super::write_streamed(out, |w| {
            report::json::write_plan(
                w,
                &plan,
                &inventory,
                &pack,
                &evaluation,
                settings.input.dirs(),
            )
        })?,
    }
    super::release((inventory, evaluation, plan));
    Ok(status)
}
