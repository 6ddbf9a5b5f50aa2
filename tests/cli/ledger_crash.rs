//! The ledger after a crash: each state a writer killed mid-commit leaves
//! is recovered by the next writer, which records what it found and never
//! seals lines it cannot vouch for; and a fault injected at every write,
//! rename and fsync of a commit, one at a time, proves it for each.

use std::path::{Path, PathBuf};

use serde_json::Value;
use severance::ledger::disk::{Crashed, Fault, Op, Step};
use severance::ledger::entry::{Approvers, Body};
use severance::ledger::{jcs, merkle, store::Writer};

use crate::ledger::{files, log_key, plan_again, private_key, verify_dir, write_valid};

const TS: &str = "2026-11-28T09:00:00Z";

/// A trusted-approver list, which needs no earlier entry to refer to.
fn approvers(names: &[&str]) -> Body {
    Body::Approvers(Approvers {
        approvers: names.iter().map(|n| n.to_string()).collect(),
    })
}

/// Bodies a test write appends: trusted-approver lists.
fn bodies(n: usize) -> Vec<Body> {
    (0..n)
        .map(|i| approvers(&[&format!("crash-test-{i}")]))
        .collect()
}

/// What a write of `bodies` to `ledger` would append and sign, made on a
/// copy so that the ledger itself is untouched.
fn would_write(ledger: &Path, bodies: Vec<Body>) -> (Vec<u8>, String) {
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
    let out = plan_again(tmp.path(), &ledger, &private_key("log.key"));
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

        let out = plan_again(tmp.path(), &ledger, &private_key("log.key"));
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
    let out = plan_again(tmp.path(), &ledger, &private_key("log.key"));
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(temporary_files(&ledger), Vec::<PathBuf>::new());
    assert_eq!(found(&recoveries(&ledger)[0]), ["temporary-files"]);
    let out = verify_dir(&ledger);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// One write to fault: the entries it pushes.
type Plan = fn(&mut Writer);

fn three_approvers(w: &mut Writer) {
    w.push_all(bodies(3), TS).expect("push");
}

fn one_more(w: &mut Writer) {
    w.push(approvers(&["after-crash"]), "2026-11-29T09:00:00Z")
        .expect("push");
}

/// A ledger directory's files, without the lock.
type Files = std::collections::BTreeMap<String, Vec<u8>>;

fn snapshot(dir: &Path) -> Files {
    if dir.exists() {
        files(dir)
    } else {
        Files::new()
    }
}

fn restore(dir: &Path, state: &Files) {
    crate::ledger::write_files(dir, state);
    std::fs::create_dir_all(dir.join("checkpoints")).expect("mkdir");
}

/// How a write in a given state ends.
enum Outcome {
    /// It sealed; what it recovered from.
    Sealed(Vec<&'static str>),
    /// It returned an error.
    Failed(String),
    /// It was "killed".
    Crashed,
}

/// Runs `plan` on the ledger in `dir` with `fault` at step `at` (none when
/// `at` is `None`), and returns how it ended and every step it took.
fn write(dir: &Path, plan: Plan, at: Option<usize>, fault: Fault) -> (Outcome, Vec<Step>) {
    let key = log_key();
    let mut writer = match Writer::open(dir, &key, TS) {
        Ok(w) => w,
        Err(e) => return (Outcome::Failed(format!("open: {e:?}")), Vec::new()),
    };
    plan(&mut writer);
    let recovered = writer.recovered().to_vec();
    let mut steps = Vec::new();
    let mut hook = |step: &Step| {
        steps.push(step.clone());
        (Some(steps.len() - 1) == at).then_some(fault)
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        writer.commit_with(Some(&mut hook))
    }));
    let outcome = match run {
        Ok(Ok(_)) => Outcome::Sealed(recovered),
        Ok(Err(e)) => Outcome::Failed(format!("{e:?}")),
        Err(payload) if payload.is::<Crashed>() => Outcome::Crashed,
        Err(payload) => std::panic::resume_unwind(payload),
    };
    (outcome, steps)
}

