//! The processes of a group: moving them in, listing, freezing, killing
//! them, and removing the emptied group.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::delegate::delegation;
use super::{timed_out, v1, v2, write, Cgroup, Version};
use crate::error::{Error, Result};

impl Cgroup {
    /// Moves `pid` (0: the caller) into every folder of the group.
    pub fn add(&self, pid: i32) -> Result<()> {
        for dir in self.paths() {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// Moves the calling process, which must be single-threaded (a child
    /// just cloned), into the group. On v1 it writes "0" to `tasks`: the
    /// kernel then moves only the current thread and skips the global
    /// cgroup_threadgroup_rwsem, whose write side waits for an RCU grace
    /// period (10-20 ms here) on every `cgroup.procs` write
    /// (kernel/cgroup/cgroup.c, cgroup_procs_write_start). On v2 a domain
    /// group takes whole processes: `cgroup.procs`.
    /// `in_v2`: the process was started in the v2 folder (`v2_dir`), so
    /// only the v1 folders are left.
    pub fn join_self(&self, in_v2: bool) -> Result<()> {
        let mut done: Vec<&Path> = Vec::new();
        for (controller, dir) in &self.dirs {
            if done.contains(&dir.as_path()) || (in_v2 && Some(dir.as_path()) == self.v2_dir()) {
                continue;
            }
            done.push(dir);
            // A hybrid host's v2 hierarchy has no `tasks`.
            let file = match self.version {
                Version::V1 if controller != v1::UNIFIED => "tasks",
                _ => "cgroup.procs",
            };
            write(&dir.join(file), "0")?;
        }
        Ok(())
    }

    /// The processes in the group, from the memory (v1) or only folder.
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self
            .dir("memory")
            .or_else(|| self.dirs.first().map(|d| d.1.as_path()))
        else {
            return Vec::new();
        };
        // Sub-groups too: a container may make its own (systemd in a
        // container, a nested runtime), as runc's GetAllPids walks them.
        let mut pids = Vec::new();
        for dir in std::iter::once(dir.to_path_buf()).chain(sub_groups(dir)) {
            let text = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
        pids
    }

    /// Stops every process of the group; returns once they all are stopped.
    pub fn freeze(&self) -> Result<()> {
        if self.dirs.is_empty() && self.unit.is_none() {
            return Err(Error::Unsupported(format!(
                "cannot freeze '{}': it has no cgroup ({})",
                self.name,
                delegation()
            )));
        }
        match self.version {
            Version::V1 => v1::freeze(self, true),
            Version::V2 => v2::freeze(self, true),
        }
    }

    /// Whether the group is frozen (or freezing): `paused` for cc-oci.
    pub fn frozen(&self) -> bool {
        match self.version {
            Version::V1 => self.dir("freezer").is_some_and(|d| {
                fs::read_to_string(d.join("freezer.state"))
                    .is_ok_and(|s| matches!(s.trim(), "FROZEN" | "FREEZING"))
            }),
            Version::V2 => self.dir("").is_some_and(|d| {
                fs::read_to_string(d.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
            }),
        }
    }

    pub fn thaw(&self) -> Result<()> {
        match self.version {
            Version::V1 => v1::freeze(self, false),
            Version::V2 => v2::freeze(self, false),
        }
    }

    /// Kills every process in the group with SIGKILL and waits up to about
    /// a second until the group is empty.
    pub fn kill_all(&self) -> Result<()> {
        match self.version {
            Version::V1 => v1::kill_all(self)?,
            Version::V2 => v2::kill_all(self)?,
        }
        let start = Instant::now();
        loop {
            let left = self.pids();
            if left.is_empty() {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(1) {
                let dir = self.paths().into_iter().next().unwrap_or_default();
                let msg = format!("{} processes still running after SIGKILL", left.len());
                return Err(Error::io("kill the processes of", dir, timed_out(msg)));
            }
            // Again: a process may have forked before it was killed.
            kill_pids(&left);
            sleep(Duration::from_millis(10));
        }
    }

    /// Removes every folder of the group. EBUSY is retried for about a
    /// second: a killed task leaves its group only once fully gone.
    pub fn remove(&self) -> Result<()> {
        if let Some(unit) = &self.unit {
            // systemd removes the folder of a stopped scope itself; an
            // unreachable systemd leaves it to the rmdir below.
            let _ = unit.stop();
        }
        if self.version == Version::V1 {
            v1::before_remove(self);
        }
        for dir in self.paths() {
            // Sub-groups made inside the container's group first, deepest
            // first: rmdir refuses a group that has children.
            for sub in sub_groups(&dir).into_iter().rev() {
                remove_dir(&sub)?;
            }
            remove_dir(&dir)?;
        }
        Ok(())
    }
}

/// Every group below `dir`, each parent before its children; cgroupfs
/// holds only groups as folders.
fn sub_groups(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut next = 0;
    let mut parent = dir.to_path_buf();
    loop {
        if let Ok(entries) = fs::read_dir(&parent) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    found.push(e.path());
                }
            }
        }
        let Some(p) = found.get(next) else {
            return found;
        };
        parent = p.clone();
        next += 1;
    }
}

/// SIGKILL to each process, with the group frozen when it can be so that
/// none forks meanwhile (runc does the same); frozen tasks die on thaw.
pub(super) fn kill_frozen(cg: &Cgroup) -> Result<()> {
    let frozen = cg.freeze().is_ok();
    kill_pids(&cg.pids());
    if frozen {
        cg.thaw()?;
    }
    Ok(())
}

/// SIGKILL; a process that is already gone (ESRCH) is fine.
fn kill_pids(pids: &[i32]) {
    for &pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// rmdir(2) of one group folder; a missing folder is fine.
fn remove_dir(dir: &Path) -> Result<()> {
    let start = Instant::now();
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                if start.elapsed() > Duration::from_secs(1) {
                    return Err(Error::io("remove cgroup", dir, e));
                }
                sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(Error::io("remove cgroup", dir, e)),
        }
    }
}
