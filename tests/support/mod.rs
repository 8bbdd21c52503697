//! What every integration test shares: an [`Env`] with its own store root
//! that tears down what it made, a busybox image built from the host's
//! static busybox, and a leak checker.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod oci;

/// Roots of the live environments of this test process, so that the leak
/// checker of one test does not blame it for the cgroups of another.
static LIVE_ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Where the cc-* programs are: `$CC_BIN_DIR`, else two levels above the
/// test executable (`target/debug/deps/cc_run-1234` -> `target/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CC_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable two levels below the target folder")
        .to_path_buf()
}

/// The path of one program, which must have been built (`make test` does).
pub fn bin(prog: &str) -> PathBuf {
    let path = bin_dir().join(prog);
    assert!(
        path.exists(),
        "{} is missing: build the programs first (`make build`, or set CC_BIN_DIR)",
        path.display()
    );
    path
}

/// Tests that need root do not skip silently under CI. Returns false when
/// the test should be skipped.
#[must_use]
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("this test needs root, and CI=true: a missing capability is a failure");
    }
    eprintln!("skipped: needs root");
    false
}

/// Skip (return early from) a test when not root, fail under CI.
#[macro_export]
macro_rules! root_or_skip {
    () => {
        if !support::require_root() {
            return;
        }
    };
}

