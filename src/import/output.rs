//! The importer's output directory: its own files, one per record kind,
//! plus a manifest. The previous output is read back so that a record whose
//! facts did not change keeps its provenance byte for byte (a nightly
//! re-import of an unchanged export leaves `git status` clean), and a record
//! the source stopped returning is kept, marked `missing_since`, until a
//! person removes it. The new output replaces the old one as a whole: it is
//! written beside it and swapped in by renames, and a run that finds the
//! remains of a crashed swap finishes or undoes it first, so a reader never
//! sees half of one import and half of another.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Finding, ImportCode};
use crate::diag::Severity;
use crate::error::{Error, Write};
use crate::load::Limits;
use crate::load::yaml::{Node, NodeValue};
use crate::model::Kind;

/// How every file the importer writes begins; a file without it was
/// written by someone else and is never touched.
pub const HEADER_MARK: &str = "# Written by `severance import ";

/// The manifest's name: the exports read, their digests and times.
pub const MANIFEST: &str = "import.json";

/// The manifest's schema identifier.
pub const MANIFEST_SCHEMA: &str = "severance-import-v1";

/// The file each kind's records go in.
pub fn file_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "people.yaml",
        Kind::Team => "teams.yaml",
        Kind::Device => "devices.yaml",
        Kind::Account => "accounts.yaml",
        Kind::Grant => "grants.yaml",
        Kind::Nhi => "nhi.yaml",
        Kind::Credential => "credentials.yaml",
        Kind::Workload => "workloads.yaml",
    }
}

/// Whether `name` is one of the files of `kind`: `accounts.yaml`, or one
/// bucket of them, `accounts-07.yaml`.
fn is_file_of(kind: Kind, name: &str) -> bool {
    let whole = file_of(kind);
    let stem = whole.trim_end_matches(".yaml");
    name == whole
        || name
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".yaml"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The bucket of an id among `buckets`: the first eight bytes of its
/// SHA-256, so that it is the same on every machine and in every release.
fn bucket(id: &str, buckets: usize) -> u64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % buckets as u64
}

/// The records of the previous import, by id, as written.
#[derive(Debug, Default)]
pub struct Previous {
    /// Each record's document, keyed by its id (or the id it extends).
    pub records: BTreeMap<String, Value>,
    /// Its manifest.
    pub manifest: Option<Value>,
    /// The digest of each of its files' text, by name.
    pub files: BTreeMap<String, FileDigest>,
}

