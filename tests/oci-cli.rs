//! cc-oci's command line where runc's callers and runc's own tests rely
//! on it (issue 17): `kill ID 0` and `kill --all` of a stopped container,
//! exec into a created or paused container, `exec --preserve-fds` and
//! `--cgroup`, `-v`, one-line JSON from `list` and `ps`, `events`,
//! `--debug`, create in a frozen cgroup, a create killed at any step, the
//! terminal's owner and size, and the hooks that run inside the
//! container. Each scenario runs under runc first, then under cc-oci, and
//! asserts the same of both, unless it says why not.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::oci::{self, Oci, Runtime};
use support::{assert_code, assert_ok, root_or_skip, stderr, stdout, wait_for, Env};

/// The runtime with a state root of its own, and a bundle for `args`.
fn setup(env: &Env, rt: &Runtime, name: &str, args: &[&str]) -> (Oci, PathBuf) {
    let oci = Oci::new(rt, &env.dir.join(format!("state-{name}-{}", rt.label)));
    let b = oci::bundle(&env.dir.join(format!("{name}-{}", rt.label)), args);
    (oci, b)
}

/// Creates `id` from bundle `b`, its output to a file in the env.
fn create(env: &Env, oci: &Oci, b: &Path, id: &str) {
    let out = oci.create_to(b, id, &[], &env.dir.join(format!("{id}.out")));
    assert_ok(&out, &format!("{} create", oci.rt.label));
}

fn runc_here() -> bool {
    oci::tools(&["runc"])
}

#[test]
fn kill_zero_checks_alive_and_kill_all_of_a_stopped_container_succeeds() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(&env, &rt, "kill", &["sleep", "100"]);
        let id = oci::unique("kill");
        create(&env, &oci, &b, &id);
        oci.ok(&["kill", &id, "0"]);
        oci.ok(&["start", &id]);
        oci.ok(&["kill", &id, "0"]);
        oci.ok(&["kill", &id, "KILL"]);
        oci.wait_status(&id, "stopped");
        let out = oci.run(&["kill", &id, "0"]);
        assert_code(
            &out,
            1,
            &format!("{}: kill 0 of a stopped container", rt.label),
        );
        assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
        let out = oci.run(&["kill", &id, "KILL"]);
        assert_code(
            &out,
            1,
            &format!("{}: kill of a stopped container", rt.label),
        );
        oci.ok(&["kill", "--all", &id, "KILL"]);
        oci.ok(&["delete", &id]);
    }
}

#[test]
fn exec_into_created_and_paused_containers() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(&env, &rt, "exec", &["sleep", "100"]);
        let id = oci::unique("exec");
        create(&env, &oci, &b, &id);
        // Created, not started: runc lets exec in, and the container
        // stays created.
        assert_eq!(oci.ok(&["exec", &id, "echo", "in-created"]), "in-created\n");
        assert_eq!(oci.status(&id).as_deref(), Some("created"), "{}", rt.label);
        oci.ok(&["start", &id]);
        oci.ok(&["pause", &id]);
        let out = oci.run(&["exec", &id, "true"]);
        assert_code(
            &out,
            255,
            &format!("{}: exec into a paused container", rt.label),
        );
        assert!(
            stderr(&out)
                .contains("cannot exec in a paused container (use --ignore-paused to override)"),
            "{}: {}",
            rt.label,
            stderr(&out)
        );
        // --ignore-paused: the command starts frozen and runs on resume.
        let child = oci
            .cmd()
            .args(["exec", "--ignore-paused", &id, "echo", "after-resume"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(
            Duration::from_secs(15),
            "the exec's process in the group",
            || {
                let ps = oci.ok(&["ps", "--format", "json", &id]);
                let pids: Vec<i64> = serde_json::from_str(ps.trim()).unwrap();
                (pids.len() > 1).then_some(())
            },
        );
        oci.ok(&["resume", &id]);
        let out = support::wait_child_timeout(child, oci::T, "exec --ignore-paused");
        assert_ok(&out, &format!("{}: exec --ignore-paused", rt.label));
        assert_eq!(stdout(&out), "after-resume\n");
    }
}

