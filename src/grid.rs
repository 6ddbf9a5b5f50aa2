//! `docs/decisions.md`, computed: every record kind, in every lifecycle
//! status, linked to a leaver in every way the schema allows, is decided by
//! a policy pack and rendered as tables, so that what the default pack
//! decides is read off the pack itself, never written by hand, and a test
//! fails when a policy changes a cell.
//!
//! Each cell is the record under test, the records it is bound to, and the
//! person it is linked to: a leaver, or for the person grid someone in each
//! other status HR can give. An active colleague fills every other
//! accountable slot. Cells are validated one file each, so that a
//! combination the model refuses is listed as refused rather than dropped,
//! then decided together through the library's own stages at a pinned
//! instant.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::decide::{Decision, Effect, Status};
use crate::diag::{Severity, SourceFile};
use crate::evaluate::Evaluation;
use crate::load::{Limits, RawInventory};
use crate::model::{FieldSpec, FieldType, Kind, ToCedar, parse_time};
use crate::validate::{Inventory, PolicyPack};

/// The instant every cell is decided at.
pub const AS_OF: &str = "2026-11-25T09:00:00Z";
/// Two days before [`AS_OF`]: in use.
const RECENT: &str = "2026-11-23T03:00:00Z";
/// Months before [`AS_OF`]: unused.
const LONG_AGO: &str = "2026-07-01T00:00:00Z";
/// After the leaver's departure: a sign-in then is an incident.
const AFTER_DEPARTURE: &str = "2026-11-20T22:00:00Z";

/// Why a grid could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridError(pub String);

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GridError {}

/// A status HR can give the person a record is linked to.
#[derive(Debug)]
pub struct PersonState {
    /// The person grid's column heading.
    pub short: &'static str,
    /// What the heading stands for.
    pub label: &'static str,
    /// The person's YAML fields after `kind`, `id` and `employee_number`;
    /// `$A` is the record's team, `$B` another, `$C` the colleague.
    fields: &'static str,
    /// Why nothing is due, when this person has not left.
    note: Option<&'static str>,
}

/// The person of the main grid: terminated, departed before [`AS_OF`].
pub const LEAVER: usize = 0;

/// Every person status the policies tell apart, the main leaver first.
pub const PERSON_STATES: &[PersonState] = &[
    PersonState {
        short: "departed",
        label: "terminated, departed 2026-11-06 (the leaver of the tables above)",
        fields: "status: terminated, team: $A, employments: [{start: 2020-01-06, termination: {effective: 2026-11-06T00:00:00Z, reason_category: voluntary}}]",
        note: None,
    },
    PersonState {
        short: "immediate",
        label: "terminated at once (`immediate: true`), 2026-11-06",
        fields: "status: terminated, team: $A, employments: [{start: 2020-01-06, termination: {effective: 2026-11-06T00:00:00Z, reason_category: involuntary, immediate: true}}]",
        note: None,
    },
    PersonState {
        short: "undated",
        label: "terminated with no date recorded: departed at the run's instant",
        fields: "status: terminated, team: $A, employments: [{start: 2020-01-06}]",
        note: None,
    },
    PersonState {
        short: "notice, passed",
        label: "`notice`, departure 2026-11-06 passed (HR not updated)",
        fields: "status: notice, team: $A, employments: [{start: 2020-01-06, termination: {effective: 2026-11-06T00:00:00Z, reason_category: voluntary}}]",
        note: None,
    },
    PersonState {
        short: "contract ended",
        label: "contractor past `contract_end` 2026-11-05, HR still `active`",
        fields: "status: active, worker_type: contractor, sponsor: $C, team: $A, employments: [{start: 2026-01-05, contract_end: 2026-11-05}]",
        note: None,
    },
    PersonState {
        short: "notice, ahead",
        label: "`notice`, departure 2026-12-18 ahead",
        fields: "status: notice, team: $A, employments: [{start: 2020-01-06, termination: {effective: 2026-12-18T00:00:00Z, reason_category: voluntary}}]",
        note: Some(
            "has not left yet: listed as an upcoming departure, and decided when the departure passes",
        ),
    },
    PersonState {
        short: "on leave",
        label: "`on_leave`",
        fields: "status: on_leave, team: $A, employments: [{start: 2020-01-06}]",
        note: Some("on leave, not leaving: what they hold stays theirs"),
    },
    PersonState {
        short: "mover",
        label: "`active`, moved out of the record's team 2026-11-05",
        fields: "status: active, team: $B, previous_team: $A, moved_at: 2026-11-05T00:00:00Z, employments: [{start: 2020-01-06}]",
        note: Some("a mover keeps what is theirs; what belongs to the team they left moves"),
    },
    PersonState {
        short: "active",
        label: "`active`",
        fields: "status: active, team: $A, employments: [{start: 2020-01-06}]",
        note: Some("has not left"),
    },
    PersonState {
        short: "pre-hire",
        label: "`pre_hire`",
        fields: "status: pre_hire, team: $A, employments: [{start: 2026-12-01}]",
        note: Some("has not started"),
    },
];

/// One lifecycle status of a record, with what else the case implies.
#[derive(Debug)]
pub struct StatusCase {
    /// The `status` value.
    pub status: &'static str,
    /// How the document names the case when the value alone does not.
    label: &'static str,
    /// Further fields the case sets (`idp_status: ACTIVE`).
    extra: &'static [(&'static str, &'static str)],
}

const fn status(status: &'static str) -> StatusCase {
    StatusCase {
        status,
        label: "",
        extra: &[],
    }
}

impl StatusCase {
    /// The name notes match on: the label, or the value.
    fn key(&self) -> &'static str {
        if self.label.is_empty() {
            self.status
        } else {
            self.label
        }
    }

    fn label(&self) -> String {
        if self.label.is_empty() {
            format!("`{}`", self.status)
        } else {
            self.label.to_string()
        }
    }
}

/// A shape of record that the policies treat apart: a device's ownership
/// and assignment mode, a credential's type.
#[derive(Debug)]
pub struct Variant {
    /// How the document names it.
    pub label: String,
    /// Its fields; `$C`, the colleague, fills every accountable slot that
    /// the relation under test does not.
    fields: Vec<(&'static str, String)>,
}

fn variant(label: impl Into<String>, fields: &[(&'static str, &str)]) -> Variant {
    Variant {
        label: label.into(),
        fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

/// A way a record relates to the person under test.
pub struct Relation {
    /// How the document names it.
    pub label: &'static str,
    /// The person link it sets, as a `@leaver` path (`bound_to.owner`).
    pub path: &'static str,
    /// Sets what else the relation says; a direct link (`path` a field of
    /// the kind) is set to the person, `$S`, before it.
    apply: fn(&mut Cell),
}

fn rel(label: &'static str, path: &'static str, apply: fn(&mut Cell)) -> Relation {
    Relation { label, path, apply }
}

/// A relation that is the link alone.
fn link(label: &'static str, path: &'static str) -> Relation {
    rel(label, path, |_| {})
}

/// Why nothing is due in the cells it covers: the register of what is
/// retained on purpose. An empty list matches everything.
pub struct Note {
    variants: &'static [&'static str],
    statuses: &'static [&'static str],
    relations: &'static [&'static str],
    /// The reason, as the document prints it.
    pub text: &'static str,
}

const fn note(
    variants: &'static [&'static str],
    statuses: &'static [&'static str],
    relations: &'static [&'static str],
    text: &'static str,
) -> Note {
    Note {
        variants,
        statuses,
        relations,
        text,
    }
}

