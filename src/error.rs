//! Errors that stop a run before it can judge anything ("could not run").
//! Problems in the user's records and policies are findings
//! ([`crate::diag::Diagnostic`]), not errors.

use miette::Diagnostic;
use thiserror::Error;

/// A run could not proceed.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A path that must be a directory is not.
    #[error(transparent)]
    #[diagnostic(transparent)]
    NotADirectory(#[from] NotADirectory),
    /// A directory could not be walked.
    #[error(transparent)]
    #[diagnostic(transparent)]
    ReadDir(#[from] ReadDir),
    /// A required file could not be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    ReadFile(#[from] ReadFile),
    /// An explained record does not exist.
    #[error(transparent)]
    #[diagnostic(transparent)]
    UnknownRecord(#[from] UnknownRecord),
    /// Cedar refused to build the entity store.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Entities(#[from] Entities),
    /// Output could not be written.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Write(#[from] Write),
    /// A key file could not be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Key(#[from] Key),
    /// A private key file is readable by others.
    #[error(transparent)]
    #[diagnostic(transparent)]
    KeyExposed(#[from] KeyExposed),
    /// The ledger could not be written or read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ledger(#[from] Ledger),
    /// A synthetic organisation could not be written.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Generate(#[from] Generate),
    /// An audit's period or subject selects nothing that could be reported.
    #[error(transparent)]
    #[diagnostic(transparent)]
    AuditScope(#[from] AuditScope),
    /// The ledger on disk failed an integrity check; nothing was written.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Integrity(#[from] Integrity),
    /// `git` could not be started to read at a revision.
    #[error(transparent)]
    #[diagnostic(transparent)]
    GitUnavailable(#[from] GitUnavailable),
    /// A directory to read at a revision is not in a git work tree.
    #[error(transparent)]
    #[diagnostic(transparent)]
    NotInRepository(#[from] NotInRepository),
    /// A revision does not name a commit.
    #[error(transparent)]
    #[diagnostic(transparent)]
    GitRevision(#[from] GitRevision),
    /// A directory does not exist at the revision read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    NotADirectoryAtRevision(#[from] NotADirectoryAtRevision),
    /// The index holds an unresolved conflict.
    #[error(transparent)]
    #[diagnostic(transparent)]
    IndexConflict(#[from] IndexConflict),
    /// Git failed, or answered unexpectedly, while reading a commit.
    #[error(transparent)]
    #[diagnostic(transparent)]
    GitRead(#[from] GitRead),
    /// A report file could not be written.
    #[error(transparent)]
    #[diagnostic(transparent)]
    ReportFile(#[from] ReportFile),
    /// Options that cannot be used together.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] Usage),
    /// A side of a comparison does not validate.
    #[error(transparent)]
    #[diagnostic(transparent)]
    RevisionInvalid(#[from] RevisionInvalid),
}

/// A key file could not be used. The message never quotes the key.
#[derive(Debug, Error, Diagnostic)]
#[error("key `{path}`: {message}")]
#[diagnostic(
    code(severance::key),
    help("create keys with `severance keygen --name ORIGIN --out FILE`")
)]
pub struct Key {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A private key file that its group or others can read.
#[derive(Debug, Error, Diagnostic)]
#[error(
    "key `{path}`: the private key is readable by its group or others (mode {mode}); it must be readable by its owner only"
)]
#[diagnostic(
    code(severance::key),
    help(
        "run `chmod 600 {path}`; if others may have read it, make a new key with `severance keygen`"
    )
)]
pub struct KeyExposed {
    pub(crate) path: String,
    pub(crate) mode: String,
}

/// The ledger could not be written or read.
#[derive(Debug, Error, Diagnostic)]
#[error("ledger `{path}`: {message}")]
#[diagnostic(code(severance::ledger))]
pub struct Ledger {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// The ledger failed an integrity check.
#[derive(Debug, Error, Diagnostic)]
#[error("ledger `{path}`: {message}")]
#[diagnostic(
    code(severance::integrity),
    help(
        "run `severance ledger verify` to see every failure; restore the ledger from a copy you trust"
    )
)]
pub struct Integrity {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A path that must be a directory is not.
#[derive(Debug, Error, Diagnostic)]
#[error("`{path}` is not a directory")]
#[diagnostic(
    code(severance::not_a_directory),
    help(
        "pass `--inventory DIR` and `--policies DIR`, or run from a directory holding `inventory/` and `policies/`"
    )
)]
pub struct NotADirectory {
    pub(crate) path: String,
}

/// A directory could not be walked.
#[derive(Debug, Error, Diagnostic)]
#[error("could not read directory `{path}`: {message}")]
#[diagnostic(code(severance::read_dir))]
pub struct ReadDir {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A required file could not be read.
#[derive(Debug, Error, Diagnostic)]
#[error("could not read `{path}`: {message}")]
#[diagnostic(code(severance::read_file))]
pub struct ReadFile {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// An audit's period is empty by construction, or its subject is in no
/// decision: a report of zeros would read as a clean bill of health.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(severance::audit_scope))]
pub struct AuditScope {
    pub(crate) message: String,
    #[help]
    pub(crate) help: String,
}

/// An explained record does not exist.
#[derive(Debug, Error, Diagnostic)]
#[error("no record has id `{id}`")]
#[diagnostic(code(severance::unknown_record))]
pub struct UnknownRecord {
    pub(crate) id: String,
    #[help]
    pub(crate) suggestion: Option<String>,
}

/// Cedar refused to build the entity store; a bug or a schema that does not
/// match the inventory format.
#[derive(Debug, Error, Diagnostic)]
#[error("could not build the Cedar entities: {message}")]
#[diagnostic(
    code(severance::entities),
    help(
        "the schema in `policies/schema.cedarschema` must declare every attribute listed in `docs/policies.md`"
    )
)]
pub struct Entities {
    pub(crate) message: String,
}

/// Output could not be written.
#[derive(Debug, Error, Diagnostic)]
#[error("could not write output: {message}")]
#[diagnostic(code(severance::write))]
pub struct Write {
    pub(crate) message: String,
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Write {
            message: e.to_string(),
        }
        .into()
    }
}

/// A synthetic organisation could not be written.
#[derive(Debug, Error, Diagnostic)]
#[error("could not generate into `{path}`: {message}")]
#[diagnostic(code(severance::generate))]
pub struct Generate {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// `git` could not be started to read at a revision.
#[derive(Debug, Error, Diagnostic)]
#[error("could not run `{program}`: {message}")]
#[diagnostic(
    code(severance::git_unavailable),
    help(
        "reading at a revision needs `git` on the `PATH`; without a revision the working tree is read"
    )
)]
pub struct GitUnavailable {
    pub(crate) program: String,
    pub(crate) message: String,
}

/// A directory to read at a revision is not in a git work tree.
#[derive(Debug, Error, Diagnostic)]
#[error("`{path}` is not in a git repository: {message}")]
#[diagnostic(
    code(severance::not_in_repository),
    help(
        "a revision or the index is read from the repository whose work tree holds the directory"
    )
)]
pub struct NotInRepository {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A revision does not name a commit.
#[derive(Debug, Error, Diagnostic)]
#[error("`{rev}` is not a commit in `{repo}`: {message}")]
#[diagnostic(
    code(severance::git_revision),
    help("pass a branch, a tag, a commit id or an expression such as `HEAD~1`")
)]
pub struct GitRevision {
    pub(crate) repo: String,
    pub(crate) rev: String,
    pub(crate) message: String,
}

