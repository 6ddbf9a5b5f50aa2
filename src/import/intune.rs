//! Microsoft Intune: `GET /deviceManagement/managedDevices` (Graph,
//! `{value: [...]}`, paged by `@odata.nextLink`). Device management adds
//! what it sees to the register's record of the same hardware, joined on
//! the serial number: an `extends:` fragment with the `mdm` block. A device
//! the register does not hold becomes a record of its own (an unregistered
//! device, or a personal phone). The MDM's user is named by a UPN, which
//! joins a person by email only: a weak match.

use serde_json::{Map, Value};

use super::directory::normalise_serial;
use super::export::{At, list_at, read_lists};
use super::{Context, Finding, ImportCode, Match, Observed};
use crate::model::{Kind, format_time};

const AUTHORITATIVE: &[&str] = &["mdm"];

/// Reads managed-device pages.
pub fn read(ctx: &mut Context<'_>) -> Result<Vec<Observed>, Vec<Finding>> {
    let ctx: &Context<'_> = ctx;
    read_lists(
        ctx.exports,
        |root| list_at(root, "value", "a Graph `managedDevices` response"),
        |d, index| device(ctx, d, index).map(Some),
    )
}

const COMPLIANCE: &[&str] = &[
    "unknown",
    "compliant",
    "noncompliant",
    "conflict",
    "error",
    "inGracePeriod",
    "configManager",
];

fn device(ctx: &Context<'_>, d: &At<'_>, index: usize) -> Result<Observed, Box<Finding>> {
    let id = d.req_str("id")?;
    let serial = d
        .str("serialNumber")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut mdm = Map::new();
    mdm.insert("provider".into(), Value::String(ctx.system.into()));
    mdm.insert("device_id".into(), Value::String(id.into()));
    let upn = d.str("userPrincipalName")?.or(d.str("emailAddress")?);
    let user = upn.and_then(|u| ctx.directory.person_by_email(u));
    if let Some(person) = user {
        mdm.insert("primary_user".into(), Value::String(person.into()));
    }
    if let Some(t) = d.time("lastSyncDateTime")? {
        mdm.insert("last_checkin".into(), Value::String(format_time(t)));
    }
    if let Some(c) = d.str("complianceState")? {
        if !COMPLIANCE.contains(&c) {
            return Err(Box::new(d.field_finding(
                "complianceState",
                ImportCode::UnknownValue,
                format!("`{c}` is not an Intune compliance state"),
            )));
        }
        mdm.insert("compliance".into(), Value::String(c.into()));
    }
    // Without a serial (personal devices often report none) the device's
    // name is tried as an asset tag: many organisations name enrolled
    // devices after their tag. `raw_status` says which join held.
    let by_serial = serial.and_then(|s| ctx.directory.device_by_serial(s));
    let by_name = match (by_serial, serial) {
        (None, None) => d
            .str("deviceName")?
            .and_then(|n| ctx.directory.device_by_tag(n)),
        _ => None,
    };
    let registered = by_serial.or(by_name);
    let mut o = match registered {
        Some(device) => Observed::fragment(Kind::Device, device.to_string(), id.to_string(), index),
        None => {
            let record = match serial {
                Some(s) => format!("device/serial/{}", normalise_serial(s)),
                None => format!("device/{}/{id}", ctx.system),
            };
            let mut o = Observed::record(Kind::Device, record, "deployed", id.to_string(), index);
            o.text("serial", serial).text(
                "category",
                Some(category(d.str("operatingSystem")?.unwrap_or(""))),
            );
            match d.str("managedDeviceOwnerType")? {
                Some("personal") => o.text("ownership", Some("personal")),
                Some("company") => o.text("ownership", Some("company")),
                _ => &mut o,
            };
            o
        }
    };
    let state = d
        .str("deviceRegistrationState")?
        .unwrap_or("registration unknown");
    o.raw_status = Some(if by_name.is_some() {
        format!("{state}; joined on deviceName (no serial)")
    } else {
        state.to_string()
    });
    o.authoritative_for = AUTHORITATIVE;
    if user.is_some() {
        o.matched = Some(Match::Weak);
    }
    o.value("mdm", Value::Object(mdm));
    Ok(o)
}

fn category(os: &str) -> &'static str {
    match os.to_lowercase().as_str() {
        "ios" | "android" | "androidforwork" | "androidenterprise" => "phone",
        "ipados" => "tablet",
        "windows" | "macos" | "macmdm" | "linux" => "laptop",
        _ => "other",
    }
}
