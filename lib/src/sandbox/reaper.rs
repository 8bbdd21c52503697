//! `--init`: pid 1 stays a small reaper. It forks the command, passes on
//! every signal it is sent, reaps every orphan that is reparented to it
//! (conmon 181), and exits with the command's status (128+N for signal N)
//! once the command ends, which ends the namespace's other processes.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::OwnedFd;

use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use super::command::{self, Io, Privileges};
use super::failure::sys;
use super::user::Ids;
use super::{Failure, Launch};

/// Signals passed on to the command (by `--init`'s pid 1, and by a
/// foreground `cc-oci run`).
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

pub(super) fn fork_and_reap(
    l: &Launch,
    sock: Option<&OwnedFd>,
    userns: Option<&OwnedFd>,
    ids: &Ids,
    env: &[CString],
    args: &[String],
) -> Result<Infallible, Failure> {
    let mask = forwarded_mask();
    // Blocked before the fork so no signal slips between fork and signalfd.
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .map_err(|e| sys("block signals", e))?;
    // The command waits until pid 1 is confined: before, pid 1 still has
    // every capability the command could see (/proc/1/status) or race.
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| sys("create a pipe", e))?;
    // SAFETY: single-threaded; the child goes straight on to execve.
    match unsafe { fork() }.map_err(|e| sys("fork the command", e))? {
        ForkResult::Child => {
            drop(ready_w);
            let mut b = [0u8; 1];
            if nix::unistd::read(&ready_r, &mut b) != Ok(1) {
                std::process::exit(125);
            }
            drop(ready_r);
            command::finish(
                &Io::of(l, userns, None),
                &Privileges::of(l.spec),
                sock,
                ids,
                env,
                args,
            )
        }
        ForkResult::Parent { child } => {
            drop(ready_r);
            crate::sys::name_process("cc-init");
            // Out of the monitor's session and process group, as the
            // command is (it starts its own): a signal to a group from
            // inside reaches nothing of cc's.
            let _ = nix::unistd::setsid();
            let confined = match userns {
                // Root of the container, not the host's root, in there.
                Some(ns) => super::userns::join(ns),
                None => Ok(()),
            }
            .and_then(|_| Privileges::of(l.spec).confine_init());
            if confined.is_err() {
                // The command runs already: it must not outlive a pid 1
                // that could not be confined.
                let _ = kill(child, Signal::SIGKILL);
                std::process::exit(125);
            }
            let _ = nix::unistd::write(&ready_w, b"c");
            drop(ready_w);
            super::execve::close_other_fds(3);
            reap(child, &mask)
        }
    }
}

/// SIGCHLD and the signals passed on, as one mask.
pub(super) fn forwarded_mask() -> SigSet {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    for s in FORWARDED {
        mask.add(s);
    }
    mask
}

/// Passes the signals of `mask` (blocked by the caller) on to `main`,
/// reaps every child, and exits with `main`'s status once it ends (also
/// cc-exec's waiting child, whose only child is the command).
pub(super) fn reap(main: Pid, mask: &SigSet) -> ! {
    // Our copies of the parent's pipes must not keep them open.
    for fd in 3..1024 {
        if fd != 0 {
            // SAFETY: closing fds this process no longer needs; the
            // signalfd is opened after.
            unsafe { libc::close(fd) };
        }
    }
    let sfd = match SignalFd::new(mask) {
        Ok(s) => s,
        Err(_) => std::process::exit(125),
    };
    loop {
        let Ok(Some(info)) = sfd.read_signal() else {
            continue;
        };
        let sig = info.ssi_signo as i32;
        if sig != libc::SIGCHLD {
            if let Ok(s) = Signal::try_from(sig) {
                let _ = kill(main, s);
            }
            continue;
        }
        while let Ok(status) = waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            match status {
                WaitStatus::Exited(p, code) if p == main => std::process::exit(code),
                WaitStatus::Signaled(p, s, _) if p == main => std::process::exit(128 + s as i32),
                WaitStatus::StillAlive => break,
                _ => continue,
            }
        }
    }
}
