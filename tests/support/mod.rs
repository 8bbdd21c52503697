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
    out
}

/// The cgroup folder of container `id` for one v1 controller (or the v2
/// folder when the machine is v2 only).
pub fn cgroup_dir(controller: &str, id: &str) -> PathBuf {
    let v1 = Path::new("/sys/fs/cgroup")
        .join(controller)
        .join("cc")
        .join(id);
    if Path::new("/sys/fs/cgroup").join(controller).exists() {
        v1
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
    let deadline = Instant::now() + Duration::from_millis(1500);
    loop {
        let live = live_ids();
        let leaked: Vec<PathBuf> = cgroup_dirs()
            .difference(&env.cgroups_before)
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
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
    let deadline = Instant::now() + SETTLE;
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
        let stray: Vec<_> = names
            .iter()
            .filter(|n| *n != ".names" && *n != ".lock")
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
    let deadline = Instant::now() + timeout;
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
