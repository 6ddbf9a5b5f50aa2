//! Secret material never enters the inventory. The list and read paths of
//! every supported source leave secrets out (SCIM `password` is never
//! returned, GCP returns `privateKeyData` only on create, GitHub only a
//! token's last eight characters), so a secret in an export means the wrong
//! file was exported: the import is refused, naming the field and row, and
//! the refusal never quotes the value (it would land in CI logs).

use serde_json::Value;

use super::export::{Export, Row, Table};
use super::{Finding, ImportCode};
use crate::diag::Severity;

/// Field names that hold a secret's value, compared lower-case with
/// punctuation dropped (`privateKeyData`, `private_key`, `client-secret`).
const SECRET_FIELDS: &[&str] = &[
    "password",
    "passphrase",
    "privatekey",
    "privatekeydata",
    "secret",
    "clientsecret",
    "secretkey",
    "secretaccesskey",
    "accesstoken",
    "refreshtoken",
    "sessiontoken",
    "idtoken",
    "token",
    "tokenvalue",
    "apikey",
    "apitoken",
];

/// Whether a field of this name holds a secret's value. Asked of every
/// key of every item of an export, so it compares without allocating.
fn secret_field(name: &str) -> bool {
    let squashed = || {
        name.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
    };
    SECRET_FIELDS
        .iter()
        .any(|field| field.bytes().eq(squashed()))
}

/// Whether a text is secret material whatever field holds it: a private
/// key block, or a token with a vendor's secret prefix.
fn secret_text(text: &str) -> Option<&'static str> {
    if text.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    let t = text.trim();
    let prefixed = |prefixes: &[&str]| {
        prefixes
            .iter()
            .any(|p| t.starts_with(p) && t.len() >= p.len() + 20)
    };
    if prefixed(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]) {
        return Some("a GitHub token");
    }
    if prefixed(&["xoxb-", "xoxp-", "xoxa-"]) {
        return Some("a Slack token");
    }
    None
}

/// Every secret in a JSON export, by path.
pub fn scan_json(export: &Export, value: &Value, out: &mut Vec<Finding>) {
    scan_json_at(export, value, &mut String::from("$"), out);
}

/// Every secret in a value at `path` of a JSON export (which is left as it
/// was), as [`scan_json`] of the whole export finds them there.
pub fn scan_json_at(export: &Export, value: &Value, path: &mut String, out: &mut Vec<Finding>) {
    walk(export, value, path, None, out);
}

/// `under` is the secret-named field an object or list sits in (Okta's
/// `credentials.password.value`): every text inside it is the secret.
fn walk(
    export: &Export,
    value: &Value,
    path: &mut String,
    under: Option<&str>,
    out: &mut Vec<Finding>,
) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                let secret_here = under.or(secret_field(key).then_some(key.as_str()));
                match v {
                    Value::String(s) if !s.trim().is_empty() && secret_here.is_some() => {
                        let field = secret_here.unwrap_or(key);
                        out.push(refusal(
                            export,
                            path,
                            &format!("`{field}` holds a secret value"),
                        ));
                    }
                    _ => walk(export, v, path, secret_here, out),
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (v, under) {
                    (Value::String(s), Some(field)) if !s.trim().is_empty() => {
                        out.push(refusal(
                            export,
                            path,
                            &format!("`{field}` holds a secret value"),
                        ));
                    }
                    _ => walk(export, v, path, under, out),
                }
                path.truncate(len);
            }
        }
        Value::String(s) => {
            if let Some(what) = secret_text(s) {
                out.push(refusal(export, path, &format!("the value is {what}")));
            }
        }
        _ => {}
    }
}

/// Every secret in a CSV export, by row and column.
pub fn scan_table(export: &Export, table: &Table, out: &mut Vec<Finding>) {
    for row in &table.rows {
        scan_row(export, &table.headers, row, out);
    }
}

/// Every secret in one row of a CSV export under `headers`.
pub fn scan_row(export: &Export, headers: &[String], row: &Row, out: &mut Vec<Finding>) {
    for (i, cell) in row.cells.iter().enumerate() {
        if cell.trim().is_empty() {
            continue;
        }
        let header = headers.get(i).map_or("", String::as_str);
        let what = if secret_field(header) {
            Some("a secret value".to_string())
        } else {
            secret_text(cell).map(str::to_string)
        };
        if let Some(what) = what {
            let line = row.line;
            out.push(Finding::new(
                ImportCode::SecretInExport,
                Severity::Error,
                format!(
                    "`{}` line {line}, column `{header}`: holds {what}; severance never imports secrets",
                    export.shown()
                ),
            ));
        }
    }
}

fn refusal(export: &Export, path: &str, what: &str) -> Finding {
    export.at_path(
        ImportCode::SecretInExport,
        path,
        format!("{what}; severance never imports secrets"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_are_recognised_however_they_are_spelt() {
        for name in [
            "privateKeyData",
            "private_key",
            "client-secret",
            "SecretAccessKey",
            "password",
        ] {
            assert!(secret_field(name), "{name}");
        }
        for name in [
            "token_last_eight",
            "token_name",
            "token_id",
            "token_expired",
            "key_id",
            "fingerprint",
        ] {
            assert!(!secret_field(name), "{name}");
        }
    }

    #[test]
    fn key_blocks_and_prefixed_tokens_are_secret_in_any_field() {
        assert!(secret_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc").is_some());
        assert!(secret_text("ghp_0123456789abcdefghijABCDEFGHIJ").is_some());
        assert!(secret_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE kestrel").is_none());
        assert!(secret_text("ghp_").is_none());
    }
}
