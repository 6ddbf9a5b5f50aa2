//! Proofs of single entries: an auditor asked about one decision gets one
//! small file (a C2SP `tlog-proof` bundle: the entry, its RFC 6962 audit
//! path and a signed checkpoint) and checks it with the pinned key alone,
//! without the ledger; and a consistency proof (the C2SP tlog-witness
//! body form) shows that a checkpoint the auditor kept is a prefix of a
//! newer one. `docs/ledger.md` section 11 is the normative description.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rayon::prelude::*;

use super::codes::FailureCode;
use super::entry::{Body, Entry};
use super::merkle::{self, Hash};
use super::note::{self, Checkpoint, VerifierKey};
use super::store::{CHECKPOINT, CHECKPOINTS, read_entries};
use super::verify;
use crate::diag::codes;

/// The first line of an inclusion proof bundle (c2sp.org/tlog-proof@v1).
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// No tree of up to 2^63 leaves has a longer audit or consistency path.
pub const MAX_HASHES: usize = 63;

codes! {
    /// Stable kebab-case codes of the ways a proof can fail;
    /// `docs/ledger.md` (section 11) documents each.
    ProofCode;
    ProofHeader = "proof-header": "the first line is neither `c2sp.org/tlog-proof@v1` nor `old <size>`"
        => "pass a `.tlog-proof` file made by `severance ledger prove`; another format or version is not read",
    ProofSyntax = "proof-syntax": "a line of the proof is malformed: a number with leading zeros, non-canonical base64, a hash not 32 bytes, no blank line before the checkpoint"
        => "ask for the proof again; a proof is never edited by hand",
    ProofLength = "proof-length": "the proof holds more or fewer hashes than its index and size call for"
        => "ask for the proof again: hashes were dropped or added",
    IndexOutOfRange = "index-out-of-range": "the index (or the old size) is not below (at most) the checkpoint's size"
        => "ask for a proof against a checkpoint that holds the entry",
    EntryMismatch = "entry-mismatch": "the entry carried in `extra` is missing, not a canonical ledger line of a known type, or its `seq` is not the index or its `log` not the origin"
        => "ask for the proof again; the entry travels with its proof byte for byte",
    InclusionMismatch = "inclusion-mismatch": "the root recomputed from the entry and the audit path is not the checkpoint's root"
        => "the entry or a hash was changed: ask for the proof again, and if it still fails, verify the whole ledger",
    ConsistencyMismatch = "consistency-mismatch": "the consistency proof does not lead from the old root to the new one"
        => "the log was rewritten after the old checkpoint, or the proof was changed: verify the whole ledger with `--checkpoint` the one you kept",
    OldCheckpointMismatch = "old-checkpoint-mismatch": "the old checkpoint given is not validly signed by the pinned key, or its size is not the proof's `old`"
        => "pass with `--old` the checkpoint the proof was made from",
    NoteSyntax = "note-syntax": "the proof's checkpoint is malformed"
        => "ask for the proof again; the checkpoint is copied verbatim from the ledger",
    OriginMismatch = "origin-mismatch": "the checkpoint's origin is not the pinned log"
        => "check that `--vkey` is the key of the ledger the proof is from",
    UntrustedSignature = "untrusted-signature": "no signature by the pinned key (e.g. re-signed with another key)"
        => "check that `--vkey` is the key of this ledger; if it is, the checkpoint was signed by someone else",
    BadSignature = "bad-signature": "the pinned key's signature on the checkpoint does not verify"
        => "ask for the proof again; the checkpoint was changed",
}

impl fmt::Display for ProofCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ProofCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which checkpoint a proof is made against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// The ledger's `checkpoint`.
    Latest,
    /// `checkpoints/<size>`.
    Size(u64),
    /// A checkpoint the auditor holds, as text.
    Held(String),
}

