//! The stable codes of reconciliation's discrepancies, documented in
//! docs/reconciliation.md (a test keeps the two in step), with the severity
//! a finding of each carries and the family it belongs to.

use crate::diag::Severity;

crate::diag::codes! {
    /// Where the systems of record disagree with each other, or with the
    /// inventory, about one record.
    DiscrepancyCode;
    TerminatedButActive = "terminated-but-active": "HR says the person has left, and an account of theirs is still enabled in a system that reported it"
        => "disable the account in its system and import again; the plan's `revoke` is the action",
    PostTerminationActivity = "post-termination-activity": "an account or credential was used after its person's departure"
        => "revoke it, and treat the use as a security event: find out who signed in",
    PendingLeaver = "pending-leaver": "HR records a departure in the future; nothing is due yet, and access must end then"
        => "nothing to do now; the plan makes each action due at the departure",
    OrphanAccount = "orphan-account": "an enabled account that a system reported is linked to no person and has no owner"
        => "link the account to its person or owner (an `extends:` fragment with `principal` or `owner`), or disable it",
    DormantAccount = "dormant-account": "an enabled account has not signed in for longer than the dormancy limit (45 days)"
        => "disable it, or record why it must stay (a break-glass account) with a waiver",
    NeverUsedAccount = "never-used-account": "an enabled human account has never signed in, by the word of the system that is authoritative for its sign-ins"
        => "disable it if nobody needs it; an account provisioned ahead of a start date is expected",
    DownstreamNotDeprovisioned = "downstream-not-deprovisioned": "the person's identity-provider account is disabled, but an account of theirs in another system is still enabled"
        => "disable the account in the downstream system (provisioning did not reach it) and import again",
    ResidualEntitlement = "residual-entitlement": "a grant is still active on an account its system reports disabled or deleted"
        => "remove the grant, so that re-enabling the account does not bring the access back",
    AuthorityConflict = "authority-conflict": "the systems disagree on whether the person has left: the identity provider disabled the account of someone HR lists as active"
        => "find out which system is right; nothing destructive follows until a person decides",
    AmbiguousMatch = "ambiguous-match": "one person holds several enabled accounts in the same system, so a join cannot tell which is theirs"
        => "disable the duplicate, or mark the second account as shared or service with an owner",
    IdentifierDrift = "identifier-drift": "an account joined on the person's employee number has a login that matches neither the person's user name nor email"
        => "update the person's `user_name` or `email` (or the account's login) so that a match by email would still find them",
    UnsponsoredExternal = "unsponsored-external": "an enabled account of a contractor, vendor or guest has no HR record and no owner or sponsor"
        => "record the sponsor (an `extends:` fragment with `owner`), or disable the account",
    OwnerlessNhi = "ownerless-nhi": "a non-human identity or credential that a system reported has no accountable owner left: none recorded, or the owner has left and no backup owner remains"
        => "transfer it to a current owner (`owner`, or `backup_owner`), or decommission it",
    UnregisteredCredential = "unregistered-credential": "a credential a system reported is unknown to the inventory: no owner, team or binding was ever recorded for it"
        => "curate it (an `extends:` fragment with its owner and what it is bound to), or revoke it",
    StaleCredential = "stale-credential": "an active credential has not been used for longer than the staleness limit (90 days)"
        => "revoke it if nothing needs it, or record its owner's reason with a waiver",
    LongLivedCredential = "long-lived-credential": "an active credential never expires, or lives longer than the lifetime limit (365 days)"
        => "rotate it onto a credential with an expiry, and set `expires_at`",
    LeaverCreatedCredential = "leaver-created-credential": "an active credential or non-human identity was created by a person who has left, and has not been rotated since"
        => "rotate it and transfer it to a current owner",
    RevocationDrift = "revocation-drift": "the ledger records a revocation or reclaim as executed, yet an import taken after it still shows the access in effect"
        => "carry the action out again and find out why it did not hold (a re-enabled account, a second key); the execution did not do what it reported",
    UnownedIntegration = "unowned-integration": "an OAuth app, bot or AI agent a system reported has no owner or owning team"
        => "record its owner (an `extends:` fragment), or remove the integration",
    UnregisteredDevice = "unregistered-device": "device management reports a company device that the asset register does not"
        => "add it to the asset register, or record it as personal (`ownership: personal`)",
    UnmanagedDevice = "unmanaged-device": "the asset register lists a deployed company device that no device management reports"
        => "enrol the device in device management, or correct its status in the register",
    AssignmentMismatch = "assignment-mismatch": "the asset register assigns a device to one person while device management sees another as its user"
        => "correct the register's assignment (the plan's `transfer`), or find out why someone else uses the device",
    UnreturnedAsset = "unreturned-asset": "a company device is still assigned to a person who has left"
        => "reclaim the device (the plan's `reclaim`) and record its return in the register",
    DeviceNotCheckingIn = "device-not-checking-in": "a deployed device has not checked in with device management for longer than the check-in limit (30 days)"
        => "find the device; if its user has left, lock it and mark it lost",
    PersonalDeviceWithAccess = "personal-device-with-access": "a personal device enrolled in device management belongs to a person who has left"
        => "selectively wipe the company data and retire the enrolment; the device itself is not reclaimed",
    RetiredButPresent = "retired-but-present": "the asset register says a device is archived, lost or stolen, yet it checked in with device management recently"
        => "find out whether the register is stale or the device was resold or stolen; lock it if it is not where it should be",
    GhostRecord = "ghost-record": "a record its source no longer returns (`missing_since`) is still in the inventory"
        => "confirm the record was deleted in its system, then delete its block from the imported file",
    IncompleteSnapshot = "incomplete-snapshot": "an import's exports did not prove themselves complete: the rows fall short of the envelope's total, or a page cursor points at a page that was not exported"
        => "export every page (follow the cursor to its end) and import again; until then nothing that rests on absence from it is acted on",
    StaleSource = "stale-source": "no system that still returns the record has reported within the freshness limit (72 hours), so its facts may no longer hold"
        => "run the import again; until then, what rests on this source is reviewed, never acted on",
}

