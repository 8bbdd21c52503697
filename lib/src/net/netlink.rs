//! A small synchronous rtnetlink client: one request at a time, sequence
//! numbers, ACKs and multipart dumps. A netlink socket belongs to the
//! network namespace it was opened in (`open_in` opens one inside another
//! process's namespace from a short-lived thread, so the caller's own
//! namespace never changes).

use std::io;
use std::os::fd::AsFd;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Error, Result};

pub use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};

pub struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

fn sys(op: &str, e: io::Error) -> Error {
    Error::sys(op.to_string(), e)
}

impl Netlink {
    /// A socket in our own network namespace.
    pub fn open() -> Result<Netlink> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| sys("open a netlink socket", e))?;
        sock.bind_auto()
            .map_err(|e| sys("bind a netlink socket", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| sys("connect a netlink socket", e))?;
        // Errors come back with the request's attributes trimmed.
        let _ = sock.set_ext_ack(true);
        Ok(Netlink {
            sock,
            seq: 0,
            buf: vec![0; 64 * 1024],
        })
    }

    /// A socket in the network namespace of process `pid`. setns(2) changes
    /// only the calling thread, so a helper thread enters the namespace,
    /// opens the socket and ends; the socket stays bound to that namespace.
    pub fn open_in(pid: i32) -> Result<Netlink> {
        let path = format!("/proc/{pid}/ns/net");
        let ns = std::fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| Error::io("enter the network namespace", &path, e.into()))?;
                Netlink::open()
            })
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("netlink thread panicked".into())))
        })
    }

    /// Sends one request and waits for its ACK.
    pub fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<()> {
        self.exchange(msg, flags | NLM_F_ACK, |_| {})
    }

    /// Sends a dump request and returns every message of the answer.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        self.exchange(msg, NLM_F_DUMP, |m| out.push(m))?;
        Ok(out)
    }

    /// Sends a plain get (not a dump) and returns its one answer.
    pub fn get(&mut self, msg: RouteNetlinkMessage) -> Result<Option<RouteNetlinkMessage>> {
        let mut out = None;
        match self.exchange(msg, 0, |m| out = Some(m)) {
            Ok(()) => Ok(out),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exchange(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<()> {
        let what = describe(&msg);
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        packet.header.flags = NLM_F_REQUEST | flags;
        packet.header.sequence_number = seq;
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.sock
            .send(&out, 0)
            .map_err(|e| sys(&format!("send netlink {what}"), e))?;
        let multipart = flags & NLM_F_DUMP == NLM_F_DUMP;
        loop {
            let n = self
                .sock
                .recv(&mut &mut self.buf[..], 0)
                .map_err(|e| sys(&format!("receive netlink {what}"), e))?;
            let mut off = 0;
            while off < n {
                let reply: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&self.buf[off..n]).map_err(|e| {
                        Error::Unsupported(format!("cannot parse a netlink {what} reply: {e}"))
                    })?;
                let len = reply.header.length as usize;
                let mine = reply.header.sequence_number == seq;
                match reply.payload {
                    _ if !mine => {}
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(()),
                            Some(_) => Err(sys(&what, e.to_io())),
                        }
                    }
                    NetlinkPayload::InnerMessage(m) => {
                        each(m);
                        if !multipart && flags & NLM_F_ACK == 0 {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
                if len == 0 {
                    break;
                }
                off += (len + 3) & !3;
            }
        }
    }
}

fn describe(m: &RouteNetlinkMessage) -> String {
    use RouteNetlinkMessage as M;
    match m {
        M::NewLink(_) => "create link",
        M::DelLink(_) => "delete link",
        M::SetLink(_) => "change link",
        M::GetLink(_) => "get link",
        M::NewAddress(_) => "add address",
        M::DelAddress(_) => "delete address",
        M::GetAddress(_) => "list addresses",
        M::NewRoute(_) => "add route",
        M::GetRoute(_) => "list routes",
        _ => "request",
    }
    .to_string()
}
