//! Text for people: the plan grouped by leaver and action, and the
//! validation summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};

use crate::decide::{Constraint, Decision, Effect, Plan, Status};
use crate::diag::printable;
use crate::evaluate::Evaluation;
use crate::model::{Kind, format_time};
use crate::report::InputDirs;
use crate::validate::{Inventory, PolicyPack, Validation};

/// A borderless table whose columns are separated by two spaces, with no
/// trailing whitespace and no dependence on the terminal's width. Cells
/// quote input (ids, names), so each is made [`printable`]: a newline in a
/// cell would otherwise forge a row of a work order.
pub(crate) fn table(rows: Vec<Vec<String>>, indent: &str) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    for row in rows {
        t.add_row(row.iter().map(|cell| printable(cell).into_owned()));
    }
    for column in t.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = String::new();
    for line in t.lines() {
        let _ = writeln!(out, "{indent}{}", line.trim_end());
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `validate` prints: what was read and how many findings.
pub fn validation_summary(v: &Validation, input: InputDirs<'_>) -> String {
    let (errors, warnings) = crate::diag::count(&v.diagnostics);
    let mut out = String::new();
    match &v.inventory {
        Some(inv) => {
            let kinds: Vec<String> = inv
                .counts()
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            let _ = writeln!(
                out,
                "inventory `{}`: {} in {} ({})",
                input.inventory.display(),
                plural(inv.records.len(), "record", "records"),
                plural(inv.files.len(), "file", "files"),
                kinds.join(", ")
            );
        }
        None => {
            let _ = writeln!(out, "inventory `{}`: not valid", input.inventory.display());
        }
    }
    match &v.policies {
        Some(p) => {
            let rules = p.info.values().filter(|i| i.rule.is_some()).count();
            let forbids = p
                .info
                .values()
                .filter(|i| i.effect == cedar_policy::Effect::Forbid)
                .count();
            let decisions = p.info.len() - rules;
            let _ = writeln!(
                out,
                "policies `{}`: {} ({} permit, {} forbid) and {} in {}, strictly valid against the schema",
                input.policies.display(),
                plural(decisions, "decision policy", "decision policies"),
                decisions - forbids,
                forbids,
                plural(rules, "check rule", "check rules"),
                plural(p.files.len() - 1, "file", "files"),
            );
        }
        None => {
            let _ = writeln!(out, "policies `{}`: not valid", input.policies.display());
        }
    }
    let _ = writeln!(
        out,
        "{}, {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings")
    );
    out
}

/// The one-line summary: `48 records: 12 revoke, …, 20 retain, 6 review`.
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut parts: Vec<String> = plan
        .action_names
        .iter()
        .filter(|a| a.as_str() != "review")
        .map(|a| format!("{} {a}", s.actions.get(a).copied().unwrap_or(0)))
        .collect();
    parts.push(format!("{} retain", s.retain));
    parts.push(format!(
        "{} review",
        s.actions.get("review").copied().unwrap_or(0)
    ));
    parts.push(format!("{} error", s.error));
    format!(
        "{} decided of {}: {}",
        plural(s.decided, "record", "records"),
        s.records,
        parts.join(", ")
    )
}

/// How a person is shown in headings: id, name, status and departure, made
/// [`printable`] (a heading is a line of its own).
pub fn person_heading(inventory: &Inventory, evaluation: &Evaluation, person: usize) -> String {
    let record = &inventory.records[person];
    let mut text = record.id.clone();
    if let Some(name) = record.fields.str("display_name") {
        let _ = write!(text, "  {name}");
    }
    let _ = write!(text, "  ({}", record.status);
    if let Some(d) = evaluation.derived.departures.get(&person) {
        match (d.leaver, d.at) {
            (true, Some(at)) => {
                let verb = if at > evaluation.as_of {
                    "departs"
                } else {
                    "departed"
                };
                let _ = write!(text, ", {verb} {}", format_time(at));
            }
            (true, None) => text.push_str(", departure date unknown"),
            (false, Some(at)) => {
                let _ = write!(text, ", departs {}", format_time(at));
            }
            (false, None) => {
                if let Some(moved) = record.fields.time("moved_at") {
                    let _ = write!(text, ", moved team {}", format_time(moved));
                }
            }
        }
        if d.immediate {
            text.push_str(", immediate");
        }
    }
    text.push(')');
    printable(&text).into_owned()
}

