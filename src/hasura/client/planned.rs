//! Metadata objects planned by this provider process, for plan-time checks that
//! look past the export: the inherited roles a plan creates or changes (role
//! cycles), and the computed fields it creates or drops (a permission naming one).
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// A computed field's key: source, schema, table, name.
pub type FieldKey = (String, String, String, String);

#[derive(Default)]
pub struct PlannedObjects {
    /// Role -> its planned role set; `None` when the plan destroys it.
    roles: Mutex<HashMap<String, Option<BTreeSet<String>>>>,
    /// Computed field -> whether it exists once the plan is applied.
    fields: Mutex<HashMap<FieldKey, bool>>,
}

impl PlannedObjects {
    pub fn plan_role(&self, name: &str, parents: Option<BTreeSet<String>>) {
        let mut roles = self.roles.lock().unwrap_or_else(|p| p.into_inner());
        // A resource that keeps the role wins over one that destroys it.
        if parents.is_none() && matches!(roles.get(name), Some(Some(_))) {
            return;
        }
        roles.insert(name.to_string(), parents);
    }

    /// The planned roles (`None`: destroyed by the plan).
    pub fn roles(&self) -> HashMap<String, Option<BTreeSet<String>>> {
        self.roles.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn plan_field(&self, key: FieldKey, exists: bool) {
        let mut fields = self.fields.lock().unwrap_or_else(|p| p.into_inner());
        let kept = fields.get(&key).copied().unwrap_or(false);
        fields.insert(key, exists || kept);
    }

    /// Whether the plan keeps or creates (`Some(true)`) or drops (`Some(false)`) a field.
    pub fn field(&self, key: &FieldKey) -> Option<bool> {
        self.fields
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
    }
}