/// The faults tried at a step: fail and crash before it, and for a write
/// also after its first line (whole lines only) and a few bytes into the
/// second (a torn line).
fn faults(step: &Step, first_line: usize) -> Vec<Fault> {
    let mut all = vec![Fault::Fail, Fault::Crash];
    if matches!(step.op, Op::Write | Op::Copy) {
        for n in [first_line, first_line + 7] {
            all.extend([Fault::FailAfter(n), Fault::CrashAfter(n)]);
        }
    }
    all
}

/// A write to fault, and what it does when nothing fails.
struct Case {
    label: String,
    /// The ledger before it.
    state: Files,
    plan: Plan,
    /// The lines it adds (after any it cuts off).
    lines: Vec<String>,
    /// Every file system step of its commit.
    steps: Vec<Step>,
    /// The ledger after it.
    done: Files,
    /// Whether `state` needs no recovery.
    clean: bool,
}

/// Runs `plan` on a copy of `state` without faults, to see what it does.
fn case(label: String, state: Files, plan: Plan) -> Case {
    let copy = tempfile::tempdir().expect("tempdir");
    let dir = copy.path().join("ledger");
    restore(&dir, &state);
    let before = state.get("entries.jsonl").cloned().unwrap_or_default();
    let (outcome, steps) = write(&dir, plan, None, Fault::Fail);
    let Outcome::Sealed(recovered) = outcome else {
        panic!("{label}: the write without faults fails");
    };
    let after = std::fs::read(dir.join("entries.jsonl")).expect("read");
    // A recovering write may cut lines off; what it adds starts where the
    // kept lines end, which is where the old and new files first differ.
    let same = before
        .iter()
        .zip(&after)
        .take_while(|(a, b)| a == b)
        .count();
    let start = after[..same]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let lines = String::from_utf8(after[start..].to_vec())
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    Case {
        label,
        done: snapshot(&dir),
        state,
        plan,
        lines,
        steps,
        clean: recovered.is_empty(),
    }
}

