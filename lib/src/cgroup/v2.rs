//! cgroups v2: one unified hierarchy at /sys/fs/cgroup. A controller works
//! in a group only when every ancestor lists it in cgroup.subtree_control
//! (kernel Documentation/admin-guide/cgroup-v2.rst, "Enabling and
//! Disabling").

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    key_value, make_dirs, more, swap_limit, timed_out, wait_until, write, Cgroup, Info, Resources,
    Version, ROOT, STATE_CHANGE,
};
use crate::error::{Error, Result};

/// The controllers cc enables for its groups (freezing is built into v2).
const CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

fn available(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    text.split_whitespace().map(str::to_string).collect()
}

pub(super) fn info() -> Info {
    let mut controllers = available(Path::new(ROOT));
    controllers.sort();
    Info {
        version: Version::V2,
        swap_accounting: controllers.iter().any(|c| c == "memory") && swap_in_children(),
        controllers,
    }
}

/// The root group has no memory.* files; a child with the memory controller
/// shows memory.swap.max only with swap accounting. With no such child yet,
/// assume the default (accounting on since Linux 5.8).
fn swap_in_children() -> bool {
    let Ok(entries) = fs::read_dir(ROOT) else {
        return false;
    };
    let mut saw_memory = false;
    for dir in entries.flatten().map(|e| e.path()) {
        if dir.join("memory.swap.max").exists() {
            return true;
        }
        saw_memory |= dir.join("memory.max").exists();
    }
    !saw_memory
}

/// Converts v1 cpu.shares (2..262144, default 1024) to cpu.weight
/// (1..10000, default 100) the way runc and crun do, so that `-c` means the
/// same on both versions.
pub(super) fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

pub(super) fn create(cg: &Cgroup, res: &Resources, created: &mut Vec<PathBuf>) -> Result<()> {
    let dir = cg.dir("").expect("a v2 group has its folder");
    let depth = cg.name.split('/').count();
    let root = match crate::rootless::active() {
        // A user's group is made in the folder delegated to it, which
        // exists; folders above are not the user's to change.
        true => dir.parent().unwrap_or(dir),
        false => dir.ancestors().nth(depth).unwrap_or(dir),
    };
    let name = dir.strip_prefix(root).unwrap_or(dir).to_string_lossy();
    let have = available(root);
    let optional = optional(res);
    let needed = [
        (
            "memory",
            res.memory.is_some() || res.memory_swap.is_some() || res.more.memory(),
        ),
        (
            "cpu",
            res.cpu_shares.is_some() || res.cpu_quota.is_some() || res.cpu_period.is_some(),
        ),
        ("pids", res.pids.is_some()),
    ];
    let wanted = needed.iter().filter(|(_, n)| *n).map(|(c, _)| *c);
    if let Some(c) = wanted
        .chain(optional.iter().copied())
        .find(|c| !have.iter().any(|h| h == c))
    {
        return Err(Error::Unsupported(format!(
            "cannot limit {c}: cgroup controller '{c}' is not available"
        )));
    }
    let enable = |d: &Path| enable_controllers(d, &optional);
    let dir = make_dirs(root, &name, created, enable)?;
    apply_limits(&dir, res)
}

/// Writes `res` into the group at `dir`. v2 has no devices.allow: the
/// device rules become a BPF program on the group.
pub(super) fn apply_limits(dir: &Path, res: &Resources) -> Result<()> {
    apply(dir, res)?;
    more::apply_v2(dir, &res.more)?;
    super::devices::apply(dir, &res.devices)
}

pub(super) fn update(cg: &Cgroup, res: &Resources) -> Result<()> {
    let dir = cg.dir("").expect("a v2 group has its folder");
    let optional = optional(res);
    if !optional.is_empty() {
        // Enabled down to the group, which may have been made without them.
        let depth = cg.name.split('/').count();
        let mut parents: Vec<&Path> = dir.ancestors().skip(1).take(depth).collect();
        parents.reverse();
        for p in parents {
            enable_controllers(p, &optional)?;
        }
    }
    apply(dir, res)?;
    more::apply_v2(dir, &res.more)?;
    match res.devices.is_empty() {
        true => Ok(()),
        false => super::devices::apply(dir, &res.devices),
    }
}

