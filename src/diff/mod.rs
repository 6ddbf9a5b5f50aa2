//! Stage 6, diff: what a change to the inventory or the policies does to
//! decisions. For every record whose decision differs between two plans it
//! says before → after, and why: which records it depends on changed (with
//! their place at head) and which policies behind either decision were
//! added, removed or edited. This is what a reviewer of an inventory pull
//! request needs and what no policy checker tells them.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::decide::{Decision, Plan, Status};
use crate::diag::Span;
use crate::model::{Fields, Kind, Record, Value, format_time};
use crate::validate::{Inventory, PolicyPack};

/// One side of the comparison.
pub struct Side<'a> {
    /// The validated inventory.
    pub inventory: &'a Inventory,
    /// The policy pack.
    pub pack: &'a PolicyPack,
    /// The decisions.
    pub plan: &'a Plan,
}

/// A decision reduced to what a reviewer compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `ok` or `error`.
    pub status: Status,
    /// Due actions; empty is retain.
    pub actions: Vec<String>,
    /// Actions a forbid blocked.
    pub blocked: Vec<String>,
    /// Actions nothing asked for that forbids hold against.
    pub constraints: Vec<String>,
    /// The earliest deadline.
    pub due: Option<Timestamp>,
}

impl Outcome {
    fn of(d: &Decision) -> Outcome {
        Outcome {
            status: d.status,
            actions: d.actions.clone(),
            blocked: d.blocked.clone(),
            constraints: d.constraints.iter().map(|c| c.action.clone()).collect(),
            due: d.due,
        }
    }

    /// `retain`, `revoke, rotate`, `error`, with blocked and forbidden
    /// actions and the deadline.
    pub fn describe(&self) -> String {
        if self.status == Status::Error {
            return "error".into();
        }
        let mut s = if self.actions.is_empty() {
            "retain".to_string()
        } else {
            self.actions.join(", ")
        };
        if !self.blocked.is_empty() {
            s.push_str(&format!(" (blocked: {})", self.blocked.join(", ")));
        }
        if !self.constraints.is_empty() {
            s.push_str(&format!(" (must not: {})", self.constraints.join(", ")));
        }
        if let Some(due) = self.due {
            s.push_str(&format!(" due {}", format_time(due)));
        }
        s
    }
}

/// How a record or policy changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Only at head.
    Added,
    /// Only at base.
    Removed,
    /// At both, different.
    Edited,
}

impl Change {
    /// `added`, `removed` or `edited`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Edited => "edited",
        }
    }
}

/// Why a decision changed.
#[derive(Debug, Clone)]
pub enum Cause {
    /// A record the decision depends on (the subject itself, what it links
    /// to, and what those link to) changed.
    Record {
        /// The record's id.
        id: String,
        /// How.
        change: Change,
        /// Where it is at head (at base when removed).
        span: Span,
    },
    /// A policy behind the decision at base or at head changed.
    Policy {
        /// The policy's `@id`.
        id: String,
        /// How.
        change: Change,
        /// Where it is at head (at base when removed).
        span: Span,
    },
}

impl Cause {
    fn key(&self) -> (u8, String) {
        match self {
            Cause::Record { id, .. } => (0, id.clone()),
            Cause::Policy { id, .. } => (1, id.clone()),
        }
    }
}

/// One record whose decision differs.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The record's id.
    pub subject: String,
    /// Its kind.
    pub kind: Kind,
    /// The decision at base; `None` when the record is new.
    pub before: Option<Outcome>,
    /// The decision at head; `None` when the record was removed.
    pub after: Option<Outcome>,
    /// Why, sorted: records first, then policies. Empty when nothing the
    /// decision depends on changed in a way severance can attribute.
    pub causes: Vec<Cause>,
    /// Where the record is at head (at base when removed).
    pub span: Span,
}

/// A policy that changed between base and head.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    /// `@id`.
    pub id: String,
    /// How.
    pub change: Change,
    /// Where it is at head (at base when removed).
    pub span: Span,
}

/// The output of the diff.
#[derive(Debug, Clone, Default)]
pub struct DecisionDiff {
    /// Records whose decision differs, by subject.
    pub changes: Vec<Changed>,
    /// Every policy added, removed or edited, by id.
    pub policies: Vec<PolicyChange>,
    /// How many records were added, removed and edited.
    pub records: BTreeMap<&'static str, usize>,
    /// Whether the Cedar schema changed.
    pub schema_changed: bool,
}

