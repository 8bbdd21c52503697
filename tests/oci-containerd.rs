//! containerd (Debian's 1.6) as the real client of the runtime under test:
//! `ctr run --runc-binary PATH` makes containerd's runc shim
//! (containerd-shim-runc-v2) call it the way it calls runc, always with
//! `--root`, `--log FILE --log-format json`: create with --pid-file (and
//! --console-socket for -t), start, exec --process --detach, ps --format
//! json, pause, resume, kill [--all], delete [--force]. Each scenario runs
//! with runc first and then with the runtime under test, and compares
//! what a user sees.
//!
//! Each test starts a containerd of its own: its root, state, gRPC socket
//! and config in the test's temporary folder, the CRI plugin and others
//! that need what a test machine lacks disabled; the runtime's state root
//! (`--runc-root`) and ctr's fifos (`--fifo-dir`) there too. The image is
//! the busybox image podman imports from the host's static busybox, saved
//! as a docker archive and imported by `ctr images import`. At the end:
//! its tasks and containers deleted by name, containerd stopped by pid,
//! what it left mounted below its folder unmounted by path. Paths are
//! fixed in containerd 1.6 whatever the config says: the shims' sockets
//! in /run/containerd/s (and ctr's fifos in /run/containerd/fifo when a
//! command has no --fifo-dir); the folders a test made there are removed again
//! when empty. The tests run one at a time for that reason.
//!
//! The runtime under test is the built `cc-oci`; `CC_OCI_UNDER_TEST=PATH`
//! replaces it (a developer aid). See tests/support/oci.rs.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use support::oci::{self, Oci, Podman, Runtime, T};
use support::{assert_ok, scaled, stderr, stdout, wait_for, Env};

/// One containerd at a time (see the file's head).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The folders below /run that containerd 1.6 uses whatever its config.
/// (`fifo` is ctr's default for the commands without --fifo-dir.)
const FIXED_DIRS: [&str; 3] = [
    "/run/containerd",
    "/run/containerd/s",
    "/run/containerd/fifo",
];

struct Containerd {
    child: Child,
    dir: PathBuf,
    sock: PathBuf,
    ns: String,
    image: String,
    /// Of FIXED_DIRS, those that did not exist before.
    made: Vec<PathBuf>,
}

