//! One test's world: an [`Env`] with its own store root and scratch folder
//! that tears down what it made, the built programs it runs, and the checks
//! that a test may run here at all (root, host tools).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::leaks::{cgroup_dirs, forget_root, mounts_under, note_root};
use crate::output::{assert_ok, is_id, ps_row_status, stdout};
use crate::rootfs::make_busybox_rootfs;
use crate::wait::{handles_signal, run_timeout, wait_for};

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

/// One test's world: a store root in a temporary folder, a scratch folder
/// beside it, and everything cleaned up on drop.
pub struct Env {
    tmp: Option<tempfile::TempDir>,
    /// The store root, passed to every program as `CC_ROOT`.
    pub root: PathBuf,
    /// A scratch folder for the test's own files (rootfs trees, tars).
    pub dir: PathBuf,
    /// cgroup folders under `/sys/fs/cgroup/*/cc/` when the env was made
    /// (see `leaks::leaked_cgroups`).
    pub(crate) cgroups_before: BTreeSet<PathBuf>,
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
        note_root(&root);
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
        // An image a test lacks is never looked for on Docker Hub (traffic
        // only to loopback); the pull tests set CC_PULL themselves.
        c.env("CC_PULL", "never");
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
        crate::run_stdin_timeout(self.cmd(prog).args(args), input, Duration::from_secs(600))
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

    /// Wait until the process of container `id` (`State.Pid`, once
    /// recorded) handles `sig` (see [`handles_signal`]): a shell's `trap`
    /// is in place, or `--init` passes the signal on.
    pub fn wait_for_trap(&self, id: &str, sig: nix::sys::signal::Signal) {
        wait_for(
            Duration::from_secs(20),
            &format!("the process of {id} to handle {sig}"),
            || {
                let out = self.run("cc-inspect", ["-f", "State.Pid", id]);
                let pid: i32 = stdout(&out).trim().parse().ok()?;
                (pid > 0 && handles_signal(pid, sig)).then_some(())
            },
        );
    }

    /// The folder of container `id` in the store.
    pub fn ctr_dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }

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
        forget_root(&self.root);
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

/// An env with a busybox image named `img`.
pub fn env_with_img() -> Env {
    let env = Env::new();
    env.busybox_image("img");
    env
}
