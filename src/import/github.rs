//! A GitHub organisation, from three REST lists (JSON arrays, told apart by
//! their elements): `GET /orgs/{org}/members` (simple users), `GET
//! /orgs/{org}/personal-access-tokens` (the fine-grained tokens granted
//! access to the organisation) and deploy keys (`GET
//! /repos/{owner}/{repo}/keys`, gathered into one list with each key's
//! `repository` added, since the API lists them per repository).
//!
//! A member is an account keyed by its numeric id, which survives a rename
//! of the login. It names no person: a login is chosen by its user and an
//! email is not in the list, so nothing joins strongly (the join through
//! the organisation's SAML or SCIM external identities is future work). A
//! token is bound to its owner's account when the owner is a member in the
//! same import. A deploy key's `added_by` is a login, so it is kept in the
//! raw status only. An app installation (`GET /orgs/{org}/installations`,
//! `{total_count, installations}`) is a non-human identity of the
//! organisation, an integration; GitHub records no installer, so it comes
//! with no owner, which curation must supply. No secret is read: the token list never carries a
//! token, and a deploy key's public `key` is not imported at all (a private
//! key pasted there is refused by the secret scan).

use std::collections::HashSet;

use serde_json::Value;

use super::export::At;
use super::{Context, Finding, ImportCode, Observed};
use crate::model::Kind;

const ACCOUNT_AUTHORITATIVE: &[&str] = &["status", "login"];
const PAT_AUTHORITATIVE: &[&str] = &["status", "issued_at", "expires_at", "last_used"];
const DEPLOY_KEY_AUTHORITATIVE: &[&str] = &["status", "issued_at", "last_used"];
const INSTALLATION_AUTHORITATIVE: &[&str] = &["status", "scopes"];

/// What a list holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Members,
    Tokens,
    DeployKeys,
    Installations,
}

/// Reads member, token-grant and deploy-key lists, in any order.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let (parsed, mut findings) = super::export::parse_all(ctx.exports);
    let mut lists = Vec::new();
    for (index, export, value) in &parsed {
        let root = At::root(export, value);
        match classify(&root) {
            Ok(Some(List::Installations)) => {
                match super::export::list_at(&root, "installations", "an app installations list") {
                    Ok(items) => lists.push((*index, List::Installations, items)),
                    Err(f) => findings.push(*f),
                }
            }
            Ok(Some(list)) => match root.items() {
                Ok(items) => lists.push((*index, list, items)),
                Err(f) => findings.push(*f),
            },
            Ok(None) => {}
            Err(f) => findings.push(*f),
        }
    }
    let mut out = Vec::new();
    // Members first, whatever the file order, so that tokens bind to them.
    let mut members = HashSet::new();
    for (index, _, items) in lists.iter().filter(|(_, l, _)| *l == List::Members) {
        for item in items {
            match member(ctx, item, *index) {
                Ok((id, o)) => {
                    members.insert(id);
                    out.push(o);
                }
                Err(f) => findings.push(*f),
            }
        }
    }
    for (index, list, items) in &lists {
        for item in items {
            let read = match list {
                List::Members => continue,
                List::Tokens => token(ctx, &members, item, *index),
                List::DeployKeys => deploy_key(ctx, item, *index),
                List::Installations => installation(ctx, item, *index),
            };
            match read {
                Ok(o) => out.push(o),
                Err(f) => findings.push(*f),
            }
        }
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// Which list an export is, by its first element; an empty list adds
/// nothing whatever it was.
fn classify(root: &At<'_>) -> Result<Option<List>, Box<Finding>> {
    if let Value::Object(envelope) = root.value
        && envelope.contains_key("installations")
    {
        return Ok(Some(List::Installations));
    }
    let Value::Array(items) = root.value else {
        return Err(Box::new(root.finding(
            ImportCode::ExportShape,
            "expected a JSON array of members, personal access token grants or deploy keys, or an app installations list (`{total_count, installations}`)",
        )));
    };
    let Some(first) = items.first() else {
        return Ok(None);
    };
    let has = |k: &str| first.get(k).is_some();
    if has("token_id") {
        Ok(Some(List::Tokens))
    } else if has("key") || has("read_only") {
        Ok(Some(List::DeployKeys))
    } else if has("login") {
        Ok(Some(List::Members))
    } else {
        Err(Box::new(root.finding(
            ImportCode::ExportShape,
            "the elements are neither members (`login`), personal access token grants (`token_id`) nor deploy keys (`key`), and the file is no app installations list (`{total_count, installations}`)",
        )))
    }
}

/// An element's numeric id, which must be there.
fn required_id(item: &At<'_>, field: &str, what: &str) -> Result<String, Box<Finding>> {
    item.key_text(field)?.ok_or_else(|| {
        Box::new(item.field_finding(
            field,
            ImportCode::ExportShape,
            format!("the {what} has no `{field}`"),
        ))
    })
}

fn member(ctx: &Context<'_>, m: &At<'_>, index: usize) -> Result<(String, Observed), Box<Finding>> {
    let id = required_id(m, "id", "member")?;
    let login = m.req_str("login")?;
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{id}", ctx.system),
        "enabled",
        id.clone(),
        index,
    );
    o.authoritative_for = ACCOUNT_AUTHORITATIVE;
    o.text("system", Some(ctx.system))
        .text("login", Some(login))
        .text("account_type", Some("human"));
    Ok((id, o))
}

