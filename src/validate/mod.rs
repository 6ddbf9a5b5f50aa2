//! Stage 2, validate: the only way from raw input to the typed
//! [`Inventory`] and [`PolicyPack`] that later stages accept. Every problem
//! is returned as a finding; a stage that fails to validate hands on nothing.

mod inventory;
mod nesting;
mod policies;
mod waivers;

pub use inventory::{IdIndex, ImportSnapshot, Inventory, validate_inventory};
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

    #[test]
    fn a_fragment_adds_its_facts_and_sources_to_the_record_it_extends() {
        let inv = test_inventory(concat!(
            "- {kind: team, id: team/b, status: active}\n",
            "- {kind: person, id: person/m, employee_number: '2', status: active}\n",
            "- {kind: device, id: device/d, category: laptop, status: deployed, sources: [{system: register, authoritative_for: [status]}]}\n",
            "- {kind: device, extends: device/d, mdm: {provider: intune, primary_user: person/m}, sources: [{system: intune}]}\n",
            "- {kind: device, extends: device/d, legal_hold: true, custodian_team: team/b}\n",
        ));
        let d = inv.get("device/d").expect("the device");
        assert!(d.fields.flag("legal_hold"));
        let mdm = d.fields.object("mdm").expect("the mdm block");
        assert_eq!(mdm.link("primary_user"), inv.index.get("person/m").copied());
        assert_eq!(
            d.fields.link("custodian_team"),
            inv.index.get("team/b").copied()
        );
        let systems: Vec<&str> = d
            .fields
            .objects("sources")
            .iter()
            .filter_map(|s| s.str("system"))
            .collect();
        assert_eq!(systems, ["register", "intune"]);
        // A fragment is not a record of its own.
        assert_eq!(inv.records.len(), 3);
    }

    #[test]
    fn a_curated_fragment_replaces_a_reported_fact_only_where_the_source_is_no_authority() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("r.yaml"),
            concat!(
                "- {kind: device, id: device/d, category: laptop, status: deployed, location: HQ, serial: S1, sources: [{system: register, authoritative_for: [serial]}]}\n",
                "- {kind: device, extends: device/d, location: Lab 7}\n",
                "- {kind: device, extends: device/d, serial: S2}\n",
            ),
        )
        .expect("write");
        let raw = crate::load::load_inventory(dir.path(), &crate::load::Limits::default())
            .expect("loads");
        let (inv, diagnostics) = validate_inventory(raw);
        assert!(inv.is_none());
        let found: Vec<(&str, &str)> = diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.severity.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("conflicting-facts", "warning"),
                ("conflicting-facts", "error")
            ]
        );
    }
}
