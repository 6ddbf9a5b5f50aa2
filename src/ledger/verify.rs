//! The auditor's check, offline and trusting nothing but the pinned key:
//! every line (canonical, no duplicate keys, schema, sequence, log, chain),
//! every checkpoint (syntax, signature, root, sizes) and every checkpoint
//! the auditor kept from earlier (truncation, forks). Each failure has a
//! stable code and names its line; `docs/ledger.md` lists them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rayon::prelude::*;

use super::codes::FailureCode;
use super::entry::{Body, Entry, Kind, Reference, approval_message};
use super::jcs::{self, LineError};
use super::merkle::{self, GENESIS_HASH, Hash};
use super::note::{self, Checkpoint, SignatureCheck, VerifierKey};
use super::store::{CHECKPOINT, CHECKPOINTS, Contents, read_entries};
use super::{DecisionSummary, Recorded};

/// One way the ledger failed verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// Stable kebab-case code.
    pub code: FailureCode,
    /// The 1-based line of `entries.jsonl`, or the checkpoint's file.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

/// A checkpoint that was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCheckpoint {
    /// Where it came from.
    pub source: String,
    /// Its size, if it parsed.
    pub size: Option<u64>,
}

/// The result of verification.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The pinned key's name, which must be the log's origin.
    pub origin: String,
    /// The pinned key, `name+id`.
    pub key: String,
    /// Complete entries.
    pub size: u64,
    /// The root over all complete entries.
    pub root: Option<Hash>,
    /// The largest size a valid checkpoint signs.
    pub sealed: u64,
    /// Earliest and latest `ts`.
    pub time_range: Option<(String, String)>,
    /// Entries by type.
    pub types: BTreeMap<&'static str, u64>,
    /// Checkpoints examined.
    pub checkpoints: Vec<CheckedCheckpoint>,
    /// Everything that failed.
    pub failures: Vec<Failure>,
}

impl Report {
    fn new(key: &VerifierKey) -> Report {
        Report {
            origin: key.name.clone(),
            key: key.short(),
            ..Report::default()
        }
    }

    fn fail(&mut self, code: FailureCode, place: impl Into<String>, message: impl Into<String>) {
        self.failures.push(Failure {
            code,
            place: place.into(),
            message: message.into(),
        });
    }

    /// Whether everything held.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Verifies the ledger in `dir` against the pinned key and the auditor's
/// own checkpoints (`(name, text)` pairs).
pub fn verify(dir: &Path, key: &VerifierKey, external: &[(String, String)]) -> Report {
    match read_entries(dir) {
        // An auditor's check needs the verdict only: not keeping every
        // parsed entry keeps a million-entry ledger's memory to its text.
        Ok(Some(contents)) => verify_contents(dir, &contents, key, external),
        Ok(None) => {
            let mut report = Report::new(key);
            report.fail(
                FailureCode::MissingEntries,
                "entries.jsonl",
                "the ledger has no `entries.jsonl`",
            );
            report
        }
        Err(e) => {
            let mut report = Report::new(key);
            report.fail(FailureCode::Encoding, "entries.jsonl", e);
            report
        }
    }
}

/// Verifies contents already read from `dir`, for a reader that goes on to
/// read the entries it has verified.
pub fn verify_contents(
    dir: &Path,
    contents: &Contents,
    key: &VerifierKey,
    external: &[(String, String)],
) -> Report {
    check_entries(dir, contents, key, external, false, BLOCK).report
}

/// What checking a ledger's contents found, with the parsed entries and
/// leaf hashes, so that a writer extending the ledger reads it only once.
pub struct Checked {
    /// The verdict.
    pub report: Report,
    /// Every line that parsed and passed the schema, in order (all of them
    /// when the report has no line failures); decision entries are kept as
    /// their [`DecisionSummary`], which is all a writer needs of them and a
    /// small part of their size.
    pub entries: Vec<Recorded>,
    /// The leaf hash of every complete line.
    pub leaves: Vec<Hash>,
}

/// What one line says about itself and its place in the log: all that can
/// be checked knowing only the line, its index and the leaf hash before it,
/// which is every check but the evidence links and the approver list.
struct Single {
    /// Failures, in the order they are reported.
    failures: Vec<(FailureCode, String)>,
    /// What the in-order pass needs; `None` when the line could not be read
    /// as an entry of its type, and so takes part in no later check.
    facts: Option<Facts>,
}

/// The parts of an entry that later lines depend on, or that the report
/// sums up. The entry itself is dropped where it was read (unless a writer
/// keeps it), on the core that read it.
struct Facts {
    kind: Kind,
    ts: String,
    /// The earlier entry it refers to.
    reference: Option<Reference>,
    /// An approval's approver key and signature.
    approval: Option<(String, String)>,
    /// The trusted list an `approvers` entry sets.
    approvers: Option<Vec<String>>,
    /// What a writer keeps of it.
    kept: Option<Recorded>,
}

/// What a line is checked against besides itself.
struct Expect<'k> {
    key: &'k VerifierKey,
    /// The pinned key as a genesis entry names it.
    encoded_key: String,
    keep: bool,
}

