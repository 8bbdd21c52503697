//! The OCI runtime spec (config.json of a bundle): what runs and how. A
//! container's `containers/<id>/` is itself a bundle, and the sandbox takes
//! its orders from this file whichever front door (cc-run, cc-oci) wrote it.
//! Fields cc does not act on are kept in `extra` so nothing is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

type Extra = BTreeMap<String, Value>;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub oci_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux: Option<Linux>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub user: User,
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    pub cwd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<Rlimit>,
    #[serde(default)]
    pub no_new_privileges: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_gids: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Capabilities {
    #[serde(default)]
    pub bounding: Vec<String>,
    #[serde(default)]
    pub effective: Vec<String>,
    #[serde(default)]
    pub inheritable: Vec<String>,
    #[serde(default)]
    pub permitted: Vec<String>,
    #[serde(default)]
    pub ambient: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub hard: u64,
    pub soft: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Root {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Mount {
    pub destination: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A mount's own id mappings (with `idmap`): read to be refused.
    #[serde(rename = "uidMappings", default, skip_serializing_if = "Vec::is_empty")]
    pub uid_mappings: Vec<IdMapping>,
    #[serde(rename = "gidMappings", default, skip_serializing_if = "Vec::is_empty")]
    pub gid_mappings: Vec<IdMapping>,
}

impl Mount {
    pub fn new(kind: &str, source: &str, destination: &str, options: &[&str]) -> Mount {
        Mount {
            destination: destination.into(),
            kind: Some(kind.into()),
            source: Some(source.into()),
            options: options.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    pub fn is_bind(&self) -> bool {
        self.kind.as_deref() == Some("bind")
            || self.options.iter().any(|o| o == "bind" || o == "rbind")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readonly_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctl: BTreeMap<String, String>,
    /// Device nodes made in the container's /dev (`--device`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// The seccomp filter; none: unconfined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<Seccomp>,
    /// With a `user` namespace: container ids to host ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uid_mappings: Vec<IdMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gid_mappings: Vec<IdMapping>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `containerID..+size` in the container is `hostID..+size` on the host.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct IdMapping {
    #[serde(rename = "containerID")]
    pub container_id: u32,
    #[serde(rename = "hostID")]
    pub host_id: u32,
    pub size: u32,
}

impl IdMapping {
    /// The host id of container id `id`, if the mappings cover it.
    pub fn to_host(maps: &[IdMapping], id: u32) -> Option<u32> {
        maps.iter().find_map(|m| {
            (id >= m.container_id && id - m.container_id < m.size)
                .then(|| m.host_id + (id - m.container_id))
        })
    }

    /// The `uid_map` / `gid_map` file's text.
    /// The lines of a /proc/PID/uid_map or gid_map (`inside host count`).
    pub fn parse_map_file(text: &str) -> Vec<IdMapping> {
        text.lines()
            .filter_map(|l| {
                let n: Vec<u32> = l
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                let [container_id, host_id, size] = n[..] else {
                    return None;
                };
                Some(IdMapping {
                    container_id,
                    host_id,
                    size,
                })
            })
            .collect()
    }

    pub fn map_file(maps: &[IdMapping]) -> String {
        maps.iter()
            .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
            .collect()
    }
}

/// A device node to create (`linux.devices`).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub path: String,
    /// `c`, `b`, `u` or `p`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_mode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// A device cgroup rule (`linux.resources.devices`): `major`/`minor`
/// `None` is any (`*`), `kind` `a` is every type.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct DeviceRule {
    pub allow: bool,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// The OCI runtime spec's seccomp object (`linux.seccomp`).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Seccomp {
    pub default_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syscalls: Vec<SeccompSyscall>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SeccompSyscall {
    pub names: Vec<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<SeccompArg>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SeccompArg {
    pub index: u32,
    pub value: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value_two: u64,
    pub op: String,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<PidsResources>,
    /// The device cgroup's rules, in order (the last match wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRule>,
    #[serde(default, rename = "blockIO", skip_serializing_if = "Option::is_none")]
    pub block_io: Option<BlockIo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hugepage_limits: Vec<HugepageLimit>,
    /// net_cls's class id and net_prio's priorities (cgroup v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkResources>,
    /// cgroup v2 files and their values, written as they are.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Resources {
    /// Each field `new` sets replaces the saved one (cc-oci update,
    /// cc-update).
    pub fn merge(&mut self, new: &Resources) {
        let cur = self;
        if let Some(m) = &new.memory {
            let c = cur.memory.get_or_insert_with(Default::default);
            c.limit = m.limit.or(c.limit);
            c.reservation = m.reservation.or(c.reservation);
            c.swap = m.swap.or(c.swap);
            c.kernel = m.kernel.or(c.kernel);
            c.kernel_tcp = m.kernel_tcp.or(c.kernel_tcp);
            c.swappiness = m.swappiness.or(c.swappiness);
            c.disable_oom_killer = m.disable_oom_killer.or(c.disable_oom_killer);
        }
        if let Some(n) = &new.cpu {
            let c = cur.cpu.get_or_insert_with(Default::default);
            c.shares = n.shares.or(c.shares);
            c.quota = n.quota.or(c.quota);
            c.period = n.period.or(c.period);
            c.realtime_runtime = n.realtime_runtime.or(c.realtime_runtime);
            c.realtime_period = n.realtime_period.or(c.realtime_period);
            c.cpus = n.cpus.clone().or(c.cpus.take());
            c.mems = n.mems.clone().or(c.mems.take());
        }
        if new.pids.is_some() {
            cur.pids = new.pids.clone();
        }
        if let Some(b) = &new.block_io {
            let c = cur.block_io.get_or_insert_with(Default::default);
            c.weight = b.weight.or(c.weight);
            c.leaf_weight = b.leaf_weight.or(c.leaf_weight);
            let lists = [
                (&mut c.throttle_read_bps_device, &b.throttle_read_bps_device),
                (
                    &mut c.throttle_write_bps_device,
                    &b.throttle_write_bps_device,
                ),
                (
                    &mut c.throttle_read_iops_device,
                    &b.throttle_read_iops_device,
                ),
                (
                    &mut c.throttle_write_iops_device,
                    &b.throttle_write_iops_device,
                ),
            ];
            for (cur, new) in lists {
                if !new.is_empty() {
                    cur.clone_from(new);
                }
            }
            if !b.weight_device.is_empty() {
                c.weight_device.clone_from(&b.weight_device);
            }
        }
        if !new.hugepage_limits.is_empty() {
            cur.hugepage_limits.clone_from(&new.hugepage_limits);
        }
        if new.network.is_some() {
            cur.network.clone_from(&new.network);
        }
        cur.unified
            .extend(new.unified.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MemoryResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    #[serde(default, rename = "kernelTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    #[serde(
        default,
        rename = "disableOOMKiller",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_oom_killer: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CpuResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PidsResources {
    pub limit: i64,
}

/// `linux.resources.blockIO`: weights 10..1000 and per-device throttles.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlockIo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_read_bps_device: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_write_bps_device: Vec<ThrottleDevice>,
    #[serde(
        default,
        rename = "throttleReadIOPSDevice",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub throttle_read_iops_device: Vec<ThrottleDevice>,
    #[serde(
        default,
        rename = "throttleWriteIOPSDevice",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub throttle_write_iops_device: Vec<ThrottleDevice>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WeightDevice {
    pub major: i64,
    pub minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ThrottleDevice {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HugepageLimit {
    /// `2MB`, `1GB`: the hugetlb.<size>.* files' size.
    pub page_size: String,
    pub limit: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NetworkResources {
    #[serde(default, rename = "classID", skip_serializing_if = "Option::is_none")]
    pub class_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<InterfacePriority>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct InterfacePriority {
    pub name: String,
    pub priority: u32,
}

impl Spec {
    /// An OCI bundle's config.json, and the bundle's absolute path.
    pub fn load_bundle(dir: &std::path::Path) -> crate::Result<(std::path::PathBuf, Spec)> {
        use crate::Error;
        let bundle = dir
            .canonicalize()
            .map_err(|e| Error::io("open bundle", dir, e))?;
        let path = bundle.join("config.json");
        let text = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let spec: Spec = serde_json::from_slice(&text)
            .map_err(|e| Error::Spec(format!("{}: {e}", path.display())))?;
        if spec.process.as_ref().is_none_or(|p| p.args.is_empty()) {
            return Err(Error::Spec(format!(
                "{}: no process to run",
                path.display()
            )));
        }
        Ok((bundle, spec))
    }

    /// The root folder `root.path` names, relative to the bundle.
    pub fn rootfs_in(&self, bundle: &std::path::Path) -> std::path::PathBuf {
        bundle.join(
            self.root
                .as_ref()
                .map(|r| r.path.as_str())
                .unwrap_or("rootfs"),
        )
    }

    /// runc 1.1's rule for a bundle: after the spec's device cgroup rules
    /// come the default devices, allowed (specs such as podman's only deny
    /// all and rely on it). The spec's own device nodes (`linux.devices`)
    /// are not: only `resources.devices` decides what they may do, so a
    /// node listed beside a `deny a` stays denied.
    pub fn allow_default_devices(&mut self) {
        let Some(linux) = self.linux.as_mut() else {
            return;
        };
        let Some(res) = linux.resources.as_mut().filter(|r| !r.devices.is_empty()) else {
            return;
        };
        res.devices.extend(default_device_rules());
    }

    pub fn has_namespace(&self, kind: &str) -> bool {
        self.linux.as_ref().is_some_and(|l| {
            l.namespaces
                .iter()
                .any(|n| n.kind == kind && n.path.is_none())
        })
    }
}

/// The mounts every container gets, as `runc spec` lists them: a fresh
/// /proc, a small tmpfs /dev (never the image's), devpts, shm, mqueue, a
/// read-only /sys and the container's cgroups at /sys/fs/cgroup.
pub fn default_mounts() -> Vec<Mount> {
    vec![
        Mount::new("proc", "proc", "/proc", &["nosuid", "noexec", "nodev"]),
        Mount::new(
            "tmpfs",
            "tmpfs",
            "/dev",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        Mount::new(
            "devpts",
            "devpts",
            "/dev/pts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        Mount::new(
            "tmpfs",
            "shm",
            "/dev/shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        Mount::new(
            "mqueue",
            "mqueue",
            "/dev/mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        Mount::new(
            "sysfs",
            "sysfs",
            "/sys",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        // The container's own groups, read-only, as docker mounts them:
        // programs read their limits there (JVMs, Go, glibc's sysconf).
        Mount::new(
            "cgroup",
            "cgroup",
            "/sys/fs/cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        ),
    ]
}

/// The devices every container may use, as docker's and runc's: mknod of
/// any, and null, zero, full, random, urandom, tty, console, ptmx, the
/// ptys and tun. Rules to put after a `deny a`.
pub fn default_device_rules() -> Vec<DeviceRule> {
    const DEFAULTS: &[(&str, Option<i64>, Option<i64>, &str)] = &[
        ("c", None, None, "m"),
        ("b", None, None, "m"),
        ("c", Some(1), Some(3), "rwm"),
        ("c", Some(1), Some(5), "rwm"),
        ("c", Some(1), Some(7), "rwm"),
        ("c", Some(1), Some(8), "rwm"),
        ("c", Some(1), Some(9), "rwm"),
        ("c", Some(5), Some(0), "rwm"),
        ("c", Some(5), Some(1), "rwm"),
        ("c", Some(5), Some(2), "rwm"),
        ("c", Some(136), None, "rwm"),
        ("c", Some(10), Some(200), "rwm"),
    ];
    DEFAULTS
        .iter()
        .map(|(kind, major, minor, access)| DeviceRule {
            allow: true,
            kind: Some(kind.to_string()),
            major: *major,
            minor: *minor,
            access: Some(access.to_string()),
        })
        .collect()
}
