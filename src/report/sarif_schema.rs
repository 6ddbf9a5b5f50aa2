//! Where tests find the OASIS SARIF 2.1.0 schema: inside the `serde-sarif`
//! package that the build downloaded, so that a fresh clone needs nothing
//! beside it. Shared by the SARIF unit tests and the CLI tests.

use serde_json::Value;

/// The OASIS SARIF 2.1.0 schema, from the `serde-sarif` package the
/// build already downloaded (it ships the schema its types are made
/// from), so that a fresh clone needs nothing else.
pub fn oasis_schema() -> Value {
    let lock = include_str!("../../Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"serde-sarif\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .expect("serde-sarif is in Cargo.lock");
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME is set");
    let package = format!("serde-sarif-{version}");
    let registries = std::fs::read_dir(home.join("registry/src"))
        .unwrap_or_else(|e| panic!("cargo's registry sources under {home:?}: {e}"));
    let path = registries
        .filter_map(Result::ok)
        .map(|r| r.path().join(&package).join("src/schema.json"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{package}/src/schema.json in cargo's registry sources"));
    // The package ships the schema as first published, whose language
    // tag pattern is not a valid regular expression; errata 01 fixed it
    // to this. CI also runs Microsoft's SARIF validator, which carries
    // the errata schema.
    let text = std::fs::read_to_string(&path)
        .expect("schema readable")
        .replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    assert_eq!(
        schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "{path:?}"
    );
    schema
}
