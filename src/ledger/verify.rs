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
use serde_json::Value;

use super::entry::{self, approval_message};
use super::jcs::{self, LineError};
use super::merkle::{self, GENESIS_PREV, Hash};
use super::note::{self, Checkpoint, SignatureCheck, VerifierKey};
use super::store::{CHECKPOINT, CHECKPOINTS, Contents, read_entries};

/// One way the ledger failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Stable kebab-case code.
    pub code: &'static str,
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
    pub types: BTreeMap<String, u64>,
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

    fn fail(&mut self, code: &'static str, place: impl Into<String>, message: impl Into<String>) {
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
        Ok(Some(contents)) => check_entries(dir, &contents, key, external, false, BLOCK).report,
        Ok(None) => {
            let mut report = Report::new(key);
            report.fail(
                "missing-entries",
                "entries.jsonl",
                "the ledger has no `entries.jsonl`",
            );
            report
        }
        Err(e) => {
            let mut report = Report::new(key);
            report.fail("encoding", "entries.jsonl", e);
            report
        }
    }
}

/// What checking a ledger's contents found, with the parsed entries and
/// leaf hashes, so that a writer extending the ledger reads it only once.
pub struct Checked {
    /// The verdict.
    pub report: Report,
    /// Every line that parsed and passed the schema, in order (all of them
    /// when the report has no line failures); decision entries are kept as
    /// their [`super::decision_summary`], which is all a writer needs of
    /// them and a small part of their size.
    pub entries: Vec<Value>,
    /// The leaf hash of every complete line.
    pub leaves: Vec<Hash>,
}

