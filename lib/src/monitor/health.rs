//! The container's healthcheck on docker's schedule, kept by its monitor
//! (no daemon, no thread): a timerfd in the monitor's poll loop says when
//! the next run is due and, while one runs, when it times out. The first
//! run is one interval after the start; the next one an interval after
//! each run ends (`start_interval` instead while the container is still
//! `starting` within its start period). A paused container is not
//! checked (the check would freeze with it).

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use crate::container::Container;
use crate::health::probe::{Probe, Started};
use crate::health::{self, Config, Status};
use crate::store::Store;
use crate::sys::Timer;

pub(super) struct Checks {
    cfg: Config,
    timer: Timer,
    probe: Option<Probe>,
    started: Instant,
    status: Status,
    /// A result was just recorded: the monitor may give back what the
    /// run touched (`take_trim`).
    recorded: bool,
}

impl Checks {
    /// The schedule of `c`'s check, if it has one; its health is
    /// `starting` again.
    pub(super) fn start(c: &Container) -> Option<Checks> {
        let cfg = Config::of(c)?;
        let timer = Timer::new().ok()?;
        let _ = health::begin(c);
        let checks = Checks {
            cfg,
            timer,
            probe: None,
            started: Instant::now(),
            status: Status::Starting,
            recorded: false,
        };
        checks.timer.set(checks.interval());
        Some(checks)
    }

    /// docker's getInterval: the start interval while `starting` within
    /// the start period, else the interval.
    fn interval(&self) -> Duration {
        let in_start = self.started.elapsed() < self.cfg.start_period;
        match in_start && self.status == Status::Starting {
            true => self.cfg.start_interval,
            false => self.cfg.interval,
        }
    }

    /// The fds to poll: the timer, then the running check's pipes.
    pub(super) fn fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut fds = vec![self.timer.fd()];
        fds.extend(self.probe.iter().flat_map(|p| p.fds()));
        fds
    }

    /// After poll: `ready` has one flag per `fds`.
    pub(super) fn on_ready(&mut self, store: &Store, c: &Container, ready: &[bool]) {
        if let Some(p) = &mut self.probe {
            p.read(&ready[1..]);
        }
        if !ready.first().copied().unwrap_or(false) || !self.timer.take() {
            return;
        }
        match &mut self.probe {
            // Its timeout: killed, and recorded once reaped.
            Some(p) => p.time_out(),
            None => self.run(store, c),
        }
    }

    fn run(&mut self, store: &Store, c: &Container) {
        match Probe::start(c, &self.cfg) {
            Ok(Started::Running(p)) => {
                self.timer.set(self.cfg.timeout);
                self.probe = Some(p);
            }
            Ok(Started::Over(o)) => self.recorded(store, c, &o),
            // Paused (or ending): try again an interval later.
            Err(_) => self.timer.set(self.interval()),
        }
    }

    /// The running check's pid, which the monitor's reaping hands back.
    pub(super) fn pid(&self) -> Option<Pid> {
        self.probe.as_ref().map(|p| p.pid())
    }

    /// The check ended with `status`: recorded, and the next one due.
    pub(super) fn ended(&mut self, store: &Store, c: &Container, status: WaitStatus) {
        let Some(p) = self.probe.take() else {
            return;
        };
        let o = p.finish(status);
        self.recorded(store, c, &o);
    }

    fn recorded(&mut self, store: &Store, c: &Container, o: &health::Outcome) {
        if let Ok(h) = health::record(store, c, &self.cfg, o) {
            self.status = h.status;
        }
        self.recorded = true;
        self.timer.set(self.interval());
    }

    /// True once after a result was recorded with the next run at least a
    /// second away: the monitor trims itself then, rather than after 5 s
    /// without events, which a check every few seconds never leaves it
    /// (a monitor checking every 3 s stayed at 3.6 MiB, not 1.6).
    pub(super) fn take_trim(&mut self) -> bool {
        std::mem::take(&mut self.recorded) && self.interval() >= Duration::from_secs(1)
    }

    /// The container ended: a running check is killed; `unhealthy`.
    pub(super) fn stop(mut self, c: &Container) {
        if let Some(p) = &mut self.probe {
            p.time_out();
        }
        health::end(c);
    }
}
