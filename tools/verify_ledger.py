#!/usr/bin/env python3
"""An auditor's reference verifier for severance ledgers, written from
docs/ledger.md alone: Python 3 standard library plus PyNaCl for Ed25519.

    python3 tools/verify_ledger.py --ledger DIR --vkey FILE [--checkpoint FILE]... [--json]
    python3 tools/verify_ledger.py --proof FILE --vkey FILE [--old FILE] [--json]
    python3 tools/verify_ledger.py --vectors tests/vectors/ledger

Exit status: 0 when the ledger (or proof) verifies, 3 when any check
fails, 2 on bad usage. Failure codes are the ones `severance ledger
verify` and `severance ledger verify-proof` report (docs/ledger.md
sections 7 and 11).
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import sys

try:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
except ImportError:  # pragma: no cover
    sys.exit("this verifier needs PyNaCl: pip install pynacl")

MAX_INT = 2**53 - 1
ZERO_PREV = "sha256:" + "0" * 64
HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z")
# Characters a key name may not hold, as inclusive ranges: the C2SP
# signed-note spaces and every control, format, filler, variation selector,
# tag and noncharacter. The same table as NOT_IN_NAMES in src/ledger/note.rs
# (a test there compares them), fixed rather than taken from unicodedata so
# that both verifiers agree whatever Unicode version they run with.
NOT_IN_NAMES = (
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
)


def valid_name(name):
    return name != "" and not any(
        c == "+" or c.isspace() or any(lo <= ord(c) <= hi for lo, hi in NOT_IN_NAMES)
        for c in name
    )


def is_hash(s):
    return isinstance(s, str) and HASH_RE.fullmatch(s) is not None


def is_time(s):
    if not isinstance(s, str) or TIME_RE.fullmatch(s) is None:
        return False
    try:
        datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
        return True
    except ValueError:
        return False
EM_DASH = "\u2014"

# Field shapes, mirroring docs/ledger.md.
ENVELOPE = {"v": "int", "seq": "int", "prev": "hash", "type": "str", "log": "str", "ts": "time"}
TOOL = {"name": "str", "version": "str"}
INVENTORY = {"commit": "optstr", "digest": "hash", "files": "int", "records": "int"}
POLICIES = {"digest": "hash", "files": "int", "policies": "int"}
DECISIONS = {"count": "int", "digest": "hash", "written": "int"}
BODIES = {
    "genesis": {"key": "str"},
    "approvers": {"approvers": "strs"},
    "run": {"as_of": "time", "tool": TOOL, "inventory": INVENTORY, "policies": POLICIES,
            "counts": "intmap", "decisions": DECISIONS},
    "decision": {"run": "hash", "subject": "str", "kind": "str", "status": "str", "actions": "strs",
                 "policies": "strsmap", "blocked": "strsmap", "leaver": "optstr", "due": "opttime"},
    "approval": {"decision": "hash", "approver": "str", "signature": "str", "comment": "optstr"},
    "execution": {"decision": "hash", "system": "str", "request_id": "str", "status": "str",
                  "response_digest": "hash", "response": "optstr"},
    "verification": {"decision": "hash", "method": "str", "observed": "strmap"},
    "recovery": {"found": "strs", "sealed": "int", "discarded_lines": "int",
                 "discarded_bytes": "int", "discarded_digest": "hash"},
}


class LineError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _pairs(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise LineError("duplicate-key", "key `%s` appears twice" % k)
        seen.add(k)
    return dict(pairs)


def _int(text):
    if text.startswith("-"):
        raise LineError("schema", "number `%s` is not an integer in 0..2^53-1" % text)
    n = int(text)
    if n < 0 or n > MAX_INT:
        raise LineError("schema", "number `%s` is not an integer in 0..2^53-1" % text)
    return n


def _float(text):
    raise LineError("schema", "number `%s` is not an integer in 0..2^53-1" % text)


def _constant(text):
    raise LineError("malformed", "not JSON: `%s`" % text)


def parse_line(line):
    try:
        return json.loads(line, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float,
                          parse_constant=_constant)
    except LineError:
        raise
    except (ValueError, RecursionError) as e:
        raise LineError("malformed", "not JSON: %s" % e)


def jcs(v):
    """RFC 8785 for the ledger's narrow JSON (no floats)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise LineError("schema", "unsupported value")


