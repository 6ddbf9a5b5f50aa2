//! Stage 4, decide: turn Cedar's answers into one [`Decision`] per record:
//! the due actions, the policies behind each, the actions a `forbid` blocked,
//! the leaver the decision follows from and when it is due. A record on
//! which any policy failed to evaluate gets an `error` decision, never a
//! silent retain.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::diag::{Code, Diagnostic};
use crate::evaluate::{ActionOutcome, Evaluation, RecordOutcome, action_rank, failed_at};
use crate::model::{Kind, Record};
use crate::validate::{Inventory, PolicyPack};

/// Whether a decision could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every policy evaluated.
    Ok,
    /// At least one policy failed to evaluate on this record.
    Error,
}

impl Status {
    /// `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }
}

/// Whether a policy made an action due or blocked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// The policy asks for the action.
    Permit,
    /// The policy forbids the action.
    Forbid,
}

impl Effect {
    /// `permit` or `forbid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        }
    }
}

/// One policy's part in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The action.
    pub action: String,
    /// The policy's `@id`.
    pub policy: String,
    /// What it did.
    pub effect: Effect,
    /// When the action is due, if the policy sets a deadline.
    pub due: Option<Timestamp>,
}

/// A policy that could not be evaluated on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The action being asked about.
    pub action: String,
    /// The policy's `@id` (empty when the request itself failed).
    pub policy: String,
    /// Cedar's message.
    pub message: String,
    /// Byte range (start, end) of the expression that failed in the policy's file, when
    /// Cedar says.
    pub at: Option<(usize, usize)>,
}

/// Where one action stands on a record, as Cedar answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionState {
    /// A permit asks for it and no forbid blocks it.
    Due,
    /// A permit asks for it but forbids block it.
    Blocked {
        /// The forbids, by `@id`.
        by: Vec<String>,
    },
    /// No permit asks for it, but forbids hold: it must not be done
    /// should anyone ask (a constraint on the record, such as a legal hold
    /// on a laptop that is still to be collected).
    Forbidden {
        /// The forbids, by `@id`.
        by: Vec<String>,
    },
    /// No permit's condition holds, and no forbid's.
    NotDue,
    /// A policy failed to evaluate on it (the decision's failures say which).
    Failed,
}

impl ActionState {
    /// The state of an action from Cedar's answer about it.
    fn of(outcome: &ActionOutcome) -> ActionState {
        if !outcome.errors.is_empty() {
            ActionState::Failed
        } else if outcome.due {
            ActionState::Due
        } else if !outcome.forbids.is_empty() && !outcome.permits.is_empty() {
            ActionState::Blocked {
                by: outcome.forbids.clone(),
            }
        } else if !outcome.forbids.is_empty() {
            ActionState::Forbidden {
                by: outcome.forbids.clone(),
            }
        } else {
            ActionState::NotDue
        }
    }
}

/// An action that must not be done on a record although nothing asks for
/// it yet, and the forbids that say so. The person who carries out the due
/// actions needs it beside them: collect the laptop, but do not wipe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The forbidden action.
    pub action: String,
    /// The forbids that hold, by `@id`, sorted.
    pub policies: Vec<String>,
}

/// The decision for one record.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Index of the record in the inventory.
    pub record: usize,
    /// The record's id.
    pub subject: String,
    /// The record's kind.
    pub kind: Kind,
    /// `ok` or `error`.
    pub status: Status,
    /// Due actions, access first; empty means retain.
    pub actions: Vec<String>,
    /// Actions a permit asked for but a forbid blocked.
    pub blocked: Vec<String>,
    /// Actions no permit asked for that forbids hold against, sorted by
    /// action.
    pub constraints: Vec<Constraint>,
    /// Permits of due actions, then permits and forbids of blocked ones.
    pub reasons: Vec<Reason>,
    /// Evaluation failures (status `error`).
    pub failures: Vec<Failure>,
    /// The person whose departure (or move) the decision follows from.
    pub leaver: Option<usize>,
    /// The earliest deadline among the due actions.
    pub due: Option<Timestamp>,
    /// Where each action the record's kind allows stands, access first. An
    /// `error` decision keeps these (what did evaluate, for `explain`)
    /// while its actions, blocked actions and reasons are cleared. Each
    /// action's name is shared by every decision (a million decisions
    /// would otherwise hold some three million copies).
    pub states: Vec<(Arc<str>, ActionState)>,
}