impl Containerd {
    /// Start containerd in `env.base()/containerd` and import the busybox
    /// image (through a private podman store).
    fn start(env: &Env) -> Containerd {
        let dir = env.base().join("containerd");
        fs::create_dir_all(&dir).unwrap();
        let made = FIXED_DIRS
            .iter()
            .map(PathBuf::from)
            .filter(|p| !p.exists())
            .collect();
        let sock = dir.join("containerd.sock");
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  address = "{dir}/debug.sock"
  level = "info"

[metrics]
  address = ""
"#,
            root = dir.join("root").display(),
            state = dir.join("state").display(),
            sock = sock.display(),
            dir = dir.display(),
        );
        fs::write(dir.join("config.toml"), config).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("containerd.log")).unwrap())
            .spawn()
            .expect("containerd (Debian's containerd package)");
        let mut c = Containerd {
            child,
            dir,
            sock,
            ns: oci::unique("ns"),
            image: String::new(),
            made,
        };
        wait_for(Duration::from_secs(30), "containerd to answer", || {
            c.run(&["version"]).status.success().then_some(())
        });

        let pm = Podman::new(env);
        let tar = env.dir.join("busybox-docker.tar");
        pm.save(&tar);
        c.ok(&["images", "import", tar.to_str().unwrap()]);
        c.image = pm.image.clone();
        c
    }

    /// `ctr -a SOCK -n NS`.
    fn ctr(&self) -> Command {
        let mut c = Command::new("ctr");
        c.current_dir(&self.dir);
        c.arg("-a").arg(&self.sock).arg("-n").arg(&self.ns);
        c.stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        support::run_timeout(self.ctr().args(args), T)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_ok(&out, &format!("ctr {args:?}"));
        stdout(&out)
    }

    /// The runtime's state folder for `rt` (`--runc-root`); the shim adds
    /// the namespace.
    fn runc_root(&self, rt: &Runtime) -> PathBuf {
        self.dir.join(format!("runtime-{}", rt.label))
    }

    /// The runtime itself, on the state the shim made it keep (a view:
    /// it deletes nothing).
    fn oci(&self, rt: &Runtime) -> Oci {
        Oci::view(rt, &self.runc_root(rt).join(&self.ns))
    }

    /// The flags of `ctr run` that choose the runtime and keep its state
    /// and the fifos in the test's folder.
    fn run_flags(&self, rt: &Runtime) -> Vec<String> {
        vec![
            "--runc-binary".into(),
            rt.path.to_str().unwrap().into(),
            "--runc-root".into(),
            self.runc_root(rt).to_str().unwrap().into(),
            "--fifo-dir".into(),
            self.dir.join("fifo").to_str().unwrap().into(),
        ]
    }

    /// `ctr run FLAGS IMAGE NAME CMD...`.
    fn ctr_run(&self, rt: &Runtime, flags: &[&str], name: &str, cmd: &[&str]) -> Output {
        let mut args: Vec<String> = vec!["run".into()];
        args.extend(self.run_flags(rt));
        args.extend(flags.iter().map(|s| s.to_string()));
        args.push(self.image.clone());
        args.push(name.into());
        args.extend(cmd.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }

    /// `ctr task ls`: (pid, status) of task `name`.
    fn task(&self, name: &str) -> Option<(i32, String)> {
        let out = self.ok(&["task", "ls"]);
        out.lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&name)).then(|| (f[1].parse().unwrap_or(0), f[2].to_string()))
        })
    }

    fn wait_task_status(&self, name: &str, want: &str) {
        wait_for(
            Duration::from_secs(15),
            &format!("task {name} to be {want}"),
            || (self.task(name)?.1 == want).then_some(()),
        );
    }

    /// Names from `ctr containers ls -q`.
    fn containers(&self) -> Vec<String> {
        self.ok(&["containers", "ls", "-q"])
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Polls `ctr task ls` (TASK PID STATUS) until task `t` is no longer
    /// RUNNING, for at most 10 s: on drop, a failed wait is no panic.
    fn wait_not_running(&self, t: &str) {
        let running = || {
            self.ctr().args(["task", "ls"]).output().is_ok_and(|o| {
                stdout(&o).lines().any(|l| {
                    let cells: Vec<&str> = l.split_whitespace().collect();
                    cells.first() == Some(&t) && cells.get(2) == Some(&"RUNNING")
                })
            })
        };
        let deadline = std::time::Instant::now() + scaled(Duration::from_secs(10));
        while running() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Pids of this containerd's shims: their command line names our
    /// socket after `-address`.
    fn shims(&self) -> Vec<i32> {
        let want = self.sock.to_string_lossy().into_owned();
        let mut out = Vec::new();
        for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(cmd) = fs::read(e.path().join("cmdline")) else {
                continue;
            };
            let argv: Vec<String> = cmd
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if argv.first().is_some_and(|a| a.contains("containerd-shim"))
                && argv.windows(2).any(|w| w[0] == "-address" && w[1] == want)
            {
                out.push(pid);
            }
        }
        out
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // Tasks and containers of our namespace, by name.
        if let Ok(out) = self.ctr().args(["task", "ls", "-q"]).output() {
            for t in stdout(&out)
                .lines()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                let _ = self
                    .ctr()
                    .args(["task", "kill", "-a", "-s", "KILL", t])
                    .output();
                self.wait_not_running(t);
                let _ = self.ctr().args(["task", "delete", "-f", t]).output();
            }
        }
        if let Ok(out) = self.ctr().args(["containers", "ls", "-q"]).output() {
            for c in stdout(&out)
                .lines()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            {
                let _ = self.ctr().args(["containers", "delete", c]).output();
            }
        }
        // containerd by pid; shims left by a failed test, by pid.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for pid in self.shims() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        // Snapshots and rootfs mounts it left, deepest first.
        let mut ms = support::mounts_under(&self.dir);
        ms.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        for m in ms {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
        for d in self.made.iter().rev() {
            let _ = fs::remove_dir(d); // only when empty
        }
    }
}

