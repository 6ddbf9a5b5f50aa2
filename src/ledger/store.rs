//! The ledger directory on disk and the one way to write it: under an
//! exclusive lock, recover what a crashed write left (roll its seal forward
//! where its signed marker vouches for its lines, cut off what nothing
//! vouches for, remove its temporary files, and record all of it in a
//! `recovery` entry), refuse anything that does not extend the last signed
//! checkpoint, append all new lines in one write, fsync, then seal a new
//! checkpoint through a temporary file and a rename.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::Recorded;
use super::codes::FailureCode;
use super::disk::{Disk, Hook};
use super::entry::{self, Body, Entry, Genesis, Recovery as RecoveryEntry, Tag};
use super::merkle::{self, GENESIS_HASH, Hash};
use super::note::{self, Checkpoint, SignatureCheck, SignerKey};

/// `entries.jsonl`.
pub const ENTRIES: &str = "entries.jsonl";
/// The latest checkpoint.
pub const CHECKPOINT: &str = "checkpoint";
/// Every checkpoint ever signed, by size.
pub const CHECKPOINTS: &str = "checkpoints";
const LOCK: &str = ".lock";
/// The signed size and root a write is about to append, so that a crash
/// between append and seal can be told from lines someone else added.
const PENDING: &str = ".pending";
/// What a commit writes `entries.jsonl` through when it cuts lines off.
const ENTRIES_TMP: &str = ".entries.jsonl.tmp";

/// Why a write was refused.
#[derive(Debug)]
pub enum WriteError {
    /// The file system failed (an fsync failure included: it is fatal).
    Io(String),
    /// The ledger on disk is not one this key may extend.
    Integrity(String),
    /// The request itself is wrong (unknown decision, untrusted approver).
    Refused(String),
}

fn io(context: &str, path: &Path) -> impl Fn(std::io::Error) -> WriteError {
    let msg = format!("{context} `{}`", path.display());
    move |e| WriteError::Io(format!("{msg}: {e}"))
}

/// The complete lines of a ledger and what follows the last newline.
#[derive(Default)]
pub struct Contents {
    /// Every complete line, each with its newline.
    text: String,
    /// Bytes after the last newline (a torn line), if any; for a writer,
    /// every byte after the lines it keeps.
    pub torn: Vec<u8>,
}

impl Contents {
    /// The complete lines, without their newlines, borrowed from the one
    /// text read.
    pub fn lines(&self) -> Vec<&str> {
        use rayon::prelude::*;
        self.text.par_split_terminator('\n').collect()
    }

    /// Whether there is no complete line.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The bytes of the complete lines, newlines included.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// The first `lines` complete lines; every byte after them becomes the
    /// tail to cut off.
    fn keep(self, lines: usize) -> Contents {
        let at: usize = self
            .text
            .split_inclusive('\n')
            .take(lines)
            .map(str::len)
            .sum();
        let mut text = self.text;
        let mut tail = text.split_off(at).into_bytes();
        tail.extend_from_slice(&self.torn);
        Contents { text, torn: tail }
    }
}

/// Reads `entries.jsonl` (empty when absent). Lines must be UTF-8.
pub fn read_entries(dir: &Path) -> Result<Option<Contents>, String> {
    let path = dir.join(ENTRIES);
    let mut bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("could not read `{}`: {e}", path.display())),
    };
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = bytes.split_off(end);
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("`{}` is not UTF-8: {}", path.display(), e.utf8_error()))?;
    Ok(Some(Contents { text, torn }))
}

/// A write in progress; dropping it without [`Writer::commit`] writes nothing.
pub struct Writer<'k> {
    dir: PathBuf,
    key: &'k SignerKey,
    _lock: File,
    /// What the writer keeps of each existing complete line.
    pub existing: Vec<Recorded>,
    leaves: Vec<Hash>,
    /// The bytes of the existing lines kept; anything after them in
    /// `entries.jsonl` is cut off by the commit.
    existing_len: usize,
    new_lines: Vec<String>,
    recovery: Recovery,
}

