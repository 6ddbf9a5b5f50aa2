//! `severance import` as its users meet it: each format's sample export
//! imported through the real CLI (golden output and golden files), each
//! departed state and sentinel, each refusal with its message and nothing
//! written, and the loop properties: an unchanged re-import changes no
//! byte, a curated fact survives, a record the source stops returning is
//! kept and marked.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::gitops::git;
use crate::harness::{copy_dir, repo, run_in};

const OBSERVED: &str = "2026-11-24T06:00:00Z";

/// A scratch directory with `inventory/` (a copy of the sample, the join
/// target), `policies/`, and the sample exports and import fixtures under
/// `exports/` and `fixtures/`, so that every path in the output is short
/// and the same on every machine.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&repo().join("inventory"), &dir.path().join("inventory"));
        copy_dir(&repo().join("policies"), &dir.path().join("policies"));
        copy_dir(
            &repo().join("examples/exports"),
            &dir.path().join("exports"),
        );
        copy_dir(
            &repo().join("tests/fixtures/import"),
            &dir.path().join("fixtures"),
        );
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn import(&self, args: &[&str]) -> crate::harness::Run {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        if !args.contains(&"--observed-at") {
            all.extend_from_slice(&["--observed-at", OBSERVED]);
        }
        run_in(self.path(), &all)
    }

    /// Every file of an output directory, in name order, under its name.
    fn files(&self, out: &str) -> String {
        let dir = self.path().join(out);
        let mut names: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("the output directory exists")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                format!(
                    "===== {} =====\n{}",
                    p.file_name().expect("a name").to_string_lossy(),
                    fs::read_to_string(p).expect("text")
                )
            })
            .collect()
    }
}

/// Imports into `out/` and returns the transcript and the files written.
fn golden(args: &[&str]) -> String {
    let scratch = Scratch::new();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--out", "out"]);
    let run = scratch.import(&all);
    assert_eq!(run.code, 0, "{}", run.transcript());
    format!("{}{}", run.transcript(), scratch.files("out"))
}

macro_rules! imports {
    ($($test:ident => [$($arg:literal),*],)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(golden(&[$($arg),*]));
        }
    )*};
}

imports! {
    import_hr_csv => ["hr-csv", "--in", "exports/hr/workers.csv"],
    import_hr_csv_workday_column_map => ["hr-csv", "--in", "exports/hr/workday-raas.csv", "--columns", "exports/hr/workday-columns.yaml", "--system", "workday"],
    import_hr_csv_rehire => ["hr-csv", "--in", "fixtures/hr/rehire-two-rows.csv"],
    import_bamboohr => ["bamboohr", "--in", "exports/hr/bamboohr-employees.json"],
    import_okta => ["okta", "--in", "exports/okta/users.json"],
    import_okta_transitioning => ["okta", "--in", "fixtures/okta/transitioning-to-deprovisioned.json"],
    import_okta_staged_and_provisioned => ["okta", "--in", "fixtures/okta/staged-and-provisioned.json"],
    import_okta_suspended => ["okta", "--in", "fixtures/okta/suspended.json"],
    import_snipe_it => ["snipe-it", "--in", "exports/snipe-it/hardware.json", "exports/snipe-it/users.json", "--time-zone", "Europe/London"],
    import_snipe_it_assigned_to_location => ["snipe-it", "--in", "fixtures/snipe-it/assigned-to-location.json", "--time-zone", "UTC"],
    import_snipe_it_assignee_pii_stripped => ["snipe-it", "--in", "fixtures/snipe-it/assignee-pii-stripped.json", "exports/snipe-it/users.json", "--time-zone", "UTC"],
    import_intune => ["intune", "--in", "exports/intune/managed-devices.json"],
    import_intune_personal_no_serial => ["intune", "--in", "fixtures/intune/personal-no-serial.json"],
    import_jamf => ["jamf", "--in", "exports/jamf/computers-inventory.json"],
    import_jamf_section_not_requested => ["jamf", "--in", "fixtures/jamf/section-not-requested.json"],
    import_baton => ["baton", "--in", "exports/baton/resources.json", "exports/baton/grants.json"],
    import_baton_omitted_status => ["baton", "--in", "fixtures/baton/omitted-status.json"],
    import_scim => ["scim", "--in", "exports/scim/users.json", "exports/scim/groups.json", "--system", "acme-crm"],
    import_scim_active_missing => ["scim", "--in", "fixtures/scim/active-missing.json"],
    import_entra => ["entra", "--in", "exports/entra/users.json"],
    import_entra_without_select => ["entra", "--in", "fixtures/entra/no-select.json"],
    import_google_workspace => ["google-workspace", "--in", "exports/google/users.json"],
    import_google_never_logged_in => ["google-workspace", "--in", "fixtures/google/never-logged-in.json"],
    import_aws_iam => ["aws-iam", "--in", "exports/aws/credential-report.csv", "exports/aws/list-access-keys.json", "exports/aws/access-key-last-used.json"],
    import_aws_root_and_sentinels => ["aws-iam", "--in", "fixtures/aws/root-and-sentinels.csv"],
    import_gcp_keys => ["gcp-keys", "--in", "exports/gcp/service-account-keys.json"],
    import_gcp_system_managed_and_expired => ["gcp-keys", "--in", "fixtures/gcp/system-managed-and-expired.json"],
    import_github => ["github", "--in", "exports/github/members.json", "exports/github/personal-access-tokens.json", "exports/github/deploy-keys.json"],
    import_github_expired_tokens => ["github", "--in", "fixtures/github/expired-tokens.json"],
}

