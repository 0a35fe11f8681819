//! `tfplugin6.Provider` on top of the framework: decode, run the framework's
//! planning and the resource's CRUD, enforce the contract, encode.
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::plugin::cty::{self, AttrPath, Type, Value};
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::proto::tfplugin6::provider_server::Provider as ProviderRpc;

use super::diag::Diagnostics;
use super::erased::{DynDataSource, DynProvider, DynResource, TypedProvider};
use super::planning;
use super::resource::{Ctx, Plan, Provider};
use super::schema::Schema;
use super::wire::{decode_dv, encode_dv, path_to_pb, to_pb_diags, write_only_allowed};

pub struct ProviderServer {
    provider: Box<dyn DynProvider>,
    provider_schema: Schema,
    provider_ty: Type,
    resources: HashMap<&'static str, Arc<dyn DynResource>>,
    data_sources: HashMap<&'static str, Arc<dyn DynDataSource>>,
    client: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    cancel: Mutex<CancellationToken>,
    /// Whether the core said at ConfigureProvider that it keeps write-only
    /// values out of state (1.11+): UpgradeResourceState has no capabilities
    /// of its own, and must then drop what an older core stored.
    write_only: AtomicBool,
}

impl ProviderServer {
    pub fn new<P: Provider>(provider: P) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), d))
            .collect();
        let provider_schema = provider.schema();
        ProviderServer {
            provider_ty: provider_schema.cty_type(),
            provider_schema,
            provider: Box::new(TypedProvider(provider)),
            resources,
            data_sources,
            client: RwLock::new(None),
            cancel: Mutex::new(CancellationToken::new()),
            write_only: AtomicBool::new(false),
        }
    }

    fn ctx(&self) -> Ctx {
        Ctx::new(
            self.cancel.lock().expect("cancel lock").clone(),
            self.client.read().expect("client lock").clone(),
        )
    }

    fn resource(&self, name: &str) -> Result<&dyn DynResource, Diagnostics> {
        self.resources.get(name).map(|r| &**r).ok_or_else(|| {
            Diagnostics::error(
                "Unknown resource type",
                format!("This provider has no resource type {name:?}."),
            )
        })
    }

    fn data_source(&self, name: &str) -> Result<&dyn DynDataSource, Diagnostics> {
        self.data_sources.get(name).map(|d| &**d).ok_or_else(|| {
            Diagnostics::error(
                "Unknown data source",
                format!("This provider has no data source {name:?}."),
            )
        })
    }
}

