//! cc-oci on its own: what runc's callers rely on beyond the plain
//! lifecycle (tests/oci-bundle.rs, oci-podman.rs and oci-containerd.rs
//! have that): the error log, hooks, failures that leave nothing, update,
//! exec with a process file, the spec's process settings, namespaces given
//! by path, the console socket — and cc-run --bundle.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// A bundle (busybox root, the default spec of `cc-oci spec`, terminal
/// off) and a runtime root, in one test's Env; containers it made are
/// deleted on drop.
struct Oci {
    env: Env,
    bundle: PathBuf,
    state: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
}

impl Oci {
    fn new() -> Oci {
        let env = Env::new();
        let bundle = env.dir.join("bundle");
        make_busybox_rootfs(&bundle.join("rootfs"));
        let state = env.dir.join("oci-root");
        let o = Oci {
            env,
            bundle,
            state,
            ids: Default::default(),
        };
        let out = o
            .cmd()
            .arg("spec")
            .arg("--bundle")
            .arg(&o.bundle)
            .output()
            .unwrap();
        assert_ok(&out, "cc-oci spec");
        o.edit(|c| c["process"]["terminal"] = json!(false));
        o
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(bin("cc-oci"));
        c.arg("--root").arg(&self.state).stdin(Stdio::null());
        c
    }

    /// A fresh container id, deleted when the test ends.
    fn id(&self, name: &str) -> String {
        let id = format!("cctest-{}-{name}", std::process::id());
        self.ids.borrow_mut().push(id.clone());
        id
    }

    fn run(&self, args: &[&str]) -> Output {
        run_timeout(self.cmd().args(args), Duration::from_secs(30))
    }

    /// For `create`: the container's first process inherits cc-oci's
    /// stdio and holds it, so the output goes to files, not to pipes a
    /// reader would wait on for ever (the same holds for runc).
    fn run_to_files(&self, args: &[&str]) -> Output {
        let n = self.ids.borrow().len();
        let (o, e) = (
            self.env.dir.join(format!("out.{n}.{}", args.len())),
            self.env.dir.join(format!("err.{n}.{}", args.len())),
        );
        let mut child = self
            .cmd()
            .args(args)
            .stdout(fs::File::create(&o).unwrap())
            .stderr(fs::File::create(&e).unwrap())
            .spawn()
            .unwrap();
        let status = wait_for(Duration::from_secs(30), "cc-oci create", || {
            child.try_wait().unwrap()
        });
        Output {
            status,
            stdout: fs::read(&o).unwrap(),
            stderr: fs::read(&e).unwrap(),
        }
    }

    fn config(&self) -> Value {
        serde_json::from_slice(&fs::read(self.bundle.join("config.json")).unwrap()).unwrap()
    }

    fn edit(&self, f: impl FnOnce(&mut Value)) {
        let mut c = self.config();
        f(&mut c);
        fs::write(self.bundle.join("config.json"), c.to_string()).unwrap();
    }

    fn args(&self, args: &[&str]) {
        self.edit(|c| c["process"]["args"] = json!(args));
    }

    fn create(&self, id: &str) {
        let b = self.bundle.to_str().unwrap();
        assert_ok(
            &self.run_to_files(&["create", "--bundle", b, id]),
            "cc-oci create",
        );
    }

    fn state(&self, id: &str) -> Value {
        let out = self.run(&["state", id]);
        assert_ok(&out, "cc-oci state");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap().to_string()
    }

    /// The container's memory cgroup folder on the host (cgroup v1 here).
    /// The container's memory group on the host (v1's memory hierarchy,
    /// else the v2 group).
    fn memory_dir(&self, id: &str) -> PathBuf {
        match Path::new("/sys/fs/cgroup/memory").exists() {
            true => Path::new("/sys/fs/cgroup/memory/cc-oci").join(id),
            false => Path::new("/sys/fs/cgroup/cc-oci").join(id),
        }
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            let _ = self.cmd().args(["delete", "--force", id]).output();
        }
    }
}

