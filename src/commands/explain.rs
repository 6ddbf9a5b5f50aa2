//! `severance explain ID`: one record, its links, and per action the
//! policies that matched and the attribute values that made them match.

use std::io::Write;

use super::{ExplainSettings, load_and_validate};
use crate::decide::decide;
use crate::error::{Error, UnknownRecord};
use crate::evaluate::evaluate;
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(
    settings: &ExplainSettings,
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
    let Some(&index) = inventory.index.get(&settings.id) else {
        let suggestion =
            crate::diag::did_you_mean_id(&settings.id, inventory.index.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"));
        return Err(UnknownRecord {
            id: settings.id.clone(),
            suggestion,
        }
        .into());
    };
    let evaluation = evaluate(inventory, pack, settings.as_of)?;
    let plan = decide(inventory, pack, &evaluation);
    write!(
        out,
        "{}",
        report::explain::explain(index, &plan, inventory, pack, &evaluation)
    )?;
    let failed = plan
        .decisions
        .iter()
        .any(|d| d.record == index && d.status == crate::decide::Status::Error);
    Ok(if failed {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    })
}
