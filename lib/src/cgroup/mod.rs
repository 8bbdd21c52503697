//! cgroups v1 and v2: create a container's group, apply its limits, move
//! processes in, freeze, kill and remove it.
//!
//! The version is that of `/sys/fs/cgroup` itself: a cgroup2 mount there is
//! v2 (cgroups(7), "cgroups version 2"); anything else is v1, where each
//! controller's hierarchy is found in /proc/self/mountinfo because
//! controllers may be co-mounted (`cpu,cpuacct`). A v2 hierarchy mounted
//! beside v1 ("hybrid", /sys/fs/cgroup/unified) has no controllers, but
//! the group is made there too, as runc does.

mod dbus;
mod devices;
mod more;
mod resources;
mod systemd;
mod usage;
pub use usage::{key_values, read_u64};
mod v1;
mod v2;
mod view;

pub use more::check_host;
use resources::swap_limit;
pub use resources::{
    check_resources, cpus_to_quota, device_rule, parse_memory_swap, parse_size, pids_limit,
    pids_update, More, Resources, DEFAULT_PIDS_LIMIT,
};
pub use systemd::Unit;
pub use usage::Usage;
pub use view::{own_hierarchies, Hierarchy};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Version {
    V1,
    V2,
}

/// An ordinary user's container gets no cgroup (none is delegated to
/// the user on this host), so a limit it asks for is refused, never
/// dropped. Device rules are not limits: without a group the user
/// namespace already keeps devices from being made.
pub fn refuse_limits_for_user(res: &Resources) -> Result<()> {
    if !crate::rootless::active() {
        return Ok(());
    }
    let limited = res.memory.is_some()
        || res.memory_swap.is_some()
        || res.cpu_shares.is_some()
        || res.cpu_quota.is_some_and(|q| q > 0)
        || res.cpu_period.is_some()
        || res.pids.is_some_and(|p| p > 0)
        || res.more != More::default();
    if limited {
        return Err(Error::Unsupported(format!(
            "resource limits (-m, --cpus, --pids-limit, ...) need a cgroup, and none is delegated to this user on this host ({})",
            delegation()
        )));
    }
    Ok(())
}

/// Why no cgroup is delegated to the user, for messages and cc-info.
pub fn delegation() -> &'static str {
    match version() {
        Version::V1 => "cgroup v1 has no delegation to users",
        Version::V2 => "cc does not use a delegated cgroup v2 subtree yet",
    }
}

/// Where cgroup filesystems are mounted.
const ROOT: &str = "/sys/fs/cgroup";

/// The v1 controllers cc creates a folder in for every group.
const V1_CONTROLLERS: [&str; 6] = ["memory", "cpu", "cpuacct", "pids", "freezer", "devices"];

/// The v1 controllers cc creates a folder in only for a limit there (a
/// bundle's cpuset, blockIO, hugepageLimits, network); else the group
/// stays in its parent's.
const V1_OPTIONAL: [&str; 5] = ["cpuset", "blkio", "hugetlb", "net_cls", "net_prio"];

/// v1 or v2, from the filesystem type of /sys/fs/cgroup (statfs(2)).
pub fn version() -> Version {
    if is_cgroup2(Path::new(ROOT)) {
        Version::V2
    } else {
        Version::V1
    }
}

fn is_cgroup2(path: &Path) -> bool {
    const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    // f_type is not i64 on every architecture.
    #[allow(clippy::unnecessary_cast)]
    rustix::fs::statfs(path).is_ok_and(|st| st.f_type as i64 == CGROUP2_SUPER_MAGIC)
}

/// What `cc-info` shows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Info {
    pub version: Version,
    /// The controllers that can be used, sorted.
    pub controllers: Vec<String>,
    /// Whether memory+swap can be limited (`--memory-swap`).
    pub swap_accounting: bool,
}

pub fn info() -> Info {
    match version() {
        Version::V1 => v1::info(),
        Version::V2 => v2::info(),
    }
}

/// Who makes a container's group: cc itself in the cgroup filesystem, or
/// systemd as a transient scope (`--cgroup-manager`, podman's word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Manager {
    #[default]
    Cgroupfs,
    Systemd,
}

impl Manager {
    /// systemd where it runs the machine on cgroup v2 (as podman chooses),
    /// else cgroupfs.
    pub fn host_default() -> Manager {
        if version() == Version::V2 && systemd::running() {
            Manager::Systemd
        } else {
            Manager::Cgroupfs
        }
    }

