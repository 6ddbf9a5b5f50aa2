//! Stage 3, evaluate: ask Cedar, for every record that carries access or
//! property and every action its kind allows, whether the policies make that
//! action due at the run's instant. Records are independent, so they are
//! evaluated in parallel; nothing here interprets the answers.

pub mod entities;

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, EvalResult, Request, RestrictedExpression,
};
use jiff::Timestamp;
use rayon::prelude::*;

use crate::error::Error;
use crate::model::{Kind, format_time};
use crate::validate::{Inventory, NAMESPACE, PolicyPack};
pub use entities::{Departure, departure};

/// Cedar's answer for one action on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    /// The action's name (`revoke`, `reclaim`, …).
    pub action: String,
    /// Whether the action is due.
    pub due: bool,
    /// Permit policies that were satisfied (when the action is blocked, the
    /// ones the forbids overrode).
    pub permits: Vec<String>,
    /// Forbid policies that were satisfied.
    pub forbids: Vec<String>,
    /// Policies whose evaluation failed, with Cedar's message.
    pub errors: Vec<(String, String)>,
}

/// Every action outcome of one record.
#[derive(Debug, Clone)]
pub struct RecordOutcome {
    /// Index of the record in the inventory.
    pub record: usize,
    /// One outcome per action that applies to the record's kind, in schema order.
    pub actions: Vec<ActionOutcome>,
}

/// The output of the evaluate stage.
pub struct Evaluation {
    /// The run's instant, as given to every policy in `context.now`.
    pub as_of: Timestamp,
    /// Outcomes of every decided record, in inventory (id) order.
    pub outcomes: Vec<RecordOutcome>,
    /// What was derived about each person, by record index.
    pub departures: HashMap<usize, Departure>,
    /// The entity store the requests ran against (kept for `explain`).
    pub entities: Entities,
}

/// The principal of every request: the offboarding process itself.
pub fn principal() -> EntityUid {
    constant_uid("Process", "offboarding")
}

/// An action of the schema, by name (`flag`, `revoke`, …).
pub fn action(name: &str) -> EntityUid {
    constant_uid("Action", name)
}

/// An entity of one of our fixed types.
fn constant_uid(ty: &str, id: &str) -> EntityUid {
    // INVARIANT: only called with the constant names above, which are
    // valid type names (tested below).
    let ty = cedar_policy::EntityTypeName::from_str(&format!("{NAMESPACE}::{ty}"))
        .unwrap_or_else(|_| unreachable!("constant type name"));
    EntityUid::from_type_name_and_id(ty, cedar_policy::EntityId::new(id))
}

/// The actions the schema lets apply to each decided kind, in schema order.
pub fn actions_by_kind(pack: &PolicyPack) -> BTreeMap<Kind, Vec<EntityUid>> {
    let principal_type = principal().type_name().clone();
    Kind::ALL
        .into_iter()
        .filter(|k| k.is_decided())
        .map(|kind| {
            let resource_type = entities::type_name(kind);
            let mut actions: Vec<EntityUid> = pack
                .schema
                .actions_for_principal_and_resource(&principal_type, &resource_type)
                .filter(|a| a.id().unescaped() != crate::validate::FLAG)
                .cloned()
                .collect();
            actions.sort_by_key(|a| action_rank(a.id().unescaped()));
            (kind, actions)
        })
        .collect()
}

/// The order actions are listed in: access first, property, then people.
pub fn action_rank(action: &str) -> (usize, String) {
    const ORDER: [&str; 6] = ["revoke", "rotate", "transfer", "reclaim", "wipe", "review"];
    (
        ORDER
            .iter()
            .position(|a| *a == action)
            .unwrap_or(ORDER.len()),
        action.to_string(),
    )
}

/// Evaluates every decided record of the inventory at `as_of`.
pub fn evaluate(
    inventory: &Inventory,
    pack: &PolicyPack,
    as_of: Timestamp,
) -> Result<Evaluation, Error> {
    let departures = departures(inventory, as_of);
    let entities = entity_store(inventory, &departures)?;
    Ok(ask_all(inventory, pack, as_of, departures, entities))
}

