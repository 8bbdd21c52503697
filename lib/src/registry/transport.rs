//! The connection under the client, so that a registry that refuses an
//! upload half-way is heard.
//!
//! A registry that gives up on a request body (a full disk, a bad chunk)
//! answers 4xx or 5xx and closes the connection without reading the rest;
//! our next write then fails with EPIPE or ECONNRESET, and ureq would
//! report that broken pipe and never read the answer that is already in
//! the socket's receive queue (Linux keeps received data readable after a
//! reset; Go's net/http, the distribution registry's server, even waits
//! half a second before it resets, for clients to read it). This transport
//! wraps ureq's own (TCP, TLS): once a write fails that way, the rest of
//! the body is dropped unsent and the answer is read as usual. When none
//! came, the error says so instead of "broken pipe".
//!
//! ureq's transport API is outside its semver promise (`unversioned`): the
//! workspace pins ureq's minor version for it.

use std::io;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::Error;

/// Wraps every connection the connectors before it in the chain made.
#[derive(Debug)]
pub struct HearAnswer;

impl Connector<Box<dyn Transport>> for HearAnswer {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(|inner| {
            Box::new(Answering {
                inner,
                write_failed: None,
            }) as Box<dyn Transport>
        }))
    }
}

#[derive(Debug)]
struct Answering {
    inner: Box<dyn Transport>,
    /// The write error after which the peer is no longer listening.
    write_failed: Option<io::ErrorKind>,
}

/// The errors of a peer that closed its end: what remains to be read of
/// the connection is its answer.
fn peer_closed(e: &Error) -> Option<io::ErrorKind> {
    match e {
        Error::Io(io) => match io.kind() {
            k @ (io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted) => Some(k),
            _ => None,
        },
        _ => None,
    }
}

impl Transport for Answering {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        if self.write_failed.is_some() {
            return Ok(());
        }
        match self.inner.transmit_output(amount, timeout) {
            Err(e) => match peer_closed(&e) {
                Some(kind) => {
                    self.write_failed = Some(kind);
                    Ok(())
                }
                None => Err(e),
            },
            ok => ok,
        }
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let Some(kind) = self.write_failed else {
            return self.inner.await_input(timeout);
        };
        let unanswered = || {
            Error::Io(io::Error::new(
                kind,
                "the registry closed the connection while the request was being sent, without an answer",
            ))
        };
        match self.inner.await_input(timeout) {
            Ok(true) => Ok(true),
            Ok(false) => Err(unanswered()),
            Err(e) if peer_closed(&e).is_some() => Err(unanswered()),
            Err(e) => Err(e),
        }
    }

    fn is_open(&mut self) -> bool {
        self.write_failed.is_none() && self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
