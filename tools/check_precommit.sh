#!/usr/bin/env bash
# pre-commit as a user meets it: a scratch inventory repository whose
# .pre-commit-config.yaml names this repository's hooks (built by pre-commit
# itself, `language: rust`, from the committed HEAD). The hooks must pass the
# first commit of a new repository, refuse a commit whose staged credential
# links to a record that is only untracked beside it, and pass once that
# record is staged too.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
rev=$(git rev-parse HEAD)
cache=${SEVERANCE_TOOLS_CACHE:-$HOME/.cache/severance-ci}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore pre-commit
# pre-commit keeps one build per repository and revision; the cargo target
# directory is kept apart from it so that a later revision builds only what
# changed.
export PRE_COMMIT_HOME="$cache/pre-commit"
export CARGO_TARGET_DIR="$cache/pre-commit-target"
# pre-commit runs `cargo install`, a release build; how fast the hook binary
# runs does not matter here, how fast it builds on two cores does.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=0
export CARGO_PROFILE_RELEASE_DEBUG=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256

repo="$tmp/inventory-repo"
mkdir -p "$repo"
cp -R tests/fixtures/scenarios/s07-on-leave/inventory "$repo/inventory"
cp -R policies "$repo/policies"
cat >"$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $src
    rev: $rev
    hooks:
      - id: severance-validate
      - id: severance-check
        args: [--as-of, "2026-11-25T09:00:00Z"]
YAML
git_in() {
  git -C "$repo" -c user.name=ci -c user.email=ci@example.com -c commit.gpgsign=false "$@"
}
git_in init -q -b main
(cd "$repo" && pre-commit install >/dev/null)

echo "== pre-commit: installing the hooks (cargo install of $rev)"
start=$SECONDS
(cd "$repo" && pre-commit install-hooks)
echo "hooks installed in $((SECONDS - start)) s"

echo "== pre-commit: the first commit of a new repository"
git_in add -A
git_in commit -q -m "first inventory"

echo "== pre-commit: a staged credential linking to an untracked record is refused"
cat >"$repo/inventory/untracked-person.yaml" <<'YAML'
- kind: person
  id: person/N1
  employee_number: "N1"
  status: active
  employments: [{start: 2026-11-01}]
YAML
cat >"$repo/inventory/staged-credential.yaml" <<'YAML'
- {kind: credential, id: cred/ssh/n1, cred_type: ssh_key, owner: person/N1, status: active}
YAML
git_in add inventory/staged-credential.yaml
if out=$(git_in commit -m "a key for the new hire" 2>&1); then
  echo "$out"
  echo "FAIL: the commit passed although its credential's owner is not committed" >&2
  exit 1
fi
if ! grep -q "dangling-link" <<<"$out"; then
  echo "$out"
  echo "FAIL: the refusal does not name the dangling link" >&2
  exit 1
fi
echo "refused, as it should be: $(grep -m1 'dangling-link' <<<"$out")"

echo "== pre-commit: staged together, the commit passes"
git_in add inventory/untracked-person.yaml
git_in commit -q -m "a key for the new hire, and the hire"
echo "pre-commit: 3 scenarios passed"
