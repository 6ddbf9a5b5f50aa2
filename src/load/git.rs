//! Reading the inventory and the policies as they are in a git commit, or as
//! staged in the index, so that a pull request's base, a release tag, any
//! past state or the next commit can be planned without checking anything
//! out. Only read-only plumbing runs (`rev-parse`, `ls-tree` or `ls-files`,
//! `cat-file`), so the user's working tree, index and refs are never
//! touched, even while they are mid-edit.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::diag::{Code, Diagnostic};
use crate::error::{
    Error, GitRead, GitRevision, GitUnavailable, IndexConflict, NotADirectoryAtRevision,
    NotInRepository, ReadFile,
};

use super::{
    InventoryFile, Limits, Loaded, PolicySources, RawInventory, Refused, SCHEMA_FILE, Snapshot,
    Sources, build_inventory, check_size, display_path, inventory_file, is_policy_file,
    policy_sources, policy_text,
};

/// How to run git: which program, and any environment to add (tests isolate
/// git from the configuration of the machine they run on).
#[derive(Clone, Debug)]
pub(crate) struct Git {
    program: OsString,
    env: Vec<(OsString, OsString)>,
}

impl Git {
    /// The `git` on the `PATH`, with the user's own configuration, so that
    /// `safe.directory`, alternates and the like work as they do for them.
    pub(crate) fn system() -> Git {
        Git {
            program: OsString::from("git"),
            env: Vec::new(),
        }
    }

    /// A git command run in `dir` that cannot write to the repository on its
    /// own account and finds the repository from `dir` alone.
    fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command
            .arg("-C")
            .arg(dir)
            // Reads must not take the index lock to refresh the index, which
            // would race with the user's own git commands.
            .env("GIT_OPTIONAL_LOCKS", "0")
            // A partial clone would fetch a missing blob from its remote,
            // writing to the repository and going to the network; a missing
            // object is reported instead.
            .env("GIT_NO_LAZY_FETCH", "1")
            // Directory names are names, never glob patterns.
            .env("GIT_LITERAL_PATHSPECS", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            // A hook or wrapper may point git at some repository (often with
            // a relative `GIT_DIR`); each directory names its own.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null());
        // A hook's index belongs to the hook's repository only; see
        // `hook_index`.
        command.env_remove("GIT_INDEX_FILE");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    fn unavailable(&self, e: &std::io::Error) -> Error {
        GitUnavailable {
            program: self.program.to_string_lossy().into_owned(),
            message: e.to_string(),
        }
        .into()
    }

    /// Runs git in `dir` to completion, capturing its output.
    fn run(&self, dir: &Path, args: &[&OsStr]) -> Result<Output, Error> {
        self.command(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.unavailable(&e))
    }

    /// What git printed, when it could be run in `dir` and succeeded.
    fn succeeded(&self, dir: &Path, args: &[&str]) -> Option<Output> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        self.run(dir, &args)
            .ok()
            .filter(|output| output.status.success())
    }
}

/// Git's complaint on stderr, as one lowercase line.
fn complaint(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let line = line.trim();
            let line = ["fatal: ", "error: "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
                .unwrap_or(line);
            let mut chars = line.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        format!("git ended with {}", output.status)
    } else {
        lines.join("; ")
    }
}

/// The top of the work tree that holds `dir` (canonical), when `dir` is in
/// one and git can say so.
pub(crate) fn work_tree_of(dir: &Path) -> Option<PathBuf> {
    locate(&Git::system(), dir).ok().map(|l| l.top)
}

/// Reads both directories at a revision or in the index, each from the
/// repository whose work tree holds it.
pub(crate) fn load_at(sources: &Sources, snapshot: &Snapshot, git: &Git) -> Result<Loaded, Error> {
    load_each_at(sources, snapshot, snapshot, git)
}

/// Reads the inventory at one snapshot and the policies at another, each
/// from the repository whose work tree holds it. When both are the same
/// snapshot of the same repository it is resolved once, so that both are
/// read from one commit even while a branch moves.
pub(crate) fn load_each_at(
    sources: &Sources,
    inventory_at: &Snapshot,
    policies_at: &Snapshot,
    git: &Git,
) -> Result<Loaded, Error> {
    let inventory_repo = locate(git, &sources.inventory)?;
    let policies_repo = locate(git, &sources.policies)?;
    let tree = |repo: &Located, snapshot: &Snapshot| -> Result<Tree, Error> {
        Ok(match snapshot {
            Snapshot::Revision(rev) => Tree::Commit(resolve_commit(git, &repo.top, rev)?),
            Snapshot::Index => Tree::Index,
        })
    };
    let inventory_tree = tree(&inventory_repo, inventory_at)?;
    let policies_tree = if policies_repo.top == inventory_repo.top && policies_at == inventory_at {
        inventory_tree.clone()
    } else {
        tree(&policies_repo, policies_at)?
    };
    let inventory = At {
        git,
        rev: inventory_at.label(),
    }
    .inventory(
        &inventory_repo,
        &inventory_tree,
        &sources.inventory,
        &sources.limits,
    )?;
    let policies = At {
        git,
        rev: policies_at.label(),
    }
    .policies(&policies_repo, &policies_tree, &sources.policies)?;
    Ok(Loaded {
        inventory,
        policies,
        commit: match inventory_tree {
            Tree::Commit(id) => Some(id),
            Tree::Index => None,
        },
    })
}

/// The index a hook was handed, when the repository at `top` is the one the
/// hook runs in. `git commit -a` and `git commit PATH` hand their hooks a
/// temporary index (`GIT_INDEX_FILE`, perhaps relative to the hook's
/// directory), which is what will be committed; any other repository (the
/// policies' own, say) keeps its own index.
fn hook_index(git: &Git, top: &Path) -> Option<PathBuf> {
    let index = PathBuf::from(std::env::var_os("GIT_INDEX_FILE")?);
    let cwd = std::env::current_dir().ok()?;
    let here = locate(git, &cwd).ok()?;
    (here.top == top).then(|| cwd.join(index))
}

