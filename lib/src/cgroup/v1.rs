//! cgroups v1: one hierarchy per controller (or per set of co-mounted
//! controllers), each found in /proc/self/mountinfo. See cgroups(7) and the
//! kernel's Documentation/admin-guide/cgroup-v1/.

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    make_dirs, more, swap_limit, timed_out, wait_until, write, Cgroup, Info, Resources, Version,
    STATE_CHANGE, V1_CONTROLLERS, V1_OPTIONAL,
};
use crate::error::{Error, Result};

/// The name cc gives a hybrid host's v2 hierarchy among the v1 ones.
pub(super) const UNIFIED: &str = "unified";

/// The mount point of each v1 hierarchy and the controllers it carries,
/// read once per process: the host's cgroup mounts do not change while a
/// cc program runs (cc-stats opens a group per container).
fn hierarchies() -> Vec<(PathBuf, Vec<String>)> {
    static MOUNTED: std::sync::OnceLock<Vec<(PathBuf, Vec<String>)>> = std::sync::OnceLock::new();
    MOUNTED
        .get_or_init(|| {
            parse_mountinfo(&fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
        })
        .clone()
}

/// Lines of proc_pid_mountinfo(5): `id parent maj:min root mountpoint opts
/// [optional...] - fstype source superopts`. Only `cgroup` (v1) mounts of a
/// hierarchy's root count: a bind of a sub-folder would put groups elsewhere.
/// A hybrid host's cgroup2 mount at /sys/fs/cgroup/unified counts too, as
/// the hierarchy [`UNIFIED`]: runc places its containers there as well, so
/// tools that read `0::` in /proc/PID/cgroup find the container's group.
pub(super) fn parse_mountinfo(text: &str) -> Vec<(PathBuf, Vec<String>)> {
    let mut out: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let mut rest = right.split(' ');
        let (Some(fstype @ ("cgroup" | "cgroup2")), Some(_source), Some(superopts)) =
            (rest.next(), rest.next(), rest.next())
        else {
            continue;
        };
        let (Some(&"/"), Some(mountpoint)) = (fields.get(3), fields.get(4)) else {
            continue;
        };
        if fstype == "cgroup2" {
            let unified = Path::new(super::ROOT).join("unified");
            let mountpoint = PathBuf::from(crate::mount::unescape_mountinfo(mountpoint));
            if mountpoint == unified && !out.iter().any(|(m, _)| *m == unified) {
                out.push((mountpoint, vec![UNIFIED.to_string()]));
            }
            continue;
        }
        let controllers: Vec<String> = superopts
            .split(',')
            .filter(|o| V1_CONTROLLERS.contains(o) || V1_OPTIONAL.contains(o))
            .map(str::to_string)
            .collect();
        let mountpoint = PathBuf::from(crate::mount::unescape_mountinfo(mountpoint));
        // The first mount of a hierarchy wins; later ones are binds of it.
        if !controllers.is_empty() && !out.iter().any(|(_, c)| c == &controllers) {
            out.push((mountpoint, controllers));
        }
    }
    out
}

/// The group's folder in each hierarchy cc uses that is mounted; in the
/// optional ones (cpuset, blkio, ...) only when the folder exists, since
/// create() makes it only for a limit there.
pub(super) fn dirs(name: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (mountpoint, controllers) in hierarchies() {
        let always = controllers
            .iter()
            .any(|c| V1_CONTROLLERS.contains(&c.as_str()) || c == UNIFIED);
        let dir = mountpoint.join(name);
        if !always && !dir.is_dir() {
            continue;
        }
        for c in controllers {
            out.push((c, dir.clone()));
        }
    }
    out
}

pub(super) fn info() -> Info {
    // proc_cgroups(5): `subsys hierarchy num_cgroups enabled`; hierarchy 0
    // means not mounted as v1.
    let text = fs::read_to_string("/proc/cgroups").unwrap_or_default();
    let mut controllers: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[1] != "0" && f[3] == "1").then(|| f[0].to_string())
        })
        .collect();
    controllers.sort();
    let memory = hierarchies()
        .into_iter()
        .find(|(_, c)| c.iter().any(|c| c == "memory"));
    Info {
        version: Version::V1,
        controllers,
        swap_accounting: memory.is_some_and(|(m, _)| has_swap_accounting(&m)),
    }
}

