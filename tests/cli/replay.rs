//! `ledger replay` end to end: a temporary git repository holding the
//! sample organisation, two commits and a run recorded at each; replays
//! that confirm them, a policy edited outside the commit a run names (and
//! policies read at another revision) caught decision by decision, what
//! cannot be replayed, and a working tree and index that replay never
//! touches.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::gitops::{git, terminate_grace};
use crate::harness::{AS_OF, Run, repo, run_in, scratch};
use crate::ledger::{arg, keys, private_key};
use crate::report_schemas::{invalid, valid, validator};

/// A repository with the sample committed, a run recorded, Grace Okafor
/// terminated in a second commit, and a second run: the ledger is
/// `ledger/` in the repository, which git is told to ignore.
struct Recorded {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Recorded {
    fn new() -> Recorded {
        let dir = scratch(&repo().join("inventory"));
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join(".git/info/exclude"), "/ledger/\n").expect("exclude");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "base"]);
        let recorded = Recorded {
            dir,
            key: private_key("log.key"),
        };
        recorded.plan();
        let root = recorded.root();
        terminate_grace(root);
        git(root, &["commit", "-q", "-am", "terminate Grace Okafor"]);
        recorded.plan();
        recorded
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Records a run of the working tree as it is.
    fn plan(&self) {
        let out = run_in(
            self.root(),
            &[
                "plan",
                "--as-of",
                AS_OF,
                "--ledger",
                "ledger",
                "--key",
                arg(&self.key),
            ],
        );
        assert_eq!(out.code, 0, "{}", out.transcript());
    }

    /// The sequence numbers of the run entries.
    fn runs(&self) -> Vec<u64> {
        let out = run_in(
            self.root(),
            &[
                "ledger", "log", "--ledger", "ledger", "--type", "run", "--format", "json",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.transcript());
        let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
        doc["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["entry"]["seq"].as_u64().expect("seq"))
            .collect()
    }

    fn replay(&self, seq: u64, extra: &[&str]) -> Run {
        let vkey = keys().join("log.key.pub");
        let seq = seq.to_string();
        let mut args = vec![
            "ledger",
            "replay",
            "--ledger",
            "ledger",
            "--vkey",
            arg(&vkey),
            "--seq",
            &seq,
        ];
        args.extend_from_slice(extra);
        run_in(self.root(), &args)
    }

    /// A replay's JSON document, checked against the published schema.
    fn replay_json(&self, seq: u64, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let out = self.replay(seq, &args);
        let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
        valid(&validator("ledger-replay-v1.schema.json"), &doc);
        assert_eq!(out.code, if doc["confirmed"] == true { 0 } else { 1 });
        (out.code, doc)
    }

    /// Lengthens the deadline of `leaver-account-revoke` from a day to a
    /// month: a quiet weakening of the pack.
    fn weaken_policy(&self) {
        let path = self.root().join("policies/accounts.cedar");
        let text = std::fs::read_to_string(&path).expect("read policy");
        let at = "@id(\"leaver-account-revoke\")";
        let start = text.find(at).expect("the policy is in the pack");
        let (before, after) = text.split_at(start);
        assert!(after.contains("@due(\"24h\")"));
        let edited = format!(
            "{before}{}",
            after.replacen("@due(\"24h\")", "@due(\"720h\")", 1)
        );
        std::fs::write(&path, edited).expect("write policy");
    }
}

/// Commit ids and digests, which follow the sample's content, as
/// `<commit N>` and `<digest N>` numbered by first appearance, so that a
/// snapshot still shows which are equal.
fn redact(text: &str) -> String {
    let hex_run = |s: &str| {
        s.bytes()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count()
    };
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mut label = |value: &'static str, text: String| -> String {
        let n = seen.iter().filter(|(kind, _)| *kind == value).count();
        match seen.iter().position(|(_, t)| *t == text) {
            Some(i) => {
                let k = seen[..=i].iter().filter(|(kind, _)| *kind == value).count();
                format!("<{value} {k}>")
            }
            None => {
                seen.push((value, text));
                format!("<{value} {}>", n + 1)
            }
        }
    };
    let mut out = String::new();
    let mut i = 0;
    let mut word_start = true;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if rest.starts_with("sha256:") && hex_run(&rest[7..]) == 64 {
            out.push_str(&label("digest", rest[..71].to_string()));
            i += 71;
            word_start = false;
            continue;
        }
        if word_start && hex_run(rest) == 40 {
            out.push_str(&label("commit", rest[..40].to_string()));
            i += 40;
            word_start = false;
            continue;
        }
        out.push(c);
        word_start = !c.is_ascii_alphanumeric();
        i += c.len_utf8();
    }
    out
}