/// Reads line `i` as an entry (bytes, JSON, canonical form, schema) and
/// checks its envelope.
fn check_single(line: &str, i: usize, prev: &Hash, expect: &Expect) -> Single {
    let failed = |code, message: String| Single {
        failures: vec![(code, message)],
        facts: None,
    };
    let (value, canonical) = match parse_line(line) {
        Ok(parsed) => parsed,
        Err((code, message)) => return failed(code, message),
    };
    let mut failures = Vec::new();
    if !canonical {
        failures.push((
            FailureCode::NonCanonical,
            "the line is not in RFC 8785 canonical form".to_string(),
        ));
    }
    let entry = match Entry::read(&value) {
        Ok(entry) => entry,
        Err(misfit) => {
            failures.push((FailureCode::Schema, misfit.to_string()));
            return Single {
                failures,
                facts: None,
            };
        }
    };
    check_envelope(&entry, i, prev, expect, &mut failures);
    let kept = expect.keep.then(|| match &entry.body {
        Body::Decision(_) if canonical => Recorded::Decision(DecisionSummary::of_line(&value)),
        Body::Decision(d) => Recorded::Decision(DecisionSummary::of(&d.body)),
        _ => Recorded::Entry(Box::new(entry.clone())),
    });
    let Entry { envelope, body } = entry;
    let approval = match &body {
        Body::Approval(a) => Some((a.approver.clone(), a.signature.clone())),
        _ => None,
    };
    let reference = body.reference();
    let kind = body.kind();
    let approvers = match body {
        Body::Approvers(a) => Some(a.approvers),
        _ => None,
    };
    Single {
        failures,
        facts: Some(Facts {
            kind,
            ts: envelope.ts.0,
            reference,
            approval,
            approvers,
            kept,
        }),
    }
}

/// Reads a line as section 7 step 2 begins to: no carriage return, JSON
/// without duplicate keys, integers in range; with whether the line is in
/// canonical form. The error is the failure the verifier reports.
pub(crate) fn parse_line(line: &str) -> Result<(jcs::Json<'_>, bool), (FailureCode, String)> {
    if line.contains('\r') {
        return Err((FailureCode::Encoding, "carriage return in a line".into()));
    }
    jcs::parse_checked(line).map_err(|e| match e {
        LineError::DuplicateKey(k) => (
            FailureCode::DuplicateKey,
            format!("key `{k}` appears twice"),
        ),
        LineError::Number(m) => (
            FailureCode::Schema,
            format!("number `{m}` is not an integer in 0..2^53-1"),
        ),
        LineError::Syntax(m) => (FailureCode::Malformed, format!("not JSON: {m}")),
    })
}

/// The checks of an entry's place in the log: its `seq`, `log` and
/// `prev`, and that the genesis entry, first and only first, names the
/// pinned key.
fn check_envelope(
    entry: &Entry,
    i: usize,
    prev: &Hash,
    expect: &Expect,
    failures: &mut Vec<(FailureCode, String)>,
) {
    let envelope = &entry.envelope;
    if envelope.seq != i as u64 {
        failures.push((
            FailureCode::SeqMismatch,
            format!("`seq` is {}, the line's index is {i}", envelope.seq),
        ));
    }
    let key = expect.key;
    if envelope.log != key.name {
        failures.push((
            FailureCode::WrongLog,
            format!(
                "`log` is {}, the pinned log is `{}`",
                serde_json::Value::from(envelope.log.as_str()),
                key.name
            ),
        ));
    }
    if envelope.prev.0 != *prev {
        failures.push((
            FailureCode::ChainBroken,
            "`prev` is not the leaf hash of the line before".to_string(),
        ));
    }
    let genesis = match &entry.body {
        Body::Genesis(g) => Some(g),
        _ => None,
    };
    if (i == 0) != genesis.is_some() {
        failures.push((
            FailureCode::Schema,
            "the first entry, and only the first, is `genesis`".to_string(),
        ));
    }
    if genesis.is_some_and(|g| g.key != expect.encoded_key) {
        failures.push((
            FailureCode::GenesisKeyMismatch,
            "the log key named in the genesis entry is not the pinned key".to_string(),
        ));
    }
}

