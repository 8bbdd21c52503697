//! docker's run flags that tune the container beyond its command and
//! mounts: `--add-host` and `--dns*` (the /etc files, see `etc`), `--ulimit`, `--sysctl`, `--shm-size`, `--group-add`,
//! `--stop-signal`, `--stop-timeout`, `--cgroup-parent`,
//! `--device-cgroup-rule`, and the cgroup settings that only bundles had
//! (`--memory-reservation`, `--oom-kill-disable`, `--cpuset-cpus`,
//! `--cpuset-mems`). Each value is checked here, before anything exists,
//! and refused in one line naming it, with docker's rules.

use super::Net;
use crate::cgroup::Manager;
use crate::container::{ANN_CGROUP_PARENT, ANN_GROUP_ADD, ANN_STOP_SIGNAL, ANN_STOP_TIMEOUT};
use crate::error::{Error, Result};
use crate::spec::{self, Spec};

/// The flags, as given.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    /// `--add-host NAME:ADDRESS`, into /etc/hosts.
    pub add_hosts: Vec<String>,
    /// `--dns`, `--dns-search`, `--dns-option`, into /etc/resolv.conf.
    pub dns: super::etc::Dns,
    /// `--ulimit NAME=SOFT[:HARD]`.
    pub ulimits: Vec<String>,
    /// `--sysctl KEY=VALUE`.
    pub sysctls: Vec<String>,
    /// `--shm-size`: bytes of /dev/shm (docker's 64m when absent or 0).
    pub shm_size: Option<i64>,
    /// `--group-add`: group names (looked up in the container's
    /// /etc/group when it starts) or numbers.
    pub group_add: Vec<String>,
    /// `--stop-signal`: overrides the image's StopSignal.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds cc-stop waits by default, -1 for ever.
    pub stop_timeout: Option<i64>,
    /// `--cgroup-parent`: a cgroupfs path, or a slice under systemd.
    pub cgroup_parent: Option<String>,
    /// `--device-cgroup-rule 'c 1:3 rwm'`.
    pub device_cgroup_rules: Vec<String>,
    /// `--memory-reservation`: bytes (v1 soft limit, v2 memory.low).
    pub memory_reservation: Option<i64>,
    /// `--oom-kill-disable` (cgroup v1 only, as the kernel allows).
    pub oom_kill_disable: bool,
    /// `--cpuset-cpus`, `--cpuset-mems`: `0-3,5`.
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
}

/// Writes the flags into the spec of a new container.
pub(super) fn apply(t: &Tuning, spec: &mut Spec, net: &Net, manager: Manager) -> Result<()> {
    let process = spec.process.get_or_insert_with(Default::default);
    for u in &t.ulimits {
        let r = ulimit(u)?;
        process.rlimits.retain(|x| x.kind != r.kind);
        process.rlimits.push(r);
    }
    let a = &mut spec.annotations;
    t.dns.check(net)?;
    if let Some(lines) = super::etc::extra_hosts(&t.add_hosts, net)? {
        a.insert(crate::net::ANN_EXTRA_HOSTS.into(), lines);
    }
    if let Some(s) = &t.stop_signal {
        crate::lifecycle::parse_signal(s)?;
        a.insert(ANN_STOP_SIGNAL.into(), s.clone());
    }
    if let Some(n) = t.stop_timeout {
        if n < -1 {
            return Err(Error::Usage(format!(
                "invalid --stop-timeout '{n}': seconds, or -1 to wait for ever"
            )));
        }
        a.insert(ANN_STOP_TIMEOUT.into(), n.to_string());
    }
    if !t.group_add.is_empty() {
        if let Some(g) = t.group_add.iter().find(|g| g.is_empty() || g.contains(',')) {
            return Err(Error::Usage(format!("invalid --group-add '{g}'")));
        }
        a.insert(ANN_GROUP_ADD.into(), t.group_add.join(","));
    }
    if let Some(p) = &t.cgroup_parent {
        check_cgroup_parent(p, manager)?;
        a.insert(ANN_CGROUP_PARENT.into(), p.clone());
    } else if manager == Manager::Cgroupfs {
        // A user's groups go in the folder delegated to it.
        if let Some(p) = crate::cgroup::user_parent() {
            a.insert(ANN_CGROUP_PARENT.into(), p);
        }
    }
    if let Some(size) = t.shm_size.filter(|&s| s != 0) {
        shm_size(spec, size)?;
    }
    let linux = spec.linux.get_or_insert_with(Default::default);
    for s in &t.sysctls {
        let (k, v) = sysctl(s, net)?;
        linux.sysctl.insert(k, v);
    }
    resources(t, linux)
}

