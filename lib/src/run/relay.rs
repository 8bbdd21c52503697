//! cc-exec's relay without a terminal: the command's stdio are pipes (see
//! `sandbox::enter`), copied here to and from cc-exec's own fds, in
//! cc-exec's process (no extra exec: poll and read/write), while the
//! signals cc-exec is sent are passed on to the command.
//!
//! It ends when the command does: whatever it wrote is still in the pipes
//! and is read then, but a process it left in the background that keeps
//! a pipe open does not hold cc-exec (as the command itself would not
//! have, with cc-exec's own fds). A reader of cc-exec's output that goes
//! away closes the command's pipe in turn, so the command sees EPIPE as it
//! would have.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

use crate::sandbox::{Failure, Pipes, FORWARDED};

/// How much is read after the command ended, per stream: what it wrote
/// fits in a pipe; more comes from processes it left behind.
const DRAIN_MAX: usize = 1 << 24;

/// The command's output pipes: a larger pipe means fewer wake-ups per
/// megabyte (as the monitor's).
const PIPE_SIZE: i32 = 1 << 20;

/// Relays until `child` (cc-exec's waiting child) exits; its exit code.
pub fn relay_pipes(pipes: Pipes, child: Pid) -> Result<i32, Failure> {
    let mut watched = FORWARDED.to_vec();
    watched.push(Signal::SIGCHLD);
    let signals = crate::sys::signalfd(&watched)?;
    // EPIPE rather than death when our reader goes away: it is passed on.
    // SAFETY: SIG_IGN installs no handler; restored before we return.
    let sigpipe = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let mut r = Relay::new(pipes);
    let code = loop {
        if let Some(code) = exited(child)? {
            break code;
        }
        r.turn(signals.as_fd())?;
        while let Ok(Some(info)) = signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(s) => drop(kill(child, s)),
            }
        }
    };
    r.drain();
    // SAFETY: putting back the disposition we found.
    unsafe { libc::signal(libc::SIGPIPE, sigpipe) };
    Ok(code)
}

/// The child's exit code once it has ended.
fn exited(child: Pid) -> Result<Option<i32>, Failure> {
    match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
        Ok(status) => Ok(crate::sys::exit_code(status)),
        Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(Failure::new(
            125,
            format!(
                "cannot wait for process {child}: {}",
                e.desc().to_lowercase()
            ),
        )),
    }
}

/// The open ends and stdin that waits to be written.
struct Relay {
    /// The command's stdin (our write end); `None` once closed.
    to_stdin: Option<OwnedFd>,
    /// cc-exec's stdin is read until its end.
    stdin_open: bool,
    pending: Vec<u8>,
    /// The command's stdout and stderr (our read ends), as 1 and 2.
    from: [Option<OwnedFd>; 2],
}

impl Relay {
    fn new(p: Pipes) -> Relay {
        for fd in [Some(&p.stdout), Some(&p.stderr), p.stdin.as_ref()]
            .into_iter()
            .flatten()
        {
            let _ = crate::sys::set_nonblocking(fd.as_fd(), true);
        }
        for fd in [&p.stdout, &p.stderr] {
            let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        }
        Relay {
            stdin_open: p.stdin.is_some(),
            to_stdin: p.stdin,
            pending: Vec::new(),
            from: [Some(p.stdout), Some(p.stderr)],
        }
    }

