//! The plan as one versioned JSON document (`schema_version` 2, described in
//! `docs/schemas/plan-v2.schema.json`). Keys are in a fixed order, decisions sorted by
//! subject, so the same input always gives the same bytes.

use serde::Serialize;

use crate::decide::{Constraint, Decision, Plan};
use crate::evaluate::Evaluation;
use crate::model::format_time;
use crate::report::InputDirs;
use crate::validate::{Inventory, PolicyPack};

/// The version of the plan document's shape.
pub const PLAN_SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct PlanDoc<'a> {
    schema_version: u32,
    tool: Tool,
    as_of: String,
    inventory: Source,
    policies: Source,
    summary: SummaryDoc<'a>,
    leavers: Vec<LeaverDoc>,
    upcoming: Vec<LeaverDoc>,
    decisions: Decisions<'a>,
}

/// The decisions, turned into documents one at a time as they are written:
/// at a million records, a vector of documents and the text they make would
/// each hold the whole plan a second and a third time.
struct Decisions<'a> {
    plan: &'a Plan,
    inventory: &'a Inventory,
}

impl Serialize for Decisions<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.plan
                .decisions
                .iter()
                .map(|d| decision_doc(d, self.inventory)),
        )
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Source {
    path: String,
    files: usize,
    count: usize,
}

#[derive(Serialize)]
struct SummaryDoc<'a> {
    records: usize,
    decided: usize,
    actions: &'a std::collections::BTreeMap<String, usize>,
    retain: usize,
    blocked: usize,
    constrained: usize,
    error: usize,
}

#[derive(Serialize)]
struct LeaverDoc {
    id: String,
    display_name: Option<String>,
    status: String,
    leaver: bool,
    departure_at: Option<String>,
}

#[derive(Serialize)]
struct DecisionDoc<'a> {
    subject: &'a str,
    kind: &'static str,
    status: &'static str,
    actions: Vec<&'a str>,
    blocked: Vec<&'a str>,
    constraints: Vec<ConstraintDoc<'a>>,
    leaver: Option<&'a str>,
    due: Option<String>,
    reasons: Vec<ReasonDoc<'a>>,
    errors: Vec<ErrorDoc<'a>>,
    file: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct ReasonDoc<'a> {
    action: &'a str,
    policy: &'a str,
    effect: &'static str,
    due: Option<String>,
}

#[derive(Serialize)]
struct ConstraintDoc<'a> {
    action: &'a str,
    policies: &'a [String],
}

impl<'a> ConstraintDoc<'a> {
    fn of(c: &'a Constraint) -> Self {
        ConstraintDoc {
            action: &c.action,
            policies: &c.policies,
        }
    }
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    action: &'a str,
    policy: &'a str,
    message: &'a str,
}

fn decision_doc<'a>(d: &'a Decision, inventory: &'a Inventory) -> DecisionDoc<'a> {
    let record = &inventory.records[d.record];
    let mut actions: Vec<&str> = d.actions.iter().map(String::as_str).collect();
    actions.sort_unstable();
    let mut blocked: Vec<&str> = d.blocked.iter().map(String::as_str).collect();
    blocked.sort_unstable();
    let mut reasons: Vec<ReasonDoc<'_>> = d
        .reasons
        .iter()
        .map(|r| ReasonDoc {
            action: &r.action,
            policy: &r.policy,
            effect: r.effect.as_str(),
            due: r.due.map(format_time),
        })
        .collect();
    reasons.sort_by(|a, b| (a.action, a.effect, a.policy).cmp(&(b.action, b.effect, b.policy)));
    DecisionDoc {
        subject: &d.subject,
        kind: d.kind.as_str(),
        status: d.status.as_str(),
        actions,
        blocked,
        constraints: d.constraints.iter().map(ConstraintDoc::of).collect(),
        leaver: d.leaver.map(|p| inventory.records[p].id.as_str()),
        due: d.due.map(format_time),
        reasons,
        errors: d
            .failures
            .iter()
            .map(|f| ErrorDoc {
                action: &f.action,
                policy: &f.policy,
                message: &f.message,
            })
            .collect(),
        file: record.span.path(),
        line: record.span.line,
        column: record.span.col,
    }
}

/// The plan as pretty-printed JSON.
pub fn plan(
    plan: &Plan,
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
    input: InputDirs<'_>,
) -> String {
    let mut bytes = Vec::new();
    // INVARIANT: writing to a vector cannot fail, and the document is made
    // of strings, integers, options and sequences of those, so serializing
    // it cannot fail either.
    write_plan(&mut bytes, plan, inventory, pack, evaluation, input)
        .unwrap_or_else(|e| unreachable!("plan serialization: {e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| unreachable!("serde_json writes UTF-8: {e}"))
}

/// Writes the plan as pretty-printed JSON and a final newline to `w`,
/// streaming the decisions rather than building the document first.
pub fn write_plan(
    w: &mut dyn std::io::Write,
    plan: &Plan,
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
    input: InputDirs<'_>,
) -> std::io::Result<()> {
    let mut leaver_ids: Vec<usize> = plan.decisions.iter().filter_map(|d| d.leaver).collect();
    leaver_ids.sort_unstable();
    leaver_ids.dedup();
    let person_doc = |p: usize| {
        let r = &inventory.records[p];
        let d = evaluation.derived.departures.get(&p);
        LeaverDoc {
            id: r.id.clone(),
            display_name: r.fields.str("display_name").map(str::to_string),
            status: r.status.clone(),
            leaver: d.is_some_and(|d| d.leaver),
            departure_at: d.and_then(|d| d.at).map(format_time),
        }
    };
    let upcoming = super::human::upcoming_departures(inventory, evaluation)
        .into_iter()
        .map(person_doc)
        .collect();
    let leavers = leaver_ids.into_iter().map(person_doc).collect();
    let doc = PlanDoc {
        schema_version: PLAN_SCHEMA_VERSION,
        tool: Tool {
            name: "severance",
            version: env!("CARGO_PKG_VERSION"),
        },
        as_of: format_time(plan.as_of),
        inventory: Source {
            path: input.inventory.display().to_string(),
            files: inventory.files.len(),
            count: inventory.records.len(),
        },
        policies: Source {
            path: input.policies.display().to_string(),
            files: pack.files.len(),
            count: pack.info.len(),
        },
        summary: SummaryDoc {
            records: plan.summary.records,
            decided: plan.summary.decided,
            actions: &plan.summary.actions,
            retain: plan.summary.retain,
            blocked: plan.summary.blocked,
            constrained: plan.summary.constrained,
            error: plan.summary.error,
        },
        leavers,
        upcoming,
        decisions: Decisions { plan, inventory },
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}