#[test]
fn exec_preserves_fds_and_joins_a_sub_cgroup() {
    root_or_skip!();
    let env = Env::new();
    let rt = oci::under_test();
    let (oci, b) = setup(&env, &rt, "fds", &["sleep", "100"]);
    let id = oci::unique("fds");
    create(&env, &oci, &b, &id);
    oci.ok(&["start", &id]);
    let secret = env.dir.join("fd3");
    fs::write(&secret, "passed-on\n").unwrap();
    let f = fs::File::open(&secret).unwrap();
    let raw = f.as_raw_fd();
    let mut cmd = oci.cmd();
    cmd.args(["exec", "--preserve-fds", "1", &id, "cat", "/proc/self/fd/3"]);
    // SAFETY: dup2 in the child before exec, onto fd 3.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            let rc = match raw {
                3 => libc::fcntl(3, libc::F_SETFD, 0),
                _ => libc::dup2(raw, 3),
            };
            match rc < 0 {
                true => Err(std::io::Error::last_os_error()),
                false => Ok(()),
            }
        });
    }
    let out = support::run_timeout(&mut cmd, oci::T);
    assert_ok(&out, "exec --preserve-fds 1");
    assert_eq!(stdout(&out), "passed-on\n");
    // Without it, fd 3 does not reach the command.
    let out = oci.run(&["exec", &id, "cat", "/proc/self/fd/3"]);
    assert!(!out.status.success(), "fd 3 leaked: {}", stdout(&out));
    // --cgroup: an existing sub-group of the container's, in every
    // controller; a missing one and runc's per-controller form are
    // refused.
    let groups: Vec<PathBuf> = group_dirs(&id);
    assert!(!groups.is_empty(), "no cgroup folders for {id}");
    let _subs = SubGroups(groups.iter().map(|g| g.join("sub")).collect());
    for g in &_subs.0 {
        fs::create_dir(g).unwrap();
    }
    let out = oci.run(&["exec", "--cgroup", "sub", &id, "cat", "/proc/self/cgroup"]);
    assert_ok(&out, "exec --cgroup sub");
    assert!(
        stdout(&out)
            .lines()
            .all(|l| l.ends_with("/sub") || !l.contains(&id)),
        "{}",
        stdout(&out)
    );
    let out = oci.run(&["exec", "--cgroup", "nosuch", &id, "true"]);
    assert_code(&out, 255, "exec --cgroup of a missing group");
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
    let out = oci.run(&["exec", "--cgroup", "memory:sub", &id, "true"]);
    assert_code(&out, 255, "exec --cgroup CONTROLLER:PATH");
    assert!(stderr(&out).contains("per-controller"), "{}", stderr(&out));
    // cc-oci's delete removes the container's group, not groups made in
    // it by others: this test's go first.
    drop(_subs);
    oci.ok(&["delete", "--force", &id]);
}

/// The folders of cc-oci's default group `cc-oci/ID`: one per v1
/// hierarchy, or the v2 one.
fn group_dirs(id: &str) -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let v2 = root.join("cc-oci").join(id);
    if v2.is_dir() {
        return vec![v2];
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("cc-oci").join(id))
        // The hybrid host's v2 `unified` group too, where cc-oci places
        // the container as runc does.
        .filter(|p| p.is_dir())
        .collect();
    // Co-mounted controllers (cpu,cpuacct) appear under several names.
    dirs.sort_by_key(|p| fs::canonicalize(p).unwrap_or_default());
    dirs.dedup_by_key(|p| fs::canonicalize(&*p).unwrap_or_default());
    dirs
}

/// Sub-groups a test made, removed (emptied by then) on drop.
struct SubGroups(Vec<PathBuf>);

impl Drop for SubGroups {
    fn drop(&mut self) {
        for g in &self.0 {
            let _ = fs::remove_dir(g);
        }
    }
}

