//! The monitor: one small process per running container, and no daemon.
//!
//! ```text
//! cc-run ─ fork+exec ─▶ monitor ("cc-run [monitor] <short id>": own session,
//!   (exits, or stays     │  child subreaper; owns the container's stdio,
//!    attached)           │  writes ctr.log and the exit record, cleans up)
//!                        └ clone(new namespaces) ─▶ container init ─▶ exec
//! ```
//!
//! The caller forks, and the child re-executes cc-run's own binary
//! (`/proc/self/exe`, on the host side) with `CC_MONITOR` in its
//! environment, so the monitor starts as a fresh image that touches only
//! the pages it needs, and `ps` shows `cc-run [monitor] <id>`. It reports
//! to the caller through a pipe, one line each:
//!
//! - `listening` — the attach socket is ready; with `attach_first` the
//!   container waits until a first client (foreground cc-run) attaches,
//!   so no output is missed;
//! - `started <pid>` — the command runs; or
//! - `failed <code> <class> <message>` — it could not start: cc-run's exit
//!   code (125/126/127) and the error's own (1–4; `sandbox::Failure`); the
//!   monitor has removed everything it made.

pub mod attach;
mod clients;
mod health;
mod launch;
pub mod log;
mod restart;
mod serve;

use std::ffi::CString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::process::ExitCode;

use nix::unistd::{fork, pipe2, ForkResult, Pid};

use crate::container::Container;
use crate::sandbox::failure::sys;
use crate::sandbox::Failure;
use crate::store::{short_id, Store};

const ENV: &str = "CC_MONITOR";
const ENV_FD: &str = "CC_MONITOR_FD";

/// What the monitor reported.
#[derive(Debug)]
pub enum Report {
    Listening,
    Started(i32),
    Failed(Failure),
}

/// The caller's end of a starting monitor.
pub struct Handle {
    reports: BufReader<File>,
    pub monitor: Pid,
}

impl Handle {
    /// The next report; a monitor that died without one is a failure.
    pub fn next_report(&mut self) -> Report {
        let mut line = String::new();
        if self.reports.read_line(&mut line).unwrap_or(0) == 0 {
            return Report::Failed(Failure::new(
                125,
                "the container's monitor died before the container started",
            ));
        }
        parse_report(line.trim_end())
    }
}

fn parse_report(line: &str) -> Report {
    let failed = line.strip_prefix("failed ").and_then(Failure::from_line);
    match (line.split_once(' '), failed) {
        _ if line == "listening" => Report::Listening,
        (_, Some(f)) => Report::Failed(f),
        (Some(("started", pid)), _) => Report::Started(pid.parse().unwrap_or(0)),
        _ => Report::Failed(Failure::new(
            125,
            format!("unexpected report from the monitor: '{line}'"),
        )),
    }
}

/// Starts the monitor of container `c` (whose record exists). With
/// `attach_first` the container starts only once a client has attached.
pub fn start(store: &Store, c: &Container, attach_first: bool) -> Result<Handle, Failure> {
    let (r, w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| sys("create a pipe", e))?;
    let argv0 =
        CString::new(format!("cc-run [monitor] {}", short_id(&c.id))).expect("no NUL in ids");
    let spec = format!(
        "{}\n{}\n{}",
        store.root().display(),
        c.id,
        u8::from(attach_first)
    );
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != ENV && k != ENV_FD)
        .filter_map(|(k, v)| {
            CString::new(format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).ok()
        })
        .collect();
    env.push(
        CString::new(format!("{ENV}={spec}")).map_err(|_| Failure::new(125, "bad store path"))?,
    );
    env.push(CString::new(format!("{ENV_FD}={}", w.as_raw_fd())).expect("digits"));
    let exe = CString::new("/proc/self/exe").expect("static");
    // SAFETY: the child only clears a flag and execs (or _exits), calls
    // safe after a fork in a process with threads (cc-build's stages):
    // everything it needs was made before the fork.
    match unsafe { fork() }.map_err(|e| sys("fork the monitor", e))? {
        ForkResult::Child => {
            let fd = w.into_raw_fd();
            // SAFETY: clearing FD_CLOEXEC on our own pipe so it survives exec.
            unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
            let _ = nix::unistd::execve(&exe, &[argv0], &env);
            // SAFETY: _exit without running the parent's atexit handlers.
            unsafe { libc::_exit(125) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            Ok(Handle {
                reports: BufReader::new(File::from(r)),
                monitor: child,
            })
        }
    }
}

/// In a program's `main`: when this process is a monitor started by
/// `start`, run it and return its exit code; otherwise `None`.
pub fn main_if_monitor() -> Option<ExitCode> {
    let spec = std::env::var(ENV).ok()?;
    let fd: i32 = std::env::var(ENV_FD).ok()?.parse().ok()?;
    let mut parts = spec.splitn(3, '\n');
    let (root, id, attach_first) = (parts.next()?, parts.next()?, parts.next()? == "1");
    // SAFETY: the fd was handed to us by `start` across execve.
    let report = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    Some(serve::run(
        std::path::Path::new(root),
        id,
        attach_first,
        File::from(report),
    ))
}