/// A note for every cell in one of `statuses`.
const fn in_status(statuses: &'static [&'static str], text: &'static str) -> Note {
    note(&[], statuses, &[], text)
}

/// A note for every cell related to the person by `relation` (a label).
const fn by_relation(relation: &'static [&'static str], text: &'static str) -> Note {
    note(&[], &[], relation, text)
}

impl Note {
    fn covers(&self, grid: &KindGrid, spec: &CellSpec) -> bool {
        let hit = |list: &[&str], name: &str| list.is_empty() || list.contains(&name);
        hit(self.variants, &grid.variants[spec.variant].label)
            && hit(self.statuses, grid.statuses[spec.status].key())
            && hit(self.relations, grid.relations[spec.relation].label)
    }
}

/// The record under test and the records it is bound to, as YAML fields
/// with placeholders: `$S` the person under test, `$C` the colleague, `$A`
/// and `$B` the teams, `$N` the cell's own prefix.
pub struct Cell {
    fields: Vec<(&'static str, String)>,
    aux: Vec<String>,
}

impl Cell {
    fn set(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Links the record under test through `field` to a record of its own,
    /// of `kind`, with `fields`.
    fn bind(&mut self, field: &'static str, kind: &str, fields: &str) {
        let id = format!("{kind}/$N/{field}");
        self.aux
            .push(format!("{{kind: {kind}, id: {id}, {fields}}}"));
        self.set(field, id);
    }
}

/// Everything the grid varies for one kind.
pub struct KindGrid {
    /// The kind.
    pub kind: Kind,
    /// The section's title.
    pub title: &'static str,
    /// Shapes of record.
    pub variants: Vec<Variant>,
    /// Lifecycle statuses, the one in use first.
    pub statuses: Vec<StatusCase>,
    /// Statuses that are evidence the work on the record is done (access
    /// gone, device sanitized): a due action may end there, and only there.
    pub done: &'static [&'static str],
    /// Statuses that are evidence one policy's work is done, beyond
    /// [`KindGrid::done`]: a device back with IT answers who holds it.
    pub settled: &'static [(&'static str, &'static [&'static str])],
    /// Ways to relate to the person.
    pub relations: Vec<Relation>,
    /// Why nothing is due where nothing is, first match first.
    pub notes: &'static [Note],
}

/// The values of an enum field of a kind, so that a new type in the model
/// is a new row here without anyone adding it.
fn enum_values(kind: Kind, field: &str) -> &'static [&'static str] {
    match kind.field(field).map(|f| &f.ty) {
        Some(FieldType::Enum(values)) => values,
        _ => &[],
    }
}

/// The model's statuses of a kind, the one in use first: the person grid
/// holds the record in it.
fn live_first(kind: Kind, live: &'static str) -> Vec<StatusCase> {
    std::iter::once(live)
        .chain(kind.statuses().iter().copied().filter(|s| *s != live))
        .map(status)
        .collect()
}

// The register of what is retained on purpose: the relations and
// variants notes name, and for each kind the reasons nothing is due where
// nothing is. A retain no note covers has no stated reason, and fails.

const LAPTOP: &str = "laptop (company, individual)";
const PHONE: &str = "phone (personal, BYOD)";
const KIOSK: &str = "kiosk (company, shared)";
const LAB: &str = "lab system (company, lab)";
const MDM_LEAVER: &str = "`mdm.primary_user`; the register names a colleague";
const COLLEAGUE_SEEN: &str = "`assigned_to`; a colleague used it this week (`mdm.primary_user`)";
const SIGNED_IN_AFTER: &str = "`principal`; signed in after the departure";
const APPROVED_BY: &str = "`approved_by`";
const NHI_SUCCESSOR: &str = "`backup_owner` (the successor)";
const NHI_CREATOR: &str = "`created_by`";
const CRED_CREATOR_OWNED: &str = "`created_by`, an active `owner`";
const CRED_SUCCESSOR: &str = "`bound_to` an NHI it is the `backup_owner` of";
const CRED_CUSTODIAN: &str = "`bound_to` a shared device it is `custodian` of";

/// Device statuses in which nobody holds the device: back with IT, or
/// lost or stolen. They answer who holds it.
const NOBODY_HOLDS: &[&str] = &[
    "in_stock",
    "returned",
    "quarantined",
    "wiping",
    "lost",
    "stolen",
];
const EPHEMERAL: &str = "ephemeral, within its TTL";
const WORKLOAD_LAUNCHER_OWNED: &str = "`launched_by`, an active `owner`";

/// Why nothing is due where nothing is, for devices.
const DEVICE_NOTES: &[Note] = &[
    in_status(
        &["redeployable", "archived"],
        "sanitized (`redeployable`) or disposed of (`archived`): nothing of the leaver's is on it",
    ),
    note(
        &[KIOSK, LAB],
        &[],
        &[MDM_LEAVER],
        "a shared or lab device has many users: the last one device management saw is not accountable for it, its custodian is",
    ),
    note(
        &[],
        NOBODY_HOLDS,
        &[MDM_LEAVER],
        "nobody holds it now (it is back with IT, or lost or stolen): the user device management last saw has nothing to give back",
    ),
];

/// Why nothing is due where nothing is, for accounts.
const ACCOUNT_NOTES: &[Note] = &[in_status(
    &["disabled", "deleted"],
    "disabled or deleted: nobody signs in to it",
)];

/// Why nothing is due where nothing is, for grants.
const GRANT_NOTES: &[Note] = &[
    in_status(
        &["revoked", "expired"],
        "removed or lapsed: it grants nothing",
    ),
    by_relation(
        &[APPROVED_BY],
        "approving an entitlement gives the approver no access; its holder, an active colleague, keeps it",
    ),
];

/// Why nothing is due where nothing is, for non-human identities.
const NHI_NOTES: &[Note] = &[
    in_status(
        &["decommissioned"],
        "decommissioned: no access left, and nothing to hand over",
    ),
    by_relation(
        &[NHI_SUCCESSOR],
        "the successor leaving takes nothing away: the owner, an active colleague, is still accountable (the `nhi-backup-owner-missing` check asks for a new successor)",
    ),
    by_relation(
        &[NHI_CREATOR],
        "creating an identity gives no access to it: its owner, an active colleague, is accountable, and a creator who saw its secrets is listed in `known_to`",
    ),
];

/// Why nothing is due where nothing is, for credentials.
const CREDENTIAL_NOTES: &[Note] = &[
    in_status(
        &["revoked", "expired", "rotated"],
        "revoked, expired or rotated: the secret the leaver had no longer works",
    ),
    by_relation(
        &[CRED_CREATOR_OWNED],
        "it authenticates its owner, an active colleague; a creator who kept the secret is listed in `known_to`, and it is then rotated",
    ),
    by_relation(
        &[CRED_SUCCESSOR],
        "the successor leaving takes nothing away: the identity's owner, an active colleague, is still accountable",
    ),
    by_relation(
        &[CRED_CUSTODIAN],
        "a device's own secret follows who created or saw it (`created_by`, `known_to`); the device itself gets a new custodian",
    ),
];

