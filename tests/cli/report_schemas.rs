//! The JSON reports of `check` and `diff` match the schemas published in
//! `docs/schemas/`, on the pull request (with a base) and on the sample
//! (without one); and a broken copy of each does not, so the schemas do
//! constrain something.

use crate::gitops::{check, pull_request};
use crate::harness::{AS_OF, repo, run, run_in};

pub(crate) fn validator(name: &str) -> jsonschema::Validator {
    let path = repo().join("docs/schemas").join(name);
    let text = std::fs::read_to_string(&path).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// Every way `doc` breaks the schema, one line each.
fn errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub(crate) fn valid(validator: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors = errors(validator, doc);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Asserts that the schema refuses `doc`, and that it says so at `at` (a
/// JSON pointer) or at one of its parents (a `oneOf` reports at its own
/// place, not at the alternative's; the document's root is no parent here,
/// or every error would do).
pub(crate) fn invalid(
    validator: &jsonschema::Validator,
    doc: &serde_json::Value,
    at: &str,
    what: &str,
) {
    let errors: Vec<(String, String)> = validator
        .iter_errors(doc)
        .map(|e| (e.instance_path().to_string(), e.to_string()))
        .collect();
    assert!(
        errors.iter().any(
            |(path, _)| at == path || (!path.is_empty() && at.starts_with(&format!("{path}/")))
        ),
        "the schema should refuse a document with {what} at {at}; it says {errors:#?}"
    );
}

#[test]
fn check_json_on_a_pull_request_matches_its_published_schema() {
    let validator = validator("check-v3.schema.json");
    let pr = pull_request();
    let out = check(pr.path(), &["--format", "json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.transcript());
    let doc = json(&out.stdout);
    assert!(doc["base"].is_object(), "{doc:#}");
    assert!(doc["diff"].is_object(), "{doc:#}");
    assert!(
        !doc["diff"]["changes"]
            .as_array()
            .expect("changes")
            .is_empty(),
        "the pull request changes decisions"
    );
    assert!(
        !doc["findings"].as_array().expect("findings").is_empty(),
        "the sample has findings"
    );
    valid(&validator, &doc);

    let mut broken = doc.clone();
    broken["findings"][0]["severity"] = serde_json::json!("fatal");
    invalid(
        &validator,
        &broken,
        "/findings/0/severity",
        "a finding of severity `fatal`",
    );

    let mut broken = doc.clone();
    broken["findings"][0]["fingerprint"] = serde_json::json!("not-a-fingerprint");
    invalid(
        &validator,
        &broken,
        "/findings/0/fingerprint",
        "a malformed fingerprint",
    );

    let mut broken = doc.clone();
    broken["findings"][0]["new"] = serde_json::Value::Null;
    invalid(
        &validator,
        &broken,
        "/findings/0/new",
        "a base and a finding not saying if it is new",
    );

    let mut broken = doc.clone();
    broken["diff"]["changes"][0]["after"]["actions"] = serde_json::json!(["delete"]);
    invalid(
        &validator,
        &broken,
        "/diff/changes/0/after/actions/0",
        "an unknown action in the diff",
    );

    let mut broken = doc.clone();
    broken["as_of"] = serde_json::json!("25 November 2026");
    invalid(&validator, &broken, "/as_of", "an instant not in RFC 3339");

    let mut broken = doc;
    broken["summary"]["unexpected"] = serde_json::json!(0);
    invalid(
        &validator,
        &broken,
        "/summary",
        "a field the schema does not name",
    );
}

#[test]
fn check_json_without_a_base_matches_its_published_schema() {
    let validator = validator("check-v3.schema.json");
    let out = run(&["check", "--as-of", AS_OF, "--format", "json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.transcript());
    let doc = json(&out.stdout);
    assert!(doc["base"].is_null(), "{doc:#}");
    assert!(doc["diff"].is_null(), "{doc:#}");
    assert!(
        !doc["waivers"].as_array().expect("waivers").is_empty(),
        "the sample has waivers"
    );
    valid(&validator, &doc);

    let mut broken = doc.clone();
    broken["waivers"][0]["expires"] = serde_json::json!("2026-11-25");
    invalid(
        &validator,
        &broken,
        "/waivers/0/expires",
        "a waiver expiring at a date, not an instant",
    );

    let mut broken = doc.clone();
    broken["verdict"] = serde_json::json!("maybe");
    invalid(&validator, &broken, "/verdict", "an unknown verdict");

    let mut broken = doc;
    broken["summary"]["new"] = serde_json::json!(0);
    invalid(
        &validator,
        &broken,
        "/summary/new",
        "no base but a count of new findings",
    );
}

#[test]
fn check_json_on_input_that_cannot_be_evaluated_matches_its_published_schema() {
    let validator = validator("check-v3.schema.json");
    let out = run(&[
        "check",
        "--as-of",
        AS_OF,
        "--inventory",
        "tests/fixtures/invalid/yaml-syntax/inventory",
        "--format",
        "json",
    ]);
    let doc = json(&out.stdout);
    assert_eq!(doc["verdict"], "could-not-evaluate", "{}", out.transcript());
    valid(&validator, &doc);
}

#[test]
fn diff_json_matches_its_published_schema() {
    let validator = validator("diff-v2.schema.json");
    let pr = pull_request();
    let out = run_in(
        pr.path(),
        &[
            "diff", "--as-of", AS_OF, "--base", "HEAD~1", "--format", "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let doc = json(&out.stdout);
    assert!(
        !doc["changes"].as_array().expect("changes").is_empty(),
        "the pull request changes decisions"
    );
    valid(&validator, &doc);

    let mut broken = doc.clone();
    broken["changes"][0]["causes"] = serde_json::json!([
        {"type": "team", "id": "team/x", "change": "edited", "place": "a.yaml:1:1"}
    ]);
    invalid(
        &validator,
        &broken,
        "/changes/0/causes/0/type",
        "a cause of unknown type",
    );

    let mut broken = doc.clone();
    broken["changes"][0]["place"] = serde_json::json!("inventory/accounts/okta.yaml");
    invalid(
        &validator,
        &broken,
        "/changes/0/place",
        "a place without line and column",
    );

    let mut broken = doc.clone();
    broken["summary"]["records"] = serde_json::json!({"renamed": 1});
    invalid(
        &validator,
        &broken,
        "/summary/records",
        "an unknown kind of record change",
    );

    let mut broken = doc.clone();
    broken["changes"][0]["after"]["status"] = serde_json::json!("unknown");
    invalid(
        &validator,
        &broken,
        "/changes/0/after/status",
        "an unknown decision status",
    );

    let mut broken = doc;
    broken["base"]["commit"] = serde_json::json!("HEAD~1");
    invalid(
        &validator,
        &broken,
        "/base/commit",
        "a commit that is not a commit id",
    );
}
