use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::framework::value::{Known, Null, Unknown, Value};
use crate::plugin::cty::Number;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Col {
    name: Value<String>,
    nullable: Value<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct M {
    id: Value<String>,
    n: Value<i64>,
    cols: Value<Vec<Col>>,
    tags: Value<Vec<String>>,
    labels: Value<BTreeMap<String, String>>,
}

fn ty() -> Type {
    Type::object([
        ("id", Type::String),
        ("n", Type::Number),
        (
            "cols",
            Type::list(Type::object([
                ("name", Type::String),
                ("nullable", Type::Bool),
            ])),
        ),
        ("tags", Type::set(Type::String)),
        ("labels", Type::map(Type::String)),
    ])
}

fn obj(pairs: &[(&str, Cty)]) -> Cty {
    Cty::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn null_unknown_and_known_stay_apart() {
    let v = obj(&[
        ("id", Cty::Unknown),
        ("n", Cty::Null),
        (
            "cols",
            Cty::List(vec![
                obj(&[("name", Cty::string("a")), ("nullable", Cty::Unknown)]),
                Cty::Unknown,
            ]),
        ),
        ("tags", Cty::Set(vec![Cty::string("x")])),
        ("labels", Cty::Unknown),
    ]);
    let m: M = from_cty(&v).unwrap();
    assert_eq!(m.id, Unknown);
    assert_eq!(m.n, Null);
    let cols = m.cols.known().unwrap();
    assert_eq!(cols[0].name, Known("a".to_string()));
    assert_eq!(cols[0].nullable, Unknown);
    assert_eq!(
        cols[1],
        Col {
            name: Unknown,
            nullable: Unknown
        },
        "an unknown object is all unknown"
    );
    assert_eq!(m.labels, Unknown);
    assert_eq!(
        to_cty(&m, &ty()).unwrap(),
        Cty::Object({
            let mut o = v.as_object().unwrap().clone();
            o.insert(
                "cols".into(),
                Cty::List(vec![
                    obj(&[("name", Cty::string("a")), ("nullable", Cty::Unknown)]),
                    obj(&[("name", Cty::Unknown), ("nullable", Cty::Unknown)]),
                ]),
            );
            o
        })
    );
}

#[test]
fn round_trip_known() {
    let m = M {
        id: "x".into(),
        n: Known(-5),
        cols: Known(vec![Col {
            name: "a".into(),
            nullable: Known(true),
        }]),
        tags: Known(vec!["b".into(), "a".into()]),
        labels: Known(BTreeMap::from([("k".into(), "v".into())])),
    };
    let v = to_cty(&m, &ty()).unwrap();
    assert_eq!(v.get("n"), &Cty::Number(Number::from_i64(-5)));
    assert!(matches!(v.get("tags"), Cty::Set(s) if s.len() == 2));
    assert!(matches!(v.get("labels"), Cty::Map(_)));
    let back: M = from_cty(&v).unwrap();
    assert_eq!(back, m);
}

#[test]
fn a_model_must_cover_its_schema() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Short {
        id: Value<String>,
    }
    let v = obj(&[("id", Cty::string("x")), ("extra", Cty::Null)]);
    let e = from_cty::<Short>(&v).unwrap_err();
    assert!(e.to_string().contains("\"extra\""), "{e}");
    #[derive(Serialize)]
    struct Long {
        id: Value<String>,
        zzz: Value<String>,
    }
    let e = to_cty(
        &Long {
            id: Null,
            zzz: Null,
        },
        &Type::object([("id", Type::String)]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("zzz"), "{e}");
}

#[test]
fn plain_fields_refuse_unknown_and_options_take_null() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        a: String,
        b: Option<String>,
    }
    let ok: P = from_cty(&obj(&[("a", Cty::string("x")), ("b", Cty::Null)])).unwrap();
    assert_eq!(ok.b, None);
    assert!(from_cty::<P>(&obj(&[("a", Cty::Unknown), ("b", Cty::Null)])).is_err());
    assert!(from_cty::<P>(&obj(&[("a", Cty::string("x")), ("b", Cty::Unknown)])).is_err());
}

#[test]
fn other_formats_see_an_option() {
    let m: M = serde_json::from_str(
        r#"{"id": null, "n": 3, "cols": null, "tags": ["a"], "labels": null}"#,
    )
    .unwrap();
    assert_eq!(m.id, Null);
    assert_eq!(m.n, Known(3));
    assert_eq!(
        serde_json::to_value(Value::<String>::Unknown).unwrap(),
        serde_json::Value::Null
    );
}
