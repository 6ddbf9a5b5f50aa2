//! Commands compose the pipeline stages and write reports to the writers
//! they are given; they never see clap and never touch the process's
//! standard streams themselves.

mod audit;
mod check;
mod explain;
mod import;
mod keygen;
mod ledger;
mod plan;
mod progress_bar;
mod proof;
mod reconcile;
mod replay;
mod validate;

pub use progress_bar::install as show_progress;

pub use audit::{AuditFormat, AuditSettings};
pub use check::{CheckSettings, DiffFormat, DiffSettings, ReportFormat, ReportTarget};
pub use ledger::{LedgerCommand, RecordSettings, RecordWhat};
pub use proof::{ProveAgainst, ProveSettings, ProveWhat, VerifyProofSettings};
pub use reconcile::ReconcileSettings;
pub use replay::ReplaySettings;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// A git revision, or the index, to read both at instead of the
    /// working tree.
    pub revision: Option<crate::load::Snapshot>,
}

impl Input {
    /// The directories, as reports name them.
    fn dirs(&self) -> report::InputDirs<'_> {
        report::InputDirs {
            inventory: &self.inventory,
            policies: &self.policies,
        }
    }
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
    /// Record the decisions in a ledger.
    pub ledger: Option<LedgerTarget>,
}

/// Where `plan` records its decisions.
#[derive(Debug, Clone)]
pub struct LedgerTarget {
    /// The ledger directory.
    pub dir: PathBuf,
    /// The log's private key file.
    pub key: PathBuf,
}

/// Settings of `keygen`.
#[derive(Debug, Clone)]
pub struct KeygenSettings {
    /// The key's name (a ledger's origin, or an approver's identity).
    pub name: String,
    /// The private key file; the verifier key goes to `<out>.pub`.
    pub out: PathBuf,
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
    /// `severance keygen`.
    Keygen(KeygenSettings),
    /// `severance ledger …`.
    Ledger(LedgerCommand),
    /// `severance generate`.
    Generate(crate::generate::GenerateSettings),
    /// `severance check`.
    Check(CheckSettings),
    /// `severance diff`.
    Diff(DiffSettings),
    /// `severance import`.
    Import(crate::import::Request),
    /// `severance reconcile`.
    Reconcile(ReconcileSettings),
    /// `severance audit`.
    Audit(AuditSettings),
}

/// Whether memory a command read is left for the process's exit to give
/// back (see [`leave_memory_to_exit`]).
static LEAVE_TO_EXIT: AtomicBool = AtomicBool::new(false);

/// Lets the process's exit, rather than each command, give back the memory
/// of what the command read. Freeing a million validated records one
/// allocation at a time takes seconds that the operating system spends in
/// an instant when the process ends; the binary calls this just before it
/// runs its one command. A library caller leaves it off, and nothing is
/// ever leaked.
pub fn leave_memory_to_exit() {
    LEAVE_TO_EXIT.store(true, Ordering::Relaxed);
}

/// The end of a command's largest values: dropped, or left to the exit.
fn release<T>(value: T) {
    if LEAVE_TO_EXIT.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// Runs a command, writing its report to `out` and findings and errors to
/// `err`. A closed `out` (e.g. piped into `head`) is not a failure.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let out = &mut ReaderMayLeave { out, gone: false };
    let result = match command {
        Command::Validate(s) => validate::run(&s, out, err),
        Command::Plan(s) => plan::run(&s, out, err),
        Command::Explain(s) => explain::run(&s, out, err),
        Command::Keygen(s) => keygen::run(&s, out),
        Command::Ledger(c) => ledger::run(&c, out, err),
        Command::Generate(s) => generate(&s, out),
        Command::Check(s) => check::run_check(&s, out, err),
        Command::Diff(s) => check::run_diff(&s, out, err),
        Command::Import(r) => import::run(&r, out, err),
        Command::Reconcile(s) => reconcile::run(&s, out, err),
        Command::Audit(s) => audit::run(&s, out, err),
    };
    crate::progress::done();
    match result {
        Ok(status) => status,
        Err(e @ Error::Integrity(_)) => {
            let _ = writeln!(err, "{}", report::render_error(&e));
            ExitStatus::Integrity
        }
        Err(e) => {
            let _ = writeln!(err, "{}", report::render_error(&e));
            ExitStatus::CouldNotEvaluate
        }
    }
}

