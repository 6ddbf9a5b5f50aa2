//! ConductorOne Baton: the JSON of `baton resources -o json` and `baton
//! grants -o json`, the route to Baton's connectors (Okta, AWS, GitHub,
//! Jamf, BambooHR and a hundred more) through one shape. It is protojson:
//! a zero value is omitted, so a resource without `status` has an
//! unspecified status (unknown, never enabled by default; an account that
//! cannot be shown to be off is treated as live and says so in
//! `raw_status`). Users become accounts, secrets credentials, managed
//! devices `mdm` fragments of the register's records (on the serial, Baton's
//! own correlation key), and grants grants.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::directory::normalise_serial;
use super::export::At;
use super::{Context, Finding, ImportCode, Match, Observed};
use crate::model::Kind;

const TYPE_PREFIX: &str = "type.googleapis.com/c1.connector.v2.";

/// The listed users by Baton resource id: their account record's id, and
/// the person it joined on a strong key.
type Users = BTreeMap<(String, String), (String, Option<String>)>;

/// A resource's annotation of one trait, by its `@type`.
fn annotation<'a>(resource: &At<'a>, name: &str) -> Option<At<'a>> {
    let list = resource.child("annotations")?.items().ok()?;
    list.into_iter().find(|a| {
        a.value.get("@type").and_then(Value::as_str) == Some(&format!("{TYPE_PREFIX}{name}"))
    })
}

/// A Baton resource id: `{resourceType, resource}`.
fn resource_id(at: &At<'_>) -> Result<(String, String), Box<Finding>> {
    let id = at.child("id").ok_or_else(|| {
        Box::new(at.field_finding("id", ImportCode::ExportShape, "the resource has no `id`"))
    })?;
    Ok((
        id.req_str("resourceType")?.to_string(),
        id.req_str("resource")?.to_string(),
    ))
}