/// Compares the decisions of two plans and explains each difference.
pub fn diff(base: &Side<'_>, head: &Side<'_>) -> DecisionDiff {
    let record_changes = record_changes(base.inventory, head.inventory);
    let policies = policy_changes(base.pack, head.pack);
    let changed_policies: BTreeMap<&str, &PolicyChange> =
        policies.iter().map(|p| (p.id.as_str(), p)).collect();

    let before: BTreeMap<&str, &Decision> = base
        .plan
        .decisions
        .iter()
        .map(|d| (d.subject.as_str(), d))
        .collect();
    let after: BTreeMap<&str, &Decision> = head
        .plan
        .decisions
        .iter()
        .map(|d| (d.subject.as_str(), d))
        .collect();
    let subjects: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();

    let mut changes = Vec::new();
    for subject in subjects {
        let b = before.get(subject).copied();
        let a = after.get(subject).copied();
        let (bo, ao) = (b.map(Outcome::of), a.map(Outcome::of));
        if bo == ao {
            continue;
        }
        let mut causes: Vec<Cause> = Vec::new();
        let mut seen = BTreeSet::new();
        for (side, decision) in [(head, a), (base, b)] {
            let Some(decision) = decision else { continue };
            for index in dependencies(side.inventory, decision.record) {
                let id = &side.inventory.records[index].id;
                if let Some((change, span)) = record_changes.get(id.as_str())
                    && seen.insert((0, id.clone()))
                {
                    causes.push(Cause::Record {
                        id: id.clone(),
                        change: *change,
                        span: span.clone(),
                    });
                }
            }
            let cited = decision
                .reasons
                .iter()
                .map(|r| r.policy.as_str())
                .chain(decision.failures.iter().map(|f| f.policy.as_str()));
            for id in cited {
                if let Some(p) = changed_policies.get(id)
                    && seen.insert((1, id.to_string()))
                {
                    causes.push(Cause::Policy {
                        id: p.id.clone(),
                        change: p.change,
                        span: p.span.clone(),
                    });
                }
            }
        }
        causes.sort_by_key(Cause::key);
        let (kind, span) = match (a, b) {
            (Some(d), _) => {
                let r = &head.inventory.records[d.record];
                (r.kind, r.span.clone())
            }
            (None, Some(d)) => {
                let r = &base.inventory.records[d.record];
                (r.kind, r.span.clone())
            }
            (None, None) => continue,
        };
        changes.push(Changed {
            subject: subject.to_string(),
            kind,
            before: bo,
            after: ao,
            causes,
            span,
        });
    }

    let mut records = BTreeMap::new();
    for (change, _) in record_changes.values() {
        *records.entry(change.as_str()).or_insert(0) += 1;
    }
    DecisionDiff {
        changes,
        policies,
        records,
        schema_changed: base.pack.files.first().map(|f| &f.text)
            != head.pack.files.first().map(|f| &f.text),
    }
}

/// The records a decision can depend on: the record, what it links to, and
/// what those link to (a grant's account's principal, a credential's
/// identity's owner), plus the workloads that run as a non-human identity.
fn dependencies(inventory: &Inventory, record: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::from([record]);
    let mut frontier = vec![record];
    for _ in 0..2 {
        let mut next = Vec::new();
        for &r in &frontier {
            let rec = &inventory.records[r];
            let mut targets = Vec::new();
            rec.fields.link_targets(&mut targets);
            if rec.kind == Kind::Nhi {
                targets.extend(inventory.workloads_of(r));
            }
            for t in targets {
                if out.insert(t) {
                    next.push(t);
                }
            }
        }
        frontier = next;
    }
    out
}

/// Every record added, removed or edited, with where it is now (or was).
fn record_changes<'a>(
    base: &'a Inventory,
    head: &'a Inventory,
) -> BTreeMap<&'a str, (Change, Span)> {
    let mut out = BTreeMap::new();
    for r in &head.records {
        match base.get(&r.id) {
            None => {
                out.insert(r.id.as_str(), (Change::Added, r.span.clone()));
            }
            Some(old) if content(old) != content(r) => {
                out.insert(r.id.as_str(), (Change::Edited, r.span.clone()));
            }
            Some(_) => {}
        }
    }
    for r in &base.records {
        if head.get(&r.id).is_none() {
            out.insert(r.id.as_str(), (Change::Removed, r.span.clone()));
        }
    }
    out
}

/// A record's content without positions: two records with equal content
/// are the same to every policy, wherever they are written.
pub fn content(record: &Record) -> String {
    fn fields(out: &mut String, f: &Fields) {
        out.push('{');
        for (name, field) in f.iter() {
            out.push_str(name);
            out.push(':');
            value(out, &field.value);
            out.push(',');
        }
        out.push('}');
    }
    fn value(out: &mut String, v: &Value) {
        match v {
            Value::Str(s) => out.push_str(&format!("{s:?}")),
            Value::Bool(b) => out.push_str(&b.to_string()),
            Value::Time(t) => out.push_str(&format_time(*t)),
            Value::Date(d) => out.push_str(&d.to_string()),
            Value::Link(l) => out.push_str(&format!("@{:?}", l.id)),
            Value::Links(ls) => {
                out.push('[');
                for l in ls {
                    out.push_str(&format!("@{:?},", l.id));
                }
                out.push(']');
            }
            Value::Strs(ss) => out.push_str(&format!("{ss:?}")),
            Value::Object(o) => fields(out, o),
            Value::Objects(os) => {
                out.push('[');
                for o in os {
                    fields(out, o);
                    out.push(',');
                }
                out.push(']');
            }
        }
    }
    let mut out = format!("{}|{}|{}|", record.kind, record.id, record.status);
    fields(&mut out, &record.fields);
    out
}