/// Reads the previous output. `Ok(Err(_))` when the directory holds a file
/// the importer did not write.
pub fn read_previous(out: &Path, limits: &Limits) -> Result<Result<Previous, Vec<Finding>>, Error> {
    let mut previous = Previous::default();
    let shown = crate::load::display_path(out);
    let meta = match fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(previous)),
        Err(e) => return Err(write_error(out, &e)),
    };
    if !meta.is_dir() {
        return Ok(Err(vec![not_owned(&format!(
            "`{shown}` is not a directory the importer made (it is a {})",
            if meta.file_type().is_symlink() {
                "symbolic link"
            } else {
                "file"
            }
        ))]));
    }
    let mut findings = Vec::new();
    let mut names: Vec<PathBuf> = fs::read_dir(out)
        .map_err(|e| write_error(out, &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_shown = crate::load::display_path(&path);
        let owned_name = name == MANIFEST || Kind::ALL.iter().any(|k| is_file_of(*k, &name));
        let bytes = match crate::load::read_regular(&path, limits.max_file_bytes) {
            Ok(bytes) if owned_name => bytes,
            _ => {
                findings.push(not_owned(&format!(
                    "`{file_shown}` was not written by `severance import`"
                )));
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            findings.push(not_owned(&format!("`{file_shown}` is not the importer's")));
            continue;
        };
        if name == MANIFEST {
            match serde_json::from_str::<Value>(&text) {
                Ok(m) if m.get("schema").and_then(Value::as_str) == Some(MANIFEST_SCHEMA) => {
                    previous.manifest = Some(m);
                    previous.files.insert(name, digest_of(&text));
                }
                _ => findings.push(not_owned(&format!(
                    "`{file_shown}` is not the importer's manifest"
                ))),
            }
            continue;
        }
        if !text.starts_with(HEADER_MARK) {
            findings.push(not_owned(&format!(
                "`{file_shown}` does not begin with the importer's header, so a person wrote or edited it"
            )));
            continue;
        }
        let documents = crate::load::yaml::parse_documents(&text, limits).map_err(|e| {
            Error::from(Write {
                message: format!(
                    "could not read the previous import `{file_shown}`: {}",
                    e.message
                ),
            })
        })?;
        previous.files.insert(name, digest_of(&text));
        for document in documents {
            let items = match document.value {
                NodeValue::Seq(items) => items,
                other => vec![Node {
                    pos: document.pos,
                    value: other,
                }],
            };
            for item in items {
                let value = to_json(&item);
                let key = value
                    .get("id")
                    .or_else(|| value.get("extends"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(key) = key {
                    previous.records.insert(key, value);
                }
            }
        }
    }
    if findings.is_empty() {
        Ok(Ok(previous))
    } else {
        Ok(Err(findings))
    }
}

fn not_owned(message: &str) -> Finding {
    Finding::new(ImportCode::OutputNotOwned, Severity::Error, message)
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Write {
        message: format!("`{}`: {e}", crate::load::display_path(path)),
    }
    .into()
}

/// A YAML tree as JSON, for comparing the previous output with the new.
pub(super) fn to_json(node: &Node) -> Value {
    match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Int(i) => Value::from(*i),
        NodeValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        NodeValue::Str(s) => Value::String(s.clone()),
        NodeValue::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| k.as_key().map(|k| (k, to_json(v))))
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// The provenance fields that record when and from which export a
/// record's facts were read, rather than the facts themselves.
const WHEN_READ: [&str; 3] = ["observed_at", "export", "missing_since"];

/// A record's document without [`WHEN_READ`], to tell whether its facts
/// changed.
pub fn facts(record: &Value) -> Value {
    let mut facts = record.clone();
    if let Some(Value::Array(sources)) = facts.get_mut("sources") {
        for source in sources {
            if let Value::Object(source) = source {
                for key in WHEN_READ {
                    source.remove(key);
                }
            }
        }
    }
    facts
}

/// One record of the new output, already rendered: its file is chosen
/// only once every record is known (a kind's number of files depends on
/// how many it has), so records are kept as their text, not their value.
#[derive(Debug)]
pub struct Block {
    /// Its kind, which names its file.
    pub kind: Kind,
    /// The id its bucket is taken from, when not the key it is kept under.
    pub bucket_id: Option<String>,
    /// Its YAML block, ending in a newline.
    pub text: String,
}

impl Block {
    /// A record (a document with `kind`) rendered from its value.
    pub fn of_value(key: &str, record: &Value) -> Result<Block, Error> {
        let kind = record
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::parse)
            .unwrap_or(Kind::Account);
        let id = record
            .get("id")
            .or_else(|| record.get("extends"))
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(Block {
            kind,
            bucket_id: (id != key).then(|| id.to_string()),
            text: render_record(key, record)?,
        })
    }
}

/// One record as a list of one item, the block its file holds.
pub fn render_record<T: serde::Serialize + ?Sized>(id: &str, record: &T) -> Result<String, Error> {
    // Plain or quoted scalars only: a long id folded over two lines (`>-`)
    // reads as two values in a review.
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let mut yaml = serde_saphyr::to_string_with_options(&[record], options).map_err(|e| {
        Error::from(Write {
            message: format!("could not render `{id}`: {e}"),
        })
    })?;
    if !yaml.ends_with('\n') {
        yaml.push('\n');
    }
    Ok(yaml)
}

/// One file of the new output: its head, then each block after an empty
/// line. Its text is never put together in memory: it is hashed or
/// written piece by piece.
#[derive(Debug)]
pub struct File<'a> {
    /// Its name in the output directory.
    pub name: String,
    /// The header (or the whole manifest).
    pub head: String,
    /// The records' blocks, in id order.
    pub blocks: Vec<&'a str>,
}

impl File<'_> {
    /// The pieces of its text, in order.
    fn pieces(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.head.as_str()).chain(self.blocks.iter().flat_map(|b| ["\n", *b]))
    }

    /// The digest of its text, to compare with the previous output's.
    pub fn digest(&self) -> FileDigest {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        for piece in self.pieces() {
            hasher.update(piece.as_bytes());
        }
        hasher.finalize().into()
    }
}