/// Why nothing is due where nothing is, for workloads.
const WORKLOAD_NOTES: &[Note] = &[
    in_status(&["terminated"], "terminated: it no longer runs"),
    by_relation(
        &[WORKLOAD_LAUNCHER_OWNED],
        "launching a workload gives no access to it: its owner, an active colleague, is accountable",
    ),
    note(
        &[EPHEMERAL],
        &[],
        &[],
        "ephemeral: it ends by itself at its TTL (`expires_at`), and is revoked if it outlives it (`ephemeral-workload-expired-revoke`)",
    ),
];

fn devices() -> KindGrid {
    KindGrid {
        kind: Kind::Device,
        title: "Devices",
        variants: vec![
            variant(
                LAPTOP,
                &[
                    ("category", "laptop"),
                    ("ownership", "company"),
                    ("assignment_mode", "individual"),
                    ("assigned_to", "$C"),
                ],
            ),
            variant(
                PHONE,
                &[
                    ("category", "phone"),
                    ("ownership", "personal"),
                    ("assignment_mode", "individual"),
                    ("assigned_to", "$C"),
                ],
            ),
            variant(
                KIOSK,
                &[
                    ("category", "kiosk"),
                    ("ownership", "company"),
                    ("assignment_mode", "shared"),
                    ("custodian", "$C"),
                ],
            ),
            variant(
                LAB,
                &[
                    ("category", "lab_system"),
                    ("ownership", "company"),
                    ("assignment_mode", "lab"),
                    ("custodian", "$C"),
                ],
            ),
        ],
        statuses: live_first(Kind::Device, "deployed"),
        done: &["redeployable", "archived"],
        settled: &[("leaver-last-user-device-review", NOBODY_HOLDS)],
        relations: vec![
            link("`assigned_to`", "assigned_to"),
            rel(COLLEAGUE_SEEN, "assigned_to", |c| {
                c.set(
                    "mdm",
                    format!("{{provider: intune, primary_user: $C, last_checkin: {RECENT}}}"),
                );
            }),
            rel(
                "`assigned_to`; silent in device management since July",
                "assigned_to",
                |c| {
                    c.set(
                        "mdm",
                        format!("{{provider: intune, primary_user: $S, last_checkin: {LONG_AGO}}}"),
                    );
                },
            ),
            link("`custodian`", "custodian"),
            rel(MDM_LEAVER, "mdm.primary_user", |c| {
                c.set(
                    "mdm",
                    format!("{{provider: intune, primary_user: $S, last_checkin: {RECENT}}}"),
                );
            }),
        ],
        notes: DEVICE_NOTES,
    }
}

fn accounts() -> KindGrid {
    KindGrid {
        kind: Kind::Account,
        title: "Accounts",
        variants: vec![
            variant(
                "human",
                &[
                    ("system", "okta"),
                    ("account_type", "human"),
                    ("principal", "$C"),
                ],
            ),
            variant(
                "service",
                &[
                    ("system", "aws-prod"),
                    ("account_type", "service"),
                    ("owner", "$C"),
                ],
            ),
            variant(
                "shared (break-glass)",
                &[
                    ("system", "aws-prod"),
                    ("account_type", "shared"),
                    ("privileged", "true"),
                    ("owner", "$C"),
                ],
            ),
        ],
        statuses: vec![
            status("enabled"),
            status("suspended"),
            status("disabled"),
            StatusCase {
                status: "disabled",
                label: "`disabled`, identity provider still `ACTIVE`",
                extra: &[("idp_status", "ACTIVE")],
            },
            status("deleted"),
        ],
        done: &["disabled", "deleted"],
        settled: &[],
        relations: vec![
            link("`principal`", "principal"),
            rel(SIGNED_IN_AFTER, "principal", |c| {
                c.set("last_login", AFTER_DEPARTURE);
            }),
            link("`owner`", "owner"),
            link("`known_to` (knows the password)", "known_to"),
        ],
        notes: ACCOUNT_NOTES,
    }
}

fn grants() -> KindGrid {
    KindGrid {
        kind: Kind::Grant,
        title: "Grants",
        variants: vec![
            variant(
                "privileged, standing",
                &[
                    ("system", "aws-prod"),
                    ("entitlement", "AdministratorAccess"),
                    ("privileged", "true"),
                    ("mode", "standing"),
                    ("team", "$A"),
                ],
            ),
            variant(
                "not privileged, through a group",
                &[
                    ("system", "jira"),
                    ("entitlement", "jira-users"),
                    ("mode", "group"),
                    ("team", "$A"),
                ],
            ),
        ],
        statuses: live_first(Kind::Grant, "active"),
        done: &["revoked", "expired"],
        settled: &[],
        relations: vec![
            rel("holder (the `principal` of its `account`)", "holder", |c| {
                c.bind(
                    "account",
                    "account",
                    "system: okta, account_type: human, principal: $S, status: enabled",
                );
            }),
            rel(APPROVED_BY, "approved_by", |c| {
                c.bind(
                    "account",
                    "account",
                    "system: okta, account_type: human, principal: $C, status: enabled",
                );
            }),
        ],
        notes: GRANT_NOTES,
    }
}

fn nhis() -> KindGrid {
    KindGrid {
        kind: Kind::Nhi,
        title: "Non-human identities",
        variants: enum_values(Kind::Nhi, "nhi_type")
            .iter()
            .map(|t| {
                let mut v = variant(
                    format!("`{t}`"),
                    &[
                        ("nhi_type", t),
                        ("owner", "$C"),
                        ("owning_team", "$A"),
                        ("environments", "[prod]"),
                    ],
                );
                v.fields.push(("last_used", RECENT.to_string()));
                v
            })
            .collect(),
        statuses: live_first(Kind::Nhi, "active"),
        done: &["decommissioned"],
        settled: &[],
        relations: vec![
            rel("`owner`, with an active `backup_owner`", "owner", |c| {
                c.set("backup_owner", "$C");
            }),
            link("`owner`, no `backup_owner`", "owner"),
            link(NHI_SUCCESSOR, "backup_owner"),
            link(NHI_CREATOR, "created_by"),
            link("`consented_by`, used this week", "consented_by"),
            rel("`consented_by`, unused since July", "consented_by", |c| {
                c.set("last_used", LONG_AGO);
            }),
            link("`known_to` (saw its secrets)", "known_to"),
            rel(
                "`known_to`, and people sign in as it (`interactive_use`)",
                "known_to",
                |c| {
                    c.set("interactive_use", "true");
                },
            ),
        ],
        notes: NHI_NOTES,
    }
}