/// Imports that must be refused: exit 2, the message on stderr, and no
/// output directory.
fn refused(args: &[&str]) -> String {
    let scratch = Scratch::new();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--out", "out"]);
    let run = scratch.import(&all);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        !scratch.path().join("out").exists(),
        "a refused import wrote its output"
    );
    run.transcript()
}

macro_rules! refusals {
    ($($test:ident => [$($arg:literal),*],)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(refused(&[$($arg),*]));
        }
    )*};
}

refusals! {
    refuse_broken_csv_quoting => ["hr-csv", "--in", "fixtures/hr/broken-quoting.csv"],
    refuse_missing_column => ["hr-csv", "--in", "fixtures/hr/missing-column.csv"],
    refuse_missing_mapped_column => ["hr-csv", "--in", "exports/hr/workers.csv", "--columns", "exports/hr/workday-columns.yaml"],
    refuse_duplicate_employee_number => ["hr-csv", "--in", "fixtures/hr/duplicate-employee-number.csv"],
    refuse_not_utf8 => ["hr-csv", "--in", "fixtures/hr/not-utf8.csv"],
    refuse_truncated_json => ["okta", "--in", "fixtures/okta/truncated.json"],
    refuse_unknown_status => ["okta", "--in", "fixtures/okta/unknown-status.json"],
    refuse_secret => ["okta", "--in", "fixtures/okta/password-value.json"],
    refuse_wrong_layout => ["okta", "--in", "exports/snipe-it/hardware.json"],
    refuse_missing_export => ["okta", "--in", "exports/okta/no-such-file.json"],
    refuse_invalid_column_map => ["hr-csv", "--in", "exports/hr/workers.csv", "--columns", "fixtures/hr/column-map-typo.yaml"],
    refuse_snipe_it_without_time_zone => ["snipe-it", "--in", "exports/snipe-it/hardware.json"],
    refuse_gcp_private_key_data => ["gcp-keys", "--in", "fixtures/gcp/private-key-data.json"],
    refuse_github_private_deploy_key => ["github", "--in", "fixtures/github/deploy-key-with-private-key.json"],
    refuse_aws_missing_column => ["aws-iam", "--in", "fixtures/aws/missing-column.csv"],
    refuse_aws_truncated_key_page => ["aws-iam", "--in", "exports/aws/credential-report.csv", "fixtures/aws/truncated-page.json"],
    refuse_aws_unknown_key_status => ["aws-iam", "--in", "exports/aws/credential-report.csv", "fixtures/aws/unknown-key-status.json"],
    refuse_scim_incomplete_envelope => ["scim", "--in", "fixtures/scim/incomplete-page.json", "exports/scim/groups.json"],
}

