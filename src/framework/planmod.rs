//! Attribute plan modifiers, run after defaults and unknown-marking.
use crate::plugin::cty::{AttrPath, Value};

pub struct PlanModRequest<'a> {
    pub path: &'a AttrPath,
    pub config: &'a Value,
    /// The attribute's prior value; `None` when the resource is being created.
    pub prior: Option<&'a Value>,
}

pub trait PlanModifier: Send + Sync {
    fn modify(&self, req: &PlanModRequest<'_>, planned: &mut Value, requires_replace: &mut bool);
}

/// A change to this attribute can only be made by replacing the resource.
pub struct RequiresReplace;

impl PlanModifier for RequiresReplace {
    fn modify(&self, req: &PlanModRequest<'_>, planned: &mut Value, requires_replace: &mut bool) {
        if let Some(prior) = req.prior {
            if !prior.equals(planned) {
                *requires_replace = true;
            }
        }
    }
}

/// A computed value that never changes once set (ids, creation times):
/// keep the prior value instead of showing "(known after apply)".
pub struct UseStateForUnknown;

impl PlanModifier for UseStateForUnknown {
    fn modify(&self, req: &PlanModRequest<'_>, planned: &mut Value, _: &mut bool) {
        if let Some(prior) = req.prior {
            if planned.is_unknown() && !prior.is_null() && !req.config.is_unknown() {
                *planned = prior.clone();
            }
        }
    }
}

/// Set at create and never changed by the API (who created an
/// organization): the plan keeps the prior value, null included, so an
/// unset one is not "(known after apply)" on every update, which would also
/// trip `RequiresReplace`.
pub struct Immutable;

impl PlanModifier for Immutable {
    fn modify(&self, req: &PlanModRequest<'_>, planned: &mut Value, _: &mut bool) {
        if let Some(prior) = req.prior {
            if planned.is_unknown() && !req.config.is_unknown() {
                *planned = prior.clone();
            }
        }
    }
}
