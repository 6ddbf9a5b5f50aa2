//! SCIM 2.0 (RFC 7643, RFC 7644): `GET /Users` and `GET /Groups` list
//! responses (`{totalResults, Resources}`), from any service provider. Each
//! User is an account, keyed by the provider's `id` (the only id that is
//! the provider's own and immutable; `userName` is renamed and reused). Its
//! status is `active`, whose absence is unknown, never false: an account
//! that cannot be shown to be off is counted as live. The account joins its
//! person by the enterprise extension's `employeeNumber` (some providers
//! write `employeeId`); an email or `userName` that matches a person is a
//! weak match, recorded but linking nobody.
//!
//! Each Group's members, with nested groups expanded, become group grants
//! of the group's `displayName`. A grant names an account of the same
//! import, so a member that is not among the import's users is refused;
//! only when no Users export is given at all are the members skipped.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::export::At;
use super::{Context, Finding, ImportCode, Observed};
use crate::model::Kind;

/// What a SCIM provider is the authority for, on an account.
const AUTHORITATIVE: &[&str] = &["status", "login"];

/// What it is the authority for, on a group grant.
const GRANT_AUTHORITATIVE: &[&str] = &["status"];

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Reads SCIM list responses: Users, Groups, or both, in any number of
/// pages.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let (parsed, mut findings) = super::export::parse_all(ctx.exports);
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for (index, export, value) in &parsed {
        let resources = match resources(&At::root(export, value)) {
            Ok(r) => r,
            Err(f) => {
                findings.push(*f);
                continue;
            }
        };
        for resource in resources {
            match resource_type(&resource) {
                Ok(Resource::User) => users.push((*index, resource)),
                Ok(Resource::Group) => groups.push((*index, resource)),
                Err(f) => findings.push(*f),
            }
        }
    }
    let mut out = Vec::new();
    for (index, user) in &users {
        match account(ctx, user, *index) {
            Ok(o) => out.push(o),
            Err(f) => findings.push(*f),
        }
    }
    // Read leniently: a user whose other fields are refused above is still
    // a user, so its memberships are not refused a second time.
    let user_ids: HashSet<&str> = users
        .iter()
        .filter_map(|(_, u)| u.value.get("id").and_then(|v| v.as_str()))
        .collect();
    let with_users = !users.is_empty();
    match grants(ctx, &groups, &user_ids, with_users) {
        Ok(g) => out.extend(g),
        Err(f) => findings.extend(f),
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// The resources of a ListResponse. `Resources` may be left out only when
/// `totalResults` is 0 (RFC 7644 §3.4.2).
fn resources<'a>(root: &At<'a>) -> Result<Vec<At<'a>>, Box<Finding>> {
    if !root.value.is_object() {
        return Err(Box::new(root.finding(
            ImportCode::ExportShape,
            "expected a SCIM ListResponse object (`{totalResults, Resources}`)",
        )));
    }
    let total = match root.get("totalResults") {
        Some(n) => n.as_u64().ok_or_else(|| {
            Box::new(root.field_finding(
                "totalResults",
                ImportCode::ExportShape,
                format!(
                    "expected a whole number, found {}",
                    super::export::json_type(n)
                ),
            ))
        })?,
        None => {
            return Err(Box::new(root.field_finding(
                "totalResults",
                ImportCode::ExportShape,
                "no `totalResults`: is this a SCIM ListResponse (`GET /Users`, `GET /Groups`)?",
            )));
        }
    };
    match root.child("Resources") {
        Some(r) => r.items(),
        None if total == 0 => Ok(Vec::new()),
        None => Err(Box::new(root.field_finding(
            "Resources",
            ImportCode::ExportShape,
            format!("no `Resources` list although `totalResults` is {total}"),
        ))),
    }
}

enum Resource {
    User,
    Group,
}

