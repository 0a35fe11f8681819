//! One RPC's panic as that RPC's gRPC error, not a dropped connection.
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::FutureExt as _;
use tonic::server::NamedService;

/// Turns a panic inside a provider RPC into a gRPC `Internal` error for that one
/// call. Without it the panic would unwind the connection's request task and
/// Terraform would see a reset stream with no explanation.
#[derive(Debug, Clone)]
pub struct CatchPanic<T> {
    inner: T,
}

impl<T> CatchPanic<T> {
    pub fn new(inner: T) -> Self {
        Self { inner }
    }
}

impl<T: NamedService> NamedService for CatchPanic<T> {
    const NAME: &'static str = T::NAME;
}

impl<T, B> tonic::codegen::Service<http::Request<B>> for CatchPanic<T>
where
    T: tonic::codegen::Service<
        http::Request<B>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
    >,
    T::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let inner = &mut self.inner;
        let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(fut) => fut,
            Err(payload) => {
                return futures::future::ready(Ok(panic_response(&method, &*payload))).boxed()
            }
        };
        async move {
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(response) => response,
                Err(payload) => Ok(panic_response(&method, &*payload)),
            }
        }
        .boxed()
    }
}

fn panic_response(
    method: &str,
    payload: &(dyn std::any::Any + Send),
) -> http::Response<tonic::body::Body> {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    tracing::error!(method, panic = %detail, "provider panicked while handling an RPC");
    tonic::Status::internal(format!(
        "the provider crashed while handling {method}: {detail}. This is a bug in the provider; please report it."
    ))
    .into_http()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_become_internal_status() {
        use tonic::codegen::Service as _;
        #[derive(Clone)]
        struct Boom;
        impl tonic::codegen::Service<http::Request<()>> for Boom {
            type Response = http::Response<tonic::body::Body>;
            type Error = Infallible;
            type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, req: http::Request<()>) -> Self::Future {
                let sync = req.uri().path() == "/sync";
                if sync {
                    panic!("sync boom");
                }
                async { panic!("async boom") }.boxed()
            }
        }
        let mut svc = CatchPanic::new(Boom);
        for (path, text) in [("/sync", "sync boom"), ("/async", "async boom")] {
            let req = http::Request::builder().uri(path).body(()).unwrap();
            let resp = svc.call(req).await.unwrap();
            let status = tonic::Status::from_header_map(resp.headers()).unwrap();
            assert_eq!(status.code(), tonic::Code::Internal);
            assert!(status.message().contains(text), "{}", status.message());
            assert!(status.message().contains(path));
        }
    }
}
