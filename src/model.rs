//! The inventory's vocabulary: record kinds, their fields and lifecycles.
//! One table per kind drives validation, the Cedar entities built for
//! evaluation and the format documentation, so the three cannot drift apart.

use std::fmt;

use jiff::Timestamp;

use crate::diag::Span;

/// The kinds of record an inventory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Someone employed or engaged by the organisation (from HR).
    Person,
    /// A group of people; people belong to teams.
    Team,
    /// Hardware: laptops, phones, kiosks, lab systems, servers, tokens.
    Device,
    /// A login on a system (identity provider, SaaS, a host).
    Account,
    /// An entitlement held by an account (a role, a group, an admin right).
    Grant,
    /// A non-human identity: service account, automation, OAuth app, AI agent.
    Nhi,
    /// A secret-bearing credential: key, token, certificate, password.
    Credential,
    /// A running thing in the cloud: an instance, a job, a function.
    Workload,
}

impl Kind {
    /// Every kind, in documentation order.
    pub const ALL: [Kind; 8] = [
        Kind::Person,
        Kind::Team,
        Kind::Device,
        Kind::Account,
        Kind::Grant,
        Kind::Nhi,
        Kind::Credential,
        Kind::Workload,
    ];

    /// The kind's name as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Team => "team",
            Kind::Device => "device",
            Kind::Account => "account",
            Kind::Grant => "grant",
            Kind::Nhi => "nhi",
            Kind::Credential => "credential",
            Kind::Workload => "workload",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Cedar entity type's name (without namespace).
    pub fn cedar_type(self) -> &'static str {
        match self {
            Kind::Person => "Person",
            Kind::Team => "Team",
            Kind::Device => "Device",
            Kind::Account => "Account",
            Kind::Grant => "Grant",
            Kind::Nhi => "Nhi",
            Kind::Credential => "Credential",
            Kind::Workload => "Workload",
        }
    }

    /// Whether records of this kind carry access or property and so get a
    /// decision. People and teams are the context decisions follow from.
    pub fn is_decided(self) -> bool {
        !matches!(self, Kind::Person | Kind::Team)
    }

    /// The lifecycle statuses a record of this kind may have.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Kind::Person => &["pre_hire", "active", "on_leave", "notice", "terminated"],
            Kind::Team => &["active", "archived"],
            Kind::Device => &[
                "in_stock",
                "deployed",
                "pending_return",
                "returned",
                "quarantined",
                "wiping",
                "redeployable",
                "archived",
                "lost",
                "stolen",
            ],
            Kind::Account => &["enabled", "suspended", "disabled", "deleted"],
            Kind::Grant => &["active", "revoked", "expired"],
            Kind::Nhi => &["active", "orphaned", "pending_transfer", "decommissioned"],
            Kind::Credential => &["active", "inactive", "revoked", "expired", "rotated"],
            Kind::Workload => &["pending", "running", "stopped", "terminated"],
        }
    }

    /// The fields a record of this kind may have, beyond the envelope.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Kind::Person => PERSON,
            Kind::Team => TEAM,
            Kind::Device => DEVICE,
            Kind::Account => ACCOUNT,
            Kind::Grant => GRANT,
            Kind::Nhi => NHI,
            Kind::Credential => CREDENTIAL,
            Kind::Workload => WORKLOAD,
        }
    }

    /// The spec of a field of this kind (envelope fields included).
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        ENVELOPE
            .iter()
            .chain(self.fields())
            .find(|f| f.name == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a field's value.
#[derive(Debug)]
pub enum FieldType {
    /// Free text.
    Str,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// `true` or `false`; absent means `false`.
    Bool,
    /// An RFC 3339 date-time, or a full date meaning midnight UTC.
    Time,
    /// A link to one record of one of these kinds.
    Link(&'static [Kind]),
    /// A list of links to records of these kinds.
    Links(&'static [Kind]),
    /// A list of words.
    Strs,
    /// A nested mapping with its own fields.
    Object(&'static [FieldSpec]),
    /// A list of nested mappings.
    Objects(&'static [FieldSpec]),
}

impl FieldType {
    /// How the type is described in messages and docs.
    pub fn describe(&self) -> String {
        match self {
            FieldType::Str => "a string".into(),
            FieldType::Enum(values) => format!("one of {}", quote_list(values)),
            FieldType::Bool => "a boolean".into(),
            FieldType::Time => "an RFC 3339 date or date-time".into(),
            FieldType::Link(kinds) => format!("a link to a {}", kind_list(kinds)),
            FieldType::Links(kinds) => format!("a list of links to {}", kind_list(kinds)),
            FieldType::Strs => "a list of strings".into(),
            FieldType::Object(_) => "a mapping".into(),
            FieldType::Objects(_) => "a list of mappings".into(),
        }
    }
}

/// Quotes words for a message: `a`, `b` or `c`.
pub fn quote_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn kind_list(kinds: &[Kind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match names.as_slice() {
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// How a field reaches the Cedar entity built for its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToCedar {
    /// An attribute of the same name.
    Attr,
    /// The linked record becomes a parent of the entity (`in` works on it);
    /// the link is also an attribute of the same name.
    AttrAndParent,
    /// A link to several kinds becomes one attribute per target kind,
    /// named `<field>_<kind>` (e.g. `bound_to_nhi`).
    PerKind,
    /// Documentation and provenance only; policies do not see it.
    Hidden,
}

/// One field of a kind.
#[derive(Debug)]
pub struct FieldSpec {
    /// Name as written in YAML, and (usually) as the Cedar attribute.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// Whether a record must have it.
    pub required: bool,
    /// How the field reaches Cedar.
    pub cedar: ToCedar,
    /// One line for the docs.
    pub doc: &'static str,
}

const fn f(name: &'static str, ty: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        cedar: ToCedar::Attr,
        doc,
    }
}

const fn req(name: &'static str, ty: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: true,
        cedar: ToCedar::Attr,
        doc,
    }
}

const fn hidden(name: &'static str, ty: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        cedar: ToCedar::Hidden,
        doc,
    }
}

const fn parent(name: &'static str, ty: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        cedar: ToCedar::AttrAndParent,
        doc,
    }
}

use FieldType::{Bool, Enum, Link, Links, Object, Objects, Str, Strs, Time};

const PEOPLE: &[Kind] = &[Kind::Person];
const TEAMS: &[Kind] = &[Kind::Team];

/// Fields every record has (checked before the kind's own fields).
pub const ENVELOPE: &[FieldSpec] = &[
    hidden("kind", Str, "the record's kind"),
    hidden(
        "id",
        Str,
        "unique across the whole inventory; by convention `<kind>/<system>/<key>`",
    ),
    req(
        "status",
        Str,
        "the record's lifecycle status; the allowed values depend on the kind",
    ),
    f("display_name", Str, "a human-readable name"),
    f(
        "tags",
        Strs,
        "free-form labels policies may test with `contains`",
    ),
    hidden("notes", Str, "free text for reviewers"),
    hidden(
        "sources",
        Objects(SOURCE),
        "which systems reported this record, and for which fields they are authoritative",
    ),
];

const SOURCE: &[FieldSpec] = &[
    req(
        "system",
        Str,
        "the reporting system, e.g. `workday`, `okta`, `intune`, `snipe-it`",
    ),
    f("record_id", Str, "the record's id in that system"),
    f("observed_at", Time, "when that system last reported it"),
    f(
        "authoritative_for",
        Strs,
        "the fields this system is the authority for",
    ),
    f(
        "export",
        Str,
        "`sha256:` digest of the export file the record's current facts were read from",
    ),
    f(
        "raw_status",
        Str,
        "the status exactly as the system reported it, before it was mapped to the record's `status`",
    ),
    f(
        "match",
        Enum(&["strong", "weak"]),
        "how the record was joined to the person it names: `strong` on an immutable key (employee number, serial, key id), `weak` on an email or login alone",
    ),
    f(
        "missing_since",
        Time,
        "the first export that no longer returned the record; it is kept, marked, until a person removes it",
    ),
];

const TERMINATION: &[FieldSpec] = &[
    f(
        "effective",
        Time,
        "when the employment ends (Workday `Termination_Date`)",
    ),
    f(
        "last_day_of_work",
        Time,
        "the last day worked; access must not outlive it",
    ),
    f(
        "reason_category",
        Enum(&[
            "voluntary",
            "involuntary",
            "end_of_contract",
            "retirement",
            "death",
            "other",
        ]),
        "why the employment ended",
    ),
    f(
        "immediate",
        Bool,
        "an involuntary exit that must take effect at once",
    ),
    f("rehire_eligible", Bool, "whether HR allows a rehire"),
];

const EMPLOYMENT: &[FieldSpec] = &[
    req("start", Time, "when this employment began"),
    f(
        "contract_end",
        Time,
        "for contractors: when the engagement ends unless extended",
    ),
    f(
        "termination",
        Object(TERMINATION),
        "present once an exit is recorded",
    ),
];

const PERSON: &[FieldSpec] = &[
    req(
        "employee_number",
        Str,
        "the stable HR key (SCIM `employeeNumber`); never reused, unlike logins and emails",
    ),
    f(
        "user_name",
        Str,
        "primary login; may be reused after the person leaves",
    ),
    f("email", Str, "work email"),
    f(
        "worker_type",
        Enum(&["employee", "contractor", "intern", "vendor"]),
        "engagement type; contractors need a sponsor and an end date",
    ),
    parent(
        "team",
        Link(TEAMS),
        "the team the person belongs to now; the person is `in` it",
    ),
    f(
        "previous_team",
        Link(TEAMS),
        "the team before the last move",
    ),
    f("moved_at", Time, "when the person last moved team"),
    f("department", Str, "HR department"),
    f("manager", Link(PEOPLE), "line manager"),
    f(
        "sponsor",
        Link(PEOPLE),
        "the employee accountable for a contractor or vendor",
    ),
    f("legal_hold", Bool, "data and devices must be preserved"),
    f("location", Str, "office or site"),
    f("time_zone", Str, "IANA time zone, for scheduling"),
    hidden(
        "employments",
        Objects(EMPLOYMENT),
        "employment history, oldest first; a rehire adds an entry",
    ),
];

const TEAM: &[FieldSpec] = &[
    f("name", Str, "the team's name"),
    f("manager", Link(PEOPLE), "who leads it"),
    parent(
        "parent",
        Link(TEAMS),
        "the enclosing team; members are `in` it too",
    ),
];

const MDM: &[FieldSpec] = &[
    f("provider", Str, "`intune`, `jamf`, `fleet`, …"),
    f("device_id", Str, "the MDM's device id"),
    f(
        "primary_user",
        Link(PEOPLE),
        "who the MDM sees using the device",
    ),
    f(
        "last_checkin",
        Time,
        "the device's last check-in (Intune `lastSyncDateTime`, Jamf `lastContactTime`)",
    ),
    f("compliance", Str, "the MDM's compliance state"),
];

const DEVICE: &[FieldSpec] = &[
    f(
        "asset_tag",
        Str,
        "asset register tag (Snipe-IT `asset_tag`)",
    ),
    f("serial", Str, "hardware serial number"),
    req(
        "category",
        Enum(&[
            "laptop",
            "desktop",
            "phone",
            "tablet",
            "kiosk",
            "lab_system",
            "server",
            "token",
            "other",
        ]),
        "what the device is",
    ),
    f(
        "ownership",
        Enum(&["company", "personal"]),
        "`personal` marks BYOD: never reclaimed",
    ),
    f(
        "assignment_mode",
        Enum(&["individual", "shared", "lab"]),
        "`individual` devices follow their assignee; shared and lab devices have a custodian",
    ),
    f(
        "assigned_to",
        Link(PEOPLE),
        "the person the register says holds it (Snipe-IT `assigned_to`)",
    ),
    f("location", Str, "where a shared device lives"),
    f(
        "custodian",
        Link(PEOPLE),
        "the person accountable for a shared or lab device",
    ),
    f("custodian_team", Link(TEAMS), "the team accountable for it"),
    f(
        "data_classification",
        Enum(&["public", "internal", "confidential", "restricted"]),
        "the most sensitive data it may hold",
    ),
    f("legal_hold", Bool, "the device itself is under legal hold"),
    f("last_checkout", Time, "when it was last checked out"),
    f("mdm", Object(MDM), "what device management reports"),
];

const ACCOUNT: &[FieldSpec] = &[
    req(
        "system",
        Str,
        "the system the account lives on: `okta`, `github`, `aws-prod`, a host name",
    ),
    f("login", Str, "the login name"),
    f(
        "principal",
        Link(PEOPLE),
        "the person the account belongs to; absent for an unassociated account",
    ),
    hidden(
        "suspected_principal",
        Link(PEOPLE),
        "the person an importer matched on an email or login alone: a weak match, shown for review and never acted on by itself",
    ),
    f(
        "account_type",
        Enum(&["human", "service", "system", "shared"]),
        "`shared` covers break-glass and group accounts",
    ),
    f(
        "owner",
        Link(PEOPLE),
        "the accountable person for a service, system or shared account",
    ),
    f(
        "employee_type",
        Str,
        "what the identity provider says the person is",
    ),
    f("privileged", Bool, "administrative rights"),
    f(
        "idp_status",
        Str,
        "the identity provider's raw status, e.g. Okta `DEPROVISIONED`",
    ),
    f("last_login", Time, "last interactive sign-in"),
    f(
        "known_to",
        Links(PEOPLE),
        "people who know the account's password (shared accounts)",
    ),
];

const GRANT: &[FieldSpec] = &[
    req("system", Str, "where the entitlement applies"),
    req("entitlement", Str, "the role, group or permission"),
    req(
        "account",
        Link(&[Kind::Account]),
        "the account that holds it",
    ),
    f(
        "privileged",
        Bool,
        "administrative or production-write access",
    ),
    f(
        "mode",
        Enum(&["standing", "eligible", "group"]),
        "`eligible` is just-in-time",
    ),
    f(
        "team",
        Link(TEAMS),
        "the team the entitlement belongs to; people outside it should not hold it",
    ),
    f("approved_by", Link(PEOPLE), "who approved it"),
    f("granted_at", Time, "when it was granted"),
    f("expires_at", Time, "when it lapses by itself"),
];

const NHI: &[FieldSpec] = &[
    req(
        "nhi_type",
        Enum(&[
            "service_account",
            "automation_account",
            "oauth_app",
            "ai_agent",
            "bot",
            "workload_identity",
        ]),
        "what sort of non-human identity",
    ),
    f("system", Str, "where it lives"),
    f("owner", Link(PEOPLE), "the accountable person"),
    f(
        "backup_owner",
        Link(PEOPLE),
        "who takes over when the owner leaves",
    ),
    f("owning_team", Link(TEAMS), "the accountable team"),
    f("created_by", Link(PEOPLE), "who created it"),
    f(
        "consented_by",
        Link(PEOPLE),
        "who granted the consent it acts on: an OAuth app's, or an agent's or bot's delegated access",
    ),
    f("environments", Strs, "`prod`, `staging`, `dev`, …"),
    f("used_by", Links(&[Kind::Workload]), "workloads that use it"),
    f(
        "auth_method",
        Str,
        "`key_file`, `oidc`, `mtls`, `static_password`, …",
    ),
    f(
        "interactive_use",
        Bool,
        "people sign in as it (OWASP NHI10)",
    ),
    f(
        "known_to",
        Links(PEOPLE),
        "people who have seen its secrets",
    ),
    f("ai_system", Bool, "an AI system (NIST AI RMF GOVERN 1.6)"),
    f(
        "privileged",
        Bool,
        "administrative or production-write access",
    ),
    f("scopes", Strs, "granted scopes"),
    f("publisher", Str, "third-party publisher of an OAuth app"),
    f("last_used", Time, "last use seen"),
];

const CREDENTIAL: &[FieldSpec] = &[
    req(
        "cred_type",
        Enum(&[
            "api_key",
            "access_key",
            "pat",
            "oauth_token",
            "session_token",
            "ssh_key",
            "certificate",
            "deploy_key",
            "enrollment_token",
            "password",
            "badge",
            "host_key",
            "passkey",
            "otp_seed",
            "hardware_token",
        ]),
        "what sort of credential; `host_key` is a device's own SSH host key, `ssh_key` a login key; `passkey`, `otp_seed` and `hardware_token` are authenticators registered to an account",
    ),
    f(
        "purpose",
        Str,
        "e.g. `vpn`, `code_signing`, `tls`, `local_admin`",
    ),
    f("system", Str, "where it is accepted"),
    FieldSpec {
        name: "bound_to",
        ty: Link(&[Kind::Nhi, Kind::Account, Kind::Device, Kind::Workload]),
        required: false,
        cedar: ToCedar::PerKind,
        doc: "what it authenticates: the identity, account, device or workload whose own secret it is. A login key a device accepts is not bound to that device (list the device in `hosts`)",
    },
    f(
        "owner",
        Link(PEOPLE),
        "the named owner (e.g. of a certificate)",
    ),
    f("created_by", Link(PEOPLE), "who created it"),
    f("known_to", Links(PEOPLE), "people who have seen the secret"),
    f(
        "hosts",
        Links(&[Kind::Device]),
        "where it is accepted: devices whose `authorized_keys` (or local login) take it; it authenticates its owner there",
    ),
    f("environments", Strs, "`prod`, `staging`, `dev`, …"),
    f(
        "fingerprint",
        Str,
        "key id or fingerprint; never the secret",
    ),
    f("serial", Str, "certificate serial number"),
    f("issuer", Str, "certificate issuer"),
    f("subject", Str, "certificate subject"),
    f("issued_at", Time, "when it was issued (`notBefore`)"),
    f("expires_at", Time, "when it stops working (`notAfter`)"),
    f("last_rotated", Time, "last rotation"),
    f(
        "last_used",
        Time,
        "last use seen (e.g. IAM `access_key_1_last_used_date`)",
    ),
    f("compromised", Bool, "known or suspected to be exposed"),
];

const WORKLOAD: &[FieldSpec] = &[
    f("provider", Str, "`aws`, `gcp`, `azure`, `k8s`, …"),
    f("cloud_account", Str, "the cloud account or project"),
    f("ephemeral", Bool, "meant to live only until `expires_at`"),
    f("owner", Link(PEOPLE), "the accountable person"),
    f("launched_by", Link(PEOPLE), "who launched it"),
    f(
        "identity",
        Link(&[Kind::Nhi]),
        "the non-human identity it runs as",
    ),
    f("launched_at", Time, "when it started"),
    f("expires_at", Time, "its TTL"),
    f("environments", Strs, "`prod`, `staging`, `dev`, …"),
];

/// A validated inventory record.
#[derive(Debug)]
pub struct Record {
    /// Kind.
    pub kind: Kind,
    /// Unique id.
    pub id: String,
    /// Lifecycle status (one of `kind.statuses()`).
    pub status: String,
    /// Where the record starts.
    pub span: Span,
    /// The record's fields other than `kind`, `id` and `status`.
    pub fields: Fields,
}

impl Record {
    /// Where field `name` is written, or where the record starts when it
    /// is not: the place a finding about that field points at.
    pub fn field_span(&self, name: &str) -> Span {
        self.fields
            .field(name)
            .map_or(self.span.clone(), |f| f.span.clone())
    }
}

/// Named, validated field values, sorted by name. A sorted vector rather
/// than a map: a record has a dozen fields, and a million records' B-tree
/// nodes (allocated whole, eleven slots each) weighed twice the fields.
#[derive(Debug, Default)]
pub struct Fields(Vec<(&'static str, Field)>);

impl Fields {
    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: &'static str, field: Field) {
        match self.0.binary_search_by(|(n, _)| (*n).cmp(name)) {
            Ok(i) => self.0[i].1 = field,
            Err(i) => self.0.insert(i, (name, field)),
        }
    }

    /// Every field, by name, taken out.
    pub fn into_fields(self) -> impl Iterator<Item = (&'static str, Field)> {
        self.0.into_iter()
    }

    /// Gives back the room left over from building.
    pub fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }

    /// A field, with its place.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.0
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// A field, to change it.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.0
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| &mut self.0[i].1)
    }

    /// Every field, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Field)> {
        self.0.iter().map(|(n, f)| (*n, f))
    }

    /// Appends the index of every record these fields link to, nested
    /// mappings included, in field order (a record linked twice appears twice).
    pub fn link_targets(&self, out: &mut Vec<usize>) {
        for (_, field) in self.iter() {
            match &field.value {
                Value::Link(l) => out.push(l.target),
                Value::Links(ls) => out.extend(ls.iter().map(|l| l.target)),
                Value::Object(o) => o.link_targets(out),
                Value::Objects(os) => os.iter().for_each(|o| o.link_targets(out)),
                _ => {}
            }
        }
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.field(name).map(|f| &f.value)
    }

    /// A string or enum field.
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A boolean field; absent is false.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    /// A date-time field; a date is midnight UTC.
    pub fn time(&self, name: &str) -> Option<Timestamp> {
        match self.get(name) {
            Some(Value::Time(t)) => Some(*t),
            Some(Value::Date(d)) => midnight_utc(*d),
            _ => None,
        }
    }

    /// When a date or date-time field ends: a date-time is itself; a date
    /// ends at the following midnight in `tz`.
    pub fn end_of(&self, name: &str, tz: &jiff::tz::TimeZone) -> Option<Timestamp> {
        match self.get(name) {
            Some(Value::Time(t)) => Some(*t),
            // Past jiff's last instant (a `9999-12-31` "never") is its last
            // instant, as in `midnight_utc`.
            Some(Value::Date(d)) => Some(
                d.tomorrow()
                    .ok()
                    .and_then(|next| next.to_zoned_datetime(tz.clone()).ok())
                    .map_or(Timestamp::MAX, |z| z.timestamp()),
            ),
            _ => None,
        }
    }

    /// A link field's target index.
    pub fn link(&self, name: &str) -> Option<usize> {
        match self.get(name) {
            Some(Value::Link(l)) => Some(l.target),
            _ => None,
        }
    }

    /// A link-list field's target indices.
    pub fn links(&self, name: &str) -> Vec<usize> {
        match self.get(name) {
            Some(Value::Links(ls)) => ls.iter().map(|l| l.target).collect(),
            _ => Vec::new(),
        }
    }

    /// A nested mapping.
    pub fn object(&self, name: &str) -> Option<&Fields> {
        match self.get(name) {
            Some(Value::Object(o)) => Some(o),
            _ => None,
        }
    }

    /// A list of nested mappings.
    pub fn objects(&self, name: &str) -> &[Fields] {
        match self.get(name) {
            Some(Value::Objects(o)) => o,
            _ => &[],
        }
    }
}

