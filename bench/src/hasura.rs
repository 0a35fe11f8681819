//! Hasura rows: plan/apply of N `hasura_permission` + N `hasura_env_var` (on N/20
//! `hasura_table`s: 5 roles x 4 actions per table) against the Hasura emulator on a
//! throwaway PostgreSQL, and the write-coalescing scenarios.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::Value;

use crate::tf::{Providers, Workdir};

pub struct Env {
    pub emu: HasuraEmulator,
    _pg: TempPostgres,
}

impl Env {
    pub fn start(rt: &tokio::runtime::Runtime) -> anyhow::Result<Env> {
        let pg = TempPostgres::start().context("starting a throwaway PostgreSQL")?;
        let emu = rt.block_on(HasuraEmulator::start(HasuraConfig::new(pg.url())))?;
        Ok(Env { emu, _pg: pg })
    }

    pub fn workdir(&self, terraform: &Path, providers: &Providers) -> anyhow::Result<Workdir> {
        let mut wd = Workdir::new(terraform, providers)?;
        let c = &self.emu.config;
        wd.env("HASURA_GRAPHQL_ENDPOINT", &self.emu.endpoint())
            .env("HASURA_GRAPHQL_ADMIN_SECRET", &c.admin_secret)
            .env("HASURA_CLOUD_API_URL", &self.emu.cloud_api_url())
            .env("HASURA_CLOUD_ACCESS_TOKEN", &c.cloud_token)
            .env("HASURA_CLOUD_PROJECT_ID", &c.project_id);
        Ok(wd)
    }

    /// Logical operations (`metadata:<type>`, `run_sql`, `cloud:<op>`, `cloud:restart`).
    pub fn ops(&self) -> BTreeMap<String, u64> {
        counts(&self.emu.control.counters()["ops"])
    }

    pub fn requests(&self) -> BTreeMap<String, u64> {
        counts(&self.emu.control.counters()["requests"])
    }

    pub fn stop(self, rt: &tokio::runtime::Runtime) {
        rt.block_on(self.emu.stop());
    }
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Metadata API calls that change metadata (everything but exports and other reads).
pub fn metadata_writes(ops: &BTreeMap<String, u64>) -> u64 {
    ops.iter()
        .filter_map(|(k, v)| {
            let t = k.strip_prefix("metadata:")?;
            let read = t.starts_with("export_")
                || t.starts_with("get_")
                || t.starts_with("list_")
                || t.starts_with("test_");
            (!read).then_some(*v)
        })
        .sum()
}

pub fn tables_for(perms: usize) -> usize {
    perms.div_ceil(20).max(1)
}

/// `tables` tables, `perms` permissions over them, `env_vars` Cloud env vars.
pub fn config(tables: usize, perms: usize, env_vars: usize) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    hasura = {{
      source = "clerk-hasura/hasura"
    }}
  }}
}}

provider "hasura" {{}}

locals {{
  actions = ["select", "insert", "update", "delete"]
}}

resource "hasura_table" "t" {{
  count = {tables}
  name  = "bench_${{count.index}}"
  columns = [
    {{ name = "id", type = "int" }},
    {{ name = "owner", type = "text" }},
  ]
  primary_key         = ["id"]
  deletion_protection = false
}}

resource "hasura_permission" "p" {{
  count   = {perms}
  table   = hasura_table.t[floor(count.index / 20)].name
  role    = "role_${{floor(count.index / 4) % 5}}"
  action  = local.actions[count.index % 4]
  columns = local.actions[count.index % 4] == "delete" ? null : ["id", "owner"]
  filter  = local.actions[count.index % 4] == "insert" ? null : jsonencode({{ owner = {{ _eq = "X-Hasura-User-Id" }} }})
  check   = local.actions[count.index % 4] == "insert" ? jsonencode({{ owner = {{ _eq = "X-Hasura-User-Id" }} }}) : null
}}

resource "hasura_env_var" "e" {{
  count = {env_vars}
  key   = "BENCH_VAR_${{count.index}}"
  value = "value-${{count.index}}"
}}
"#
    )
}

/// `rels` object relationships between the `tables` tables of a `config()`
/// (each `bench_i` to `bench_{i+1}` by a manual `id` mapping), appended to it.
pub fn relationships_block(tables: usize, rels: usize) -> String {
    format!(
        r#"
resource "hasura_relationship" "r" {{
  count                = {rels}
  table                = hasura_table.t[count.index % {tables}].name
  name                 = "rel_${{count.index}}"
  type                 = "object"
  remote_table         = hasura_table.t[(count.index + 1) % {tables}].name
  manual_configuration = {{ id = "id" }}
}}
"#
    )
}

/// One `hasura_env_vars` holding `vars` keys, appended to a `config()`.
pub fn env_vars_block(vars: usize, value_prefix: &str) -> String {
    let body: String = (0..vars)
        .map(|i| format!("    BENCH_SET_{i} = \"{value_prefix}-{i}\"\n"))
        .collect();
    format!("\nresource \"hasura_env_vars\" \"set\" {{\n  vars = {{\n{body}  }}\n}}\n")
}

pub fn fmt_counts(r: &BTreeMap<String, u64>) -> String {
    if r.is_empty() {
        return "none".into();
    }
    r.iter()
        .map(|(k, v)| format!("`{k}` {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