impl std::fmt::Display for DiscrepancyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a discrepancy is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// People and their accounts.
    Identity,
    /// Non-human identities and credentials.
    Machine,
    /// Devices and assets.
    Device,
    /// The import itself.
    Import,
}

impl Family {
    /// The heading the documentation and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Identity => "identity",
            Family::Machine => "non-human identities and credentials",
            Family::Device => "devices",
            Family::Import => "the import itself",
        }
    }
}

impl DiscrepancyCode {
    /// The severity of a finding of this code when it is proven; one that
    /// is only suspected is at most a warning.
    pub fn severity(self) -> Severity {
        use DiscrepancyCode::*;
        match self {
            TerminatedButActive
            | PostTerminationActivity
            | DownstreamNotDeprovisioned
            | ResidualEntitlement
            | OwnerlessNhi
            | RevocationDrift
            | LeaverCreatedCredential
            | UnreturnedAsset
            | PersonalDeviceWithAccess => Severity::Error,
            PendingLeaver | IdentifierDrift => Severity::Note,
            _ => Severity::Warning,
        }
    }

    /// What the discrepancy is about.
    pub fn family(self) -> Family {
        use DiscrepancyCode::*;
        match self {
            TerminatedButActive
            | PostTerminationActivity
            | PendingLeaver
            | OrphanAccount
            | DormantAccount
            | NeverUsedAccount
            | DownstreamNotDeprovisioned
            | ResidualEntitlement
            | AuthorityConflict
            | AmbiguousMatch
            | IdentifierDrift
            | UnsponsoredExternal => Family::Identity,
            OwnerlessNhi
            | UnregisteredCredential
            | StaleCredential
            | LongLivedCredential
            | LeaverCreatedCredential
            | RevocationDrift
            | UnownedIntegration => Family::Machine,
            UnregisteredDevice
            | UnmanagedDevice
            | AssignmentMismatch
            | UnreturnedAsset
            | DeviceNotCheckingIn
            | PersonalDeviceWithAccess
            | RetiredButPresent => Family::Device,
            GhostRecord | IncompleteSnapshot | StaleSource => Family::Import,
        }
    }

    /// The code by its name.
    pub fn parse(name: &str) -> Option<DiscrepancyCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl DiscrepancyCode {
    /// What the default pack (`policies/reconcile.cedar`) makes due when
    /// the discrepancy is proven; a suspected one is always a review.
    pub fn default_action(self) -> &'static str {
        use DiscrepancyCode::*;
        match self {
            TerminatedButActive | ResidualEntitlement => "`revoke`",
            PostTerminationActivity => "`revoke`, and `review` as a security event",
            PendingLeaver => "nothing yet: the plan makes each action due at the departure",
            IdentifierDrift => "nothing: a note for whoever maintains the join keys",
            LongLivedCredential => "`rotate`",
            LeaverCreatedCredential => "`rotate` and `transfer`",
            UnreturnedAsset => "`reclaim`",
            PersonalDeviceWithAccess => "`wipe` (selective)",
            IncompleteSnapshot => {
                "nothing of its own: every absence it would prove stays a `review`"
            }
            RevocationDrift => {
                "nothing of its own: the access still in effect makes the action due again (`terminated-but-active`, the leaver policies); `reconcile --ledger` reports it and exits 1"
            }
            _ => "`review`",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/reconciliation.md documents every code under a heading of its
    /// own (SARIF rules link to it); regenerate with `UPDATE_DOCS=1 cargo test`.
    #[test]
    fn the_reconciliation_docs_describe_every_code() {
        let mut out = String::new();
        let mut family = None;
        for c in DiscrepancyCode::ALL {
            if family != Some(c.family()) {
                family = Some(c.family());
                let title = crate::report::capitalised(c.family().as_str());
                out.push_str(&format!("\n### {title}\n"));
            }
            out.push_str(&format!(
                "\n#### `{}`\n\n{}. Severity: {}. The default pack: {}.\n\n**To resolve:** {}.\n",
                c.as_str(),
                crate::report::capitalised(c.description()),
                c.severity().as_str(),
                c.default_action(),
                c.fix()
            ));
        }
        crate::model::tests::keep_in_step(
            "docs/reconciliation.md",
            "<!-- reconcile-codes:begin -->",
            "<!-- reconcile-codes:end -->",
            out.trim(),
        );
    }

    #[test]
    fn codes_parse_back() {
        for c in DiscrepancyCode::ALL {
            assert_eq!(DiscrepancyCode::parse(c.as_str()), Some(*c));
        }
        assert_eq!(DiscrepancyCode::parse("unknown-value"), None);
    }
}
