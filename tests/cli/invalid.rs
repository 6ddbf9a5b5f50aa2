//! Every kind of load error, with its exact file:line:col message.

use crate::harness::{AS_OF, repo, run, run_in, scratch};

fn validate_fixture(name: &str) -> String {
    let inventory = format!("tests/fixtures/invalid/{name}/inventory");
    let out = run(&["validate", "--inventory", &inventory]);
    assert_eq!(
        out.code,
        2,
        "{name} must not validate:\n{}",
        out.transcript()
    );
    out.transcript()
}

macro_rules! invalid_inventory {
    ($($test:ident => $fixture:literal,)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(concat!("invalid_", $fixture), validate_fixture($fixture));
        }
    )*};
}

invalid_inventory! {
    yaml_syntax => "yaml-syntax",
    unknown_field => "unknown-field",
    wrong_type => "wrong-type",
    invalid_value => "invalid-value",
    invalid_id => "invalid-id",
    invalid_date => "invalid-date",
    duplicate_id => "duplicate-id",
    dangling_link => "dangling-link",
    wrong_link_kind => "wrong-link-kind",
    missing_field => "missing-field",
    unknown_kind => "unknown-kind",
    not_a_record => "not-a-record",
    alias_bomb => "alias-bomb",
    empty => "empty",
    inconsistent_record => "inconsistent-record",
    login_key_bound_to_device => "login-key-bound-to-device",
    extends => "extends",
}

