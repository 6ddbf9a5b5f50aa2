#!/usr/bin/env bash
# Interoperability checks CI runs after the test suite: the Python reference
# verifier against the vectors (the ledgers and the proofs of single entries),
# against proofs severance has just made, against a ledger severance has just
# written (both verifiers must agree on size, root and verdict) and against
# every ledger recovered from an injected crash, and
# OpenSSL checking a checkpoint signature as docs/ledger.md shows.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SEVERANCE_BIN:-${CARGO_TARGET_DIR:-target}/debug/severance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== reference verifier (Python) against the vectors"
python3 tools/verify_ledger.py --vectors tests/vectors/ledger

# Both verifiers on the ledger in $1 (verifier key $2): they must agree on
# size, root, origin and verdict, and the verdict must be "verified".
both_verify() {
  "$bin" ledger verify --ledger "$1" --vkey "$2" --format json > "$tmp/rust.json"
  python3 tools/verify_ledger.py --ledger "$1" --vkey "$2" --json > "$tmp/python.json"
  python3 - "$tmp/rust.json" "$tmp/python.json" <<'PY'
import json, sys
rust, py = (json.load(open(p)) for p in sys.argv[1:3])
for field in ("ok", "size", "sealed", "root", "origin"):
    assert rust[field] == py[field], (field, rust[field], py[field])
assert rust["ok"], rust["failures"]
print("agree: size %d, root %s" % (rust["size"], rust["root"]))
PY
}

echo "== both verifiers on a ledger written just now"
"$bin" keygen --name ci.severance.example/ledger --out "$tmp/log.key" >/dev/null
"$bin" keygen --name approver@ci.example --out "$tmp/approver.key" >/dev/null
"$bin" plan --as-of 2026-11-25T09:00:00Z --ledger "$tmp/ledger" --key "$tmp/log.key" >/dev/null
"$bin" ledger trust --ledger "$tmp/ledger" --key "$tmp/log.key" --approver "$tmp/approver.key.pub" >/dev/null
"$bin" ledger record approval --ledger "$tmp/ledger" --key "$tmp/log.key" --decision 2 --approver-key "$tmp/approver.key" >/dev/null
"$bin" plan --as-of 2026-11-26T09:00:00Z --ledger "$tmp/ledger" --key "$tmp/log.key" >/dev/null
both_verify "$tmp/ledger" "$tmp/log.key.pub"

echo "== proofs made by severance from that ledger, checked by both verifiers"
# Every entry against the latest checkpoint, and the log's growth from the
# first run's checkpoint to the latest.
size=$(sed -n 2p "$tmp/ledger/checkpoint")
first=$(ls "$tmp/ledger/checkpoints" | sort -n | head -n 1)
for seq in $(seq 0 $((size - 1))); do
  "$bin" ledger prove --ledger "$tmp/ledger" --seq "$seq" --output "$tmp/entry.tlog-proof"
  "$bin" ledger verify-proof --vkey "$tmp/log.key.pub" "$tmp/entry.tlog-proof" >/dev/null
  python3 tools/verify_ledger.py --proof "$tmp/entry.tlog-proof" --vkey "$tmp/log.key.pub" >/dev/null
done
"$bin" ledger prove --ledger "$tmp/ledger" --consistency --old "$tmp/ledger/checkpoints/$first" > "$tmp/growth.tlog-proof"
"$bin" ledger verify-proof --vkey "$tmp/log.key.pub" "$tmp/growth.tlog-proof" --old "$tmp/ledger/checkpoints/$first" >/dev/null
python3 tools/verify_ledger.py --proof "$tmp/growth.tlog-proof" --vkey "$tmp/log.key.pub" --old "$tmp/ledger/checkpoints/$first" >/dev/null
echo "agree: $size inclusion proofs and a consistency proof from size $first to $size"

echo "== both verifiers on a ledger with an import's verifications (the demonstrable-removal loop)"
loop="$tmp/loop"
mkdir -p "$loop"
cp -r inventory policies "$loop/"
in_loop=(--inventory "$loop/inventory" --policies "$loop/policies")
"$bin" import okta --in examples/exports/okta/users.json --inventory "$loop/inventory" \
  --out "$loop/inventory/imported/okta" --observed-at 2026-11-24T06:00:00Z >/dev/null
"$bin" keygen --name ci.severance.example/loop --out "$loop/log.key" >/dev/null
"$bin" plan "${in_loop[@]}" --as-of 2026-11-25T09:00:00Z --ledger "$loop/ledger" --key "$loop/log.key" >/dev/null
python3 - examples/exports/okta/users.json "$loop/users-next.json" <<'PY'
import json, sys
users = json.load(open(sys.argv[1]))
for user in users:
    if user["profile"].get("employeeNumber") == "E1001":
        user["status"] = "DEPROVISIONED"
