//! Stage 1, load: read the inventory's YAML files and the policy files, each
//! exactly once. They come from the working tree or, with
//! [`Sources::revision`], from a git commit (`git.rs`); both origins share
//! the listing rules, and [`parse_records`] turns any file into raw trees
//! that still know their positions, so the same content gives the same
//! records and findings. Validation calls it file by file, so that the raw
//! trees of a whole inventory never exist at once. Nothing here judges
//! content; problems reading or parsing are findings.

mod git;
mod plain;
mod text;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::error::{Error, NotADirectory, ReadDir};
pub use yaml::Limits;
use yaml::{Node, NodeValue};

/// What to read.
#[derive(Clone, Debug)]
pub struct Sources {
    /// Directory holding the inventory (searched recursively for `*.yaml`, `*.yml`).
    pub inventory: PathBuf,
    /// Directory holding `schema.cedarschema` and `*.cedar`.
    pub policies: PathBuf,
    /// Parser limits.
    pub limits: Limits,
    /// A git revision, or the index, to read both directories at, from the
    /// repository that holds each; `None` reads the working tree. Reading a
    /// snapshot checks nothing out and leaves the working tree and the index
    /// alone.
    pub revision: Option<Snapshot>,
}

/// A state of the files that git recorded, read instead of the working tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snapshot {
    /// A revision: a branch, a tag, a commit id, `HEAD~1`…
    Revision(String),
    /// What is staged in git's index, which is what the next commit will
    /// hold: a pre-commit hook judges this, not the files beside it.
    Index,
}

impl Snapshot {
    /// How reports name it: the revision as the user wrote it, or `index`.
    pub fn label(&self) -> &str {
        match self {
            Snapshot::Revision(rev) => rev,
            Snapshot::Index => "index",
        }
    }
}

/// One candidate record: a mapping found at the top of a document or as an
/// item of a top-level list.
#[derive(Debug)]
pub struct RawRecord {
    /// The file it is in.
    pub file: Arc<SourceFile>,
    /// The YAML tree.
    pub node: Node,
}

/// Everything read from the inventory directory, unjudged. The record files
/// are read but not yet parsed: [`parse_records`] turns one file into its
/// candidate records when the validation stage gets to it, so that the
/// trees of a million records (larger than the records they become) never
/// all exist at once.
#[derive(Debug, Default)]
pub struct RawInventory {
    /// The record files read, sorted by path.
    pub files: Vec<Arc<SourceFile>>,
    /// The parser limits the files are to be parsed with.
    pub limits: Limits,
    /// Problems reading.
    pub diagnostics: Vec<Diagnostic>,
    /// [`WAIVER_FILES`] directly under the inventory directory, read but not
    /// parsed: waivers are not records. `None` when there is none, when it
    /// could not be read, or when both names exist (each a diagnostic).
    pub waivers: Option<Arc<SourceFile>>,
    /// The importers' manifests ([`IMPORT_MANIFEST`]), read but not
    /// parsed, sorted by path.
    pub snapshots: Vec<Arc<SourceFile>>,
}

/// The name of the manifest an importer writes in its directory.
pub const IMPORT_MANIFEST: &str = "import.json";

/// The names of the waiver file, which lives directly under the inventory
/// directory; the same names deeper down are ordinary record files.
pub const WAIVER_FILES: [&str; 2] = ["waivers.yaml", "waivers.yml"];

/// The name of the Cedar schema, directly under the policy directory.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

/// The policy directory's files, unparsed.
#[derive(Debug)]
pub struct PolicySources {
    /// `schema.cedarschema`.
    pub schema: Arc<SourceFile>,
    /// Every `*.cedar` file, sorted by path.
    pub policies: Vec<Arc<SourceFile>>,
}

/// The output of the load stage.
#[derive(Debug)]
pub struct Loaded {
    /// The inventory.
    pub inventory: RawInventory,
    /// The policies.
    pub policies: PolicySources,
    /// The full id of the commit the inventory was read at, when
    /// [`Sources::revision`] was given, so that a run can name exactly what it
    /// read. (When the policies live in another repository, the same revision
    /// was resolved there separately.)
    pub commit: Option<String>,
}

