//! Stage 3, evaluate: ask Cedar, for every record that carries access or
//! property and every action its kind allows, whether the policies make that
//! action due at the run's instant. Records are independent, so they are
//! evaluated in parallel; nothing here interprets the answers.

pub mod entities;

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, EvalResult, Request,
    RestrictedExpression,
};
use jiff::Timestamp;
use rayon::prelude::*;

pub use crate::departure::{Departure, departure, departures};
use crate::error::Error;
use crate::model::{Kind, format_time};
use crate::validate::{Inventory, NAMESPACE, PolicyPack};

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
    /// Policies whose evaluation failed.
    pub errors: Vec<PolicyError>,
}

/// A policy that failed to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyError {
    /// The policy's `@id` (empty when the request itself failed).
    pub policy: String,
    /// Cedar's message.
    pub message: String,
    /// Byte range (start, end), in the policy's file, of the expression that failed,
    /// when Cedar says.
    pub at: Option<(usize, usize)>,
}

impl PolicyError {
    /// The request itself could not be made (its context, its entities).
    fn request(message: String) -> PolicyError {
        PolicyError {
            policy: String::new(),
            message,
            at: None,
        }
    }
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
    /// What was derived at the run's instant: departures and discrepancies.
    pub derived: Derived,
    /// The entities the requests ran against, from which each record's
    /// slice is cut again (for the check rules and `explain`).
    pub store: EntityStore,
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

/// Whether the schema lets the check rules' `flag` action apply to a kind:
/// only there has Cedar validated the rules (and proved their level).
pub fn flag_applies(pack: &PolicyPack, kind: Kind) -> bool {
    pack.schema
        .actions_for_principal_and_resource(principal().type_name(), &entities::type_name(kind))
        .any(|a| a.id().unescaped() == crate::validate::FLAG)
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
    let derived = derive(inventory, as_of);
    let store = entity_store(inventory, pack, &derived)?;
    Ok(ask_all(inventory, pack, as_of, derived, store))
}

/// What severance works out from the inventory at the run's instant
/// before Cedar is asked: who has left, and where the systems of record
/// disagree. Policies read both as attributes.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// What was derived about each person, by record index.
    pub departures: HashMap<usize, Departure>,
    /// The discrepancies between observations.
    pub reconciliation: crate::reconcile::Reconciliation,
}

/// Derives departures and reconciles the observations at `as_of`.
pub fn derive(inventory: &Inventory, as_of: Timestamp) -> Derived {
    let departures = departures(inventory, as_of);
    let reconciliation = crate::reconcile::reconcile(inventory, &departures, as_of);
    Derived {
        departures,
        reconciliation,
    }
}

/// Where requests find their entities. Cedar needs, for a request on a
/// record, only the entities its policies can reach: the record's own, and
/// those its attributes name, as many hops deep as the pack's level allows.
/// So no store of the whole inventory is built (at a million records it
/// would hold gigabytes and take a single-threaded pass to link); each
/// request gets a slice of a few entities instead. Entities that other
/// records name are built once and shared by cloning; every other record's
/// entity is built when its slice is cut.
pub struct EntityStore {
    /// Entities some record names, with the records they name in turn.
    shared: HashMap<usize, entities::Built>,
    /// Attribute hops from the resource that a policy can dereference;
    /// `None`: every entity the resource reaches.
    hops: Option<usize>,
    /// The schema's action entities, when it groups actions (so that
    /// `action in Action::"group"` holds); otherwise empty.
    actions: Vec<Entity>,
}

/// The schema's action entities, with their groups as parents.
fn action_entities(pack: &PolicyPack) -> Entities {
    pack.schema
        .action_entities()
        .unwrap_or_else(|_| Entities::empty())
}