/// Standard output whose reader may stop reading (`| head`): once the pipe
/// is closed, the rest of the report is dropped rather than failing the
/// command, whose status stays the one its work earned. Every command gets
/// this, so none can forget it.
struct ReaderMayLeave<'w> {
    out: &'w mut dyn Write,
    gone: bool,
}

impl ReaderMayLeave<'_> {
    /// What a write or flush returned, unless the reader left: then what
    /// a reader would have taken.
    fn unless_gone<T>(&mut self, result: std::io::Result<T>, taken: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(taken)
            }
            other => other,
        }
    }
}

impl Write for ReaderMayLeave<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let written = self.out.write(buf);
        self.unless_gone(written, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let flushed = self.out.flush();
        self.unless_gone(flushed, ())
    }
}

fn generate(
    settings: &crate::generate::GenerateSettings,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let summary = crate::generate::generate(settings).map_err(|e| crate::error::Generate {
        path: settings.out.display().to_string(),
        message: e.0,
    })?;
    write_out(
        out,
        &format!(
            "wrote {} records ({} bytes) in {} files to `{}` (seed {})\n",
            summary.records,
            summary.bytes,
            summary.files,
            settings.out.display(),
            settings.seed
        ),
    )?;
    Ok(ExitStatus::Ok)
}

/// Loads and validates the input, at its revision when it names one; the
/// findings come back as data, with the commit read.
fn load_input(input: &Input) -> Result<(Validation, Option<String>), Error> {
    let loaded = crate::load::load(&Sources {
        inventory: input.inventory.clone(),
        policies: input.policies.clone(),
        limits: Limits::default(),
        revision: input.revision.clone(),
    })?;
    let commit = loaded.commit.clone();
    Ok((crate::validate::validate(loaded), commit))
}

/// Loads and validates the input, writing every finding to `err`.
fn load_and_validate(input: &Input, err: &mut dyn Write) -> Result<Validation, Error> {
    let (validation, _) = load_input(input)?;
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

/// Evaluates and decides a valid input; the `Validation` back when it is
/// not valid.
fn decide_valid(
    validation: Validation,
    as_of: Timestamp,
) -> Result<Result<Decided, Validation>, Error> {
    let (inventory, pack) = match validation {
        Validation {
            inventory: Some(inventory),
            policies: Some(pack),
            ..
        } => (inventory, pack),
        invalid => return Ok(Err(invalid)),
    };
    let evaluation = crate::evaluate::evaluate(&inventory, &pack, as_of)?;
    let plan = crate::decide::decide(&inventory, &pack, &evaluation);
    Ok(Ok(Decided {
        inventory,
        pack,
        evaluation,
        plan,
    }))
}

/// Loads, validates, evaluates and decides; `None` when the input is not
/// valid (its findings and a summary are already written to `err`).
fn decide_input(
    input: &Input,
    as_of: Timestamp,
    err: &mut dyn Write,
) -> Result<Option<Decided>, Error> {
    let validation = load_and_validate(input, err)?;
    decide_or_summarize(validation, input.dirs(), as_of, err)
}

/// Evaluates and decides a validated input whose findings are already
/// written; `None` when it is not valid, with a summary written to `err`.
fn decide_or_summarize(
    validation: Validation,
    dirs: report::InputDirs<'_>,
    as_of: Timestamp,
    err: &mut dyn Write,
) -> Result<Option<Decided>, Error> {
    match decide_valid(validation, as_of)? {
        Ok(decided) => Ok(Some(decided)),
        Err(invalid) => {
            write!(err, "{}", report::human::validation_summary(&invalid, dirs))?;
            Ok(None)
        }
    }
}

/// Writes a report to stdout (a reader that closed the pipe early is
/// handled once, by [`run`]'s `ReaderMayLeave`).
fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    write_streamed(out, |w| w.write_all(text.as_bytes()))
}

