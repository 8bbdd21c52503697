//! A container's limits in docker's terms (`Resources`), the checks docker
//! makes on them before any folder exists, and the parsing of cc-run's
//! `--memory`, `--cpus` and `--pids-limit` values. Writing them to a
//! group is `v1.rs`'s and `v2.rs`'s (and `systemd.rs`'s properties).

use crate::error::{Error, Result};

/// The limits of `cc-run`, in docker's terms, and the rest of an OCI
/// bundle's `linux.resources`.
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
    /// Microseconds; the group's current period when only a quota is given.
    pub cpu_period: Option<u64>,
    /// Most processes at once, 0 or -1 unlimited (`--pids-limit`).
    pub pids: Option<i64>,
    /// Device cgroup rules in order, v1 syntax with the file to write:
    /// `deny a` or `allow c 1:3 rwm` (empty: devices left as the parent's).
    #[serde(default)]
    pub devices: Vec<String>,
    /// The limits only OCI bundles set (`cc-oci`, `cc-run --bundle`).
    #[serde(default, flatten)]
    pub more: More,
}

/// The rest of `linux.resources`: each applied where its controller
/// exists and refused (`Error::Unsupported`) where it does not, as runc.
#[derive(Default, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct More {
    /// Bytes: v1 memory.soft_limit_in_bytes, v2 memory.low.
    pub memory_reservation: Option<i64>,
    /// Bytes of kernel memory: v1 memory.kmem.limit_in_bytes.
    pub kernel_memory: Option<i64>,
    /// Bytes of TCP buffers: v1 memory.kmem.tcp.limit_in_bytes.
    pub kernel_memory_tcp: Option<i64>,
    /// 0..100: v1 memory.swappiness.
    pub swappiness: Option<u64>,
    /// v1 memory.oom_control.
    pub disable_oom_killer: bool,
    /// Microseconds: v1 cpu.rt_runtime_us and cpu.rt_period_us.
    pub cpu_rt_runtime: Option<i64>,
    pub cpu_rt_period: Option<u64>,
    /// cpuset.cpus and cpuset.mems (`0-3,5`).
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// blkio (v1) or io (v2) weights and throttles.
    pub blkio: Option<crate::spec::BlockIo>,
    /// Bytes per huge page size: hugetlb.<size>.limit_in_bytes / .max.
    pub hugetlb: Vec<crate::spec::HugepageLimit>,
    /// v1 net_cls.classid and net_prio.ifpriomap.
    pub net_cls_classid: Option<u32>,
    pub net_prio: Vec<crate::spec::InterfacePriority>,
    /// v2 files written as given (refused on v1).
    pub unified: std::collections::BTreeMap<String, String>,
}

impl More {
    /// The v1 controllers these limits need, beyond memory and cpu.
    pub(super) fn controllers(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.cpuset_cpus.is_some() || self.cpuset_mems.is_some() {
            out.push("cpuset");
        }
        if self.blkio.is_some() {
            out.push("blkio");
        }
        if !self.hugetlb.is_empty() {
            out.push("hugetlb");
        }
        if self.net_cls_classid.is_some() {
            out.push("net_cls");
        }
        if !self.net_prio.is_empty() {
            out.push("net_prio");
        }
        out
    }

    /// Whether the memory controller is needed.
    pub(super) fn memory(&self) -> bool {
        self.memory_reservation.is_some()
            || self.kernel_memory.is_some()
            || self.kernel_memory_tcp.is_some()
            || self.swappiness.is_some()
            || self.disable_oom_killer
    }
}

impl Resources {
    /// The limits of a spec's `linux.resources`.
    pub fn of_spec(spec: &crate::spec::Spec) -> Result<Resources> {
        let r = spec
            .linux
            .as_ref()
            .and_then(|l| l.resources.clone())
            .unwrap_or_default();
        Resources::of(&r)
    }