/// Whether a resource is a User or a Group: by its core schema URN, else
/// by `meta.resourceType`.
fn resource_type(resource: &At<'_>) -> Result<Resource, Box<Finding>> {
    let schemas = resource.strs("schemas")?;
    let names = |urn: &str| schemas.iter().any(|s| s.eq_ignore_ascii_case(urn));
    if names(USER_SCHEMA) {
        return Ok(Resource::User);
    }
    if names(GROUP_SCHEMA) {
        return Ok(Resource::Group);
    }
    let declared = match resource.object("meta")? {
        Some(meta) => meta.str("resourceType")?,
        None => None,
    };
    match declared {
        Some("User") => Ok(Resource::User),
        Some("Group") => Ok(Resource::Group),
        _ => Err(Box::new(resource.field_finding(
            "schemas",
            ImportCode::ExportShape,
            format!("the resource is neither a User (`{USER_SCHEMA}`) nor a Group (`{GROUP_SCHEMA}`), by `schemas` or `meta.resourceType`"),
        ))),
    }
}

fn account(ctx: &Context<'_>, user: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = user.req_str("id")?;
    let login = user.req_str("userName")?;
    // `active` absent is unknown: the account is counted as live.
    let (status, raw) = match user.bool("active")? {
        Some(true) => ("enabled", "active=true"),
        Some(false) => ("disabled", "active=false"),
        None => ("enabled", "active absent"),
    };
    let number = match user.object(ENTERPRISE)? {
        Some(enterprise) => match enterprise.str("employeeNumber")? {
            Some(n) => Some(n),
            None => enterprise.str("employeeId")?,
        },
        None => None,
    };
    let mut emails = Vec::new();
    for email in user.list("emails")? {
        if let Some(value) = email.str("value")? {
            emails.push(value);
        }
    }
    emails.push(login);
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{id}", ctx.system),
        status,
        id.to_string(),
        index,
    );
    o.raw_status = Some(raw.to_string());
    o.authoritative_for = AUTHORITATIVE;
    o.text("system", Some(ctx.system))
        .text("login", Some(login))
        .join_person(ctx.directory, number, &emails)
        .text("account_type", Some("human"))
        .text(
            "employee_type",
            user.str("userType")?.map(str::to_lowercase).as_deref(),
        );
    Ok(o)
}

/// A group and its direct members.
struct Group<'a> {
    index: usize,
    id: &'a str,
    name: &'a str,
    users: Vec<&'a str>,
    groups: Vec<&'a str>,
}

