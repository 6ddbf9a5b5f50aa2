//! Microsoft Entra ID users: Graph `GET /users` (and `GET
//! /directory/deletedItems/microsoft.graph.user`), `{value: [...]}`, paged
//! by `@odata.nextLink`. Each user is an account keyed by its object `id`.
//! Graph returns `accountEnabled` and `employeeId` only when `$select`ed:
//! without them the account's status is unknown, counted as live, and the
//! raw status says the property was not selected. The account joins its
//! person by `employeeId`; a `mail` or `userPrincipalName` that matches a
//! person is a weak match, recorded but linking nobody. Entra's employment
//! fields (`employeeHireDate`, `employeeLeaveDateTime`) are HR's to state
//! and are not read.

use super::export::{At, list_at, read_lists};
use super::{Context, Finding, Observed};
use crate::model::Kind;

/// What Entra is the authority for.
const AUTHORITATIVE: &[&str] = &["status", "login", "last_login"];

/// Reads Graph user pages.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_lists(
        ctx.exports,
        |root| list_at(root, "value", "a Graph `GET /users` response"),
        |user, index| account(ctx, user, index).map(Some),
    )
}

fn account(ctx: &Context<'_>, user: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = user.req_str("id")?;
    let upn = user.str("userPrincipalName")?;
    let mail = user.str("mail")?;
    let (mut status, mut raw) = match user.bool("accountEnabled")? {
        Some(true) => ("enabled", "accountEnabled=true".to_string()),
        Some(false) => ("disabled", "accountEnabled=false".to_string()),
        None => ("enabled", "accountEnabled not selected".to_string()),
    };
    if user.time("deletedDateTime")?.is_some() {
        status = "deleted";
        let text = user.str("deletedDateTime")?.unwrap_or_default();
        raw.push_str(&format!("; deletedDateTime={text}"));
    }
    let user_type = user.str("userType")?;
    let employee_type = match user_type {
        Some(t) if t.eq_ignore_ascii_case("Guest") => Some("guest".to_string()),
        _ => user.str("employeeType")?.map(str::to_lowercase),
    };
    let last_login = match user.object("signInActivity")? {
        Some(activity) => activity.time("lastSignInDateTime")?,
        None => None,
    };
    let emails: Vec<&str> = [mail, upn].into_iter().flatten().collect();
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{id}", ctx.system),
        status,
        id.to_string(),
        index,
    );
    o.raw_status = Some(raw);
    o.authoritative_for = AUTHORITATIVE;
    o.text("system", Some(ctx.system))
        .text("login", upn)
        .join_person(ctx.directory, user.str("employeeId")?, &emails)
        .text("account_type", Some("human"))
        .text("employee_type", employee_type.as_deref())
        .time("last_login", last_login);
    Ok(o)
}

#[cfg(test)]
mod tests {

    use super::super::Source;
    use super::super::testing::{
        assert_written, model_errors, refusals, run, run_records, scratch_export, source,
    };

    const USERS: &str = "examples/exports/entra/users.json";
    const NO_SELECT: &str = "tests/fixtures/import/entra/no-select.json";
    const DANA: &str = "account/entra/8ea406a7-aa45-41cf-9698-a9a601e6b85d";

    #[test]
    fn users_become_accounts_joined_on_the_employee_id() {
        let (outcome, records) = run_records(Source::Entra, &[USERS], Some("inventory"));
        assert_written(&outcome);
        assert_eq!(model_errors(&records), Vec::<String>::new());
        assert_eq!(records.len(), 23);
        let dana = &records[DANA];
        assert_eq!(dana["status"], "enabled");
        assert_eq!(dana["system"], "entra");
        assert_eq!(dana["login"], "dana.whitfield@kestrel.example");
        assert_eq!(dana["principal"], "person/E1001");
        assert_eq!(dana["employee_type"], "employee");
        assert_eq!(dana["account_type"], "human");
        assert!(dana.get("idp_status").is_none());
        assert!(
            dana.get("last_login").is_none(),
            "no signInActivity selected"
        );
        assert_eq!(source(dana)["raw_status"], "accountEnabled=true");
        assert_eq!(source(dana)["match"], "strong");
        assert_eq!(
            source(dana)["authoritative_for"],
            serde_json::json!(["status", "login", "last_login"])
        );
        let ravi = &records["account/entra/ef80fb56-7015-4baf-a635-b0537b0984ec"];
        assert_eq!(ravi["status"], "disabled");
        assert_eq!(ravi["principal"], "person/E1009");
        assert_eq!(source(ravi)["raw_status"], "accountEnabled=false");
        let guest = records
            .values()
            .find(|r| r["login"].as_str().is_some_and(|l| l.contains("#EXT#")))
            .expect("the guest");
        assert_eq!(guest["employee_type"], "guest");
        assert!(guest.get("principal").is_none() && guest.get("suspected_principal").is_none());
    }

