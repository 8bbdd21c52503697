//! The limits only OCI bundles set (`More`): memory reservation, kernel
//! memory, swappiness, the OOM killer, realtime CPU time, cpusets, block
//! I/O, huge pages, net_cls/net_prio and v2's `unified` files. Each is
//! written where its controller exists and refused with a one-line error
//! where it cannot hold, as runc does: never accepted and ignored. File
//! names: the kernel's Documentation/admin-guide/cgroup-v1/*.rst and
//! cgroup-v2.rst.

use std::path::Path;

use super::{write, Cgroup, More};
use crate::error::{Error, Result};
use crate::spec::{BlockIo, ThrottleDevice};

/// The checks that need no folder.
pub(super) fn check(m: &More) -> Result<()> {
    if let Some(s) = m.swappiness.filter(|&s| s > 100) {
        return Err(Error::Usage(format!(
            "invalid memory swappiness {s}: the range is 0 to 100"
        )));
    }
    if let Some(b) = &m.blkio {
        let weights = b
            .weight_device
            .iter()
            .flat_map(|d| [d.weight, d.leaf_weight])
            .chain([b.weight, b.leaf_weight]);
        if let Some(w) = weights.flatten().find(|w| !(10..=1000).contains(w)) {
            return Err(Error::Usage(format!(
                "invalid blkio weight {w}: the range is 10 to 1000"
            )));
        }
    }
    for k in m.unified.keys() {
        if k.contains('/') || k.starts_with('.') || !k.contains('.') || k.starts_with("cgroup.") {
            return Err(Error::Spec(format!(
                "invalid linux.resources.unified key '{k}': a controller's file such as memory.high"
            )));
        }
    }
    Ok(())
}

/// Writes `m` into a v1 group, whose folders in the controllers `m` needs
/// exist (`More::controllers`).
pub(super) fn apply_v1(cg: &Cgroup, m: &More) -> Result<()> {
    if !m.unified.is_empty() {
        return Err(Error::Unsupported(
            "cannot apply linux.resources.unified: the host uses cgroup v1".into(),
        ));
    }
    if m.memory() {
        let dir = need(cg, "memory")?;
        let files = [
            ("memory.soft_limit_in_bytes", m.memory_reservation),
            ("memory.kmem.limit_in_bytes", m.kernel_memory),
            ("memory.kmem.tcp.limit_in_bytes", m.kernel_memory_tcp),
        ];
        for (file, value) in files {
            if let Some(v) = value {
                write_existing(dir, file, &v.to_string())?;
            }
        }
        if let Some(s) = m.swappiness {
            write(&dir.join("memory.swappiness"), &s.to_string())?;
        }
        if m.disable_oom_killer {
            write(&dir.join("memory.oom_control"), "1")?;
        }
    }
    if m.cpu_rt_period.is_some() || m.cpu_rt_runtime.is_some() {
        // The period first, as runc: the runtime is checked against it.
        let dir = need(cg, "cpu")?;
        if let Some(p) = m.cpu_rt_period {
            write_existing(dir, "cpu.rt_period_us", &p.to_string())?;
        }
        if let Some(r) = m.cpu_rt_runtime {
            write_existing(dir, "cpu.rt_runtime_us", &r.to_string())?;
        }
    }
    if m.cpuset_cpus.is_some() || m.cpuset_mems.is_some() {
        cpuset(need(cg, "cpuset")?, m)?;
    }
    if let Some(b) = &m.blkio {
        blkio_v1(need(cg, "blkio")?, b)?;
    }
    if !m.hugetlb.is_empty() {
        let dir = need(cg, "hugetlb")?;
        for h in &m.hugetlb {
            let file = format!("hugetlb.{}.limit_in_bytes", h.page_size);
            write_existing(dir, &file, &h.limit.to_string())?;
        }
    }
    if let Some(id) = m.net_cls_classid {
        write(
            &need(cg, "net_cls")?.join("net_cls.classid"),
            &id.to_string(),
        )?;
    }
    if !m.net_prio.is_empty() {
        let file = need(cg, "net_prio")?.join("net_prio.ifpriomap");
        for p in &m.net_prio {
            write(&file, &format!("{} {}", p.name, p.priority))?;
        }
    }
    Ok(())
}

/// Writes `m` into the v2 group at `dir`; what v2 has no file for is
/// refused.
pub(super) fn apply_v2(dir: &Path, m: &More) -> Result<()> {
    refuse_v2(m)?;
    if let Some(r) = m.memory_reservation {
        write_existing(dir, "memory.low", &r.to_string())?;
    }
    if m.cpuset_cpus.is_some() || m.cpuset_mems.is_some() {
        cpuset(dir, m)?;
    }
    if let Some(b) = &m.blkio {
        io_v2(dir, b)?;
    }
    for h in &m.hugetlb {
        let file = format!("hugetlb.{}.max", h.page_size);
        write_existing(dir, &file, &h.limit.to_string())?;
    }
    for (k, v) in &m.unified {
        write_existing(dir, k, v)?;
    }
    Ok(())
}

/// The group's folder of `controller`, which create() made when a limit
/// needed it.
fn need<'a>(cg: &'a Cgroup, controller: &str) -> Result<&'a Path> {
    cg.dir(controller).ok_or_else(|| {
        Error::Unsupported(format!(
            "cannot limit {controller}: cgroup '{}' has no {controller} group \
             (the controller is not mounted, or the container was created without it)",
            cg.name
        ))
    })
}

