//! The keep-alive connections a world's clients send their attempts on.
//!
//! One request at a time per connection, as wrk or a browser does: an
//! attempt takes an idle connection to its host, or opens one, and gives it
//! back once the whole answer is read. An attempt that hangs up drops its
//! connection, which closes it. Each world has its own (one per thread in
//! `stampede load`), so no request crosses a thread; this is hyper's
//! connection API without the general-purpose pool, which costs a lock, a
//! URI rewrite and a task hop per request. Only the hosts the world was
//! given are ever connected to. The attempts that use them are polled by
//! their world alone, so the set is shared by `Rc`, not `Arc`: taking and
//! giving back a connection touches no atomic count.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::Request;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type Sender = SendRequest<Empty<Bytes>>;

/// Idle connections kept per host at most; past it, an answered
/// connection is closed (an open-loop surge can open one per request).
pub const MAX_IDLE: usize = 4096;

/// Why an attempt got no answer's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// No connection: refused, unreachable, or no HTTP handshake.
    Connect,
    /// Connected and sent, then the connection closed or what came back was
    /// not an HTTP answer.
    NoAnswer,
}

#[derive(Debug, Default)]
pub struct Conns {
    /// Idle connections by host. A world talks to a handful of hosts, so a
    /// list searched by pointer first beats hashing the name twice per request.
    idle: RefCell<Vec<(Arc<str>, Vec<Sender>)>>,
}

/// The idle list of `host`, if it has one.
fn list_of<'a>(idle: &'a mut [(Arc<str>, Vec<Sender>)], host: &Arc<str>) -> Option<&'a mut Vec<Sender>> {
    let i = idle.iter().position(|(h, _)| Arc::ptr_eq(h, host)).or_else(|| idle.iter().position(|(h, _)| h == host))?;
    Some(&mut idle[i].1)
}

/// A connection an attempt holds until its answer is read.
#[derive(Debug)]
pub struct Lease {
    conns: Rc<Conns>,
    host: Arc<str>,
    sender: Sender,
}

impl Lease {
    /// The answer was read to its end: the connection can carry another.
    pub fn give_back(self) {
        if self.sender.is_closed() {
            return;
        }
        let mut idle = self.conns.idle.borrow_mut();
        let list = match list_of(&mut idle, &self.host) {
            Some(list) => list,
            None => {
                idle.push((self.host, Vec::new()));
                &mut idle.last_mut().expect("just pushed").1
            }
        };
        if list.len() < MAX_IDLE {
            list.push(self.sender);
        }
    }
}

impl Conns {
    pub fn new() -> Rc<Conns> {
        Rc::new(Conns::default())
    }

    fn take(&self, host: &Arc<str>) -> Option<Sender> {
        let mut idle = self.idle.borrow_mut();
        let list = list_of(&mut idle, host)?;
        while let Some(s) = list.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    /// Sends `req` (origin-form URI, Host header set) to `host` (`host:port`)
    /// and waits for the answer's head.
    pub async fn send(
        self: &Rc<Self>,
        host: &Arc<str>,
        mut req: Request<Empty<Bytes>>,
    ) -> Result<(hyper::Response<Incoming>, Lease), SendError> {
        let lease = |sender| Lease { conns: self.clone(), host: host.clone(), sender };
        while let Some(mut sender) = self.take(host) {
            // A connection the server closed while it was idle shows here:
            // the request goes on the next one, as it was never sent.
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(answer) => return Ok((answer, lease(sender))),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => req = unsent,
                    None => return Err(SendError::NoAnswer),
                },
            }
        }
        // Boxed: its state (the connect and the handshake) would otherwise
        // size every attempt's future, and most attempts find a connection.
        let (answer, sender) = Box::pin(connect_and_send(host, req)).await?;
        Ok((answer, lease(sender)))
    }
}

/// `req` on a new connection to `host`, whose I/O a task of its own drives.
async fn connect_and_send(
    host: &str,
    req: Request<Empty<Bytes>>,
) -> Result<(hyper::Response<Incoming>, Sender), SendError> {
    let stream = TcpStream::connect(host).await.map_err(|_| SendError::Connect)?;
    stream.set_nodelay(true).map_err(|_| SendError::Connect)?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| SendError::Connect)?;
    // Runs until the server closes, or the last sender is dropped.
    tokio::spawn(conn);
    let answer = sender.send_request(req).await.map_err(|_| SendError::NoAnswer)?;
    Ok((answer, sender))
}