/// Whether the repository that holds `dir` has no commit yet (its branch
/// is unborn), as in a pre-commit hook's first commit: `HEAD` names a
/// branch, and that branch names nothing.
pub(crate) fn unborn_head(git: &Git, dir: &Path) -> bool {
    let Ok(repo) = locate(git, dir) else {
        return false;
    };
    let run = |args: &[&str]| git.succeeded(&repo.top, args).is_some();
    run(&["symbolic-ref", "-q", "HEAD"]) && !run(&["rev-parse", "-q", "--verify", "HEAD^{commit}"])
}

/// The commit `HEAD` names in the repository that holds `dir`, when
/// nothing under `dir` has uncommitted changes (only then does the commit
/// describe what `dir` holds); `None` when it has, or git cannot say.
pub(crate) fn clean_commit(git: &Git, dir: &Path) -> Option<String> {
    let head = git.succeeded(dir, &["rev-parse", "HEAD"])?;
    let commit = String::from_utf8(head.stdout).ok()?.trim().to_string();
    let status = git.succeeded(dir, &["status", "--porcelain", "--", "."])?;
    (status.stdout.is_empty() && !commit.is_empty()).then_some(commit)
}

/// The tree a snapshot resolved to in one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tree {
    /// A commit, by its full id.
    Commit(String),
    /// The index.
    Index,
}

impl Tree {
    /// `revision `main` (commit 1a2b…)`, or `the index`, for messages.
    fn describe(&self, rev: &str) -> String {
        match self {
            Tree::Commit(id) => format!("revision `{rev}` (commit {id})"),
            Tree::Index => "the index".to_string(),
        }
    }
}

/// A directory's place in its repository.
#[derive(Debug)]
struct Located {
    /// The top level of the work tree, with symbolic links resolved.
    top: PathBuf,
    /// The directory relative to `top` in git's form: `/`-separated, empty
    /// for the top level itself.
    rel: Vec<u8>,
}

/// Finds the repository holding `dir` and the place of `dir` in it. The
/// directory need not exist in the working tree (it may exist only at the
/// revision), so git is asked from its nearest existing ancestor.
fn locate(git: &Git, dir: &Path) -> Result<Located, Error> {
    let not_in = |message: String| -> Error {
        NotInRepository {
            path: display_path(dir),
            message,
        }
        .into()
    };
    let absolute = std::path::absolute(dir).map_err(|e| not_in(e.to_string()))?;
    let resolved = resolve(&absolute);
    let start = resolved
        .ancestors()
        .find(|a| a.is_dir())
        .ok_or_else(|| not_in("no part of the path exists".to_string()))?;
    let output = git.run(
        start,
        &[OsStr::new("rev-parse"), OsStr::new("--show-toplevel")],
    )?;
    if !output.status.success() {
        return Err(not_in(complaint(&output)));
    }
    let stdout = output.stdout.strip_suffix(b"\n").unwrap_or(&output.stdout);
    let top = git_to_path(stdout);
    // Resolved the same way as the directory, so that one is a prefix of
    // the other whatever links lead to the repository.
    let top = std::fs::canonicalize(&top)
        .map_err(|e| not_in(format!("its work tree `{}`: {e}", top.display())))?;
    let rel = resolved
        .strip_prefix(&top)
        .map_err(|_| not_in(format!("it is outside the work tree `{}`", top.display())))?;
    Ok(Located {
        top,
        rel: path_to_git(rel),
    })
}

/// `absolute` with symbolic links and `..` resolved as the system would, as
/// far as it exists; past that nothing exists, so nothing is a link and `..`
/// simply drops the name before it.
fn resolve(absolute: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

/// A relative path in git's form: names joined with `/`.
fn path_to_git(rel: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for component in rel.components() {
        if let Component::Normal(name) = component {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(name.as_encoded_bytes());
        }
    }
    out
}

/// A path as git printed it; git paths are bytes, which Unix takes as they are.
fn git_to_path(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// The full id of the commit `rev` names in the repository at `top`.
fn resolve_commit(git: &Git, top: &Path, rev: &str) -> Result<String, Error> {
    let revision_error = |message: String| -> Error {
        GitRevision {
            repo: top.display().to_string(),
            rev: rev.to_string(),
            message,
        }
        .into()
    };
    // `--end-of-options` keeps a revision such as `--output=x` from being
    // taken as an option; `^{commit}` refuses trees and blobs.
    let spec = format!("{rev}^{{commit}}");
    let args = ["rev-parse", "--verify", "--end-of-options", &spec].map(OsStr::new);
    let output = git.run(top, &args)?;
    if !output.status.success() {
        return Err(revision_error(complaint(&output)));
    }
    let id = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(revision_error(format!(
            "`git rev-parse` answered `{id}`, not a commit id"
        )));
    }
    Ok(id)
}

/// What a tree entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    /// A regular or executable file.
    File,
    /// A symbolic link; its blob holds the target.
    Symlink,
    /// A submodule: a commit of another repository.
    Submodule,
    /// A directory (listed only with `-t`).
    Tree,
}

/// One line of `git ls-tree -l`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TreeEntry {
    kind: EntryKind,
    oid: String,
    /// The blob's size; `None` for trees and submodules.
    size: Option<u64>,
    /// The path from the top of the repository, as git stores it.
    path: Vec<u8>,
}

/// One NUL-terminated record of `ls-tree -z` or `ls-files -z`: its fields
/// (text) and, after the tab, its path (any bytes).
fn split_record(record: &[u8]) -> Option<(&str, &[u8])> {
    let tab = record.iter().position(|&b| b == b'\t')?;
    let meta = std::str::from_utf8(&record[..tab]).ok()?;
    Some((meta, &record[tab + 1..]))
}

