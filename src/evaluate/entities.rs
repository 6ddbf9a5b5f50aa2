//! Builds the Cedar entity for each record exactly once, from the same field
//! table that validated it, plus the few derived attributes that policies
//! cannot compute themselves (Cedar has no "any member of a set" test).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use jiff::Timestamp;

use crate::model::{FieldSpec, FieldType, Fields, Kind, ToCedar, Value, format_time};
use crate::validate::{Inventory, NAMESPACE};

/// The Cedar entity type name of a kind.
pub fn type_name(kind: Kind) -> EntityTypeName {
    // INVARIANT: NAMESPACE and every cedar_type are valid Cedar identifiers,
    // checked by the unit test `every_kind_has_a_valid_type_name`.
    EntityTypeName::from_str(&format!("{NAMESPACE}::{}", kind.cedar_type()))
        .unwrap_or_else(|_| unreachable!("checked by test"))
}

/// The entity uid of a record.
pub fn uid(kind: Kind, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name(kind), EntityId::new(id))
}

/// The strings of a string-list value.
fn strs(value: &crate::model::Value) -> impl Iterator<Item = &str> {
    let list: &[String] = match value {
        crate::model::Value::Strs(list) => list,
        _ => &[],
    };
    list.iter().map(String::as_str)
}

fn time_expr(t: Timestamp) -> RestrictedExpression {
    RestrictedExpression::new_datetime(format_time(t))
}

/// Turns links into entity uids, noting every record an entity names: a
/// request on a record needs exactly those (and what they name in turn, as
/// deep as the policies look).
pub struct Placer<'i> {
    inventory: &'i Inventory,
    /// The records named so far, by index (may repeat).
    pub refs: Vec<usize>,
}

impl Placer<'_> {
    fn uid(&mut self, target: usize) -> EntityUid {
        self.refs.push(target);
        let r = &self.inventory.records[target];
        uid(r.kind, &r.id)
    }
}

fn value_expr(
    value: &Value,
    placer: &mut Placer<'_>,
    spec: &FieldSpec,
) -> Option<RestrictedExpression> {
    Some(match value {
        Value::Str(s) => RestrictedExpression::new_string(s.clone()),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::Time(t) => time_expr(*t),
        Value::Date(d) => time_expr(crate::model::midnight_utc(*d)?),
        Value::Link(l) => RestrictedExpression::new_entity_uid(placer.uid(l.target)),
        Value::Links(ls) => {
            let uids: Vec<EntityUid> = ls.iter().map(|l| placer.uid(l.target)).collect();
            RestrictedExpression::new_set(
                uids.into_iter().map(RestrictedExpression::new_entity_uid),
            )
        }
        Value::Strs(ss) => {
            RestrictedExpression::new_set(ss.iter().cloned().map(RestrictedExpression::new_string))
        }
        Value::Object(fields) => {
            let FieldType::Object(specs) = &spec.ty else {
                return None;
            };
            RestrictedExpression::new_record(record_attrs(fields, specs.iter(), placer)).ok()?
        }
        Value::Objects(_) => return None,
    })
}

/// Attributes for a set of fields; absent booleans are `false` and absent
/// lists empty, so policies need `has` only for optional scalars.
fn record_attrs<'s>(
    fields: &Fields,
    specs: impl IntoIterator<Item = &'s FieldSpec>,
    placer: &mut Placer<'_>,
) -> Vec<(String, RestrictedExpression)> {
    let mut attrs = Vec::new();
    for spec in specs {
        if spec.cedar == ToCedar::Hidden || spec.name == "status" {
            continue;
        }
        match fields.get(spec.name) {
            Some(value) => {
                if spec.cedar == ToCedar::PerKind {
                    if let Value::Link(l) = value {
                        let kind = placer.inventory.records[l.target].kind;
                        attrs.push((
                            format!("{}_{}", spec.name, kind.as_str()),
                            RestrictedExpression::new_entity_uid(placer.uid(l.target)),
                        ));
                    }
                    continue;
                }
                if let Some(e) = value_expr(value, placer, spec) {
                    attrs.push((spec.name.to_string(), e));
                }
            }
            None => match spec.ty {
                FieldType::Bool => {
                    attrs.push((spec.name.to_string(), RestrictedExpression::new_bool(false)))
                }
                FieldType::Strs | FieldType::Links(_) => {
                    attrs.push((spec.name.to_string(), RestrictedExpression::new_set([])));
                }
                _ => {}
            },
        }
    }
    attrs
}

