//! The fuzz targets' logic, shared by the cargo-fuzz binaries (`fuzz_targets/*.rs`) and by
//! `tests/reliability_fuzz.rs`, which runs it on the checked-in corpus plus random inputs
//! where cargo-fuzz is not available. Every target must neither panic nor hang, and checks
//! a property beyond that:
//!
//! * `cty_msgpack`: decoding Terraform's msgpack as one of many cty types never panics; a
//!   decoded value re-encodes to bytes that decode to the same encoding (canonical).
//! * `cty_json`: the same for state JSON (`from_state_json` / `to_json`).
//! * `json_normalise`: `json_eq` is reflexive; `canonical` is idempotent and means the same.
//! * `import_ids`: every resource's import-id parser, through the `ImportResourceState` RPC.
//! * `rpc_values`: arbitrary DynamicValues and type names through the validate, plan,
//!   upgrade and import RPCs of both providers: never an error status, never a panic
//!   (the server turns a panic into a diagnostic; under the fuzzer it aborts, so the
//!   fuzzer reports the panic as the bug it is).
use std::collections::BTreeMap;
use std::sync::OnceLock;

use terraform_providers::clerk::ClerkProvider;
use terraform_providers::framework::json_string::{canonical, json_eq};
use terraform_providers::framework::ProviderServer;
use terraform_providers::hasura::HasuraProvider;
use terraform_providers::plugin::cty::{self, Type, Value};
use terraform_providers::plugin::proto::tfplugin6 as pb;
use terraform_providers::plugin::proto::tfplugin6::provider_server::Provider as _;

/// The summary the framework gives a caught panic: seeing it means a handler panicked.
pub const PANIC_SUMMARY: &str = "Provider bug: internal error";

fn types() -> Vec<Type> {
    let inner = Type::object([
        ("c", Type::Number),
        ("d", Type::list(Type::String)),
        ("e", Type::Dynamic),
    ]);
    vec![
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Bool),
        Type::Tuple(vec![Type::String, Type::Number, Type::Dynamic]),
        Type::object([
            ("a", Type::String),
            ("b", Type::list(inner.clone())),
            ("s", Type::set(inner.clone())),
        ]),
        Type::map(Type::list(Type::map(Type::Dynamic))),
        Type::set(Type::set(Type::String)),
        Type::Object(BTreeMap::new()),
    ]
}

fn pick<T>(items: &[T], b: u8) -> &T {
    &items[b as usize % items.len()]
}

pub fn cty_msgpack(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let ty = pick(&types(), sel).clone();
    if let Ok(v) = cty::decode(bytes, &ty) {
        let once = cty::encode(&v, &ty);
        let again = cty::decode(&once, &ty).unwrap_or_else(|e| {
            panic!("re-encoded value does not decode: {e} (type {ty:?}, value {v:?})")
        });
        assert_eq!(
            cty::encode(&again, &ty),
            once,
            "msgpack encoding is not canonical for {ty:?}"
        );
    }
}

pub fn cty_json(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let ty = pick(&types(), sel).clone();
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    if let Ok(v) = cty::from_state_json(&j, &ty) {
        let out = cty::to_json(&v);
        let again = cty::from_state_json(&out, &ty)
            .unwrap_or_else(|e| panic!("to_json output does not read back: {e} ({out})"));
        assert_eq!(
            cty::to_json(&again),
            out,
            "state JSON is not stable for {ty:?}"
        );
    }
}

pub fn json_normalise(data: &[u8]) {
    let s = String::from_utf8_lossy(data).into_owned();
    let a = Value::string(s.clone());
    assert!(json_eq(&a, &a), "json_eq is not reflexive for {s:?}");
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) {
        let c = canonical(&v);
        let back: serde_json::Value =
            serde_json::from_str(&c).unwrap_or_else(|e| panic!("canonical {c:?} is not JSON: {e}"));
        assert_eq!(canonical(&back), c, "canonical is not idempotent");
        assert!(
            json_eq(&a, &Value::string(c.clone())),
            "canonical changed the meaning of {s:?} -> {c:?}"
        );
    }
}

struct Servers {
    rt: tokio::runtime::Runtime,
    clerk: ProviderServer,
    hasura: ProviderServer,
}

fn servers() -> &'static Servers {
    static S: OnceLock<Servers> = OnceLock::new();
    S.get_or_init(|| Servers {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        clerk: ProviderServer::new(ClerkProvider),
        hasura: ProviderServer::new(HasuraProvider),
    })
}

const CLERK_RESOURCES: &[&str] = &["clerk_jwt_template", "clerk_nope", ""];
const CLERK_DATA: &[&str] = &["clerk_jwt_template", "clerk_jwks"];
const HASURA_RESOURCES: &[&str] = &[
    "hasura_table",
    "hasura_permission",
    "hasura_env_var",
    "hasura_tracked_table",
];

