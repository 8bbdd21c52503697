//! cc as an ordinary user (issue 21): a real user made for the test, with
//! subordinate ids the test adds, runs the programs through `setpriv` with
//! a clean environment. Its store is in its home, its containers run in its
//! own user namespace with the image's owners, what needs root on this host
//! is refused with a line saying why, and a container can do nothing the
//! user could not.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{assert_ok, root_or_skip, run_timeout, stderr, stdout};

/// An ordinary user made for one test: its own empty home, a runtime
/// folder, subordinate ids; removed by its exact name on drop, with what
/// cc left (its pause process, its home and runtime folders).
struct User {
    name: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
    runtime: PathBuf,
    bin: PathBuf,
    /// The test's scratch folder (image tars, the programs' copy).
    scratch: tempfile::TempDir,
}

/// The first of the subordinate ids each test user gets: far above the
/// `cc` range of scripts/subids.sh and useradd's own.
const SUBID_BASE: u32 = 1_500_000_000;
const SUBID_COUNT: u32 = 65536;

impl User {
    fn new(tag: &str) -> User {
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

    fn without_subids(tag: &str) -> User {
        for t in [
            "useradd",
            "userdel",
            "usermod",
            "setpriv",
            "newuidmap",
            "newgidmap",
        ] {
            assert!(
                support::have(t),
                "this test needs {t} (scripts/test-deps.sh)"
            );
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
        }
    }

    /// The host id that container id `id` (> 0) is stored as.
    fn host_id(&self, id: u32) -> u32 {
        let line = fs::read_to_string("/etc/subuid")
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{}:", self.name)))
            .unwrap()
            .to_string();
        let start: u32 = line.split(':').nth(1).unwrap().parse().unwrap();
        start + id - 1
    }

    /// A cc program as the user, with only HOME, PATH and XDG_RUNTIME_DIR.
    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", "--", "env", "-i"])
            .arg(format!("HOME={}", self.home.display()))
            .arg(format!("PATH={}:/usr/bin:/bin", self.bin.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", self.runtime.display()))
            .arg(prog)
            .stdin(Stdio::null())
            .current_dir(self.scratch.path());
        c
    }

    fn run(&self, prog: &str, args: &[&str]) -> Output {
        run_timeout(self.cmd(prog).args(args), Duration::from_secs(60))
    }

    fn ok(&self, prog: &str, args: &[&str]) -> String {
        let out = self.run(prog, args);
        assert_ok(&out, &format!("{prog} {args:?} as {}", self.name));
        stdout(&out)
    }

    fn store(&self) -> PathBuf {
        self.home.join(".local/share/cc")
    }

    /// An image tar made here as root, with files of several owners and a
    /// setuid program, imported by the user as `img`.
    fn import_image(&self) {
        let tar = self.image_tar();
        self.ok(
            "cc-import",
            &["-c", "CMD [\"sh\"]", tar.to_str().unwrap(), "img"],
        );
    }

    fn import_image_expecting_failure(&self, words: &str) {
        let tar = self.image_tar();
        let out = self.run("cc-import", &[tar.to_str().unwrap(), "img"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(words), "{}", stderr(&out));
    }

    fn image_tar(&self) -> PathBuf {
        let dir = self.scratch.path().join("rootfs");
        support::make_busybox_rootfs(&dir);
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

    fn pause_pid(&self) -> Option<i32> {
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
        support::wait_for(Duration::from_secs(10), &what, || {
            let out = Command::new("userdel").arg(&self.name).output();
            out.is_ok_and(|o| o.status.success()).then_some(())
        });
    }
}

/// The programs, where the user can run them: the build's folder when the
/// user can reach it, else copies in `dir`.
fn programs_for_anyone(dir: &Path) -> PathBuf {
    let built = support::bin_dir();
    let reachable = built
        .ancestors()
        .all(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0) || d.as_os_str().is_empty());
    if reachable {
        return built;
    }
    let copy = dir.join("bin");
    fs::create_dir(&copy).unwrap();
    for p in PROGRAMS {
        fs::copy(support::bin(p), copy.join(p)).unwrap();
    }
    copy
}

const PROGRAMS: &[&str] = &[
    "cc-commit",
    "cc-diff",
    "cc-exec",
    "cc-export",
    "cc-images",
    "cc-import",
    "cc-info",
    "cc-inspect",
    "cc-kill",
    "cc-logs",
    "cc-mount",
    "cc-pause",
    "cc-ps",
    "cc-pull",
    "cc-push",
    "cc-rm",
    "cc-rmi",
    "cc-run",
    "cc-stats",
    "cc-stop",
    "cc-top",
    "cc-umount",
    "cc-unshare",
    "cc-wait",
];

#[test]
fn a_user_runs_containers_with_the_images_owners_in_its_own_store() {
    root_or_skip!();
    let user = User::new("a");
    user.import_image();
    // The store is the user's, its files the subordinate ids.
    let store = user.store();
    assert_eq!(fs::metadata(&store).unwrap().uid(), user.uid);
    assert!(user.ok("cc-images", &[]).contains("img"));
    let layer = fs::read_dir(store.join("layers/sha256"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let notes = fs::metadata(layer.path().join("home/user/notes")).unwrap();
    assert_eq!(notes.uid(), user.host_id(1000));
    assert_eq!(notes.gid(), user.host_id(100));
    assert_eq!(
        fs::metadata(layer.path().join("bin/busybox"))
            .unwrap()
            .uid(),
        user.uid
    );

    // Inside: the image's owners and the setuid bit, root is the user.
    let ls = user.ok(
        "cc-run",
        &[
            "--rm",
            "--net",
            "none",
            "img",
            "sh",
            "-c",
            "stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox; id -u",
        ],
    );
    assert_eq!(
        ls.lines().collect::<Vec<_>>(),
        [
            "1000:100 644 /home/user/notes",
            "2:3 644 /srv/daemon",
            "0:0 4755 /bin/busybox",
            "0"
        ],
        "{ls}"
    );
    assert_eq!(
        user.ok("cc-run", &["--rm", "--net", "host", "img", "echo", "host"])
            .trim(),
        "host"
    );

    // A container in the background, the programs that work on it.
    let id = user.ok(
        "cc-run",
        &[
            "-d",
            "--name",
            "bg",
            "--net",
            "none",
            "img",
            "sh",
            "-c",
            "echo up; trap 'exit 7' TERM; while :; do sleep 1; done",
        ],
    );
    assert!(user.ok("cc-ps", &[]).contains("bg"));
    assert_eq!(
        user.ok("cc-inspect", &["-f", "{{.State.Status}}", "bg"])
            .trim(),
        "running"
    );
    assert_eq!(user.ok("cc-logs", &["bg"]).trim(), "up");
    // No cgroup: cc-top finds the processes by their pid namespace.
    let top = user.ok("cc-top", &["bg"]);
    assert!(top.lines().any(|l| l.contains("trap")), "{top}");
    user.ok(
        "cc-exec",
        &[
            "bg",
            "sh",
            "-c",
            "mkdir /data && echo x > /data/f && chown 1000:100 /data/f",
        ],
    );
    assert!(user.ok("cc-diff", &["bg"]).contains("A /data/f"));
    user.ok("cc-commit", &["bg", "img2"]);
    user.ok("cc-stop", &["-t", "5", "bg"]);
    assert_eq!(user.ok("cc-wait", &["bg"]).trim(), "7");
    let exported = user.run("cc-export", &["bg"]);
    assert_ok(&exported, "cc-export");
    let tar = user.scratch.path().join("bg.tar");
    fs::write(&tar, &exported.stdout).unwrap();
    let listing = stdout(&Command::new("tar").arg("tvf").arg(&tar).output().unwrap());
    assert!(
        listing
            .lines()
            .any(|l| l.contains("1000/100") && l.ends_with("data/f")),
        "{listing}"
    );
    user.ok("cc-rm", &[id.trim()]);
    let f = user.ok(
        "cc-run",
        &[
            "--rm", "--net", "none", "img2", "stat", "-c", "%u:%g", "/data/f",
        ],
    );
    assert_eq!(f.trim(), "1000:100");

    // cc-unshare: root in the same namespace, the store's files as inside.
    assert_eq!(user.ok("cc-unshare", &["id", "-u"]).trim(), "0");
    let path = layer.path().join("home/user/notes");
    let seen = user.ok("cc-unshare", &["stat", "-c", "%u", path.to_str().unwrap()]);
    assert_eq!(seen.trim(), "1000");

    // cc-info says how the user's namespace is made.
    let info = user.ok("cc-info", &[]);
    assert!(
        info.contains(&format!("rootless: uid {}", user.uid)),
        "{info}"
    );
    assert!(info.contains("overlay: native overlayfs"), "{info}");
    assert!(
        info.contains(&format!("store: {}", store.display())),
        "{info}"
    );

    // Nothing in the user's folders but the store and the namespace's pid.
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
    assert_eq!(support::names_in(&user.home), [".local"]);
    assert_eq!(support::names_in(&user.home.join(".local")), ["share"]);
    assert_eq!(support::names_in(&user.home.join(".local/share")), ["cc"]);
    assert_eq!(support::names_in(&user.runtime), ["cc"]);
    assert_eq!(
        support::names_in(&user.runtime.join("cc")),
        ["pause.pid", "userns.lock"]
    );
}

#[test]
fn what_needs_root_on_this_host_is_refused_with_why() {
    root_or_skip!();
    let user = User::new("bb");
    user.import_image();
    for (flags, words) in [
        (&["-m", "64m"][..], "delegated"),
        (&["--cpus", "0.5"][..], "delegated"),
        (&["--pids-limit", "10"][..], "delegated"),
        (&[][..], "--net none"),
    ] {
        let net: &[&str] = if flags.is_empty() {
            &[]
        } else {
            &["--net", "none"]
        };
        let out = user.run("cc-run", &[flags, net, &["--rm", "img", "true"]].concat());
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(words), "{flags:?}: {err}");
    }
    assert!(
        user.ok("cc-ps", &["-aq"]).trim().is_empty(),
        "nothing left behind"
    );
    for (prog, args, words) in [
        ("cc-stats", &["--no-stream", "x"][..], "has none"),
        ("cc-mount", &["img"][..], "inside cc-unshare"),
    ] {
        let out = user.run(prog, args);
        assert!(!out.status.success(), "{prog}");
        assert!(stderr(&out).contains(words), "{prog}: {}", stderr(&out));
    }
    // Inside cc-unshare, cc-mount's mount is there to look at.
    let ls = user.ok(
        "cc-unshare",
        &[
            "sh",
            "-c",
            "m=$(cc-mount img) && ls \"$m/srv\" && cc-umount \"$m\" >/dev/null",
        ],
    );
    assert_eq!(ls.trim(), "daemon");
    // Without limits the container runs, with no cgroup of its own.
    let cg = user.ok(
        "cc-run",
        &["--rm", "--net", "none", "img", "cat", "/proc/self/cgroup"],
    );
    assert!(!cg.contains("/cc/"), "{cg}");
}

#[test]
fn a_users_container_can_do_nothing_the_user_could_not() {
    root_or_skip!();
    let user = User::new("ccc");
    user.import_image();
    // A root-only host file, bound in: unreadable inside.
    let secret = user.scratch.path().join("secret");
    fs::write(&secret, "root only\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let bind = format!("{}:/secret", secret.display());
    let out = user.run(
        "cc-run",
        &[
            "--rm", "--net", "none", "-v", &bind, "img", "cat", "/secret",
        ],
    );
    assert!(!out.status.success());
    assert!(!stdout(&out).contains("root only"));
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );
    // Root of the user's namespace cannot signal another user's process.
    let mut other = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = other.id().to_string();
    let out = user.run("cc-unshare", &["kill", "-TERM", &pid]);
    assert!(
        !out.status.success(),
        "the user's root signalled root's process"
    );
    assert!(
        other.try_wait().unwrap().is_none(),
        "root's process was killed"
    );
    let _ = other.kill();
    let _ = other.wait();
}

#[test]
fn a_users_image_round_trips_through_a_registry_with_its_owners() {
    root_or_skip!();
    let user = User::new("dddd");
    user.import_image();
    let reg = support::Registry::start();
    let at = reg.at("rootless/img:v1");
    user.ok("cc-push", &["img", &at]);
    // Root pulls what the user pushed: the same owners and modes.
    let env = support::Env::new();
    let out = env.run("cc-pull", [&at]);
    assert_ok(&out, "cc-pull as root");
    let stat = "stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox";
    let as_root = env.ok("cc-run", ["--rm", "--net", "none", &at, "sh", "-c", stat]);
    // And the user pulls it back into an emptied store.
    user.ok("cc-rmi", &["img"]);
    user.ok("cc-pull", &[&at]);
    let as_user = user.ok("cc-run", &["--rm", "--net", "none", &at, "sh", "-c", stat]);
    assert_eq!(as_root, as_user);
    assert_eq!(
        as_user.lines().collect::<Vec<_>>(),
        [
            "1000:100 644 /home/user/notes",
            "2:3 644 /srv/daemon",
            "0:0 4755 /bin/busybox"
        ],
        "{as_user}"
    );
}

#[test]
fn a_user_without_subordinate_ids_runs_images_of_one_owner() {
    root_or_skip!();
    let user = User::without_subids("eeeee");
    let dir = user.scratch.path().join("solo");
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::copy("/bin/busybox", dir.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", dir.join("bin/id")).unwrap();
    let tar = user.scratch.path().join("solo.tar");
    let out = Command::new("tar")
        .args(["--owner=0", "--group=0", "-C"])
        .arg(&dir)
        .args(["-cf"])
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert_ok(&out, "tar");
    fs::set_permissions(&tar, fs::Permissions::from_mode(0o644)).unwrap();
    // The first program says what a one-id namespace cannot do.
    let out = user.run("cc-import", &[tar.to_str().unwrap(), "solo"]);
    assert_ok(&out, "cc-import");
    assert!(
        stderr(&out).contains("no subordinate ids"),
        "{}",
        stderr(&out)
    );
    let id = user.ok("cc-run", &["--rm", "--net", "none", "solo", "id"]);
    assert_eq!(id.trim(), "uid=0 gid=0");
    // An image with other owners is refused, naming why.
    user.import_image_expecting_failure("does not map");
}
