//! Inherited roles and computed fields through the metadata API, against a real
//! throwaway PostgreSQL: Hasura's answers, the export shape, replace_metadata.

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

struct Harness {
    emu: HasuraEmulator,
    http: reqwest::Client,
    _pg: TempPostgres,
}

async fn setup() -> Harness {
    let pg = TempPostgres::start().expect("temp postgres");
    let emu = HasuraEmulator::start(HasuraConfig::new(pg.url()))
        .await
        .expect("emulator");
    let h = Harness {
        emu,
        http: reqwest::Client::new(),
        _pg: pg,
    };
    let (s, v) = h
        .post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "
                CREATE TABLE public.posts (id int PRIMARY KEY, title text);
                CREATE TABLE public.other (id int PRIMARY KEY);
                CREATE FUNCTION public.label(p posts) RETURNS text STABLE LANGUAGE sql AS $$ SELECT p.title $$;
                CREATE FUNCTION public.volatile_label(p posts) RETURNS text LANGUAGE sql AS $$ SELECT p.title $$;
                CREATE FUNCTION public.wrong_table(o other) RETURNS text STABLE LANGUAGE sql AS $$ SELECT 'x' $$;
                CREATE FUNCTION public.with_session(p posts, s json) RETURNS text STABLE LANGUAGE sql AS $$ SELECT s ->> 'x-hasura-role' $$;
                CREATE FUNCTION public.bad_session(p posts, s text) RETURNS text STABLE LANGUAGE sql AS $$ SELECT s $$;
                CREATE FUNCTION public.id(p posts) RETURNS int STABLE LANGUAGE sql AS $$ SELECT p.id $$;
            "}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for t in ["posts", "other"] {
        h.ok(json!({"type": "pg_track_table", "args": {"table": t}}))
            .await;
    }
    for role in ["a", "b"] {
        h.ok(
            json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": role,
            "permission": {"columns": ["id"], "filter": {}}}}),
        )
        .await;
    }
    h
}

impl Harness {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.emu.endpoint()))
            .header("x-hasura-admin-secret", &self.emu.config.admin_secret)
            .json(&body)
            .send()
            .await
            .expect("request");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }

    async fn meta(&self, body: Value) -> (u16, Value) {
        self.post("/v1/metadata", body).await
    }

    async fn ok(&self, body: Value) {
        let (s, v) = self.meta(body.clone()).await;
        assert_eq!(s, 200, "{body}: {v}");
    }

    async fn fails(&self, body: Value, code: &str, needle: &str) -> Value {
        let (s, v) = self.meta(body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_eq!(v["code"], code, "{body}: {v}");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains(needle), "{body}: {e:?} lacks {needle:?}");
        v
    }

    async fn export(&self) -> Value {
        self.meta(json!({"type": "export_metadata", "args": {}}))
            .await
            .1
    }
}

fn add_role(name: &str, set: Value) -> Value {
    json!({"type": "add_inherited_role", "args": {"role_name": name, "role_set": set}})
}

fn add_field(name: &str, def: Value) -> Value {
    json!({"type": "add_computed_field", "args": {"table": "posts", "name": name, "definition": def}})
}

#[tokio::test]
async fn inherited_roles() {
    let h = setup().await;
    h.ok(add_role("c", json!(["b", "a", "a"]))).await;
    h.ok(add_role("ab", json!(["c"]))).await;
    // Sorted by name, the set deduplicated, after `sources`.
    let x = h.export().await;
    assert_eq!(
        x["inherited_roles"],
        json!([{"role_name": "ab", "role_set": ["c"]}, {"role_name": "c", "role_set": ["a", "b"]}])
    );
    let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "sources", "inherited_roles"]);
    // Adding an existing name replaces it.
    h.ok(add_role("c", json!(["a"]))).await;
    assert_eq!(
        h.export().await["inherited_roles"][1]["role_set"],
        json!(["a"])
    );

    h.fails(
        add_role("d", json!(["d", "a"])),
        "invalid-params",
        "cannot be in the role combination",
    )
    .await;
    h.fails(add_role("d", json!(["ghost"])), "invalid-configuration", "the following parent role(s) are not found: ghost which are required to construct the inherited role: \"d\"")
        .await;
    h.fails(
        add_role("c", json!(["ab"])),
        "cyclic-dependency",
        r#"found cycle(s) in roles: ["ab","c","ab"]"#,
    )
    .await;
    h.fails(
        add_role("", json!(["a"])),
        "parse-failed",
        "empty string not allowed",
    )
    .await;
    h.fails(
        json!({"type": "add_inherited_role", "args": {"role_name": "x"}}),
        "parse-failed",
        "key \"role_set\" not found",
    )
    .await;
    // Dropping a parent of another inherited role orphans it: refused.
    h.fails(
        json!({"type": "drop_inherited_role", "args": {"role_name": "c"}}),
        "unexpected",
        "new inconsistent metadata",
    )
    .await;
    // The last permission of a parent role cannot go while the inherited role needs it.
    h.fails(
        json!({"type": "pg_drop_select_permission", "args": {"table": "posts", "role": "a"}}),
        "unexpected",
        "new inconsistent metadata",
    )
    .await;
    h.ok(json!({"type": "drop_inherited_role", "args": {"role_name": "ab"}}))
        .await;
    h.fails(
        json!({"type": "drop_inherited_role", "args": {"role_name": "ab"}}),
        "not-exists",
        "\"ab\" inherited role doesn't exist",
    )
    .await;

    // replace_metadata round-trips them and refuses a cycle.
    let mut x = h.export().await;
    h.ok(json!({"type": "replace_metadata", "args": x.clone()}))
        .await;
    assert_eq!(h.export().await, x);
    x["inherited_roles"] = json!([
        {"role_name": "p", "role_set": ["q", "a"]},
        {"role_name": "q", "role_set": ["p"]},
    ]);
    h.fails(
        json!({"type": "replace_metadata", "args": x}),
        "cyclic-dependency",
        r#"["p","q","p"]"#,
    )
    .await;
}

