//! Nothing left behind: the mounts, cgroups, container records and
//! temporary files a test's programs must not leave, polled for while
//! cleanup may still be in flight.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::env::Env;
use crate::output::is_id;
use crate::wait::scaled;

/// Roots of the live environments of this test process, so that the leak
/// checker of one test does not blame it for the cgroups of another.
static LIVE_ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Counts `root` among the live environments (see [`LIVE_ROOTS`]).
pub(crate) fn note_root(root: &Path) {
    LIVE_ROOTS.lock().unwrap().push(root.to_path_buf());
}

/// No longer counts `root` among the live environments.
pub(crate) fn forget_root(root: &Path) {
    if let Ok(mut roots) = LIVE_ROOTS.lock() {
        roots.retain(|r| r != root);
    }
}

/// Mount points (from /proc/self/mountinfo) equal to or below `prefix`.
pub fn mounts_under(prefix: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = prefix.to_string_lossy().into_owned();
    let with_slash = format!("{prefix}/");
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|m| m == &prefix || m.starts_with(&with_slash))
        .map(PathBuf::from)
        .collect()
}

fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Every container cgroup folder: `/sys/fs/cgroup/<controller>/cc/<id>`
/// (v1) and `/sys/fs/cgroup/cc/<id>` (v2).
pub fn cgroup_dirs() -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut parents = vec![PathBuf::from("/sys/fs/cgroup/cc")];
    if let Ok(rd) = fs::read_dir("/sys/fs/cgroup") {
        for e in rd.flatten() {
            parents.push(e.path().join("cc"));
        }
    }
    for p in parents {
        if let Ok(rd) = fs::read_dir(&p) {
            for e in rd.flatten() {
                if is_id(&e.file_name().to_string_lossy()) && e.path().is_dir() {
                    out.insert(e.path());
                }
            }
        }
    }
    // systemd's scopes (`--cgroup-manager systemd`): cc-<id>.scope.
    if let Ok(rd) = fs::read_dir(SYSTEMD_SLICE) {
        for e in rd.flatten() {
            if scope_id(&e.path()).is_some() {
                out.insert(e.path());
            }
        }
    }
    out
}

/// Where systemd puts cc-run's scopes.
const SYSTEMD_SLICE: &str = "/sys/fs/cgroup/machine.slice";

/// The container id of a group folder: `<id>` or `cc-<id>.scope`.
fn scope_id(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let id = name.strip_prefix("cc-")?.strip_suffix(".scope")?;
    is_id(id).then(|| id.to_string())
}

fn group_id(dir: &Path) -> String {
    scope_id(dir).unwrap_or_else(|| dir.file_name().unwrap().to_string_lossy().into_owned())
}

/// The cgroup folder of container `id` for one v1 controller (or the v2
/// folder when the machine is v2 only).
pub fn cgroup_dir(controller: &str, id: &str) -> PathBuf {
    let v1 = Path::new("/sys/fs/cgroup")
        .join(controller)
        .join("cc")
        .join(id);
    let scope = Path::new(SYSTEMD_SLICE).join(format!("cc-{id}.scope"));
    if Path::new("/sys/fs/cgroup").join(controller).exists() {
        v1
    } else if scope.exists() {
        scope
    } else {
        Path::new("/sys/fs/cgroup/cc").join(id)
    }
}

fn cgroup_is_empty(dir: &Path) -> bool {
    fs::read_to_string(dir.join("cgroup.procs")).is_ok_and(|s| s.trim().is_empty())
}

/// Ids of containers recorded in any live env of this process.
fn live_ids() -> BTreeSet<String> {
    let roots = LIVE_ROOTS.lock().unwrap().clone();
    let mut ids = BTreeSet::new();
    for r in roots {
        if let Ok(rd) = fs::read_dir(r.join("containers")) {
            for e in rd.flatten() {
                ids.insert(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    ids
}

/// Cgroup folders made since the env was created that still exist, hold no
/// process, and belong to no recorded container of a live test env; polled
/// for a second so another test's cleanup in flight is not mistaken for a
/// leak.
fn leaked_cgroups(env: &Env, own_ids: &[String]) -> Vec<PathBuf> {
    let deadline = Instant::now() + scaled(Duration::from_millis(1500));
    loop {
        let live = live_ids();
        let leaked: Vec<PathBuf> = cgroup_dirs()
            .difference(&env.cgroups_before)
            .filter(|p| {
                let name = group_id(p);
                own_ids.contains(&name) || (!live.contains(&name) && cgroup_is_empty(p))
            })
            .cloned()
            .collect();
        if leaked.is_empty() || Instant::now() > deadline {
            return leaked;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long cleanup may take after a program returned: cc-run's monitor
/// may still be finishing `--rm` when the foreground process exits.
const SETTLE: Duration = Duration::from_secs(3);

/// Nothing left behind: no mount under the env's folder, no cgroup, no
/// container record, no temporary file in the store's `tmp/`. Polled for
/// up to [`SETTLE`]; see `rm_frees_the_name_at_once` in cc-run.rs for the
/// check that cleanup is done by the time cc-run returns.
pub fn assert_no_leaks(env: &Env) {
    settle(env, true);
}

/// Mounts, cgroups and temporary files: what must never stay, whether or
/// not a container record does.
pub fn assert_no_stray(env: &Env) {
    settle(env, false);
}

fn settle(env: &Env, no_records: bool) {
    let deadline = Instant::now() + scaled(SETTLE);
    loop {
        let problems = leaks(env, no_records);
        if problems.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left behind:\n  {}",
            problems.join("\n  ")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What is left behind now, one line per kind.
pub fn leaks(env: &Env, no_records: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let ms = env.mounts();
    if !ms.is_empty() {
        problems.push(format!("mounts: {ms:?}"));
    }
    // A finished container keeps its record but never its cgroup.
    let own = env.container_ids();
    let cg = leaked_cgroups(env, &own);
    if !cg.is_empty() {
        problems.push(format!("cgroups: {cg:?}"));
    }
    let tmp: Vec<_> = fs::read_dir(env.root.join("tmp"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    if !tmp.is_empty() {
        problems.push(format!("temporary files in the store: {tmp:?}"));
    }
    if no_records {
        let names: Vec<_> = fs::read_dir(env.root.join("containers"))
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        // `.pending` holds records being made or deleted: empty once done.
        let pending_empty = fs::read_dir(env.root.join("containers/.pending"))
            .map_or(true, |mut rd| rd.next().is_none());
        let stray: Vec<_> = names
            .iter()
            .filter(|n| *n != ".names" && *n != ".lock" && (*n != ".pending" || !pending_empty))
            .collect();
        if !stray.is_empty() {
            problems.push(format!("entries in containers/: {stray:?}"));
        }
        let taken: Vec<_> = fs::read_dir(env.root.join("containers/.names"))
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        if !taken.is_empty() {
            problems.push(format!("names in containers/.names: {taken:?}"));
        }
    }
    problems
}
