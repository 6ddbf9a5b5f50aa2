//! Every scenario folder under `tests/fixtures/scenarios/` is planned through
//! the CLI and its decisions compared with the folder's `expected.json`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::{repo, run};

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A decision's constraints as action → forbids: the plan writes them as a
/// list of `{action, policies}`, an expectation as an object.
fn constraints(decision: &Value) -> BTreeMap<String, Vec<String>> {
    match decision.get("constraints") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|c| {
                (
                    c["action"].as_str().unwrap_or_default().to_string(),
                    strings(c.get("policies")),
                )
            })
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(action, policies)| (action.clone(), strings(Some(policies))))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn check(dir: &std::path::Path) -> Vec<String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("expected.json is JSON");
    let as_of = expected["as_of"].as_str().expect("as_of");
    let inventory = dir.join("inventory");
    let inventory = inventory.to_str().expect("utf-8 path");
    let out = run(&[
        "plan",
        "--format",
        "json",
        "--inventory",
        inventory,
        "--as-of",
        as_of,
    ]);
    let mut problems = Vec::new();
    if out.code != 0 {
        return vec![format!("{name}: exit {} ({})", out.code, out.stderr)];
    }
    let plan: Value = serde_json::from_str(&out.stdout).expect("plan is JSON");
    let got: BTreeMap<String, &Value> = plan["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| (d["subject"].as_str().unwrap_or_default().to_string(), d))
        .collect();
    let want = expected["decisions"].as_object().expect("decisions");
    for (subject, w) in want {
        let Some(g) = got.get(subject) else {
            problems.push(format!("{name}: no decision for `{subject}`"));
            continue;
        };
        if g["status"] != "ok" {
            problems.push(format!("{name}: `{subject}` has status {}", g["status"]));
        }
        let (ga, wa) = (strings(g.get("actions")), strings(w.get("actions")));
        if ga != wa {
            problems.push(format!(
                "{name}: `{subject}` actions {ga:?}, expected {wa:?}"
            ));
        }
        let (gb, wb) = (strings(g.get("blocked")), strings(w.get("blocked")));
        if gb != wb {
            problems.push(format!(
                "{name}: `{subject}` blocked {gb:?}, expected {wb:?}"
            ));
        }
        // Constraints are compared whether or not the expectation names
        // them: a forbid that starts or stops holding is a change to see.
        let (gc, wc) = (constraints(g), constraints(w));
        if gc != wc {
            problems.push(format!(
                "{name}: `{subject}` constraints {gc:?}, expected {wc:?}"
            ));
        }
        if let Some(due) = w.get("due")
            && g.get("due") != Some(due)
        {
            problems.push(format!(
                "{name}: `{subject}` due {:?}, expected {due}",
                g.get("due")
            ));
        }
        if let Some(policies) = w.get("policies") {
            let mut got: Vec<String> = g["reasons"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter(|r| r["effect"] == "permit")
                        .filter_map(|r| r["policy"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            got.sort();
            got.dedup();
            let want = strings(Some(policies));
            if got != want {
                problems.push(format!(
                    "{name}: `{subject}` decided by {got:?}, expected {want:?}"
                ));
            }
        }
        // Every due action is backed by at least one permit policy.
        for action in &ga {
            let backed = g["reasons"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|r| r["action"] == action.as_str() && r["effect"] == "permit")
            });
            if !backed {
                problems.push(format!(
                    "{name}: `{subject}` action {action} has no permit reason"
                ));
            }
        }
    }
    for subject in got.keys() {
        if !want.contains_key(subject) {
            problems.push(format!("{name}: unexpected decision for `{subject}`"));
        }
    }
    problems
}

#[test]
fn every_scenario_gets_its_expected_decisions() {
    let root = repo().join("tests/fixtures/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("scenarios exist")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    // Every folder is a scenario: one without its expectations is an error,
    // not a scenario skipped.
    let without: Vec<_> = dirs
        .iter()
        .filter(|d| !d.join("expected.json").is_file())
        .collect();
    assert!(
        without.is_empty(),
        "scenarios without expected.json: {without:?}"
    );
    assert!(
        dirs.len() >= 31,
        "expected the 31 scenarios, found {}",
        dirs.len()
    );
    let problems: Vec<String> = dirs.iter().flat_map(|d| check(d)).collect();
    assert!(
        problems.is_empty(),
        "scenario mismatches:\n{}",
        problems.join("\n")
    );
}

/// Checks a copy of scenario `name` whose expectations had `from` replaced
/// by `to`.
fn check_planted(name: &str, from: &str, to: &str) -> Vec<String> {
    let src = repo().join("tests/fixtures/scenarios").join(name);
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inventory");
    std::fs::create_dir(&inv).expect("mkdir");
    std::fs::copy(src.join("inventory/records.yaml"), inv.join("records.yaml")).expect("copy");
    let expected = std::fs::read_to_string(src.join("expected.json"))
        .expect("read")
        .replace(from, to);
    std::fs::write(dir.path().join("expected.json"), expected).expect("write");
    check(dir.path())
}

#[test]
fn the_check_itself_catches_a_wrong_expectation() {
    // Guard against a comparison that cannot fail: plant a wrong expectation.
    let problems = check_planted("s01-terminated-employee", "\"reclaim\"", "\"wipe\"");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("device/LAP-1") && p.contains("expected [\"wipe\"]")),
        "{problems:?}"
    );
    // The same for the policies behind a decision.
    let problems = check_planted(
        "c2a-lab-login-key-and-host-key",
        "\"leaver-credential-revoke\"",
        "\"shared-device-credential-rotate\"",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("cred/ssh/l1-lab7") && p.contains("decided by")),
        "{problems:?}"
    );
    // And for a constraint: one named by the wrong forbid, and one missing.
    let problems = check_planted(
        "c4a-legal-hold-laptop-still-deployed",
        "\"legal-hold-no-wipe\"",
        "\"estate-device-no-wipe\"",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("device/TAB-9") && p.contains("constraints")),
        "{problems:?}"
    );
    let problems = check_planted(
        "s04-death-in-service",
        "\"wipe\": [\n          \"estate-device-no-wipe\"\n        ]",
        "",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("device/LAP-1") && p.contains("constraints")),
        "{problems:?}"
    );
}
