//! `severance audit` on the sample organisation's ledger: two runs a week
//! apart, a trusted approver, approvals, executions and observations, all
//! recorded through the CLI. The report in each format is compared with
//! `examples/audit/` (which CI also opens in Chromium and renders as GitHub
//! does), the JSON with its schema; a ledger that does not verify gives
//! exit 3 and no report.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{copy_dir, repo, run_in};
use crate::ledger::{arg, keys, private_key};
use crate::report_schemas::{invalid, valid, validator};

/// The sample's ledger, and the directory holding it, its inputs and keys.
pub(crate) struct SampleLedger {
    pub(crate) dir: tempfile::TempDir,
}

impl SampleLedger {
    pub(crate) fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }
}

/// The report's section about one leaver.
fn leaver<'d>(doc: &'d Value, person: &str, why: &str) -> &'d Value {
    doc["leavers"]
        .as_array()
        .expect("leavers")
        .iter()
        .find(|l| l["person"] == person)
        .expect(why)
}

/// The JSON document a successful run printed.
fn document(out: &crate::harness::Run) -> Value {
    assert_eq!(out.code, 0, "{}", out.transcript());
    serde_json::from_str(&out.stdout).expect("JSON")
}

/// The sequence number of the latest decision entry about `subject`.
fn decision_of(dir: &Path, subject: &str) -> String {
    let out = run_in(
        dir,
        &[
            "ledger",
            "log",
            "--ledger",
            "ledger",
            "--subject",
            subject,
            "--type",
            "decision",
            "--format",
            "json",
        ],
    );
    let doc = document(&out);
    let entries = doc["entries"].as_array().expect("entries");
    let last = entries
        .iter()
        .rev()
        .find(|e| e["entry"]["subject"] == subject)
        .expect("a decision about the subject");
    last["entry"]["seq"].to_string()
}

/// Writes the sample ledger with `comment` on the first approval.
pub(crate) fn sample_ledger_with(comment: &str) -> SampleLedger {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Copies outside any git repository, so that runs record no commit and
    // the report does not change with every commit of this repository.
    copy_dir(&repo().join("inventory"), &d.join("inventory"));
    copy_dir(&repo().join("policies"), &d.join("policies"));
    let key = private_key("log.key");
    let approver = private_key("approver.key");
    let step = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--ledger", "ledger", "--key", arg(&key)]);
        let out = run_in(d, &args);
        assert_eq!(out.code, 0, "{args:?}\n{}", out.transcript());
    };
    step(&[
        "plan",
        "--as-of",
        "2026-11-20T09:00:00Z",
        "--format",
        "json",
    ]);
    step(&[
        "ledger",
        "trust",
        "--approver",
        arg(&keys().join("approver.key.pub")),
        "--at",
        "2026-11-20T09:30:00Z",
    ]);
    let okta = decision_of(d, "account/okta/dwhitfield");
    let mbell = decision_of(d, "account/okta/mbell");
    let laptop = decision_of(d, "device/LAP-1001");
    let secret = decision_of(d, "cred/vault/payments-signing-secret");
    let record = |what: &str, decision: &str, rest: &[&str]| {
        let mut args = vec!["ledger", "record", what, "--decision", decision];
        args.extend(rest);
        step(&args);
    };
    record(
        "approval",
        &okta,
        &[
            "--approver-key",
            arg(&approver),
            "--comment",
            comment,
            "--at",
            "2026-11-20T09:45:00Z",
        ],
    );
    record(
        "execution",
        &okta,
        &[
            "--system",
            "okta",
            "--request-id",
            "req-1",
            "--status",
            "200",
            "--at",
            "2026-11-20T10:00:00Z",
        ],
    );
    record(
        "verification",
        &okta,
        &[
            "--method",
            "okta_user_status",
            "--observed",
            "status=DEPROVISIONED",
            "--at",
            "2026-11-20T10:30:00Z",
        ],
    );
    record(
        "approval",
        &mbell,
        &[
            "--approver-key",
            arg(&approver),
            "--at",
            "2026-11-20T09:40:00Z",
        ],
    );
    record(
        "execution",
        &mbell,
        &[
            "--system",
            "okta",
            "--request-id",
            "req-2",
            "--status",
            "200",
            "--at",
            "2026-11-20T09:50:00Z",
        ],
    );
    record(
        "verification",
        &mbell,
        &[
            "--method",
            "okta_user_status",
            "--observed",
            "status=DEPROVISIONED",
            "--at",
            "2026-11-20T09:55:00Z",
        ],
    );
    record(
        "verification",
        &laptop,
        &[
            "--method",
            "asset_checkin",
            "--observed",
            "status=in_stock",
            "--at",
            "2026-11-21T08:00:00Z",
        ],
    );
    record(
        "execution",
        &secret,
        &[
            "--system",
            "vault",
            "--request-id",
            "rot-9",
            "--status",
            "rotated",
            "--at",
            "2026-11-21T12:00:00Z",
        ],
    );
    step(&[
        "plan",
        "--as-of",
        "2026-11-27T09:00:00Z",
        "--format",
        "json",
    ]);
    SampleLedger { dir }
}

