//! podman (4.3) as the real client of the runtime under test, by
//! `podman --runtime PATH`: podman and conmon call it the way they call
//! runc (create with --pid-file and, for -t, --console-socket; start; kill;
//! pause and resume; exec --process --detach; delete --force). Every
//! scenario runs with runc first and then with the runtime under test, and
//! compares what a user sees: output, exit codes, logs, states, a pty, a
//! published port, a memory limit, a frozen process.
//!
//! Each test has a podman store of its own (`--root`, `--runroot` and
//! `--tmpdir` below its temporary folder, cgroupfs, events in a file) with
//! a busybox image imported from the host's static busybox, and removes its
//! containers by name. Only the published-port test uses podman's network
//! (netavark's default bridge); the others run with `--network none`, as
//! stores that run side by side would hand out the same addresses.
//!
//! The runtime under test is the built `cc-oci`; `CC_OCI_UNDER_TEST=PATH`
//! replaces it (a developer aid: `CC_OCI_UNDER_TEST=/usr/bin/runc` checks
//! the tests themselves). See tests/support/oci.rs.

use std::time::{Duration, Instant};

use support::oci::{self, Named, Podman, Runtime};
use support::{assert_ok, stderr, stdout, wait_for, Env};

/// A test's podman store; dropped before the env that holds its folder.
struct World {
    pm: Podman,
    _env: Env,
}

fn world() -> Option<World> {
    if !support::require_root() || !oci::tools(&["podman", "conmon", "runc"]) {
        return None;
    }
    let env = Env::new();
    Some(World {
        pm: Podman::new(&env),
        _env: env,
    })
}

/// `podman run --network none ARGS...` for container `n`, image first.
fn run(pm: &Podman, rt: &Runtime, n: &Named, flags: &[&str], cmd: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--network", "none", "--name", &n.name];
    args.extend_from_slice(flags);
    args.push(&pm.image);
    args.extend_from_slice(cmd);
    pm.run(rt, &args)
}

/// Whether podman still knows container `name`.
fn exists(pm: &Podman, rt: &Runtime, name: &str) -> bool {
    pm.run(rt, &["container", "exists", name]).status.success()
}

/// `podman logs NAME`: stdout and stderr of the container, in one.
fn logs(pm: &Podman, rt: &Runtime, name: &str) -> String {
    let out = pm.run(rt, &["logs", name]);
    assert_ok(&out, &format!("podman logs {name}"));
    stdout(&out) + &stderr(&out)
}

#[test]
fn run_rm_prints_and_exits_with_the_code() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let a = Named::new(pm, &rt, "hi");
        let hi = run(pm, &rt, &a, &["--rm"], &["echo", "hi"]);
        let b = Named::new(pm, &rt, "three");
        let three = run(
            pm,
            &rt,
            &b,
            &["--rm"],
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
        );
        let got = (
            stdout(&hi),
            hi.status.code(),
            stdout(&three),
            stderr(&three),
            three.status.code(),
        );
        assert_eq!(
            got,
            (
                "hi\n".into(),
                Some(0),
                "out\n".into(),
                "err\n".into(),
                Some(3)
            ),
            "{l}: podman run --rm: stdout, exit code; stdout, stderr, exit code"
        );
        assert!(!exists(pm, &rt, &a.name), "{l}: --rm left {}", a.name);
        assert!(!exists(pm, &rt, &b.name), "{l}: --rm left {}", b.name);
        seen.push(got);
    }
    assert_eq!(
        seen[0], seen[1],
        "podman run under cc-oci differs from runc"
    );
}