fn policies_of(d: &Decision, action: &str, effect: Effect) -> String {
    let names: Vec<&str> = d
        .reasons
        .iter()
        .filter(|r| r.action == action && r.effect == effect)
        .map(|r| r.policy.as_str())
        .collect();
    names.join(", ")
}

/// `must not wipe: legal-hold-no-wipe`.
fn constraint_line(c: &Constraint) -> String {
    format!("must not {}: {}", c.action, c.policies.join(", "))
}

fn due_of(d: &Decision, action: &str) -> String {
    d.reasons
        .iter()
        .filter(|r| r.action == action && r.effect == Effect::Permit)
        .filter_map(|r| r.due)
        .min()
        .map(|t| format!("due {}", format_time(t)))
        .unwrap_or_default()
}

/// People who are not leavers yet but have a departure date ahead, in id order.
pub fn upcoming_departures(inventory: &Inventory, evaluation: &Evaluation) -> Vec<usize> {
    let mut people: Vec<usize> = evaluation
        .derived
        .departures
        .iter()
        .filter(|(_, d)| !d.leaver && d.at.is_some_and(|at| at > evaluation.as_of))
        .map(|(&p, _)| p)
        .collect();
    people.sort_by(|a, b| inventory.records[*a].id.cmp(&inventory.records[*b].id));
    people
}

/// The decisions that follow from one leaver (or from no one).
type LeaverGroup<'a> = (Option<usize>, Vec<&'a Decision>);