/// What is derived about every person at `as_of`, by record index.
pub fn departures(inventory: &Inventory, as_of: Timestamp) -> HashMap<usize, Departure> {
    inventory
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == Kind::Person)
        .map(|(i, r)| (i, departure(r, as_of)))
        .collect()
}

/// The Cedar entity store of the whole inventory: each record's entity,
/// built once and in parallel. Validation has already proved every value's
/// type and every link's target against the same field table the schema
/// was written from, so Cedar's own schema-conformance pass over the store
/// would check the same facts a second time; it is left out (it cost about
/// a third of the store's build time).
pub fn entity_store(
    inventory: &Inventory,
    departures: &HashMap<usize, Departure>,
) -> Result<Entities, Error> {
    let built = entities::build(inventory, departures);
    Entities::from_entities(built, None).map_err(|e| {
        crate::error::Entities {
            message: e.to_string(),
        }
        .into()
    })
}

/// Asks Cedar every action that applies to each decided record, on both
/// cores, against a store built by [`entity_store`].
pub fn ask_all(
    inventory: &Inventory,
    pack: &PolicyPack,
    as_of: Timestamp,
    departures: HashMap<usize, Departure>,
    entities: Entities,
) -> Evaluation {
    let scoped = scoped_sets(pack);
    // For each kind, its actions' names and the policies that can apply to
    // each, looked up once rather than per request.
    let plan: HashMap<Kind, Vec<(String, Option<&Scoped>)>> = actions_by_kind(pack)
        .into_iter()
        .map(|(kind, actions)| {
            let steps = actions
                .iter()
                .map(|a| {
                    let name = a.id().unescaped().to_string();
                    let sets = scoped.get(&(kind, name.clone()));
                    (name, sets)
                })
                .collect();
            (kind, steps)
        })
        .collect();
    let authorizer = Authorizer::new();
    let now = format_time(as_of);

    crate::progress::stage(
        "evaluating",
        inventory
            .records
            .iter()
            .filter(|r| r.kind.is_decided())
            .count() as u64,
    );
    let outcomes: Vec<RecordOutcome> = inventory
        .records
        .par_iter()
        .enumerate()
        .filter(|(_, r)| r.kind.is_decided())
        .map_init(
            // Each worker parses its own principal, action ids and context:
            // clones of shared ones would make every request bump the same
            // reference counts from both cores.
            || {
                let context = Context::from_pairs([(
                    "now".to_string(),
                    RestrictedExpression::new_datetime(&now),
                )]);
                let actions: HashMap<Kind, Vec<EntityUid>> = plan
                    .iter()
                    .map(|(kind, steps)| (*kind, steps.iter().map(|(n, _)| action(n)).collect()))
                    .collect();
                (principal(), context, actions)
            },
            |(principal, context, actions), (index, record)| {
                let resource = entities::uid(record.kind, &record.id);
                let steps = plan
                    .get(&record.kind)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let uids = actions
                    .get(&record.kind)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let actions = steps
                    .iter()
                    .zip(uids)
                    .map(|((name, sets), action)| {
                        let failed = |message: String| ActionOutcome {
                            action: name.clone(),
                            due: false,
                            permits: Vec::new(),
                            forbids: Vec::new(),
                            errors: vec![(String::new(), message)],
                        };
                        let context = match context {
                            Ok(c) => c.clone(),
                            Err(e) => return failed(e.to_string()),
                        };
                        let Some(sets) = sets else {
                            return failed(format!("no policy set for `{name}`"));
                        };
                        match Request::new(
                            principal.clone(),
                            action.clone(),
                            resource.clone(),
                            context,
                            None,
                        ) {
                            Ok(request) => ask(&authorizer, &request, sets, pack, &entities, name),
                            Err(e) => failed(e.to_string()),
                        }
                    })
                    .collect();
                crate::progress::advance(1);
                RecordOutcome {
                    record: index,
                    actions,
                }
            },
        )
        .collect();

    Evaluation {
        as_of,
        outcomes,
        departures,
        entities,
    }
}

/// The policies that can apply to one kind and action: all of them, and
/// the permits alone.
pub struct Scoped {
    all: cedar_policy::PolicySet,
    permits: cedar_policy::PolicySet,
}

impl Scoped {
    /// Every policy whose scope can match.
    pub fn policies(&self) -> &cedar_policy::PolicySet {
        &self.all
    }