/// The cgroup settings, in `linux.resources`, checked against the host:
/// what its cgroups cannot hold is refused now, with the words the
/// monitor would use.
fn resources(t: &Tuning, linux: &mut spec::Linux) -> Result<()> {
    let res = linux.resources.get_or_insert_with(Default::default);
    if t.memory_reservation.is_some() || t.oom_kill_disable {
        let m = res.memory.get_or_insert_with(Default::default);
        m.reservation = t.memory_reservation;
        m.disable_oom_killer = t.oom_kill_disable.then_some(true);
    }
    if t.cpuset_cpus.is_some() || t.cpuset_mems.is_some() {
        for s in [&t.cpuset_cpus, &t.cpuset_mems].into_iter().flatten() {
            cpuset_list(s)?;
        }
        let c = res.cpu.get_or_insert_with(Default::default);
        c.cpus = t.cpuset_cpus.clone();
        c.mems = t.cpuset_mems.clone();
    }
    // After `--device`s and the defaults: a rule given later wins.
    for r in &t.device_cgroup_rules {
        res.devices.push(device_cgroup_rule(r)?);
    }
    let limits = crate::cgroup::Resources::of(res)?;
    crate::cgroup::check_resources(&limits)?;
    crate::cgroup::check_host(&limits)
}

/// docker's `--ulimit` names (go-units), as the spec's `RLIMIT_*`.
const ULIMITS: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// `NAME=SOFT[:HARD]` (HARD defaults to SOFT; -1 is unlimited).
fn ulimit(s: &str) -> Result<spec::Rlimit> {
    let bad = |why: &str| Error::Usage(format!("invalid ulimit '{s}': {why}"));
    let (name, values) = s
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=SOFT[:HARD]"))?;
    if !ULIMITS.contains(&name) {
        return Err(bad(&format!(
            "unknown name '{name}' ({})",
            ULIMITS.join(", ")
        )));
    }
    let number = |v: &str| -> Result<u64> {
        match v.parse::<i64>() {
            Ok(-1) => Ok(u64::MAX),
            Ok(n) if n >= 0 => Ok(n as u64),
            _ => Err(bad(&format!("'{v}' is not a number or -1"))),
        }
    };
    let (soft, hard) = match values.split_once(':') {
        Some((s, h)) => (number(s)?, number(h)?),
        None => (number(values)?, number(values)?),
    };
    if soft > hard {
        return Err(bad("the soft limit is above the hard limit"));
    }
    Ok(spec::Rlimit {
        kind: format!("RLIMIT_{}", name.to_ascii_uppercase()),
        soft,
        hard,
    })
}

/// docker's namespaced sysctls: IPC ones (the container always has its
/// own IPC namespace) and `net.*` in a network namespace not the host's.
fn sysctl(s: &str, net: &Net) -> Result<(String, String)> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Error::Usage(format!("invalid sysctl '{s}': expected KEY=VALUE")))?;
    let key = k.replace('/', ".");
    if key.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(Error::Usage(format!("invalid sysctl '{s}'")));
    }
    let is_net = key.starts_with("net.");
    if !(IPC.contains(&key.as_str()) || is_net || key.starts_with("fs.mqueue.")) {
        return Err(Error::Usage(format!(
            "sysctl '{key}' is not allowed: only namespaced ones (net.*, fs.mqueue.*, \
             kernel.shm*, kernel.msg*, kernel.sem)"
        )));
    }
    if is_net && *net == Net::Host {
        return Err(Error::Usage(format!(
            "sysctl '{key}' is not allowed in the host's network namespace (--net host)"
        )));
    }
    Ok((key, v.to_string()))
}

/// `/dev/shm`'s tmpfs of `size` bytes.
fn shm_size(spec: &mut Spec, size: i64) -> Result<()> {
    if size < 0 {
        return Err(Error::Usage(format!("invalid --shm-size '{size}'")));
    }
    let shm = spec
        .mounts
        .iter_mut()
        .find(|m| m.destination == "/dev/shm")
        .ok_or_else(|| Error::Internal("the spec has no /dev/shm".into()))?;
    shm.options.retain(|o| !o.starts_with("size="));
    shm.options.push(format!("size={size}"));
    Ok(())
}

/// A cpuset list: `0-3,5`.
fn cpuset_list(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.split(',').all(|part| {
            let mut ends = part.splitn(2, '-').map(|n| n.parse::<u32>());
            match (ends.next(), ends.next()) {
                (Some(Ok(_)), None) => true,
                (Some(Ok(a)), Some(Ok(b))) => a <= b,
                _ => false,
            }
        });
    match ok {
        true => Ok(()),
        false => Err(Error::Usage(format!(
            "invalid cpuset '{s}': a list such as 0-3,5"
        ))),
    }
}

