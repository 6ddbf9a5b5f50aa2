//! `severance reconcile` on the shipped sample, in each format, and its JSON
//! against the published schema (and a broken copy against it, so that the
//! schema constrains something).

use crate::harness::{AS_OF, run};
use crate::report_schemas::{invalid, json, valid, validator};

fn reconcile(format: &str) -> crate::harness::Run {
    run(&["reconcile", "--as-of", AS_OF, "--format", format])
}

#[test]
fn reconcile_sample_human() {
    let out = reconcile("human");
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("reconcile_sample_human", out.transcript());
}

#[test]
fn reconcile_sample_markdown() {
    let out = reconcile("markdown");
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("reconcile_sample_markdown", out.transcript());
}

#[test]
fn reconcile_sample_json_matches_its_published_schema() {
    let out = reconcile("json");
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("reconcile_sample_json", out.transcript());
    let validator = validator("reconcile-v1.schema.json");
    let doc = json(&out.stdout);
    valid(&validator, &doc);
    assert!(
        !doc["discrepancies"].as_array().expect("list").is_empty(),
        "the sample has discrepancies to check the schema with"
    );
    let mut broken = doc.clone();
    broken["discrepancies"][0]["basis"] = "probably".into();
    invalid(
        &validator,
        &broken,
        "/discrepancies/0/basis",
        "an unknown basis",
    );
    let mut broken = doc;
    broken["sources"][0]["complete"] = "yes".into();
    invalid(
        &validator,
        &broken,
        "/sources/0/complete",
        "a completeness in words",
    );
}

#[test]
fn reconcile_refuses_an_invalid_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("broken.yaml"), "- kind: person\n  id: [x\n").expect("write");
    let inventory = dir.path().to_string_lossy().into_owned();
    let out = run(&["reconcile", "--as-of", AS_OF, "--inventory", &inventory]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("error[yaml-syntax]"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// The demonstrable-removal loop: the sample's Okta accounts are imported,
/// a plan is recorded in a ledger, two revocations are recorded as executed,
/// and a later export shows one account deprovisioned and the other still
/// active. Reconciling with the ledger records the first as verified
/// (export digest, Okta's id, the time) and reports the second as
/// `revocation-drift` (exit 1); the leaver's history reads decided →
/// executed → verified; the ledger verifies; a second run records nothing.
#[test]
fn an_import_after_the_plan_verifies_a_removal_and_catches_drift() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    for (from, to) in [
        ("inventory", "inventory"),
        ("policies", "policies"),
        ("examples/exports/okta", "okta"),
    ] {
        crate::harness::copy_dir(&crate::harness::repo().join(from), &dir.join(to));
    }
    let ok = |args: &[&str], code: i32| {
        let out = crate::harness::run_in(dir, args);
        assert_eq!(out.code, code, "{args:?}\n{}", out.transcript());
        out
    };
    let import = |file: &str, at: &str| {
        ok(&["import", "okta", "--in", file, "--observed-at", at], 0);
    };
    import("okta/users.json", "2026-11-24T06:00:00Z");
    ok(
        &[
            "keygen",
            "--name",
            "ledger.kestrel.example/offboarding",
            "--out",
            "ledger.key",
        ],
        0,
    );
    ok(
        &[
            "plan",
            "--as-of",
            AS_OF,
            "--ledger",
            "ledger",
            "--key",
            "ledger.key",
        ],
        0,
    );

    // Dana Whitfield (E1001) and Tomás Ortega (E1004) left; their Okta
    // accounts' revocations are carried out, by the ledger's word.
    let seq_of = |subject: &str| -> String {
        let log = ok(
            &["ledger", "log", "--ledger", "ledger", "--subject", subject],
            0,
        );
        log.stdout
            .lines()
            .find(|l| l.contains(" decision ") && l.contains(subject))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no decision about {subject}:\n{}", log.stdout))
            .to_string()
    };
    let dana = seq_of("account/okta/00u5iFjLgo3L0rrUsayR");
    let tomas = seq_of("account/okta/00uUalySbRqCX6tbV2am");
    for (seq, request) in [(&dana, "req-dana"), (&tomas, "req-tomas")] {
        ok(
            &[
                "ledger",
                "record",
                "execution",
                "--ledger",
                "ledger",
                "--key",
                "ledger.key",
                "--at",
                "2026-11-25T10:00:00Z",
                "--decision",
                seq,
                "--system",
                "okta",
                "--request-id",
                request,
                "--status",
                "200",
            ],
            0,
        );
    }

    // The next export: Dana's account deprovisioned, Tomás's still active.
    let users = std::fs::read_to_string(dir.join("okta/users.json")).expect("read");
    let mut doc: serde_json::Value = serde_json::from_str(&users).expect("json");
    for user in doc.as_array_mut().expect("a list of users") {
        if user["profile"]["employeeNumber"] == "E1001" {
            user["status"] = "DEPROVISIONED".into();
        }
    }
    std::fs::write(dir.join("okta/users-next.json"), doc.to_string()).expect("write");
    import("okta/users-next.json", "2026-11-26T06:00:00Z");

    let args = [
        "reconcile",
        "--as-of",
        "2026-11-26T09:00:00Z",
        "--ledger",
        "ledger",
        "--key",
        "ledger.key",
    ];
    let first = ok(&args, 1);
    let removal = first
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("removal:"))
        .filter(|l| l.starts_with("removal:") || l.contains("account/okta/"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(
        "removal_loop",
        format!("{removal}\n----- stderr -----\n{}", first.stderr)
    );
    assert!(
        first.stdout.contains("revocation-drift (1)"),
        "{}",
        first.stdout
    );
    let check = ok(
        &[
            "check",
            "--as-of",
            "2026-11-26T09:00:00Z",
            "--format",
            "json",
        ],
        1,
    );
    assert!(
        check.stdout.contains("\"origin\": \"reconciliation\""),
        "{}",
        check.stdout
    );

    let history = ok(
        &[
            "ledger",
            "log",
            "--ledger",
            "ledger",
            "--subject",
            "person/E1001",
        ],
        0,
    );
    let about_dana: Vec<&str> = history
        .stdout
        .lines()
        .filter(|l| l.contains("00u5iFjLgo3L0rrUsayR") || l.contains(&format!("decision {dana}:")))
        .map(|l| l.split_whitespace().nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        about_dana,
        ["decision", "execution", "verification"],
        "{}",
        history.stdout
    );
    ok(
        &[
            "ledger",
            "verify",
            "--ledger",
            "ledger",
            "--vkey",
            "ledger.key.pub",
        ],
        0,
    );

    let again = ok(&args, 1);
    assert!(
        again.stderr.contains("no new verification"),
        "{}",
        again.transcript()
    );
    assert!(
        again.stdout.contains("already in the ledger"),
        "{}",
        again.stdout
    );
}