#[tokio::test]
async fn computed_fields() {
    let h = setup().await;
    h.ok(add_field("title_label", json!({"function": "label"})))
        .await;
    h.ok(json!({"type": "add_computed_field", "args": {"table": "posts", "name": "role_seen",
        "definition": {"function": {"schema": "public", "name": "with_session"}, "session_argument": "s", "table_argument": "p"},
        "comment": ""}}))
        .await;
    let x = h.export().await;
    assert_eq!(
        x["sources"][0]["tables"][1]["computed_fields"],
        json!([
            {"name": "role_seen", "definition": {"function": {"name": "with_session", "schema": "public"}, "session_argument": "s", "table_argument": "p"}, "comment": ""},
            {"name": "title_label", "definition": {"function": {"name": "label", "schema": "public"}}},
        ])
    );
    let keys: Vec<&String> = x["sources"][0]["tables"][1]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["table", "computed_fields", "select_permissions"]);

    h.fails(
        add_field("x", json!({"function": "missing"})),
        "invalid-configuration",
        "no such function exists: \"missing\"",
    )
    .await;
    h.fails(
        add_field("x", json!({"function": "volatile_label"})),
        "invalid-configuration",
        "is of type VOLATILE; cannot be added as a computed field",
    )
    .await;
    h.fails(add_field("x", json!({"function": "wrong_table"})), "invalid-configuration", "first argument of the function \"wrong_table\" of type \"other\" is not the table to which the computed field is being added")
        .await;
    h.fails(
        add_field(
            "x",
            json!({"function": "bad_session", "session_argument": "s"}),
        ),
        "invalid-configuration",
        "\"s\" argument of the function \"bad_session\" is not of type JSON",
    )
    .await;
    h.fails(
        add_field("x", json!({"function": "label", "table_argument": "nope"})),
        "invalid-configuration",
        "\"nope\" is not an input argument of the function \"label\"",
    )
    .await;
    h.fails(
        add_field("id", json!({"function": "id"})),
        "invalid-configuration",
        "field definition conflicts with postgres column",
    )
    .await;
    h.fails(
        add_field("x", json!({})),
        "parse-failed",
        "key \"function\" not found",
    )
    .await;
    h.fails(json!({"type": "add_computed_field", "args": {"table": "ghost", "name": "x", "definition": {"function": "label"}}}), "not-exists", "table \"ghost\" does not exist")
        .await;

    // A select permission may list it; an unknown name is refused.
    h.ok(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "c",
        "permission": {"columns": ["id"], "filter": {}, "computed_fields": ["title_label"]}}}),
    )
    .await;
    h.fails(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "d",
        "permission": {"columns": ["id"], "filter": {}, "computed_fields": ["nope"]}}}),
        "invalid-configuration",
        "computed field \"nope\" does not exist",
    )
    .await;
    // Dropping it needs `cascade` while a permission lists it.
    let drop = |cascade: bool| json!({"type": "drop_computed_field", "args": {"table": "posts", "name": "title_label", "cascade": cascade}});
    h.fails(drop(false), "dependency-error", "permission posts.c.select")
        .await;
    h.ok(drop(true)).await;
    let x = h.export().await;
    let perms = &x["sources"][0]["tables"][1]["select_permissions"];
    assert!(
        perms.as_array().unwrap().iter().all(|p| p["role"] != "c"),
        "{perms}"
    );
    h.fails(
        drop(false),
        "not-exists",
        "computed field \"title_label\" does not exist",
    )
    .await;

    // SQL dropping the function of a computed field is refused and rolled back.
    let (s, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "DROP FUNCTION public.with_session(posts, json)"}}))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "unexpected", "{v}");
    assert_eq!(v["internal"][0]["type"], "computed_field", "{v}");
    let (_, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "SELECT count(*) FROM pg_proc WHERE proname = 'with_session'"}}))
        .await;
    assert_eq!(v["result"][1][0], "1", "{v}");
    // Without the metadata check it goes through, and the field is inconsistent.
    h.post("/v2/query", json!({"type": "run_sql", "args": {"sql": "DROP FUNCTION public.with_session(posts, json)", "check_metadata_consistency": false}}))
        .await;
    let (_, v) = h
        .meta(json!({"type": "get_inconsistent_metadata", "args": {}}))
        .await;
    assert_eq!(
        v["inconsistent_objects"][0]["type"], "computed_field",
        "{v}"
    );
}

