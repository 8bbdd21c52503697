//! One run of a container's check: started by `exec::start` (the same
//! path as cc-exec's commands: the container's namespaces, cgroup, root,
//! user and environment), its stdout and stderr read together into a
//! buffer capped as docker's (4 KiB, then `...`), killed with its process
//! group when it runs over its timeout. The caller drives it from its own
//! poll loop — the monitor's (`monitor::health`), or `run_now`'s for
//! cc-healthcheck — and reaps it: the command is adopted by the caller,
//! a subreaper, so it is the caller's own child to wait for and to kill.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::{Config, Health, Outcome, OUTPUT_MAX};
use crate::container::Container;
use crate::error::{Error, Result};
use crate::exec::{self, Exec};
use crate::store::Store;

/// A check that runs.
pub struct Probe {
    pid: Pid,
    /// Its stdout and stderr, non-blocking, until each ends.
    pipes: Vec<OwnedFd>,
    output: Vec<u8>,
    truncated: bool,
    start: SystemTime,
    timeout: Duration,
    pub deadline: Instant,
    timed_out: bool,
}

/// A check started, or already over (it could not start: its outcome).
pub enum Started {
    Running(Probe),
    Over(Outcome),
}

impl Probe {
    /// Starts `cfg`'s check in `c`. An error is the container's state (not
    /// running, paused); a command that cannot start is an outcome, with
    /// cc-exec's exit code (126, 127) and its error as output.
    pub fn start(c: &Container, cfg: &Config) -> Result<Started> {
        let start = SystemTime::now();
        let x = Exec {
            args: &cfg.args,
            adopt: true,
            ..Default::default()
        };
        let child = match exec::start(c, &x)? {
            Ok(child) => child,
            Err(f) => {
                return Ok(Started::Over(Outcome {
                    start,
                    end: SystemTime::now(),
                    exit_code: f.code as i32,
                    output: f.error.to_string(),
                }))
            }
        };
        let pipes: Vec<OwnedFd> = child
            .stdio
            .map(|p| vec![p.stdout, p.stderr])
            .unwrap_or_default();
        for p in &pipes {
            let _ = crate::sys::set_nonblocking(p.as_fd(), true);
        }
        Ok(Started::Running(Probe {
            pid: child.pid,
            pipes,
            output: Vec::new(),
            truncated: false,
            start,
            timeout: cfg.timeout,
            deadline: Instant::now() + cfg.timeout,
            timed_out: false,
        }))
    }

    /// The command's pid (host), for the caller's reaping.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The output pipes still open, for the caller's poll.
    pub fn fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        self.pipes.iter().map(|p| p.as_fd())
    }

    /// Reads what the pipes marked in `ready` (one flag per `fds`) hold;
    /// a pipe that ended is closed.
    pub fn read(&mut self, ready: &[bool]) {
        let mut i = self.pipes.len();
        while i > 0 {
            i -= 1;
            if ready.get(i).copied().unwrap_or(false) && !self.read_pipe(i) {
                self.pipes.remove(i);
            }
        }
    }

    /// Reads pipe `i` until it would block; false at its end.
    fn read_pipe(&mut self, i: usize) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match nix::unistd::read(self.pipes[i].as_fd(), &mut buf) {
                Ok(0) => return false,
                Ok(n) => self.keep(&buf[..n]),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return true,
                Err(_) => return false,
            }
        }
    }

    /// docker's limitedBuffer: the first 4 KiB, and a note of the rest.
    fn keep(&mut self, data: &[u8]) {
        let room = OUTPUT_MAX.saturating_sub(self.output.len());
        self.output.extend_from_slice(&data[..room.min(data.len())]);
        self.truncated |= data.len() > room;
    }

    /// Past its deadline: kills the command and its process group (the
    /// command leads a session of its own).
    pub fn time_out(&mut self) {
        self.timed_out = true;
        let _ = killpg(self.pid, Signal::SIGKILL);
    }

    /// The command ended with `status` (reaped by the caller): what is
    /// left in the pipes is read, and the outcome made. Processes it left
    /// behind holding a pipe do not hold us.
    pub fn finish(mut self, status: WaitStatus) -> Outcome {
        let all = vec![true; self.pipes.len()];
        self.read(&all);
        let end = SystemTime::now();
        if self.timed_out {
            return Outcome {
                start: self.start,
                end,
                exit_code: -1,
                output: format!(
                    "Health check exceeded timeout ({})",
                    crate::time::go_duration(self.timeout)
                ),
            };
        }
        let mut output = String::from_utf8_lossy(&self.output).into_owned();
        if self.truncated {
            output += "...";
        }
        Outcome {
            start: self.start,
            end,
            exit_code: crate::sys::exit_code(status).unwrap_or(-1),
            output,
        }
    }
}

/// cc-healthcheck: runs `c`'s check once now, waits for it (at most its
/// timeout) and records the outcome as a scheduled run is recorded.
/// Returns the outcome and the health it left.
pub fn run_now(store: &Store, c: &Container) -> Result<(Outcome, Health)> {
    let cfg = super::Config::of(c)
        .ok_or_else(|| Error::State(format!("container '{}' has no healthcheck", c.name())))?;
    // The command is adopted by us (Exec::adopt), so we can wait for it.
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| Error::sys("become a subreaper", crate::error::errno(e)))?;
    let signals = crate::sys::signalfd(&[Signal::SIGCHLD])?;
    let outcome = match Probe::start(c, &cfg)? {
        Started::Over(o) => o,
        Started::Running(mut p) => loop {
            if let Ok(status) = waitpid(p.pid, Some(WaitPidFlag::WNOHANG)) {
                if status != WaitStatus::StillAlive {
                    break p.finish(status);
                }
            }
            let left = p.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() && !p.timed_out {
                p.time_out();
            }
            let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
            fds.extend(p.fds().map(|f| PollFd::new(f, PollFlags::POLLIN)));
            // Killed: SIGCHLD wakes us.
            let left = if p.timed_out {
                Duration::from_secs(1)
            } else {
                left
            };
            let ms = left.as_millis().clamp(1, u16::MAX as u128) as u16;
            let _ = poll(&mut fds, PollTimeout::from(ms));
            let ready: Vec<bool> = fds[1..]
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);
            while let Ok(Some(_)) = signals.read_signal() {}
            p.read(&ready);
        },
    };
    let health = super::record(store, c, &cfg, &outcome)?;
    Ok((outcome, health))
}
