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
    broken["sources"][0]["complete"] = true.into();
    invalid(
        &validator,
        &broken,
        "/sources/0/complete",
        "a completeness not recorded",
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