impl EntityStore {
    /// The entity of the record at `index`: shared, or built now.
    pub fn entity(
        &self,
        inventory: &Inventory,
        derived: &Derived,
        index: usize,
    ) -> Result<std::borrow::Cow<'_, entities::Built>, String> {
        match self.shared.get(&index) {
            Some(built) => Ok(std::borrow::Cow::Borrowed(built)),
            None => entities::build_one(inventory, index, derived).map(std::borrow::Cow::Owned),
        }
    }

    /// The entities a request on the record at `index` can need: its own
    /// and, breadth first, those named within the pack's level.
    pub fn slice(
        &self,
        inventory: &Inventory,
        derived: &Derived,
        index: usize,
    ) -> Result<Entities, String> {
        let own = self.entity(inventory, derived, index)?;
        let mut seen: Vec<usize> = vec![index];
        let mut frontier: Vec<&[usize]> = vec![own.refs.as_slice()];
        let mut slice: Vec<Entity> = Vec::new();
        let mut hop = 0;
        while !frontier.is_empty() && self.hops.is_none_or(|h| hop < h) {
            let mut next = Vec::new();
            for &target in frontier.iter().flat_map(|refs| refs.iter()) {
                if seen.contains(&target) {
                    continue;
                }
                seen.push(target);
                // Every named record is shared (see `entities::named`).
                if let Some(built) = self.shared.get(&target) {
                    slice.push(built.entity.clone());
                    next.push(built.refs.as_slice());
                }
            }
            frontier = next;
            hop += 1;
        }
        slice.push(match own {
            std::borrow::Cow::Borrowed(b) => b.entity.clone(),
            std::borrow::Cow::Owned(b) => b.entity,
        });
        slice.extend(self.actions.iter().cloned());
        Entities::from_entities(slice, None).map_err(|e| e.to_string())
    }
}

/// Builds the shared entities: those some record names, once each, on both
/// cores.
pub fn entity_store(
    inventory: &Inventory,
    pack: &PolicyPack,
    derived: &Derived,
) -> Result<EntityStore, Error> {
    let named = entities::named(inventory);
    let shared = named
        .par_iter()
        .enumerate()
        .filter(|(_, n)| **n)
        .map(|(index, _)| entities::build_one(inventory, index, derived).map(|b| (index, b)))
        .collect::<Result<HashMap<usize, entities::Built>, String>>()
        .map_err(|message| crate::error::Entities { message })?;
    let actions = action_entities(pack);
    let grouped = actions.iter().any(|a| {
        actions
            .ancestors(&a.uid())
            .is_some_and(|mut up| up.next().is_some())
    });
    Ok(EntityStore {
        actions: if grouped {
            actions.iter().cloned().collect()
        } else {
            Vec::new()
        },
        shared,
        // Level n lets a policy follow n - 1 attribute hops from the
        // resource before reading an attribute.
        hops: pack.level.map(|l| l.saturating_sub(1) as usize),
    })
}

/// One Cedar store of every record's entity, as a naive caller would build
/// it: the benchmark's bare-authorizer ceiling runs on it, and the tests
/// compare the slices' answers with its answers.
pub fn whole_store(
    inventory: &Inventory,
    pack: &PolicyPack,
    derived: &Derived,
) -> Result<Entities, Error> {
    let mut built = (0..inventory.records.len())
        .into_par_iter()
        .map(|index| entities::build_one(inventory, index, derived).map(|b| b.entity))
        .collect::<Result<Vec<Entity>, String>>()
        .map_err(|message| crate::error::Entities { message })?;
    built.extend(action_entities(pack).iter().cloned());
    Entities::from_entities(built, None).map_err(|e| {
        crate::error::Entities {
            message: e.to_string(),
        }
        .into()
    })
}

/// Asks Cedar about records, for the decisions and the check rules alike:
/// builds each request's context, the request and the record's slice of
/// entities, runs the authorizer, and turns whatever fails on the way into
/// a [`PolicyError`], so that a question that could not be asked is never
/// taken for a "no".
pub struct Requester<'a> {
    inventory: &'a Inventory,
    derived: &'a Derived,
    store: &'a EntityStore,
    authorizer: Authorizer,
    /// The run's instant, as every request's `context.now`.
    now: String,
}

/// A record being asked about: its entity's id and the entities its
/// requests can need, cut once for all of them.
pub struct Subject {
    resource: EntityUid,
    slice: Result<Entities, PolicyError>,
}

/// Cedar's answer to one request.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The ids of the policies that were satisfied.
    pub reasons: Vec<String>,
    /// Policies that failed to evaluate, in Cedar's order; one with no
    /// policy when the request itself could not be made.
    pub errors: Vec<PolicyError>,
}

