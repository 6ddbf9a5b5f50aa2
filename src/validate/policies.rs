//! Parses the Cedar schema and policy files, checks that every policy carries
//! the annotations severance relies on, and type-checks the set against the
//! schema in strict mode, so a policy that names a missing attribute is a
//! load error pointing at its file and line rather than a surprise at
//! evaluation time.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Effect, PolicyId, PolicySet, Schema, ValidationMode, Validator};

use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::load::PolicySources;
use crate::validate::nesting;

/// The Cedar namespace of every entity type and action.
pub const NAMESPACE: &str = "Severance";

/// Whether a `@leaver` path (`owner`, `bound_to.assigned_to`,
/// `mdm.primary_user`, or the derived `holder`) follows link and mapping
/// fields that exist in the inventory format.
pub fn is_link_path(path: &str) -> bool {
    use crate::model::{ENVELOPE, FieldSpec, FieldType, Kind};
    fn walk(specs: &[&FieldSpec], segments: &[&str]) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return true;
        };
        specs
            .iter()
            .filter(|s| s.name == *first)
            .any(|spec| match &spec.ty {
                FieldType::Link(kinds) | FieldType::Links(kinds) => {
                    rest.is_empty()
                        || kinds.iter().any(|k| {
                            let next: Vec<&FieldSpec> = ENVELOPE.iter().chain(k.fields()).collect();
                            walk(&next, rest)
                        })
                }
                FieldType::Object(inner) => {
                    !rest.is_empty() && walk(&inner.iter().collect::<Vec<_>>(), rest)
                }
                _ => false,
            })
    }
    if path == "holder" {
        return true;
    }
    let segments: Vec<&str> = path.split('.').collect();
    Kind::ALL
        .iter()
        .filter(|k| k.is_decided())
        .any(|k| walk(&k.fields().iter().collect::<Vec<_>>(), &segments))
}

/// What severance knows about one policy.
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    /// `@id`.
    pub id: String,
    /// `@description`.
    pub description: String,
    /// `@control`, split on commas.
    pub controls: Vec<String>,
    /// `permit` or `forbid`.
    pub effect: Effect,
    /// `@leaver`: the links whose target is the person the decision follows from.
    pub leaver: Vec<String>,
    /// `@due`: how long after the leaver's departure the action is due.
    pub due: Option<jiff::SignedDuration>,
    /// `@clock("moved_at")`: the deadline counts from the leaver's team
    /// move, not from their departure (a departure never restarts it).
    pub from_move: bool,
    /// Set when the policy is a check rule (it has `@severity`).
    pub rule: Option<Rule>,
    /// Where the policy starts.
    pub span: Span,
    /// The policy's text.
    pub text: String,
    /// The attribute paths the policy's conditions read from the resource
    /// and the context (`resource.owner.leaver`, `context.now`), each as
    /// long as written, in the order they are written.
    pub reads: Vec<String>,
}

/// What makes a policy a check rule: it permits `flag` on records that
/// break it, and each such record is a finding of `severance check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `@severity`.
    pub severity: crate::diag::Severity,
    /// `@field`: the field at fault, so that reports can point at it.
    pub field: Option<String>,
    /// `@detail("due")`: the finding quotes the decision's deadline.
    pub detail_due: bool,
}

/// The action check rules permit.
pub const FLAG: &str = "flag";

/// A parsed, annotated, strictly validated policy pack.
#[derive(Debug)]
pub struct PolicyPack {
    /// The schema.
    pub schema: Schema,
    /// All policies, keyed by `@id`.
    pub set: PolicySet,
    /// Metadata by `@id`.
    pub info: BTreeMap<String, PolicyInfo>,
    /// The files read.
    pub files: Vec<Arc<SourceFile>>,
    /// The deepest chain of entity dereferences any policy makes (its
    /// Cedar "level", RFC 76): a request needs only the entities that many
    /// attribute hops from its resource, less one. `None` when no level up
    /// to [`MAX_LEVEL`] holds, and a request then gets every entity its
    /// resource reaches.
    pub level: Option<u32>,
}

/// The deepest level looked for; real packs need two or three.
pub const MAX_LEVEL: u32 = 8;

/// Turns one of Cedar's miette diagnostics into a finding placed in `file`.
fn from_cedar(code: Code, d: &dyn miette::Diagnostic, file: &Arc<SourceFile>) -> Diagnostic {
    let message = d.to_string();
    let mut out = Diagnostic::error(code, message);
    if let Some(label) = d.labels().and_then(|mut l| l.next()) {
        let start = label.offset().min(file.text.len());
        let end = (start + label.len()).min(file.text.len());
        out = out.at(Span::new(file, start..end));
        if let Some(text) = label.label() {
            out = out.label(text.to_string());
        }
    }
    if let Some(help) = d.help() {
        out = out.help(help.to_string());
    }
    out
}

