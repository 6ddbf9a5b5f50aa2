//! Jamf Pro: `GET /api/v1/computers-inventory` with the `GENERAL`,
//! `HARDWARE` and `USER_AND_LOCATION` sections, `{totalCount, results}`.
//! Like Intune, device management adds an `mdm` block to the register's
//! record of the same serial (an `extends:` fragment), or, for hardware the
//! register does not hold, a record of its own. Sections are opt-in: a
//! section the request did not ask for is null, and what it would have said
//! is unknown, never false. Jamf's user is whatever was typed or looked up
//! for the device, so it joins a person by email only: a weak match.

use serde_json::{Map, Value};

use super::directory::normalise_serial;
use super::export::{At, list_at, read_lists};
use super::{Context, Finding, ImportCode, Match, Observed};
use crate::model::{Kind, format_time};

const AUTHORITATIVE: &[&str] = &["mdm"];

/// Reads computers-inventory pages.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_lists(
        ctx.exports,
        |root| list_at(root, "results", "a Jamf Pro `computers-inventory` response"),
        |c, index| computer(ctx, c, index).map(Some),
    )
}

fn computer(ctx: &Context<'_>, c: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = c.key_text("id")?.ok_or_else(|| {
        Box::new(c.field_finding("id", ImportCode::ExportShape, "the computer has no `id`"))
    })?;
    let general = c.child("general");
    let hardware = c.child("hardware");
    let user = c.child("userAndLocation");
    let serial = match &hardware {
        Some(h) => h
            .str("serialNumber")?
            .map(str::trim)
            .filter(|s| !s.is_empty()),
        None => None,
    };
    let tag = match &general {
        Some(g) => g.str("assetTag")?.map(str::trim).filter(|s| !s.is_empty()),
        None => None,
    };
    let mut mdm = Map::new();
    mdm.insert("provider".into(), Value::String(ctx.system.into()));
    mdm.insert("device_id".into(), Value::String(id.clone()));
    let email = match &user {
        Some(u) => u.str("email")?,
        None => None,
    };
    let person = email.and_then(|e| ctx.directory.person_by_email(e));
    if let Some(p) = person {
        mdm.insert("primary_user".into(), Value::String(p.into()));
    }
    let mut managed = None;
    if let Some(g) = &general {
        if let Some(t) = g.time("lastContactTime")? {
            mdm.insert("last_checkin".into(), Value::String(format_time(t)));
        }
        if let Some(rm) = g.child("remoteManagement") {
            managed = rm.bool("managed")?;
        }
    }
    // The register's record, by serial, then by asset tag.
    let registered = serial
        .and_then(|s| ctx.directory.device_by_serial(s))
        .or_else(|| tag.and_then(|t| ctx.directory.device_by_tag(t)));
    let mut o = match registered {
        Some(device) => Observed::fragment(Kind::Device, device.to_string(), id.clone(), index),
        None => {
            let record = match serial {
                Some(s) => format!("device/serial/{}", normalise_serial(s)),
                None => format!("device/{}/{id}", ctx.system),
            };
            let mut o = Observed::record(Kind::Device, record, "deployed", id.clone(), index);
            o.text("asset_tag", tag).text("serial", serial);
            // Jamf Pro manages Macs; the computers inventory holds nothing else.
            o.text("category", Some("laptop"));
            o
        }
    };
    o.raw_status = Some(match managed {
        Some(m) => format!("managed={m}"),
        None => "managed unknown (GENERAL not requested)".to_string(),
    });
    o.authoritative_for = AUTHORITATIVE;
    if person.is_some() {
        o.matched = Some(Match::Weak);
    }
    o.value("mdm", Value::Object(mdm));
    Ok(o)
}
