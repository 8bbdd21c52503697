//! The foreground side of a run: signals sent to cc-run go on to the
//! container, and with `-t` the caller's terminal is put in raw mode
//! (restored on every way out) and copied to and from the pty, with the
//! window size pushed at start and on SIGWINCH.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};

use crate::sandbox::{Child, Failure};

/// Signals cc-run passes on to the container.
const FORWARDED: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// The forwarded signals, SIGCHLD and SIGWINCH, blocked and readable from
/// a signalfd. Blocked before the clone, so none is lost in between; the
/// container's process unblocks them before exec.
pub struct Blocked {
    sfd: SignalFd,
}

pub fn block_signals() -> Result<Blocked, Failure> {
    let mut mask = SigSet::empty();
    for s in FORWARDED.iter().chain(&[Signal::SIGCHLD, Signal::SIGWINCH]) {
        mask.add(*s);
    }
    let sys = |e: Errno| {
        Failure::new(
            125,
            format!("cannot block signals: {}", e.desc().to_lowercase()),
        )
    };
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None).map_err(sys)?;
    let sfd =
        SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).map_err(sys)?;
    Ok(Blocked { sfd })
}

/// Waits for the container's process, relaying signals and the terminal.
pub fn foreground(child: &Child, interactive: bool, b: &Blocked) -> Result<WaitStatus, Failure> {
    let stdin = std::io::stdin();
    let _raw = match &child.pty {
        Some(pty) => {
            push_window_size(pty);
            RawMode::enter(stdin.as_fd())
        }
        None => None,
    };
    let mut stdin_open = interactive && child.pty.is_some();
    loop {
        let mut fds = vec![PollFd::new(b.sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(pty) = &child.pty {
            fds.push(PollFd::new(pty.as_fd(), PollFlags::POLLIN));
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => {
                return Err(Failure::new(
                    125,
                    format!("cannot wait for the container: {e}"),
                ))
            }
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if let Some(pty) = &child.pty {
            if ready[1] {
                copy(pty.as_fd(), std::io::stdout().as_fd());
            }
            if stdin_open && ready[2] && !copy(stdin.as_fd(), pty.as_fd()) {
                // End of input: the terminal's end-of-file character.
                let _ = nix::unistd::write(pty, &[4]);
                stdin_open = false;
            }
        }
        if ready[0] {
            if let Some(status) = handle_signals(child, b)? {
                if let Some(pty) = &child.pty {
                    while copy(pty.as_fd(), std::io::stdout().as_fd()) {}
                }
                return Ok(status);
            }
        }
    }
}

/// Reads pending signals: forwards them, and returns the exit status once
/// the container's process has ended.
fn handle_signals(child: &Child, b: &Blocked) -> Result<Option<WaitStatus>, Failure> {
    while let Ok(Some(info)) = b.sfd.read_signal() {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGWINCH {
            if let Some(pty) = &child.pty {
                push_window_size(pty);
            }
        } else if sig != libc::SIGCHLD {
            if let Ok(s) = Signal::try_from(sig) {
                let _ = kill(child.pid, s);
            }
        }
    }
    match waitpid(child.pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => Ok(None),
        Ok(s) => Ok(Some(s)),
        Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(Failure::new(
            125,
            format!("cannot wait for the container: {e}"),
        )),
    }
}

/// Copies what is available; false at end of file or error.
fn copy(from: BorrowedFd, to: BorrowedFd) -> bool {
    let mut buf = [0u8; 16384];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            let mut done = 0;
            while done < n {
                match nix::unistd::write(to, &buf[done..n]) {
                    Ok(w) => done += w,
                    Err(Errno::EINTR | Errno::EAGAIN) => continue,
                    Err(_) => return false,
                }
            }
            true
        }
    }
}

/// Copies the caller's window size to the pty (no-op without a terminal).
fn push_window_size(pty: &OwnedFd) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write one winsize struct.
    unsafe {
        if libc::ioctl(libc::STDIN_FILENO, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
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
