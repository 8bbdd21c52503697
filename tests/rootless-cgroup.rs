//! Limits of an ordinary user's containers (issue 21, item 5): on cgroup
//! v2 a subtree delegated to the user — a folder an administrator gave it,
//! or its own systemd's `user@UID.service` — gives its containers `-m`,
//! `--pids-limit` and `--cpus` as for root, and cc-stats, cc-pause and
//! cc-update work on them; a controller not delegated is refused naming
//! it and the group. On cgroup v1, and where nothing is delegated, every
//! limit is refused with one line saying why.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{assert_ok, root_or_skip, run_timeout, stderr, stdout, User};

const ROOT: &str = "/sys/fs/cgroup";

fn cgroup_v2() -> bool {
    let out = Command::new("stat")
        .args(["-fc", "%T", ROOT])
        .output()
        .unwrap();
    stdout(&out).trim() == "cgroup2fs"
}

/// `cc-run` as the user, refused with exit 125 and one line containing
/// each of `words`.
fn refused(user: &User, flags: &[&str], words: &[&str]) {
    let args = [flags, &["--rm", "--net", "none", "img", "true"]].concat();
    let out = user.run("cc-run", &args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{flags:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for w in words {
        assert!(err.contains(w), "{flags:?}: {err}");
    }
}

/// A folder delegated to the user as an administrator would: `top` (root's,
/// memory and pids for its children, not cpu), `top/user` (the user's),
/// and `top/user/shell`, the user's login group its commands start in.
struct Delegated {
    top: PathBuf,
    user: PathBuf,
    shell: PathBuf,
}

impl Delegated {
    fn new(owner: &User) -> Delegated {
        let top = Path::new(ROOT).join(format!("ccrl-{}", std::process::id()));
        let user = top.join("user");
        let shell = user.join("shell");
        fs::create_dir(&top).unwrap();
        fs::write(top.join("cgroup.subtree_control"), "+memory +pids").unwrap();
        fs::create_dir(&user).unwrap();
        fs::write(user.join("cgroup.subtree_control"), "+memory +pids").unwrap();
        fs::create_dir(&shell).unwrap();
        for p in [&user, &shell] {
            for f in [
                "",
                "cgroup.procs",
                "cgroup.subtree_control",
                "cgroup.threads",
            ] {
                std::os::unix::fs::chown(p.join(f), Some(owner.uid), Some(owner.gid)).unwrap();
            }
        }
        Delegated { top, user, shell }
    }

    /// A cc program as the user, started in its login group.
    fn run(&self, user: &User, prog: &str, args: &[&str]) -> Output {
        let procs = fs::File::options()
            .write(true)
            .open(self.shell.join("cgroup.procs"))
            .unwrap();
        let fd = procs.as_raw_fd();
        let mut cmd = user.cmd(prog);
        cmd.args(args);
        // SAFETY: one write(2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || match libc::write(fd, b"0".as_ptr().cast(), 1) {
                1 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            });
        }
        let out = run_timeout(&mut cmd, Duration::from_secs(60));
        drop(procs);
        out
    }

    fn ok(&self, user: &User, prog: &str, args: &[&str]) -> String {
        let out = self.run(user, prog, args);
        assert_ok(&out, &format!("{prog} {args:?}"));
        stdout(&out)
    }

    fn rel(&self) -> String {
        self.user.strip_prefix(ROOT).unwrap().display().to_string()
    }
}

