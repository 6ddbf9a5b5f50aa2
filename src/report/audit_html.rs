//! `severance audit --format html`: one self-contained page an auditor can
//! open offline, archive and print to PDF. Styles are inline, charts are
//! inline SVG, and a content security policy forbids the page every network
//! request, so what the auditor sees is what the file holds. Every count
//! links to the entries it counts, and every entry shown carries its
//! sequence number as an anchor.

use std::collections::HashSet;
use std::fmt::Write as _;

use jiff::Timestamp;

use super::audit::{COLUMNS, Steps, decided_text, duration, period_text, shown, state_text};
use crate::audit::{Audit, Control, Deadline, Leaver, OpenPoint, Summary, Trail};

/// Text for HTML, in an element or a quoted attribute: quick-xml's escape
/// (`& < > " '`), after controls and bidirectional formatting characters
/// become U+FFFD.
fn esc(text: &str) -> String {
    quick_xml::escape::escape(shown(text).as_str()).into_owned()
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 12.5px; }
th, td { border: 1px solid #d0d7de; padding: .25rem .4rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; overflow-wrap: normal; hyphens: manual; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
a { color: #0550ae; }
.met, .done { color: #116329; }
.late, .overdue { color: #a40e26; font-weight: 600; }
.pending, .unverified, .open { color: #7d4e00; }
.superseded, .retained, .none { color: #57606a; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; padding: .4rem .6rem; }
.scope p { margin: .2rem 0; }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg text { fill: #1b1f24; }
ul.evidence { margin: 0; padding-left: 1rem; }
:target { outline: 2px solid #d4a72c; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  a { color: inherit; text-decoration: none; }
  section.leaver, figure { break-inside: avoid-page; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
";

/// The page.
pub fn html(audit: &Audit) -> String {
    let mut page = Page {
        out: String::new(),
        anchored: HashSet::new(),
    };
    page.render(audit);
    page.out
}

struct Page {
    out: String,
    /// Sequence numbers that already have their anchor on the page.
    anchored: HashSet<u64>,
}

impl Page {
    /// `id="seq-N"` the first time entry N is shown, so that links to it
    /// land on one place.
    fn anchor(&mut self, seq: u64) -> String {
        if self.anchored.insert(seq) {
            format!(" id=\"seq-{seq}\"")
        } else {
            String::new()
        }
    }

    fn render(&mut self, audit: &Audit) {
        let origin = esc(&audit.ledger.origin);
        let _ = write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>Offboarding audit: {origin}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <h1>Offboarding audit: <code>{origin}</code></h1>\n"
        );
        self.scope(audit);
        self.summary(audit);
        self.controls(audit);
        self.leavers(audit);
        self.runs(audit);
        self.approvers(audit);
        self.open_over_time(&audit.open_over_time);
        self.figures(audit);
        self.out.push_str("</body>\n</html>\n");
    }

    fn scope(&mut self, audit: &Audit) {
        let l = &audit.ledger;
        let p = &audit.period;
        let _ = write!(
            self.out,
            "<div class=\"scope\">\n<p>Ledger verified against key <code>{}</code>: {} entries, root <code>{}</code>{}.</p>\n",
            esc(&l.key),
            l.size,
            esc(&l.root),
            if l.checkpoints.is_empty() {
                String::new()
            } else {
                format!(
                    ", consistent with {} checkpoint{} kept by the auditor",
                    l.checkpoints.len(),
                    if l.checkpoints.len() == 1 { "" } else { "s" }
                )
            }
        );
        let _ = writeln!(
            self.out,
            "<p>Period: {}; deadlines judged at {}.{}</p>",
            esc(&period_text(p)),
            esc(&p.judged_at),
            p.subject
                .as_deref()
                .map(|s| format!(" Only <code>{}</code>.", esc(s)))
                .unwrap_or_default()
        );
        match (&audit.policies.digest, audit.policies.matches_runs) {
            (None, _) => self.out.push_str(
                "<p class=\"warn\">No policy pack was read; decisions are not mapped to controls.</p>\n",
            ),
            (Some(d), true) => {
                let _ = writeln!(
                    self.out,
                    "<p>Controls read from the policy pack <code>{}</code>, the pack every run in the period used.</p>",
                    esc(d)
                );
            }
            (Some(d), false) => {
                let _ = writeln!(
                    self.out,
                    "<p class=\"warn\">Controls read from the policy pack <code>{}</code>, which is <strong>not</strong> the pack of every run in the period (see Runs).</p>",
                    esc(d)
                );
            }
        }
        if !audit.backdated_evidence.is_empty() {
            let links: Vec<String> = audit
                .backdated_evidence
                .iter()
                .map(|s| format!("<a href=\"#seq-{s}\">{s}</a>"))
                .collect();
            let _ = writeln!(
                self.out,
                "<p class=\"warn\">Evidence dated before the decision it is about (its time is the writer's claim; check these by hand): entries {}.</p>",
                links.join(", ")
            );
        }
        self.out.push_str("</div>\n");
    }

    /// A row of counts, each linking to the list of its entries.
    fn summary_cells(&mut self, figure_id: &str, s: &Summary) {
        for (i, (_, figure)) in COLUMNS.iter().enumerate() {
            let f = figure(s);
            if f.count == 0 {
                self.out.push_str("<td class=\"n\">0</td>");
            } else {
                let _ = write!(
                    self.out,
                    "<td class=\"n\"><a href=\"#fig-{figure_id}-{i}\">{}</a></td>",
                    f.count
                );
            }
        }
    }

    fn summary_head(&mut self, first: &str) {
        let _ = write!(self.out, "<table>\n<thead><tr><th>{first}</th>");
        for (name, _) in COLUMNS {
            let _ = write!(self.out, "<th>{name}</th>");
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
    }

    fn summary(&mut self, audit: &Audit) {
        self.out.push_str("<h2 id=\"summary\">Summary</h2>\n");
        self.summary_head("");
        self.out
            .push_str("<tr><th>all decisions with actions due</th>");
        self.summary_cells("all", &audit.summary);
        let _ = write!(
            self.out,
            "</tr>\n</tbody></table>\n<p>{} leaver{}.</p>\n",
            audit.leavers.len(),
            if audit.leavers.len() == 1 { "" } else { "s" }
        );
    }

    fn controls(&mut self, audit: &Audit) {
        self.out.push_str("<h2 id=\"controls\">Controls</h2>\n");
        if audit.controls.is_empty() {
            self.out.push_str("<p>No control is named.</p>\n");
            return;
        }
        self.summary_head("control");
        for (i, c) in audit.controls.iter().enumerate() {
            let _ = write!(
                self.out,
                "<tr id=\"control-{i}\"><th>{}</th>",
                esc(&c.control)
            );
            self.summary_cells(&format!("c{i}"), &c.summary);
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody></table>\n");
        self.out.push_str(
            "<table>\n<thead><tr><th>control</th><th>policies that implement it</th><th>time to revoke: median</th><th>longest</th><th>revokes measured</th></tr></thead>\n<tbody>\n",
        );
        for (i, c) in audit.controls.iter().enumerate() {
            let _ = write!(
                self.out,
                "<tr><th>{}</th><td>{}</td>",
                esc(&c.control),
                c.policies
                    .iter()
                    .map(|p| format!("<code>{}</code>", esc(p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match &c.time_to_revoke {
                Some(t) => {
                    let _ = writeln!(
                        self.out,
                        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\"><a href=\"#fig-c{i}-ttr\">{}</a></td></tr>",
                        duration(t.median_minutes),
                        duration(t.max_minutes),
                        t.count
                    );
                }
                None => self.out.push_str(
                    "<td class=\"n\">—</td><td class=\"n\">—</td><td class=\"n\">0</td></tr>\n",
                ),
            }
        }
        self.out.push_str("</tbody></table>\n");
        if !audit.unmapped_policies.is_empty() {
            let _ = writeln!(
                self.out,
                "<p class=\"warn\">Policies that decided actions but name no control in the pack: {}.</p>",
                audit
                    .unmapped_policies
                    .iter()
                    .map(|p| format!("<code>{}</code>", esc(p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        self.revoke_chart(&audit.controls);
    }

    /// Bars of the median time to revoke per control, with a tick at the
    /// longest.
    fn revoke_chart(&mut self, controls: &[Control]) {
        let measured: Vec<(usize, &Control)> = controls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.time_to_revoke.is_some())
            .collect();
        if measured.is_empty() {
            self.out.push_str(
                "<p>No revoke was done in the period, so no time to revoke is measured.</p>\n",
            );
            return;
        }
        let longest = measured
            .iter()
            .filter_map(|(_, c)| c.time_to_revoke.as_ref().map(|t| t.max_minutes))
            .max()
            .unwrap_or(1)
            .max(1);
        let (left, width, row) = (220.0, 420.0, 24.0);
        let height = row * measured.len() as f64 + 30.0;
        let _ = write!(
            self.out,
            "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 700 {height}\" role=\"img\" aria-labelledby=\"ttr-title\">\n<title id=\"ttr-title\">Time to revoke per control: median bar, longest tick</title>\n"
        );
        for (r, (i, c)) in measured.iter().enumerate() {
            let Some(t) = &c.time_to_revoke else { continue };
            let y = row * r as f64 + 4.0;
            let w = width * t.median_minutes as f64 / longest as f64;
            let x_max = left + width * t.max_minutes as f64 / longest as f64;
            let _ = writeln!(
                self.out,
                "<a href=\"#fig-c{i}-ttr\"><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{name}</text>\
                 <rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"14\" fill=\"#0969da\"><title>{name}: median {median}, longest {max}, {n} revoke(s)</title></rect>\
                 <line x1=\"{x_max:.1}\" x2=\"{x_max:.1}\" y1=\"{y}\" y2=\"{y2}\" stroke=\"#a40e26\" stroke-width=\"2\"/>\
                 <text x=\"{lx:.1}\" y=\"{ty}\">{median}</text></a>",
                tx = left - 6.0,
                ty = y + 11.0,
                name = esc(&c.control),
                median = duration(t.median_minutes),
                max = duration(t.max_minutes),
                n = t.count,
                y2 = y + 14.0,
                lx = left + w + 6.0,
            );
        }
        let axis_y = row * measured.len() as f64 + 8.0;
        let _ = write!(
            self.out,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{axis_y}\" y2=\"{axis_y}\" stroke=\"#57606a\"/>\
             <text x=\"{left}\" y=\"{ly}\">0</text><text x=\"{right}\" y=\"{ly}\" text-anchor=\"end\">{longest}</text>\n</svg>\n\
             <figcaption>Time from decision to done for revokes, per control: bar the median, red tick the longest. Each bar links to the decisions measured.</figcaption>\n</figure>\n",
            right = left + width,
            ly = axis_y + 14.0,
            longest = duration(longest),
        );
    }

    fn leavers(&mut self, audit: &Audit) {
        let _ = writeln!(
            self.out,
            "<h2 id=\"leavers\">Leavers ({})</h2>",
            audit.leavers.len()
        );
        if audit.leavers.is_empty() {
            self.out
                .push_str("<p>No decision in the period follows from a leaver.</p>\n");
        }
        for (i, l) in audit.leavers.iter().enumerate() {
            self.leaver(i, l, &audit.period.judged_at);
        }
        if !audit.other.is_empty() {
            let _ = writeln!(
                self.out,
                "<h2 id=\"other\">Decisions that follow from no leaver ({})</h2>",
                audit.other.len()
            );
            self.trail_table(&audit.other);
        }
    }

    fn leaver(&mut self, i: usize, l: &Leaver, judged_at: &str) {
        let _ = write!(
            self.out,
            "<section class=\"leaver\" id=\"leaver-{i}\">\n<h3>{}</h3>\n<p>First decision {} (<a href=\"#seq-{}\">entry {}</a>); earliest deadline {}. ",
            esc(&l.person),
            esc(&l.first_decided),
            l.first_seq,
            l.first_seq,
            esc(l.earliest_due.as_deref().unwrap_or("none")),
        );
        let s = &l.summary;
        let link = |column: usize, count: usize| {
            if count == 0 {
                "0".to_string()
            } else {
                format!("<a href=\"#fig-l{i}-{column}\">{count}</a>")
            }
        };
        // Indexes into COLUMNS, so that each count links to its entries.
        let _ = writeln!(
            self.out,
            "{} decision{} with actions due: {} done ({} on time, {} late), {} overdue, {} pending, {} unverified.</p>",
            link(0, s.decisions.count),
            if s.decisions.count == 1 { "" } else { "s" },
            link(5, s.done.count),
            link(6, s.on_time.count),
            link(7, s.late.count),
            link(8, s.overdue.count),
            link(9, s.pending.count),
            link(10, s.unverified.count)
        );
        self.timeline(&l.records, judged_at);
        self.trail_table(&l.records);
        self.out.push_str("</section>\n");
    }

    /// One row per decision on a shared time axis: the decision, each
    /// approval, execution and observation, and the deadline.
    fn timeline(&mut self, trails: &[Trail], judged_at: &str) {
        let time = |s: &str| s.parse::<Timestamp>().ok().map(|t| t.as_second());
        let mut instants: Vec<i64> = Vec::new();
        for t in trails {
            instants.extend(time(&t.decided));
            instants.extend(t.decision.due.as_ref().map(|d| d.as_str()).and_then(time));
            instants.extend(t.approvals.iter().filter_map(|a| time(&a.at)));
            instants.extend(t.executions.iter().filter_map(|x| time(&x.at)));
            instants.extend(t.verifications.iter().filter_map(|v| time(&v.at)));
        }
        instants.extend(time(judged_at));
        let (Some(&lo), Some(&hi)) = (instants.iter().min(), instants.iter().max()) else {
            return;
        };
        let span = (hi - lo).max(1) as f64;
        let (left, width, row) = (230.0, 440.0, 20.0);
        let x = |t: i64| left + width * (t - lo) as f64 / span;
        let height = row * trails.len() as f64 + 34.0;
        let _ = write!(
            self.out,
            "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 700 {height}\" role=\"img\"><title>Timeline: decided (circle), approved (diamond), executed (square), observed (triangle), deadline (red bar)</title>\n"
        );
        for (r, t) in trails.iter().enumerate() {
            let y = row * r as f64 + 12.0;
            let _ = write!(
                self.out,
                "<a href=\"#seq-{seq}\"><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{subject}</text></a>\
                 <line x1=\"{left}\" x2=\"{right}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#eaeef2\"/>",
                seq = t.seq,
                tx = left - 6.0,
                ty = y + 4.0,
                subject = esc(&t.decision.subject),
                right = left + width,
            );
            if let Some(due) = t.decision.due.as_ref().map(|d| d.as_str()).and_then(time) {
                let _ = write!(
                    self.out,
                    "<rect x=\"{:.1}\" y=\"{}\" width=\"2\" height=\"14\" fill=\"#a40e26\"><title>due {}</title></rect>",
                    x(due) - 1.0,
                    y - 7.0,
                    esc(t
                        .decision
                        .due
                        .as_ref()
                        .map(|d| d.as_str())
                        .unwrap_or_default())
                );
            }
            if let Some(at) = time(&t.decided) {
                let _ = write!(
                    self.out,
                    "<a href=\"#seq-{}\"><circle cx=\"{:.1}\" cy=\"{y}\" r=\"4.5\" fill=\"#0969da\"><title>entry {}: decided {} ({})</title></circle></a>",
                    t.seq,
                    x(at),
                    t.seq,
                    esc(&t.decision.actions.join(", ")),
                    esc(&t.decided)
                );
            }
            for a in &t.approvals {
                if let Some(at) = time(&a.at) {
                    let cx = x(at);
                    let _ = write!(
                        self.out,
                        "<a href=\"#seq-{}\"><path d=\"M{cx:.1} {} l5 5 l-5 5 l-5 -5 z\" fill=\"#8250df\"><title>entry {}: approved by {} at {}</title></path></a>",
                        a.seq,
                        y - 5.0,
                        a.seq,
                        esc(&a.approver),
                        esc(&a.at)
                    );
                }
            }
            for e in &t.executions {
                if let Some(at) = time(&e.at) {
                    let _ = write!(
                        self.out,
                        "<a href=\"#seq-{}\"><rect x=\"{:.1}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"#bf8700\"><title>entry {}: {} answered {} at {}</title></rect></a>",
                        e.seq,
                        x(at) - 4.0,
                        y - 4.0,
                        e.seq,
                        esc(&e.system),
                        esc(&e.status),
                        esc(&e.at)
                    );
                }
            }
            for v in &t.verifications {
                if let Some(at) = time(&v.at) {
                    let cx = x(at);
                    let _ = write!(
                        self.out,
                        "<a href=\"#seq-{}\"><path d=\"M{cx:.1} {} l5 9 l-10 0 z\" fill=\"#1a7f37\"><title>entry {}: observed by {} at {}</title></path></a>",
                        v.seq,
                        y - 5.0,
                        v.seq,
                        esc(&v.method),
                        esc(&v.at)
                    );
                }
            }
            self.out.push('\n');
        }
        let axis_y = row * trails.len() as f64 + 6.0;
        let first = Timestamp::from_second(lo)
            .map(crate::model::format_time)
            .unwrap_or_default();
        let last = Timestamp::from_second(hi)
            .map(crate::model::format_time)
            .unwrap_or_default();
        let _ = write!(
            self.out,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{axis_y}\" y2=\"{axis_y}\" stroke=\"#57606a\"/>\
             <text x=\"{left}\" y=\"{ly}\">{first}</text><text x=\"{right}\" y=\"{ly}\" text-anchor=\"end\">{last}</text>\n</svg>\n\
             <figcaption>Decided (blue circle), approved (purple diamond), executed (ochre square), observed (green triangle), deadline (red bar); each mark links to its entry.</figcaption>\n</figure>\n",
            right = left + width,
            ly = axis_y + 16.0,
        );
    }

    fn trail_table(&mut self, trails: &[Trail]) {
        self.out.push_str(
            "<table>\n<thead><tr><th>entry</th><th>record</th><th>actions</th><th>due</th><th>decided</th><th>approved</th><th>executed</th><th>observed</th><th>state</th><th>deadline</th></tr></thead>\n<tbody>\n",
        );
        for t in trails {
            let anchor = self.anchor(t.seq);
            let mut actions = if t.decision.actions.is_empty() {
                if t.decision.status == "absent" {
                    "— (left the inventory)".to_string()
                } else {
                    "— (retain)".to_string()
                }
            } else {
                t.decision
                    .actions
                    .iter()
                    .map(|a| {
                        let by = t
                            .decision
                            .policies
                            .get(a)
                            .map(|p| p.join(", "))
                            .unwrap_or_default();
                        format!("{} <span class=\"mono\">({})</span>", esc(a), esc(&by))
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            for (a, by) in &t.decision.blocked {
                let _ = write!(
                    actions,
                    "<br>blocked: {} <span class=\"mono\">({})</span>",
                    esc(a),
                    esc(&by.join(", "))
                );
            }
            let steps = Steps::of(t, &esc);
            let approved = self.evidence(&steps.approved, t.approvals.iter().map(|a| a.seq));
            let executed = self.evidence(&steps.executed, t.executions.iter().map(|x| x.seq));
            let verified = self.evidence(&steps.verified, t.verifications.iter().map(|v| v.seq));
            let deadline = t.deadline.as_str();
            let _ = writeln!(
                self.out,
                "<tr{anchor}><td class=\"n\">{}</td><td><code>{}</code></td><td>{actions}</td><td>{}</td><td>{}</td><td>{approved}</td><td>{executed}</td><td>{verified}</td><td class=\"{}\">{}</td><td class=\"{deadline}\">{}</td></tr>",
                t.seq,
                esc(&t.decision.subject),
                esc(t.decision.due.as_ref().map(|d| d.as_str()).unwrap_or("—")),
                esc(&decided_text(t)),
                t.state.as_str(),
                esc(&state_text(t)),
                deadline_text(t),
            );
        }
        self.out.push_str("</tbody></table>\n");
    }

    /// A list of evidence (already escaped), each item anchored at its entry.
    fn evidence(&mut self, items: &[String], seqs: impl Iterator<Item = u64>) -> String {
        if items.is_empty() {
            return "—".to_string();
        }
        let mut out = String::from("<ul class=\"evidence\">");
        for (text, seq) in items.iter().zip(seqs) {
            let anchor = self.anchor(seq);
            let _ = write!(out, "<li{anchor}>{text}</li>");
        }
        out.push_str("</ul>");
        out
    }

    fn runs(&mut self, audit: &Audit) {
        let _ = writeln!(self.out, "<h2 id=\"runs\">Runs ({})</h2>", audit.runs.len());
        if audit.runs.is_empty() {
            self.out
                .push_str("<p>No run was recorded in the period.</p>\n");
            return;
        }
        self.out.push_str("<table>\n<thead><tr><th>entry</th><th>as of</th><th>tool</th><th>inventory commit</th><th>inventory digest</th><th>policies digest</th><th>decisions</th><th>written</th><th>this pack</th></tr></thead>\n<tbody>\n");
        for r in &audit.runs {
            let anchor = self.anchor(r.seq);
            let _ = writeln!(
                self.out,
                "<tr{anchor}><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                r.seq,
                esc(&r.as_of),
                esc(&r.tool_version),
                r.inventory_commit
                    .as_deref()
                    .map_or("— (uncommitted)".to_string(), |c| format!(
                        "<code>{}</code>",
                        esc(c)
                    )),
                esc(&r.inventory_digest),
                esc(&r.policies_digest),
                r.decisions,
                r.written,
                match r.same_policies {
                    Some(true) => "yes",
                    Some(false) => "<strong class=\"late\">no</strong>",
                    None => "—",
                }
            );
        }
        self.out.push_str("</tbody></table>\n");
    }

    fn approvers(&mut self, audit: &Audit) {
        self.out
            .push_str("<h2 id=\"approvers\">Trusted approvers</h2>\n");
        if audit.approvers.is_empty() {
            self.out
                .push_str("<p>No approver was trusted in the period.</p>\n");
            return;
        }
        self.out.push_str("<table>\n<thead><tr><th>entry</th><th>at</th><th>added</th><th>removed</th><th>trusted after</th></tr></thead>\n<tbody>\n");
        for a in &audit.approvers {
            let anchor = a.seq.map(|s| self.anchor(s)).unwrap_or_default();
            let list = |keys: &[String]| {
                if keys.is_empty() {
                    "—".to_string()
                } else {
                    keys.iter()
                        .map(|k| format!("<code>{}</code>", esc(k)))
                        .collect::<Vec<_>>()
                        .join("<br>")
                }
            };
            let _ = writeln!(
                self.out,
                "<tr{anchor}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                a.seq
                    .map_or("before the period".to_string(), |s| s.to_string()),
                esc(a.at.as_deref().unwrap_or("—")),
                list(&a.added),
                list(&a.removed),
                list(&a.trusted),
            );
        }
        self.out.push_str("</tbody></table>\n");
    }

    /// A step line of open decisions after each instant entries were
    /// recorded at, thinned to a few hundred points for a long ledger.
    fn open_over_time(&mut self, points: &[OpenPoint]) {
        self.out
            .push_str("<h2 id=\"open\">Open decisions over time</h2>\n");
        let time = |p: &OpenPoint| p.at.parse::<Timestamp>().ok().map(|t| t.as_second());
        let timed: Vec<(i64, &OpenPoint)> =
            points.iter().filter_map(|p| Some((time(p)?, p))).collect();
        let (Some(first), Some(last)) = (timed.first(), timed.last()) else {
            self.out.push_str("<p>No entry in the period.</p>\n");
            return;
        };
        const MOST: usize = 400;
        let step = timed.len().div_ceil(MOST).max(1);
        let mut shown: Vec<&(i64, &OpenPoint)> = timed.iter().step_by(step).collect();
        if shown.last().map(|p| p.1.seq) != Some(last.1.seq) {
            shown.push(last);
        }
        let (lo, hi) = (first.0, last.0);
        let top = shown.iter().map(|p| p.1.open).max().unwrap_or(0).max(1);
        let (left, width, height) = (50.0, 620.0, 160.0);
        let x = |t: i64| left + width * (t - lo) as f64 / (hi - lo).max(1) as f64;
        let y = |n: usize| 10.0 + height * (1.0 - n as f64 / top as f64);
        let mut path = String::new();
        for (i, (t, p)) in shown.iter().enumerate() {
            if i == 0 {
                let _ = write!(path, "M{:.1} {:.1}", x(*t), y(p.open));
            } else {
                let _ = write!(path, " H{:.1} V{:.1}", x(*t), y(p.open));
            }
        }
        let _ = write!(
            self.out,
            "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 700 {h}\" role=\"img\"><title>Open decisions over time</title>\n\
             <line x1=\"{left}\" x2=\"{left}\" y1=\"10\" y2=\"{base}\" stroke=\"#57606a\"/><line x1=\"{left}\" x2=\"{right}\" y1=\"{base}\" y2=\"{base}\" stroke=\"#57606a\"/>\
             <text x=\"{lt}\" y=\"14\" text-anchor=\"end\">{top}</text><text x=\"{lt}\" y=\"{base}\" text-anchor=\"end\">0</text>\
             <path d=\"{path}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/>\n",
            h = height + 40.0,
            base = 10.0 + height,
            right = left + width,
            lt = left - 4.0,
        );
        for (t, p) in &shown {
            let _ = write!(
                self.out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#0969da\"><title>{}: {} open after entry {}</title></circle>",
                x(*t),
                y(p.open),
                esc(&p.at),
                p.open,
                p.seq
            );
        }
        let _ = write!(
            self.out,
            "\n<text x=\"{left}\" y=\"{ly}\">{}</text><text x=\"{right}\" y=\"{ly}\" text-anchor=\"end\">{}</text>\n</svg>\n\
             <figcaption>Decisions with actions due and not yet done (nor replaced), after each instant entries were recorded at{}; each point names the last entry it counts.</figcaption>\n</figure>\n",
            esc(&first.1.at),
            esc(&last.1.at),
            if step > 1 {
                format!(", every {step}th instant shown")
            } else {
                String::new()
            },
            right = left + width,
            ly = height + 34.0,
        );
        self.out.push_str("<table>\n<thead><tr><th>at</th><th>last entry</th><th>open</th></tr></thead>\n<tbody>\n");
        for (_, p) in shown {
            let _ = writeln!(
                self.out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&p.at),
                p.seq,
                p.open
            );
        }
        self.out.push_str("</tbody></table>\n");
    }

    /// Every figure's entries, each a link to where the entry is shown.
    fn figures(&mut self, audit: &Audit) {
        self.out
            .push_str("<h2 id=\"figures\">Entries behind each figure</h2>\n");
        let mut lists: Vec<(String, String, &[u64])> = Vec::new();
        for (i, (name, figure)) in COLUMNS.iter().enumerate() {
            let f = figure(&audit.summary);
            if f.count > 0 {
                lists.push((format!("fig-all-{i}"), format!("all: {name}"), &f.seqs));
            }
        }
        for (c, control) in audit.controls.iter().enumerate() {
            for (i, (name, figure)) in COLUMNS.iter().enumerate() {
                let f = figure(&control.summary);
                if f.count > 0 {
                    lists.push((
                        format!("fig-c{c}-{i}"),
                        format!("{}: {name}", control.control),
                        &f.seqs,
                    ));
                }
            }
            if let Some(t) = &control.time_to_revoke {
                lists.push((
                    format!("fig-c{c}-ttr"),
                    format!("{}: time to revoke", control.control),
                    &t.seqs,
                ));
            }
        }
        for (l, leaver) in audit.leavers.iter().enumerate() {
            for (i, (name, figure)) in COLUMNS.iter().enumerate() {
                let f = figure(&leaver.summary);
                if f.count > 0 {
                    lists.push((
                        format!("fig-l{l}-{i}"),
                        format!("{}: {name}", leaver.person),
                        &f.seqs,
                    ));
                }
            }
        }
        self.out.push_str("<ul>\n");
        for (id, label, seqs) in lists {
            let links: Vec<String> = seqs
                .iter()
                .map(|s| format!("<a href=\"#seq-{s}\">{s}</a>"))
                .collect();
            let _ = writeln!(
                self.out,
                "<li id=\"{id}\">{}: {}</li>",
                esc(&label),
                links.join(", ")
            );
        }
        self.out.push_str("</ul>\n");
    }
}

fn deadline_text(t: &Trail) -> &'static str {
    match t.deadline {
        Deadline::Met => "met",
        Deadline::Late => "missed (done late)",
        Deadline::Overdue => "missed (not done)",
        Deadline::Pending => "not yet due",
        Deadline::None => "—",
    }
}