    /// The ids of the permit policies whose scope can match.
    pub fn permit_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .permits
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }
}

/// Splits the pack by the kind and action each policy's scope allows.
/// Cedar evaluates every policy of a set on every request; a policy whose
/// scope cannot match a request never changes its answer (its condition is
/// not even evaluated), so leaving it out changes nothing but the cost.
pub fn scoped_sets(pack: &PolicyPack) -> HashMap<(Kind, String), Scoped> {
    use cedar_policy::ActionConstraint;
    let mut out = HashMap::new();
    for (kind, actions) in actions_by_kind(pack) {
        let ty = entities::type_name(kind);
        for action in actions {
            let mut all = cedar_policy::PolicySet::new();
            let mut permits = cedar_policy::PolicySet::new();
            for policy in pack.set.policies() {
                let action_ok = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(a) => a == action,
                    ActionConstraint::In(list) => list.contains(&action),
                };
                if action_ok && resource_can_match(policy, &ty) {
                    // INVARIANT: ids are unique in the pack, so a subset cannot clash.
                    let _ = all.add(policy.clone());
                    if policy.effect() == cedar_policy::Effect::Permit {
                        let _ = permits.add(policy.clone());
                    }
                }
            }
            out.insert(
                (kind, action.id().unescaped().to_string()),
                Scoped { all, permits },
            );
        }
    }
    out
}

/// Whether a policy's resource scope can match a resource of type `ty`
/// (an `in` constraint can match any type, so it is kept).
pub fn resource_can_match(
    policy: &cedar_policy::Policy,
    ty: &cedar_policy::EntityTypeName,
) -> bool {
    use cedar_policy::ResourceConstraint;
    match policy.resource_constraint() {
        ResourceConstraint::Any | ResourceConstraint::In(_) => true,
        ResourceConstraint::Eq(uid) => uid.type_name() == ty,
        ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => t == *ty,
    }
}

/// A policy that failed to evaluate, as (policy id, Cedar's message).
fn failure(e: &cedar_policy::AuthorizationError) -> (String, String) {
    match e {
        cedar_policy::AuthorizationError::PolicyEvaluationError(e) => {
            (e.policy_id().to_string(), e.inner().to_string())
        }
    }
}

fn ask(
    authorizer: &Authorizer,
    request: &Request,
    sets: &Scoped,
    pack: &PolicyPack,
    entities: &Entities,
    action: &str,
) -> ActionOutcome {
    let response = authorizer.is_authorized(request, &sets.all, entities);
    let mut permits = Vec::new();
    let mut forbids = Vec::new();
    for id in response.diagnostics().reason() {
        let id = id.to_string();
        match pack.info.get(&id).map(|i| i.effect) {
            Some(cedar_policy::Effect::Forbid) => forbids.push(id),
            _ => permits.push(id),
        }
    }
    let mut errors: Vec<(String, String)> = response.diagnostics().errors().map(failure).collect();
    let due = response.decision() == Decision::Allow;
    if !due && !forbids.is_empty() {
        // Tell "blocked by a forbid" from "nothing asked for it".
        let overridden = authorizer.is_authorized(request, &sets.permits, entities);
        permits.extend(overridden.diagnostics().reason().map(ToString::to_string));
        errors.extend(overridden.diagnostics().errors().map(failure));
    }
    permits.sort();
    permits.dedup();
    forbids.sort();
    errors.sort();
    errors.dedup();
    ActionOutcome {
        action: action.to_string(),
        due,
        permits,
        forbids,
        errors,
    }
}

/// Attribute paths a policy reads from the resource (`resource.owner.leaver`)
/// and the values they have for one record, for a human asking why.
pub fn attribute_values(
    evaluation: &Evaluation,
    resource: &EntityUid,
    policy_text: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in resource_paths(policy_text) {
        if !seen.insert(path.clone()) {
            continue;
        }
        let segments: Vec<&str> = path.split('.').skip(1).collect();
        if let Some(value) = lookup(&evaluation.entities, resource, &segments) {
            out.push((path, value));
        }
    }
    // A path that a longer listed path extends says nothing the longer one does not.
    let paths: Vec<String> = out.iter().map(|(p, _)| p.clone()).collect();
    out.retain(|(p, _)| {
        let prefix = format!("{p}.");
        !paths.iter().any(|q| q.starts_with(&prefix))
    });
    if policy_text.contains("context.now") {
        out.push((
            "context.now".into(),
            format!("datetime(\"{}\")", format_time(evaluation.as_of)),
        ));
    }
    out
}

