// Opens the audit report as an auditor's browser does (Debian's Chromium,
// driven by playwright-core) and fails on anything a person would notice:
// a console error, a request leaving the file (the page must work offline
// and tell no one it was opened), a link to an entry that is not on the
// page, a missing chart, a page that prints wider than the paper. It also
// opens the Markdown report as GitHub renders a comment (cmark-gfm's HTML)
// and checks every table survived. Writes screenshots and the PDF to OUT.
//
// Last, the report of a ledger whose approval comment tries every way in
// (markup, an image, links, a mention, a pipe, backticks, a right-to-left
// override), as a page and as a rendered comment: nothing of it may become
// an element, a link or a request, and in the comment it must stay inside
// code, where GitHub makes no mention or reference of it.
//
//   node tools/check_audit_report.mjs REPORT.html RENDERED-MARKDOWN.html TABLES ROWS OUT HOSTILE.html HOSTILE-MARKDOWN.html
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { writeFileSync } from "node:fs";

const [html, markdownHtml, tables, rows, out, hostileHtml, hostileMarkdown] = process.argv.slice(2);
const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`FAILED: ${what}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

/** Opens a file and records what a person would see go wrong. */
async function open(path, label) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith("file:") && !url.startsWith("data:")) problems.push(`external request: ${url}`);
  });
  page.on("requestfailed", (r) => problems.push(`failed request: ${r.url()}`));
  await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
  await page.waitForTimeout(300);
  return { page, problems, label };
}

function settle({ problems, label }) {
  if (problems.length === 0) console.log(`ok: ${label}: no console errors, no external requests`);
  for (const p of problems) fail(`${label}: ${p}`);
}

// The HTML report.
{
  const opened = await open(html, "HTML report");
  const { page } = opened;
  const facts = await page.evaluate(() => {
    const links = [...document.querySelectorAll('a[href^="#"]')].map((a) => a.getAttribute("href").slice(1));
    const dangling = [...new Set(links.filter((id) => !document.getElementById(id)))];
    const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
    const duplicate = ids.filter((id, i) => ids.indexOf(id) !== i);
    return {
      links: links.length,
      dangling,
      duplicate,
      charts: document.querySelectorAll("figure svg").length,
      entries: document.querySelectorAll('[id^="seq-"]').length,
      external: [...document.querySelectorAll("[src],[href]")]
        .map((e) => e.getAttribute("src") || e.getAttribute("href"))
        .filter((u) => !u.startsWith("#")),
    };
  });
  console.log(`   ${facts.links} links to ${facts.entries} anchored entries, ${facts.charts} charts`);
  if (facts.dangling.length) fail(`HTML report: links to nothing: ${facts.dangling.slice(0, 10).join(", ")}`);
  if (facts.duplicate.length) fail(`HTML report: ids used twice: ${facts.duplicate.slice(0, 10).join(", ")}`);
  if (facts.charts < 3) fail(`HTML report: ${facts.charts} charts, expected time to revoke, timelines and open decisions`);
  if (facts.external.length) fail(`HTML report: references outside the page: ${facts.external.slice(0, 5).join(", ")}`);
  await page.screenshot({ path: `${out}/report.png`, fullPage: true });
  // Printed: A4 landscape, as the page's own @page rule asks.
  await page.emulateMedia({ media: "print" });
  await page.setViewportSize({ width: 1047, height: 720 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) fail(`HTML report: printed, the page is ${overflow}px wider than the paper`);
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  writeFileSync(`${out}/report.pdf`, pdf);
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  console.log(`   printed to PDF: ${pages} pages, ${pdf.length} bytes`);
  if (pages < 1) fail("HTML report: the PDF has no page");
  settle(opened);
}

// The Markdown report as GitHub renders a comment.
{
  const opened = await open(markdownHtml, "Markdown report (cmark-gfm)");
  const { page } = opened;
  const facts = await page.evaluate(() => ({
    tables: document.querySelectorAll("table").length,
    rows: document.querySelectorAll("table tr").length,
    raw: [...document.querySelectorAll("p")].filter((p) => p.textContent.trim().startsWith("|")).length,
    scripts: document.querySelectorAll("script, img, iframe").length,
    details: document.querySelectorAll("details > summary").length,
  }));
  console.log(`   ${facts.tables} tables, ${facts.rows} rows`);
  if (facts.tables !== Number(tables)) fail(`Markdown report: ${facts.tables} tables rendered, the source has ${tables}`);
  if (facts.rows !== Number(rows)) fail(`Markdown report: ${facts.rows} table rows rendered, the source has ${rows}`);
  if (facts.raw) fail(`Markdown report: ${facts.raw} table lines rendered as paragraphs`);
  if (facts.scripts) fail("Markdown report: markup from the ledger became elements");
  if (facts.details !== 1) fail(`Markdown report: ${facts.details} collapsed sections, expected the entries behind each figure`);
  await page.screenshot({ path: `${out}/markdown.png`, fullPage: true });
  settle(opened);
}

// Hostile content, as a page and as a comment.
for (const [path, label, inCode] of [
  [hostileHtml, "hostile HTML report", false],
  [hostileMarkdown, "hostile Markdown report (cmark-gfm)", true],
]) {
  const opened = await open(path, label);
  const facts = await opened.page.evaluate((inCode) => {
    const active = document.querySelectorAll("script, img, iframe, object, embed, svg image, foreignObject").length;
    const links = [...document.querySelectorAll("a[href]")]
      .map((a) => a.getAttribute("href"))
      .filter((h) => !h.startsWith("#"));
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const outside = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      // In a comment, GitHub links mentions and references in any text but code.
      if (inCode && /evil\.example|@octocat/.test(n.textContent) && !n.parentElement.closest("code")) {
        outside.push(n.textContent.slice(0, 80));
      }
    }
    const bidi = /[\u202A-\u202E\u2066-\u2069]/.test(document.body.textContent);
    return { active, links, outside, bidi, shown: /evil\.example/.test(document.body.textContent) };
  }, inCode);
  if (!facts.shown) fail(`${label}: the hostile comment is not shown at all`);
  if (facts.active) fail(`${label}: ${facts.active} active elements from the ledger`);
  if (facts.links.length) fail(`${label}: links out of the page: ${facts.links.join(", ")}`);
  if (facts.outside.length) fail(`${label}: ledger text outside code: ${facts.outside.join(" | ")}`);
  if (facts.bidi) fail(`${label}: a bidirectional override survived`);
  if (!facts.active && !facts.links.length && !facts.outside.length && !facts.bidi) {
    console.log(`ok: ${label}: the comment is shown as text only`);
  }
  settle(opened);
}

await browser.close();
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
