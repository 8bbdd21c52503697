//! cgroups v1 and v2: create a container's group, apply its limits, move
//! processes in, freeze, kill and remove it.
//!
//! The version is that of `/sys/fs/cgroup` itself: a cgroup2 mount there is
//! v2 (cgroups(7), "cgroups version 2"); anything else is v1, where each
//! controller's hierarchy is found in /proc/self/mountinfo because
//! controllers may be co-mounted (`cpu,cpuacct`). A v2 hierarchy mounted
//! elsewhere beside v1 ("hybrid", /sys/fs/cgroup/unified) has no controllers
//! cc needs and is ignored.

mod dbus;
mod devices;
mod systemd;
mod v1;
mod v2;
mod view;

pub use systemd::Unit;
pub use view::{own_hierarchies, Hierarchy};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The limits of `cc-run`, in docker's terms.
#[derive(Default, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    /// Bytes of memory (`-m`).
    pub memory: Option<i64>,
    /// Bytes of memory plus swap, -1 for unlimited swap (`--memory-swap`).
    pub memory_swap: Option<i64>,
    /// Relative CPU weight, 2 to 262144, default 1024 (`-c`).
    pub cpu_shares: Option<u64>,
    /// Microseconds of CPU time per period (from `--cpus`), -1 unlimited.
    pub cpu_quota: Option<i64>,
    /// Microseconds, 100000 when only a quota is given.
    pub cpu_period: Option<u64>,
    /// Most processes at once, 0 or -1 unlimited (`--pids-limit`).
    pub pids: Option<i64>,
    /// Device cgroup rules in order, v1 syntax with the file to write:
    /// `deny a` or `allow c 1:3 rwm` (empty: devices left as the parent's).
    #[serde(default)]
    pub devices: Vec<String>,
}

impl Resources {
    /// The limits of a spec's `linux.resources`.
    pub fn of_spec(spec: &crate::spec::Spec) -> Resources {
        let r = spec
            .linux
            .as_ref()
            .and_then(|l| l.resources.clone())
            .unwrap_or_default();
        Resources::of(&r)
    }

    /// The limits of an OCI resources object.
    pub fn of(r: &crate::spec::Resources) -> Resources {
        Resources {
            memory: r.memory.as_ref().and_then(|m| m.limit),
            memory_swap: r.memory.as_ref().and_then(|m| m.swap),
            cpu_shares: r.cpu.as_ref().and_then(|c| c.shares),
            cpu_quota: r.cpu.as_ref().and_then(|c| c.quota),
            cpu_period: r.cpu.as_ref().and_then(|c| c.period),
            pids: r.pids.as_ref().map(|p| p.limit),
            devices: r.devices.iter().map(device_rule).collect(),
        }
    }
}

/// A spec's device rule in v1's syntax: `allow c 1:3 rwm`, `deny a`.
pub fn device_rule(r: &crate::spec::DeviceRule) -> String {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "*".into());
    let kind = r.kind.as_deref().unwrap_or("a");
    let access = r.access.as_deref().unwrap_or("rwm");
    let verb = if r.allow { "allow" } else { "deny" };
    if kind == "a" && r.major.is_none() && r.minor.is_none() && access == "rwm" {
        return format!("{verb} a");
    }
    format!("{verb} {kind} {}:{} {access}", num(r.major), num(r.minor))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Version {
    V1,
    V2,
}

/// Where cgroup filesystems are mounted.
const ROOT: &str = "/sys/fs/cgroup";

