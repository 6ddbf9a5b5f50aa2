//! `severance audit`: an auditor's period review of a ledger. The ledger is
//! verified first against the pinned key and the auditor's checkpoints; one
//! that does not verify gives exit 3 and no report, because a report drawn
//! from evidence that does not hold would be worse than none.

use std::io::Write;
use std::path::PathBuf;

use super::{read_verifier, write_findings};
use crate::audit::{self, AuditError, AuditInput, ControlMap, Outcome, Scope};
use crate::error::{AuditScope, Error, Ledger};
use crate::exit::ExitStatus;
use crate::report;

/// The audit report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// A self-contained page.
    Html,
    /// For a review thread.
    Markdown,
    /// One versioned JSON document.
    Json,
}

/// Settings of `audit`.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// The ledger.
    pub ledger: PathBuf,
    /// The pinned verifier key file.
    pub vkey: PathBuf,
    /// Checkpoints the auditor kept.
    pub checkpoints: Vec<PathBuf>,
    /// The policy pack whose `@control` annotations map policies to controls.
    pub policies: PathBuf,
    /// Period and subject.
    pub scope: Scope,
    /// Output format.
    pub format: AuditFormat,
    /// Write the report here (atomically) rather than to standard output.
    pub output: Option<PathBuf>,
}

pub(super) fn run(
    settings: &AuditSettings,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let key = read_verifier(&settings.vkey)?;
    let external = super::ledger::read_checkpoints(&settings.checkpoints)?;
    let controls = control_map(settings, err)?;
    let Some(controls) = controls else {
        return Ok(ExitStatus::CouldNotEvaluate);
    };
    let input = AuditInput {
        dir: &settings.ledger,
        key: &key,
        external: &external,
        scope: settings.scope.clone(),
        controls,
    };
    let outcome = audit::audit(&input).map_err(|e| -> Error {
        match e {
            AuditError::Read(message) => Ledger {
                path: settings.ledger.display().to_string(),
                message,
            }
            .into(),
            AuditError::Subject(subject) => AuditScope {
                message: format!("no decision in the ledger is about `{subject}` or follows from it"),
                help: "check the record id (`person/E1001`, `account/okta/jdoe`): `severance ledger log --subject ID` lists what the ledger holds about it".into(),
            }
            .into(),
            AuditError::Period => AuditScope {
                message: "`--from` is not before `--to`: the period holds no instant".into(),
                help: "the period is every entry at or after `--from` and before `--to`".into(),
            }
            .into(),
        }
    })?;
    let audit = match outcome {
        Outcome::Unverified(report) => {
            err.write_all(report::ledger::verify_failures(&report).as_bytes())?;
            writeln!(
                err,
                "error: the ledger `{}` does not verify; no audit report is made from it",
                settings.ledger.display()
            )?;
            return Ok(ExitStatus::Integrity);
        }
        Outcome::Audited(audit) => audit,
    };
    let text = match settings.format {
        AuditFormat::Html => report::audit_html::html(&audit),
        AuditFormat::Markdown => report::audit::markdown(&audit),
        AuditFormat::Json => report::audit::json(&audit),
    };
    match &settings.output {
        Some(path) => super::check::write_report(path, &text)?,
        None => out.write_all(text.as_bytes())?,
    }
    super::release((audit, text));
    Ok(ExitStatus::Ok)
}

/// The pack's control annotations and digest; `None` (after its findings
/// are written) when the pack does not validate.
fn control_map(settings: &AuditSettings, err: &mut dyn Write) -> Result<Option<ControlMap>, Error> {
    let sources = crate::load::load_policies(&settings.policies)?;
    let (pack, diagnostics) = crate::validate::validate_policies(sources);
    let Some(pack) = pack else {
        write_findings(&diagnostics, err)?;
        return Ok(None);
    };
    Ok(Some(ControlMap {
        digest: Some(crate::ledger::files_digest(&settings.policies, &pack.files)),
        controls_of: pack
            .info
            .iter()
            .map(|(id, info)| (id.clone(), info.controls.clone()))
            .collect(),
    }))
}