    /// The limits of an OCI resources object; a field cc does not know is
    /// refused, never ignored.
    pub fn of(r: &crate::spec::Resources) -> Result<Resources> {
        unknown("linux.resources", &r.extra)?;
        let mem = r.memory.clone().unwrap_or_default();
        unknown("linux.resources.memory", &mem.extra)?;
        let cpu = r.cpu.clone().unwrap_or_default();
        unknown("linux.resources.cpu", &cpu.extra)?;
        if let Some(b) = &r.block_io {
            unknown("linux.resources.blockIO", &b.extra)?;
        }
        let net = r.network.clone().unwrap_or_default();
        unknown("linux.resources.network", &net.extra)?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let more = More {
            memory_reservation: mem.reservation,
            kernel_memory: mem.kernel,
            kernel_memory_tcp: mem.kernel_tcp,
            // runc's "unset": -1 read as an unsigned number.
            swappiness: mem.swappiness.filter(|&s| s != u64::MAX),
            disable_oom_killer: mem.disable_oom_killer == Some(true),
            cpu_rt_runtime: cpu.realtime_runtime,
            cpu_rt_period: cpu.realtime_period,
            cpuset_cpus: nonempty(cpu.cpus),
            cpuset_mems: nonempty(cpu.mems),
            // An empty object (some callers send `"blockIO": {}`) needs
            // no blkio group.
            blkio: r.block_io.clone().filter(|b| *b != Default::default()),
            hugetlb: r.hugepage_limits.clone(),
            net_cls_classid: net.class_id,
            net_prio: net.priorities,
            unified: r.unified.clone(),
        };
        Ok(Resources {
            memory: mem.limit,
            memory_swap: mem.swap,
            cpu_shares: cpu.shares,
            cpu_quota: cpu.quota,
            cpu_period: cpu.period,
            pids: r.pids.as_ref().map(|p| p.limit),
            devices: r.devices.iter().map(device_rule).collect::<Result<_>>()?,
            more,
        })
    }
}

/// Refuses the first field of `extra` that is set (null counts as unset).
fn unknown(
    object: &str,
    extra: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<()> {
    match extra.iter().find(|(_, v)| !v.is_null()) {
        Some((k, _)) => Err(Error::Unsupported(format!(
            "cannot apply {object}.{k}: cc does not support it"
        ))),
        None => Ok(()),
    }
}

/// A spec's device rule in v1's syntax: `allow c 1:3 rwm`, `deny a`. The
/// kernel knows only the types a, b and c, and the access letters r, w
/// and m.
pub fn device_rule(r: &crate::spec::DeviceRule) -> Result<String> {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "*".into());
    let kind = r.kind.as_deref().unwrap_or("a");
    let access = r.access.as_deref().unwrap_or("rwm");
    let verb = if r.allow { "allow" } else { "deny" };
    if !matches!(kind, "a" | "b" | "c") {
        return Err(Error::Spec(format!(
            "invalid device rule type '{kind}': the device cgroup takes a, b or c"
        )));
    }
    if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
        return Err(Error::Spec(format!(
            "invalid device rule access '{access}': letters of \"rwm\" only"
        )));
    }
    if kind == "a" && r.major.is_none() && r.minor.is_none() && access == "rwm" {
        return Ok(format!("{verb} a"));
    }
    Ok(format!(
        "{verb} {kind} {}:{} {access}",
        num(r.major),
        num(r.minor)
    ))
}

