//! Replaying a recorded run: what the ledger says a `run` entry decided
//! (its digests, and each subject's latest decision at that run) set
//! against what the same inputs decide again, so that an auditor can see
//! whether the evidence still follows from the committed inventory and
//! policies, and if not, which decisions and inputs differ. The caller
//! reads the inputs and decides; this module compares, and never prints.

use std::collections::BTreeMap;
use std::fmt;

use super::entry::{Body, DecisionBody, Kind, Run, Tag};
use super::{History, RunBodies, decisions_digest, jcs};

/// A `run` entry, the commit its inventory was read at, and the decisions
/// the ledger holds at it.
#[derive(Debug, Clone)]
pub struct RecordedRun {
    /// The run entry's sequence number.
    pub seq: u64,
    /// Its leaf hash, by which its decision entries name it.
    pub leaf: Tag,
    /// The run entry.
    pub run: Run,
    /// The commit the run's inventory was read at.
    pub commit: String,
    /// Each subject's latest decision at the run (the run's own decision
    /// entries and the earlier ones they did not replace), by subject;
    /// subjects that had left (`status: absent`) are not among them, as
    /// they are not in the run's list.
    pub decisions: BTreeMap<String, DecisionBody>,
}

/// Why an entry cannot be replayed: the caller could not run, which is no
/// finding about the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReplayable {
    /// The ledger holds no entry with that sequence number.
    NoEntry {
        /// The number asked for.
        seq: u64,
        /// How many entries the ledger holds.
        size: u64,
    },
    /// The entry is of another type.
    NotARun {
        /// The number asked for.
        seq: u64,
        /// What the entry is.
        kind: Kind,
        /// The run a decision entry belongs to.
        run: Option<u64>,
    },
    /// The run names no commit: its inventory had uncommitted changes, or
    /// was not in git, when it was recorded.
    NoCommit {
        /// The run's sequence number.
        seq: u64,
    },
}

impl fmt::Display for NotReplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReplayable::NoEntry { seq, size } => write!(
                f,
                "the ledger has no entry `{seq}` (it holds entries 0 to {})",
                size.saturating_sub(1)
            ),
            NotReplayable::NotARun { seq, kind, run } => {
                write!(f, "entry `{seq}` is a `{kind}` entry, not a `run`")?;
                if let Some(run) = run {
                    write!(f, " (it belongs to run {run})")?;
                }
                f.write_str(
                    "; replay re-runs a `run` entry (`severance ledger log --type run` lists them)",
                )
            }
            NotReplayable::NoCommit { seq } => write!(
                f,
                "run {seq} cannot be replayed from git: it names no inventory commit, because the inventory had uncommitted changes (or was not in git) when the run was recorded"
            ),
        }
    }
}

/// Run `seq` of a whole history (unfiltered, as [`super::history`] reads it
/// with the default filter) and the decisions the ledger holds at it.
pub fn recorded_run(history: &History, seq: u64) -> Result<RecordedRun, NotReplayable> {
    let found = usize::try_from(seq)
        .ok()
        .and_then(|i| history.entries.get(i))
        .ok_or(NotReplayable::NoEntry {
            seq,
            size: history.entries.len() as u64,
        })?;
    let run = match &found.entry.body {
        Body::Run(run) => run.clone(),
        other => {
            let run = match other {
                Body::Decision(d) => history.seq_of.get(&d.run).copied(),
                _ => None,
            };
            return Err(NotReplayable::NotARun {
                seq,
                kind: other.kind(),
                run,
            });
        }
    };
    let commit = run
        .inventory
        .commit
        .clone()
        .ok_or(NotReplayable::NoCommit { seq })?;
    // A run's decision entries name it by its leaf hash; every decision of
    // a run at or before this one is part of the state at it, the later
    // ones replacing the earlier.
    let mut decisions = BTreeMap::new();
    for logged in &history.entries {
        if let Body::Decision(d) = &logged.entry.body
            && history.seq_of.get(&d.run).is_some_and(|&r| r <= seq)
        {
            decisions.insert(d.body.subject.clone(), d.body.clone());
        }
    }
    decisions.retain(|_, body: &mut DecisionBody| body.status != "absent");
    Ok(RecordedRun {
        seq,
        leaf: found.leaf,
        run,
        commit,
        decisions,
    })
}

/// What the run's inputs decide when read and evaluated again.
pub struct Replayed {
    /// The digest of the inventory read, as a run records it.
    pub inventory_digest: Tag,
    /// The digest of the policies read, as a run records it.
    pub policies_digest: Tag,
    /// Where the policies were read when not at the run's commit: the
    /// revision as the auditor named it.
    pub policies_at: Option<String>,
    /// Every decision body, in subject order, with its canonical text.
    pub bodies: RunBodies,
}