/// The ledger's leaf hashes up to a checkpoint that they agree with, the
/// checkpoint and its text, and the one line a proof carries: what every
/// proof is made from.
struct Sealed {
    checkpoint: Checkpoint,
    text: String,
    leaves: Vec<Hash>,
    line: Option<String>,
}

/// Reads the entries and the checkpoint, and refuses a checkpoint whose
/// root is not the root of that many entries: a proof is never handed out
/// against a root the entries do not give. Keeps line `keep`, if any.
fn sealed(dir: &Path, against: &Against, keep: Option<u64>) -> Result<Sealed, String> {
    let text = match against {
        Against::Held(text) => text.clone(),
        Against::Latest => read_checkpoint(&dir.join(CHECKPOINT))?,
        Against::Size(size) => read_checkpoint(&dir.join(CHECKPOINTS).join(size.to_string()))?,
    };
    let checkpoint =
        Checkpoint::parse(&text).map_err(|e| format!("the checkpoint is malformed: {e}"))?;
    let contents =
        read_entries(dir)?.ok_or_else(|| format!("`{}` has no `entries.jsonl`", dir.display()))?;
    let lines = contents.lines();
    let size = usize::try_from(checkpoint.size).unwrap_or(usize::MAX);
    if size > lines.len() {
        return Err(format!(
            "the checkpoint signs size {} but the ledger holds {} entries",
            checkpoint.size,
            lines.len()
        ));
    }
    // Only the leaves the checkpoint signs are hashed: no JSON is parsed.
    let leaves: Vec<Hash> = lines[..size]
        .par_iter()
        .map(|line| merkle::leaf(line.as_bytes()))
        .collect();
    if merkle::Tree::new(&leaves).root(size) != Some(checkpoint.root) {
        return Err(format!(
            "the checkpoint's root is not the root of the first {size} entries; run `severance ledger verify`"
        ));
    }
    let line = keep
        .and_then(|seq| usize::try_from(seq).ok())
        .and_then(|i| lines[..size].get(i))
        .map(|l| (*l).to_string());
    Ok(Sealed {
        checkpoint,
        text,
        leaves,
        line,
    })
}

fn read_checkpoint(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("could not read the checkpoint `{}`: {e}", path.display()))
}

/// The standard base64 of each hash, one a line.
fn hash_lines(hashes: &[Hash]) -> String {
    hashes
        .iter()
        .map(|h| format!("{}\n", STANDARD.encode(h)))
        .collect()
}

/// The inclusion proof bundle of entry `seq` against the chosen checkpoint:
/// the header, `extra` (the entry's line), `index`, the audit path, a blank
/// line and the checkpoint verbatim.
pub fn prove(dir: &Path, seq: u64, against: &Against) -> Result<String, String> {
    let sealed = sealed(dir, against, Some(seq))?;
    let size = sealed.checkpoint.size;
    let Some(line) = &sealed.line else {
        return Err(format!(
            "no entry `{seq}` under the checkpoint, which signs {size} entries"
        ));
    };
    let leaves = &sealed.leaves;
    let path = merkle::Tree::new(leaves)
        .inclusion(usize::try_from(seq).unwrap_or(usize::MAX), leaves.len())
        .ok_or_else(|| format!("no entry `{seq}`"))?;
    Ok(format!(
        "{HEADER}\nextra {}\nindex {seq}\n{}\n{}",
        STANDARD.encode(line.as_bytes()),
        hash_lines(&path),
        sealed.text
    ))
}