/// What a writer found left by a write that did not finish, and does about it.
#[derive(Default)]
struct Recovery {
    /// What it found, as the `recovery` entry's `found` names it.
    found: Vec<&'static str>,
    /// The largest size a valid checkpoint signs.
    sealed: u64,
    /// The size up to which lines are kept: `sealed`, or more where the
    /// signed marker of the interrupted write vouches for exactly them.
    vouched: u64,
    /// Whether anything after the kept lines is cut off.
    cut: bool,
    /// Temporary files to remove once the commit has sealed.
    temporary: Vec<PathBuf>,
}

/// Why a `recovery` entry is written; `docs/ledger.md` §6 explains each.
mod found {
    pub const CHECKPOINT_BEHIND: &str = "checkpoint-behind";
    pub const PENDING_MARKER: &str = "pending-marker";
    pub const TEMPORARY_FILES: &str = "temporary-files";
    pub const TORN_TAIL: &str = "torn-tail";
    pub const UNVOUCHED_LINES: &str = "unvouched-lines";
    pub const VOUCHED_TAIL: &str = "vouched-tail";
}

impl<'k> Writer<'k> {
    /// Opens (or creates) a ledger for writing with `key`, at time `ts`,
    /// recovering from a write that did not finish: see `docs/ledger.md` §6.
    pub fn open(dir: &Path, key: &'k SignerKey, ts: &str) -> Result<Writer<'k>, WriteError> {
        std::fs::create_dir_all(dir.join(CHECKPOINTS)).map_err(io("could not create", dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("could not open", &lock_path))?;
        lock.lock().map_err(io("could not lock", &lock_path))?;

        let verifier = key.verifier();
        let pending = read_pending(dir, &verifier)?;
        let mut recovery = Recovery {
            temporary: temporary_files(dir)?,
            ..Recovery::default()
        };
        let contents = read_entries(dir)
            .map_err(WriteError::Integrity)?
            .unwrap_or_default();
        if !contents.torn.is_empty() {
            recovery.found.push(found::TORN_TAIL);
        }
        let (contents, checked) = if contents.is_empty() {
            (contents, None)
        } else {
            // One read, one parse: the auditor's checks also hand back the
            // parsed entries and leaf hashes the writer extends.
            let checked = super::verify::check(dir, &contents, &verifier, &[]);
            refuse_another_key(&checked.report, &verifier)?;
            let (size, sealed) = (checked.report.size, checked.report.sealed);
            let tree = merkle::Tree::new(&checked.leaves);
            let vouched = pending
                .as_ref()
                .filter(|p| {
                    p.size > sealed
                        && p.size <= size
                        && tree.root(usize::try_from(p.size).unwrap_or(usize::MAX)) == Some(p.root)
                })
                .map_or(sealed, |p| p.size);
            recovery.sealed = sealed;
            recovery.vouched = vouched;
            if vouched == size {
                (contents, Some(checked))
            } else if pending.is_none() {
                // No write of this key was interrupted: someone else
                // appended these lines, and they are refused, not sealed.
                refuse_failures(&checked.report)?;
                return Err(WriteError::Integrity(format!(
                    "entries {}..{} are not sealed and this writer did not write them; refusing to sign them",
                    sealed + 1,
                    size
                )));
            } else {
                // A write of this key was interrupted before its lines were
                // all written: nothing vouches for the ones that were, so
                // they go, and only what is kept is checked again.
                recovery.found.push(found::UNVOUCHED_LINES);
                let kept = contents.keep(usize::try_from(vouched).unwrap_or(usize::MAX));
                let checked =
                    (!kept.is_empty()).then(|| super::verify::check(dir, &kept, &verifier, &[]));
                (kept, checked)
            }
        };
        let (existing, leaves) = match checked {
            Some(checked) => {
                refuse_failures(&checked.report)?;
                if checkpoint_behind(&checked.report) {
                    recovery.found.push(found::CHECKPOINT_BEHIND);
                }
                (checked.entries, checked.leaves)
            }
            None => {
                if has_checkpoints(dir) {
                    return Err(WriteError::Integrity(
                        "checkpoints exist but the entries are gone; restore the ledger".into(),
                    ));
                }
                (Vec::new(), Vec::new())
            }
        };
        if recovery.vouched > recovery.sealed {
            recovery.found.push(found::VOUCHED_TAIL);
        }
        if pending.is_some() {
            recovery.found.push(found::PENDING_MARKER);
        }
        if !recovery.temporary.is_empty() {
            recovery.found.push(found::TEMPORARY_FILES);
        }
        recovery.found.sort_unstable();
        let existing_len = contents.len();
        let discarded = contents.torn;
        recovery.cut = !discarded.is_empty();
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            key,
            _lock: lock,
            existing,
            leaves,
            existing_len,
            new_lines: Vec::new(),
            recovery,
        };
        if writer.existing.is_empty() {
            writer.push(
                Body::Genesis(Genesis {
                    key: key.verifier().encode(),
                }),
                ts,
            )?;
        }
        if !writer.recovery.found.is_empty() {
            let discarded_lines = discarded.iter().filter(|&&b| b == b'\n').count();
            let found = writer.recovery.found.iter().map(|f| f.to_string());
            writer.push(
                Body::Recovery(RecoveryEntry {
                    found: found.collect(),
                    sealed: writer.recovery.sealed,
                    discarded_lines: discarded_lines as u64,
                    discarded_bytes: discarded.len() as u64,
                    discarded_digest: Tag::digest(&discarded),
                }),
                ts,
            )?;
        }
        Ok(writer)
    }

    /// What a recovering open found, as its `recovery` entry names it
    /// (empty when the last write finished).
    pub fn recovered(&self) -> &[&'static str] {
        &self.recovery.found
    }

    /// The log's origin (the key's name).
    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// The sequence number the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Appends an entry body (it gets `v`, `seq`, `prev`, `log`, `ts`) and
    /// returns its leaf hash.
    pub fn push(&mut self, body: Body, ts: &str) -> Result<Tag, WriteError> {
        let prev = self.leaves.last().copied().unwrap_or(GENESIS_HASH);
        let line = Entry::new(body, self.next_seq(), prev, self.key.name(), ts).line();
        checked(&line)?;
        let leaf = merkle::leaf(line.as_bytes());
        self.leaves.push(leaf);
        self.new_lines.push(line);
        Ok(Tag(leaf))
    }

    /// Appends entry bodies in order, as [`Writer::push`] would one by one.
    /// Each line names the leaf hash of the line before, so the chain is
    /// sequential; but all the rest of the work (the envelope, the schema
    /// check, the canonical text) is not, so it runs on both cores with a
    /// stand-in `prev` of the same length, and the chain is then made by
    /// writing each real `prev` over its stand-in and hashing the line. A
    /// line in which the stand-in member is not found exactly once (a body
    /// could hold the same text under a key of its own) is encoded again
    /// with its real `prev` instead.
    pub fn push_all(&mut self, bodies: Vec<Body>, ts: &str) -> Result<(), WriteError> {
        use rayon::prelude::*;
        const STAND_IN: Hash = [0xff; 32];
        const MEMBER: &str = "\"prev\":\"";
        let first = self.next_seq();
        let log = self.key.name();
        let stand_in = merkle::tag(&STAND_IN);
        let member = format!("{MEMBER}{stand_in}\"");
        let lines: Vec<(String, Result<usize, Entry>)> = bodies
            .into_par_iter()
            .enumerate()
            .map(|(i, body)| {
                let entry = Entry::new(body, first + i as u64, STAND_IN, log, ts);
                let line = entry.line();
                checked(&line)?;
                let mut found = line.match_indices(&member);
                let place = match (found.next(), found.next()) {
                    (Some((at, _)), None) => Ok(at + MEMBER.len()),
                    _ => Err(entry),
                };
                Ok((line, place))
            })
            .collect::<Result<_, WriteError>>()?;
        for (mut line, place) in lines {
            let prev = self.leaves.last().copied().unwrap_or(GENESIS_HASH);
            match place {
                Ok(at) => line.replace_range(at..at + stand_in.len(), &merkle::tag(&prev)),
                Err(mut entry) => {
                    entry.envelope.prev = Tag(prev);
                    line = entry.line();
                }
            }
            let leaf = merkle::leaf(line.as_bytes());
            self.leaves.push(leaf);
            self.new_lines.push(line);
        }
        Ok(())
    }

    /// The leaf hash of an existing entry.
    pub fn leaf_of(&self, seq: usize) -> Option<Tag> {
        self.leaves.get(seq).copied().map(Tag)
    }

    /// Writes the new lines and seals a checkpoint over the whole log.
    pub fn commit(self) -> Result<Sealed, WriteError> {
        self.commit_with(None)
    }

    /// [`Writer::commit`], with a hook that can make any of its file system
    /// steps fail or crash: how the tests show that a writer recovers from
    /// a crash at every point of a commit.
    #[doc(hidden)]
    pub fn commit_with(self, hook: Option<Hook<'_>>) -> Result<Sealed, WriteError> {
        let mut disk = Disk::new(hook);
        let size = self.leaves.len() as u64;
        let tree = merkle::Tree::new(&self.leaves);
        let root = tree
            .root(self.leaves.len())
            .unwrap_or_else(|| merkle::root(&self.leaves));
        let text = note::sign_checkpoint(self.key, size, &root);
        // Refuse before writing anything if the size was ever signed differently.
        let numbered = self.dir.join(CHECKPOINTS).join(size.to_string());
        match std::fs::read(&numbered) {
            Ok(old) if old == text.as_bytes() => {}
            Ok(_) => {
                return Err(WriteError::Integrity(format!(
                    "`{}` already holds a different checkpoint; checkpoints are never rewritten",
                    numbered.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(WriteError::Io(format!(
                    "could not read `{}`: {e}",
                    numbered.display()
                )));
            }
        }
        let recovery = &self.recovery;
        if recovery.vouched > recovery.sealed {
            // The interrupted write's lines are sealed before its marker is
            // replaced below: once it is, nothing would vouch for them.
            let vouched = usize::try_from(recovery.vouched).unwrap_or(usize::MAX);
            let vouched_root = tree.root(vouched).unwrap_or_else(|| merkle::root(&[]));
            atomic_write(
                &mut disk,
                &self
                    .dir
                    .join(CHECKPOINTS)
                    .join(recovery.vouched.to_string()),
                &note::sign_checkpoint(self.key, recovery.vouched, &vouched_root),
            )?;
        }
        let pending = self.dir.join(PENDING);
        atomic_write(&mut disk, &pending, &text)?;

        let entries_path = self.dir.join(ENTRIES);
        let mut buf = String::new();
        for line in &self.new_lines {
            buf.push_str(line);
            buf.push('\n');
        }
        if recovery.cut {
            // Lines are cut off by writing the kept ones and the new ones to
            // a new file that is renamed over the old: truncating in place
            // and then appending would, if killed in between, lose the cut
            // bytes with no `recovery` entry to say so.
            let tmp = self.dir.join(ENTRIES_TMP);
            let mut file = disk.create(&tmp).map_err(io("could not create", &tmp))?;
            disk.copy(&entries_path, self.existing_len as u64, &mut file, &tmp)
                .map_err(io("could not copy into", &tmp))?;
            disk.write(&mut file, &tmp, buf.as_bytes())
                .map_err(io("could not write", &tmp))?;
            disk.sync(&file, &tmp, false)
                .map_err(io("could not fsync", &tmp))?;
            disk.rename(&tmp, &entries_path)
                .map_err(io("could not rename into", &entries_path))?;
            disk.sync_dir(&self.dir)
                .map_err(io("could not fsync directory", &self.dir))?;
        } else {
            let created = !entries_path.exists();
            let mut file = disk
                .open_append(&entries_path)
                .map_err(io("could not open", &entries_path))?;
            disk.write(&mut file, &entries_path, buf.as_bytes())
                .map_err(io("could not append to", &entries_path))?;
            disk.sync(&file, &entries_path, true)
                .map_err(io("could not fsync", &entries_path))?;
            if created {
                // A new file's name is durable only once its directory is.
                disk.sync_dir(&self.dir)
                    .map_err(io("could not fsync directory", &self.dir))?;
            }
        }

        if !numbered.exists() {
            atomic_write(&mut disk, &numbered, &text)?;
        }
        atomic_write(&mut disk, &self.dir.join(CHECKPOINT), &text)?;
        // Temporary files of the interrupted write that this one did not
        // reuse; removing them is not urgent, so their directory is not
        // synced for it.
        for tmp in &recovery.temporary {
            if tmp.exists() {
                disk.remove(tmp).map_err(io("could not remove", tmp))?;
            }
        }
        disk.remove(&pending)
            .map_err(io("could not remove", &pending))?;
        disk.sync_dir(&self.dir)
            .map_err(io("could not fsync directory", &self.dir))?;
        Ok(Sealed {
            size,
            root,
            written: self.new_lines.len(),
            checkpoint: text,
            recovered: self.recovery.found.clone(),
        })
    }
}

/// Refuses a new line that would not pass the verifier's schema check.
fn checked(line: &str) -> Result<(), WriteError> {
    entry::check_line(line)
        .map(drop)
        .map_err(|m| WriteError::Refused(format!("the new entry would not pass verification: {m}")))
}

fn has_checkpoints(dir: &Path) -> bool {
    dir.join(CHECKPOINT).exists()
        || std::fs::read_dir(dir.join(CHECKPOINTS))
            .map(|mut d| {
                d.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')))
            })
            .unwrap_or(false)
}

/// Refuses a ledger begun with another key.
fn refuse_another_key(
    report: &super::verify::Report,
    verifier: &note::VerifierKey,
) -> Result<(), WriteError> {
    if report
        .failures
        .iter()
        .any(|f| f.code == FailureCode::GenesisKeyMismatch)
    {
        return Err(WriteError::Integrity(format!(
            "this ledger was started with another key; `{}` may not extend it",
            verifier.short()
        )));
    }
    Ok(())
}

/// Refuses to extend anything this key did not sign: the ledger must pass
/// the auditor's own checks, but for an unsealed or torn tail, which the
/// caller deals with.
fn refuse_failures(report: &super::verify::Report) -> Result<(), WriteError> {
    if let Some(f) = report
        .failures
        .iter()
        .find(|f| f.code != FailureCode::UnsealedTail && f.code != FailureCode::TornTail)
    {
        return Err(WriteError::Integrity(format!(
            "the ledger fails verification (`{}` at {}: {}); refusing to sign; run `severance ledger verify` and restore it",
            f.code, f.place, f.message
        )));
    }
    Ok(())
}

/// Whether `checkpoint` is missing or signs less than the largest of
/// `checkpoints/`: what a write killed between its two renames leaves.
fn checkpoint_behind(report: &super::verify::Report) -> bool {
    let mut latest = None;
    let mut largest = None;
    for c in &report.checkpoints {
        if c.source == CHECKPOINT {
            latest = c.size;
        } else if c.source.starts_with(CHECKPOINTS) {
            largest = largest.max(c.size);
        }
    }
    largest > latest
}

/// The pending marker a write of this key left, if any. Only this key's
/// signature makes it one: a marker that is not is refused, as a crash
/// cannot make it (it is written through a rename).
fn read_pending(
    dir: &Path,
    verifier: &note::VerifierKey,
) -> Result<Option<Checkpoint>, WriteError> {
    let path = dir.join(PENDING);
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("could not read", &path)(e)),
    };
    String::from_utf8(text)
        .ok()
        .and_then(|t| Checkpoint::parse(&t).ok())
        .filter(|cp| {
            cp.origin == verifier.name
                && note::check_signature(cp, verifier) == SignatureCheck::Valid
        })
        .map(Some)
        .ok_or_else(|| {
            WriteError::Integrity(format!(
                "`{}` is not a checkpoint signed by `{}`; a writer of this key did not leave it",
                path.display(),
                verifier.short()
            ))
        })
}

/// Whether a file name is one of a writer's temporary files (`.<name>.tmp`).
fn is_temporary(name: &str) -> bool {
    name.len() > ".tmp".len() + 1 && name.starts_with('.') && name.ends_with(".tmp")
}

/// The temporary files an interrupted write left, in the ledger directory
/// and in `checkpoints/`.
fn temporary_files(dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut found = Vec::new();
    for d in [dir.to_path_buf(), dir.join(CHECKPOINTS)] {
        let read = std::fs::read_dir(&d).map_err(io("could not read", &d))?;
        for e in read {
            let e = e.map_err(io("could not read", &d))?;
            if is_temporary(&e.file_name().to_string_lossy())
                && e.file_type().is_ok_and(|t| t.is_file())
            {
                found.push(e.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// What a commit sealed.
#[derive(Debug)]
pub struct Sealed {
    /// Entries in the log.
    pub size: u64,
    /// The root over all of them.
    pub root: Hash,
    /// How many entries this write added.
    pub written: usize,
    /// The signed checkpoint.
    pub checkpoint: String,
    /// What this write recovered from, as its `recovery` entry names it
    /// (empty when the last write had finished).
    pub recovered: Vec<&'static str>,
}

/// Writes a file through a temporary file, fsyncs it, renames it into
/// place and fsyncs the directory, so a crash leaves the old or the new
/// file, never half of one (and maybe the temporary file, which the next
/// writer removes).
fn atomic_write(disk: &mut Disk<'_>, path: &Path, text: &str) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = disk.create(&tmp).map_err(io("could not create", &tmp))?;
    disk.write(&mut f, &tmp, text.as_bytes())
        .map_err(io("could not write", &tmp))?;
    disk.sync(&f, &tmp, false)
        .map_err(io("could not fsync", &tmp))?;
    disk.rename(&tmp, path)
        .map_err(io("could not rename into", path))?;
    disk.sync_dir(dir)
        .map_err(io("could not fsync directory", dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `push_all` writes the same bytes as `push` one entry at a time, even
    /// when a body holds the stand-in text under a `prev` key of its own.
    #[test]
    fn pushing_all_at_once_writes_what_pushing_one_by_one_does() {
        let key = SignerKey::from_seed("test.example/ledger", [7u8; 32]);
        let ts = "2026-11-25T09:00:00Z";
        let decision = |subject: &str| {
            Body::Decision(entry::Decision {
                run: Tag([0xaa; 32]),
                body: entry::DecisionBody {
                    actions: vec!["revoke".into()],
                    policies: [("revoke".into(), vec!["p".into()])].into(),
                    status: "ok".into(),
                    ..entry::DecisionBody::absent(subject, "account")
                },
            })
        };
        // A body that holds the stand-in under a `prev` key of its own.
        let tricky = Body::Verification(entry::Verification {
            decision: Tag([0xbb; 32]),
            method: "re-read".into(),
            observed: [("prev".into(), merkle::tag(&[0xff; 32]))].into(),
        });
        let bodies = vec![decision("account/a"), tricky, decision("account/b")];

        let one = tempfile::tempdir().expect("tempdir");
        let mut w = Writer::open(one.path(), &key, ts).expect("open");
        for body in bodies.clone() {
            w.push(body, ts).expect("push");
        }
        let by_one = (w.new_lines.clone(), w.leaves.clone());

        let all = tempfile::tempdir().expect("tempdir");
        let mut w = Writer::open(all.path(), &key, ts).expect("open");
        w.push_all(bodies, ts).expect("push_all");
        assert_eq!((w.new_lines.clone(), w.leaves.clone()), by_one);
        assert!(w.new_lines[2].contains("\"observed\":{\"prev\":\"sha256:fff"));
    }
}