/// Streams a report to `out` through one buffer (stdout is line-buffered,
/// and a pretty-printed report has a line per field).
fn write_streamed(
    out: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    write(&mut buffered).and_then(|()| buffered.flush())?;
    Ok(())
}

fn write_findings(diagnostics: &[Diagnostic], err: &mut dyn Write) -> Result<(), Error> {
    for d in diagnostics {
        writeln!(err, "{}", report::render_diagnostic(d))?;
    }
    Ok(())
}

/// Reads and parses a key file; errors name the file but never quote it.
fn read_key<K>(
    path: &std::path::Path,
    parse: impl Fn(&str) -> Result<K, crate::ledger::note::NoteError>,
) -> Result<K, Error> {
    let key_error = |message: String| crate::error::Key {
        path: path.display().to_string(),
        message,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| key_error(format!("could not read: {e}")))?;
    parse(text.trim()).map_err(|e| key_error(e.0).into())
}

/// Reads a private key file, refusing one that others can read (as ssh
/// does): whoever can read it can sign entries in the ledger's name.
fn read_signer(path: &std::path::Path) -> Result<crate::ledger::SignerKey, Error> {
    private_to_owner(path)?;
    read_key(path, crate::ledger::SignerKey::parse)
}

/// Refuses a private key file whose mode lets its group or others in.
#[cfg(unix)]
fn private_to_owner(path: &std::path::Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    // An unreadable file is reported by `read_key`, with the reason.
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(crate::error::KeyExposed {
        path: path.display().to_string(),
        mode: format!("{mode:04o}"),
    }
    .into())
}

#[cfg(not(unix))]
fn private_to_owner(_: &std::path::Path) -> Result<(), Error> {
    Ok(())
}

/// Reads a verifier key file (`<name>+<id>+<key>`).
fn read_verifier(path: &std::path::Path) -> Result<crate::ledger::VerifierKey, Error> {
    read_key(path, crate::ledger::VerifierKey::parse)
}

/// Says so when a ledger write recovered from an interrupted one, which its
/// `recovery` entry records in full.
fn note_recovery(
    err: &mut dyn Write,
    dir: &std::path::Path,
    sealed: &crate::ledger::Sealed,
) -> std::io::Result<()> {
    if sealed.recovered.is_empty() {
        return Ok(());
    }
    writeln!(
        err,
        "warning: ledger `{}`: recovered from an interrupted write (found {}); a `recovery` entry records it",
        dir.display(),
        sealed.recovered.join(", ")
    )
}