/// Every maximal `resource.a.b.c` chain in a policy's text.
fn resource_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = text[i..].find("resource.") {
        let start = i + found;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start + "resource".len();
        while end < bytes.len() && bytes[end] == b'.' {
            let seg_start = end + 1;
            let mut seg_end = seg_start;
            while seg_end < bytes.len()
                && (bytes[seg_end].is_ascii_alphanumeric() || bytes[seg_end] == b'_')
            {
                seg_end += 1;
            }
            // A method call such as `.contains(` or `.isEmpty(` ends the path.
            if seg_end == seg_start || bytes.get(seg_end) == Some(&b'(') {
                break;
            }
            end = seg_end;
        }
        if boundary && end > start + "resource".len() {
            paths.push(text[start..end].to_string());
        }
        i = start + "resource.".len();
    }
    paths
}

fn lookup(entities: &Entities, uid: &EntityUid, segments: &[&str]) -> Option<String> {
    let entity = entities.get(uid)?;
    let (first, rest) = segments.split_first()?;
    let value = entity.attr(first)?.ok()?;
    descend(entities, value, rest)
}

fn descend(entities: &Entities, value: EvalResult, rest: &[&str]) -> Option<String> {
    let Some((next, tail)) = rest.split_first() else {
        return Some(value.to_string());
    };
    match value {
        // An attribute the entity lacks (a `has` guarded it) yields nothing.
        EvalResult::EntityUid(uid) => lookup(entities, &uid, rest),
        EvalResult::Record(r) => descend(entities, r.get(next)?.clone(), tail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_stop_at_method_calls() {
        let text = "when { resource has owner && resource.owner.leaver && resource.known_to_leavers.isEmpty() && myresource.x }";
        assert_eq!(
            resource_paths(text),
            vec![
                "resource.owner.leaver".to_string(),
                "resource.known_to_leavers".to_string()
            ]
        );
    }

    /// The store is built without Cedar's schema-conformance pass because
    /// validation already guarantees the shape; this proves that guarantee
    /// on the sample organisation and on every fixture inventory.
    #[test]
    fn the_store_conforms_to_the_schema_without_being_checked() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("inventory")];
        for group in ["tests/fixtures/scenarios", "tests/fixtures/check"] {
            let entries = std::fs::read_dir(root.join(group)).expect("fixture folder");
            let mut found: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("inventory"))
                .filter(|p| p.is_dir())
                .collect();
            found.sort();
            dirs.extend(found);
        }
        assert!(dirs.len() > 20, "fixtures found: {}", dirs.len());
        for dir in dirs {
            let loaded = crate::load::load(&crate::load::Sources {
                inventory: dir.clone(),
                policies: root.join("policies"),
                limits: crate::load::Limits::default(),
                revision: None,
            })
            .expect("loads");
            let validation = crate::validate::validate(loaded);
            let Some((inventory, pack)) = validation.valid() else {
                panic!("`{}` does not validate", dir.display());
            };
            let as_of = crate::model::parse_time("2026-11-25T09:00:00Z").expect("time");
            let built = entities::build(inventory, &departures(inventory, as_of));
            if let Err(e) = Entities::from_entities(built, Some(&pack.schema)) {
                panic!("`{}`: {e}", dir.display());
            }
        }
    }

    #[test]
    fn the_principal_is_a_valid_uid() {
        assert_eq!(
            principal().to_string(),
            "Severance::Process::\"offboarding\""
        );
        assert_eq!(action("flag").to_string(), "Severance::Action::\"flag\"");
    }

    #[test]
    fn actions_are_ranked_access_first() {
        let mut a = vec!["review", "wipe", "revoke", "reclaim", "transfer", "rotate"];
        a.sort_by_key(|s| action_rank(s));
        assert_eq!(
            a,
            ["revoke", "rotate", "transfer", "reclaim", "wipe", "review"]
        );
    }
}
