//! The client side of an attachment (foreground cc-run, cc-attach): the
//! caller's terminal in raw mode (restored on every way out) with the
//! window size pushed at start and on SIGWINCH, stdin sent to the monitor
//! until the detach keys, output written to stdout and stderr, signals
//! passed on to the container.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;

use nix::sys::termios::{self, SetArg, Termios};
use nix::unistd::Pid;

use crate::container::{self, Container};
use crate::monitor::attach::{self as proto, Decoder};
use crate::sandbox::Failure;
use crate::store::Store;

pub enum Ended {
    Exited(i32),
    Detached,
    Lost,
}

/// Connects to a container's monitor; with a terminal, the window size
/// goes first so the container can start with it.
pub fn connect(c: &Container, tty: bool) -> Result<UnixStream, Failure> {
    let sock = c.dir.join("attach.sock");
    let mut s = proto::connect(&sock)
        .map_err(|e| Failure::from(crate::Error::io("attach to", &sock, e)))?;
    if tty {
        send_window_size(&mut s);
    }
    Ok(s)
}

/// The exit code a finished container's record holds (125 if unknown).
pub fn recorded_code(store: &Store, id: &str) -> u8 {
    container::load(store, id)
        .ok()
        .and_then(|c| c.state.exit_code)
        .map(|c| c as u8)
        .unwrap_or(125)
}

/// The detach sequence (default ctrl-p ctrl-q) and how far it is typed.
pub struct Keys {
    seq: Vec<u8>,
    matched: usize,
}

impl Keys {
    /// `--detach-keys`; a sequence that does not parse is a usage error.
    pub fn parse(s: Option<&str>) -> crate::Result<Keys> {
        let seq =
            proto::parse_detach_keys(s.unwrap_or("ctrl-p,ctrl-q")).map_err(crate::Error::Usage)?;
        Ok(Keys { seq, matched: 0 })
    }

