//! `severance audit`'s report for a program (JSON, schema
//! `docs/schemas/audit-v1.schema.json`) and for a review thread (Markdown,
//! as a GitHub comment renders it). The HTML page is in `audit_html.rs`.
//! Every figure names the ledger entries it counts.

use std::fmt::Write as _;

use crate::audit::{Audit, Figure, Leaver, Summary, Trail};

/// The report as one JSON document.
pub fn json(audit: &Audit) -> String {
    // INVARIANT: the report holds only strings, integers, booleans and maps
    // with string keys; writing it to memory cannot fail.
    let mut text = serde_json::to_string_pretty(audit)
        .unwrap_or_else(|e| unreachable!("JSON of an audit: {e}"));
    text.push('\n');
    text
}

/// Picks one figure of a summary.
pub(crate) type Column = fn(&Summary) -> &Figure;

/// The columns of a summary, in order, with their headings.
pub(crate) const COLUMNS: [(&str, Column); 12] = [
    ("decisions", |s| &s.decisions),
    ("executed", |s| &s.executed),
    ("executed on time", |s| &s.executed_on_time),
    ("verified", |s| &s.verified),
    ("verified on time", |s| &s.verified_on_time),
    ("done", |s| &s.done),
    ("on time", |s| &s.on_time),
    ("late", |s| &s.late),
    ("overdue", |s| &s.overdue),
    ("pending", |s| &s.pending),
    ("unverified", |s| &s.unverified),
    ("superseded", |s| &s.superseded),
];

