//! What the OCI runtime tests share (tests/oci-podman.rs,
//! tests/oci-containerd.rs, tests/oci-bundle.rs): the two runtimes every
//! scenario runs under (runc, the reference, and the runtime under test),
//! bundles made by `runc spec`, a private podman store, and a pty to run a
//! client in.
//!
//! The runtime under test is `cc-oci` from the build (`support::bin`).
//! `CC_OCI_UNDER_TEST=/path/to/runtime` replaces it: a developer aid to
//! validate the tests themselves against runc (`CC_OCI_UNDER_TEST=
//! /usr/bin/runc`) or to try another runtime. Tests that drive a cc program
//! other than the runtime (cc-run --bundle) skip while it is set, except
//! under CI, where a skip is a failure.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::{assert_ok, make_busybox_rootfs, mounts_under, run_timeout, stdout, Env};

/// The environment variable that replaces `cc-oci` by another runtime.
pub const OVERRIDE: &str = "CC_OCI_UNDER_TEST";

/// How long one client or runtime command may take before the test fails.
pub const T: Duration = Duration::from_secs(60);

/// One OCI runtime: a short label for names and messages, and its path.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// `runc` or `cc-oci`: goes into container names, so `[a-z-]` only.
    pub label: &'static str,
    pub path: PathBuf,
}

/// The path of runc, the reference every scenario is compared with.
pub fn runc() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v runc"])
        .output()
        .expect("sh");
    assert!(out.status.success(), "runc is not installed");
    PathBuf::from(stdout(&out).trim())
}

/// Whether `CC_OCI_UNDER_TEST` replaces cc-oci.
pub fn overridden() -> bool {
    std::env::var_os(OVERRIDE).is_some_and(|v| !v.is_empty())
}

/// The runtime under test: `$CC_OCI_UNDER_TEST`, else the built cc-oci.
pub fn under_test() -> Runtime {
    let path = match std::env::var_os(OVERRIDE).filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "{OVERRIDE}={} does not exist", p.display());
            eprintln!("note: {OVERRIDE} replaces cc-oci by {}", p.display());
            p
        }
        None => crate::bin("cc-oci"),
    };
    Runtime {
        label: "cc-oci",
        path,
    }
}

/// runc first, then the runtime under test: scenarios run under both, and
/// what runc shows is what the runtime under test must show.
pub fn runtimes() -> [Runtime; 2] {
    [
        Runtime {
            label: "runc",
            path: runc(),
        },
        under_test(),
    ]
}

/// Whether the host programs a test drives are installed (fails under CI
/// when one is missing, see `support::have`).
pub fn tools(names: &[&str]) -> bool {
    names.iter().all(|t| crate::have(t))
}

/// A name no other test of this process uses: `oci-TAG-PID-N`.
pub fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "oci-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// `s` quoted for sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A command line for sh, every word quoted.
pub fn sh_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| sh_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A busybox rootfs (see `support::make_busybox_rootfs`) tarred up, for
/// `podman import`; returns the tar's path.
pub fn busybox_tar(env: &Env) -> PathBuf {
    let dir = env.busybox_rootfs("oci-image");
    let tar = env.dir.join("oci-image.tar");
    crate::tar_dir(&dir, &tar);
    tar
}

// --- bundles -----------------------------------------------------------

/// The bundle's config.json.
pub fn spec(bundle: &Path) -> Value {
    let text = fs::read_to_string(bundle.join("config.json")).expect("config.json");
    serde_json::from_str(&text).expect("config.json is JSON")
}

/// Change the bundle's config.json with `f`.
pub fn edit_spec(bundle: &Path, f: impl FnOnce(&mut Value)) {
    let mut s = spec(bundle);
    f(&mut s);
    fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&s).unwrap(),
    )
    .unwrap();
}

/// A bundle in `dir` (made here): `runc spec`'s config.json with `args`,
/// no terminal, and the root an absolute path to a busybox rootfs in
/// `dir/rootfs` (read-only, as `runc spec` has it).
pub fn bundle(dir: &Path, args: &[&str]) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let out = Command::new(runc())
        .arg("spec")
        .arg("--bundle")
        .arg(dir)
        .output()
        .expect("runc spec");
    assert_ok(&out, "runc spec --bundle");
    let rootfs = dir.join("rootfs");
    make_busybox_rootfs(&rootfs);
    let dir = fs::canonicalize(dir).unwrap();
    let root = dir.join("rootfs");
    edit_spec(&dir, |s| {
        s["process"]["args"] = args.into();
        s["process"]["terminal"] = false.into();
        s["root"]["path"] = root.to_str().unwrap().into();
    });
    dir
}

/// One runtime with a state folder: `RUNTIME --root ROOT ...`. Made by
/// [`Oci::new`], the root is the test's own, and on drop it deletes
/// (`delete --force`) every container it was told about and every one its
/// `list` shows; made by [`Oci::view`] (a root a client such as containerd
/// keeps) it deletes nothing.
pub struct Oci {
    pub rt: Runtime,
    pub root: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
    owned: bool,
}