/// Reads the inventory and the policy pack, from the working tree or at
/// [`Sources::revision`].
///
/// `Err` means a directory could not be read at all (or, at a revision, git
/// could not be run or the revision is not a commit); unreadable or malformed
/// inventory files are diagnostics in the result.
pub fn load(sources: &Sources) -> Result<Loaded, Error> {
    if let Some(snapshot) = &sources.revision {
        return git::load_at(sources, snapshot, &git::Git::system());
    }
    let inventory = load_inventory(&sources.inventory, &sources.limits)?;
    let policies = load_policies(&sources.policies)?;
    Ok(Loaded {
        inventory,
        policies,
        commit: None,
    })
}

/// Reads the inventory at one git snapshot and the policies at another,
/// each from the repository that holds its directory, checking nothing
/// out: a replay reads the inventory at the commit a run recorded and the
/// policies there or wherever the auditor points. Each directory has its
/// own snapshot here, so `sources.revision` is not read.
pub fn load_each_at(
    sources: &Sources,
    inventory: &Snapshot,
    policies: &Snapshot,
) -> Result<Loaded, Error> {
    git::load_each_at(sources, inventory, policies, &git::Git::system())
}

/// Walks a directory in name order, skipping hidden files and directories
/// entirely. Symbolic links inside it are listed, not followed: a link can
/// lead anywhere (`/proc/self/environ`, a FIFO), and a commit holds only its
/// target's name, so both origins refuse them. The directory itself may be
/// a link: the user named it.
fn walk(dir: &Path) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .follow_root_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()))
}

/// Whether a name below a read directory is skipped by both origins: editors,
/// version control and archives keep their files in hidden directories.
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".")
}

/// What a file under the inventory directory is, by its place and name; both
/// origins ask this, so they read the same files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InventoryFile {
    /// A file of records.
    Records,
    /// The waiver file.
    Waivers,
    /// An importer's manifest (`import.json`): which exports its directory
    /// was read from, when, and whether they were complete.
    Snapshot,
}

/// The role of the file at `rel` (relative to the inventory directory, no
/// hidden component), or `None` when it is not read.
fn inventory_file(rel: &Path) -> Option<InventoryFile> {
    if rel.file_name().is_some_and(|n| n == IMPORT_MANIFEST) {
        return Some(InventoryFile::Snapshot);
    }
    if !matches!(
        rel.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    ) {
        return None;
    }
    let mut components = rel.components();
    let first = components.next()?;
    let directly_under = components.next().is_none();
    if directly_under && WAIVER_FILES.iter().any(|w| first.as_os_str() == *w) {
        Some(InventoryFile::Waivers)
    } else {
        Some(InventoryFile::Records)
    }
}

/// Whether the file at `path` is a policy file.
fn is_policy_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("cedar")
}

/// The top of the git work tree that holds `dir`, when there is one; tools
/// such as code scanning want paths relative to it.
pub fn work_tree_of(dir: &Path) -> Option<PathBuf> {
    git::work_tree_of(dir)
}

/// Whether `dir` is in a git repository that has no commit yet.
pub fn unborn_head(dir: &Path) -> bool {
    git::unborn_head(&git::Git::system(), dir)
}

/// The commit `HEAD` names in the git repository that holds `dir`, when
/// nothing under `dir` has uncommitted changes: what a ledger's run entry
/// records as the inventory's commit.
pub fn clean_commit(dir: &Path) -> Option<String> {
    git::clean_commit(&git::Git::system(), dir)
}

/// A path as reports show it: forward slashes, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn require_dir(path: &Path) -> Result<(), Error> {
    if path.is_dir() {
        Ok(())
    } else {
        Err(NotADirectory {
            path: display_path(path),
        }
        .into())
    }
}

