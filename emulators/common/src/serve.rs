use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server. Dropping it stops the server too, so a test that panics
/// does not leave a listener behind.
pub struct Served {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish for a short while,
    /// then abandons whatever is left (idle keep-alive connections must not
    /// keep a test waiting).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `router` on `127.0.0.1:port` (`0` picks a free port). Loopback only:
/// the emulators accept any test key and must never be reachable from outside.
pub async fn serve(router: axum::Router, port: u16) -> anyhow::Result<Served> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "emulator server ended with an error");
        }
    });
    Ok(Served {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}
