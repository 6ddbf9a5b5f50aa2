//! `ledger replay` as text or as a versioned JSON document
//! (`docs/schemas/ledger-replay-v1.schema.json`): whether a recorded run
//! was reproduced, each digest as recorded and as replayed, and every
//! decision that differs, subject by subject.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::ledger::entry::{DecisionBody, Tag};
use crate::ledger::replay::{Change, Compared, Replay};

/// The version of the `ledger replay` document's shape.
pub const REPLAY_SCHEMA_VERSION: u32 = 1;

/// What differs, in a few words: `the policies differ; 3 decisions differ`.
fn what_differs(replay: &Replay) -> Vec<String> {
    let mut parts = Vec::new();
    if !replay.inventory.same() {
        parts.push("the inventory differs".to_string());
    }
    if !replay.policies.same() {
        parts.push("the policies differ".to_string());
    }
    if !replay.ledger_holds_run {
        parts.push("the ledger does not hold the run's decisions".to_string());
    }
    match replay.differences.len() {
        0 if !replay.decisions.same() => parts.push("the decisions digest differs".to_string()),
        0 => {}
        1 => parts.push("1 decision differs".to_string()),
        n => parts.push(format!("{n} decisions differ")),
    }
    parts
}

/// A digest as replayed, and as recorded when that differs.
fn digest_line(compared: &Compared<Tag>) -> String {
    if compared.same() {
        format!("{}, as recorded", compared.replayed)
    } else {
        format!("{}, recorded {}", compared.replayed, compared.recorded)
    }
}

/// A decision's actions in a few words.
fn verdict(body: &DecisionBody) -> String {
    if body.actions.is_empty() {
        "retain".to_string()
    } else {
        body.actions.join(", ")
    }
}

/// One field of a decision body as compact JSON.
fn field_value(body: &DecisionBody, field: &str) -> String {
    let json = serde_json::to_value(body).unwrap_or_default();
    serde_json::to_string(&json[field]).unwrap_or_default()
}

/// The verdict on a replay of a run of the ledger in `dir`, its digests,
/// and every decision that differs.
pub fn human(dir: &Path, replay: &Replay) -> String {
    let mut text = String::new();
    let differs = what_differs(replay);
    let verdict_text = if replay.confirmed() {
        "confirmed".to_string()
    } else {
        format!("not confirmed ({})", differs.join("; "))
    };
    let _ = writeln!(
        text,
        "ledger `{}`: run {} replayed: {verdict_text}",
        dir.display(),
        replay.seq
    );
    let _ = writeln!(text, "  as of        {}", replay.as_of);
    let _ = writeln!(text, "  commit       {}", replay.commit);
    let tool = if replay.tool.same() {
        format!("severance {}, as recorded", replay.tool.replayed)
    } else {
        format!(
            "severance {}, recorded {}",
            replay.tool.replayed, replay.tool.recorded
        )
    };
    let _ = writeln!(text, "  tool         {tool}");
    let _ = writeln!(text, "  inventory    {}", digest_line(&replay.inventory));
    let at = match &replay.policies_at {
        Some(rev) => format!("read at `{rev}`"),
        None => "read at the run's commit".to_string(),
    };
    let _ = writeln!(
        text,
        "  policies     {} ({at})",
        digest_line(&replay.policies)
    );
    let count = if replay.count.same() {
        replay.count.replayed.to_string()
    } else {
        format!(
            "{} (recorded {})",
            replay.count.replayed, replay.count.recorded
        )
    };
    let _ = writeln!(
        text,
        "  decisions    {count}, {}",
        digest_line(&replay.decisions)
    );
    if !replay.ledger_holds_run {
        let _ = writeln!(
            text,
            "  warning: the decisions the ledger holds at run {} do not give its `decisions.digest`; the differences below are against what it holds",
            replay.seq
        );
    }
    if replay.differences.is_empty() {
        return text;
    }
    let _ = writeln!(text);
    let width = replay
        .differences
        .iter()
        .map(|d| d.subject.len())
        .max()
        .unwrap_or(0);
    for d in &replay.differences {
        let what = match (d.change, &d.recorded, &d.replayed) {
            (Change::Changed, _, _) => d.fields.join(", "),
            (Change::Added, _, Some(body)) => format!("replayed: {}", verdict(body)),
            (Change::Removed, Some(body), _) => format!("recorded: {}", verdict(body)),
            _ => String::new(),
        };
        let _ = writeln!(
            text,
            "  {:<8} {:<width$}  {what}",
            d.change.as_str(),
            d.subject
        );
        if let (Some(was), Some(now)) = (&d.recorded, &d.replayed) {
            for field in &d.fields {
                let _ = writeln!(
                    text,
                    "             {field:<9} recorded {}, replayed {}",
                    field_value(was, field),
                    field_value(now, field)
                );
            }
        }
    }
    text
}