/// Runs every check on contents already read from `dir`, keeping the
/// parsed entries for a writer that goes on to extend the ledger.
pub fn check(
    dir: &Path,
    contents: &Contents,
    key: &VerifierKey,
    external: &[(String, String)],
) -> Checked {
    check_entries(dir, contents, key, external, true, BLOCK)
}

/// How many lines are parsed in parallel before the in-order checks run
/// over them.
const BLOCK: usize = 1 << 14;

/// Every check of `docs/ledger.md` section 7, in its order: the bytes,
/// every line, the ledger's own checkpoints, the seal, and the auditor's
/// checkpoints.
fn check_entries(
    dir: &Path,
    contents: &Contents,
    key: &VerifierKey,
    external: &[(String, String)],
    keep: bool,
    block: usize,
) -> Checked {
    let mut report = Report::new(key);
    let lines = contents.lines();
    if !contents.torn.is_empty() {
        report.fail(
            FailureCode::TornTail,
            format!("line {}", lines.len() + 1),
            format!(
                "{} bytes after the last newline (an interrupted write)",
                contents.torn.len()
            ),
        );
    }
    let (entries, leaves) = check_lines(&mut report, &lines, key, keep, block);
    let tree = merkle::Tree::new(&leaves);
    report.size = lines.len() as u64;
    report.root = tree.root(lines.len());
    let own = check_own_checkpoints(&mut report, dir, key, &tree);
    check_seal(&mut report, &own);
    check_kept_checkpoints(&mut report, external, key, &tree);
    Checked {
        report,
        entries,
        leaves,
    }
}

/// Checks every line, and returns what a writer keeps of each and every
/// line's leaf hash. The leaf hashes come first, so that each line's own
/// checks (parse, canonical form, schema, sequence, log, chain) can run in
/// parallel knowing the hash before it; the evidence links and the
/// approver list depend on earlier lines' contents, so they are checked in
/// order afterwards. Lines go through in blocks, so that only one block's
/// results are held at a time.
fn check_lines(
    report: &mut Report,
    lines: &[&str],
    key: &VerifierKey,
    keep: bool,
    block: usize,
) -> (Vec<Recorded>, Vec<Hash>) {
    let n = lines.len();
    let leaves: Vec<Hash> = lines
        .par_iter()
        .map(|line| merkle::leaf(line.as_bytes()))
        .collect();
    let expect = Expect {
        key,
        encoded_key: key.encode(),
        keep,
    };
    let mut in_order = InOrder {
        entries: Vec::with_capacity(if keep { n } else { 0 }),
        targets: HashMap::with_capacity(n),
        approvers: Vec::new(),
    };
    // Two block buffers, reused: a fresh one per block would be a large
    // allocation the allocator hands back to the system and takes again.
    let check_block = |b: usize, out: &mut Vec<Single>| {
        let start = b * block;
        lines[start..n.min(start + block)]
            .par_iter()
            .enumerate()
            .map(|(j, line)| {
                let i = start + j;
                let prev = i.checked_sub(1).map_or(GENESIS_HASH, |p| leaves[p]);
                check_single(line, i, &prev, &expect)
            })
            .collect_into_vec(out);
    };
    // Each block's in-order pass runs while the next block is checked.
    let blocks = n.div_ceil(block);
    let (mut current, mut next) = (Vec::new(), Vec::new());
    if blocks > 0 {
        check_block(0, &mut current);
    }
    for b in 0..blocks {
        rayon::join(
            || {
                if b + 1 < blocks {
                    check_block(b + 1, &mut next);
                }
            },
            || {
                for (j, single) in current.drain(..).enumerate() {
                    let i = b * block + j;
                    in_order.take(report, i, single, &leaves, &key.name);
                }
            },
        );
        std::mem::swap(&mut current, &mut next);
    }
    (in_order.entries, leaves)
}

/// The ledger's own checkpoints as read: the source, its text, and for
/// `checkpoints/<name>` the name.
type OwnFiles = Vec<(String, String, Option<String>)>;