#[test]
fn version_and_one_line_json_as_runc() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let out = Command::new(&rt.path).arg("-v").output().unwrap();
        assert_ok(&out, &format!("{} -v", rt.label));
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains(" version "), "{}: {text}", rt.label);
        assert!(lines.contains(&"spec: 1.0.2-dev"), "{}: {text}", rt.label);
        let (oci, b) = setup(&env, &rt, "json", &["sleep", "100"]);
        let id = oci::unique("json");
        create(&env, &oci, &b, &id);
        let list = oci.ok(&["list", "--format", "json"]);
        assert_eq!(list.lines().count(), 1, "{}: {list}", rt.label);
        let v: Value = serde_json::from_str(&list).unwrap();
        assert_eq!(v[0]["id"], id.as_str());
        assert_eq!(v[0]["owner"], "root", "{}: {list}", rt.label);
        assert_eq!(v[0]["status"], "created");
        let table = oci.ok(&["list"]);
        let row = table.lines().find(|l| l.starts_with(&id)).unwrap();
        assert!(row.trim_end().ends_with("root"), "{}: {table}", rt.label);
        let ps = oci.ok(&["ps", "--format", "json", &id]);
        assert_eq!(ps.lines().count(), 1, "{}: {ps}", rt.label);
        let pids: Vec<i64> = serde_json::from_str(&ps).unwrap();
        assert_eq!(pids.len(), 1, "{}: {ps}", rt.label);
    }
}

#[test]
fn debug_lines_go_to_stderr_without_a_log() {
    root_or_skip!();
    let env = Env::new();
    let oci = Oci::new(&oci::under_test(), &env.dir.join("state"));
    let out = oci.run(&["--debug", "list", "-q"]);
    assert_ok(&out, "--debug list");
    assert!(stderr(&out).contains("level=debug"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "debug lines are not data");
}

#[test]
fn events_print_stats_and_oom_kills_as_runc() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(&env, &rt, "events", &["sleep", "100"]);
        oci::edit_spec(&b, |s| {
            s["linux"]["resources"]["memory"] = json!({"limit": 32 << 20, "swap": 32 << 20});
        });
        let id = oci::unique("events");
        create(&env, &oci, &b, &id);
        oci.ok(&["start", &id]);
        let text = oci.ok(&["events", "--stats", &id]);
        assert_eq!(text.lines().count(), 1, "{}: {text}", rt.label);
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["type"], "stats", "{}: {e}", rt.label);
        assert_eq!(e["id"], id.as_str());
        let d = &e["data"];
        assert!(
            d["cpu"]["usage"]["total"].as_u64().unwrap() > 0,
            "{}: {d}",
            rt.label
        );
        assert!(
            d["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
            "{}: {d}",
            rt.label
        );
        assert_eq!(d["memory"]["usage"]["limit"], 32 << 20, "{}: {d}", rt.label);
        assert!(
            d["pids"]["current"].as_u64().unwrap() >= 1,
            "{}: {d}",
            rt.label
        );
        // The stream: an oom event when a process of the container runs
        // out of memory (stats would come an hour later).
        let mut watch = oci
            .cmd()
            .args(["events", "--interval", "1h", &id])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
        // The watch is set up once `events` holds its notification: an
        // eventfd and memory.oom_control (v1), an inotify (v2).
        wait_for(Duration::from_secs(15), "events to watch", || {
            watching(watch.id()).then_some(())
        });
        let out = oci.run(&["exec", &id, "tail", "/dev/zero"]);
        assert!(
            !out.status.success(),
            "{}: tail /dev/zero ended well",
            rt.label
        );
        let oom: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(oom, json!({"type": "oom", "id": id}), "{}", rt.label);
        let _ = watch.kill();
        let _ = watch.wait();
        oci.ok(&["delete", "--force", &id]);
    }
}

/// Whether process `pid` holds what an OOM watch needs: an eventfd and
/// memory.oom_control open (cgroup v1), or an inotify fd (v2).
fn watching(pid: u32) -> bool {
    let links: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .map(|l| l.to_string_lossy().into_owned())
        .collect();
    let has = |f: &dyn Fn(&str) -> bool| links.iter().any(|l| f(l));
    (has(&|l| l == "anon_inode:[eventfd]") && has(&|l| l.ends_with("/memory.oom_control")))
        || has(&|l| l == "anon_inode:inotify")
}

/// A group `name` in the freezer (v1) or the v2 hierarchy, made frozen;
/// thawed and removed on drop with whatever a runtime made beside it.
struct Frozen {
    name: String,
}

