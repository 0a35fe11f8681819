//! Inherited roles and computed fields through the metadata API, against a real
//! throwaway PostgreSQL: Hasura's answers, the export shape, replace_metadata.

mod support;

use serde_json::{json, Value};

use support::Emu;

async fn setup() -> Emu {
    let h = Emu::start().await;
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
        h.ok_raw(json!({"type": "pg_track_table", "args": {"table": t}}))
            .await;
    }
    for role in ["a", "b"] {
        h.ok_raw(
            json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": role,
            "permission": {"columns": ["id"], "filter": {}}}}),
        )
        .await;
    }
    h
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
    h.ok_raw(add_role("c", json!(["b", "a", "a"]))).await;
    h.ok_raw(add_role("ab", json!(["c"]))).await;
    // Sorted by name, the set deduplicated, after `sources`.
    let x = h.export().await;
    assert_eq!(
        x["inherited_roles"],
        json!([{"role_name": "ab", "role_set": ["c"]}, {"role_name": "c", "role_set": ["a", "b"]}])
    );
    let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "sources", "inherited_roles"]);
    // Adding an existing name replaces it.
    h.ok_raw(add_role("c", json!(["a"]))).await;
    assert_eq!(
        h.export().await["inherited_roles"][1]["role_set"],
        json!(["a"])
    );

    h.refused_raw(
        add_role("d", json!(["d", "a"])),
        "invalid-params",
        "cannot be in the role combination",
    )
    .await;
    h.refused_raw(add_role("d", json!(["ghost"])), "invalid-configuration", "the following parent role(s) are not found: ghost which are required to construct the inherited role: \"d\"")
        .await;
    h.refused_raw(
        add_role("c", json!(["ab"])),
        "cyclic-dependency",
        r#"found cycle(s) in roles: ["ab","c","ab"]"#,
    )
    .await;
    h.refused_raw(
        add_role("", json!(["a"])),
        "parse-failed",
        "empty string not allowed",
    )
    .await;
    h.refused_raw(
        json!({"type": "add_inherited_role", "args": {"role_name": "x"}}),
        "parse-failed",
        "key \"role_set\" not found",
    )
    .await;
    // Dropping a parent of another inherited role orphans it: refused.
    h.refused_raw(
        json!({"type": "drop_inherited_role", "args": {"role_name": "c"}}),
        "unexpected",
        "new inconsistent metadata",
    )
    .await;
    // The last permission of a parent role cannot go while the inherited role needs it.
    h.refused_raw(
        json!({"type": "pg_drop_select_permission", "args": {"table": "posts", "role": "a"}}),
        "unexpected",
        "new inconsistent metadata",
    )
    .await;
    h.ok_raw(json!({"type": "drop_inherited_role", "args": {"role_name": "ab"}}))
        .await;
    h.refused_raw(
        json!({"type": "drop_inherited_role", "args": {"role_name": "ab"}}),
        "not-exists",
        "\"ab\" inherited role doesn't exist",
    )
    .await;

    // replace_metadata round-trips them and refuses a cycle.
    let mut x = h.export().await;
    h.ok_raw(json!({"type": "replace_metadata", "args": x.clone()}))
        .await;
    assert_eq!(h.export().await, x);
    x["inherited_roles"] = json!([
        {"role_name": "p", "role_set": ["q", "a"]},
        {"role_name": "q", "role_set": ["p"]},
    ]);
    h.refused_raw(
        json!({"type": "replace_metadata", "args": x}),
        "cyclic-dependency",
        r#"["p","q","p"]"#,
    )
    .await;
}

