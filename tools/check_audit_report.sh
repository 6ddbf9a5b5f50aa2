#!/usr/bin/env bash
# The audit report as its readers meet it. The sample ledger's report in
# examples/audit/ (the CLI tests keep it byte-equal to what `severance audit`
# writes) is opened in headless Chromium from Debian's packages, driven by
# playwright-core: no console error, no request leaving the file, every link
# to an entry lands on it, the charts are there, and it prints to an A4 PDF
# without overflowing the paper. The Markdown report is rendered by
# cmark-gfm, GitHub's own CommonMark fork, as a comment would be, and every
# table must survive. The report of a ledger holding hostile text
# (tests/fixtures/audit/hostile/, kept by the same tests) must show it as
# text only, in both forms. Screenshots and the PDF go to
# ${SEVERANCE_ARTIFACTS:-target/audit-check}.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${SEVERANCE_TOOLS_CACHE:-$HOME/.cache/severance-ci}
out=${SEVERANCE_ARTIFACTS:-${CARGO_TARGET_DIR:-target}/audit-check}
case $out in /*) ;; *) out=$root/$out ;; esac
playwright_version=1.65.1
mkdir -p "$out" "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v cmark-gfm >/dev/null || need+=(cmark-gfm)
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} from the distribution's packages"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
pw=$cache/playwright-core-$playwright_version
if [ ! -d "$pw/node_modules/playwright-core" ]; then
  echo "== installing playwright-core $playwright_version"
  mkdir -p "$pw"
  (cd "$pw" && npm install --silent --no-audit --no-fund --no-save "playwright-core@$playwright_version" >/dev/null)
fi

render() { # Markdown file -> an HTML page as GitHub renders a comment
  printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>audit comment</title></head><body>\n'
  # GitHub keeps raw HTML such as <details> (then sanitizes it), so the
  # renderer does too; tagfilter is GitHub's own filter of dangerous tags.
  cmark-gfm --unsafe --extension table --extension autolink --extension strikethrough --extension tagfilter "$1"
  printf '</body></html>\n'
}
md=examples/audit/report.md
# What the source holds: table blocks, and their rows less the delimiter rows.
tables=$(awk '/^\|/ { if (!t) n++; t = 1; next } { t = 0 } END { print n + 0 }' "$md")
rows=$(( $(grep -c '^|' "$md") - $(grep -cE '^\|([-:]+\|)+$' "$md") ))
render "$md" > "$tmp/markdown.html"
render tests/fixtures/audit/hostile/report.md > "$tmp/hostile-markdown.html"

echo "== the audit report in Chromium ($(chromium --version 2>/dev/null | head -1))"
cp tools/check_audit_report.mjs "$pw/check.mjs"
node "$pw/check.mjs" "$root/examples/audit/report.html" "$tmp/markdown.html" "$tables" "$rows" "$out" \
  "$root/tests/fixtures/audit/hostile/report.html" "$tmp/hostile-markdown.html"
echo "screenshots and PDF in $out"