/// The v2 controllers beyond memory, cpu and pids that `res` needs.
pub(super) fn optional(res: &Resources) -> Vec<&'static str> {
    let m = &res.more;
    let mut out = Vec::new();
    if m.cpuset_cpus.is_some() || m.cpuset_mems.is_some() {
        out.push("cpuset");
    }
    if m.blkio.is_some() {
        out.push("io");
    }
    if !m.hugetlb.is_empty() {
        out.push("hugetlb");
    }
    out
}

/// Enables in `dir`'s children the controllers cc uses that `dir` has,
/// and the `optional` ones a limit needs. Writing to a non-root group that
/// holds processes fails with EBUSY ("no internal processes" rule).
fn enable_controllers(dir: &Path, optional: &[&str]) -> Result<()> {
    let have = available(dir);
    let enabled = fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let missing: Vec<String> = CONTROLLERS
        .iter()
        .chain(optional)
        .filter(|c| have.iter().any(|h| h == *c))
        .filter(|c| !enabled.split_whitespace().any(|e| e == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write(&dir.join("cgroup.subtree_control"), &missing.join(" "))
}

fn apply(dir: &Path, res: &Resources) -> Result<()> {
    if let Some(m) = res.memory {
        write(&dir.join("memory.max"), &m.to_string())?;
    }
    let accounting = dir.join("memory.swap.max").exists();
    if let Some(s) = swap_limit(res, accounting)? {
        // memory.swap.max counts swap alone; docker's value is memory+swap.
        let value = match (s, res.memory) {
            (-1, _) => "max".to_string(),
            (s, Some(m)) => (s - m).to_string(),
            (s, None) => s.to_string(),
        };
        write(&dir.join("memory.swap.max"), &value)?;
    }
    if let Some(shares) = res.cpu_shares {
        write(
            &dir.join("cpu.weight"),
            &shares_to_weight(shares).to_string(),
        )?;
    }
    if let Some(value) = cpu_max(res.cpu_quota, res.cpu_period) {
        write(&dir.join("cpu.max"), &value)?;
    }
    if let Some(p) = res.pids {
        let value = if p > 0 {
            p.to_string()
        } else {
            "max".to_string()
        };
        write(&dir.join("pids.max"), &value)?;
    }
    Ok(())
}

/// cpu.max's line: `QUOTA [PERIOD]`. Without a period the kernel keeps the
/// group's (cpu_max_write), so a quota alone does not reset it; a period
/// alone comes with `max`, as runc writes it.
pub(super) fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    let quota = match quota {
        Some(q) if q > 0 => q.to_string(),
        Some(_) => "max".to_string(),
        None if period.is_some() => "max".to_string(),
        None => return None,
    };
    Some(match period {
        Some(p) => format!("{quota} {p}"),
        None => quota,
    })
}

/// cgroup.freeze (Linux 5.2); done when cgroup.events says `frozen 1`.
/// A group gone meanwhile has nothing left to thaw: v2 lets a fatal
/// signal end frozen processes, so after cc-kill's SIGKILL the monitor (or
/// systemd, for a scope) may remove the group before the thaw comes.
pub(super) fn freeze(cg: &Cgroup, frozen: bool) -> Result<()> {
    let Some(dir) = cg.dir("") else {
        return Err(Error::not_found("cgroup", cg.name.clone()));
    };
    let thawed_by_going = || !frozen && !dir.exists();
    let want = if frozen { 1 } else { 0 };
    if let Err(e) = write(&dir.join("cgroup.freeze"), &want.to_string()) {
        return match thawed_by_going() {
            true => Ok(()),
            false => Err(e),
        };
    }
    let events = dir.join("cgroup.events");
    let done = wait_until(|| match fs::read_to_string(&events) {
        Ok(text) => key_value(&text, "frozen") == Some(want),
        Err(_) => thawed_by_going(),
    });
    if done {
        return Ok(());
    }
    let op = if frozen { "freeze" } else { "thaw" };
    Err(Error::io(
        op,
        dir,
        timed_out(format!("still changing after {} s", STATE_CHANGE.as_secs())),
    ))
}

/// cgroup.kill (Linux 5.14) kills the whole group at once, new forks
/// included; older kernels get the freeze-and-kill loop.
pub(super) fn kill_all(cg: &Cgroup) -> Result<()> {
    match cg.dir("") {
        Some(dir) if dir.join("cgroup.kill").exists() => write(&dir.join("cgroup.kill"), "1"),
        _ => super::procs::kill_frozen(cg),
    }
}
