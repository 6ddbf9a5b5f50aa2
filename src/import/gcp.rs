//! Google Cloud service-account keys: `projects.serviceAccounts.keys.list`
//! (`gcloud iam service-accounts keys list --format=json` wrapped as the
//! API writes it, `{keys: [...]}`; one file per service account). Each
//! user-managed key is a credential; system-managed keys are Google's own,
//! rotated within two weeks, and left out. The list path never carries a
//! private key (`privateKeyData` comes only from a create), so one in an
//! export is refused by the secret scan.
//!
//! A key has no name of its own: the record's `display_name` is its service
//! account's email. The key is not bound to a non-human identity, since
//! the inventory's identities are curated and carry no Google key to join
//! on. A key that never expires carries `validBeforeTime`
//! `9999-12-31T23:59:59Z`, kept as it is: it is the long-lived-key signal.

use jiff::Timestamp;
use serde_json::Value;

use super::export::{At, read_lists};
use super::{Context, Finding, ImportCode, Observed};
use crate::model::{Kind, format_time};

/// What IAM is the authority for.
const AUTHORITATIVE: &[&str] = &["status", "issued_at", "expires_at"];

/// Disable reasons and extended status keys that mean the private key got
/// out.
const EXPOSED: &[&str] = &["EXPOSED", "COMPROMISE"];

/// Reads key lists.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_lists(
        ctx.exports,
        |root| match (root.child("keys"), root.value) {
            (Some(keys), _) => keys.items(),
            // Proto3 JSON leaves an empty list out: an account with no
            // user-managed keys lists as `{}`.
            (None, Value::Object(m)) if m.is_empty() => Ok(Vec::new()),
            _ => Err(Box::new(root.finding(
                ImportCode::ExportShape,
                "no `keys` list: is this a `projects.serviceAccounts.keys.list` response?",
            ))),
        },
        |k, index| key(ctx, k, index),
    )
}

/// The project, service account and key id of a key's resource name,
/// `projects/P/serviceAccounts/EMAIL/keys/ID`.
fn parse_name(name: &str) -> Option<(&str, &str, &str)> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", project, "serviceAccounts", account, "keys", id]
            if ![project, account, id].iter().any(|p| p.is_empty()) && *project != "-" =>
        {
            Some((project, account, id))
        }
        _ => None,
    }
}

/// An RFC 3339 time and its text; the far-future `9999-12-31T23:59:59Z`
/// is past jiff's last instant and reads as it.
fn time(k: &At<'_>, field: &str) -> Result<Option<(Timestamp, String)>, Box<Finding>> {
    let Some(text) = k.str(field)? else {
        return Ok(None);
    };
    match crate::model::parse_time(text) {
        Ok(t) => Ok(Some((t, text.trim().to_string()))),
        Err(why) => Err(Box::new(k.field_finding(
            field,
            ImportCode::InvalidDate,
            format!("`{text}` is not an RFC 3339 date-time: {why}"),
        ))),
    }
}

