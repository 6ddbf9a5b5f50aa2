//! Snipe-IT, the asset register: `GET /api/v1/hardware` (and, to resolve
//! assignees whose details the hardware payload leaves out, `GET
//! /api/v1/users`), both `{total, rows}`. The register is the authority
//! for what a device is and who holds it. Its dates are naive local times
//! in the app's time zone, so the import needs `--time-zone`.

use std::collections::HashMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::export::At;
use super::{Context, Finding, ImportCode, Match, Observed};
use crate::model::Kind;

const AUTHORITATIVE: &[&str] = &[
    "status",
    "asset_tag",
    "serial",
    "category",
    "ownership",
    "assigned_to",
];

/// A register user's employee number and email.
type UserKeys = (Option<String>, Option<String>);

/// Register users by Snipe-IT user id.
type Users = HashMap<String, UserKeys>;

/// Reads hardware lists, using any users lists among the exports to
/// resolve assignees.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let (parsed, mut findings) = super::export::parse_all(ctx.exports);
    let mut users = Users::new();
    let mut hardware = Vec::new();
    for (index, export, value) in &parsed {
        let root = At::root(export, value);
        let rows = match root.child("rows") {
            Some(rows) => rows.items(),
            None => Err(Box::new(root.finding(
                ImportCode::ExportShape,
                "no `rows` list: is this a Snipe-IT API response?",
            ))),
        };
        match rows {
            Ok(rows) => {
                // A users list has no asset tags.
                if rows.iter().any(|r| r.get("asset_tag").is_some()) {
                    hardware.extend(rows.into_iter().map(|r| (*index, r)));
                } else {
                    for row in rows {
                        match user(&row) {
                            Ok((id, entry)) => {
                                users.insert(id, entry);
                            }
                            Err(f) => findings.push(*f),
                        }
                    }
                }
            }
            Err(f) => findings.push(*f),
        }
    }
    // One refusal for the missing time zone, not one per asset.
    if ctx.time_zone.is_none()
        && let Some((_, row)) = hardware
            .iter()
            .find(|(_, r)| r.child("last_checkout").is_some())
    {
        findings.push(row.field_finding(
            "last_checkout",
            ImportCode::InvalidDate,
            "Snipe-IT dates carry no time zone: pass `--time-zone` with the app's (its `APP_TIMEZONE`)",
        ));
        return Err(findings);
    }
    let mut out = Vec::new();
    for (index, row) in hardware {
        match device(ctx, &users, &row, index) {
            Ok(o) => out.push(o),
            Err(f) => findings.push(*f),
        }
    }
    if findings.is_empty() {
        Ok(out)
    } else {
        Err(findings)
    }
}

fn user(row: &At<'_>) -> Result<(String, UserKeys), Box<Finding>> {
    let id = row.key_text("id")?.ok_or_else(|| {
        Box::new(row.field_finding("id", ImportCode::ExportShape, "the user has no `id`"))
    })?;
    Ok((
        id,
        (
            row.key_text("employee_num")?,
            row.str("email")?.map(str::to_string),
        ),
    ))
}