/// Reads `checkpoints/` (in order of size) and `checkpoint`.
fn read_own_checkpoints(report: &mut Report, dir: &Path) -> OwnFiles {
    let mut numbered: Vec<(String, String)> = Vec::new();
    if let Ok(read) = std::fs::read_dir(dir.join(CHECKPOINTS)) {
        for e in read.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            match std::fs::read(e.path()).map(String::from_utf8) {
                Ok(Ok(text)) => numbered.push((name, text)),
                _ => report.fail(
                    FailureCode::NoteSyntax,
                    format!("checkpoints/{name}"),
                    "unreadable or not UTF-8",
                ),
            }
        }
    }
    numbered.sort_by_key(|(name, _)| (name.parse::<u64>().unwrap_or(u64::MAX), name.clone()));
    let latest = match std::fs::read(dir.join(CHECKPOINT)) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                report.fail(FailureCode::NoteSyntax, "checkpoint", "not UTF-8");
                None
            }
        },
        // A writer renames `checkpoints/<size>` into place before
        // `checkpoint`, so one killed in between leaves `checkpoint`
        // missing (in the first write) or one write behind: every entry is
        // still signed, and the next writer rolls it forward. Neither is
        // reported; a `checkpoint` with no copy in `checkpoints/` is.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            report.fail(
                FailureCode::NoteSyntax,
                "checkpoint",
                format!("unreadable: {e}"),
            );
            None
        }
    };
    let mut sources: OwnFiles = numbered
        .into_iter()
        .map(|(name, text)| (format!("checkpoints/{name}"), text, Some(name)))
        .collect();
    if let Some(text) = latest {
        sources.push(("checkpoint".to_string(), text, None));
    }
    sources
}

/// Checks the ledger's own checkpoints (each signed by the pinned key, an
/// honest prefix and named by its size; no two of one size disagreeing;
/// `checkpoint` kept in `checkpoints/`) and returns the valid ones.
fn check_own_checkpoints(
    report: &mut Report,
    dir: &Path,
    key: &VerifierKey,
    tree: &merkle::Tree,
) -> Vec<(String, Checkpoint)> {
    let mut own: Vec<(String, Checkpoint)> = Vec::new();
    for (source, text, file_size) in read_own_checkpoints(report, dir) {
        let Some(cp) = check_checkpoint(report, &source, &text, key, tree) else {
            continue;
        };
        if let Some(name) = file_size
            && name != cp.size.to_string()
        {
            report.fail(
                FailureCode::CheckpointMismatch,
                &source,
                format!("the file is named `{name}` but signs size {}", cp.size),
            );
        }
        own.push((source, cp));
    }
    if own.is_empty()
        && report
            .failures
            .iter()
            .all(|f| !f.place.starts_with("checkpoint"))
    {
        report.fail(
            FailureCode::UnsealedTail,
            "checkpoint",
            "the ledger has no checkpoint: nothing is sealed",
        );
    }
    // Two own checkpoints of one size must agree; `checkpoint` must have its copy.
    let mut by_size: BTreeMap<u64, (&str, Hash)> = BTreeMap::new();
    for (source, cp) in &own {
        if let Some((other, root)) = by_size.get(&cp.size) {
            if *root != cp.root {
                report.fail(
                    FailureCode::Fork,
                    source,
                    format!("signs a different root than `{other}` for size {}", cp.size),
                );
            }
        } else {
            by_size.insert(cp.size, (source, cp.root));
        }
    }
    if let Some((_, cp)) = own.iter().find(|(s, _)| s == "checkpoint")
        && !own
            .iter()
            .any(|(s, c)| s != "checkpoint" && c.size == cp.size)
    {
        report.fail(
            FailureCode::CheckpointMismatch,
            format!("checkpoints/{}", cp.size),
            "the latest checkpoint has no copy in `checkpoints/`; checkpoint history was removed",
        );
    }
    own
}

/// Sets the sealed size, the largest a valid own checkpoint signs, and
/// reports the entries after it.
fn check_seal(report: &mut Report, own: &[(String, Checkpoint)]) {
    report.sealed = own
        .iter()
        .map(|(_, cp)| cp.size)
        .filter(|&s| s <= report.size)
        .max()
        .unwrap_or(0);
    if !own.is_empty() && report.sealed < report.size {
        report.fail(
            FailureCode::UnsealedTail,
            format!("line {}", report.sealed + 1),
            format!(
                "entries {}..{} are after the last checkpoint (size {})",
                report.sealed + 1,
                report.size,
                report.sealed
            ),
        );
    }
}