impl Decision {
    /// No action is due and nothing failed.
    pub fn is_retain(&self) -> bool {
        self.status == Status::Ok && self.actions.is_empty()
    }

    /// The finding for one of its failures: at the record, with a note at
    /// the policy (at the expression that failed, when Cedar says).
    pub fn failure_diagnostic(
        &self,
        failure: &Failure,
        inventory: &Inventory,
        pack: &PolicyPack,
    ) -> Diagnostic {
        let record = &inventory.records[self.record];
        let mut diag = Diagnostic::error(
            Code::EvaluationFailed,
            format!(
                "policy `{}` could not be evaluated on `{}` for `{}`",
                failure.policy, self.subject, failure.action
            ),
        )
        .at(record.span.clone())
        .label(failure.message.clone())
        .help("the record is reported as `error`, not retained; fix the policy or the record");
        if let Some((span, label)) = failed_at(pack, &failure.policy, failure.at) {
            diag = diag.note(span, label);
        }
        diag
    }
}

/// Counts over a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records in the inventory.
    pub records: usize,
    /// Records that got a decision.
    pub decided: usize,
    /// How many decisions have each action due.
    pub actions: BTreeMap<String, usize>,
    /// Decisions with nothing due.
    pub retain: usize,
    /// Decisions with a blocked action.
    pub blocked: usize,
    /// Decisions with a constraint (a forbidden action nothing asked for).
    pub constrained: usize,
    /// Decisions that could not be made.
    pub error: usize,
}

/// The output of the decide stage.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The run's instant.
    pub as_of: Timestamp,
    /// One decision per decided record, sorted by subject id.
    pub decisions: Vec<Decision>,
    /// Counts.
    pub summary: Summary,
    /// Actions the schema defines for decided kinds, in display order.
    pub action_names: Vec<String>,
}

/// Turns evaluation outcomes into decisions.
pub fn decide(inventory: &Inventory, pack: &PolicyPack, evaluation: &Evaluation) -> Plan {
    let action_names = action_names(pack);
    let shared: Vec<Arc<str>> = action_names.iter().map(|a| Arc::from(a.as_str())).collect();
    let mut decisions: Vec<Decision> = evaluation
        .outcomes
        .iter()
        .map(|outcome| decide_record(inventory, pack, evaluation, outcome, &shared))
        .collect();
    decisions.sort_by(|a, b| a.subject.cmp(&b.subject));
    let summary = summarize(inventory.records.len(), &decisions, &action_names);
    Plan {
        as_of: evaluation.as_of,
        decisions,
        summary,
        action_names,
    }
}

/// Every action the schema lets apply to a decided kind, access first.
fn action_names(pack: &PolicyPack) -> Vec<String> {
    let mut names: Vec<String> = crate::evaluate::actions_by_kind(pack)
        .into_values()
        .flatten()
        .map(|a| a.id().unescaped().to_string())
        .collect();
    names.sort_by_key(|a| action_rank(a));
    names.dedup();
    names
}