    #[test]
    fn without_select_the_status_is_unknown_and_the_upn_only_a_weak_match() {
        let (outcome, records) = run_records(Source::Entra, &[NO_SELECT], Some("inventory"));
        assert_written(&outcome);
        let dana = &records[DANA];
        assert_eq!(dana["status"], "enabled", "unknown is counted live");
        assert_eq!(source(dana)["raw_status"], "accountEnabled not selected");
        assert!(dana.get("principal").is_none(), "{dana}");
        assert_eq!(dana["suspected_principal"], "person/E1001");
        assert_eq!(source(dana)["match"], "weak");
    }

    #[test]
    fn deleted_users_and_sign_in_activity() {
        let (_dir, path) = scratch_export(
            "deleted.json",
            r#"{"value": [
              {"id": "d1", "userPrincipalName": "felix.wong@kestrel.example", "accountEnabled": false,
               "deletedDateTime": "2026-11-20T10:00:00Z", "employeeId": "E1017", "employeeType": "Contractor"},
              {"id": "s1", "userPrincipalName": "chloe.adams@kestrel.example", "accountEnabled": true,
               "employeeId": "E1016",
               "signInActivity": {"lastSignInDateTime": "2026-11-23T17:29:05Z",
                                  "lastNonInteractiveSignInDateTime": "2026-11-24T01:00:00Z"}}
            ], "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=X"}"#,
        );
        let (outcome, records) = run_records(Source::Entra, &[&path], Some("inventory"));
        assert_written(&outcome);
        let felix = &records["account/entra/d1"];
        assert_eq!(felix["status"], "deleted");
        assert_eq!(felix["employee_type"], "contractor");
        assert_eq!(
            source(felix)["raw_status"],
            "accountEnabled=false; deletedDateTime=2026-11-20T10:00:00Z"
        );
        let chloe = &records["account/entra/s1"];
        assert_eq!(chloe["last_login"], "2026-11-23T17:29:05Z");
        assert_eq!(chloe["principal"], "person/E1016");
    }

    #[test]
    fn wrong_types_bad_dates_a_missing_envelope_and_secrets_are_refused_by_path() {
        let (_dir, path) = scratch_export(
            "bad.json",
            r#"{"value": [
              {"id": "a", "accountEnabled": "yes"},
              {"id": "b", "deletedDateTime": "yesterday"},
              {"id": "c", "signInActivity": "2026-11-23"},
              {"id": "d", "passwordProfile": {"password": "correct horse battery staple"}}
            ]}"#,
        );
        let (outcome, written) = run(Source::Entra, &[&path], None);
        let refused = refusals(&outcome);
        assert!(written.is_empty());
        for expected in [
            "export-shape: `",
            "at `$.value[0].accountEnabled`: expected a boolean, found a string",
            "invalid-date: `",
            "at `$.value[1].deletedDateTime`: `yesterday` is not an RFC 3339 date-time",
            "at `$.value[2].signInActivity`: expected an object, found a string",
            "secret-in-export: `",
            "at `$.value[3].passwordProfile.password`: `password` holds a secret value",
        ] {
            assert!(refused.contains(expected), "{expected}\n{refused}");
        }
        assert!(!refused.contains("battery"), "{refused}");

        let (_dir, path) = scratch_export("odd.json", r#"{"users": []}"#);
        let refused = refusals(&run(Source::Entra, &[&path], None).0);
        assert!(
            refused
                .contains("at `$.value`: no `value` list: is this a Graph `GET /users` response?"),
            "{refused}"
        );
    }
}
