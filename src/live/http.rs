//! The HTTP plumbing every live server and client shares: one accept loop
//! with its limits, the response body type, and the pooled HTTP/1.1 client.
//!
//! Limits are what keep a server alive under abuse: a connection cap (past
//! it, new connections are closed at once, so a flood costs a socket each and
//! nothing more), a header read timeout (a slowloris client loses its
//! connection instead of holding a task forever) and a bounded read buffer.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Every response body: whole (an error page) or streamed (image chunks).
pub type Body = BoxBody<Bytes, io::Error>;

/// The client every live engine part sends with: keep-alive connections,
/// pooled per host, no Nagle delay between chunks.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(conn)
}

pub fn whole(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never: Infallible| match never {}).boxed()
}

/// The methods a path takes, for a 405 with `Allow` on any other.
#[derive(Copy, Clone, Debug)]
pub struct Methods {
    list: &'static [Method],
    allow: &'static str,
}

impl Methods {
    /// A status or probe page.
    pub const PAGE: Methods = Methods { list: &[Method::GET, Method::HEAD], allow: "GET, HEAD" };
    /// A class: a job runs for these only.
    pub const JOB: Methods = Methods { list: &[Method::GET, Method::POST], allow: "GET, POST" };
    /// The control port's `/chaos`.
    pub const CHAOS: Methods =
        Methods { list: &[Method::GET, Method::HEAD, Method::POST, Method::DELETE], allow: "GET, HEAD, POST, DELETE" };

    pub fn allow(self, m: &Method) -> bool {
        self.list.contains(m)
    }

    /// 405, naming what the path takes.
    pub fn refuse(self) -> Response<Body> {
        let mut r = Response::new(whole(format!("this path takes {}\n", self.allow)));
        *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        r.headers_mut().insert(ALLOW, HeaderValue::from_static(self.allow));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        r
    }
}

/// What a server accepts at most.
#[derive(Copy, Clone, Debug)]
pub struct Limits {
    /// Open connections; past it, new ones are closed at once.
    pub max_connections: usize,
    /// A client must send its request head within this time.
    pub header_read_timeout: Duration,
    /// The largest request head (bytes).
    pub max_head_bytes: usize,
    /// The most GPU work (simulated) a request may ask for in
    /// `x-stampede-work-us`: a job holds its slot that long, so a client
    /// could otherwise take an instance for good.
    pub max_work: crate::time::SimDuration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            max_head_bytes: 16 * 1024,
            // A run's own clients: any work the simulator records.
            max_work: crate::scenario::limits::histogram_range(),
        }
    }
}

/// Serves HTTP/1.1 on `listener` until the runtime shuts down; each request
/// goes to `handle`. A handler error closes that connection without an answer.
pub async fn serve<H, F>(listener: TcpListener, limits: Limits, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, io::Error>> + Send + 'static,
{
    let open = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            // Out of descriptors or a reset before accept: keep serving the
            // connections we have; pause so the loop does not spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else { continue };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = service_fn(handle);
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_head_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Binds a listener on `addr` (port 0: the OS picks one).
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let std = std::net::TcpListener::bind(addr)?;
    std.set_nonblocking(true)?;
    TcpListener::from_std(std)
}