/// One test's world: a store root in a temporary folder, a scratch folder
/// beside it, and everything cleaned up on drop.
pub struct Env {
    tmp: Option<tempfile::TempDir>,
    /// The store root, passed to every program as `CC_ROOT`.
    pub root: PathBuf,
    /// A scratch folder for the test's own files (rootfs trees, tars).
    pub dir: PathBuf,
    /// cgroup folders under `/sys/fs/cgroup/*/cc/` when the env was made.
    cgroups_before: BTreeSet<PathBuf>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::Builder::new()
            .prefix("cc-test-")
            .tempdir()
            .expect("tempdir");
        // Canonical, so mountinfo prefixes match exactly.
        let base = fs::canonicalize(tmp.path()).unwrap();
        let root = base.join("root");
        let dir = base.join("work");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&dir).unwrap();
        LIVE_ROOTS.lock().unwrap().push(root.clone());
        Env {
            tmp: Some(tmp),
            root,
            dir,
            cgroups_before: cgroup_dirs(),
        }
    }

    /// The temporary folder holding both `root` and `dir`.
    pub fn base(&self) -> &Path {
        self.root.parent().unwrap()
    }

    /// A command for one program, pointed at this env's store.
    pub fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(bin(prog));
        c.env("CC_ROOT", &self.root);
        c.stdin(Stdio::null());
        c
    }

    pub fn run<I, S>(&self, prog: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(prog).args(args).output().expect("spawn")
    }

    /// Run with `input` on stdin.
    pub fn run_stdin<I, S>(&self, prog: &str, args: I, input: &[u8]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = self
            .cmd(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Run, assert success, and return stdout.
    pub fn ok<I, S>(&self, prog: &str, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.run(prog, &args);
        assert_ok(&out, &format!("{prog} {args:?}"));
        stdout(&out)
    }

    /// A busybox root filesystem in `self.dir/<name>`, to change before
    /// importing it with [`Env::import_dir`].
    pub fn busybox_rootfs(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(format!("rootfs-{name}"));
        make_busybox_rootfs(&dir);
        dir
    }

    /// Import a folder as image NAME with `CMD ["sh"]`; returns the id.
    pub fn import_dir(&self, dir: &Path, name: &str) -> String {
        self.ok(
            "cc-import",
            [
                OsStr::new("-c"),
                OsStr::new("CMD [\"sh\"]"),
                dir.as_os_str(),
                OsStr::new(name),
            ],
        )
        .trim()
        .to_string()
    }

    /// A busybox image named NAME; returns its id (`sha256:...`).
    pub fn busybox_image(&self, name: &str) -> String {
        let dir = self.busybox_rootfs(name);
        self.import_dir(&dir, name)
    }

    /// Ids of this env's containers, from the store's folder.
    pub fn container_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(self.root.join("containers"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| is_id(n))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// The one container of this env (panics unless there is exactly one).
    pub fn only_container(&self) -> String {
        let ids = self.container_ids();
        assert_eq!(ids.len(), 1, "expected one container, have {ids:?}");
        ids[0].clone()
    }

    /// `cc-inspect -f FIELD OBJ`, trimmed.
    pub fn inspect(&self, field: &str, obj: &str) -> String {
        self.ok("cc-inspect", ["-f", field, obj]).trim().to_string()
    }

    /// Mount points at or below this env's temporary folder.
    pub fn mounts(&self) -> Vec<PathBuf> {
        mounts_under(self.base())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Containers first: cc-rm -f unmounts and removes their cgroups.
        let mut ids = self.container_ids();
        if let Ok(out) = self.cmd("cc-ps").args(["-aq"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let l = line.trim().to_string();
                if !l.is_empty() && !ids.iter().any(|i| i.starts_with(&l)) {
                    ids.push(l);
                }
            }
        }
        if !ids.is_empty() {
            let _ = self.cmd("cc-rm").arg("-f").args(&ids).output();
        }
        // This store's bridge and nft table, when a test made them.
        if self.root.join("net").exists() {
            let _ = self.cmd("cc-net").args(["destroy", "-f"]).output();
        }
        // Then anything still mounted below our folder, deepest first.
        let mut ms = self.mounts();
        ms.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        for m in ms {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
        if let Ok(mut roots) = LIVE_ROOTS.lock() {
            roots.retain(|r| r != &self.root);
        }
        if let Some(tmp) = self.tmp.take() {
            let path = tmp.path().to_path_buf();
            if tmp.close().is_err() {
                // Read-only bits left by a test: make writable and retry.
                let _ = Command::new("chmod")
                    .arg("-R")
                    .arg("u+rwX")
                    .arg(&path)
                    .status();
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

pub fn is_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Panic with the command's stdout and stderr unless it succeeded.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// Assert the exit code, showing both streams when it differs.
pub fn assert_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit status {:?}, wanted {code}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// The error contract: exactly one line on stderr, starting `prog: `.
pub fn assert_one_line_error(out: &Output, prog: &str) {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{prog}: wanted one line on stderr, got:\n{err}"
    );
    assert!(
        lines[0].starts_with(&format!("{prog}: ")),
        "{prog}: error line should start with '{prog}: ', got: {}",
        lines[0]
    );
}

/// A busybox tree: the static binary, one symlink per applet, passwd and
/// group with root, nobody and user (1000, also in group users=100).
pub fn make_busybox_rootfs(dir: &Path) {
    for d in ["bin", "etc", "root", "tmp", "home/user"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::set_permissions(dir.join("root"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("copy /bin/busybox (busybox-static)");
    let list = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        let link = dir.join("bin").join(applet);
        if !link.exists() {
            symlink("busybox", &link).unwrap();
        }
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
         user:x:1000:1000::/home/user:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        dir.join("etc/group"),
        "root:x:0:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n",
    )
    .unwrap();
    nix::unistd::chown(&dir.join("home/user"), Some(1000.into()), Some(1000.into())).ok();
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

/// Poll `f` until it returns Some, or panic after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + scaled(timeout);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parse `--format json` output: one object per non-empty line.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Files below `dir` with their sizes and modes, to show a tree unchanged.
pub fn tree_snapshot(dir: &Path) -> Vec<(PathBuf, u64, u32)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, u64, u32)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let md = fs::symlink_metadata(e.path()).unwrap();
            use std::os::unix::fs::MetadataExt;
            out.push((
                e.path().strip_prefix(base).unwrap().to_path_buf(),
                md.len(),
                md.mode(),
            ));
            if md.is_dir() {
                walk(base, &e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

// --- lifecycle helpers (detached containers, timeouts, ps rows) ---------

/// An env with a busybox image named `img`.
pub fn env_with_img() -> Env {
    let env = Env::new();
    env.busybox_image("img");
    env
}

impl Env {
    /// `cc-run -d ARGS...`: asserts success and a 64-hex id on stdout;
    /// returns the id.
    pub fn run_d<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["-d".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let out = run_timeout(self.cmd("cc-run").args(&all), Duration::from_secs(20));
        assert_ok(&out, &format!("cc-run {all:?}"));
        let id = stdout(&out).trim().to_string();
        assert!(is_id(&id), "cc-run -d printed no 64-hex id: {id:?}");
        id
    }

    /// `cc-wait ID` with a timeout; returns its trimmed stdout.
    pub fn wait_code(&self, id: &str, timeout: Duration) -> String {
        let out = run_timeout(self.cmd("cc-wait").arg(id), timeout);
        assert_ok(&out, &format!("cc-wait {id}"));
        stdout(&out).trim().to_string()
    }

    /// The STATUS column of `cc-ps -a` for container `id` (by short id).
    pub fn ps_status(&self, id: &str) -> String {
        let out = self.ok("cc-ps", ["-a"]);
        ps_row_status(&out, id).unwrap_or_else(|| panic!("container {id} not in cc-ps -a:\n{out}"))
    }

    /// Whether `cc-ps` (running only) lists container `id`.
    pub fn ps_running(&self, id: &str) -> bool {
        self.ok("cc-ps", ["-q"])
            .lines()
            .any(|l| !l.trim().is_empty() && id.starts_with(l.trim()))
    }

    /// `cc-logs ARGS...` with a timeout; asserts success.
    pub fn logs<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = run_timeout(self.cmd("cc-logs").args(&args), Duration::from_secs(20));
        assert_ok(&out, &format!("cc-logs {args:?}"));
        out
    }

    /// The folder of container `id` in the store.
    pub fn ctr_dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }
}

/// The STATUS cell of the `cc-ps -a` table row whose first column is the
/// short id of `id`. The table's columns are separated by 2+ spaces.
pub fn ps_row_status(table: &str, id: &str) -> Option<String> {
    let mut lines = table.lines();
    let header = lines.next()?;
    let cols = split_cells(header);
    let idx = cols.iter().position(|c| c == "STATUS")?;
    for l in lines {
        let cells = split_cells(l);
        if cells
            .first()
            .is_some_and(|c| !c.is_empty() && id.starts_with(c.as_str()))
        {
            return cells.get(idx).cloned();
        }
    }
    None
}

fn split_cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// Spawn `cmd` with piped stdout/stderr (stdin as configured) and wait at
/// most `timeout`; on timeout kill it and panic with what it printed.
pub fn run_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_child_timeout(child, timeout, &format!("{cmd:?}"))
}

/// Wait for a spawned child (stdout/stderr piped or not) at most
/// `timeout`, reading its output meanwhile; kill it and panic on timeout.
/// A bound stretched by `CC_TEST_TIME_SCALE` (a whole number, default 1):
/// the cgroup-v2 VM emulates its CPU and runs the same tests several times
/// slower (tests/vm/inside.sh sets it). Only bounds on waiting scale; no
/// test asserts a duration.
pub fn scaled(d: Duration) -> Duration {
    let k: u32 = std::env::var("CC_TEST_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|k| *k >= 1)
        .unwrap_or(1);
    d * k
}

pub fn wait_child_timeout(mut child: std::process::Child, timeout: Duration, what: &str) -> Output {
    let timeout = scaled(timeout);
    use std::io::Read;
    let reader = |s: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = s {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_t = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            // The readers may hang if a grandchild holds the pipes: do
            // not join them.
            panic!("{what}: still running after {timeout:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// The session id of a process, from /proc/PID/stat (field 6).
pub fn sid_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(3)?.parse().ok()
}

// --- network helpers (bridge, other hosts, ports) -----------------------

/// An env whose store network is removed on drop (`cc-net destroy -f`,
/// after its containers): each store has a bridge of its own.
pub struct NetEnv {
    pub env: Env,
}

impl std::ops::Deref for NetEnv {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl NetEnv {
    /// A NetEnv with a busybox image named `img`.
    pub fn with_img() -> NetEnv {
        NetEnv {
            env: env_with_img(),
        }
    }

    /// The store's bridge and subnet, from net/config.json.
    pub fn net_config(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.root.join("net/config.json")).expect("net/config.json");
        serde_json::from_str(&text).unwrap()
    }

    pub fn bridge(&self) -> String {
        self.net_config()["Bridge"].as_str().unwrap().to_string()
    }

    /// The bridge's address (the gateway, one of the host's own).
    pub fn gateway(&self) -> String {
        let subnet = self.net_config()["Subnet"].as_str().unwrap().to_string();
        let base: std::net::Ipv4Addr = subnet.split('/').next().unwrap().parse().unwrap();
        std::net::Ipv4Addr::from(u32::from(base) + 1).to_string()
    }

    /// A container's address, from cc-inspect.
    pub fn ip_of(&self, id: &str) -> String {
        self.inspect("NetworkSettings.IPAddress", id)
    }

    /// cc's nftables table of this store, as nft lists it.
    pub fn nft_table(&self) -> String {
        let out = Command::new("nft")
            .args(["list", "table", "ip", &self.bridge()])
            .output()
            .expect("nft");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Names of the leases (addresses) of this store.
    pub fn leases(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.root.join("net/leases"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for NetEnv {
    fn drop(&mut self) {
        let ids = self.env.container_ids();
        if !ids.is_empty() {
            let _ = self.env.cmd("cc-rm").arg("-f").args(&ids).output();
        }
        let _ = self.env.cmd("cc-net").args(["destroy", "-f"]).output();
    }
}

/// Whether a link of this name exists in the host's namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// The host veth of a container: `cc` and its short id.
pub fn veth_of(id: &str) -> String {
    format!("cc{}", &id[..12])
}

/// A free TCP (and UDP) port on the host, at the time of asking.
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let p = l.local_addr().unwrap().port();
        drop(l);
        if std::net::UdpSocket::bind(("0.0.0.0", p)).is_ok() {
            return p;
        }
    }
}

static PEERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// "Another host": a network namespace of the test's own, joined to the
/// host by a veth pair on a /30 of 172.31.0.0/16. Removed on drop, by its
/// exact names.
pub struct Peer {
    pub ns: String,
    pub host_if: String,
    /// The host's address on the link: what the peer connects to.
    pub host_ip: String,
    pub peer_ip: String,
}

impl Peer {
    pub fn new() -> Peer {
        let n = PEERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tag = format!("{}{}", std::process::id() % 100000, n);
        let ns = format!("cctest{tag}");
        let host_if = format!("cct{tag}");
        let third = (std::process::id() * 7 + n) % 250;
        let host_ip = format!("172.31.{third}.1");
        let peer_ip = format!("172.31.{third}.2");
        let sh = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("ip");
            assert!(out.status.success(), "ip {args:?}: {}", stderr(&out));
        };
        sh(&["netns", "add", &ns]);
        let p = Peer {
            ns: ns.clone(),
            host_if: host_if.clone(),
            host_ip: host_ip.clone(),
            peer_ip: peer_ip.clone(),
        };
        sh(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        sh(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if]);
        sh(&["link", "set", &host_if, "up"]);
        for args in [
            vec!["addr", "add", &format!("{peer_ip}/30"), "dev", "eth0"],
            vec!["link", "set", "eth0", "up"],
            vec!["link", "set", "lo", "up"],
            vec!["route", "add", "default", "via", &host_ip],
        ] {
            let mut full = vec!["-n", ns.as_str()];
            full.extend(args.iter().map(|s| &**s));
            sh(&full);
        }
        p
    }

    /// Runs a host program inside the peer's namespace.
    pub fn run(&self, args: &[&str], timeout: Duration) -> Output {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns])
            .args(args)
            .stdin(Stdio::null());
        run_timeout(&mut c, timeout)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// An HTTP GET of `http://HOST:PORT/` with `busybox nc` (the host's
/// static busybox wget cannot resolve), from the host or (with `peer`)
/// from another namespace; the response when there is one.
pub fn http_get(peer: Option<&Peer>, url: &str) -> Option<String> {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let script =
        format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 4 busybox nc -w 3 {host} {port}");
    let args = ["sh", "-c", script.as_str()];
    let out = match peer {
        Some(p) => p.run(&args, Duration::from_secs(10)),
        None => run_timeout(Command::new("sh").args(&args[1..]), Duration::from_secs(10)),
    };
    let text = stdout(&out);
    text.contains("200 OK").then_some(text)
}

/// Runs `f` on a thread inside the network namespace at `ns` (a
/// `/proc/PID/ns/net` or `/run/netns/NAME`); setns(2) moves only that
/// thread.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let file = fs::File::open(ns).unwrap_or_else(|e| panic!("open {ns}: {e}"));
    std::thread::spawn(move || {
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
}

/// A UDP echo server on `port` inside the namespace `ns`, for `secs`
/// seconds; returns once it is bound.
pub fn udp_echo_in(ns: &str, port: u16, secs: u64) {
    let (tx, rx) = std::sync::mpsc::channel();
    in_netns(ns, move || {
        let s = std::net::UdpSocket::bind(("0.0.0.0", port)).expect("bind udp echo");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        tx.send(()).unwrap();
        let end = Instant::now() + Duration::from_secs(secs);
        let mut buf = [0u8; 512];
        while Instant::now() < end {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                let _ = s.send_to(&buf[..n], from);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("udp echo bound");
}

/// Sends `data` to HOST:PORT over UDP, from the host or from inside the
/// namespace `ns`, and whether the same came back within a second.
pub fn udp_roundtrip(ns: Option<&str>, host: &str, port: u16, data: &str) -> bool {
    let (host, data) = (host.to_string(), data.to_string());
    let f = move || {
        let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        s.send_to(data.as_bytes(), (host.as_str(), port)).unwrap();
        let mut buf = [0u8; 512];
        s.recv_from(&mut buf)
            .is_ok_and(|(n, _)| &buf[..n] == data.as_bytes())
    };
    match ns {
        Some(ns) => in_netns(ns, f).join().unwrap(),
        None => f(),
    }
}

// ------------------------------------------------ change management tests

/// The script `listing` runs inside a container: every path but the
/// runtime's own (/proc, /sys, /dev, /run, the bound /etc files) and /bin
/// (the busybox applets, the same everywhere), sorted, one line each:
/// type, mode, owner, and the link target, or the size, link count and a
/// checksum of a regular file.
pub const LISTING: &str = r#"find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /bin \) -prune -o -print | sort | while read -r p; do
case "$p" in /|/etc/hosts|/etc/hostname|/etc/resolv.conf|/etc/mtab) continue;; esac
if [ -L "$p" ]; then echo "$p L $(stat -c '%a %u %g' "$p") -> $(readlink "$p")"
elif [ -d "$p" ]; then echo "$p D $(stat -c '%a %u %g' "$p")"
elif [ -f "$p" ]; then echo "$p F $(stat -c '%a %u %g %s %h' "$p") $(md5sum < "$p" | cut -c1-8)"
else echo "$p $(stat -c '%F %a %u %g' "$p")"; fi
done"#;

/// What `cc-run` shows of an image's files (see [`LISTING`]).
pub fn listing(env: &Env, image: &str) -> String {
    env.ok(
        "cc-run",
        ["--rm", "--net", "none", image, "sh", "-c", LISTING],
    )
}

/// The commands that make every kind of change: deletions (a file, a
/// tree), an opaque folder (a tree deleted and made again), hardlinks,
/// symlinks, a setuid file, a fifo, changed modes and owners, a changed
/// file. Run on [`changes_rootfs`].
pub const CHANGES: &str = "rm /t/gone; rm -rf /t/tree; rm -rf /t/opq && mkdir -p /t/opq/new && echo n > /t/opq/new/f; \
echo more >> /t/keep; mkdir /t/add; echo a > /t/add/a; ln /t/add/a /t/add/hard; ln -s ../keep /t/add/sym; \
ln -s /nowhere /t/add/dangling; cp /bin/busybox /t/add/suid; chmod 4755 /t/add/suid; mkfifo /t/add/fifo; \
chmod 700 /t/mode; chown 1000:100 /t/owner; echo x > /t/owner/f";

/// A busybox tree with the `/t` folder that [`CHANGES`] works on.
pub fn changes_rootfs(env: &Env, name: &str) -> PathBuf {
    let dir = env.busybox_rootfs(name);
    let t = dir.join("t");
    for d in ["tree/a/b", "opq/old", "mode", "owner"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    for (f, data) in [
        ("gone", "gone\n"),
        ("keep", "keep\n"),
        ("tree/a/b/f", "deep\n"),
        ("opq/old/f", "old\n"),
        ("mode/f", "m\n"),
    ] {
        fs::write(t.join(f), data).unwrap();
    }
    dir
}

/// A tar of a folder, made by the host's tar (numeric owners).
pub fn tar_dir(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("--numeric-owner")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar of {}", dir.display());
}

/// The value of xattr `name` of `path` (not following a symlink).
pub fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid C strings and a buffer of the given length.
    let r = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (r >= 0).then(|| buf[..r as usize].to_vec())
}

pub fn set_xattr(path: &Path, name: &str, value: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid C strings and a value of the given length.
    let r = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(r, 0, "setxattr {name} on {}", path.display());
}

/// Whether a host program is installed; under CI a missing one fails.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is missing under CI"
        );
        eprintln!("skipped: {tool} not installed");
    }
    found
}

/// The pids of the monitor processes of container `id`
/// (`cc-run [monitor] <short id>` in their command line).
pub fn monitor_pids(id: &str) -> Vec<i32> {
    let want = format!("cc-run [monitor] {}", &id[..12.min(id.len())]);
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).trim_end_matches('\0') == want {
                out.push(pid);
            }
        }
    }
    out
}

// ------------------------------------------------------------ registries

/// A real registry (Debian's docker-registry) on 127.0.0.1 and a free
/// port, its storage in a temporary folder; stopped by pid on drop.
pub struct Registry {
    child: std::process::Child,
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub dir: tempfile::TempDir,
    /// The CA certificate when it serves TLS.
    pub ca: Option<PathBuf>,
}

/// The TLS and basic-auth set-up of a registry.
#[derive(Default)]
pub struct RegistryConf {
    /// Serve https with a certificate for 127.0.0.1 signed by a CA made
    /// here.
    pub tls: bool,
    /// htpasswd basic auth with this user and password.
    pub user: Option<(String, String)>,
    /// `auth: token`: (realm URL, the certificate that signs tokens).
    pub token: Option<(String, PathBuf)>,
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(RegistryConf::default())
    }

    pub fn start_with(conf: RegistryConf) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("cc-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let port = registry_port();
        let mut yml = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            d.join("data").display()
        );
        let mut ca = None;
        if conf.tls {
            make_certs(d);
            yml.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.crt").display(),
                d.join("server.key").display()
            ));
            ca = Some(d.join("ca.crt"));
        }
        if let Some((u, p)) = &conf.user {
            let out = Command::new("htpasswd")
                .args(["-Bbc", d.join("htpasswd").to_str().unwrap(), u, p])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert_ok(&out, "htpasswd");
            yml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: cc-test\n    path: {}\n",
                d.join("htpasswd").display()
            ));
        }
        if let Some((realm, cert)) = &conf.token {
            yml.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: cc-test\n    issuer: cc-test-issuer\n    rootcertbundle: {}\n",
                cert.display()
            ));
        }
        let cfg = d.join("config.yml");
        fs::write(&cfg, yml).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(d.join("log")).unwrap())
            .spawn()
            .expect("docker-registry (Debian's docker-registry package)");
        let host = format!("127.0.0.1:{port}");
        let reg = Registry {
            child,
            port,
            host,
            dir,
            ca,
        };
        wait_for(Duration::from_secs(20), "the registry to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        reg
    }

    /// `127.0.0.1:PORT/<path>`.
    pub fn at(&self, path: &str) -> String {
        format!("{}/{path}", self.host)
    }

    /// skopeo copies `src` (a transport:path) to `<host>/<dest>`, with
    /// extra flags (`-f oci`, `--dest-compress-format zstd`).
    pub fn skopeo_put(&self, src: &str, dest: &str, extra: &[&str]) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "-q", "--dest-tls-verify=false"]);
        c.args(extra);
        c.arg(src).arg(format!("docker://{}", self.at(dest)));
        let out = c.output().expect("skopeo");
        assert_ok(&out, &format!("skopeo copy {src} {dest}"));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 (and localhost) in `d`.
