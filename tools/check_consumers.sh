#!/usr/bin/env bash
# Consumer checks CI runs after the test suite: severance's reports must be
# accepted by the tools that read them.
#
#  - SARIF, as GitHub code scanning takes it: Microsoft's SARIF multitool
#    (npm `@microsoft/sarif-multitool`, its Linux build) runs GitHub's rules
#    (`--rule-kind Ghas`, alias `Gh`: GH1011, GH1013-GH1018, GH2012, and
#    GH1001-GH1003, GH1005-GH1007, which are off by default and switched on
#    below); then GitHub's upload limits (10 MB gzipped, 20 runs, 25,000
#    results and rules per run, ...) and the helpUri anchors are checked here.
#  - JUnit XML: `junit-strict` against the common Jenkins `junit-10.xsd`
#    (taken from the pytest sdist on PyPI), with xmllint.
#
# Inputs: the shipped sample, every check rule (tests/fixtures/check/every-rule),
# an inventory that does not load (exit 2, reports still written), and a
# generated organisation large enough that the SARIF log has to leave findings
# out (SEVERANCE_CONSUMERS_PEOPLE, default 4000: about 5,750 findings).
#
# Tools are cached under ${SEVERANCE_TOOLS_CACHE:-$HOME/.cache/severance-ci};
# a second run installs nothing. Any error or warning from a consumer fails
# the script, after every check has run and printed what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${SEVERANCE_BIN:-${CARGO_TARGET_DIR:-target}/debug/severance}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
cache=${SEVERANCE_TOOLS_CACHE:-$HOME/.cache/severance-ci}
people=${SEVERANCE_CONSUMERS_PEOPLE:-4000}
as_of=2026-11-25T09:00:00Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

multitool_version=5.7.0
pytest_version=9.2.0
pytest_sdist_sha256=97c4f3b1f3c7414aa36465e09b8220f1d03627993bd51b1282e193753c80557b
junit_xsd_sha256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6

if [ ! -x "$bin" ]; then
  echo "no severance binary at $bin: build it first (cargo build), or set SEVERANCE_BIN" >&2
  exit 2
fi

failures=()
fail() { failures+=("$1"); echo "FAILED: $1"; }

script_start=${EPOCHREALTIME/./}
section_start=
took() { # prints how long the current section took
  [ -n "$section_start" ] || return 0
  local us=$(( ${EPOCHREALTIME/./} - section_start ))
  printf '   (%d.%d s)\n' $((us / 1000000)) $((us / 100000 % 10))
}
section() {
  took
  echo "== $*"
  section_start=${EPOCHREALTIME/./}
}

# ---------------------------------------------------------------------------
section "tools (cache: $cache)"
mkdir -p "$cache"

# The multitool: a self-contained .NET build inside the npm package
# @microsoft/sarif-multitool-linux, which @microsoft/sarif-multitool selects on
# Linux. Both pinned; the package's only install script is a chmod, done here.
mt_dir=$cache/sarif-multitool-$multitool_version
multitool=$mt_dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [ ! -x "$multitool" ]; then
  echo "installing @microsoft/sarif-multitool@$multitool_version (npm)"
  rm -rf "$mt_dir.partial"
  mkdir -p "$mt_dir.partial"
  npm install --prefix "$mt_dir.partial" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts --loglevel=error \
    "@microsoft/sarif-multitool@$multitool_version" "@microsoft/sarif-multitool-linux@$multitool_version" >/dev/null
  chmod u+x "$mt_dir.partial/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
  rm -rf "$mt_dir"
  mv "$mt_dir.partial" "$mt_dir"
fi
# .NET needs ICU unless told to run without culture data; validation needs none.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
"$multitool" --version | sed -n 1p

if ! command -v xmllint >/dev/null; then
  echo "installing libxml2-utils (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null
fi
xmllint --version 2>&1 | sed -n 1p