/// The checks docker makes before any folder exists.
pub fn check_resources(res: &Resources) -> Result<()> {
    super::more::check(&res.more)?;
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
pub(super) fn swap_limit(res: &Resources, accounting: bool) -> Result<Option<i64>> {
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

/// `--memory-swap`: a size, or -1 for unlimited swap.
pub fn parse_memory_swap(s: &str) -> Result<i64> {
    match s {
        "-1" => Ok(-1),
        s => parse_size(s),
    }
}

/// `--cpus` as a CFS quota and period (microseconds), as docker does.
pub fn cpus_to_quota(cpus: f64) -> Result<(i64, u64)> {
    const PERIOD: u64 = 100_000;
    if cpus.is_nan() || cpus <= 0.0 {
        return Err(Error::Usage(format!(
            "invalid --cpus '{cpus}': must be more than 0"
        )));
    }
    Ok(((cpus * PERIOD as f64).round() as i64, PERIOD))
}

/// cc-update's `--pids-limit`: absent, unchanged; 0 or -1, none; N > 0, N.
pub fn pids_update(flag: Option<i64>) -> Result<Option<i64>> {
    match flag {
        None => Ok(None),
        Some(0 | -1) => Ok(Some(-1)),
        n => pids_limit(n),
    }
}

impl Resources {
    /// docker's limits as an OCI `linux.resources` (the spec cc-run writes,
    /// the change cc-update merges into it).
    pub fn to_spec(&self) -> crate::spec::Resources {
        use crate::spec;
        spec::Resources {
            memory: (self.memory.is_some() || self.memory_swap.is_some()).then_some(
                spec::MemoryResources {
                    limit: self.memory,
                    swap: self.memory_swap,
                    ..Default::default()
                },
            ),
            cpu: (self.cpu_shares.is_some() || self.cpu_quota.is_some()).then_some(
                spec::CpuResources {
                    shares: self.cpu_shares,
                    quota: self.cpu_quota,
                    period: self.cpu_period,
                    ..Default::default()
                },
            ),
            pids: self.pids.map(|limit| spec::PidsResources { limit }),
            ..Default::default()
        }
    }
}

/// A container's process limit when `--pids-limit` is not given:
/// podman's, so a fork bomb stops at 2048 processes instead of filling
/// the host's pid space.
pub const DEFAULT_PIDS_LIMIT: i64 = 2048;

/// `--pids-limit`: absent, [`DEFAULT_PIDS_LIMIT`] (none for an ordinary
/// user, whose container has no cgroup); 0 or -1, none (the group's
/// `pids.max` stays `max`); N > 0, N.
pub fn pids_limit(flag: Option<i64>) -> Result<Option<i64>> {
    match flag {
        None => Ok((!crate::rootless::active()).then_some(DEFAULT_PIDS_LIMIT)),
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

    #[test]
    fn device_rules_take_only_what_the_kernel_takes() {
        let rule = |kind: &str, access: &str| crate::spec::DeviceRule {
            allow: true,
            kind: Some(kind.into()),
            major: Some(1),
            minor: None,
            access: Some(access.into()),
        };
        assert_eq!(device_rule(&rule("c", "rw")).unwrap(), "allow c 1:* rw");
        for (kind, access) in [("c", "rwa"), ("c", ""), ("p", "r"), ("u", "rwm")] {
            let err = device_rule(&rule(kind, access)).unwrap_err();
            assert!(err.to_string().contains("invalid device rule"), "{err}");
        }
    }

    #[test]
    fn unknown_resources_are_refused_not_ignored() {
        let parse = |v: serde_json::Value| {
            let r: crate::spec::Resources = serde_json::from_value(v).unwrap();
            Resources::of(&r)
        };
        for (v, named) in [
            (
                serde_json::json!({"rdma": {"mlx": {}}}),
                "linux.resources.rdma",
            ),
            (
                serde_json::json!({"memory": {"useHierarchy": true}}),
                "memory.useHierarchy",
            ),
            (serde_json::json!({"cpu": {"idle": 1}}), "cpu.idle"),
        ] {
            let err = parse(v).unwrap_err();
            assert!(err.to_string().contains(named), "{err}");
        }
        let r = parse(serde_json::json!({
            "memory": {"reservation": 5, "swappiness": 10, "disableOOMKiller": true},
            "cpu": {"cpus": "0-1", "mems": "", "realtimeRuntime": 7},
            "blockIO": {},
            "rdma": null
        }))
        .unwrap();
        assert_eq!(r.more.memory_reservation, Some(5));
        assert_eq!(r.more.swappiness, Some(10));
        assert!(r.more.disable_oom_killer);
        assert_eq!(r.more.cpuset_cpus.as_deref(), Some("0-1"));
        assert_eq!(r.more.cpuset_mems, None);
        assert_eq!(r.more.cpu_rt_runtime, Some(7));
        assert_eq!(r.more.controllers(), ["cpuset"]);
    }

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
        assert_eq!(cpus_to_quota(0.5).unwrap(), (50_000, 100_000));
        assert_eq!(cpus_to_quota(2.0).unwrap(), (200_000, 100_000));
        assert_eq!(cpus_to_quota(0.01).unwrap(), (1_000, 100_000));
        assert_eq!(cpus_to_quota(0.0).unwrap_err().code(), 2);
        assert_eq!(cpus_to_quota(-1.0).unwrap_err().code(), 2);
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
    }
}