/// The SHA-256 of a file's text.
pub type FileDigest = [u8; 32];

/// The digest of a whole text, as [`File::digest`] takes it.
fn digest_of(text: &str) -> FileDigest {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// The new output: the records as written, by file.
#[derive(Debug)]
pub struct Rendered<'a> {
    /// The files, in name order, the manifest last.
    pub files: Vec<File<'a>>,
}

/// Lays records (by the key they are sorted by) out in their files, each
/// opening with the header and holding its records sorted by id, one block
/// each.
pub fn render<'a>(
    source: &str,
    records: &'a BTreeMap<String, Block>,
    manifest: &Value,
) -> Result<Rendered<'a>, Error> {
    render_in_files_of(source, records, manifest, RECORDS_PER_FILE)
}

/// How many records a file holds at most, on average: well under the
/// loader's file size limit (64 MiB) at the widest record an importer
/// writes, and enough files for validation to parse them on every core.
pub const RECORDS_PER_FILE: usize = 50_000;

/// Lays out with at most about `per_file` records a file. A kind with more
/// is spread over `<stem>-<bucket>.yaml` files, a record's bucket fixed by a
/// digest of its id: a record keeps its file as others come and go, so a
/// changed export still changes only the files of the records it changed
/// (until the number of buckets doubles, which rewrites every file once).
fn render_in_files_of<'a>(
    source: &str,
    records: &'a BTreeMap<String, Block>,
    manifest: &Value,
    per_file: usize,
) -> Result<Rendered<'a>, Error> {
    let mut by_kind: BTreeMap<Kind, Vec<(&'a str, &'a Block)>> = BTreeMap::new();
    for (key, block) in records {
        by_kind
            .entry(block.kind)
            .or_default()
            .push((key.as_str(), block));
    }
    let mut by_file: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for (kind, records) in by_kind {
        let buckets = records.len().div_ceil(per_file.max(1)).next_power_of_two();
        let stem = file_of(kind).trim_end_matches(".yaml");
        let width = (buckets - 1).to_string().len();
        for (key, block) in records {
            let name = if buckets == 1 {
                file_of(kind).to_string()
            } else {
                let id = block.bucket_id.as_deref().unwrap_or(key);
                format!("{stem}-{:0width$}.yaml", bucket(id, buckets))
            };
            by_file.entry(name).or_default().push(&block.text);
        }
    }
    let head = format!(
        "{HEADER_MARK}{source}`: do not edit. Re-run the import to refresh it;\n\
         # keep curated facts (owners, legal holds, …) in `extends:` records of your\n\
         # own files (docs/importers.md).\n"
    );
    let mut files: Vec<File<'a>> = by_file
        .into_iter()
        .map(|(name, blocks)| File {
            name,
            head: head.clone(),
            blocks,
        })
        .collect();
    let mut manifest_text = serde_json::to_string_pretty(manifest).map_err(|e| {
        Error::from(Write {
            message: format!("could not render the manifest: {e}"),
        })
    })?;
    manifest_text.push('\n');
    files.push(File {
        name: MANIFEST.to_string(),
        head: manifest_text,
        blocks: Vec::new(),
    });
    Ok(Rendered { files })
}

/// The names of the swap's two sibling directories; hidden, so that an
/// inventory load never reads them.
fn siblings(out: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::from(Write {
                message: format!("`{}` names no directory", out.display()),
            })
        })?;
    let parent = out.parent().unwrap_or(Path::new("."));
    Ok((
        parent.join(format!(".{name}.import-new")),
        parent.join(format!(".{name}.import-old")),
    ))
}