/// A value the run recorded and the one the replay found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared<T> {
    /// What the run entry says.
    pub recorded: T,
    /// What the replay found.
    pub replayed: T,
}

impl<T: PartialEq> Compared<T> {
    /// Whether the two agree.
    pub fn same(&self) -> bool {
        self.recorded == self.replayed
    }
}

/// How a subject's decision differs between the ledger and the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The replay decides about a subject the ledger holds no decision
    /// about at the run.
    Added,
    /// The ledger holds a decision the replay does not make.
    Removed,
    /// Both decide, differently.
    Changed,
}

impl Change {
    /// How reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One subject whose decision differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The record.
    pub subject: String,
    /// How it differs.
    pub change: Change,
    /// The fields that differ, in the entry's order (every field for an
    /// added or removed decision is not listed: none is compared).
    pub fields: Vec<&'static str>,
    /// The decision the ledger holds.
    pub recorded: Option<DecisionBody>,
    /// The decision the replay made.
    pub replayed: Option<DecisionBody>,
}

/// The fields of a decision body a replay compares, in the entry's order.
pub const FIELDS: [&str; 7] = [
    "kind", "status", "actions", "policies", "blocked", "leaver", "due",
];

/// The fields in which two decisions about one subject differ.
fn differing_fields(a: &DecisionBody, b: &DecisionBody) -> Vec<&'static str> {
    let same = [
        a.kind == b.kind,
        a.status == b.status,
        a.actions == b.actions,
        a.policies == b.policies,
        a.blocked == b.blocked,
        a.leaver == b.leaver,
        a.due == b.due,
    ];
    FIELDS
        .into_iter()
        .zip(same)
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect()
}

/// The verdict of a replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The run entry's sequence number.
    pub seq: u64,
    /// Its leaf hash.
    pub leaf: Tag,
    /// The run's instant, at which the replay evaluated.
    pub as_of: String,
    /// The commit the inventory (and, unless `policies_at`, the policies)
    /// was read at.
    pub commit: String,
    /// Where the policies were read instead, as the auditor named it.
    pub policies_at: Option<String>,
    /// The tool's version.
    pub tool: Compared<String>,
    /// `inventory.digest`.
    pub inventory: Compared<Tag>,
    /// `policies.digest`.
    pub policies: Compared<Tag>,
    /// `decisions.digest`.
    pub decisions: Compared<Tag>,
    /// `decisions.count`.
    pub count: Compared<u64>,
    /// Whether the decisions the ledger holds at the run give the run's
    /// own `decisions.digest`; when not, [`Replay::differences`] are
    /// against what the ledger holds, which is not what the run committed
    /// to.
    pub ledger_holds_run: bool,
    /// Every subject whose decision differs, by subject.
    pub differences: Vec<Difference>,
}

impl Replay {
    /// Whether the replay reproduced the run: the same inputs, the same
    /// decisions, and a ledger that holds them.
    pub fn confirmed(&self) -> bool {
        self.inventory.same()
            && self.policies.same()
            && self.decisions.same()
            && self.ledger_holds_run
            && self.differences.is_empty()
    }
}

