//! What programs do to existing containers (kill, stop, pause, update,
//! wait, remove), each step checked against the container's state: a
//! wrong state is `Error::State` (exit 4).

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use crate::cgroup::{Cgroup, Resources};
use crate::container::restart::{self, Policy};
use crate::container::{self, state::pid_start_time, Container, Status};
use crate::error::{Error, Result};
use crate::store::Store;

/// Sends `sig` to the container's main process (a `kill` event). A paused
/// container is thawed after the signal, as runc and docker do: frozen,
/// it could not act on it.
pub fn kill(store: &Store, c: &Container, sig: Signal) -> Result<()> {
    let pid = c.running_pid()?;
    if ends_it(c, sig) {
        user_stopped(c)?;
    }
    send(Pid::from_raw(pid), sig)
        .map_err(|e| Error::sys(format!("signal container '{}'", c.name()), e.into()))?;
    let number = (sig as i32).to_string();
    container::event(store, c, "kill", &[("signal", &number)]);
    let cg = Cgroup::open(&c.cgroup_name());
    if cg.frozen() {
        cg.thaw()?;
    }
    Ok(())
}

/// Whether `sig` is one the user ends a container with: then `--restart`
/// does not bring it back (docker's "manually stopped").
fn ends_it(c: &Container, sig: Signal) -> bool {
    let stop = c
        .annotation(container::ANN_STOP_SIGNAL)
        .and_then(|s| parse_signal(s).ok());
    matches!(
        sig,
        Signal::SIGKILL | Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT
    ) || Some(sig) == stop
}

/// Notes a stop by the user for a container with a restart policy; a
/// monitor waiting to restart it is woken (SIGTERM) and gives up.
fn user_stopped(c: &Container) -> Result<()> {
    if Policy::of(c) == Policy::No {
        return Ok(());
    }
    restart::mark_user_stopped(c)?;
    let s = c.state.derived();
    if let Some(m) = live_pid(s.monitor_pid, s.monitor_start).filter(|_| s.restarting) {
        let fd = pidfd(m);
        let _ = send(Pid::from_raw(m), Signal::SIGTERM);
        if let Some(fd) = fd {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(2000u16));
        }
    }
    Ok(())
}

/// cc-pause: freezes every process of a running container (the v1
/// freezer's freezer.state, v2's cgroup.freeze); returns once they are.
pub fn pause(store: &Store, c: &Container) -> Result<()> {
    c.running_pid()?;
    if c.paused() {
        return Err(Error::State(format!(
            "container '{}' is already paused",
            c.name()
        )));
    }
    Cgroup::open(&c.cgroup_name()).freeze()?;
    container::event(store, c, "pause", &[]);
    Ok(())
}

/// cc-unpause: thaws what `pause` froze.
pub fn unpause(store: &Store, c: &Container) -> Result<()> {
    c.running_pid()?;
    if !c.paused() {
        return Err(Error::State(format!(
            "container '{}' is not paused",
            c.name()
        )));
    }
    Cgroup::open(&c.cgroup_name()).thaw()?;
    container::event(store, c, "unpause", &[]);
    Ok(())
}

