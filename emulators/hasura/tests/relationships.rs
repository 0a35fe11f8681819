//! Local relationships: the metadata commands with graphql-engine's validation and
//! errors, their export shape, the dependencies they create (permissions through them,
//! untracking, dropping a column), and GraphQL through them with the remote table's
//! permission at every level.

mod support;

use serde_json::{json, Value};

use support::Emu;

type H = Emu;

/// users <- posts (posts.author_id references users.id), teams without a key, all
/// tracked; `user` reads every user and team, and only its own posts.
async fn setup() -> H {
    let h = Emu::start().await;
    let (s, v) = h
            .sql("CREATE TABLE users (id text PRIMARY KEY, name text, team text);
                  CREATE TABLE posts (id int PRIMARY KEY, author_id text REFERENCES users(id), title text);
                  CREATE TABLE teams (name text PRIMARY KEY, open boolean);
                  INSERT INTO users VALUES ('alice', 'Alice', 'red'), ('bob', 'Bob', 'blue');
                  INSERT INTO posts VALUES (1, 'alice', 'A1'), (2, 'alice', 'A2'), (3, 'bob', 'B1');
                  INSERT INTO teams VALUES ('red', true), ('blue', false);")
            .await;
    assert_eq!(s, 200, "{v}");
    for t in ["users", "posts", "teams"] {
        h.ok_raw(json!({"type": "pg_track_table", "args": {"table": t}}))
            .await;
    }
    h
}

impl Emu {
    /// GraphQL as role `user` with this user id.
    async fn as_user(&self, user: &str, query: &str) -> Value {
        let session = [("x-hasura-role", "user"), ("x-hasura-user-id", user)];
        self.gql_admin(&session, query, Value::Null).await
    }

    async fn table(&self, name: &str) -> Value {
        let md = self.emu.metadata().await;
        md["sources"][0]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"]["name"] == name)
            .cloned()
            .unwrap()
    }
}

fn create(kind: &str, table: &str, name: &str, using: Value) -> Value {
    json!({"type": format!("pg_create_{kind}_relationship"), "args": {"table": table, "name": name, "using": using}})
}

/// The blog's relationships and permissions.
async fn blog(h: &H) {
    h.ok_raw(create(
        "object",
        "posts",
        "author",
        json!({"foreign_key_constraint_on": "author_id"}),
    ))
    .await;
    h.ok_raw(create(
        "array",
        "users",
        "posts",
        json!({"foreign_key_constraint_on": {"table": "posts", "column": "author_id"}}),
    ))
    .await;
    h.ok_raw(create(
        "object",
        "users",
        "my_team",
        json!({"manual_configuration": {"remote_table": "teams", "column_mapping": {"team": "name"}}}),
    ))
    .await;
    let own = json!({"author": {"id": {"_eq": "X-Hasura-User-Id"}}});
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "posts", "role": "user",
        "permission": {"columns": ["id", "title"], "filter": own}}}),
    )
    .await;
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
        "permission": {"columns": ["id", "name"], "filter": {}}}}),
    )
    .await;
    // Teams are readable only when open.
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "teams", "role": "user",
        "permission": {"columns": ["name"], "filter": {"open": {"_eq": true}}}}}),
    )
    .await;
}