/// The v1 controllers cc creates a folder in (cpuset and blkio are left to
/// the parent: cc sets no limits there).
const V1_CONTROLLERS: [&str; 6] = ["memory", "cpu", "cpuacct", "pids", "freezer", "devices"];

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
    /// `machine.slice:cc:<id>` (the scope `cc-<id>.scope`) under systemd.
    pub fn group_name(self, id: &str) -> String {
        match self {
            Manager::Cgroupfs => format!("cc/{id}"),
            Manager::Systemd => format!("{}:cc:{id}", systemd::SLICE),
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
            Version::V1 => v1::create(&cg, res, &mut created),
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
            Version::V1 => v1::apply(self, res),
            Version::V2 => v2::update(self, res),
        }
    }

    /// The group as it already exists (for cleanup by another process); no
    /// error if parts are missing.
    pub fn open(name: &str) -> Cgroup {
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
    pub fn join_self(&self) -> Result<()> {
        let file = match self.version {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        };
        for dir in self.paths() {
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
        let text = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        text.lines().filter_map(|l| l.trim().parse().ok()).collect()
    }

    /// Stops every process of the group; returns once they all are stopped.
    pub fn freeze(&self) -> Result<()> {
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
            remove_dir(&dir)?;
        }
        Ok(())
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

/// The checks docker makes before any folder exists.
fn check_resources(res: &Resources) -> Result<()> {
    if let Some(m) = res.memory {
        if m <= 0 {
            return Err(Error::Usage(format!("invalid memory limit {m}")));
        }
    }
    match (res.memory, res.memory_swap) {
        (_, None) | (_, Some(-1)) => {}
        (None, Some(_)) => {
            return Err(Error::Usage(
                "a memory-swap limit needs a memory limit".to_string(),
            ))
        }
        (Some(m), Some(s)) if s < m => {
            return Err(Error::Usage(format!(
                "memory-swap limit {s} is below the memory limit {m}"
            )))
        }
        _ => {}
    }
    if let Some(s) = res.cpu_shares {
        if !(2..=262_144).contains(&s) {
            return Err(Error::Usage(format!("cpu shares {s} not in 2..262144")));
        }
    }
    if let Some(p) = res.cpu_period {
        // The kernel's bounds for cfs_period_us and cpu.max (1 ms to 1 s).
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::Usage(format!("cpu period {p} not in 1000..1000000")));
        }
    }
    if let Some(q) = res.cpu_quota {
        if q != -1 && q < 1000 {
            return Err(Error::Usage(format!("cpu quota {q} is below 1000")));
        }
    }
    Ok(())
}

