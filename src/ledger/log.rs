//! Reading a ledger's history for `ledger log`: every entry as the typed
//! entry of its kind, filtered by subject, type and time. No check is made
//! here beyond reading each line; `ledger verify` is the auditor's check.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::entry::{Body, Entry, Kind, Tag};
use super::{jcs, merkle, store};

/// Which entries `ledger log` shows.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Entries about this record, or about decisions that follow from this person.
    pub subject: Option<String>,
    /// Only this entry type.
    pub kind: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<jiff::Timestamp>,
}

/// An entry and the leaf hash of its line, by which later entries name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Logged {
    /// The leaf hash.
    pub leaf: Tag,
    /// The entry.
    pub entry: Entry,
}

/// Entries matching a filter, and the sequence number of every leaf hash
/// (so that evidence can name the decision it is about).
#[derive(Debug, Default)]
pub struct History {
    /// The matching entries, in order.
    pub entries: Vec<Logged>,
    /// Leaf hash → sequence number, of every entry.
    pub seq_of: HashMap<Tag, u64>,
}

/// The entries of the ledger in `dir` matching a filter.
pub fn history(dir: &Path, filter: &LogFilter) -> Result<History, String> {
    let Some(contents) = store::read_entries(dir)? else {
        return Err(format!("`{}` holds no ledger", dir.display()));
    };
    history_of(&contents, filter)
}

/// The entries matching a filter, of a ledger's contents already read: a
/// reader that has just verified them reads the same bytes, not the file
/// again.
pub fn history_of(contents: &store::Contents, filter: &LogFilter) -> Result<History, String> {
    let lines = contents.lines();
    let mut entries = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        // Whether the line is canonical is `ledger verify`'s question.
        let read = jcs::read(line)
            .map_err(|e| e.to_string())
            .and_then(|json| Entry::read(&json).map_err(|e| e.to_string()))
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        entries.push(Logged {
            leaf: Tag(merkle::leaf(line.as_bytes())),
            entry: read,
        });
    }
    let seq_of = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.leaf, i as u64))
        .collect();
    // Decisions about the subject (or following from them), and evidence about those decisions.
    let related: HashSet<Tag> = match &filter.subject {
        None => HashSet::new(),
        Some(subject) => entries
            .iter()
            .filter(|e| match &e.entry.body {
                Body::Decision(d) => {
                    d.body.subject == *subject || d.body.leaver.as_ref() == Some(subject)
                }
                _ => false,
            })
            .map(|e| e.leaf)
            .collect(),
    };
    let entries = entries
        .into_iter()
        .filter(|e| {
            let about = filter.subject.is_none()
                || related.contains(&e.leaf)
                || e.entry
                    .body
                    .reference()
                    .is_some_and(|r| r.target == Kind::Decision && related.contains(&r.leaf));
            let kind = filter
                .kind
                .as_deref()
                .is_none_or(|k| e.entry.body.kind().as_str() == k);
            let since = filter.since.is_none_or(|s| {
                e.entry
                    .envelope
                    .ts
                    .as_str()
                    .parse::<jiff::Timestamp>()
                    .is_ok_and(|t| t >= s)
            });
            about && kind && since
        })
        .collect();
    Ok(History { entries, seq_of })
}

/// The actions an observation of a system can prove done, and so the ones
/// an auditor expects a verification of.
pub const VERIFIABLE: [&str; 2] = ["revoke", "reclaim"];

/// The latest decision entry about one subject.
#[derive(Debug, Clone, Copy)]
pub struct Latest<'h> {
    /// Its sequence number.
    pub seq: u64,
    /// Its leaf hash, by which evidence names it.
    pub leaf: Tag,
    /// When it was recorded.
    pub ts: &'h str,
    /// What it decided.
    pub body: &'h super::entry::DecisionBody,
}

impl History {
    /// The latest decision entry about each subject among the entries, by
    /// subject.
    pub fn latest_decisions(&self) -> std::collections::BTreeMap<&str, Latest<'_>> {
        let mut latest = std::collections::BTreeMap::new();
        for logged in &self.entries {
            if let Body::Decision(d) = &logged.entry.body {
                latest.insert(
                    d.body.subject.as_str(),
                    Latest {
                        seq: logged.entry.envelope.seq,
                        leaf: logged.leaf,
                        ts: logged.entry.envelope.ts.as_str(),
                        body: &d.body,
                    },
                );
            }
        }
        latest
    }

    /// The latest decision about each subject among the entries that makes
    /// a revoke or reclaim due and that no verification entry names yet:
    /// `(seq, subject, actions)`, in subject order.
    pub fn unverified(&self) -> Vec<(u64, String, Vec<String>)> {
        let verified: HashSet<Tag> = self
            .entries
            .iter()
            .filter_map(|logged| match &logged.entry.body {
                Body::Verification(v) => Some(v.decision),
                _ => None,
            })
            .collect();
        self.latest_decisions()
            .into_iter()
            .filter(|(_, d)| {
                !verified.contains(&d.leaf)
                    && d.body
                        .actions
                        .iter()
                        .any(|a| VERIFIABLE.contains(&a.as_str()))
            })
            .map(|(subject, d)| (d.seq, subject.to_string(), d.body.actions.clone()))
            .collect()
    }
}
