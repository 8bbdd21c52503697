//! cc-info: what this machine offers cc, checked by looking, not assumed.

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::cgroup;
use crate::container::{self, Status};
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Debug, Serialize)]
pub struct Info {
    pub store: String,
    pub images: usize,
    pub containers: usize,
    pub running: usize,
    /// Bytes in the store's tmp/: work of programs in flight and resumable
    /// downloads (a dead program's share was collected on open).
    pub tmp_bytes: u64,
    pub kernel: String,
    pub cgroup_version: u8,
    pub cgroup_controllers: Vec<String>,
    /// `systemd` or `cgroupfs`: who makes containers' groups by default
    /// (`--cgroup-manager`).
    pub cgroup_manager: &'static str,
    pub swap_accounting: bool,
    pub features: Vec<Feature>,
    /// Store folders other users can enter or read (a root folder owned
    /// by another user, which cc leaves as it is): they should be 0700.
    pub open_folders: Vec<String>,
    /// Set when cc runs for an ordinary user (see `rootless`).
    pub rootless: Option<Rootless>,
}

/// An ordinary user's cc: how its namespace maps ids, how overlays are
/// mounted, what cgroup is delegated.
#[derive(Debug, Serialize)]
pub struct Rootless {
    pub uid: u32,
    /// /proc/self/uid_map and gid_map lines: `inside host count`.
    pub uid_map: Vec<String>,
    pub gid_map: Vec<String>,
    pub overlay: String,
    pub cgroups: String,
}

fn rootless() -> Option<Rootless> {
    let uid = crate::rootless::user()?;
    let (u, g) = crate::rootless::maps()?;
    let lines = |m: String| {
        m.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    Some(Rootless {
        uid,
        uid_map: lines(u),
        gid_map: lines(g),
        overlay: crate::mount::fuse::describe(),
        cgroups: cgroup::delegation(),
    })
}

#[derive(Debug, Serialize)]
pub struct Feature {
    pub name: &'static str,
    pub present: bool,
    /// cc-run cannot work without it.
    pub required: bool,
}

/// What this machine and `store` offer cc, looked up now.
pub fn gather(store: &Store) -> Result<Info> {
    let tmp = store.tmp_dir();
    let tmp_bytes = crate::store::tmp::usage(&tmp).map_err(|e| Error::io("read", &tmp, e))?;
    let containers = container::list(store)?;
    let cg = cgroup::info();
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let features = features(&kernel);
    Ok(Info {
        store: store.root().display().to_string(),
        images: crate::image::list(store)?.len(),
        running: containers
            .iter()
            .filter(|c| c.status() == Status::Running)
            .count(),
        containers: containers.len(),
        tmp_bytes,
        kernel,
        cgroup_version: if cg.version == cgroup::Version::V2 {
            2
        } else {
            1
        },
        cgroup_controllers: cg.controllers,
        cgroup_manager: cgroup::Manager::host_default().as_str(),
        swap_accounting: cg.swap_accounting,
        features,
        open_folders: store
            .open_folders()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        rootless: rootless(),
    })
}

/// The kernel features cc uses, each found present or not, in the order
/// cc-info prints them.
fn features(kernel: &str) -> Vec<Feature> {
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let has_fs = |f: &str| {
        filesystems
            .lines()
            .any(|l| l.split_whitespace().last() == Some(f))
    };
    let ns = |n: &str| Path::new("/proc/self/ns").join(n).exists();
    let f = |name, present, required| Feature {
        name,
        present,
        required,
    };
    vec![
        f("overlayfs", has_fs("overlay"), true),
        f("mount namespace", ns("mnt"), true),
        f("pid namespace", ns("pid"), true),
        f("uts namespace", ns("uts"), true),
        f("ipc namespace", ns("ipc"), true),
        f("network namespace", ns("net"), true),
        f("cgroup namespace", ns("cgroup"), true),
        f("user namespace", ns("user"), false),
        f("overlay lowerdir+", kernel_at_least(kernel, 6, 8), false),
        f("openat2", kernel_at_least(kernel, 5, 6), true),
        f("pidfd", kernel_at_least(kernel, 5, 3), false),
        f("seccomp", seccomp(), false),
        f("devpts", has_fs("devpts"), true),
        f("tmpfs", has_fs("tmpfs"), true),
    ]
}

fn kernel_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse::<u32>().ok());
    let v = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    v >= (major, minor)
}

fn seccomp() -> bool {
    fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Seccomp:")))
}