/// The decision for one record from Cedar's answers about it; `names`
/// are the run's action names, for the decision's states to share.
fn decide_record(
    inventory: &Inventory,
    pack: &PolicyPack,
    evaluation: &Evaluation,
    outcome: &RecordOutcome,
    names: &[Arc<str>],
) -> Decision {
    let record = &inventory.records[outcome.record];
    let states: Vec<(Arc<str>, ActionState)> = outcome
        .actions
        .iter()
        .map(|a| {
            let name = names
                .iter()
                .find(|n| ***n == *a.action)
                .map_or_else(|| Arc::from(a.action.as_str()), Arc::clone);
            (name, ActionState::of(a))
        })
        .collect();
    let failures = failures(outcome);
    let mut decision = Decision {
        record: outcome.record,
        subject: record.id.clone(),
        kind: record.kind,
        status: Status::Ok,
        actions: Vec::new(),
        blocked: Vec::new(),
        constraints: Vec::new(),
        reasons: Vec::new(),
        failures: Vec::new(),
        leaver: None,
        due: None,
        states: Vec::new(),
    };
    if !failures.is_empty() {
        // Fail closed: nothing is reported as due or retained on a record
        // whose evaluation was incomplete.
        return Decision {
            status: Status::Error,
            failures,
            states,
            ..decision
        };
    }
    let deadlines = Deadlines::new(inventory, evaluation, pack, record, outcome);
    decision.reasons = reasons(outcome, &states, &deadlines);
    for (action, state) in &states {
        match state {
            ActionState::Due => decision.actions.push(action.to_string()),
            ActionState::Blocked { .. } => decision.blocked.push(action.to_string()),
            ActionState::Forbidden { by } => {
                let mut policies = by.clone();
                policies.sort_unstable();
                decision.constraints.push(Constraint {
                    action: action.to_string(),
                    policies,
                });
            }
            ActionState::NotDue | ActionState::Failed => {}
        }
    }
    decision.constraints.sort_by(|a, b| a.action.cmp(&b.action));
    decision.due = decision
        .reasons
        .iter()
        .filter(|r| r.effect == Effect::Permit && decision.actions.contains(&r.action))
        .filter_map(|r| r.due)
        .min();
    decision.leaver = deadlines.leaver();
    decision.states = states;
    decision
}

/// Every policy that failed to evaluate on a record, by action.
fn failures(outcome: &RecordOutcome) -> Vec<Failure> {
    outcome
        .actions
        .iter()
        .flat_map(|a| {
            a.errors.iter().map(|e| Failure {
                action: a.action.clone(),
                policy: e.policy.clone(),
                message: e.message.clone(),
                at: e.at,
            })
        })
        .collect()
}

/// The policies behind each due or blocked action: the permits of a due
/// one, with their deadlines; the permits, then the forbids, of a blocked
/// one.
fn reasons(
    outcome: &RecordOutcome,
    states: &[(Arc<str>, ActionState)],
    deadlines: &Deadlines<'_>,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for (a, (_, state)) in outcome.actions.iter().zip(states) {
        let reason = |policy: &String, effect: Effect, due: Option<Timestamp>| Reason {
            action: a.action.clone(),
            policy: policy.clone(),
            effect,
            due,
        };
        match state {
            ActionState::Due => reasons.extend(
                a.permits
                    .iter()
                    .map(|p| reason(p, Effect::Permit, deadlines.due(p))),
            ),
            ActionState::Blocked { by } => {
                reasons.extend(a.permits.iter().map(|p| reason(p, Effect::Permit, None)));
                reasons.extend(by.iter().map(|p| reason(p, Effect::Forbid, None)));
            }
            ActionState::Forbidden { .. } | ActionState::NotDue | ActionState::Failed => {}
        }
    }
    reasons
}

/// The deadlines on one record. Each permit's deadline counts from its own
/// leaver (the person its `@leaver` links lead to); the decision follows
/// from the leaver of its earliest deadline.
struct Deadlines<'a> {
    inventory: &'a Inventory,
    evaluation: &'a Evaluation,
    pack: &'a PolicyPack,
    /// The leaver of each permit of a due action.
    leavers: BTreeMap<&'a str, Option<usize>>,
}