#[tokio::test]
async fn computed_fields() {
    let h = setup().await;
    h.ok_raw(add_field("title_label", json!({"function": "label"})))
        .await;
    h.ok_raw(json!({"type": "add_computed_field", "args": {"table": "posts", "name": "role_seen",
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

    h.refused_raw(
        add_field("x", json!({"function": "missing"})),
        "invalid-configuration",
        "no such function exists: \"missing\"",
    )
    .await;
    h.refused_raw(
        add_field("x", json!({"function": "volatile_label"})),
        "invalid-configuration",
        "is of type VOLATILE; cannot be added as a computed field",
    )
    .await;
    h.refused_raw(add_field("x", json!({"function": "wrong_table"})), "invalid-configuration", "first argument of the function \"wrong_table\" of type \"other\" is not the table to which the computed field is being added")
        .await;
    h.refused_raw(
        add_field(
            "x",
            json!({"function": "bad_session", "session_argument": "s"}),
        ),
        "invalid-configuration",
        "\"s\" argument of the function \"bad_session\" is not of type JSON",
    )
    .await;
    h.refused_raw(
        add_field("x", json!({"function": "label", "table_argument": "nope"})),
        "invalid-configuration",
        "\"nope\" is not an input argument of the function \"label\"",
    )
    .await;
    h.refused_raw(
        add_field("id", json!({"function": "id"})),
        "invalid-configuration",
        "field definition conflicts with postgres column",
    )
    .await;
    h.refused_raw(
        add_field("x", json!({})),
        "parse-failed",
        "key \"function\" not found",
    )
    .await;
    h.refused_raw(json!({"type": "add_computed_field", "args": {"table": "ghost", "name": "x", "definition": {"function": "label"}}}), "not-exists", "table \"ghost\" does not exist")
        .await;

    // A select permission may list it; an unknown name is refused.
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "c",
        "permission": {"columns": ["id"], "filter": {}, "computed_fields": ["title_label"]}}}),
    )
    .await;
    h.refused_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "d",
        "permission": {"columns": ["id"], "filter": {}, "computed_fields": ["nope"]}}}),
        "invalid-configuration",
        "computed field \"nope\" does not exist",
    )
    .await;
    // Dropping it needs `cascade` while a permission lists it.
    let drop = |cascade: bool| json!({"type": "drop_computed_field", "args": {"table": "posts", "name": "title_label", "cascade": cascade}});
    h.refused_raw(drop(false), "dependency-error", "permission posts.c.select")
        .await;
    h.ok_raw(drop(true)).await;
    let x = h.export().await;
    let perms = &x["sources"][0]["tables"][1]["select_permissions"];
    assert!(
        perms.as_array().unwrap().iter().all(|p| p["role"] != "c"),
        "{perms}"
    );
    h.refused_raw(
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
        .meta_raw(json!({"type": "get_inconsistent_metadata", "args": {}}))
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
    h.ok_raw(add_field(
        "who",
        json!({"function": "with_session", "session_argument": "s"}),
    ))
    .await;
    // `ra` sees row 1 with its title, `rb` rows 2 and 3 without it.
    for (role, cols, filter) in [
        ("ra", json!(["id", "title"]), json!({"id": {"_eq": 1}})),
        ("rb", json!(["id"]), json!({"id": {"_gt": 1}})),
    ] {
        h.ok_raw(
            json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": role,
            "permission": {"columns": cols, "filter": filter, "computed_fields": ["who"]}}}),
        )
        .await;
    }
    h.ok_raw(add_role("rab", json!(["ra", "rb"]))).await;
    let gql = |role: &'static str, q: &'static str| {
        let h = &h;
        async move {
            h.gql_admin(&[("x-hasura-role", role)], q, Value::Null)
                .await
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
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "rc",
        "permission": {"columns": ["id"], "filter": {}, "limit": 2}}}),
    )
    .await;
    h.ok_raw(add_role("rac", json!(["ra", "rc"]))).await;
    let v = gql("rac", "{ posts { id } }").await;
    assert_eq!(v["data"]["posts"].as_array().map(Vec::len), Some(2), "{v}");
    // Insert is inherited when the parents that have one agree, and not otherwise.
    for role in ["ra", "rb"] {
        h.ok_raw(
            json!({"type": "pg_create_insert_permission", "args": {"table": "posts", "role": role,
            "permission": {"check": {}, "columns": ["id", "title"]}}}),
        )
        .await;
    }
    let insert = "mutation { insert_posts(objects: [{id: 9, title: \"nine\"}]) { affected_rows } }";
    let v = gql("rab", insert).await;
    assert_eq!(v["data"]["insert_posts"]["affected_rows"], 1, "{v}");
    h.ok_raw(
        json!({"type": "pg_drop_insert_permission", "args": {"table": "posts", "role": "rb"}}),
    )
    .await;
    h.ok_raw(
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
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "rab",
        "permission": {"columns": ["id"], "filter": {"id": {"_eq": 3}}}}}),
    )
    .await;
    let v = gql("rab", "{ posts { id } }").await;
    assert_eq!(v["data"]["posts"], json!([{"id": 3}]), "{v}");
}