pub(crate) fn sample_ledger() -> SampleLedger {
    sample_ledger_with("OFF-1001")
}

fn audit(sample: &SampleLedger, extra: &[&str]) -> crate::harness::Run {
    let vkey = keys().join("log.key.pub");
    let mut args = vec![
        "audit",
        "--ledger",
        "ledger",
        "--vkey",
        arg(&vkey),
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
    ];
    args.extend(extra);
    run_in(sample.dir.path(), &args)
}

/// Compares a report with its committed copy (`path` from the repository
/// root), or rewrites the copy when `UPDATE_EXAMPLES` is set.
fn check_file(path: &str, text: &str) {
    let path = repo().join(path);
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write example");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        want == text,
        "`{}` differs from the report; run `UPDATE_EXAMPLES=1 cargo test --test cli audit` after an intended change, and read the diff",
        path.display()
    );
}

/// Compares a report with its copy in `examples/audit/`.
fn check_example(name: &str, text: &str) {
    check_file(&format!("examples/audit/{name}"), text);
}

#[test]
fn the_sample_ledger_gives_the_golden_report_in_every_format() {
    let sample = sample_ledger();
    for (format, name) in [
        ("markdown", "report.md"),
        ("html", "report.html"),
        ("json", "report.json"),
    ] {
        let out = audit(&sample, &["--format", format]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        assert_eq!(out.stderr, "", "{format}");
        check_example(name, &out.stdout);
    }
}

#[test]
fn the_json_report_matches_its_schema_and_its_figures_name_their_entries() {
    let sample = sample_ledger();
    let out = audit(&sample, &["--format", "json"]);
    let doc = document(&out);
    let schema = validator("audit-v1.schema.json");
    valid(&schema, &doc);

    // Every figure's count is the number of entries it names.
    fn figures(v: &Value, found: &mut usize) {
        match v {
            Value::Object(map) => {
                if let (Some(count), Some(seqs)) = (map.get("count"), map.get("seqs")) {
                    assert_eq!(
                        count.as_u64(),
                        Some(seqs.as_array().expect("seqs").len() as u64),
                        "{v}"
                    );
                    *found += 1;
                }
                map.values().for_each(|v| figures(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| figures(v, found)),
            _ => {}
        }
    }
    let mut found = 0;
    figures(&doc, &mut found);
    assert!(found > 100, "{found} figures");

    // The trail of the approved, executed and observed revoke.
    let e1001 = leaver(&doc, "person/E1001", "person/E1001");
    let okta = e1001["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["subject"] == "account/okta/dwhitfield")
        .expect("the Okta account");
    assert_eq!(okta["state"], "done");
    assert_eq!(okta["deadline"], "late", "due 11-15, observed 11-20");
    assert_eq!(okta["approvals"][0]["comment"], "OFF-1001");
    assert_eq!(okta["executions"][0]["system"], "okta");
    assert_eq!(
        okta["verifications"][0]["observed"]["status"],
        "DEPROVISIONED"
    );
    assert_eq!(okta["done"]["minutes"], 90);
    // Done on time: executed and observed before the 10:00 deadline.
    let mbell = &leaver(&doc, "person/E1002", "person/E1002")["records"];
    let revoke = mbell
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["subject"] == "account/okta/mbell" && r["state"] == "done")
        .expect("the done revoke");
    assert_eq!(revoke["deadline"], "met");
    // Both runs, and the approver trusted in the period.
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["runs"][0]["same_policies"], true);
    assert_eq!(
        doc["approvers"][0]["added"][0],
        "approver@severance.example+92785973"
    );

    // A broken copy fails the schema where it is broken.
    let mut broken = doc.clone();
    broken["leavers"][0]["records"][0]["state"] = "finished".into();
    invalid(
        &schema,
        &broken,
        "/leavers/0/records/0/state",
        "an unknown state",
    );
    let mut broken = doc.clone();
    broken["summary"]["done"]["seqs"] = Value::from("3");
    invalid(
        &schema,
        &broken,
        "/summary/done/seqs",
        "entries as a string",
    );
    let mut broken = doc;
    broken["runs"][0]["extra"] = Value::from(1);
    invalid(&schema, &broken, "/runs/0", "an unknown field");
}

#[test]
fn a_period_and_a_subject_narrow_the_report() {
    let sample = sample_ledger();
    let out = audit(&sample, &["--subject", "person/E1001", "--format", "json"]);
    let doc = document(&out);
    let people: Vec<&str> = doc["leavers"]
        .as_array()
        .expect("leavers")
        .iter()
        .filter_map(|l| l["person"].as_str())
        .collect();
    assert_eq!(people, ["person/E1001"]);
    assert_eq!(doc["other"].as_array().map(Vec::len), Some(0));

    // From the second run on: only its decisions, and deadlines judged at
    // the end of the period.
    let vkey = keys().join("log.key.pub");
    let out = run_in(
        sample.dir.path(),
        &[
            "audit",
            "--ledger",
            "ledger",
            "--vkey",
            arg(&vkey),
            "--from",
            "2026-11-27T09:00:00Z",
            "--to",
            "2026-11-28",
            "--format",
            "json",
        ],
    );
    let doc = document(&out);
    assert_eq!(doc["period"]["judged_at"], "2026-11-28T00:00:00Z");
    let runs: Vec<&str> = doc["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["as_of"].as_str())
        .collect();
    assert_eq!(runs, ["2026-11-27T09:00:00Z"]);
    // Decided in the period, or before it and still open when it began: a
    // period answers for what was overdue at its start.
    let mut carried = 0;
    for l in doc["leavers"].as_array().expect("leavers") {
        for r in l["records"].as_array().expect("records") {
            if r["carried_over"] == true {
                carried += 1;
                assert_eq!(r["decided"], "2026-11-20T09:00:00Z", "{r}");
                assert_ne!(r["state"], "done", "{r}");
            } else {
                assert_eq!(r["decided"], "2026-11-27T09:00:00Z", "{r}");
            }
        }
    }
    assert!(carried > 20, "{carried} carried over");
    let e1001 = leaver(
        &doc,
        "person/E1001",
        "E1001's revokes, overdue since 11-15, are still the period's",
    );
    let github = &e1001["records"][0];
    assert_eq!(github["subject"], "account/github/dwhitfield");
    assert_eq!(github["carried_over"], true);
    assert_eq!(github["deadline"], "overdue");
    // Done before the period: not the period's.
    assert!(
        !e1001["records"]
            .as_array()
            .expect("records")
            .iter()
            .any(|r| r["subject"] == "account/okta/dwhitfield"),
        "{e1001}"
    );
    // The approver trusted before the period is the list in force at its start.
    assert_eq!(doc["approvers"][0]["seq"], Value::Null);
}

#[test]
fn a_ledger_that_does_not_verify_gives_exit_3_and_no_report() {
    let sample = sample_ledger();
    let entries = sample.ledger().join("entries.jsonl");
    let text = std::fs::read_to_string(&entries).expect("entries");
    std::fs::write(&entries, text.replacen("\"revoke\"", "\"retain\"", 1)).expect("write");
    for format in ["markdown", "html", "json"] {
        let out = audit(&sample, &["--format", format]);
        assert_eq!(out.code, 3, "{}", out.transcript());
        assert_eq!(
            out.stdout, "",
            "no report from a ledger that does not verify"
        );
        assert!(
            out.stderr.contains("failure[chain-broken]"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("no audit report is made"),
            "{}",
            out.stderr
        );
    }

    // A checkpoint the auditor kept that the ledger no longer reaches.
    let sample = sample_ledger();
    let kept = sample.dir.path().join("kept-checkpoint");
    std::fs::copy(sample.ledger().join("checkpoint"), &kept).expect("keep");
    // Entries and checkpoints rolled back together to the first run: a
    // ledger that verifies on its own.
    let checkpoints = sample.ledger().join("checkpoints");
    let sizes: Vec<usize> = std::fs::read_dir(&checkpoints)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let first = *sizes.iter().min().expect("a checkpoint");
    for n in sizes.iter().filter(|n| **n > first) {
        std::fs::remove_file(checkpoints.join(n.to_string())).expect("remove");
    }
    std::fs::copy(
        checkpoints.join(first.to_string()),
        sample.ledger().join("checkpoint"),
    )
    .expect("roll back");
    let lines = std::fs::read_to_string(sample.ledger().join("entries.jsonl")).expect("entries");
    let keep: String = lines
        .lines()
        .take(first)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(sample.ledger().join("entries.jsonl"), keep).expect("write");
    assert_eq!(
        audit(&sample, &[]).code,
        0,
        "the rolled-back ledger verifies alone"
    );
    let out = audit(&sample, &["--checkpoint", arg(&kept)]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains("failure[truncated]"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

/// An approval comment that tries every way into a page or a comment:
/// markup, an image and a link (requests when viewed), a mention and a
/// reference (notifications), a pipe (a split table cell), backticks (a
/// broken code span) and a right-to-left override (spoofed text).
const HOSTILE: &str = "<script>alert(1)</script><img src=https://evil.example/p.png onerror=alert(2)> | `x` [link](https://evil.example/) ![i](https://evil.example/i.png) @octocat #1 \u{202E}gnp.exe";

#[test]
fn what_the_ledger_holds_cannot_script_the_page() {
    let sample = sample_ledger_with(HOSTILE);
    let html = audit(&sample, &["--format", "html"]);
    assert_eq!(html.code, 0, "{}", html.transcript());
    assert!(
        !html.stdout.contains("<script"),
        "a script tag from the ledger"
    );
    assert!(!html.stdout.contains("<img"), "markup from the ledger");
    assert!(
        !html.stdout.contains('\u{202E}'),
        "a bidirectional override"
    );
    assert!(
        html.stdout
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    // The page forbids itself every request, whatever it holds.
    assert!(html.stdout.contains("default-src 'none'"));
    let markdown = audit(&sample, &["--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.transcript());
    // One code span, fenced past the backticks it holds, the pipe escaped
    // for the table, the override replaced.
    assert!(
        markdown.stdout.contains(
            "(``<script>alert(1)</script><img src=https://evil.example/p.png onerror=alert(2)> \\| `x` [link](https://evil.example/) ![i](https://evil.example/i.png) @octocat #1 \u{FFFD}gnp.exe``)"
        ),
        "{}",
        markdown.stdout
    );
    // CI renders these with cmark-gfm and opens them in Chromium
    // (tools/check_audit_report.sh).
    check_file("tests/fixtures/audit/hostile/report.md", &markdown.stdout);
    check_file("tests/fixtures/audit/hostile/report.html", &html.stdout);
}

#[test]
fn the_report_is_written_whole_to_a_file() {
    let sample = sample_ledger();
    let out = audit(&sample, &["--format", "json", "--output", "audit.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(out.stdout, "");
    let written = std::fs::read_to_string(sample.dir.path().join("audit.json")).expect("written");
    let again = audit(&sample, &["--format", "json"]);
    assert_eq!(written, again.stdout);
    let leftovers: Vec<String> = std::fs::read_dir(sample.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_missing_policy_pack_is_an_error_not_an_empty_control_table() {
    let sample = sample_ledger();
    let out = audit(&sample, &["--policies", "no-such-pack"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("no-such-pack"), "{}", out.stderr);
}

#[test]
fn evidence_about_a_replaced_decision_is_shown_but_does_not_do_it() {
    let sample = sample_ledger();
    let d = sample.dir.path();
    // The first run's revoke of mbell's AWS account (due 11-20T10:00) was
    // replaced by the second run's; an execution recorded afterwards
    // against the first decision does not make either done.
    let first = {
        let out = run_in(
            d,
            &[
                "ledger",
                "log",
                "--ledger",
                "ledger",
                "--subject",
                "account/aws-prod/mbell",
                "--type",
                "decision",
                "--format",
                "json",
            ],
        );
        document(&out)["entries"][0]["entry"]["seq"].to_string()
    };
    let key = private_key("log.key");
    let out = run_in(
        d,
        &[
            "ledger",
            "record",
            "execution",
            "--decision",
            &first,
            "--system",
            "aws",
            "--request-id",
            "late-1",
            "--status",
            "200",
            "--at",
            "2026-11-28T09:00:00Z",
            "--ledger",
            "ledger",
            "--key",
            arg(&key),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let doc = document(&audit(
        &sample,
        &["--format", "json", "--subject", "person/E1002"],
    ));
    let trails: Vec<&Value> = doc["leavers"][0]["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["subject"] == "account/aws-prod/mbell")
        .collect();
    assert_eq!(trails.len(), 2, "{trails:?}");
    assert_eq!(trails[0]["seq"].to_string(), first);
    assert_eq!(trails[0]["state"], "superseded");
    assert_eq!(
        trails[0]["deadline"], "overdue",
        "its deadline passed first"
    );
    assert_eq!(trails[0]["executions"][0]["request_id"], "late-1", "shown");
    assert_eq!(trails[1]["state"], "open");
    let first: u64 = first.parse().expect("seq");
    for figure in ["executed", "done"] {
        let seqs = &doc["summary"][figure]["seqs"];
        assert!(
            !seqs.as_array().expect("seqs").contains(&Value::from(first)),
            "{figure}: {seqs}"
        );
    }
    // Every figure lists its entries in ascending order.
    let seqs: Vec<u64> = doc["leavers"][0]["summary"]["decisions"]["seqs"]
        .as_array()
        .expect("seqs")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[test]
fn evidence_dated_before_its_decision_is_flagged() {
    let sample = sample_ledger();
    let laptop = decision_of(sample.dir.path(), "device/LAP-1002");
    let key = private_key("log.key");
    let out = run_in(
        sample.dir.path(),
        &[
            "ledger",
            "record",
            "verification",
            "--decision",
            &laptop,
            "--method",
            "asset_checkin",
            "--observed",
            "status=in_stock",
            "--at",
            "2026-11-01T00:00:00Z",
            "--ledger",
            "ledger",
            "--key",
            arg(&key),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = audit(&sample, &["--format", "json"]);
    let doc = document(&out);
    let flagged = doc["backdated_evidence"].as_array().expect("list");
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    let markdown = audit(&sample, &["--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("Evidence dated before the decision it is about"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn a_scope_that_selects_nothing_is_an_error_not_a_clean_report() {
    let sample = sample_ledger();
    let out = audit(&sample, &["--subject", "person/NOPE"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("no decision in the ledger is about `person/NOPE`"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    let vkey = keys().join("log.key.pub");
    let out = run_in(
        sample.dir.path(),
        &[
            "audit",
            "--ledger",
            "ledger",
            "--vkey",
            arg(&vkey),
            "--from",
            "2026-12-01",
            "--to",
            "2026-11-01",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("`--from` is not before `--to`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_ledger_that_is_not_text_is_an_integrity_failure() {
    let sample = sample_ledger();
    let entries = sample.ledger().join("entries.jsonl");
    let mut bytes = std::fs::read(&entries).expect("entries");
    bytes.extend_from_slice(b"\xff\n");
    std::fs::write(&entries, bytes).expect("write");
    let out = audit(&sample, &[]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains("failure[encoding]"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}