/// Finishes or undoes a swap that a crash interrupted: a complete new
/// directory (its manifest is written last) whose old one was already moved
/// aside is moved in; otherwise the old one is put back. Then the remains
/// are removed.
pub fn recover(out: &Path) -> Result<(), Error> {
    let (new, old) = siblings(out)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| write_error(&p, &e)
    };
    if !out.exists() && old.exists() {
        if new.join(MANIFEST).exists() {
            fs::rename(&new, out).map_err(io(out))?;
        } else {
            fs::rename(&old, out).map_err(io(out))?;
        }
    }
    if new.exists() {
        fs::remove_dir_all(&new).map_err(io(&new))?;
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// Writes the new output beside the old and swaps it in.
pub fn commit(out: &Path, rendered: &Rendered) -> Result<(), Error> {
    let (new, old) = siblings(out)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| write_error(&p, &e)
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::create_dir(&new).map_err(io(&new))?;
    // The manifest is last: its presence marks the new directory complete.
    for rendered in &rendered.files {
        let path = new.join(&rendered.name);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
        for piece in rendered.pieces() {
            writer.write_all(piece.as_bytes()).map_err(io(&path))?;
        }
        let file = writer.into_inner().map_err(|e| io(&path)(e.into_error()))?;
        file.sync_all().map_err(io(&path))?;
    }
    sync_dir(&new)?;
    if out.exists() {
        fs::rename(out, &old).map_err(io(out))?;
    }
    fs::rename(&new, out).map_err(io(out))?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| write_error(dir, &e))?;
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str) -> Rendered<'static> {
        let file = |name: &str, head: String| File {
            name: name.into(),
            head,
            blocks: Vec::new(),
        };
        Rendered {
            files: vec![
                file("people.yaml", format!("{HEADER_MARK}x`\n{text}")),
                file(MANIFEST, "{}\n".into()),
            ],
        }
    }

    /// Records as the import keeps them, rendered.
    fn blocks(records: &BTreeMap<String, Value>) -> BTreeMap<String, Block> {
        records
            .iter()
            .map(|(key, record)| {
                let block = Block::of_value(key, record).expect("renders");
                (key.clone(), block)
            })
            .collect()
    }

    /// A file's whole text.
    fn text(file: &File<'_>) -> String {
        let text: String = file.pieces().collect();
        assert_eq!(file.digest(), digest_of(&text));
        text
    }

    fn read(dir: &Path, name: &str) -> String {
        fs::read_to_string(dir.join(name)).unwrap_or_default()
    }

    #[test]
    fn a_commit_replaces_the_whole_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("okta");
        commit(&out, &rendered("one")).expect("first");
        fs::write(out.join("stray.yaml"), "left by a crash of an old version").expect("write");
        commit(&out, &rendered("two")).expect("second");
        assert!(read(&out, "people.yaml").ends_with("two"));
        assert!(!out.join("stray.yaml").exists());
        // Nothing of the swap is left beside it.
        let names: Vec<_> = fs::read_dir(root.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["okta"]);
    }

    #[test]
    fn a_swap_interrupted_after_the_old_output_moved_aside_is_finished() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("okta");
        let (new, old) = siblings(&out).expect("siblings");
        // The crash came between the two renames: the new output is whole
        // (its manifest is there), the old one moved aside.
        fs::create_dir(&old).expect("mkdir");
        fs::write(old.join("people.yaml"), "old").expect("write");
        fs::create_dir(&new).expect("mkdir");
        fs::write(new.join("people.yaml"), "new").expect("write");
        fs::write(new.join(MANIFEST), "{}").expect("write");
        recover(&out).expect("recover");
        assert_eq!(read(&out, "people.yaml"), "new");
        assert!(!new.exists() && !old.exists());
    }

    #[test]
    fn a_swap_interrupted_before_the_new_output_was_whole_is_undone() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("okta");
        let (new, old) = siblings(&out).expect("siblings");
        fs::create_dir(&old).expect("mkdir");
        fs::write(old.join("people.yaml"), "old").expect("write");
        // No manifest: the new output was still being written.
        fs::create_dir(&new).expect("mkdir");
        fs::write(new.join("people.yaml"), "half").expect("write");
        recover(&out).expect("recover");
        assert_eq!(read(&out, "people.yaml"), "old");
        assert!(!new.exists() && !old.exists());
        // And with the output in place, a leftover new directory is dropped.
        fs::create_dir(&new).expect("mkdir");
        recover(&out).expect("recover");
        assert_eq!(read(&out, "people.yaml"), "old");
        assert!(!new.exists());
    }

    /// Every text an export can hold comes back from the written file as
    /// the same text: no value is read back as a number, a boolean, a date
    /// or null, and none is cut at a `#` or a `: `.
    #[test]
    fn written_texts_read_back_as_the_same_texts() {
        let tricky = [
            "1001",
            "00123",
            "0x1F",
            "1e3",
            "-7",
            ".inf",
            ".NaN",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "",
            " ",
            "2026-11-24",
            "2026-11-24T06:00:00Z",
            "12:30:00",
            "- item",
            "a: b",
            "a #b",
            "#c",
            " lead",
            "trail ",
            "multi\nline",
            "tab\tin",
            "'single'",
            "\"double\"",
            "@at",
            "`tick`",
            "%pct",
            "!tag",
            "&anchor",
            "*alias",
            "[x]",
            "{y}",
            "|",
            ">",
            "?",
            ",",
            "---",
            "...",
            "é ü 日本",
            "a\\b",
            "<<",
        ];
        let mut records = BTreeMap::new();
        for (i, text) in tricky.iter().enumerate() {
            records.insert(
                format!("id/{i:02}"),
                serde_json::json!({"kind": "person", "id": format!("person/{i:02}"), "display_name": text}),
            );
        }
        let blocks = blocks(&records);
        let rendered = render("okta", &blocks, &serde_json::json!({})).expect("renders");
        let people = &text(&rendered.files[0]);
        let documents =
            crate::load::yaml::parse_documents(people, &Limits::default()).expect("reads back");
        let NodeValue::Seq(items) = &documents[0].value else {
            panic!("a list of records:\n{people}")
        };
        assert_eq!(items.len(), tricky.len());
        for (item, text) in items.iter().zip(tricky) {
            let value = to_json(item);
            assert_eq!(value["display_name"], *text, "{people}");
        }
    }

    #[test]
    fn a_large_kind_is_spread_over_files_each_record_keeping_its_own() {
        let records = |n: usize| -> BTreeMap<String, Value> {
            (0..n)
                .map(|i| {
                    let id = format!("account/okta/{i:03}");
                    (id.clone(), serde_json::json!({"kind": "account", "id": id}))
                })
                .collect()
        };
        let files_of = |n: usize| -> BTreeMap<String, String> {
            let blocks = blocks(&records(n));
            render_in_files_of("okta", &blocks, &serde_json::json!({}), 10)
                .expect("renders")
                .files
                .iter()
                .map(|file| (file.name.clone(), text(file)))
                .collect()
        };
        let small = files_of(10);
        assert_eq!(
            small.keys().collect::<Vec<_>>(),
            ["accounts.yaml", MANIFEST]
        );
        let large = files_of(40);
        let names: Vec<&String> = large.keys().collect();
        assert_eq!(
            names,
            [
                "accounts-0.yaml",
                "accounts-1.yaml",
                "accounts-2.yaml",
                "accounts-3.yaml",
                MANIFEST
            ]
        );
        assert!(
            names
                .iter()
                .all(|n| is_file_of(Kind::Account, n) || *n == MANIFEST)
        );
        // One more record changes one file, not all of them.
        let more = files_of(39);
        let changed = large
            .iter()
            .filter(|(name, text)| more.get(*name) != Some(text))
            .count();
        assert_eq!(changed, 1);
        // Every record is in exactly one file.
        let total: usize = large
            .values()
            .map(|t| t.matches("- kind: account").count())
            .sum();
        assert_eq!(total, 40);
        assert!(!is_file_of(Kind::Account, "accounts-.yaml"));
        assert!(!is_file_of(Kind::Account, "accounts-x1.yaml"));
    }
}