/// Writes a control file that must exist: a missing one means the kernel
/// lacks the feature, said in words rather than as ENOENT.
fn write_existing(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    if !path.exists() {
        return Err(Error::Unsupported(format!(
            "cannot write '{value}' to '{}': this kernel has no such file",
            path.display()
        )));
    }
    write(&path, value)
}

/// cpuset.cpus and cpuset.mems: the same files in v1 and v2.
fn cpuset(dir: &Path, m: &More) -> Result<()> {
    if let Some(c) = &m.cpuset_cpus {
        write_existing(dir, "cpuset.cpus", c)?;
    }
    if let Some(n) = &m.cpuset_mems {
        write_existing(dir, "cpuset.mems", n)?;
    }
    Ok(())
}

/// v1 blkio: the weights go to BFQ's files when the kernel has them (CFQ
/// is gone since Linux 5.0), as runc; throttles to blkio.throttle.*.
fn blkio_v1(dir: &Path, b: &BlockIo) -> Result<()> {
    let bfq = dir.join("blkio.bfq.weight").exists();
    let weight = if bfq {
        "blkio.bfq.weight"
    } else {
        "blkio.weight"
    };
    if let Some(w) = b.weight {
        write_existing(dir, weight, &w.to_string())?;
    }
    if let Some(w) = b.leaf_weight {
        write_existing(dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for d in &b.weight_device {
        if let Some(w) = d.weight {
            let file = format!("{weight}_device");
            write_existing(dir, &file, &format!("{}:{} {w}", d.major, d.minor))?;
        }
        if let Some(w) = d.leaf_weight {
            let line = format!("{}:{} {w}", d.major, d.minor);
            write_existing(dir, "blkio.leaf_weight_device", &line)?;
        }
    }
    let throttles: [(&str, &[ThrottleDevice]); 4] = [
        (
            "blkio.throttle.read_bps_device",
            &b.throttle_read_bps_device,
        ),
        (
            "blkio.throttle.write_bps_device",
            &b.throttle_write_bps_device,
        ),
        (
            "blkio.throttle.read_iops_device",
            &b.throttle_read_iops_device,
        ),
        (
            "blkio.throttle.write_iops_device",
            &b.throttle_write_iops_device,
        ),
    ];
    for (file, devices) in throttles {
        for d in devices {
            write_existing(dir, file, &format!("{}:{} {}", d.major, d.minor, d.rate))?;
        }
    }
    Ok(())
}

/// v2 io: io.bfq.weight when BFQ is there (same 10..1000 scale), else
/// io.weight scaled to 1..10000 as runc does; throttles are io.max lines.
fn io_v2(dir: &Path, b: &BlockIo) -> Result<()> {
    let bfq = dir.join("io.bfq.weight").exists();
    if b.leaf_weight.is_some() || b.weight_device.iter().any(|d| d.leaf_weight.is_some()) {
        return Err(Error::Unsupported(
            "cannot set a blkio leaf weight on cgroup v2: it has none".into(),
        ));
    }
    if let Some(w) = b.weight {
        match bfq {
            true => write_existing(dir, "io.bfq.weight", &w.to_string())?,
            false => {
                let v = 1 + (u64::from(w) - 10) * 9999 / 990;
                write_existing(dir, "io.weight", &v.to_string())?
            }
        }
    }
    for d in &b.weight_device {
        if let Some(w) = d.weight {
            if !bfq {
                return Err(Error::Unsupported(
                    "cannot set a per-device blkio weight: this kernel has no io.bfq.weight".into(),
                ));
            }
            write_existing(
                dir,
                "io.bfq.weight",
                &format!("{}:{} {w}", d.major, d.minor),
            )?;
        }
    }
    let throttles: [(&str, &[ThrottleDevice]); 4] = [
        ("rbps", &b.throttle_read_bps_device),
        ("wbps", &b.throttle_write_bps_device),
        ("riops", &b.throttle_read_iops_device),
        ("wiops", &b.throttle_write_iops_device),
    ];
    for (key, devices) in throttles {
        for d in devices {
            let line = format!("{}:{} {key}={}", d.major, d.minor, d.rate);
            write_existing(dir, "io.max", &line)?;
        }
    }
    Ok(())
}

/// What `m` asks that this host's cgroups cannot hold, refused before
/// anything is made (cc-run, cc-create), as the monitor would refuse it.
pub fn check_host(res: &super::Resources) -> Result<()> {
    match super::version() {
        super::Version::V2 => refuse_v2(&res.more),
        super::Version::V1 => Ok(()),
    }
}

/// The limits v2 has no file for.
fn refuse_v2(m: &More) -> Result<()> {
    let refuse = |what: &str, why: &str| {
        Err(Error::Unsupported(format!(
            "cannot set {what} on cgroup v2: {why}"
        )))
    };
    if m.kernel_memory.is_some() || m.kernel_memory_tcp.is_some() {
        return refuse(
            "a kernel memory limit",
            "v2 has no separate kernel memory limit",
        );
    }
    if m.swappiness.is_some() {
        return refuse("memory swappiness", "v2 has no per-group swappiness");
    }
    if m.disable_oom_killer {
        return refuse("disableOOMKiller", "v2 cannot disable the OOM killer");
    }
    if m.cpu_rt_period.is_some() || m.cpu_rt_runtime.is_some() {
        return refuse("realtime CPU time", "v2 has no cpu.rt_* files");
    }
    if m.net_cls_classid.is_some() || !m.net_prio.is_empty() {
        return refuse(
            "linux.resources.network",
            "net_cls and net_prio are v1 only",
        );
    }
    Ok(())
}