#[test]
fn missing_command_exits_127_and_not_executable_126() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        // podman reads the runtime's create error: "executable file not
        // found" or "no such file or directory" make 127, "permission
        // denied" 126.
        let mut codes = Vec::new();
        for cmd in ["no-such-command", "/no/such/path", "/etc/passwd"] {
            let n = Named::new(pm, &rt, "bad");
            codes.push(run(pm, &rt, &n, &["--rm"], &[cmd]).status.code());
        }
        assert_eq!(codes, [Some(127), Some(127), Some(126)], "{}", rt.label);
        seen.push(codes);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn run_d_logs_kill_stop_start_rm() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let script = "trap 'echo bye; exit 0' TERM; trap 'echo usr1' USR1; echo started; \
                  while :; do sleep 0.1; done";
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "d");
        let out = run(pm, &rt, &n, &["-d"], &["sh", "-c", script]);
        assert_ok(&out, &format!("{l}: podman run -d"));
        let id = stdout(&out).trim().to_string();
        assert!(support::is_id(&id), "{l}: run -d printed {id:?}");
        wait_for(oci::T, "started in the logs", || {
            logs(pm, &rt, &n.name).contains("started").then_some(())
        });
        assert_eq!(
            pm.inspect(&rt, "{{.State.Status}}", &n.name),
            "running",
            "{l}"
        );

        pm.ok(&rt, &["kill", "-s", "USR1", &n.name]);
        wait_for(oci::T, "usr1 in the logs", || {
            logs(pm, &rt, &n.name).contains("usr1").then_some(())
        });

        let t0 = Instant::now();
        pm.ok(&rt, &["stop", "-t", "10", &n.name]);
        let took = t0.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "{l}: stop took {took:?}: SIGTERM did not end the container"
        );
        let after_stop = (
            logs(pm, &rt, &n.name),
            pm.inspect(&rt, "{{.State.Status}} {{.State.ExitCode}}", &n.name),
        );
        assert_eq!(
            after_stop,
            ("started\nusr1\nbye\n".into(), "exited 0".into()),
            "{l}: logs and state after stop"
        );

        // Started again: the runtime is asked to create the same id anew.
        pm.ok(&rt, &["start", &n.name]);
        wait_for(oci::T, "a second start in the logs", || {
            (logs(pm, &rt, &n.name).matches("started").count() == 2).then_some(())
        });
        pm.ok(&rt, &["stop", "-t", "10", &n.name]);
        pm.ok(&rt, &["rm", &n.name]);
        assert!(!exists(pm, &rt, &n.name), "{l}: rm left {}", n.name);
        seen.push(after_stop);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn exec_output_exit_code_env_user_and_tty() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "exec");
        assert_ok(&run(pm, &rt, &n, &["-d"], &["sleep", "1000"]), l);
        let name = n.name.as_str();

        let out = pm.run(
            &rt,
            &[
                "exec",
                name,
                "sh",
                "-c",
                "echo inexec; echo oops >&2; cat /proc/1/comm; exit 4",
            ],
        );
        let plain = (stdout(&out), stderr(&out), out.status.code());
        assert_eq!(
            plain,
            ("inexec\nsleep\n".into(), "oops\n".into(), Some(4)),
            "{l}: podman exec (pid 1 is the container's sleep)"
        );

        let out = pm.run(
            &rt,
            &[
                "exec",
                "-e",
                "FOO=bar",
                "-w",
                "/tmp",
                "-u",
                "1000:100",
                name,
                "sh",
                "-c",
                "echo $FOO; pwd; id -u; id -g",
            ],
        );
        assert_ok(&out, &format!("{l}: podman exec -e -w -u"));
        assert_eq!(stdout(&out), "bar\n/tmp\n1000\n100\n", "{l}");

        let missing = pm
            .run(&rt, &["exec", name, "no-such-command"])
            .status
            .code();
        assert_eq!(missing, Some(127), "{l}: exec of a missing command");

        let mut cmd = pm.cmd(Some(&rt));
        cmd.args(["exec", "-it", name, "sh", "-c", "tty; stty size; exit 2"]);
        let (shown, code) = oci::in_pty(&cmd, 33, 101, "");
        let tty = shown.lines().any(|x| is_pts(x.trim()));
        assert!(
            tty && shown.lines().any(|x| x.trim() == "33 101") && code == Some(2),
            "{l}: podman exec -it showed {shown:?} and exited {code:?}; wanted /dev/pts/N, 33 101, 2"
        );
        assert_eq!(pm.inspect(&rt, "{{.State.Status}}", name), "running", "{l}");
        seen.push((plain, missing));
    }
    assert_eq!(seen[0], seen[1]);
}