/// The consistency proof from the checkpoint the auditor holds (`old`) to
/// the chosen one: `old <size>`, the proof, a blank line and the new
/// checkpoint verbatim. Refused when the old checkpoint's root is not the
/// root of the entries either.
pub fn prove_consistency(dir: &Path, old: &str, against: &Against) -> Result<String, String> {
    let old =
        Checkpoint::parse(old).map_err(|e| format!("the old checkpoint is malformed: {e}"))?;
    let sealed = sealed(dir, against, None)?;
    let leaves = &sealed.leaves;
    let new = sealed.checkpoint.size;
    if old.size > new {
        return Err(format!(
            "the old checkpoint signs size {} and the new one only {new}",
            old.size
        ));
    }
    let tree = merkle::Tree::new(leaves);
    let m = usize::try_from(old.size).unwrap_or(usize::MAX);
    if tree.root(m) != Some(old.root) {
        return Err(format!(
            "the old checkpoint's root is not the root of the first {m} entries: the ledger does not extend it"
        ));
    }
    let proof = tree
        .consistency(m, leaves.len())
        .ok_or_else(|| "no consistency proof between these sizes".to_string())?;
    Ok(format!(
        "old {}\n{}\n{}",
        old.size,
        hash_lines(&proof),
        sealed.text
    ))
}

/// One way a proof failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProofFailure {
    /// Stable kebab-case code.
    pub code: ProofCode,
    /// What is wrong.
    pub message: String,
}

/// What a signed checkpoint says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTree {
    /// The log.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root.
    pub root: Hash,
}

impl SignedTree {
    fn of(cp: &Checkpoint) -> SignedTree {
        SignedTree {
            origin: cp.origin.clone(),
            size: cp.size,
            root: cp.root,
        }
    }
}

/// The entry an inclusion proof carries, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEntry {
    /// Its type.
    pub kind: &'static str,
    /// A decision's subject.
    pub subject: Option<String>,
    /// The writer's claim of when.
    pub ts: String,
    /// Its leaf hash.
    pub leaf: Hash,
}

/// What a proof claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Entry `index` is in the tree the checkpoint signs.
    Inclusion {
        /// The entry's index.
        index: u64,
        /// The entry, when it could be read.
        entry: Option<ProvenEntry>,
    },
    /// The tree of `old` leaves is a prefix of the one the checkpoint signs.
    Consistency {
        /// The old size.
        old: u64,
        /// The old checkpoint, when it is valid.
        old_tree: Option<SignedTree>,
    },
}

/// The result of checking a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofReport {
    /// The pinned key, `name+id`.
    pub key: String,
    /// What the proof claims, once its lines are read.
    pub claim: Option<Claim>,
    /// The checkpoint, once it is read and validly signed.
    pub checkpoint: Option<SignedTree>,
    /// Everything that failed; empty when the proof holds.
    pub failures: Vec<ProofFailure>,
}

impl ProofReport {
    /// Whether the proof holds.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    fn fail(mut self, code: ProofCode, message: impl Into<String>) -> ProofReport {
        self.failures.push(ProofFailure {
            code,
            message: message.into(),
        });
        self
    }
}

/// A bundle's lines, read.
enum Parsed<'a> {
    Inclusion {
        extra: Option<Vec<u8>>,
        index: u64,
        hashes: Vec<Hash>,
        checkpoint: &'a str,
    },
    Consistency {
        old: u64,
        hashes: Vec<Hash>,
        checkpoint: &'a str,
    },
}

type Refusal = (ProofCode, String);

/// A decimal without leading zeros, as C2SP writes sizes and indices.
fn decimal(text: &str, what: &str) -> Result<u64, Refusal> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text.len() == 1 || !text.starts_with('0'));
    canonical
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| {
            (
                ProofCode::ProofSyntax,
                format!("`{what} {text}` is not a decimal without leading zeros"),
            )
        })
}

fn base64(text: &str, what: &str) -> Result<Vec<u8>, Refusal> {
    note::decode_b64(text).map_err(|e| (ProofCode::ProofSyntax, format!("{what}: {e}")))
}