/// What one line says about itself, before its neighbours are looked at.
struct Single {
    leaf: Hash,
    /// The parsed entry, or the failure's code and message.
    value: Result<Value, (&'static str, String)>,
    canonical: bool,
    schema: Result<(), String>,
    /// For a writer, what it keeps of a decision entry in place of the
    /// whole value (see [`super::decision_summary`]).
    summary: Option<Value>,
}

fn check_single(line: &str, keep: bool) -> Single {
    let leaf = merkle::leaf(line.as_bytes());
    let failed = |code: &'static str, message: String| Single {
        leaf,
        value: Err((code, message)),
        canonical: true,
        schema: Ok(()),
        summary: None,
    };
    if line.contains('\r') {
        return failed("encoding", "carriage return in a line".into());
    }
    let value = match jcs::parse(line) {
        Ok(v) => v,
        Err(LineError::DuplicateKey(k)) => {
            return failed("duplicate-key", format!("key `{k}` appears twice"));
        }
        Err(LineError::Number(m)) => {
            return failed(
                "schema",
                format!("number `{m}` is not an integer in 0..2^53-1"),
            );
        }
        Err(LineError::Syntax(m)) => return failed("malformed", format!("not JSON: {m}")),
    };
    let schema = entry::check(&value);
    let summary = (keep && schema.is_ok() && value["type"] == "decision")
        .then(|| super::decision_summary(&value));
    Single {
        leaf,
        canonical: jcs::encode(&value) == line,
        schema,
        summary,
        value: Ok(value),
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

fn check_entries(
    dir: &Path,
    contents: &Contents,
    key: &VerifierKey,
    external: &[(String, String)],
    keep: bool,
    block: usize,
) -> Checked {
    let mut report = Report::new(key);
    let mut entries = Vec::with_capacity(contents.lines.len());
    let n = contents.lines.len();
    if !contents.torn.is_empty() {
        report.fail(
            "torn-tail",
            format!("line {}", n + 1),
            format!(
                "{} bytes after the last newline (an interrupted write)",
                contents.torn.len()
            ),
        );
    }

    // 1. Every line. What depends on the line alone (its hash, parse,
    // canonical form and schema) is checked in parallel; the chain, the
    // evidence links and the approver list depend on the lines before, so
    // they are checked in order afterwards. Lines go through in blocks, so
    // that only one block's parsed values are held at a time.
    let mut leaves: Vec<Hash> = Vec::with_capacity(n);
    let mut by_leaf: HashMap<String, (usize, String)> = HashMap::new();
    let mut approvers: Vec<String> = Vec::new();
    let blocks = contents
        .lines
        .chunks(block)
        .enumerate()
        .flat_map(move |(b, lines)| {
            let singles: Vec<Single> = lines
                .par_iter()
                .map(|line| check_single(line, keep))
                .collect();
            singles
                .into_iter()
                .enumerate()
                .map(move |(j, single)| (b * block + j, single))
        });
    for (i, single) in blocks {
        let place = format!("line {}", i + 1);
        let want_prev = leaves.last().map_or(GENESIS_PREV.to_string(), merkle::tag);
        let leaf = single.leaf;
        leaves.push(leaf);
        let value = match single.value {
            Ok(v) => v,
            Err((code, message)) => {
                report.fail(code, &place, message);
                continue;
            }
        };
        if !single.canonical {
            report.fail(
                "non-canonical",
                &place,
                "the line is not in RFC 8785 canonical form",
            );
        }
        if let Err(m) = single.schema {
            report.fail("schema", &place, m);
            continue;
        }
        if value["seq"].as_u64() != Some(i as u64) {
            report.fail(
                "seq-mismatch",
                &place,
                format!("`seq` is {}, the line's index is {i}", value["seq"]),
            );
        }
        if value["log"].as_str() != Some(key.name.as_str()) {
            report.fail(
                "wrong-log",
                &place,
                format!(
                    "`log` is {}, the pinned log is `{}`",
                    value["log"], key.name
                ),
            );
        }
        if value["prev"].as_str() != Some(want_prev.as_str()) {
            report.fail(
                "chain-broken",
                &place,
                "`prev` is not the leaf hash of the line before",
            );
        }
        let kind = value["type"].as_str().unwrap_or_default().to_string();
        if (i == 0) != (kind == "genesis") {
            report.fail(
                "schema",
                &place,
                "the first entry, and only the first, is `genesis`",
            );
        }
        if kind == "genesis" && value["key"].as_str() != Some(key.encode().as_str()) {
            report.fail(
                "genesis-key-mismatch",
                &place,
                "the log key named in the genesis entry is not the pinned key",
            );
        }
        check_evidence(&mut report, &place, &value, &by_leaf, &approvers, &key.name);
        if kind == "approvers"
            && let Some(list) = value["approvers"].as_array()
        {
            approvers = list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
        }
        *report.types.entry(kind.clone()).or_insert(0) += 1;
        if let Some(ts) = value["ts"].as_str() {
            match &mut report.time_range {
                None => report.time_range = Some((ts.to_string(), ts.to_string())),
                Some((first, last)) => {
                    if ts < first.as_str() {
                        *first = ts.to_string();
                    }
                    if ts > last.as_str() {
                        *last = ts.to_string();
                    }
                }
            }
        }
        by_leaf.insert(merkle::tag(&leaf), (i, kind));
        if keep {
            entries.push(single.summary.unwrap_or(value));
        }
    }
    report.size = n as u64;
    report.root = Some(merkle::root(&leaves));

    // 2. The ledger's own checkpoints.
    let mut own: Vec<(String, Checkpoint)> = Vec::new();
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
                    "note-syntax",
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
                report.fail("note-syntax", "checkpoint", "not UTF-8");
                None
            }
        },
        Err(_) => {
            if !numbered.is_empty() {
                report.fail(
                    "checkpoint-mismatch",
                    "checkpoint",
                    "the latest checkpoint is missing",
                );
            }
            None
        }
    };
    let mut sources: Vec<(String, String, Option<String>)> = numbered
        .into_iter()
        .map(|(name, text)| (format!("checkpoints/{name}"), text, Some(name)))
        .collect();
    if let Some(text) = latest.clone() {
        sources.push(("checkpoint".to_string(), text, None));
    }
    for (source, text, file_size) in sources {
        let Some(cp) = check_checkpoint(&mut report, &source, &text, key, &leaves) else {
            continue;
        };
        if let Some(name) = file_size
            && name != cp.size.to_string()
        {
            report.fail(
                "checkpoint-mismatch",
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
            "unsealed-tail",
            "checkpoint",
            "the ledger has no checkpoint: nothing is sealed",
        );
    }
    // Two own checkpoints of one size must agree; `checkpoint` must be the largest.
    let mut by_size: BTreeMap<u64, (String, Hash)> = BTreeMap::new();
    for (source, cp) in &own {
        if let Some((other, root)) = by_size.get(&cp.size) {
            if *root != cp.root {
                report.fail(
                    "fork",
                    source,
                    format!("signs a different root than `{other}` for size {}", cp.size),
                );
            }
        } else {
            by_size.insert(cp.size, (source.clone(), cp.root));
        }
    }
    if let Some((_, cp)) = own.iter().find(|(s, _)| s == "checkpoint")
        && !own
            .iter()
            .any(|(s, c)| s != "checkpoint" && c.size == cp.size)
    {
        report.fail(
            "checkpoint-mismatch",
            format!("checkpoints/{}", cp.size),
            "the latest checkpoint has no copy in `checkpoints/`; checkpoint history was removed",
        );
    }
    let largest = by_size.keys().next_back().copied().unwrap_or(0);
    if let Some((_, cp)) = own.iter().find(|(s, _)| s == "checkpoint")
        && cp.size < largest
    {
        report.fail(
            "checkpoint-mismatch",
            "checkpoint",
            format!(
                "the latest checkpoint signs size {}, but `checkpoints/{largest}` exists",
                cp.size
            ),
        );
    }
    report.sealed = own
        .iter()
        .map(|(_, cp)| cp.size)
        .filter(|&s| s <= report.size)
        .max()
        .unwrap_or(0);
    if !own.is_empty() && report.sealed < report.size {
        report.fail(
            "unsealed-tail",
            format!("line {}", report.sealed + 1),
            format!(
                "entries {}..{} are after the last checkpoint (size {})",
                report.sealed + 1,
                report.size,
                report.sealed
            ),
        );
    }

    // 3. Checkpoints the auditor kept.
    for (source, text) in external {
        let Some(cp) = parse_signed(&mut report, source, text, key) else {
            continue;
        };
        if cp.size > report.size {
            report.fail(
                "truncated",
                source,
                format!(
                    "signs size {} but the ledger holds {} entries",
                    cp.size, report.size
                ),
            );
        } else if merkle::root(&leaves[..usize::try_from(cp.size).unwrap_or(usize::MAX)]) != cp.root
        {
            report.fail(
                "fork",
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
    Checked {
        report,
        entries,
        leaves,
    }
}

/// Parses a checkpoint and checks its origin and signature.
fn parse_signed(
    report: &mut Report,
    source: &str,
    text: &str,
    key: &VerifierKey,
) -> Option<Checkpoint> {
    let cp = match Checkpoint::parse(text) {
        Ok(cp) => cp,
        Err(e) => {
            report.fail("note-syntax", source, e.0);
            report.checkpoints.push(CheckedCheckpoint {
                source: source.to_string(),
                size: None,
            });
            return None;
        }
    };
    if cp.origin != key.name {
        report.fail(
            "origin-mismatch",
            source,
            format!(
                "origin `{}` is not the pinned log `{}`",
                cp.origin, key.name
            ),
        );
        return None;
    }
    match note::check_signature(&cp, key) {
        SignatureCheck::Valid => Some(cp),
        SignatureCheck::Bad => {
            report.fail(
                "bad-signature",
                source,
                "the signature by the pinned key does not verify",
            );
            None
        }
        SignatureCheck::Missing => {
            report.fail(
                "untrusted-signature",
                source,
                format!("no signature by the pinned key `{}`", key.short()),
            );
            None
        }
    }
}

fn check_checkpoint(
    report: &mut Report,
    source: &str,
    text: &str,
    key: &VerifierKey,
    leaves: &[Hash],
) -> Option<Checkpoint> {
    let cp = parse_signed(report, source, text, key)?;
    report.checkpoints.push(CheckedCheckpoint {
        source: source.to_string(),
        size: Some(cp.size),
    });
    let size = usize::try_from(cp.size).unwrap_or(usize::MAX);
    if size > leaves.len() {
        report.fail(
            "truncated",
            source,
            format!(
                "signs size {} but the ledger holds {} entries",
                cp.size,
                leaves.len()
            ),
        );
        return None;
    }
    if merkle::root(&leaves[..size]) != cp.root {
        report.fail(
            "root-mismatch",
            source,
            format!("the root of the first {size} entries is not the signed root"),
        );
        return None;
    }
    Some(cp)
}

/// Evidence must point at earlier entries of the right type; approvals must
/// be signed by a trusted approver.
fn check_evidence(
    report: &mut Report,
    place: &str,
    value: &Value,
    by_leaf: &HashMap<String, (usize, String)>,
    approvers: &[String],
    origin: &str,
) {
    let kind = value["type"].as_str().unwrap_or_default();
    let (field, target) = match kind {
        "decision" => ("run", "run"),
        "approval" | "execution" | "verification" => ("decision", "decision"),
        _ => return,
    };
    let reference = value[field].as_str().unwrap_or_default();
    match by_leaf.get(reference) {
        Some((_, t)) if t == target => {}
        _ => report.fail(
            "dangling-reference",
            place,
            format!("`{field}` is not the leaf hash of an earlier `{target}` entry"),
        ),
    }
    if kind != "approval" {
        return;
    }
    let approver = value["approver"].as_str().unwrap_or_default();
    if !approvers.iter().any(|a| a == approver) {
        report.fail(
            "untrusted-approver",
            place,
            "the approver is not in the ledger's list of trusted approvers",
        );
        return;
    }
    let signed = VerifierKey::parse(approver).ok().is_some_and(|k| {
        STANDARD
            .decode(value["signature"].as_str().unwrap_or_default())
            .is_ok_and(|sig| k.verify(approval_message(origin, reference).as_bytes(), &sig))
    });
    if !signed {
        report.fail(
            "bad-approval-signature",
            place,
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
            let Ok(Some(contents)) = super::super::store::read_entries(&dir) else {
                continue;
            };
            compared += 1;
            assert!(contents.lines.len() > 3, "`{}` is too short", dir.display());
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
}