/// What a policy means, whatever its layout: Cedar's JSON form of it
/// (conditions and annotations, no whitespace or comments), or its text
/// when Cedar cannot give one.
fn meaning(pack: &PolicyPack, id: &str, text: &str) -> String {
    pack.set
        .policy(&cedar_policy::PolicyId::new(id))
        .and_then(|p| p.to_json().ok())
        .map_or_else(|| text.to_string(), |json| json.to_string())
}

/// Every policy added, removed or edited (its conditions or annotations,
/// not its layout: `cedar format` changes nothing here), by id.
fn policy_changes(base: &PolicyPack, head: &PolicyPack) -> Vec<PolicyChange> {
    let mut out = Vec::new();
    for (id, info) in &head.info {
        let change = match base.info.get(id) {
            None => Some(Change::Added),
            Some(old)
                if old.text != info.text
                    && meaning(base, id, &old.text) != meaning(head, id, &info.text) =>
            {
                Some(Change::Edited)
            }
            Some(_) => None,
        };
        if let Some(change) = change {
            out.push(PolicyChange {
                id: id.clone(),
                change,
                span: info.span.clone(),
            });
        }
    }
    for (id, info) in &base.info {
        if !head.info.contains_key(id) {
            out.push(PolicyChange {
                id: id.clone(),
                change: Change::Removed,
                span: info.span.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ignores_positions_but_not_values() {
        let a = crate::validate::test_inventory(
            "- {kind: team, id: team/a, status: active, name: A}\n",
        );
        let b = crate::validate::test_inventory(
            "\n\n- {kind: team,   id: team/a, name: A, status: active}\n",
        );
        let c = crate::validate::test_inventory(
            "- {kind: team, id: team/a, status: active, name: B}\n",
        );
        assert_eq!(content(&a.records[0]), content(&b.records[0]));
        assert_ne!(content(&a.records[0]), content(&c.records[0]));
    }

    fn pack(policies: &str) -> PolicyPack {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema =
            std::fs::read_to_string(root.join("policies/schema.cedarschema")).expect("schema");
        let sources = crate::load::PolicySources {
            schema: crate::diag::SourceFile::new("policies/schema.cedarschema", schema),
            policies: vec![crate::diag::SourceFile::new(
                "policies/p.cedar",
                policies.to_string(),
            )],
        };
        let (pack, diagnostics) = crate::validate::validate_policies(sources);
        pack.unwrap_or_else(|| panic!("valid: {diagnostics:#?}"))
    }

    #[test]
    fn policies_compare_by_meaning_not_layout() {
        let base = pack(
            "@id(\"p\")\n@description(\"d\")\n@control(\"AC-2\")\npermit (principal, action == Severance::Action::\"revoke\", resource is Severance::Device) when { resource.status == \"lost\" };\n",
        );
        // What `cedar format` does: layout, and a comment.
        let formatted = pack(
            "// formatted\n@id(\"p\")\n@description(\"d\")\n@control(\"AC-2\")\npermit (\n  principal,\n  action == Severance::Action::\"revoke\",\n  resource is Severance::Device\n)\nwhen { resource.status == \"lost\" };\n",
        );
        assert!(policy_changes(&base, &formatted).is_empty());
        let edited = pack(
            "@id(\"p\")\n@description(\"d\")\n@control(\"AC-2\")\npermit (principal, action == Severance::Action::\"revoke\", resource is Severance::Device) when { resource.status == \"stolen\" };\n",
        );
        let changes = policy_changes(&base, &edited);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, Change::Edited);
        let annotated = pack(
            "@id(\"p\")\n@description(\"another\")\n@control(\"AC-2\")\npermit (principal, action == Severance::Action::\"revoke\", resource is Severance::Device) when { resource.status == \"lost\" };\n",
        );
        assert_eq!(
            policy_changes(&base, &annotated).len(),
            1,
            "annotations count"
        );
    }

    #[test]
    fn outcomes_read_like_a_review_comment() {
        let o = Outcome {
            status: Status::Ok,
            actions: vec!["revoke".into(), "rotate".into()],
            blocked: vec![],
            constraints: vec![],
            due: None,
        };
        assert_eq!(o.describe(), "revoke, rotate");
        let retain = Outcome {
            actions: vec![],
            ..o
        };
        assert_eq!(retain.describe(), "retain");
    }
}
