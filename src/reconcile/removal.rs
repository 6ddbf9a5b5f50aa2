//! Demonstrable removal: whether a later observation of a system of record
//! shows that a decided action took effect. An auditor does not want to
//! read that a token was revoked; they want an import, taken after the
//! decision, in which the token is revoked. What an import shows becomes a
//! `verification` entry of the ledger (the export's digest, the source's id
//! and the observed time); an action recorded as executed that a later
//! import still shows in effect is `revocation-drift`, never accepted.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use crate::ledger::History;
use crate::ledger::entry::{Body, Tag};
use crate::model::{Kind, Record, format_time};
use crate::validate::Inventory;

/// What the latest observation says of one decided action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// An observation after the decision shows it done; the ledger already
    /// holds the verification when `recorded` is true.
    Verified {
        /// A verification with this observation is already in the ledger.
        recorded: bool,
    },
    /// The ledger records an execution, yet an observation after it still
    /// shows the access in effect.
    Drift {
        /// When the execution was recorded.
        executed_at: String,
        /// The latest import of the system that still shows it.
        seen_at: String,
    },
    /// No observation after the decision shows it done (yet).
    Unverified {
        /// Why, in a few words.
        why: String,
    },
}

/// One decided action and what the observations say of it.
#[derive(Debug, Clone)]
pub struct Removal {
    /// The record.
    pub subject: String,
    /// The person the decision follows from.
    pub leaver: Option<String>,
    /// The decision entry's sequence number.
    pub decision_seq: u64,
    /// When the decision was recorded.
    pub decided_at: String,
    /// The action.
    pub action: String,
    /// What the observations say.
    pub state: State,
    /// The observation it rests on, as a verification records it: action,
    /// system, record id, status (and raw status), export digest, time.
    pub observed: BTreeMap<String, String>,
}

/// Whether the record's state shows `action` done.
fn done(record: &Record, action: &str) -> bool {
    let status = record.status.as_str();
    match (action, record.kind) {
        ("revoke", Kind::Account) => matches!(status, "disabled" | "deleted"),
        ("revoke", Kind::Credential) => matches!(status, "revoked" | "inactive" | "expired"),
        ("revoke", Kind::Grant) => matches!(status, "revoked" | "expired"),
        ("revoke", Kind::Nhi) => status == "decommissioned",
        ("revoke", Kind::Workload) => matches!(status, "stopped" | "terminated"),
        ("reclaim", Kind::Device) => {
            matches!(
                status,
                "returned" | "in_stock" | "redeployable" | "wiping" | "archived"
            ) && record.fields.link("assigned_to").is_none()
        }
        _ => false,
    }
}

/// The newest `sources` entry of a record, as a verification records it.
fn observation(record: &Record, action: &str) -> Option<(Timestamp, BTreeMap<String, String>)> {
    let source = super::newest_live_source(record)?;
    let at = source.time("observed_at")?;
    let mut observed = BTreeMap::new();
    observed.insert("action".to_string(), action.to_string());
    observed.insert("status".to_string(), record.status.clone());
    observed.insert("observed_at".to_string(), format_time(at));
    for field in ["system", "record_id", "raw_status", "export"] {
        if let Some(v) = source.str(field) {
            observed.insert(field.to_string(), v.to_string());
        }
    }
    Some((at, observed))
}

/// What the observations in `inventory` say of every observable action of
/// the latest decision about each subject in the ledger's `history`.
pub fn removals(inventory: &Inventory, history: &History) -> Vec<Removal> {
    let last = super::last_reported(inventory);
    // The evidence about each decision, by its leaf hash, borrowed.
    let mut executed: HashMap<Tag, Vec<&str>> = HashMap::new();
    let mut verified: HashMap<Tag, Vec<&BTreeMap<String, String>>> = HashMap::new();
    for logged in &history.entries {
        match &logged.entry.body {
            Body::Execution(e) => executed
                .entry(e.decision)
                .or_default()
                .push(logged.entry.envelope.ts.as_str()),
            Body::Verification(v) => verified.entry(v.decision).or_default().push(&v.observed),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (subject, decided) in history.latest_decisions() {
        for action in decided
            .body
            .actions
            .iter()
            .filter(|a| crate::ledger::VERIFIABLE.contains(&a.as_str()))
        {
            let mut removal = Removal {
                subject: subject.to_string(),
                leaver: decided.body.leaver.clone(),
                decision_seq: decided.seq,
                decided_at: decided.ts.to_string(),
                action: action.clone(),
                state: State::Unverified { why: String::new() },
                observed: BTreeMap::new(),
            };
            let decided_at = decided.ts.parse::<Timestamp>().ok();
            let Some(record) = inventory.get(subject) else {
                removal.state = State::Unverified {
                    why: "the record is no longer in the inventory".into(),
                };
                out.push(removal);
                continue;
            };
            let Some((own, observed)) = observation(record, action) else {
                removal.state = State::Unverified {
                    why: "no system of record reports it".into(),
                };
                out.push(removal);
                continue;
            };
            removal.observed = observed;
            // The latest import of the system still returned the record
            // (it is not `missing_since`): its facts hold as of that import.
            let at = super::confirmed(inventory, record, &last).map_or(own, |t| t.max(own));
            if decided_at.is_none_or(|d| at <= d) {
                removal.state = State::Unverified {
                    why: "no observation since the decision".into(),
                };
            } else if done(record, action) {
                let recorded = verified.get(&decided.leaf).is_some_and(|list| {
                    list.iter().any(|o| {
                        o.get("action") == removal.observed.get("action")
                            && o.get("export") == removal.observed.get("export")
                            && o.get("observed_at") == removal.observed.get("observed_at")
                    })
                });
                removal.state = State::Verified { recorded };
            } else if let Some(when) = executed.get(&decided.leaf).and_then(|list| {
                list.iter()
                    .filter(|t| t.parse::<Timestamp>().is_ok_and(|t| t < at))
                    .max()
            }) {
                removal.state = State::Drift {
                    executed_at: when.to_string(),
                    seen_at: format_time(at),
                };
            } else {
                removal.state = State::Unverified {
                    why: "the latest observation still shows it in effect".into(),
                };
            }
            out.push(removal);
        }
    }
    out
}
