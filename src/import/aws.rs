//! AWS IAM: the credential report (CSV, one row per IAM user and one for
//! the account's root), `aws iam list-access-keys` (JSON,
//! `{AccessKeyMetadata, IsTruncated}`) and `aws iam
//! get-access-key-last-used` responses gathered into a JSON list, each
//! with the `AccessKeyId` it was asked about (the response does not name
//! its key). The files are told apart by content, in any order.
//!
//! The report gives each user an account. IAM has no enabled flag: a user
//! is `enabled` while it can sign in or call the API (a password, an active
//! key or an active signing certificate). An IAM user does not say whether
//! a person or a program uses it, so every user is a `service` account
//! (curate a person's own IAM user in an `extends:` fragment); the root is a
//! privileged `system` account. The report names no key ids, so each key
//! of `list-access-keys` is a credential joined to its user's account by
//! `UserName`, and to the report's key slot by its `CreateDate` (the slot's
//! `last_rotated`). `N/A`, `no_information` and `not_supported` mean
//! unknown or never: they are never dates and never errors.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

use super::export::{At, Export, Row, Table, finding_at, parse_instant};
use super::{Context, Finding, ImportCode, Observed, secrets};
use crate::diag::{Span, did_you_mean};
use crate::model::Kind;

/// The credential report's columns, exactly as AWS writes them.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The report's words for "unknown" or "never": not dates, not errors.
const SENTINELS: &[&str] = &["N/A", "no_information", "not_supported"];

/// The report's name for the account's root user.
const ROOT: &str = "<root_account>";

/// What the report is the authority for, on an account.
const ACCOUNT_AUTHORITATIVE: &[&str] = &["status", "last_login"];

/// What IAM is the authority for, on a key.
const KEY_AUTHORITATIVE: &[&str] = &["status", "last_used", "issued_at"];

/// Access key statuses and the credential status each means.
const KEY_STATUSES: &[(&str, &str)] = &[
    ("Active", "active"),
    ("Inactive", "inactive"),
    ("Expired", "expired"),
];

/// One access-key slot of a report row.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    last_rotated: Option<Timestamp>,
    last_used: Option<Timestamp>,
}

/// A report row, as the keys join to it.
#[derive(Debug)]
struct User {
    account: String,
    slots: [Slot; 2],
}

/// What a JSON export is.
enum Json {
    Keys,
    LastUsed,
}

