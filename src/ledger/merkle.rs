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

/// The hash a [`tag`] names, when `text` is exactly a tag (lowercase hex
/// only, so that one hash has one spelling).
pub fn parse_tag(text: &str) -> Option<Hash> {
    let digits = text.strip_prefix("sha256:")?.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    // Lowercase only; a verifier reads two of these per line, so this is
    // the plain loop rather than a general hex decoder's.
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(hash)
}

/// Whether `text` is a [`tag`], without decoding it.
pub fn is_tag(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|digits| {
        digits.len() == 64
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Every perfect, aligned subtree over a list of leaves, hashed once, so
/// that the root of any prefix (the size each checkpoint signs) costs a
/// few dozen hashes rather than one per leaf: a verifier checks several
/// checkpoints against a million-entry ledger.
pub struct Tree<'a> {
    leaves: &'a [Hash],
    /// `levels[k - 1][i]` is the root of leaves `i·2^k .. (i+1)·2^k`.
    levels: Vec<Vec<Hash>>,
}

impl<'a> Tree<'a> {
    /// Hashes the subtrees, on every core.
    pub fn new(leaves: &'a [Hash]) -> Tree<'a> {
        use rayon::prelude::*;
        let mut levels: Vec<Vec<Hash>> = Vec::new();
        loop {
            let below = levels.last().map_or(leaves, Vec::as_slice);
            if below.len() < 2 {
                break;
            }
            let level = below
                .par_chunks_exact(2)
                .map(|pair| node(&pair[0], &pair[1]))
                .collect();
            levels.push(level);
        }
        Tree { leaves, levels }
    }

    /// How many leaves the tree is over.
    pub fn size(&self) -> usize {
        self.leaves.len()
    }

    /// The root of the first `size` leaves, as [`root`] gives it; `None`
    /// when there are fewer leaves than that.
    pub fn root(&self, size: usize) -> Option<Hash> {
        (size <= self.leaves.len()).then(|| match size {
            0 => Sha256::digest([]).into(),
            n => self.subtree(0, n),
        })
    }

    /// RFC 6962's split always leaves the left part a perfect subtree and
    /// the right part starting on a boundary of its own size's power of
    /// two, so every piece is found in `levels` or split again.
    fn subtree(&self, start: usize, len: usize) -> Hash {
        if len.is_power_of_two() && start.is_multiple_of(len) {
            let k = len.trailing_zeros() as usize;
            return match k {
                0 => self.leaves[start],
                _ => self.levels[k - 1][start >> k],
            };
        }
        let k = split(len);
        node(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }

    /// The RFC 6962 §2.1.1 audit path of leaf `index` in the tree of the
    /// first `size` leaves, from the leaf's sibling up to the root's child;
    /// `None` unless `index < size <= self.size()`. Each hash is a subtree
    /// already in `levels` or a few dozen hashes away, so a proof from a
    /// million-entry tree costs microseconds once the tree is built.
    pub fn inclusion(&self, index: usize, size: usize) -> Option<Vec<Hash>> {
        if index >= size || size > self.leaves.len() {
            return None;
        }
        let (mut start, mut len, mut at) = (0, size, index);
        let mut path = Vec::new();
        while len > 1 {
            let k = split(len);
            if at < k {
                path.push(self.subtree(start + k, len - k));
                len = k;
            } else {
                path.push(self.subtree(start, k));
                start += k;
                at -= k;
                len -= k;
            }
        }
        path.reverse();
        Some(path)
    }

    /// The RFC 6962 §2.1.2 consistency proof from the first `old` leaves to
    /// the first `new`; `None` unless `old <= new <= self.size()`. Empty
    /// when `old` is 0 or equal to `new` (there is nothing to prove).
    pub fn consistency(&self, old: usize, new: usize) -> Option<Vec<Hash>> {
        if old > new || new > self.leaves.len() {
            return None;
        }
        if old == 0 || old == new {
            return Some(Vec::new());
        }
        // SUBPROOF(m, D[start..start + len], whole), unrolled: each step
        // records the sibling of the part that still holds the old tree's edge.
        let (mut start, mut len, mut m, mut whole) = (0, new, old, true);
        let mut proof = Vec::new();
        while m != len {
            let k = split(len);
            if m <= k {
                proof.push(self.subtree(start + k, len - k));
                len = k;
            } else {
                proof.push(self.subtree(start, k));
                start += k;
                m -= k;
                len -= k;
                whole = false;
            }
        }
        if !whole {
            proof.push(self.subtree(start, len));
        }
        proof.reverse();
        Some(proof)
    }
}

/// How many hashes the audit path of leaf `index` in a tree of `size`
/// leaves holds (`index < size`): one per split on the way down.
pub fn inclusion_len(index: u64, size: u64) -> usize {
    let (mut at, mut len, mut n) = (index, size, 0);
    while len > 1 {
        let k = split_u64(len);
        if at < k {
            len = k;
        } else {
            at -= k;
            len -= k;
        }
        n += 1;
    }
    n
}

/// How many hashes the consistency proof from `old` to `new` holds
/// (`old <= new`).
pub fn consistency_len(old: u64, new: u64) -> usize {
    if old == 0 || old == new {
        return 0;
    }
    let (mut m, mut len, mut whole, mut n) = (old, new, true, 0);
    while m != len {
        let k = split_u64(len);
        if m <= k {
            len = k;
        } else {
            m -= k;
            len -= k;
            whole = false;
        }
        n += 1;
    }
    n + usize::from(!whole)
}

fn split_u64(n: u64) -> u64 {
    // The largest power of two smaller than n (n > 1).
    1 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162 §2.1.3.2: whether `path` proves that `leaf` is leaf `index`
/// of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` proves that the tree of `old` leaves
/// with root `old_root` is a prefix of the tree of `new` leaves with root
/// `new_root`. An empty old tree is a prefix of every tree.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    // An old tree that is a perfect subtree is its own first hash.
    let with_old;
    let path = if old.is_power_of_two() {
        with_old = [&[*old_root][..], proof].concat();
        &with_old[..]
    } else {
        proof
    };
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// The SHA-256 of `bytes`: how entries name a digest of content (a
/// response, discarded bytes, a decision body).
pub fn digest(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// [`digest`] as a [`tag`].
pub fn digest_tag(bytes: &[u8]) -> String {
    tag(&digest(bytes))
}

/// The hash [`GENESIS_PREV`] names.
pub const GENESIS_HASH: Hash = [0; 32];

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
    fn the_tree_gives_every_prefix_root() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf(&i.to_be_bytes())).collect();
        let tree = Tree::new(&leaves);
        for size in 0..=leaves.len() {
            assert_eq!(tree.root(size), Some(root(&leaves[..size])), "size {size}");
        }
        assert_eq!(tree.root(leaves.len() + 1), None);
        let known: Vec<Hash> = LEAVES
            .iter()
            .map(|h| leaf(&hex::decode(h).expect("hex")))
            .collect();
        let tree = Tree::new(&known);
        for (n, want) in ROOTS.iter().enumerate() {
            let got = tree.root(n + 1).map(hex::encode);
            assert_eq!(got.as_deref(), Some(*want), "size {}", n + 1);
        }
    }

    /// Every audit path and consistency proof over up to 64 leaves, made
    /// from the tree and checked against the root computed leaf by leaf:
    /// each verifies, has the length the counting functions say, and fails
    /// with any one bit flipped, a hash dropped or one added, or at another
    /// index or size.
    #[test]
    fn every_proof_up_to_64_leaves_verifies_and_every_change_fails() {
        let leaves: Vec<Hash> = (0u32..64).map(|i| leaf(&i.to_be_bytes())).collect();
        let tree = Tree::new(&leaves);
        let roots: Vec<Hash> = (0..=64).map(|n| root(&leaves[..n])).collect();
        for n in 1..=64usize {
            let size = n as u64;
            for i in 0..n {
                let path = tree.inclusion(i, n).expect("in range");
                let index = i as u64;
                assert_eq!(path.len(), inclusion_len(index, size), "{i} of {n}");
                assert!(verify_inclusion(&leaves[i], index, size, &path, &roots[n]));
                for (j, bit) in (0..path.len()).flat_map(|j| [(j, 0u8), (j, 7)]) {
                    let mut bad = path.clone();
                    bad[j][usize::from(bit) % 32] ^= 1 << bit;
                    assert!(!verify_inclusion(&leaves[i], index, size, &bad, &roots[n]));
                }
                let mut longer = path.clone();
                longer.push(leaves[0]);
                assert!(!verify_inclusion(
                    &leaves[i], index, size, &longer, &roots[n]
                ));
                if let Some((_, shorter)) = path.split_last() {
                    assert!(!verify_inclusion(
                        &leaves[i], index, size, shorter, &roots[n]
                    ));
                }
                let other = (i + 1) % n;
                if other != i {
                    assert!(!verify_inclusion(
                        &leaves[i],
                        other as u64,
                        size,
                        &path,
                        &roots[n]
                    ));
                }
                assert!(!verify_inclusion(&leaves[i], size, size, &path, &roots[n]));
            }
            assert_eq!(tree.inclusion(n, n), None);
            for m in 0..=n {
                let proof = tree.consistency(m, n).expect("in range");
                let old = m as u64;
                assert_eq!(proof.len(), consistency_len(old, size), "{m} to {n}");
                assert!(
                    verify_consistency(old, size, &proof, &roots[m], &roots[n]),
                    "{m} to {n}"
                );
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][j % 32] ^= 0x80;
                    assert!(!verify_consistency(old, size, &bad, &roots[m], &roots[n]));
                }
                let mut longer = proof.clone();
                longer.push(leaves[0]);
                assert!(!verify_consistency(
                    old, size, &longer, &roots[m], &roots[n]
                ));
                if m > 0 && m < n {
                    let (_, shorter) = proof.split_last().expect("not empty");
                    assert!(!verify_consistency(
                        old, size, shorter, &roots[m], &roots[n]
                    ));
                    let mut wrong = roots[m];
                    wrong[0] ^= 1;
                    assert!(!verify_consistency(old, size, &proof, &wrong, &roots[n]));
                    assert!(!verify_consistency(old, size, &proof, &roots[m], &wrong));
                }
            }
        }
    }

    proptest::proptest! {
        /// Proofs from trees larger than the exhaustive test reaches.
        #[test]
        fn proofs_from_larger_trees_verify(n in 1usize..3000, a in 0usize..3000, b in 0usize..3000) {
            let leaves: Vec<Hash> = (0..n as u32).map(|i| leaf(&i.to_le_bytes())).collect();
            let tree = Tree::new(&leaves);
            let (i, m) = (a % n, b % (n + 1));
            let r = tree.root(n).expect("root");
            let path = tree.inclusion(i, n).expect("path");
            proptest::prop_assert!(verify_inclusion(&leaves[i], i as u64, n as u64, &path, &r));
            let proof = tree.consistency(m, n).expect("proof");
            let old = tree.root(m).expect("old root");
            proptest::prop_assert!(verify_consistency(m as u64, n as u64, &proof, &old, &r));
        }
    }

    #[test]
    fn tags_have_one_spelling() {
        let hash = leaf(b"x");
        assert_eq!(parse_tag(&tag(&hash)), Some(hash));
        assert_eq!(
            parse_tag(&tag(&hash).to_uppercase().replace("SHA256", "sha256")),
            None
        );
        assert_eq!(parse_tag("sha256:00"), None);
        assert_eq!(parse_tag(&tag(&hash).replace("sha256:", "sha512:")), None);
        assert_eq!(parse_tag(GENESIS_PREV), Some(GENESIS_HASH));
        for text in [
            tag(&hash),
            tag(&hash).to_uppercase(),
            "sha256:0".into(),
            "x".into(),
        ] {
            assert_eq!(is_tag(&text), parse_tag(&text).is_some(), "{text}");
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