/// Reads every YAML file under `dir` (in parallel) and splits it into records.
pub fn load_inventory(dir: &Path, limits: &Limits) -> Result<RawInventory, Error> {
    require_dir(dir)?;
    let mut records = Vec::new();
    let mut waivers = Vec::new();
    let mut snapshots = Vec::new();
    for entry in walk(dir) {
        let entry = entry.map_err(|e| ReadDir {
            path: display_path(e.path().unwrap_or(dir)),
            message: e.to_string(),
        })?;
        let file_type = entry.file_type();
        if entry.depth() == 0 || file_type.is_dir() {
            continue;
        }
        let path = entry.path();
        // Any link is a finding, whatever its name, as at a revision: it
        // may stand for a directory of records.
        if file_type.is_symlink() {
            let refused = Refused::Symlink.finding(&display_path(path));
            records.push((path.to_path_buf(), Err(Box::new(refused))));
            continue;
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        match inventory_file(rel) {
            Some(InventoryFile::Records) => records.push((path.to_path_buf(), Ok(()))),
            Some(InventoryFile::Waivers) => waivers.push((path.to_path_buf(), Ok(()))),
            Some(InventoryFile::Snapshot) => snapshots.push((path.to_path_buf(), Ok(()))),
            None => {}
        }
    }
    Ok(build_inventory(
        records,
        waivers,
        snapshots,
        limits,
        |path, listed| listed.and_then(|()| read_file_bytes(path, limits)),
    ))
}

/// Why a path inside a read directory is not read: it is not a regular file,
/// so its content may be anything (another file's, the environment, a
/// device's) or may never end (a FIFO).
#[derive(Debug)]
pub(crate) enum Refused {
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    NotRegular(&'static str),
    /// Over the size limit: the size, or as much as was read of a file that
    /// grew while being read (reading stops there).
    TooLarge(u64),
    /// The system refused.
    Io(std::io::Error),
}

impl Refused {
    /// Why, as the end of a sentence about the file.
    pub(crate) fn reason(&self) -> String {
        match self {
            Refused::Symlink => {
                "it is a symbolic link, which severance does not follow".to_string()
            }
            Refused::NotRegular(what) => format!("it is {what}, not a regular file"),
            Refused::TooLarge(size) => format!("it is {size} bytes or more, over the size limit"),
            Refused::Io(e) => e.to_string(),
        }
    }

    /// The finding for an inventory file (one over the size limit gets
    /// [`too_large`]'s instead).
    pub(crate) fn finding(&self, shown: &str) -> Diagnostic {
        let d = Diagnostic::error(
            Code::ReadFailed,
            format!("could not read `{shown}`: {}", self.reason()),
        )
        .at(file_start(shown));
        match self {
            Refused::Symlink => d.help("put the file or directory itself in place of the link: links inside the inventory and policy directories are followed neither in the working tree nor at a revision"),
            Refused::NotRegular(_) => d.help("make it a regular file, or move it out of the directory"),
            Refused::TooLarge(_) | Refused::Io(_) => d,
        }
    }
}

/// The start of a file that has no text to show, so that every report can
/// still place a finding about it.
fn file_start(shown: &str) -> Span {
    Span::at(&SourceFile::new(shown, String::new()), 1, 1, 0)
}

/// What kind of file `file_type` is, when not a regular file or directory.
fn odd_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() {
        return None;
    }
    if file_type.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some("a device");
        }
    }
    Some("a special file")
}