#[test]
fn errors_are_one_line_and_logged_as_runc_logs_them() {
    root_or_skip!();
    let o = Oci::new();
    let log = o.env.dir.join("log.json");
    let out = o
        .cmd()
        .args(["--log-format", "json", "--log"])
        .arg(&log)
        .args(["state", "nosuch"])
        .output()
        .unwrap();
    assert_code(&out, 1, "state of an unknown container");
    assert_one_line_error(&out, "cc-oci");
    let lines = json_lines(&fs::read_to_string(&log).unwrap());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "error");
    assert!(lines[0]["msg"].as_str().unwrap().contains("nosuch"));
    assert!(lines[0]["time"].as_str().unwrap().starts_with("20"));
    let text = o.env.dir.join("log.txt");
    let out = o
        .cmd()
        .arg("--log")
        .arg(&text)
        .args(["kill", "nosuch"])
        .output()
        .unwrap();
    assert_code(&out, 1, "kill of an unknown container");
    let t = fs::read_to_string(&text).unwrap();
    assert!(
        t.contains("level=error msg=\"") && t.contains("nosuch"),
        "{t}"
    );
    // --systemd-cgroup where systemd cannot make scopes (v1, no systemd)
    // is one clear line; where it can, tests/cgroup.rs runs it.
    let v2_systemd =
        Path::new("/run/systemd/system").is_dir() && !Path::new("/sys/fs/cgroup/memory").exists();
    if !v2_systemd {
        o.args(&["true"]);
        let (id, b) = (o.id("sd"), o.bundle.to_str().unwrap().to_string());
        let out = o.run(&["--systemd-cgroup", "run", "--bundle", &b, &id]);
        assert_code(&out, 1, "--systemd-cgroup without systemd on cgroup v2");
        assert!(stderr(&out).contains("systemd"), "{}", stderr(&out));
    }
    // --debug logs each call.
    let dbg = o.env.dir.join("debug.json");
    let out = o
        .cmd()
        .args(["--debug", "--log-format", "json", "--log"])
        .arg(&dbg)
        .args(["list", "-q"])
        .output()
        .unwrap();
    assert_ok(&out, "list --debug");
    let lines = json_lines(&fs::read_to_string(&dbg).unwrap());
    assert_eq!(lines[0]["level"], "debug");
    assert!(lines[0]["msg"].as_str().unwrap().ends_with("list -q"));
    // delete --force of what is not there is fine, as with runc.
    assert_ok(&o.run(&["delete", "--force", "nosuch"]), "delete --force");
}

#[test]
fn failed_creates_leave_nothing() {
    root_or_skip!();
    let o = Oci::new();
    let b = o.bundle.to_str().unwrap().to_string();
    let id = o.id("bad");
    o.args(&["nosuchcommand"]);
    let out = o.run_to_files(&["create", "--bundle", &b, &id]);
    assert_code(&out, 1, "create with a missing command");
    assert!(stderr(&out).contains("nosuchcommand"), "{}", stderr(&out));
    assert!(!o.state.join(&id).exists(), "state folder left");
    assert!(!o.memory_dir(&id).exists(), "cgroup left");
    // A terminal needs a console socket when created detached.
    o.args(&["true"]);
    o.edit(|c| c["process"]["terminal"] = json!(true));
    let out = o.run_to_files(&["create", "--bundle", &b, &id]);
    assert_code(&out, 1, "terminal without console socket");
    assert!(!o.state.join(&id).exists());
    o.edit(|c| c["process"]["terminal"] = json!(false));
    // A hook stage the runtime spec does not name is refused before
    // anything is made.
    o.edit(|c| c["hooks"] = json!({"preStartish": [{"path": "/bin/true"}]}));
    let out = o.run_to_files(&["create", "--bundle", &b, &id]);
    assert_code(&out, 1, "unknown hook stage");
    assert!(stderr(&out).contains("preStartish"), "{}", stderr(&out));
    assert!(!o.state.join(&id).exists());
    o.edit(|c| {
        c.as_object_mut().unwrap().remove("hooks");
    });
    // A systemd cgroupsPath without --systemd-cgroup.
    o.edit(|c| c["linux"]["cgroupsPath"] = json!("system.slice:cc-test:x"));
    let out = o.run_to_files(&["create", "--bundle", &b, &id]);
    assert_code(&out, 1, "systemd cgroupsPath without --systemd-cgroup");
    assert!(!o.state.join(&id).exists(), "state folder left");
    o.edit(|c| {
        c["linux"].as_object_mut().unwrap().remove("cgroupsPath");
    });
    // A broken config.json, a bad id, an id in use.
    fs::write(
        o.bundle.join("config.json.good"),
        fs::read(o.bundle.join("config.json")).unwrap(),
    )
    .unwrap();
    fs::write(o.bundle.join("config.json"), "{").unwrap();
    assert_code(
        &o.run_to_files(&["create", "--bundle", &b, &id]),
        1,
        "bad json",
    );
    fs::rename(
        o.bundle.join("config.json.good"),
        o.bundle.join("config.json"),
    )
    .unwrap();
    assert_code(
        &o.run_to_files(&["create", "--bundle", &b, "a/b"]),
        1,
        "bad id",
    );
    o.args(&["sleep", "100"]);
    o.create(&id);
    let out = o.run_to_files(&["create", "--bundle", &b, &id]);
    assert_code(&out, 1, "id in use");
    assert!(stderr(&out).contains("exists"));
    assert_eq!(o.status(&id), "created", "the first one is untouched");
}