/// memory.memsw.* exist only with swap accounting (CONFIG_MEMCG_SWAP and
/// no `swapaccount=0`).
fn has_swap_accounting(memory_dir: &Path) -> bool {
    memory_dir.join("memory.memsw.limit_in_bytes").exists()
}

pub(super) fn create(cg: &mut Cgroup, res: &Resources, created: &mut Vec<PathBuf>) -> Result<()> {
    let optional = res.more.controllers();
    let needed = [
        (
            "memory",
            res.memory.is_some() || res.memory_swap.is_some() || res.more.memory(),
        ),
        (
            "cpu",
            res.cpu_shares.is_some()
                || res.cpu_quota.is_some()
                || res.cpu_period.is_some()
                || res.more.cpu_rt_period.is_some()
                || res.more.cpu_rt_runtime.is_some(),
        ),
        ("pids", res.pids.is_some()),
    ];
    let mounted = hierarchies();
    let has = |c: &str| mounted.iter().any(|(_, cs)| cs.iter().any(|x| x == c));
    let wanted = needed.iter().filter(|(_, n)| *n).map(|(c, _)| *c);
    for controller in wanted.chain(optional.iter().copied()) {
        if !has(controller) {
            return Err(Error::Unsupported(format!(
                "cannot limit {controller}: cgroup controller '{controller}' is not mounted"
            )));
        }
    }
    let depth = cg.name.split('/').count();
    for dir in cg.paths() {
        let base = dir.ancestors().nth(depth).unwrap_or(&dir).to_path_buf();
        make_dirs(&base, &cg.name, created, |_| Ok(()))?;
    }
    make_optional(&cg.name, &optional, &mounted, created)?;
    cg.dirs = dirs(&cg.name);
    apply(cg, res)
}

/// Makes the group's folder in the hierarchies of the `optional`
/// controllers (cpuset, blkio, ...) a limit needs.
fn make_optional(
    name: &str,
    optional: &[&str],
    mounted: &[(PathBuf, Vec<String>)],
    created: &mut Vec<PathBuf>,
) -> Result<()> {
    let bases = mounted
        .iter()
        .filter(|(_, cs)| cs.iter().any(|c| optional.contains(&c.as_str())))
        .map(|(mp, _)| mp);
    for base in bases {
        make_dirs(base, name, created, |_| Ok(()))?;
        if base.join("cpuset.cpus").exists() {
            inherit_cpuset(base, name)?;
        }
    }
    Ok(())
}

/// `update` of a limit in an optional controller the group was created
/// without (runc's groups are in every hierarchy): the folder is made now
/// and every process moved in, the group frozen meanwhile so that none
/// forks outside it. Returns the group with its new folders.
pub(super) fn grow(cg: &Cgroup, res: &Resources) -> Result<Cgroup> {
    let missing: Vec<&str> = (res.more.controllers().into_iter())
        .filter(|c| cg.dir(c).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(cg.clone());
    }
    let mounted = hierarchies();
    if let Some(c) = missing
        .iter()
        .find(|c| !mounted.iter().any(|(_, cs)| cs.iter().any(|x| x == *c)))
    {
        return Err(Error::Unsupported(format!(
            "cannot limit {c}: cgroup controller '{c}' is not mounted"
        )));
    }
    let mut created = Vec::new();
    if let Err(e) = make_optional(&cg.name, &missing, &mounted, &mut created) {
        for dir in created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        return Err(e);
    }
    let mut grown = cg.clone();
    grown.dirs = dirs(&cg.name);
    let was_frozen = cg.frozen();
    if !was_frozen {
        cg.freeze()?;
    }
    let moved = move_pids(&grown, &missing, &cg.pids());
    if !was_frozen {
        cg.thaw()?;
    }
    moved.map(|()| grown)
}

