//! The file system operations of a ledger commit, each one a step a test can
//! make fail or crash, so that recovery from a crash at every point of a
//! commit is shown by running it rather than argued. The writer uses the
//! real file system; only a test hands it a fault hook.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Creates a file, or empties an existing one.
    Create,
    /// Opens `entries.jsonl` to append to it.
    OpenAppend,
    /// Writes bytes to an open file.
    Write,
    /// Copies the first bytes of `entries.jsonl` into a new file.
    Copy,
    /// Fsyncs a file.
    Sync,
    /// Renames a file over another.
    Rename,
    /// Removes a file.
    Remove,
    /// Fsyncs a directory.
    SyncDir,
}

/// One file system operation of a commit, in the order the commit makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub op: Op,
    /// The file it changes (for a rename, the one it replaces).
    pub path: PathBuf,
}

/// What an injected fault does to a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The step fails with an I/O error and changes nothing; the writer's
    /// own error handling runs.
    Fail,
    /// The process dies just before the step: nothing of the writer runs
    /// after it.
    Crash,
    /// A write or copy stores only its first `n` bytes, then fails (a full
    /// disk, a file size limit); other steps fail as with [`Fault::Fail`].
    FailAfter(usize),
    /// A write or copy stores only its first `n` bytes, then the process
    /// dies; other steps die as with [`Fault::Crash`].
    CrashAfter(usize),
}

/// What a [`Fault::Crash`] unwinds with. A kill runs no more of the
/// writer's code; unwinding runs only destructors, and the writer's only
/// close files and release the lock, as the kernel does for a killed
/// process. A test catches it with [`std::panic::catch_unwind`].
#[derive(Debug)]
pub struct Crashed;

/// Called before each step; `None` lets the step run.
pub type Hook<'h> = &'h mut dyn FnMut(&Step) -> Option<Fault>;

/// The file system as a commit sees it.
pub(crate) struct Disk<'h> {
    hook: Option<Hook<'h>>,
}

impl<'h> Disk<'h> {
    /// The real file system, or one with faults.
    pub(crate) fn new(hook: Option<Hook<'h>>) -> Disk<'h> {
        Disk { hook }
    }

    fn fault(&mut self, op: Op, path: &Path) -> Option<Fault> {
        let hook = self.hook.as_mut()?;
        hook(&Step {
            op,
            path: path.to_path_buf(),
        })
    }

    /// Runs a step that has no partial form.
    fn step<T>(
        &mut self,
        op: Op,
        path: &Path,
        real: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        match self.fault(op, path) {
            None => real(),
            Some(Fault::Fail | Fault::FailAfter(_)) => Err(injected()),
            Some(Fault::Crash | Fault::CrashAfter(_)) => crash(),
        }
    }

    pub(crate) fn create(&mut self, path: &Path) -> io::Result<File> {
        self.step(Op::Create, path, || File::create(path))
    }

    pub(crate) fn open_append(&mut self, path: &Path) -> io::Result<File> {
        self.step(Op::OpenAppend, path, || {
            OpenOptions::new().create(true).append(true).open(path)
        })
    }

    pub(crate) fn write(&mut self, file: &mut File, path: &Path, bytes: &[u8]) -> io::Result<()> {
        match self.fault(Op::Write, path) {
            None => file.write_all(bytes),
            Some(fault) => partial(fault, || file.write_all(&bytes[..cut(fault, bytes.len())])),
        }
    }

    /// Copies the first `len` bytes of `from` to the end of `to`.
    pub(crate) fn copy(
        &mut self,
        from: &Path,
        len: u64,
        to: &mut File,
        path: &Path,
    ) -> io::Result<()> {
        let mut copy = |len: u64| {
            let copied = io::copy(&mut File::open(from)?.take(len), to)?;
            if copied == len {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("`{}` is shorter than {len} bytes", from.display()),
                ))
            }
        };
        match self.fault(Op::Copy, path) {
            None => copy(len),
            Some(fault) => partial(fault, || {
                copy(cut(fault, usize::try_from(len).unwrap_or(usize::MAX)) as u64)
            }),
        }
    }

    /// Fsyncs a file: its data and size only for `entries.jsonl`, which is
    /// only ever appended to, everything for the rest.
    pub(crate) fn sync(&mut self, file: &File, path: &Path, data_only: bool) -> io::Result<()> {
        self.step(Op::Sync, path, || {
            if data_only {
                file.sync_data()
            } else {
                file.sync_all()
            }
        })
    }

    pub(crate) fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.step(Op::Rename, to, || std::fs::rename(from, to))
    }

    pub(crate) fn remove(&mut self, path: &Path) -> io::Result<()> {
        self.step(Op::Remove, path, || std::fs::remove_file(path))
    }

    /// Fsyncs a directory, so that the names created, renamed or removed in
    /// it last.
    pub(crate) fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.step(Op::SyncDir, dir, || File::open(dir)?.sync_all())
    }
}

fn injected() -> io::Error {
    io::Error::other("injected failure")
}

fn crash<T>() -> T {
    // `resume_unwind`, not `panic!`: no panic hook runs, so a test's output
    // holds no panic message for a crash it asked for.
    std::panic::resume_unwind(Box::new(Crashed))
}

/// How many of `len` bytes a fault lets through.
fn cut(fault: Fault, len: usize) -> usize {
    match fault {
        Fault::FailAfter(n) | Fault::CrashAfter(n) => n.min(len),
        Fault::Fail | Fault::Crash => 0,
    }
}

/// Lets a write's first bytes through, then fails or crashes.
fn partial(fault: Fault, first: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    if cut(fault, usize::MAX) > 0 {
        first()?;
    }
    match fault {
        Fault::Fail | Fault::FailAfter(_) => Err(injected()),
        Fault::Crash | Fault::CrashAfter(_) => crash(),
    }
}