/// Reads credential reports, key lists and last-used lists.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let mut findings = Vec::new();
    let mut out = Vec::new();
    let mut users: HashMap<String, Vec<User>> = HashMap::new();
    let mut reports = 0usize;
    let mut report_refused = false;
    let mut parsed = Vec::new();
    for (index, export) in ctx.exports.iter().enumerate() {
        if is_json(export) {
            match export.json() {
                Ok(v) => {
                    secrets::scan_json(export, &v, &mut findings);
                    parsed.push((index, export, v));
                }
                Err(f) => findings.push(*f),
            }
            continue;
        }
        reports += 1;
        let before = findings.len();
        match Table::read(export) {
            Ok(table) => {
                secrets::scan_table(export, &table, &mut findings);
                match report(ctx, export, &table, index) {
                    Ok(rows) => {
                        for (observed, name, user) in rows {
                            out.push(observed);
                            users.entry(name).or_default().push(user);
                        }
                    }
                    Err(mut f) => findings.append(&mut f),
                }
            }
            Err(f) => findings.push(*f),
        }
        report_refused |= findings.len() > before;
    }

    let mut key_lists = Vec::new();
    let mut last_used: HashMap<String, Option<Timestamp>> = HashMap::new();
    let mut last_used_files = 0usize;
    for (index, export, value) in &parsed {
        let root = At::root(export, value);
        match classify(&root) {
            Ok(Json::Keys) => key_lists.push((*index, root)),
            Ok(Json::LastUsed) => {
                last_used_files += 1;
                if let Err(f) = read_last_used(&root, &mut last_used) {
                    findings.push(*f);
                }
            }
            Err(f) => findings.push(*f),
        }
    }
    if last_used_files > 0 && key_lists.is_empty() {
        findings.push(Finding::new(
            ImportCode::ExportShape,
            crate::diag::Severity::Error,
            "last-used entries were given without the `list-access-keys` responses they describe: pass those too",
        ));
    }

    // With no credential report there is nothing to bind keys to; with a
    // refused one, the bindings would only add noise to its refusals.
    let users = (reports > 0 && !report_refused).then_some(&users);
    for (index, root) in &key_lists {
        match root.bool("IsTruncated") {
            Ok(Some(true)) => findings.push(root.field_finding(
                "IsTruncated",
                ImportCode::ExportShape,
                "a truncated page: keys past it would be read as deleted; export with the CLI's own paging (no `--max-items`)",
            )),
            Ok(_) => {}
            Err(f) => findings.push(*f),
        }
        let keys = match root.child("AccessKeyMetadata") {
            Some(k) => k.items(),
            None => continue,
        };
        match keys {
            Ok(keys) => {
                for k in keys {
                    match key(ctx, users, &last_used, &k, *index) {
                        Ok(o) => out.push(o),
                        Err(f) => findings.push(*f),
                    }
                }
            }
            Err(f) => findings.push(*f),
        }
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// JSON begins with a brace or a bracket; the report begins with `user`.
fn is_json(export: &Export) -> bool {
    export.file.text.trim_start().starts_with(['{', '['])
}

fn classify(root: &At<'_>) -> Result<Json, Box<Finding>> {
    match root.value {
        Value::Object(m) if m.contains_key("AccessKeyMetadata") => Ok(Json::Keys),
        Value::Object(m) if m.contains_key("AccessKeyLastUsed") => Ok(Json::LastUsed),
        Value::Array(items)
            if items
                .first()
                .is_none_or(|i| i.get("AccessKeyLastUsed").is_some()) =>
        {
            Ok(Json::LastUsed)
        }
        Value::Object(m) if m.contains_key("Content") && m.contains_key("ReportFormat") => {
            Err(Box::new(root.finding(
                ImportCode::ExportShape,
                "a `get-credential-report` response: decode its base64 `Content` and pass the CSV",
            )))
        }
        _ => Err(Box::new(root.finding(
            ImportCode::ExportShape,
            "neither a `list-access-keys` response (`AccessKeyMetadata`) nor a list of `get-access-key-last-used` responses (`AccessKeyLastUsed`)",
        ))),
    }
}

/// Each report row's account, its user name, and what its keys join to.
fn report(
    ctx: &Context<'_>,
    export: &Export,
    table: &Table,
    index: usize,
) -> Result<Vec<(Observed, String, User)>, Vec<Finding>> {
    let columns = locate(export, table)?;
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for row in &table.rows {
        match report_row(ctx, export, row, &columns, index) {
            Ok(r) => rows.push(r),
            Err(f) => findings.push(*f),
        }
        if findings.len() >= 100 {
            break;
        }
    }
    if findings.is_empty() {
        Ok(rows)
    } else {
        Err(findings)
    }
}

/// Each column's position; every one of the 22 must be there.
fn locate(export: &Export, table: &Table) -> Result<HashMap<&'static str, usize>, Vec<Finding>> {
    let header = Span::at(
        &export.file,
        1,
        1,
        export.file.text.lines().next().map_or(0, str::len),
    );
    // A missing column is most likely misspelt as one the report should
    // not have, so only those are offered.
    let strangers: Vec<&str> = table
        .headers
        .iter()
        .map(String::as_str)
        .filter(|h| !COLUMNS.contains(h))
        .collect();
    let mut located = HashMap::new();
    let mut findings = Vec::new();
    for name in COLUMNS {
        match table.headers.iter().position(|h| h == name) {
            Some(i) => {
                located.insert(name, i);
            }
            None => {
                let hint = did_you_mean(name, strangers.iter().copied())
                    .map(|close| format!(" (did you mean `{close}`?)"))
                    .unwrap_or_default();
                findings.push(
                    finding_at(
                        ImportCode::MissingColumn,
                        header.clone(),
                        format!(
                            "`{}` has no column `{name}`{hint}: is it an IAM credential report?",
                            export.shown()
                        ),
                    )
                    .label("the header")
                    .help(
                        "the credential report has 22 fixed columns; pass the CSV `aws iam get-credential-report` returns, unedited",
                    ),
                );
            }
        }
    }
    if findings.is_empty() {
        Ok(located)
    } else {
        Err(findings)
    }
}