impl<'a> Requester<'a> {
    /// A requester for the records of `inventory`, at `as_of`, against
    /// `store`.
    pub fn new(
        inventory: &'a Inventory,
        derived: &'a Derived,
        store: &'a EntityStore,
        as_of: Timestamp,
    ) -> Self {
        Requester {
            inventory,
            derived,
            store,
            authorizer: Authorizer::new(),
            now: format_time(as_of),
        }
    }

    /// A request's context: the run's instant as `now`, and `extra` (the
    /// check rules see the record's decision).
    pub fn context(
        &self,
        extra: Option<(&str, RestrictedExpression)>,
    ) -> Result<Context, PolicyError> {
        let now = (
            "now".to_string(),
            RestrictedExpression::new_datetime(&self.now),
        );
        let extra = extra.map(|(name, value)| (name.to_string(), value));
        Context::from_pairs(std::iter::once(now).chain(extra))
            .map_err(|e| PolicyError::request(e.to_string()))
    }

    /// The record at `index`, ready to be asked about. A record no other
    /// names is built here (again, for a second question of the run).
    pub fn subject(&self, index: usize) -> Subject {
        let record = &self.inventory.records[index];
        Subject {
            resource: entities::uid(record.kind, &record.id),
            slice: self
                .store
                .slice(self.inventory, self.derived, index)
                .map_err(PolicyError::request),
        }
    }

    /// Whether `principal` may take `action` on `subject` under `set`, in
    /// `context`.
    pub fn ask(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        subject: &Subject,
        context: &Result<Context, PolicyError>,
        set: &cedar_policy::PolicySet,
    ) -> Answer {
        let failed = |e: PolicyError| Answer {
            errors: vec![e],
            ..Answer::default()
        };
        let context = match context {
            Ok(c) => c.clone(),
            Err(e) => return failed(e.clone()),
        };
        let slice = match &subject.slice {
            Ok(s) => s,
            Err(e) => return failed(e.clone()),
        };
        let request = match Request::new(
            principal.clone(),
            action.clone(),
            subject.resource.clone(),
            context,
            None,
        ) {
            Ok(r) => r,
            Err(e) => return failed(PolicyError::request(e.to_string())),
        };
        let response = self.authorizer.is_authorized(&request, set, slice);
        Answer {
            allowed: response.decision() == Decision::Allow,
            reasons: response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect(),
            errors: response.diagnostics().errors().map(failure).collect(),
        }
    }
}

