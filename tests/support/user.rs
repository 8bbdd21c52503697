//! An ordinary user made for a test (issue 21): useradd'ed with its own
//! subordinate ids, running cc's programs through `setpriv` with a clean
//! environment (HOME, PATH, XDG_RUNTIME_DIR only), removed with what cc
//! left for it on drop.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::{assert_ok, run_timeout, stderr, stdout};

/// An ordinary user made for one test: its own empty home, a runtime
/// folder, subordinate ids; removed by its exact name on drop, with what
/// cc left (its pause process, its home and runtime folders).
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub runtime: PathBuf,
    pub bin: PathBuf,
    /// The test's scratch folder (image tars, the programs' copy).
    pub scratch: tempfile::TempDir,
    /// More `NAME=VALUE`s for every program the user runs.
    pub env: Vec<String>,
}

/// The first of the subordinate ids each test user gets: far above the
/// `cc` range of scripts/subids.sh and useradd's own.
pub const SUBID_BASE: u32 = 1_500_000_000;
pub const SUBID_COUNT: u32 = 65536;

impl User {
    pub fn new(tag: &str) -> User {
        let user = User::without_subids(tag);
        let start = SUBID_BASE
            + (std::process::id() % 1000) * 8 * SUBID_COUNT
            + tag.len() as u32 * SUBID_COUNT;
        let range = format!("{start}-{}", start + SUBID_COUNT - 1);
        let out = Command::new("usermod")
            .args(["--add-subuids", &range, "--add-subgids", &range, &user.name])
            .output()
            .expect("usermod");
        assert_ok(&out, "usermod --add-subuids");
        user
    }

    pub fn without_subids(tag: &str) -> User {
        for t in [
            "useradd",
            "userdel",
            "usermod",
            "setpriv",
            "newuidmap",
            "newgidmap",
        ] {
            assert!(crate::have(t), "this test needs {t} (scripts/test-deps.sh)");
        }
        let name = format!("ccrl{tag}{}", std::process::id());
        // No home made by useradd (its skeleton files would be left), no
        // subordinate ids of its choosing.
        let out = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/bin/sh", "--user-group"])
            .args(["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", &name])
            .output()
            .expect("useradd");
        assert_ok(&out, &format!("useradd {name}"));
        let uid: u32 = stdout(&Command::new("id").args(["-u", &name]).output().unwrap())
            .trim()
            .parse()
            .unwrap();
        let gid: u32 = stdout(&Command::new("id").args(["-g", &name]).output().unwrap())
            .trim()
            .parse()
            .unwrap();
        let scratch = tempfile::tempdir().unwrap();
        fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let home = scratch.path().join("home");
        let runtime = scratch.path().join("run");
        for d in [&home, &runtime] {
            fs::create_dir(d).unwrap();
            fs::set_permissions(d, fs::Permissions::from_mode(0o700)).unwrap();
            std::os::unix::fs::chown(d, Some(uid), Some(gid)).unwrap();
        }
        User {
            name,
            uid,
            gid,
            home,
            runtime,
            bin: programs_for_anyone(scratch.path()),
            scratch,
            env: Vec::new(),
        }
    }

    /// The host id that container id `id` (> 0) is stored as.
    pub fn host_id(&self, id: u32) -> u32 {
        let line = fs::read_to_string("/etc/subuid")
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{}:", self.name)))
            .unwrap()
            .to_string();
        let start: u32 = line.split(':').nth(1).unwrap().parse().unwrap();
        start + id - 1
    }

