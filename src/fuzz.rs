//! Fuzz targets: every parser that reads hostile input, as a function of
//! bytes that must return (never panic, never abort) whatever it is given.
//! The test suite drives each one on stable Rust, with a fixed seed and a
//! bounded number of inputs: mutations of real files, raw bytes and deeply
//! nested text. A coverage-guided fuzzer (`cargo fuzz`, AFL) can call the
//! same functions for as long as it likes; `SEVERANCE_FUZZ_CASES` raises the
//! count of the built-in driver for a longer run.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::diag::SourceFile;
use crate::load::{Limits, PolicySources};

/// An inventory file: decoding, YAML, records, then validation of the
/// records it holds (links, kinds, values, dates). The first byte, when odd,
/// makes the rest the inventory's `waivers.yaml` too.
pub fn inventory_file(data: &[u8]) {
    let (as_waivers, bytes) = match data.split_first() {
        Some((first, rest)) => (first % 2 == 1, rest.to_vec()),
        None => (false, Vec::new()),
    };
    let records = vec![(PathBuf::from("inventory/fuzz.yaml"), bytes.clone())];
    let waivers = if as_waivers {
        vec![(PathBuf::from("inventory/waivers.yaml"), bytes)]
    } else {
        Vec::new()
    };
    let raw =
        crate::load::build_inventory(records, waivers, Vec::new(), &Limits::default(), |_, b| {
            Ok(b)
        });
    let _ = crate::validate::validate_inventory(raw);
}

/// The default pack's schema: the policy target varies the policies.
fn default_schema() -> &'static str {
    include_str!("../policies/schema.cedarschema")
}

/// A policy file, checked against the default schema: parsing, annotations,
/// strict validation, levels.
pub fn policy_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    policies(default_schema(), text);
}

/// A schema file, with one small policy that must be checked against it.
pub fn schema_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    policies(
        text,
        "@id(\"p\")\n@description(\"d\")\n@control(\"AC-2\")\npermit (principal, action, resource);\n",
    );
}

fn policies(schema: &str, policy: &str) {
    let sources = PolicySources {
        schema: SourceFile::new("policies/schema.cedarschema", schema.to_string()),
        policies: vec![SourceFile::new("policies/fuzz.cedar", policy.to_string())],
    };
    let _ = crate::validate::validate_policies(sources);
}

/// One line of `entries.jsonl`: the canonical-JSON reader, the canonical
/// check and the schema of every entry type.
pub fn ledger_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::ledger::jcs::parse(line);
    let _ = crate::ledger::jcs::parse_checked(line);
    let _ = crate::ledger::entry::check_line(line);
}

/// A checkpoint note and the key files beside it.
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(checkpoint) = crate::ledger::note::Checkpoint::parse(text)
        && let Ok(key) = crate::ledger::VerifierKey::parse(fuzz_verifier())
    {
        let _ = crate::ledger::note::check_signature(&checkpoint, &key);
    }
    let _ = crate::ledger::VerifierKey::parse(text);
    let _ = crate::ledger::SignerKey::parse(text);
}

