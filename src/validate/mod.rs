//! Stage 2, validate: the only way from raw input to the typed
//! [`Inventory`] and [`PolicyPack`] that later stages accept. Every problem
//! is returned as a finding; a stage that fails to validate hands on nothing.

mod inventory;
mod policies;

pub use inventory::{Inventory, validate_inventory};
pub use policies::{NAMESPACE, PolicyInfo, PolicyPack, is_link_path, parse_due, validate_policies};

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