fn unexpected_record(command: &str, record: &[u8]) -> String {
    format!(
        "unexpected `git {command}` output `{}`",
        String::from_utf8_lossy(record)
    )
}

/// Parses `git ls-tree -r -z -l` output: NUL-terminated
/// `<mode> SP <type> SP <oid> SP+ <size> TAB <path>` records, where the path
/// may hold any byte but NUL.
fn parse_ls_tree(output: &[u8]) -> Result<Vec<TreeEntry>, String> {
    let mut entries = Vec::new();
    for record in output.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let unexpected = || unexpected_record("ls-tree", record);
        let (meta, path) = split_record(record).ok_or_else(unexpected)?;
        let mut fields = meta.split_ascii_whitespace();
        let (Some(mode), Some(kind), Some(oid), Some(size), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(unexpected());
        };
        let valid = !path.is_empty()
            && !mode.is_empty()
            && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
            && !oid.is_empty()
            && oid.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(unexpected());
        }
        let size = match size {
            "-" => None,
            n => Some(n.parse::<u64>().map_err(|_| unexpected())?),
        };
        let kind = match (kind, mode) {
            ("blob", "120000") => EntryKind::Symlink,
            ("blob", _) => EntryKind::File,
            ("commit", _) => EntryKind::Submodule,
            ("tree", _) => EntryKind::Tree,
            _ => return Err(unexpected()),
        };
        entries.push(TreeEntry {
            kind,
            oid: oid.to_string(),
            size,
            path: path.to_vec(),
        });
    }
    Ok(entries)
}

/// The entries below the directory `rel`, paired with their paths relative
/// to it, without those that have a hidden name below it (as the working-tree
/// walk skips them); `None` when nothing at all is below `rel`, which git
/// (keeping no empty directories) means it is not a directory.
fn below(entries: Vec<TreeEntry>, rel: &[u8]) -> Option<Vec<(PathBuf, TreeEntry)>> {
    let mut found = false;
    let mut out = Vec::new();
    for entry in entries {
        let sub = if rel.is_empty() {
            &entry.path[..]
        } else {
            match entry.path.strip_prefix(rel) {
                Some([b'/', sub @ ..]) => sub,
                _ => continue,
            }
        };
        found = true;
        if sub.split(|&b| b == b'/').any(|name| name.starts_with(b".")) {
            continue;
        }
        out.push((git_to_path(sub), entry));
    }
    found.then_some(out)
}

/// Reads blobs through one `git cat-file --batch`, in the order asked: `None`
/// for an object the repository does not have.
fn read_blobs(git: &Git, top: &Path, oids: &[&str]) -> Result<Vec<Option<Vec<u8>>>, Error> {
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |message: String| git_read_error(top, message);
    let mut child = git
        .command(top)
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git.unavailable(&e))?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed("could not talk to `git cat-file`".to_string()));
    };
    let request = batch_request(oids);
    let (blobs, complaint) = std::thread::scope(|scope| {
        // The request is written from another thread while this one reads,
        // so that neither pipe can fill up while git waits on the other.
        // Dropping `stdin` at the end tells git there is no more.
        let writer = scope.spawn(move || stdin.write_all(&request));
        let errors = scope.spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            text
        });
        // `read_batch` owns the reader: when it stops early, the pipe closes
        // and git (and so the writer) stop instead of blocking.
        let blobs = read_batch(BufReader::new(stdout), oids);
        let _ = writer.join();
        let complaint = errors.join().unwrap_or_default();
        (blobs, complaint)
    });
    let status = child.wait().map_err(|e| failed(e.to_string()))?;
    let complaint = String::from_utf8_lossy(&complaint).trim().to_string();
    match blobs {
        Err(message) if complaint.is_empty() => Err(failed(message)),
        Err(message) => Err(failed(format!("{message}: {complaint}"))),
        Ok(_) if !status.success() => Err(failed(format!(
            "`git cat-file` ended with {status}: {complaint}"
        ))),
        Ok(blobs) => Ok(blobs),
    }
}

/// Reads `git cat-file --batch` answers, `<oid> blob <size>\n<bytes>\n` or
/// `<oid> missing\n`, one for each of `oids` in order.
fn read_batch(mut out: impl BufRead, oids: &[&str]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let stopped = || "`git cat-file` stopped early".to_string();
    let mut blobs = Vec::with_capacity(oids.len());
    let mut line = Vec::new();
    for oid in oids {
        line.clear();
        out.read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if line.pop() != Some(b'\n') {
            return Err(stopped());
        }
        let header = String::from_utf8_lossy(&line);
        let unexpected = || format!("`git cat-file` answered `{header}` when asked for {oid}");
        let mut fields = header.split(' ');
        if fields.next() != Some(*oid) {
            return Err(unexpected());
        }
        match (fields.next(), fields.next(), fields.next()) {
            (Some("missing"), None, None) => blobs.push(None),
            (Some("blob"), Some(size), None) => {
                let size: u64 = size.parse().map_err(|_| unexpected())?;
                let mut bytes = Vec::new();
                out.by_ref()
                    .take(size)
                    .read_to_end(&mut bytes)
                    .map_err(|e| e.to_string())?;
                let mut newline = [0u8; 1];
                if bytes.len() as u64 != size || out.read_exact(&mut newline).is_err() {
                    return Err(stopped());
                }
                if newline != [b'\n'] {
                    return Err(unexpected());
                }
                blobs.push(Some(bytes));
            }
            _ => return Err(unexpected()),
        }
    }
    Ok(blobs)
}

/// The error of a git command that failed, or answered unexpectedly, while
/// listing a located directory.
fn read_error(located: &Located, message: String) -> Error {
    git_read_error(&located.top, message)
}

/// Git failed, or answered unexpectedly, in the repository at `top`.
fn git_read_error(top: &Path, message: String) -> Error {
    GitRead {
        repo: top.display().to_string(),
        message,
    }
    .into()
}