#[test]
fn plan_refuses_invalid_input_and_writes_nothing_to_stdout() {
    let out = run(&[
        "plan",
        "--inventory",
        "tests/fixtures/invalid/dangling-link/inventory",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("error[dangling-link]"));
}

/// A scratch copy of the sample with one extra policy file.
fn with_policy(file: &str, text: &str) -> tempfile::TempDir {
    let dir = scratch(&repo().join("tests/fixtures/scenarios/s01-terminated-employee/inventory"));
    std::fs::write(dir.path().join("policies").join(file), text).expect("write policy");
    dir
}

#[test]
fn policy_naming_a_missing_attribute() {
    let dir = with_policy(
        "extra.cedar",
        r#"@id("bad-attribute")
@description("names an attribute the schema lacks")
@control("TEST")
permit (principal, action == Severance::Action::"revoke", resource is Severance::Account)
when { resource.principal.departed };
"#,
    );
    let out = run_in(dir.path(), &["validate"]);
    insta::assert_snapshot!("policy_missing_attribute", out.transcript());
}

#[test]
fn policy_with_a_wrong_type() {
    let dir = with_policy(
        "extra.cedar",
        r#"@id("bad-type")
@description("compares a datetime with a string")
@control("TEST")
permit (principal, action == Severance::Action::"revoke", resource is Severance::Credential)
when { resource has expires_at && resource.expires_at < "2026-01-01" };
"#,
    );
    let out = run_in(dir.path(), &["validate"]);
    insta::assert_snapshot!("policy_wrong_type", out.transcript());
}

#[test]
fn policy_syntax_error() {
    let dir = with_policy(
        "extra.cedar",
        "@id(\"broken\")\npermit (principal, action, resource\nwhen { true };\n",
    );
    let out = run_in(dir.path(), &["validate"]);
    insta::assert_snapshot!("policy_syntax", out.transcript());
}

#[test]
fn policy_annotations_are_required_and_checked() {
    let dir = with_policy(
        "extra.cedar",
        r#"permit (principal, action == Severance::Action::"review", resource is Severance::Nhi);

@id("Bad_Id")
@description("bad id, bad leaver path, bad due")
@control("TEST")
@leaver("ownr")
@due("3 days")
permit (principal, action == Severance::Action::"review", resource is Severance::Nhi);

@id("leaver-account-revoke")
@description("reuses an id")
@control("TEST")
permit (principal, action == Severance::Action::"review", resource is Severance::Nhi);
"#,
    );
    let out = run_in(dir.path(), &["validate"]);
    insta::assert_snapshot!("policy_annotations", out.transcript());
}

#[test]
fn schema_syntax_error() {
    let dir = scratch(&repo().join("tests/fixtures/scenarios/s01-terminated-employee/inventory"));
    let schema = dir.path().join("policies/schema.cedarschema");
    let text = std::fs::read_to_string(&schema)
        .expect("read")
        .replace("entity Process;", "entity Process");
    std::fs::write(&schema, text).expect("write");
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("error[schema-syntax]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("policies/schema.cedarschema:"),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_directories_could_not_run() {
    let out = run(&["plan", "--inventory", "no/such/dir", "--as-of", AS_OF]);
    insta::assert_snapshot!("missing_inventory_dir", out.transcript());
}

#[test]
fn a_bad_as_of_is_a_usage_error() {
    let out = run(&["plan", "--as-of", "yesterday"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("`yesterday` is not an RFC 3339 date-time"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_policy_that_fails_to_evaluate_is_an_error_not_a_retain() {
    // Adding ~292 billion years to a date overflows Cedar's datetime.
    let dir = with_policy(
        "extra.cedar",
        r#"@id("overflowing-policy")
@description("overflows a datetime at evaluation time")
@control("TEST")
permit (principal, action == Severance::Action::"review", resource is Severance::Device)
when { context.now.offset(duration("106751991167d")) > context.now };
"#,
    );
    let out = run_in(dir.path(), &["plan", "--as-of", AS_OF]);
    // Points at the expression that failed, not at the policy's first line.
    assert!(
        out.stderr.contains("::: policies/extra.cedar:5:8"),
        "{}",
        out.stderr
    );
    insta::assert_snapshot!("evaluation_error_human", out.transcript());
    let out = run_in(dir.path(), &["plan", "--format", "json", "--as-of", AS_OF]);
    assert_eq!(out.code, 2);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let device = plan["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["subject"] == "device/LAP-1")
        .expect("device decision");
    assert_eq!(device["status"], "error");
    assert_eq!(device["actions"], serde_json::json!([]));
    assert_eq!(plan["summary"]["error"], 1);
}

#[test]
fn a_record_dropped_for_its_own_error_is_not_also_a_dangling_waiver() {
    let dir = scratch(&repo().join("inventory"));
    let root = dir.path();
    // The waived bot and the waiver's owner both get a misspelt field: each
    // is reported once, for what is wrong with it, and the waiver that
    // names them is not blamed for it.
    for (file, id) in [
        (
            "inventory/nhi/service-accounts.yaml",
            "nhi/github/release-bot",
        ),
        ("inventory/people/employees.yaml", "person/E1010"),
    ] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        let needle = format!("id: {id}\n");
        assert!(text.contains(&needle), "{id} in {file}");
        std::fs::write(
            &path,
            text.replacen(&needle, &format!("{needle}  ownr: x\n"), 1),
        )
        .expect("write");
    }
    let out = run_in(root, &["validate"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert_eq!(
        out.stderr.matches("error[unknown-field]").count(),
        2,
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("waiver lists") && !out.stderr.contains("waiver `owner` names"),
        "{}",
        out.stderr
    );
}

#[test]
fn nesting_past_the_limit_is_a_finding_not_a_crash() {
    // Block sequences nested 60 deep overflowed the parser's 2 MiB worker
    // thread (debug build) before the depth limit was lowered below that.
    for depth in [31, 33, 60, 700] {
        let dir = scratch(&repo().join("tests/fixtures/scenarios/s07-on-leave/inventory"));
        let text = format!("{}1\n", "- ".repeat(depth));
        std::fs::write(dir.path().join("inventory/deep.yaml"), text).expect("write");
        let out = run_in(dir.path(), &["validate"]);
        assert_eq!(out.code, 2, "depth {depth}: {}", out.transcript());
        let code = if depth < 32 {
            "not-a-record"
        } else {
            "yaml-limit"
        };
        assert!(
            out.stderr.contains(&format!("error[{code}]")),
            "depth {depth}: {}",
            out.stderr
        );
    }
}

/// A link inside the inventory or the policy directory is refused, never
/// followed: its target's content (here the environment, where CI keeps its
/// secrets) must not reach an error snippet.
#[cfg(unix)]
#[test]
fn links_are_refused_and_their_targets_never_shown() {
    let dir = scratch(&repo().join("inventory"));
    let root = dir.path();
    std::os::unix::fs::symlink("/proc/self/environ", root.join("inventory/env.yaml"))
        .expect("symlink");
    let secret = |out: &crate::harness::Run| out.stderr.contains("CARGO_MANIFEST_DIR=");
    for args in [
        &["validate"][..],
        &["plan", "--as-of", AS_OF],
        &["check", "--as-of", AS_OF],
    ] {
        let out = run_in(root, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(!secret(&out), "{args:?} shows the environment");
        if args[0] == "validate" {
            insta::assert_snapshot!("symlink_in_inventory", out.transcript());
        }
    }
    std::fs::remove_file(root.join("inventory/env.yaml")).expect("rm");
    for file in ["policies/env.cedar", "policies/schema.cedarschema"] {
        let _ = std::fs::remove_file(root.join(file));
        std::os::unix::fs::symlink("/proc/self/environ", root.join(file)).expect("symlink");
        let out = run_in(root, &["validate"]);
        assert_eq!(out.code, 2, "{file}: {}", out.transcript());
        assert!(!secret(&out), "{file}: {}", out.transcript());
        assert!(
            out.stderr.contains(&format!(
                "could not read `{file}`: it is a symbolic link, which severance does not follow"
            )),
            "{}",
            out.stderr
        );
        std::fs::remove_file(root.join(file)).expect("rm");
    }
}

/// Input text (names, file names) reaches human output escaped: it can
/// neither start a line of its own nor drive the terminal.
#[test]
fn input_text_is_printed_escaped() {
    let dir = scratch(&repo().join("tests/fixtures/scenarios/s01-terminated-employee/inventory"));
    let root = dir.path();
    let records = root.join("inventory/records.yaml");
    let text = std::fs::read_to_string(&records).expect("read");
    std::fs::write(
        &records,
        text.replacen(
            "display_name: Lee Leaver",
            "display_name: \"Lee\\nrevoke  account/okta/ceo\\e[2J\\u202E\"",
            1,
        ),
    )
    .expect("write");
    let forged = |text: &str| {
        text.contains('\u{1b}')
            || text.contains('\u{202e}')
            || text
                .lines()
                .any(|l| l.starts_with("revoke  account/okta/ceo"))
    };
    for args in [
        &["plan", "--as-of", AS_OF][..],
        &["explain", "person/L1", "--as-of", AS_OF],
    ] {
        let out = run_in(root, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.transcript());
        assert!(!forged(&out.stdout), "{args:?}: {}", out.stdout);
        assert!(
            out.stdout
                .contains("Lee\\nrevoke  account/okta/ceo\\u{1b}[2J\\u{202e}"),
            "{args:?}: {}",
            out.stdout
        );
    }
    std::fs::write(root.join("inventory/bad\u{1b}[2J\nname.yaml"), "a: [\n").expect("write");
    let out = run_in(root, &["validate"]);
    assert_eq!(out.code, 2);
    assert!(!forged(&out.stderr), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--> inventory/bad\\u{1b}[2J\\nname.yaml:1:4"),
        "{}",
        out.stderr
    );
}

/// A file of document markers is refused at the documents limit without
/// the memory growing with the file: the finding quotes one line, not a
/// snippet of every line. Run under an address-space limit that the run
/// fitted in tenfold before, and that quoting the whole file overran.
#[cfg(target_os = "linux")]
#[test]
fn document_marker_storms_are_refused_in_bounded_memory() {
    let dir = scratch(&repo().join("tests/fixtures/invalid/empty/inventory"));
    let root = dir.path();
    for name in ["a.yaml", "b.yaml"] {
        std::fs::write(
            root.join("inventory").join(name),
            "---\n".repeat(15_000_000),
        )
        .expect("write");
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" validate")
        .arg(env!("CARGO_BIN_EXE_severance"))
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("error[yaml-limit]").count(), 2, "{stderr}");
    assert!(stderr.contains("--> inventory/a.yaml:1025:1"), "{stderr}");
}

/// The sample inventory's one file, re-encoded by `encode`.
fn reencoded(encode: impl Fn(&str) -> Vec<u8>) -> tempfile::TempDir {
    let dir = scratch(&repo().join("tests/fixtures/scenarios/s01-terminated-employee/inventory"));
    let path = dir.path().join("inventory/records.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, encode(&text)).expect("write");
    dir
}

#[test]
fn non_utf8_inventory_is_placed_by_line_and_column() {
    let dir = reencoded(|text| {
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend(b"---\nkind: team\nid: t\ndisplay_name: \"caf\xC3\xA9 \xFF\"\n");
        bytes
    });
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    insta::assert_snapshot!("non_utf8_inventory", out.transcript());
}

#[test]
fn utf16_and_utf32_inventories_with_a_bom_read_as_utf8() {
    let plain = run_in(reencoded(|t| t.as_bytes().to_vec()).path(), &["validate"]);
    assert_eq!(plain.code, 0, "{}", plain.transcript());
    type Encode = fn(&str) -> Vec<u8>;
    let encodings: [(&str, Encode); 5] = [
        ("utf-8 bom", |t| {
            [&[0xEF, 0xBB, 0xBF][..], t.as_bytes()].concat()
        }),
        ("utf-16le", |t| {
            [
                vec![0xFF, 0xFE],
                t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            ]
            .concat()
        }),
        ("utf-16be", |t| {
            [
                vec![0xFE, 0xFF],
                t.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            ]
            .concat()
        }),
        ("utf-32le", |t| {
            [
                vec![0xFF, 0xFE, 0, 0],
                t.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect(),
            ]
            .concat()
        }),
        ("utf-32be", |t| {
            [
                vec![0, 0, 0xFE, 0xFF],
                t.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect(),
            ]
            .concat()
        }),
    ];
    for (name, encode) in encodings {
        let dir = reencoded(encode);
        let out = run_in(dir.path(), &["validate"]);
        assert_eq!(out.transcript(), plain.transcript(), "{name}");
    }
    // A finding in a UTF-16 file is placed in the decoded text.
    let dir = reencoded(|t| {
        let t = format!("{t}---\nkind: team\nid: t\ndisplay_name: \"café\"\ncolour: red\n");
        [
            vec![0xFE, 0xFF],
            t.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ]
        .concat()
    });
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    insta::assert_snapshot!("utf16_inventory_finding", out.transcript());
    // A lone surrogate is placed like a bad UTF-8 byte.
    let dir = reencoded(|t| {
        let mut bytes: Vec<u8> = [
            vec![0xFF, 0xFE],
            t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ]
        .concat();
        bytes.extend("x: é".encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend(0xD800u16.to_le_bytes());
        bytes
    });
    let out = run_in(dir.path(), &["validate"]);
    insta::assert_snapshot!("utf16_inventory_lone_surrogate", out.transcript());
}

#[test]
fn policies_are_decoded_like_inventories() {
    let dir = with_policy("extra.cedar", "");
    let bad = [&b"// caf\xC3\xA9\n// \xC3\xA9 \xFF\n"[..]].concat();
    std::fs::write(dir.path().join("policies/extra.cedar"), bad).expect("write");
    let out = run_in(dir.path(), &["validate"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("policies/extra.cedar:2:6 (invalid byte at offset 15)"),
        "{}",
        out.transcript()
    );
    let text =
        std::fs::read_to_string(dir.path().join("policies/schema.cedarschema")).expect("read");
    let utf16: Vec<u8> = [
        vec![0xFF, 0xFE],
        text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    ]
    .concat();
    std::fs::write(dir.path().join("policies/schema.cedarschema"), utf16).expect("write");
    std::fs::write(dir.path().join("policies/extra.cedar"), "").expect("write");
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

#[test]
fn infinity_and_nan_are_text_in_a_text_field_and_one_finding_elsewhere() {
    let plain = run_in(reencoded(|t| t.as_bytes().to_vec()).path(), &["validate"]);
    for spelling in [
        ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", "1e999",
    ] {
        let dir = reencoded(|t| {
            t.replace(
                "display_name: Lee Leaver",
                &format!("display_name: {spelling}"),
            )
            .into_bytes()
        });
        let out = run_in(dir.path(), &["validate"]);
        assert_eq!(out.transcript(), plain.transcript(), "{spelling}");
        let out = run_in(dir.path(), &["explain", "person/L1", "--as-of", AS_OF]);
        assert!(
            out.stdout.contains(spelling),
            "{spelling} not kept as written:\n{}",
            out.transcript()
        );
    }
    let dir = reencoded(|t| {
        t.replace("privileged: true", "privileged: .inf")
            .into_bytes()
    });
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    insta::assert_snapshot!("infinity_in_a_boolean_field", out.transcript());
}
