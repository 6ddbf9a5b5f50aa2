//! The stable codes of the ways a ledger can fail verification, in the same
//! kind of table as the findings' codes, so that each has one name, one
//! meaning and one fix, and `docs/ledger.md` lists exactly these.

use std::fmt;

use crate::diag::codes;

codes! {
    /// Stable kebab-case codes of verification failures; `docs/ledger.md`
    /// (section 7) documents each.
    FailureCode;
    MissingEntries = "missing-entries": "no `entries.jsonl`"
        => "point `--ledger` at the ledger directory; a ledger interrupted in its first write has none yet, and the next write starts it again",
    Encoding = "encoding": "not UTF-8, or a carriage return in a line"
        => "restore the ledger from a copy you trust, and keep it in git with `ledger/** -text -merge` so that no line ending is converted",
    TornTail = "torn-tail": "bytes after the last newline"
        => "an interrupted write left them: the next `plan --ledger`, `ledger trust` or `ledger record` cuts them off and records a `recovery` entry",
    Malformed = "malformed": "a line is not JSON"
        => "restore the ledger from a copy you trust; `entries.jsonl` is never edited by hand",
    DuplicateKey = "duplicate-key": "an object repeats a key"
        => "restore the ledger from a copy you trust; `entries.jsonl` is never edited by hand",
    NonCanonical = "non-canonical": "a line is not in RFC 8785 form"
        => "restore the ledger from a copy you trust; a tool that reformats JSON changes hashed bytes",
    Schema = "schema": "a field is missing, unknown or of the wrong form; a number out of range; genesis not first"
        => "restore the ledger from a copy you trust; every entry type and its fields are listed in section 5",
    SeqMismatch = "seq-mismatch": "`seq` is not the line index (a line deleted, inserted or moved)"
        => "restore the ledger from a copy you trust; lines are only ever appended",
    WrongLog = "wrong-log": "`log` is not the pinned origin"
        => "check that `--vkey` is the key of this ledger; if it is, restore the ledger from a copy you trust",
    ChainBroken = "chain-broken": "`prev` is not the previous line's leaf hash (a line edited)"
        => "restore the ledger from a copy you trust; lines are never edited",
    GenesisKeyMismatch = "genesis-key-mismatch": "the genesis entry names another key"
        => "check that `--vkey` is the key of this ledger; if it is, the ledger was started with another key: restore it",
    DanglingReference = "dangling-reference": "evidence or a decision points at no earlier entry of the right type"
        => "restore the ledger from a copy you trust; evidence names the leaf hash of an earlier decision",
    UntrustedApprover = "untrusted-approver": "an approval by a key not in the trusted list"
        => "restore the ledger from a copy you trust; approvers are trusted with `severance ledger trust` before they approve",
    BadApprovalSignature = "bad-approval-signature": "an approver's signature does not verify"
        => "restore the ledger from a copy you trust; an approval is signed by the approver's own key",
    NoteSyntax = "note-syntax": "a checkpoint is malformed"
        => "restore the checkpoint from a copy you trust; checkpoints are never edited",
    OriginMismatch = "origin-mismatch": "a checkpoint's origin is not the pinned log"
        => "check that `--vkey` and every `--checkpoint` belong to this ledger",
    UntrustedSignature = "untrusted-signature": "no signature by the pinned key (e.g. re-signed with another key)"
        => "check that `--vkey` is the key of this ledger; if it is, the checkpoint was signed by someone else: restore it",
    BadSignature = "bad-signature": "the pinned key's signature does not verify"
        => "restore the checkpoint from a copy you trust",
    RootMismatch = "root-mismatch": "a checkpoint's root is not the root of its entries (history altered)"
        => "restore the ledger from a copy that agrees with its checkpoints",
    Truncated = "truncated": "a checkpoint signs more entries than the ledger holds"
        => "entries were dropped: restore the ledger from a copy that holds every entry the checkpoint signs",
    Fork = "fork": "two signed roots for the same entries"
        => "history was rewritten by someone holding the key: restore the ledger from a copy that agrees with the checkpoints you kept, and rotate the key",
    CheckpointMismatch = "checkpoint-mismatch": "a checkpoint file misnamed, or `checkpoint` with no copy in `checkpoints/` (checkpoint history removed)"
        => "restore `checkpoints/` from a copy you trust; checkpoints are never removed or renamed",
    UnsealedTail = "unsealed-tail": "entries after the last checkpoint, or none sealed"
        => "if a write was interrupted, the next write seals or cuts off these entries; otherwise someone without the key appended them: restore the ledger",
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FailureCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in `docs/ledger.md` is this one: a code missing from the
    /// page, or one the page names that does not exist, fails here; and
    /// every code is kebab-case, used once, and says what it means and what
    /// fixes it.
    #[test]
    fn ledger_docs_list_every_failure_code() {
        let mut table = String::from("| code | meaning | fix |\n|---|---|---|\n");
        let mut seen = std::collections::BTreeSet::new();
        for c in FailureCode::ALL {
            let name = c.as_str();
            assert!(name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'));
            assert!(seen.insert(name), "`{name}` twice");
            assert!(!c.description().is_empty() && !c.fix().is_empty());
            table.push_str(&format!(
                "| `{name}` | {} | {} |\n",
                c.description(),
                c.fix()
            ));
        }
        crate::model::tests::keep_in_step(
            "docs/ledger.md",
            "<!-- failure-codes:begin -->",
            "<!-- failure-codes:end -->",
            table.trim_end(),
        );
    }
}