#[test]
fn delete_refuses_a_live_container_and_force_kills_it() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("del");
    o.args(&["sleep", "100"]);
    o.create(&id);
    assert_ok(&o.run(&["start", &id]), "start");
    let out = o.run(&["start", &id]);
    assert_code(&out, 1, "second start");
    let pid = o.state(&id)["pid"].as_i64().unwrap();
    let out = o.run(&["delete", &id]);
    assert_code(&out, 1, "delete of a running container");
    assert!(stderr(&out).contains("running"));
    assert_ok(&o.run(&["delete", "--force", &id]), "delete --force");
    wait_for(Duration::from_secs(5), "the process to die", || {
        (!Path::new(&format!("/proc/{pid}")).exists()
            || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")))
        .then_some(())
    });
    assert!(!o.state.join(&id).exists());
    assert!(!o.memory_dir(&id).exists());
}

#[test]
fn hooks_run_on_the_host_with_the_state() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("hooks");
    let dir = o.env.dir.clone();
    let hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}/{name}.json", dir.display())]});
    o.args(&["sleep", "100"]);
    o.edit(|c| {
        c["hooks"] = json!({
            "prestart": [hook("prestart")],
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        })
    });
    o.create(&id);
    let pid = o.state(&id)["pid"].as_i64().unwrap();
    for stage in ["prestart", "createRuntime"] {
        let s: Value =
            serde_json::from_slice(&fs::read(dir.join(format!("{stage}.json"))).unwrap()).unwrap();
        assert_eq!(s["id"], id.as_str());
        assert_eq!(s["pid"], pid, "{stage}");
        assert_eq!(s["status"], "created");
    }
    assert!(!dir.join("poststart.json").exists());
    assert_ok(&o.run(&["start", &id]), "start");
    let s: Value = serde_json::from_slice(&fs::read(dir.join("poststart.json")).unwrap()).unwrap();
    assert_eq!(s["status"], "running");
    assert_ok(&o.run(&["kill", &id, "KILL"]), "kill");
    wait_for(Duration::from_secs(5), "stopped", || {
        (o.status(&id) == "stopped").then_some(())
    });
    assert_ok(&o.run(&["delete", &id]), "delete");
    let s: Value = serde_json::from_slice(&fs::read(dir.join("poststop.json")).unwrap()).unwrap();
    assert_eq!(s["status"], "stopped");
    // A failing prestart hook fails the create, leaving nothing.
    let id2 = o.id("badhook");
    o.edit(|c| c["hooks"] = json!({"prestart": [{"path": "/bin/false"}]}));
    let b = o.bundle.to_str().unwrap();
    let out = o.run_to_files(&["create", "--bundle", b, &id2]);
    assert_code(&out, 1, "failing prestart hook");
    assert!(stderr(&out).contains("prestart"), "{}", stderr(&out));
    assert!(!o.state.join(&id2).exists());
    assert!(!o.memory_dir(&id2).exists());
}