fn report_row(
    ctx: &Context<'_>,
    export: &Export,
    row: &Row,
    columns: &HashMap<&'static str, usize>,
    index: usize,
) -> Result<(Observed, String, User), Box<Finding>> {
    let file = &export.file;
    let line = row.line;
    let cell = |name: &str| -> (&str, usize) {
        let i = columns[name];
        (row.cells.get(i).map_or("", |c| c.trim()), i)
    };
    let known = |value: &str| !value.is_empty() && !SENTINELS.contains(&value);
    let flag = |name: &str| -> Result<Option<bool>, Box<Finding>> {
        let (value, i) = cell(name);
        if !known(value) {
            return Ok(None);
        }
        match value.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(Box::new(finding_at(
                ImportCode::UnknownValue,
                row.cell_span(file, i),
                format!(
                    "`{}` line {line}: `{name}` `{value}` is not `true`, `false` or one of the report's sentinels ({})",
                    export.shown(),
                    crate::model::quote_list(SENTINELS)
                ),
            ))),
        }
    };
    let time = |name: &str| -> Result<Option<Timestamp>, Box<Finding>> {
        let (value, i) = cell(name);
        if !known(value) {
            return Ok(None);
        }
        parse_instant(value).map(Some).ok_or_else(|| {
            Box::new(finding_at(
                ImportCode::InvalidDate,
                row.cell_span(file, i),
                format!(
                    "`{}` line {line}: `{name}` `{value}` is neither an ISO 8601 date-time nor one of the report's sentinels ({})",
                    export.shown(),
                    crate::model::quote_list(SENTINELS)
                ),
            ))
        })
    };
    let (user, _) = cell("user");
    let (arn, arn_at) = cell("arn");
    if user.is_empty() {
        return Err(Box::new(finding_at(
            ImportCode::ExportShape,
            row.span(file),
            format!("`{}` line {line}: the row has no `user`", export.shown()),
        )));
    }
    let account_id = arn_account(arn).ok_or_else(|| {
        Box::new(finding_at(
            ImportCode::ExportShape,
            row.cell_span(file, arn_at),
            format!(
                "`{}` line {line}: `{arn}` is not an IAM ARN (`arn:aws:iam::<account id>:user/<name>` or `:root`)",
                export.shown()
            ),
        ))
    })?;
    let root = user == ROOT;
    let names = [
        ("password", "password_enabled"),
        ("key1", "access_key_1_active"),
        ("key2", "access_key_2_active"),
        ("cert1", "cert_1_active"),
        ("cert2", "cert_2_active"),
    ];
    let mut flags = Vec::with_capacity(names.len());
    let mut raw = Vec::with_capacity(names.len());
    for (short, column) in names {
        flags.push(flag(column)?);
        raw.push(format!("{short}={}", cell(column).0));
    }
    // An unknown flag (the root's `password_enabled` is `not_supported`)
    // does not rule access out: only flags all false make it disabled.
    let status = if flags.contains(&Some(true)) || flags.contains(&None) {
        "enabled"
    } else {
        "disabled"
    };
    let id = format!(
        "account/{}/{account_id}/{}",
        ctx.system,
        if root { "root" } else { user }
    );
    let mut o = Observed::record(Kind::Account, id.clone(), status, arn.to_string(), index);
    o.raw_status = Some(raw.join(" "));
    o.authoritative_for = ACCOUNT_AUTHORITATIVE;
    o.text("system", Some(ctx.system));
    if root {
        o.text("account_type", Some("system"))
            .flag("privileged", Some(true));
    } else {
        o.text("login", Some(user))
            .text("account_type", Some("service"));
    }
    o.time("last_login", time("password_last_used")?);
    let slot = |n: u8| -> Result<Slot, Box<Finding>> {
        Ok(Slot {
            last_rotated: time(&format!("access_key_{n}_last_rotated"))?,
            last_used: time(&format!("access_key_{n}_last_used_date"))?,
        })
    };
    let slots = [slot(1)?, slot(2)?];
    Ok((o, user.to_string(), User { account: id, slots }))
}

/// The account id of an IAM user's or root's ARN.
fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let valid = partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (resource == "root" || resource.starts_with("user/"));
    valid.then_some(account)
}