/// Runs an RPC body, turning a panic into an error diagnostic so one bug
/// fails one operation instead of killing the plugin mid-apply.
async fn guarded<T, F>(rpc: &'static str, f: F) -> (Option<T>, Diagnostics)
where
    F: Future<Output = Result<T, Diagnostics>>,
{
    match AssertUnwindSafe(f).catch_unwind().await {
        Ok(Ok(v)) => (Some(v), Diagnostics::new()),
        Ok(Err(d)) => (None, d),
        Err(_) => {
            tracing::error!(rpc, "panic while handling RPC");
            (None, Diagnostics::error("Provider bug: internal error", format!("The provider panicked while handling {rpc}. Please report this issue; no further changes were made by this call.")))
        }
    }
}

/// Attribute validators first, then the author's cross-attribute checks.
fn validate_config(
    schema: &Schema,
    ty: &Type,
    config: &Option<pb::DynamicValue>,
    extra: impl FnOnce(&Value, &mut Diagnostics),
) -> Result<(), Diagnostics> {
    let config = decode_dv(config, ty)?;
    let mut d = Diagnostics::new();
    planning::validate(&schema.attributes, &config, &AttrPath::root(), &mut d);
    extra(&config, &mut d);
    d.into_result()
}

/// A destroy is planned (and, for cores that never plan destroys, applied) only
/// if the resource does not object, e.g. deletion protection. Warnings are returned.
async fn check_destroy(
    r: &dyn DynResource,
    ctx: &Ctx,
    prior: Option<&Value>,
) -> Result<Diagnostics, Diagnostics> {
    let mut diags = Diagnostics::new();
    if let Some(p) = prior {
        r.plan_destroy(ctx, p, &mut diags).await;
    }
    diags.clone().into_result()?;
    Ok(diags)
}

#[tonic::async_trait]
impl ProviderRpc for ProviderServer {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: vec![],
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, r)| (k.to_string(), r.schema().to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, d)| (k.to_string(), d.schema().to_proto()))
                .collect(),
            functions: HashMap::new(),
            ephemeral_resource_schemas: HashMap::new(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let (_, diags) = guarded("ValidateProviderConfig", async {
            validate_config(
                &self.provider_schema,
                &self.provider_ty,
                &req.config,
                |c, d| self.provider.validate(c, d),
            )
        })
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: to_pb_diags(diags),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        self.write_only.store(
            write_only_allowed(&req.client_capabilities),
            Ordering::Relaxed,
        );
        let (client, diags) = guarded("ConfigureProvider", async {
            let config = decode_dv(&req.config, &self.provider_ty)?;
            self.provider
                .configure(&config, &req.terraform_version)
                .await
        })
        .await;
        if let Some(c) = client {
            *self.client.write().expect("client lock") = Some(c);
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: to_pb_diags(diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let (_, diags) = guarded("ValidateResourceConfig", async {
            let r = self.resource(&req.type_name)?;
            validate_config(r.schema(), r.cty_type(), &req.config, |c, d| {
                r.validate(c, d)
            })
        })
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: to_pb_diags(diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        let (_, diags) = guarded("ValidateDataResourceConfig", async {
            let ds = self.data_source(&req.type_name)?;
            validate_config(ds.schema(), ds.cty_type(), &req.config, |c, d| {
                ds.validate(c, d)
            })
        })
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: to_pb_diags(diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let (state, diags) = guarded("UpgradeResourceState", async {
            let r = self.resource(&req.type_name)?;
            let raw = req
                .raw_state
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or_default();
            if raw.is_empty() {
                return Err(Diagnostics::error(
                    "Unsupported state format",
                    "This provider cannot read pre-0.12 (flatmap) state; re-import the resource.",
                ));
            }
            let j: serde_json::Value = serde_json::from_slice(raw).map_err(|e| {
                Diagnostics::error(
                    "Corrupt state",
                    format!("The stored state is not valid JSON: {e}"),
                )
            })?;
            let mut v = cty::from_state_json(&j, r.cty_type())
                .map_err(|e| Diagnostics::error("Incompatible state", e.to_string()))?;
            if self.write_only.load(Ordering::Relaxed) {
                // State an older core wrote holds them; 1.11 refuses them back.
                planning::null_write_only(&r.schema().attributes, &mut v);
            }
            Ok(encode_dv(&v, r.cty_type()))
        })
        .await;
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: state.flatten(),
            diagnostics: to_pb_diags(diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let private = req.private.clone();
        let (state, diags) = guarded("ReadResource", async {
            let r = self.resource(&req.type_name)?;
            let prior = decode_dv(&req.current_state, r.cty_type())?;
            let Some(mut remote) = r.read(&ctx, &prior).await? else {
                tracing::info!(resource = %req.type_name, "object no longer exists; removing from state");
                return Ok(encode_dv(&Value::Null, r.cty_type()));
            };
            planning::keep_equivalent_prior(&r.schema().attributes, &remote.clone(), &prior, &mut remote);
            // A core that keeps write-only values out of state refuses them
            // back; an older one stores them as ordinary attributes.
            if write_only_allowed(&req.client_capabilities) {
                planning::null_write_only(&r.schema().attributes, &mut remote);
            } else {
                for a in r.schema().attributes.iter().filter(|a| a.write_only) {
                    remote.set(a.name, prior.get(a.name).clone());
                }
            }
            Ok(encode_dv(&planning::strip_unknowns(&remote), r.cty_type()))
        })
        .await;
        Ok(Response::new(pb::read_resource::Response {
            // On error keep the prior state: core must not forget the object.
            new_state: match state {
                Some(v) => v,
                None => req.current_state.clone(),
            },
            diagnostics: to_pb_diags(diags),
            private,
            deferred: None,
            new_identity: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let wo = write_only_allowed(&req.client_capabilities);
        let (out, diags) = guarded("PlanResourceChange", async {
            let r = self.resource(&req.type_name)?;
            let prior = decode_dv(&req.prior_state, r.cty_type())?;
            let proposed = decode_dv(&req.proposed_new_state, r.cty_type())?;
            let config = decode_dv(&req.config, r.cty_type())?;
            let prior_opt = (!prior.is_null()).then_some(&prior);
            let mut diags = Diagnostics::new();
            if proposed.is_null() {
                let warnings = check_destroy(r, &ctx, prior_opt).await?;
                return Ok((encode_dv(&Value::Null, r.cty_type()), Vec::new(), warnings));
            }
            let attrs = &r.schema().attributes;
            let mut planned = proposed.clone();
            planning::apply_defaults(attrs, &config, &mut planned);
            if let Some(p) = prior_opt {
                planning::keep_equivalent_prior(attrs, &config, p, &mut planned);
            }
            if wo {
                planning::null_write_only(attrs, &mut planned);
            }
            if prior_opt.is_none_or(|p| !planned.equals(p)) {
                planning::mark_computed_unknown(attrs, &config, &mut planned);
            }
            let mut replace = planning::run_modifiers(attrs, &config, prior_opt, &mut planned);
            let mut extra = Vec::new();
            r.modify_plan(
                &ctx,
                Plan {
                    prior: prior_opt,
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut extra,
                    diags: &mut diags,
                },
            )
            .await;
            if let Some(p) = prior_opt {
                for name in extra {
                    if !p.get(name).equals(planned.get(name)) {
                        replace.push(AttrPath::attr(name));
                    }
                }
            }
            diags.clone().into_result()?;
            Ok((encode_dv(&planned, r.cty_type()), replace, diags))
        })
        .await;
        let (planned_state, requires_replace, warn) = match out {
            Some((planned, replace, warn)) => {
                (planned, replace.into_iter().map(path_to_pb).collect(), warn)
            }
            None => (None, vec![], Diagnostics::new()),
        };
        let mut all = warn;
        all.extend(diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private: req.prior_private,
            diagnostics: to_pb_diags(all),
            deferred: None,
            planned_identity: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let prior_dv = req.prior_state.clone();
        let (out, diags) = guarded("ApplyResourceChange", async {
            let r = self.resource(&req.type_name)?;
            let prior = decode_dv(&req.prior_state, r.cty_type())?;
            let planned = decode_dv(&req.planned_state, r.cty_type())?;
            let config = decode_dv(&req.config, r.cty_type())?;
            if planned.is_null() {
                // Old cores never plan destroys, so the resource re-checks here.
                check_destroy(r, &ctx, Some(&prior)).await?;
                r.delete(&ctx, &prior).await?;
                return Ok(Ok(encode_dv(&Value::Null, r.cty_type())));
            }
            // The resource sees write-only values as configured; the
            // reconciled state keeps the plan's nulls for them.
            let mut with_wo = planned.clone();
            for a in r.schema().attributes.iter().filter(|a| a.write_only) {
                with_wo.set(a.name, config.get(a.name).clone());
            }
            let result = if prior.is_null() {
                r.create(&ctx, &with_wo).await
            } else {
                r.update(&ctx, &prior, &with_wo).await
            };
            Ok(match result {
                Ok(v) => Ok(encode_dv(&planning::reconcile(&planned, &v), r.cty_type())),
                Err((state, diags)) => Err((
                    state.map(|s| encode_dv(&planning::strip_unknowns(&s), r.cty_type())),
                    diags,
                )),
            })
        })
        .await;
        let (new_state, diags) = match out {
            Some(Ok(v)) => (v, diags),
            Some(Err((partial, d))) => {
                // Keep what exists remotely in state; for an update that failed
                // before changing anything, the prior state is still the truth.
                (partial.unwrap_or(prior_dv), d)
            }
            None => (prior_dv, diags),
        };
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: req.planned_private,
            diagnostics: to_pb_diags(diags),
            new_identity: None,
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let (out, diags) = guarded("ImportResourceState", async {
            let r = self.resource(&req.type_name)?;
            let v = r.import(&ctx, &req.id).await?;
            Ok(pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: encode_dv(&v, r.cty_type()),
                private: vec![],
                identity: None,
            })
        })
        .await;
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: out.into_iter().collect(),
            diagnostics: to_pb_diags(diags),
            deferred: None,
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let (out, diags) = guarded("ReadDataSource", async {
            let d = self.data_source(&req.type_name)?;
            let config = decode_dv(&req.config, d.cty_type())?;
            let v = d.read(&ctx, &config).await?;
            Ok(encode_dv(&planning::strip_unknowns(&v), d.cty_type()))
        })
        .await;
        Ok(Response::new(pb::read_data_source::Response {
            state: out.flatten(),
            diagnostics: to_pb_diags(diags),
            deferred: None,
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        // Cancel what is in flight, then arm a fresh token: the process keeps
        // serving until core calls Shutdown.
        let mut tok = self.cancel.lock().expect("cancel lock");
        tok.cancel();
        *tok = CancellationToken::new();
        tracing::info!("StopProvider: cancelled in-flight operations");
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}
