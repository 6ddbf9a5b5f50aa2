//! `severance validate`: load and validate, report every finding, and say
//! what was checked.

use std::io::Write;

use super::{ValidateSettings, load_and_validate};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(
    settings: &ValidateSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let validation = load_and_validate(&settings.input, err)?;
    write!(
        out,
        "{}",
        report::human::validation_summary(&validation, settings.input.dirs())
    )?;
    let status = if validation.valid().is_some() {
        ExitStatus::Ok
    } else {
        ExitStatus::CouldNotEvaluate
    };
    super::release(validation);
    Ok(status)
}