/// Reads the lines before the checkpoint.
fn parse(text: &str) -> Result<Parsed<'_>, Refusal> {
    let first = text.split('\n').next().unwrap_or_default();
    let inclusion = first == HEADER;
    if !inclusion && !first.starts_with("old ") {
        return Err((
            ProofCode::ProofHeader,
            format!(
                "the first line is `{}`, not `{HEADER}` or `old <size>`",
                first.escape_debug()
            ),
        ));
    }
    let Some((head, checkpoint)) = text.split_once("\n\n") else {
        return Err((
            ProofCode::ProofSyntax,
            "no blank line before the checkpoint".into(),
        ));
    };
    let mut lines = head.split('\n').skip(1).peekable();
    let hashes = |lines: &mut dyn Iterator<Item = &str>| -> Result<Vec<Hash>, Refusal> {
        let mut out = Vec::new();
        for (n, line) in lines.enumerate() {
            if n == MAX_HASHES {
                return Err((
                    ProofCode::ProofLength,
                    format!("more than {MAX_HASHES} hashes"),
                ));
            }
            let bytes = base64(line, &format!("hash {}", n + 1))?;
            out.push(<Hash>::try_from(bytes.as_slice()).map_err(|_| {
                (
                    ProofCode::ProofSyntax,
                    format!("hash {} is {} bytes, not 32", n + 1, bytes.len()),
                )
            })?);
        }
        Ok(out)
    };
    if !inclusion {
        let old = decimal(&first["old ".len()..], "old")?;
        return Ok(Parsed::Consistency {
            old,
            hashes: hashes(&mut lines)?,
            checkpoint,
        });
    }
    let extra = match lines.peek().and_then(|l| l.strip_prefix("extra ")) {
        Some(b64) => {
            let bytes = base64(b64, "extra")?;
            lines.next();
            Some(bytes)
        }
        None => None,
    };
    let index = match lines.next().and_then(|l| l.strip_prefix("index ")) {
        Some(n) => decimal(n, "index")?,
        None => {
            return Err((
                ProofCode::ProofSyntax,
                "no `index <n>` line after the header".into(),
            ));
        }
    };
    Ok(Parsed::Inclusion {
        extra,
        index,
        hashes: hashes(&mut lines)?,
        checkpoint,
    })
}

/// A checkpoint failure as the proof's code.
fn proof_code(code: FailureCode) -> ProofCode {
    match code {
        FailureCode::OriginMismatch => ProofCode::OriginMismatch,
        FailureCode::UntrustedSignature => ProofCode::UntrustedSignature,
        FailureCode::BadSignature => ProofCode::BadSignature,
        _ => ProofCode::NoteSyntax,
    }
}

/// Reads the entry an inclusion proof carries and checks it names its
/// place: a canonical line of a known type (section 7 step 2), whose `seq`
/// is the index and whose `log` is the origin.
fn read_entry(line: &[u8], index: u64, origin: &str) -> Result<ProvenEntry, String> {
    let text = std::str::from_utf8(line).map_err(|_| "the entry is not UTF-8".to_string())?;
    if text.contains('\n') {
        return Err("the entry holds a newline".into());
    }
    let (value, canonical) =
        verify::parse_line(text).map_err(|(code, message)| format!("{code}: {message}"))?;
    if !canonical {
        return Err("the entry is not in RFC 8785 canonical form".into());
    }
    let entry = Entry::read(&value).map_err(|misfit| format!("schema: {misfit}"))?;
    if entry.envelope.seq != index {
        return Err(format!(
            "the entry's `seq` is {}, the proof's index {index}",
            entry.envelope.seq
        ));
    }
    if entry.envelope.log != origin {
        return Err(format!(
            "the entry's `log` is {}, the checkpoint's origin `{origin}`",
            serde_json::Value::from(entry.envelope.log.as_str())
        ));
    }
    let subject = match &entry.body {
        Body::Decision(d) => Some(d.body.subject.clone()),
        _ => None,
    };
    Ok(ProvenEntry {
        kind: entry.body.kind().as_str(),
        subject,
        ts: entry.envelope.ts.0,
        leaf: merkle::leaf(line),
    })
}