impl<'a> Deadlines<'a> {
    fn new(
        inventory: &'a Inventory,
        evaluation: &'a Evaluation,
        pack: &'a PolicyPack,
        record: &Record,
        outcome: &'a RecordOutcome,
    ) -> Self {
        let mut leavers: BTreeMap<&str, Option<usize>> = BTreeMap::new();
        for a in outcome.actions.iter().filter(|a| a.due) {
            for p in &a.permits {
                leavers
                    .entry(p.as_str())
                    .or_insert_with(|| find_leaver(inventory, evaluation, pack, record, p));
            }
        }
        Deadlines {
            inventory,
            evaluation,
            pack,
            leavers,
        }
    }

    /// When `policy` makes its action due: its `@due` after its leaver's
    /// clock started.
    fn due(&self, policy: &str) -> Option<Timestamp> {
        let person = (*self.leavers.get(policy)?)?;
        let info = self.pack.info.get(policy)?;
        let start = if info.from_move {
            // A mover's grace period runs from the move; leaving during it
            // must not start it again.
            self.inventory.records[person].fields.time("moved_at")?
        } else {
            self.clock(person)?
        };
        start.checked_add(info.due?).ok()
    }

    /// When a person's departure clock started: at their departure, or
    /// for one who moved team, at the move.
    fn clock(&self, person: usize) -> Option<Timestamp> {
        let d = self.evaluation.derived.departures.get(&person)?;
        if d.leaver {
            // Undated terminations fail safe to the run's instant; an
            // immediate one is due now even before its effective time.
            let at = d.at.unwrap_or(self.evaluation.as_of);
            Some(if d.immediate {
                at.min(self.evaluation.as_of)
            } else {
                at
            })
        } else {
            self.inventory.records[person].fields.time("moved_at")
        }
    }

    /// The person the decision follows from: the leaver of the earliest
    /// deadline (one with a deadline before one without).
    fn leaver(&self) -> Option<usize> {
        self.leavers
            .iter()
            .filter_map(|(p, l)| Some(((*l)?, self.due(p))))
            .min_by_key(|(_, due)| (due.is_none(), *due))
            .map(|(person, _)| person)
    }
}

/// Counts over the decisions of a plan.
fn summarize(records: usize, decisions: &[Decision], action_names: &[String]) -> Summary {
    let mut summary = Summary {
        records,
        decided: decisions.len(),
        ..Summary::default()
    };
    for name in action_names {
        summary.actions.insert(name.clone(), 0);
    }
    for d in decisions {
        match d.status {
            Status::Error => summary.error += 1,
            Status::Ok if d.actions.is_empty() => summary.retain += 1,
            Status::Ok => {}
        }
        if !d.blocked.is_empty() {
            summary.blocked += 1;
        }
        if !d.constraints.is_empty() {
            summary.constrained += 1;
        }
        for a in &d.actions {
            *summary.actions.entry(a.clone()).or_insert(0) += 1;
        }
    }
    summary
}

/// Follows a policy's `@leaver` links to the person a decision follows
/// from: a linked person who is a leaver if there is one, else one who moved
/// team (the decision follows from the move).
fn find_leaver(
    inventory: &Inventory,
    evaluation: &Evaluation,
    pack: &PolicyPack,
    record: &Record,
    policy: &str,
) -> Option<usize> {
    let info = pack.info.get(policy)?;
    let is_leaver = |p: usize| {
        evaluation
            .derived
            .departures
            .get(&p)
            .is_some_and(|d| d.leaver)
    };
    let mut mover = None;
    for link in &info.leaver {
        for person in linked_people(inventory, record, link) {
            if is_leaver(person) {
                return Some(person);
            }
            if inventory.records[person].fields.time("moved_at").is_some() {
                mover.get_or_insert(person);
            }
        }
    }
    mover
}

