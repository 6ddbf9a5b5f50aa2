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
use super::merkle::{self, GENESIS_HASH, Hash};
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

/// What one line says about itself and its place in the log: all that can
/// be checked knowing only the line, its index and the leaf hash before it,
/// which is every check but the evidence links and the approver list.
struct Single {
    /// Failures, in the order they are reported.
    failures: Vec<(&'static str, String)>,
    /// What the in-order pass needs; `None` when the line could not be read
    /// as an entry of its type, and so takes part in no later check.
    facts: Option<Facts>,
}

/// The parts of an entry that later lines depend on, or that the report
/// sums up. The parsed value itself is dropped where it was parsed (unless
/// a writer keeps it), on the core that parsed it.
struct Facts {
    kind: &'static str,
    ts: Option<String>,
    evidence: Option<Evidence>,
    /// The trusted list an `approvers` entry sets.
    approvers: Option<Vec<String>>,
    /// For a writer: the entry, or for a decision its
    /// [`super::decision_summary`], which is all a writer needs of it.
    kept: Option<Value>,
}

/// An entry's reference to an earlier one.
struct Evidence {
    field: &'static str,
    target: &'static str,
    reference: Option<Hash>,
    /// An approval's approver key and signature.
    approval: Option<(String, String)>,
}

/// What a line is checked against besides itself.
struct Expect<'k> {
    key: &'k VerifierKey,
    /// The pinned key as a genesis entry names it.
    encoded_key: String,
    keep: bool,
}

fn check_single(line: &str, i: usize, prev: &Hash, expect: &Expect) -> Single {
    let failed = |code: &'static str, message: String| Single {
        failures: vec![(code, message)],
        facts: None,
    };
    if line.contains('\r') {
        return failed("encoding", "carriage return in a line".into());
    }
    let (value, canonical) = match jcs::parse_checked(line) {
        Ok(parsed) => parsed,
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
    let mut failures = Vec::new();
    if !canonical {
        failures.push((
            "non-canonical",
            "the line is not in RFC 8785 canonical form".to_string(),
        ));
    }
    if let Err(m) = entry::check(&value) {
        failures.push(("schema", m));
        return Single {
            failures,
            facts: None,
        };
    }
    if value["seq"].as_u64() != Some(i as u64) {
        failures.push((
            "seq-mismatch",
            format!("`seq` is {}, the line's index is {i}", value["seq"]),
        ));
    }
    let key = expect.key;
    if value["log"].as_str() != Some(key.name.as_str()) {
        failures.push((
            "wrong-log",
            format!(
                "`log` is {}, the pinned log is `{}`",
                value["log"], key.name
            ),
        ));
    }
    if value["prev"].as_str().and_then(merkle::parse_tag).as_ref() != Some(prev) {
        failures.push((
            "chain-broken",
            "`prev` is not the leaf hash of the line before".to_string(),
        ));
    }
    // The schema passed, so the type is one of the known ones.
    let kind = value["type"].as_str().unwrap_or_default();
    let kind = entry::TYPES
        .iter()
        .copied()
        .find(|t| *t == kind)
        .unwrap_or("");
    if (i == 0) != (kind == "genesis") {
        failures.push((
            "schema",
            "the first entry, and only the first, is `genesis`".to_string(),
        ));
    }
    if kind == "genesis" && value["key"].as_str() != Some(expect.encoded_key.as_str()) {
        failures.push((
            "genesis-key-mismatch",
            "the log key named in the genesis entry is not the pinned key".to_string(),
        ));
    }
    let text = |field: &str| value[field].as_str().unwrap_or_default().to_string();
    let evidence = match kind {
        "decision" => Some(("run", "run")),
        "approval" | "execution" | "verification" => Some(("decision", "decision")),
        _ => None,
    }
    .map(|(field, target)| Evidence {
        field,
        target,
        reference: value[field].as_str().and_then(merkle::parse_tag),
        approval: (kind == "approval").then(|| (text("approver"), text("signature"))),
    });
    let approvers = (kind == "approvers").then(|| {
        value["approvers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    });
    let ts = value["ts"].as_str().map(str::to_string);
    let kept = expect.keep.then(|| match kind {
        "decision" if canonical => super::decision_summary_of_line(&value),
        "decision" => super::decision_summary(&value.to_value()),
        _ => value.to_value(),
    });
    Single {
        failures,
        facts: Some(Facts {
            kind,
            ts,
            evidence,
            approvers,
            kept,
        }),
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
    let lines = contents.lines();
    let n = lines.len();
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

    // 1. Every line. The leaf hashes come first, so that each line's own
    // checks (parse, canonical form, schema, sequence, log, chain) can run
    // in parallel knowing the hash before it; the evidence links and the
    // approver list depend on earlier lines' contents, so they are checked
    // in order afterwards. Lines go through in blocks, so that only one
    // block's results are held at a time.
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
                    in_order.take(&mut report, i, single, &leaves, &key.name);
                }
            },
        );
        std::mem::swap(&mut current, &mut next);
    }
    let entries = in_order.entries;
    report.size = n as u64;
    let tree = merkle::Tree::new(&leaves);
    report.root = tree.root(n);

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
        // A writer renames `checkpoints/<size>` into place before
        // `checkpoint`, so one killed in between leaves `checkpoint`
        // missing (in the first write) or one write behind: every entry is
        // still signed, and the next writer rolls it forward. Neither is
        // reported; a `checkpoint` with no copy in `checkpoints/` is.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            report.fail("note-syntax", "checkpoint", format!("unreadable: {e}"));
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
        let Some(cp) = check_checkpoint(&mut report, &source, &text, key, &tree) else {
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
    // Two own checkpoints of one size must agree; `checkpoint` must have its copy.
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
        } else if tree.root(usize::try_from(cp.size).unwrap_or(usize::MAX)) != Some(cp.root) {
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
            "truncated",
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
            "root-mismatch",
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
    entries: Vec<Value>,
    /// Leaf hashes of the entries evidence may point at (runs, decisions).
    targets: HashMap<Hash, &'static str>,
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
        if let Some(evidence) = &facts.evidence {
            check_evidence(
                report,
                place,
                evidence,
                &self.targets,
                &self.approvers,
                origin,
            );
        }
        if let Some(list) = facts.approvers {
            self.approvers = list;
        }
        let kind = facts.kind;
        match report.types.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                report.types.insert(kind.to_string(), 1);
            }
        }
        if let Some(ts) = facts.ts {
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
        }
        if matches!(kind, "run" | "decision") {
            self.targets.insert(leaves[i], kind);
        }
        if let Some(kept) = facts.kept {
            self.entries.push(kept);
        }
    }
}