/// Whether a memory+swap limit must be written: not for -1 or a value equal
/// to the memory limit when the kernel cannot account swap (both are what
/// it does anyway). Otherwise an error, since the limit could not hold.
fn swap_limit(res: &Resources, accounting: bool) -> Result<Option<i64>> {
    match res.memory_swap {
        None => Ok(None),
        Some(s) if accounting => Ok(Some(s)),
        Some(s) if s == -1 || Some(s) == res.memory => Ok(None),
        Some(_) => Err(Error::Unsupported(
            "cannot limit memory-swap: this kernel has no swap accounting \
             (boot with swapaccount=1)"
                .to_string(),
        )),
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

/// Parses docker's sizes: `512`, `10b`, `64k`, `64m`, `1g`, `1.5g`
/// (case-insensitive, binary units; `kb` and `kib` forms too, as docker's
/// go-units RAMInBytes takes them).
pub fn parse_size(s: &str) -> Result<i64> {
    let bad = || Error::Usage(format!("invalid size '{s}'"));
    let t = s.to_ascii_lowercase();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let shift = match unit {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let digits_first = num.starts_with(|c: char| c.is_ascii_digit());
    if !digits_first || num.ends_with('.') || num.matches('.').count() > 1 {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * (1u64 << shift) as f64;
    if bytes >= i64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as i64)
}

/// `--cpus` as a CFS quota and period (microseconds), as docker does.
pub fn cpus_to_quota(cpus: f64) -> (i64, u64) {
    const PERIOD: u64 = 100_000;
    ((cpus * PERIOD as f64).round() as i64, PERIOD)
}

/// A container's process limit when `--pids-limit` is not given:
/// podman's, so a fork bomb stops at 2048 processes instead of filling
/// the host's pid space.
pub const DEFAULT_PIDS_LIMIT: i64 = 2048;

/// `--pids-limit`: absent, [`DEFAULT_PIDS_LIMIT`]; 0 or -1, none (the
/// group's `pids.max` stays `max`); N > 0, N.
pub fn pids_limit(flag: Option<i64>) -> Result<Option<i64>> {
    match flag {
        None => Ok(Some(DEFAULT_PIDS_LIMIT)),
        Some(0 | -1) => Ok(None),
        Some(n) if n > 0 => Ok(Some(n)),
        Some(n) => Err(Error::Usage(format!(
            "invalid --pids-limit '{n}': a positive number, or 0 or -1 for none"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[test]
    fn pids_limit_defaults_to_podmans() {
        assert_eq!(pids_limit(None).unwrap(), Some(2048));
        assert_eq!(pids_limit(Some(0)).unwrap(), None);
        assert_eq!(pids_limit(Some(-1)).unwrap(), None);
        assert_eq!(pids_limit(Some(7)).unwrap(), Some(7));
        assert_eq!(pids_limit(Some(-2)).unwrap_err().code(), 2);
    }

    #[test]
    fn parse_size_reads_docker_sizes() {
        let cases = [
            ("512", 512),
            ("10b", 10),
            ("64k", 64 << 10),
            ("64K", 64 << 10),
            ("64m", 64 << 20),
            ("64MB", 64 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("2GiB", 2 << 30),
            ("0", 0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text).unwrap(), want, "{text}");
        }
        for bad in [
            "",
            "m",
            "-1",
            "1.2.3g",
            "1.g",
            ".5g",
            "10x",
            "1 g",
            "1gb2",
            "1e3",
            "9999999999g",
        ] {
            let err = parse_size(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("invalid size '{bad}'"));
            assert_eq!(err.code(), 2);
        }
    }

    #[test]
    fn cpus_become_quota_and_period() {
        assert_eq!(cpus_to_quota(0.5), (50_000, 100_000));
        assert_eq!(cpus_to_quota(2.0), (200_000, 100_000));
        assert_eq!(cpus_to_quota(0.01), (1_000, 100_000));
    }

    #[test]
    fn cgroup_shares_convert_to_weight_like_runc() {
        assert_eq!(v2::shares_to_weight(2), 1);
        assert_eq!(v2::shares_to_weight(1024), 39);
        assert_eq!(v2::shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn cgroup_mountinfo_finds_comounted_controllers() {
        let text = "\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
37 31 0:34 /sub /elsewhere rw - cgroup cgroup rw,pids
38 31 0:34 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
39 31 0:34 / /again/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
        let got = v1::parse_mountinfo(text);
        let want: Vec<(PathBuf, Vec<String>)> = vec![
            (
                "/sys/fs/cgroup/cpu,cpuacct".into(),
                vec!["cpu".into(), "cpuacct".into()],
            ),
            ("/sys/fs/cgroup/mem ory".into(), vec!["memory".into()]),
            ("/sys/fs/cgroup/devices".into(), vec!["devices".into()]),
            ("/sys/fs/cgroup/pids".into(), vec!["pids".into()]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn cgroup_swap_limit_follows_docker() {
        let res = |m, s| Resources {
            memory: m,
            memory_swap: s,
            ..Default::default()
        };
        let mib = 1 << 20;
        assert_eq!(
            swap_limit(&res(Some(mib), Some(2 * mib)), true).unwrap(),
            Some(2 * mib)
        );
        assert_eq!(swap_limit(&res(Some(mib), Some(mib)), false).unwrap(), None);
        assert_eq!(swap_limit(&res(Some(mib), Some(-1)), false).unwrap(), None);
        let err = swap_limit(&res(Some(mib), Some(2 * mib)), false).unwrap_err();
        assert!(err.to_string().contains("no swap accounting"), "{err}");
        assert!(check_resources(&res(Some(2 * mib), Some(mib))).is_err());
        assert!(check_resources(&res(None, Some(mib))).is_err());
        assert!(check_name("../x").is_err() && check_name("/").is_err());
        assert!(check_name("cc/abc").is_ok());
    }

    /// Real cgroup tests need root; under CI a missing root is a failure.
    fn is_root() -> bool {
        if rustix::process::geteuid().is_root() {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "cgroup tests need root in CI"
        );
        eprintln!("skipped: cgroup tests need root");
        false
    }

    const TEST_PARENT: &str = "cc-test";

    fn unique_name() -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let n = N.fetch_add(1, Ordering::Relaxed);
        format!("{TEST_PARENT}/{}-{nanos:08x}-{n}", std::process::id())
    }

    /// Kills and removes its group, then the shared `cc-test` folder if it
    /// is empty (rmdir refuses otherwise).
    struct TestGroup(Cgroup);

    impl Drop for TestGroup {
        fn drop(&mut self) {
            let _ = self.0.kill_all();
            let _ = self.0.remove();
            for dir in self.0.paths() {
                if let Some(parent) = dir.parent().filter(|p| p.ends_with(TEST_PARENT)) {
                    let _ = fs::remove_dir(parent);
                }
            }
        }
    }

    fn read(cg: &Cgroup, controller: &str, file: &str) -> String {
        let path = cg.dir(controller).unwrap().join(file);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn cgroup_create_applies_limits() {
        if !is_root() {
            return;
        }
        let (quota, period) = cpus_to_quota(0.5);
        let res = Resources {
            memory: Some(parse_size("64m").unwrap()),
            pids: Some(10),
            cpu_quota: Some(quota),
            cpu_period: Some(period),
            cpu_shares: Some(512),
            ..Default::default()
        };
        let cg = TestGroup(Cgroup::create(&unique_name(), &res).unwrap());
        let cg = &cg.0;
        assert!(cg.paths().iter().all(|p| p.is_dir()));
        assert_eq!(read(cg, "pids", "pids.max").trim(), "10");
        match cg.version() {
            Version::V1 => {
                assert_eq!(
                    read(cg, "memory", "memory.limit_in_bytes").trim(),
                    "67108864"
                );
                assert_eq!(read(cg, "cpu", "cpu.cfs_quota_us").trim(), "50000");
                assert_eq!(read(cg, "cpu", "cpu.cfs_period_us").trim(), "100000");
                assert_eq!(read(cg, "cpu", "cpu.shares").trim(), "512");
                assert!(cg.dir("freezer").is_some() && cg.dir("cpuacct").is_some());
            }
            Version::V2 => {
                assert_eq!(read(cg, "memory", "memory.max").trim(), "67108864");
                assert_eq!(read(cg, "cpu", "cpu.max").trim(), "50000 100000");
                assert_eq!(read(cg, "cpu", "cpu.weight").trim(), "20");
            }
        }
        assert_eq!(cg.version(), info().version);
        assert!(cg.pids().is_empty() && !cg.oom_killed());
    }

    #[test]
    fn cgroup_create_failure_removes_folders() {
        if !is_root() {
            return;
        }
        let name = unique_name();
        // The kernel refuses a quota whose nanoseconds overflow 64 bits.
        let res = Resources {
            cpu_quota: Some(1 << 62),
            ..Default::default()
        };
        let err = Cgroup::create(&name, &res).unwrap_err();
        assert!(err.to_string().contains("invalid argument"), "{err}");
        let cg = TestGroup(Cgroup::open(&name));
        assert!(cg.0.paths().iter().all(|p| !p.exists()));
    }

    #[test]
    fn cgroup_add_kill_and_remove() {
        if !is_root() {
            return;
        }
        let name = unique_name();
        let cg = TestGroup(Cgroup::create(&name, &Resources::default()).unwrap());
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let pid = child.id() as i32;
        cg.0.add(pid).unwrap();
        assert_eq!(cg.0.pids(), vec![pid]);
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        let line = match cg.0.version() {
            Version::V1 => format!(":memory:/{name}\n"),
            Version::V2 => format!("0::/{name}\n"),
        };
        assert!(text.contains(&line), "{text}");

        cg.0.freeze().unwrap();
        cg.0.thaw().unwrap();
        cg.0.kill_all().unwrap();
        assert!(cg.0.pids().is_empty());
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        cg.0.remove().unwrap();
        assert!(cg.0.paths().iter().all(|p| !p.exists()));
        // Removing twice is fine: missing folders are not an error.
        Cgroup::open(&name).remove().unwrap();
    }

    #[test]
    fn cgroup_memory_limit_triggers_oom_kill() {
        if !is_root() {
            return;
        }
        let limit = parse_size("32m").unwrap();
        let res = Resources {
            memory: Some(limit),
            memory_swap: Some(limit),
            ..Default::default()
        };
        let cg = TestGroup(Cgroup::create(&unique_name(), &res).unwrap());
        // The shell waits for a line on stdin, so it is in the group before
        // it allocates; tail keeps the whole newline-free input in memory.
        let mut child = Command::new("sh")
            .args(["-c", "read x; head -c 200m /dev/zero | tail"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        cg.0.add(child.id() as i32).unwrap();
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(cg.0.oom_killed());
    }

    /// v2 code on this machine's cgroup2 mount: /sys/fs/cgroup itself, or
    /// the controller-less one beside v1 (freeze and kill need no controller).
    #[test]
    fn cgroup_v2_freeze_kill_and_remove() {
        if !is_root() {
            return;
        }
        let root = match version() {
            Version::V2 => PathBuf::from(ROOT),
            Version::V1 => PathBuf::from(ROOT).join("unified"),
        };
        if !is_cgroup2(&root) {
            eprintln!("skipped: no cgroup2 mount at '{}'", root.display());
            return;
        }
        let name = unique_name();
        let cg = Cgroup::open_v2_at(&root, &name);
        let mut created = Vec::new();
        let guard = TestGroup(cg.clone());
        if let Err(e) = v2::create(&cg, &Resources::default(), &mut created) {
            panic!("{e}");
        }
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let pid = child.id() as i32;
        cg.add(pid).unwrap();
        assert_eq!(cg.pids(), vec![pid]);
        cg.freeze().unwrap();
        let events = fs::read_to_string(cg.paths()[0].join("cgroup.events")).unwrap();
        assert_eq!(key_value(&events, "frozen"), Some(1));
        cg.thaw().unwrap();
        cg.kill_all().unwrap();
        child.wait().unwrap();
        assert!(!cg.oom_killed());
        cg.remove().unwrap();
        assert!(!cg.paths()[0].exists());
        drop(guard);
    }
}
