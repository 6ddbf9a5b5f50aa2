//! The pull-request workflow end to end: a temporary git repository holding
//! the sample organisation, a base commit, and a head commit in which an
//! engineer is terminated. `diff` and `check --base` must read both commits
//! from git without touching the working tree, and every report format must
//! say the same thing.

use std::path::Path;
use std::process::Command;

use crate::harness::{AS_OF, Run, repo, run_in, scratch};

/// Runs git with a fixed identity and clock, so commit ids are the same on
/// every machine and every run.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-11-20T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-20T12:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git output is UTF-8")
}

const GRACE_ACTIVE: &str =
    "  team: team/platform\n  status: active\n  employments:\n    - start: 2018-04-03\n";
const GRACE_TERMINATED: &str = "  team: team/platform\n  status: terminated\n  employments:\n    - start: 2018-04-03\n      termination: {effective: 2026-11-24, reason_category: voluntary}\n";

/// A repository with the sample at `base` and Grace Okafor (a platform
/// engineer who owns service accounts, a release bot and a signing secret,
/// sponsors a contractor and owns a waiver) terminated at `head`.
pub fn pull_request() -> tempfile::TempDir {
    let dir = scratch(&repo().join("inventory"));
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    terminate_grace(root);
    git(root, &["commit", "-q", "-am", "terminate Grace Okafor"]);
    dir
}

/// Terminates Grace Okafor in the working tree's copy of the sample.
pub fn terminate_grace(root: &Path) {
    let people = root.join("inventory/people/employees.yaml");
    let text = std::fs::read_to_string(&people).expect("read people");
    let grace = text
        .find("id: person/E1010\n")
        .expect("Grace is in the sample");
    let (before, after) = text.split_at(grace);
    assert!(
        after.contains(&format!("\"E1010\"\n{GRACE_ACTIVE}")),
        "Grace's record is as expected"
    );
    let edited = format!(
        "{before}{}",
        after.replacen(GRACE_ACTIVE, GRACE_TERMINATED, 1)
    );
    std::fs::write(&people, edited).expect("write people");
}

