//! A container's state.json: what was last written about its process, and
//! the derived status a reader can trust. A record says "running" only
//! while its boot id is this boot's and its pid still has the start time
//! that was recorded; otherwise the process is gone and the status is
//! "exited" with an unknown code (podman 1703, 17484).

use std::fs;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The pid's start time (field 22 of /proc/PID/stat), against pid reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
    /// The monitor that owns the process, and its start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_start: Option<u64>,
    #[serde(default)]
    pub boot_id: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The exit code; absent when it is unknown (the process vanished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default)]
    pub oom_killed: bool,
    /// Why it could not start, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Restarts by the monitor (`--restart`) since the user last started it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restart_count: u32,
    /// Exited, and its monitor (`monitor_pid`) waits to start it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restarting: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl State {
    pub fn new(created: String) -> State {
        State {
            status: Status::Created,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            monitor_start: None,
            boot_id: crate::store::boot_id().to_string(),
            created,
            started_at: None,
            finished_at: None,
            exit_code: None,
            signal: None,
            oom_killed: false,
            error: None,
            restart_count: 0,
            restarting: false,
        }
    }

    /// The status a reader may believe: "running" is checked against the
    /// boot id and the pid's start time.
    pub fn derived(&self) -> State {
        let mut s = self.clone();
        if s.status == Status::Running && !self.process_alive() {
            s.status = Status::Exited;
            s.exit_code = None;
            s.pid = None;
        }
        if s.restarting && !self.monitor_alive() {
            s.restarting = false;
        }
        s
    }

    /// Whether the recorded monitor still runs (this boot, same start).
    fn monitor_alive(&self) -> bool {
        self.boot_id == crate::store::boot_id() && lives(self.monitor_pid, self.monitor_start)
    }

    /// The container counts as running while its monitor lives: the
    /// monitor writes the exit record after the process ends, and until
    /// then the exit code is not known. A killed monitor's container dies
    /// with it (PDEATHSIG), though its process may linger a moment as a
    /// zombie: it counts as exited at once. A record without a monitor
    /// (none was recorded) goes by its process, zombies not counted.
    fn process_alive(&self) -> bool {
        if self.boot_id != crate::store::boot_id() {
            return false;
        }
        match self.monitor_pid {
            Some(_) => lives(self.monitor_pid, self.monitor_start),
            None => lives(self.pid, self.pid_start),
        }
    }
}

/// Whether the process started at `start` still runs and is not a zombie:
/// one reading of /proc/PID/stat.
pub fn lives(pid: Option<i32>, start: Option<u64>) -> bool {
    let (Some(pid), Some(start)) = (pid, start) else {
        return false;
    };
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(rest) = stat.rfind(')').and_then(|at| stat.get(at + 2..)) else {
        return false;
    };
    let mut fields = rest.split(' ');
    fields.next() != Some("Z") && fields.nth(18).and_then(|s| s.parse().ok()) == Some(start)
}

/// One reading of a process's start time for the whole crate (tmp/ owners
/// use it too).
pub use crate::store::tmp::pid_start_time;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_read() {
        let me = std::process::id() as i32;
        assert!(pid_start_time(me).is_some());
        assert_eq!(pid_start_time(i32::MAX), None);
    }

    #[test]
    fn running_from_another_boot_is_exited_with_unknown_code() {
        let mut s = State::new("now".into());
        s.status = Status::Running;
        s.pid = Some(std::process::id() as i32);
        s.pid_start = pid_start_time(s.pid.unwrap());
        s.exit_code = Some(0);
        assert_eq!(s.derived().status, Status::Running);
        s.boot_id = "another-boot".into();
        let d = s.derived();
        assert_eq!((d.status, d.exit_code), (Status::Exited, None));
    }

    #[test]
    fn a_dead_monitor_means_exited_even_if_the_process_lingers() {
        let me = std::process::id() as i32;
        let mut s = State::new("now".into());
        s.status = Status::Running;
        s.pid = Some(me);
        s.pid_start = pid_start_time(me);
        s.monitor_pid = Some(me);
        s.monitor_start = pid_start_time(me);
        assert_eq!(s.derived().status, Status::Running);
        s.monitor_start = Some(1);
        assert_eq!(s.derived().status, Status::Exited);
    }

    #[test]
    fn reused_pid_is_not_running() {
        let mut s = State::new("now".into());
        s.status = Status::Running;
        s.pid = Some(std::process::id() as i32);
        s.pid_start = Some(1);
        assert_eq!(s.derived().status, Status::Exited);
    }
}
