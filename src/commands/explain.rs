//! `severance explain ID`: one record, its links, and per action the
//! policies that matched and the attribute values that made them match.

use std::io::Write;

use super::{Decided, ExplainSettings, decide_input};
use crate::error::{Error, UnknownRecord};
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(
    settings: &ExplainSettings,
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
    write!(
        out,
        "{}",
        report::explain::explain(index, &plan, &inventory, &pack, &evaluation)
    )?;
    let failed = plan
        .decisions
        .iter()
        .any(|d| d.record == index && d.status == crate::decide::Status::Error);
    super::release((inventory, evaluation, plan));
    Ok(if failed {
        ExitStatus::CouldNotEvaluate
    } else {
        ExitStatus::Ok
    })
}