fn token(
    ctx: &Context<'_>,
    members: &HashSet<String>,
    t: &At<'_>,
    index: usize,
) -> Result<Observed, Box<Finding>> {
    let grant = required_id(t, "id", "grant")?;
    let token_id = required_id(t, "token_id", "grant")?;
    let owner = t.child("owner").ok_or_else(|| {
        Box::new(t.field_finding("owner", ImportCode::ExportShape, "the grant has no `owner`"))
    })?;
    let owner_id = required_id(&owner, "id", "owner")?;
    let expired = t.bool("token_expired")?.ok_or_else(|| {
        Box::new(t.field_finding(
            "token_expired",
            ImportCode::ExportShape,
            "the grant has no `token_expired`: without it a lapsed token would read as live",
        ))
    })?;
    // `null` is a token without an expiry.
    let expires = t.time("token_expires_at")?;
    let status = if expired || expires.is_some_and(|e| e <= ctx.observed_at) {
        "expired"
    } else {
        "active"
    };
    let bound = members
        .contains(&owner_id)
        .then(|| format!("account/{}/{owner_id}", ctx.system));
    let mut o = Observed::record(
        Kind::Credential,
        format!("credential/{}/pat/{token_id}", ctx.system),
        status,
        grant,
        index,
    );
    o.raw_status = Some(format!("token_expired={expired}"));
    o.authoritative_for = PAT_AUTHORITATIVE;
    o.text("display_name", t.str("token_name")?)
        .text("cred_type", Some("pat"))
        .text("system", Some(ctx.system))
        .text("bound_to", bound.as_deref())
        .time("issued_at", t.time("access_granted_at")?)
        .time("expires_at", expires)
        .time("last_used", t.time("token_last_used_at")?);
    Ok(o)
}

fn deploy_key(ctx: &Context<'_>, k: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = required_id(k, "id", "deploy key")?;
    let repository = k
        .str("repository")?
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            Box::new(k.field_finding(
                "repository",
                ImportCode::ExportShape,
                "the deploy key has no `repository`: the API lists keys per repository, so add `repository` (`owner/name`) to each key when gathering them",
            ))
        })?;
    let enabled = k.bool("enabled")?;
    let read_only = k.bool("read_only")?;
    let added_by = k.str("added_by")?;
    let mut raw = Vec::new();
    if let Some(e) = enabled {
        raw.push(format!("enabled={e}"));
    }
    if let Some(r) = read_only {
        raw.push(format!("read_only={r}"));
    }
    if let Some(a) = added_by {
        raw.push(format!("added_by={a}"));
    }
    let status = if enabled == Some(false) {
        "inactive"
    } else {
        "active"
    };
    let mut o = Observed::record(
        Kind::Credential,
        format!("credential/{}/deploy-key/{id}", ctx.system),
        status,
        id,
        index,
    );
    o.raw_status = (!raw.is_empty()).then(|| raw.join(" "));
    o.authoritative_for = DEPLOY_KEY_AUTHORITATIVE;
    o.text("display_name", k.str("title")?)
        .text("cred_type", Some("deploy_key"))
        .text(
            "system",
            Some(&format!("{}:{}", ctx.system, repository.trim())),
        )
        .time("issued_at", k.time("created_at")?)
        .time("last_used", k.time("last_used")?);
    Ok(o)
}

