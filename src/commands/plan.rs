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
    match settings.format {
        Format::Human => write!(
            out,
            "{}",
            report::human::plan(&plan, &inventory, &pack, &evaluation, &settings.input)
        )?,
        Format::Json => writeln!(
            out,
            "{}",
            report::json::plan(&plan, &inventory, &pack, &evaluation, &settings.input)
        )?,
    }
    super::write_findings(&report::evaluation_failures(&plan, &inventory, &pack), err)?;
    Ok(if plan.summary.error > 0 {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    })
}