/// What `git cat-file --batch` and `--batch-check` are asked: an object id
/// a line.
fn batch_request(oids: &[&str]) -> Vec<u8> {
    let mut request = Vec::with_capacity(oids.len() * 41);
    for oid in oids {
        request.extend_from_slice(oid.as_bytes());
        request.push(b'\n');
    }
    request
}

/// One line of `git ls-files --stage`: an entry, and its merge stage (0
/// unless the index holds a conflict).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Staged {
    entry: TreeEntry,
    stage: u8,
}

/// Parses `git ls-files --stage -z` output: NUL-terminated
/// `<mode> SP <oid> SP <stage> TAB <path>` records. Sizes are not listed.
fn parse_ls_files(output: &[u8]) -> Result<Vec<Staged>, String> {
    let mut staged = Vec::new();
    for record in output.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let unexpected = || unexpected_record("ls-files", record);
        let (meta, path) = split_record(record).ok_or_else(unexpected)?;
        let mut fields = meta.split(' ');
        let (Some(mode), Some(oid), Some(stage), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(unexpected());
        };
        let valid =
            !path.is_empty() && !oid.is_empty() && oid.bytes().all(|b| b.is_ascii_hexdigit());
        let stage: u8 = stage.parse().map_err(|_| unexpected())?;
        if !valid || stage > 3 {
            return Err(unexpected());
        }
        let kind = match mode {
            "120000" => EntryKind::Symlink,
            "160000" => EntryKind::Submodule,
            "100644" | "100755" | "100664" => EntryKind::File,
            _ => return Err(unexpected()),
        };
        staged.push(Staged {
            entry: TreeEntry {
                kind,
                oid: oid.to_string(),
                size: None,
                path: path.to_vec(),
            },
            stage,
        });
    }
    Ok(staged)
}

/// The sizes of blobs, through one `git cat-file --batch-check`: `None` for
/// one the repository does not have.
fn blob_sizes(git: &Git, top: &Path, oids: &[&str]) -> Result<Vec<Option<u64>>, Error> {
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |message: String| git_read_error(top, message);
    let request = batch_request(oids);
    let mut child = git
        .command(top)
        .args(["cat-file", "--batch-check", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git.unavailable(&e))?;
    let Some(mut stdin) = child.stdin.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed("could not talk to `git cat-file`".to_string()));
    };
    // The answers are short lines, but a large request could still fill the
    // pipe back while git waits for us to read: write from another thread.
    let output = std::thread::scope(|scope| {
        let writer = scope.spawn(move || stdin.write_all(&request));
        let output = child.wait_with_output();
        let _ = writer.join();
        output
    })
    .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(complaint(&output)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    oids.iter()
        .map(|oid| {
            let line = lines
                .next()
                .ok_or_else(|| failed("`git cat-file` stopped early".to_string()))?;
            let fields: Vec<&str> = line.split(' ').collect();
            match fields[..] {
                [id, "missing"] if id == *oid => Ok(None),
                [id, "blob", size] if id == *oid => size
                    .parse()
                    .map(Some)
                    .map_err(|_| failed(format!("`git cat-file` answered `{line}`"))),
                _ => Err(failed(format!(
                    "`git cat-file` answered `{line}` when asked for {oid}"
                ))),
            }
        })
        .collect()
}

/// Where a listed file's bytes will come from.
enum Pending {
    /// The blob at this index of the batch read.
    Blob(usize),
    /// It cannot be read, and why.
    Failed(Box<Diagnostic>),
}

/// Reading at one revision.
struct At<'a> {
    git: &'a Git,
    rev: &'a str,
}