#[derive(Serialize)]
struct ReplayDoc<'a> {
    schema_version: u32,
    confirmed: bool,
    ledger: String,
    run: RunDoc<'a>,
    tool: CompareDoc<String>,
    inventory: CompareDoc<Tag>,
    policies: PoliciesDoc<'a>,
    decisions: DecisionsDoc,
    differences: Vec<DifferenceDoc<'a>>,
}

#[derive(Serialize)]
struct RunDoc<'a> {
    seq: u64,
    leaf: Tag,
    as_of: &'a str,
    commit: &'a str,
}

/// A recorded value, a replayed one, and whether they agree.
#[derive(Serialize)]
struct CompareDoc<T> {
    recorded: T,
    replayed: T,
    same: bool,
}

impl<T: Clone + PartialEq> CompareDoc<T> {
    fn of(compared: &Compared<T>) -> CompareDoc<T> {
        CompareDoc {
            recorded: compared.recorded.clone(),
            replayed: compared.replayed.clone(),
            same: compared.same(),
        }
    }
}

#[derive(Serialize)]
struct PoliciesDoc<'a> {
    #[serde(flatten)]
    digest: CompareDoc<Tag>,
    /// The revision read, as the auditor named it; null for the run's commit.
    at: Option<&'a str>,
}

#[derive(Serialize)]
struct DecisionsDoc {
    #[serde(flatten)]
    digest: CompareDoc<Tag>,
    count: CompareDoc<u64>,
    ledger_holds_run: bool,
}

#[derive(Serialize)]
struct DifferenceDoc<'a> {
    subject: &'a str,
    change: &'static str,
    fields: &'a [&'static str],
    recorded: Option<&'a DecisionBody>,
    replayed: Option<&'a DecisionBody>,
}

/// The replay as one JSON document, with its newline.
pub fn json(dir: &Path, replay: &Replay) -> String {
    crate::report::ledger::pretty(&ReplayDoc {
        schema_version: REPLAY_SCHEMA_VERSION,
        confirmed: replay.confirmed(),
        ledger: dir.display().to_string(),
        run: RunDoc {
            seq: replay.seq,
            leaf: replay.leaf,
            as_of: &replay.as_of,
            commit: &replay.commit,
        },
        tool: CompareDoc::of(&replay.tool),
        inventory: CompareDoc::of(&replay.inventory),
        policies: PoliciesDoc {
            digest: CompareDoc::of(&replay.policies),
            at: replay.policies_at.as_deref(),
        },
        decisions: DecisionsDoc {
            digest: CompareDoc::of(&replay.decisions),
            count: CompareDoc::of(&replay.count),
            ledger_holds_run: replay.ledger_holds_run,
        },
        differences: replay
            .differences
            .iter()
            .map(|d| DifferenceDoc {
                subject: &d.subject,
                change: d.change.as_str(),
                fields: &d.fields,
                recorded: d.recorded.as_ref(),
                replayed: d.replayed.as_ref(),
            })
            .collect(),
    })
}