/// The finding for a file that nests deeper than `limits`, which is then
/// never handed to Cedar.
fn too_deep(file: &Arc<SourceFile>, limits: nesting::Limits) -> Option<Diagnostic> {
    let e = nesting::check(&file.text, limits).err()?;
    let (what, label) = match e.nest {
        nesting::Nest::Bracket if limits.angles => (
            "brackets (`(`, `[`, `{`, `<`)",
            format!("bracket {} levels deep", e.limit + 1),
        ),
        nesting::Nest::Bracket => (
            "brackets (`(`, `[`, `{`)",
            format!("bracket {} levels deep", e.limit + 1),
        ),
        nesting::Nest::If => (
            "`if` expressions",
            format!("`if` {} levels deep", e.limit + 1),
        ),
    };
    Some(
        Diagnostic::error(
            Code::PolicyTooDeep,
            format!("`{}` nests {what} more than {} levels deep", file.path, e.limit),
        )
        .at(Span::new(file, e.offset..e.offset + e.len))
        .label(label)
        .help("flatten the expression: split it into several `when` clauses or policies; the limit protects every command from crafted input (docs/policies.md)"),
    )
}

/// Parses and checks the policy directory.
pub fn validate_policies(sources: PolicySources) -> (Option<PolicyPack>, Vec<Diagnostic>) {
    let PolicySources { schema, policies } = sources;
    let mut diagnostics = Vec::new();
    let mut files = vec![Arc::clone(&schema)];
    files.extend(policies.iter().cloned());

    let parsed_schema = match too_deep(&schema, nesting::SCHEMA) {
        Some(d) => {
            diagnostics.push(d);
            None
        }
        None => match Schema::from_cedarschema_str(&schema.text) {
            Ok((s, _warnings)) => Some(s),
            Err(e) => {
                diagnostics.push(from_cedar(Code::SchemaSyntax, &e, &schema));
                None
            }
        },
    };

    let mut set = PolicySet::new();
    let mut info: BTreeMap<String, PolicyInfo> = BTreeMap::new();
    let mut file_of: BTreeMap<String, Arc<SourceFile>> = BTreeMap::new();
    for file in &policies {
        if let Some(d) = too_deep(file, nesting::POLICY) {
            diagnostics.push(d);
            continue;
        }
        let parsed = match PolicySet::from_str(&file.text) {
            Ok(p) => p,
            Err(errors) => {
                for e in errors.iter() {
                    diagnostics.push(from_cedar(Code::PolicySyntax, e, file));
                }
                continue;
            }
        };
        // Nothing here links templates, so one would never apply: a
        // silent no-op where the author expects a decision.
        for template in parsed.templates() {
            let text = template.to_string();
            let start = file.text.find(text.as_str()).unwrap_or(0);
            let slot = ["?principal", "?resource"]
                .iter()
                .filter_map(|s| text.find(s).map(|i| (i, s.len())))
                .min();
            let span = match slot {
                Some((i, len)) => Span::new(file, start + i..start + i + len),
                None => Span::new(file, start..start + first_line_len(&text)),
            };
            let name = template
                .annotation("id")
                .map_or(String::new(), |id| format!(" `{id}`"));
            diagnostics.push(
                Diagnostic::error(
                    Code::PolicyTemplate,
                    format!("policy{name} is a template, and severance links no templates"),
                )
                .at(span)
                .label("a template slot")
                .help("name the entities in the scope (`resource is Severance::Account`) and put the rest in a `when` condition"),
            );
        }
        // Policies come back keyed `policy0`, `policy1`, … in file order.
        let mut in_file: Vec<_> = parsed.policies().collect();
        in_file.sort_by_key(|p| {
            p.id()
                .to_string()
                .trim_start_matches("policy")
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
        let mut cursor = 0;
        for policy in in_file {
            let text = policy.to_string();
            let start = file.text[cursor..]
                .find(text.as_str())
                .map_or(cursor, |i| cursor + i);
            cursor = start + text.len().min(file.text.len() - start);
            let span = Span::new(file, start..start + first_line_len(&text));
            let Some(meta) = annotations(policy, &span, &mut diagnostics) else {
                continue;
            };
            if let Some(first) = info.get(&meta.id) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicatePolicyId,
                        format!("duplicate policy id `{}`", meta.id),
                    )
                    .at(span.clone())
                    .note(first.span.clone(), "first used here"),
                );
                continue;
            }
            if let Some(d) = unconditional_forbid(policy, &meta.id, &span) {
                diagnostics.push(d);
            }
            let reads = reads(policy);
            let renamed = policy.new_id(PolicyId::new(&meta.id));
            let effect = renamed.effect();
            if let Err(e) = set.add(renamed) {
                diagnostics
                    .push(Diagnostic::error(Code::PolicyInvalid, e.to_string()).at(span.clone()));
                continue;
            }
            file_of.insert(meta.id.clone(), Arc::clone(file));
            info.insert(
                meta.id.clone(),
                PolicyInfo {
                    effect,
                    span,
                    text,
                    reads,
                    ..meta
                },
            );
        }
    }

    if info.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::NoPolicies, "the policy directory holds no policies")
                .help("add `*.cedar` files beside `schema.cedarschema`; without policies every record would be retained"),
        );
    }

    if let Some(schema) = &parsed_schema {
        let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        for e in result.validation_errors() {
            let id = e.policy_id().to_string();
            let Some(file) = file_of.get(&id) else {
                continue;
            };
            let mut d = from_cedar(Code::PolicyInvalid, e, file);
            if !d.message.contains(&format!("`{id}`")) {
                d.message = format!("policy `{id}`: {}", d.message);
            }
            if d.span.is_none()
                && let Some(meta) = info.get(&id)
            {
                d = d.at(meta.span.clone());
            }
            diagnostics.push(d);
        }
    }

    crate::diag::sort(&mut diagnostics);
    let has_errors = diagnostics
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error);
    match parsed_schema {
        Some(schema) if !has_errors => (
            Some(PolicyPack {
                level: (0..=MAX_LEVEL).find(|&level| {
                    Validator::new(schema.clone())
                        .validate_with_level(&set, ValidationMode::Strict, level)
                        .validation_passed()
                }),
                schema,
                set,
                info,
                files,
            }),
            diagnostics,
        ),
        _ => (None, diagnostics),
    }
}