fn key(ctx: &Context<'_>, k: &At<'_>, index: usize) -> Result<Option<Observed>, Box<Finding>> {
    let name = k.req_str("name")?;
    match k.req_str("keyType")? {
        "USER_MANAGED" => {}
        "SYSTEM_MANAGED" => return Ok(None),
        other => {
            return Err(Box::new(k.field_finding(
                "keyType",
                ImportCode::UnknownValue,
                format!("`{other}` is not a key type (`USER_MANAGED` or `SYSTEM_MANAGED`)"),
            )));
        }
    }
    let (project, account, id) = parse_name(name).ok_or_else(|| {
        Box::new(k.field_finding(
            "name",
            ImportCode::ExportShape,
            format!("`{name}` is not a key name (`projects/<project>/serviceAccounts/<email>/keys/<id>`)"),
        ))
    })?;
    let after = time(k, "validAfterTime")?;
    let before = time(k, "validBeforeTime")?;
    // Proto3 JSON leaves `disabled: false` out.
    let disabled = k.bool("disabled")?.unwrap_or(false);
    let reason = k.str("disableReason")?;
    let status = if disabled {
        "inactive"
    } else if before.as_ref().is_some_and(|(t, _)| *t <= ctx.observed_at) {
        "expired"
    } else {
        "active"
    };
    let mut exposed = reason.is_some_and(|r| EXPOSED.iter().any(|e| r.contains(e)));
    if let Some(extended) = k.child("extendedStatus") {
        for s in extended.items()? {
            exposed |= s
                .str("key")?
                .is_some_and(|key| EXPOSED.iter().any(|e| key.contains(e)));
        }
    }
    let mut o = Observed::record(
        Kind::Credential,
        format!("credential/{}/{id}", ctx.system),
        status,
        name.to_string(),
        index,
    );
    o.raw_status = Some(match reason {
        Some(r) => format!("disabled={disabled} ({r})"),
        None => format!("disabled={disabled}"),
    });
    o.authoritative_for = AUTHORITATIVE;
    o.text("display_name", Some(account))
        .text("cred_type", Some("access_key"))
        .text("purpose", Some("service_account_key"))
        .text("system", Some(&format!("{}:{project}", ctx.system)))
        .text("fingerprint", Some(id))
        .time("issued_at", after.as_ref().map(|(t, _)| *t));
    if let Some((t, text)) = before {
        // Past jiff's range is the far-future "never": keep the source's
        // text rather than the clamped instant.
        let shown = if t == Timestamp::MAX {
            text
        } else {
            format_time(t)
        };
        o.value("expires_at", Value::String(shown));
    }
    if exposed {
        o.flag("compromised", Some(true));
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use crate::import::Source;
    use crate::import::testing::{record, records, refusals, run};

    const KEYS: &str = "examples/exports/gcp/service-account-keys.json";

    #[test]
    fn user_managed_keys_are_credentials_of_their_project() {
        let (outcome, written) = run(Source::GcpKeys, &[KEYS], Some("inventory"));
        assert_eq!(refusals(&outcome), "");
        let k = record(
            &written,
            "credential/gcp/4b1f05b16e62bfaec98ba7bbfad4db3c5d73c09a",
        );
        assert_eq!(k["status"], "active");
        assert_eq!(k["cred_type"], "access_key");
        assert_eq!(k["purpose"], "service_account_key");
        assert_eq!(k["system"], "gcp:kestrel-billing");
        assert_eq!(
            k["display_name"],
            "billing-export@kestrel-billing.iam.gserviceaccount.com"
        );
        assert_eq!(k["fingerprint"], "4b1f05b16e62bfaec98ba7bbfad4db3c5d73c09a");
        assert_eq!(k["issued_at"], "2025-03-03T10:12:44Z");
        assert_eq!(k["expires_at"], "9999-12-31T23:59:59Z", "never, kept as is");
        assert!(k.get("compromised").is_none());
        assert_eq!(k["sources"][0]["raw_status"], "disabled=false");
        assert!(
            k["sources"][0]["record_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("projects/kestrel-billing/serviceAccounts/"))
        );
    }

    #[test]
    fn a_disabled_key_is_inactive_even_when_expired() {
        let (outcome, written) = run(Source::GcpKeys, &[KEYS], None);
        assert_eq!(refusals(&outcome), "");
        let k = record(
            &written,
            "credential/gcp/65c217051c85b345999e65d7cda1d97d60a6d7af",
        );
        assert_eq!(k["status"], "inactive");
        assert_eq!(k["expires_at"], "2024-09-01T09:00:00Z");
        assert_eq!(
            k["sources"][0]["raw_status"],
            "disabled=true (SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED)"
        );
    }

    #[test]
    fn system_managed_keys_are_skipped_and_a_lapsed_key_is_expired() {
        let (outcome, written) = run(
            Source::GcpKeys,
            &["tests/fixtures/import/gcp/system-managed-and-expired.json"],
            None,
        );
        assert_eq!(refusals(&outcome), "");
        let all = records(&written);
        assert_eq!(all.len(), 2, "{written}");
        let lapsed = record(
            &written,
            "credential/gcp/9d2c6e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d",
        );
        assert_eq!(lapsed["status"], "expired");
        let exposed = record(
            &written,
            "credential/gcp/1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5",
        );
        assert_eq!(exposed["status"], "active");
        assert_eq!(exposed["compromised"], true);
        assert!(!written.contains("3f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a"));
    }

    #[test]
    fn private_key_data_is_refused_without_quoting_it() {
        let (outcome, written) = run(
            Source::GcpKeys,
            &["tests/fixtures/import/gcp/private-key-data.json"],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.starts_with("secret-in-export: ")
                && text.contains(
                    "at `$.keys[0].privateKeyData`: `privateKeyData` holds a secret value"
                ),
            "{text}"
        );
        assert!(!text.contains("bm90IGEgcmVhbCBrZXk="), "{text}");
        assert_eq!(written, "", "nothing is written");
    }

    #[test]
    fn an_unknown_key_type_is_refused() {
        let (outcome, _) = run(
            Source::GcpKeys,
            &["tests/fixtures/import/gcp/unknown-key-type.json"],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.starts_with("unknown-value: ")
                && text.contains("at `$.keys[0].keyType`: `KEY_TYPE_UNSPECIFIED`"),
            "{text}"
        );
    }

    #[test]
    fn names_give_project_account_and_key() {
        assert_eq!(
            super::parse_name("projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/k"),
            Some(("p", "a@p.iam.gserviceaccount.com", "k"))
        );
        assert_eq!(
            super::parse_name("projects/-/serviceAccounts/a/keys/k"),
            None
        );
        assert_eq!(super::parse_name("projects/p/serviceAccounts/a"), None);
    }
}
