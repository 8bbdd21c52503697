//! `run`: create and start at once. In the foreground cc-oci stays the
//! container's parent: it passes signals on (or relays the terminal when
//! the spec has one and no console socket takes it), waits, deletes the
//! container unless `--keep`, and exits with the command's status.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::os::fd::AsFd;

use super::create::{self, Options};
use super::state::Root;
use crate::error::Result;

/// Returns the exit code cc-oci gives: 0 when detached, else the
/// command's (128+N for signal N).
pub fn run(root: &Root, id: &str, o: &Options, detach: bool, keep: bool) -> Result<i32> {
    if detach {
        let c = create::create(root, id, o, true)?;
        if let Err(e) = create::start(&c.container) {
            let _ = super::ops::delete(&c.container, true);
            return Err(e);
        }
        return Ok(0);
    }
    let c = create::create(root, id, o, false)?;
    let spec = c.container.spec()?;
    if let Err(e) = super::hooks::run(&spec, "poststart", &c.container.state()) {
        eprintln!("cc-oci: {e}");
    }
    let code = match c.pty {
        Some(master) => crate::run::attach::relay_pty(master, c.pid, true)
            .map_err(|f| crate::Error::Sandbox(f.message)),
        None => wait_forwarding(c.pid),
    };
    if !keep {
        super::ops::delete(&c.container, true)?;
    }
    code
}

/// Waits for `pid`, passing on the signals we are sent.
pub(super) fn wait_forwarding(pid: Pid) -> Result<i32> {
    let mut watched = crate::sandbox::FORWARDED.to_vec();
    watched.push(Signal::SIGCHLD);
    let signals = crate::sys::signalfd(&watched)?;
    loop {
        if let Ok(status) = waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            if let Some(code) = crate::sys::exit_code(status) {
                return Ok(code);
            }
        } else {
            return crate::sys::wait_exit(pid);
        }
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::NONE);
        while let Ok(Some(info)) = signals.read_signal() {
            let sig = Signal::try_from(info.ssi_signo as i32).ok();
            if let Some(s) = sig.filter(|s| *s != Signal::SIGCHLD) {
                let _ = kill(pid, s);
            }
        }
    }
}
