//! Keys and checkpoints in the C2SP formats (`signed-note`,
//! `tlog-checkpoint`), so that any transparency-log tooling, and an auditor's
//! own script, can check what severance signs:
//!
//! ```text
//! <origin>
//! <size>
//! <base64 root>
//!
//! — <key name> <base64(key id ‖ Ed25519 signature)>
//! ```
//!
//! Keys use the Go `sumdb/note` encodings: `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`
//! and `<name>+<hex id>+<base64(0x01 ‖ public key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The algorithm byte of an Ed25519 key in the note encodings.
const ED25519: u8 = 0x01;

/// Why a key or note was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteError(pub String);

impl std::fmt::Display for NoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, NoteError> {
    Err(NoteError(m.into()))
}

/// Characters a key name may not hold, as inclusive ranges: the C2SP
/// signed-note spaces, and every control, format (bidi controls, zero-width
/// characters), filler, variation selector, tag and noncharacter, so that
/// no two names that look the same differ in invisible code points. A fixed
/// table rather than a Unicode property, so that tools/verify_ledger.py
/// (which holds the same table) agrees whatever Unicode version either side
/// was built with.
pub const NOT_IN_NAMES: &[(u32, u32)] = &[
    (0x0000, 0x0020),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x1680, 0x1680),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x2800, 0x2800),
    (0x3000, 0x3000),
    (0x3164, 0x3164),
    (0xD800, 0xDFFF),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0xFFFE, 0xFFFF),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Key names (and so origins) are non-empty and hold no `+`, no whitespace
/// (C2SP signed-note) and no control or invisible character
/// ([`NOT_IN_NAMES`]).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| {
            c == '+'
                || c.is_whitespace()
                || c.is_control()
                || NOT_IN_NAMES
                    .iter()
                    .any(|&(lo, hi)| (lo..=hi).contains(&(c as u32)))
        })
}

