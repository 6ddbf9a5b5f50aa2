//! Google Workspace users: the Admin SDK Directory `users.list`
//! (`{kind: "admin#directory#users", users: [...]}`, paged by
//! `nextPageToken`; deleted users only with `showDeleted=true`). Each user
//! is an account keyed by its immutable `id`. A deleted user is `deleted`,
//! an archived one (data kept, no sign-in) `disabled`, a suspended one
//! `suspended`. A `lastLoginTime` of the Unix epoch means the user never
//! signed in, not that they did in 1970. The account joins its person by
//! the `organization` external id (the employee id); its primary email, an
//! alias or another address that matches a person is a weak match,
//! recorded but linking nobody.

use jiff::Timestamp;

use super::export::{At, read_lists};
use super::{Context, Finding, ImportCode, Observed};
use crate::model::Kind;

/// What Google Workspace is the authority for.
const AUTHORITATIVE: &[&str] = &["status", "login", "last_login"];

/// The list response's `kind`.
const LIST_KIND: &str = "admin#directory#users";

/// Reads `users.list` pages.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_lists(ctx.exports, users, |user, index| {
        account(ctx, user, index).map(Some)
    })
}

/// The users of a list response; an empty page leaves `users` out.
fn users<'a>(root: &At<'a>) -> Result<Vec<At<'a>>, Box<Finding>> {
    let kind = if root.value.is_object() {
        root.str("kind")?
    } else {
        None
    };
    if let Some(kind) = kind
        && kind != LIST_KIND
    {
        return Err(Box::new(root.field_finding(
            "kind",
            ImportCode::ExportShape,
            format!("`{kind}` is not a `users.list` response (`{LIST_KIND}`)"),
        )));
    }
    match root.child("users") {
        Some(users) => users.items(),
        None if kind.is_some() => Ok(Vec::new()),
        None => Err(Box::new(root.field_finding(
            "users",
            ImportCode::ExportShape,
            "no `users` list: is this a Directory `users.list` response?",
        ))),
    }
}

fn account(ctx: &Context<'_>, user: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = user.req_str("id")?;
    let email = user.req_str("primaryEmail")?;
    let suspended = user.bool("suspended")?;
    let archived = user.bool("archived")?;
    let deleted = user.time("deletionTime")?;
    let status = if deleted.is_some() {
        "deleted"
    } else if archived == Some(true) {
        "disabled"
    } else if suspended == Some(true) {
        "suspended"
    } else {
        "enabled"
    };
    let flag = |name: &str, value: Option<bool>| match value {
        Some(v) => format!("{name}={v}"),
        None => format!("{name} absent"),
    };
    let mut raw = Vec::new();
    if deleted.is_some() {
        raw.push(format!(
            "deletionTime={}",
            user.str("deletionTime")?.unwrap_or_default()
        ));
    }
    raw.push(flag("suspended", suspended));
    if let Some(reason) = user.str("suspensionReason")? {
        raw.push(format!("suspensionReason={reason}"));
    }
    raw.push(flag("archived", archived));
    // The epoch is Google's "never": no sign-in is not a sign-in in 1970.
    let last_login = match user.time("lastLoginTime")? {
        Some(t) if t == Timestamp::UNIX_EPOCH => {
            raw.push(format!(
                "lastLoginTime={} (never logged in)",
                user.str("lastLoginTime")?.unwrap_or_default()
            ));
            None
        }
        other => other,
    };
    let mut number = None;
    for external in user.list("externalIds")? {
        if external.str("type")? == Some("organization")
            && let Some(value) = external.str("value")?.filter(|v| !v.trim().is_empty())
        {
            number = Some(value);
            break;
        }
    }
    let mut emails = vec![email];
    emails.extend(user.strs("aliases")?);
    emails.extend(user.strs("nonEditableAliases")?);
    for address in user.list("emails")? {
        if let Some(a) = address.str("address")? {
            emails.push(a);
        }
    }
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{id}", ctx.system),
        status,
        id.to_string(),
        index,
    );
    o.raw_status = Some(raw.join("; "));
    o.authoritative_for = AUTHORITATIVE;
    o.text("system", Some(ctx.system))
        .text("login", Some(email))
        .join_person(ctx.directory, number, &emails)
        .text("account_type", Some("human"));
    if user.bool("isGuestUser")? == Some(true) {
        o.text("employee_type", Some("guest"));
    }
    o.time("last_login", last_login);
    Ok(o)
}

#[cfg(test)]
mod tests {

    use super::super::Source;
    use super::super::testing::{
        assert_written, model_errors, refusals, run, run_records, scratch_export, source,
    };

    const USERS: &str = "examples/exports/google/users.json";

