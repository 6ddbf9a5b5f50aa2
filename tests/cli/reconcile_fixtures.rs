//! The reconciliation fixture (`tests/fixtures/reconcile/`, described in
//! its README.md): a small synthetic organisation as vendor exports, one
//! planted discrepancy per code that the importers can produce and four
//! clean cases, imported through the real CLI into a scratch inventory with
//! pinned observation times, completed with its curated facts, and run
//! through `reconcile` (golden in every format, JSON against its schema),
//! `check` and `plan` at the pinned instant.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use severance::reconcile::DiscrepancyCode;

use crate::harness::{AS_OF, Run, copy_dir, repo, run_in};
use crate::report_schemas::{json, valid, validator};

/// When the nightly exports were taken.
const OBSERVED: &str = "2026-11-24T06:00:00Z";

/// The imports, people first (every other source joins them), each with
/// the time its export was taken. Okta is imported twice: the export of
/// the night before still returns Gus's account, the last one no longer
/// does (`ghost-record`). Google's export is five days old at `AS_OF`
/// (`stale-source`).
const IMPORTS: &[(&[&str], &str)] = &[
    (&["hr-csv", "--in", "exports/hr/workers.csv"], OBSERVED),
    (
        &["okta", "--in", "exports/okta/users-2026-11-23.json"],
        "2026-11-23T06:00:00Z",
    ),
    (
        &["okta", "--in", "exports/okta/users-2026-11-24.json"],
        OBSERVED,
    ),
    (
        &[
            "scim",
            "--system",
            "acme-crm",
            "--in",
            "exports/scim/users.json",
            "exports/scim/groups.json",
        ],
        OBSERVED,
    ),
    (
        &["google-workspace", "--in", "exports/google/users.json"],
        "2026-11-20T06:00:00Z",
    ),
    (
        &[
            "snipe-it",
            "--in",
            "exports/snipe-it/hardware.json",
            "exports/snipe-it/users.json",
            "--time-zone",
            "UTC",
        ],
        OBSERVED,
    ),
    (
        &["intune", "--in", "exports/intune/managed-devices.json"],
        OBSERVED,
    ),
    (
        &["jamf", "--in", "exports/jamf/computers-inventory.json"],
        OBSERVED,
    ),
    (
        &[
            "aws-iam",
            "--in",
            "exports/aws/credential-report.csv",
            "exports/aws/list-access-keys.json",
            "exports/aws/access-key-last-used.json",
        ],
        OBSERVED,
    ),
    (
        &[
            "gcp-keys",
            "--in",
            "exports/gcp/billing-sync-keys.json",
            "exports/gcp/ci-uploader-keys.json",
            "exports/gcp/report-exporter-keys.json",
        ],
        OBSERVED,
    ),
    (
        &[
            "github",
            "--in",
            "exports/github/members.json",
            "exports/github/personal-access-tokens.json",
            "exports/github/deploy-keys.json",
            "exports/github/installations.json",
        ],
        OBSERVED,
    ),
];

/// Each planted discrepancy and the record it is planted on (the
/// fixture's README.md says why each is what it is).
const PLANTED: &[(&str, &str)] = &[
    (
        "terminated-but-active",
        "account/okta/00uTessTerminatedActive",
    ),
    (
        "post-termination-activity",
        "account/okta/00uPaulPostTermination",
    ),
    ("pending-leaver", "person/E2005"),
    ("orphan-account", "account/okta/00uOrphanAccount"),
    ("dormant-account", "account/okta/00uDoraDormantAccount"),
    ("never-used-account", "account/okta/00uNellNeverUsed"),
    (
        "downstream-not-deprovisioned",
        "account/acme-crm/crm-user-dan-downstream",
    ),
    (
        "residual-entitlement",
        "grant/acme-crm/crm-group-admins/crm-user-rita-residual",
    ),
    (
        "authority-conflict",
        "account/okta/00uAlexAuthorityConflict",
    ),
    ("ambiguous-match", "account/okta/00uAmyAmbiguousMatch1"),
    ("ambiguous-match", "account/okta/00uAmyAmbiguousMatch2"),
    ("identifier-drift", "account/okta/00uIanIdentifierDrift"),
    (
        "unsponsored-external",
        "account/okta/00uUnsponsoredExternal",
    ),
    ("ownerless-nhi", "credential/gcp/key-owner-left"),
    ("unregistered-credential", "credential/gcp/key-unregistered"),
    ("stale-credential", "credential/github/pat/6100023"),
    ("unowned-integration", "nhi/github/app/7100001"),
    (
        "long-lived-credential",
        "credential/aws/AKIANWLONGLIVED00001",
    ),
    (
        "leaver-created-credential",
        "credential/gcp/key-created-by-leaver",
    ),
    ("unregistered-device", "device/serial/NWUNREGISTERED01"),
    ("unmanaged-device", "device/LAP-UNMANAGED"),
    ("assignment-mismatch", "device/LAP-MISMATCH"),
    ("unreturned-asset", "device/LAP-UNRETURNED"),
    ("device-not-checking-in", "device/MAC-NOT-CHECKING-IN"),
    ("personal-device-with-access", "device/PHN-PERSONAL"),
    ("retired-but-present", "device/LAP-RETIRED-PRESENT"),
    ("ghost-record", "account/okta/00uGusGhostRecord"),
    (
        "stale-source",
        "account/google/google-user-stan-stale-source",
    ),
];