fn installation(ctx: &Context<'_>, i: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = required_id(i, "id", "installation")?;
    let slug = i.req_str("app_slug")?;
    let suspended = i.time("suspended_at")?;
    // A suspended app's tokens stop working until someone lifts the
    // suspension; it is out of use, not removed.
    let status = if suspended.is_some() {
        "decommissioned"
    } else {
        "active"
    };
    let mut scopes: Vec<String> = match i.child("permissions").map(|p| p.value) {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, level)| format!("{name}:{}", level.as_str().unwrap_or("?")))
            .collect(),
        _ => Vec::new(),
    };
    scopes.sort();
    let mut o = Observed::record(
        Kind::Nhi,
        format!("nhi/{}/app/{id}", ctx.system),
        status,
        id,
        index,
    );
    o.raw_status = Some(match suspended {
        Some(_) => "suspended".to_string(),
        None => "installed".to_string(),
    });
    o.authoritative_for = INSTALLATION_AUTHORITATIVE;
    o.text("display_name", Some(slug))
        .text("nhi_type", Some("oauth_app"))
        .text("system", Some(ctx.system));
    if !scopes.is_empty() {
        o.value(
            "scopes",
            Value::Array(scopes.into_iter().map(Value::String).collect()),
        );
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::import::Source;
    use crate::import::testing::{record, records, refusals, run};

    const MEMBERS: &str = "examples/exports/github/members.json";
    const TOKENS: &str = "examples/exports/github/personal-access-tokens.json";
    const DEPLOY_KEYS: &str = "examples/exports/github/deploy-keys.json";
    const FIXTURES: &str = "tests/fixtures/import/github";

    #[test]
    fn app_installations_are_integrations_with_no_owner() {
        let (outcome, written) = run(
            Source::GitHub,
            &["tests/fixtures/reconcile/exports/github/installations.json"],
            None,
        );
        assert_eq!(refusals(&outcome), "");
        let app = record(&written, "nhi/github/app/7100001");
        assert_eq!(app["kind"], "nhi");
        assert_eq!(app["nhi_type"], "oauth_app");
        assert_eq!(app["status"], "active");
        assert_eq!(app["display_name"], "nw-unowned-release-bot");
        assert_eq!(
            app["scopes"],
            json!(["contents:write", "metadata:read", "pull_requests:write"])
        );
        assert!(app.get("owner").is_none(), "GitHub records no installer");
        assert_eq!(app["sources"][0]["raw_status"], "installed");
    }

    #[test]
    fn members_are_accounts_keyed_by_their_numeric_id() {
        let (outcome, written) = run(
            Source::GitHub,
            &[DEPLOY_KEYS, TOKENS, MEMBERS],
            Some("inventory"),
        );
        assert_eq!(refusals(&outcome), "");
        let d = record(&written, "account/github/48213377");
        assert_eq!(d["login"], "dwhit");
        assert_eq!(d["status"], "enabled");
        assert_eq!(d["account_type"], "human");
        assert_eq!(d["system"], "github");
        assert!(d.get("principal").is_none() && d.get("suspected_principal").is_none());
        assert_eq!(d["sources"][0]["record_id"], "48213377");
    }

    #[test]
    fn token_grants_are_pats_bound_to_their_owner() {
        let (outcome, written) = run(Source::GitHub, &[TOKENS, MEMBERS], None);
        assert_eq!(refusals(&outcome), "");
        let release = record(&written, "credential/github/pat/4412907");
        assert_eq!(release["status"], "active");
        assert_eq!(release["cred_type"], "pat");
        assert_eq!(release["display_name"], "release-publish");
        assert_eq!(release["bound_to"], "account/github/119274510");
        assert_eq!(release["issued_at"], "2025-02-01T10:20:31Z");
        assert_eq!(release["expires_at"], "2027-01-20T08:00:00Z");
        assert_eq!(release["last_used"], "2026-11-23T03:00:00Z");
        assert_eq!(release["sources"][0]["record_id"], "228114");
        assert_eq!(release["sources"][0]["raw_status"], "token_expired=false");
        // `token_expires_at: null` is no expiry.
        let gitstats = record(&written, "credential/github/pat/4201558");
        assert!(gitstats.get("expires_at").is_none());
        assert_eq!(gitstats["last_used"], "2026-07-20T10:00:00Z");
        // Its owner left the organisation: the grant outlived the
        // membership, and a link to an account the import did not write
        // would dangle.
        assert!(gitstats.get("bound_to").is_none());
    }

    #[test]
    fn without_the_members_list_a_token_is_bound_to_nothing() {
        let (outcome, written) = run(Source::GitHub, &[TOKENS], None);
        assert_eq!(refusals(&outcome), "");
        let release = record(&written, "credential/github/pat/4412907");
        assert!(release.get("bound_to").is_none());
    }

    #[test]
    fn an_expired_token_is_expired_whether_flagged_or_lapsed() {
        let (outcome, written) = run(
            Source::GitHub,
            &[&format!("{FIXTURES}/expired-tokens.json")],
            None,
        );
        assert_eq!(refusals(&outcome), "");
        let flagged = record(&written, "credential/github/pat/4300001");
        assert_eq!(flagged["status"], "expired");
        assert_eq!(flagged["sources"][0]["raw_status"], "token_expired=true");
        let lapsed = record(&written, "credential/github/pat/4300002");
        assert_eq!(lapsed["status"], "expired", "expired before the export");
        assert_eq!(lapsed["expires_at"], "2026-11-01T07:00:00Z");
    }

    #[test]
    fn deploy_keys_are_credentials_of_their_repository_without_the_key() {
        let (outcome, written) = run(Source::GitHub, &[DEPLOY_KEYS], None);
        assert_eq!(refusals(&outcome), "");
        let k = record(&written, "credential/github/deploy-key/98765432");
        assert_eq!(k["status"], "active");
        assert_eq!(k["cred_type"], "deploy_key");
        assert_eq!(k["system"], "github:kestrel-labs/infra");
        assert_eq!(k["display_name"], "infra-deploy (prod)");
        assert_eq!(k["issued_at"], "2025-03-14T09:12:55Z");
        assert_eq!(k["last_used"], "2026-11-24T12:00:00Z");
        assert!(k.get("fingerprint").is_none());
        assert_eq!(
            k["sources"][0]["raw_status"],
            "enabled=true read_only=false added_by=vhale-kestrel"
        );
        assert!(!written.contains("AAAAC3NzaC1lZDI1NTE5"), "{written}");
        assert_eq!(records(&written).len(), 1);
        assert_eq!(
            k["sources"][0]["authoritative_for"],
            json!(["status", "issued_at", "last_used"])
        );
    }

    #[test]
    fn a_disabled_deploy_key_is_inactive_and_one_without_its_repository_is_refused() {
        let (outcome, written) = run(
            Source::GitHub,
            &[&format!("{FIXTURES}/disabled-deploy-key.json")],
            None,
        );
        assert_eq!(refusals(&outcome), "");
        let k = record(&written, "credential/github/deploy-key/98765434");
        assert_eq!(k["status"], "inactive");

        let (outcome, _) = run(
            Source::GitHub,
            &[&format!("{FIXTURES}/deploy-key-without-repository.json")],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.starts_with("export-shape: ")
                && text.contains("at `$[0].repository`: the deploy key has no `repository`"),
            "{text}"
        );
    }

    #[test]
    fn a_private_key_in_a_deploy_key_is_refused_without_quoting_it() {
        let (outcome, written) = run(
            Source::GitHub,
            &[&format!("{FIXTURES}/deploy-key-with-private-key.json")],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.starts_with("secret-in-export: ")
                && text.contains("at `$[0].key`: the value is a private key"),
            "{text}"
        );
        assert!(!text.contains("Tk9UIEEgUkVBTCBLRVk"), "{text}");
        assert!(!text.contains("BEGIN OPENSSH"), "{text}");
        assert_eq!(written, "");
    }

    #[test]
    fn an_unrecognised_list_is_refused() {
        let (outcome, _) = run(Source::GitHub, &[&format!("{FIXTURES}/teams.json")], None);
        let text = refusals(&outcome);
        assert!(text.starts_with("export-shape: "), "{text}");
        assert!(text.contains("the elements are neither members"), "{text}");
    }
}