#[test]
fn refuse_missing_observation_time() {
    let scratch = Scratch::new();
    let run = run_in(
        scratch.path(),
        &[
            "import",
            "okta",
            "--in",
            "exports/okta/users.json",
            "--out",
            "out",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--observed-at"), "{}", run.stderr);
    assert!(!scratch.path().join("out").exists());
}

#[cfg(unix)]
#[test]
fn refuse_a_symlinked_export() {
    let scratch = Scratch::new();
    std::os::unix::fs::symlink(
        scratch.path().join("exports/okta/users.json"),
        scratch.path().join("linked.json"),
    )
    .expect("symlink");
    let run = scratch.import(&["okta", "--in", "linked.json", "--out", "out"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("error[export-unreadable]") && run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
    assert!(!scratch.path().join("out").exists());
}

#[test]
fn a_file_a_person_wrote_in_the_output_is_never_touched() {
    let scratch = Scratch::new();
    let out = scratch.path().join("out");
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("accounts.yaml"), "# mine\n").expect("write");
    let run = scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
    assert_eq!(
        fs::read_to_string(out.join("accounts.yaml")).expect("read"),
        "# mine\n"
    );
}

#[test]
fn re_importing_an_unchanged_export_leaves_git_status_clean() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    let first = scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    assert_eq!(first.code, 0, "{}", first.transcript());
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "first import"]);
    // The next night: the same export, taken later.
    let again = scratch.import(&[
        "okta",
        "--in",
        "exports/okta/users.json",
        "--out",
        "out",
        "--observed-at",
        "2026-11-25T06:00:00Z",
    ]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(
        again.stdout.contains("0 new, 0 changed, 14 unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_changed_export_changes_only_the_records_it_changed() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "first import"]);
    // Lena Fischer's account is deactivated.
    let path = dir.join("exports/okta/users.json");
    let text = fs::read_to_string(&path).expect("read");
    let lena = text.find("\"lena.fischer@").expect("Lena is in the export");
    let status = text[..lena]
        .rfind("\"status\": \"ACTIVE\"")
        .expect("her status");
    let changed = format!(
        "{}\"status\": \"DEPROVISIONED\"{}",
        &text[..status],
        &text[status + "\"status\": \"ACTIVE\"".len()..]
    );
    fs::write(&path, changed).expect("write");
    let run = scratch.import(&[
        "okta",
        "--in",
        "exports/okta/users.json",
        "--out",
        "out",
        "--observed-at",
        "2026-11-25T06:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    insta::assert_snapshot!(format!(
        "{}{}",
        run.transcript(),
        git(dir, &["diff", "--stat"])
    ));
    let diff = git(dir, &["diff", "-U0", "out/accounts.yaml"]);
    insta::assert_snapshot!(
        "a_changed_export_diff",
        diff.lines()
            .filter(|l| !l.starts_with("index "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_record_the_source_stops_returning_is_kept_and_marked() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    // The next export leaves one user out (as Okta's default list leaves
    // out deprovisioned users).
    let path = dir.join("exports/okta/users.json");
    let users: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    let mut list = users.as_array().expect("a list").clone();
    let gone = list.remove(0);
    fs::write(&path, serde_json::to_string_pretty(&list).expect("json")).expect("write");
    let run = scratch.import(&[
        "okta",
        "--in",
        "exports/okta/users.json",
        "--out",
        "out",
        "--observed-at",
        "2026-11-25T06:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let id = format!("account/okta/{}", gone["id"].as_str().expect("an id"));
    assert!(
        run.stdout.contains(&format!("missing: {id}")),
        "{}",
        run.stdout
    );
    let accounts = fs::read_to_string(dir.join("out/accounts.yaml")).expect("read");
    let block = accounts
        .split("\n- ")
        .find(|b| b.contains(&format!("id: {id}\n")))
        .expect("the record is kept");
    assert!(
        block.contains("missing_since: \"2026-11-25T06:00:00Z\""),
        "{block}"
    );
}

#[test]
fn a_curated_fact_survives_a_re_import() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    // An inventory of imported devices, with a legal hold curated by hand.
    let inventory = dir.join("org");
    fs::create_dir_all(&inventory).expect("mkdir");
    fs::copy(
        dir.join("inventory/teams.yaml"),
        inventory.join("teams.yaml"),
    )
    .expect("copy");
    let people = scratch.import(&[
        "hr-csv",
        "--in",
        "exports/hr/workers.csv",
        "--inventory",
        "org",
    ]);
    assert_eq!(people.code, 0, "{}", people.transcript());
    let args = [
        "snipe-it",
        "--in",
        "exports/snipe-it/hardware.json",
        "exports/snipe-it/users.json",
        "--time-zone",
        "Europe/London",
        "--inventory",
        "org",
    ];
    assert_eq!(scratch.import(&args).code, 0);
    let curated = "- kind: device\n  extends: device/LAP-1001\n  legal_hold: true\n";
    fs::write(inventory.join("curated.yaml"), curated).expect("write");
    let plan = |dir: &Path| {
        run_in(
            dir,
            &[
                "plan",
                "--inventory",
                "org",
                "--as-of",
                "2026-11-25T09:00:00Z",
                "--format",
                "json",
            ],
        )
    };
    let before = plan(dir);
    assert_eq!(before.code, 0, "{}", before.transcript());
    // The register is exported again, with the laptop's status changed.
    let path = dir.join("exports/snipe-it/hardware.json");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replacen("C02KS1001", "C02KS1001X", 1)).expect("write");
    let mut again = args.to_vec();
    again.extend_from_slice(&["--observed-at", "2026-11-25T06:00:00Z"]);
    assert_eq!(scratch.import(&again).code, 0);
    assert_eq!(
        fs::read_to_string(inventory.join("curated.yaml")).expect("read"),
        curated
    );
    let after = plan(dir);
    assert_eq!(after.code, 0, "{}", after.transcript());
    let decision = |out: &str| -> serde_json::Value {
        let plan: serde_json::Value = serde_json::from_str(out).expect("json");
        plan["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .find(|d| d["subject"] == "device/LAP-1001")
            .cloned()
            .expect("the laptop is decided")
    };
    let laptop = decision(&after.stdout);
    assert!(
        laptop["constraints"].to_string().contains("wipe"),
        "the legal hold must keep the laptop from being wiped: {laptop}"
    );
    assert_eq!(decision(&before.stdout), laptop);
}

/// The `severance import` commands of the nightly workflow, joined across
/// line continuations, with the workflow's shell variables put in.
fn workflow_imports() -> Vec<String> {
    let text = fs::read_to_string(repo().join("examples/import-nightly.yml")).expect("exists");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
    let steps = doc["jobs"]["import"]["steps"].as_array().expect("steps");
    let mut commands = Vec::new();
    for step in steps {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        let joined = script.replace("\\\n", " ");
        for line in joined.lines().map(str::trim) {
            if line.starts_with("severance import") {
                commands.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
    }
    commands
}

/// The nightly loop on the sample exports, as the workflow runs it: the
/// imports build an inventory that validates; a night on which Okta
/// deactivates an account gives a pull request whose check names the
/// changed decision; after the merge the plan goes into a ledger that
/// verifies.
#[test]
fn the_nightly_loop_runs_as_written() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    // The workflow's file names, filled with the sample exports.
    let org = dir.join("org");
    fs::create_dir_all(org.join("exports")).expect("mkdir");
    fs::copy(
        dir.join("inventory/teams.yaml"),
        org.join("inventory-teams.yaml"),
    )
    .expect("copy");
    fs::create_dir_all(org.join("inventory")).expect("mkdir");
    fs::rename(
        org.join("inventory-teams.yaml"),
        org.join("inventory/teams.yaml"),
    )
    .expect("mv");
    copy_dir(&dir.join("policies"), &org.join("policies"));
    for (from, to) in [
        ("exports/hr/workers.csv", "exports/workers.csv"),
        ("exports/okta/users.json", "exports/okta-1.json"),
        (
            "exports/snipe-it/hardware.json",
            "exports/snipe-hardware.json",
        ),
        ("exports/snipe-it/users.json", "exports/snipe-users.json"),
        (
            "exports/intune/managed-devices.json",
            "exports/intune-1.json",
        ),
    ] {
        fs::copy(dir.join(from), org.join(to)).expect("copy");
    }
    // The sample's HR export is the canonical CSV; the workflow's is a
    // Workday report with its map, so the map is used on the report.
    fs::copy(
        dir.join("exports/hr/workday-raas.csv"),
        org.join("exports/workers.csv"),
    )
    .expect("copy");
    fs::copy(
        dir.join("exports/hr/workday-columns.yaml"),
        org.join("workday-columns.yaml"),
    )
    .expect("copy");
    let commands = workflow_imports();
    assert_eq!(commands.len(), 4, "{commands:?}");
    let night = |observed: &str| {
        for command in &commands {
            let line = command
                .replace("\"$NOW\"", observed)
                .replace(
                    "--in \"${files[@]}\" --observed-at",
                    "--in FILES --observed-at",
                )
                .replacen(
                    "FILES",
                    if command.contains("okta") {
                        "exports/okta-1.json"
                    } else {
                        "exports/intune-1.json"
                    },
                    1,
                );
            assert!(!line.contains('$'), "unsubstituted variable in `{line}`");
            let args: Vec<&str> = line.split_whitespace().skip(1).collect();
            let run = run_in(&org, &args);
            assert_eq!(run.code, 0, "`{line}`\n{}", run.transcript());
        }
    };
    night(OBSERVED);
    let validate = run_in(&org, &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.transcript());
    git(&org, &["init", "-q", "-b", "main"]);
    git(&org, &["add", "inventory", "policies"]);
    git(&org, &["commit", "-qm", "first import"]);

    // The next night Okta deactivates Lena Fischer's account (she left).
    let path = org.join("exports/okta-1.json");
    let mut users: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    for user in users.as_array_mut().expect("a list") {
        if user["profile"]["login"] == "lena.fischer@kestrel.example" {
            user["status"] = "DEPROVISIONED".into();
        }
    }
    fs::write(&path, serde_json::to_string_pretty(&users).expect("json")).expect("write");
    git(&org, &["switch", "-q", "-c", "severance/nightly-import"]);
    night("2026-11-25T04:23:00Z");
    git(&org, &["add", "inventory"]);
    git(&org, &["commit", "-qm", "nightly import"]);
    let changed = git(&org, &["diff", "--stat", "main"]);
    assert!(
        changed.contains("inventory/imported/okta/accounts.yaml"),
        "{changed}"
    );
    assert!(
        !changed.contains("people.yaml"),
        "an unchanged export changed people: {changed}"
    );
    let diff = run_in(
        &org,
        &["diff", "--base", "main", "--as-of", "2026-11-25T09:00:00Z"],
    );
    insta::assert_snapshot!(diff.transcript());

    // Merged: the plan is recorded in a signed ledger, which verifies.
    git(&org, &["switch", "-q", "main"]);
    git(
        &org,
        &["merge", "-q", "--ff-only", "severance/nightly-import"],
    );
    let keygen = run_in(
        &org,
        &[
            "keygen",
            "--name",
            "ledger.kestrel.example/offboarding",
            "--out",
            "ledger.key",
        ],
    );
    assert_eq!(keygen.code, 0, "{}", keygen.transcript());
    let plan = run_in(
        &org,
        &[
            "plan",
            "--as-of",
            "2026-11-25T09:00:00Z",
            "--ledger",
            "ledger",
            "--key",
            "ledger.key",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let verify = run_in(
        &org,
        &[
            "ledger",
            "verify",
            "--ledger",
            "ledger",
            "--vkey",
            "ledger.key.pub",
        ],
    );
    assert_eq!(verify.code, 0, "{}", verify.transcript());
}

/// Records of a YAML inventory file, as JSON.
fn records(path: &Path) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(path).expect("read");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
    doc.as_array().cloned().unwrap_or_default()
}

/// Shipped records of the cloud and code-hosting exports and the records
/// their imports write, which carry the source's own ids: an IAM user's
/// account number and name, a key's id, a GitHub member's or token's
/// numeric id. The AWS export is imported as the system `aws-prod`, the
/// shipped sample's name for that account.
const CLOUD_STAND_INS: &[(&str, &str)] = &[
    (
        "account/aws-prod/mbell",
        "account/aws-prod/123456789012/mbell",
    ),
    (
        "account/aws-prod/root-breakglass",
        "account/aws-prod/123456789012/root",
    ),
    (
        "cred/aws/AKIA-BATCH-7QX",
        "credential/aws-prod/AKIADYSIG4AUH7ES67QX",
    ),
    ("account/github/dwhitfield", "account/github/48213377"),
    ("cred/github/pat-release", "credential/github/pat/4412907"),
    ("cred/github/pat-gitstats", "credential/github/pat/4201558"),
    (
        "cred/github/deploy-key-infra",
        "credential/github/deploy-key/98765432",
    ),
];

/// Records the imports write that the hand-written sample never listed:
/// the IAM users behind keys (two of them the technical side of the
/// sample's hand-written service accounts) with their other keys, and the
/// release bot's GitHub account. Each must be retained, so that they change
/// nothing the sample decides.
const IMPORTED_ONLY: &[&str] = &[
    "account/aws-prod/123456789012/batch-runner",
    "account/aws-prod/123456789012/ledger-sync",
    "account/aws-prod/123456789012/payments-reconciler",
    "credential/aws-prod/AKIA7REYSNJVBCNSGJKE",
    "credential/aws-prod/AKIALGXBRSWQU5UATUXX",
    "credential/aws-prod/AKIANQWEGWCZ4FXC6NPC",
    "account/github/119274510",
];

/// Every YAML file a person wrote under `dir`: all but the importers'.
fn hand_written(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if path.file_name() != Some("imported".as_ref()) {
                files.extend(hand_written(&path));
            }
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Takes the shipped records that imports stand for out of the
/// hand-written files of `inventory`, and points every link to one at the
/// import's id, as a person adopting the importers would. A file is
/// rewritten as JSON (which YAML reads) only when it changed, and removed
/// when nothing is left in it. Every shipped record must be found once, so
/// that a renamed or removed sample record fails here and not as a
/// puzzling difference of decisions.
fn stand_in(inventory: &Path, renamed: &BTreeMap<String, String>) {
    fn relink(value: &mut serde_json::Value, renamed: &BTreeMap<String, String>) {
        match value {
            serde_json::Value::String(s) => {
                if let Some(new) = renamed.get(s.as_str()) {
                    s.clone_from(new);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| relink(v, renamed)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| relink(v, renamed)),
            _ => {}
        }
    }
    let mut removed = Vec::new();
    for file in hand_written(inventory) {
        let text = fs::read_to_string(&file).expect("read");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let mut new = doc.clone();
        if let serde_json::Value::Array(items) = &mut new {
            items.retain(|r| match r["id"].as_str() {
                Some(id) if renamed.contains_key(id) => {
                    removed.push(id.to_string());
                    false
                }
                _ => true,
            });
        }
        relink(&mut new, renamed);
        if new.as_array().is_some_and(Vec::is_empty) {
            fs::remove_file(&file).expect("rm");
        } else if new != doc {
            fs::write(&file, serde_json::to_string_pretty(&new).expect("json")).expect("write");
        }
    }
    removed.sort();
    assert_eq!(
        removed,
        renamed.keys().cloned().collect::<Vec<_>>(),
        "each shipped record is taken out once"
    );
}

/// The sample exports, imported and completed with the curated facts of
/// `examples/exports/curated.yaml`, stand in for the people, Okta accounts,
/// devices, AWS IAM users and keys, and GitHub accounts, tokens and deploy
/// key of the shipped inventory: every decision comes out the same. The
/// imports name accounts and credentials by the source's ids, so each
/// shipped one is paired with its import (Okta accounts by login, or
/// without one by person and status; the others by the table above), and
/// the hand-written records that link them follow.
///
/// What stays hand-written, because no export carries it: the non-human
/// identities, workloads, certificates, SSH keys and local and SaaS
/// accounts; the grants and the kiosk's enrollment token, which only the
/// Baton sample carries, over accounts that are the Okta import's again
/// (importing both would list every such account twice); and the GCP
/// billing-export key, which `gcp-keys` could import but whose decision
/// (rotate and hand over, because automation used it in the last 30 days)
/// rests on a last use the key list does not report and no curator can
/// honestly supply.
#[test]
fn the_sample_exports_round_trip_to_the_sample_decisions() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    let inventory = dir.join("inventory");
    fs::remove_dir_all(inventory.join("people")).expect("rm");
    fs::remove_dir_all(inventory.join("devices")).expect("rm");
    for args in [
        &["hr-csv", "--in", "exports/hr/workers.csv"][..],
        &["okta", "--in", "exports/okta/users.json"],
        &[
            "snipe-it",
            "--in",
            "exports/snipe-it/hardware.json",
            "exports/snipe-it/users.json",
            "--time-zone",
            "Europe/London",
        ],
        &["intune", "--in", "exports/intune/managed-devices.json"],
        &["jamf", "--in", "exports/jamf/computers-inventory.json"],
        &[
            "aws-iam",
            "--system",
            "aws-prod",
            "--in",
            "exports/aws/credential-report.csv",
            "exports/aws/list-access-keys.json",
            "exports/aws/access-key-last-used.json",
        ],
        &[
            "github",
            "--in",
            "exports/github/members.json",
            "exports/github/personal-access-tokens.json",
            "exports/github/deploy-keys.json",
        ],
    ] {
        let run = scratch.import(args);
        assert_eq!(run.code, 0, "{args:?}\n{}", run.transcript());
    }
    fs::copy(
        dir.join("exports/curated.yaml"),
        inventory.join("curated.yaml"),
    )
    .expect("copy");

    let shipped = records(&repo().join("inventory/accounts/okta.yaml"));
    let imported = records(&inventory.join("imported/okta/accounts.yaml"));
    let mut renamed = BTreeMap::new();
    for old in &shipped {
        let same = |new: &&serde_json::Value| match old.get("login") {
            Some(login) => new.get("login") == Some(login),
            None => match old.get("principal") {
                Some(p) => new.get("principal") == Some(p) && new["status"] == old["status"],
                None => new.get("principal").is_none() && new.get("suspected_principal").is_none(),
            },
        };
        let found: Vec<&serde_json::Value> = imported.iter().filter(same).collect();
        assert_eq!(found.len(), 1, "one import of {}: {found:?}", old["id"]);
        renamed.insert(
            old["id"].as_str().expect("id").to_string(),
            found[0]["id"].as_str().expect("id").to_string(),
        );
    }
    renamed.extend(
        CLOUD_STAND_INS
            .iter()
            .map(|(old, new)| (old.to_string(), new.to_string())),
    );
    stand_in(&inventory, &renamed);

    // Both sides are judged by the pack without its reconciliation
    // policies: the imports carry observations (`sources`) that the typed
    // sample does not, and reconciling them adds what only observations can
    // show (tests/cli/reconcile.rs covers that); what must round-trip is
    // the facts.
    let facts_only = dir.join("policies-facts");
    copy_dir(&repo().join("policies"), &facts_only);
    fs::remove_file(facts_only.join("reconcile.cedar")).expect("rm");
    let facts_only = facts_only.to_string_lossy().into_owned();
    let plan = |dir: &Path| -> BTreeMap<String, serde_json::Value> {
        let run = run_in(
            dir,
            &[
                "plan",
                "--as-of",
                "2026-11-25T09:00:00Z",
                "--format",
                "json",
                "--policies",
                &facts_only,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.transcript());
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        doc["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .map(|d| {
                let mut d = d.clone();
                let subject = d["subject"].as_str().expect("subject").to_string();
                let obj = d.as_object_mut().expect("object");
                for where_ in ["subject", "file", "line", "column"] {
                    obj.remove(where_);
                }
                (renamed.get(&subject).cloned().unwrap_or(subject), d)
            })
            .collect()
    };
    let want = plan(&repo());
    let mut got = plan(dir);
    for id in IMPORTED_ONLY {
        let mut decision = got.remove(*id).unwrap_or_else(|| panic!("{id} is decided"));
        decision.as_object_mut().expect("object").remove("kind");
        let retained = serde_json::json!({
            "status": "ok", "actions": [], "blocked": [], "constraints": [],
            "leaver": null, "due": null, "reasons": [], "errors": [],
        });
        assert_eq!(decision, retained, "{id} is retained");
    }
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "the same records are decided"
    );
    for (subject, decision) in &want {
        assert_eq!(&got[subject], decision, "{subject}");
    }
}

#[test]
fn refuse_an_inventory_that_cannot_be_read_for_joins() {
    let scratch = Scratch::new();
    fs::write(
        scratch.path().join("inventory/broken.yaml"),
        "- kind: person\n  id: [unclosed\n",
    )
    .expect("write");
    let run = scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("error[join-unreadable]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("inventory/broken.yaml"),
        "{}",
        run.stderr
    );
    assert!(!scratch.path().join("out").exists());
}

/// A person removes a record the source stopped returning by deleting its
/// block from the importer's file; the next import keeps it removed.
#[test]
fn a_record_a_person_removed_stays_removed() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    scratch.import(&["okta", "--in", "exports/okta/users.json", "--out", "out"]);
    let path = dir.join("exports/okta/users.json");
    let users: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    let mut list = users.as_array().expect("a list").clone();
    let gone = list.remove(0);
    let id = format!("account/okta/{}", gone["id"].as_str().expect("an id"));
    fs::write(&path, serde_json::to_string_pretty(&list).expect("json")).expect("write");
    let marked = scratch.import(&[
        "okta",
        "--in",
        "exports/okta/users.json",
        "--out",
        "out",
        "--observed-at",
        "2026-11-25T06:00:00Z",
    ]);
    assert!(
        marked.stdout.contains(&format!("missing: {id}")),
        "{}",
        marked.stdout
    );
    // The reviewed removal: the block goes, the header stays.
    let accounts = dir.join("out/accounts.yaml");
    let text = fs::read_to_string(&accounts).expect("read");
    let kept: Vec<&str> = text
        .split("\n- ")
        .filter(|b| !b.contains(&format!("id: {id}\n")))
        .collect();
    fs::write(&accounts, kept.join("\n- ")).expect("write");
    let again = scratch.import(&[
        "okta",
        "--in",
        "exports/okta/users.json",
        "--out",
        "out",
        "--observed-at",
        "2026-11-26T06:00:00Z",
    ]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(!again.stdout.contains("missing:"), "{}", again.stdout);
    assert!(
        !fs::read_to_string(&accounts).expect("read").contains(&id),
        "the removed record came back"
    );
}
