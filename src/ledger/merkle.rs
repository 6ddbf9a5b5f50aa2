//! RFC 6962 Merkle tree hashing over ledger lines: leaves and interior
//! nodes are domain-separated (0x00 and 0x01 prefixes), so a node can never
//! be passed off as a leaf.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ line)`: the leaf hash of a line (without its newline).
pub fn leaf(line: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(line);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1): the empty
/// tree hashes to SHA-256 of nothing; otherwise split at the largest power
/// of two smaller than the size.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// `sha256:` followed by lowercase hex, the form hashes take in entries.
pub fn tag(hash: &Hash) -> String {
    format!("sha256:{}", hex::encode(hash))
}

/// The SHA-256 of `bytes`, as a [`tag`]: how entries name a digest of
/// content (a response, discarded bytes, a decision body).
pub fn digest_tag(bytes: &[u8]) -> String {
    tag(&Sha256::digest(bytes).into())
}

/// The `prev` of entry 0.
pub const GENESIS_PREV: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;

    // The Certificate Transparency reference leaves and roots (RFC 6962 test data).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn known_answer_roots() {
        let leaves: Vec<Hash> = LEAVES
            .iter()
            .map(|h| leaf(&hex::decode(h).expect("hex")))
            .collect();
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        for (n, want) in ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&leaves[..=n])), *want, "size {}", n + 1);
        }
    }

    #[test]
    fn a_corrupted_leaf_changes_the_root() {
        let mut leaves: Vec<Hash> = LEAVES
            .iter()
            .map(|h| leaf(&hex::decode(h).expect("hex")))
            .collect();
        leaves[3][0] ^= 1;
        assert_ne!(hex::encode(root(&leaves)), ROOTS[7]);
    }
}
