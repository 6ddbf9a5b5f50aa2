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

    /// The README's words for each status; a new status does not compile
    /// until it has a row.
    fn readme_label(status: ExitStatus) -> &'static str {
        match status {
            ExitStatus::Ok => "ok",
            ExitStatus::Blocking => "blocking findings",
            ExitStatus::CouldNotEvaluate => "could not evaluate",
            ExitStatus::Integrity => "integrity failure",
        }
    }

    #[test]
    fn codes_match_the_readme_table() {
        let readme = include_str!("../README.md");
        let table = readme
            .split("### Exit codes")
            .nth(1)
            .expect("the README has an exit code section");
        let rows: Vec<(u8, &str)> = table
            .lines()
            .skip_while(|l| !l.starts_with("| code |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let mut cells = l.trim_matches('|').split('|').map(str::trim);
                let code = cells.next().and_then(|c| c.parse().ok()).expect("a code");
                let meaning = cells.next().expect("a meaning");
                (code, meaning)
            })
            .collect();
        let all = [
            ExitStatus::Ok,
            ExitStatus::Blocking,
            ExitStatus::CouldNotEvaluate,
            ExitStatus::Integrity,
        ];
        assert_eq!(rows.len(), all.len(), "one README row per status: {rows:?}");
        for status in all {
            let label = readme_label(status);
            let row = rows.iter().find(|(code, _)| *code == status.code());
            assert!(
                row.is_some_and(|(_, meaning)| meaning.starts_with(label)),
                "README row for {status:?} should read `| {} | {label}…`, found {row:?}",
                status.code()
            );
        }
    }
}
