//! Proofs of single entries: known-answer bundles made by `ledger prove`
//! from the valid vector ledger, a damaged copy for every check of
//! `ledger verify-proof` (each must fail with exactly its code), golden
//! CLI runs, the JSON against its published schema, and a proof from a
//! freshly written ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use severance::ledger::SignerKey;
use severance::ledger::note;
use severance::ledger::proof::ProofCode;

use crate::harness::run;
use crate::ledger::{arg, check_vector, keys, vectors};
use crate::report_schemas::{invalid, valid, validator};

fn ledger() -> PathBuf {
    vectors().join("valid")
}

fn proofs() -> PathBuf {
    vectors().join("proof")
}

/// `ledger prove` on the valid vector ledger.
fn prove(args: &[&str]) -> Vec<u8> {
    let dir = ledger();
    let mut all = vec!["ledger", "prove", "--ledger", arg(&dir)];
    all.extend(args);
    let out = run(&all);
    assert_eq!(out.code, 0, "{}", out.transcript());
    out.stdout.into_bytes()
}

/// The valid bundles: name, and the arguments `ledger prove` is given.
fn valid_bundles() -> Vec<(&'static str, Vec<String>)> {
    let old = ledger().join("checkpoints/5").display().to_string();
    vec![
        ("entry-0", vec!["--seq".into(), "0".into()]),
        ("decision-3", vec!["--seq".into(), "3".into()]),
        ("entry-9", vec!["--seq".into(), "9".into()]),
        (
            "decision-3-size-6",
            vec!["--seq".into(), "3".into(), "--size".into(), "6".into()],
        ),
        (
            "consistency-5-10",
            vec!["--consistency".into(), "--old".into(), old],
        ),
    ]
}

/// `ledger verify-proof --format json` on `proof`, with `old` if given.
fn verify_json(proof: &Path, old: Option<&Path>) -> (i32, Value) {
    let vkey = keys().join("log.key.pub");
    let mut args = vec![
        "ledger",
        "verify-proof",
        "--vkey",
        arg(&vkey),
        arg(proof),
        "--format",
        "json",
    ];
    if let Some(old) = old {
        args.extend(["--old", arg(old)]);
    }
    let out = run(&args);
    let doc = serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("{}", out.transcript()));
    (out.code, doc)
}