fn credentials() -> KindGrid {
    let mut variants: Vec<Variant> = enum_values(Kind::Credential, "cred_type")
        .iter()
        .map(|t| variant(format!("`{t}`"), &[("cred_type", t)]))
        .collect();
    // The one purpose a policy tells apart: revoking a code-signing
    // certificate would invalidate software already shipped.
    variants.push(variant(
        "`certificate`, `purpose: code_signing`",
        &[("cred_type", "certificate"), ("purpose", "code_signing")],
    ));
    for v in &mut variants {
        v.fields.push(("last_used", LONG_AGO.to_string()));
    }
    KindGrid {
        kind: Kind::Credential,
        title: "Credentials",
        variants,
        statuses: live_first(Kind::Credential, "active"),
        done: &["revoked", "expired", "rotated"],
        settled: &[],
        relations: vec![
            link("`owner`", "owner"),
            rel("`owner`; used in production this week", "owner", |c| {
                c.set("environments", "[prod]");
                c.set("last_used", RECENT);
            }),
            link("`created_by`, no `owner`", "created_by"),
            rel(
                "`created_by`, no `owner`; used in production this week",
                "created_by",
                |c| {
                    c.set("environments", "[prod]");
                    c.set("last_used", RECENT);
                },
            ),
            rel(CRED_CREATOR_OWNED, "created_by", |c| {
                c.set("owner", "$C");
            }),
            rel(
                "`known_to` (saw the secret), an active `owner`",
                "known_to",
                |c| {
                    c.set("owner", "$C");
                },
            ),
            rel(
                "`bound_to` an NHI it `owner`s, with an active `backup_owner`",
                "bound_to.owner",
                |c| {
                    c.bind(
                        "bound_to",
                        "nhi",
                        "nhi_type: service_account, owner: $S, backup_owner: $C, status: active",
                    );
                },
            ),
            rel(
                "`bound_to` an NHI it `owner`s, no `backup_owner`",
                "bound_to.owner",
                |c| {
                    c.bind(
                        "bound_to",
                        "nhi",
                        "nhi_type: service_account, owner: $S, status: active",
                    );
                },
            ),
            rel(CRED_SUCCESSOR, "bound_to.backup_owner", |c| {
                c.bind(
                    "bound_to",
                    "nhi",
                    "nhi_type: service_account, owner: $C, backup_owner: $S, status: active",
                );
            }),
            rel(
                "`bound_to` its account (`principal`)",
                "bound_to.principal",
                |c| {
                    c.bind(
                        "bound_to",
                        "account",
                        "system: okta, account_type: human, principal: $S, status: enabled",
                    );
                },
            ),
            rel(
                "`bound_to` its device (`assigned_to`)",
                "bound_to.assigned_to",
                |c| {
                    c.bind("bound_to", "device", "category: laptop, assignment_mode: individual, assigned_to: $S, status: deployed");
                },
            ),
            rel(CRED_CUSTODIAN, "bound_to.custodian", |c| {
                c.bind(
                    "bound_to",
                    "device",
                    "category: kiosk, assignment_mode: shared, custodian: $S, status: deployed",
                );
            }),
            rel(
                "`created_by`, `bound_to` a shared device",
                "created_by",
                |c| {
                    c.bind(
                        "bound_to",
                        "device",
                        "category: kiosk, assignment_mode: shared, custodian: $C, status: deployed",
                    );
                },
            ),
            rel("`bound_to` a workload it `owner`s", "bound_to.owner", |c| {
                c.bind(
                    "bound_to",
                    "workload",
                    "provider: aws, owner: $S, status: running",
                );
            }),
            rel(
                "`bound_to` a workload it `launched_by`, no owner",
                "bound_to.launched_by",
                |c| {
                    c.bind(
                        "bound_to",
                        "workload",
                        "provider: aws, launched_by: $S, status: running",
                    );
                },
            ),
        ],
        notes: CREDENTIAL_NOTES,
    }
}

fn workloads() -> KindGrid {
    KindGrid {
        kind: Kind::Workload,
        title: "Workloads",
        variants: vec![
            variant(
                "long-lived",
                &[("provider", "aws"), ("environments", "[prod]")],
            ),
            variant(
                EPHEMERAL,
                &[
                    ("provider", "aws"),
                    ("ephemeral", "true"),
                    ("expires_at", "2026-12-20T00:00:00Z"),
                ],
            ),
            variant(
                "ephemeral, past its TTL",
                &[
                    ("provider", "aws"),
                    ("ephemeral", "true"),
                    ("expires_at", "2026-11-20T00:00:00Z"),
                ],
            ),
        ],
        statuses: vec![
            status("running"),
            status("pending"),
            status("stopped"),
            status("terminated"),
        ],
        done: &["terminated"],
        settled: &[],
        relations: vec![
            link("`owner`", "owner"),
            link("`launched_by`, no `owner`", "launched_by"),
            rel(WORKLOAD_LAUNCHER_OWNED, "launched_by", |c| {
                c.set("owner", "$C");
            }),
        ],
        notes: WORKLOAD_NOTES,
    }
}

/// Every decided kind's grid, in the model's order.
pub fn kinds() -> Vec<KindGrid> {
    vec![
        devices(),
        accounts(),
        grants(),
        nhis(),
        credentials(),
        workloads(),
    ]
}

/// One cell: a record of a kind, variant and status, related in one way
/// to a person in one of [`PERSON_STATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellSpec {
    /// Index into [`kinds`].
    pub kind: usize,
    /// Index into the kind's variants.
    pub variant: usize,
    /// Index into the kind's statuses.
    pub status: usize,
    /// Index into the kind's relations.
    pub relation: usize,
    /// Index into [`PERSON_STATES`].
    pub person: usize,
}

/// What the pack made of one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The model refuses the combination: the finding's code.
    Refused(String),
    /// The decision.
    Decided(Row),
}

/// A forbid that blocked an action a permit asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The action.
    pub action: String,
    /// The forbids, by `@id`.
    pub forbids: Vec<String>,
    /// The permits they overrode.
    pub permits: Vec<String>,
}

/// A decision, reduced to what the document prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Due actions, access first; empty means retain.
    pub actions: Vec<String>,
    /// The permits behind the due actions, each once.
    pub permits: Vec<String>,
    /// What forbids blocked.
    pub blocks: Vec<Block>,
    /// What forbids hold against though nothing asked for it: action and
    /// forbids (the decision's constraints).
    pub constraints: Vec<(String, Vec<String>)>,
    /// Each due action's deadline after the person's departure (or move),
    /// when it has one.
    pub due: Vec<(String, SignedDuration)>,
    /// Why nothing is due, when nothing is: the person's, then the kind's
    /// notes (`None`: no stated reason).
    pub retained_because: Option<&'static str>,
    /// A policy failed to evaluate.
    pub error: bool,
}

impl Row {
    /// Nothing is due and nothing failed.
    pub fn is_retain(&self) -> bool {
        self.actions.is_empty() && !self.error
    }
}

/// A decision policy as the document cites it.
#[derive(Debug, Clone)]
struct Cited {
    description: String,
    controls: Vec<String>,
    effect: Effect,
    due: Option<SignedDuration>,
}

/// The decided grid.
pub struct Grid {
    /// The kinds, variants, statuses and relations.
    pub kinds: Vec<KindGrid>,
    /// Every cell and its outcome.
    pub cells: BTreeMap<CellSpec, Outcome>,
    /// The pack's decision policies, by `@id`.
    policies: BTreeMap<String, Cited>,
}

impl Grid {
    /// The kind grid of a cell.
    pub fn kind(&self, cell: &CellSpec) -> &KindGrid {
        &self.kinds[cell.kind]
    }

    /// Every decided cell.
    pub fn decided(&self) -> impl Iterator<Item = (&CellSpec, &Row)> {
        self.cells.iter().filter_map(|(c, o)| match o {
            Outcome::Decided(row) => Some((c, row)),
            Outcome::Refused(_) => None,
        })
    }
}