    /// `systemd` or `cgroupfs`.
    pub fn parse(s: &str) -> Result<Manager> {
        match s {
            "systemd" => Ok(Manager::Systemd),
            "cgroupfs" => Ok(Manager::Cgroupfs),
            _ => Err(Error::Usage(format!(
                "invalid cgroup manager '{s}' (systemd or cgroupfs)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Cgroupfs => "cgroupfs",
            Manager::Systemd => "systemd",
        }
    }

    /// Refuses systemd where it cannot work: no systemd, or cgroup v1.
    pub fn check(self) -> Result<()> {
        if self == Manager::Cgroupfs {
            return Ok(());
        }
        if version() != Version::V2 {
            return Err(Error::Unsupported(
                "cannot use the systemd cgroup manager: cc supports it on cgroup v2 only".into(),
            ));
        }
        if !systemd::running() {
            return Err(Error::Unsupported(
                "cannot use the systemd cgroup manager: systemd is not running \
                 (no /run/systemd/system)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The group name of container `id`: `cc/<id>` under cgroupfs,
    /// `machine.slice:cc:<id>` (the scope `cc-<id>.scope`) under systemd;
    /// `--cgroup-parent` takes the place of `cc` or of the slice.
    pub fn group_name(self, parent: Option<&str>, id: &str) -> String {
        match self {
            Manager::Cgroupfs => format!("{}/{id}", parent.unwrap_or("cc").trim_matches('/')),
            Manager::Systemd => format!("{}:cc:{id}", parent.unwrap_or(systemd::SLICE)),
        }
    }
}

/// One group: its folder in each controller hierarchy (v1), or its single
/// folder (v2).
#[derive(Clone, Debug)]
pub struct Cgroup {
    name: String,
    version: Version,
    /// (controller, folder); in v1 co-mounted controllers share a folder, in
    /// v2 there is one entry with an empty controller name.
    dirs: Vec<(String, PathBuf)>,
    /// The systemd scope, when systemd manages the group (a name in runc's
    /// `slice:prefix:name` form).
    unit: Option<Unit>,
    /// Under systemd, the limits to write once the scope exists.
    pending: Option<Resources>,
}

impl Cgroup {
    /// Creates the group `name` (e.g. `cc/<id>`) and applies `res`. On any
    /// error, removes the folders it created.
    pub fn create(name: &str, res: &Resources) -> Result<Cgroup> {
        check_name(name)?;
        check_resources(res)?;
        if crate::rootless::active() {
            refuse_limits_for_user(res)?;
            return Ok(Cgroup::none(name));
        }
        let mut cg = Cgroup::open(name);
        if cg.unit.is_some() {
            // The scope is made with the container's first process in it
            // (`attach`): nothing to create before.
            Manager::Systemd.check()?;
            cg.pending = Some(res.clone());
            return Ok(cg);
        }
        let mut created = Vec::new();
        let result = match cg.version {
            Version::V1 => v1::create(&mut cg, res, &mut created),
            Version::V2 => v2::create(&cg, res, &mut created),
        };
        if let Err(e) = result {
            // Newest first, so leaves go before the parents made for them;
            // a parent that another group now uses stays (rmdir refuses).
            for dir in created.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
        Ok(cg)
    }

    /// Changes the limits of an existing group (`cc-oci update`): only the
    /// ones `res` gives.
    pub fn update(&self, res: &Resources) -> Result<()> {
        check_resources(res)?;
        match self.version {
            Version::V1 => v1::apply(&v1::grow(self, res)?, res),
            Version::V2 => v2::update(self, res),
        }
    }

    /// The group as it already exists (for cleanup by another process); no
    /// error if parts are missing.
    pub fn open(name: &str) -> Cgroup {
        if crate::rootless::active() {
            return Cgroup::none(name);
        }
        // Plain components only: v1 finds each mount point again by walking
        // up as many folders as the name has, and `..` must not lead a
        // later remove() out of the hierarchy.
        let name = name
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect::<Vec<_>>()
            .join("/");
        if let Some(unit) = Unit::parse(&name) {
            return Cgroup {
                name,
                version: Version::V2,
                dirs: vec![(String::new(), unit.path())],
                unit: Some(unit),
                pending: None,
            };
        }
        let (version, dirs) = match version() {
            Version::V1 => (Version::V1, v1::dirs(&name)),
            Version::V2 => (
                Version::V2,
                vec![(String::new(), Path::new(ROOT).join(&name))],
            ),
        };
        Cgroup {
            name,
            version,
            dirs,
            unit: None,
            pending: None,
        }
    }

    /// A user's container where no cgroup is delegated to the user: no
    /// group of its own (it stays in the user's), so nothing to join,
    /// freeze, read or remove.
    fn none(name: &str) -> Cgroup {
        Cgroup {
            name: name.to_string(),
            version: version(),
            dirs: Vec::new(),
            unit: None,
            pending: None,
        }
    }

    /// The v2 folder a new process can be started in (clone3's
    /// CLONE_INTO_CGROUP, which spares the `cgroup.procs` migration and
    /// its wait on the kernel's cgroup_threadgroup_rwsem, 5–10 ms here):
    /// the group's own on v2, `unified` on a hybrid host; none under
    /// systemd, whose scope is made around the child.
    pub fn v2_dir(&self) -> Option<&Path> {
        if self.unit.is_some() {
            return None;
        }
        self.dirs
            .iter()
            .find(|(c, _)| match self.version {
                Version::V2 => true,
                Version::V1 => c == v1::UNIFIED,
            })
            .map(|(_, d)| d.as_path())
    }

    /// Puts the container's first process, just cloned and waiting, into
    /// the group when systemd manages it (the scope is made around it);
    /// under cgroupfs the process joins by itself (`join_self`).
    pub fn attach(&self, pid: i32) -> Result<()> {
        match (&self.unit, &self.pending) {
            (Some(unit), Some(res)) => unit.start(pid, res),
            _ => Ok(()),
        }
    }

    /// The systemd scope, when systemd manages the group.
    pub fn unit(&self) -> Option<&Unit> {
        self.unit.as_ref()
    }

    /// A v2 group under another cgroup2 mount than /sys/fs/cgroup: the
    /// tests use the hybrid layout's /sys/fs/cgroup/unified.
    #[cfg(test)]
    fn open_v2_at(root: &Path, name: &str) -> Cgroup {
        Cgroup {
            name: name.to_string(),
            version: Version::V2,
            dirs: vec![(String::new(), root.join(name))],
            unit: None,
            pending: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The folder of `controller` (any controller in v2).
    fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(c, _)| c.is_empty() || c == controller)
            .map(|(_, p)| p.as_path())
    }

    /// The folder paths, each once.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for (_, p) in &self.dirs {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        out
    }

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

/// Creates `base/name` folder by folder, recording in `created` the ones it
/// made. `before_child` runs on each folder before a child is made in it (v2
/// enables controllers there). A parent removed meanwhile by another
/// process's cleanup (ENOENT) restarts the walk.
fn make_dirs(
    base: &Path,
    name: &str,
    created: &mut Vec<PathBuf>,
    mut before_child: impl FnMut(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let mut attempts = 0;
    'walk: loop {
        let mut dir = base.to_path_buf();
        for part in name.split('/').filter(|p| !p.is_empty()) {
            before_child(&dir)?;
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => created.push(dir.clone()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => {
                    attempts += 1;
                    continue 'walk;
                }
                Err(e) => return Err(Error::io("create cgroup", &dir, e)),
            }
        }
        return Ok(dir);
    }
}

/// SIGKILL to each process, with the group frozen when it can be so that
/// none forks meanwhile (runc does the same); frozen tasks die on thaw.
fn kill_frozen(cg: &Cgroup) -> Result<()> {
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

/// A group name is a relative path of plain components: it is joined to
/// every hierarchy's mount point.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.trim_matches('/').is_empty()
        && name
            .split('/')
            .filter(|c| !c.is_empty())
            .all(|c| c != "." && c != ".." && !c.contains('\0'));
    if ok {
        Ok(())
    } else {
        Err(Error::Spec(format!("invalid cgroup name '{name}'")))
    }
}

/// Writes a control file, with the file and value in the error.
fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|e| Error::io("write to", path, with_value(e, value)))
}

/// Prefixes an OS error with the value written: `'64m': invalid argument`
/// says more than the errno alone.
fn with_value(e: io::Error, value: &str) -> io::Error {
    let os = crate::error::Os(&e).to_string();
    io::Error::new(e.kind(), format!("'{value}': {os}"))
}

fn timed_out(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, msg)
}

/// The number after `key ` in a flat-keyed file (memory.events, cgroup.events).
fn key_value(text: &str, key: &str) -> Option<i64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Polls `done` until true or about two seconds passed.
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(2) {
            return false;
        }
        sleep(Duration::from_millis(1));
    }
    true
}

#[cfg(test)]
mod tests;