#[test]
fn the_process_gets_the_spec_settings() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("settings");
    o.args(&[
        "sh",
        "-c",
        "ulimit -n; umask; cat /proc/self/oom_score_adj; hostname; \
         cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; \
         cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; \
         cat /proc/sys/net/ipv4/ip_unprivileged_port_start; cat <&3; id -u",
    ]);
    o.edit(|c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 123, "soft": 123}]);
        c["process"]["user"]["umask"] = json!(0o077);
        c["process"]["oomScoreAdj"] = json!(500);
        c["hostname"] = json!("spec-host");
        c["linux"]["resources"]["memory"] = json!({"limit": 64 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 42});
        c["linux"]["sysctl"] = json!({"net.ipv4.ip_unprivileged_port_start": "77"});
    });
    // fd 3 of cc-oci goes on to the container with --preserve-fds 1.
    let secret = o.env.dir.join("fd3");
    fs::write(&secret, "passed-on\n").unwrap();
    let f = fs::File::open(&secret).unwrap();
    let raw = f.as_raw_fd();
    let mut cmd = o.cmd();
    cmd.args(["run", "--preserve-fds", "1", "--no-pivot", "--bundle"])
        .arg(&o.bundle)
        .arg(&id);
    // SAFETY: dup2 in the child before exec, onto fd 3.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            // dup2 onto itself would keep close-on-exec.
            let rc = match raw {
                3 => libc::fcntl(3, libc::F_SETFD, 0),
                _ => libc::dup2(raw, 3),
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run_timeout(&mut cmd, Duration::from_secs(30));
    assert_ok(&out, "cc-oci run");
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            "123",
            "0077",
            "500",
            "spec-host",
            &(64u64 << 20).to_string(),
            "42",
            "77",
            "passed-on",
            "0"
        ],
        "{}",
        stderr(&out)
    );
    // run in the foreground deletes the container after it exits.
    assert!(!o.state.join(&id).exists());
    assert!(!o.memory_dir(&id).exists());
}

#[test]
fn update_and_exec_with_a_process_file() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("upd");
    o.args(&["sleep", "100"]);
    o.create(&id);
    assert_ok(&o.run(&["start", &id]), "start");
    assert_ok(
        &o.run(&["update", "--memory", "32m", "--pids-limit", "17", &id]),
        "update",
    );
    let host = fs::read_to_string(o.memory_dir(&id).join("memory.limit_in_bytes"))
        .or_else(|_| fs::read_to_string(o.memory_dir(&id).join("memory.max")))
        .unwrap();
    assert_eq!(host.trim(), (32u64 << 20).to_string());
    // The process JSON conmon and the shims pass.
    let process = json!({
        "args": ["sh", "-c", "echo $GREETING from $(pwd); cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; exit 7"],
        "env": ["PATH=/bin", "GREETING=hello"],
        "cwd": "/tmp",
        "user": {"uid": 1000, "gid": 1000},
        "terminal": false
    });
    let pf = o.env.dir.join("process.json");
    fs::write(&pf, process.to_string()).unwrap();
    let out = o.run(&["exec", "--process", pf.to_str().unwrap(), &id]);
    assert_code(&out, 7, "exec --process");
    assert_eq!(stdout(&out), "hello from /tmp\n17\n");
    // --detach: the pid file names the command itself, which runs as 1000.
    let pidf = o.env.dir.join("exec.pid");
    // Detached, the command keeps cc-oci's stdio: files, not pipes.
    let out = o.run_to_files(&[
        "exec",
        "--detach",
        "--pid-file",
        pidf.to_str().unwrap(),
        "--user",
        "1000:1000",
        &id,
        "sleep",
        "30",
    ]);
    assert_ok(&out, "exec --detach");
    let pid: i32 = fs::read_to_string(&pidf).unwrap().trim().parse().unwrap();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.lines().any(|l| l.starts_with("Uid:\t1000")),
        "{status}"
    );
    let cmdline = fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.starts_with("sleep"), "{cmdline:?}");
    let ps = o.run(&["ps", "--format", "json", &id]);
    let pids: Vec<i64> = serde_json::from_slice(&ps.stdout).unwrap();
    assert!(pids.contains(&(pid as i64)), "{pids:?}");
    let out = o.run(&["exec", &id, "nosuch"]);
    assert_code(&out, 255, "exec of a missing command");
}