impl Frozen {
    fn new(name: &str) -> Frozen {
        let f = Frozen { name: name.into() };
        let v1 = Path::new("/sys/fs/cgroup/freezer");
        match v1.is_dir() {
            true => {
                fs::create_dir(v1.join(name)).unwrap();
                fs::write(v1.join(name).join("freezer.state"), "FROZEN").unwrap();
            }
            false => {
                let d = Path::new("/sys/fs/cgroup").join(name);
                fs::create_dir(&d).unwrap();
                fs::write(d.join("cgroup.freeze"), "1").unwrap();
            }
        }
        f
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let v1 = Path::new("/sys/fs/cgroup/freezer").join(&self.name);
        let _ = fs::write(v1.join("freezer.state"), "THAWED");
        let _ = fs::write(
            Path::new("/sys/fs/cgroup")
                .join(&self.name)
                .join("cgroup.freeze"),
            "0",
        );
        for e in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let _ = fs::remove_dir(e.path().join(&self.name));
        }
        let _ = fs::remove_dir(Path::new("/sys/fs/cgroup").join(&self.name));
    }
}

#[test]
fn create_in_a_frozen_cgroup_is_refused() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let name = oci::unique("frozen");
        let _frozen = Frozen::new(&name);
        let (oci, b) = setup(&env, &rt, "frozen", &["true"]);
        oci::edit_spec(&b, |s| {
            s["linux"]["cgroupsPath"] = json!(format!("/{name}"))
        });
        let id = oci::unique("frozen");
        let out = oci.create_to(&b, &id, &[], &env.dir.join(format!("{id}.out")));
        assert_code(&out, 1, &format!("{}: create in a frozen cgroup", rt.label));
        let text = fs::read_to_string(env.dir.join(format!("{id}.out"))).unwrap();
        assert!(
            text.contains("container's cgroup unexpectedly frozen"),
            "{}: {text}",
            rt.label
        );
        assert!(oci.state(&id).is_none(), "{}: {id} left", rt.label);
        assert!(
            !oci.root.join(&id).exists(),
            "{}: state folder left",
            rt.label
        );
    }
}

#[test]
fn a_killed_create_leaves_what_delete_removes() {
    root_or_skip!();
    let env = Env::new();
    let rt = oci::under_test();
    let (oci, b) = setup(&env, &rt, "killed", &["sleep", "100"]);
    let points = [
        "oci.create.recorded",
        "oci.create.cgroup",
        "oci.create.spawned",
    ];
    for (n, point) in points.iter().enumerate() {
        let id = oci::unique("killed");
        oci.track(&id);
        let log = env.dir.join(format!("{id}.out"));
        let child = oci
            .cmd()
            .env("CC_FAILPOINT", point)
            .args(["create", "--bundle", b.to_str().unwrap(), &id])
            .stdout(fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = support::wait_child_timeout(child, oci::T, "create");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGKILL),
            "{point}: not killed there"
        );
        // list shows it, stopped; delete (and delete -f) removes all of it.
        assert!(oci.list_q().contains(&id), "{point}: not listed");
        assert_eq!(oci.status(&id).as_deref(), Some("stopped"), "{point}");
        let verb: &[&str] = match n % 2 {
            0 => &["delete"],
            _ => &["delete", "--force"],
        };
        oci.ok(&[verb, &[id.as_str()]].concat());
        assert!(!oci.root.join(&id).exists(), "{point}: state folder left");
        assert!(group_dirs(&id).is_empty(), "{point}: cgroup left");
        // The id is free again.
        create(&env, &oci, &b, &id);
        oci.ok(&["delete", "--force", &id]);
    }
    // Killed between making the folder and its first write: the folder
    // alone, which delete removes.
    let id = oci::unique("killed");
    fs::create_dir(oci.root.join(&id)).unwrap();
    oci.ok(&["delete", &id]);
    assert!(!oci.root.join(&id).exists());
    create(&env, &oci, &b, &id);
    oci.ok(&["delete", "--force", &id]);
}