/// Sets a replay against the recorded run.
pub fn compare(recorded: &RecordedRun, replayed: &Replayed) -> Replay {
    let held: Vec<String> = recorded.decisions.values().map(jcs::encode).collect();
    let ledger_holds_run = decisions_digest(&held) == recorded.run.decisions.digest;
    drop(held);

    let mut differences = Vec::new();
    let mut ledger = recorded.decisions.iter().peekable();
    let mut replay = replayed
        .bodies
        .bodies
        .iter()
        .zip(&replayed.bodies.texts)
        .peekable();
    loop {
        let order = match (ledger.peek(), replay.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((subject, _)), Some((body, _))) => subject.as_str().cmp(body.subject.as_str()),
        };
        let (was, now) = match order {
            std::cmp::Ordering::Less => (ledger.next(), None),
            std::cmp::Ordering::Greater => (None, replay.next()),
            std::cmp::Ordering::Equal => (ledger.next(), replay.next()),
        };
        let difference = match (was, now) {
            (Some((_, was)), Some((now, text))) if jcs::encode(was) != *text => Difference {
                subject: now.subject.clone(),
                change: Change::Changed,
                fields: differing_fields(was, now),
                recorded: Some(was.clone()),
                replayed: Some(now.clone()),
            },
            (Some((subject, was)), None) => Difference {
                subject: subject.clone(),
                change: Change::Removed,
                fields: Vec::new(),
                recorded: Some(was.clone()),
                replayed: None,
            },
            (None, Some((now, _))) => Difference {
                subject: now.subject.clone(),
                change: Change::Added,
                fields: Vec::new(),
                recorded: None,
                replayed: Some(now.clone()),
            },
            _ => continue,
        };
        differences.push(difference);
    }

    let run = &recorded.run;
    Replay {
        seq: recorded.seq,
        leaf: recorded.leaf,
        as_of: run.as_of.as_str().to_string(),
        commit: recorded.commit.clone(),
        policies_at: replayed.policies_at.clone(),
        tool: Compared {
            recorded: run.tool.version.clone(),
            replayed: env!("CARGO_PKG_VERSION").to_string(),
        },
        inventory: Compared {
            recorded: run.inventory.digest,
            replayed: replayed.inventory_digest,
        },
        policies: Compared {
            recorded: run.policies.digest,
            replayed: replayed.policies_digest,
        },
        decisions: Compared {
            recorded: run.decisions.digest,
            replayed: decisions_digest(&replayed.bodies.texts),
        },
        count: Compared {
            recorded: run.decisions.count,
            replayed: replayed.bodies.bodies.len() as u64,
        },
        ledger_holds_run,
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(subject: &str, actions: &[&str]) -> DecisionBody {
        DecisionBody {
            actions: actions.iter().map(|a| a.to_string()).collect(),
            status: "ok".into(),
            ..DecisionBody::absent(subject, "account")
        }
    }

    fn run_of(bodies: &[DecisionBody]) -> RecordedRun {
        let texts: Vec<String> = bodies.iter().map(jcs::encode).collect();
        let tag = Tag([0; 32]);
        RecordedRun {
            seq: 1,
            leaf: tag,
            run: Run {
                as_of: super::super::entry::Time("2026-11-25T09:00:00Z".into()),
                tool: super::super::entry::Tool {
                    name: "severance".into(),
                    version: "0.0.0".into(),
                },
                inventory: super::super::entry::RunInventory {
                    commit: Some("c".into()),
                    digest: tag,
                    files: 1,
                    records: bodies.len() as u64,
                },
                policies: super::super::entry::RunPolicies {
                    digest: tag,
                    files: 1,
                    policies: 1,
                },
                counts: BTreeMap::new(),
                decisions: super::super::entry::RunDecisions {
                    count: bodies.len() as u64,
                    digest: decisions_digest(&texts),
                    written: 0,
                },
            },
            commit: "c".into(),
            decisions: bodies
                .iter()
                .map(|b| (b.subject.clone(), b.clone()))
                .collect(),
        }
    }

    fn replayed(bodies: Vec<DecisionBody>) -> Replayed {
        let texts = bodies.iter().map(jcs::encode).collect();
        Replayed {
            inventory_digest: Tag([0; 32]),
            policies_digest: Tag([0; 32]),
            policies_at: None,
            bodies: RunBodies { bodies, texts },
        }
    }

    #[test]
    fn the_same_decisions_confirm_the_run() {
        let bodies = vec![body("a", &["revoke"]), body("b", &[])];
        let replay = compare(&run_of(&bodies), &replayed(bodies));
        assert!(replay.confirmed(), "{replay:?}");
        assert!(replay.ledger_holds_run);
    }

    #[test]
    fn every_difference_is_named_by_subject_and_field() {
        let recorded = run_of(&[body("a", &["revoke"]), body("b", &[]), body("d", &[])]);
        let mut changed = body("b", &["reclaim"]);
        changed.leaver = Some("person/E1".into());
        let replay = compare(
            &recorded,
            &replayed(vec![body("a", &["revoke"]), changed, body("c", &[])]),
        );
        assert!(!replay.confirmed());
        let got: Vec<(&str, Change, Vec<&str>)> = replay
            .differences
            .iter()
            .map(|d| (d.subject.as_str(), d.change, d.fields.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("b", Change::Changed, vec!["actions", "leaver"]),
                ("c", Change::Added, vec![]),
                ("d", Change::Removed, vec![]),
            ]
        );
        assert_eq!(replay.count.replayed, 3);
        assert!(!replay.decisions.same());
    }

    #[test]
    fn a_ledger_that_does_not_hold_its_run_is_not_confirmed() {
        let mut recorded = run_of(&[body("a", &["revoke"])]);
        recorded.run.decisions.digest = Tag([1; 32]);
        let replay = compare(&recorded, &replayed(vec![body("a", &["revoke"])]));
        assert!(!replay.ledger_holds_run);
        assert!(!replay.confirmed());
    }
}