    /// A cc program as the user, with only HOME, PATH, XDG_RUNTIME_DIR and
    /// the test's `env`.
    pub fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", "--", "env", "-i"])
            .arg(format!("HOME={}", self.home.display()))
            .arg(format!("PATH={}:/usr/bin:/bin", self.bin.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", self.runtime.display()))
            .args(&self.env)
            .arg(prog)
            .stdin(Stdio::null())
            .current_dir(self.scratch.path());
        c
    }

    /// `f` with the test's `env` cleared, then put back.
    pub fn cmd_env_cleared<T>(&mut self, f: impl FnOnce(&User) -> T) -> T {
        let env = std::mem::take(&mut self.env);
        let out = f(self);
        self.env = env;
        out
    }

    pub fn run(&self, prog: &str, args: &[&str]) -> Output {
        run_timeout(self.cmd(prog).args(args), Duration::from_secs(60))
    }

    pub fn ok(&self, prog: &str, args: &[&str]) -> String {
        let out = self.run(prog, args);
        assert_ok(&out, &format!("{prog} {args:?} as {}", self.name));
        stdout(&out)
    }

    pub fn store(&self) -> PathBuf {
        self.home.join(".local/share/cc")
    }

    /// An image tar made here as root, with files of several owners and a
    /// setuid program, imported by the user as `img`.
    pub fn import_image(&self) {
        let tar = self.image_tar();
        self.ok(
            "cc-import",
            &["-c", "CMD [\"sh\"]", tar.to_str().unwrap(), "img"],
        );
    }

    pub fn import_image_expecting_failure(&self, words: &str) {
        let tar = self.image_tar();
        let out = self.run("cc-import", &[tar.to_str().unwrap(), "img"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(words), "{}", stderr(&out));
    }

    pub fn image_tar(&self) -> PathBuf {
        let dir = self.scratch.path().join("rootfs");
        crate::make_busybox_rootfs(&dir);
        fs::create_dir(dir.join("srv")).unwrap();
        fs::write(dir.join("srv/daemon"), "d\n").unwrap();
        std::os::unix::fs::chown(dir.join("srv/daemon"), Some(2), Some(3)).unwrap();
        fs::write(dir.join("home/user/notes"), "n\n").unwrap();
        std::os::unix::fs::chown(dir.join("home/user/notes"), Some(1000), Some(100)).unwrap();
        fs::set_permissions(dir.join("bin/busybox"), fs::Permissions::from_mode(0o4755)).unwrap();
        let tar = self.scratch.path().join("img.tar");
        let out = Command::new("tar")
            .args(["--numeric-owner", "-C"])
            .arg(&dir)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .output()
            .unwrap();
        assert_ok(&out, "tar");
        fs::set_permissions(&tar, fs::Permissions::from_mode(0o644)).unwrap();
        tar
    }

    pub fn pause_pid(&self) -> Option<i32> {
        fs::read_to_string(self.runtime.join("cc/pause.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let ids = self.run("cc-ps", &["-aq"]);
        let ids: Vec<String> = stdout(&ids).lines().map(str::to_string).collect();
        if !ids.is_empty() {
            let _ = self.cmd("cc-rm").arg("-f").args(&ids).output();
        }
        if let Some(pid) = self.pause_pid() {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "cc-userns-pause" {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        // userdel refuses a user with a process left (the pause process
        // while it dies); it drops the user's /etc/subuid and /etc/subgid
        // lines.
        let what = format!("userdel {}", self.name);
        crate::wait_for(Duration::from_secs(10), &what, || {
            let out = Command::new("userdel").arg(&self.name).output();
            out.is_ok_and(|o| o.status.success()).then_some(())
        });
    }
}

/// The programs, where the user can run them: the build's folder when the
/// user can reach it, else copies in `dir`.
fn programs_for_anyone(dir: &Path) -> PathBuf {
    let built = crate::bin_dir();
    let reachable = built
        .ancestors()
        .all(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0) || d.as_os_str().is_empty());
    if reachable {
        return built;
    }
    let copy = dir.join("bin");
    fs::create_dir(&copy).unwrap();
    for entry in fs::read_dir(&built).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let is_program = name
            .to_str()
            .is_some_and(|n| n.starts_with("cc-") && !n.ends_with(".d"));
        if is_program && entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), copy.join(&name)).unwrap();
        }
    }
    copy
}