fn first_line_len(text: &str) -> usize {
    text.find('\n').unwrap_or(text.len())
}

/// Reads and checks `@id`, `@description`, `@control`, `@leaver` and `@due`.
fn annotations(
    policy: &cedar_policy::Policy,
    span: &Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PolicyInfo> {
    let before = diagnostics.len();
    let mut missing = |name: &str, what: &str| {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                format!("policy has no `@{name}` annotation"),
            )
            .at(span.clone())
            .help(format!("add `@{name}(\"…\")`: {what}")),
        );
    };
    let id = policy.annotation("id").map(str::to_string);
    if id.is_none() {
        missing("id", "a stable kebab-case name that decisions cite");
    }
    let description = policy.annotation("description").map(str::to_string);
    if description.is_none() {
        missing(
            "description",
            "one line saying what the policy decides and why",
        );
    }
    let controls: Vec<String> = list_annotation(policy, "control");
    if controls.is_empty() {
        missing(
            "control",
            "the controls it serves, e.g. `OWASP-NHI1, SP800-53-PS-4`",
        );
    }
    if let Some(id) = &id
        && !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                format!("policy id `{id}` is not kebab-case"),
            )
            .at(span.clone())
            .help("use lowercase letters, digits and `-`"),
        );
    }
    let leaver: Vec<String> = list_annotation(policy, "leaver");
    for link in &leaver {
        if !is_link_path(link) {
            diagnostics.push(
                Diagnostic::error(Code::PolicyAnnotation, format!("`@leaver` names `{link}`, which is not a link of any record kind"))
                    .at(span.clone())
                    .help("`@leaver` takes a comma-separated list of link fields, e.g. `owner, created_by` or `bound_to.assigned_to`"),
            );
        }
    }
    let due = match policy.annotation("due") {
        None => None,
        Some(text) => match parse_due(text) {
            Some(d) => Some(d),
            None => {
                diagnostics.push(
                    Diagnostic::error(
                        Code::PolicyAnnotation,
                        format!("`@due(\"{text}\")` is not a duration"),
                    )
                    .at(span.clone())
                    .help("write a Cedar duration such as `1h`, `24h`, `7d` or `1d12h`"),
                );
                None
            }
        },
    };
    if due.is_some() && leaver.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::PolicyAnnotation, "`@due` needs `@leaver`: a deadline counts from a leaver's departure")
                .at(span.clone())
                .help("add `@leaver(\"owner\")` (or the link the decision follows from), or remove `@due`"),
        );
    }
    let from_move = match policy.annotation("clock") {
        None | Some("departure") => false,
        Some("moved_at") => true,
        Some(other) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::PolicyAnnotation,
                    format!("`@clock(\"{other}\")` is not a clock"),
                )
                .at(span.clone())
                .help("`@clock` is `departure` (the default) or `moved_at`"),
            );
            false
        }
    };
    if policy.annotation("clock").is_some() && due.is_none() {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                "`@clock` needs `@due`: it says where a deadline counts from",
            )
            .at(span.clone()),
        );
    }
    let rule = rule_annotations(policy, span, diagnostics);
    if rule.is_some() && (!leaver.is_empty() || due.is_some()) {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                "a check rule (`@severity`) takes no `@leaver` or `@due`",
            )
            .at(span.clone())
            .help("deadlines belong to decision policies; the `action-overdue` rule checks them"),
        );
    }
    if diagnostics.len() > before {
        return None;
    }
    Some(PolicyInfo {
        id: id?,
        description: description?,
        controls,
        effect: policy.effect(),
        leaver,
        due,
        from_move,
        rule,
        span: span.clone(),
        text: String::new(),
        reads: Vec::new(),
    })
}