/// Checks a proof bundle against the pinned key and, for a consistency
/// proof, the old checkpoint the auditor holds. Each failure stops the
/// checks that depend on it, so that a corruption is reported by one code.
/// `Err` when it cannot be checked: a consistency proof without `old`, or
/// an inclusion proof with one.
pub fn verify_proof(
    bytes: &[u8],
    key: &VerifierKey,
    old: Option<&[u8]>,
) -> Result<ProofReport, String> {
    let report = ProofReport {
        key: key.short(),
        claim: None,
        checkpoint: None,
        failures: Vec::new(),
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(report.fail(ProofCode::ProofSyntax, "the proof is not UTF-8"));
    };
    let parsed = match parse(text) {
        Ok(parsed) => parsed,
        Err((code, message)) => return Ok(report.fail(code, message)),
    };
    match parsed {
        Parsed::Inclusion {
            extra,
            index,
            hashes,
            checkpoint,
        } => {
            if old.is_some() {
                return Err(
                    "`--old` applies to a consistency proof; this is an inclusion proof".into(),
                );
            }
            Ok(check_inclusion(
                report,
                key,
                extra.as_deref(),
                index,
                &hashes,
                checkpoint,
            ))
        }
        Parsed::Consistency {
            old: size,
            hashes,
            checkpoint,
        } => {
            let Some(old) = old else {
                return Err(
                    "a consistency proof is checked against the old checkpoint you hold: pass it with `--old`".into(),
                );
            };
            Ok(check_consistency(
                report, key, size, &hashes, checkpoint, old,
            ))
        }
    }
}

/// The checkpoint's syntax and signature; nothing else counts without
/// them, so on a failure the report is complete.
fn checked_tree(
    report: &mut ProofReport,
    key: &VerifierKey,
    checkpoint: &str,
) -> Option<SignedTree> {
    match verify::signed(checkpoint, key) {
        Ok(cp) => {
            let tree = SignedTree::of(&cp);
            report.checkpoint = Some(tree.clone());
            Some(tree)
        }
        Err((code, message)) => {
            report.failures.push(ProofFailure {
                code: proof_code(code),
                message,
            });
            None
        }
    }
}

fn check_inclusion(
    mut report: ProofReport,
    key: &VerifierKey,
    extra: Option<&[u8]>,
    index: u64,
    hashes: &[Hash],
    checkpoint: &str,
) -> ProofReport {
    report.claim = Some(Claim::Inclusion { index, entry: None });
    let Some(tree) = checked_tree(&mut report, key, checkpoint) else {
        return report;
    };
    if index >= tree.size {
        return report.fail(
            ProofCode::IndexOutOfRange,
            format!(
                "index {index} is not below the checkpoint's size {}",
                tree.size
            ),
        );
    }
    let want = merkle::inclusion_len(index, tree.size);
    if hashes.len() != want {
        return report.fail(
            ProofCode::ProofLength,
            format!(
                "{} hashes; entry {index} of a tree of {} has an audit path of {want}",
                hashes.len(),
                tree.size
            ),
        );
    }
    let Some(line) = extra else {
        return report.fail(
            ProofCode::EntryMismatch,
            "no `extra` line: the proof carries no entry",
        );
    };
    let entry = match read_entry(line, index, &tree.origin) {
        Ok(entry) => entry,
        Err(message) => return report.fail(ProofCode::EntryMismatch, message),
    };
    let holds = merkle::verify_inclusion(&entry.leaf, index, tree.size, hashes, &tree.root);
    report.claim = Some(Claim::Inclusion {
        index,
        entry: Some(entry),
    });
    if holds {
        report
    } else {
        report.fail(
            ProofCode::InclusionMismatch,
            "the root recomputed from the entry and its audit path is not the checkpoint's root",
        )
    }
}

