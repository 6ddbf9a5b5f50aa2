//! Commands compose the pipeline stages and write reports to the writers
//! they are given; they never see clap and never touch the process's
//! standard streams themselves.

mod explain;
mod plan;
mod validate;

use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;

use crate::diag::Diagnostic;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::load::{Limits, Sources};
use crate::report;
use crate::validate::Validation;

/// Where the inventory and policies are.
#[derive(Debug, Clone)]
pub struct Input {
    /// Inventory directory.
    pub inventory: PathBuf,
    /// Policy directory.
    pub policies: PathBuf,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Human,
    /// One versioned JSON document.
    Json,
}

/// Settings of `validate`.
#[derive(Debug, Clone)]
pub struct ValidateSettings {
    /// Input.
    pub input: Input,
}

/// Settings of `plan`.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// Input.
    pub input: Input,
    /// The run's instant.
    pub as_of: Timestamp,
    /// Output format.
    pub format: Format,
}

/// Settings of `explain`.
#[derive(Debug, Clone)]
pub struct ExplainSettings {
    /// The record to explain.
    pub id: String,
    /// Input.
    pub input: Input,
    /// The run's instant.
    pub as_of: Timestamp,
}

/// A resolved command.
#[derive(Debug, Clone)]
pub enum Command {
    /// `severance validate`.
    Validate(ValidateSettings),
    /// `severance plan`.
    Plan(PlanSettings),
    /// `severance explain`.
    Explain(ExplainSettings),
}

/// Runs a command, writing its report to `out` and findings and errors to
/// `err`. A closed `out` (e.g. piped into `head`) is not a failure.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let result = match command {
        Command::Validate(s) => validate::run(&s, out, err),
        Command::Plan(s) => plan::run(&s, out, err),
        Command::Explain(s) => explain::run(&s, out, err),
    };
    match result {
        Ok(status) => status,
        Err(Error::Write(e)) if e.message.contains("Broken pipe") => ExitStatus::Ok,
        Err(e) => {
            let _ = writeln!(err, "{}", report::render_error(&e));
            ExitStatus::CouldNotEvaluate
        }
    }
}

/// Loads and validates the input, writing every finding to `err`.
fn load_and_validate(input: &Input, err: &mut dyn Write) -> Result<Validation, Error> {
    let loaded = crate::load::load(&Sources {
        inventory: input.inventory.clone(),
        policies: input.policies.clone(),
        limits: Limits::default(),
    })?;
    let validation = crate::validate::validate(loaded);
    write_findings(&validation.diagnostics, err)?;
    Ok(validation)
}

/// A validated input and what the policies decided about it.
struct Decided {
    inventory: crate::validate::Inventory,
    pack: crate::validate::PolicyPack,
    evaluation: crate::evaluate::Evaluation,
    plan: crate::decide::Plan,
}

/// Loads, validates, evaluates and decides; `None` when the input is not
/// valid (its findings and a summary are already written to `err`).
fn decide_input(
    input: &Input,
    as_of: Timestamp,
    err: &mut dyn Write,
) -> Result<Option<Decided>, Error> {
    let validation = load_and_validate(input, err)?;
    let (inventory, pack) = match validation {
        Validation {
            inventory: Some(inventory),
            policies: Some(pack),
            ..
        } => (inventory, pack),
        invalid => {
            write!(
                err,
                "{}",
                report::human::validation_summary(&invalid, input)
            )?;
            return Ok(None);
        }
    };
    let evaluation = crate::evaluate::evaluate(&inventory, &pack, as_of)?;
    let plan = crate::decide::decide(&inventory, &pack, &evaluation);
    Ok(Some(Decided {
        inventory,
        pack,
        evaluation,
        plan,
    }))
}

fn write_findings(diagnostics: &[Diagnostic], err: &mut dyn Write) -> Result<(), Error> {
    for d in diagnostics {
        writeln!(err, "{}", report::render_diagnostic(d))?;
    }
    Ok(())
}
