//! An engine talking to the Hasura emulator on a throwaway PostgreSQL, for
//! tests that count the `run_sql` calls a code path makes.
use std::time::Duration;

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use tokio_util::sync::CancellationToken;

use crate::hasura::client::sql::SqlOptions;
use crate::hasura::client::Engine;
use crate::http::{HttpClient, RetryPolicy};

pub struct Emulated {
    pub emu: HasuraEmulator,
    _pg: TempPostgres,
}

impl Emulated {
    pub async fn start() -> Emulated {
        let pg = TempPostgres::start().expect("start temporary PostgreSQL");
        let emu = HasuraEmulator::start(HasuraConfig::new(pg.url()))
            .await
            .expect("start hasura emulator");
        Emulated { emu, _pg: pg }
    }

    /// A new engine: what one provider process would have.
    pub fn engine(&self) -> Engine {
        let http = HttpClient::new(
            "catalog-test",
            Duration::from_secs(30),
            RetryPolicy::default(),
        )
        .unwrap();
        let url = url::Url::parse(&self.emu.endpoint()).unwrap();
        Engine::new(http, &url, &self.emu.config.admin_secret).unwrap()
    }

    pub fn run_sql_calls(&self) -> u64 {
        self.emu.control.counters()["ops"]["run_sql"]
            .as_u64()
            .unwrap_or(0)
    }

    /// SQL from somewhere else (a migration, another process).
    pub async fn out_of_band(&self, sql: &str) {
        self.engine()
            .run_sql(
                &CancellationToken::new(),
                "default",
                sql,
                SqlOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn stop(self) {
        self.emu.stop().await;
    }
}
