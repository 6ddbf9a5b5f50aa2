//! The ledger after a crash: each state a writer killed mid-commit leaves
//! is recovered by the next writer, which records what it found and never
//! seals lines it cannot vouch for; and a fault injected at every write,
//! rename and fsync of a commit, one at a time, proves it for each.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use severance::ledger::{jcs, merkle, store::Writer};

use crate::ledger::{files, keys, log_key, plan_again, verify_dir, write_valid};

const TS: &str = "2026-11-28T09:00:00Z";

/// Bodies a test write appends: trusted-approver lists, which need no
/// earlier entry to refer to.
fn bodies(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"type": "approvers", "approvers": [format!("crash-test-{i}")]}))
        .collect()
}

/// What a write of `bodies` to `ledger` would append and sign, made on a
/// copy so that the ledger itself is untouched.
fn would_write(ledger: &Path, bodies: Vec<Value>) -> (Vec<u8>, String) {
    let copy = tempfile::tempdir().expect("tempdir");
    crate::ledger::write_files(copy.path(), &files(ledger));
    let before = std::fs::read(copy.path().join("entries.jsonl")).expect("read");
    let key = log_key();
    let mut writer = Writer::open(copy.path(), &key, TS).expect("open");
    for body in bodies {
        writer.push(body, TS).expect("push");
    }
    let sealed = writer.commit().expect("commit");
    let after = std::fs::read(copy.path().join("entries.jsonl")).expect("read");
    (after[before.len()..].to_vec(), sealed.checkpoint)
}

fn append(path: &Path, bytes: &[u8]) {
    let mut all = std::fs::read(path).expect("read");
    all.extend_from_slice(bytes);
    std::fs::write(path, all).expect("write");
}

fn entries(ledger: &Path) -> Vec<Value> {
    std::fs::read_to_string(ledger.join("entries.jsonl"))
        .expect("read")
        .lines()
        .map(|l| jcs::parse(l).expect("json"))
        .collect()
}

/// The recovery entries of a ledger.
fn recoveries(ledger: &Path) -> Vec<Value> {
    entries(ledger)
        .into_iter()
        .filter(|e| e["type"] == "recovery")
        .collect()
}

fn found(recovery: &Value) -> Vec<String> {
    recovery["found"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn temporary_files(ledger: &Path) -> Vec<PathBuf> {
    [ledger.to_path_buf(), ledger.join("checkpoints")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("read_dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"))
        })
        .collect()
}

/// Killed after renaming `checkpoints/<n>` but before renaming
/// `checkpoint`: every entry is signed, `checkpoint` is one write behind,
/// and the marker of the write is still there. That is no tampering, so
/// verify accepts it, and the next writer rolls `checkpoint` forward.
#[test]
fn a_crash_between_the_two_checkpoint_renames_is_rolled_forward() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = write_valid(tmp.path());
    let old = std::fs::read(ledger.join("checkpoint")).expect("read");
    let key = log_key();
    let mut writer = Writer::open(&ledger, &key, TS).expect("open");
    writer.push_all(bodies(2), TS).expect("push");
    let sealed = writer.commit().expect("commit");
    std::fs::write(ledger.join(".pending"), &sealed.checkpoint).expect("marker");
    std::fs::write(ledger.join("checkpoint"), &old).expect("roll back `checkpoint`");

    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = plan_again(tmp.path(), &ledger, &keys().join("log.key"));
    assert_eq!(out.code, 0, "{}", out.transcript());
    let recovered = recoveries(&ledger);
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(
        found(&recovered[0]),
        ["checkpoint-behind", "pending-marker"]
    );
    assert_eq!(recovered[0]["sealed"], sealed.size);
    assert_eq!(recovered[0]["seq"], sealed.size, "nothing was cut");
    assert!(!ledger.join(".pending").exists());
    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// The same crash in a ledger's first write leaves no `checkpoint` at all.
#[test]
fn a_crash_before_the_first_checkpoint_rename_is_rolled_forward() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    let key = log_key();
    let mut writer = Writer::open(&ledger, &key, TS).expect("open");
    writer.push_all(bodies(1), TS).expect("push");
    let sealed = writer.commit().expect("commit");
    std::fs::write(ledger.join(".pending"), &sealed.checkpoint).expect("marker");
    std::fs::remove_file(ledger.join("checkpoint")).expect("rm");

    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let mut writer = Writer::open(&ledger, &key, TS).expect("open");
    writer.push_all(bodies(1), TS).expect("push");
    writer.commit().expect("commit");
    assert_eq!(
        found(&recoveries(&ledger)[0]),
        ["checkpoint-behind", "pending-marker"]
    );
    assert!(ledger.join("checkpoint").exists());
    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// An append cut short (a full disk, a file size limit, a kill mid-write)
/// leaves some of its lines and maybe a torn one. The marker signs the
/// whole write's size and root, which those lines do not reach, so nothing
/// vouches for them: the next writer cuts them off, records their length
/// and SHA-256, and goes on.
#[test]
fn an_append_cut_short_is_cut_off_and_recorded() {
    for torn in [false, true] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ledger = write_valid(tmp.path());
        let entries_path = ledger.join("entries.jsonl");
        let before = std::fs::read(&entries_path).expect("read");
        let (new, checkpoint) = would_write(&ledger, bodies(3));
        let first_two = new
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(1)
            .map(|(i, _)| i + 1)
            .expect("two lines");
        let written = &new[..if torn { first_two + 10 } else { first_two }];
        std::fs::write(ledger.join(".pending"), &checkpoint).expect("marker");
        append(&entries_path, written);

        let out = plan_again(tmp.path(), &ledger, &keys().join("log.key"));
        assert_eq!(out.code, 0, "torn {torn}: {}", out.transcript());
        let after = std::fs::read(&entries_path).expect("read");
        assert!(after.starts_with(&before), "no sealed byte changes");
        let recovery = &recoveries(&ledger)[0];
        let want = if torn {
            vec!["pending-marker", "torn-tail", "unvouched-lines"]
        } else {
            vec!["pending-marker", "unvouched-lines"]
        };
        assert_eq!(found(recovery), want, "torn {torn}");
        assert_eq!(recovery["seq"], 10, "cut back to the signed size");
        assert_eq!(recovery["discarded_lines"], 2);
        assert_eq!(recovery["discarded_bytes"], written.len());
        assert_eq!(recovery["discarded_digest"], merkle::digest_tag(written));
        assert!(!ledger.join(".pending").exists());
        let out = verify_dir(&ledger);
        assert_eq!(out.code, 0, "{}", out.transcript());
    }
}

/// Temporary files of an interrupted write are removed by the next one.
#[test]
fn temporary_files_left_by_a_crash_are_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = write_valid(tmp.path());
    for name in [
        ".checkpoint.tmp",
        "..pending.tmp",
        ".entries.jsonl.tmp",
        "checkpoints/.11.tmp",
        "checkpoints/.99.tmp",
    ] {
        std::fs::write(ledger.join(name), b"half of som").expect("write");
    }
    let out = plan_again(tmp.path(), &ledger, &keys().join("log.key"));
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(temporary_files(&ledger), Vec::<PathBuf>::new());
    assert_eq!(found(&recoveries(&ledger)[0]), ["temporary-files"]);
    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
}