/// The records a record is `in` (its team, a team's parent), transitively:
/// each entity carries all its ancestors, so an `in` test needs no other
/// entity in the request's slice. `Err` names a record that is its own
/// ancestor.
fn ancestors(inventory: &Inventory, index: usize) -> Result<Vec<usize>, String> {
    let parents_of = |i: usize| {
        let record = &inventory.records[i];
        crate::model::ENVELOPE
            .iter()
            .chain(record.kind.fields())
            .filter(|spec| spec.cedar == ToCedar::AttrAndParent)
            .filter_map(|spec| record.fields.link(spec.name))
            .collect::<Vec<usize>>()
    };
    let mut out: Vec<usize> = Vec::new();
    let mut todo = parents_of(index);
    while let Some(p) = todo.pop() {
        if p == index {
            let r = &inventory.records[index];
            return Err(format!(
                "`{}` is its own ancestor: its parent links form a cycle",
                r.id
            ));
        }
        if !out.contains(&p) {
            out.push(p);
            todo.extend(parents_of(p));
        }
    }
    Ok(out)
}

/// The records that some record's entity names, by index: the entities
/// worth keeping to share between requests. Every name an entity carries
/// comes from a link field (derived names, such as a grant's `holder`,
/// repeat a link the chain already holds), so this reads links only.
pub fn named(inventory: &Inventory) -> Vec<bool> {
    let mut out = vec![false; inventory.records.len()];
    let mut targets = Vec::new();
    for record in &inventory.records {
        targets.clear();
        record.fields.link_targets(&mut targets);
        for &t in &targets {
            out[t] = true;
        }
    }
    out
}

/// A record's entity and the records it names.
#[derive(Clone, Debug)]
pub struct Built {
    /// The entity.
    pub entity: Entity,
    /// The records its attributes name, by index, each once.
    pub refs: Vec<usize>,
}

