//! The ledger directory on disk and the one way to write it: under an
//! exclusive lock, recover a torn tail, refuse anything that does not extend
//! the last signed checkpoint, append all new lines in one write, fsync,
//! then seal a new checkpoint through a temporary file and a rename.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::entry::{self, with_envelope};
use super::jcs;
use super::merkle::{self, GENESIS_PREV, Hash};
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
    /// Bytes after the last newline (a torn line), if any.
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
    /// Existing complete lines, parsed.
    pub existing: Vec<Value>,
    leaves: Vec<Hash>,
    existing_len: usize,
    new_lines: Vec<String>,
    torn: Vec<u8>,
}

impl<'k> Writer<'k> {
    /// Opens (or creates) a ledger for writing with `key`, at time `ts`.
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

        let contents = read_entries(dir)
            .map_err(WriteError::Integrity)?
            .unwrap_or_default();
        let (existing, leaves) = if contents.is_empty() {
            if has_checkpoints(dir) {
                return Err(WriteError::Integrity(
                    "checkpoints exist but the entries are gone; restore the ledger".into(),
                ));
            }
            (Vec::new(), Vec::new())
        } else {
            // One read, one parse: the auditor's checks also hand back the
            // parsed entries and leaf hashes the writer extends.
            let checked = super::verify::check(dir, &contents, &key.verifier(), &[]);
            check_extension(dir, key, &checked)?;
            (checked.entries, checked.leaves)
        };
        let existing_len = contents.len();
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            key,
            _lock: lock,
            existing,
            leaves,
            existing_len,
            new_lines: Vec::new(),
            torn: contents.torn,
        };
        if writer.existing.is_empty() {
            writer.push(
                json!({"type": "genesis", "key": key.verifier().encode()}),
                ts,
            )?;
        }
        if !writer.torn.is_empty() {
            let discarded_digest = merkle::digest_tag(&writer.torn);
            writer.push(
                json!({
                    "type": "recovery",
                    "discarded_bytes": writer.torn.len(),
                    "discarded_digest": discarded_digest,
                }),
                ts,
            )?;
        }
        Ok(writer)
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
    /// returns its leaf hash as `sha256:…`.
    pub fn push(&mut self, body: Value, ts: &str) -> Result<String, WriteError> {
        let prev = self
            .leaves
            .last()
            .map_or(GENESIS_PREV.to_string(), merkle::tag);
        let value = with_envelope(body, self.next_seq(), &prev, self.key.name(), ts);
        let line = jcs::encode(&value);
        entry::check_line(&line).map_err(|m| {
            WriteError::Refused(format!("the new entry would not pass verification: {m}"))
        })?;
        let leaf = merkle::leaf(line.as_bytes());
        self.leaves.push(leaf);
        self.new_lines.push(line);
        Ok(merkle::tag(&leaf))
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
    pub fn push_all(&mut self, bodies: Vec<Value>, ts: &str) -> Result<(), WriteError> {
        use rayon::prelude::*;
        const STAND_IN: &str =
            "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
        const MEMBER: &str = "\"prev\":\"";
        let first = self.next_seq();
        let log = self.key.name();
        let member = format!("{MEMBER}{STAND_IN}\"");
        let lines: Vec<(String, Result<usize, Value>)> = bodies
            .into_par_iter()
            .enumerate()
            .map(|(i, body)| {
                let value = with_envelope(body, first + i as u64, STAND_IN, log, ts);
                let line = jcs::encode(&value);
                entry::check_line(&line).map_err(|m| {
                    WriteError::Refused(format!("the new entry would not pass verification: {m}"))
                })?;
                let mut found = line.match_indices(&member);
                let place = match (found.next(), found.next()) {
                    (Some((at, _)), None) => Ok(at + MEMBER.len()),
                    _ => Err(value),
                };
                Ok((line, place))
            })
            .collect::<Result<_, WriteError>>()?;
        for (mut line, place) in lines {
            let prev = self
                .leaves
                .last()
                .map_or(GENESIS_PREV.to_string(), merkle::tag);
            match place {
                Ok(at) => line.replace_range(at..at + STAND_IN.len(), &prev),
                Err(mut value) => {
                    value["prev"] = Value::String(prev);
                    line = jcs::encode(&value);
                }
            }
            let leaf = merkle::leaf(line.as_bytes());
            self.leaves.push(leaf);
            self.new_lines.push(line);
        }
        Ok(())
    }

    /// The leaf hash of an existing entry.
    pub fn leaf_of(&self, seq: usize) -> Option<String> {
        self.leaves.get(seq).map(merkle::tag)
    }

    /// Writes the new lines and seals a checkpoint over the whole log.
    pub fn commit(self) -> Result<Sealed, WriteError> {
        let size = self.leaves.len() as u64;
        let root = merkle::Tree::new(&self.leaves)
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
        atomic_write(&self.dir.join(PENDING), &text)?;

        let entries_path = self.dir.join(ENTRIES);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&entries_path)
            .map_err(io("could not open", &entries_path))?;
        if !self.torn.is_empty() {
            // Only the unterminated tail goes; every complete line stays.
            file.set_len(self.existing_len as u64)
                .map_err(io("could not truncate", &entries_path))?;
            file.sync_all()
                .map_err(io("could not fsync", &entries_path))?;
        }
        let mut buf = String::new();
        for line in &self.new_lines {
            buf.push_str(line);
            buf.push('\n');
        }
        file.write_all(buf.as_bytes())
            .map_err(io("could not append to", &entries_path))?;
        file.sync_data()
            .map_err(io("could not fsync", &entries_path))?;

        if !numbered.exists() {
            atomic_write(&numbered, &text)?;
        }
        atomic_write(&self.dir.join(CHECKPOINT), &text)?;
        let pending = self.dir.join(PENDING);
        std::fs::remove_file(&pending).map_err(io("could not remove", &pending))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("could not fsync directory", &self.dir))?;
        Ok(Sealed {
            size,
            root,
            written: self.new_lines.len(),
            checkpoint: text,
        })
    }
}