/// Reads a regular file of the working tree, refusing anything else without
/// reading it: the type is checked before opening (a FIFO never blocks the
/// open, a link is never followed), then again on the open handle, since the
/// path may have been swapped in between; the open itself neither follows a
/// link nor waits.
pub(crate) fn read_regular(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Refused> {
    use std::io::Read as _;
    let before = std::fs::symlink_metadata(path).map_err(Refused::Io)?;
    if before.file_type().is_symlink() {
        return Err(Refused::Symlink);
    }
    if let Some(what) = odd_kind(before.file_type()) {
        return Err(Refused::NotRegular(what));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Refused::Symlink;
        }
        Refused::Io(e)
    })?;
    let after = file.metadata().map_err(Refused::Io)?;
    if let Some(what) = odd_kind(after.file_type()) {
        return Err(Refused::NotRegular(what));
    }
    if after.len() > max_bytes {
        return Err(Refused::TooLarge(after.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(after.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(Refused::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads and parses the listed files of either origin into a [`RawInventory`].
///
/// `records` and `waivers` hold each file's path as the working tree would
/// show it and whatever `read` needs to get its bytes; `read` is called in
/// parallel. Record files are parsed in path order whatever the listing order.
pub(crate) fn build_inventory<S: Send>(
    mut records: Vec<(PathBuf, S)>,
    mut waivers: Vec<(PathBuf, S)>,
    mut snapshots: Vec<(PathBuf, S)>,
    limits: &Limits,
    read: impl Fn(&Path, S) -> Result<Vec<u8>, Box<Diagnostic>> + Sync,
) -> RawInventory {
    records.sort_by(|a, b| a.0.cmp(&b.0));
    crate::progress::stage("reading", records.len() as u64);
    let texts: Vec<Result<Arc<SourceFile>, Box<Diagnostic>>> = records
        .into_par_iter()
        .map(|(path, source)| {
            let file = read(&path, source).and_then(|bytes| text_file(display_path(&path), bytes));
            crate::progress::advance(1);
            file
        })
        .collect();

    let mut inventory = RawInventory {
        limits: *limits,
        ..RawInventory::default()
    };
    for file in texts {
        match file {
            Ok(file) => inventory.files.push(file),
            Err(d) => inventory.diagnostics.push(*d),
        }
    }

    waivers.sort_by(|a, b| a.0.cmp(&b.0));
    if waivers.len() > 1 {
        let names: Vec<String> = waivers
            .iter()
            .map(|(path, _)| format!("`{}`", display_path(path)))
            .collect();
        inventory.diagnostics.push(
            Diagnostic::error(
                Code::ReadFailed,
                format!(
                    "both {} exist; only one waiver file is read",
                    names.join(" and ")
                ),
            )
            .help("keep the waivers in one of the two files and delete the other"),
        );
    } else if let Some((path, source)) = waivers.pop() {
        match read(&path, source).and_then(|bytes| text_file(display_path(&path), bytes)) {
            Ok(file) => inventory.waivers = Some(file),
            Err(d) => inventory.diagnostics.push(*d),
        }
    }
    snapshots.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, source) in snapshots {
        match read(&path, source).and_then(|bytes| text_file(display_path(&path), bytes)) {
            Ok(file) => inventory.snapshots.push(file),
            Err(d) => inventory.diagnostics.push(*d),
        }
    }
    inventory
}

/// Refuses a file over the size limit before it is read, so that a huge file
/// costs nothing; both origins know the size without reading.
fn check_size(shown: &str, size: u64, limits: &Limits) -> Result<(), Box<Diagnostic>> {
    if size > limits.max_file_bytes {
        return Err(too_large(shown, size, limits));
    }
    Ok(())
}

/// The finding for a file of `size` bytes, over the limit (at least that
/// many, when it grew while being read).
fn too_large(shown: &str, size: u64, limits: &Limits) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(
            Code::YamlLimit,
            format!(
                "`{shown}` is {size} bytes, over the limit of {} bytes",
                limits.max_file_bytes
            ),
        )
        .at(file_start(shown))
        .help("split the file; records may live in any number of files"),
    )
}

/// Reads an inventory file of the working tree, within the size limit.
fn read_file_bytes(path: &Path, limits: &Limits) -> Result<Vec<u8>, Box<Diagnostic>> {
    let shown = display_path(path);
    match read_regular(path, limits.max_file_bytes) {
        Ok(bytes) => Ok(bytes),
        // Worded as at a revision, where the size is known before reading.
        Err(Refused::TooLarge(size)) => Err(too_large(&shown, size, limits)),
        Err(refused) => Err(Box::new(refused.finding(&shown))),
    }
}

/// Wraps an inventory file's bytes: UTF-8, or UTF-16 / UTF-32 with a
/// byte-order mark, decoded to UTF-8 (spans then count in the decoded text).
pub(crate) fn text_file(shown: String, bytes: Vec<u8>) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    match text::decode(bytes) {
        Ok(text) => Ok(SourceFile::new(shown, text)),
        Err(bad) => {
            let at = bad.prefix.len();
            let file = SourceFile::new(shown.clone(), bad.prefix);
            Err(Box::new(
                Diagnostic::error(
                    Code::ReadFailed,
                    format!(
                        "`{shown}` is not valid {} (invalid byte at offset {})",
                        bad.encoding, bad.offset
                    ),
                )
                .at(Span::new(&file, at..at))
                .label("the first byte that does not decode")
                .help("save the file as UTF-8 (or as UTF-16 or UTF-32 with a byte-order mark)"),
            ))
        }
    }
}

/// Parses one inventory file into its candidate records, with the problems
/// parsing it (a syntax error, a limit, a document that is not a record).
pub fn parse_records(file: &Arc<SourceFile>, limits: &Limits) -> (Vec<RawRecord>, Vec<Diagnostic>) {
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    match yaml::parse_documents(&file.text, limits) {
        Ok(documents) => {
            for document in documents {
                split_records(file, document, &mut records, &mut diagnostics);
            }
        }
        Err(e) => {
            let code = if e.limit {
                Code::YamlLimit
            } else {
                Code::YamlSyntax
            };
            let mut d = Diagnostic::error(code, e.message);
            if e.limit {
                d = d.help("limits on size, nodes and aliases keep crafted input (such as an alias bomb) from exhausting memory; split large files");
            }
            if let Some((line, col)) = e.line_col {
                d = d.at(Span::at(file, line, col, 0));
            }
            diagnostics.push(d);
        }
    }
    (records, diagnostics)
}

fn split_records(
    file: &Arc<SourceFile>,
    document: Node,
    records: &mut Vec<RawRecord>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match document.value {
        NodeValue::Map(_) => records.push(RawRecord {
            file: Arc::clone(file),
            node: document,
        }),
        NodeValue::Seq(items) => {
            for item in items {
                if let NodeValue::Map(_) = item.value {
                    records.push(RawRecord {
                        file: Arc::clone(file),
                        node: item,
                    });
                } else {
                    diagnostics.push(not_a_record(file, &item));
                }
            }
        }
        NodeValue::Null => {}
        _ => diagnostics.push(not_a_record(file, &document)),
    }
}

fn not_a_record(file: &Arc<SourceFile>, node: &Node) -> Diagnostic {
    Diagnostic::error(
        Code::NotARecord,
        format!(
            "expected a record (a mapping), found {}",
            node.value.type_name()
        ),
    )
    .at(node_span(file, node))
    .help("a file holds one record, a list of records, or several `---` documents")
}

/// The span of a node in its file.
pub fn node_span(file: &Arc<SourceFile>, node: &Node) -> Span {
    match node.pos.offset {
        Some(offset) => Span::new(file, offset..offset + node.pos.len),
        None => Span::at(file, node.pos.line, node.pos.col, node.pos.len),
    }
}

/// Reads the schema and every `*.cedar` file of the policy directory.
pub fn load_policies(dir: &Path) -> Result<PolicySources, Error> {
    require_dir(dir)?;
    let schema = read_text(&dir.join(SCHEMA_FILE))?;
    let mut policies = Vec::new();
    for entry in walk(dir) {
        let entry = entry.map_err(|e| ReadDir {
            path: display_path(e.path().unwrap_or(dir)),
            message: e.to_string(),
        })?;
        let path = entry.path();
        if entry.depth() == 0 || entry.file_type().is_dir() {
            continue;
        }
        // Any link stops the run, as at a revision: it may stand for a
        // directory of policies that would otherwise be left out.
        if entry.file_type().is_symlink() {
            return Err(crate::error::ReadFile {
                path: display_path(path),
                message: Refused::Symlink.reason(),
            }
            .into());
        }
        if is_policy_file(path) {
            policies.push(read_text(path)?);
        }
    }
    Ok(policy_sources(schema, policies))
}

/// Puts the policy files in the order of their shown paths, whichever origin
/// listed them.
fn policy_sources(schema: Arc<SourceFile>, mut policies: Vec<Arc<SourceFile>>) -> PolicySources {
    policies.sort_by(|a, b| a.path.cmp(&b.path));
    PolicySources { schema, policies }
}

/// Reads a policy file or the schema: a regular file, of at most the
/// inventory's default size limit (a policy pack is far smaller).
fn read_text(path: &Path) -> Result<Arc<SourceFile>, Error> {
    let shown = display_path(path);
    match read_regular(path, Limits::default().max_file_bytes) {
        Ok(bytes) => policy_text(shown, bytes),
        Err(refused) => Err(crate::error::ReadFile {
            path: shown,
            message: refused.reason(),
        }
        .into()),
    }
}

/// Wraps a policy file's bytes, decoded like an inventory file's (UTF-8, or
/// UTF-16 / UTF-32 with a byte-order mark); a policy that cannot be read
/// stops the run, since deciding without it could permit what it forbids.
fn policy_text(shown: String, bytes: Vec<u8>) -> Result<Arc<SourceFile>, Error> {
    match text::decode(bytes) {
        Ok(text) => Ok(SourceFile::new(shown, text)),
        Err(bad) => {
            // A fatal error has no snippet; the place goes in the message.
            let at = bad.prefix.len();
            let file = SourceFile::new(shown.clone(), bad.prefix);
            let (line, col) = file.line_col(at);
            Err(crate::error::ReadFile {
                path: shown.clone(),
                message: format!(
                    "not valid {} at {shown}:{line}:{col} (invalid byte at offset {})",
                    bad.encoding, bad.offset
                ),
            }
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many records the read files hold, and the problems parsing them.
    pub(in crate::load) fn parsed(raw: &RawInventory) -> (usize, Vec<Diagnostic>) {
        let mut count = 0;
        let mut problems = Vec::new();
        for file in &raw.files {
            let (records, found) = parse_records(file, &raw.limits);
            count += records.len();
            problems.extend(found);
        }
        (count, problems)
    }

    #[test]
    fn a_file_may_hold_one_record_a_list_or_documents() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("one.yaml"), "kind: team\nid: team/a\n").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(
            dir.path().join("sub/list.yml"),
            "- {kind: team, id: team/b}\n- {kind: team, id: team/c}\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("docs.yaml"),
            "kind: team\nid: team/d\n---\nkind: team\nid: team/e\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("README.md"), "not yaml").expect("write");
        std::fs::create_dir(dir.path().join(".archive")).expect("mkdir");
        std::fs::write(
            dir.path().join(".archive/old.yaml"),
            "kind: team\nid: team/old\n",
        )
        .expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert_eq!(raw.files.len(), 3);
        assert!(raw.diagnostics.is_empty());
        let (records, problems) = parsed(&raw);
        assert_eq!(records, 5);
        assert!(problems.is_empty());
    }

    #[test]
    fn scalars_at_the_top_are_not_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x.yaml"), "- 42\n").expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert!(raw.diagnostics.is_empty());
        let (records, problems) = parsed(&raw);
        assert_eq!(records, 0);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, Code::NotARecord);
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let err = load_inventory(Path::new("/nonexistent/inventory"), &Limits::default());
        assert!(err.is_err());
    }

    #[test]
    fn the_waiver_file_directly_under_the_inventory_is_not_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("teams.yaml"), "kind: team\nid: team/a\n").expect("write");
        std::fs::write(dir.path().join("waivers.yaml"), "- not: a record\n").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(
            dir.path().join("sub/waivers.yaml"),
            "kind: team\nid: team/b\n",
        )
        .expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert!(raw.diagnostics.is_empty(), "{:?}", raw.diagnostics);
        assert_eq!(parsed(&raw).0, 2);
        assert_eq!(raw.files.len(), 2);
        let waivers = raw.waivers.expect("waivers");
        assert!(waivers.path.ends_with("/waivers.yaml"), "{}", waivers.path);
        assert_eq!(waivers.text, "- not: a record\n");
    }

    #[test]
    fn two_waiver_files_are_a_finding_naming_both() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("waivers.yaml"), "[]\n").expect("write");
        std::fs::write(dir.path().join("waivers.yml"), "[]\n").expect("write");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert!(raw.waivers.is_none());
        assert_eq!(raw.diagnostics.len(), 1);
        let message = &raw.diagnostics[0].message;
        assert!(message.contains("waivers.yaml`"), "{message}");
        assert!(message.contains("waivers.yml`"), "{message}");
        assert!(raw.files.is_empty());
    }

    /// Runs `f` on another thread and fails the test if it has not
    /// finished within a generous time: a FIFO must not make a read wait.
    #[cfg(unix)]
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("reading did not finish: it waits on a FIFO")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_the_inventory_are_findings_and_never_read() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret.yaml"), "TOKEN=hunter2: [\n").expect("write");
        std::fs::create_dir(outside.path().join("more")).expect("mkdir");
        std::fs::write(
            outside.path().join("more/x.yaml"),
            "kind: team\nid: team/x\n",
        )
        .expect("write");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("teams.yaml"), "kind: team\nid: team/a\n").expect("write");
        std::os::unix::fs::symlink(
            outside.path().join("secret.yaml"),
            dir.path().join("env.yaml"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(outside.path().join("more"), dir.path().join("more"))
            .expect("symlink");
        std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("waivers.yaml"))
            .expect("symlink");
        let raw = load_inventory(dir.path(), &Limits::default()).expect("loads");
        assert_eq!(raw.files.len(), 1);
        assert!(raw.waivers.is_none());
        let messages: Vec<&str> = raw.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(raw.diagnostics.len(), 3, "{messages:?}");
        for (d, name) in raw
            .diagnostics
            .iter()
            .zip(["env.yaml", "more", "waivers.yaml"])
        {
            assert_eq!(d.code, Code::ReadFailed);
            let shown = display_path(&dir.path().join(name));
            assert!(d.message.contains(&format!("`{shown}`")), "{}", d.message);
            assert!(d.message.contains("symbolic link"), "{}", d.message);
            assert!(!d.message.contains("hunter2"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_named_may_itself_be_a_link() {
        let real = tempfile::tempdir().expect("tempdir");
        std::fs::write(real.path().join("teams.yaml"), "kind: team\nid: team/a\n").expect("write");
        let holder = tempfile::tempdir().expect("tempdir");
        let link = holder.path().join("inventory");
        std::os::unix::fs::symlink(real.path(), &link).expect("symlink");
        let raw = load_inventory(&link, &Limits::default()).expect("loads");
        assert!(raw.diagnostics.is_empty(), "{:?}", raw.diagnostics);
        assert_eq!(raw.files.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_findings_and_never_waited_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        mkfifo(&dir.path().join("pipe.yaml"));
        let path = dir.path().to_path_buf();
        let raw = within_seconds(move || load_inventory(&path, &Limits::default())).expect("loads");
        let [d] = &raw.diagnostics[..] else {
            panic!("{:?}", raw.diagnostics)
        };
        assert_eq!(d.code, Code::ReadFailed);
        assert!(
            d.message.contains("a FIFO, not a regular file"),
            "{}",
            d.message
        );
        // Opened directly, a FIFO neither blocks nor is read.
        let fifo = dir.path().join("pipe.yaml");
        let refused = within_seconds(move || read_regular(&fifo, 1024));
        assert!(
            matches!(refused, Err(Refused::NotRegular("a FIFO"))),
            "{refused:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn policy_links_and_fifos_stop_the_run_unread() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let copy = |dir: &Path| {
            for name in [SCHEMA_FILE, "devices.cedar"] {
                std::fs::copy(repo.join("policies").join(name), dir.join(name)).expect("copy");
            }
        };
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("x.cedar"), "hunter2").expect("write");
        type Make<'a> = &'a dyn Fn(&Path);
        let cases: [(&str, Make); 3] = [
            ("extra.cedar", &|dir| {
                std::os::unix::fs::symlink(outside.path().join("x.cedar"), dir.join("extra.cedar"))
                    .expect("symlink")
            }),
            (SCHEMA_FILE, &|dir| {
                std::fs::remove_file(dir.join(SCHEMA_FILE)).expect("rm");
                std::os::unix::fs::symlink("/proc/self/environ", dir.join(SCHEMA_FILE))
                    .expect("symlink")
            }),
            (SCHEMA_FILE, &|dir| {
                std::fs::remove_file(dir.join(SCHEMA_FILE)).expect("rm");
                mkfifo(&dir.join(SCHEMA_FILE))
            }),
        ];
        for (name, make) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            copy(dir.path());
            make(dir.path());
            let path = dir.path().to_path_buf();
            let err = within_seconds(move || load_policies(&path)).expect_err("refused");
            let text = err.to_string();
            assert!(text.contains(&format!("{name}`")), "{text}");
            assert!(
                text.contains("symbolic link") || text.contains("a FIFO"),
                "{text}"
            );
        }
    }

    #[test]
    fn inventory_roles_follow_place_and_name() {
        assert_eq!(
            inventory_file(Path::new("waivers.yml")),
            Some(InventoryFile::Waivers)
        );
        assert_eq!(
            inventory_file(Path::new("a/waivers.yaml")),
            Some(InventoryFile::Records)
        );
        assert_eq!(
            inventory_file(Path::new("a/b.yml")),
            Some(InventoryFile::Records)
        );
        assert_eq!(inventory_file(Path::new("README.md")), None);
        assert_eq!(inventory_file(Path::new("x.YAML")), None);
    }
}
