//! `hasura_inherited_role` and `hasura_computed_field` driven by real Terraform
//! against the Hasura emulator, on every core in TERRAFORM_BINARIES: create,
//! empty re-plan, in-place updates, import, drift, plan-time refusals, what an
//! inherited role and a computed field answer through `/v1/graphql`, faults,
//! and destroy.
mod support;

use emulator_common::{FaultConfig, FaultKind};
use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const SCHEMA_SQL: &str = "
CREATE TABLE public.posts (id int PRIMARY KEY, owner text NOT NULL, title text NOT NULL, draft boolean NOT NULL);
INSERT INTO public.posts VALUES
  (1, 'alice', 'Alice draft', true),
  (2, 'alice', 'Alice public', false),
  (3, 'bob', 'Bob draft', true),
  (4, 'bob', 'Bob public', false);
CREATE FUNCTION public.post_label(p posts) RETURNS text STABLE LANGUAGE sql
  AS $$ SELECT p.title || ' #' || p.id $$;
CREATE FUNCTION public.post_shout(p posts) RETURNS text STABLE LANGUAGE sql
  AS $$ SELECT upper(p.title) $$;
CREATE FUNCTION public.post_viewer(p posts, hasura_session json) RETURNS text STABLE LANGUAGE sql
  AS $$ SELECT hasura_session ->> 'x-hasura-user-id' $$;
CREATE FUNCTION public.post_touch(p posts) RETURNS text LANGUAGE sql
  AS $$ SELECT p.title $$;
";

/// `editor` inherits `author` (own posts, with `owner`) and `reviewer` (published
/// posts, without `owner`); `label` calls `function`.
fn config(role_set: &str, function: &str, comment: &str, extra: &str) -> String {
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_tracked_table" "posts" {{
  name = "posts"
}}

resource "hasura_computed_field" "label" {{
  table = hasura_tracked_table.posts.name
  name  = "label"
  function = {{
    name = "{function}"
  }}
  {comment}
}}

resource "hasura_computed_field" "viewer" {{
  table            = hasura_tracked_table.posts.name
  name             = "viewer"
  session_argument = "hasura_session"
  function = {{
    schema = "public"
    name   = "post_viewer"
  }}
}}

resource "hasura_permission" "author" {{
  table           = hasura_tracked_table.posts.name
  role            = "author"
  action          = "select"
  columns         = ["id", "owner", "title"]
  computed_fields = [hasura_computed_field.label.name, hasura_computed_field.viewer.name]
  filter          = jsonencode({{ owner = {{ _eq = "X-Hasura-User-Id" }} }})
}}

resource "hasura_permission" "reviewer" {{
  table   = hasura_tracked_table.posts.name
  role    = "reviewer"
  action  = "select"
  columns = ["id", "title"]
  filter  = jsonencode({{ draft = {{ _eq = false }} }})
}}

resource "hasura_inherited_role" "editor" {{
  role_name = "editor"
  role_set  = {role_set}
  depends_on = [hasura_permission.author, hasura_permission.reviewer]
}}
{extra}"#,
        required_providers()
    )
}

const BOTH: &str = r#"["author", "reviewer"]"#;

fn inherited_roles(env: &Env) -> Value {
    env.metadata()["inherited_roles"].clone()
}

fn computed_fields(env: &Env) -> Value {
    env.metadata()["sources"][0]["tables"][0]["computed_fields"].clone()
}

/// `/v1/graphql` as `role` (admin secret impersonation) for user `user`.
fn gql(env: &Env, role: &str, user: &str, query: &str) -> Value {
    let session = [("x-hasura-role", role), ("x-hasura-user-id", user)];
    env.graphql(&session, query, true)
}