    /// Splits typed input into what to send and whether to detach; a
    /// partial match is held back until it completes or breaks.
    fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.seq.is_empty() {
                out.push(b);
            } else if b == self.seq[self.matched] {
                self.matched += 1;
                if self.matched == self.seq.len() {
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.seq[..self.matched]);
                self.matched = 0;
                if b == self.seq[0] {
                    self.matched = 1;
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// Which of the container's streams are relayed (docker's `-a`), and
/// whether the signals the caller gets are passed on (`--sig-proxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub sig_proxy: bool,
    /// Where the container's stdout and stderr both go instead of ours
    /// (cc-build: a pipe whose lines are shown under the step's name).
    pub to: Option<std::os::fd::RawFd>,
}

impl Default for Streams {
    fn default() -> Streams {
        Streams {
            stdin: true,
            stdout: true,
            stderr: true,
            sig_proxy: true,
            to: None,
        }
    }
}

impl Streams {
    /// `-a STDIN|STDOUT|STDERR` (repeatable, any case; none: all three)
    /// and `--sig-proxy`.
    pub fn parse(attach: &[String], sig_proxy: bool) -> crate::Result<Streams> {
        let mut s = Streams {
            sig_proxy,
            ..Default::default()
        };
        if attach.is_empty() {
            return Ok(s);
        }
        (s.stdin, s.stdout, s.stderr) = (false, false, false);
        for a in attach {
            match a.to_ascii_lowercase().as_str() {
                "stdin" => s.stdin = true,
                "stdout" => s.stdout = true,
                "stderr" => s.stderr = true,
                _ => {
                    return Err(crate::Error::Usage(format!(
                        "invalid --attach '{a}': STDIN, STDOUT or STDERR"
                    )))
                }
            }
        }
        Ok(s)
    }
}

/// Relays between the caller and the monitor until the container exits,
/// the caller detaches, or the monitor goes away. Stdin is read when
/// `streams.stdin` (the caller sets it from `-i` too).
pub fn relay(
    mut sock: UnixStream,
    pid: i32,
    streams: &Streams,
    tty: bool,
    keys: &Keys,
) -> Result<Ended, Failure> {
    let mut keys = Keys {
        seq: keys.seq.clone(),
        matched: 0,
    };
    // The signals a container gets passed on, and SIGWINCH, which becomes
    // a resize frame rather than a signal. Without --sig-proxy the others
    // keep their default action: SIGINT ends cc-run, not the container.
    let forwarded: &[Signal] = match streams.sig_proxy {
        true => &crate::sandbox::FORWARDED,
        false => &[Signal::SIGWINCH],
    };
    let signals = crate::sys::signalfd(forwarded)?;
    let stdin = std::io::stdin();
    let _raw = if tty {
        RawMode::enter(stdin.as_fd())
    } else {
        None
    };
    if tty {
        send_window_size(&mut sock);
    }
    let mut stdin_open = streams.stdin;
    let mut frames = Decoder::default();
    loop {
        let mut fds = vec![
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(sock.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => {
                return Err(Failure::new(
                    125,
                    format!("cannot wait on the container: {e}"),
                ))
            }
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            pass_signals(&signals, &mut sock, pid);
        }
        if ready[1] {
            if let Some(end) = from_monitor(&mut sock, &mut frames, streams) {
                return Ok(end);
            }
        }
        if stdin_open && ready[2] {
            match from_stdin(stdin.as_fd(), &mut sock, &mut keys) {
                Input::Sent => {}
                Input::Closed => stdin_open = false,
                Input::Detach => return Ok(Ended::Detached),
            }
        }
    }
}

/// Signals that arrived: SIGWINCH sends the window size, the others go
/// to the container's process.
fn pass_signals(signals: &SignalFd, sock: &mut UnixStream, pid: i32) {
    while let Ok(Some(info)) = signals.read_signal() {
        match Signal::try_from(info.ssi_signo as i32) {
            Ok(Signal::SIGWINCH) => send_window_size(sock),
            Ok(s) => {
                let _ = kill(Pid::from_raw(pid), s);
            }
            Err(_) => {}
        }
    }
}

/// Reads what the monitor sent and writes the output frames out; the end,
/// when the frames say the container exited or the monitor went away.
fn from_monitor(sock: &mut UnixStream, frames: &mut Decoder, streams: &Streams) -> Option<Ended> {
    let mut buf = [0u8; 65536];
    match sock.read(&mut buf) {
        Ok(0) | Err(_) => return Some(Ended::Lost),
        Ok(n) => frames.push(&buf[..n]),
    }
    // SAFETY: `to` is open for as long as the relay runs (its owner's word).
    let to = streams.to.map(|fd| unsafe { BorrowedFd::borrow_raw(fd) });
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    for (kind, data) in frames.by_ref() {
        match kind {
            proto::STDOUT if streams.stdout => {
                let out = to.unwrap_or(stdout.as_fd());
                let _ = crate::sys::write_all(out, &data);
            }
            proto::STDERR if streams.stderr => {
                let out = to.unwrap_or(stderr.as_fd());
                let _ = crate::sys::write_all(out, &data);
            }
            proto::EXIT if data.len() == 4 => {
                return Some(Ended::Exited(i32::from_be_bytes([
                    data[0], data[1], data[2], data[3],
                ])))
            }
            _ => {}
        }
    }
    None
}

/// What became of the caller's input in one read.
enum Input {
    Sent,
    /// End of file (or an error): the monitor was told, stdin is done.
    Closed,
    /// The detach keys were typed.
    Detach,
}

/// Sends one read of the caller's stdin to the monitor, watching for the
/// detach keys.
fn from_stdin(stdin: BorrowedFd, sock: &mut UnixStream, keys: &mut Keys) -> Input {
    let mut buf = [0u8; 65536];
    match nix::unistd::read(stdin, &mut buf) {
        Ok(0) | Err(_) => {
            let _ = proto::send(sock, proto::STDIN_EOF, &[]);
            Input::Closed
        }
        Ok(n) => {
            let (data, detach) = keys.feed(&buf[..n]);
            if !data.is_empty() {
                let _ = proto::send(sock, proto::STDIN, &data);
            }
            match detach {
                true => Input::Detach,
                false => Input::Sent,
            }
        }
    }
}

/// The caller's window size, sent as a RESIZE frame (no-op without a
/// terminal).
fn send_window_size(sock: &mut UnixStream) {
    if let Some((rows, cols)) = crate::sys::window_size(std::io::stdin().as_fd()) {
        let _ = sock.write_all(&proto::frame(
            proto::RESIZE,
            &proto::encode_size(rows, cols),
        ));
    }
}

/// The caller's terminal in raw mode until dropped.
struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    fn enter(fd: BorrowedFd<'a>) -> Option<RawMode<'a>> {
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, SetArg::TCSANOW, &self.saved);
    }
}

/// Relays the caller's terminal to a pty master until `child` exits (for
/// `cc-exec -t`, whose pty is its own, not the monitor's), passing on the
/// signals we are sent; returns the child's exit code.
pub fn relay_pty(
    master: std::os::fd::OwnedFd,
    child: Pid,
    interactive: bool,
) -> Result<i32, Failure> {
    let signals = crate::sys::signalfd(&crate::sandbox::FORWARDED)?;
    let stdin = std::io::stdin();
    let _raw = RawMode::enter(stdin.as_fd());
    let push_size = || {
        if let Some((rows, cols)) = crate::sys::window_size(stdin.as_fd()) {
            crate::sys::set_window_size(master.as_fd(), rows, cols);
        }
    };
    push_size();
    let mut stdin_open = interactive;
    // After our stdin ended: the ^D (end of input) is sent again each time
    // the program changes its terminal's mode, since a line editor that
    // starts after it loses it (a ^D typed in canonical mode is read as a
    // NUL in raw mode, or flushed) and would wait for input that never
    // comes (ash did). The mode is looked at every 50 ms until the end.
    let mode = || {
        termios::tcgetattr(master.as_fd())
            .ok()
            .map(|t| t.local_flags)
    };
    let mut eof_sent_in = None;
    loop {
        let mut fds = vec![
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        let timeout = match eof_sent_in {
            Some(_) => PollTimeout::from(50u8),
            None => PollTimeout::NONE,
        };
        if let Err(e) = poll(&mut fds, timeout) {
            if e != Errno::EINTR {
                break;
            }
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            while let Ok(Some(info)) = signals.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGWINCH) => push_size(),
                    Ok(s) => drop(kill(child, s)),
                    Err(_) => {}
                }
            }
        }
        if ready[1] {
            let mut buf = [0u8; 65536];
            match nix::unistd::read(master.as_fd(), &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => drop(crate::sys::write_all(std::io::stdout().as_fd(), &buf[..n])),
            }
        }
        if let Some(sent_in) = eof_sent_in {
            let now = mode();
            if now != sent_in {
                let _ = crate::sys::write_all(master.as_fd(), &[4]);
                eof_sent_in = Some(now);
            }
        }
        if stdin_open && ready[2] {
            let mut buf = [0u8; 65536];
            match nix::unistd::read(stdin.as_fd(), &mut buf) {
                Ok(0) | Err(_) => {
                    eof_sent_in = Some(mode());
                    let _ = crate::sys::write_all(master.as_fd(), &[4]);
                    stdin_open = false;
                }
                Ok(n) => drop(crate::sys::write_all(master.as_fd(), &buf[..n])),
            }
        }
    }
    Ok(crate::sys::wait_exit(child)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_are_held_back_and_detect() {
        let mut k = Keys::parse(None).unwrap();
        assert_eq!(k.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(k.feed(b"x"), (b"\x10x".to_vec(), false));
        assert_eq!(k.feed(b"\x10\x11rest"), (vec![], true));
        let mut off = Keys::parse(Some("")).unwrap();
        assert_eq!(off.feed(b"\x10\x11"), (b"\x10\x11".to_vec(), false));
    }
}