/// cc-update: merges `new` into the limits of the container's record, so
/// every later start applies them, and writes them to its group if it
/// runs; a new restart `policy` holds from the process's next exit. The merged limits are checked first (docker's rules: memory-swap
/// not below memory), and a limit the host cannot apply fails before the
/// record changes.
pub fn update(
    store: &Store,
    id: &str,
    new: &crate::spec::Resources,
    policy: Option<Policy>,
) -> Result<()> {
    container::change(store, id, |c| {
        if let Some(p) = policy {
            if p != Policy::No && c.annotation(container::ANN_RM).is_some() {
                return Err(Error::Usage(format!(
                    "container '{}' has --rm: it cannot have a restart policy",
                    c.name()
                )));
            }
            match p {
                Policy::No => c.spec.annotations.remove(restart::ANN_RESTART),
                p => c
                    .spec
                    .annotations
                    .insert(restart::ANN_RESTART.into(), p.as_string()),
            };
        }
        let linux = c.spec.linux.get_or_insert_with(Default::default);
        let mut merged = linux.resources.clone().unwrap_or_default();
        merged.merge(new);
        crate::cgroup::check_resources(&Resources::of(&merged)?)?;
        let parent = match c.annotation(container::ANN_CGROUP_MANAGER) {
            Some("systemd") => None,
            _ => c.annotation(container::ANN_CGROUP_PARENT),
        };
        crate::cgroup::refuse_limits_for_user(&Resources::of(new)?, parent)?;
        if c.status() == Status::Running && Resources::of(new)? != Resources::default() {
            // Only what changed, whole: a quota with its period, memory
            // with its memory-swap (whose kernel value depends on it).
            let all = Resources::of(&merged)?;
            let mut now = Resources::of(new)?;
            if now.cpu_quota.is_some() || now.cpu_period.is_some() {
                now.cpu_quota = all.cpu_quota;
                now.cpu_period = all.cpu_period;
            }
            if now.memory.is_some() || now.memory_swap.is_some() {
                now.memory = all.memory;
                now.memory_swap = all.memory_swap;
            }
            Cgroup::open(&c.cgroup_name()).update(&now)?;
        }
        let linux = c.spec.linux.get_or_insert_with(Default::default);
        linux.resources = Some(merged);
        c.save_spec()?;
        container::event(store, c, "update", &[]);
        Ok(())
    })
}

/// cc-stop's and cc-restart's options, as docker's.
#[derive(Debug, Clone, clap::Args)]
pub struct StopOpts {
    /// Signal to stop with (default: the container's --stop-signal, the
    /// image's StopSignal, or SIGTERM)
    #[arg(short, long, value_name = "SIGNAL")]
    pub signal: Option<String>,
    /// Seconds to wait before SIGKILL, -1 for ever (default: the
    /// container's --stop-timeout, or 10)
    #[arg(short, long, visible_alias = "timeout", allow_hyphen_values = true)]
    pub time: Option<i64>,
}

impl StopOpts {
    /// Stops `c` as these options say (see [`stop`]).
    pub fn stop(&self, store: &Store, c: &Container) -> Result<()> {
        let signal = self.signal.as_deref().map(parse_signal).transpose()?;
        stop(store, c, signal, self.time)
    }
}

/// `signal`, else the container's `--stop-signal` or image's StopSignal
/// (or SIGTERM), then SIGKILL after `timeout` seconds, else its
/// `--stop-timeout` (or 10); a negative timeout waits for ever. Stopping
/// a container that is not running is not an error (docker).
pub fn stop(
    store: &Store,
    c: &Container,
    signal: Option<Signal>,
    timeout: Option<i64>,
) -> Result<()> {
    user_stopped(&container::load(store, &c.id)?)?;
    // As it is now: a restart may have just started it again.
    let c = &container::load(store, &c.id)?;
    if c.status() != Status::Running {
        return Ok(());
    }
    let sig = match signal {
        Some(s) => s,
        None => c
            .annotation(container::ANN_STOP_SIGNAL)
            .map(parse_signal)
            .transpose()?
            .unwrap_or(Signal::SIGTERM),
    };
    let timeout = timeout
        .or_else(|| c.annotation(container::ANN_STOP_TIMEOUT)?.parse().ok())
        .unwrap_or(10);
    let timeout = u64::try_from(timeout).ok().map(Duration::from_secs);
    let _ = kill(store, c, sig);
    if wait_until_exited(store, &c.id, timeout)?.is_some() {
        container::event(store, c, "stop", &[]);
        return Ok(());
    }
    let _ = kill(store, c, Signal::SIGKILL);
    let _ = Cgroup::open(&c.cgroup_name()).kill_all();
    wait_until_exited(store, &c.id, Some(Duration::from_secs(10)))?;
    container::event(store, c, "stop", &[]);
    Ok(())
}

