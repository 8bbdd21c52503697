//! The monitor's clients: the attach socket, the first client (the
//! foreground cc-run, taken before the container starts) and its window
//! size, and the non-blocking sinks that clients and the container's
//! stdin are written through.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::attach::{self, Decoder};
use crate::container::Container;
use crate::sandbox::Failure;
use crate::sys;

/// Where bytes wait to be written to a non-blocking fd.
pub(super) struct Sink<T: AsFd> {
    pub(super) io: T,
    pub(super) pending: Vec<u8>,
}

impl<T: AsFd> Sink<T> {
    pub(super) fn new(io: T) -> Self {
        let _ = sys::set_nonblocking(io.as_fd(), true);
        Sink {
            io,
            pending: Vec::new(),
        }
    }
    pub(super) fn push(&mut self, data: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(data);
        self.flush()
    }
    pub(super) fn flush(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            match nix::unistd::write(self.io.as_fd(), &self.pending) {
                Ok(n) => drop(self.pending.drain(..n)),
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

pub(super) struct Client {
    pub(super) sink: Sink<UnixStream>,
    pub(super) frames: Decoder,
}

/// The attach socket in the container's folder, made anew.
pub(super) fn listen(c: &Container) -> Result<UnixListener, Failure> {
    let sock = c.dir.join("attach.sock");
    let _ = std::fs::remove_file(&sock);
    attach::with_short_path(&sock, |p| UnixListener::bind(p))
        .map_err(|e| Failure::from(crate::Error::io("listen on", &sock, e)))
}

/// The foreground caller's connection, taken before the container starts
/// so no output is missed; with a terminal, its window size too.
pub(super) fn first_client(
    listener: &UnixListener,
    report: &File,
    tty: bool,
) -> (Vec<Client>, Option<(u16, u16)>) {
    let mut clients = Vec::new();
    let mut winsize = None;
    if let Some(mut cl) = accept_first(listener, report) {
        if tty {
            winsize = first_window_size(&mut cl);
        }
        clients.push(cl);
    }
    (clients, winsize)
}

pub(super) fn accept_within(l: &UnixListener, wait: Duration) -> Option<Client> {
    if !wait.is_zero() {
        let mut fds = [PollFd::new(l.as_fd(), PollFlags::POLLIN)];
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        if poll(&mut fds, PollTimeout::from(ms)).ok()? == 0 {
            return None;
        }
    }
    let (s, _) = l.accept().ok()?;
    Some(Client {
        sink: Sink::new(s),
        frames: Decoder::default(),
    })
}

/// Waits for the foreground cc-run that started us to attach. It holds
/// the read end of our report pipe: if it dies first (even by SIGKILL),
/// the pipe says so and the container starts unattended rather than wait.
pub(super) fn accept_first(l: &UnixListener, report: &File) -> Option<Client> {
    let mut fds = [
        PollFd::new(l.as_fd(), PollFlags::POLLIN),
        PollFd::new(report.as_fd(), PollFlags::empty()),
    ];
    if poll(&mut fds, PollTimeout::from(30_000u16)).ok()? == 0 {
        return None;
    }
    if fds[0]
        .revents()
        .is_some_and(|r| r.contains(PollFlags::POLLIN))
    {
        return accept_within(l, Duration::ZERO);
    }
    None
}

/// The first client's window size: it sends one RESIZE frame right after
/// connecting (waited for briefly; a client that sends none gets 0x0).
pub(super) fn first_window_size(cl: &mut Client) -> Option<(u16, u16)> {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        if let Some((kind, data)) = cl.frames.next() {
            if kind == attach::RESIZE {
                return attach::decode_size(&data);
            }
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(cl.sink.io.as_fd(), PollFlags::POLLIN)];
        if left.is_zero() || poll(&mut fds, PollTimeout::from(left.as_millis() as u16)).ok()? == 0 {
            return None;
        }
        let mut buf = [0u8; 64];
        match nix::unistd::read(cl.sink.io.as_fd(), &mut buf) {
            Ok(0) => return None,
            Ok(n) => cl.frames.push(&buf[..n]),
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
}