/// `TYPE MAJOR:MINOR ACCESS` (docker's `--device-cgroup-rule`): type a, b
/// or c, numbers or `*`, access letters of rwm; an allow rule.
fn device_cgroup_rule(s: &str) -> Result<spec::DeviceRule> {
    let bad = || {
        Error::Usage(format!(
            "invalid device cgroup rule '{s}': expected TYPE MAJOR:MINOR ACCESS, such as 'c 1:3 rwm'"
        ))
    };
    let words: Vec<&str> = s.split_whitespace().collect();
    let [kind, numbers, access] = words[..] else {
        return Err(bad());
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    let number = |n: &str| match n {
        "*" => Ok(None),
        n => n.parse::<i64>().map(Some).map_err(|_| bad()),
    };
    let rule = spec::DeviceRule {
        allow: true,
        kind: Some(kind.into()),
        major: number(major)?,
        minor: number(minor)?,
        access: Some(access.into()),
    };
    // The kernel's rules for type and access letters.
    crate::cgroup::device_rule(&rule).map_err(|_| bad())?;
    Ok(rule)
}

/// `--cgroup-parent`: a relative or absolute path of plain folders under
/// cgroupfs; a slice name (`NAME.slice`) under systemd, as docker.
fn check_cgroup_parent(p: &str, manager: Manager) -> Result<()> {
    let name = manager.group_name(Some(p), "0");
    let ok = match manager {
        Manager::Systemd => p.ends_with(".slice") && crate::cgroup::Unit::parse(&name).is_some(),
        Manager::Cgroupfs => {
            !p.trim_matches('/').is_empty()
                && p.split('/')
                    .all(|c| c != "." && c != ".." && !c.contains(['\0', ':']))
        }
    };
    match ok {
        true => Ok(()),
        false if manager == Manager::Systemd => Err(Error::Usage(format!(
            "invalid --cgroup-parent '{p}': with the systemd cgroup manager, a slice such as my.slice"
        ))),
        false => Err(Error::Usage(format!(
            "invalid --cgroup-parent '{p}': a cgroup path of plain folders"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_follow_docker() {
        let r = ulimit("nofile=1024:2048").unwrap();
        assert_eq!(
            (r.kind.as_str(), r.soft, r.hard),
            ("RLIMIT_NOFILE", 1024, 2048)
        );
        let r = ulimit("core=-1").unwrap();
        assert_eq!((r.soft, r.hard), (u64::MAX, u64::MAX));
        for bad in ["nofile", "nofiles=1", "nofile=x", "nofile=10:5", "nproc=-2"] {
            assert_eq!(ulimit(bad).unwrap_err().code(), 2, "{bad}");
        }
    }

    #[test]
    fn only_namespaced_sysctls() {
        assert!(sysctl("net.ipv4.ip_forward=1", &Net::Bridge).is_ok());
        assert!(sysctl("kernel.shmmax=1000", &Net::Host).is_ok());
        assert!(sysctl("fs.mqueue.msg_max=20", &Net::None).is_ok());
        let e = sysctl("kernel.hostname=x", &Net::Bridge).unwrap_err();
        assert!(e.to_string().contains("'kernel.hostname'"), "{e}");
        assert!(sysctl("net.ipv4.ip_forward=1", &Net::Host).is_err());
        assert!(sysctl("=1", &Net::Bridge).is_err());
        assert!(sysctl("net.ipv4", &Net::Bridge).is_err());
    }

    #[test]
    fn device_rules_and_cpusets_are_checked() {
        let r = device_cgroup_rule("c 1:3 rwm").unwrap();
        assert_eq!((r.major, r.minor), (Some(1), Some(3)));
        assert_eq!(device_cgroup_rule("b *:* m").unwrap().major, None);
        for bad in ["c 1:3", "x 1:3 rwm", "c 1-3 rwm", "c 1:3 rwx"] {
            assert!(device_cgroup_rule(bad).is_err(), "{bad}");
        }
        assert!(cpuset_list("0-1,3").is_ok());
        for bad in ["", "a", "3-1", "0,,1"] {
            assert!(cpuset_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cgroup_parents_follow_the_manager() {
        assert!(check_cgroup_parent("/my/parent", Manager::Cgroupfs).is_ok());
        assert!(check_cgroup_parent("../x", Manager::Cgroupfs).is_err());
        assert!(check_cgroup_parent("my.slice", Manager::Systemd).is_ok());
        assert!(check_cgroup_parent("/my/parent", Manager::Systemd).is_err());
    }
}