/// Checks the checkpoints the auditor kept: a larger size than the ledger
/// is truncation, another root for the same size a fork.
fn check_kept_checkpoints(
    report: &mut Report,
    external: &[(String, String)],
    key: &VerifierKey,
    tree: &merkle::Tree,
) {
    for (source, text) in external {
        let Some(cp) = parse_signed(report, source, text, key) else {
            continue;
        };
        if cp.size > report.size {
            report.fail(
                FailureCode::Truncated,
                source,
                format!(
                    "signs size {} but the ledger holds {} entries",
                    cp.size, report.size
                ),
            );
        } else if tree.root(usize::try_from(cp.size).unwrap_or(usize::MAX)) != Some(cp.root) {
            report.fail(
                FailureCode::Fork,
                source,
                format!(
                    "signs a different history for the first {} entries",
                    cp.size
                ),
            );
        }
        report.checkpoints.push(CheckedCheckpoint {
            source: source.clone(),
            size: Some(cp.size),
        });
    }
}

/// Parses a checkpoint and checks its origin and signature.
fn parse_signed(
    report: &mut Report,
    source: &str,
    text: &str,
    key: &VerifierKey,
) -> Option<Checkpoint> {
    match signed(text, key) {
        Ok(cp) => Some(cp),
        Err((code, message)) => {
            if code == FailureCode::NoteSyntax {
                report.checkpoints.push(CheckedCheckpoint {
                    source: source.to_string(),
                    size: None,
                });
            }
            report.fail(code, source, message);
            None
        }
    }
}

/// A checkpoint parsed strictly, of the pinned log and signed by the
/// pinned key; the error is the failure a verifier reports
/// (`note-syntax`, `origin-mismatch`, `bad-signature`,
/// `untrusted-signature`).
pub(crate) fn signed(text: &str, key: &VerifierKey) -> Result<Checkpoint, (FailureCode, String)> {
    let cp = Checkpoint::parse(text).map_err(|e| (FailureCode::NoteSyntax, e.0))?;
    if cp.origin != key.name {
        return Err((
            FailureCode::OriginMismatch,
            format!(
                "origin `{}` is not the pinned log `{}`",
                cp.origin, key.name
            ),
        ));
    }
    match note::check_signature(&cp, key) {
        SignatureCheck::Valid => Ok(cp),
        SignatureCheck::Bad => Err((
            FailureCode::BadSignature,
            "the signature by the pinned key does not verify".into(),
        )),
        SignatureCheck::Missing => Err((
            FailureCode::UntrustedSignature,
            format!("no signature by the pinned key `{}`", key.short()),
        )),
    }
}

/// Parses one of the ledger's own checkpoints, checks its signature, and
/// that it signs an honest prefix of the entries.
fn check_checkpoint(
    report: &mut Report,
    source: &str,
    text: &str,
    key: &VerifierKey,
    tree: &merkle::Tree,
) -> Option<Checkpoint> {
    let cp = parse_signed(report, source, text, key)?;
    report.checkpoints.push(CheckedCheckpoint {
        source: source.to_string(),
        size: Some(cp.size),
    });
    let size = usize::try_from(cp.size).unwrap_or(usize::MAX);
    let Some(root) = tree.root(size) else {
        report.fail(
            FailureCode::Truncated,
            source,
            format!(
                "signs size {} but the ledger holds {} entries",
                cp.size,
                tree.size()
            ),
        );
        return None;
    };
    if root != cp.root {
        report.fail(
            FailureCode::RootMismatch,
            source,
            format!("the root of the first {size} entries is not the signed root"),
        );
        return None;
    }
    Some(cp)
}

/// What the in-order pass over the lines carries from one to the next.
struct InOrder {
    /// What a writer keeps of each entry.
    entries: Vec<Recorded>,
    /// Leaf hashes of the entries evidence may point at (runs, decisions).
    targets: HashMap<Hash, Kind>,
    /// The trusted approvers, as the latest `approvers` entry set them.
    approvers: Vec<String>,
}

