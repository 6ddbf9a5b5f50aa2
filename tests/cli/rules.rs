//! The check rules of the default pack, each on a record it must flag and
//! beside records it must leave alone (`tests/fixtures/check/every-rule`).

use crate::harness::{AS_OF, repo, run};

#[test]
fn every_rule_flags_exactly_its_records() {
    let dir = "tests/fixtures/check/every-rule";
    let out = run(&[
        "check",
        "--as-of",
        AS_OF,
        "--inventory",
        &format!("{dir}/inventory"),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let found: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                text(&f["severity"]),
                text(&f["code"]),
                text(&f["subject"])
            )
        })
        .collect();
    let expected =
        std::fs::read_to_string(repo().join(dir).join("expected.txt")).expect("expected");
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(found, expected);

    // Every rule of the pack is exercised here.
    let pack = std::fs::read_to_string(repo().join("policies/hygiene.cedar")).expect("rules");
    let ids: Vec<&str> = pack
        .lines()
        .filter_map(|l| l.strip_prefix("@id(\""))
        .filter_map(|l| l.strip_suffix("\")"))
        .collect();
    assert_eq!(
        ids.len(),
        pack.matches("@severity(").count(),
        "one id per rule"
    );
    for id in ids {
        assert!(
            expected
                .iter()
                .any(|line| line.split(' ').nth(1) == Some(id)),
            "rule `{id}` finds nothing in the fixture"
        );
    }
    // And records meant to pass do.
    for line in &expected {
        let subject = line.split(' ').nth(2).unwrap_or_default();
        assert!(
            !subject.ends_with("-ok")
                && !["person/active", "person/backup", "nhi/ok"].contains(&subject),
            "`{subject}` should pass: {line}"
        );
    }
}
