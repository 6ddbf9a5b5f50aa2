//! Stage 2, validate: the only way from raw input to the typed
//! [`Inventory`] and [`PolicyPack`] that later stages accept. Every problem
//! is returned as a finding; a stage that fails to validate hands on nothing.

mod inventory;
mod nesting;
mod policies;
mod waivers;

pub use inventory::{IdIndex, Inventory, validate_inventory};
pub use policies::{
    FLAG, NAMESPACE, PolicyInfo, PolicyPack, Rule, is_link_path, parse_due, validate_policies,
};
pub use waivers::{INLINE_NAMES, Waiver, validate_waivers};

use crate::diag::Diagnostic;
use crate::load::Loaded;

/// The result of validation: the typed input when it is usable, and every
/// finding either way.
#[derive(Debug)]
pub struct Validation {
    /// The inventory, when it has no errors.
    pub inventory: Option<Inventory>,
    /// The policy pack, when it has no errors.
    pub policies: Option<PolicyPack>,
    /// Findings, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// Both halves, when both are valid.
    pub fn valid(&self) -> Option<(&Inventory, &PolicyPack)> {
        Some((self.inventory.as_ref()?, self.policies.as_ref()?))
    }
}

/// Validates the loaded inventory and policies.
pub fn validate(loaded: Loaded) -> Validation {
    let Loaded {
        inventory,
        policies,
        ..
    } = loaded;
    let (inventory, mut diagnostics) = validate_inventory(inventory);
    let (policies, policy_diagnostics) = validate_policies(policies);
    diagnostics.extend(policy_diagnostics);
    crate::diag::sort(&mut diagnostics);
    Validation {
        inventory,
        policies,
        diagnostics,
    }
}

/// Builds a validated inventory from YAML text, for unit tests of later stages.
#[cfg(test)]
pub(crate) fn test_inventory(yaml: &str) -> Inventory {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("records.yaml"), yaml).expect("write");
    let raw =
        crate::load::load_inventory(dir.path(), &crate::load::Limits::default()).expect("loads");
    let (inventory, diagnostics) = validate_inventory(raw);
    match inventory {
        Some(inventory) => inventory,
        None => panic!("test inventory is invalid: {diagnostics:#?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_sorted_and_links_resolved() {
        let inv = test_inventory(
            "- {kind: team, id: team/b, status: active}\n- {kind: person, id: person/a, employee_number: '1', team: team/b, status: active}\n",
        );
        assert_eq!(inv.records[0].id, "person/a");
        assert_eq!(inv.records[0].fields.link("team"), Some(1));
    }

    #[test]
    fn every_problem_of_a_record_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("r.yaml"),
            "kind: nhi\nid: nhi/x\nnhi_type: robot\nownr: person/a\nlast_used: soon\nstatus: on\n",
        )
        .expect("write");
        let raw = crate::load::load_inventory(dir.path(), &crate::load::Limits::default())
            .expect("loads");
        let (inv, diagnostics) = validate_inventory(raw);
        assert!(inv.is_none());
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "invalid-value",
                "unknown-field",
                "invalid-date",
                "invalid-value"
            ]
        );
    }
}
