//! go-plugin's own services, which Terraform's client talks to beside the
//! provider: the controller (Shutdown), stdio forwarding and the broker.

use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use super::proto::go_plugin::{
    grpc_broker_server::GrpcBroker, grpc_controller_server::GrpcController,
    grpc_stdio_server::GrpcStdio, ConnInfo, Empty, StdioData,
};

/// `Shutdown` cancels `token`; the server watches it, stops accepting and exits.
/// Terraform waits only 2 s after Shutdown before SIGKILL, and starts several
/// provider processes per command, so a slow exit costs real time.
#[derive(Debug, Clone)]
pub struct Controller {
    token: CancellationToken,
}

impl Controller {
    pub fn new(token: CancellationToken) -> Self {
        Self { token }
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the plugin client");
        // Cancelling only starts a graceful stop, so this response is still delivered.
        self.token.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// Terraform opens `StreamStdio` and copies whatever arrives. We write nothing
/// to stdout after the handshake and log to stderr directly, so the stream
/// carries nothing; it stays open until shutdown because Terraform treats an
/// early end as the plugin going away.
#[derive(Debug, Clone)]
pub struct Stdio {
    token: CancellationToken,
}

impl Stdio {
    pub fn new(token: CancellationToken) -> Self {
        Self { token }
    }
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        let stream = futures::stream::pending::<Result<StdioData, Status>>()
            .take_until(self.token.clone().cancelled_owned());
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Providers never broker extra connections, but Terraform opens the stream at
/// start-up anyway: accept it, ignore what arrives, end with the client or at
/// shutdown (so the graceful stop does not wait on it).
#[derive(Debug, Clone)]
pub struct Broker {
    token: CancellationToken,
}

impl Broker {
    pub fn new(token: CancellationToken) -> Self {
        Self { token }
    }
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let incoming = request.into_inner();
        let drained = futures::stream::unfold(incoming, |mut incoming| async move {
            while let Some(Ok(_)) = incoming.next().await {}
            None::<(Result<ConnInfo, Status>, _)>
        });
        let stream = drained.take_until(self.token.clone().cancelled_owned());
        Ok(Response::new(Box::pin(stream)))
    }
}