json.dump(users, open(sys.argv[2], "w"))
PY
"$bin" import okta --in "$loop/users-next.json" --inventory "$loop/inventory" \
  --out "$loop/inventory/imported/okta" --observed-at 2026-11-26T06:00:00Z >/dev/null
"$bin" reconcile "${in_loop[@]}" --as-of 2026-11-26T09:00:00Z --ledger "$loop/ledger" --key "$loop/log.key" \
  >/dev/null 2>"$tmp/loop.err"
grep -q "recorded 1 verification" "$tmp/loop.err"
both_verify "$loop/ledger" "$loop/log.key.pub"

echo "== both verifiers fail a ledger whose entries.jsonl is a directory with the same code"
mkdir -p "$tmp/dir-ledger/entries.jsonl"
for verifier in rust python; do
  set +e
  if [ "$verifier" = rust ]; then
    "$bin" ledger verify --ledger "$tmp/dir-ledger" --vkey "$tmp/log.key.pub" --format json > "$tmp/$verifier-dir.json" 2>"$tmp/$verifier-dir.err"
  else
    python3 tools/verify_ledger.py --ledger "$tmp/dir-ledger" --vkey "$tmp/log.key.pub" --json > "$tmp/$verifier-dir.json" 2>"$tmp/$verifier-dir.err"
  fi
  code=$?
  set -e
  if [ "$code" != 3 ]; then
    echo "$verifier: exit $code, not 3" >&2
    cat "$tmp/$verifier-dir.err" >&2
    exit 1
  fi
done
python3 - "$tmp/rust-dir.json" "$tmp/python-dir.json" <<'PY'
import json, sys
rust, py = (json.load(open(p)) for p in sys.argv[1:3])
codes = [sorted((f["code"], f["place"]) for f in r["failures"]) for r in (rust, py)]
assert not rust["ok"] and not py["ok"], (rust, py)
assert codes[0] == codes[1] == [("encoding", "entries.jsonl")], codes
print("agree: %s at %s" % codes[0][0])
PY

echo "== both verifiers refuse a key name with an invisible character"
zw_key="$(sed 's|^ci\.severance\.example/|ci.severance.example/\xe2\x80\x8b|' "$tmp/log.key.pub")"
printf '%s\n' "$zw_key" > "$tmp/zw.key.pub"
for verifier in rust python; do
  set +e
  if [ "$verifier" = rust ]; then
    "$bin" ledger verify --ledger "$tmp/ledger" --vkey "$tmp/zw.key.pub" >/dev/null 2>"$tmp/zw.err"
  else
    python3 tools/verify_ledger.py --ledger "$tmp/ledger" --vkey "$tmp/zw.key.pub" >/dev/null 2>"$tmp/zw.err"
  fi
  code=$?
  set -e
  if [ "$code" != 2 ] || ! grep -q "invalid key name" "$tmp/zw.err"; then
    echo "$verifier: exit $code, expected 2 and an invalid key name" >&2
    cat "$tmp/zw.err" >&2
    exit 1
  fi
done
echo "agree: refused"

echo "== the reference verifier on every ledger recovered from an injected crash"
# The fault-injection test keeps each ledger its recovering writer made
# (the Rust verifier has already passed them) when told where.
SEVERANCE_KEEP_RECOVERED="$tmp/recovered" cargo test --locked --quiet --test cli \
  ledger_crash::a_fault_at_any_step_of_a_commit_is_recovered >/dev/null
count=0
for d in "$tmp"/recovered/*/; do
  python3 tools/verify_ledger.py --ledger "$d" --vkey tests/vectors/ledger/keys/log.key.pub >/dev/null
  count=$((count + 1))
done
[ "$count" -gt 500 ] || { echo "only $count recovered ledgers" >&2; exit 1; }
echo "verified: $count recovered ledgers"

echo "== OpenSSL checks a checkpoint signature"
printf -- '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA%s\n-----END PUBLIC KEY-----\n' \
  "$(cut -d+ -f3- "$tmp/log.key.pub" | base64 -d | tail -c 32 | base64)" > "$tmp/log.pub.pem"
head -n 3 "$tmp/ledger/checkpoint" > "$tmp/body.txt"
sed -n 5p "$tmp/ledger/checkpoint" | cut -d' ' -f3 | base64 -d | tail -c 64 > "$tmp/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$tmp/log.pub.pem" -rawin -in "$tmp/body.txt" -sigfile "$tmp/sig.bin"