# junit-10.xsd (Jenkins' JUnit schema, MIT) ships in pytest's sdist, under
# testing/example_scripts/. Only the sdist has it (pip prepares pytest's
# metadata to download it: 10-15 s, once); the schema is then cached.
xsd=$cache/pytest-$pytest_version/junit-10.xsd
if [ ! -f "$xsd" ]; then
  echo "fetching junit-10.xsd from the pytest $pytest_version sdist (pip)"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary pytest \
    -d "$tmp/pip" "pytest==$pytest_version"
  sdist=$tmp/pip/pytest-$pytest_version.tar.gz
  echo "$pytest_sdist_sha256  $sdist" | sha256sum --check --quiet
  mkdir -p "$(dirname "$xsd")"
  tar -xzf "$sdist" -O "pytest-$pytest_version/testing/example_scripts/junit-10.xsd" > "$xsd.partial"
  echo "$junit_xsd_sha256  $xsd.partial" | sha256sum --check --quiet
  mv "$xsd.partial" "$xsd"
fi
echo "junit-10.xsd from pytest $pytest_version: $xsd"

# ---------------------------------------------------------------------------
# Reports. `check` exits 0 or 1 (blocking findings, which these inputs have)
# when it evaluated the input, and 2 when the input does not load (expected
# only for the invalid fixture); it writes every report in all three cases.
mkdir -p "$tmp/reports"
sarifs=()
junits=()
report() { # NAME "EXPECTED-EXIT-CODES" DIR CHECK-ARGS...
  local name=$1 expect=$2 dir=$3 rc=0
  shift 3
  (cd "$dir" && "$bin" check -q --as-of "$as_of" "$@" \
    --format "sarif=$tmp/reports/$name.sarif" \
    --format "junit-strict=$tmp/reports/$name.xml") >"$tmp/check.out" 2>"$tmp/check.err" || rc=$?
  if [[ " $expect " != *" $rc "* ]]; then
    cat "$tmp/check.out" "$tmp/check.err"
    fail "$name: severance check exited $rc, expected ${expect// / or }"
    return 0
  fi
  if [ ! -s "$tmp/reports/$name.sarif" ] || [ ! -s "$tmp/reports/$name.xml" ]; then
    cat "$tmp/check.out" "$tmp/check.err"
    fail "$name: severance check exited $rc but did not write both reports"
    return 0
  fi
  tail -n 1 "$tmp/check.err"
  sarifs+=("$tmp/reports/$name.sarif")
  junits+=("$tmp/reports/$name.xml")
}

section "reports: the shipped sample"
report sample "0 1" "$root"

section "reports: every check rule (tests/fixtures/check/every-rule)"
report every-rule "0 1" "$root" --inventory tests/fixtures/check/every-rule/inventory

section "reports: an inventory that does not load (tests/fixtures/invalid/dangling-link)"
report dangling-link 2 "$root" --inventory tests/fixtures/invalid/dangling-link/inventory

section "reports: a generated organisation of $people people (seed 7)"
# Generated and checked inside the temporary directory, with a copy of the
# policies, so that locations are relative to where check runs, as in a
# repository: an inventory outside the working directory gets absolute file
# URIs, which GitHub rejects (GH1006).
"$bin" generate -q --people "$people" --seed 7 --out "$tmp/org/inventory"
cp -R policies "$tmp/org/policies"
report org "0 1" "$tmp/org"

