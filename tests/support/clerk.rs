//! A Clerk emulator for one scenario, with the out-of-band API calls tests make behind
//! Terraform's back.

use std::path::Path;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use serde_json::Value;

use super::{runtime, Workdir};

/// One emulator per scenario, on its own runtime so Terraform can block the test thread.
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    emu: Option<ClerkEmulator>,
}

impl Env {
    pub fn start(cfg: ClerkConfig) -> Env {
        let rt = runtime();
        let emu = rt
            .block_on(ClerkEmulator::start(cfg))
            .expect("start clerk emulator");
        Env { rt, emu: Some(emu) }
    }

    pub fn emu(&self) -> &ClerkEmulator {
        self.emu.as_ref().unwrap()
    }

    /// A workdir whose provider settings (`CLERK_SECRET_KEY`, `CLERK_API_URL`) point at
    /// this emulator.
    pub fn workdir(&self, tf: &Path) -> Workdir {
        let mut wd = Workdir::new(tf);
        wd.env("CLERK_SECRET_KEY", self.emu().secret_key());
        wd.env("CLERK_API_URL", &self.emu().api_url());
        wd
    }

    /// An out-of-band call, as a dashboard user or another tool would make it.
    pub fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.emu().api_url(), path);
        let key = self.emu().secret_key().to_string();
        self.rt.block_on(async move {
            let mut req = reqwest::Client::new().request(method, url).bearer_auth(key);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
    }

    pub fn templates(&self) -> Vec<Value> {
        self.emu().templates()
    }

    /// Turns organizations on, as in the dashboard: a fresh instance has them
    /// off, and Clerk refuses CreateOrganization until they are on.
    pub fn enable_organizations(&self) {
        let on = serde_json::json!({"enabled": true});
        let (s, body) = self.api(
            reqwest::Method::PATCH,
            "/instance/organization_settings",
            Some(on),
        );
        assert_eq!(s, 200, "{body}");
    }

    /// The emulator's JWT template named `name`; panics if there is none.
    pub fn template(&self, name: &str) -> Value {
        self.templates()
            .into_iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no template {name} in the emulator"))
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            self.rt.block_on(e.stop());
        }
    }
}