/// Maps a refused or failed ledger write to an error of the right kind.
fn ledger_error(dir: &std::path::Path, e: crate::ledger::WriteError) -> Error {
    let path = dir.display().to_string();
    match e {
        crate::ledger::WriteError::Integrity(message) => {
            crate::error::Integrity { path, message }.into()
        }
        crate::ledger::WriteError::Io(message) | crate::ledger::WriteError::Refused(message) => {
            crate::error::Ledger { path, message }.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private key that its group or others can read was used to sign
    /// without a word; now it is refused with the fix, as ssh does. The
    /// verifier key is public and is read whatever its mode.
    #[cfg(unix)]
    #[test]
    fn a_private_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let key = crate::ledger::SignerKey::from_seed("test.example/log", [7; 32]);
        let private = dir.path().join("log.key");
        let public = dir.path().join("log.key.pub");
        std::fs::write(&private, key.encode()).expect("write");
        std::fs::write(&public, key.verifier().encode()).expect("write");
        let chmod = |path: &std::path::Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        for mode in [0o644, 0o666, 0o640, 0o604] {
            chmod(&private, mode);
            let Err(e) = read_signer(&private) else {
                panic!("mode {mode:o} was accepted");
            };
            assert_eq!(
                e.to_string(),
                format!(
                    "key `{}`: the private key is readable by its group or others (mode {mode:04o}); it must be readable by its owner only",
                    private.display()
                )
            );
            let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
            assert_eq!(
                help.as_deref()
                    .map(|h| h.starts_with(&format!("run `chmod 600 {}`", private.display()))),
                Some(true)
            );
        }
        for mode in [0o600, 0o400] {
            chmod(&private, mode);
            assert!(read_signer(&private).is_ok(), "mode {mode:o}");
        }
        chmod(&public, 0o644);
        assert!(read_verifier(&public).is_ok());
    }

    /// A reader that went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_closed_stdout_never_changes_the_status_or_loses_findings() {
        // A run whose status is neither 0 nor 2 (blocking findings), with
        // the same JSON report on stdout and in a file: if a closed stdout
        // turned into an error, the status would become 2 and the file
        // report could be cut short.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("tempdir");
        let command = |file: &std::path::Path| {
            Command::Check(CheckSettings {
                input: Input {
                    inventory: root.join("tests/fixtures/check/every-rule/inventory"),
                    policies: root.join("policies"),
                    revision: None,
                },
                base: None,
                as_of: "2026-11-25T09:00:00Z".parse().expect("time"),
                fail_on: crate::diag::Severity::Error,
                only_new: false,
                reports: vec![
                    ReportTarget {
                        format: ReportFormat::Json,
                        path: None,
                    },
                    ReportTarget {
                        format: ReportFormat::Json,
                        path: Some(file.to_path_buf()),
                    },
                ],
                step_summary: None,
                sarif_max_results: None,
            })
        };
        let open = dir.path().join("open.json");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let want = run(command(&open), &mut out, &mut err);
        assert_eq!(
            want,
            ExitStatus::Blocking,
            "{}",
            String::from_utf8_lossy(&err)
        );

        let closed = dir.path().join("closed.json");
        let mut closed_err = Vec::new();
        let got = run(command(&closed), &mut ClosedPipe, &mut closed_err);
        assert_eq!(got, want, "{}", String::from_utf8_lossy(&closed_err));
        assert_eq!(closed_err, err, "stderr is the same");
        let report = std::fs::read(&closed).expect("file report");
        assert_eq!(report, out, "the file report holds every finding");
        assert_eq!(report, std::fs::read(&open).expect("file report"));
    }

    #[test]
    fn a_closed_stdout_is_no_error_for_any_command() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let input = Input {
            inventory: root.join("inventory"),
            policies: root.join("policies"),
            revision: None,
        };
        let as_of: Timestamp = "2026-11-25T09:00:00Z".parse().expect("time");
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("log.key");
        let commands = [
            Command::Validate(ValidateSettings {
                input: input.clone(),
            }),
            Command::Explain(ExplainSettings {
                id: "person/E1011".into(),
                input: input.clone(),
                as_of,
            }),
            Command::Keygen(KeygenSettings {
                name: "test.example/log".into(),
                out: key.clone(),
            }),
            Command::Plan(PlanSettings {
                input: input.clone(),
                as_of,
                format: Format::Human,
                ledger: Some(LedgerTarget {
                    dir: dir.path().join("ledger"),
                    key: key.clone(),
                }),
            }),
            Command::Ledger(LedgerCommand::Log {
                ledger: dir.path().join("ledger"),
                filter: crate::ledger::LogFilter::default(),
                format: Format::Human,
            }),
            Command::Ledger(LedgerCommand::Verify {
                ledger: dir.path().join("ledger"),
                vkey: dir.path().join("log.key.pub"),
                checkpoints: Vec::new(),
                format: Format::Human,
            }),
            Command::Generate(crate::generate::GenerateSettings {
                people: 3,
                seed: 1,
                out: dir.path().join("generated"),
                anchor: as_of,
            }),
            Command::Check(CheckSettings {
                input: Input {
                    inventory: root.join("tests/fixtures/scenarios/s07-on-leave/inventory"),
                    ..input.clone()
                },
                base: None,
                as_of,
                fail_on: crate::diag::Severity::Error,
                only_new: false,
                reports: vec![ReportTarget {
                    format: ReportFormat::Json,
                    path: None,
                }],
                step_summary: None,
                sarif_max_results: None,
            }),
        ];
        for command in commands {
            let name = format!("{command:?}");
            let mut err = Vec::new();
            let status = run(command, &mut ClosedPipe, &mut err);
            assert_eq!(
                status,
                ExitStatus::Ok,
                "{name}: {}",
                String::from_utf8_lossy(&err)
            );
        }
    }
}