impl Drop for Delegated {
    fn drop(&mut self) {
        // The user's processes (its pause process) are gone by now: the
        // User, made before, is dropped first.
        for d in [&self.shell, &self.user, &self.top] {
            let what = format!("rmdir {}", d.display());
            support::wait_for(Duration::from_secs(10), &what, || {
                (fs::remove_dir(d).is_ok() || !d.exists()).then_some(())
            });
        }
    }
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

/// The fork bomb of tests/cgroup.rs: busybox sh gives up at the first
/// fork the limit refuses.
fn fork_bomb_capped(out: &Output) {
    assert!(
        stderr(out).contains("can't fork") && !stdout(out).contains("done"),
        "12 background processes ran under --pids-limit 8: {}",
        stderr(out)
    );
}

const BOMB: &[&str] = &[
    "sh",
    "-c",
    "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; echo done",
];

#[test]
fn a_folder_the_user_owns_gives_its_containers_limits() {
    root_or_skip!();
    let user = User::new("fo");
    user.import_image();
    if !cgroup_v2() {
        for flags in [
            &["-m", "64m"][..],
            &["--pids-limit", "10"],
            &["--cpus", "0.5"],
        ] {
            refused(&user, flags, &["delegated", "cgroup v1"]);
        }
        let info = user.ok("cc-info", &[]);
        assert!(info.contains("cgroups: none: cgroup v1"), "{info}");
        return;
    }
    let deleg = Delegated::new(&user);
    let info = deleg.ok(&user, "cc-info", &[]);
    let want = format!("cgroups: folder {}", deleg.user.display());
    assert!(info.contains(&want), "{info}");

    // --cgroup-parent: the container's group in the user's folder, its
    // limits written there; cc-stats, cc-update and cc-pause work on it.
    let parent = deleg.rel();
    let run = [
        "-d",
        "--cgroup-parent",
        &parent,
        "-m",
        "64m",
        "--pids-limit",
        "10",
    ];
    let id = deleg.ok(
        &user,
        "cc-run",
        &[&run[..], &["--net", "none", "img", "sleep", "1000"]].concat(),
    );
    let id = id.trim();
    let group = deleg.user.join(id);
    assert_eq!(read(&group, "memory.max"), (64u64 << 20).to_string());
    assert_eq!(read(&group, "pids.max"), "10");
    let stats = deleg.ok(
        &user,
        "cc-stats",
        &["--no-stream", "--format", "{{.MemUsage}}", id],
    );
    assert!(stats.contains("64MiB"), "{stats}");
    deleg.ok(&user, "cc-update", &["--pids-limit", "20", id]);
    assert_eq!(read(&group, "pids.max"), "20");
    deleg.ok(&user, "cc-pause", &[id]);
    assert_eq!(read(&group, "cgroup.freeze"), "1");
    deleg.ok(&user, "cc-unpause", &[id]);
    deleg.ok(&user, "cc-rm", &["-f", id]);
    assert!(!group.exists(), "{} left behind", group.display());

    // Without --cgroup-parent: the folder the user's own group is in.
    let out = deleg.run(
        &user,
        "cc-run",
        &[
            &["--rm", "--net", "none", "--pids-limit", "8", "img"][..],
            BOMB,
        ]
        .concat(),
    );
    fork_bomb_capped(&out);

    // cpu is not delegated to the folder: refused, naming both.
    let out = deleg.run(
        &user,
        "cc-run",
        &["--rm", "--net", "none", "--cpus", "0.5", "img", "true"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let want = format!(
        "cpu controller is not delegated to this user in {}",
        deleg.user.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(deleg.ok(&user, "cc-ps", &["-aq"]).trim().is_empty());
    let groups: Vec<String> = fs::read_dir(&deleg.user)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(groups, ["shell"], "nothing left in the user's folder");
}

/// systemd's user manager for the user, stopped (with what runs in it)
/// before the User goes.
struct UserManager(u32);

impl UserManager {
    fn start(user: &User) -> UserManager {
        let unit = format!("user@{}.service", user.uid);
        let out = Command::new("systemctl")
            .args(["start", &unit])
            .output()
            .unwrap();
        assert_ok(&out, &format!("systemctl start {unit}"));
        let socket = format!("/run/user/{}/systemd/private", user.uid);
        support::wait_for(Duration::from_secs(30), &socket, || {
            Path::new(&socket).exists().then_some(())
        });
        UserManager(user.uid)
    }
}

impl Drop for UserManager {
    fn drop(&mut self) {
        let uid = self.0;
        let _ = Command::new("systemctl")
            .args([
                "stop",
                &format!("user@{uid}.service"),
                &format!("user-runtime-dir@{uid}.service"),
            ])
            .output();
    }
}

#[test]
fn the_users_systemd_gives_its_containers_limits() {
    root_or_skip!();
    let user = User::new("sd");
    user.import_image();
    let systemd = Path::new("/run/systemd/system").is_dir();
    if !cgroup_v2() || !systemd {
        let why = match cgroup_v2() {
            false => "cgroup v1",
            true => "no user@",
        };
        for flags in [
            &["-m", "64m"][..],
            &["--pids-limit", "10"],
            &["--cpus", "0.5"],
        ] {
            refused(&user, flags, &["delegated", why]);
        }
        let out = user.run("cc-stats", &["--no-stream"]);
        assert!(stderr(&out).contains("has none"), "{}", stderr(&out));
        return;
    }
    let _manager = UserManager::start(&user);
    let info = user.ok("cc-info", &[]);
    assert!(info.contains("cgroups: systemd user manager"), "{info}");
    assert!(info.contains("cgroup manager: systemd"), "{info}");

    let id = user.ok(
        "cc-run",
        &[
            "-d",
            "-m",
            "64m",
            "--pids-limit",
            "10",
            "--cpus",
            "0.5",
            "--net",
            "none",
            "img",
            "sleep",
            "1000",
        ],
    );
    let id = id.trim();
    let scope = Path::new(ROOT).join(format!(
        "user.slice/user-{0}.slice/user@{0}.service/user.slice/cc-{id}.scope",
        user.uid
    ));
    assert_eq!(read(&scope, "memory.max"), (64u64 << 20).to_string());
    assert_eq!(read(&scope, "pids.max"), "10");
    assert_eq!(read(&scope, "cpu.max"), "50000 100000");
    let stats = user.ok(
        "cc-stats",
        &["--no-stream", "--format", "{{.MemUsage}}", id],
    );
    assert!(stats.contains("64MiB"), "{stats}");
    user.ok("cc-update", &["--pids-limit", "20", id]);
    assert_eq!(read(&scope, "pids.max"), "20");
    user.ok("cc-pause", &[id]);
    assert_eq!(read(&scope, "cgroup.freeze"), "1");
    user.ok("cc-unpause", &[id]);
    user.ok("cc-rm", &["-f", id]);
    support::wait_for(Duration::from_secs(10), "the scope to go", || {
        (!scope.exists()).then_some(())
    });

    let out = user.run(
        "cc-run",
        &[
            &["--rm", "--net", "none", "--pids-limit", "8", "img"][..],
            BOMB,
        ]
        .concat(),
    );
    fork_bomb_capped(&out);
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
}