/// Every cell: the main grid (each status, the person a leaver) and the
/// person grid (the record in use, the person in each other status).
fn cell_specs(kinds: &[KindGrid]) -> Vec<CellSpec> {
    let mut cells = Vec::new();
    for (kind, grid) in kinds.iter().enumerate() {
        for variant in 0..grid.variants.len() {
            for relation in 0..grid.relations.len() {
                for status in 0..grid.statuses.len() {
                    cells.push(CellSpec {
                        kind,
                        variant,
                        status,
                        relation,
                        person: LEAVER,
                    });
                }
                for person in 1..PERSON_STATES.len() {
                    cells.push(CellSpec {
                        kind,
                        variant,
                        status: 0,
                        relation,
                        person,
                    });
                }
            }
        }
    }
    cells
}

fn tag(n: usize) -> String {
    format!("g{n}")
}

/// The people and teams every cell links to: two teams, the colleague,
/// and one person in each of [`PERSON_STATES`]. Cells share them because
/// a person's entity carries nothing about the records that name them, so
/// no cell can see another; the records a record is bound to are its own.
fn people_yaml() -> String {
    let mut out = String::from(
        "- {kind: team, id: team/a, status: active}\n\
         - {kind: team, id: team/b, status: active}\n\
         - {kind: person, id: person/colleague, employee_number: C, status: active, team: team/a, employments: [{start: 2018-01-01}]}\n",
    );
    for (p, state) in PERSON_STATES.iter().enumerate() {
        let _ = writeln!(
            out,
            "- {{kind: person, id: person/p{p}, employee_number: P{p}, {}}}",
            state
                .fields
                .replace("$A", "team/a")
                .replace("$B", "team/b")
                .replace("$C", "person/colleague")
        );
    }
    out
}

/// The YAML of one cell: the record under test and what it is bound to.
fn cell_yaml(kinds: &[KindGrid], spec: &CellSpec, n: usize) -> String {
    let grid = &kinds[spec.kind];
    let case = &grid.statuses[spec.status];
    let mut cell = Cell {
        fields: grid.variants[spec.variant].fields.clone(),
        aux: Vec::new(),
    };
    for (name, value) in case.extra {
        cell.set(name, *value);
    }
    let relation = &grid.relations[spec.relation];
    match grid.kind.field(relation.path).map(|f| &f.ty) {
        Some(FieldType::Link(_)) => cell.set(relation.path, "$S"),
        Some(FieldType::Links(_)) => cell.set(relation.path, "[$S]"),
        _ => {}
    }
    (relation.apply)(&mut cell);
    let mut out = format!(
        "- {{kind: {}, id: {}/$N, status: {}",
        grid.kind, grid.kind, case.status
    );
    for (name, value) in &cell.fields {
        let _ = write!(out, ", {name}: {value}");
    }
    out.push_str("}\n");
    for aux in &cell.aux {
        let _ = writeln!(out, "- {aux}");
    }
    out.replace("$S", &format!("person/p{}", spec.person))
        .replace("$C", "person/colleague")
        .replace("$A", "team/a")
        .replace("$B", "team/b")
        .replace("$N", &tag(n))
}

fn raw_inventory(files: Vec<Arc<SourceFile>>) -> RawInventory {
    RawInventory {
        files,
        limits: Limits::default(),
        diagnostics: Vec::new(),
        waivers: None,
        snapshots: Vec::new(),
    }
}

