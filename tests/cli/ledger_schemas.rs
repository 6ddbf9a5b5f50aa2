//! The JSON of `ledger verify` and `ledger log` matches the schemas
//! published in `docs/schemas/`, on every vector ledger and on a ledger
//! with every entry type; broken copies do not, so the schemas constrain
//! something; and the schemas name exactly the failure codes and entry
//! types the code has.

use std::path::Path;

use serde_json::{Value, json};
use severance::ledger::FailureCode;
use severance::ledger::entry::Kind;
use severance::ledger::{jcs, merkle};

use crate::harness::{repo, run};
use crate::ledger::{arg, keys, vectors, write_recovered};
use crate::report_schemas::{invalid, valid, validator};

fn verify_json(dir: &Path) -> (i32, Value) {
    let vkey = keys().join("log.key.pub");
    let mut args = vec![
        "ledger",
        "verify",
        "--ledger",
        arg(dir),
        "--vkey",
        arg(&vkey),
        "--format",
        "json",
    ];
    let external = dir.join("external-checkpoint");
    if external.exists() {
        args.extend(["--checkpoint", arg(&external)]);
    }
    let out = run(&args);
    let doc = serde_json::from_str(&out.stdout).expect("valid JSON");
    (out.code, doc)
}

fn log_json(dir: &Path) -> Value {
    let out = run(&["ledger", "log", "--ledger", arg(dir), "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    serde_json::from_str(&out.stdout).expect("valid JSON")
}

#[test]
fn ledger_verify_json_matches_its_published_schema() {
    let validator = validator("ledger-verify-v1.schema.json");
    let mut dirs = vec![vectors().join("valid")];
    let mut corrupt: Vec<_> = std::fs::read_dir(vectors().join("corrupt"))
        .expect("corrupt vectors")
        .map(|e| e.expect("entry").path())
        .collect();
    corrupt.sort();
    dirs.extend(corrupt);
    let empty = tempfile::tempdir().expect("tempdir");
    dirs.push(empty.path().to_path_buf());
    let mut codes = std::collections::BTreeSet::new();
    for dir in &dirs {
        let (code, doc) = verify_json(dir);
        assert_eq!(code, if doc["ok"] == true { 0 } else { 3 }, "{doc:#}");
        valid(&validator, &doc);
        for f in doc["failures"].as_array().expect("failures") {
            codes.insert(f["code"].as_str().expect("code").to_string());
        }
    }
    assert!(codes.len() > 10, "only {codes:?}");

    let (_, doc) = verify_json(&vectors().join("corrupt/fork"));
    assert!(!doc["failures"].as_array().expect("failures").is_empty());
    let mut broken = doc.clone();
    broken["failures"][0]["code"] = json!("made-up");
    invalid(&validator, &broken, "/failures/0/code", "an unknown code");
    let mut broken = doc.clone();
    broken["root"] = json!("sha256:XYZ");
    invalid(&validator, &broken, "/root", "a malformed root");
    let mut broken = doc.clone();
    broken["entries"]["decree"] = json!(1);
    invalid(&validator, &broken, "/entries", "an unknown entry type");
    let mut broken = doc;
    broken["checkpoints"][0]["signed"] = json!(true);
    invalid(
        &validator,
        &broken,
        "/checkpoints/0",
        "a field the schema does not name",
    );
}

#[test]
fn ledger_log_json_matches_its_published_schema_and_says_what_each_line_says() {
    let validator = validator("ledger-log-v1.schema.json");
    // The valid vector holds every type but `recovery`: a recovered write
    // adds one.
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = write_recovered(tmp.path());
    let entries = ledger.join("entries.jsonl");

    let doc = log_json(&ledger);
    valid(&validator, &doc);
    let logged = doc["entries"].as_array().expect("entries");
    let text = std::fs::read_to_string(&entries).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(logged.len(), lines.len());
    let mut types = std::collections::BTreeSet::new();
    for (item, line) in logged.iter().zip(&lines) {
        assert_eq!(jcs::encode(&item["entry"]), *line);
        let leaf = merkle::tag(&merkle::leaf(line.as_bytes()));
        assert_eq!(item["leaf"], leaf.as_str());
        types.insert(item["entry"]["type"].as_str().expect("type").to_string());
    }
    assert_eq!(types.len(), Kind::ALL.len(), "{types:?}");

    let at = |kind: &str| {
        logged
            .iter()
            .position(|e| e["entry"]["type"] == kind)
            .expect("present")
    };
    let decision = at("decision");
    let mut broken = doc.clone();
    broken["entries"][decision]["entry"]["extra"] = json!(1);
    invalid(
        &validator,
        &broken,
        &format!("/entries/{decision}/entry"),
        "a field the decision type does not have",
    );
    let mut broken = doc.clone();
    broken["entries"][decision]["entry"]
        .as_object_mut()
        .expect("object")
        .remove("leaver");
    invalid(
        &validator,
        &broken,
        &format!("/entries/{decision}/entry"),
        "a decision without its `leaver`",
    );
    let run = at("run");
    let mut broken = doc.clone();
    broken["entries"][run]["entry"]["ts"] = json!("25 November 2026");
    invalid(
        &validator,
        &broken,
        &format!("/entries/{run}/entry"),
        "an instant not in RFC 3339",
    );
    let mut broken = doc;
    broken["entries"][0]["leaf"] = json!("sha256:00");
    invalid(
        &validator,
        &broken,
        "/entries/0/leaf",
        "a malformed leaf hash",
    );
}

/// The schemas' lists of codes and types are the code's.
#[test]
fn the_ledger_schemas_name_every_failure_code_and_entry_type() {
    let schema = |name: &str| -> Value {
        let path = repo().join("docs/schemas").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON")
    };
    let verify = schema("ledger-verify-v1.schema.json");
    let codes: Vec<&str> = FailureCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        verify["properties"]["failures"]["items"]["properties"]["code"]["enum"],
        json!(codes)
    );
    let types: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(verify["$defs"]["type"]["enum"], json!(types));
    let log = schema("ledger-log-v1.schema.json");
    assert_eq!(log["$defs"]["type"]["enum"], json!(types));
    let refs: Vec<String> = types.iter().map(|t| format!("#/$defs/{t}")).collect();
    let one_of: Vec<&str> = log["properties"]["entries"]["items"]["properties"]["entry"]["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .map(|r| r["$ref"].as_str().expect("$ref"))
        .collect();
    assert_eq!(one_of, refs);
}