/// A line that ends in `/dev/pts/N` (the pty may show `^@` before it, the
/// echo of the end of input that `script` passes on).
fn is_pts(s: &str) -> bool {
    s.rfind("/dev/pts/")
        .map(|i| &s[i + "/dev/pts/".len()..])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn run_it_through_a_pty() {
    let Some(w) = world() else { return };
    if !oci::tools(&["script"]) {
        return;
    }
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "it");
        let mut cmd = pm.cmd(Some(&rt));
        // conmon sets the window size once the container has started; a
        // command that asks at once may see 0x0 (busybox stty then fails),
        // whichever the runtime — cc-oci starts it sooner than runc, so it
        // showed under load. The size must still arrive: wait for it (5 s).
        let script = "tty; i=0; until s=$(stty size 2>/dev/null) && [ \"$s\" != '0 0' ]; do \
                      i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.05; done; echo \"$s\"; exit 5";
        cmd.args(["run", "-it", "--rm", "--network", "none", "--name", &n.name])
            .arg(&pm.image)
            .args(["sh", "-c", script]);
        let (shown, code) = oci::in_pty(&cmd, 33, 101, "");
        let lines: Vec<&str> = shown.lines().map(str::trim).collect();
        assert!(
            lines.iter().any(|x| is_pts(x)) && lines.contains(&"33 101") && code == Some(5),
            "{l}: podman run -it showed {shown:?} and exited {code:?}; wanted /dev/pts/N, 33 101, 5"
        );

        // Typing into an interactive shell.
        let n = Named::new(pm, &rt, "typed");
        let mut cmd = pm.cmd(Some(&rt));
        cmd.args(["run", "-it", "--rm", "--network", "none", "--name", &n.name])
            .arg(&pm.image)
            .arg("sh");
        let (shown, typed) = oci::in_pty(&cmd, 24, 80, "echo typed-$((6*7))\nexit 6\n");
        assert!(
            shown.lines().any(|x| x.trim() == "typed-42") && typed == Some(6),
            "{l}: podman run -it sh, typed into: showed {shown:?}, exited {typed:?}"
        );
        seen.push((code, typed));
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn run_p_publishes_a_port() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    // One runtime at a time: both use netavark's default bridge.
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "web");
        let port = support::free_port();
        let publish = format!("{port}:80");
        let out = pm.run(
            &rt,
            &[
                "run",
                "-d",
                "--name",
                &n.name,
                "-p",
                &publish,
                &pm.image,
                "sh",
                "-c",
                "mkdir -p /www && echo hello-from-the-container > /www/index.html && \
                 exec httpd -f -p 80 -h /www",
            ],
        );
        assert_ok(&out, &format!("{l}: podman run -d -p {publish}"));
        let url = format!("http://127.0.0.1:{port}/");
        let page = wait_for(Duration::from_secs(30), &format!("{l}: {url}"), || {
            support::http_get(None, &url)
        });
        let body = page
            .rsplit("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            body, "hello-from-the-container\n",
            "{l}: GET {url}:\n{page}"
        );
        pm.ok(&rt, &["rm", "-f", "-t", "0", &n.name]);
        wait_for(
            Duration::from_secs(10),
            &format!("{l}: {url} to close"),
            || support::http_get(None, &url).is_none().then_some(()),
        );
        seen.push(body);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn run_memory_limits_the_cgroup() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        // What the container sees of its own cgroup.
        let n = Named::new(pm, &rt, "mem");
        let out = run(
            pm,
            &rt,
            &n,
            &["--rm", "--memory", "64m"],
            &[
                "sh",
                "-c",
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || \
                 cat /sys/fs/cgroup/memory.max",
            ],
        );
        assert_ok(&out, &format!("{l}: podman run --memory 64m"));
        let inside = stdout(&out);
        assert_eq!(inside, "67108864\n", "{l}: the limit seen inside");

        // What the host sees, and that the cgroup goes with the container.
        let n = Named::new(pm, &rt, "memhost");
        assert_ok(
            &run(pm, &rt, &n, &["-d", "--memory", "64m"], &["sleep", "1000"]),
            l,
        );
        let pid: i32 = pm.inspect(&rt, "{{.State.Pid}}", &n.name).parse().unwrap();
        let host = oci::host_memory_limit(pid);
        assert_eq!(
            host.as_deref(),
            Some("67108864"),
            "{l}: the limit on the host"
        );
        let dir = oci::host_cgroup(pid, "memory").unwrap();
        pm.ok(&rt, &["rm", "-f", "-t", "0", &n.name]);
        wait_for(
            Duration::from_secs(10),
            &format!("{l}: {} to go", dir.display()),
            || (!dir.exists()).then_some(()),
        );

        // The limit holds: 64 MiB in a shell variable is more than 16m.
        let n = Named::new(pm, &rt, "oom");
        let out = run(
            pm,
            &rt,
            &n,
            &["--rm", "--memory", "16m", "--memory-swap", "16m"],
            &[
                "sh",
                "-c",
                "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}",
            ],
        );
        let oom = (stdout(&out), out.status.code());
        assert_eq!(oom, (String::new(), Some(137)), "{l}: over the limit");
        seen.push((inside, host, oom));
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "pause");
        let counter = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done";
        assert_ok(&run(pm, &rt, &n, &["-d"], &["sh", "-c", counter]), l);
        let count = || logs(pm, &rt, &n.name).lines().count();
        wait_for(oci::T, "the counter to count", || {
            (count() >= 3).then_some(())
        });

        pm.ok(&rt, &["pause", &n.name]);
        let paused = pm.inspect(&rt, "{{.State.Status}}", &n.name);
        // What the counter printed before the freeze reaches the log
        // through conmon: wait until the count holds between two reads.
        let mut last = count();
        let n1 = wait_for(oci::T, &format!("{l}: the log to settle"), || {
            let now = count();
            let settled = now == last;
            last = now;
            settled.then_some(now)
        });
        // A fixed wait on purpose: that the count does not move while
        // paused is what is tested.
        std::thread::sleep(Duration::from_millis(1200));
        let n2 = count();
        let frozen = n1 == n2;
        assert!(
            frozen,
            "{l}: the counter went from {n1} to {n2} while paused"
        );

        pm.ok(&rt, &["unpause", &n.name]);
        let resumed = pm.inspect(&rt, "{{.State.Status}}", &n.name);
        wait_for(
            Duration::from_secs(10),
            &format!("{l}: counting again"),
            || (count() > n2 + 2).then_some(()),
        );
        let got = (paused, frozen, resumed);
        assert_eq!(got, ("paused".into(), true, "running".into()), "{l}");
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn rm_f_removes_a_running_container() {
    let Some(w) = world() else { return };
    let pm = &w.pm;
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let l = rt.label;
        let n = Named::new(pm, &rt, "rmf");
        // sleep as pid 1 ignores SIGTERM: rm -f kills it after the stop
        // timeout, here 2 s.
        let out = run(
            pm,
            &rt,
            &n,
            &["-d", "--stop-timeout", "2"],
            &["sleep", "1000"],
        );
        assert_ok(&out, l);
        let id = stdout(&out).trim().to_string();
        let pid: i32 = pm.inspect(&rt, "{{.State.Pid}}", &n.name).parse().unwrap();
        assert!(oci::alive(pid), "{l}: no process {pid}");
        let cgroup = oci::host_cgroup(pid, "memory").unwrap();

        let t0 = Instant::now();
        let out = pm.run(&rt, &["rm", "-f", &n.name]);
        let took = t0.elapsed();
        assert_ok(&out, &format!("{l}: podman rm -f"));
        assert_eq!(stdout(&out).trim(), n.name, "{l}: rm -f prints the name");
        assert!(took < Duration::from_secs(10), "{l}: rm -f took {took:?}");
        assert!(!exists(pm, &rt, &n.name), "{l}: {} still there", n.name);
        wait_for(
            Duration::from_secs(10),
            &format!("{l}: pid {pid} to end"),
            || (!oci::alive(pid)).then_some(()),
        );
        wait_for(
            Duration::from_secs(10),
            &format!("{l}: its cgroup to go"),
            || (!cgroup.exists()).then_some(()),
        );
        // The runtime has forgotten it too (podman uses its default root).
        let state = support::run_timeout(
            std::process::Command::new(&rt.path)
                .args(["state", &id])
                .stdin(std::process::Stdio::null()),
            oci::T,
        );
        assert!(
            !state.status.success(),
            "{l}: the runtime still has {id}: {}",
            stdout(&state)
        );
        seen.push(stdout(&out).trim() == n.name);
    }
    assert_eq!(seen[0], seen[1]);
}