    #[test]
    fn users_become_accounts_joined_on_the_organization_external_id() {
        let (outcome, records) = run_records(Source::GoogleWorkspace, &[USERS], Some("inventory"));
        assert_written(&outcome);
        assert_eq!(model_errors(&records), Vec::<String>::new());
        assert_eq!(records.len(), 22);
        let dana = &records["account/google/196867029119665167775"];
        assert_eq!(dana["status"], "enabled");
        assert_eq!(dana["system"], "google");
        assert_eq!(dana["login"], "dana.whitfield@kestrel.example");
        assert_eq!(dana["principal"], "person/E1001");
        assert_eq!(dana["account_type"], "human");
        assert_eq!(dana["last_login"], "2026-11-13T16:41:09Z");
        assert!(dana.get("idp_status").is_none());
        assert_eq!(
            source(dana)["raw_status"],
            "suspended=false; archived=false"
        );
        assert_eq!(source(dana)["match"], "strong");
        let victor = &records["account/google/145004366282294237024"];
        assert_eq!(victor["status"], "suspended");
        assert_eq!(victor["principal"], "person/E1011");
        assert_eq!(
            source(victor)["raw_status"],
            "suspended=true; suspensionReason=ADMIN; archived=false"
        );
        let nadia = &records["account/google/150292865429676854156"];
        assert_eq!(
            nadia["status"], "disabled",
            "archived: no sign-in, data kept"
        );
        assert_eq!(
            source(nadia)["raw_status"],
            "suspended=false; archived=true"
        );
    }

    #[test]
    fn the_epoch_login_means_never_logged_in() {
        let (outcome, records) = run_records(
            Source::GoogleWorkspace,
            &["tests/fixtures/import/google/never-logged-in.json"],
            Some("inventory"),
        );
        assert_written(&outcome);
        let tomas = &records["account/google/167343582265874695393"];
        assert!(tomas.get("last_login").is_none(), "{tomas}");
        assert_eq!(tomas["status"], "enabled");
        assert_eq!(tomas["principal"], "person/E1004");
        assert_eq!(
            source(tomas)["raw_status"],
            "suspended=false; archived=false; lastLoginTime=1970-01-01T00:00:00.000Z (never logged in)"
        );
    }

    #[test]
    fn deleted_archived_guests_and_a_weak_match_on_an_alias() {
        let (_dir, path) = scratch_export(
            "users.json",
            r#"{"kind": "admin#directory#users", "users": [
              {"id": "1", "primaryEmail": "former@kestrel.example", "suspended": true, "archived": true,
               "deletionTime": "2026-11-01T09:00:00.000Z",
               "externalIds": [{"value": "W-1", "type": "custom", "customType": "workday"},
                               {"value": "E1019", "type": "organization"}]},
              {"id": "2", "primaryEmail": "mb@kestrel.example", "aliases": ["marcus.bell@kestrel.example"],
               "suspended": true, "suspensionReason": "ADMIN", "isGuestUser": false},
              {"id": "3", "primaryEmail": "partner@elsewhere.example", "isGuestUser": true}
            ], "nextPageToken": "next"}"#,
        );
        let (outcome, records) = run_records(Source::GoogleWorkspace, &[&path], Some("inventory"));
        assert_written(&outcome);
        let former = &records["account/google/1"];
        assert_eq!(former["status"], "deleted");
        assert_eq!(former["principal"], "person/E1019");
        assert_eq!(
            source(former)["raw_status"],
            "deletionTime=2026-11-01T09:00:00.000Z; suspended=true; archived=true"
        );
        let marcus = &records["account/google/2"];
        assert_eq!(marcus["status"], "suspended");
        assert_eq!(marcus["suspected_principal"], "person/E1002");
        assert!(marcus.get("principal").is_none());
        assert_eq!(source(marcus)["match"], "weak");
        assert_eq!(
            source(marcus)["raw_status"],
            "suspended=true; suspensionReason=ADMIN; archived absent"
        );
        let guest = &records["account/google/3"];
        assert_eq!(guest["employee_type"], "guest");
        assert_eq!(guest["status"], "enabled");
        assert!(source(guest).get("match").is_none());
    }

    #[test]
    fn wrong_types_bad_dates_other_responses_and_secrets_are_refused_by_path() {
        let (_dir, path) = scratch_export(
            "bad.json",
            r#"{"kind": "admin#directory#users", "users": [
              {"id": "1", "primaryEmail": "a@x.example", "suspended": "false"},
              {"id": "2", "primaryEmail": "b@x.example", "lastLoginTime": "never"},
              {"id": "3", "primaryEmail": "c@x.example", "externalIds": {"value": "E1001"}},
              {"id": "4", "primaryEmail": "d@x.example", "password": "correct horse battery staple"},
              {"id": "5"}
            ]}"#,
        );
        let (outcome, written) = run(Source::GoogleWorkspace, &[&path], None);
        let refused = refusals(&outcome);
        assert!(written.is_empty());
        for expected in [
            "at `$.users[0].suspended`: expected a boolean, found a string",
            "invalid-date: `",
            "at `$.users[1].lastLoginTime`: `never` is not an RFC 3339 date-time",
            "at `$.users[2].externalIds`: expected a list, found an object",
            "secret-in-export: `",
            "at `$.users[3].password`: `password` holds a secret value",
            "at `$.users[4].primaryEmail`: `primaryEmail` is missing or empty",
        ] {
            assert!(refused.contains(expected), "{expected}\n{refused}");
        }
        assert!(!refused.contains("battery"), "{refused}");

        let (_dir, path) = scratch_export(
            "groups.json",
            r#"{"kind": "admin#directory#groups", "groups": []}"#,
        );
        let refused = refusals(&run(Source::GoogleWorkspace, &[&path], None).0);
        assert!(
            refused
                .contains("at `$.kind`: `admin#directory#groups` is not a `users.list` response"),
            "{refused}"
        );
        let (_dir, path) = scratch_export("empty.json", r#"{"kind": "admin#directory#users"}"#);
        let (outcome, _) = run(Source::GoogleWorkspace, &[&path], None);
        assert_written(&outcome);
    }
}