pub fn check(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check", "--as-of", AS_OF, "--base", "HEAD~1", "--head", "HEAD",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// A JSON finding in one line: severity, code, record (when asked) and place.
fn finding_line(f: &serde_json::Value, with_subject: bool) -> String {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut parts = vec![text(&f["severity"]), text(&f["code"])];
    if with_subject {
        parts.push(text(&f["subject"]));
    }
    parts.push(format!(
        "{}:{}",
        text(&f["place"]["path"]),
        f["place"]["line"]
    ));
    parts.join(" ")
}

/// How many findings of a JSON check report are waived.
fn waived_count(doc: &serde_json::Value) -> usize {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["waived_by"].is_null())
        .count()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn diff_names_every_changed_decision_and_its_cause() {
    let pr = pull_request();
    let human = run_in(
        pr.path(),
        &[
            "diff", "--as-of", AS_OF, "--base", "HEAD~1", "--head", "HEAD",
        ],
    );
    assert_eq!(human.code, 0, "{}", human.stderr);
    insta::assert_snapshot!("gitops_diff_human", human.transcript());

    let markdown = run_in(
        pr.path(),
        &[
            "diff", "--as-of", AS_OF, "--base", "HEAD~1", "--format", "markdown",
        ],
    );
    insta::assert_snapshot!("gitops_diff_markdown", markdown.transcript());

    let doc = json(
        &run_in(
            pr.path(),
            &[
                "diff", "--as-of", AS_OF, "--base", "HEAD~1", "--format", "json",
            ],
        )
        .stdout,
    );
    assert_eq!(doc["schema_version"], 2);
    let changes: Vec<(String, String)> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let actions = |side: &serde_json::Value| {
                side["actions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            (
                c["subject"].as_str().unwrap_or_default().to_string(),
                format!("{} -> {}", actions(&c["before"]), actions(&c["after"])),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            // The backup owner's departure leaves the identity without a
            // successor: its credentials are reviewed with it.
            (
                "cred/gcp/sa-billing-export-key".to_string(),
                "rotate,transfer -> rotate,transfer,review".to_string()
            ),
            (
                "cred/github/pat-release".to_string(),
                "rotate,transfer -> rotate,transfer,review".to_string()
            ),
            (
                "cred/vault/payments-signing-secret".to_string(),
                "rotate -> revoke,rotate".to_string()
            ),
            (
                "nhi/gcp/sa-billing-export".to_string(),
                "rotate,transfer -> rotate,review".to_string()
            ),
            (
                "nhi/github/release-bot".to_string(),
                " -> review".to_string()
            ),
            (
                "workload/gcp/billing-export".to_string(),
                " -> transfer".to_string()
            ),
        ]
    );
    for change in doc["changes"].as_array().expect("changes") {
        let causes = change["causes"].as_array().expect("causes");
        assert!(
            causes.iter().any(|c| c["id"] == "person/E1010"
                && c["change"] == "edited"
                && c["place"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("inventory/people/employees.yaml:"))),
            "{change}"
        );
    }
}

#[test]
fn check_marks_what_the_change_introduced_and_fails_on_it() {
    let pr = pull_request();
    let human = check(pr.path(), &[]);
    assert_eq!(human.code, 1, "{}", human.stderr);
    let tail: Vec<&str> = human.stdout.lines().rev().take(1).collect();
    insta::assert_snapshot!("gitops_check_summary", tail.join("\n"));

    let doc = json(&check(pr.path(), &["--format", "json"]).stdout);
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["base"]["label"], "HEAD~1");
    let new: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["new"] == true)
        .map(|f| finding_line(f, true))
        .collect();
    assert_eq!(
        new,
        [
            // The identity lost its successor, so its key is reviewed too,
            // due a day after the identity's owner left: long past.
            "error action-overdue cred/gcp/sa-billing-export-key inventory/credentials/keys.yaml:21",
            "error credential-owner-terminated cred/vault/payments-signing-secret inventory/credentials/keys.yaml:64",
            "error nhi-owner-terminated nhi/github/release-bot inventory/nhi/service-accounts.yaml:6",
            "error action-overdue nhi/gcp/sa-billing-export inventory/nhi/service-accounts.yaml:10",
            "error nhi-backup-owner-missing nhi/gcp/sa-billing-export inventory/nhi/service-accounts.yaml:15",
            "error nhi-owner-terminated nhi/okta/provisioning-svc inventory/nhi/service-accounts.yaml:45",
            "error contractor-sponsor-missing person/E1004 inventory/people/contractors.yaml:7",
            // Grace owns one waiver and approved the other.
            "error waiver-owner-departed  inventory/waivers.yaml:7",
            "warning waiver-owner-departed  inventory/waivers.yaml:17",
            "error workload-owner-terminated workload/gcp/billing-export inventory/workloads/aws.yaml:24",
        ]
    );
    assert!(
        doc["diff"]["changes"]
            .as_array()
            .is_some_and(|c| c.len() == 6)
    );

    // The sample's waivers cover three findings, each still listed.
    let waived = waived_count(&doc);
    assert_eq!(waived, 3);
}