/// A directory does not exist at the revision read (or in the index).
#[derive(Debug, Error, Diagnostic)]
#[error("`{path}` is not a directory in {at}")]
#[diagnostic(
    code(severance::not_a_directory_at_revision),
    help(
        "pass the directory as it is named in the working tree; at a revision it must hold files in that commit, in the index staged files"
    )
)]
pub struct NotADirectoryAtRevision {
    pub(crate) path: String,
    /// `revision `main` (commit …)`, or `the index`.
    pub(crate) at: String,
}

/// The index holds a conflict, so it is not yet what a commit will hold.
#[derive(Debug, Error, Diagnostic)]
#[error("`{path}` has an unresolved merge conflict in the index of `{repo}`")]
#[diagnostic(
    code(severance::index_conflict),
    help("resolve the conflict and stage the result (`git add`), then run again")
)]
pub struct IndexConflict {
    pub(crate) repo: String,
    pub(crate) path: String,
}

/// Git failed, or answered unexpectedly, while reading a commit.
#[derive(Debug, Error, Diagnostic)]
#[error("could not read from the git repository `{repo}`: {message}")]
#[diagnostic(code(severance::git_read))]
pub struct GitRead {
    pub(crate) repo: String,
    pub(crate) message: String,
}

/// A report file could not be written; nothing was left half-written.
#[derive(Debug, Error, Diagnostic)]
#[error("could not write the report `{path}`: {message}")]
#[diagnostic(code(severance::report_file))]
pub struct ReportFile {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Options that cannot be used together.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(severance::usage))]
pub struct Usage {
    pub(crate) message: String,
    #[help]
    pub(crate) help: Option<String>,
}

/// A side of a comparison does not validate, so nothing can be compared
/// with it; its findings are reported before this error.
#[derive(Debug, Error, Diagnostic)]
#[error(
    "the {side} `{revision}` does not validate ({errors} error{plural}); there is nothing to compare"
)]
#[diagnostic(
    code(severance::revision_invalid),
    help("fix the findings above, or compare with another revision")
)]
pub struct RevisionInvalid {
    pub(crate) side: &'static str,
    pub(crate) revision: String,
    pub(crate) errors: usize,
    pub(crate) plural: &'static str,
}