fn check_diags(rpc: &str, diags: &[pb::Diagnostic]) {
    for d in diags {
        assert!(
            d.summary != PANIC_SUMMARY,
            "{rpc} panicked (caught): {}",
            d.detail
        );
    }
}

/// Every import-id parser: unconfigured servers, so nothing is fetched; a parser that
/// needs the API first answers with a diagnostic, which is fine.
pub fn import_ids(data: &[u8]) {
    let s = servers();
    let id = String::from_utf8_lossy(data).into_owned();
    for (srv, types) in [(&s.clerk, CLERK_RESOURCES), (&s.hasura, HASURA_RESOURCES)] {
        for t in types {
            let r = s.rt.block_on(srv.import_resource_state(tonic::Request::new(
                pb::import_resource_state::Request {
                    type_name: t.to_string(),
                    id: id.clone(),
                    ..Default::default()
                },
            )));
            let r = r.expect("ImportResourceState returned an error status");
            check_diags("ImportResourceState", &r.get_ref().diagnostics);
        }
    }
}

fn dv(bytes: &[u8], json: bool) -> Option<pb::DynamicValue> {
    Some(if json {
        pb::DynamicValue {
            msgpack: vec![],
            json: bytes.to_vec(),
        }
    } else {
        pb::DynamicValue {
            msgpack: bytes.to_vec(),
            json: vec![],
        }
    })
}

/// Arbitrary values through the RPCs: byte 0 picks provider and resource, byte 1 the RPC,
/// the rest is the value (split in two for plan's prior and proposed state).
pub fn rpc_values(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let s = servers();
    let (srv, types) = if a % 2 == 0 {
        (&s.clerk, CLERK_RESOURCES)
    } else {
        (&s.hasura, HASURA_RESOURCES)
    };
    let t = pick(types, a / 2).to_string();
    let json = b & 0x80 != 0;
    let (x, y) = rest.split_at(rest.len() / 2);
    match b % 7 {
        0 => {
            let r =
                s.rt.block_on(srv.validate_resource_config(tonic::Request::new(
                    pb::validate_resource_config::Request {
                        type_name: t,
                        config: dv(rest, json),
                        ..Default::default()
                    },
                )))
                .expect("ValidateResourceConfig status");
            check_diags("ValidateResourceConfig", &r.get_ref().diagnostics);
        }
        1 => {
            let r =
                s.rt.block_on(srv.plan_resource_change(tonic::Request::new(
                    pb::plan_resource_change::Request {
                        type_name: t,
                        prior_state: None,
                        proposed_new_state: dv(rest, json),
                        config: dv(rest, json),
                        ..Default::default()
                    },
                )))
                .expect("PlanResourceChange status");
            check_diags("PlanResourceChange", &r.get_ref().diagnostics);
        }
        2 => {
            let r =
                s.rt.block_on(srv.plan_resource_change(tonic::Request::new(
                    pb::plan_resource_change::Request {
                        type_name: t,
                        prior_state: dv(x, json),
                        proposed_new_state: dv(y, json),
                        config: dv(y, json),
                        ..Default::default()
                    },
                )))
                .expect("PlanResourceChange status");
            check_diags("PlanResourceChange", &r.get_ref().diagnostics);
        }
        3 => {
            let r =
                s.rt.block_on(srv.upgrade_resource_state(tonic::Request::new(
                    pb::upgrade_resource_state::Request {
                        type_name: t,
                        version: i64::from(*b) - 100,
                        raw_state: Some(pb::RawState {
                            json: rest.to_vec(),
                            ..Default::default()
                        }),
                    },
                )))
                .expect("UpgradeResourceState status");
            check_diags("UpgradeResourceState", &r.get_ref().diagnostics);
        }
        4 => {
            let r =
                s.rt.block_on(srv.validate_provider_config(tonic::Request::new(
                    pb::validate_provider_config::Request {
                        config: dv(rest, json),
                    },
                )))
                .expect("ValidateProviderConfig status");
            check_diags("ValidateProviderConfig", &r.get_ref().diagnostics);
        }
        5 => {
            let r =
                s.rt.block_on(
                    srv.read_resource(tonic::Request::new(pb::read_resource::Request {
                        type_name: t,
                        current_state: dv(rest, json),
                        ..Default::default()
                    })),
                )
                .expect("ReadResource status");
            check_diags("ReadResource", &r.get_ref().diagnostics);
        }
        _ => {
            let d = pick(CLERK_DATA, *a).to_string();
            let r =
                s.rt.block_on(s.clerk.validate_data_resource_config(tonic::Request::new(
                    pb::validate_data_resource_config::Request {
                        type_name: d,
                        config: dv(rest, json),
                    },
                )))
                .expect("ValidateDataResourceConfig status");
            check_diags("ValidateDataResourceConfig", &r.get_ref().diagnostics);
        }
    }
}