#[test]
fn every_report_format_comes_from_one_run() {
    let pr = pull_request();
    let out = pr.path().join("reports");
    std::fs::create_dir(&out).expect("mkdir");
    let run = check(
        pr.path(),
        &[
            "--format",
            "github",
            "--format",
            "json=reports/check.json",
            "--format",
            "sarif=reports/check.sarif",
            "--format",
            "junit=reports/check.xml",
            "--format",
            "markdown=reports/check.md",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Standard output holds only the annotations.
    assert!(
        run.stdout.lines().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("::error file=inventory/nhi/service-accounts.yaml,line=6,col=10,")
    );
    // GitHub shows 10 annotations of each level per step: no more are
    // written, and a last notice counts the findings left out.
    let findings =
        json(&std::fs::read_to_string(out.join("check.json")).expect("json"))["findings"]
            .as_array()
            .map_or(0, Vec::len);
    for level in ["::error ", "::warning ", "::notice "] {
        let n = run.stdout.lines().filter(|l| l.starts_with(level)).count();
        assert!(n <= 10, "{n} {level}annotations:\n{}", run.stdout);
    }
    let left_out: usize = run
        .stdout
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("::notice title="))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a last notice counts the findings left out");
    assert_eq!(left_out + run.stdout.lines().count() - 1, findings);

    // SARIF 2.1.0, checked against the OASIS schema.
    let sarif = json(&std::fs::read_to_string(out.join("check.sarif")).expect("sarif"));
    let schema = crate::sarif_schema::oasis_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let check_doc = json(&std::fs::read_to_string(out.join("check.json")).expect("json"));
    assert_eq!(
        results.len(),
        check_doc["findings"].as_array().map_or(0, Vec::len)
    );
    for r in results {
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
            "{r}"
        );
        assert!(r["partialFingerprints"]["severance/v1"].is_string());
    }

    // JUnit: well-formed, one failure per failing record.
    let junit = std::fs::read_to_string(out.join("check.xml")).expect("junit");
    let mut reader = quick_xml::Reader::from_str(&junit);
    let mut failures = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == "failure" =>
            {
                failures += 1;
            }
            _ => {}
        }
    }
    assert!(failures > 0);

    let markdown = std::fs::read_to_string(out.join("check.md")).expect("markdown");
    assert!(markdown.starts_with("### ❌ severance check\n"));
    assert!(
        markdown.contains(
            "| `nhi/github/release-bot` | retain | **review due 2026-11-26T00:00:00Z** |"
        ),
        "{markdown}"
    );
}

#[test]
fn the_working_tree_and_index_are_never_touched() {
    let pr = pull_request();
    let root = pr.path();
    // An uncommitted edit and a staged file must survive and be ignored at HEAD.
    let scratch_file = root.join("inventory/scratch.yaml");
    std::fs::write(&scratch_file, "this: [is not valid\n").expect("write");
    git(root, &["add", "inventory/scratch.yaml"]);
    let status = git(root, &["status", "--porcelain"]);
    let index = std::fs::read(root.join(".git/index")).expect("index");

    let at_head = check(root, &["--format", "json"]);
    assert_eq!(at_head.code, 1, "HEAD is read from git: {}", at_head.stderr);

    // The working tree itself has the broken file: exit 2, never masked.
    let worktree = run_in(
        root,
        &[
            "check",
            "--as-of",
            AS_OF,
            "--base",
            "HEAD",
            "--fail-on",
            "warning",
        ],
    );
    assert_eq!(worktree.code, 2, "{}", worktree.stdout);
    assert!(
        worktree.stdout.contains("inventory/scratch.yaml:1:"),
        "{}",
        worktree.stdout
    );

    assert_eq!(git(root, &["status", "--porcelain"]), status);
    assert_eq!(
        std::fs::read(root.join(".git/index")).expect("index"),
        index
    );
}

#[test]
fn a_revision_that_does_not_exist_cannot_be_evaluated() {
    let pr = pull_request();
    let run = run_in(
        pr.path(),
        &["check", "--as-of", AS_OF, "--base", "no-such-branch"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("`no-such-branch`"), "{}", run.stderr);
}

#[test]
fn expired_and_unmatched_waivers_are_findings() {
    let pr = pull_request();
    let root = pr.path();
    let waivers = root.join("inventory/waivers.yaml");
    let text = std::fs::read_to_string(&waivers).expect("waivers");
    let edited = text
        .replace("expires: 2027-01-15", "expires: 2026-11-01")
        .replace(
            "records: [nhi/github/release-bot]",
            "records: [nhi/github/release-bot, nhi/aws/ledger-sync]",
        );
    std::fs::write(&waivers, edited).expect("write");
    let run = run_in(root, &["check", "--as-of", AS_OF, "--format", "json"]);
    let doc = json(&run.stdout);
    let waiver_findings: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["origin"] == "waiver")
        .map(|f| finding_line(f, false))
        .collect();
    assert_eq!(
        waiver_findings,
        [
            "error waiver-owner-departed inventory/waivers.yaml:7",
            "warning waiver-unmatched inventory/waivers.yaml:9",
            "error waiver-expired inventory/waivers.yaml:28",
        ]
    );
    // The expired waiver no longer covers its findings.
    let waived = waived_count(&doc);
    assert_eq!(waived, 1);

    // Against the base, both waivers are marked as edited by the change.
    let against = json(
        &run_in(
            root,
            &[
                "check", "--as-of", AS_OF, "--base", "HEAD", "--format", "json",
            ],
        )
        .stdout,
    );
    let changes: Vec<(&str, &str)> = against["waivers"]
        .as_array()
        .expect("waivers")
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap_or_default(),
                w["change"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("waiver/release-bot-single-owner", "edited"),
            ("waiver/vault-managed-secrets", "edited"),
        ]
    );
}