/// Asks Cedar every action that applies to each decided record, on both
/// cores, each record against its slice of `store`.
pub fn ask_all(
    inventory: &Inventory,
    pack: &PolicyPack,
    as_of: Timestamp,
    derived: Derived,
    store: EntityStore,
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
    let requester = Requester::new(inventory, &derived, &store, as_of);

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
                let actions: HashMap<Kind, Vec<EntityUid>> = plan
                    .iter()
                    .map(|(kind, steps)| (*kind, steps.iter().map(|(n, _)| action(n)).collect()))
                    .collect();
                (principal(), requester.context(None), actions)
            },
            |(principal, context, actions), (index, record)| {
                let steps = plan
                    .get(&record.kind)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let uids = actions
                    .get(&record.kind)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let subject = requester.subject(index);
                let actions = steps
                    .iter()
                    .zip(uids)
                    .map(|((name, sets), action)| match sets {
                        Some(sets) => {
                            let ask = |set: &cedar_policy::PolicySet| {
                                requester.ask(principal, action, &subject, context, set)
                            };
                            outcome(name, ask, sets, pack)
                        }
                        None => ActionOutcome {
                            action: name.clone(),
                            due: false,
                            permits: Vec::new(),
                            forbids: Vec::new(),
                            errors: vec![PolicyError::request(format!(
                                "no policy set for `{name}`"
                            ))],
                        },
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
    drop(requester);

    Evaluation {
        as_of,
        outcomes,
        derived,
        store,
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

    /// Whether no policy can apply.
    pub fn is_empty(&self) -> bool {
        self.all.policies().next().is_none()
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

/// Splits the pack by the kind and action each policy's scope allows: the
/// decision policies by each action a decided kind allows, and the check
/// rules by the `flag` action, for each kind the schema lets them flag.
/// Cedar evaluates every policy of a set on every request; a policy whose
/// scope cannot match a request never changes its answer (its condition is
/// not even evaluated), so leaving it out changes nothing but the cost.
pub fn scoped_sets(pack: &PolicyPack) -> HashMap<(Kind, String), Scoped> {
    use cedar_policy::ActionConstraint;
    let groups = action_entities(pack);
    let mut by_kind = actions_by_kind(pack);
    for kind in Kind::ALL.into_iter().filter(|k| flag_applies(pack, *k)) {
        by_kind
            .entry(kind)
            .or_default()
            .push(action(crate::validate::FLAG));
    }
    let mut out = HashMap::new();
    for (kind, actions) in by_kind {
        let ty = entities::type_name(kind);
        for action in actions {
            let flag = action.id().unescaped() == crate::validate::FLAG;
            let mut all = cedar_policy::PolicySet::new();
            let mut permits = cedar_policy::PolicySet::new();
            for policy in pack.set.policies() {
                // A check rule only ever flags; a decision policy never
                // does (validation keeps them apart, but an action group
                // could join them).
                let is_rule = pack
                    .info
                    .get(&policy.id().to_string())
                    .is_some_and(|i| i.rule.is_some());
                let action_ok = is_rule == flag
                    && match policy.action_constraint() {
                        ActionConstraint::Any => true,
                        ActionConstraint::Eq(a) => a == action,
                        // `action in [...]` also matches through action groups.
                        ActionConstraint::In(list) => list
                            .iter()
                            .any(|g| *g == action || groups.is_ancestor_of(g, &action)),
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
fn resource_can_match(policy: &cedar_policy::Policy, ty: &cedar_policy::EntityTypeName) -> bool {
    use cedar_policy::ResourceConstraint;
    match policy.resource_constraint() {
        ResourceConstraint::Any | ResourceConstraint::In(_) => true,
        ResourceConstraint::Eq(uid) => uid.type_name() == ty,
        ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => t == *ty,
    }
}

/// A policy that failed to evaluate.
fn failure(e: &cedar_policy::AuthorizationError) -> PolicyError {
    match e {
        cedar_policy::AuthorizationError::PolicyEvaluationError(e) => PolicyError {
            policy: e.policy_id().to_string(),
            message: e.inner().to_string(),
            at: failed_expression(e.inner()),
        },
    }
}

/// Where the expression that failed is, in the text Cedar parsed it from
/// (the policy's whole file): Cedar's public API gives it only as the
/// error's miette label.
fn failed_expression(e: &cedar_policy::EvaluationError) -> Option<(usize, usize)> {
    use miette::Diagnostic as _;
    let label = e.labels()?.next()?;
    Some((label.offset(), label.offset() + label.len()))
}

/// Where a policy failed, for a note in a finding: the expression Cedar
/// names (`at`), when its range lies within the policy's text; else the
/// policy's first line. `None` when no policy failed (the request did).
pub fn failed_at(
    pack: &PolicyPack,
    policy: &str,
    at: Option<(usize, usize)>,
) -> Option<(crate::diag::Span, &'static str)> {
    let info = pack.info.get(policy)?;
    let start = info.span.range.start;
    let end = start + info.text.len();
    Some(match at {
        Some((from, to)) if start <= from && to <= end && from < to => (
            crate::diag::Span::new(&info.span.file, from..to),
            "this expression failed",
        ),
        _ => (info.span.clone(), "this policy failed"),
    })
}

/// One action's outcome on one record: `ask` puts the question to a set of
/// policies; when a forbid denied the action, the permits alone are asked
/// again, to tell "blocked by a forbid" from "nothing asked for it".
fn outcome(
    action: &str,
    ask: impl Fn(&cedar_policy::PolicySet) -> Answer,
    sets: &Scoped,
    pack: &PolicyPack,
) -> ActionOutcome {
    let answer = ask(&sets.all);
    let mut permits = Vec::new();
    let mut forbids = Vec::new();
    for id in answer.reasons {
        match pack.info.get(&id).map(|i| i.effect) {
            Some(cedar_policy::Effect::Forbid) => forbids.push(id),
            _ => permits.push(id),
        }
    }
    let mut errors = answer.errors;
    let due = answer.allowed;
    if !due && !forbids.is_empty() {
        let overridden = ask(&sets.permits);
        permits.extend(overridden.reasons);
        errors.extend(overridden.errors);
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

/// The values, for one record, of the resource attributes a policy reads
/// (`reads`, from [`PolicyInfo`](crate::validate::PolicyInfo)), and the
/// run's instant when it reads `context.now`: for a human asking why.
pub fn attribute_values(
    evaluation: &Evaluation,
    inventory: &Inventory,
    resource: &EntityUid,
    reads: &[String],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in reads.iter().filter(|p| p.starts_with("resource.")) {
        if !seen.insert(path) {
            continue;
        }
        let segments: Vec<&str> = path.split('.').skip(1).collect();
        if let Some(value) = lookup(evaluation, inventory, resource, &segments) {
            out.push((path.clone(), value));
        }
    }
    // A path that a longer listed path extends says nothing the longer one does not.
    let paths: Vec<String> = out.iter().map(|(p, _)| p.clone()).collect();
    out.retain(|(p, _)| {
        let prefix = format!("{p}.");
        !paths.iter().any(|q| q.starts_with(&prefix))
    });
    if reads.iter().any(|p| p == "context.now") {
        out.push((
            "context.now".into(),
            format!("datetime(\"{}\")", format_time(evaluation.as_of)),
        ));
    }
    out
}

fn lookup(
    evaluation: &Evaluation,
    inventory: &Inventory,
    uid: &EntityUid,
    segments: &[&str],
) -> Option<String> {
    let index = *inventory.index.get(uid.id().unescaped())?;
    let built = evaluation
        .store
        .entity(inventory, &evaluation.derived, index)
        .ok()?;
    let (first, rest) = segments.split_first()?;
    let value = built.entity.attr(first)?.ok()?;
    descend(evaluation, inventory, value, rest)
}

fn descend(
    evaluation: &Evaluation,
    inventory: &Inventory,
    value: EvalResult,
    rest: &[&str],
) -> Option<String> {
    let Some((next, tail)) = rest.split_first() else {
        return Some(value.to_string());
    };
    match value {
        // An attribute the entity lacks (a `has` guarded it) yields nothing.
        EvalResult::EntityUid(uid) => lookup(evaluation, inventory, &uid, rest),
        EvalResult::Record(r) => descend(evaluation, inventory, r.get(next)?.clone(), tail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample organisation and every fixture inventory, validated.
    fn fixtures() -> Vec<(std::path::PathBuf, crate::validate::Validation)> {
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
        dirs.into_iter()
            .map(|dir| {
                let loaded = crate::load::load(&crate::load::Sources {
                    inventory: dir.clone(),
                    policies: root.join("policies"),
                    limits: crate::load::Limits::default(),
                    revision: None,
                })
                .expect("loads");
                (dir, crate::validate::validate(loaded))
            })
            .collect()
    }

    fn as_of() -> Timestamp {
        crate::model::parse_time("2026-11-25T09:00:00Z").expect("time")
    }

    /// Entities are built without Cedar's schema-conformance pass because
    /// validation already guarantees the shape; this proves that guarantee
    /// on the sample organisation and on every fixture inventory.
    #[test]
    fn the_entities_conform_to_the_schema_without_being_checked() {
        for (dir, validation) in fixtures() {
            let Some((inventory, pack)) = validation.valid() else {
                panic!("`{}` does not validate", dir.display());
            };
            let derived = derive(inventory, as_of());
            let built: Vec<Entity> = (0..inventory.records.len())
                .map(|i| {
                    entities::build_one(inventory, i, &derived)
                        .expect("builds")
                        .entity
                })
                .collect();
            if let Err(e) = Entities::from_entities(built, Some(&pack.schema)) {
                panic!("`{}`: {e}", dir.display());
            }
        }
    }

    /// A request on a slice (the record and what its policies can reach)
    /// gets the same answer, reasons and errors as on a store of every
    /// record, for every action and every check rule, on every fixture.
    #[test]
    fn slices_answer_as_the_whole_store_does() {
        let authorizer = Authorizer::new();
        for (dir, validation) in fixtures() {
            let (inventory, pack) = validation.valid().expect("valid");
            assert_eq!(pack.level, Some(3), "the default pack's level");
            let derived = derive(inventory, as_of());
            let whole = whole_store(inventory, pack, &derived).expect("whole store");
            let store = entity_store(inventory, pack, &derived).expect("store");
            let mut actions = actions_by_kind(pack);
            for kind in Kind::ALL {
                if flag_applies(pack, kind) {
                    actions
                        .entry(kind)
                        .or_default()
                        .push(action(crate::validate::FLAG));
                }
            }
            let now = || RestrictedExpression::new_datetime(format_time(as_of()));
            let context = Context::from_pairs([("now".to_string(), now())]).expect("context");
            // The check rules also read what was decided; any decision will do.
            let decided = RestrictedExpression::new_record([
                (
                    "actions".to_string(),
                    RestrictedExpression::new_set([RestrictedExpression::new_string(
                        "revoke".into(),
                    )]),
                ),
                ("blocked".to_string(), RestrictedExpression::new_set([])),
                ("due".to_string(), now()),
            ])
            .expect("decision");
            let flag_context = Context::from_pairs([
                ("now".to_string(), now()),
                ("decision".to_string(), decided),
            ])
            .expect("context");
            let mut asked = 0;
            for (index, record) in inventory.records.iter().enumerate() {
                let slice = store.slice(inventory, &derived, index).expect("slice");
                let resource = entities::uid(record.kind, &record.id);
                for action in actions.get(&record.kind).into_iter().flatten() {
                    let context = if action.id().unescaped() == crate::validate::FLAG {
                        flag_context.clone()
                    } else {
                        context.clone()
                    };
                    let request =
                        Request::new(principal(), action.clone(), resource.clone(), context, None)
                            .expect("request");
                    let answer = |entities: &Entities| {
                        let r = authorizer.is_authorized(&request, &pack.set, entities);
                        let mut reasons: Vec<String> =
                            r.diagnostics().reason().map(ToString::to_string).collect();
                        reasons.sort();
                        let mut errors: Vec<String> =
                            r.diagnostics().errors().map(|e| e.to_string()).collect();
                        errors.sort();
                        (r.decision(), reasons, errors)
                    };
                    assert_eq!(
                        answer(&slice),
                        answer(&whole),
                        "`{}`: `{}` {action}",
                        dir.display(),
                        record.id
                    );
                    asked += 1;
                }
            }
            assert!(asked > 0);
        }
    }

    /// A policy on an action group (`action in Action::"offboard"`) applies
    /// to the group's actions: the scoping keeps it and the slices carry
    /// the action entities that make `in` hold.
    #[test]
    fn policies_on_action_groups_apply_to_their_actions() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("tempdir");
        for entry in std::fs::read_dir(root.join("policies")).expect("policies") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let text = text.replace(
                "  action revoke appliesTo {",
                "  action offboard;\n  action revoke in [offboard] appliesTo {",
            );
            let name = path.file_name().expect("name");
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        std::fs::write(
            dir.path().join("groups.cedar"),
            "@id(\"group-revoke\")\n@description(\"a leaver's account, through the group\")\n@control(\"SP800-53-AC-2\")\npermit (principal, action in Severance::Action::\"offboard\", resource is Severance::Account)\nwhen { resource has principal && resource.principal.leaver };\n",
        )
        .expect("write");
        let loaded = crate::load::load(&crate::load::Sources {
            inventory: root.join("inventory"),
            policies: dir.path().to_path_buf(),
            limits: crate::load::Limits::default(),
            revision: None,
        })
        .expect("loads");
        let validation = crate::validate::validate(loaded);
        let Some((inventory, pack)) = validation.valid() else {
            panic!("{:#?}", validation.diagnostics);
        };
        let evaluation = evaluate(inventory, pack, as_of()).expect("evaluates");
        let by_group = evaluation
            .outcomes
            .iter()
            .flat_map(|o| &o.actions)
            .filter(|a| a.action == "revoke" && a.permits.iter().any(|p| p == "group-revoke"))
            .count();
        let by_leaver_policy = evaluation
            .outcomes
            .iter()
            .flat_map(|o| &o.actions)
            .filter(|a| a.permits.iter().any(|p| p == "leaver-account-revoke"))
            .count();
        assert!(by_group > 0);
        assert!(
            by_group >= by_leaver_policy,
            "{by_group} < {by_leaver_policy}"
        );
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