/// Every checkpoint a state holds: signed, so none may ever be contradicted.
fn signed_checkpoints(state: &Files) -> Vec<(String, String)> {
    state
        .iter()
        .filter(|(name, _)| {
            *name == "checkpoint"
                || name
                    .strip_prefix("checkpoints/")
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(name, text)| (name.clone(), String::from_utf8_lossy(text).to_string()))
        .collect()
}

fn failure_codes(dir: &Path, external: &[(String, String)]) -> Vec<&'static str> {
    let report = severance::ledger::verify(dir, &log_key().verifier(), external);
    let mut codes: Vec<&'static str> = report.failures.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// What a fault left, and what the next writer made of it.
struct Checked {
    crashed: Files,
    /// Verify's codes on the state the fault left.
    verdict: Vec<&'static str>,
    /// What the next writer recovered from.
    recovered: Vec<&'static str>,
}

/// Faults the write of `plan` on `state` at step `k` with `fault`; then
/// checks the state it leaves, lets a fresh writer write, and checks what
/// that one made of it: it succeeds, loses no signed entry, records a
/// `recovery` entry exactly when there was something to recover from,
/// seals all of the faulted write's lines or none, leaves no temporary
/// file or marker, and the result verifies.
fn fault_and_recover(case: &Case, k: usize, fault: Fault) -> Checked {
    let Case {
        label,
        state,
        plan,
        lines,
        done,
        clean,
        ..
    } = case;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ledger");
    restore(&dir, state);
    let (outcome, _) = write(&dir, *plan, Some(k), fault);
    let context = format!("{label}, step {k}, {fault:?}");
    match (&outcome, fault) {
        (Outcome::Crashed, Fault::Crash | Fault::CrashAfter(_)) => {}
        (Outcome::Failed(e), Fault::Fail | Fault::FailAfter(_)) => {
            assert!(e.contains("injected failure"), "{context}: {e}");
        }
        _ => panic!("{context}: the fault did not stop the write"),
    }
    let crashed = snapshot(&dir);
    let mut signed = signed_checkpoints(state);
    signed.extend(signed_checkpoints(&crashed));
    signed.sort();
    signed.dedup_by(|a, b| a.1 == b.1);
    // A crash never makes the ledger look tampered with: at worst its tail
    // is unsealed or torn, or a first write left no entries yet.
    let verdict = failure_codes(&dir, &[]);
    assert!(
        verdict
            .iter()
            .all(|c| ["unsealed-tail", "torn-tail", "missing-entries"].contains(c)),
        "{context}: {verdict:?}"
    );

    let (outcome, _) = write(&dir, one_more, None, Fault::Fail);
    let recovered = match outcome {
        Outcome::Sealed(found) => found,
        Outcome::Failed(e) => panic!("{context}: the next write failed: {e}"),
        Outcome::Crashed => panic!("{context}: the next write crashed"),
    };
    // No signed entry is lost or changed: every checkpoint ever signed
    // still verifies against the entries, as an auditor's would.
    assert_eq!(
        failure_codes(&dir, &signed),
        Vec::<&str>::new(),
        "{context}"
    );
    assert_eq!(temporary_files(&dir), Vec::<PathBuf>::new(), "{context}");
    assert!(!dir.join(".pending").exists(), "{context}");
    // A recovery is recorded exactly when the fault left something behind:
    // when the write did nothing at all or had done all but an fsync, the
    // next one finds nothing to recover from.
    assert_eq!(
        recovered.is_empty(),
        (crashed == *state && *clean) || crashed == *done,
        "{context}: {recovered:?}"
    );
    let final_entries = entries(&dir);
    let final_lines: Vec<String> = final_entries.iter().map(jcs::encode).collect();
    if !recovered.is_empty() {
        // The next writer's is the last recovery entry.
        let r = final_entries
            .iter()
            .rev()
            .find(|e| e["type"] == "recovery")
            .unwrap_or_else(|| panic!("{context}: no recovery entry"));
        assert_eq!(found(r), recovered, "{context}");
        // What it cut off is what followed the lines it kept.
        let seq = usize::try_from(r["seq"].as_u64().expect("seq")).expect("usize");
        let crashed_entries = crashed.get("entries.jsonl").cloned().unwrap_or_default();
        let mut kept = String::new();
        for line in &final_lines[..seq] {
            kept.push_str(line);
            kept.push('\n');
        }
        let discarded =
            usize::try_from(r["discarded_bytes"].as_u64().expect("bytes")).expect("usize");
        let from = crashed_entries
            .len()
            .checked_sub(discarded)
            .unwrap_or_else(|| panic!("{context}: more discarded than there was"));
        if from == 0 {
            assert!(seq <= 1, "{context}: only a new genesis precedes it");
        } else {
            assert_eq!(&crashed_entries[..from], kept.as_bytes(), "{context}");
        }
        let cut = &crashed_entries[from..];
        assert_eq!(r["discarded_digest"], merkle::digest_tag(cut), "{context}");
        let cut_lines = cut.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(r["discarded_lines"], cut_lines, "{context}");
    }
    // The faulted write's lines are sealed all together or not at all:
    // none is signed on the word of a marker that did not vouch for it.
    // (A genesis line is the same whoever writes it, so it is left out.)
    let lines: Vec<&String> = lines
        .iter()
        .filter(|l| !l.contains("\"type\":\"genesis\""))
        .collect();
    let sealed_of_plan = lines.iter().filter(|l| final_lines.contains(l)).count();
    assert!(
        sealed_of_plan == 0 || sealed_of_plan == lines.len(),
        "{context}: {sealed_of_plan} of {} planned lines sealed",
        lines.len()
    );
    if let Some(keep) = keep_dir(&format!("{label}-{k}-{fault:?}")) {
        crate::ledger::write_files(&keep, &snapshot(&dir));
    }
    Checked {
        crashed,
        verdict,
        recovered,
    }
}

/// Where to copy every recovered ledger, for the reference verifier
/// (`tools/check_ledger_interop.sh` sets it).
fn keep_dir(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var_os("SEVERANCE_KEEP_RECOVERED")?);
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Some(root.join(name))
}