# ---------------------------------------------------------------------------
section "GitHub's SARIF rules (SARIF multitool $multitool_version, --rule-kind Ghas)"
if [ ${#sarifs[@]} -eq 0 ]; then
  fail "no SARIF report to validate"
else
  # GH1001-GH1007 are off unless a configuration names them. GH1004 checks
  # arrays against GitHub's old display defaults (1,000 results or rules per
  # run, 10 locations per result): shown as notes; the current upload limits
  # are checked below.
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<Properties>'
    for rule in GH1001.ProvideRequiredLocationProperties:Error GH1002.InlineThreadFlowLocations:Error \
      GH1003.ProvideRequiredRegionProperties:Error GH1004.ReviewArraysThatExceedConfigurableDefaults:Note \
      GH1005.LocationsMustBeRelativeUrisOrFilePaths:Error GH1006.ProvideCheckoutPath:Error \
      GH1007.ProvideFullyFormattedMessageStrings:Error; do
      printf '  <Properties Key="%s.Options">\n    <Property Key="RuleEnabled" Value="%s" />\n  </Properties>\n' \
        "${rule%:*}" "${rule#*:}"
    done
    echo '</Properties>'
  } > "$tmp/gh-rules.xml"
  # A control the rules must catch, so that a validator that ran nothing
  # cannot pass: a rule without fullDescription and help, a result whose
  # message has no text.
  cat > "$tmp/control.sarif" <<'JSON'
{
  "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
  "version": "2.1.0",
  "runs": [{
    "tool": {"driver": {"name": "control", "rules": [{"id": "control-rule", "shortDescription": {"text": "A control."}}]}},
    "results": [{
      "ruleId": "control-rule", "ruleIndex": 0, "level": "error", "message": {"id": "default"},
      "locations": [{"physicalLocation": {"artifactLocation": {"uri": "control.yaml"}, "region": {"startLine": 1}}}]
    }]
  }]
}
JSON
  # The multitool's list options (--level, --log, --rule-kind) swallow the
  # words after them, so the files come first; its boolean options need a
  # value; it exits 0 whatever it finds, so its own SARIF log is read.
  mt_rc=0
  "$multitool" validate "${sarifs[@]}" "$tmp/control.sarif" \
    --rule-kind Ghas --config "$tmp/gh-rules.xml" --level "Error;Warning;Note" \
    --output "$tmp/gh-findings.sarif" --log ForceOverwrite >"$tmp/multitool.log" 2>&1 || mt_rc=$?
  if [ "$mt_rc" != 0 ] || [ ! -s "$tmp/gh-findings.sarif" ]; then
    cat "$tmp/multitool.log"
    fail "the SARIF multitool exited $mt_rc"
  elif ! python3 - "$tmp/gh-findings.sarif" "$tmp/control.sarif" "${sarifs[@]}" <<'PY'
import collections, json, os, sys
from urllib.parse import unquote, urlparse

findings, control, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
log = json.load(open(findings))
by_file = collections.defaultdict(lambda: collections.defaultdict(list))
problems = []
for run in log["runs"]:
    rules = run["tool"]["driver"].get("rules", [])
    for inv in run.get("invocations", []):
        if not inv.get("executionSuccessful", False):
            problems.append("the multitool reports an unsuccessful execution")
        for n in inv.get("toolExecutionNotifications", []) + inv.get("toolConfigurationNotifications", []):
            level = n.get("level", "warning")
            text = "%s %s: %s" % (level, n.get("descriptor", {}).get("id", ""), n["message"].get("text", ""))
            print("  multitool notification:", text)
            if level in ("error", "warning"):
                problems.append(text)
    for result in run.get("results", []):
        rule = rules[result["ruleIndex"]] if "ruleIndex" in result else {}
        message = result["message"]
        text = message.get("text") or rule.get("messageStrings", {}).get(message.get("id"), {}).get("text", message.get("id", ""))
        try:
            text = text.format(*message.get("arguments", []))
        except (IndexError, KeyError):
            pass
        location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        path = os.path.realpath(unquote(urlparse(location.get("artifactLocation", {}).get("uri", "")).path))
        line = location.get("region", {}).get("startLine", 0)
        key = (result.get("ruleId"), result.get("level", "warning"), message.get("id", ""))
        by_file[path][key].append((line, text))

worst = 0
for path in inputs + [control]:
    groups = by_file.get(os.path.realpath(path), {})
    name = os.path.basename(path)
    if path == control:
        want = {("GH2012", "error", "Error_MissingFullDescription"),
                ("GH2012", "error", "Error_MissingHelp"),
                ("GH1007", "error", "Error_Default")}
        missing = want - set(groups)
        if missing:
            problems.append("the control log was not caught by %s" % sorted(missing))
        else:
            print("  control (a rule without fullDescription and help, a message without text): caught")
        continue
    counts = collections.Counter(level for (_, level, _), hits in groups.items() for _ in hits)
    print("  %s: errors %d, warnings %d, notes %d" % (name, counts["error"], counts["warning"], counts["note"]))
    for (rule_id, level, message_id), hits in sorted(groups.items()):
        line, text = hits[0]
        print("    %dx %s %s (%s), e.g. line %d: %s" % (len(hits), level, rule_id, message_id, line, text))
    worst += counts["error"] + counts["warning"]
known = {os.path.realpath(p) for p in inputs + [control]}
for path, groups in by_file.items():
    if path not in known:
        for (rule_id, level, message_id), hits in sorted(groups.items()):
            problems.append("%dx %s %s (%s) at %s: %s" % (len(hits), level, rule_id, message_id, path or "?", hits[0][1]))
for p in problems:
    print("  " + p)
sys.exit(1 if worst or problems else 0)
PY
  then
    fail "GitHub's SARIF rules: errors or warnings (listed above)"
  fi
fi

# ---------------------------------------------------------------------------
section "GitHub's upload limits and SARIF sanity"
if [ ${#sarifs[@]} -gt 0 ] && ! python3 - "${sarifs[@]}" <<'PY'
import gzip, json, os, sys

# docs.github.com, code scanning: "SARIF results exceed one or more limits";
# the gzipped file must be at most 10 MB.
MAX_GZIP = 10 * 1000 * 1000
bad = []
for path in sys.argv[1:]:
    name = os.path.basename(path)
    raw = open(path, "rb").read()
    gz = len(gzip.compress(raw, 6))
    log = json.loads(raw)
    runs = log.get("runs", [])
    def limit(what, n, most):
        if n > most:
            bad.append("%s: %s %d > %d" % (name, what, n, most))
    limit("gzipped bytes", gz, MAX_GZIP)
    limit("runs", len(runs), 20)
    if log.get("version") != "2.1.0":
        bad.append("%s: version %r, not 2.1.0" % (name, log.get("version")))
    for i, run in enumerate(runs):
        driver = run["tool"]["driver"]
        rules = driver.get("rules", [])
        results = run.get("results", [])
        limit("results in run %d" % i, len(results), 25000)
        limit("rules in run %d" % i, len(rules), 25000)
        limit("tool extensions in run %d" % i, len(run["tool"].get("extensions", [])), 100)
        if run.get("columnKind", "unicodeCodePoints") not in ("utf16CodeUnits", "unicodeCodePoints"):
            bad.append("%s: columnKind %r" % (name, run["columnKind"]))
        ids = {r["id"] for r in rules}
        for r in rules:
            limit("tags on rule %s" % r["id"], len(r.get("properties", {}).get("tags", [])), 20)
            level = r.get("defaultConfiguration", {}).get("level", "warning")
            if level not in ("none", "note", "warning", "error"):
                bad.append("%s: rule %s has level %r" % (name, r["id"], level))
        for j, res in enumerate(results):
            where = "%s: results[%d]" % (name, j)
            limit(where + " locations", len(res.get("locations", [])), 1000)
            for flow in res.get("codeFlows", []):
                for tf in flow.get("threadFlows", []):
                    limit(where + " thread flow locations", len(tf.get("locations", [])), 10000)
            if res.get("level", "warning") not in ("none", "note", "warning", "error"):
                bad.append("%s level %r" % (where, res.get("level")))
            if res.get("kind", "fail") not in ("notApplicable", "pass", "fail", "review", "open", "informational"):
                bad.append("%s kind %r" % (where, res.get("kind")))
            if res.get("ruleId") not in ids:
                bad.append("%s ruleId %r is not a rule of the run" % (where, res.get("ruleId")))
            if not res.get("message", {}).get("text", "").strip():
                bad.append("%s has no message text" % where)
        left_out = [n["message"].get("text", "") for inv in run.get("invocations", [])
                    for n in inv.get("toolExecutionNotifications", [])]
        print("  %s: %d results, %d rules, %d bytes, %d gzipped%s" % (
            name, len(results), len(rules), len(raw), gz,
            "".join("\n    notification: " + t for t in left_out)))
        if len(results) > 5000:
            print("    (GitHub shows only the first 5,000 results of a run)")
for b in bad[:50]:
    print("  " + b)
if len(bad) > 50:
    print("  ... and %d more" % (len(bad) - 50))
sys.exit(1 if bad else 0)
PY
then
  fail "SARIF over GitHub's upload limits, or not sane (listed above)"
fi

# ---------------------------------------------------------------------------
section "helpUri anchors resolve to headings in this repository"
if [ ${#sarifs[@]} -gt 0 ] && ! python3 - "$root" "${sarifs[@]}" <<'PY'
import json, os, re, sys

root, paths = sys.argv[1], sys.argv[2:]

def anchors(md):
    """GitHub's heading ids: lower case, punctuation other than - and _ dropped,
    spaces to hyphens, -1, -2 ... for repeats; plus explicit id/name anchors."""
    seen, out = {}, set()
    in_fence = False
    for line in open(md, encoding="utf-8"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            continue
        m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            text = re.sub(r"<[^>]+>", "", m.group(1))
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else "%s-%d" % (slug, n))
        out.update(re.findall(r"<a\s+(?:id|name)=[\"']([^\"']+)[\"']", line))
    return out

cache, bad, checked = {}, [], 0
for path in paths:
    log = json.load(open(path))
    for run in log["runs"]:
        for rule in run["tool"]["driver"].get("rules", []):
            uri = rule.get("helpUri")
            m = re.search(r"/blob/[^/]+/([^#]+)#(.+)$", uri or "")
            if not m:
                continue
            doc, anchor = m.groups()
            checked += 1
            full = os.path.join(root, doc)
            if not os.path.isfile(full):
                bad.append("%s: %s: no file %s" % (os.path.basename(path), rule["id"], doc))
                continue
            if full not in cache:
                cache[full] = anchors(full)
            if anchor not in cache[full]:
                bad.append("%s: %s: %s has no heading #%s" % (os.path.basename(path), rule["id"], doc, anchor))
for b in sorted(set(bad)):
    print("  " + b)
print("  %d helpUri anchors checked, %d do not resolve" % (checked, len(set(bad))))
sys.exit(1 if bad else 0)
PY
then
  fail "helpUri anchors that go nowhere (listed above)"
fi

# ---------------------------------------------------------------------------
section "JUnit: junit-strict against junit-10.xsd (xmllint)"
for xml in "${junits[@]}"; do
  if xmllint --noout --schema "$xsd" "$xml" >"$tmp/xmllint.out" 2>&1; then
    echo "  $(basename "$xml"): valid"
  else
    n=$(grep -c 'validity error' "$tmp/xmllint.out" || true)
    echo "  $(basename "$xml"): $n schema errors; the first 5, then each kind with its count:"
    grep 'validity error' "$tmp/xmllint.out" | sed -n 1,5p | sed 's/^/    /' || true
    grep 'validity error' "$tmp/xmllint.out" | sed -E 's/^.*Schemas validity error : //' | sort | uniq -c | sort -rn | sed 's/^/   /' || true
    grep -v 'validity error' "$tmp/xmllint.out" | grep -v 'fails to validate$' | sed -n 1,5p | sed 's/^/    /' || true
    fail "junit-strict $(basename "$xml") is not valid against junit-10.xsd"
  fi
done

took
total=$(( ${EPOCHREALTIME/./} - script_start ))
printf '== done in %d.%d s\n' $((total / 1000000)) $((total / 100000 % 10))
if [ ${#failures[@]} -gt 0 ]; then
  echo "consumer checks failed:"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
echo "every report accepted by its consumer"