def check_shape(path, value, shape):
    ok = False
    if isinstance(shape, dict):
        if isinstance(value, dict):
            check_fields(path + ".", value, shape)
            ok = True
    elif shape == "str":
        ok = isinstance(value, str)
    elif shape == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif shape == "hash":
        ok = is_hash(value)
    elif shape == "time":
        ok = is_time(value)
    elif shape == "optstr":
        ok = value is None or isinstance(value, str)
    elif shape == "opttime":
        ok = value is None or is_time(value)
    elif shape == "strs":
        ok = isinstance(value, list) and all(isinstance(x, str) for x in value)
    elif shape == "strsmap":
        ok = isinstance(value, dict) and all(
            isinstance(x, list) and all(isinstance(y, str) for y in x) for x in value.values())
    elif shape == "strmap":
        ok = isinstance(value, dict) and all(isinstance(x, str) for x in value.values())
    elif shape == "intmap":
        ok = isinstance(value, dict) and all(
            isinstance(x, int) and not isinstance(x, bool) for x in value.values())
    if not ok:
        raise LineError("schema", "`%s` has the wrong type or form" % path.rstrip("."))


def check_fields(prefix, obj, fields):
    for name, shape in fields.items():
        if name not in obj:
            raise LineError("schema", "`%s%s` is missing" % (prefix, name))
        check_shape(prefix + name, obj[name], shape)
    for name in obj:
        if name not in fields:
            raise LineError("schema", "unknown field `%s%s`" % (prefix, name))


def check_entry(entry):
    if not isinstance(entry, dict):
        raise LineError("schema", "an entry is a JSON object")
    kind = entry.get("type")
    body = BODIES.get(kind) if isinstance(kind, str) else None
    if body is None:
        raise LineError("schema", "unknown entry type")
    check_fields("", entry, dict(ENVELOPE, **body))
    if entry["v"] != 1:
        raise LineError("schema", "`v` must be 1")


def leaf(line_bytes):
    return hashlib.sha256(b"\x00" + line_bytes).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def tag(h):
    return "sha256:" + h.hex()


def b64decode_canonical(s):
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise ValueError("non-canonical base64")
    return raw


class Key:
    def __init__(self, text):
        name, key_id, b64 = text.split("+", 2)
        if not valid_name(name):
            raise ValueError("invalid key name")
        raw = b64decode_canonical(b64)
        if len(raw) != 33 or raw[0] != 1:
            raise ValueError("not an Ed25519 verifier key")
        self.name, self.public = name, raw[1:]
        self.id = hashlib.sha256(name.encode() + b"\n\x01" + self.public).digest()[:4]
        if self.id.hex() != key_id:
            raise ValueError("key id does not match the key")
        self.encoded = text
        self.verify_key = VerifyKey(self.public)

    def verify(self, message, signature):
        try:
            self.verify_key.verify(message, signature)
            return True
        except (BadSignatureError, ValueError):
            return False


def parse_checkpoint(text):
    if "\r" in text or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise ValueError("control characters in the note")
    split = text.rfind("\n\n")
    if split < 0:
        raise ValueError("no blank line before the signatures")
    body, sigs = text[: split + 1], text[split + 2:]
    lines = body[:-1].split("\n")
    if len(lines) != 3:
        raise ValueError("a checkpoint body has 3 lines")
    origin, size, root = lines
    if not valid_name(origin):
        raise ValueError("invalid origin")
    if not re.match(r"^(0|[1-9][0-9]*)$", size):
        raise ValueError("invalid size")
    root = b64decode_canonical(root)
    if len(root) != 32:
        raise ValueError("root is not 32 bytes")
    if not sigs or not sigs.endswith("\n"):
        raise ValueError("no signature lines")
    signatures = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise ValueError("a signature line starts with an em dash")
        name, _, b64 = line[2:].partition(" ")
        if not valid_name(name):
            raise ValueError("invalid key name in a signature line")
        raw = b64decode_canonical(b64)
        if len(raw) < 5:
            raise ValueError("signature too short")
        signatures.append((name, raw))
    return {"origin": origin, "size": int(size), "root": root, "body": body, "signatures": signatures}


def check_signature(cp, key):
    found = False
    for name, raw in cp["signatures"]:
        if name != key.name or raw[:4] != key.id:
            continue
        found = True
        if not key.verify(cp["body"].encode(), raw[4:]):
            return "bad"
    return "valid" if found else "missing"