/// Fails and crashes every step of a commit in turn, for a write to a
/// ledger with history, the first write of a new one, and then every step
/// of the recovering write of each distinct state those crashes leave.
#[test]
fn a_fault_at_any_step_of_a_commit_is_recovered() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A short history keeps each run's signature checks few: the test
    // binary's Ed25519 is not optimized.
    let history = tmp.path().join("history");
    for _ in 0..2 {
        let (outcome, _) = write(&history, one_more, None, Fault::Fail);
        assert!(matches!(outcome, Outcome::Sealed(_)));
    }
    let starts = [("history", snapshot(&history)), ("new", Files::new())];
    let mut table = Vec::new();
    let mut tried = 0;
    for (name, state) in starts {
        let first = case(name.to_string(), state, three_approvers);
        assert!(first.steps.len() >= 18, "{name}: {:?}", first.steps);
        // One state left for each way the next writer recovers.
        let mut left: Vec<(Vec<&'static str>, Files)> = Vec::new();
        for (k, step) in first.steps.iter().enumerate() {
            for fault in faults(step, first.lines[0].len() + 1) {
                let checked = fault_and_recover(&first, k, fault);
                tried += 1;
                table.push(format!(
                    "{name} {k:>2} {:?} {} {fault:?}: verify {:?}; next writer found {:?}",
                    step.op,
                    step.path
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default(),
                    checked.verdict,
                    checked.recovered
                ));
                if !checked.recovered.is_empty()
                    && !left.iter().any(|(found, _)| *found == checked.recovered)
                {
                    left.push((checked.recovered, checked.crashed));
                }
            }
        }
        // A recovering write's own commit (which may seal the interrupted
        // write's lines first, or cut lines off through a rename) is
        // crashed at every step too; a failure leaves what a crash does, as
        // the writer cleans nothing up on an error, which the first level
        // shows.
        assert!(left.len() >= 4, "{name}: {left:?}");
        for (found, crashed) in left {
            let second = case(format!("{name}, recovering {found:?}"), crashed, one_more);
            for (k, step) in second.steps.iter().enumerate() {
                let torn = Fault::CrashAfter(second.lines[0].len() + 7);
                for fault in faults(step, 0)
                    .into_iter()
                    .filter(|f| *f == Fault::Crash)
                    .chain(matches!(step.op, Op::Write | Op::Copy).then_some(torn))
                {
                    fault_and_recover(&second, k, fault);
                    tried += 1;
                }
            }
        }
    }
    // The crash-point table of docs/ledger.md §6 comes from here.
    if let Some(path) = std::env::var_os("SEVERANCE_CRASH_TABLE") {
        std::fs::write(path, table.join("\n") + "\n").expect("write the table");
    }
    assert!(tried > 500, "only {tried} faults tried");
}

/// A marker left by a crash vouches only for its own write's exact lines:
/// lines someone else appended after it, well formed and chained, are cut
/// off and recorded, never sealed.
#[test]
fn a_marker_does_not_vouch_for_lines_someone_else_appended() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    restore(&ledger, &{
        let mut f = files(&crate::ledger::vectors().join("valid"));
        f.remove("expected.json");
        f
    });
    let (forged, _) = would_write(&ledger, vec![approvers(&["mallory"])]);
    let (_, checkpoint) = would_write(&ledger, bodies(1));
    std::fs::write(ledger.join(".pending"), &checkpoint).expect("marker");
    append(&ledger.join("entries.jsonl"), &forged);

    let (outcome, _) = write(&ledger, one_more, None, Fault::Fail);
    let Outcome::Sealed(found_) = outcome else {
        panic!("the next write seals");
    };
    assert_eq!(found_, ["pending-marker", "unvouched-lines"]);
    let text = std::fs::read_to_string(ledger.join("entries.jsonl")).expect("read");
    assert!(!text.contains("mallory"), "the forged line is gone");
    let r = &recoveries(&ledger)[0];
    assert_eq!(r["discarded_digest"], merkle::digest_tag(&forged));
    assert_eq!(failure_codes(&ledger, &[]), Vec::<&str>::new());
}