fn has_checkpoints(dir: &Path) -> bool {
    dir.join(CHECKPOINT).exists()
        || std::fs::read_dir(dir.join(CHECKPOINTS))
            .map(|mut d| {
                d.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')))
            })
            .unwrap_or(false)
}

/// Refuses to extend anything this key did not sign: the ledger must pass
/// the auditor's own checks, and entries after the last checkpoint are
/// sealed only when this writer's signed pending marker vouches for exactly
/// them (a crash between append and seal).
fn check_extension(
    dir: &Path,
    key: &SignerKey,
    checked: &super::verify::Checked,
) -> Result<(), WriteError> {
    let verifier = key.verifier();
    let report = &checked.report;
    if report
        .failures
        .iter()
        .any(|f| f.code == "genesis-key-mismatch")
    {
        return Err(WriteError::Integrity(format!(
            "this ledger was started with another key; `{}` may not extend it",
            verifier.short()
        )));
    }
    if let Some(f) = report
        .failures
        .iter()
        .find(|f| f.code != "unsealed-tail" && f.code != "torn-tail")
    {
        return Err(WriteError::Integrity(format!(
            "the ledger fails verification (`{}` at {}: {}); refusing to sign; run `severance ledger verify` and restore it",
            f.code, f.place, f.message
        )));
    }
    if report.sealed < report.size {
        let root = report.root.unwrap_or_else(|| merkle::root(&checked.leaves));
        let vouched = std::fs::read_to_string(dir.join(PENDING))
            .ok()
            .and_then(|t| Checkpoint::parse(&t).ok())
            .is_some_and(|cp| {
                note::check_signature(&cp, &verifier) == SignatureCheck::Valid
                    && cp.size == report.size
                    && cp.root == root
            });
        if !vouched {
            return Err(WriteError::Integrity(format!(
                "entries {}..{} are not sealed and this writer did not write them; refusing to sign them",
                report.sealed + 1,
                report.size
            )));
        }
    }
    Ok(())
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
}

/// Writes a file through a temporary file, fsyncs it, renames it into
/// place and fsyncs the directory, so a crash leaves the old or the new
/// file, never half of one.
fn atomic_write(path: &Path, text: &str) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io("could not create", &tmp))?;
    f.write_all(text.as_bytes())
        .map_err(io("could not write", &tmp))?;
    f.sync_all().map_err(io("could not fsync", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("could not rename into", path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
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
            json!({"type": "decision", "run": format!("sha256:{}", "a".repeat(64)),
                "subject": subject, "kind": "account", "status": "ok", "actions": ["revoke"],
                "policies": {"revoke": ["p"]}, "blocked": {}, "leaver": null, "due": null})
        };
        let tricky = json!({"type": "verification", "decision": format!("sha256:{}", "b".repeat(64)),
            "method": "re-read",
            "observed": {"prev": format!("sha256:{}", "f".repeat(64))}});
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