/// Blocks until the container has exited; its exit code, `None` when it
/// is unknown (the monitor died). Watches the monitor with a pidfd, then
/// falls back to the container's own pid, so a killed monitor never makes
/// it hang (podman 439, 6520).
pub fn wait(store: &Store, id: &str) -> Result<Option<i32>> {
    Ok(wait_until_exited(store, id, None)?.flatten())
}

/// `Some(code)` once exited, `None` on timeout.
fn wait_until_exited(
    store: &Store,
    id: &str,
    timeout: Option<Duration>,
) -> Result<Option<Option<i32>>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let c = match container::load(store, id) {
            Ok(c) => c,
            // Removed (--rm) while we waited: it has exited.
            Err(Error::NotFound { .. }) => return Ok(Some(None)),
            Err(e) => return Err(e),
        };
        let s = c.state.derived();
        if s.status != Status::Running {
            return Ok(Some(s.exit_code));
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Ok(None);
        }
        // The monitor writes the exit record just before it exits; a
        // killed monitor's container dies with it (PDEATHSIG).
        let watched = live_pid(c.state.monitor_pid, c.state.monitor_start).or(c.state.pid);
        let slice = left
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        match watched.and_then(pidfd) {
            Some(fd) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::from(slice.as_millis() as u16));
            }
            None => std::thread::sleep(slice.min(Duration::from_millis(20))),
        }
    }
}

fn live_pid(pid: Option<i32>, start: Option<u64>) -> Option<i32> {
    let pid = pid?;
    (pid_start_time(pid) == start && start.is_some()).then_some(pid)
}

/// pidfd_open(2): readable once the process has exited.
fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: a non-negative result is a fresh fd we own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `TERM`, `SIGTERM`, `15` all name SIGTERM.
pub fn parse_signal(s: &str) -> Result<Signal> {
    let bad = || Error::Usage(format!("invalid signal '{s}'"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<Signal>().map_err(|_| bad())
}

/// Removes a container. A running one is refused unless `force`, which
/// kills it first (every process of its cgroup) and waits for it to end.
/// Of several programs removing one container, one removes it and the
/// others get `NotFound`.
pub fn remove(store: &Store, c: &Container, force: bool) -> Result<()> {
    if c.state.derived().restarting {
        if !force {
            return Err(Error::State(format!(
                "container '{}' is restarting: stop it first or use -f",
                c.name()
            )));
        }
        // Its monitor gives up; a restart it began meanwhile dies below.
        user_stopped(c)?;
    }
    let c = &container::load(store, &c.id)?;
    if c.status() == Status::Running {
        if !force {
            return Err(Error::State(format!(
                "container '{}' is running: stop it first or use -f",
                c.name()
            )));
        }
        let _ = kill(store, c, Signal::SIGKILL);
        let _ = Cgroup::open(&c.cgroup_name()).kill_all();
        if wait_until_exited(store, &c.id, Some(Duration::from_secs(10)))?.is_none() {
            return Err(Error::State(format!(
                "container '{}' did not die after SIGKILL",
                c.name()
            )));
        }
        // Let the monitor finish its exit record and cleanup.
        if let Some(m) = live_pid(c.state.monitor_pid, c.state.monitor_start).and_then(pidfd) {
            let mut fds = [PollFd::new(m.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(2000u16));
        }
    } else if c.state.status == Status::Running {
        // Its monitor was killed: whatever of it still runs goes now.
        let _ = Cgroup::open(&c.cgroup_name()).kill_all();
    }
    // An ordinary user's slirp4netns ends with a killed monitor (its exit
    // pipe closes); one that did not goes now.
    crate::net::user::end_leftover(&c.dir);
    let c = container::load(store, &c.id)?;
    // The claim: from here on this program alone removes it.
    let doomed = container::unlist(store, &c)?;
    crate::failpoint::hit("rm.unlisted");
    let _ = Cgroup::open(&c.cgroup_name()).remove();
    // A monitor that was killed released nothing: its lease, veth and NAT
    // elements go now (cc-net gc finds the same).
    let _ = crate::net::release_owner(store, &c.id);
    container::delete(&doomed);
    container::event(store, &c, "destroy", &[]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("sigkill").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("NOPE").unwrap_err().code(), 2);
    }
}
