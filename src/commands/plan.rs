//! `severance plan`: every stage from files to decisions, then a report.

use std::io::Write;

use super::{Format, PlanSettings, load_and_validate};
use crate::decide::decide;
use crate::error::Error;
use crate::evaluate::evaluate;
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(
    settings: &PlanSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let validation = load_and_validate(&settings.input, err)?;
    let Some((inventory, pack)) = validation.valid() else {
        write!(
            err,
            "{}",
            report::human::validation_summary(&validation, &settings.input)
        )?;
        return Ok(ExitStatus::CouldNotEvaluate);
    };
    let evaluation = evaluate(inventory, pack, settings.as_of)?;
    let plan = decide(inventory, pack, &evaluation);
    match settings.format {
        Format::Human => write!(
            out,
            "{}",
            report::human::plan(&plan, inventory, pack, &evaluation, &settings.input)
        )?,
        Format::Json => writeln!(
            out,
            "{}",
            report::json::plan(&plan, inventory, pack, &evaluation, &settings.input)
        )?,
    }
    super::write_findings(&report::evaluation_failures(&plan, inventory, pack), err)?;
    Ok(if plan.summary.error > 0 {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    })
}