fn make_certs(d: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(d)
            .args(args)
            .output()
            .expect("openssl");
        assert_ok(&out, &format!("openssl {args:?}"));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=cc test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    fs::write(d.join("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext",
        "-out",
        "server.crt",
    ]);
}

impl Env {
    /// A busybox image saved by cc-save as a docker-archive; returns the
    /// archive's path and the image id.
    pub fn busybox_archive(&self, name: &str) -> (PathBuf, String) {
        let id = self.busybox_image(name);
        let tar = self.dir.join(format!("{name}.tar"));
        self.ok(
            "cc-save",
            [OsStr::new("-o"), tar.as_os_str(), OsStr::new(name)],
        );
        (tar, id)
    }
}

// --- security helpers (tests/security.rs) -------------------------------

/// `sc NR [ARG0]`: a static program that makes raw syscall NR and prints
/// `ok`, `ENOSYS`, `EPERM` or the error's text.
const SYSCALL_HELPER: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    long nr = strtol(argv[1], 0, 0);
    unsigned long a0 = argc > 2 ? strtoul(argv[2], 0, 0) : 0;
    long r = syscall(nr, a0, 0, 0, 0, 0, 0);
    if (r >= 0) { puts("ok"); return 0; }
    puts(errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno));
    return 1;
}
"#;

/// Compiles the syscall helper with the host's `gcc -static` into
/// `rootfs/bin/sc`. Real code in the image, built at test time.
pub fn add_syscall_helper(rootfs: &Path) {
    compile_static(SYSCALL_HELPER, &rootfs.join("bin/sc"));
}

/// Compiles C `source` with the host's `gcc -static` into `exe` (the
/// security tests' helper programs, real code built at test time).
pub fn compile_static(source: &str, exe: &Path) {
    let src = exe.with_extension("c");
    fs::write(&src, source).unwrap();
    let out = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(exe)
        .arg(&src)
        .output()
        .expect("run gcc (the security tests need gcc and libc6-dev for static helpers)");
    assert_ok(&out, &format!("gcc -static {}", src.display()));
    fs::remove_file(&src).unwrap();
}

/// A free port no other registry of this test process was given: the
/// ports the kernel hands out for bind(0) are free only until someone
/// binds them, and tests start registries in parallel.
fn registry_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}