/// Codes an import alone cannot produce: `revocation-drift` needs a ledger
/// with an execution that a later import contradicts, which the removal
/// loop of tests/cli/reconcile.rs produces.
const NOT_PRODUCIBLE: &[&str] = &["revocation-drift"];

/// The records of the four clean cases, which must carry no discrepancy.
const CLEAN: &[&str] = &[
    // An active employee present everywhere.
    "person/E2001",
    "account/okta/00uAdaPresentEverywhere",
    "account/acme-crm/crm-user-ada-present",
    "grant/acme-crm/crm-group-users/crm-user-ada-present",
    "account/github/5100001",
    "device/LAP-PRESENT",
    // Her CI app, installed in the organisation, whose owner is curated.
    "nhi/github/app/7100002",
    // A leaver fully removed everywhere.
    "person/E2002",
    "account/okta/00uLeeLeaverRemoved",
    "account/acme-crm/crm-user-lee-removed",
    "device/LAP-RETURNED",
    // A BYOD phone of an active person (Ada's).
    "device/intune/intune-phone-ada-byod",
    // A device in stock, not yet enrolled.
    "device/LAP-IN-STOCK",
];

/// A scratch directory with the default policies, the fixture's exports
/// under `exports/`, and `inventory/` built by importing every export and
/// copying the curated facts in.
fn organisation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = repo().join("tests/fixtures/reconcile");
    copy_dir(&repo().join("policies"), &dir.path().join("policies"));
    copy_dir(&fixture.join("exports"), &dir.path().join("exports"));
    fs::create_dir_all(dir.path().join("inventory")).expect("mkdir");
    for (args, observed) in IMPORTS {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--observed-at", observed]);
        let run = run_in(dir.path(), &all);
        assert_eq!(run.code, 0, "{all:?}\n{}", run.transcript());
        if *observed == OBSERVED && args[0] == "okta" {
            assert!(
                run.stdout
                    .contains("missing: account/okta/00uGusGhostRecord"),
                "{}",
                run.stdout
            );
        }
    }
    fs::copy(
        fixture.join("curated.yaml"),
        dir.path().join("inventory/curated.yaml"),
    )
    .expect("copy");
    dir
}

fn severance(dir: &tempfile::TempDir, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--as-of", AS_OF]);
    run_in(dir.path(), &all)
}

/// The codes docs/reconciliation.md documents, by their `#### `code``
/// headings: the ones reconciled here (the taxonomy's others are named
/// only in its prose).
fn documented_codes() -> BTreeSet<String> {
    let text = fs::read_to_string(repo().join("docs/reconciliation.md")).expect("docs");
    text.lines()
        .filter_map(|l| l.strip_prefix("#### `")?.strip_suffix('`'))
        .map(str::to_string)
        .collect()
}

/// Each record's discrepancies in a reconcile JSON report: (code, basis).
fn by_record(doc: &serde_json::Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for d in doc["discrepancies"].as_array().expect("discrepancies") {
        out.entry(d["subject"].as_str().expect("subject").to_string())
            .or_default()
            .push((
                d["code"].as_str().expect("code").to_string(),
                d["basis"].as_str().expect("basis").to_string(),
            ));
    }
    out
}