#[tokio::test]
async fn creates_are_validated_and_exported_as_graphql_engine_does() {
    let h = setup().await;
    blog(&h).await;
    assert_eq!(
        h.table("users").await["object_relationships"],
        json!([{"name": "my_team", "using": {"manual_configuration": {"column_mapping": {"team": "name"}, "insertion_order": null, "remote_table": {"name": "teams", "schema": "public"}}}}])
    );
    assert_eq!(
        h.table("users").await["array_relationships"],
        json!([{"name": "posts", "using": {"foreign_key_constraint_on": {"table": {"name": "posts", "schema": "public"}, "column": "author_id"}}}])
    );

    let cases = [
        (
            create("object", "posts", "title", json!({"foreign_key_constraint_on": "author_id"})),
            "already-exists",
            "field with name \"title\" already exists in table \"posts\"".to_string(),
        ),
        (
            create("object", "posts", "author", json!({"foreign_key_constraint_on": "author_id"})),
            "already-exists",
            "field with name \"author\" already exists in table \"posts\"".into(),
        ),
        (
            create("object", "nope", "x", json!({"foreign_key_constraint_on": "a"})),
            "not-exists",
            "table \"nope\" does not exist in source: default".into(),
        ),
        (
            create("object", "posts", "x", json!({"foreign_key_constraint_on": "title"})),
            "invalid-configuration",
            "Inconsistent object: in table \"posts\": in relationship \"x\": no foreign constraint exists on the given column(s)".into(),
        ),
        (
            create("object", "posts", "x", json!({"manual_configuration": {"remote_table": "users", "column_mapping": {"ghost": "id"}}})),
            "invalid-configuration",
            "Inconsistent object: table \"posts\" has no field named \"ghost\"".into(),
        ),
    ];
    for (body, code, error) in cases {
        let (s, v) = h.meta_raw(body.clone()).await;
        assert_eq!(
            (s, v["code"].as_str(), v["error"].as_str()),
            (400, Some(code), Some(error.as_str())),
            "{body}: {v}"
        );
    }
    let (s, v) = h
        .meta_raw(create(
            "array",
            "users",
            "x",
            json!({"foreign_key_constraint_on": "author_id"}),
        ))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("parse-failed")), "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .ends_with("Expecting object { table, columns }."),
        "{v}"
    );
    let (_, v) = h
        .meta_raw(create(
            "object",
            "posts",
            "x",
            json!({"foreign_key_constraint_on": "a", "manual_configuration": {}}),
        ))
        .await;
    assert!(
        v["error"].as_str().unwrap().ends_with(
            "only one of foreign_key_constraint_on/manual_configuration should be present"
        ),
        "{v}"
    );

    // A remote table that is not tracked.
    h.ok_raw(json!({"type": "pg_untrack_table", "args": {"table": "teams", "cascade": true}}))
        .await;
    assert!(
        h.table("users").await.get("object_relationships").is_none(),
        "cascade dropped my_team"
    );
    let (s, v) = h
        .meta_raw(create("object", "users", "t", json!({"manual_configuration": {"remote_table": "teams", "column_mapping": {"team": "name"}}})))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            400,
            Some("Inconsistent object: table \"teams\" is not tracked")
        ),
        "{v}"
    );
    h.emu.stop().await;
}

#[tokio::test]
async fn rename_comment_drop_and_their_dependents() {
    let h = setup().await;
    blog(&h).await;
    let rename = |from: &str, to: &str| json!({"type": "pg_rename_relationship", "args": {"table": "posts", "name": from, "new_name": to}});
    let (s, v) = h.meta_raw(rename("author", "title")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(v["error"], "cannot rename relationship \"author\" to \"title\" in table \"posts\" as a column/relationship with the name already exists");
    let (s, v) = h.meta_raw(rename("ghost", "x")).await;
    assert_eq!(
        (s, &v["error"]),
        (400, &json!("relationship \"ghost\" does not exist")),
        "{v}"
    );

    // The permission that follows it is rewritten; GraphQL works under the new name.
    h.ok_raw(rename("author", "owner")).await;
    let posts = h.table("posts").await;
    assert_eq!(posts["object_relationships"][0]["name"], "owner");
    assert_eq!(
        posts["select_permissions"][0]["permission"]["filter"],
        json!({"owner": {"id": {"_eq": "X-Hasura-User-Id"}}})
    );
    let v = h.as_user("bob", "{ posts { title owner { name } } }").await;
    assert_eq!(
        v["data"]["posts"],
        json!([{"title": "B1", "owner": {"name": "Bob"}}]),
        "{v}"
    );

    h.ok_raw(json!({"type": "pg_set_relationship_comment", "args": {"table": "posts", "relationship": "owner", "comment": "who wrote it"}}))
        .await;
    assert_eq!(
        h.table("posts").await["object_relationships"][0]["comment"],
        "who wrote it"
    );

    // Dropping it needs cascade while the permission uses it.
    let drop = |cascade: bool| json!({"type": "pg_drop_relationship", "args": {"table": "posts", "relationship": "owner", "cascade": cascade}});
    let (s, v) = h.meta_raw(drop(false)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("dependency-error")),
        "{v}"
    );
    assert_eq!(v["error"], "cannot drop due to the following dependent objects : permission posts.user.select in source \"default\"");
    h.ok_raw(drop(true)).await;
    let posts = h.table("posts").await;
    assert!(
        posts.get("object_relationships").is_none() && posts.get("select_permissions").is_none(),
        "{posts}"
    );
    let (s, v) = h.meta_raw(drop(false)).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");

    // Untracking the table an array relationship leads to, and dropping its column.
    let (s, v) = h
        .meta_raw(json!({"type": "pg_untrack_table", "args": {"table": "posts"}}))
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("cannot drop due to the following dependent objects : relationship users.posts in source \"default\"")), "{v}");
    let (s, v) = h
        .post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "ALTER TABLE posts DROP COLUMN author_id"}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("dependency-error")),
        "{v}"
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("relationship users.posts"),
        "{v}"
    );
    let (s, v) = h.post("/v2/query", json!({"type": "run_sql", "args": {"sql": "ALTER TABLE posts DROP COLUMN author_id", "cascade": true}})).await;
    assert_eq!(s, 200, "{v}");
    assert!(h.table("users").await.get("array_relationships").is_none());
    h.emu.stop().await;
}