#[test]
fn the_terminal_belongs_to_the_user_and_has_the_console_size() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(
            &env,
            &rt,
            "tty",
            &[
                "sh",
                "-c",
                "stat -c owner=%u:%g $(tty); stty size; echo end-of-test",
            ],
        );
        oci::edit_spec(&b, |s| {
            s["process"]["terminal"] = json!(true);
            s["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            s["process"]["consoleSize"] = json!({"height": 33, "width": 111});
        });
        let id = oci::unique("tty");
        let sock = env.dir.join(format!("console-{}.sock", rt.label));
        let listener = UnixListener::bind(&sock).unwrap();
        let s = sock.to_str().unwrap().to_string();
        let child = {
            oci.track(&id);
            oci.cmd()
                .args([
                    "create",
                    "--console-socket",
                    &s,
                    "--bundle",
                    b.to_str().unwrap(),
                    &id,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (conn, _) = listener.accept().unwrap();
        let master = oci::receive_fd(&conn).expect("a pty master");
        assert_ok(
            &support::wait_child_timeout(child, oci::T, "create"),
            "create",
        );
        oci.ok(&["start", &id]);
        let mut got = Vec::new();
        let mut f = fs::File::from(master);
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("end-of-test") {
            match std::io::Read::read(&mut f, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains("owner=1000:5"), "{}: {text}", rt.label);
        assert!(text.contains("33 111"), "{}: {text}", rt.label);
    }
}

#[test]
fn container_hooks_run_inside_at_their_points() {
    root_or_skip!();
    if !runc_here() {
        return;
    }
    let env = Env::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(&env, &rt, "hooks", &["sh", "-c", "cat /run-marker"]);
        let rootfs = b.join("rootfs");
        let host = env.dir.join(format!("hooks-{}", rt.label));
        fs::create_dir_all(&host).unwrap();
        // createContainer: its path and the files it names are the host's
        // (before pivot_root), its mount namespace the container's.
        let create_sh = format!(
            "cat > {h}/create.json; readlink /proc/self/ns/mnt > {h}/create.mnt; \
             echo made-by-createContainer > {r}/run-marker",
            h = host.display(),
            r = rootfs.display()
        );
        oci::edit_spec(&b, |s| {
            s["root"]["readonly"] = json!(false);
            s["hooks"] = json!({
                "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", create_sh]}],
                // startContainer: its path resolves in the container.
                "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /start.json"]}],
            });
        });
        let id = oci::unique("hooks");
        oci.track(&id);
        let out = oci.run(&["run", "--bundle", b.to_str().unwrap(), &id]);
        assert_ok(&out, &format!("{} run with container hooks", rt.label));
        assert_eq!(stdout(&out), "made-by-createContainer\n", "{}", rt.label);
        let ours = fs::read_link("/proc/self/ns/mnt").unwrap();
        let theirs = fs::read_to_string(host.join("create.mnt")).unwrap();
        assert_ne!(
            theirs.trim(),
            ours.to_str().unwrap(),
            "{}: createContainer on the host's mount ns",
            rt.label
        );
        let c: Value =
            serde_json::from_slice(&fs::read(host.join("create.json")).unwrap()).unwrap();
        assert_eq!(
            (c["id"].as_str(), c["status"].as_str()),
            (Some(id.as_str()), Some("creating")),
            "{}: {c}",
            rt.label
        );
        let s: Value =
            serde_json::from_slice(&fs::read(rootfs.join("start.json")).unwrap()).unwrap();
        assert_eq!(
            (s["id"].as_str(), s["status"].as_str()),
            (Some(id.as_str()), Some("created")),
            "{}: {s}",
            rt.label
        );
        // A failing createContainer hook fails the create and leaves
        // nothing; a failing startContainer hook stops the container
        // before its command runs.
        oci::edit_spec(&b, |s| {
            s["hooks"] = json!({"createContainer": [{"path": "/bin/false"}]})
        });
        let id2 = oci::unique("hooks");
        let out = oci.create_to(&b, &id2, &[], &env.dir.join(format!("{id2}.out")));
        assert_code(
            &out,
            1,
            &format!("{}: failing createContainer hook", rt.label),
        );
        assert!(oci.state(&id2).is_none(), "{}: {id2} left", rt.label);
        oci::edit_spec(&b, |s| {
            s["hooks"] = json!({"startContainer": [{"path": "/bin/false"}]});
            s["process"]["args"] = json!(["touch", "/command-ran"]);
        });
        let id3 = oci::unique("hooks");
        create(&env, &oci, &b, &id3);
        let _ = oci.run(&["start", &id3]);
        oci.wait_status(&id3, "stopped");
        assert!(
            !rootfs.join("command-ran").exists(),
            "{}: the command ran",
            rt.label
        );
        oci.ok(&["delete", &id3]);
    }
}