/// A containerd, its env, and the lock that keeps the tests apart;
/// dropped in that order.
struct World {
    cd: Containerd,
    _env: Env,
    _lock: std::sync::MutexGuard<'static, ()>,
}

fn world() -> Option<World> {
    if !support::require_root() || !oci::tools(&["containerd", "ctr", "podman", "runc"]) {
        return None;
    }
    let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let env = Env::new();
    Some(World {
        cd: Containerd::start(&env),
        _env: env,
        _lock: lock,
    })
}

#[test]
fn ctr_run_rm_prints_and_exits_with_the_code() {
    let Some(w) = world() else { return };
    let cd = &w.cd;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let a = oci::unique(&format!("hi-{l}"));
        let hi = cd.ctr_run(&rt, &["--rm"], &a, &["echo", "hi"]);
        let b = oci::unique(&format!("three-{l}"));
        let three = cd.ctr_run(
            &rt,
            &["--rm"],
            &b,
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
        );
        let got = (
            stdout(&hi),
            hi.status.code(),
            stdout(&three),
            stderr(&three).contains("err"),
            three.status.code(),
        );
        assert_eq!(
            got,
            ("hi\n".into(), Some(0), "out\n".into(), true, Some(3)),
            "{l}: ctr run --rm: stdout, exit code; stdout, stderr, exit code; stderr: {}",
            stderr(&three)
        );
        let left = cd.containers();
        assert!(
            !left.contains(&a) && !left.contains(&b),
            "{l}: --rm left {left:?}"
        );
        assert!(
            cd.oci(&rt).list_q().is_empty(),
            "{l}: the runtime still lists containers"
        );
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "ctr run under cc-oci differs from runc");
}