#[test]
fn each_run_of_a_history_replays_confirmed() {
    let recorded = Recorded::new();
    let runs = recorded.runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for &seq in &runs {
        let out = recorded.replay(seq, &[]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        let (_, doc) = recorded.replay_json(seq, &[]);
        assert_eq!(doc["confirmed"], true);
        assert_eq!(doc["differences"], json!([]));
        assert_eq!(doc["decisions"]["ledger_holds_run"], true);
    }
    let (_, first) = recorded.replay_json(runs[0], &[]);
    let (_, second) = recorded.replay_json(runs[1], &[]);
    assert_ne!(first["run"]["commit"], second["run"]["commit"]);
    assert_ne!(
        first["inventory"]["recorded"],
        second["inventory"]["recorded"]
    );
    assert_eq!(
        first["policies"]["recorded"],
        second["policies"]["recorded"]
    );
    let out = recorded.replay(runs[1], &[]);
    insta::assert_snapshot!("replay_confirmed", redact(&out.transcript()));
}

/// The realistic tamper: a policy weakened in the working tree but never
/// committed, and a run recorded with it. The run names the inventory's
/// commit (the inventory was clean), so nothing in the run entry looks
/// wrong; replay reads the committed policies and shows the pack differed
/// and every decision it moved.
#[test]
fn a_policy_edited_outside_the_commit_is_caught_decision_by_decision() {
    let recorded = Recorded::new();
    recorded.weaken_policy();
    recorded.plan();
    let runs = recorded.runs();
    let tampered = *runs.last().expect("a run");
    let out = recorded.replay(tampered, &[]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    insta::assert_snapshot!("replay_policy_edited", redact(&out.transcript()));

    let (_, doc) = recorded.replay_json(tampered, &[]);
    assert_eq!(doc["confirmed"], false);
    assert_eq!(doc["inventory"]["same"], true);
    assert_eq!(doc["policies"]["same"], false);
    assert_eq!(doc["decisions"]["same"], false);
    assert_eq!(doc["decisions"]["ledger_holds_run"], true);
    assert_eq!(doc["tool"]["same"], true);
    let differences = doc["differences"].as_array().expect("differences");
    assert!(!differences.is_empty());
    let subjects: Vec<&str> = differences
        .iter()
        .map(|d| d["subject"].as_str().expect("subject"))
        .collect();
    let mut sorted = subjects.clone();
    sorted.sort_unstable();
    assert_eq!(subjects, sorted, "sorted by subject");
    for d in differences {
        assert_eq!(d["change"], "changed", "{d:#}");
        assert_eq!(d["fields"], json!(["due"]), "{d:#}");
        assert_ne!(d["recorded"]["due"], d["replayed"]["due"]);
    }
    // The runs before it still replay as recorded, the edit in the
    // working tree notwithstanding.
    for &seq in &runs[..runs.len() - 1] {
        assert_eq!(recorded.replay(seq, &[]).code, 0);
    }
}

/// `--policies-at` reads the policies at another revision: a later commit
/// that weakens them is shown as a different pack; the run's own commit,
/// named another way, confirms.
#[test]
fn policies_read_at_another_revision_are_compared() {
    let recorded = Recorded::new();
    recorded.weaken_policy();
    git(recorded.root(), &["commit", "-q", "-am", "weaken"]);
    let runs = recorded.runs();
    let (code, doc) = recorded.replay_json(runs[1], &["--policies-at", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(doc["policies"]["at"], "HEAD");
    assert_eq!(doc["policies"]["same"], false);
    assert_eq!(doc["inventory"]["same"], true);
    assert!(
        !doc["differences"]
            .as_array()
            .expect("differences")
            .is_empty()
    );
    let (code, doc) = recorded.replay_json(runs[1], &["--policies-at", "HEAD~1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["policies"]["at"], "HEAD~1");
    assert_eq!(recorded.replay(runs[1], &[]).code, 0);
    let out = recorded.replay(runs[0], &["--policies-at", "no-such-branch"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("`no-such-branch`"), "{}", out.stderr);
}

#[test]
fn what_cannot_be_replayed_exits_2_and_a_corrupt_ledger_3() {
    let recorded = Recorded::new();
    let runs = recorded.runs();

    let out = recorded.replay(runs[0] + 1, &[]);
    assert_eq!(out.code, 2);
    insta::assert_snapshot!("replay_not_a_run", redact(&out.transcript()));
    let out = recorded.replay(10_000, &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("has no entry `10000`"),
        "{}",
        out.stderr
    );

    // A run recorded while the inventory had uncommitted changes names no
    // commit, so there is nothing in git to replay it from.
    let people = recorded.root().join("inventory/people/employees.yaml");
    let mut text = std::fs::read_to_string(&people).expect("read");
    text.push_str("# reviewed\n");
    std::fs::write(&people, text).expect("write");
    recorded.plan();
    let dirty = *recorded.runs().last().expect("a run");
    let out = recorded.replay(dirty, &[]);
    assert_eq!(out.code, 2);
    insta::assert_snapshot!("replay_no_commit", redact(&out.transcript()));

    // A run entry edited without the key: verification fails, and nothing
    // is replayed from it.
    let entries = recorded.root().join("ledger/entries.jsonl");
    let text = std::fs::read_to_string(&entries).expect("read");
    let edited = text.replacen(
        &format!("\"as_of\":\"{AS_OF}\""),
        "\"as_of\":\"2026-11-01T09:00:00Z\"",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&entries, edited).expect("write");
    let out = recorded.replay(runs[0], &[]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("replay_corrupt", redact(&out.transcript()));
}

/// Replay reads git's objects only: the working tree's edits (staged or
/// not) are neither read nor touched, and the index stays as it was.
#[test]
fn replay_leaves_the_working_tree_and_index_alone() {
    let recorded = Recorded::new();
    let root = recorded.root();
    recorded.weaken_policy();
    let people = root.join("inventory/people/employees.yaml");
    let mut text = std::fs::read_to_string(&people).expect("read");
    text.push_str("# staged, not committed\n");
    std::fs::write(&people, text).expect("write");
    git(root, &["add", "inventory"]);
    let state = || {
        (
            git(root, &["status", "--porcelain=v2", "--branch"]),
            std::fs::read(root.join(".git/index")).expect("index"),
            std::fs::read(root.join("policies/accounts.cedar")).expect("policy"),
            std::fs::read(&people).expect("people"),
        )
    };
    let before = state();
    assert!(before.0.contains("accounts.cedar"), "{}", before.0);
    for seq in recorded.runs() {
        let out = recorded.replay(seq, &[]);
        assert_eq!(out.code, 0, "{}", out.transcript());
    }
    assert!(
        state() == before,
        "replay changed the working tree or index"
    );
}

#[test]
fn the_replay_schema_refuses_what_the_command_never_writes() {
    let recorded = Recorded::new();
    recorded.weaken_policy();
    recorded.plan();
    let seq = *recorded.runs().last().expect("a run");
    let (_, doc) = recorded.replay_json(seq, &[]);
    let validator = validator("ledger-replay-v1.schema.json");
    let mut broken = doc.clone();
    broken["differences"][0]["change"] = json!("moved");
    invalid(
        &validator,
        &broken,
        "/differences/0/change",
        "an unknown change",
    );
    let mut broken = doc.clone();
    broken["differences"][0]["fields"] = json!(["colour"]);
    invalid(
        &validator,
        &broken,
        "/differences/0/fields/0",
        "an unknown field",
    );
    let mut broken = doc.clone();
    broken["decisions"]["recorded"] = json!("sha256:XYZ");
    invalid(
        &validator,
        &broken,
        "/decisions/recorded",
        "a malformed digest",
    );
    let mut broken = doc;
    broken["run"]["extra"] = json!(1);
    invalid(
        &validator,
        &broken,
        "/run",
        "a field the schema does not name",
    );

    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/schemas/ledger-replay-v1.schema.json"))
            .expect("schema"),
    )
    .expect("JSON");
    assert_eq!(
        schema["properties"]["differences"]["items"]["properties"]["fields"]["items"]["enum"],
        json!(severance::ledger::replay::FIELDS),
        "the schema names the fields the code compares"
    );
}
