//! The one place exit codes are defined, so that CI jobs can rely on them:
//! 0 ok, 1 blocking findings, 2 could not evaluate, 3 integrity failure.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Everything evaluated; nothing blocks.
    Ok,
    /// Findings that the caller asked to block on (used by `check`).
    Blocking,
    /// Bad input, bad policy or an evaluation error: no trustworthy answer.
    CouldNotEvaluate,
    /// Evidence failed verification (used by the ledger).
    Integrity,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Blocking => 1,
            ExitStatus::CouldNotEvaluate => 2,
            ExitStatus::Integrity => 3,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_readme_table() {
        assert_eq!(ExitStatus::Ok.code(), 0);
        assert_eq!(ExitStatus::Blocking.code(), 1);
        assert_eq!(ExitStatus::CouldNotEvaluate.code(), 2);
        assert_eq!(ExitStatus::Integrity.code(), 3);
    }
}