/// The attribute paths a policy reads from the resource and the context,
/// taken from Cedar's parse of it (its JSON form), so that a `resource.x`
/// in a comment or a string is not taken for one. A path is as long as its
/// chain of attribute reads: `resource.owner.leaver`, and
/// `resource.known_to` for `resource.known_to.isEmpty()`.
fn reads(policy: &cedar_policy::Policy) -> Vec<String> {
    let mut out = Vec::new();
    // A policy Cedar parsed has a JSON form; were one to lack it, `explain`
    // would only show fewer values.
    let Ok(json) = policy.to_json() else {
        return out;
    };
    let conditions = json.get("conditions").and_then(serde_json::Value::as_array);
    for condition in conditions.into_iter().flatten() {
        if let Some(body) = condition.get("body") {
            collect_reads(body, &mut out);
        }
    }
    out
}

/// Every maximal `resource.…` and `context.…` chain in one expression of
/// Cedar's JSON form, in the order written. Each node is an object of one
/// key naming its operator; an attribute read is `{".": {"left", "attr"}}`
/// and a variable `{"Var": "resource"}`.
fn collect_reads(expr: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    if let Some(path) = attribute_path(expr)
        && (path.starts_with("resource.") || path.starts_with("context."))
    {
        out.push(path);
        return;
    }
    match expr {
        Value::Object(map) => map.values().for_each(|v| collect_reads(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_reads(v, out)),
        _ => {}
    }
}

/// `var.a.b` when an expression is a chain of attribute reads from a variable.
fn attribute_path(expr: &serde_json::Value) -> Option<String> {
    let read = expr.get(".")?;
    let attr = read.get("attr")?.as_str()?;
    let left = read.get("left")?;
    let base = match left.get("Var").and_then(serde_json::Value::as_str) {
        Some(var) => var.to_string(),
        None => attribute_path(left)?,
    };
    Some(format!("{base}.{attr}"))
}

/// A warning for a `forbid` with no condition whose scope names no
/// particular record: it blocks its actions on every record of a kind (or
/// of every kind), which is rarely what its author meant.
fn unconditional_forbid(
    policy: &cedar_policy::Policy,
    id: &str,
    span: &Span,
) -> Option<Diagnostic> {
    use cedar_policy::{ActionConstraint, PrincipalConstraint, ResourceConstraint};
    if policy.effect() != Effect::Forbid || policy.has_non_scope_constraint() {
        return None;
    }
    let process = crate::evaluate::principal();
    let matches_process = match policy.principal_constraint() {
        PrincipalConstraint::Any => true,
        PrincipalConstraint::Is(t) => t == *process.type_name(),
        PrincipalConstraint::Eq(uid) => uid == process,
        PrincipalConstraint::In(_) | PrincipalConstraint::IsIn(..) => false,
    };
    let short = |t: &cedar_policy::EntityTypeName| t.basename().to_string();
    let records = match policy.resource_constraint() {
        ResourceConstraint::Any => "every record".to_string(),
        ResourceConstraint::Is(t) => format!("every `{}`", short(&t)),
        ResourceConstraint::Eq(_) | ResourceConstraint::In(_) | ResourceConstraint::IsIn(..) => {
            return None;
        }
    };
    if !matches_process {
        return None;
    }
    let name = |a: &cedar_policy::EntityUid| format!("`{}`", a.id().unescaped());
    let actions = match policy.action_constraint() {
        ActionConstraint::Any => "every action".to_string(),
        ActionConstraint::Eq(a) => name(&a),
        ActionConstraint::In(list) => list.iter().map(name).collect::<Vec<_>>().join(", "),
    };
    Some(
        Diagnostic::warning(
            Code::UnconditionalForbid,
            format!("policy `{id}` forbids {actions} on {records}, unconditionally"),
        )
        .at(span.clone())
        .help("add the `when` condition under which the action must be blocked; no permit can override a forbid"),
    )
}

/// Whether a policy's scope can match the `flag` action, and whether it
/// matches exactly that one.
fn flag_scope(policy: &cedar_policy::Policy) -> (bool, bool) {
    use cedar_policy::ActionConstraint;
    let is_flag = |a: &cedar_policy::EntityUid| a.id().unescaped() == FLAG;
    match policy.action_constraint() {
        ActionConstraint::Any => (true, false),
        ActionConstraint::Eq(a) => (is_flag(&a), is_flag(&a)),
        ActionConstraint::In(list) => {
            let any = list.iter().any(is_flag);
            (any, any && list.iter().all(is_flag))
        }
    }
}

/// Reads `@severity`, `@field` and `@detail`, and keeps check rules and
/// decision policies apart: a rule must permit exactly `flag`, and a
/// decision policy must not be able to match it.
fn rule_annotations(
    policy: &cedar_policy::Policy,
    span: &Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let (can_flag, only_flag) = flag_scope(policy);
    let Some(text) = policy.annotation("severity") else {
        if can_flag {
            diagnostics.push(
                Diagnostic::error(
                    Code::PolicyAnnotation,
                    "policy can match the `flag` action but has no `@severity`",
                )
                .at(span.clone())
                .help("a decision policy names its actions (`action == Severance::Action::\"revoke\"`); a check rule permits `flag` and carries `@severity(\"error\")`, `\"warning\"` or `\"note\"`"),
            );
        }
        for name in ["field", "detail"] {
            if policy.annotation(name).is_some() {
                diagnostics.push(
                    Diagnostic::error(
                        Code::PolicyAnnotation,
                        format!("`@{name}` is only for check rules (policies with `@severity`)"),
                    )
                    .at(span.clone()),
                );
            }
        }
        return None;
    };
    let before = diagnostics.len();
    let severity = crate::diag::Severity::parse(text);
    if severity.is_none() {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                format!("`@severity(\"{text}\")` is not a severity"),
            )
            .at(span.clone())
            .help("use `error`, `warning` or `note`"),
        );
    }
    if !only_flag || policy.effect() != Effect::Permit {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                "a check rule (`@severity`) must be a `permit` of exactly the `flag` action",
            )
            .at(span.clone())
            .help("write `permit (principal, action == Severance::Action::\"flag\", resource is …) when { <the violation> };`"),
        );
    }
    let field = policy.annotation("field").map(str::to_string);
    if let Some(name) = &field
        && !crate::model::Kind::ALL
            .iter()
            .any(|k| k.field(name).is_some())
    {
        diagnostics.push(
            Diagnostic::error(
                Code::PolicyAnnotation,
                format!("`@field` names `{name}`, which is not a field of any record kind"),
            )
            .at(span.clone()),
        );
    }
    let detail_due = match policy.annotation("detail") {
        None => false,
        Some("due") => true,
        Some(other) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::PolicyAnnotation,
                    format!("`@detail(\"{other}\")` is not a known detail"),
                )
                .at(span.clone())
                .help("the only detail is `due`: the finding quotes the decision's deadline"),
            );
            false
        }
    };
    if diagnostics.len() > before {
        return None;
    }
    Some(Rule {
        severity: severity?,
        field,
        detail_due,
    })
}