/// The group grants: every user a group holds, directly or through the
/// groups it nests.
fn grants(
    ctx: &Context<'_>,
    resources: &[(usize, At<'_>)],
    user_ids: &HashSet<&str>,
    with_users: bool,
) -> Result<Vec<Observed>, Vec<Finding>> {
    let mut findings = Vec::new();
    let group_ids: HashSet<&str> = resources
        .iter()
        .filter_map(|(_, g)| g.value.get("id").and_then(|v| v.as_str()))
        .collect();
    let mut groups = Vec::new();
    for (index, resource) in resources {
        match group(resource, *index, &group_ids, user_ids, with_users) {
            Ok(g) => groups.push(g),
            Err(f) => findings.extend(f),
        }
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    let by_id: HashMap<&str, &Group<'_>> = groups.iter().rev().map(|g| (g.id, g)).collect();
    let mut out = Vec::new();
    for g in &groups {
        for (user, via) in closure(g, &by_id) {
            let mut o = Observed::record(
                Kind::Grant,
                format!("grant/{}/{}/{user}", ctx.system, g.id),
                "active",
                format!("{}/{user}", g.id),
                g.index,
            );
            o.raw_status = Some(match via {
                None => "direct".to_string(),
                Some(through) => format!("indirect (via `{through}`)"),
            });
            o.authoritative_for = GRANT_AUTHORITATIVE;
            o.text("system", Some(ctx.system))
                .text("entitlement", Some(g.name))
                .text("account", Some(&format!("account/{}/{user}", ctx.system)))
                .text("mode", Some("group"));
            out.push(o);
        }
    }
    Ok(out)
}

/// Reads a group and checks its members: each a user of this import or a
/// group of it (a member without `type` is whichever its id names).
fn group<'a>(
    resource: &At<'a>,
    index: usize,
    group_ids: &HashSet<&str>,
    user_ids: &HashSet<&str>,
    with_users: bool,
) -> Result<Group<'a>, Vec<Finding>> {
    let one = |f: Box<Finding>| vec![*f];
    let id = resource.req_str("id").map_err(one)?;
    let name = resource.req_str("displayName").map_err(one)?;
    let mut g = Group {
        index,
        id,
        name,
        users: Vec::new(),
        groups: Vec::new(),
    };
    let mut findings = Vec::new();
    for member in resource.list("members").map_err(one)? {
        let checked = (|| {
            let value = member.req_str("value")?;
            let is_group = match member.str("type")? {
                Some(t) if t.eq_ignore_ascii_case("User") => false,
                Some(t) if t.eq_ignore_ascii_case("Group") => true,
                Some(other) => {
                    return Err(Box::new(member.field_finding(
                        "type",
                        ImportCode::UnknownValue,
                        format!("`{other}` is not a SCIM member type (`User` or `Group`)"),
                    )));
                }
                None => group_ids.contains(value),
            };
            if is_group {
                if !group_ids.contains(value) {
                    return Err(Box::new(member.field_finding(
                        "value",
                        ImportCode::ExportShape,
                        format!("`{value}` is a group this import does not hold, so its members cannot be granted `{name}`: pass every page of the Groups export"),
                    )));
                }
                g.groups.push(value);
            } else if user_ids.contains(value) {
                g.users.push(value);
            } else if with_users {
                return Err(Box::new(member.field_finding(
                    "value",
                    ImportCode::ExportShape,
                    format!("`{value}` is not a user of this import, so a grant of `{name}` to it would name no account: pass every page of the Users export"),
                )));
            }
            Ok(())
        })();
        if let Err(f) = checked {
            findings.push(*f);
        }
    }
    if findings.is_empty() {
        Ok(g)
    } else {
        Err(findings)
    }
}

/// Every user `top` holds, each with the nested group it is a direct
/// member of (`None`: of `top` itself). Breadth first, so the nearest
/// group names a user reached twice; a group reached again (a cycle) is
/// not walked again.
fn closure<'a>(
    top: &Group<'a>,
    by_id: &HashMap<&str, &Group<'a>>,
) -> BTreeMap<&'a str, Option<&'a str>> {
    let mut users: BTreeMap<&'a str, Option<&'a str>> = BTreeMap::new();
    let mut seen: HashSet<&str> = HashSet::from([top.id]);
    let mut queue: VecDeque<(&Group<'a>, Option<&'a str>)> = VecDeque::from([(top, None)]);
    while let Some((g, via)) = queue.pop_front() {
        for user in &g.users {
            users.entry(user).or_insert(via);
        }
        for nested in &g.groups {
            if seen.insert(nested)
                && let Some(n) = by_id.get(nested)
            {
                queue.push_back((n, Some(n.name)));
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::Source;
    use super::super::testing::{
        assert_written, model_errors, refusals, run, run_records, scratch_export, source,
    };

    const USERS: &str = "examples/exports/scim/users.json";
    const GROUPS: &str = "examples/exports/scim/groups.json";
    const DANA: &str = "account/scim/a69b388d-cb83-439e-a64e-d01ded268f80";
    const JORDAN_OLD: &str = "account/scim/1571c199-4cda-413e-8c4d-7e038de017b6";
    const HANA: &str = "account/scim/d5b9cb02-7325-47a1-ab1f-34a4586f5d5d";
    const ENGINEERING: &str = "1099aa2b";

    #[test]
    fn users_become_accounts_joined_on_the_employee_number() {
        let (outcome, records) = run_records(Source::Scim, &[USERS], Some("inventory"));
        assert_written(&outcome);
        assert_eq!(model_errors(&records), Vec::<String>::new());
        let dana = &records[DANA];
        assert_eq!(dana["status"], "enabled");
        assert_eq!(dana["system"], "scim");
        assert_eq!(dana["login"], "dana.whitfield@kestrel.example");
        assert_eq!(dana["principal"], "person/E1001");
        assert_eq!(dana["account_type"], "human");
        assert_eq!(dana["employee_type"], "employee");
        assert!(dana.get("idp_status").is_none(), "Okta's vocabulary only");
        assert_eq!(source(dana)["match"], "strong");
        assert_eq!(source(dana)["raw_status"], "active=true");
        assert_eq!(
            source(dana)["record_id"],
            "a69b388d-cb83-439e-a64e-d01ded268f80"
        );
        // The deprovisioned older account of a rehire: off, still his.
        let old = &records[JORDAN_OLD];
        assert_eq!(old["status"], "disabled");
        assert_eq!(old["principal"], "person/E1006");
        assert_eq!(source(old)["raw_status"], "active=false");
        // The partner's account names no one the inventory holds.
        let guest = records
            .values()
            .find(|r| r["login"] == "j.smith@partner.example")
            .expect("the partner's account");
        assert!(guest.get("principal").is_none() && guest.get("suspected_principal").is_none());
        assert_eq!(guest["employee_type"], "contractor");
    }

    #[test]
    fn an_absent_active_is_unknown_and_counted_live() {
        let (outcome, records) = run_records(
            Source::Scim,
            &["tests/fixtures/import/scim/active-missing.json"],
            Some("inventory"),
        );
        assert_written(&outcome);
        let lena = &records["account/scim/8618a57b-90be-438e-b79a-ab87d1dfc650"];
        assert_eq!(lena["status"], "enabled");
        assert_eq!(source(lena)["raw_status"], "active absent");
        assert_eq!(lena["principal"], "person/E1008");
    }

    #[test]
    fn a_page_short_of_total_results_is_not_refused() {
        let (outcome, records) = run_records(
            Source::Scim,
            &["tests/fixtures/import/scim/incomplete-page.json"],
            Some("inventory"),
        );
        assert_written(&outcome);
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn an_email_alone_is_a_weak_match_and_employee_id_is_read_too() {
        let (_dir, path) = scratch_export(
            "users.json",
            r#"{"totalResults": 2, "Resources": [
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "id": "u-priya", "userName": "praman",
               "emails": [{"value": "priya.raman@kestrel.example", "primary": true}]},
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "id": "u-lena", "userName": "dana.whitfield@kestrel.example", "active": true,
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeId": "E1008"}}
            ]}"#,
        );
        let (outcome, records) = run_records(Source::Scim, &[&path], Some("inventory"));
        assert_written(&outcome);
        let priya = &records["account/scim/u-priya"];
        assert_eq!(priya["suspected_principal"], "person/E1003");
        assert!(priya.get("principal").is_none(), "{priya}");
        assert_eq!(source(priya)["match"], "weak");
        // The strong key wins over a login that names someone else.
        let lena = &records["account/scim/u-lena"];
        assert_eq!(lena["principal"], "person/E1008");
        assert!(lena.get("suspected_principal").is_none());
        assert_eq!(source(lena)["match"], "strong");
    }

    #[test]
    fn groups_grant_their_members_and_nested_groups_grant_theirs() {
        let (outcome, records) = run_records(Source::Scim, &[USERS, GROUPS], Some("inventory"));
        assert_written(&outcome);
        assert_eq!(model_errors(&records), Vec::<String>::new());
        let grants: Vec<(&String, &Value)> = records
            .iter()
            .filter(|(id, _)| id.starts_with("grant/"))
            .collect();
        let of = |group: &str| {
            grants
                .iter()
                .filter(|(id, _)| id.starts_with(&format!("grant/scim/{group}")))
                .count()
        };
        // Engineering nests Platform (3), Payments (2) and Data (4).
        assert_eq!(of(ENGINEERING), 9);
        let dana_eng = grants
            .iter()
            .find(|(id, r)| {
                id.starts_with(&format!("grant/scim/{ENGINEERING}")) && r["account"] == DANA
            })
            .map(|(_, r)| *r)
            .expect("Dana holds Engineering through Platform");
        assert_eq!(dana_eng["entitlement"], "Engineering");
        assert_eq!(dana_eng["mode"], "group");
        assert_eq!(dana_eng["status"], "active");
        assert_eq!(dana_eng["system"], "scim");
        assert_eq!(source(dana_eng)["raw_status"], "indirect (via `Platform`)");
        // A deprovisioned user keeps her direct group (a residual grant).
        let hana_data = grants
            .iter()
            .find(|(_, r)| r["entitlement"] == "Data" && r["account"] == HANA)
            .map(|(_, r)| *r)
            .expect("Hana is still in Data");
        assert_eq!(source(hana_data)["raw_status"], "direct");
        assert_eq!(records[HANA]["status"], "disabled");
    }

    #[test]
    fn a_cycle_of_groups_ends_and_each_holds_the_others_members() {
        let (_dir, path) = scratch_export(
            "both.json",
            r#"{"totalResults": 3, "Resources": [
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "u1@x.example"},
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "ga", "displayName": "A",
               "members": [{"value": "gb", "type": "Group"}]},
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "gb", "displayName": "B",
               "members": [{"value": "ga"}, {"value": "u1", "type": "User"}]}
            ]}"#,
        );
        let (outcome, records) = run_records(Source::Scim, &[&path], None);
        assert_written(&outcome);
        let a = &records["grant/scim/ga/u1"];
        assert_eq!(a["entitlement"], "A");
        assert_eq!(source(a)["raw_status"], "indirect (via `B`)");
        assert_eq!(source(&records["grant/scim/gb/u1"])["raw_status"], "direct");
        assert_eq!(records.len(), 3);
    }

    #[test]
    fn members_are_skipped_without_users_and_refused_when_missing_from_them() {
        let (outcome, records) = run_records(Source::Scim, &[GROUPS], Some("inventory"));
        assert_written(&outcome);
        assert!(records.is_empty(), "{records:?}");

        let (outcome, written) = run(
            Source::Scim,
            &["tests/fixtures/import/scim/active-missing.json", GROUPS],
            Some("inventory"),
        );
        let refused = refusals(&outcome);
        assert!(written.is_empty());
        assert!(
            refused.contains("export-shape: `")
                && refused.contains("groups.json` at `$.Resources[1].members[0].value`: `a69b388d-cb83-439e-a64e-d01ded268f80` is not a user of this import"),
            "{refused}"
        );
        assert!(!refused.contains("8618a57b"), "Lena is a user: {refused}");
    }

    #[test]
    fn a_nested_group_the_import_lacks_and_an_unknown_member_type_are_refused() {
        let (_dir, path) = scratch_export(
            "groups.json",
            r#"{"totalResults": 1, "Resources": [
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "ga", "displayName": "A",
               "members": [{"value": "elsewhere", "type": "Group"}, {"value": "r1", "type": "Role"}]}
            ]}"#,
        );
        let (outcome, _) = run(Source::Scim, &[&path], None);
        let refused = refusals(&outcome);
        assert!(
            refused.contains("at `$.Resources[0].members[0].value`: `elsewhere` is a group this import does not hold"),
            "{refused}"
        );
        assert!(
            refused.contains("unknown-value: `")
                && refused.contains(
                    "at `$.Resources[0].members[1].type`: `Role` is not a SCIM member type"
                ),
            "{refused}"
        );
    }

    #[test]
    fn wrong_types_missing_envelopes_and_secrets_are_refused_by_path() {
        let (_dir, path) = scratch_export(
            "users.json",
            r#"{"totalResults": 2, "Resources": [
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "a@x.example",
               "active": "false"},
              {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u2", "userName": "b@x.example",
               "password": "correct horse battery staple",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "E1001"}
            ]}"#,
        );
        let (outcome, written) = run(Source::Scim, &[&path], None);
        let refused = refusals(&outcome);
        assert!(written.is_empty());
        assert!(
            refused.contains("export-shape: `")
                && refused
                    .contains("at `$.Resources[0].active`: expected a boolean, found a string"),
            "{refused}"
        );
        assert!(
            refused.contains("secret-in-export: `")
                && refused
                    .contains("at `$.Resources[1].password`: `password` holds a secret value"),
            "{refused}"
        );
        assert!(
            !refused.contains("battery"),
            "a secret is never quoted: {refused}"
        );
        assert!(
            refused.contains("at `$.Resources[1].urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`: expected an object, found a string"),
            "{refused}"
        );

        let (_dir, path) = scratch_export("page.json", r#"{"totalResults": 3}"#);
        let refused = refusals(&run(Source::Scim, &[&path], None).0);
        assert!(
            refused.contains("at `$.Resources`: no `Resources` list although `totalResults` is 3"),
            "{refused}"
        );
        let (_dir, path) = scratch_export("list.json", r#"[{"id": "u1"}]"#);
        let refused = refusals(&run(Source::Scim, &[&path], None).0);
        assert!(
            refused.contains("at `$`: expected a SCIM ListResponse"),
            "{refused}"
        );
    }
}
