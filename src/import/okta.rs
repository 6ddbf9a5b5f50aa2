//! Okta's Users API (`GET /api/v1/users`): one account per user. Okta's
//! default list leaves out DEPROVISIONED users (ask with
//! `search=status pr`), so a user missing from one export is kept and
//! marked, never read as removed. The account joins its person by
//! `profile.employeeNumber`; a login or email that matches a person is a
//! weak match, recorded but linking nobody.

use super::export::{At, read_top_lists};
use super::{Context, Finding, ImportCode, Match, Observed};
use crate::model::Kind;

/// What Okta is the authority for.
const AUTHORITATIVE: &[&str] = &["status", "idp_status", "login", "last_login"];

/// Okta's statuses and the account status each means. PROVISIONED has a
/// live activation link, so it is an enabled account; a STAGED user cannot
/// sign in yet.
const STATUSES: &[(&str, &str)] = &[
    ("ACTIVE", "enabled"),
    ("RECOVERY", "enabled"),
    ("PASSWORD_EXPIRED", "enabled"),
    ("LOCKED_OUT", "enabled"),
    ("PROVISIONED", "enabled"),
    ("STAGED", "disabled"),
    ("SUSPENDED", "suspended"),
    ("DEPROVISIONED", "disabled"),
];

/// Reads Okta user lists (one JSON array per file, e.g. one per page).
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_top_lists(ctx.exports, |user, index| {
        account(ctx, user, index).map(Some)
    })
}

fn account(ctx: &Context<'_>, user: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = user.req_str("id")?;
    let raw = user.req_str("status")?;
    let Some((_, status)) = STATUSES.iter().find(|(s, _)| *s == raw) else {
        let known: Vec<&str> = STATUSES.iter().map(|(s, _)| *s).collect();
        return Err(Box::new(user.field_finding(
            "status",
            ImportCode::UnknownValue,
            format!(
                "`{raw}` is not an Okta user status ({})",
                crate::model::quote_list(&known)
            ),
        )));
    };
    let profile = user.child("profile").ok_or_else(|| {
        Box::new(user.field_finding(
            "profile",
            ImportCode::ExportShape,
            "the user has no `profile`",
        ))
    })?;
    let login = profile.str("login")?;
    let email = profile.str("email")?;
    let number = profile.key_text("employeeNumber")?;
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{id}", ctx.system),
        status,
        id.to_string(),
        index,
    );
    // An asynchronous deactivation in flight is not done: the account
    // keeps its current status, and the raw status says where it is going.
    o.raw_status = Some(match user.str("transitioningToStatus")? {
        Some(to) => format!("{raw} (transitioning to {to})"),
        None => raw.to_string(),
    });
    o.authoritative_for = AUTHORITATIVE;
    o.text("system", Some(ctx.system)).text("login", login);
    let strong = number
        .as_deref()
        .and_then(|n| ctx.directory.person_by_number(n));
    if let Some(person) = strong {
        o.text("principal", Some(person));
        o.matched = Some(Match::Strong);
    } else if let Some(person) = [email, login]
        .into_iter()
        .flatten()
        .find_map(|e| ctx.directory.person_by_email(e))
    {
        o.text("suspected_principal", Some(person));
        o.matched = Some(Match::Weak);
    }
    o.text("account_type", Some("human"))
        .text(
            "employee_type",
            profile.str("userType")?.map(str::to_lowercase).as_deref(),
        )
        .text("idp_status", Some(raw))
        .time("last_login", user.time("lastLogin")?);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use crate::import::Source;
    use crate::import::testing::{refusals, run};

    /// The block of one record in written YAML.
    fn block<'a>(written: &'a str, id: &str) -> &'a str {
        written
            .split("\n- ")
            .find(|b| b.contains(&format!("id: {id}\n")))
            .unwrap_or_else(|| panic!("{id} is written:\n{written}"))
    }

    #[test]
    fn a_deactivation_in_flight_keeps_the_account_enabled_and_says_where_it_is_going() {
        let (_, written) = run(
            Source::Okta,
            &["tests/fixtures/import/okta/transitioning-to-deprovisioned.json"],
            Some("inventory"),
        );
        assert!(written.contains("status: enabled"), "{written}");
        assert!(
            written.contains("raw_status: ACTIVE (transitioning to DEPROVISIONED)"),
            "{written}"
        );
    }

    #[test]
    fn an_employee_number_links_the_person_and_an_email_alone_only_suspects_one() {
        let (_, written) = run(
            Source::Okta,
            &["examples/exports/okta/users.json"],
            Some("inventory"),
        );
        let dana = block(&written, "account/okta/00u5iFjLgo3L0rrUsayR");
        assert!(
            dana.contains("principal: person/E1001") && dana.contains("match: strong"),
            "{dana}"
        );
        // The external contractor carries no employee number, and no
        // person has their address: no link at all.
        assert!(!written.contains("principal: person/E1099"));
    }

    #[test]
    fn a_status_outside_the_table_is_refused_with_its_path() {
        let (outcome, written) = run(
            Source::Okta,
            &["tests/fixtures/import/okta/unknown-status.json"],
            Some("inventory"),
        );
        assert!(written.is_empty());
        let text = refusals(&outcome);
        assert!(text.starts_with("unknown-value: "), "{text}");
        assert!(
            text.contains("at `$[0].status`") && text.contains("`ARCHIVED`"),
            "{text}"
        );
    }

    #[test]
    fn a_secret_is_refused_without_being_quoted() {
        let (outcome, _) = run(
            Source::Okta,
            &["tests/fixtures/import/okta/password-value.json"],
            None,
        );
        let text = refusals(&outcome);
        assert!(
            text.contains("secret-in-export") && text.contains("credentials.password.value"),
            "{text}"
        );
        assert!(!text.contains("NotARealPassword"), "{text}");
    }
}
