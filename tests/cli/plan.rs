//! Golden runs of `validate`, `plan` and `explain` on the shipped sample.

use crate::harness::{AS_OF, repo, run, run_in, scratch};

#[test]
fn validate_sample() {
    let out = run(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("validate_sample", out.transcript());
}

#[test]
fn plan_sample_human() {
    let out = run(&["plan", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("plan_sample_human", out.transcript());
}

#[test]
fn plan_sample_json() {
    let out = run(&["plan", "--format", "json", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("plan_sample_json", out.transcript());
}

#[test]
fn plan_json_is_byte_stable_and_sorted() {
    let a = run(&["plan", "--format", "json", "--as-of", AS_OF]);
    let b = run(&["plan", "--format", "json", "--as-of", AS_OF]);
    assert_eq!(a.stdout, b.stdout);
    let plan: serde_json::Value = serde_json::from_str(&a.stdout).expect("json");
    assert_eq!(plan["schema_version"], 2);
    assert_eq!(plan["as_of"], AS_OF);
    let subjects: Vec<&str> = plan["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| d["subject"].as_str().expect("subject"))
        .collect();
    let mut sorted = subjects.clone();
    sorted.sort_unstable();
    assert_eq!(subjects, sorted);
    for d in plan["decisions"].as_array().expect("decisions") {
        let actions: Vec<&str> = d["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a.as_str().expect("action"))
            .collect();
        let mut s = actions.clone();
        s.sort_unstable();
        assert_eq!(actions, s, "actions of {} are sorted", d["subject"]);
        assert!(d["file"].as_str().expect("file").starts_with("inventory/"));
        assert!(d["line"].as_u64().expect("line") > 0);
    }
}

#[test]
fn the_instant_changes_the_plan() {
    // A contractor is a leaver only once the contract has ended; the future-dated
    // leaver (person/E1003) is one after their last day.
    let early = run(&[
        "plan",
        "--format",
        "json",
        "--as-of",
        "2026-01-01T00:00:00Z",
    ]);
    let late = run(&[
        "plan",
        "--format",
        "json",
        "--as-of",
        "2026-12-05T00:00:00Z",
    ]);
    let leavers = |out: &str| -> Vec<String> {
        let plan: serde_json::Value = serde_json::from_str(out).expect("json");
        plan["leavers"]
            .as_array()
            .expect("leavers")
            .iter()
            .filter(|l| l["leaver"] == true)
            .map(|l| l["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert!(!leavers(&early.stdout).contains(&"person/E1004".to_string()));
    assert!(leavers(&late.stdout).contains(&"person/E1004".to_string()));
    assert!(leavers(&late.stdout).contains(&"person/E1003".to_string()));
}

#[test]
fn explain_an_automation_credential() {
    let out = run(&["explain", "cred/github/pat-release", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("explain_pat_release", out.transcript());
}

#[test]
fn explain_a_blocked_action() {
    let out = run(&["explain", "device/LAP-1015", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("explain_stale_laptop", out.transcript());
}

/// A constraint (a forbid that holds though nothing asks for the action)
/// is said beside the due action, with the policy and the value behind it.
#[test]
fn explain_a_constraint() {
    let out = run(&["explain", "device/LAP-1021", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout
            .contains("decision: reclaim\n  follows from person/E1021")
            && out
                .stdout
                .contains("  must not wipe: forbidden by estate-device-no-wipe\n"),
        "{}",
        out.stdout
    );
    insta::assert_snapshot!("explain_estate_laptop", out.transcript());
}

#[test]
fn explain_a_person() {
    let out = run(&["explain", "person/E1011", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("explain_person", out.transcript());
}

#[test]
fn explain_an_unknown_id() {
    let out = run(&["explain", "device/LAP-1051", "--as-of", AS_OF]);
    insta::assert_snapshot!("explain_unknown", out.transcript());
}

#[test]
fn editing_a_policy_changes_the_plan() {
    let dir = scratch(&repo().join("inventory"));
    let before = run_in(
        dir.path(),
        &["explain", "device/LAP-1020", "--as-of", AS_OF],
    );
    assert!(
        before.stdout.contains("decision: retain"),
        "{}",
        before.stdout
    );
    let devices = dir.path().join("policies/devices.cedar");
    let text = std::fs::read_to_string(&devices).expect("read");
    let start = text
        .find("@id(\"legal-hold-no-wipe\")")
        .expect("policy present");
    std::fs::write(&devices, &text[..start]).expect("write");
    let after = run_in(
        dir.path(),
        &["explain", "device/LAP-1020", "--as-of", AS_OF],
    );
    assert!(after.stdout.contains("decision: wipe"), "{}", after.stdout);
}

#[test]
fn plan_json_matches_its_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/schemas/plan-v2.schema.json"))
            .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let out = run(&["plan", "--format", "json", "--as-of", AS_OF]);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the check can fail: a plan with an unknown action is refused.
    let mut broken = plan.clone();
    broken["decisions"][0]["actions"] = serde_json::json!(["delete"]);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn the_readme_shows_the_real_summary() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let out = run(&["plan", "--as-of", AS_OF]);
    let summary = out.stdout.lines().last().expect("summary line");
    assert!(
        readme.contains(summary),
        "README shows a stale summary; the real one is:\n{summary}"
    );
    let first = out.stdout.lines().next().expect("first line");
    assert!(
        readme.contains(first),
        "README shows a stale first line; the real one is:\n{first}"
    );
}

#[test]
fn the_example_policy_validates_and_applies() {
    let dir =
        scratch(&repo().join("tests/fixtures/scenarios/s05-contractor-past-end-date/inventory"));
    std::fs::copy(
        repo().join("examples/extra-policies/contractor-tokens.cedar"),
        dir.path().join("policies/contractor-tokens.cedar"),
    )
    .expect("copy example");
    std::fs::write(
        dir.path().join("inventory/token.yaml"),
        "{kind: credential, id: cred/oauth/c1, cred_type: oauth_token, owner: person/C1, status: active}\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["explain", "cred/oauth/c1", "--as-of", AS_OF]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.contains("permit contractor-oauth-token-revoke"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("due 2026-11-01T01:00:00Z"),
        "{}",
        out.stdout
    );
}

/// The default pack ends all access at the last working day; the example
/// notice-period policy keeps a standard account until the effective date
/// while privileged accounts and entitlements still end at the last day.
#[test]
fn the_notice_period_example_keeps_a_standard_account_to_the_effective_date() {
    let dir =
        scratch(&repo().join("tests/fixtures/scenarios/n1-notice-period-garden-leave/inventory"));
    std::fs::copy(
        repo().join("examples/extra-policies/notice-period.cedar"),
        dir.path().join("policies/notice-period.cedar"),
    )
    .expect("copy example");
    let decisions = |as_of: &str| -> std::collections::BTreeMap<String, (String, String)> {
        let out = run_in(dir.path(), &["plan", "--format", "json", "--as-of", as_of]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        plan["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .map(|d| {
                (
                    d["subject"].as_str().unwrap_or_default().to_string(),
                    (d["actions"].to_string(), d["blocked"].to_string()),
                )
            })
            .collect()
    };
    let on_garden_leave = decisions(AS_OF);
    let revoke = ("[\"revoke\"]".to_string(), "[]".to_string());
    assert_eq!(
        on_garden_leave["account/okta/g1"],
        ("[]".to_string(), "[\"revoke\"]".to_string()),
        "the standard account is kept: {on_garden_leave:?}"
    );
    for privileged in [
        "account/aws/g1-admin",
        "grant/okta/finance-approvers/g1",
        "grant/okta/wiki-editors/g1",
    ] {
        assert_eq!(on_garden_leave[privileged], revoke, "{privileged}");
    }
    let after = decisions("2027-01-01T09:00:00Z");
    assert_eq!(after["account/okta/g1"], revoke, "{after:?}");
    // explain names the two dates it was decided by.
    let out = run_in(dir.path(), &["explain", "person/G1", "--as-of", AS_OF]);
    assert!(
        out.stdout
            .contains("last_day_of_work       2026-11-21T00:00:00Z")
            && out
                .stdout
                .contains("termination_effective  2027-01-01T00:00:00Z"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_generated_organisation_plans_with_one_decision_per_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_in(
        dir.path(),
        &[
            "generate", "--people", "300", "--seed", "42", "--out", "org",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let policies = repo().join("policies");
    let policies = policies.to_str().expect("utf-8");
    let args = [
        "plan",
        "--inventory",
        "org",
        "--policies",
        policies,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ];
    let first = run_in(dir.path(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = run_in(dir.path(), &args);
    assert_eq!(
        first.stdout, second.stdout,
        "the same input gives the same bytes"
    );
    let plan: serde_json::Value = serde_json::from_str(&first.stdout).expect("json");
    let decisions = plan["decisions"].as_array().expect("decisions");
    let subjects: Vec<&str> = decisions
        .iter()
        .map(|d| d["subject"].as_str().expect("subject"))
        .collect();
    let mut sorted = subjects.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(subjects, sorted, "sorted, one decision per subject");
    // Read the records back from the generated files themselves (one flow
    // mapping per line, `kind` then `id`), independently of the plan.
    let mut want: Vec<String> = Vec::new();
    let mut people = 0;
    for entry in walkdir::WalkDir::new(dir.path().join("org")) {
        let entry = entry.expect("walk");
        if !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read");
        for line in text.lines() {
            let rest = line.strip_prefix("- {kind: ").expect("one record per line");
            let (kind, rest) = rest.split_once(", id: ").expect("kind, then id");
            let id = rest.split(',').next().expect("id").trim_end_matches('}');
            match kind {
                "person" => people += 1,
                "team" => {}
                _ => want.push(id.to_string()),
            }
        }
    }
    want.sort();
    assert_eq!(people, 300);
    assert_eq!(
        subjects, want,
        "one decision for every record that is not a person or a team"
    );
    assert!(decisions.iter().all(|d| d["status"] == "ok"));
    assert!(
        decisions
            .iter()
            .any(|d| !d["actions"].as_array().expect("actions").is_empty())
    );
}

#[test]
fn quiet_changes_nothing_but_the_progress_bar() {
    let plain = run(&["plan", "--as-of", AS_OF]);
    let quiet = run(&["--quiet", "plan", "--as-of", AS_OF]);
    let short = run(&["plan", "-q", "--as-of", AS_OF]);
    assert_eq!(plain.transcript(), quiet.transcript());
    assert_eq!(plain.transcript(), short.transcript());

    // The bar is drawn only on a terminal: run under one (util-linux's
    // `script` gives a pseudo-terminal), with the bar's delay taken away.
    let on_terminal = |quiet: bool| {
        let bin = env!("CARGO_BIN_EXE_severance");
        let flag = if quiet { "--quiet " } else { "" };
        let out = std::process::Command::new("script")
            .args(["--quiet", "--return", "--command"])
            .arg(format!("{bin} {flag}plan --as-of {AS_OF}"))
            .arg("/dev/null")
            .current_dir(repo())
            .env("SEVERANCE_PROGRESS_DELAY_MS", "0")
            .output()
            .expect("util-linux `script` runs");
        assert!(out.status.success(), "{out:?}");
        // The terminal turns each newline into a carriage return and one.
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .replace("\r\n", "\n")
    };
    let drawn = on_terminal(false);
    assert!(
        drawn.contains("\u{1b}[") && drawn.contains(" left)"),
        "a bar is drawn on a terminal: {drawn:?}"
    );
    assert_eq!(on_terminal(true), plain.stdout, "--quiet draws nothing");
}