/// Evidence must point at earlier entries of the right type; approvals must
/// be signed by a trusted approver.
fn check_evidence(
    report: &mut Report,
    place: impl Fn() -> String,
    evidence: &Evidence,
    targets: &HashMap<Hash, &'static str>,
    approvers: &[String],
    origin: &str,
) {
    let Evidence {
        field,
        target,
        reference,
        approval,
    } = evidence;
    let found = reference.and_then(|r| targets.get(&r));
    if found != Some(target) {
        report.fail(
            "dangling-reference",
            place(),
            format!("`{field}` is not the leaf hash of an earlier `{target}` entry"),
        );
    }
    let Some((approver, signature)) = approval else {
        return;
    };
    if !approvers.iter().any(|a| a == approver) {
        report.fail(
            "untrusted-approver",
            place(),
            "the approver is not in the ledger's list of trusted approvers",
        );
        return;
    }
    let signed = reference.is_some_and(|r| {
        VerifierKey::parse(approver).ok().is_some_and(|k| {
            STANDARD.decode(signature).is_ok_and(|sig| {
                k.verify(approval_message(origin, &merkle::tag(&r)).as_bytes(), &sig)
            })
        })
    });
    if !signed {
        report.fail(
            "bad-approval-signature",
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
            let Ok(Some(contents)) = super::super::store::read_entries(&dir) else {
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
    /// taken from the line as read or from the entry as a `Value`.
    #[test]
    fn a_decision_summarised_from_its_line_matches_its_value() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ledger/valid");
        let contents = super::super::store::read_entries(&dir)
            .expect("reads")
            .expect("has entries");
        let mut decisions = 0;
        for line in contents.lines() {
            let (json, canonical) = jcs::parse_checked(line).expect("parses");
            if json["type"].as_str() != Some("decision") {
                continue;
            }
            assert!(canonical);
            decisions += 1;
            assert_eq!(
                super::super::decision_summary_of_line(&json),
                super::super::decision_summary(&json.to_value())
            );
        }
        assert!(decisions >= 3, "only {decisions} decisions");
    }
}