fn device(
    ctx: &Context<'_>,
    users: &Users,
    row: &At<'_>,
    index: usize,
) -> Result<Observed, Box<Finding>> {
    let record_id = row.key_text("id")?.ok_or_else(|| {
        Box::new(row.field_finding("id", ImportCode::ExportShape, "the asset has no `id`"))
    })?;
    let tag = row.key_text("asset_tag")?;
    let serial = row.str("serial")?.map(str::trim).filter(|s| !s.is_empty());
    let id = match (&tag, serial) {
        (Some(tag), _) => format!("device/{tag}"),
        (None, Some(serial)) => format!(
            "device/serial/{}",
            super::directory::normalise_serial(serial)
        ),
        (None, None) => format!("device/{}/{record_id}", ctx.system),
    };
    // `status` is the current key; `status_label` the legacy one.
    let label = row
        .child("status")
        .or_else(|| row.child("status_label"))
        .ok_or_else(|| {
            Box::new(row.field_finding(
                "status_label",
                ImportCode::ExportShape,
                "the asset has no status label",
            ))
        })?;
    // `status_type` is the label's kind; `status_meta` says `deployed`
    // whenever the asset is checked out, whatever its label. A pending
    // asset still checked out is on its way back; one checked in is back.
    let kind = label
        .str("status_type")?
        .or(label.str("status_meta")?)
        .unwrap_or("");
    let meta = label.str("status_meta")?.unwrap_or(kind);
    let assigned = row.child("assigned_to").is_some();
    let deleted = row.get("deleted_at").is_some();
    let status = match (deleted, kind, assigned) {
        (true, _, _) => "archived",
        (_, "deployed", _) | (_, "deployable", true) => "deployed",
        (_, "deployable", false) => "in_stock",
        (_, "pending", true) => "pending_return",
        (_, "pending", false) => "returned",
        (_, "undeployable", _) => "quarantined",
        (_, "archived", _) => "archived",
        (_, other, _) => {
            return Err(Box::new(label.field_finding(
                "status_type",
                ImportCode::UnknownValue,
                format!("`{other}` is not a Snipe-IT status type (`deployable`, `pending`, `undeployable` or `archived`)"),
            )));
        }
    };
    let mut o = Observed::record(Kind::Device, id, status, record_id, index);
    o.raw_status = Some(match label.str("name")? {
        Some(name) => format!("{name} ({meta})"),
        None => meta.to_string(),
    });
    o.authoritative_for = AUTHORITATIVE;
    o.text("asset_tag", tag.as_deref())
        .text("serial", serial)
        .text(
            "category",
            Some(category(
                row.child("category")
                    .and_then(|c| c.value.get("name"))
                    .and_then(|n| n.as_str())
                    .unwrap_or(""),
            )),
        );
    match row.bool("byod")? {
        Some(true) => o.text("ownership", Some("personal")),
        Some(false) => o.text("ownership", Some("company")),
        None => &mut o,
    };
    if let Some(assignee) = row.child("assigned_to") {
        match assignee.str("type")? {
            Some("user") => {
                let uid = assignee.key_text("id")?;
                let known = uid.as_deref().and_then(|u| users.get(u));
                let number = assignee
                    .key_text("employee_number")?
                    .or_else(|| known.and_then(|(n, _)| n.clone()));
                let email = assignee
                    .str("email")?
                    .map(str::to_string)
                    .or_else(|| known.and_then(|(_, e)| e.clone()));
                if let Some(person) = number
                    .as_deref()
                    .and_then(|n| ctx.directory.person_by_number(n))
                {
                    o.text("assigned_to", Some(person));
                    o.matched = Some(Match::Strong);
                } else if email
                    .as_deref()
                    .and_then(|e| ctx.directory.person_by_email(e))
                    .is_some()
                {
                    // A reclaim follows the assignee: an email alone does
                    // not name them firmly enough to ask a device back.
                    o.matched = Some(Match::Weak);
                }
            }
            Some("location") => {
                o.text("location", assignee.str("name")?);
            }
            _ => {}
        }
    }
    if let Some(checkout) = row.child("last_checkout") {
        let text = checkout.str("datetime")?;
        if let Some(text) = text {
            let tz = ctx.time_zone.ok_or_else(|| {
                Box::new(checkout.finding(
                    ImportCode::InvalidDate,
                    "Snipe-IT dates carry no time zone: pass `--time-zone` with the app's (its `APP_TIMEZONE`)",
                ))
            })?;
            o.time(
                "last_checkout",
                Some(naive(text, tz).ok_or_else(|| {
                    Box::new(checkout.field_finding(
                        "datetime",
                        ImportCode::InvalidDate,
                        format!("`{text}` is not a `Y-m-d H:i:s` date-time"),
                    ))
                })?),
            );
        }
    }
    Ok(o)
}

/// A naive `Y-m-d H:i:s` in the app's time zone, as an instant.
fn naive(text: &str, tz: &TimeZone) -> Option<jiff::Timestamp> {
    let dt = DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).ok()?;
    dt.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp())
}

/// The register's category name, as a device category.
fn category(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let has = |w: &str| n.contains(w);
    if has("lab") {
        "lab_system"
    } else if has("laptop") || has("notebook") {
        "laptop"
    } else if has("desktop") || has("workstation") {
        "desktop"
    } else if has("phone") || has("mobile") {
        "phone"
    } else if has("tablet") || has("ipad") {
        "tablet"
    } else if has("kiosk") {
        "kiosk"
    } else if has("server") {
        "server"
    } else if has("token") || has("security key") || has("yubikey") {
        "token"
    } else {
        "other"
    }
}