impl InOrder {
    /// Reports line `i`'s own failures, then checks what depends on the
    /// lines before it, and sums it up.
    fn take(
        &mut self,
        report: &mut Report,
        i: usize,
        single: Single,
        leaves: &[Hash],
        origin: &str,
    ) {
        let place = || format!("line {}", i + 1);
        for (code, message) in single.failures {
            report.fail(code, place(), message);
        }
        let Some(facts) = single.facts else {
            return;
        };
        if let Some(reference) = &facts.reference {
            check_reference(report, place, reference, &self.targets);
        }
        if let (Some(reference), Some(approval)) = (&facts.reference, &facts.approval) {
            check_approval(report, place, reference, approval, &self.approvers, origin);
        }
        if let Some(list) = facts.approvers {
            self.approvers = list;
        }
        let kind = facts.kind;
        *report.types.entry(kind.as_str()).or_default() += 1;
        let ts = facts.ts;
        match &mut report.time_range {
            None => report.time_range = Some((ts.clone(), ts)),
            Some((first, last)) => {
                if ts < *first {
                    *first = ts;
                } else if ts > *last {
                    *last = ts;
                }
            }
        }
        if matches!(kind, Kind::Run | Kind::Decision) {
            self.targets.insert(leaves[i], kind);
        }
        if let Some(kept) = facts.kept {
            self.entries.push(kept);
        }
    }
}

/// A decision must name an earlier run, evidence an earlier decision.
fn check_reference(
    report: &mut Report,
    place: impl Fn() -> String,
    reference: &Reference,
    targets: &HashMap<Hash, Kind>,
) {
    let Reference {
        field,
        target,
        leaf,
    } = reference;
    if targets.get(&leaf.0) != Some(target) {
        report.fail(
            FailureCode::DanglingReference,
            place(),
            format!("`{field}` is not the leaf hash of an earlier `{target}` entry"),
        );
    }
}

/// An approval must come from a trusted approver, whose signature over the
/// decision verifies.
fn check_approval(
    report: &mut Report,
    place: impl Fn() -> String,
    reference: &Reference,
    (approver, signature): &(String, String),
    approvers: &[String],
    origin: &str,
) {
    if !approvers.iter().any(|a| a == approver) {
        report.fail(
            FailureCode::UntrustedApprover,
            place(),
            "the approver is not in the ledger's list of trusted approvers",
        );
        return;
    }
    let message = approval_message(origin, &reference.leaf.to_string());
    let signed = VerifierKey::parse(approver).ok().is_some_and(|k| {
        STANDARD
            .decode(signature)
            .is_ok_and(|sig| k.verify(message.as_bytes(), &sig))
    });
    if !signed {
        report.fail(
            FailureCode::BadApprovalSignature,
            place(),
            "the approver's signature over the decision does not verify",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines are checked block by block; where the blocks break must not
    /// change a single finding, on the valid vector or on any corrupt one.
    #[test]
    fn the_verdict_does_not_depend_on_the_block_size() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ledger");
        let key_text = std::fs::read_to_string(root.join("keys/log.key.pub")).expect("key");
        let key = VerifierKey::parse(key_text.trim()).expect("key parses");
        let mut dirs = vec![root.join("valid")];
        let mut corrupt: Vec<_> = std::fs::read_dir(root.join("corrupt"))
            .expect("corrupt vectors")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        corrupt.sort();
        assert!(corrupt.len() > 5);
        dirs.extend(corrupt);
        let mut compared = 0;
        for dir in dirs {
            // Some corruptions leave no readable entries; the rest are compared.
            let Ok(Some(contents)) = read_entries(&dir) else {
                continue;
            };
            compared += 1;
            assert!(
                contents.lines().len() > 3,
                "`{}` is too short",
                dir.display()
            );
            let verdict = |block| {
                format!(
                    "{:?}",
                    check_entries(&dir, &contents, &key, &[], false, block).report
                )
            };
            let whole = verdict(BLOCK);
            for block in [1, 2, 3] {
                assert_eq!(verdict(block), whole, "`{}`, block {block}", dir.display());
            }
        }
        assert!(compared > 5, "only {compared} vectors could be read");
    }

    /// A writer's summary of a recorded decision is the same whether it is
    /// taken from the line as read or from the typed entry.
    #[test]
    fn a_decision_summarised_from_its_line_matches_its_entry() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ledger/valid");
        let contents = read_entries(&dir).expect("reads").expect("has entries");
        let mut decisions = 0;
        for line in contents.lines() {
            let (json, canonical) = jcs::parse_checked(line).expect("parses");
            let Body::Decision(d) = Entry::read(&json).expect("reads").body else {
                continue;
            };
            assert!(canonical);
            decisions += 1;
            assert_eq!(
                DecisionSummary::of_line(&json),
                DecisionSummary::of(&d.body)
            );
        }
        assert!(decisions >= 3, "only {decisions} decisions");
    }
}