/// A verifier key the checkpoint target checks signatures against.
fn fuzz_verifier() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        crate::ledger::SignerKey::generate("fuzz.example/log")
            .map(|k| k.verifier().encode())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    //! The stable driver: seeds from the repository (the sample inventory,
    //! the default pack, the ledger test vectors), mutated byte-wise; raw
    //! bytes; and nesting far past every limit. Each case must return.

    use std::path::Path;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};

    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// Every file under `dir` whose name ends in one of `extensions`.
    fn files(dir: &str, extensions: &[&str]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(root().join(dir))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let name = entry.file_name().to_string_lossy().to_string();
            if extensions.iter().any(|x| name.ends_with(x)) {
                out.push(std::fs::read(entry.path()).expect("seed readable"));
            }
        }
        assert!(!out.is_empty(), "seeds under {dir}");
        out
    }

    /// Each line of every `entries.jsonl` of the vectors, and each checkpoint.
    fn ledger_seeds() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut lines = Vec::new();
        for file in files("tests/vectors/ledger", &["entries.jsonl"]) {
            lines.extend(file.split(|b| *b == b'\n').map(<[u8]>::to_vec));
        }
        let checkpoints = files("tests/vectors/ledger", &["checkpoint", ".pub"]);
        (lines, checkpoints)
    }

    /// Cases per target: a bounded run by default, longer on request.
    fn cases(default: u32) -> u32 {
        std::env::var("SEVERANCE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// One edit of a seed: flip, insert, delete, or repeat a slice.
    #[derive(Debug, Clone)]
    enum Edit {
        Flip(usize, u8),
        Insert(usize, Vec<u8>),
        Delete(usize, usize),
        Repeat(usize, usize, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
            (
                any::<usize>(),
                prop::collection::vec(
                    prop_oneof![
                        any::<u8>(),
                        prop::sample::select(b"{}[]()\"':-&*!|>#\n \t\\?,;=".to_vec())
                    ],
                    1..16
                )
            )
                .prop_map(|(i, b)| Edit::Insert(i, b)),
            (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
            (any::<usize>(), 1usize..32, 2usize..64).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
        ]
    }

    fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for e in edits {
            let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
            match e {
                Edit::Flip(i, b) if !out.is_empty() => {
                    let i = i % out.len();
                    out[i] ^= b | 1;
                }
                Edit::Flip(..) => {}
                Edit::Insert(i, bytes) => {
                    let i = at(*i, out.len());
                    out.splice(i..i, bytes.iter().copied());
                }
                Edit::Delete(i, n) => {
                    let i = at(*i, out.len());
                    let end = (i + n).min(out.len());
                    out.drain(i..end);
                }
                Edit::Repeat(i, n, k) => {
                    let i = at(*i, out.len());
                    let end = (i + n).min(out.len());
                    let piece = out[i..end].to_vec();
                    for _ in 1..*k {
                        out.splice(end..end, piece.iter().copied());
                    }
                }
            }
        }
        out
    }

    /// Inputs for one target: a mutated seed, raw bytes, or one of the
    /// seeds' bracketing characters nested deeply.
    fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        let n = seeds.len();
        let mutated = (0..n, prop::collection::vec(edit(), 1..8))
            .prop_map(move |(i, edits)| apply(&seeds[i], &edits));
        let raw = prop::collection::vec(any::<u8>(), 0..512);
        let nested = (
            prop::sample::select(vec![
                ("(", ")"),
                ("[", "]"),
                ("{", "}"),
                ("if true then ", " else 1"),
                ("- ", ""),
                ("a:\n ", ""),
                ("[", ""),
            ]),
            1usize..3000,
        )
            .prop_map(|((open, close), depth)| {
                let mut s = open.repeat(depth);
                s.push('1');
                s.push_str(&close.repeat(depth));
                s.into_bytes()
            });
        prop_oneof![6 => mutated, 2 => raw, 1 => nested]
    }

    fn drive(name: &str, seeds: Vec<Vec<u8>>, default_cases: u32, target: fn(&[u8])) {
        let config = Config {
            cases: cases(default_cases),
            rng_seed: RngSeed::Fixed(0x5e7e_f022),
            failure_persistence: None,
            ..Config::default()
        };
        // Seeds themselves first: a target that fails on real input is
        // the cheapest finding there is.
        for seed in &seeds {
            target(seed);
        }
        let mut runner = TestRunner::new(config);
        let result = runner.run(&inputs(seeds), |input| {
            target(&input);
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz target `{name}`: {e}");
        }
    }

    #[test]
    fn inventory_files_never_panic() {
        let mut seeds = files("inventory", &[".yaml"]);
        seeds.extend(files("tests/fixtures/invalid", &[".yaml"]));
        drive("inventory_file", seeds, 400, inventory_file);
    }

    #[test]
    fn policy_files_never_panic() {
        let mut seeds = files("policies", &[".cedar"]);
        // Nesting inside a real condition: Cedar's own parser recurses
        // without a bound (a stack overflow), and its level check doubles
        // its work with each nested `if`.
        for (open, close) in [("(", ")"), ("[", "]"), ("if true then ", " else false")] {
            seeds.push(
                format!(
                    "@id(\"deep\")\n@description(\"d\")\n@control(\"AC-2\")\npermit (principal, action, resource is Severance::Device) when {{ {}resource.status == \"lost\"{} }};\n",
                    open.repeat(600),
                    close.repeat(600)
                )
                .into_bytes(),
            );
        }
        drive("policy_file", seeds, 120, policy_file);
    }

    #[test]
    fn schema_files_never_panic() {
        drive(
            "schema_file",
            files("policies", &[".cedarschema"]),
            40,
            schema_file,
        );
    }

    #[test]
    fn ledger_lines_never_panic() {
        drive("ledger_line", ledger_seeds().0, 1500, ledger_line);
    }

    #[test]
    fn checkpoints_never_panic() {
        drive("checkpoint", ledger_seeds().1, 1500, checkpoint);
    }
}