/// The report in a text format, golden.
fn golden(format: &str) -> String {
    let org = organisation();
    let out = severance(&org, &["reconcile", "--format", format]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    out.transcript()
}

#[test]
fn reconcile_fixtures_human() {
    insta::assert_snapshot!("reconcile_fixtures_human", golden("human"));
}

#[test]
fn reconcile_fixtures_markdown() {
    insta::assert_snapshot!("reconcile_fixtures_markdown", golden("markdown"));
}

/// Every code that can be produced is, on the record it was planted on,
/// and the clean cases produce nothing.
#[test]
fn reconcile_fixtures_json_has_every_code_and_nothing_on_the_clean_cases() {
    let org = organisation();
    let out = severance(&org, &["reconcile", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    insta::assert_snapshot!("reconcile_fixtures_json", out.transcript());
    let doc = json(&out.stdout);
    valid(&validator("reconcile-v1.schema.json"), &doc);

    let documented = documented_codes();
    let all: BTreeSet<String> = DiscrepancyCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(documented, all, "the docs document every code");
    let found = by_record(&doc);
    let mut codes: BTreeSet<&str> = found.values().flatten().map(|(c, _)| c.as_str()).collect();
    // An incomplete import is about a directory, not a record.
    codes.extend(
        doc["incomplete"]
            .as_array()
            .expect("incomplete")
            .iter()
            .filter_map(|i| i["code"].as_str()),
    );
    for code in &documented {
        if NOT_PRODUCIBLE.contains(&code.as_str()) {
            assert!(
                !codes.contains(code.as_str()),
                "{code} is produced after all"
            );
        } else {
            assert!(codes.contains(code.as_str()), "no `{code}` in the fixture");
        }
    }
    for (code, record) in PLANTED {
        assert!(
            found
                .get(*record)
                .is_some_and(|ds| ds.iter().any(|(c, _)| c == code)),
            "`{code}` is planted on `{record}`: {:?}",
            found.get(*record)
        );
    }
    for record in CLEAN {
        assert!(
            !found.contains_key(*record),
            "the clean `{record}` has {:?}",
            found[*record]
        );
    }
}

/// `check` shows each discrepancy as a finding of origin `reconciliation`.
#[test]
fn check_fixtures_shows_every_code_as_a_finding() {
    let org = organisation();
    let out = severance(&org, &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let doc = json(&out.stdout);
    let findings: BTreeSet<(&str, &str)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["origin"] == "reconciliation")
        .map(|f| {
            (
                f["code"].as_str().expect("code"),
                // An incomplete import is about a directory: no record.
                f["subject"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        findings.contains(&("incomplete-snapshot", "")),
        "no `incomplete-snapshot` finding: {findings:?}"
    );
    for (code, record) in PLANTED {
        assert!(
            findings.contains(&(*code, *record)),
            "no `{code}` finding on `{record}`"
        );
    }
}

/// The plan's decisions of the planted records, and no revoke by the
/// reconciliation pack on what is only suspected.
#[test]
fn plan_fixtures_acts_only_on_proven_discrepancies() {
    let org = organisation();
    let reconciled = severance(&org, &["reconcile", "--format", "json"]);
    assert_eq!(reconciled.code, 0, "{}", reconciled.transcript());
    let found = by_record(&json(&reconciled.stdout));
    let out = severance(&org, &["plan", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let plan = json(&out.stdout);
    let planted: BTreeSet<&str> = PLANTED.iter().map(|(_, r)| *r).collect();
    let mut decisions = Vec::new();
    let mut suspected = 0;
    for d in plan["decisions"].as_array().expect("decisions") {
        let subject = d["subject"].as_str().expect("subject");
        if let Some(ds) = found.get(subject)
            && ds.iter().all(|(_, basis)| basis != "proven")
        {
            suspected += 1;
            let revoked = d["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .any(|r| r["action"] == "revoke" && r["policy"] == "discrepancy-access-revoke");
            assert!(
                !revoked,
                "`{subject}` rests only on suspected discrepancies {ds:?}, yet: {d}"
            );
        }
        if planted.contains(subject) {
            let mut d = d.clone();
            let obj = d.as_object_mut().expect("object");
            for place in ["file", "line", "column"] {
                obj.remove(place);
            }
            decisions.push(d);
        }
    }
    assert!(
        suspected >= 2,
        "the fixture has suspected-only records to check"
    );
    assert_eq!(
        decisions.len(),
        planted.len() - 1,
        "every planted record but the person is decided"
    );
    insta::assert_snapshot!(
        "plan_fixtures_planted_decisions",
        serde_json::to_string_pretty(&decisions).expect("json")
    );
}
