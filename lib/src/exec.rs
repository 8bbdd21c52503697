//! A new process in a running container, as cc-exec starts one and the
//! monitor starts a healthcheck: the container's environment (with
//! additions), user and working folder unless given, its cgroup and
//! privileges, through `sandbox::enter`.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::unistd::ForkResult;

use crate::cgroup::Cgroup;
use crate::container::{self, Container};
use crate::error::{errno, Error, Result};
use crate::sandbox::enter::{enter, Enter, Who};
use crate::sandbox::{Child, Failure, Privileges};

/// What to run and how; `None`s take the container's own.
#[derive(Debug, Default)]
pub struct Exec<'a> {
    pub args: &'a [String],
    /// `K=V`s set over the container's environment.
    pub env: &'a [String],
    pub user: Option<&'a str>,
    pub workdir: Option<&'a str>,
    pub tty: bool,
    /// Keep stdin open (a pipe the caller writes).
    pub interactive: bool,
    pub detach: bool,
    /// The command is adopted by the caller, which must be a subreaper,
    /// and `Child::pid` is the command's own: the caller can kill it and
    /// its process group (healthchecks' timeout).
    pub adopt: bool,
}

/// The environment of a process started in `c`: the container's, with
/// each of `extra`'s `K=V` replacing the variable of that name.
pub fn environment(c: &Container, extra: &[String]) -> Vec<String> {
    let mut env = c
        .spec
        .process
        .as_ref()
        .map(|p| p.env.clone())
        .unwrap_or_default();
    for kv in extra {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
        env.retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        env.push(kv.clone());
    }
    env
}

/// Starts `x` in the running, unpaused container `c`. The outer error is
/// the container's state (not running, paused: exit 4); the inner one is
/// the command's start (126, 127, 125), as cc-exec reports it.
pub fn start(c: &Container, x: &Exec) -> Result<std::result::Result<Child, Failure>> {
    let pid = c.unpaused_pid()?;
    let env = environment(c, x.env);
    let user = x
        .user
        .or_else(|| c.annotation(container::ANN_USER))
        .unwrap_or("0");
    let cwd = match x.workdir {
        Some(w) => w.to_string(),
        None => c
            .spec
            .process
            .as_ref()
            .map(|p| p.cwd.clone())
            .unwrap_or_else(|| "/".into()),
    };
    let cgroup = Cgroup::open(&c.cgroup_name());
    let privileges = Privileges::of(&c.spec);
    Ok(enter(&Enter {
        pid,
        args: x.args,
        env: &env,
        user: Who::Name(user, &c.spec.annotations),
        cwd: &cwd,
        cgroup: Some(&cgroup),
        tty: x.tty,
        stdin_null: !x.interactive || x.detach,
        detach: x.detach,
        relay: true,
        privileges: &privileges,
        reparent: x.adopt,
        on_pty: None,
        keep_fds: 0,
    }))
}

/// `cc-exec -d`: starts `x` (detached) from a waiter forked here and left
/// behind, which calls `started` once the command runs, then waits for it
/// and calls `died` with its exit code (docker's exec_die). The waiter
/// starts a session of its own and holds nothing of the caller's but the
/// pipe its start is reported on, so a reader of the caller's output sees
/// its end when the caller exits. Returns what the start gave, as `start`.
pub fn start_detached(
    c: &Container,
    x: &Exec,
    started: &dyn Fn(),
    died: &dyn Fn(i32),
) -> Result<std::result::Result<(), Failure>> {
    c.unpaused_pid()?;
    let (report_r, report_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::sys("create a pipe", errno(e)))?;
    // SAFETY: cc-exec is single-threaded; the child ends in _exit.
    match unsafe { nix::unistd::fork() }.map_err(|e| Error::sys("fork", errno(e)))? {
        ForkResult::Child => {
            drop(report_r);
            crate::sys::name_process("cc-exec [wait]");
            let _ = nix::unistd::setsid();
            let report = crate::sys::hold_nothing_but(report_w);
            let code = match report {
                Ok(report) => wait_detached(c, x, report, started, died),
                Err(_) => 125,
            };
            // SAFETY: leaving without running anything of the caller's.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(report_w);
            let mut report = Vec::new();
            let _ = std::fs::File::from(report_r).read_to_end(&mut report);
            if report == STARTED {
                return Ok(Ok(()));
            }
            let _ = nix::sys::wait::waitpid(child, None);
            Ok(Err(match report.is_empty() {
                true => Failure::new(125, "cc-exec's waiter ended before the command started"),
                false => Failure::decode(&report),
            }))
        }
    }
}

/// What the waiter writes once the command runs (a `Failure` otherwise).
const STARTED: &[u8] = b"started";

/// The waiter of `start_detached`: starts the command, reports, waits.
fn wait_detached(
    c: &Container,
    x: &Exec,
    report: OwnedFd,
    started: &dyn Fn(),
    died: &dyn Fn(i32),
) -> i32 {
    let failure = match start(c, x) {
        Ok(Ok(child)) => {
            started();
            let _ = crate::sys::write_all(report.as_fd(), STARTED);
            drop(report);
            let code = crate::sys::wait_exit(child.pid).unwrap_or(125);
            died(code);
            return 0;
        }
        Ok(Err(f)) => f,
        Err(error) => Failure { code: 125, error },
    };
    let _ = crate::sys::write_all(report.as_fd(), &failure.encode());
    failure.code as i32
}