#[test]
fn inherited_roles_and_computed_fields_lifecycle() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql(SCHEMA_SQL);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(BOTH, "post_label", "", ""));
        wd.apply();
        assert_no_changes(&wd, "after the first apply");
        assert_eq!(
            inherited_roles(&env),
            json!([{"role_name": "editor", "role_set": ["author", "reviewer"]}])
        );
        assert_eq!(
            computed_fields(&env),
            json!([
                {"name": "label", "definition": {"function": {"name": "post_label", "schema": "public"}}},
                {"name": "viewer", "definition": {"function": {"name": "post_viewer", "schema": "public"}, "session_argument": "hasura_session"}},
            ])
        );
        assert_eq!(
            wd.resource_values("hasura_computed_field.label")["id"],
            "default.public.posts.label"
        );

        // The editor sees alice's own posts (with their owner) and every published
        // post; bob's published post without its owner (only `author` grants it).
        let q = "{ posts(order_by: {id: asc}) { id owner title } }";
        let got = gql(&env, "editor", "alice", q);
        assert_eq!(
            got["data"]["posts"],
            json!([
                {"id": 1, "owner": "alice", "title": "Alice draft"},
                {"id": 2, "owner": "alice", "title": "Alice public"},
                {"id": 4, "owner": null, "title": "Bob public"},
            ]),
            "{got}"
        );
        // Computed fields, for the role whose permission lists them.
        let got = gql(
            &env,
            "author",
            "bob",
            "{ posts(order_by: {id: asc}) { id label viewer } }",
        );
        assert_eq!(
            got["data"]["posts"],
            json!([
                {"id": 3, "label": "Bob draft #3", "viewer": "bob"},
                {"id": 4, "label": "Bob public #4", "viewer": "bob"},
            ]),
            "{got}"
        );
        let got = gql(&env, "reviewer", "bob", "{ posts { id label } }");
        assert!(
            got["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("'label' not found")),
            "reviewer has no label: {got}"
        );

        // In place: the role set, the function and the comment.
        wd.write(
            "main.tf",
            &config(r#"["reviewer"]"#, "post_shout", r#"comment = """#, ""),
        );
        let plan = assert_changes(&wd, "after changing the set", &["update in-place"]);
        assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
        wd.apply();
        assert_no_changes(&wd, "after the in-place updates");
        assert_eq!(
            inherited_roles(&env),
            json!([{"role_name": "editor", "role_set": ["reviewer"]}])
        );
        assert_eq!(computed_fields(&env)[0]["comment"], json!(""));
        let got = gql(
            &env,
            "author",
            "alice",
            "{ posts(order_by: {id: asc}) { label } }",
        );
        assert_eq!(
            got["data"]["posts"],
            json!([{"label": "ALICE DRAFT"}, {"label": "ALICE PUBLIC"}]),
            "{got}"
        );
        let got = gql(&env, "editor", "alice", "{ posts { id } }");
        assert_eq!(
            got["data"]["posts"].as_array().map(Vec::len),
            Some(2),
            "{got}"
        );

        // Import both by their documented ids.
        for addr in [
            "hasura_inherited_role.editor",
            "hasura_computed_field.label",
        ] {
            wd.tf(&["state", "rm", addr]).assert_success("state rm");
        }
        wd.import("hasura_inherited_role.editor", "editor")
            .assert_success("import role");
        wd.import("hasura_computed_field.label", "default.public.posts.label")
            .assert_success("import computed field");
        assert_no_changes(&wd, "after importing");

        // Drift: a changed set, a changed comment, then both deleted.
        env.meta(json!({"type": "add_inherited_role", "args": {"role_name": "editor", "role_set": ["author"]}}));
        env.meta(
            json!({"type": "add_computed_field", "args": {"table": "posts", "name": "label",
            "definition": {"function": "post_shout"}, "comment": "changed"}}),
        );
        assert_changes(
            &wd,
            "after out-of-band changes",
            &["role_set", "\"author\"", "changed"],
        );
        wd.apply();
        assert_no_changes(&wd, "after repairing the changes");
        env.meta(json!({"type": "drop_inherited_role", "args": {"role_name": "editor"}}));
        env.meta(json!({"type": "drop_computed_field", "args": {"table": "posts", "name": "viewer", "cascade": true}}));
        assert_changes(
            &wd,
            "after out-of-band deletes",
            &[
                "hasura_inherited_role.editor will be created",
                "hasura_computed_field.viewer will be created",
            ],
        );
        wd.apply();
        assert_no_changes(&wd, "after recreating");

        // Plan-time refusals: a cycle through another role of this configuration,
        // a role inheriting itself, a volatile function (refused by Hasura, pointed
        // at `function`), nothing half-applied.
        let cycle = r#"
resource "hasura_inherited_role" "chief" {
  role_name = "chief"
  role_set  = ["editor", "author"]
}
"#;
        wd.write(
            "main.tf",
            &config(
                r#"["reviewer", "chief"]"#,
                "post_shout",
                r#"comment = """#,
                cycle,
            ),
        );
        let (_, out) = wd.plan_exitcode();
        assert!(
            out.combined().contains("Cycle in inherited roles"),
            "{}",
            out.combined()
        );
        // A select permission naming a computed field the table will not have.
        let ghost = r#"
resource "hasura_permission" "ghost" {
  table           = hasura_tracked_table.posts.name
  role            = "ghost"
  action          = "select"
  columns         = ["id"]
  computed_fields = ["nope"]
  filter          = jsonencode({})
}
"#;
        wd.write(
            "main.tf",
            &config(r#"["reviewer"]"#, "post_shout", r#"comment = """#, ghost),
        );
        let (code, bad) = wd.plan_exitcode();
        assert_eq!(code, 1, "{}", bad.combined());
        assert!(
            bad.combined().contains("Unknown computed field"),
            "{}",
            bad.combined()
        );
        wd.write(
            "main.tf",
            &config(
                r#"["reviewer", "editor"]"#,
                "post_shout",
                r#"comment = """#,
                "",
            ),
        );
        wd.validate()
            .assert_failure_contains("Role inherits itself");
        // A field name GraphQL cannot carry, refused at validate (the schema's
        // validator), pointed at `name`.
        let dashed = r#"
resource "hasura_computed_field" "dashed" {
  table    = hasura_tracked_table.posts.name
  name     = "full-name"
  function = { name = "post_shout" }
}
"#;
        wd.write(
            "main.tf",
            &config(r#"["reviewer"]"#, "post_shout", r#"comment = """#, dashed),
        );
        wd.validate()
            .assert_failure_contains("Invalid computed field name")
            .assert_failure_contains("`name` is \"full-name\", which is not a GraphQL name");
        wd.write(
            "main.tf",
            &config(r#"["reviewer"]"#, "post_touch", r#"comment = """#, ""),
        );
        env.reset_counters();
        wd.try_apply()
            .assert_failure_contains("VOLATILE")
            .assert_failure_contains("function");
        assert_eq!(
            computed_fields(&env)[0]["definition"]["function"]["name"],
            "post_shout"
        );

        wd.write(
            "main.tf",
            &config(r#"["reviewer"]"#, "post_shout", r#"comment = """#, ""),
        );
        assert_no_changes(&wd, "after going back");
        wd.destroy();
        let md = env.metadata();
        assert!(md.get("inherited_roles").is_none(), "{md}");
        assert!(
            md["sources"][0]["tables"]
                .as_array()
                .is_some_and(|t| t.is_empty()),
            "{md}"
        );
    });
}

fn roles_config(n: usize) -> String {
    let mut s = format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_tracked_table" "posts" {{
  name = "posts"
}}

resource "hasura_permission" "base" {{
  count   = 3
  table   = hasura_tracked_table.posts.name
  role    = "base${{count.index}}"
  action  = "select"
  columns = ["id"]
  filter  = jsonencode({{}})
}}
"#,
        required_providers()
    );
    s.push_str(&format!(
        r#"
resource "hasura_inherited_role" "r" {{
  count      = {n}
  role_name  = "mixed${{count.index}}"
  role_set   = ["base${{count.index % 3}}", "base${{(count.index + 1) % 3}}"]
  depends_on = [hasura_permission.base]
}}
"#
    ));
    s
}