#[test]
fn ctr_run_d_exec_pause_kill_delete() {
    let Some(w) = world() else { return };
    let cd = &w.cd;
    // No output: once `ctr run -d` has gone, nobody reads the fifos.
    let script = "trap 'exit 0' TERM; while :; do sleep 0.1; done";
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let name = oci::unique(&format!("d-{l}"));
        let out = cd.ctr_run(&rt, &["-d"], &name, &["sh", "-c", script]);
        assert_ok(&out, &format!("{l}: ctr run -d"));
        let (pid, status) = cd
            .task(&name)
            .unwrap_or_else(|| panic!("{l}: no task {name}"));
        assert_eq!(status, "RUNNING", "{l}");
        assert!(pid > 0 && oci::alive(pid), "{l}: task pid {pid}");
        // The runtime's own view of the state the shim made it keep.
        let rs = cd
            .oci(&rt)
            .state(&name)
            .unwrap_or_else(|| panic!("{l}: runtime state"));
        assert_eq!(
            (rs["status"].as_str(), rs["pid"].as_i64()),
            (Some("running"), Some(pid as i64)),
            "{l}: {rs}"
        );
        let mut got = vec![status];

        let fifo = cd.dir.join("fifo");
        let out = cd.run(&[
            "task",
            "exec",
            "--fifo-dir",
            fifo.to_str().unwrap(),
            "--exec-id",
            "e1",
            &name,
            "sh",
            "-c",
            "echo inexec; cat /proc/1/comm; exit 4",
        ]);
        assert_eq!(
            (stdout(&out).as_str(), out.status.code()),
            ("inexec\nsh\n", Some(4)),
            "{l}: ctr task exec: stdout and exit code; stderr: {}",
            stderr(&out)
        );

        let ps = cd.ok(&["task", "ps", &name]);
        assert!(ps.contains(&pid.to_string()), "{l}: ctr task ps:\n{ps}");

        cd.ok(&["task", "pause", &name]);
        got.push(cd.task(&name).unwrap().1);
        cd.ok(&["task", "resume", &name]);
        got.push(cd.task(&name).unwrap().1);

        cd.ok(&["task", "kill", &name]);
        cd.wait_task_status(&name, "STOPPED");
        got.push("STOPPED".into());
        let out = cd.run(&["task", "delete", &name]);
        assert_ok(&out, &format!("{l}: ctr task delete"));
        assert!(cd.task(&name).is_none(), "{l}: task still listed");
        assert!(
            cd.oci(&rt).state(&name).is_none(),
            "{l}: the runtime still has {name}"
        );
        cd.ok(&["containers", "delete", &name]);
        assert!(
            !cd.containers().contains(&name),
            "{l}: container still listed"
        );
        assert_eq!(
            got,
            ["RUNNING", "PAUSED", "RUNNING", "STOPPED"],
            "{l}: task states"
        );
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn ctr_run_memory_limit_and_kill_all() {
    let Some(w) = world() else { return };
    let cd = &w.cd;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let name = oci::unique(&format!("all-{l}"));
        let out = cd.ctr_run(
            &rt,
            &["-d", "--memory-limit", "67108864"],
            &name,
            &["sh", "-c", "sleep 1000 & exec sleep 1001"],
        );
        assert_ok(&out, &format!("{l}: ctr run -d --memory-limit"));
        let (pid, _) = cd.task(&name).unwrap();
        let limit = oci::host_memory_limit(pid);
        assert_eq!(
            limit.as_deref(),
            Some("67108864"),
            "{l}: the cgroup's limit"
        );
        let pids: Vec<i32> = wait_for(T, "two processes", || {
            let ps = cd.ok(&["task", "ps", &name]);
            let pids: Vec<i32> = ps
                .lines()
                .skip(1)
                .filter_map(|x| x.split_whitespace().next()?.parse().ok())
                .collect();
            (pids.len() == 2).then_some(pids)
        });
        cd.ok(&["task", "kill", "--all", "-s", "KILL", &name]);
        cd.wait_task_status(&name, "STOPPED");
        for p in &pids {
            wait_for(Duration::from_secs(10), "every process to end", || {
                (!oci::alive(*p)).then_some(())
            });
        }
        cd.ok(&["task", "delete", &name]);
        cd.ok(&["containers", "delete", &name]);
        seen.push((limit, pids.len()));
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn ctr_run_t_through_a_pty() {
    let Some(w) = world() else { return };
    if !oci::tools(&["script"]) {
        return;
    }
    let cd = &w.cd;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let name = oci::unique(&format!("tty-{l}"));
        let mut cmd = cd.ctr();
        cmd.arg("run").args(cd.run_flags(&rt)).args([
            "-t",
            "--rm",
            &cd.image,
            &name,
            "sh",
            "-c",
            "sleep 1; tty; stty size; exit 5",
        ]);
        let (shown, code) = oci::in_pty(&cmd, 33, 101, "");
        // `^@` may come before it: the echo of the end of input.
        let tty = shown.lines().any(|x| {
            x.trim()
                .rfind("/dev/pts/")
                .map(|i| &x.trim()[i + "/dev/pts/".len()..])
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        // ctr resizes the console to its own terminal's size once the task
        // has started (hence the sleep), through the pty master the runtime
        // handed over.
        let size = shown.lines().any(|x| x.trim() == "33 101");
        assert!(
            tty && size && code == Some(5),
            "{l}: ctr run -t showed {shown:?} and exited {code:?}; wanted /dev/pts/N, 33 101, 5"
        );
        seen.push(code);
    }
    assert_eq!(seen[0], seen[1]);
}