fn check_consistency(
    mut report: ProofReport,
    key: &VerifierKey,
    size: u64,
    hashes: &[Hash],
    checkpoint: &str,
    old: &[u8],
) -> ProofReport {
    report.claim = Some(Claim::Consistency {
        old: size,
        old_tree: None,
    });
    let Some(tree) = checked_tree(&mut report, key, checkpoint) else {
        return report;
    };
    if size > tree.size {
        return report.fail(
            ProofCode::IndexOutOfRange,
            format!(
                "old size {size} is larger than the checkpoint's size {}",
                tree.size
            ),
        );
    }
    let old = match std::str::from_utf8(old) {
        Ok(text) => {
            verify::signed(text, key).map_err(|(code, message)| format!("{code}: {message}"))
        }
        Err(_) => Err("the old checkpoint is not UTF-8".into()),
    };
    let old = match old {
        Ok(cp) if cp.size == size => SignedTree::of(&cp),
        Ok(cp) => {
            return report.fail(
                ProofCode::OldCheckpointMismatch,
                format!(
                    "the old checkpoint signs size {}, the proof is from size {size}",
                    cp.size
                ),
            );
        }
        Err(message) => {
            return report.fail(
                ProofCode::OldCheckpointMismatch,
                format!("the old checkpoint: {message}"),
            );
        }
    };
    let want = merkle::consistency_len(size, tree.size);
    report.claim = Some(Claim::Consistency {
        old: size,
        old_tree: Some(old.clone()),
    });
    if hashes.len() != want {
        return report.fail(
            ProofCode::ProofLength,
            format!(
                "{} hashes; a consistency proof from size {size} to {} has {want}",
                hashes.len(),
                tree.size
            ),
        );
    }
    if merkle::verify_consistency(size, tree.size, hashes, &old.root, &tree.root) {
        report
    } else {
        report.fail(
            ProofCode::ConsistencyMismatch,
            format!(
                "the proof does not lead from the old root of size {size} to the root of size {}",
                tree.size
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in `docs/ledger.md` section 11 is this one.
    #[test]
    fn ledger_docs_list_every_proof_code() {
        let mut table = String::from("| code | meaning | fix |\n|---|---|---|\n");
        let mut seen = std::collections::BTreeSet::new();
        for c in ProofCode::ALL {
            let name = c.as_str();
            assert!(name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'));
            assert!(seen.insert(name), "`{name}` twice");
            table.push_str(&format!(
                "| `{name}` | {} | {} |\n",
                c.description(),
                c.fix()
            ));
        }
        crate::model::tests::keep_in_step(
            "docs/ledger.md",
            "<!-- proof-codes:begin -->",
            "<!-- proof-codes:end -->",
            table.trim_end(),
        );
    }

    /// The codes a proof shares with a ledger's checkpoints mean the same.
    #[test]
    fn shared_codes_have_the_ledger_names() {
        for code in [
            FailureCode::NoteSyntax,
            FailureCode::OriginMismatch,
            FailureCode::UntrustedSignature,
            FailureCode::BadSignature,
        ] {
            assert_eq!(proof_code(code).as_str(), code.as_str());
        }
    }

    #[test]
    fn numbers_and_lines_have_one_spelling() {
        assert_eq!(decimal("0", "index"), Ok(0));
        assert_eq!(decimal("12", "index"), Ok(12));
        for bad in ["", "01", "+1", "1 ", "99999999999999999999"] {
            assert!(decimal(bad, "index").is_err(), "{bad}");
        }
        assert!(matches!(
            parse("c2sp.org/tlog-proof@v1\nindex 1\nAA==\n\nx"),
            Err((ProofCode::ProofSyntax, _))
        ));
        assert!(matches!(
            parse("c2sp.org/tlog-proof@v1\nextra AA==\n\nx"),
            Err((ProofCode::ProofSyntax, _))
        ));
        let many = format!(
            "old 1\n{}\nx",
            format!("{}\n", STANDARD.encode([0u8; 32])).repeat(64)
        );
        assert!(matches!(parse(&many), Err((ProofCode::ProofLength, _))));
    }
}
