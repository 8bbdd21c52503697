//! OOM kills of a group: counted by the kernel in memory.oom_control (v1)
//! or memory.events (v2), watched with inotify while the container runs.

use std::fs;
use std::path::PathBuf;

use super::{key_value, Cgroup, Version};

impl Cgroup {
    /// Whether the OOM killer killed a process of this group (`oom_kill` in
    /// v1 memory.oom_control, v2 memory.events; Linux 4.13).
    pub fn oom_killed(&self) -> bool {
        let file = match self.version {
            Version::V1 => "memory.oom_control",
            Version::V2 => "memory.events",
        };
        let Some(dir) = self.dir("memory") else {
            return false;
        };
        let text = fs::read_to_string(dir.join(file)).unwrap_or_default();
        key_value(&text, "oom_kill").is_some_and(|n| n > 0)
    }

    /// A watch for OOM kills while the container runs, for groups whose
    /// folder may be gone by the time the container's exit is recorded:
    /// systemd removes an emptied scope at once. None for cgroupfs groups,
    /// whose folder stays until cc removes it.
    pub fn watch_oom(&self) -> Option<OomWatch> {
        self.unit.as_ref()?;
        let events = self.dir("memory")?.join("memory.events");
        use rustix::fs::inotify;
        let fd =
            inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).ok()?;
        inotify::add_watch(&fd, &events, inotify::WatchFlags::MODIFY).ok()?;
        Some(OomWatch {
            fd,
            events,
            seen: false,
        })
    }
}

/// inotify on a v2 group's memory.events (the kernel notifies each change):
/// the monitor polls `fd` and calls `check` when it is readable.
pub struct OomWatch {
    fd: std::os::fd::OwnedFd,
    events: PathBuf,
    seen: bool,
}

impl OomWatch {
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// Drains the notifications and reads memory.events again; true once
    /// an OOM kill has been seen.
    pub fn check(&mut self) -> bool {
        let mut buf = [0u8; 512];
        while rustix::io::read(&self.fd, &mut buf).is_ok_and(|n| n > 0) {}
        let text = fs::read_to_string(&self.events).unwrap_or_default();
        self.seen |= key_value(&text, "oom_kill").is_some_and(|n| n > 0);
        self.seen
    }
}