#[test]
fn waivers_cannot_be_written_inline() {
    let pr = pull_request();
    let root = pr.path();
    let path = root.join("inventory/nhi/service-accounts.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen(
            "  id: nhi/aws/ledger-sync\n",
            "  id: nhi/aws/ledger-sync\n  waiver: nhi-owner-terminated\n",
            1,
        ),
    )
    .expect("write");
    let run = run_in(root, &["check", "--as-of", AS_OF]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("gitops_inline_waiver", run.transcript());
}

/// Every string of a YAML document that is a `severance` command line.
fn commands_in(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s)
            if ["check", "validate", "diff", "plan"]
                .iter()
                .any(|c| s.trim_start().starts_with(&format!("severance {c}"))) =>
        {
            out.push(s.trim().to_string());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| commands_in(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| commands_in(v, out)),
        _ => {}
    }
}

#[test]
fn the_ci_examples_run_as_written() {
    let mut found = Vec::new();
    for file in [
        "examples/github-actions.yml",
        "examples/gitlab-ci.yml",
        ".pre-commit-hooks.yaml",
    ] {
        let text = std::fs::read_to_string(repo().join(file)).expect("example exists");
        let doc: serde_json::Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file} is YAML: {e}"));
        let mut commands = Vec::new();
        commands_in(&doc, &mut commands);
        assert!(!commands.is_empty(), "{file} runs severance");
        for command in commands {
            found.push((file, command));
        }
    }
    // pre-commit's own config names the hooks the repository provides.
    let config: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("examples/pre-commit-config.yaml")).expect("exists"),
    )
    .expect("YAML");
    let hooks: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).expect("exists"),
    )
    .expect("YAML");
    for hook in config["repos"][0]["hooks"].as_array().expect("hooks") {
        assert!(
            hooks
                .as_array()
                .expect("hook list")
                .iter()
                .any(|h| h["id"] == hook["id"]),
            "{hook}"
        );
    }

    for (file, command) in found {
        let pr = pull_request();
        // CI variables name the base branch; here it is the commit before HEAD.
        let line = command
            .replace("\"origin/$GITHUB_BASE_REF\"", "HEAD~1")
            .replace("\"origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\"", "HEAD~1");
        assert!(
            !line.contains('$'),
            "{file}: unsubstituted variable in `{line}`"
        );
        let mut args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let validate = args.first() == Some(&"validate");
        if !validate {
            args.extend(["--as-of", AS_OF]);
        }
        let run = run_in(pr.path(), &args);
        // Even the pre-commit hook (`--only-new`, comparing with HEAD)
        // fails here: the waiver Grace owned has nobody to carry it now.
        let expected = if validate { 0 } else { 1 };
        assert_eq!(run.code, expected, "{file}: `{line}`\n{}", run.stderr);
        for target in args
            .iter()
            .filter_map(|a| a.split_once('=').map(|(_, p)| p))
        {
            assert!(
                pr.path().join(target).is_file(),
                "{file}: `{line}` wrote {target}"
            );
        }
    }
}

