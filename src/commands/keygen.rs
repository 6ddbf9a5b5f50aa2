//! `severance keygen`: a new Ed25519 key for a ledger (or an approver), the
//! private half readable by its owner only.

use std::io::Write;

use super::KeygenSettings;
use crate::error::{Error, Key};
use crate::exit::ExitStatus;
use crate::ledger::SignerKey;

fn write_new(path: &std::path::Path, text: &str, private: bool) -> Result<(), Error> {
    let key_error = |message: String| Key {
        path: path.display().to_string(),
        message,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options
        .open(path)
        .map_err(|e| key_error(create_failure(path, &e)))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| key_error(format!("could not write: {e}")))?;
    Ok(())
}

/// Why a key file could not be created, in words that point at the fix.
fn create_failure(path: &std::path::Path, e: &std::io::Error) -> String {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            "already exists; an existing key is never overwritten".to_string()
        }
        std::io::ErrorKind::NotFound => format!(
            "the directory `{}` does not exist; create it first (keygen makes no directories)",
            dir.display()
        ),
        _ => format!("could not create: {e}"),
    }
}

pub(super) fn run(settings: &KeygenSettings, out: &mut dyn Write) -> Result<ExitStatus, Error> {
    let key = SignerKey::generate(&settings.name).map_err(|e| Key {
        path: settings.out.display().to_string(),
        message: e.0,
    })?;
    let public = settings.out.with_file_name(format!(
        "{}.pub",
        settings
            .out
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    if public.exists() {
        return Err(Key {
            path: public.display().to_string(),
            message: "already exists; an existing key is never overwritten".into(),
        }
        .into());
    }
    write_new(&settings.out, &format!("{}\n", key.encode()), true)?;
    write_new(&public, &format!("{}\n", key.verifier().encode()), false)?;
    writeln!(
        out,
        "private key: {} (mode 0600; keep it secret)",
        settings.out.display()
    )?;
    writeln!(out, "verifier key: {}", public.display())?;
    writeln!(out, "{}", key.verifier().encode())?;
    Ok(ExitStatus::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keygen(out: std::path::PathBuf) -> String {
        let settings = KeygenSettings {
            name: "test.example/log".into(),
            out,
        };
        match run(&settings, &mut Vec::new()) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn failures_say_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = keygen(dir.path().join("no/such/dir/log.key"));
        assert!(
            missing.contains("does not exist; create it first"),
            "{missing}"
        );
        assert!(!missing.contains("overwritten"), "{missing}");
        assert_eq!(keygen(dir.path().join("log.key")), "");
        let again = keygen(dir.path().join("log.key"));
        assert!(again.contains("never overwritten"), "{again}");
    }
}