/// Last-used responses by key id (`None`: never used, or not since
/// 2015-04-22, which AWS reports the same way).
fn read_last_used(
    root: &At<'_>,
    into: &mut HashMap<String, Option<Timestamp>>,
) -> Result<(), Box<Finding>> {
    let entries = match root.value {
        Value::Array(_) => root.items()?,
        _ => vec![root.clone()],
    };
    for entry in entries {
        let Some(id) = entry.str("AccessKeyId")? else {
            return Err(Box::new(entry.field_finding(
                "AccessKeyId",
                ImportCode::ExportShape,
                "a `get-access-key-last-used` response does not name its key: add the `AccessKeyId` it was asked for",
            )));
        };
        let used = entry.child("AccessKeyLastUsed").ok_or_else(|| {
            Box::new(entry.field_finding(
                "AccessKeyLastUsed",
                ImportCode::ExportShape,
                "no `AccessKeyLastUsed`: is this a `get-access-key-last-used` response?",
            ))
        })?;
        if into
            .insert(id.to_string(), used.time("LastUsedDate")?)
            .is_some()
        {
            return Err(Box::new(entry.field_finding(
                "AccessKeyId",
                ImportCode::DuplicateKey,
                format!("the last use of `{id}` is given twice"),
            )));
        }
    }
    Ok(())
}