/// A comma-separated annotation as a list; absent means empty.
fn list_annotation(policy: &cedar_policy::Policy, key: &str) -> Vec<String> {
    policy
        .annotation(key)
        .map(|c| {
            c.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a Cedar-style duration: digits followed by `d`, `h`, `m`, `s` or `ms`, repeated.
pub fn parse_due(text: &str) -> Option<jiff::SignedDuration> {
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit_ms, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.chars().next() {
                Some('d') => (86_400_000, 1),
                Some('h') => (3_600_000, 1),
                Some('m') => (60_000, 1),
                Some('s') => (1_000, 1),
                _ => return None,
            }
        };
        total = n
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or(())
            .ok()?;
        rest = &rest[len..];
    }
    Some(jiff::SignedDuration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default pack's schema and policies, with `extra.cedar` added.
    fn pack_with(extra: &str) -> PolicySources {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut sources = crate::load::load_policies(&root).expect("default pack");
        sources
            .policies
            .push(SourceFile::new("policies/extra.cedar", extra.to_string()));
        sources
    }

    /// A decision policy on devices whose condition is `condition`.
    fn device_policy(condition: &str) -> String {
        format!(
            "@id(\"deep\")\n@description(\"nests\")\n@control(\"TEST\")\npermit (principal, action == Severance::Action::\"review\", resource is Severance::Device)\nwhen {{\n  {condition}\n}};\n"
        )
    }

    fn codes(diagnostics: &[Diagnostic]) -> Vec<(Code, String)> {
        diagnostics
            .iter()
            .map(|d| {
                let at = d.span.as_ref().map(ToString::to_string).unwrap_or_default();
                (d.code, at)
            })
            .collect()
    }

    /// The limits are generous for real packs: measured here, and quoted in
    /// `nesting.rs` and docs/policies.md.
    #[test]
    fn the_default_pack_nests_well_within_the_limits() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let sources = crate::load::load_policies(&root).expect("default pack");
        let deepest = sources
            .policies
            .iter()
            .map(|f| nesting::check(&f.text, nesting::POLICY).expect("within limits"))
            .fold((0, 0), |(b, i), (fb, fi)| (b.max(fb), i.max(fi)));
        assert_eq!(deepest, (4, 5));
        let schema = nesting::check(&sources.schema.text, nesting::SCHEMA).expect("within limits");
        assert_eq!(schema, (3, 0));
    }

    /// Every string the default pack compares an attribute with, as
    /// `(attribute, value)`: the vocabulary docs/inventory.md must list.
    fn compared_values(expr: &serde_json::Value, out: &mut Vec<(String, String)>) {
        use serde_json::Value;
        // An attribute beside a string (`resource.status == "lost"`, either
        // way round) or inside a set of them
        // (`["returned", "wiping"].contains(resource.status)`).
        let literals = |v: &Value| -> Vec<String> {
            let one = |v: &Value| v.get("Value").and_then(Value::as_str).map(str::to_string);
            match v.get("Set").and_then(Value::as_array) {
                Some(set) => set.iter().filter_map(one).collect(),
                None => one(v).into_iter().collect(),
            }
        };
        let pairs = ["==", "!="]
            .into_iter()
            .filter_map(|op| expr.get(op))
            .flat_map(|c| {
                [
                    (c.get("left"), c.get("right")),
                    (c.get("right"), c.get("left")),
                ]
            })
            .chain(
                expr.get("contains")
                    .map(|c| (c.get("right"), c.get("left"))),
            );
        for (attr, literal) in pairs {
            if let (Some(attr), Some(literal)) = (attr.and_then(attribute_path), literal) {
                let field = attr.rsplit('.').next().unwrap_or_default();
                out.extend(
                    literals(literal)
                        .into_iter()
                        .map(|v| (field.to_string(), v)),
                );
            }
        }
        match expr {
            Value::Object(map) => map.values().for_each(|v| compared_values(v, out)),
            Value::Array(items) => items.iter().for_each(|v| compared_values(v, out)),
            _ => {}
        }
    }

    /// A free-text field's values change decisions only where the pack
    /// compares them; the inventory author needs that list, and a policy
    /// that starts acting on a new value must bring its row.
    #[test]
    fn the_inventory_docs_list_every_value_the_pack_acts_on() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::load::load_policies(&root.join("policies")).expect("default pack");
        let mut compared = Vec::new();
        for file in &sources.policies {
            let set: cedar_policy::PolicySet = file.text.parse().expect("the pack parses");
            for policy in set.policies() {
                let json = policy.to_json().expect("JSON form");
                compared_values(&json, &mut compared);
            }
        }
        compared.sort();
        compared.dedup();
        assert!(compared.len() > 20, "{compared:?}");
        let doc = std::fs::read_to_string(root.join("docs/inventory.md")).expect("doc");
        let section = doc
            .split("## Values that change decisions")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("the section");
        let rows: Vec<Vec<&str>> = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| kind"))
            .map(|l| l.split('|').map(str::trim).collect())
            .collect();
        let missing: Vec<String> = compared
            .iter()
            .filter(|(field, value)| {
                !rows.iter().any(|row| {
                    row.get(2)
                        .is_some_and(|f| f.trim_matches('`').ends_with(field.as_str()))
                        && row
                            .get(3)
                            .is_some_and(|v| v.contains(&format!("`{value}`")))
                })
            })
            .map(|(field, value)| format!("{field} = {value}"))
            .collect();
        assert!(missing.is_empty(), "docs/inventory.md lacks: {missing:?}");
    }

    /// 600 nested parentheses (1.3 KB) overflowed the stack in Cedar's
    /// parser and aborted every command; now it is a located finding.
    #[test]
    fn deep_brackets_are_refused_before_cedar_parses_them() {
        for (open, close) in [("(", ")"), ("[", "]")] {
            let deep = format!("{}true{}", open.repeat(600), close.repeat(600));
            let (pack, diagnostics) = validate_policies(pack_with(&device_policy(&deep)));
            assert!(pack.is_none());
            // `when {` is the first level; the 16th `(` is the 17th.
            assert_eq!(
                codes(&diagnostics),
                [(Code::PolicyTooDeep, "policies/extra.cedar:6:18".to_string())]
            );
            assert_eq!(
                diagnostics[0].message,
                "`policies/extra.cedar` nests brackets (`(`, `[`, `{`) more than 16 levels deep"
            );
        }
    }

    /// Nested `if`s whose condition is a constant made Cedar's level check
    /// double its time with each level (minutes at 28).
    #[test]
    fn deep_ifs_are_refused_before_cedar_validates_them() {
        let deep = (0..28).fold("resource.status == \"x\"".to_string(), |e, _| {
            format!("if true then {e} else false")
        });
        let (pack, diagnostics) = validate_policies(pack_with(&device_policy(&deep)));
        assert!(pack.is_none());
        let col = 3 + nesting::POLICY.ifs * "if true then ".len();
        assert_eq!(
            codes(&diagnostics),
            [(Code::PolicyTooDeep, format!("policies/extra.cedar:6:{col}"))]
        );
    }

    #[test]
    fn a_deeply_nested_schema_is_refused_before_cedar_parses_it() {
        let mut sources = pack_with("");
        sources.policies.pop();
        let text = sources.schema.text.replace(
            "entity Process;",
            &format!(
                "entity Process {{ deep: {}String{} }};",
                "{a: ".repeat(600),
                "}".repeat(600)
            ),
        );
        sources.schema = SourceFile::new("policies/schema.cedarschema", text);
        let (pack, diagnostics) = validate_policies(sources);
        assert!(pack.is_none());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].code, Code::PolicyTooDeep);
    }

    /// The deepest policies the limits allow parse and validate on a thread
    /// with the 2 MiB stack of a test thread, in whichever build runs this.
    #[test]
    fn the_deepest_policies_allowed_are_safe_on_a_small_stack() {
        let brackets = nesting::POLICY.brackets - 1; // `when {` is one
        let ifs = nesting::POLICY.ifs;
        let leaf = "resource.status == \"x\"";
        let shapes = [
            format!("{}{leaf}{}", "(".repeat(brackets), ")".repeat(brackets)),
            format!(
                "!({}{leaf}{}.isEmpty())",
                "[".repeat(brackets - 1),
                "]".repeat(brackets - 1)
            ),
            format!(
                "{}true{} has a",
                "{a: ".repeat(brackets),
                "}".repeat(brackets)
            ),
            // Both limits at once: each `if` inside brackets of its own.
            (0..ifs).fold(
                format!(
                    "{}{leaf}{}",
                    "(".repeat(brackets - ifs),
                    ")".repeat(brackets - ifs)
                ),
                |e, _| format!("if true then ({e}) else false"),
            ),
        ];
        for condition in shapes {
            let policy = device_policy(&condition);
            let result = std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || {
                    let (pack, diagnostics) = validate_policies(pack_with(&policy));
                    (pack.is_some(), codes(&diagnostics))
                })
                .expect("thread")
                .join()
                .expect("no overflow");
            assert_eq!(result, (true, vec![]), "{condition}");
        }
    }

    /// A template was dropped without a word: Cedar parses it into the
    /// set's templates, which nothing links.
    #[test]
    fn templates_are_refused_where_their_slot_is() {
        let template = "@id(\"slotted\")\n@description(\"a template\")\n@control(\"TEST\")\npermit (principal, action == Severance::Action::\"review\", resource == ?resource);\n";
        let (pack, diagnostics) = validate_policies(pack_with(template));
        assert!(pack.is_none());
        assert_eq!(
            codes(&diagnostics),
            [(
                Code::PolicyTemplate,
                "policies/extra.cedar:4:71".to_string()
            )]
        );
        assert_eq!(
            diagnostics[0].message,
            "policy `slotted` is a template, and severance links no templates"
        );
        let principal = "permit (principal in ?principal, action, resource);\n";
        let (_, diagnostics) = validate_policies(pack_with(principal));
        assert_eq!(
            codes(&diagnostics),
            [(
                Code::PolicyTemplate,
                "policies/extra.cedar:1:22".to_string()
            )]
        );
    }

    /// A `forbid` with no condition blocked every such action without a
    /// word; it is now a warning, and the pack still loads.
    #[test]
    fn an_unconditional_forbid_is_a_warning() {
        let forbid = |scope: &str, when: &str| {
            format!(
                "@id(\"block\")\n@description(\"blocks\")\n@control(\"TEST\")\nforbid (principal, {scope}){when};\n"
            )
        };
        let (pack, diagnostics) = validate_policies(pack_with(&forbid(
            "action == Severance::Action::\"revoke\", resource is Severance::Account",
            "",
        )));
        assert!(pack.is_some());
        assert_eq!(
            codes(&diagnostics),
            [(
                Code::UnconditionalForbid,
                "policies/extra.cedar:1:1".to_string()
            )]
        );
        assert_eq!(diagnostics[0].severity, crate::diag::Severity::Warning);
        assert_eq!(
            diagnostics[0].message,
            "policy `block` forbids `revoke` on every `Account`, unconditionally"
        );
        let (_, diagnostics) = validate_policies(pack_with(&forbid(
            "action in [Severance::Action::\"revoke\", Severance::Action::\"rotate\"], resource",
            "",
        )));
        assert_eq!(
            diagnostics[0].message,
            "policy `block` forbids `revoke`, `rotate` on every record, unconditionally"
        );
        // A condition, or a scope naming one record, is a deliberate block.
        for (scope, when) in [
            (
                "action == Severance::Action::\"revoke\", resource is Severance::Account",
                " when { resource.status == \"suspended\" }",
            ),
            (
                "action == Severance::Action::\"revoke\", resource == Severance::Account::\"account/okta/x\"",
                "",
            ),
        ] {
            let (pack, diagnostics) = validate_policies(pack_with(&forbid(scope, when)));
            assert!(pack.is_some(), "{diagnostics:#?}");
            assert_eq!(codes(&diagnostics), [], "{scope}{when}");
        }
    }

    /// The reads of the one policy of `extra.cedar` (a decision policy on
    /// devices whose condition is `condition`).
    fn reads_of(condition: &str) -> Vec<String> {
        let (pack, diagnostics) = validate_policies(pack_with(&device_policy(condition)));
        let pack = pack.unwrap_or_else(|| panic!("{diagnostics:#?}"));
        pack.info.get("deep").expect("the policy").reads.clone()
    }

    /// A path is as long as its chain of reads: a `has` test reads nothing,
    /// and a method call ends the chain it is called on.
    #[test]
    fn reads_are_the_chains_a_policy_follows() {
        assert_eq!(
            reads_of(
                "resource has assigned_to && resource.assigned_to.leaver && resource.tags.isEmpty() && resource.assigned_to has departure_at && context.now > resource.assigned_to.departure_at"
            ),
            [
                "resource.assigned_to.leaver",
                "resource.tags",
                "resource.assigned_to",
                "context.now",
                "resource.assigned_to.departure_at",
            ]
        );
    }

    /// The text of a policy also holds comments and strings; only what
    /// Cedar parsed as code counts.
    #[test]
    fn reads_in_comments_and_strings_are_not_reads() {
        assert_eq!(
            reads_of(
                "// resource.serial, context.now\n  resource.status == \"resource.location\" &&\n  resource.category == \"laptop\""
            ),
            ["resource.status", "resource.category"]
        );
    }

    #[test]
    fn leaver_paths_follow_links() {
        for good in [
            "owner",
            "known_to",
            "holder",
            "bound_to.assigned_to",
            "mdm.primary_user",
            "account.principal",
        ] {
            assert!(is_link_path(good), "{good}");
        }
        for bad in ["ownr", "mdm", "status", "owner.status", "bound_to.nothing"] {
            assert!(!is_link_path(bad), "{bad}");
        }
    }

    #[test]
    fn durations_parse_like_cedar() {
        assert_eq!(parse_due("24h"), Some(jiff::SignedDuration::from_hours(24)));
        assert_eq!(
            parse_due("1d12h"),
            Some(jiff::SignedDuration::from_hours(36))
        );
        assert_eq!(parse_due("90m"), Some(jiff::SignedDuration::from_mins(90)));
        assert!(parse_due("").is_none());
        assert!(parse_due("h").is_none());
        assert!(parse_due("3 days").is_none());
        assert!(parse_due("99999999999999999999d").is_none());
    }
}