/// A validated field and where it was written.
#[derive(Debug)]
pub struct Field {
    /// The value.
    pub value: Value,
    /// Where the value is.
    pub span: Span,
}

/// A resolved link to another record.
#[derive(Debug, Clone)]
pub struct LinkRef {
    /// The target's id.
    pub id: String,
    /// The target's index in [`crate::validate::Inventory::records`].
    pub target: usize,
    /// Where the link is written.
    pub span: Span,
}

/// A validated value.
#[derive(Debug)]
pub enum Value {
    /// A string or enum word.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An instant.
    Time(Timestamp),
    /// A calendar date written without a time (`2026-07-31`): policies see
    /// midnight UTC; a termination or contract end on that date takes
    /// effect at the end of the day in the person's time zone.
    Date(jiff::civil::Date),
    /// A link (boxed: it is the largest value, and every field would
    /// otherwise pay its size).
    Link(Box<LinkRef>),
    /// A list of links.
    Links(Vec<LinkRef>),
    /// A list of strings.
    Strs(Vec<String>),
    /// A nested mapping.
    Object(Fields),
    /// A list of nested mappings.
    Objects(Vec<Fields>),
}

/// Formats an instant the one way severance prints instants.
pub fn format_time(t: Timestamp) -> String {
    if t.subsec_nanosecond() == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// Midnight UTC at the start of a date. A date past jiff's last instant
/// (`9999-12-31`, the usual "never") clamps to [`Timestamp::MAX`]: refusing
/// or dropping it would turn "never expires" into "no date at all".
pub fn midnight_utc(d: jiff::civil::Date) -> Option<Timestamp> {
    Some(
        d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(if d.year() > 0 {
                Timestamp::MAX
            } else {
                Timestamp::MIN
            }),
    )
}

/// Checks the RFC 3339 §5.6 `date-time` grammar byte by byte, because
/// jiff's parser is ISO 8601 / Temporal and also takes `+05`, `+0500`,
/// offsets up to `+25:59`, a space for `T` and times without seconds.
/// `T` and `Z` may be lower case (the note under §5.6). Returns the
/// local date-time and the offset in seconds.
fn rfc3339_parts(s: &str) -> Result<(jiff::civil::DateTime, i32), String> {
    let b = s.as_bytes();
    let digits = |at: usize, n: usize| -> Option<i32> {
        let part = b.get(at..at + n)?;
        part.iter().try_fold(0i32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    let bad = || {
        "not an RFC 3339 date-time: expected `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`"
            .to_string()
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (Some(_), Some(_), Some(_), Some(hour), Some(minute), Some(second)) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
    ) else {
        return Err(bad());
    };
    if hour > 23 || minute > 59 || second > 60 {
        return Err("the time of day is out of range".into());
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return Err(bad());
        }
    }
    let offset = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (Some(h), Some(m)) = (digits(at + 1, 2), digits(at + 4, 2)) else {
                return Err(bad());
            };
            if h > 23 || m > 59 {
                return Err(format!(
                    "the offset `{}` is out of range: hours 00-23, minutes 00-59",
                    &s[at..]
                ));
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        [] => return Err("the offset is missing: add `Z` (UTC) or `+HH:MM` / `-HH:MM`".into()),
        _ => {
            return Err(format!(
                "the offset `{}` is not `Z` or `+HH:MM` / `-HH:MM`",
                &s[at..]
            ));
        }
    };
    // jiff wants an upper-case `T`; a leap second (`:60`) is read as `:59`,
    // since jiff, like most systems, has no leap seconds.
    let mut local = format!(
        "{}T{}{}",
        &s[..10],
        &s[11..17],
        if second == 60 { "59" } else { &s[17..19] }
    );
    local.push_str(&s[19..at]);
    let dt = local
        .parse::<jiff::civil::DateTime>()
        .map_err(|e| e.to_string())?;
    Ok((dt, offset))
}

/// Parses an RFC 3339 full date (`2026-07-31`) or date-time with an offset.
pub fn parse_when(s: &str) -> Result<Value, String> {
    let s = s.trim();
    if s.len() == 10 {
        return s
            .parse::<jiff::civil::Date>()
            .map(Value::Date)
            .map_err(|e| e.to_string());
    }
    let (dt, offset) = rfc3339_parts(s)?;
    let offset = jiff::tz::Offset::from_seconds(offset).map_err(|e| e.to_string())?;
    match dt.to_zoned_datetime(jiff::tz::TimeZone::fixed(offset)) {
        Ok(z) => Ok(Value::Time(z.timestamp())),
        // RFC 3339 years are 0000-9999, so the only instants jiff cannot
        // hold are the last hours of 9999 (`9999-12-31T23:59:59Z`, the usual
        // "never"): they clamp to its last instant.
        Err(_) if dt.year() == 9999 => Ok(Value::Time(Timestamp::MAX)),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses an RFC 3339 date-time, or a full date meaning midnight UTC.
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    match parse_when(s)? {
        Value::Date(d) => midnight_utc(d).ok_or_else(|| format!("`{s}` is out of range")),
        Value::Time(t) => Ok(t),
        _ => unreachable!("parse_when yields dates and times only"),
    }
}

/// The field reference of every kind as Markdown, as published in
/// `docs/inventory.md` (a test keeps the two in step).
pub fn reference_markdown() -> String {
    fn rows(out: &mut String, specs: &[FieldSpec], prefix: &str, hidden: bool) {
        for spec in specs {
            if spec.name == "kind" || spec.name == "id" || spec.name == "status" {
                continue;
            }
            let name = format!("{prefix}{}", spec.name);
            let cedar = match spec.cedar {
                _ if hidden => "not seen by policies",
                ToCedar::Hidden => "not seen by policies",
                ToCedar::AttrAndParent => "attribute, and the record is `in` it",
                ToCedar::PerKind => "one attribute per target kind: `<field>_<kind>`",
                ToCedar::Attr => "attribute",
            };
            out.push_str(&format!(
                "| `{name}` | {} | {} | {} | {} |\n",
                spec.ty.describe(),
                if spec.required { "yes" } else { "" },
                cedar,
                spec.doc
            ));
            match &spec.ty {
                FieldType::Object(inner) => rows(
                    out,
                    inner,
                    &format!("{name}."),
                    hidden || spec.cedar == ToCedar::Hidden,
                ),
                FieldType::Objects(inner) => rows(out, inner, &format!("{name}[]."), true),
                _ => {}
            }
        }
    }
    let mut out = String::from(
        "### Every record\n\n| field | type | required | in Cedar | meaning |\n|---|---|---|---|---|\n",
    );
    out.push_str(
        "| `kind` | one of the kinds below | yes | the entity type | what the record is |\n",
    );
    out.push_str("| `id` | a string | yes | the entity id | unique across the whole inventory |\n");
    out.push_str("| `status` | a string | yes | attribute | the lifecycle status; its values depend on the kind |\n");
    rows(&mut out, ENVELOPE, "", false);
    for kind in Kind::ALL {
        out.push_str(&format!(
            "\n### `{kind}` (Cedar `Severance::{}`)\n\nStatus: {}.\n\n| field | type | required | in Cedar | meaning |\n|---|---|---|---|---|\n",
            kind.cedar_type(),
            quote_list(kind.statuses())
        ));
        rows(&mut out, kind.fields(), "", false);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Replaces the text between two marker lines of a document, or checks
    /// that it is already what it should be.
    pub(crate) fn keep_in_step(doc: &str, begin: &str, end: &str, generated: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
        let text = std::fs::read_to_string(&path).expect("doc exists");
        let start = text.find(begin).expect("begin marker") + begin.len();
        let stop = text.find(end).expect("end marker");
        let want = format!("\n{generated}\n");
        if text[start..stop] != want {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                let updated = format!("{}{want}{}", &text[..start], &text[stop..]);
                std::fs::write(&path, updated).expect("write doc");
            } else {
                panic!("{doc} is out of date; run `UPDATE_DOCS=1 cargo test` to regenerate");
            }
        }
    }

    #[test]
    fn inventory_docs_list_every_field() {
        keep_in_step(
            "docs/inventory.md",
            "<!-- fields:begin -->",
            "<!-- fields:end -->",
            &reference_markdown(),
        );
    }

    #[test]
    fn times_parse_and_print_in_utc() {
        let t = parse_time("2026-07-31").expect("date");
        assert_eq!(format_time(t), "2026-07-31T00:00:00Z");
        let t = parse_time("2026-07-31T14:00:00+02:00").expect("date-time");
        assert_eq!(format_time(t), "2026-07-31T12:00:00Z");
        assert!(parse_time("2026-07-31T14:00:00").is_err(), "no offset");
        assert!(parse_time("31/07/2026").is_err());
        assert!(parse_time("2026-02-30").is_err());
    }

    #[test]
    fn times_follow_rfc_3339_exactly() {
        for bad in [
            "2026-07-31T14:00:00+25:00",
            "2026-07-31T14:00:00+24:00",
            "2026-07-31T14:00:00+05",
            "2026-07-31T14:00:00+0500",
            "2026-07-31T14:00:00+05:60",
            "2026-07-31 14:00:00Z",
            "2026-07-31T14:00Z",
            "2026-07-31T24:00:00Z",
            "2026-07-31T14:00:00.Z",
            "2026-07-31T14:00:00Z[Europe/Paris]",
            "2026-07-31T14:00:00\u{661}Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad} accepted");
        }
        let t = parse_time("2026-07-31t14:00:00.5-05:30").expect("lower-case t, fraction");
        assert_eq!(format_time(t), "2026-07-31T19:30:00.500Z");
        let t = parse_time("2026-12-31T23:59:60Z").expect("leap second");
        assert_eq!(format_time(t), "2026-12-31T23:59:59Z");
        assert_eq!(parse_time("9999-12-31T23:59:59Z"), Ok(Timestamp::MAX));
        assert_eq!(parse_time("9999-12-31T23:59:59+23:59"), Ok(Timestamp::MAX));
        assert_eq!(parse_time("9999-12-31"), Ok(Timestamp::MAX));
        assert!(parse_time("9999-12-32T00:00:00Z").is_err());
    }

    #[test]
    fn field_names_are_unique_per_kind() {
        for kind in Kind::ALL {
            let mut seen = std::collections::BTreeSet::new();
            for spec in ENVELOPE.iter().chain(kind.fields()) {
                assert!(seen.insert(spec.name), "{kind}.{} twice", spec.name);
            }
        }
    }
}
