//! `--restart` kept by the monitor: once the container has ended and its
//! exit is recorded, the policy says whether to start it again, in place
//! (same record, upper folder, name; a new cgroup, network lease and
//! process), after docker's back-off: 100 ms doubling, reset once a run
//! lasted 10 s. While it waits the record says `restarting` and the
//! monitor keeps the monitor lock, so a cc-start cannot start it twice.
//! A stop by the user (`container::restart::user_stopped`), or a
//! terminating signal to the monitor (a shutdown), ends the restarts.

use std::fs::File;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use super::serve::Monitor;
use crate::container::restart::{self, delay, Policy, RESET_AFTER};
use crate::container::{self, state::pid_start_time, Container};
use crate::store::Store;

/// Serves the container, and starts it again as long as its policy says.
pub(super) fn serve(store: &Store, c: &mut Container, mut m: Monitor) {
    let mut quick_exits = 0u32;
    loop {
        let started = Instant::now();
        m.serve(store, c);
        // The record as cc-update left it: its policy and limits.
        match container::load(store, &c.id) {
            Ok(now) => c.spec = now.spec,
            Err(_) => return,
        }
        let code = c.state.exit_code.unwrap_or(125);
        if !Policy::of(c).restarts(code, c.state.restart_count)
            || m.told_to_end
            || restart::user_stopped(c)
            || !c.dir.exists()
        {
            return;
        }
        let held = m.into_lock();
        if started.elapsed() >= RESET_AFTER {
            quick_exits = 0;
        }
        let wait = delay(quick_exits);
        quick_exits += 1;
        set_restarting(c, true);
        if !back_off(c, wait) {
            set_restarting(c, false);
            return;
        }
        c.state.restart_count += 1;
        let Ok(mut null) = File::options().write(true).open("/dev/null") else {
            set_restarting(c, false);
            return;
        };
        match Monitor::start(store, c, false, &mut null, Some(held)) {
            Ok(next) => m = next,
            Err(f) => {
                c.state.error = Some(f.error.to_string());
                set_restarting(c, false);
                return;
            }
        }
    }
}

/// The record while the monitor waits to restart (our pid marks it alive)
/// or once it gives up.
fn set_restarting(c: &mut Container, on: bool) {
    let me = std::process::id() as i32;
    c.state.restarting = on;
    c.state.monitor_pid = on.then_some(me);
    c.state.monitor_start = if on { pid_start_time(me) } else { None };
    let _ = c.save_state();
}

/// Waits `wait`; false when the user stopped the container meanwhile, or
/// a terminating signal came (cc-stop wakes us with SIGTERM).
fn back_off(c: &Container, wait: Duration) -> bool {
    let Ok(signals) = crate::sys::signalfd(&[
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ]) else {
        return false;
    };
    let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
    let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
    let signalled = poll(&mut fds, PollTimeout::from(ms)).is_ok_and(|n| n > 0);
    !signalled && !restart::user_stopped(c)
}