impl At<'_> {
    /// The entries below a located directory in `tree` (see [`below`]);
    /// only that directory's part of the tree is listed, however large the
    /// repository.
    fn list(
        &self,
        located: &Located,
        tree: &Tree,
        dir: &Path,
    ) -> Result<Vec<(PathBuf, TreeEntry)>, Error> {
        let entries = match tree {
            Tree::Commit(commit) => self.list_commit(located, commit)?,
            Tree::Index => self.list_index(located)?,
        };
        below(entries, &located.rel).ok_or_else(|| {
            NotADirectoryAtRevision {
                path: display_path(dir),
                at: tree.describe(self.rev),
            }
            .into()
        })
    }

    fn list_commit(&self, located: &Located, commit: &str) -> Result<Vec<TreeEntry>, Error> {
        let spec = git_to_path(&located.rel);
        let mut args: Vec<&OsStr> = ["ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--"]
            .map(OsStr::new)
            .to_vec();
        if !located.rel.is_empty() {
            args.push(spec.as_os_str());
        }
        let output = self.git.run(&located.top, &args)?;
        if !output.status.success() {
            return Err(read_error(located, complaint(&output)));
        }
        parse_ls_tree(&output.stdout).map_err(|m| read_error(located, m))
    }

    /// The staged entries under the directory, with their blobs' sizes (so
    /// that limits apply before anything is read), as `ls-tree` gives them
    /// for a commit.
    fn list_index(&self, located: &Located) -> Result<Vec<TreeEntry>, Error> {
        let spec = git_to_path(&located.rel);
        let mut args: Vec<&OsStr> = ["ls-files", "--stage", "-z", "--full-name", "--"]
            .map(OsStr::new)
            .to_vec();
        if !located.rel.is_empty() {
            args.push(spec.as_os_str());
        }
        let mut command = self.git.command(&located.top);
        if let Some(index) = hook_index(self.git, &located.top) {
            command.env("GIT_INDEX_FILE", index);
        }
        let output = command
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.git.unavailable(&e))?;
        if !output.status.success() {
            return Err(read_error(located, complaint(&output)));
        }
        let staged = parse_ls_files(&output.stdout).map_err(|m| read_error(located, m))?;
        if let Some(conflict) = staged.iter().find(|s| s.stage != 0) {
            return Err(IndexConflict {
                repo: located.top.display().to_string(),
                path: String::from_utf8_lossy(&conflict.entry.path).into_owned(),
            }
            .into());
        }
        let mut entries: Vec<TreeEntry> = staged.into_iter().map(|s| s.entry).collect();
        let blobs: Vec<&str> = entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.oid.as_str())
            .collect();
        let sizes = blob_sizes(self.git, &located.top, &blobs)?;
        for (entry, size) in entries
            .iter_mut()
            .filter(|e| e.kind == EntryKind::File)
            .zip(sizes)
        {
            // A blob the repository lacks has no size; reading it reports it.
            entry.size = size;
        }
        Ok(entries)
    }

    /// The inventory in `tree`: the same files, in the same order, with the
    /// same shown paths and findings as the working-tree walk would give for
    /// the same content. Symbolic links, which that walk follows, are
    /// findings, since a commit holds only their targets' names.
    fn inventory(
        &self,
        located: &Located,
        tree: &Tree,
        dir: &Path,
        limits: &Limits,
    ) -> Result<RawInventory, Error> {
        let listed = self.list(located, tree, dir)?;
        let mut oids: Vec<&str> = Vec::new();
        let mut records = Vec::new();
        let mut waivers = Vec::new();
        let mut snapshots = Vec::new();
        for (sub, entry) in &listed {
            let path = dir.join(sub);
            let shown = display_path(&path);
            match entry.kind {
                EntryKind::Submodule | EntryKind::Tree => {}
                EntryKind::Symlink => records.push((
                    path,
                    Pending::Failed(Box::new(Refused::Symlink.finding(&shown))),
                )),
                EntryKind::File => {
                    let Some(role) = inventory_file(sub) else {
                        continue;
                    };
                    let pending = match check_size(&shown, entry.size.unwrap_or(0), limits) {
                        Ok(()) => {
                            oids.push(&entry.oid);
                            Pending::Blob(oids.len() - 1)
                        }
                        Err(d) => Pending::Failed(d),
                    };
                    match role {
                        InventoryFile::Records => records.push((path, pending)),
                        InventoryFile::Waivers => waivers.push((path, pending)),
                        InventoryFile::Snapshot => snapshots.push((path, pending)),
                    }
                }
            }
        }
        let mut blobs = read_blobs(self.git, &located.top, &oids)?;
        let mut fetch = |(path, pending): (PathBuf, Pending)| {
            let bytes = match pending {
                Pending::Failed(d) => Err(d),
                Pending::Blob(i) => match blobs.get_mut(i).and_then(Option::take) {
                    Some(bytes) => Ok(bytes),
                    None => Err(Box::new(Diagnostic::error(
                        Code::ReadFailed,
                        format!(
                            "could not read `{}`: object {} is missing from the repository",
                            display_path(&path),
                            oids.get(i).copied().unwrap_or_default()
                        ),
                    ))),
                },
            };
            (path, bytes)
        };
        let records: Vec<_> = records.into_iter().map(&mut fetch).collect();
        let waivers: Vec<_> = waivers.into_iter().map(&mut fetch).collect();
        let snapshots: Vec<_> = snapshots.into_iter().map(&mut fetch).collect();
        Ok(build_inventory(
            records,
            waivers,
            snapshots,
            limits,
            |_, bytes| bytes,
        ))
    }

    /// The policy pack at `commit`. Unlike the inventory, a policy that
    /// cannot be read stops the run, as in the working tree; so does a
    /// symbolic link, which may lead to policies that would be left out (as in
    /// the working tree).
    fn policies(&self, located: &Located, tree: &Tree, dir: &Path) -> Result<PolicySources, Error> {
        let listed = self.list(located, tree, dir)?;
        let mut schema = None;
        let mut files = Vec::new();
        for (sub, entry) in &listed {
            let path = dir.join(sub);
            match entry.kind {
                EntryKind::Submodule | EntryKind::Tree => {}
                EntryKind::Symlink => {
                    return Err(ReadFile {
                        path: display_path(&path),
                        message: Refused::Symlink.reason(),
                    }
                    .into());
                }
                EntryKind::File => {
                    if sub == Path::new(SCHEMA_FILE) {
                        schema = Some((path.clone(), entry.oid.as_str()));
                    }
                    if is_policy_file(sub) {
                        files.push((path, entry.oid.as_str()));
                    }
                }
            }
        }
        let schema = schema.ok_or_else(|| ReadFile {
            path: display_path(&dir.join(SCHEMA_FILE)),
            message: format!("it is not in {}", tree.describe(self.rev)),
        })?;
        let wanted: Vec<(PathBuf, &str)> = std::iter::once(schema).chain(files).collect();
        let oids: Vec<&str> = wanted.iter().map(|(_, oid)| *oid).collect();
        let blobs = read_blobs(self.git, &located.top, &oids)?;
        let mut texts = Vec::with_capacity(wanted.len());
        for ((path, oid), bytes) in wanted.into_iter().zip(blobs) {
            let shown = display_path(&path);
            let Some(bytes) = bytes else {
                return Err(ReadFile {
                    path: shown,
                    message: format!("object {oid} is missing from the repository"),
                }
                .into());
            };
            texts.push(policy_text(shown, bytes)?);
        }
        let mut texts = texts.into_iter();
        let schema = texts.next().ok_or_else(|| ReadFile {
            path: display_path(&dir.join(SCHEMA_FILE)),
            message: "`git cat-file` did not answer".to_string(),
        })?;
        Ok(policy_sources(schema, texts.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use std::sync::Arc;

    /// Settings that keep the machine's git configuration out of the tests.
    const ISOLATED: [(&str, &str); 2] = [
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ];

    fn rev(rev: &str) -> Snapshot {
        Snapshot::Revision(rev.to_string())
    }

    fn isolated() -> Git {
        Git {
            program: OsString::from("git"),
            env: ISOLATED
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                .collect(),
        }
    }

    /// A scratch repository.
    struct Repo {
        dir: tempfile::TempDir,
    }

    impl Repo {
        fn new() -> Repo {
            let repo = Repo {
                dir: tempfile::tempdir().expect("tempdir"),
            };
            repo.git(&["init", "-q"]);
            repo
        }

        fn root(&self) -> PathBuf {
            std::fs::canonicalize(self.dir.path()).expect("canonical")
        }

        fn git(&self, args: &[&str]) -> String {
            let output = Command::new("git")
                .arg("-C")
                .arg(self.dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
                .args(args)
                .envs(ISOLATED)
                .env_remove("GIT_DIR")
                .env_remove("GIT_WORK_TREE")
                .env_remove("GIT_INDEX_FILE")
                .output()
                .expect("git runs");
            assert!(
                output.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).expect("utf-8")
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }

        fn commit(&self) -> String {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "-m", "change"]);
            self.git(&["rev-parse", "HEAD"]).trim().to_string()
        }

        fn policies(&self, under: &str) {
            self.write(
                &format!("{under}/schema.cedarschema"),
                "namespace Severance {}\n",
            );
            self.write(&format!("{under}/offboarding.cedar"), "// none\n");
        }
    }

    fn sources(inventory: PathBuf, policies: PathBuf) -> Sources {
        Sources {
            inventory,
            policies,
            limits: Limits::default(),
            revision: None,
        }
    }

    fn ids(files: &[Arc<SourceFile>]) -> Vec<(&str, &str)> {
        files
            .iter()
            .map(|f| (f.path.as_str(), f.text.as_str()))
            .collect()
    }

    #[test]
    fn reads_the_commit_and_leaves_the_work_tree_and_index_alone() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("inventory/teams.yaml", "kind: team\nid: team/a\n");
        repo.policies("policies");
        let head = repo.commit();
        repo.write("inventory/teams.yaml", "kind: team\nid: team/changed\n");
        repo.write("inventory/staged.yaml", "kind: team\nid: team/staged\n");
        repo.git(&["add", "inventory/staged.yaml"]);
        std::fs::remove_file(root.join("policies/offboarding.cedar")).expect("rm");
        let status = repo.git(&["status", "--porcelain"]);
        let index = std::fs::read(root.join(".git/index")).expect("index");
        let mut git_dir: Vec<_> = std::fs::read_dir(root.join(".git"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        git_dir.sort();

        let inventory = root.join("inventory");
        let loaded = load_at(
            &sources(inventory.clone(), root.join("policies")),
            &rev("HEAD"),
            &isolated(),
        )
        .expect("loads");

        assert_eq!(loaded.commit.as_deref(), Some(head.as_str()));
        let shown = display_path(&inventory.join("teams.yaml"));
        assert_eq!(
            ids(&loaded.inventory.files),
            [(shown.as_str(), "kind: team\nid: team/a\n")]
        );
        assert_eq!(crate::load::tests::parsed(&loaded.inventory).0, 1);
        assert!(loaded.inventory.diagnostics.is_empty());
        assert_eq!(loaded.policies.policies.len(), 1);
        assert_eq!(loaded.policies.schema.text, "namespace Severance {}\n");

        assert_eq!(
            std::fs::read(root.join(".git/index")).expect("index"),
            index
        );
        let mut after: Vec<_> = std::fs::read_dir(root.join(".git"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        after.sort();
        assert_eq!(after, git_dir);
        assert_eq!(repo.git(&["status", "--porcelain"]), status);
        assert_eq!(
            std::fs::read_to_string(inventory.join("teams.yaml")).expect("read"),
            "kind: team\nid: team/changed\n"
        );
    }

    #[test]
    fn the_same_content_gives_the_same_inventory_from_either_origin() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("inv/teams.yaml", "kind: team\nid: team/a\n");
        repo.write("inv/a/list.yml", "- {kind: team, id: team/b}\n- 42\n");
        repo.write(
            "inv/a-b.yaml",
            "kind: team\nid: team/c\n---\nkind: team\nid: team/d\n",
        );
        repo.write("inv/broken.yaml", "kind: [team\n");
        repo.write(
            "inv/big.yaml",
            &format!("kind: team\nid: team/big\n#{}\n", "x".repeat(200)),
        );
        repo.write("inv/waivers.yaml", "- waive: everything\n");
        repo.write("inv/sub/waivers.yaml", "kind: team\nid: team/e\n");
        repo.write("inv/.archive/old.yaml", "kind: team\nid: team/old\n");
        repo.write("inv/sub/.hidden.yaml", "kind: team\nid: team/hidden\n");
        repo.write("inv/README.md", "not yaml\n");
        std::fs::write(root.join("inv/latin1.yaml"), b"name: \xe9\n").expect("write");
        repo.policies("pol");
        repo.commit();

        let limits = Limits {
            max_file_bytes: 128,
            ..Limits::default()
        };
        let inventory = root.join("inv");
        let mut at = sources(inventory.clone(), root.join("pol"));
        at.limits = limits;
        let loaded = load_at(&at, &rev("HEAD"), &isolated()).expect("loads");
        let tree = crate::load::load_inventory(&inventory, &limits).expect("loads");

        assert_eq!(format!("{:?}", loaded.inventory), format!("{tree:?}"));
        let shown: Vec<&str> = loaded
            .inventory
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert!(
            !shown
                .iter()
                .any(|p| p.contains("old") || p.contains("hidden"))
        );
        assert!(!shown.iter().any(|p| p.ends_with("inv/waivers.yaml")));
        assert!(shown.iter().any(|p| p.ends_with("inv/sub/waivers.yaml")));
        let waivers = loaded.inventory.waivers.as_ref().expect("waivers");
        assert_eq!(waivers.text, "- waive: everything\n");
        // Reading problems come from loading, parsing problems from parsing
        // the files read.
        let mut codes: Vec<Code> = loaded
            .inventory
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
        let (_, problems) = crate::load::tests::parsed(&loaded.inventory);
        codes.extend(problems.iter().map(|d| d.code));
        assert!(codes.contains(&Code::YamlLimit), "{codes:?}");
        assert!(codes.contains(&Code::YamlSyntax), "{codes:?}");
        assert!(codes.contains(&Code::NotARecord), "{codes:?}");
        assert!(codes.contains(&Code::ReadFailed), "{codes:?}");

        let policies = crate::load::load_policies(&root.join("pol")).expect("loads");
        assert_eq!(ids(&loaded.policies.policies), ids(&policies.policies));
        assert_eq!(loaded.policies.schema.path, policies.schema.path);
    }

    #[test]
    fn a_subdirectory_is_found_from_anywhere_even_when_gone_from_the_work_tree() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("org/inventory/teams.yaml", "kind: team\nid: team/a\n");
        repo.write("org/inventory/.git-keep/x.yaml", "kind: team\nid: team/x\n");
        repo.write("other/teams.yaml", "kind: team\nid: team/other\n");
        repo.policies("org/policies");
        repo.commit();
        std::fs::remove_dir_all(root.join("org/inventory")).expect("rm");

        // The tests run in the crate's directory, not in `repo`; the path
        // also passes through a directory that does not exist.
        let inventory = root.join("org/gone/../inventory");
        let loaded = load_at(
            &sources(inventory.clone(), root.join("org/policies")),
            &rev("HEAD"),
            &isolated(),
        )
        .expect("loads");
        let shown = display_path(&inventory.join("teams.yaml"));
        assert_eq!(
            ids(&loaded.inventory.files),
            [(shown.as_str(), "kind: team\nid: team/a\n")]
        );
    }

    #[test]
    fn a_revision_that_is_not_a_commit_is_an_error() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("inventory/teams.yaml", "kind: team\nid: team/a\n");
        repo.policies("policies");
        repo.commit();
        let at = sources(root.join("inventory"), root.join("policies"));
        for rev in ["no-such-branch", "HEAD^{tree}", "--output=x", ""] {
            let err = load_at(&at, &Snapshot::Revision(rev.to_string()), &isolated())
                .expect_err("not a commit");
            assert!(matches!(err, Error::GitRevision(_)), "{rev}: {err:?}");
            assert!(err.to_string().contains(&format!("`{rev}`")), "{err}");
        }
    }

    #[test]
    fn a_directory_missing_at_the_revision_is_an_error() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("inventory/teams.yaml", "kind: team\nid: team/a\n");
        let first = repo.commit();
        repo.policies("policies");
        repo.commit();
        let at = sources(root.join("inventory"), root.join("policies"));
        let err = load_at(&at, &rev(&first), &isolated()).expect_err("no policies");
        assert!(matches!(err, Error::NotADirectoryAtRevision(_)), "{err:?}");
        assert!(err.to_string().contains(&format!("`{first}`")), "{err}");

        repo.write("policies/sub/x.cedar", "// x\n");
        std::fs::remove_file(root.join("policies/schema.cedarschema")).expect("rm");
        repo.commit();
        let err = load_at(&at, &rev("HEAD"), &isolated()).expect_err("no schema");
        assert!(matches!(err, Error::ReadFile(_)), "{err:?}");
    }

    #[test]
    fn a_directory_outside_any_repository_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let mut git = isolated();
        git.env.push((
            OsString::from("GIT_CEILING_DIRECTORIES"),
            root.parent().expect("parent").as_os_str().to_owned(),
        ));
        let at = sources(root.join("inventory"), root.join("policies"));
        let err = load_at(&at, &rev("HEAD"), &git).expect_err("no repository");
        assert!(matches!(err, Error::NotInRepository(_)), "{err:?}");
    }

    #[test]
    fn a_missing_git_is_an_error() {
        let repo = Repo::new();
        let root = repo.root();
        let git = Git {
            program: OsString::from("/nonexistent/git"),
            env: Vec::new(),
        };
        let at = sources(root.join("inventory"), root.join("policies"));
        let err = load_at(&at, &rev("HEAD"), &git).expect_err("no git");
        assert!(matches!(err, Error::GitUnavailable(_)), "{err:?}");
    }

    /// A ledger's run names the inventory's commit only while nothing
    /// under the inventory differs from it; changes elsewhere do not count.
    #[test]
    fn a_commit_describes_a_directory_only_while_it_is_clean() {
        let repo = Repo::new();
        let root = repo.root();
        let git = isolated();
        assert_eq!(clean_commit(&git, &root.join("inventory")), None, "unborn");
        repo.write("inventory/a.yaml", "a: 1\n");
        repo.write("other/b.yaml", "b: 1\n");
        let commit = repo.commit();
        let inventory = root.join("inventory");
        assert_eq!(clean_commit(&git, &inventory), Some(commit.clone()));
        repo.write("other/b.yaml", "b: 2\n");
        assert_eq!(clean_commit(&git, &inventory), Some(commit));
        repo.write("inventory/new.yaml", "c: 1\n");
        assert_eq!(clean_commit(&git, &inventory), None, "untracked file");
        let outside = tempfile::tempdir().expect("tempdir");
        let mut git = isolated();
        git.env.push((
            OsString::from("GIT_CEILING_DIRECTORIES"),
            outside
                .path()
                .parent()
                .expect("parent")
                .as_os_str()
                .to_owned(),
        ));
        assert_eq!(clean_commit(&git, outside.path()), None, "no repository");
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_findings_at_a_revision() {
        let repo = Repo::new();
        let root = repo.root();
        repo.write("shared/teams.yaml", "kind: team\nid: team/a\n");
        repo.write("inventory/own.yaml", "kind: team\nid: team/b\n");
        std::os::unix::fs::symlink("../shared/teams.yaml", root.join("inventory/linked.yaml"))
            .expect("symlink");
        repo.policies("policies");
        repo.commit();
        let inventory = root.join("inventory");
        let loaded = load_at(
            &sources(inventory.clone(), root.join("policies")),
            &rev("HEAD"),
            &isolated(),
        )
        .expect("loads");
        assert_eq!(loaded.inventory.files.len(), 1);
        let [d] = &loaded.inventory.diagnostics[..] else {
            panic!("{:?}", loaded.inventory.diagnostics)
        };
        assert_eq!(d.code, Code::ReadFailed);
        let shown = display_path(&inventory.join("linked.yaml"));
        assert!(d.message.contains(&format!("`{shown}`")), "{}", d.message);
    }

    #[test]
    fn ls_tree_output_is_parsed_whatever_the_names() {
        let output =
            b"100644 blob 78981922613b2afb6025042ff6bd878ac1994e85       2\tinv/a b\tc\nd.yaml\0\
120000 blob d0629c48e74118bb6d89fc1ab6dffb17f2b85453       6\tinv/l.yaml\0\
160000 commit d0629c48e74118bb6d89fc1ab6dffb17f2b85453       -\tinv/sub\0";
        let entries = parse_ls_tree(output).expect("parses");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].kind, EntryKind::File);
        assert_eq!(entries[0].size, Some(2));
        assert_eq!(entries[0].path, b"inv/a b\tc\nd.yaml");
        assert_eq!(entries[1].kind, EntryKind::Symlink);
        assert_eq!(entries[2].kind, EntryKind::Submodule);
        assert_eq!(entries[2].size, None);

        let under = below(entries.clone(), b"inv").expect("a directory");
        assert_eq!(under.len(), 3);
        assert_eq!(under[0].0, PathBuf::from("a b\tc\nd.yaml"));
        assert!(below(entries.clone(), b"in").is_none());
        assert!(below(entries, b"inv/l.yaml").is_none());

        assert!(parse_ls_tree(b"100644 blob abc\tx\0").is_err());
        assert!(parse_ls_tree(b"100644 blob xyz 2\tx\0").is_err());
        assert!(parse_ls_tree(b"100644 blob abc 2 x\0").is_err());
        assert!(parse_ls_tree(b"").expect("empty").is_empty());
    }

    #[test]
    fn batch_answers_are_read_in_order() {
        let answers = b"aa blob 3\nabc\nbb missing\ncc blob 0\n\n";
        let blobs = read_batch(&answers[..], &["aa", "bb", "cc"]).expect("reads");
        assert_eq!(blobs, [Some(b"abc".to_vec()), None, Some(Vec::new())]);
        assert!(read_batch(&b"aa blob 3\nab"[..], &["aa"]).is_err());
        assert!(read_batch(&b"bb blob 1\nx\n"[..], &["aa"]).is_err());
    }

    #[test]
    fn paths_resolve_through_missing_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        std::fs::create_dir(root.join("real")).expect("mkdir");
        assert_eq!(resolve(&root.join("gone/../real/./x")), root.join("real/x"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
            assert_eq!(resolve(&root.join("link/x/y")), root.join("real/x/y"));
        }
        assert_eq!(path_to_git(Path::new("a/./b")), b"a/b");
    }

    #[test]
    fn ls_files_output_is_parsed_with_stages_and_kinds() {
        let oid = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
        let output = format!(
            "100644 {oid} 0\tinv/a b.yaml\0120000 {oid} 0\tinv/link\0160000 {oid} 0\tinv/sub\0100644 {oid} 2\tinv/c.yaml\0"
        );
        let staged = parse_ls_files(output.as_bytes()).expect("parses");
        let kinds: Vec<(EntryKind, u8, &[u8])> = staged
            .iter()
            .map(|s| (s.entry.kind, s.stage, &s.entry.path[..]))
            .collect();
        assert_eq!(
            kinds,
            [
                (EntryKind::File, 0, &b"inv/a b.yaml"[..]),
                (EntryKind::Symlink, 0, &b"inv/link"[..]),
                (EntryKind::Submodule, 0, &b"inv/sub"[..]),
                (EntryKind::File, 2, &b"inv/c.yaml"[..]),
            ]
        );
        for bad in [
            "100644 xyz 0\ta\0",
            "100644 {oid} 9\ta\0",
            "040000 {oid} 0\ta\0",
            "100644 {oid}\ta\0",
        ] {
            let bad = bad.replace("{oid}", oid);
            assert!(parse_ls_files(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_index_is_read_and_a_conflict_refused() {
        let repo = Repo::new();
        let root = repo.root();
        std::fs::create_dir_all(root.join("inv")).expect("mkdir");
        std::fs::write(
            root.join("inv/a.yaml"),
            "- {kind: team, id: team/a, name: A}\n",
        )
        .expect("write");
        repo.git(&["add", "inv/a.yaml"]);
        // Untracked: not in the index, so not read.
        std::fs::write(
            root.join("inv/b.yaml"),
            "- {kind: team, id: team/b, name: B}\n",
        )
        .expect("write");
        let at = At {
            git: &isolated(),
            rev: "index",
        };
        let located = locate(&isolated(), &root.join("inv")).expect("located");
        let listed = at
            .list(&located, &Tree::Index, &root.join("inv"))
            .expect("listed");
        let names: Vec<String> = listed
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(names, ["a.yaml"]);
        assert_eq!(listed[0].1.size, Some(36));
        // A conflicted path has stages 1 to 3 and no stage 0.
        let blob = repo.git(&["hash-object", "-w", "inv/b.yaml"]);
        let index_info = format!("100644 {} 2\tinv/b.yaml\n", blob.trim());
        let status = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(["update-index", "--index-info"])
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(index_info.as_bytes())?;
                child.wait()
            })
            .expect("git runs");
        assert!(status.success());
        let err = at
            .list(&located, &Tree::Index, &root.join("inv"))
            .expect_err("conflict");
        assert!(matches!(err, Error::IndexConflict(_)), "{err:?}");
    }
}