#[test]
fn namespaces_given_by_path_are_joined() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("netns");
    let ns = format!("cctest-{}", std::process::id());
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().unwrap();
        assert_ok(&out, &format!("ip {args:?}"));
    };
    ip(&["netns", "add", &ns]);
    struct Gone(String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
        }
    }
    let _gone = Gone(ns.clone());
    ip(&[
        "-n", &ns, "link", "add", "ccveth0", "type", "veth", "peer", "name", "ccveth1",
    ]);
    o.args(&["ip", "link", "show", "ccveth0"]);
    o.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "network" {
                n["path"] = json!(format!("/run/netns/{ns}"));
            }
        }
    });
    let out = o.run(&["run", "--bundle", o.bundle.to_str().unwrap(), &id]);
    assert_ok(&out, "run in a named network namespace");
    assert!(stdout(&out).contains("ccveth0"));
}

#[test]
fn the_terminal_goes_to_the_console_socket() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("tty");
    o.args(&["sh", "-c", "tty; echo on-the-pty"]);
    o.edit(|c| c["process"]["terminal"] = json!(true));
    let sock = o.env.dir.join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let b = o.bundle.to_str().unwrap().to_string();
    let s = sock.to_str().unwrap().to_string();
    let mut cmd = o.cmd();
    cmd.args(["create", "--console-socket", &s, "--bundle", &b, &id]);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (conn, _) = listener.accept().unwrap();
    let master = support::oci::receive_fd(&conn).expect("a pty master over the console socket");
    let out = wait_child_timeout(child, Duration::from_secs(30), "cc-oci create");
    assert_ok(&out, "create with a console socket");
    assert_ok(&o.run(&["start", &id]), "start");
    let mut got = Vec::new();
    let mut f = fs::File::from(master);
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("on-the-pty") {
        match std::io::Read::read(&mut f, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.contains("/dev/pts/0") && text.contains("on-the-pty"),
        "{text}"
    );
}

#[test]
fn cc_run_takes_a_bundle() {
    root_or_skip!();
    let o = Oci::new();
    let env = &o.env;
    o.args(&["sh", "-c", "echo from-the-bundle; hostname; sleep 100"]);
    let b = o.bundle.to_str().unwrap();
    let id = env.run_d(["--net", "none", "--name", "bundled", "--bundle", b]);
    wait_for(Duration::from_secs(10), "the log", || {
        let l = stdout(&env.logs([&id]));
        l.contains("cc\n").then_some(())
    });
    assert_eq!(stdout(&env.logs([&id])), "from-the-bundle\ncc\n");
    let out = env.run("cc-exec", [id.as_str(), "cat", "/proc/1/cmdline"]);
    assert_ok(&out, "cc-exec into a bundle container");
    // sh runs its last command in its own place.
    assert!(stdout(&out).starts_with("sleep"), "{:?}", stdout(&out));
    assert_ok(&env.run("cc-rm", ["-f", id.as_str()]), "cc-rm");
    // Options that would change the spec are refused with --bundle.
    let out = env.run("cc-run", ["--bundle", b, "-e", "X=1"]);
    assert_code(&out, 125, "--bundle with -e");
    // The bundle's exit code and output, in the foreground.
    o.args(&["sh", "-c", "echo fg; exit 9"]);
    let out = env.run("cc-run", ["--rm", "--net", "none", "--bundle", b]);
    assert_code(&out, 9, "foreground bundle");
    assert_eq!(stdout(&out), "fg\n");
    assert_no_leaks(env);
}

#[test]
fn a_user_namespace_from_the_bundle() {
    root_or_skip!();
    let o = Oci::new();
    let id = o.id("userns");
    o.args(&[
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox; touch /ok",
    ]);
    o.edit(|c| {
        c["root"]["readonly"] = json!(false);
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        let map = json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    });
    let out = o.run(&["run", "--bundle", o.bundle.to_str().unwrap(), &id]);
    assert_ok(&out, "run with a user namespace");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines[0], "0", "{text}");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", "300000", "65536"]);
    // The root's files are the image's root's inside (an idmapped root),
    // and what root writes there is the image's root's on the host too.
    assert_eq!(lines[2], "0:0");
    let meta = fs::metadata(o.bundle.join("rootfs/ok")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
}