/// `entry 12`, or nothing.
fn entries(seqs: &[u64]) -> String {
    seqs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Minutes as hours and minutes.
pub(crate) fn duration(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Which entries the period holds, in words.
pub(crate) fn period_text(p: &crate::audit::Period) -> String {
    match (&p.from, &p.to) {
        (Some(from), Some(to)) => format!("from {from} to {to} (entries before it)"),
        (Some(from), None) => format!("from {from} on"),
        (None, Some(to)) => format!("every entry before {to}"),
        (None, None) => "the whole ledger".to_string(),
    }
}

/// The line that says what was verified and what the audit covers.
pub(crate) fn scope_lines(audit: &Audit) -> Vec<String> {
    let l = &audit.ledger;
    let mut lines = vec![format!(
        "Ledger {} verified against key {}: {} entries, root `{}`{}.",
        code(&l.origin),
        code(&l.key),
        l.size,
        l.root,
        if l.checkpoints.is_empty() {
            String::new()
        } else {
            format!(
                ", consistent with the {} checkpoint{} kept by the auditor",
                l.checkpoints.len(),
                if l.checkpoints.len() == 1 { "" } else { "s" }
            )
        }
    )];
    let p = &audit.period;
    let mut period = format!(
        "Period: {}; deadlines judged at {}.",
        period_text(p),
        p.judged_at
    );
    if let Some(s) = &p.subject {
        let _ = write!(period, " Only {}.", code(s));
    }
    lines.push(period);
    lines.push(match (&audit.policies.digest, audit.policies.matches_runs) {
        (None, _) => "Controls: no policy pack was read; decisions are not mapped to controls."
            .to_string(),
        (Some(d), true) => {
            format!("Controls: read from the policy pack `{d}`, the pack every run in the period used.")
        }
        (Some(d), false) => format!(
            "Controls: read from the policy pack `{d}`, which is **not** the pack of every run in the period (see Runs)."
        ),
    });
    lines
}

/// What a decision's trail says at each step, for a table cell.
pub(crate) struct Steps {
    pub approved: Vec<String>,
    pub executed: Vec<String>,
    pub verified: Vec<String>,
}

impl Steps {
    /// The steps, each value from the ledger passed through `quote` (a
    /// code span for Markdown, escaping for HTML).
    pub(crate) fn of(t: &Trail, quote: &dyn Fn(&str) -> String) -> Steps {
        Steps {
            approved: t
                .approvals
                .iter()
                .map(|a| {
                    let comment = a
                        .comment
                        .as_deref()
                        .map(|c| format!(" ({})", quote(c)))
                        .unwrap_or_default();
                    format!(
                        "{} by {}{comment}, entry {}",
                        a.at,
                        quote(&a.approver),
                        a.seq
                    )
                })
                .collect(),
            executed: t
                .executions
                .iter()
                .map(|x| {
                    format!(
                        "{} {} answered {} to {}, entry {}",
                        x.at,
                        quote(&x.system),
                        quote(&x.status),
                        quote(&x.request_id),
                        x.seq
                    )
                })
                .collect(),
            verified: t
                .verifications
                .iter()
                .map(|v| {
                    let observed: Vec<String> = v
                        .observed
                        .iter()
                        .map(|(k, v)| quote(&format!("{k}={v}")))
                        .collect();
                    format!(
                        "{} {}: {}, entry {}",
                        v.at,
                        quote(&v.method),
                        observed.join(" "),
                        v.seq
                    )
                })
                .collect(),
        }
    }
}

/// Bidirectional formatting characters: shown as they are, they reorder
/// what is around them, so `exe.png` can display as `gnp.exe`.
pub(crate) fn spoofs(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text from the ledger with every control character but the newline, and
/// every bidirectional formatting character, replaced by U+FFFD.
pub(crate) fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n') || spoofs(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// A value from the ledger as a Markdown code span inside a table cell:
/// nothing in it becomes markup, a link, an image, a mention or a
/// reference, and a pipe cannot end the cell. Controls and bidirectional
/// formatting characters become U+FFFD.
pub(crate) fn code(text: &str) -> String {
    let text = shown(text).replace('\n', "\u{FFFD}");
    if text.is_empty() {
        return "(empty)".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

/// The state column: the state, what replaced it, when it was done.
pub(crate) fn state_text(t: &Trail) -> String {
    let mut text = t.state.as_str().to_string();
    if let Some(by) = t.superseded_by {
        let _ = write!(text, " by entry {by}");
    }
    if let Some(done) = &t.done {
        let _ = write!(
            text,
            " {} (entry {}, after {})",
            done.at,
            done.seq,
            duration(done.minutes)
        );
    }
    if !t.backdated_evidence.is_empty() {
        let _ = write!(
            text,
            "; evidence dated before the decision: entries {}",
            entries(&t.backdated_evidence)
        );
    }
    text
}

/// The actions column, each action name through `quote`.
pub(crate) fn actions(t: &Trail, quote: &dyn Fn(&str) -> String) -> String {
    let list = |names: &mut dyn Iterator<Item = &String>| {
        names.map(|a| quote(a)).collect::<Vec<_>>().join(", ")
    };
    let mut text = if t.decision.actions.is_empty() {
        if t.decision.status == "absent" {
            "— (left the inventory)".to_string()
        } else {
            "— (retain)".to_string()
        }
    } else {
        list(&mut t.decision.actions.iter())
    };
    if !t.decision.blocked.is_empty() {
        let _ = write!(text, "; blocked: {}", list(&mut t.decision.blocked.keys()));
    }
    text
}

/// The decided column: when, and whether before the period.
pub(crate) fn decided_text(t: &Trail) -> String {
    if t.carried_over {
        format!("{} (before the period)", t.decided)
    } else {
        t.decided.clone()
    }
}

fn trail_table(out: &mut String, trails: &[Trail]) {
    out.push_str(
        "| entry | record | actions | due | decided | approved | executed | verified | state | deadline |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for t in trails {
        let steps = Steps::of(t, &code);
        let list = |items: &[String]| {
            if items.is_empty() {
                "—".to_string()
            } else {
                items.join("; ")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.seq,
            code(&t.decision.subject),
            actions(t, &code),
            t.decision.due.as_ref().map_or("—", |d| d.as_str()),
            decided_text(t),
            list(&steps.approved),
            list(&steps.executed),
            list(&steps.verified),
            state_text(t),
            t.deadline.as_str(),
        );
    }
    out.push('\n');
}

fn summary_row(out: &mut String, label: &str, s: &Summary) {
    let _ = write!(out, "| {label} |");
    for (_, figure) in COLUMNS {
        let _ = write!(out, " {} |", figure(s).count);
    }
    out.push('\n');
}

fn summary_head(out: &mut String, first: &str) {
    let _ = write!(out, "| {first} |");
    for (name, _) in COLUMNS {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|");
    for _ in COLUMNS {
        out.push_str("---:|");
    }
    out.push('\n');
}

/// The entries behind each non-empty figure of a summary.
fn figure_entries(out: &mut String, label: &str, s: &Summary) {
    for (name, figure) in COLUMNS {
        let f = figure(s);
        if f.count > 0 {
            let _ = writeln!(out, "- {label} {name}: {}", entries(&f.seqs));
        }
    }
}

fn leaver_section(out: &mut String, l: &Leaver) {
    let _ = writeln!(out, "### {}\n", code(&l.person));
    let _ = writeln!(
        out,
        "First decision {} (entry {}); earliest deadline {}. {} decision{} with actions due: {} done ({} on time, {} late), {} overdue, {} pending, {} unverified.\n",
        l.first_decided,
        l.first_seq,
        l.earliest_due.as_deref().unwrap_or("none"),
        l.summary.decisions.count,
        if l.summary.decisions.count == 1 {
            ""
        } else {
            "s"
        },
        l.summary.done.count,
        l.summary.on_time.count,
        l.summary.late.count,
        l.summary.overdue.count,
        l.summary.pending.count,
        l.summary.unverified.count,
    );
    trail_table(out, &l.records);
}

/// The report as Markdown.
pub fn markdown(audit: &Audit) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Offboarding audit: {}\n",
        code(&audit.ledger.origin)
    );
    for line in scope_lines(audit) {
        let _ = writeln!(out, "{line}\n");
    }

    out.push_str("### Summary\n\n");
    summary_head(&mut out, "");
    summary_row(&mut out, "all decisions with actions due", &audit.summary);
    let _ = writeln!(out, "\n{} leavers.\n", audit.leavers.len());

    out.push_str("### Controls\n\n");
    if audit.controls.is_empty() {
        out.push_str("No control is named.\n\n");
    } else {
        summary_head(&mut out, "control");
        for c in &audit.controls {
            summary_row(&mut out, &code(&c.control), &c.summary);
        }
        out.push('\n');
        out.push_str("| control | policies | time to revoke (median, longest) |\n|---|---|---|\n");
        for c in &audit.controls {
            let time = c.time_to_revoke.as_ref().map_or("—".to_string(), |t| {
                format!(
                    "{}, {} over {} revoke{} (entries {})",
                    duration(t.median_minutes),
                    duration(t.max_minutes),
                    t.count,
                    if t.count == 1 { "" } else { "s" },
                    entries(&t.seqs)
                )
            });
            let _ = writeln!(
                out,
                "| {} | {} | {time} |",
                code(&c.control),
                c.policies
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out.push('\n');
    }
    if !audit.unmapped_policies.is_empty() {
        let _ = writeln!(
            out,
            "Policies that decided actions but name no control in the pack: {}.\n",
            audit
                .unmapped_policies
                .iter()
                .map(|p| code(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    if !audit.backdated_evidence.is_empty() {
        let _ = writeln!(
            out,
            "**Evidence dated before the decision it is about** (its `ts` is the writer's claim; check these by hand): entries {}.\n",
            entries(&audit.backdated_evidence)
        );
    }
    let _ = writeln!(out, "### Leavers ({})\n", audit.leavers.len());
    if audit.leavers.is_empty() {
        out.push_str("No decision in the period follows from a leaver.\n\n");
    }
    for l in &audit.leavers {
        leaver_section(&mut out, l);
    }
    if !audit.other.is_empty() {
        let _ = writeln!(
            out,
            "### Decisions that follow from no leaver ({})\n",
            audit.other.len()
        );
        trail_table(&mut out, &audit.other);
    }

    let _ = writeln!(out, "### Runs ({})\n", audit.runs.len());
    if !audit.runs.is_empty() {
        out.push_str("| entry | as of | tool | inventory commit | inventory digest | policies digest | decisions | written | this pack |\n|---|---|---|---|---|---|---:|---:|---|\n");
        for r in &audit.runs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | `{}` | `{}` | {} | {} | {} |",
                r.seq,
                r.as_of,
                code(&r.tool_version),
                r.inventory_commit
                    .as_deref()
                    .map_or("— (uncommitted)".to_string(), code),
                r.inventory_digest,
                r.policies_digest,
                r.decisions,
                r.written,
                match r.same_policies {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "—",
                }
            );
        }
        out.push('\n');
    }

    out.push_str("### Trusted approvers\n\n");
    if audit.approvers.is_empty() {
        out.push_str("No approver was trusted in the period.\n\n");
    } else {
        out.push_str("| entry | at | added | removed | trusted after |\n|---|---|---|---|---|\n");
        for a in &audit.approvers {
            let list = |keys: &[String]| {
                if keys.is_empty() {
                    "—".to_string()
                } else {
                    keys.iter().map(|k| code(k)).collect::<Vec<_>>().join(", ")
                }
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                a.seq
                    .map_or("before the period".to_string(), |s| s.to_string()),
                a.at.as_deref().unwrap_or("—"),
                list(&a.added),
                list(&a.removed),
                list(&a.trusted),
            );
        }
        out.push('\n');
    }

    out.push_str("### Open decisions over time\n\n");
    if audit.open_over_time.is_empty() {
        out.push_str("No entry in the period.\n\n");
    } else {
        out.push_str("| at | last entry | open |\n|---|---:|---:|\n");
        for p in &audit.open_over_time {
            let _ = writeln!(out, "| {} | {} | {} |", p.at, p.seq, p.open);
        }
        out.push('\n');
    }

    out.push_str("<details><summary>Entries behind each figure</summary>\n\n");
    figure_entries(&mut out, "all:", &audit.summary);
    for c in &audit.controls {
        figure_entries(&mut out, &format!("{}:", code(&c.control)), &c.summary);
    }
    for l in &audit.leavers {
        figure_entries(&mut out, &format!("{}:", code(&l.person)), &l.summary);
    }
    out.push_str("\n</details>\n");
    out
}