/// Writes each pid into the group's folder of each of `controllers`.
fn move_pids(cg: &Cgroup, controllers: &[&str], pids: &[i32]) -> Result<()> {
    for c in controllers {
        let procs = cg.dir(c).expect("just made").join("cgroup.procs");
        for pid in pids {
            match fs::write(&procs, pid.to_string()) {
                Err(e) if e.raw_os_error() != Some(libc::ESRCH) => {
                    return Err(Error::io("move a process into", &procs, e));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// A new v1 cpuset group starts with no CPUs and no memory nodes, and a
/// task cannot join it: each level gets its parent's, as runc does.
fn inherit_cpuset(base: &Path, name: &str) -> Result<()> {
    let mut dir = base.to_path_buf();
    for part in name.split('/') {
        let parent = dir.clone();
        dir.push(part);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = fs::read_to_string(dir.join(file)).unwrap_or_default();
            if own.trim().is_empty() {
                let p = parent.join(file);
                let value = fs::read_to_string(&p).map_err(|e| Error::io("read", &p, e))?;
                write(&dir.join(file), value.trim())?;
            }
        }
    }
    Ok(())
}

pub(super) fn apply(cg: &Cgroup, res: &Resources) -> Result<()> {
    if let Some(dir) = cg.dir("memory") {
        // memsw may never be below memory: in a new group (both
        // unlimited) memory goes first; an update that raises memory past
        // the current memsw writes memsw first.
        let memsw = dir.join("memory.memsw.limit_in_bytes");
        let swap = swap_limit(res, has_swap_accounting(dir))?;
        let now: Option<i64> = fs::read_to_string(&memsw)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let swap_first = matches!((res.memory, swap, now), (Some(m), Some(_), Some(n)) if m > n);
        let writes = [
            (dir.join("memory.limit_in_bytes"), res.memory),
            (memsw, swap),
        ];
        let order: [usize; 2] = if swap_first { [1, 0] } else { [0, 1] };
        for i in order {
            if let (path, Some(v)) = &writes[i] {
                write(path, &v.to_string())?;
            }
        }
    }
    if let Some(dir) = cg.dir("cpu") {
        if let Some(shares) = res.cpu_shares {
            write(&dir.join("cpu.shares"), &shares.to_string())?;
        }
        cfs(dir, res.cpu_quota, res.cpu_period)?;
    }
    if !res.devices.is_empty() {
        devices(cg, &res.devices)?;
    }
    if let (Some(dir), Some(p)) = (cg.dir("pids"), res.pids) {
        let value = if p > 0 {
            p.to_string()
        } else {
            "max".to_string()
        };
        write(&dir.join("pids.max"), &value)?;
    }
    more::apply_v1(cg, &res.more)
}

/// cpu.cfs_period_us and cpu.cfs_quota_us in runc's order: the period
/// first (the quota is checked against it); when the kernel refuses it
/// (EINVAL: the old quota over the new period would exceed the parent's
/// limit) and a quota follows, the period is written again after it. A
/// quota alone keeps the group's period.
fn cfs(dir: &Path, quota: Option<i64>, period: Option<u64>) -> Result<()> {
    let period_file = dir.join("cpu.cfs_period_us");
    let mut retry = None;
    if let Some(p) = period {
        let value = p.to_string();
        match fs::write(&period_file, &value) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && quota.is_some() => {
                retry = Some(value)
            }
            Err(e) => {
                let e = super::with_value(e, &value);
                return Err(Error::io("write to", &period_file, e));
            }
        }
    }
    if let Some(q) = quota {
        write(&dir.join("cpu.cfs_quota_us"), &q.to_string())?;
    }
    match retry {
        Some(value) => write(&period_file, &value),
        None => Ok(()),
    }
}

/// devices.deny/devices.allow, in order (cgroup-v1/devices.rst): `deny a`
/// empties the group's list, then each allow adds a rule.
fn devices(cg: &Cgroup, rules: &[String]) -> Result<()> {
    let dir = cg.dir("devices").ok_or_else(|| {
        Error::Unsupported(
            "cannot limit devices: cgroup controller 'devices' is not mounted".into(),
        )
    })?;
    // One open file per control file, one write per rule: each write
    // is a rule (a container start writes about thirteen).
    let mut open: Vec<(&str, fs::File)> = Vec::new();
    for rule in rules {
        let (file, value) = match rule.split_once(' ') {
            Some(("allow", v)) => ("devices.allow", v),
            Some(("deny", v)) => ("devices.deny", v),
            _ => {
                return Err(Error::Spec(format!("invalid device rule '{rule}'")));
            }
        };
        let path = dir.join(file);
        let f = match open.iter().position(|(n, _)| *n == file) {
            Some(i) => &mut open[i].1,
            None => {
                let f = fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io("open", &path, e))?;
                open.push((file, f));
                &mut open.last_mut().expect("just pushed").1
            }
        };
        std::io::Write::write_all(f, value.as_bytes())
            .map_err(|e| Error::io("write to", &path, super::with_value(e, value)))?;
    }
    Ok(())
}

/// freezer.state: FROZEN may read FREEZING for a while; the write is
/// repeated as runc does, since a task that forked meanwhile can stall it.
pub(super) fn freeze(cg: &Cgroup, frozen: bool) -> Result<()> {
    let dir = cg.dir("freezer").ok_or_else(|| {
        Error::Unsupported(format!(
            "cannot freeze cgroup '{}': controller 'freezer' is not mounted",
            cg.name
        ))
    })?;
    let state = dir.join("freezer.state");
    let want = if frozen { "FROZEN" } else { "THAWED" };
    write(&state, want)?;
    let mut polls = 0u32;
    let done = wait_until(|| {
        polls += 1;
        if polls == 100 {
            polls = 0;
            let _ = fs::write(&state, want);
        }
        fs::read_to_string(&state).is_ok_and(|s| s.trim() == want)
    });
    if done {
        return Ok(());
    }
    let _ = fs::write(&state, "THAWED");
    let op = if frozen { "freeze" } else { "thaw" };
    Err(Error::io(
        op,
        dir,
        timed_out(format!("not {want} after {} s", STATE_CHANGE.as_secs())),
    ))
}

pub(super) fn kill_all(cg: &Cgroup) -> Result<()> {
    super::procs::kill_frozen(cg)
}

/// Empties the memory group before it is removed when page cache is still
/// charged to it. Such a group (the files a container wrote stay in its
/// upper dir after it ends) would otherwise linger in the kernel as a
/// dying memory cgroup until the pages are reclaimed: hundreds pile up
/// with use (`/proc/cgroups` counts them; 20 exited containers that each
/// wrote 5 MB left 20), and the kernel walks them all on reclaim.
/// `memory.force_empty` reclaims the group's pages (cgroup-v1/memory.rst
/// 5.1); without page cache it is skipped, as it costs a drain of every
/// CPU's page lists. Best effort: the rmdir happens either way.
pub(super) fn before_remove(cg: &Cgroup) {
    let Some(dir) = cg.dir("memory") else { return };
    if page_cache(dir) > 0 {
        let _ = fs::write(dir.join("memory.force_empty"), "0");
    }
}

/// The `cache` line of the group's own memory.stat, in bytes.
fn page_cache(dir: &Path) -> u64 {
    let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    stat.lines()
        .find_map(|l| l.strip_prefix("cache "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// A group that wrote a file leaves no page cache charged under its
    /// parent once removed (without `before_remove` its pages, 4 MiB, stay
    /// charged in a dying group that the parent's totals still count).
    #[test]
    fn a_removed_group_leaves_no_page_cache_behind() {
        if !rustix::process::geteuid().is_root() || super::super::version() != Version::V1 {
            assert!(std::env::var_os("CI").is_none(), "needs root and cgroup v1");
            return;
        }
        let parent = format!("cc-test-v1-{}", std::process::id());
        let cg = Cgroup::create(&format!("{parent}/g"), &Resources::default()).unwrap();
        let file = tempfile::NamedTempFile::new_in("/var/tmp").unwrap();
        let mut child = Command::new("sh")
            .args([
                "-c",
                "read x; dd if=/dev/zero of=\"$0\" bs=1M count=4 conv=fsync 2>/dev/null",
            ])
            .arg(file.path())
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        cg.add(child.id() as i32).unwrap();
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        assert!(child.wait().unwrap().success());
        let memory = cg.dir("memory").unwrap().to_path_buf();
        assert!(
            page_cache(&memory) >= 4 << 20,
            "the file was not charged to the group"
        );
        cg.remove().unwrap();
        let parent_dir = memory.parent().unwrap().to_path_buf();
        let total = fs::read_to_string(parent_dir.join("memory.stat")).unwrap();
        let cached: u64 = total
            .lines()
            .find_map(|l| l.strip_prefix("total_cache "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        let _ = fs::remove_dir(&parent_dir);
        for d in Cgroup::open(&parent).paths() {
            let _ = fs::remove_dir(d);
        }
        assert!(
            cached < 1 << 20,
            "{cached} bytes of page cache still charged"
        );
    }
}
