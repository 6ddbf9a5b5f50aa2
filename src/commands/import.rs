//! `severance import`: reads exports into the importer's own directory and
//! says what changed; a refused export is reported like any bad input
//! (exit 2) and nothing is written.

use std::io::Write;

use crate::error::Error;
use crate::exit::ExitStatus;
use crate::import::{Outcome, Request};
use crate::report;

pub(super) fn run(
    request: &Request,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    match crate::import::import(request)? {
        Outcome::Refused(findings) => {
            for f in &findings {
                let code = f.code.as_str();
                writeln!(
                    err,
                    "{}",
                    report::render_finding(&report::Rendered::of(f, code, &[]))
                )?;
            }
            writeln!(
                err,
                "import refused: {} problem{}; nothing was written",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            )?;
            Ok(ExitStatus::CouldNotEvaluate)
        }
        Outcome::Written(summary) => {
            write!(out, "{}", report::human::import_summary(request, &summary))?;
            Ok(ExitStatus::Ok)
        }
    }
}