fn key(
    ctx: &Context<'_>,
    users: Option<&HashMap<String, Vec<User>>>,
    last_used: &HashMap<String, Option<Timestamp>>,
    k: &At<'_>,
    index: usize,
) -> Result<Observed, Box<Finding>> {
    let id = k.req_str("AccessKeyId")?;
    let raw = k.req_str("Status")?;
    let Some((_, status)) = KEY_STATUSES.iter().find(|(s, _)| *s == raw) else {
        let known: Vec<&str> = KEY_STATUSES.iter().map(|(s, _)| *s).collect();
        return Err(Box::new(k.field_finding(
            "Status",
            ImportCode::UnknownValue,
            format!(
                "`{raw}` is not an access key status ({})",
                crate::model::quote_list(&known)
            ),
        )));
    };
    let created = k.time("CreateDate")?;
    let user = match (users, k.str("UserName")?) {
        (Some(users), Some(name)) => match users.get(name).map(Vec::as_slice) {
            Some([one]) => Some(one),
            Some(several) => {
                let accounts: Vec<&str> = several.iter().map(|u| u.account.as_str()).collect();
                return Err(Box::new(k.field_finding(
                    "UserName",
                    ImportCode::ExportShape,
                    format!(
                        "`{name}` is a user in several credential reports ({}): import each AWS account on its own",
                        crate::model::quote_list(&accounts)
                    ),
                )));
            }
            None => {
                return Err(Box::new(k.field_finding(
                    "UserName",
                    ImportCode::ExportShape,
                    format!(
                        "no credential report row is user `{name}`, so the key's account would be a dangling link: pass the report of the AWS account the key belongs to"
                    ),
                )));
            }
        },
        _ => None,
    };
    // The report's slot of this key is the one rotated when it was made.
    let from_report = user.and_then(|u| {
        u.slots
            .iter()
            .find(|s| s.last_rotated.is_some() && s.last_rotated == created)
            .and_then(|s| s.last_used)
    });
    // Both say when the key was last seen in use; the later is the truth.
    let used = match (last_used.get(id).copied().flatten(), from_report) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let mut o = Observed::record(
        Kind::Credential,
        format!("credential/{}/{id}", ctx.system),
        status,
        id.to_string(),
        index,
    );
    o.raw_status = Some(raw.to_string());
    o.authoritative_for = KEY_AUTHORITATIVE;
    o.text("cred_type", Some("access_key"))
        .text("system", Some(ctx.system))
        .text("bound_to", user.map(|u| u.account.as_str()))
        .text("fingerprint", Some(id))
        .time("issued_at", created)
        .time("last_used", used);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::import::Source;
    use crate::import::testing::{record, records, refusals, run};

    const REPORT: &str = "examples/exports/aws/credential-report.csv";
    const KEYS: &str = "examples/exports/aws/list-access-keys.json";
    const LAST_USED: &str = "examples/exports/aws/access-key-last-used.json";
    const FIXTURES: &str = "tests/fixtures/import/aws";

    fn fixture(name: &str) -> String {
        format!("{FIXTURES}/{name}")
    }

    #[test]
    fn the_report_gives_each_user_an_account_and_the_root_a_privileged_system_one() {
        let (outcome, written) = run(Source::AwsIam, &[REPORT, KEYS, LAST_USED], None);
        assert_eq!(refusals(&outcome), "");
        let root = record(&written, "account/aws/123456789012/root");
        assert_eq!(root["account_type"], "system");
        assert_eq!(root["privileged"], true);
        assert_eq!(
            root["status"], "enabled",
            "an unknown password rules nothing out"
        );
        assert!(root.get("login").is_none());
        assert!(
            root.get("last_login").is_none(),
            "`no_information` is never"
        );
        assert_eq!(
            root["sources"][0]["raw_status"],
            "password=not_supported key1=false key2=false cert1=false cert2=false"
        );
        assert_eq!(
            root["sources"][0]["record_id"],
            "arn:aws:iam::123456789012:root"
        );

        let mbell = record(&written, "account/aws/123456789012/mbell");
        assert_eq!(mbell["login"], "mbell");
        assert_eq!(mbell["account_type"], "service");
        assert_eq!(mbell["status"], "enabled");
        assert_eq!(mbell["last_login"], "2026-11-23T16:45:12Z");
        assert!(mbell.get("principal").is_none());

        let batch = record(&written, "account/aws/123456789012/batch-runner");
        assert_eq!(batch["status"], "enabled");
        assert!(batch.get("last_login").is_none(), "`N/A` is no password");
        assert_eq!(
            batch["sources"][0]["raw_status"],
            "password=false key1=true key2=false cert1=false cert2=false"
        );
    }

    #[test]
    fn sentinels_leave_fields_out_and_flags_make_the_status() {
        let (outcome, written) = run(Source::AwsIam, &[&fixture("root-and-sentinels.csv")], None);
        assert_eq!(refusals(&outcome), "");
        let root = record(&written, "account/aws/123456789012/root");
        assert_eq!(root["last_login"], "2026-06-14T21:03:55Z");
        let legacy = record(&written, "account/aws/123456789012/legacy-ci");
        assert_eq!(legacy["status"], "enabled");
        assert!(legacy.get("last_login").is_none(), "`no_information`");
        let former = record(&written, "account/aws/123456789012/former-contractor");
        assert_eq!(former["status"], "disabled", "nothing active");
        assert!(former.get("last_login").is_none(), "`N/A`");
        // The report alone names no keys.
        assert!(
            records(&written)
                .iter()
                .all(|r| r["kind"] == json!("account"))
        );
    }

    #[test]
    fn flags_are_read_whatever_their_case() {
        let (outcome, written) = run(Source::AwsIam, &[&fixture("uppercase-flags.csv")], None);
        assert_eq!(refusals(&outcome), "");
        // A user under a path is named by its user name alone.
        let bot = record(&written, "account/aws/123456789012/deploy-bot");
        assert_eq!(bot["status"], "enabled");
        assert_eq!(
            bot["sources"][0]["raw_status"],
            "password=FALSE key1=TRUE key2=False cert1=FALSE cert2=FALSE"
        );
        let retired = record(&written, "account/aws/123456789012/retired");
        assert_eq!(retired["status"], "disabled");
    }

    #[test]
    fn keys_bind_to_their_user_and_take_status_and_last_use() {
        let (outcome, written) = run(Source::AwsIam, &[LAST_USED, KEYS, REPORT], None);
        assert_eq!(refusals(&outcome), "");
        let batch = record(&written, "credential/aws/AKIADYSIG4AUH7ES67QX");
        assert_eq!(batch["status"], "active");
        assert_eq!(batch["cred_type"], "access_key");
        assert_eq!(batch["system"], "aws");
        assert_eq!(batch["fingerprint"], "AKIADYSIG4AUH7ES67QX");
        assert_eq!(batch["bound_to"], "account/aws/123456789012/batch-runner");
        assert_eq!(batch["issued_at"], "2026-08-01T09:31:40Z");
        assert_eq!(batch["last_used"], "2026-09-02T04:00:00Z");
        assert_eq!(
            batch["sources"][0]["authoritative_for"],
            json!(["status", "last_used", "issued_at"])
        );
        let old = record(&written, "credential/aws/AKIANQWEGWCZ4FXC6NPC");
        assert_eq!(old["status"], "inactive");
        assert_eq!(old["sources"][0]["raw_status"], "Inactive");
        // Never used: no `LastUsedDate`, and `N/A` in the report.
        let ledger = record(&written, "credential/aws/AKIALGXBRSWQU5UATUXX");
        assert!(ledger.get("last_used").is_none());
    }

    #[test]
    fn without_last_used_responses_the_reports_slot_gives_the_last_use() {
        let (outcome, written) = run(Source::AwsIam, &[REPORT, KEYS], None);
        assert_eq!(refusals(&outcome), "");
        // Key 1 of payments-reconciler: rotated when it was made.
        let old = record(&written, "credential/aws/AKIANQWEGWCZ4FXC6NPC");
        assert_eq!(old["last_used"], "2026-05-11T02:15:00Z");
        let new = record(&written, "credential/aws/AKIA7REYSNJVBCNSGJKE");
        assert_eq!(new["last_used"], "2026-11-24T05:45:00Z");
    }

    #[test]
    fn without_a_report_keys_are_bound_to_nothing() {
        let (outcome, written) = run(Source::AwsIam, &[KEYS], None);
        assert_eq!(refusals(&outcome), "");
        let batch = record(&written, "credential/aws/AKIADYSIG4AUH7ES67QX");
        assert!(batch.get("bound_to").is_none());
        assert!(batch.get("last_used").is_none());
    }

    #[test]
    fn a_key_whose_user_the_report_lacks_is_refused() {
        let (outcome, _) = run(
            Source::AwsIam,
            &[&fixture("root-and-sentinels.csv"), KEYS],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.starts_with("export-shape: ")
                && text.contains(
                    "at `$.AccessKeyMetadata[0].UserName`: no credential report row is user `batch-runner`"
                ),
            "{text}"
        );
    }

    #[test]
    fn a_missing_column_is_named_with_the_nearest_header() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("missing-column.csv")], None);
        let text = refusals(&outcome);
        assert!(
            text.contains("missing-column: ")
                && text.contains(
                    "has no column `access_key_1_last_used_date` (did you mean `access_key_1_last_used`?)"
                ),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn broken_quoting_is_refused() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("broken-quoting.csv")], None);
        let text = refusals(&outcome);
        assert!(
            text.starts_with("export-malformed: ") && text.contains("is not well-formed CSV"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_key_status_is_refused() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("unknown-key-status.json")], None);
        let text = refusals(&outcome);
        assert!(
            text.contains("unknown-value: ")
                && text.contains(
                    "at `$.AccessKeyMetadata[0].Status`: `Suspended` is not an access key status"
                ),
            "{text}"
        );
    }

    #[test]
    fn a_flag_that_is_neither_a_boolean_nor_a_sentinel_is_refused() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("bad-flag.csv")], None);
        let text = refusals(&outcome);
        assert!(
            text.contains("unknown-value: ")
                && text.contains("line 2: `access_key_1_active` `yes` is not `true`, `false`"),
            "{text}"
        );
    }

    #[test]
    fn a_truncated_page_is_refused() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("truncated-page.json")], None);
        let text = refusals(&outcome);
        assert!(
            text.contains("at `$.IsTruncated`: a truncated page"),
            "{text}"
        );
    }

    #[test]
    fn a_secret_access_key_is_refused_without_quoting_it() {
        let (outcome, _) = run(Source::AwsIam, &[&fixture("create-access-key.json")], None);
        let text = refusals(&outcome);
        assert!(
            text.contains("secret-in-export: ")
                && text.contains("`SecretAccessKey` holds a secret value"),
            "{text}"
        );
        assert!(!text.contains("bm90IGEgcmVhbCBzZWNyZXQ"), "{text}");
    }

    #[test]
    fn arns_give_the_account_id() {
        assert_eq!(
            super::arn_account("arn:aws:iam::123456789012:user/ops/alice"),
            Some("123456789012")
        );
        assert_eq!(
            super::arn_account("arn:aws-us-gov:iam::123456789012:root"),
            Some("123456789012")
        );
        assert_eq!(super::arn_account("arn:aws:iam::1234:user/a"), None);
        assert_eq!(
            super::arn_account("arn:aws:sts::123456789012:assumed-role/r/s"),
            None
        );
    }
}