impl Oci {
    pub fn new(rt: &Runtime, root: &Path) -> Oci {
        Oci {
            rt: rt.clone(),
            root: root.to_path_buf(),
            ids: Default::default(),
            owned: true,
        }
    }

    /// The runtime on a root someone else keeps: nothing deleted on drop.
    pub fn view(rt: &Runtime, root: &Path) -> Oci {
        Oci {
            rt: rt.clone(),
            root: root.to_path_buf(),
            ids: Default::default(),
            owned: false,
        }
    }

    /// The command, with `--root`, stdin from /dev/null.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.rt.path);
        c.arg("--root").arg(&self.root).stdin(Stdio::null());
        c
    }

    /// Remember `id` to delete on drop.
    pub fn track(&self, id: &str) {
        let mut ids = self.ids.borrow_mut();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    /// Run with a timeout; the id after a verb is tracked by the caller.
    pub fn run(&self, args: &[&str]) -> Output {
        run_timeout(self.cmd().args(args), T)
    }

    /// Run, assert success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_ok(&out, &format!("{} {args:?}", self.rt.label));
        stdout(&out)
    }

    /// `state ID` parsed, or None when the runtime fails.
    pub fn state(&self, id: &str) -> Option<Value> {
        let out = self.run(&["state", id]);
        if !out.status.success() {
            return None;
        }
        Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{} state {id}: not JSON ({e}): {}",
                self.rt.label,
                stdout(&out)
            )
        }))
    }

    /// The `status` field of `state ID`.
    pub fn status(&self, id: &str) -> Option<String> {
        self.state(id)
            .and_then(|s| s["status"].as_str().map(String::from))
    }

    /// `create --bundle B [EXTRA...] ID`, tracked, with the container's
    /// stdio going to the file `out` (a pipe would stay open as long as
    /// the container lives); returns create's own status.
    pub fn create_to(&self, b: &Path, id: &str, extra: &[&str], out: &Path) -> Output {
        self.track(id);
        let f = fs::File::create(out).unwrap();
        let child = self
            .cmd()
            .arg("create")
            .arg("--bundle")
            .arg(b)
            .args(extra)
            .arg(id)
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("spawn create");
        crate::wait_child_timeout(child, T, &format!("{} create {id}", self.rt.label))
    }

    /// Waits for `state ID` to say `want`.
    pub fn wait_status(&self, id: &str, want: &str) {
        crate::wait_for(
            Duration::from_secs(15),
            &format!("{} state {id} to be {want}", self.rt.label),
            || (self.status(id).as_deref() == Some(want)).then_some(()),
        );
    }

    /// Ids from `list -q`.
    pub fn list_q(&self) -> Vec<String> {
        let out = self.run(&["list", "-q"]);
        stdout(&out)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let mut ids = self.ids.borrow().clone();
        if self.root.exists() {
            if let Ok(out) = self.cmd().args(["list", "-q"]).output() {
                for l in stdout(&out).lines().map(str::trim) {
                    if !l.is_empty() && !ids.iter().any(|i| i == l) {
                        ids.push(l.to_string());
                    }
                }
            }
        }
        for id in ids {
            let _ = self
                .cmd()
                .args(["delete", "--force", &id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

// --- podman ------------------------------------------------------------

/// A podman store of the test's own (`--root`, `--runroot`, `--tmpdir`
/// below the env's folder) with the busybox image `localhost/ocibb`.
/// Events go to a file in that tmpdir: with `--events-backend none`,
/// podman 4.3 sometimes loses the exit code of a `run --rm` container.
pub struct Podman {
    pub root: PathBuf,
    pub runroot: PathBuf,
    pub tmpdir: PathBuf,
    pub image: String,
}

impl Podman {
    pub fn new(env: &Env) -> Podman {
        let base = env.base().join("podman");
        let pm = Podman {
            root: base.join("root"),
            runroot: base.join("run"),
            tmpdir: base.join("tmp"),
            image: "localhost/ocibb:latest".into(),
        };
        fs::create_dir_all(&pm.tmpdir).unwrap();
        let tar = busybox_tar(env);
        let out = run_timeout(
            pm.cmd(None)
                .args(["import", "-q", "-c", "CMD [\"sh\"]"])
                .arg(&tar)
                .arg(&pm.image),
            T,
        );
        assert_ok(&out, "podman import");
        pm
    }

    /// The global flags of every podman command of this store.
    pub fn global(&self) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        for (flag, dir) in [
            ("--root", &self.root),
            ("--runroot", &self.runroot),
            ("--tmpdir", &self.tmpdir),
        ] {
            v.push(flag.into());
            v.push(dir.into());
        }
        for a in [
            "--storage-driver",
            "overlay",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
        ] {
            v.push(a.into());
        }
        v
    }

    /// `podman GLOBAL [--runtime PATH]`, stdin from /dev/null, in the
    /// store's tmpdir: conmon 2.1 writes an `oom` file into the folder it
    /// was started in when a container runs out of memory.
    pub fn cmd(&self, rt: Option<&Runtime>) -> Command {
        let mut c = Command::new("podman");
        c.current_dir(&self.tmpdir);
        c.args(self.global());
        if let Some(rt) = rt {
            c.arg("--runtime").arg(&rt.path);
        }
        c.stdin(Stdio::null());
        c
    }

    /// `podman --runtime RT ARGS...` with a timeout.
    pub fn run(&self, rt: &Runtime, args: &[&str]) -> Output {
        run_timeout(self.cmd(Some(rt)).args(args), T)
    }

    /// Run, assert success, return stdout.
    pub fn ok(&self, rt: &Runtime, args: &[&str]) -> String {
        let out = self.run(rt, args);
        assert_ok(&out, &format!("podman --runtime {} {args:?}", rt.label));
        stdout(&out)
    }

    /// `podman inspect -f FORMAT NAME`, trimmed.
    pub fn inspect(&self, rt: &Runtime, format: &str, name: &str) -> String {
        self.ok(rt, &["inspect", "-f", format, name])
            .trim()
            .to_string()
    }

    /// The image as a docker-archive at `out` (`podman save`).
    pub fn save(&self, out: &Path) {
        let o = run_timeout(
            self.cmd(None)
                .args(["save", "-q", "-o"])
                .arg(out)
                .arg(&self.image),
            T,
        );
        assert_ok(&o, "podman save");
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Containers by the runtime each was made with, then the image,
        // then whatever the overlay driver left mounted in the store.
        let _ = self.cmd(None).args(["rm", "-af", "-t", "0"]).output();
        let _ = self.cmd(None).args(["rmi", "-af"]).output();
        let mut ms: Vec<PathBuf> = [&self.root, &self.runroot, &self.tmpdir]
            .iter()
            .flat_map(|d| mounts_under(d))
            .collect();
        ms.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        for m in ms {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// A podman container by name, removed (`rm -f -t 0`) on drop.
pub struct Named<'a> {
    pm: &'a Podman,
    pub name: String,
}

impl<'a> Named<'a> {
    pub fn new(pm: &'a Podman, rt: &Runtime, what: &str) -> Named<'a> {
        Named {
            pm,
            name: unique(&format!("{what}-{}", rt.label)),
        }
    }
}

impl Drop for Named<'_> {
    fn drop(&mut self) {
        let _ = self
            .pm
            .cmd(None)
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
    }
}

// --- a terminal ----------------------------------------------------------

/// Runs `cmd` on a fresh pty of `rows` x `cols` (util-linux `script`),
/// typing `input` into it; returns what the pty showed (carriage returns
/// and NULs removed) and the command's exit code (`script -e`). The input
/// stays open until the command has ended: at its end `script` would type
/// an end-of-file, which the pty echoes as `^@` amid the output.
pub fn in_pty(cmd: &Command, rows: u16, cols: u16, input: &str) -> (String, Option<i32>) {
    use std::io::Write;
    let line = format!("stty rows {rows} cols {cols}; exec {}", sh_line(cmd));
    let mut script = Command::new("script");
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    let mut child = script
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    let out = crate::wait_child_timeout(child, T, &line);
    drop(stdin);
    let shown = stdout(&out).replace(['\r', '\0'], "");
    (shown, out.status.code())
}

/// The memory limit of process `pid`'s cgroup, read on the host (cgroup
/// v1 `memory.limit_in_bytes`, else v2 `memory.max`).
pub fn host_memory_limit(pid: i32) -> Option<String> {
    let dir = host_cgroup(pid, "memory")?;
    fs::read_to_string(dir.join("memory.limit_in_bytes"))
        .or_else(|_| fs::read_to_string(dir.join("memory.max")))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The host folder of process `pid`'s cgroup for a v1 `controller` (the
/// v2 one when the controller is not mounted as v1).
pub fn host_cgroup(pid: i32, controller: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let v1 = Path::new("/sys/fs/cgroup").join(controller);
    for l in text.lines() {
        let mut parts = l.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if v1.exists() && ctrls.split(',').any(|c| c == controller) {
            return Some(v1.join(path));
        }
        if !v1.exists() && ctrls.is_empty() {
            return Some(Path::new("/sys/fs/cgroup").join(path));
        }
    }
    None
}

/// Whether process `pid` exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|i| s[i + 2..].chars().next())
            .is_some_and(|c| c != 'Z')
    })
}

/// One fd received with SCM_RIGHTS on `s` (a console socket's
/// connection); None when the peer sent none.
pub fn receive_fd(s: &std::os::unix::net::UnixStream) -> Option<std::os::fd::OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut buf = [0u8; 64];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(s.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty()).ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just gave us this fd.
            return fds.first().map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}