#[tokio::test]
async fn graphql_inherited_role_and_computed_field() {
    let h = setup().await;
    h.post("/v2/query", json!({"type": "run_sql", "args": {"sql": "INSERT INTO posts VALUES (1, 'one'), (2, 'two'), (3, 'three')"}}))
        .await;
    h.ok(add_field(
        "who",
        json!({"function": "with_session", "session_argument": "s"}),
    ))
    .await;
    // `ra` sees row 1 with its title, `rb` rows 2 and 3 without it.
    for (role, cols, filter) in [
        ("ra", json!(["id", "title"]), json!({"id": {"_eq": 1}})),
        ("rb", json!(["id"]), json!({"id": {"_gt": 1}})),
    ] {
        h.ok(
            json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": role,
            "permission": {"columns": cols, "filter": filter, "computed_fields": ["who"]}}}),
        )
        .await;
    }
    h.ok(add_role("rab", json!(["ra", "rb"]))).await;
    let gql = |role: &'static str, q: &'static str| {
        let h = &h;
        async move {
            h.http
                .post(format!("{}/v1/graphql", h.emu.endpoint()))
                .header("x-hasura-admin-secret", &h.emu.config.admin_secret)
                .header("x-hasura-role", role)
                .json(&json!({"query": q}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let v = gql("rab", "{ posts(order_by: {id: asc}) { id title who } }").await;
    assert_eq!(
        v["data"]["posts"],
        json!([
            {"id": 1, "title": "one", "who": "rab"},
            {"id": 2, "title": null, "who": "rab"},
            {"id": 3, "title": null, "who": "rab"},
        ]),
        "{v}"
    );
    let v = gql("rb", "{ posts(order_by: {id: asc}) { id title } }").await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'title' not found"),
        "{v}"
    );
    // Limits: a parent without one adds none, the largest set one applies.
    h.ok(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "rc",
        "permission": {"columns": ["id"], "filter": {}, "limit": 2}}}),
    )
    .await;
    h.ok(add_role("rac", json!(["ra", "rc"]))).await;
    let v = gql("rac", "{ posts { id } }").await;
    assert_eq!(v["data"]["posts"].as_array().map(Vec::len), Some(2), "{v}");
    // Insert is inherited when the parents that have one agree, and not otherwise.
    for role in ["ra", "rb"] {
        h.ok(
            json!({"type": "pg_create_insert_permission", "args": {"table": "posts", "role": role,
            "permission": {"check": {}, "columns": ["id", "title"]}}}),
        )
        .await;
    }
    let insert = "mutation { insert_posts(objects: [{id: 9, title: \"nine\"}]) { affected_rows } }";
    let v = gql("rab", insert).await;
    assert_eq!(v["data"]["insert_posts"]["affected_rows"], 1, "{v}");
    h.ok(json!({"type": "pg_drop_insert_permission", "args": {"table": "posts", "role": "rb"}}))
        .await;
    h.ok(
        json!({"type": "pg_create_insert_permission", "args": {"table": "posts", "role": "rb",
        "permission": {"check": {}, "columns": ["id"]}}}),
    )
    .await;
    let v = gql("rab", insert).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'insert_posts' not found"),
        "{v}"
    );
    // A permission of the inherited role itself wins over the inherited one.
    h.ok(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "rab",
        "permission": {"columns": ["id"], "filter": {"id": {"_eq": 3}}}}}),
    )
    .await;
    let v = gql("rab", "{ posts { id } }").await;
    assert_eq!(v["data"]["posts"], json!([{"id": 3}]), "{v}");
}