/// Reads resource and grant listings.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let (parsed, mut findings) = super::export::parse_all(ctx.exports);
    let mut out = Vec::new();
    // Users first: grants and secrets name them.
    let mut users: Users = BTreeMap::new();
    let mut grants = Vec::new();
    let mut others = Vec::new();
    for (index, export, value) in &parsed {
        let root = At::root(export, value);
        if let Some(list) = root.child("resources") {
            match list.items() {
                Ok(items) => {
                    for item in items {
                        let traits = item
                            .child("resourceType")
                            .and_then(|t| t.value.get("traits"))
                            .and_then(Value::as_array)
                            .map(|t| {
                                t.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect::<Vec<_>>()
                            })
                            .unwrap_or_default();
                        if traits.iter().any(|t| t == "TRAIT_USER") {
                            match account(ctx, &item, *index) {
                                Ok((key, o)) => {
                                    let person = (o.matched == Some(Match::Strong))
                                        .then(|| {
                                            o.fields
                                                .get("principal")
                                                .and_then(Value::as_str)
                                                .map(str::to_string)
                                        })
                                        .flatten();
                                    users.insert(key, (o.id.clone(), person));
                                    out.push(o);
                                }
                                Err(f) => findings.push(*f),
                            }
                        } else {
                            others.push((*index, item, traits));
                        }
                    }
                }
                Err(f) => findings.push(*f),
            }
        } else if let Some(list) = root.child("grants") {
            match list.items() {
                Ok(items) => grants.extend(items.into_iter().map(|g| (*index, g))),
                Err(f) => findings.push(*f),
            }
        } else {
            findings.push(root.finding(
                ImportCode::ExportShape,
                "neither `resources` nor `grants`: is this `baton resources -o json` or `baton grants -o json`?",
            ));
        }
    }
    for (index, item, traits) in others {
        let made = if traits.iter().any(|t| t == "TRAIT_SECRET") {
            secret(ctx, &users, &item, index).map(Some)
        } else if traits.iter().any(|t| t == "TRAIT_MANAGED_DEVICE") {
            device(ctx, &item, index).map(Some)
        } else {
            // Roles, groups and apps are what grants point at.
            Ok(None)
        };
        match made {
            Ok(Some(o)) => out.push(o),
            Ok(None) => {}
            Err(f) => findings.push(*f),
        }
    }
    for (index, g) in grants {
        match grant(ctx, &users, &g, index) {
            Ok(Some(o)) => out.push(o),
            Ok(None) => {}
            Err(f) => findings.push(*f),
        }
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

/// `Resource.status`, falling back to the deprecated `UserTrait.status`.
fn status_word(resource: &At<'_>, trait_: Option<&At<'_>>) -> Result<Option<String>, Box<Finding>> {
    if let Some(s) = resource.child("status") {
        return Ok(s.str("status")?.map(str::to_string));
    }
    match trait_.and_then(|t| t.child("status")) {
        Some(s) => Ok(s.str("status")?.map(str::to_string)),
        None => Ok(None),
    }
}

fn account(
    ctx: &Context<'_>,
    item: &At<'_>,
    index: usize,
) -> Result<((String, String), Observed), Box<Finding>> {
    let resource = item.child("resource").ok_or_else(|| {
        Box::new(item.field_finding("resource", ImportCode::ExportShape, "no `resource`"))
    })?;
    let (kind, rid) = resource_id(&resource)?;
    let trait_ = annotation(&resource, "UserTrait");
    let raw = status_word(&resource, trait_.as_ref())?;
    let status = match raw.as_deref() {
        Some("RESOURCE_STATUS_ENABLED" | "STATUS_ENABLED") => "enabled",
        Some("RESOURCE_STATUS_DISABLED" | "STATUS_DISABLED") => "disabled",
        Some("RESOURCE_STATUS_DELETED" | "STATUS_DELETED") => "deleted",
        Some("RESOURCE_STATUS_UNSPECIFIED" | "STATUS_UNSPECIFIED") | None => "enabled",
        Some(other) => {
            return Err(Box::new(resource.field_finding(
                "status",
                ImportCode::UnknownValue,
                format!("`{other}` is not a Baton resource status"),
            )));
        }
    };
    let mut o = Observed::record(
        Kind::Account,
        format!("account/{}/{rid}", ctx.system),
        status,
        rid.clone(),
        index,
    );
    o.raw_status = Some(raw.unwrap_or_else(|| "status omitted (unspecified)".to_string()));
    o.authoritative_for = &["status", "login"];
    o.text("system", Some(ctx.system));
    if let Some(t) = &trait_ {
        o.text("login", t.str("login")?);
        let number = t
            .value
            .get("employeeIds")
            .and_then(Value::as_array)
            .and_then(|ids| ids.first())
            .and_then(Value::as_str);
        let emails: Vec<String> = t
            .value
            .get("emails")
            .and_then(Value::as_array)
            .map(|es| {
                es.iter()
                    .filter_map(|e| e.get("address")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(person) = number.and_then(|n| ctx.directory.person_by_number(n)) {
            o.text("principal", Some(person));
            o.matched = Some(Match::Strong);
        } else if let Some(person) = emails
            .iter()
            .map(String::as_str)
            .chain(t.str("login")?)
            .find_map(|e| ctx.directory.person_by_email(e))
        {
            o.text("suspected_principal", Some(person));
            o.matched = Some(Match::Weak);
        }
        let account_type = match t.str("accountType")? {
            Some("ACCOUNT_TYPE_SERVICE") => "service",
            Some("ACCOUNT_TYPE_SYSTEM") => "system",
            _ => "human",
        };
        o.text("account_type", Some(account_type))
            .time("last_login", t.time("lastLogin")?);
    }
    Ok(((kind, rid), o))
}

fn secret(
    ctx: &Context<'_>,
    users: &Users,
    item: &At<'_>,
    index: usize,
) -> Result<Observed, Box<Finding>> {
    let resource = item.child("resource").ok_or_else(|| {
        Box::new(item.field_finding("resource", ImportCode::ExportShape, "no `resource`"))
    })?;
    let (_, rid) = resource_id(&resource)?;
    let raw = status_word(&resource, None)?;
    let status = match raw.as_deref() {
        Some("RESOURCE_STATUS_DISABLED") => "inactive",
        Some("RESOURCE_STATUS_DELETED") => "revoked",
        _ => "active",
    };
    let trait_ = annotation(&resource, "SecretTrait");
    let detail = trait_
        .as_ref()
        .and_then(|t| t.value.get("credentialDetail"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let cred_type = match (
        trait_
            .as_ref()
            .and_then(|t| t.value.get("credentialType"))
            .and_then(Value::as_str),
        detail,
    ) {
        (_, d) if d.contains("access_key") => "access_key",
        (_, d) if d.contains("enrollment") => "enrollment_token",
        (_, d) if d.contains("ssh") => "ssh_key",
        (Some("CREDENTIAL_TYPE_CERTIFICATE"), _) => "certificate",
        (Some("CREDENTIAL_TYPE_ASYMMETRIC_KEY"), _) => "ssh_key",
        _ => "api_key",
    };
    let mut o = Observed::record(
        Kind::Credential,
        format!("credential/{}/{rid}", ctx.system),
        status,
        rid,
        index,
    );
    o.raw_status = Some(raw.unwrap_or_else(|| "status omitted (unspecified)".to_string()));
    o.authoritative_for = &["status", "expires_at", "last_used"];
    o.text("cred_type", Some(cred_type))
        .text("display_name", resource.str("displayName")?)
        .text("system", Some(ctx.system));
    if let Some(t) = &trait_ {
        if let Some(identity) = t.child("identityId")
            && let (Some(k), Some(r)) = (identity.str("resourceType")?, identity.str("resource")?)
            && let Some((account, _)) = users.get(&(k.to_string(), r.to_string()))
        {
            o.text("bound_to", Some(account));
        }
        o.time("expires_at", t.time("expiresAt")?)
            .time("last_used", t.time("lastUsedAt")?);
        // The creator is an account of this connector; the person behind
        // it is known only when the account joined one on a strong key.
        if let Some(creator) = t.child("createdById") {
            let key = (
                creator.str("resourceType")?.unwrap_or("").to_string(),
                creator.str("resource")?.unwrap_or("").to_string(),
            );
            match users.get(&key) {
                Some((_, Some(person))) => {
                    o.text("created_by", Some(person));
                    o.matched = Some(Match::Strong);
                }
                _ => {
                    o.raw_status = Some(format!(
                        "{}; created by {}",
                        o.raw_status.take().unwrap_or_default(),
                        key.1
                    ));
                }
            }
        }
    }
    Ok(o)
}

fn device(ctx: &Context<'_>, item: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let resource = item.child("resource").ok_or_else(|| {
        Box::new(item.field_finding("resource", ImportCode::ExportShape, "no `resource`"))
    })?;
    let (_, rid) = resource_id(&resource)?;
    let trait_ = annotation(&resource, "ManagedDeviceTrait");
    let serial = match &trait_ {
        Some(t) => t.str("serial")?.map(str::trim).filter(|s| !s.is_empty()),
        None => None,
    };
    let mut mdm = Map::new();
    mdm.insert("provider".into(), Value::String(ctx.system.into()));
    mdm.insert("device_id".into(), Value::String(rid.clone()));
    if let Some(c) = trait_
        .as_ref()
        .and_then(|t| t.value.get("compliance"))
        .and_then(Value::as_str)
    {
        mdm.insert(
            "compliance".into(),
            Value::String(c.trim_start_matches("COMPLIANCE_").to_lowercase()),
        );
    }
    let registered = serial.and_then(|s| ctx.directory.device_by_serial(s));
    let mut o = match registered {
        Some(device) => Observed::fragment(Kind::Device, device.to_string(), rid.clone(), index),
        None => {
            let record = match serial {
                Some(s) => format!("device/serial/{}", normalise_serial(s)),
                None => format!("device/{}/{rid}", ctx.system),
            };
            let mut o = Observed::record(Kind::Device, record, "deployed", rid.clone(), index);
            let category = match trait_
                .as_ref()
                .and_then(|t| t.value.get("deviceType"))
                .and_then(Value::as_str)
            {
                Some("DEVICE_TYPE_LAPTOP") => "laptop",
                Some("DEVICE_TYPE_DESKTOP") => "desktop",
                Some("DEVICE_TYPE_PHONE" | "DEVICE_TYPE_MOBILE") => "phone",
                Some("DEVICE_TYPE_TABLET") => "tablet",
                Some("DEVICE_TYPE_SERVER") => "server",
                _ => "other",
            };
            o.text("serial", serial).text("category", Some(category));
            if let Some(t) = &trait_ {
                match t.bool("isPersonal")? {
                    Some(true) => o.text("ownership", Some("personal")),
                    Some(false) => o.text("ownership", Some("company")),
                    None => &mut o,
                };
            }
            o
        }
    };
    o.raw_status = trait_
        .as_ref()
        .and_then(|t| t.value.get("managementState"))
        .and_then(Value::as_str)
        .map(str::to_string);
    o.authoritative_for = &["mdm"];
    o.value("mdm", Value::Object(mdm));
    Ok(o)
}

fn grant(
    ctx: &Context<'_>,
    users: &Users,
    g: &At<'_>,
    index: usize,
) -> Result<Option<Observed>, Box<Finding>> {
    let inner = g
        .child("grant")
        .ok_or_else(|| Box::new(g.field_finding("grant", ImportCode::ExportShape, "no `grant`")))?;
    let gid = inner.req_str("id")?;
    let principal = inner
        .child("principal")
        .or_else(|| g.child("principal"))
        .ok_or_else(|| {
            Box::new(inner.field_finding(
                "principal",
                ImportCode::ExportShape,
                "the grant has no `principal`",
            ))
        })?;
    let (pk, pr) = resource_id(&principal)?;
    let Some((account, _)) = users.get(&(pk.clone(), pr.clone())) else {
        // A grant to a group or role (expanded into users' grants by Baton)
        // or to a user not in the listing: nothing to hold it.
        if pk == "user" {
            return Err(Box::new(principal.finding(
                ImportCode::ExportShape,
                format!("the grant's principal `{pr}` is not among the listed users: import `baton resources` with the grants"),
            )));
        }
        return Ok(None);
    };
    let entitlement = inner
        .child("entitlement")
        .or_else(|| g.child("entitlement"));
    let name = match &entitlement {
        Some(e) => e
            .str("displayName")?
            .or(e.str("slug")?)
            .or(e.str("id")?)
            .map(str::to_string),
        None => None,
    }
    .ok_or_else(|| {
        Box::new(inner.finding(ImportCode::ExportShape, "the grant names no entitlement"))
    })?;
    let mut o = Observed::record(
        Kind::Grant,
        format!("grant/{}/{gid}", ctx.system),
        "active",
        gid.to_string(),
        index,
    );
    o.authoritative_for = &["status", "entitlement", "account"];
    o.text("system", Some(ctx.system))
        .text("entitlement", Some(&name))
        .text("account", Some(account));
    Ok(Some(o))
}