/// A key name as it can be shown: invisible characters escaped.
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| {
            if valid_name(c.encode_utf8(&mut [0; 4])) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4]`.
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Standard base64 with padding, refusing any but the canonical spelling.
pub(crate) fn decode_b64(s: &str) -> Result<Vec<u8>, NoteError> {
    let bytes = STANDARD
        .decode(s)
        .map_err(|e| NoteError(format!("invalid base64: {e}")))?;
    // Only the canonical encoding is accepted, so one value has one spelling.
    if STANDARD.encode(&bytes) != s {
        return err("non-canonical base64");
    }
    Ok(bytes)
}

/// A public key an auditor pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key (and log) name.
    pub name: String,
    /// The 4-byte key id.
    pub id: [u8; 4],
    /// The Ed25519 key.
    pub key: VerifyingKey,
}

impl VerifierKey {
    /// Parses `<name>+<hex id>+<base64(0x01 ‖ key)>`, refusing weak keys
    /// and ids that do not match the key.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let text = text.trim_end_matches('\n');
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return err("a verifier key is `<name>+<hex key id>+<base64 key>`");
        };
        if !valid_name(name) {
            return err(format!("invalid key name `{}`", shown(name)));
        }
        let bytes = decode_b64(b64)?;
        let [alg, rest @ ..] = bytes.as_slice() else {
            return err("empty key");
        };
        if *alg != ED25519 {
            return err(format!(
                "unsupported key type {alg:#04x}; only Ed25519 (0x01) is supported"
            ));
        }
        let Ok(public) = <[u8; 32]>::try_from(rest) else {
            return err("an Ed25519 public key is 32 bytes");
        };
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError("not an Ed25519 point".into()))?;
        if key.is_weak() {
            return err("weak (small-order) Ed25519 key refused");
        }
        let id = key_id(name, &public);
        if id_hex.len() != 8 || hex::encode(id) != id_hex {
            return err(format!(
                "key id `{id_hex}` does not match the key (expected `{}`)",
                hex::encode(id)
            ));
        }
        Ok(VerifierKey {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The encoded form.
    pub fn encode(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            STANDARD.encode(bytes)
        )
    }

    /// `<name>+<hex id>`, a short way to name the key.
    pub fn short(&self) -> String {
        format!("{}+{}", self.name, hex::encode(self.id))
    }

    /// Verifies a signature strictly (no malleable or small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok()
    }
}

/// A private signing key. Its secret never appears in `Debug` output.
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({})", self.verifier().short())
    }
}

impl SignerKey {
    /// A new key with 32 bytes from the operating system's random source.
    pub fn generate(name: &str) -> Result<SignerKey, NoteError> {
        if !valid_name(name) {
            return err(format!(
                "invalid key name `{}`: a name holds no spaces, `+`, control or invisible characters",
                shown(name)
            ));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NoteError(format!("no randomness: {e}")))?;
        let key = SignerKey::from_seed(name, seed);
        if key.key.verifying_key().is_weak() {
            return err("generated a weak key; refusing it");
        }
        Ok(key)
    }

    /// A key from a fixed seed (test vectors).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> SignerKey {
        SignerKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    /// Error messages never contain the secret.
    pub fn parse(text: &str) -> Result<SignerKey, NoteError> {
        let text = text.trim_end_matches('\n');
        let Some(rest) = text.strip_prefix("PRIVATE+KEY+") else {
            return err("a private key starts with `PRIVATE+KEY+`");
        };
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return err("a private key is `PRIVATE+KEY+<name>+<hex key id>+<base64 seed>`");
        };
        if !valid_name(name) {
            return err(format!("invalid key name `{}`", shown(name)));
        }
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| NoteError("the private key is not valid base64".into()))?;
        let Some((&ED25519, seed)) = bytes.split_first() else {
            return err("not an Ed25519 private key");
        };
        let Ok(seed) = <[u8; 32]>::try_from(seed) else {
            return err("an Ed25519 private key seed is 32 bytes");
        };
        let key = SignerKey::from_seed(name, seed);
        if key.key.verifying_key().is_weak() {
            return err("weak Ed25519 key refused");
        }
        if hex::encode(key.verifier().id) != id_hex {
            return err("the private key's id does not match its key");
        }
        Ok(key)
    }

    /// The encoded private key.
    pub fn encode(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.verifier().id),
            STANDARD.encode(bytes)
        )
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching public key.
    pub fn verifier(&self) -> VerifierKey {
        let key = self.key.verifying_key();
        VerifierKey {
            name: self.name.clone(),
            id: key_id(&self.name, key.as_bytes()),
            key,
        }
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// A signed-note signature line over `text`: `— <name> <base64(id ‖ sig)>\n`.
    pub fn signature_line(&self, text: &[u8]) -> String {
        let mut bytes = self.verifier().id.to_vec();
        bytes.extend_from_slice(&self.sign(text));
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(bytes))
    }
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree root.
    pub root: Hash,
    /// The three body lines, as signed.
    pub body: String,
    /// Signature lines: key name and the decoded `id ‖ signature`.
    pub signatures: Vec<(String, Vec<u8>)>,
}

/// The signed text of a checkpoint.
pub fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// A checkpoint signed by `key`.
pub fn sign_checkpoint(key: &SignerKey, size: u64, root: &Hash) -> String {
    let body = checkpoint_body(key.name(), size, root);
    let sig = key.signature_line(body.as_bytes());
    format!("{body}\n{sig}")
}

impl Checkpoint {
    /// Parses a checkpoint strictly: three body lines (no extension lines),
    /// a decimal size without leading zeros, a canonical base64 32-byte
    /// root, a blank line, then at least one well-formed signature line.
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        if text.contains('\r') || text.chars().any(|c| c.is_control() && c != '\n') {
            return err("control characters in the note");
        }
        let Some(split) = text.rfind("\n\n") else {
            return err("no blank line between the checkpoint and its signatures");
        };
        let body = &text[..=split];
        let sigs = &text[split + 2..];
        let lines: Vec<&str> = body
            .strip_suffix('\n')
            .unwrap_or(body)
            .split('\n')
            .collect();
        let [origin, size, root] = lines.as_slice() else {
            return err(format!(
                "a checkpoint body has 3 lines, this one has {}",
                lines.len()
            ));
        };
        if !valid_name(origin) {
            return err("invalid origin line");
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return err(format!("invalid tree size `{size}`"));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| NoteError("tree size out of range".into()))?;
        let root_bytes = decode_b64(root)?;
        let Ok(root) = <[u8; 32]>::try_from(root_bytes.as_slice()) else {
            return err("the root is not 32 bytes");
        };
        if !sigs.ends_with('\n') || sigs.is_empty() {
            return err("no signature lines");
        }
        let mut signatures = Vec::new();
        for line in sigs.strip_suffix('\n').unwrap_or(sigs).split('\n') {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return err("a signature line starts with `— `");
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return err("a signature line is `— <name> <base64>`");
            };
            if !valid_name(name) {
                return err("invalid key name in a signature line");
            }
            let bytes = decode_b64(b64)?;
            if bytes.len() < 5 {
                return err("signature too short");
            }
            signatures.push((name.to_string(), bytes));
        }
        Ok(Checkpoint {
            origin: (*origin).to_string(),
            size,
            root,
            body: body.to_string(),
            signatures,
        })
    }
}

/// How a checkpoint fared against a pinned key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// A signature by the pinned key verifies.
    Valid,
    /// A signature names the pinned key but does not verify.
    Bad,
    /// No signature line is by the pinned key.
    Missing,
}

/// Checks a checkpoint's signature by `key` (by name and id; other lines
/// are ignored, as signed-note requires).
pub fn check_signature(checkpoint: &Checkpoint, key: &VerifierKey) -> SignatureCheck {
    let mut found = false;
    for (name, bytes) in &checkpoint.signatures {
        if *name != key.name || bytes[..4] != key.id {
            continue;
        }
        found = true;
        if !key.verify(checkpoint.body.as_bytes(), &bytes[4..]) {
            return SignatureCheck::Bad;
        }
    }
    if found {
        SignatureCheck::Valid
    } else {
        SignatureCheck::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example key and note of Go's golang.org/x/mod/sumdb/note.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn known_answer_keys_and_signature() {
        let signer = SignerKey::parse(SKEY).expect("private key");
        assert_eq!(signer.encode(), SKEY);
        assert_eq!(signer.verifier().encode(), VKEY);
        assert_eq!(VerifierKey::parse(VKEY).expect("vkey"), signer.verifier());
        assert_eq!(signer.signature_line(TEXT.as_bytes()), SIG);
    }

    #[test]
    fn rfc8032_test_vector_1() {
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .expect("hex")
                .try_into()
                .expect("32 bytes");
        let key = SignerKey::from_seed("x", seed);
        assert_eq!(
            hex::encode(key.verifier().key.as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(key.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn corrupted_keys_are_refused() {
        let mut bad = VKEY.replace("c74f20a3", "c74f20a4");
        assert!(VerifierKey::parse(&bad).is_err(), "wrong key id");
        bad = VKEY.replace("ARpc", "AhpC");
        assert!(VerifierKey::parse(&bad).is_err(), "wrong algorithm byte");
        // The identity point is a small-order (weak) key.
        let mut weak = vec![ED25519, 1];
        weak.extend([0u8; 31]);
        let public: [u8; 32] = weak[1..].try_into().expect("32");
        let text = format!(
            "w+{}+{}",
            hex::encode(key_id("w", &public)),
            STANDARD.encode(&weak)
        );
        assert!(
            VerifierKey::parse(&text)
                .expect_err("weak")
                .0
                .contains("weak")
        );
    }

    /// Names that look like `ci.example/log` but hold an invisible
    /// character were accepted, and with them look-alike log origins.
    #[test]
    fn names_with_invisible_characters_are_refused() {
        for bad in [
            "ci.example/\u{200B}log",  // zero-width space
            "ci.example/log\u{200D}",  // zero-width joiner
            "\u{FEFF}ci.example/log",  // byte order mark
            "ci.example/\u{202E}gol",  // right-to-left override
            "ci.example/\u{2066}log",  // left-to-right isolate
            "ci.example/\u{00AD}log",  // soft hyphen
            "ci.example/log\u{FE0F}",  // variation selector
            "ci.example/log\u{E0001}", // language tag
            "ci.example/\u{3164}log",  // Hangul filler
            "ci.example/\u{0085}log",  // next line (C1 control)
            "ci.example/\u{0007}log",
            "ci.example/\u{00A0}log", // no-break space
            "ci.example/\u{3000}log", // ideographic space
            "ci.example/lo g",
            "ci.example+log",
            "",
        ] {
            assert!(!valid_name(bad), "{}", bad.escape_unicode());
            let e = SignerKey::generate(bad).expect_err("refused");
            assert!(e.0.starts_with("invalid key name"), "{}", e.0);
            let key = SignerKey::from_seed(bad, [3; 32]);
            assert!(SignerKey::parse(&key.encode()).is_err());
            assert!(VerifierKey::parse(&key.verifier().encode()).is_err());
            let note = sign_checkpoint(&key, 1, &[7; 32]);
            assert!(Checkpoint::parse(&note).is_err());
        }
        for good in [
            "ci.example/log",
            "approver@ci.example",
            "ledger.bücher.example/läuft",
            "日志",
        ] {
            assert!(valid_name(good), "{good}");
        }
        // The message shows what is hidden.
        let e = SignerKey::generate("a\u{200B}b").expect_err("refused");
        assert!(e.0.contains("`a\\u{200b}b`"), "{}", e.0);
    }

    /// The reference verifier refuses the same names: it holds the same
    /// table (and its other tests, `c.isspace()` and `+`, fall inside it or
    /// match ours).
    #[test]
    fn the_python_verifier_holds_the_same_name_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/verify_ledger.py");
        let text = std::fs::read_to_string(path).expect("verify_ledger.py");
        let start = text.find("NOT_IN_NAMES = (\n").expect("table") + "NOT_IN_NAMES = (\n".len();
        let end = start + text[start..].find("\n)\n").expect("end of table");
        let parse =
            |h: &str| u32::from_str_radix(h.trim().trim_start_matches("0x"), 16).expect("hex");
        let python: Vec<(u32, u32)> = text[start..end]
            .lines()
            .map(|line| {
                let pair = line.trim().trim_start_matches('(').trim_end_matches("),");
                let (lo, hi) = pair.split_once(',').expect("pair");
                (parse(lo), parse(hi))
            })
            .collect();
        assert_eq!(python, NOT_IN_NAMES);
        // Every character Rust calls whitespace or control is in the table,
        // so neither verifier's Unicode version matters.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if c.is_whitespace() || c.is_control() {
                let n = c as u32;
                assert!(
                    NOT_IN_NAMES.iter().any(|&(lo, hi)| (lo..=hi).contains(&n)),
                    "{n:04X}"
                );
            }
        }
    }

    #[test]
    fn checkpoints_sign_parse_and_verify() {
        let key = SignerKey::parse(SKEY).expect("key");
        let root = [7u8; 32];
        let text = sign_checkpoint(&key, 42, &root);
        let cp = Checkpoint::parse(&text).expect("parses");
        assert_eq!(
            (cp.size, cp.root, cp.origin.as_str()),
            (42, root, "PeterNeumann")
        );
        assert_eq!(check_signature(&cp, &key.verifier()), SignatureCheck::Valid);
        // Flip one bit of the signature.
        let mut sig = cp.clone();
        sig.signatures[0].1[10] ^= 1;
        assert_eq!(check_signature(&sig, &key.verifier()), SignatureCheck::Bad);
        // Another key of the same name.
        let other = SignerKey::from_seed("PeterNeumann", [9u8; 32]);
        let forged = Checkpoint::parse(&sign_checkpoint(&other, 42, &root)).expect("parses");
        assert_eq!(
            check_signature(&forged, &key.verifier()),
            SignatureCheck::Missing
        );
    }

    #[test]
    fn malformed_checkpoints_are_refused() {
        let key = SignerKey::parse(SKEY).expect("key");
        let good = sign_checkpoint(&key, 42, &[7u8; 32]);
        for bad in [
            good.replace("\n42\n", "\n042\n"),
            good.replace("\n42\n", "\n0x2a\n"),
            good.replace("\n\n", "\n"),
            good.replace("PeterNeumann\n42", "PeterNeumann\n42\nextension"),
            good.replace('\u{2014}', "-"),
            good.trim_end().to_string(),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