/// Loads and validates the policy pack in `dir`.
pub fn load_pack(dir: &Path) -> Result<PolicyPack, GridError> {
    let sources = crate::load::load_policies(dir).map_err(|e| GridError(e.to_string()))?;
    let (pack, diagnostics) = crate::validate::validate_policies(sources);
    pack.ok_or_else(|| {
        GridError(
            diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// Decides every cell of the grid with the pack in `policies`.
pub fn decide_grid(policies: &Path) -> Result<Grid, GridError> {
    let pack = load_pack(policies)?;
    let kinds = kinds();
    let specs = cell_specs(&kinds);
    let people = SourceFile::new("people.yaml", people_yaml());
    let cells: Vec<Arc<SourceFile>> = specs
        .iter()
        .enumerate()
        .map(|(n, spec)| SourceFile::new(format!("{}.yaml", tag(n)), cell_yaml(&kinds, spec, n)))
        .collect();
    let inventory = |keep: &dyn Fn(&str) -> bool| {
        let mut files = vec![Arc::clone(&people)];
        files.extend(cells.iter().filter(|f| keep(&f.path)).map(Arc::clone));
        crate::validate::validate_inventory(raw_inventory(files))
    };
    // A combination the model refuses is a finding in its cell's file:
    // note it, and decide the other cells without it.
    let (_, diagnostics) = inventory(&|_| true);
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        match &d.span {
            Some(span) if span.file.path != people.path => {
                refused
                    .entry(span.file.path.clone())
                    .or_insert_with(|| d.code.as_str().to_string());
            }
            _ => return Err(GridError(format!("the grid's people: {}", d.message))),
        }
    }
    let (valid, diagnostics) = inventory(&|path| !refused.contains_key(path));
    let valid = valid.ok_or_else(|| {
        GridError(format!(
            "the grid does not validate: {:?}",
            diagnostics.first().map(|d| &d.message)
        ))
    })?;
    let as_of = parse_time(AS_OF).map_err(GridError)?;
    let evaluation =
        crate::evaluate::evaluate(&valid, &pack, as_of).map_err(|e| GridError(e.to_string()))?;
    let plan = crate::decide::decide(&valid, &pack, &evaluation);
    let by_subject: BTreeMap<&str, &Decision> = plan
        .decisions
        .iter()
        .map(|d| (d.subject.as_str(), d))
        .collect();
    let starts: Vec<Option<Timestamp>> = (0..PERSON_STATES.len())
        .map(|p| {
            let person = valid.index.get(&format!("person/p{p}")).copied()?;
            clock_start(&valid, &evaluation, person)
        })
        .collect();
    let mut outcomes = BTreeMap::new();
    for (n, spec) in specs.iter().enumerate() {
        let t = tag(n);
        if let Some(code) = refused.get(&format!("{t}.yaml")) {
            outcomes.insert(*spec, Outcome::Refused(code.clone()));
            continue;
        }
        let grid = &kinds[spec.kind];
        let subject = format!("{}/{t}", grid.kind);
        let decision = by_subject
            .get(subject.as_str())
            .ok_or_else(|| GridError(format!("no decision for `{subject}`")))?;
        let mut row = row(decision, starts[spec.person]);
        if row.is_retain() {
            row.retained_because = retained_because(grid, spec);
        }
        outcomes.insert(*spec, Outcome::Decided(row));
    }
    let policies = pack
        .info
        .iter()
        .filter(|(_, i)| i.rule.is_none())
        .map(|(id, i)| {
            let effect = match i.effect {
                cedar_policy::Effect::Permit => Effect::Permit,
                cedar_policy::Effect::Forbid => Effect::Forbid,
            };
            let cited = Cited {
                description: i.description.clone(),
                controls: i.controls.clone(),
                effect,
                due: i.due,
            };
            (id.clone(), cited)
        })
        .collect();
    Ok(Grid {
        kinds,
        cells: outcomes,
        policies,
    })
}

/// When the person's deadlines start: at their departure (the run's
/// instant when undated; no later than it when immediate), or for a mover
/// at the move, as the decide stage counts them.
fn clock_start(inventory: &Inventory, evaluation: &Evaluation, person: usize) -> Option<Timestamp> {
    let d = evaluation.derived.departures.get(&person)?;
    if d.leaver {
        let at = d.at.unwrap_or(evaluation.as_of);
        Some(if d.immediate {
            at.min(evaluation.as_of)
        } else {
            at
        })
    } else {
        inventory.records[person].fields.time("moved_at")
    }
}

/// The stated reason nothing is due in a cell: the person has not left,
/// or a note of the kind covers the cell.
fn retained_because(grid: &KindGrid, spec: &CellSpec) -> Option<&'static str> {
    PERSON_STATES[spec.person].note.or_else(|| {
        grid.notes
            .iter()
            .find(|n| n.covers(grid, spec))
            .map(|n| n.text)
    })
}

fn row(decision: &Decision, start: Option<Timestamp>) -> Row {
    let permits_of = |action: &str, effect: Effect| -> Vec<String> {
        decision
            .reasons
            .iter()
            .filter(|r| r.action == action && r.effect == effect)
            .map(|r| r.policy.clone())
            .collect()
    };
    let mut permits: Vec<String> = Vec::new();
    for action in &decision.actions {
        for p in permits_of(action, Effect::Permit) {
            if !permits.contains(&p) {
                permits.push(p);
            }
        }
    }
    let blocks = decision
        .blocked
        .iter()
        .map(|action| Block {
            action: action.clone(),
            forbids: permits_of(action, Effect::Forbid),
            permits: permits_of(action, Effect::Permit),
        })
        .collect();
    let due = decision
        .actions
        .iter()
        .filter_map(|action| {
            let due = decision
                .reasons
                .iter()
                .filter(|r| r.action == *action && r.effect == Effect::Permit)
                .filter_map(|r| r.due)
                .min()?;
            Some((action.clone(), due.duration_since(start?)))
        })
        .collect();
    Row {
        actions: decision.actions.clone(),
        permits,
        blocks,
        constraints: decision
            .constraints
            .iter()
            .map(|c| (c.action.clone(), c.policies.clone()))
            .collect(),
        due,
        retained_because: None,
        error: decision.status == Status::Error,
    }
}

fn backticked<S: AsRef<str>>(ids: &[S]) -> String {
    ids.iter()
        .map(|p| format!("`{}`", p.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A deadline as the policies write it: `1h`, `24h`, `7d`.
fn span_text(d: SignedDuration) -> String {
    let hours = d.as_hours();
    if d.as_secs() % 3600 != 0 {
        format!("{}m", d.as_mins())
    } else if hours >= 48 && hours % 24 == 0 {
        format!("{}d", hours / 24)
    } else {
        format!("{hours}h")
    }
}

impl Row {
    fn decision(&self) -> String {
        if self.error {
            return "**error**".into();
        }
        let mut text = if self.actions.is_empty() {
            "retain".to_string()
        } else {
            format!("**{}**", self.actions.join(", "))
        };
        for b in &self.blocks {
            let _ = write!(text, "; {} forbidden", b.action);
        }
        for (action, _) in &self.constraints {
            let _ = write!(text, "; must not {action}");
        }
        text
    }

    fn policies(&self) -> String {
        let mut parts = vec![backticked(&self.permits)];
        for b in &self.blocks {
            parts.push(format!(
                "{} forbids what {} asks",
                backticked(&b.forbids),
                backticked(&b.permits)
            ));
        }
        for (action, forbids) in &self.constraints {
            parts.push(format!("{} forbids {action}", backticked(forbids)));
        }
        parts.retain(|p| !p.is_empty());
        parts.join("; ")
    }

    fn cited(&self) -> impl Iterator<Item = &String> {
        self.permits
            .iter()
            .chain(
                self.blocks
                    .iter()
                    .flat_map(|b| b.forbids.iter().chain(&b.permits)),
            )
            .chain(self.constraints.iter().flat_map(|(_, forbids)| forbids))
    }

    fn controls(&self, grid: &Grid) -> String {
        let controls: BTreeSet<&str> = self
            .cited()
            .filter_map(|p| grid.policies.get(p))
            .flat_map(|c| c.controls.iter().map(String::as_str))
            .collect();
        controls.into_iter().collect::<Vec<_>>().join(", ")
    }

    fn due_text(&self) -> String {
        self.due
            .iter()
            .map(|(action, after)| format!("{action} {}", span_text(*after)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why: a forbid's description for what it blocked, and for a retain
    /// the stated reason (or that there is none).
    fn why(&self, grid: &Grid) -> String {
        let mut why: Vec<String> = self
            .blocks
            .iter()
            .flat_map(|b| &b.forbids)
            .filter_map(|f| grid.policies.get(f))
            .map(|c| c.description.clone())
            .collect();
        if self.is_retain() {
            why.push(
                self.retained_because
                    .map_or_else(|| "**no stated reason**".into(), str::to_string),
            );
        }
        why.join("; ")
    }
}

/// The person links the model gives a kind's records (`mdm.primary_user`
/// for a nested one), and the derived `holder` of a grant.
pub fn person_links(kind: Kind) -> Vec<String> {
    fn walk(specs: &[FieldSpec], prefix: &str, out: &mut Vec<String>) {
        for spec in specs {
            match &spec.ty {
                // A hidden link (an importer's weak `suspected_principal`)
                // never reaches a policy, so it decides nothing.
                FieldType::Link(kinds) | FieldType::Links(kinds)
                    if kinds.contains(&Kind::Person) && spec.cedar != ToCedar::Hidden =>
                {
                    out.push(format!("{prefix}{}", spec.name));
                }
                FieldType::Object(inner) => walk(inner, &format!("{prefix}{}.", spec.name), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(kind.fields(), "", &mut out);
    if kind == Kind::Grant {
        out.push("holder".into());
    }
    out
}

/// Groups the variants of kind `k` whose cells (those `keep` selects) all
/// decide alike, in the variants' order.
fn variant_groups(grid: &Grid, k: usize, keep: impl Fn(&CellSpec) -> bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Vec<&Outcome>, Vec<usize>)> = Vec::new();
    for v in 0..grid.kinds[k].variants.len() {
        let outcomes: Vec<&Outcome> = grid
            .cells
            .iter()
            .filter(|(c, _)| c.kind == k && c.variant == v && keep(c))
            .map(|(_, o)| o)
            .collect();
        match groups.iter_mut().find(|(o, _)| *o == outcomes) {
            Some((_, members)) => members.push(v),
            None => groups.push((outcomes, vec![v])),
        }
    }
    groups.into_iter().map(|(_, m)| m).collect()
}

fn names<T>(items: &[usize], name: impl Fn(usize) -> T) -> String
where
    T: fmt::Display,
{
    items
        .iter()
        .map(|i| name(*i).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the grid: per kind, the main grid (statuses that decide alike
/// merged into one row, variants that decide alike into one table), then
/// the person grid; last, the policies cited.
pub fn render(grid: &Grid) -> String {
    let mut out = String::new();
    let main = grid.cells.keys().filter(|c| c.person == LEAVER).count();
    let refused = grid
        .cells
        .values()
        .filter(|o| matches!(o, Outcome::Refused(_)))
        .count();
    let _ = writeln!(
        out,
        "{} cells, decided at `{AS_OF}`: {main} with the person a leaver (every kind, variant, status and relation), {} with the record in use and the person in each other status; {refused} of them refused by validation.\n",
        grid.cells.len(),
        grid.cells.len() - main,
    );
    let all_links: BTreeSet<String> = Kind::ALL
        .into_iter()
        .filter(|k| k.is_decided())
        .flat_map(person_links)
        .collect();
    for (k, kind) in grid.kinds.iter().enumerate() {
        let _ = writeln!(out, "## {} (`{}`)\n", kind.title, kind.kind);
        let links = person_links(kind.kind);
        let missing: Vec<&String> = all_links.iter().filter(|l| !links.contains(l)).collect();
        let _ = writeln!(
            out,
            "Person links in the model: {}. Not in the model for this kind: {}.\n",
            backticked(&links),
            backticked(&missing),
        );
        render_refused(&mut out, grid, k);
        for members in variant_groups(grid, k, |c| c.person == LEAVER) {
            render_main(&mut out, grid, k, &members);
        }
        render_people(&mut out, grid, k);
    }
    render_policies(&mut out, grid);
    out.trim_end().to_string()
}

fn render_main(out: &mut String, grid: &Grid, k: usize, members: &[usize]) {
    let kind = &grid.kinds[k];
    let _ = writeln!(
        out,
        "### {}\n\n| status | relation to the leaver | decision | policies | controls | due after the departure | why |\n|---|---|---|---|---|---|---|",
        names(members, |v| &kind.variants[v].label)
    );
    for (r, relation) in kind.relations.iter().enumerate() {
        let mut rows: Vec<(&Row, Vec<usize>)> = Vec::new();
        for s in 0..kind.statuses.len() {
            let spec = CellSpec {
                kind: k,
                variant: members[0],
                status: s,
                relation: r,
                person: LEAVER,
            };
            let Some(Outcome::Decided(row)) = grid.cells.get(&spec) else {
                continue;
            };
            match rows.iter_mut().find(|(o, _)| *o == row) {
                Some((_, ss)) => ss.push(s),
                None => rows.push((row, vec![s])),
            }
        }
        for (row, ss) in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                names(&ss, |s| kind.statuses[s].label()),
                relation.label,
                row.decision(),
                row.policies(),
                row.controls(grid),
                row.due_text(),
                row.why(grid)
            );
        }
    }
    out.push('\n');
}

/// The refused combinations of the main grid, one line per relation and
/// set of statuses.
fn render_refused(out: &mut String, grid: &Grid, k: usize) {
    let kind = &grid.kinds[k];
    // relation → code → status → variants
    let mut refused: BTreeMap<usize, BTreeMap<&str, BTreeMap<usize, Vec<usize>>>> = BTreeMap::new();
    for (c, o) in &grid.cells {
        if let (true, Outcome::Refused(code)) = (c.kind == k && c.person == LEAVER, o) {
            refused
                .entry(c.relation)
                .or_default()
                .entry(code)
                .or_default()
                .entry(c.status)
                .or_default()
                .push(c.variant);
        }
    }
    if refused.is_empty() {
        return;
    }
    out.push_str("Refused by validation, so not in the tables:\n\n");
    for (r, codes) in refused {
        for (code, statuses) in codes {
            let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
            for (s, variants) in statuses {
                match groups.iter_mut().find(|(v, _)| *v == variants) {
                    Some((_, ss)) => ss.push(s),
                    None => groups.push((variants, vec![s])),
                }
            }
            for (variants, ss) in groups {
                let statuses = if ss.len() == kind.statuses.len() {
                    "in any status".to_string()
                } else {
                    format!("when {}", names(&ss, |s| kind.statuses[s].label()))
                };
                let _ = writeln!(
                    out,
                    "- {} with the relation {}, {statuses} (`{code}`)",
                    names(&variants, |v| &kind.variants[v].label),
                    kind.relations[r].label
                );
            }
        }
    }
    out.push('\n');
}

/// The person grid as a matrix: a row per variant group and relation, a
/// column per person status. A cell gives the decision and deadlines, and
/// the policies when they differ from the departed leaver's; the reasons
/// for a retain are the main table's and the person's, given once.
fn render_people(out: &mut String, grid: &Grid, k: usize) {
    let kind = &grid.kinds[k];
    let _ = writeln!(
        out,
        "### {}: by the status of the person\n\nThe record {}; the person related to it in each status HR can give. A cell names the policies when they are not the departed leaver's; a retain's reason is the one the tables above give, or the person's own:\n",
        kind.title,
        kind.statuses[0].label()
    );
    for state in PERSON_STATES {
        let _ = match state.note {
            Some(note) => writeln!(
                out,
                "- **{}**: {}; retained: {note}",
                state.short, state.label
            ),
            None => writeln!(out, "- **{}**: {}", state.short, state.label),
        };
    }
    let _ = write!(out, "\n| record | relation to the person |");
    for state in PERSON_STATES {
        let _ = write!(out, " {} |", state.short);
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(PERSON_STATES.len()));
    out.push('\n');
    for members in variant_groups(grid, k, |c| c.status == 0) {
        for (r, relation) in kind.relations.iter().enumerate() {
            let cell = |p: usize| {
                grid.cells.get(&CellSpec {
                    kind: k,
                    variant: members[0],
                    status: 0,
                    relation: r,
                    person: p,
                })
            };
            let leaver = match cell(LEAVER) {
                Some(Outcome::Decided(row)) => Some(row),
                _ => None,
            };
            let _ = write!(
                out,
                "| {} | {} |",
                names(&members, |v| &kind.variants[v].label),
                relation.label
            );
            for p in 0..PERSON_STATES.len() {
                let text = match cell(p) {
                    Some(Outcome::Decided(row)) => brief(row, leaver),
                    Some(Outcome::Refused(code)) => format!("refused (`{code}`)"),
                    None => String::new(),
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
    }
    out.push('\n');
}

/// One cell of the person grid.
fn brief(row: &Row, leaver: Option<&Row>) -> String {
    if row.error {
        return "**error**".into();
    }
    let mut parts: Vec<String> = row
        .actions
        .iter()
        .map(|a| match row.due.iter().find(|(d, _)| d == a) {
            Some((_, after)) => format!("**{a}** {}", span_text(*after)),
            None => format!("**{a}**"),
        })
        .collect();
    if parts.is_empty() {
        parts.push("retain".into());
    }
    for b in &row.blocks {
        parts.push(format!("{} forbidden", b.action));
    }
    for (action, _) in &row.constraints {
        parts.push(format!("must not {action}"));
    }
    let mut text = parts.join(", ");
    if !row.actions.is_empty() && leaver.is_none_or(|l| l.permits != row.permits) {
        let _ = write!(text, " ({})", backticked(&row.permits));
    }
    // A stated reason is the one the main table gives, or the person's.
    if row.is_retain() && row.blocks.is_empty() && row.retained_because.is_none() {
        text.push_str(" (**no stated reason**)");
    }
    text
}

fn render_policies(out: &mut String, grid: &Grid) {
    let cited: BTreeSet<&str> = grid
        .decided()
        .flat_map(|(_, row)| row.cited())
        .map(String::as_str)
        .collect();
    out.push_str("## The policies cited\n\n| policy | effect | due | controls | why |\n|---|---|---|---|---|\n");
    for (id, c) in grid
        .policies
        .iter()
        .filter(|(id, _)| cited.contains(id.as_str()))
    {
        let _ = writeln!(
            out,
            "| `{id}` | {} | {} | {} | {} |",
            c.effect.as_str(),
            c.due.map(span_text).unwrap_or_default(),
            c.controls.join(", "),
            c.description
        );
    }
    let uncited: Vec<&String> = grid
        .policies
        .keys()
        .filter(|id| !cited.contains(id.as_str()))
        .collect();
    if !uncited.is_empty() {
        let _ = writeln!(
            out,
            "\nDecision policies that no cell reaches (they need more than a status and a relation: a rehire, an identity-provider conflict, an account nobody claims, a credential that outlived its workload, a death in service, a legal hold…): {}.",
            backticked(&uncited)
        );
    }
}

/// The generated part of `docs/decisions.md` for the pack in `policies`.
pub fn markdown(policies: &Path) -> Result<String, GridError> {
    Ok(render(&decide_grid(policies)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn grid() -> &'static Grid {
        static GRID: OnceLock<Grid> = OnceLock::new();
        GRID.get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            decide_grid(&root.join("policies")).unwrap_or_else(|e| panic!("{e}"))
        })
    }

    fn describe(grid: &Grid, c: &CellSpec) -> String {
        let kind = grid.kind(c);
        format!(
            "{} {} | {} | {} | person {}",
            kind.kind,
            kind.variants[c.variant].label,
            kind.statuses[c.status].label(),
            kind.relations[c.relation].label,
            PERSON_STATES[c.person].short
        )
    }

    fn left(c: &CellSpec) -> bool {
        PERSON_STATES[c.person].note.is_none()
    }

    fn failures(found: Vec<String>, what: &str) {
        assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
    }

    /// Fails, naming every cell where `broken` holds, with `what` broke.
    fn holds_everywhere(what: &str, broken: impl Fn(&Grid, &CellSpec, &Row) -> bool) {
        let g = grid();
        failures(
            g.decided()
                .filter(|(c, row)| broken(g, c, row))
                .map(|(c, _)| describe(g, c))
                .collect(),
            what,
        );
    }

    /// The grid is the model's: every decided kind, every status, every
    /// link to a person, so that a status or link added to the model and
    /// forgotten here fails.
    #[test]
    fn the_grid_covers_every_status_and_person_link_of_the_model() {
        let g = grid();
        let kinds: Vec<Kind> = g.kinds.iter().map(|k| k.kind).collect();
        let decided: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_decided()).collect();
        assert_eq!(kinds, decided);
        for kind in &g.kinds {
            let statuses: BTreeSet<&str> = kind.statuses.iter().map(|s| s.status).collect();
            let model: BTreeSet<&str> = kind.kind.statuses().iter().copied().collect();
            assert_eq!(statuses, model, "{} statuses", kind.kind);
            let paths: BTreeSet<&str> = kind.relations.iter().map(|r| r.path).collect();
            for link in person_links(kind.kind) {
                assert!(
                    paths.contains(link.as_str()),
                    "{}.{link} is in no relation",
                    kind.kind
                );
            }
        }
        assert!(
            g.decided().all(|(_, row)| !row.error),
            "a cell failed to evaluate"
        );
    }

    /// Every note is the reason of some retained cell: a note that covers
    /// nothing, or that an earlier note shadows, is a stale excuse.
    #[test]
    fn every_note_is_the_reason_of_some_cell() {
        let g = grid();
        let used: BTreeSet<&str> = g
            .decided()
            .filter_map(|(_, row)| row.retained_because)
            .collect();
        let stale: Vec<String> = g
            .kinds
            .iter()
            .flat_map(|k| {
                k.notes
                    .iter()
                    .map(move |n| format!("{}: {}", k.kind, n.text))
            })
            .filter(|n| !used.iter().any(|u| n.ends_with(u)))
            .collect();
        failures(stale, "notes that are the reason of no cell");
    }

    /// Principle 1: nothing of a leaver's, access or property, is retained
    /// without a stated reason (a note, or the forbid that blocked it).
    #[test]
    fn nothing_is_retained_without_a_stated_reason() {
        holds_everywhere("retained with no stated reason", |_, _, row| {
            row.is_retain() && row.blocks.is_empty() && row.retained_because.is_none()
        });
    }

    /// Principle 2: a third party never keeps access a leaver granted: a
    /// consent is revoked, or handed to someone who consents again.
    #[test]
    fn no_consent_of_a_leaver_is_left_standing() {
        holds_everywhere("consents left standing", |g, c, row| {
            let kind = g.kind(c);
            left(c)
                && kind.relations[c.relation].path == "consented_by"
                && !kind.done.contains(&kind.statuses[c.status].status)
                && !row.actions.iter().any(|a| a == "revoke" || a == "transfer")
        });
    }

    /// Principle 3: a device is asked back only from the person the
    /// register says holds it, while it is out (not lost, stolen or back),
    /// and never once a colleague is seen using it.
    #[test]
    fn no_device_is_asked_back_from_someone_without_it() {
        holds_everywhere(
            "devices asked back from someone who does not have them",
            |g, c, row| {
                let kind = g.kind(c);
                let relation = &kind.relations[c.relation];
                row.actions.iter().any(|a| a == "reclaim")
                    && (!["deployed", "pending_return"].contains(&kind.statuses[c.status].status)
                        || relation.path != "assigned_to"
                        || relation.label == COLLEAGUE_SEEN)
            },
        );
    }

    /// Principle 4: what is due while a record is in use stays in the plan
    /// until its status is evidence the work is done (access gone, device
    /// sanitized): no status in between makes it disappear.
    #[test]
    fn no_due_action_disappears_without_evidence() {
        let g = grid();
        let mut vanished = Vec::new();
        for (c, row) in g
            .decided()
            .filter(|(c, _)| c.person == LEAVER && c.status != 0)
        {
            let kind = g.kind(c);
            let live = CellSpec { status: 0, ..*c };
            let Some(Outcome::Decided(in_use)) = g.cells.get(&live) else {
                continue;
            };
            let status = kind.statuses[c.status].status;
            let settled = |policy: &String| {
                kind.done.contains(&status)
                    || kind
                        .settled
                        .iter()
                        .any(|(p, ss)| p == policy && ss.contains(&status))
            };
            if !in_use.actions.is_empty()
                && row.actions.is_empty()
                && !in_use.permits.iter().all(settled)
            {
                vanished.push(format!(
                    "{} (in use: {})",
                    describe(g, c),
                    in_use.actions.join(", ")
                ));
            }
        }
        failures(vanished, "due actions that disappear without evidence");
    }

    #[test]
    fn decisions_doc_is_in_step_with_the_pack() {
        crate::model::tests::keep_in_step(
            "docs/decisions.md",
            "<!-- grid:begin -->",
            "<!-- grid:end -->",
            &render(grid()),
        );
    }
}