def verify(ledger, key, external):
    failures = []

    def fail(code, place, message):
        failures.append({"code": code, "place": place, "message": message})

    path = os.path.join(ledger, "entries.jsonl")
    if not os.path.exists(path):
        fail("missing-entries", "entries.jsonl", "no entries.jsonl")
        return {"ok": False, "failures": failures}
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        # As the binary does: a coded failure (exit 3), not a traceback.
        fail("encoding", "entries.jsonl", "could not read `%s`: %s" % (path, e.strerror or e))
        return {"ok": False, "failures": failures}
    end = data.rfind(b"\n") + 1
    complete, torn = data[:end], data[end:]
    try:
        text = complete.decode("utf-8")
    except UnicodeDecodeError:
        fail("encoding", "entries.jsonl", "not UTF-8")
        return {"ok": False, "failures": failures}
    lines = text.split("\n")[:-1] if text else []
    if torn:
        fail("torn-tail", "line %d" % (len(lines) + 1), "%d bytes after the last newline" % len(torn))

    leaves, by_leaf, approvers, times = [], {}, [], []
    for i, line in enumerate(lines):
        place = "line %d" % (i + 1)
        want_prev = tag(leaves[-1]) if leaves else ZERO_PREV
        h = leaf(line.encode("utf-8"))
        leaves.append(h)
        if "\r" in line:
            fail("encoding", place, "carriage return")
            continue
        try:
            entry = parse_line(line)
            encoded = jcs(entry)
            try:
                encoded.encode("utf-8")
            except UnicodeEncodeError:
                raise LineError("malformed", "a lone surrogate in a string")
            canonical = encoded == line
            check_entry(entry)
        except LineError as e:
            fail(e.code, place, str(e))
            continue
        if not canonical:
            fail("non-canonical", place, "not RFC 8785 canonical")
        if entry["seq"] != i:
            fail("seq-mismatch", place, "seq is %d, index is %d" % (entry["seq"], i))
        if entry["log"] != key.name:
            fail("wrong-log", place, "log is not the pinned log")
        if entry["prev"] != want_prev:
            fail("chain-broken", place, "prev is not the previous leaf hash")
        kind = entry["type"]
        if (i == 0) != (kind == "genesis"):
            fail("schema", place, "the first entry, and only the first, is genesis")
        if kind == "genesis" and entry["key"] != key.encoded:
            fail("genesis-key-mismatch", place, "genesis names another key")
        ref_field = {"decision": "run", "approval": "decision", "execution": "decision",
                     "verification": "decision"}.get(kind)
        if ref_field:
            target = "run" if kind == "decision" else "decision"
            if by_leaf.get(entry[ref_field]) != target:
                fail("dangling-reference", place, "`%s` is not an earlier %s" % (ref_field, target))
            if kind == "approval":
                if entry["approver"] not in approvers:
                    fail("untrusted-approver", place, "approver not trusted")
                else:
                    message = ("severance/approval/v1\n%s\n%s\n" % (key.name, entry["decision"])).encode()
                    try:
                        sig = b64decode_canonical(entry["signature"])
                        ok = Key(entry["approver"]).verify(message, sig)
                    except (ValueError, TypeError):
                        ok = False
                    if not ok:
                        fail("bad-approval-signature", place, "approval signature does not verify")
        if kind == "approvers":
            approvers = list(entry["approvers"])
        times.append(entry["ts"])
        by_leaf[tag(h)] = kind

    n = len(lines)
    own = []
    cps_dir = os.path.join(ledger, "checkpoints")
    sources = []
    if os.path.isdir(cps_dir):
        names = [x for x in os.listdir(cps_dir) if not x.startswith(".")]
        names.sort(key=lambda x: (int(x) if x.isdigit() else 2**64, x))
        for name in names:
            sources.append(("checkpoints/" + name, os.path.join(cps_dir, name), name))
    latest = os.path.join(ledger, "checkpoint")
    # `checkpoint` missing or behind the largest of checkpoints/ is what a
    # writer killed between its two renames leaves (docs/ledger.md section 6):
    # every entry is still signed, so neither is a failure.
    if os.path.exists(latest):
        sources.append(("checkpoint", latest, None))

    def signed(source, raw):
        try:
            cp = parse_checkpoint(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            fail("note-syntax", source, str(e))
            return None
        if cp["origin"] != key.name:
            fail("origin-mismatch", source, "origin is not the pinned log")
            return None
        verdict = check_signature(cp, key)
        if verdict == "bad":
            fail("bad-signature", source, "signature does not verify")
            return None
        if verdict == "missing":
            fail("untrusted-signature", source, "no signature by the pinned key")
            return None
        return cp

    for source, path_, name in sources:
        if not os.path.isfile(path_):
            fail("note-syntax", source, "not a file")
            continue
        try:
            with open(path_, "rb") as f:
                raw = f.read()
        except OSError:
            fail("note-syntax", source, "unreadable")
            continue
        cp = signed(source, raw)
        if cp is None:
            continue
        if cp["size"] > n:
            fail("truncated", source, "signs more entries than the ledger holds")
            continue
        if mth(leaves[: cp["size"]]) != cp["root"]:
            fail("root-mismatch", source, "root differs")
            continue
        if name is not None and name != str(cp["size"]):
            fail("checkpoint-mismatch", source, "file name is not the size")
        own.append((source, cp))
    if not own and not any(f["place"].startswith("checkpoint") for f in failures):
        fail("unsealed-tail", "checkpoint", "no checkpoint")
    by_size = {}
    for source, cp in own:
        if cp["size"] in by_size and by_size[cp["size"]] != cp["root"]:
            fail("fork", source, "two roots for one size")
        by_size.setdefault(cp["size"], cp["root"])
    for source, cp in own:
        if source == "checkpoint" and not any(s != "checkpoint" and c["size"] == cp["size"] for s, c in own):
            fail("checkpoint-mismatch", "checkpoints/%d" % cp["size"], "no copy in checkpoints/")
    sealed = max([cp["size"] for _, cp in own if cp["size"] <= n] or [0])
    if own and sealed < n:
        fail("unsealed-tail", "line %d" % (sealed + 1), "entries after the last checkpoint")
    for source, raw in external:
        cp = signed(source, raw)
        if cp is None:
            continue
        if cp["size"] > n:
            fail("truncated", source, "signs more entries than the ledger holds")
        elif mth(leaves[: cp["size"]]) != cp["root"]:
            fail("fork", source, "a different history")
    return {
        "ok": not failures,
        "origin": key.name,
        "size": n,
        "sealed": sealed,
        "root": tag(mth(leaves)),
        "time_range": [min(times), max(times)] if times else None,
        "failures": failures,
    }


# Proofs of single entries (docs/ledger.md section 11).
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 63


class ProofError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def split_size(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_len(index, size):
    n = 0
    while size > 1:
        k = split_size(size)
        if index < k:
            size = k
        else:
            index, size = index - k, size - k
        n += 1
    return n


def consistency_len(old, new):
    if old == 0 or old == new:
        return 0
    n, whole = 0, True
    while old != new:
        k = split_size(new)
        if old <= k:
            new = k
        else:
            old, new, whole = old - k, new - k, False
        n += 1
    return n + (0 if whole else 1)


def verify_inclusion(leaf_hash, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old, new, proof, old_root, new_root):
    """RFC 9162 section 2.1.4.2; an empty old tree is a prefix of any."""
    if old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    path = ([old_root] + list(proof)) if old & (old - 1) == 0 else list(proof)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def proof_decimal(text, what):
    if not re.fullmatch(r"0|[1-9][0-9]*", text) or int(text) >= 2**64:
        raise ProofError("proof-syntax", "`%s %s` is not a decimal without leading zeros" % (what, text))
    return int(text)


def proof_b64(text, what):
    try:
        return b64decode_canonical(text)
    except ValueError as e:
        raise ProofError("proof-syntax", "%s: %s" % (what, e))


def parse_proof(text):
    first = text.split("\n", 1)[0]
    inclusion = first == PROOF_HEADER
    if not inclusion and not first.startswith("old "):
        raise ProofError("proof-header", "the first line is neither the header nor `old <size>`")
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise ProofError("proof-syntax", "no blank line before the checkpoint")
    lines = head.split("\n")[1:]

    def hashes(rest):
        out = []
        for n, line in enumerate(rest):
            if n == MAX_PROOF_HASHES:
                raise ProofError("proof-length", "more than %d hashes" % MAX_PROOF_HASHES)
            raw = proof_b64(line, "hash %d" % (n + 1))
            if len(raw) != 32:
                raise ProofError("proof-syntax", "hash %d is not 32 bytes" % (n + 1))
            out.append(raw)
        return out

    if not inclusion:
        return {"kind": "consistency", "old": proof_decimal(first[4:], "old"),
                "hashes": hashes(lines), "checkpoint": checkpoint}
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = proof_b64(lines[0][6:], "extra")
        lines = lines[1:]
    if not lines or not lines[0].startswith("index "):
        raise ProofError("proof-syntax", "no `index <n>` line after the header")
    index = proof_decimal(lines[0][6:], "index")
    return {"kind": "inclusion", "extra": extra, "index": index,
            "hashes": hashes(lines[1:]), "checkpoint": checkpoint}


def signed_checkpoint(text, key):
    try:
        cp = parse_checkpoint(text)
    except ValueError as e:
        raise ProofError("note-syntax", str(e))
    if cp["origin"] != key.name:
        raise ProofError("origin-mismatch", "origin is not the pinned log")
    verdict = check_signature(cp, key)
    if verdict == "bad":
        raise ProofError("bad-signature", "signature does not verify")
    if verdict == "missing":
        raise ProofError("untrusted-signature", "no signature by the pinned key")
    return cp


def proof_entry(raw, index, origin):
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProofError("entry-mismatch", "the entry is not UTF-8")
    if "\n" in line or "\r" in line:
        raise ProofError("entry-mismatch", "the entry is not one line")
    try:
        entry = parse_line(line)
        if jcs(entry) != line:
            raise LineError("non-canonical", "not RFC 8785 canonical")
        check_entry(entry)
    except LineError as e:
        raise ProofError("entry-mismatch", "%s: %s" % (e.code, e))
    if entry["seq"] != index:
        raise ProofError("entry-mismatch", "the entry's seq is not the index")
    if entry["log"] != origin:
        raise ProofError("entry-mismatch", "the entry's log is not the origin")
    return entry


class ProofUsage(Exception):
    pass


def verify_proof(data, key, old=None):
    """The checks of docs/ledger.md section 11, each only when the ones
    before it held: a list of failures, empty when the proof holds."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [{"code": "proof-syntax", "message": "the proof is not UTF-8"}]
    try:
        p = parse_proof(text)
        if (p["kind"] == "consistency") != (old is not None):
            raise ProofUsage("a consistency proof needs --old, and only a consistency proof takes it")
        cp = signed_checkpoint(p["checkpoint"], key)
        size, hashes = cp["size"], p["hashes"]
        if p["kind"] == "inclusion":
            index = p["index"]
            if index >= size:
                raise ProofError("index-out-of-range", "index is not below the size")
            if len(hashes) != inclusion_len(index, size):
                raise ProofError("proof-length", "wrong number of hashes")
            if p["extra"] is None:
                raise ProofError("entry-mismatch", "no extra line: the proof carries no entry")
            proof_entry(p["extra"], index, cp["origin"])
            if not verify_inclusion(leaf(p["extra"]), index, size, hashes, cp["root"]):
                raise ProofError("inclusion-mismatch", "the recomputed root is not the checkpoint's")
        else:
            m = p["old"]
            if m > size:
                raise ProofError("index-out-of-range", "old size is larger than the checkpoint's")
            try:
                old_cp = signed_checkpoint(old.decode("utf-8"), key)
            except (ProofError, UnicodeDecodeError) as e:
                raise ProofError("old-checkpoint-mismatch", "the old checkpoint: %s" % e)
            if old_cp["size"] != m:
                raise ProofError("old-checkpoint-mismatch", "the old checkpoint signs another size")
            if len(hashes) != consistency_len(m, size):
                raise ProofError("proof-length", "wrong number of hashes")
            if not verify_consistency(m, size, hashes, old_cp["root"], cp["root"]):
                raise ProofError("consistency-mismatch", "the proof does not lead from the old root to the new")
    except ProofError as e:
        return [{"code": e.code, "message": str(e)}]
    return []


def run_proof_vectors(root, key):
    """Every proof vector: the valid ones hold, each damaged one fails with
    exactly its expected code."""
    passed = failed = 0
    cases = []
    valid_dir = os.path.join(root, "proof", "valid")
    for name in sorted(os.listdir(valid_dir)):
        if name.endswith(".tlog-proof"):
            old = os.path.join(valid_dir, name[: -len(".tlog-proof")] + ".old")
            cases.append(("proof/valid/" + name, os.path.join(valid_dir, name), old, None))
    corrupt_dir = os.path.join(root, "proof", "corrupt")
    for name in sorted(os.listdir(corrupt_dir)):
        d = os.path.join(corrupt_dir, name)
        code = open(os.path.join(d, "expected-code")).read().strip()
        cases.append(("proof/corrupt/" + name, os.path.join(d, "proof.tlog-proof"), os.path.join(d, "old"), code))
    for case, path, old, code in cases:
        old = open(old, "rb").read() if os.path.exists(old) else None
        codes = sorted({f["code"] for f in verify_proof(open(path, "rb").read(), key, old)})
        good = codes == ([] if code is None else [code])
        print("%s %s: %s" % ("ok  " if good else "FAIL", case, ", ".join(codes) or "verified"))
        passed, failed = passed + good, failed + (not good)
    return passed, failed


def run_vectors(root):
    key = Key(open(os.path.join(root, "keys", "log.key.pub")).read().rstrip("\n"))
    passed = failed = 0
    cases = [("valid", None)] + [
        (os.path.join("corrupt", c), open(os.path.join(root, "corrupt", c, "expected-code")).read().strip())
        for c in sorted(os.listdir(os.path.join(root, "corrupt")))
    ]
    for case, code in cases:
        d = os.path.join(root, case)
        ext = os.path.join(d, "external-checkpoint")
        external = [(ext, open(ext, "rb").read())] if os.path.exists(ext) else []
        report = verify(d, key, external)
        codes = sorted({f["code"] for f in report["failures"]})
        good = report["ok"] if code is None else code in codes
        if case == "valid":
            expected = json.load(open(os.path.join(d, "expected.json")))
            good = good and report["root"] == expected["roots"][-1]
        print("%s %s: %s" % ("ok  " if good else "FAIL", case, ", ".join(codes) or "verified"))
        passed, failed = passed + good, failed + (not good)
    if os.path.isdir(os.path.join(root, "proof")):
        more_passed, more_failed = run_proof_vectors(root, key)
        passed, failed = passed + more_passed, failed + more_failed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ledger")
    p.add_argument("--vkey")
    p.add_argument("--checkpoint", action="append", default=[])
    p.add_argument("--json", action="store_true")
    p.add_argument("--vectors")
    p.add_argument("--proof")
    p.add_argument("--old")
    a = p.parse_args()
    if a.vectors:
        return run_vectors(a.vectors)
    if a.proof:
        return main_proof(a, p)
    if not (a.ledger and a.vkey):
        p.error("--ledger and --vkey are required")
    try:
        key = Key(open(a.vkey).read().rstrip("\n"))
    except (OSError, ValueError) as e:
        print("error: verifier key `%s`: %s" % (a.vkey, e), file=sys.stderr)
        return 2
    external = []
    for c in a.checkpoint:
        try:
            with open(c, "rb") as f:
                external.append((c, f.read()))
        except OSError as e:
            print("error: checkpoint `%s`: could not read the checkpoint: %s" % (c, e.strerror or e), file=sys.stderr)
            return 2
    report = verify(a.ledger, key, external)
    if a.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        for f in report["failures"]:
            print("failure[%s]: %s: %s" % (f["code"], f["place"], f["message"]), file=sys.stderr)
        print("ledger `%s`: %s (size %s, root %s)" % (
            a.ledger, "verified" if report["ok"] else "%d failures" % len(report["failures"]),
            report.get("size"), report.get("root")))
    return 0 if report["ok"] else 3


def main_proof(a, p):
    if not a.vkey:
        p.error("--proof needs --vkey")
    try:
        key = Key(open(a.vkey).read().rstrip("\n"))
        data = open(a.proof, "rb").read()
        old = open(a.old, "rb").read() if a.old else None
    except (OSError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    try:
        failures = verify_proof(data, key, old)
    except ProofUsage as e:
        print("error: proof `%s`: %s" % (a.proof, e), file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps({"ok": not failures, "failures": failures}, indent=2, sort_keys=True))
    else:
        for f in failures:
            print("failure[%s]: %s" % (f["code"], f["message"]), file=sys.stderr)
        print("proof `%s`: %s" % (a.proof, "verified" if not failures else "%d failures" % len(failures)))
    return 0 if not failures else 3


if __name__ == "__main__":
    sys.exit(main())