/// Builds the entity of the record at `index`. `departures` holds the
/// derived facts of every person, by record index. `Err` when the record's
/// parent links form a cycle.
pub fn build_one(
    inventory: &Inventory,
    index: usize,
    derived: &super::Derived,
) -> Result<Built, String> {
    let departures = &derived.departures;
    let record = &inventory.records[index];
    let mut placer = Placer {
        inventory,
        refs: Vec::new(),
    };
    let specs: Vec<&FieldSpec> = crate::model::ENVELOPE
        .iter()
        .chain(record.kind.fields())
        .collect();
    let mut attrs: HashMap<String, RestrictedExpression> = HashMap::new();
    attrs.insert(
        "status".into(),
        RestrictedExpression::new_string(record.status.clone()),
    );
    for (name, expr) in record_attrs(&record.fields, specs.iter().copied(), &mut placer) {
        attrs.insert(name, expr);
    }
    let parents: HashSet<EntityUid> = ancestors(inventory, index)?
        .into_iter()
        .map(|a| {
            let r = &inventory.records[a];
            uid(r.kind, &r.id)
        })
        .collect();

    let leavers_among = |placer: &mut Placer<'_>, field: &str| {
        let uids: Vec<EntityUid> = record
            .fields
            .links(field)
            .into_iter()
            .filter(|t| departures.get(t).is_some_and(|d| d.leaver))
            .map(|t| placer.uid(t))
            .collect();
        RestrictedExpression::new_set(uids.into_iter().map(RestrictedExpression::new_entity_uid))
    };
    match record.kind {
        Kind::Person => {
            if let Some(d) = departures.get(&index) {
                attrs.insert("leaver".into(), RestrictedExpression::new_bool(d.leaver));
                attrs.insert(
                    "immediate".into(),
                    RestrictedExpression::new_bool(d.immediate),
                );
                attrs.insert("rehired".into(), RestrictedExpression::new_bool(d.rehired));
                if let Some(at) = d.at {
                    attrs.insert("departure_at".into(), time_expr(at));
                }
                if let Some(end) = d.contract_end {
                    attrs.insert("contract_end".into(), time_expr(end));
                }
                if let Some(day) = d.last_day_of_work {
                    attrs.insert("last_day_of_work".into(), time_expr(day));
                }
                if let Some(effective) = d.termination_effective {
                    attrs.insert("termination_effective".into(), time_expr(effective));
                }
                if let Some(reason) = &d.reason {
                    attrs.insert(
                        "reason_category".into(),
                        RestrictedExpression::new_string(reason.clone()),
                    );
                }
            }
        }
        Kind::Grant => {
            let holder = record
                .fields
                .link("account")
                .and_then(|a| inventory.records[a].fields.link("principal"));
            if let Some(p) = holder {
                attrs.insert(
                    "holder".into(),
                    RestrictedExpression::new_entity_uid(placer.uid(p)),
                );
            }
        }
        Kind::Nhi => {
            attrs.insert(
                "known_to_leavers".into(),
                leavers_among(&mut placer, "known_to"),
            );
            let workloads = inventory.workloads_of(index);
            let mut environments: std::collections::BTreeSet<&str> = record
                .fields
                .get("environments")
                .into_iter()
                .flat_map(strs)
                .collect();
            for &w in &workloads {
                environments.extend(
                    inventory.records[w]
                        .fields
                        .get("environments")
                        .into_iter()
                        .flat_map(strs),
                );
            }
            attrs.insert(
                "workload_count".into(),
                RestrictedExpression::new_long(workloads.len() as i64),
            );
            attrs.insert(
                "environments_in_use".into(),
                RestrictedExpression::new_set(
                    environments
                        .into_iter()
                        .map(|e| RestrictedExpression::new_string(e.to_string())),
                ),
            );
        }
        Kind::Account | Kind::Credential => {
            attrs.insert(
                "known_to_leavers".into(),
                leavers_among(&mut placer, "known_to"),
            );
        }
        _ => {}
    }
    if record.kind != Kind::Team {
        let (proven, suspected) = derived.reconciliation.codes_of(index);
        let set = |codes: std::collections::BTreeSet<&str>| {
            RestrictedExpression::new_set(
                codes
                    .into_iter()
                    .map(|c| RestrictedExpression::new_string(c.to_string())),
            )
        };
        attrs.insert("discrepancies".into(), set(proven));
        attrs.insert("suspected_discrepancies".into(), set(suspected));
    }
    // INVARIANT: every attribute expression above is a literal, a set or
    // record of literals, or a datetime() call on a string we formatted, so
    // Entity::new cannot fail on it; a failure would be a bug we must not hide.
    let entity = match Entity::new(uid(record.kind, &record.id), attrs, parents) {
        Ok(e) => e,
        Err(e) => unreachable!("entity for `{}` could not be built: {e}", record.id),
    };
    let mut refs = placer.refs;
    refs.sort_unstable();
    refs.dedup();
    Ok(Built { entity, refs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_valid_type_name() {
        for kind in Kind::ALL {
            let name = format!("{NAMESPACE}::{}", kind.cedar_type());
            assert!(EntityTypeName::from_str(&name).is_ok(), "{name}");
        }
    }
}

#[cfg(test)]
mod ancestor_tests {
    use super::*;
    use crate::validate::test_inventory;

    #[test]
    fn every_entity_carries_all_its_ancestors() {
        let inv = test_inventory(
            "- {kind: team, id: team/a, status: active}\n- {kind: team, id: team/b, status: active, parent: team/a}\n- {kind: person, id: person/p, employee_number: '1', status: active, team: team/b}\n",
        );
        let person = inv.index["person/p"];
        let mut found = ancestors(&inv, person).expect("no cycle");
        found.sort_unstable();
        let mut want = vec![inv.index["team/a"], inv.index["team/b"]];
        want.sort_unstable();
        assert_eq!(found, want);
    }

    #[test]
    fn a_cycle_of_parents_is_refused() {
        let inv = test_inventory(
            "- {kind: team, id: team/a, status: active, parent: team/b}\n- {kind: team, id: team/b, status: active, parent: team/a}\n",
        );
        let err = build_one(
            &inv,
            inv.index["team/a"],
            &crate::evaluate::Derived::default(),
        )
        .expect_err("a cycle");
        assert!(err.contains("`team/a` is its own ancestor"), "{err}");
    }
}