/// The CI examples install a pinned release, this one, cached under a key
/// that names it; GitLab's Rust image is the release's `rust-version`.
#[test]
fn the_ci_examples_pin_this_release_and_cache_it() {
    let release = format!("v{}", env!("CARGO_PKG_VERSION"));
    for file in ["examples/github-actions.yml", "examples/gitlab-ci.yml"] {
        let text = std::fs::read_to_string(repo().join(file)).expect("example exists");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let (variables, cache_key) = if file.contains("github") {
            let steps = doc["jobs"]["check"]["steps"].as_array().expect("steps");
            let restore = steps
                .iter()
                .find(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("actions/cache/restore@"))
                })
                .expect("a cache restore step");
            (&doc["env"], restore["with"]["key"].clone())
        } else {
            let job = &doc["severance-check"];
            assert_eq!(
                job["variables"]["RUST_VERSION"],
                env!("CARGO_PKG_RUST_VERSION"),
                "{file}"
            );
            assert_eq!(job["image"], "rust:$RUST_VERSION", "{file}");
            (&job["variables"], job["cache"]["key"].clone())
        };
        assert_eq!(variables["SEVERANCE_VERSION"], release.as_str(), "{file}");
        assert!(
            cache_key
                .as_str()
                .is_some_and(|k| k.contains("SEVERANCE_VERSION")),
            "{file}: {cache_key}"
        );
        assert!(
            text.contains(
                "cargo install --locked --git \"$SEVERANCE_GIT\" --tag \"$SEVERANCE_VERSION\""
            ),
            "{file}"
        );
    }
}

