//! `explain` for a person asking "why is this being revoked?": the record,
//! what it links to and what links to it, and per action the policies that
//! matched with the attribute values that made them match.

use std::fmt::Write as _;

use super::human::{person_heading, table};
use crate::decide::{ActionState, Decision, Effect, Plan, Status};
use crate::diag::printable;
use crate::evaluate::{Evaluation, attribute_values, entities};
use crate::model::{ENVELOPE, Fields, Kind, Value, format_time};
use crate::validate::{Inventory, PolicyPack};

fn format_value(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => format_time(*t),
        Value::Date(d) => d.to_string(),
        Value::Link(l) => l.id.clone(),
        Value::Links(ls) => format!(
            "[{}]",
            ls.iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Strs(ss) => format!("[{}]", ss.join(", ")),
        Value::Object(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, f)| format!("{k}: {}", format_value(&f.value)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Objects(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|fields| {
                    let inner: Vec<String> = fields
                        .iter()
                        .map(|(k, f)| format!("{k}: {}", format_value(&f.value)))
                        .collect();
                    format!("{{{}}}", inner.join(", "))
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// Every link in a record's fields, as (field path, target index).
fn links_of(fields: &Fields, prefix: &str, out: &mut Vec<(String, usize)>) {
    for (name, field) in fields.iter() {
        let path = if prefix.is_empty() {
            (*name).to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match &field.value {
            Value::Link(l) => out.push((path, l.target)),
            Value::Links(ls) => out.extend(ls.iter().map(|l| (path.clone(), l.target))),
            Value::Object(inner) => links_of(inner, &path, out),
            Value::Objects(items) => {
                for (i, inner) in items.iter().enumerate() {
                    links_of(inner, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
}

fn describe_record(inventory: &Inventory, evaluation: &Evaluation, index: usize) -> String {
    let r = &inventory.records[index];
    if r.kind == Kind::Person {
        return format!("person {}", person_heading(inventory, evaluation, index));
    }
    let mut s = format!("{} {} ({})", r.kind, r.id, r.status);
    if let Some(name) = r.fields.str("display_name") {
        let _ = write!(s, "  {name}");
    }
    printable(&s).into_owned()
}

/// Explains one record.
pub fn explain(
    index: usize,
    plan: &Plan,
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
) -> String {
    let record = &inventory.records[index];
    let mut out = String::new();
    let heading = format!("{} {} ({})", record.kind, record.id, record.status);
    let _ = writeln!(out, "{}", printable(&heading));
    let _ = writeln!(out, "  defined at {}", printable(&record.span.to_string()));
    let _ = writeln!(out, "  as of {}", format_time(plan.as_of));

    out.push_str("\nfields\n");
    let mut rows = vec![vec!["status".to_string(), record.status.clone()]];
    for spec in ENVELOPE.iter().chain(record.kind.fields()) {
        if let Some(field) = record.fields.field(spec.name) {
            rows.push(vec![spec.name.to_string(), format_value(&field.value)]);
        }
    }
    out.push_str(&table(rows, "  "));

    if record.kind == Kind::Person
        && let Some(d) = evaluation.derived.departures.get(&index)
    {
        out.push_str("\nderived by severance (attributes policies see)\n");
        let rows = vec![
            vec!["leaver".to_string(), d.leaver.to_string()],
            vec![
                "departure_at".to_string(),
                d.at.map(format_time).unwrap_or_else(|| "(none)".into()),
            ],
            vec![
                "last_day_of_work".to_string(),
                d.last_day_of_work
                    .map(format_time)
                    .unwrap_or_else(|| "(none)".into()),
            ],
            vec![
                "termination_effective".to_string(),
                d.termination_effective
                    .map(format_time)
                    .unwrap_or_else(|| "(none)".into()),
            ],
            vec!["immediate".to_string(), d.immediate.to_string()],
            vec!["rehired".to_string(), d.rehired.to_string()],
            vec![
                "reason_category".to_string(),
                d.reason.clone().unwrap_or_else(|| "(none)".into()),
            ],
        ];
        out.push_str(&table(rows, "  "));
    }

    let mut outgoing = Vec::new();
    links_of(&record.fields, "", &mut outgoing);
    if !outgoing.is_empty() {
        out.push_str("\nlinks to\n");
        let rows = outgoing
            .iter()
            .map(|(path, target)| {
                vec![
                    path.clone(),
                    describe_record(inventory, evaluation, *target),
                ]
            })
            .collect();
        out.push_str(&table(rows, "  "));
    }
    let mut incoming = Vec::new();
    for (i, other) in inventory.records.iter().enumerate() {
        let mut links = Vec::new();
        links_of(&other.fields, "", &mut links);
        for (path, target) in links {
            if target == index {
                incoming.push((i, path));
            }
        }
    }
    if !incoming.is_empty() {
        out.push_str("\nlinked from\n");
        let rows = incoming
            .iter()
            .map(|(i, path)| {
                vec![
                    describe_record(inventory, evaluation, *i),
                    format!("via {path}"),
                ]
            })
            .collect();
        out.push_str(&table(rows, "  "));
    }

    match plan.decisions.iter().find(|d| d.record == index) {
        Some(decision) => explain_decision(&mut out, decision, inventory, pack, evaluation),
        None => {
            let following: Vec<&Decision> = plan
                .decisions
                .iter()
                .filter(|d| d.leaver == Some(index))
                .collect();
            let _ = writeln!(
                out,
                "\n{} records are not decided themselves; {} decision{} follow from this one",
                record.kind,
                following.len(),
                if following.len() == 1 { "" } else { "s" }
            );
            let rows = following
                .iter()
                .map(|d| vec![d.subject.clone(), d.kind.to_string(), d.actions.join(", ")])
                .collect();
            out.push_str(&table(rows, "  "));
        }
    }
    out
}

fn explain_decision(
    out: &mut String,
    decision: &Decision,
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
) {
    let record = &inventory.records[decision.record];
    let verdict = match decision.status {
        Status::Error => "error (could not evaluate; not retained)".to_string(),
        Status::Ok if decision.actions.is_empty() => "retain".to_string(),
        Status::Ok => decision.actions.join(", "),
    };
    let _ = writeln!(out, "\ndecision: {verdict}");
    if let Some(p) = decision.leaver {
        let _ = writeln!(
            out,
            "  follows from {}",
            person_heading(inventory, evaluation, p)
        );
    }
    if let Some(due) = decision.due {
        let _ = writeln!(out, "  due {}", format_time(due));
    }
    for c in &decision.constraints {
        let _ = writeln!(
            out,
            "  must not {}: forbidden by {}",
            c.action,
            c.policies.join(", ")
        );
    }

    let resource = entities::uid(record.kind, &record.id);
    let scoped = crate::evaluate::scoped_sets(pack);
    let outcome = evaluation
        .outcomes
        .iter()
        .find(|o| o.record == decision.record);
    for (name, state) in &decision.states {
        let name: &str = name;
        let Some(a) = outcome.and_then(|o| o.actions.iter().find(|a| a.action == name)) else {
            continue;
        };
        let state = match state {
            ActionState::Failed => "could not evaluate",
            ActionState::Due => "due",
            ActionState::Blocked { .. } => "blocked",
            ActionState::Forbidden { .. } => "forbidden (nothing asks for it; it must not be done)",
            ActionState::NotDue => "not due",
        };
        let _ = writeln!(out, "\n{name}: {state}");
        if a.permits.is_empty() && a.forbids.is_empty() && a.errors.is_empty() {
            let considered = scoped
                .get(&(record.kind, name.to_string()))
                .map(crate::evaluate::Scoped::permit_ids)
                .unwrap_or_default();
            if considered.is_empty() {
                out.push_str("  no policy asks for it of a record of this kind\n");
            } else {
                let _ = writeln!(out, "  conditions not met: {}", considered.join(", "));
            }
        }
        let mut listed: Vec<(&str, Effect)> = a
            .permits
            .iter()
            .map(|p| (p.as_str(), Effect::Permit))
            .collect();
        listed.extend(a.forbids.iter().map(|p| (p.as_str(), Effect::Forbid)));
        for (policy, effect) in listed {
            let Some(info) = pack.info.get(policy) else {
                continue;
            };
            let overridden = effect == Effect::Permit && !a.due && !a.forbids.is_empty();
            let _ = writeln!(
                out,
                "  {} {}{}  ({}:{})",
                effect.as_str(),
                policy,
                if overridden { " (overridden)" } else { "" },
                printable(info.span.path()),
                info.span.line
            );
            let _ = writeln!(out, "    {}", printable(&info.description));
            let _ = writeln!(out, "    controls: {}", info.controls.join(", "));
            if let Some(due) = decision
                .reasons
                .iter()
                .find(|r| r.policy == policy && r.action == name)
                .and_then(|r| r.due)
            {
                let _ = writeln!(out, "    due: {}", format_time(due));
            }
            let rows: Vec<Vec<String>> =
                attribute_values(evaluation, inventory, &resource, &info.reads)
                    .into_iter()
                    .map(|(path, value)| vec![path, format!("= {value}")])
                    .collect();
            if !rows.is_empty() {
                out.push_str(&table(rows, "    "));
            }
        }
        for e in &a.errors {
            let _ = writeln!(out, "  error in {}: {}", e.policy, printable(&e.message));
        }
    }
}