/// The people a `@leaver` path leads to from a record: each segment is a
/// link (followed to its record), a link list (every member) or a mapping.
pub fn linked_people(inventory: &Inventory, record: &Record, path: &str) -> Vec<usize> {
    if path == "holder" {
        return linked_people(inventory, record, "account.principal");
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut found = Vec::new();
    walk(inventory, &record.fields, &segments, &mut found);
    found
        .into_iter()
        .filter(|&p| inventory.records[p].kind == Kind::Person)
        .collect()
}

fn walk(
    inventory: &Inventory,
    fields: &crate::model::Fields,
    segments: &[&str],
    found: &mut Vec<usize>,
) {
    use crate::model::Value;
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let targets: Vec<usize> = match fields.get(first) {
        Some(Value::Link(l)) => vec![l.target],
        Some(Value::Links(ls)) => ls.iter().map(|l| l.target).collect(),
        Some(Value::Object(inner)) => {
            walk(inventory, inner, rest, found);
            return;
        }
        _ => return,
    };
    for t in targets {
        if rest.is_empty() {
            found.push(t);
        } else {
            walk(inventory, &inventory.records[t].fields, rest, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn plan_of(yaml: &str, as_of: &str) -> (Inventory, Plan) {
        let inventory = crate::validate::test_inventory(yaml);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::load::load_policies(&root.join("policies")).expect("policies load");
        let (pack, diagnostics) = crate::validate::validate_policies(sources);
        let pack = pack.unwrap_or_else(|| panic!("{diagnostics:#?}"));
        let evaluation =
            crate::evaluate::evaluate(&inventory, &pack, parse_time(as_of).expect("time"))
                .expect("evaluates");
        let plan = decide(&inventory, &pack, &evaluation);
        (inventory, plan)
    }

    const TWO_LEAVERS: &str = "
- {kind: person, id: person/old, employee_number: '1', status: terminated,
   employments: [{start: 2020-01-01, termination: {effective: 2026-09-30T00:00:00Z}}]}
- {kind: person, id: person/now, employee_number: '2', status: terminated,
   employments: [{start: 2020-01-01, termination: {effective: 2026-11-25T08:00:00Z, immediate: true}}]}
- {kind: credential, id: cred/x, cred_type: api_key, owner: person/old, known_to: [person/now], status: active}
- {kind: credential, id: cred/gone, cred_type: api_key, owner: person/old, status: revoked}
";

    #[test]
    fn each_deadline_counts_from_its_own_leaver() {
        let (inventory, plan) = plan_of(TWO_LEAVERS, "2026-11-25T09:00:00Z");
        let d = plan
            .decisions
            .iter()
            .find(|d| d.subject == "cred/x")
            .expect("decision");
        assert_eq!(d.actions, ["revoke", "rotate"]);
        let due = |action: &str| {
            d.reasons
                .iter()
                .find(|r| r.action == action)
                .and_then(|r| r.due)
                .map(crate::model::format_time)
        };
        assert_eq!(due("revoke").as_deref(), Some("2026-10-01T00:00:00Z"));
        assert_eq!(due("rotate").as_deref(), Some("2026-11-26T08:00:00Z"));
        assert_eq!(
            d.leaver.map(|p| inventory.records[p].id.as_str()),
            Some("person/old")
        );
        assert_eq!(
            d.due.map(crate::model::format_time).as_deref(),
            Some("2026-10-01T00:00:00Z")
        );
    }

    #[test]
    fn a_revoked_credential_is_retained_and_counted() {
        let (_, plan) = plan_of(TWO_LEAVERS, "2026-11-25T09:00:00Z");
        let gone = plan
            .decisions
            .iter()
            .find(|d| d.subject == "cred/gone")
            .expect("decision");
        assert!(gone.is_retain());
        assert_eq!(plan.summary.retain, 1);
        assert_eq!(plan.summary.decided, 2);
        assert_eq!(plan.summary.actions.get("revoke"), Some(&1));
    }

    /// The plan for a laptop of a terminated person under legal hold.
    fn legal_hold_laptop(status: &str) -> Plan {
        plan_of(
            &format!(
                "
- {{kind: person, id: person/h, employee_number: '1', status: terminated, legal_hold: true,
   employments: [{{start: 2020-01-01, termination: {{effective: 2026-11-01}}}}]}}
- {{kind: device, id: device/d, category: laptop, assigned_to: person/h, status: {status}}}
"
            ),
            "2026-11-25T09:00:00Z",
        )
        .1
    }

    #[test]
    fn a_forbid_blocks_and_is_cited() {
        let plan = legal_hold_laptop("returned");
        let d = &plan.decisions[0];
        assert!(d.actions.is_empty());
        assert_eq!(d.blocked, ["wipe"]);
        assert!(
            d.reasons
                .iter()
                .any(|r| r.effect == Effect::Forbid && r.policy == "legal-hold-no-wipe")
        );
        assert!(
            d.reasons
                .iter()
                .any(|r| r.effect == Effect::Permit && r.policy == "returned-device-wipe")
        );
        assert_eq!(plan.summary.blocked, 1);
        assert_eq!(state(d, "wipe"), Some(&blocked_by("legal-hold-no-wipe")));
    }

    /// A forbid that holds with nothing asking for its action is a
    /// constraint: carried beside the due action, not lost because nothing
    /// was overridden.
    #[test]
    fn a_forbid_nothing_asked_against_is_a_constraint() {
        let plan = legal_hold_laptop("deployed");
        let d = &plan.decisions[0];
        assert_eq!(d.actions, ["reclaim"]);
        assert!(d.blocked.is_empty());
        assert_eq!(
            d.constraints,
            [Constraint {
                action: "wipe".into(),
                policies: vec!["legal-hold-no-wipe".into()],
            }]
        );
        assert_eq!(
            state(d, "wipe"),
            Some(&ActionState::Forbidden {
                by: vec!["legal-hold-no-wipe".into()]
            })
        );
        // A constraint is not a reason: the reasons stay those of the work.
        assert!(d.reasons.iter().all(|r| r.effect == Effect::Permit));
        assert_eq!(plan.summary.constrained, 1);
        assert_eq!(plan.summary.blocked, 0);
    }

    fn state<'d>(d: &'d Decision, action: &str) -> Option<&'d ActionState> {
        d.states
            .iter()
            .find(|(a, _)| &**a == action)
            .map(|(_, s)| s)
    }

    fn blocked_by(forbid: &str) -> ActionState {
        ActionState::Blocked {
            by: vec![forbid.to_string()],
        }
    }

    /// Each action's state is kept in the decision, in schema order, and
    /// the due and blocked lists are read off it.
    #[test]
    fn every_action_keeps_its_state() {
        let (_, plan) = plan_of(TWO_LEAVERS, "2026-11-25T09:00:00Z");
        for d in &plan.decisions {
            let listed = |wanted: fn(&ActionState) -> bool| -> Vec<String> {
                d.states
                    .iter()
                    .filter(|(_, s)| wanted(s))
                    .map(|(a, _)| a.to_string())
                    .collect()
            };
            assert_eq!(d.actions, listed(|s| *s == ActionState::Due));
            assert_eq!(
                d.blocked,
                listed(|s| matches!(s, ActionState::Blocked { .. }))
            );
            let names: Vec<&str> = d.states.iter().map(|(a, _)| &**a).collect();
            let mut ranked = names.clone();
            ranked.sort_by_key(|a| action_rank(a));
            assert_eq!(names, ranked);
        }
        for (subject, revoke) in [
            ("cred/x", ActionState::Due),
            ("cred/gone", ActionState::NotDue),
        ] {
            let d = plan.decisions.iter().find(|d| d.subject == subject);
            assert_eq!(d.and_then(|d| state(d, "revoke")), Some(&revoke));
        }
    }
}