#[test]
fn only_new_findings_fail_when_asked() {
    let pr = pull_request();
    // The change introduces an error: it fails either way.
    assert_eq!(check(pr.path(), &["--only-new"]).code, 1);
    // A change that introduces nothing passes with --only-new, although the
    // inventory it leaves has errors.
    let unchanged = |extra: &[&str]| {
        let mut args = vec![
            "check", "--as-of", AS_OF, "--base", "HEAD~1", "--head", "HEAD~1",
        ];
        args.extend_from_slice(extra);
        run_in(pr.path(), &args)
    };
    assert_eq!(unchanged(&[]).code, 1);
    let run = unchanged(&["--only-new", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["summary"]["new"], 0);
    // --only-new without a base is a usage error.
    assert_eq!(run_in(pr.path(), &["check", "--only-new"]).code, 2);
}

#[test]
fn a_diff_needs_both_sides_to_validate() {
    let pr = pull_request();
    let root = pr.path();
    std::fs::write(root.join("inventory/broken.yaml"), "- {kind: team, id: [\n").expect("write");
    let run = run_in(root, &["diff", "--as-of", AS_OF, "--base", "HEAD"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    insta::assert_snapshot!("gitops_diff_invalid_head", run.stderr);
}

#[test]
fn github_format_appends_the_job_summary() {
    let pr = pull_request();
    let summary = pr.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_severance"))
        .args([
            "check", "--as-of", AS_OF, "--base", "HEAD~1", "--head", "HEAD", "--format", "github",
        ])
        .current_dir(pr.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n### ❌ severance check\n"),
        "{text}"
    );
    assert!(text.contains("#### New findings (10)"), "{text}");
}

#[test]
fn tools_get_paths_from_the_repository_root() {
    let pr = pull_request();
    let inside = pr.path().join("inventory");
    let run = run_in(
        &inside,
        &[
            "check",
            "--as-of",
            AS_OF,
            "--inventory",
            ".",
            "--policies",
            "../policies",
            "--format",
            "github",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("::error file=inventory/accounts/okta.yaml,line=2,col=3,"),
        "{}",
        run.stdout
    );
}

/// The two commands of `.pre-commit-hooks.yaml`, as pre-commit runs them.
fn hook_commands() -> Vec<Vec<String>> {
    let hooks: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).expect("exists"),
    )
    .expect("YAML");
    hooks
        .as_array()
        .expect("hook list")
        .iter()
        .map(|h| {
            let entry = h["entry"].as_str().expect("entry");
            entry
                .split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Runs a hook's command, pinning the clock of `check`.
fn hook(dir: &Path, command: &[String]) -> Run {
    let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
    if args.first() == Some(&"check") {
        args.extend(["--as-of", AS_OF, "--format", "json"]);
    }
    run_in(dir, &args)
}

#[test]
fn the_hooks_pass_the_first_commit_of_a_new_repository() {
    let dir = scratch(&repo().join("inventory"));
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    let hooks = hook_commands();
    assert_eq!(hooks.len(), 2);
    let validate = hook(root, &hooks[0]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    // HEAD names no commit yet: the base is empty, so every finding is
    // new, and the sample's findings fail the commit as they should.
    let check = hook(root, &hooks[1]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let doc = json(&check.stdout);
    assert_eq!(
        doc["base"]["label"], "HEAD (no commit yet)",
        "{}",
        doc["base"]
    );
    let findings = doc["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["new"] == true));
    // Any other base that names no commit is still an error.
    let run = run_in(root, &["check", "--staged", "--base", "main~1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn the_hooks_judge_what_is_staged_not_the_files_beside_it() {
    let dir = scratch(&repo().join("inventory"));
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    let hooks = hook_commands();

    // A credential is staged whose owner exists only in an untracked file.
    let owner = "- kind: person\n  id: person/E7777\n  display_name: New Hire\n  employee_number: \"E7777\"\n  worker_type: employee\n  team: team/platform\n  status: active\n  employments:\n    - start: 2026-11-01\n";
    std::fs::write(root.join("inventory/people/untracked.yaml"), owner).expect("write");
    let credential = "- kind: credential\n  id: cred/ssh/new-hire\n  cred_type: ssh_key\n  owner: person/E7777\n  status: active\n";
    std::fs::write(root.join("inventory/credentials/staged.yaml"), credential).expect("write");
    git(root, &["add", "inventory/credentials/staged.yaml"]);

    // The working tree is whole, so reading it passes.
    let tree = run_in(root, &["validate"]);
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    // What is committed would not be: the link dangles there.
    let validate = hook(root, &hooks[0]);
    assert_eq!(validate.code, 2, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("error[dangling-link]")
            && validate.stderr.contains("person/E7777"),
        "{}",
        validate.stderr
    );
    let check = hook(root, &hooks[1]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert_eq!(json(&check.stdout)["head"]["label"], "index");

    // Staged together, they pass validation; an unstaged edit that would
    // break the file is not what is committed, so it changes nothing.
    git(root, &["add", "inventory/people/untracked.yaml"]);
    std::fs::write(
        root.join("inventory/credentials/staged.yaml"),
        "- {kind: [\n",
    )
    .expect("write");
    let validate = hook(root, &hooks[0]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert_eq!(run_in(root, &["validate"]).code, 2);
}

#[test]
fn a_hooks_index_is_read_only_in_the_hooks_repository() {
    // A hook sees GIT_INDEX_FILE (`git commit -a` hands it a temporary
    // index). It names the index of the repository the hook runs in; the
    // policies, kept in a repository of their own, are read from theirs.
    let dir = scratch(&repo().join("tests/fixtures/scenarios/s07-on-leave/inventory"));
    let root = dir.path();
    let policies = tempfile::tempdir().expect("tempdir");
    std::fs::rename(root.join("policies"), policies.path().join("policies")).expect("move");
    for repo in [root, policies.path()] {
        git(repo, &["init", "-q", "-b", "main"]);
        git(repo, &["add", "-A"]);
    }
    let policies_dir = policies.path().join("policies");
    // `validate --staged` as a hook runs it, handed `index`.
    let hook = |index: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_severance"))
            .args(["validate", "--staged", "--policies"])
            .arg(&policies_dir)
            .current_dir(root)
            .env("GIT_INDEX_FILE", index)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = hook(".git/index");
    assert_eq!(code, Some(0), "{stderr}");

    // The hook's own index is the one read for its repository: an index
    // that holds nothing makes the inventory empty.
    let empty = root.join(".git/empty-index");
    let status = Command::new("git")
        .args(["read-tree", "--empty"])
        .current_dir(root)
        .env("GIT_INDEX_FILE", &empty)
        .status()
        .expect("git runs");
    assert!(status.success());
    let (code, stderr) = hook(".git/empty-index");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("is not a directory in the index"),
        "{stderr}"
    );
}