/// The plan for people.
pub fn plan(
    plan: &Plan,
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
    input: InputDirs<'_>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan as of {}: inventory `{}` ({}), policies `{}` ({})",
        format_time(plan.as_of),
        input.inventory.display(),
        plural(inventory.records.len(), "record", "records"),
        input.policies.display(),
        plural(
            pack.info.values().filter(|i| i.rule.is_none()).count(),
            "decision policy",
            "decision policies"
        ),
    );

    // Group due decisions by leaver, leavers in id order, "no leaver" last.
    let mut groups: BTreeMap<(bool, String), LeaverGroup<'_>> = BTreeMap::new();
    for d in plan
        .decisions
        .iter()
        .filter(|d| d.status == Status::Ok && !d.actions.is_empty())
    {
        let key = match d.leaver {
            Some(p) => (false, inventory.records[p].id.clone()),
            None => (true, String::new()),
        };
        groups
            .entry(key)
            .or_insert((d.leaver, Vec::new()))
            .1
            .push(d);
    }
    for (leaver, decisions) in groups.values() {
        out.push('\n');
        match leaver {
            Some(p) => {
                let _ = writeln!(out, "{}", person_heading(inventory, evaluation, *p));
            }
            None => out.push_str("not caused by a departure\n"),
        }
        let mut rows = Vec::new();
        for action in &plan.action_names {
            let mut first = true;
            for d in decisions.iter().filter(|d| d.actions.contains(action)) {
                rows.push(vec![
                    if first { action.clone() } else { String::new() },
                    d.subject.clone(),
                    d.kind.to_string(),
                    due_of(d, action),
                    policies_of(d, action, Effect::Permit),
                ]);
                // Beside the work itself, so that whoever collects the
                // laptop reads that it must not be wiped.
                for c in &d.constraints {
                    rows.push(vec![
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        constraint_line(c),
                    ]);
                }
                first = false;
            }
        }
        out.push_str(&table(rows, "  "));
    }

    let blocked: Vec<&Decision> = plan
        .decisions
        .iter()
        .filter(|d| !d.blocked.is_empty())
        .collect();
    if !blocked.is_empty() {
        out.push_str("\nblocked by a forbid policy\n");
        let mut rows = Vec::new();
        for d in blocked {
            for action in &d.blocked {
                rows.push(vec![
                    action.clone(),
                    d.subject.clone(),
                    d.kind.to_string(),
                    format!("forbidden by {}", policies_of(d, action, Effect::Forbid)),
                    format!("(asked by {})", policies_of(d, action, Effect::Permit)),
                ]);
            }
        }
        out.push_str(&table(rows, "  "));
    }

    let standing: Vec<&Decision> = plan
        .decisions
        .iter()
        .filter(|d| d.status == Status::Ok && d.actions.is_empty() && !d.constraints.is_empty())
        .collect();
    if !standing.is_empty() {
        out.push_str("\nnothing due, but must not be done\n");
        let mut rows = Vec::new();
        for d in standing {
            for c in &d.constraints {
                rows.push(vec![
                    c.action.clone(),
                    d.subject.clone(),
                    d.kind.to_string(),
                    format!("forbidden by {}", c.policies.join(", ")),
                ]);
            }
        }
        out.push_str(&table(rows, "  "));
    }

    let failed: Vec<&Decision> = plan
        .decisions
        .iter()
        .filter(|d| d.status == Status::Error)
        .collect();
    if !failed.is_empty() {
        out.push_str("\ncould not evaluate (not retained: fix the policy or the record)\n");
        let mut rows = Vec::new();
        for d in failed {
            for f in &d.failures {
                rows.push(vec![
                    d.subject.clone(),
                    d.kind.to_string(),
                    f.action.clone(),
                    f.policy.clone(),
                    f.message.clone(),
                ]);
            }
        }
        out.push_str(&table(rows, "  "));
    }

    let upcoming = upcoming_departures(inventory, evaluation);
    if !upcoming.is_empty() {
        out.push_str("\nupcoming departures (nothing due yet)\n");
        let rows = upcoming
            .iter()
            .map(|&p| vec![person_heading(inventory, evaluation, p)])
            .collect();
        out.push_str(&table(rows, "  "));
    }

    let retained: Vec<&Decision> = plan.decisions.iter().filter(|d| d.is_retain()).collect();
    if !retained.is_empty() {
        let mut by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
        for d in &retained {
            *by_kind.entry(d.kind).or_insert(0) += 1;
        }
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(out, "\nretained: {} ({})", retained.len(), kinds.join(", "));
    }

    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

/// What an import wrote, for the person who ran it or reviews its pull
/// request.
pub fn import_summary(
    request: &crate::import::Request,
    summary: &crate::import::Summary,
) -> String {
    let mut s = String::new();
    let counts: Vec<String> = summary
        .records
        .iter()
        .map(|(kind, n)| match kind {
            crate::model::Kind::Person => plural(*n, "person", "people"),
            crate::model::Kind::Nhi => plural(*n, "non-human identity", "non-human identities"),
            _ => plural(*n, kind.as_str(), &format!("{kind}s")),
        })
        .collect();
    let _ = writeln!(
        s,
        "imported {} from {} into `{}`: {}",
        request.system,
        request.source.name(),
        crate::load::display_path(&request.out),
        if counts.is_empty() {
            "no records".to_string()
        } else {
            counts.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "  {} new, {} changed, {} unchanged, {} no longer returned by the source (kept, marked `missing_since`)",
        summary.added,
        summary.changed,
        summary.unchanged,
        summary.missing.len()
    );
    if summary.weak > 0 {
        let _ = writeln!(
            s,
            "  {} joined a person on an email or login alone (`match: weak`): never acted on by itself, review them",
            summary.weak
        );
    }
    for id in &summary.missing {
        let _ = writeln!(s, "  missing: {id}");
    }
    s
}
