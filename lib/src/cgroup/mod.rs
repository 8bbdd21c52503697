//! cgroups v1 and v2: create a container's group, apply its limits, move
//! processes in, freeze, kill and remove it.
//!
//! The version is that of `/sys/fs/cgroup` itself: a cgroup2 mount there is
//! v2 (cgroups(7), "cgroups version 2"); anything else is v1, where each
//! controller's hierarchy is found in /proc/self/mountinfo because
//! controllers may be co-mounted (`cpu,cpuacct`). A v2 hierarchy mounted
//! beside v1 ("hybrid", /sys/fs/cgroup/unified) has no controllers, but
//! the group is made there too, as runc does.
//!
//! | file        | concern |
//! |-------------|---------|
//! | `mod.rs`    | the version, a group's folders: create, open, update |
//! | `manager`   | cgroupfs or a systemd scope, and the group's name |
//! | `delegate`  | what an ordinary user may use (issue 21) |
//! | `resources` | the limits in docker's terms and their checks |
//! | `more`      | the limits only OCI bundles set |
//! | `devices`   | device rules (v1 files, v2 eBPF) |
//! | `v1`, `v2`  | each version's files |
//! | `systemd`, `dbus` | transient scopes over D-Bus |
//! | `procs`     | the group's processes: join, freeze, kill, remove |
//! | `oom`       | OOM kills |
//! | `usage`     | counters for cc-stats |
//! | `view`      | what a container sees at /sys/fs/cgroup |

mod dbus;
mod delegate;
mod devices;
mod manager;
mod more;
mod oom;
mod procs;
mod resources;
mod systemd;
mod usage;
pub use usage::{key_values, read_u64};
mod v1;
mod v2;
mod view;

use delegate::Delegated;
pub use delegate::{delegation, nothing_delegated, refuse_limits_for_user, user_parent};
pub use manager::Manager;
pub use more::check_host;
pub use oom::OomWatch;
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
        let user_res;
        let res = match crate::rootless::active() {
            true => match user_group(name) {
                Delegated::None(_) => {
                    refuse_limits_for_user(res, None)?;
                    return Ok(Cgroup::none(name));
                }
                Delegated::Systemd(dir) | Delegated::Folder(dir) => {
                    delegate::check_controllers(res, &dir)?;
                    // Device filters are BPF programs only the host's
                    // root may attach; the user namespace already keeps
                    // devices from being made.
                    user_res = Resources {
                        devices: Vec::new(),
                        ..res.clone()
                    };
                    &user_res
                }
            },
            false => res,
        };
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
        if self.dirs.is_empty() {
            return Err(Error::Unsupported(format!(
                "cannot update '{}': it has no cgroup ({})",
                self.name,
                delegation()
            )));
        }
        match self.version {
            Version::V1 => v1::apply(&v1::grow(self, res)?, res),
            Version::V2 => v2::update(self, res),
        }
    }

    /// The group as it already exists (for cleanup by another process); no
    /// error if parts are missing.
    pub fn open(name: &str) -> Cgroup {
        if crate::rootless::active() && matches!(user_group(name), Delegated::None(_)) {
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
}

/// What is delegated for a user's group `name`: the user's systemd for a
/// scope, the folder the group is made in for cgroupfs.
fn user_group(name: &str) -> Delegated {
    if Unit::parse(name).is_some() {
        return match delegate::delegated(None) {
            Delegated::Folder(_) => Delegated::None("no user manager".into()),
            d => d,
        };
    }
    let parent = Path::new(name.trim_matches('/'))
        .parent()
        .and_then(Path::to_str)
        .filter(|p| !p.is_empty());
    match parent {
        Some(p) => delegate::delegated(Some(p)),
        None => Delegated::None("no parent".into()),
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

/// How long a freeze or thaw may take before it is an error: a few ms on
/// a quiet machine, seconds on a loaded or emulated one (a thaw after a
/// SIGKILL once took over 2 s in the cgroup-v2 VM under load).
const STATE_CHANGE: Duration = Duration::from_secs(10);

/// Polls `done` until true or [`STATE_CHANGE`] passed.
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STATE_CHANGE {
            return false;
        }
        sleep(Duration::from_millis(1));
    }
    true
}

#[cfg(test)]
mod tests;