fn codes(doc: &Value) -> BTreeSet<String> {
    doc["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// Replaces the `n`th line (0-based) of a bundle.
fn with_line(bundle: &str, n: usize, edit: impl Fn(&str) -> String) -> String {
    bundle
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i == n {
                format!("{}\n", edit(l.trim_end_matches('\n')))
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The bundle with its checkpoint replaced by `edit(checkpoint)`.
fn with_checkpoint(bundle: &str, edit: impl Fn(&str) -> String) -> String {
    let (head, cp) = bundle.split_once("\n\n").expect("bundle");
    format!("{head}\n\n{}", edit(cp))
}

fn resigned(cp: &str, name: Option<&str>) -> String {
    let cp = note::Checkpoint::parse(cp).expect("parses");
    let other = SignerKey::from_seed(name.unwrap_or(&cp.origin), [42u8; 32]);
    note::sign_checkpoint(&other, cp.size, &cp.root)
}

/// Every damaged proof: name, the one code it must fail with, the bundle
/// (made from the valid ones) and the old checkpoint a consistency proof
/// is checked against.
#[allow(clippy::type_complexity, reason = "a table of named cases")]
fn corruptions(
    valid: &BTreeMap<String, Vec<u8>>,
) -> Vec<(&'static str, ProofCode, String, Option<Vec<u8>>)> {
    let d3 = text(&valid["decision-3.tlog-proof"]);
    let c = text(&valid["consistency-5-10.tlog-proof"]);
    let old = valid["consistency-5-10.old"].clone();
    let flip = |line: &str| {
        let mut bytes = STANDARD.decode(line).expect("base64");
        bytes[0] ^= 1;
        STANDARD.encode(bytes)
    };
    let hash_line = d3.lines().nth(3).expect("a hash").to_string();
    vec![
        (
            "edit-entry",
            ProofCode::InclusionMismatch,
            with_line(&d3, 1, |l| {
                let line = text(&STANDARD.decode(&l["extra ".len()..]).expect("base64"));
                let edited = line.replace("account/okta/l1", "account/okta/l2");
                assert_ne!(edited, line);
                format!("extra {}", STANDARD.encode(edited))
            }),
            None,
        ),
        (
            "change-index",
            ProofCode::EntryMismatch,
            d3.replace("\nindex 3\n", "\nindex 2\n"),
            None,
        ),
        (
            "flip-proof-hash",
            ProofCode::InclusionMismatch,
            with_line(&d3, 3, flip),
            None,
        ),
        (
            "drop-proof-hash",
            ProofCode::ProofLength,
            d3.replacen(&format!("{hash_line}\n"), "", 1),
            None,
        ),
        (
            "extra-proof-hash",
            ProofCode::ProofLength,
            d3.replacen(&hash_line, &format!("{hash_line}\n{hash_line}"), 1),
            None,
        ),
        (
            "index-beyond-size",
            ProofCode::IndexOutOfRange,
            d3.replace("\nindex 3\n", "\nindex 10\n"),
            None,
        ),
        (
            "leading-zero-index",
            ProofCode::ProofSyntax,
            d3.replace("\nindex 3\n", "\nindex 03\n"),
            None,
        ),
        (
            "bad-base64",
            ProofCode::ProofSyntax,
            with_line(&d3, 3, |l| l.replacen('=', "", 1)),
            None,
        ),
        (
            "wrong-header",
            ProofCode::ProofHeader,
            d3.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
            None,
        ),
        (
            "flip-signature-bit",
            ProofCode::BadSignature,
            with_checkpoint(&d3, |cp| {
                let (body, sig) = cp.split_once("\n\n").expect("note");
                let b64 = sig.trim_end().rsplit(' ').next().expect("signature");
                let mut bytes = STANDARD.decode(b64).expect("base64");
                bytes[10] ^= 1;
                format!(
                    "{body}\n\n{}",
                    sig.replacen(b64, &STANDARD.encode(bytes), 1)
                )
            }),
            None,
        ),
        (
            "resign-other-key",
            ProofCode::UntrustedSignature,
            with_checkpoint(&d3, |cp| resigned(cp, None)),
            None,
        ),
        (
            "other-origin",
            ProofCode::OriginMismatch,
            with_checkpoint(&d3, |cp| {
                resigned(cp, Some("other.severance.example/ledger"))
            }),
            None,
        ),
        (
            "checkpoint-syntax",
            ProofCode::NoteSyntax,
            with_checkpoint(&d3, |cp| cp.replacen("\n10\n", "\n010\n", 1)),
            None,
        ),
        (
            "consistency-flip-hash",
            ProofCode::ConsistencyMismatch,
            with_line(&c, 2, flip),
            Some(old.clone()),
        ),
        (
            "consistency-old-other-size",
            ProofCode::OldCheckpointMismatch,
            c.clone(),
            Some(std::fs::read(ledger().join("checkpoints/6")).expect("checkpoint")),
        ),
    ]
}

/// The known-answer proofs are what `ledger prove` writes today, each
/// verifies, and every damaged copy fails with exactly its code.
#[test]
fn known_answer_proofs_and_every_corruption() {
    let mut valid = BTreeMap::new();
    for (name, args) in valid_bundles() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        valid.insert(format!("{name}.tlog-proof"), prove(&args));
    }
    valid.insert(
        "consistency-5-10.old".into(),
        std::fs::read(ledger().join("checkpoints/5")).expect("checkpoint"),
    );
    check_vector("proof/valid", &valid);
    for name in valid.keys().filter(|n| n.ends_with(".tlog-proof")) {
        let path = proofs().join("valid").join(name);
        let old = path.with_extension("old");
        let (code, doc) = verify_json(&path, old.exists().then_some(old.as_path()));
        assert_eq!(
            (code, doc["ok"].clone()),
            (0, json!(true)),
            "{name}: {doc:#}"
        );
    }

    let mut names = Vec::new();
    for (name, code, bundle, old) in corruptions(&valid) {
        let mut files = BTreeMap::new();
        files.insert("proof.tlog-proof".to_string(), bundle.into_bytes());
        files.insert(
            "expected-code".to_string(),
            format!("{code}\n").into_bytes(),
        );
        if let Some(old) = old {
            files.insert("old".to_string(), old);
        }
        check_vector(&format!("proof/corrupt/{name}"), &files);
        let dir = proofs().join("corrupt").join(name);
        let old = dir.join("old");
        let (exit, doc) = verify_json(
            &dir.join("proof.tlog-proof"),
            old.exists().then_some(old.as_path()),
        );
        assert_eq!(exit, 3, "{name}: {doc:#}");
        assert_eq!(
            codes(&doc),
            BTreeSet::from([code.as_str().to_string()]),
            "{name} must fail with `{code}` alone: {doc:#}"
        );
        names.push(name.to_string());
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(proofs().join("corrupt"))
        .expect("corrupt/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    on_disk.sort();
    names.sort();
    assert_eq!(on_disk, names, "no stale corruption folders");
    // Every code is reached by some vector.
    let reached: BTreeSet<&str> = corruptions(&valid).iter().map(|c| c.1.as_str()).collect();
    let all: BTreeSet<&str> = ProofCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(reached, all);
}

#[test]
fn verify_proof_golden_output() {
    let vkey = "tests/vectors/ledger/keys/log.key.pub";
    let p = "tests/vectors/ledger/proof";
    for (name, args) in [
        (
            "proof_inclusion",
            vec![format!("{p}/valid/decision-3.tlog-proof")],
        ),
        (
            "proof_consistency",
            vec![
                format!("{p}/valid/consistency-5-10.tlog-proof"),
                "--old".into(),
                format!("{p}/valid/consistency-5-10.old"),
            ],
        ),
        (
            "proof_flipped_hash",
            vec![format!("{p}/corrupt/flip-proof-hash/proof.tlog-proof")],
        ),
        (
            "proof_consistency_without_old",
            vec![format!("{p}/valid/consistency-5-10.tlog-proof")],
        ),
    ] {
        let mut all = vec!["ledger", "verify-proof", "--vkey", vkey];
        all.extend(args.iter().map(String::as_str));
        insta::assert_snapshot!(name, run(&all).transcript());
    }
    let out = run(&[
        "ledger",
        "prove",
        "--ledger",
        "tests/vectors/ledger/valid",
        "--seq",
        "10",
    ]);
    insta::assert_snapshot!("prove_no_such_entry", out.transcript());
    let out = run(&[
        "ledger",
        "prove",
        "--ledger",
        "tests/vectors/ledger/corrupt/edit-last-entry",
        "--seq",
        "3",
    ]);
    insta::assert_snapshot!("prove_root_mismatch", out.transcript());
}

#[test]
fn verify_proof_json_matches_its_published_schema() {
    let validator = validator("ledger-proof-v1.schema.json");
    let mut seen = BTreeSet::new();
    let mut docs = Vec::new();
    for dir in [proofs().join("valid")].into_iter().chain(
        std::fs::read_dir(proofs().join("corrupt"))
            .expect("corrupt")
            .map(|e| e.expect("entry").path()),
    ) {
        for e in std::fs::read_dir(&dir).expect("dir") {
            let path = e.expect("entry").path();
            if path.extension().is_some_and(|x| x == "tlog-proof") {
                let old = [path.with_extension("old"), dir.join("old")]
                    .into_iter()
                    .find(|p| p.exists());
                let (_, doc) = verify_json(&path, old.as_deref());
                valid(&validator, &doc);
                seen.extend(codes(&doc));
                docs.push(doc);
            }
        }
    }
    assert_eq!(seen.len(), ProofCode::ALL.len());
    // The schema names exactly the code's codes.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::harness::repo().join("docs/schemas/ledger-proof-v1.schema.json"),
        )
        .expect("schema"),
    )
    .expect("json");
    let names: Vec<&str> = ProofCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        schema["properties"]["failures"]["items"]["properties"]["code"]["enum"],
        json!(names)
    );
    let doc = docs
        .iter()
        .find(|d| d["kind"] == "inclusion" && d["ok"] == true)
        .expect("a valid inclusion proof")
        .clone();
    let mut broken = doc.clone();
    broken["entry"]["leaf"] = json!("sha256:XYZ");
    invalid(&validator, &broken, "/entry/leaf", "a malformed leaf");
    let mut broken = doc.clone();
    broken["kind"] = json!("exclusion");
    invalid(&validator, &broken, "/kind", "an unknown kind");
    let mut broken = doc;
    broken["failures"] = json!([{"code": "made-up", "message": "x"}]);
    invalid(&validator, &broken, "/failures/0/code", "an unknown code");
}

/// A proof written to a file from a ledger written just now verifies, and
/// one against a checkpoint the auditor holds is refused when the ledger
/// does not extend it.
#[test]
fn a_proof_from_a_fresh_ledger_verifies_and_a_foreign_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = crate::ledger::write_valid(tmp.path());
    let out_file = tmp.path().join("p.tlog-proof");
    let out = run(&[
        "ledger",
        "prove",
        "--ledger",
        arg(&dir),
        "--seq",
        "4",
        "--output",
        arg(&out_file),
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, ""),
        "{}",
        out.transcript()
    );
    let (code, doc) = verify_json(&out_file, None);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["entry"]["type"], "decision");
    let foreign = tmp.path().join("foreign");
    std::fs::write(
        &foreign,
        note::sign_checkpoint(&crate::ledger::log_key(), 3, &[7; 32]),
    )
    .expect("write");
    let out = run(&[
        "ledger",
        "prove",
        "--ledger",
        arg(&dir),
        "--seq",
        "1",
        "--checkpoint",
        arg(&foreign),
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("is not the root of the first 3 entries"),
        "{}",
        out.stderr
    );
}
