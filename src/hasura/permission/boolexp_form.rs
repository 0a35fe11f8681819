//! The form graphql-engine stores a permission's boolean expression in, so a
//! filter written with `$or` (or `_table: "t"`) compares equal to what
//! `export_metadata` answers. Mirrors `FromJSON`/`ToJSON (GBoolExp b a)` in
//! server/src-lib/Hasura/RQL/IR/BoolExp.hs (hasura/graphql-engine, commit
//! 0017d0caec0b868d43d12df23d6f94874bd3783a): every key of an object is a
//! connective (`$and`/`_and`, `$or`/`_or`, `$not`/`_not`, `$exists`/`_exists`)
//! or a field whose value (`ColExp`'s raw JSON) is kept verbatim, `$eq` and
//! all; an object is the conjunction of its keys, written back as a plain
//! object when their keys are unique and as `{"_and": [...]}` otherwise.
use serde::Deserialize;
use serde_json::{Map, Value as J};

use super::super::relationship::Table;
use super::boolexp::connective;

enum Exp {
    And(Vec<Exp>),
    Or(Vec<Exp>),
    Not(Box<Exp>),
    /// `GExists`: the table (`QualifiedTable`) and the condition on it.
    Exists(J, Box<Exp>),
    Field(String, J),
}

/// `toJSON . parseJSON` of a permission boolean expression; `None` where
/// graphql-engine would refuse to parse it.
pub(super) fn stored_form(v: &J) -> Option<J> {
    Some(encode(&parse(v)?))
}

fn parse(v: &J) -> Option<Exp> {
    let obj = v.as_object()?;
    let parts = obj.iter().map(|(k, v)| parse_entry(k, v));
    Some(Exp::And(parts.collect::<Option<_>>()?))
}

fn parse_entry(key: &str, v: &J) -> Option<Exp> {
    let list = |v: &J| v.as_array()?.iter().map(parse).collect::<Option<Vec<_>>>();
    Some(match connective(key) {
        Some("_and") => Exp::And(list(v)?),
        Some("_or") => Exp::Or(list(v)?),
        Some("_not") => Exp::Not(Box::new(parse(v)?)),
        Some(_) => {
            let e = Exists::deserialize(v).ok()?;
            Exp::Exists(table(&e.table), Box::new(parse(&e.filter)?))
        }
        None => Exp::Field(key.to_string(), v.clone()),
    })
}

/// `_exists`: a boolean expression on another table.
#[derive(Deserialize)]
pub(super) struct Exists {
    #[serde(rename = "_table")]
    pub table: Table,
    #[serde(rename = "_where")]
    pub filter: J,
}

/// A `QualifiedObject` written back as an object with both keys (the schema
/// defaults to `public`).
fn table(t: &Table) -> J {
    let mut m = Map::new();
    m.insert("schema".into(), J::String(t.schema.clone()));
    m.insert("name".into(), J::String(t.name.clone()));
    J::Object(m)
}

fn encode(e: &Exp) -> J {
    if let Exp::And(parts) = e {
        let kvs: Vec<(String, J)> = parts.iter().map(key_value).collect();
        let mut m = Map::new();
        for (k, v) in &kvs {
            m.insert(k.clone(), v.clone());
        }
        if m.len() == kvs.len() {
            return J::Object(m);
        }
    }
    let (k, v) = key_value(e);
    let mut m = Map::new();
    m.insert(k, v);
    J::Object(m)
}

fn key_value(e: &Exp) -> (String, J) {
    let list = |es: &[Exp]| J::Array(es.iter().map(encode).collect());
    match e {
        Exp::And(es) => ("_and".into(), list(es)),
        Exp::Or(es) => ("_or".into(), list(es)),
        Exp::Not(e) => ("_not".into(), encode(e)),
        Exp::Exists(t, w) => {
            let mut m = Map::new();
            m.insert("_table".into(), t.clone());
            m.insert("_where".into(), encode(w));
            ("_exists".into(), J::Object(m))
        }
        Exp::Field(k, v) => (k.clone(), v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(v: J) -> J {
        stored_form(&v).expect("parses")
    }

    #[test]
    fn connectives_come_back_with_underscores() {
        assert_eq!(
            form(json!({"$or": [{"id": {"$eq": 1}}, {"$not": {"n": {"_is_null": true}}}]})),
            json!({"_or": [{"id": {"$eq": 1}}, {"_not": {"n": {"_is_null": true}}}]})
        );
        assert_eq!(
            form(json!({"$exists": {"_table": "t", "_where": {"$and": [{"a": 1}]}, "x": 1}})),
            json!({"_exists": {"_table": {"schema": "public", "name": "t"}, "_where": {"_and": [{"a": 1}]}}})
        );
        assert_eq!(
            form(json!({"_exists": {"_table": {"name": "t", "schema": "s"}, "_where": {}}})),
            json!({"_exists": {"_table": {"schema": "s", "name": "t"}, "_where": {}}})
        );
    }

    #[test]
    fn field_values_are_kept_verbatim() {
        let v = json!({"author": {"$or": [{"id": {"$eq": "X-Hasura-User-Id"}}]}, "id": 3});
        assert_eq!(form(v.clone()), v);
        assert_eq!(form(json!({})), json!({}));
        assert_eq!(form(json!({"_and": []})), json!({"_and": []}));
    }

    #[test]
    fn repeated_keys_become_an_and() {
        assert_eq!(
            form(json!({"$or": [{"a": 1}], "_or": [{"b": 2}]})),
            json!({"_and": [{"_or": [{"a": 1}]}, {"_or": [{"b": 2}]}]})
        );
    }

    #[test]
    fn what_hasura_refuses_does_not_parse() {
        for bad in [
            json!([]),
            json!({"_or": {}}),
            json!({"_and": [1]}),
            json!({"_not": []}),
            json!({"_exists": {"_table": "t"}}),
            json!({"_exists": {"_table": 1, "_where": {}}}),
        ] {
            assert!(stored_form(&bad).is_none(), "{bad}");
        }
    }
}
