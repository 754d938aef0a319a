//! The yardstick for `serve backend`'s speed: the smallest hyper 1.x HTTP/1.1
//! server, answering every request with the same 512 bytes `serve backend`
//! sends for a one-chunk job. Run by benches/serve/vs-hyper.sh.

#![allow(clippy::print_stdout)] // a tool: it says where it listens

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {addr}");
    let body = Bytes::from_static(&[b'.'; 512]);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |_req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move { Ok::<_, Infallible>(Response::new(Full::new(body))) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