/// 5xx, lost answers and resource_version conflicts on the metadata API while
/// inherited roles are created, changed and destroyed: the apply converges and
/// every role exists once with its set.
#[test]
fn inherited_roles_converge_under_faults() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql(SCHEMA_SQL);
        let mut wd = env.workdir(tf);
        wd.env("TF_CLI_ARGS_apply", "-parallelism=4");
        wd.write("main.tf", &roles_config(8));
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.3,
            kinds: vec![
                FaultKind::Status500,
                FaultKind::Status503,
                FaultKind::LostResponse,
                FaultKind::ConnectionReset,
            ],
            seed: Some(12),
            paths: Some(vec!["/v1/metadata".into()]),
            ..Default::default()
        });
        env.emu().conflict_next(3);
        env.reset_counters();
        wd.apply();
        env.emu().control.set_faults(FaultConfig::default());
        let faults: u64 = env.emu().control.counters()["faults"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        assert!(faults > 0, "no fault was injected");
        assert_eq!(env.ops("metadata:conflict"), 3);
        // Coalesced: far fewer metadata writes than resources (11 created here).
        let bulks = env.ops("metadata:bulk");
        assert!(bulks >= 1, "the roles go through the batcher's bulk");
        assert_no_changes(&wd, "after an apply under faults");
        let roles = inherited_roles(&env);
        let names: Vec<&str> = roles
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["role_name"].as_str())
            .collect();
        assert_eq!(names.len(), 8, "{roles}");
        assert_eq!(
            roles[0],
            json!({"role_name": "mixed0", "role_set": ["base0", "base1"]})
        );

        // Fewer roles, under faults again: the dropped ones are gone, once.
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.3,
            kinds: vec![FaultKind::Status502, FaultKind::LostResponse],
            seed: Some(5),
            paths: Some(vec!["/v1/metadata".into()]),
            ..Default::default()
        });
        env.emu().conflict_next(2);
        wd.write("main.tf", &roles_config(3));
        wd.apply();
        env.emu().control.set_faults(FaultConfig::default());
        assert_no_changes(&wd, "after shrinking under faults");
        assert_eq!(inherited_roles(&env).as_array().map(Vec::len), Some(3));
        wd.destroy();
        assert!(env.metadata().get("inherited_roles").is_none());
    });
}