    /// One poll: copies what is ready; returns when anything was.
    fn turn(&mut self, signals: BorrowedFd) -> Result<(), Failure> {
        let stdin = std::io::stdin();
        let read_stdin = self.stdin_open && self.pending.is_empty() && self.to_stdin.is_some();
        let mut fds = vec![PollFd::new(signals, PollFlags::POLLIN)];
        let mut slots = Vec::new();
        for (i, f) in self.from.iter().enumerate() {
            if let Some(f) = f {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
                slots.push(Slot::Out(i));
            }
        }
        if read_stdin {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            slots.push(Slot::Stdin);
        }
        if let (Some(w), false) = (&self.to_stdin, self.pending.is_empty()) {
            fds.push(PollFd::new(w.as_fd(), PollFlags::POLLOUT));
            slots.push(Slot::ToStdin);
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                return Err(Failure::new(
                    125,
                    format!("cannot wait on the command: {e}"),
                ))
            }
        }
        let ready: Vec<bool> = fds[1..]
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (slot, _) in slots.into_iter().zip(ready).filter(|(_, r)| *r) {
            match slot {
                Slot::Out(i) => drop(self.copy_out(i)),
                Slot::Stdin => self.read_stdin(),
                Slot::ToStdin => self.write_stdin(),
            }
        }
        Ok(())
    }

    /// One read of stream `i` (0 stdout, 1 stderr) written to ours;
    /// closes it at its end or when our side is gone. Returns the bytes
    /// copied.
    fn copy_out(&mut self, i: usize) -> usize {
        let Some(f) = &self.from[i] else { return 0 };
        let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
        let ours = match i {
            0 => stdout.as_fd(),
            _ => stderr.as_fd(),
        };
        let (n, ok) = match splice(f.as_fd(), ours) {
            Some(Ok(n)) => (n, true),
            Some(Err(_)) => (0, false),
            None => read_write(f.as_fd(), ours),
        };
        // At its end, or our reader is gone (the command's next write
        // then fails too).
        if n == 0 || !ok {
            self.from[i] = None;
        }
        n
    }

    fn read_stdin(&mut self) {
        let mut buf = [0u8; 65536];
        match nix::unistd::read(std::io::stdin().as_fd(), &mut buf) {
            Ok(0) | Err(Errno::EBADF | Errno::EIO) => self.close_stdin(),
            Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }

    fn write_stdin(&mut self) {
        let Some(w) = &self.to_stdin else { return };
        match nix::unistd::write(w, &self.pending) {
            Ok(n) => drop(self.pending.drain(..n)),
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            // The command closed its stdin: nothing more goes there.
            Err(_) => {
                self.pending.clear();
                self.close_stdin();
            }
        }
        if self.pending.is_empty() && !self.stdin_open {
            self.to_stdin = None;
        }
    }

    /// cc-exec's stdin ended: the command's ends once what is pending
    /// has gone.
    fn close_stdin(&mut self) {
        self.stdin_open = false;
        if self.pending.is_empty() {
            self.to_stdin = None;
        }
    }

    /// After the command ended: what is left in the pipes, to their end
    /// or until nothing more is there at once (bounded).
    fn drain(&mut self) {
        for i in 0..2 {
            let mut copied = 0;
            while self.from[i].is_some() && copied < DRAIN_MAX {
                match self.copy_out(i) {
                    0 => break,
                    n => copied += n,
                }
            }
        }
    }
}

/// Moves what the pipe holds to `to` in the kernel (no copy through us):
/// `None` when splice(2) cannot here (`to` a terminal, or it would block:
/// the source is non-blocking, and a full destination pipe says EAGAIN
/// too), so `read_write` does it; `Some(Ok(0))` at the pipe's end.
fn splice(from: BorrowedFd, to: BorrowedFd) -> Option<Result<usize, Errno>> {
    // SAFETY: two fds we hold, no offsets, no memory passed.
    let n = unsafe {
        libc::splice(
            from.as_raw_fd(),
            std::ptr::null_mut(),
            to.as_raw_fd(),
            std::ptr::null_mut(),
            PIPE_SIZE as usize,
            libc::SPLICE_F_MOVE,
        )
    };
    match n {
        n if n >= 0 => Some(Ok(n as usize)),
        _ => match Errno::last() {
            Errno::EINVAL | Errno::EAGAIN | Errno::EINTR => None,
            e => Some(Err(e)),
        },
    }
}

/// One read and a whole write: the bytes copied (0 at the end or when
/// nothing was there) and whether `to` took them.
fn read_write(from: BorrowedFd, to: BorrowedFd) -> (usize, bool) {
    let mut buf = [0u8; 65536];
    match nix::unistd::read(from, &mut buf) {
        Ok(n) => (n, crate::sys::write_all(to, &buf[..n]).is_ok()),
        Err(Errno::EINTR | Errno::EAGAIN) => (0, true),
        Err(_) => (0, false),
    }
}

enum Slot {
    Out(usize),
    Stdin,
    ToStdin,
}