#[tokio::test]
async fn graphql_follows_relationships_with_each_levels_permission() {
    let h = setup().await;
    blog(&h).await;
    // Array: each user's posts, filtered by the posts permission.
    let v = h
        .as_user("alice", "{ users(order_by: {id: asc}) { id posts(order_by: {id: desc}) { title } my_team { name } } }")
        .await;
    assert_eq!(
        v["data"]["users"],
        json!([
            {"id": "alice", "posts": [{"title": "A2"}, {"title": "A1"}], "my_team": {"name": "red"}},
            // Bob's team is closed: the object relationship is null.
            {"id": "bob", "posts": [], "my_team": null},
        ]),
        "{v}"
    );
    // Arguments on an array relationship, nested object, and a column the role may not read.
    let v = h.as_user("alice", "{ users(where: {id: {_eq: \"alice\"}}) { posts(limit: 1, where: {title: {_eq: \"A2\"}}) { title author { name } } } }").await;
    assert_eq!(
        v["data"]["users"],
        json!([{"posts": [{"title": "A2", "author": {"name": "Alice"}}]}]),
        "{v}"
    );
    let v = h.as_user("alice", "{ posts { author { team } } }").await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "validation-failed",
        "{v}"
    );

    // `where` through relationships: object, array, and the remote permission applies.
    let v = h
        .as_user(
            "alice",
            "{ users(where: {posts: {title: {_eq: \"A1\"}}}) { id } }",
        )
        .await;
    assert_eq!(v["data"]["users"], json!([{"id": "alice"}]), "{v}");
    let v = h
        .as_user(
            "alice",
            "{ users(where: {posts: {title: {_eq: \"B1\"}}}) { id } }",
        )
        .await;
    assert_eq!(
        v["data"]["users"],
        json!([]),
        "bob's post is not visible to alice: {v}"
    );
    let v = h
        .as_user(
            "bob",
            "{ posts(where: {author: {name: {_eq: \"Bob\"}}}) { id } }",
        )
        .await;
    assert_eq!(v["data"]["posts"], json!([{"id": 3}]), "{v}");

    // A permission through an array relationship, and `_exists` on an unrelated table.
    h.ok_raw(
        json!({"type": "pg_drop_select_permission", "args": {"table": "users", "role": "user"}}),
    )
    .await;
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
        "permission": {"columns": ["id"], "filter": {"_and": [
            {"posts": {"title": {"_like": "A%"}}},
            {"_exists": {"_table": "teams", "_where": {"open": {"_eq": true}}}}
        ]}}}}),
    )
    .await;
    let v = h.as_user("bob", "{ users { id } }").await;
    assert_eq!(v["data"]["users"], json!([{"id": "alice"}]), "{v}");
    // An insert check through a relationship: a post for someone else is refused.
    h.ok_raw(json!({"type": "pg_create_insert_permission", "args": {"table": "posts", "role": "user",
        "permission": {"columns": ["id", "author_id", "title"], "check": {"author": {"id": {"_eq": "X-Hasura-User-Id"}}}}}}))
        .await;
    let insert = |id: i64, author: &str| {
        format!("mutation {{ insert_posts(objects: [{{id: {id}, author_id: \"{author}\", title: \"t\"}}]) {{ affected_rows }} }}")
    };
    let v = h.as_user("alice", &insert(10, "bob")).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "permission-error",
        "{v}"
    );
    let v = h.as_user("alice", &insert(10, "alice")).await;
    assert_eq!(v["data"]["insert_posts"]["affected_rows"], 1, "{v}");

    // With no open team left, `_exists` is false for every row.
    let (st, v) = h.sql("UPDATE teams SET open = false").await;
    assert_eq!(st, 200, "{v}");
    let v = h.as_user("bob", "{ users { id } }").await;
    assert_eq!(v["data"]["users"], json!([]), "{v}");
    h.emu.stop().await;
}
