//! docker's run flags people type, each seen working from inside the
//! container (or by cc-stop, cc-ps, cc-inspect), and each refused in one
//! line for a bad value with nothing left behind: labels and label files,
//! --add-host, --dns*, --ulimit, --stop-signal/--stop-timeout, --sysctl,
//! --shm-size, --group-add, --platform, -a and --sig-proxy, and the cgroup
//! ones (--memory-reservation, --oom-kill-disable, --cpuset-*,
//! --cgroup-parent, --device-cgroup-rule). Run in the v2 VM too
//! (tests/vm/suites).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, root_or_skip, run_timeout,
    stderr, stdout, wait_child_timeout, Env, NetEnv,
};

/// `cc-run --rm ARGS` in the foreground; its output, asserted ok.
fn run_out(env: &Env, args: &[&str]) -> String {
    let out = run_timeout(
        env.cmd("cc-run").arg("--rm").args(args),
        Duration::from_secs(30),
    );
    assert_ok(&out, &format!("cc-run {args:?}"));
    stdout(&out)
}

/// `cc-run ARGS` is refused with exit 125, one line naming `what`, and
/// leaves nothing behind.
fn refused(env: &Env, args: &[&str], what: &str) {
    let out = run_timeout(env.cmd("cc-run").args(args), Duration::from_secs(30));
    assert_code(&out, 125, &format!("cc-run {args:?}"));
    assert_one_line_error(&out, "cc-run");
    assert!(
        stderr(&out).contains(what),
        "cc-run {args:?}: the error should name {what}: {}",
        stderr(&out)
    );
    assert!(
        env.container_ids().is_empty(),
        "cc-run {args:?} left a record"
    );
    assert_no_leaks(env);
}

fn v2() -> bool {
    !Path::new("/sys/fs/cgroup/memory").exists()
}

#[test]
fn labels_from_files_and_flags_are_shown_and_filtered() {
    root_or_skip!();
    let env = support::env_with_img();
    let file = env.dir.join("labels");
    std::fs::write(&file, "# team labels\ntier=web\n\nowner=ops\nflag\n").unwrap();
    let f = file.to_str().unwrap();
    let id = env.run_d([
        "--label-file",
        f,
        "-l",
        "owner=dev",
        "--name",
        "lab",
        "img",
        "sleep",
        "60",
    ]);
    let labels: serde_json::Value =
        serde_json::from_str(&env.inspect("{{json .Config.Labels}}", "lab")).unwrap();
    // --label comes after the file's, so it wins.
    assert_eq!(
        labels,
        serde_json::json!({"tier": "web", "owner": "dev", "flag": ""})
    );
    let found = env.ok("cc-ps", ["-q", "--no-trunc", "--filter", "label=tier=web"]);
    assert_eq!(found.trim(), id);
    let none = env.ok("cc-ps", ["-q", "--filter", "label=owner=ops"]);
    assert_eq!(none.trim(), "");
    env.ok("cc-rm", ["-f", "lab"]);
    refused(
        &env,
        &["--label-file", "/no/such/labels", "img", "true"],
        "/no/such/labels",
    );
}

#[test]
fn add_host_and_dns_flags_write_the_etc_files() {
    root_or_skip!();
    let env = support::env_with_img();
    let out = run_out(
        &env,
        &[
            "--net",
            "none",
            "--add-host",
            "db:10.1.2.3",
            "--add-host",
            "v6=2001:db8::1",
            "--dns",
            "10.9.9.9",
            "--dns-search",
            "corp.example",
            "--dns-option",
            "ndots:3",
            "img",
            "sh",
            "-c",
            "grep -v -e localhost -e '^127' /etc/hosts; cat /etc/resolv.conf",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"10.1.2.3\tdb"), "{out}");
    assert!(lines.contains(&"2001:db8::1\tv6"), "{out}");
    assert!(lines.contains(&"nameserver 10.9.9.9"), "{out}");
    assert!(lines.contains(&"search corp.example"), "{out}");
    assert!(lines.contains(&"options ndots:3"), "{out}");
    // Only the servers given: the host's are replaced.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("nameserver")).count(),
        1,
        "{out}"
    );
    refused(&env, &["--add-host", "nocolon", "img", "true"], "'nocolon'");
    refused(&env, &["--add-host", "a:not-ip", "img", "true"], "'not-ip'");
    refused(
        &env,
        &[
            "--net",
            "none",
            "--add-host",
            "gw:host-gateway",
            "img",
            "true",
        ],
        "host-gateway",
    );
    refused(&env, &["--dns", "resolver", "img", "true"], "'resolver'");
}

#[test]
fn host_gateway_is_the_bridge_address() {
    root_or_skip!();
    let env = NetEnv::with_img();
    let out = run_out(
        &env,
        &[
            "--add-host",
            "host.docker.internal:host-gateway",
            "img",
            "grep",
            "host.docker.internal",
            "/etc/hosts",
        ],
    );
    assert_eq!(out, format!("{}\thost.docker.internal\n", env.gateway()));
    assert_no_leaks(&env);
}

#[test]
fn ulimits_reach_the_command() {
    root_or_skip!();
    let env = support::env_with_img();
    let out = run_out(
        &env,
        &[
            "--ulimit",
            "nofile=1024:2048",
            "--ulimit",
            "nproc=300",
            "--ulimit",
            "core=-1",
            "img",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn; ulimit -u; ulimit -c",
        ],
    );
    assert_eq!(out, "1024\n2048\n300\nunlimited\n");
    let id = env.run_d(["--ulimit", "core=-1", "img", "true"]);
    assert_eq!(
        env.inspect("{{json .HostConfig.Ulimits}}", &id),
        r#"[{"Hard":-1,"Name":"core","Soft":-1}]"#
    );
    env.ok("cc-rm", ["-f", &id]);
    refused(&env, &["--ulimit", "nofiles=1", "img", "true"], "'nofiles'");
    refused(
        &env,
        &["--ulimit", "nofile=10:5", "img", "true"],
        "nofile=10:5",
    );
}

#[test]
fn stop_signal_and_timeout_are_what_cc_stop_uses() {
    root_or_skip!();
    let env = support::env_with_img();
    env.run_d([
        "--name",
        "sig",
        "--stop-signal",
        "USR1",
        "img",
        "sh",
        "-c",
        "trap 'echo got usr1; exit 3' USR1; while :; do sleep 0.1; done",
    ]);
    assert_eq!(env.inspect("Config.StopSignal", "sig"), "USR1");
    env.wait_for_trap("sig", Signal::SIGUSR1);
    env.ok("cc-stop", ["sig"]);
    assert_eq!(env.inspect("State.ExitCode", "sig"), "3");
    assert!(stdout(&env.logs(["sig"])).contains("got usr1"));
    // sleep as pid 1 ignores SIGTERM: cc-stop waits the container's
    // --stop-timeout, not 10 seconds, before SIGKILL.
    env.run_d([
        "--name",
        "slow",
        "--stop-timeout",
        "1",
        "img",
        "sleep",
        "60",
    ]);
    assert_eq!(env.inspect("Config.StopTimeout", "slow"), "1");
    let t = Instant::now();
    env.ok("cc-stop", ["slow"]);
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    assert_eq!(env.inspect("State.ExitCode", "slow"), "137");
    // -s and -t given win over the container's.
    env.ok("cc-start", ["sig"]);
    env.wait_for_trap("sig", Signal::SIGUSR1);
    env.ok("cc-stop", ["-s", "KILL", "-t", "5", "sig"]);
    assert_eq!(env.inspect("State.ExitCode", "sig"), "137");
    env.ok("cc-rm", ["sig", "slow"]);
    refused(&env, &["--stop-signal", "NOPE", "img", "true"], "'NOPE'");
    refused(&env, &["--stop-timeout", "-5", "img", "true"], "-5");
}

#[test]
fn namespaced_sysctls_are_set_and_others_refused() {
    root_or_skip!();
    let env = support::env_with_img();
    let out = run_out(
        &env,
        &[
            "--net",
            "none",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--sysctl",
            "kernel.shmmni=1234",
            "--sysctl",
            "fs.mqueue.msg_max=20",
            "img",
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
            "/proc/sys/kernel/shmmni",
            "/proc/sys/fs/mqueue/msg_max",
        ],
    );
    assert_eq!(out, "1\n1234\n20\n");
    refused(
        &env,
        &["--sysctl", "kernel.hostname=x", "img", "true"],
        "'kernel.hostname'",
    );
    refused(
        &env,
        &[
            "--net",
            "host",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "img",
            "true",
        ],
        "'net.ipv4.ip_forward'",
    );
    refused(&env, &["--sysctl", "noequals", "img", "true"], "'noequals'");
}

#[test]
fn shm_size_sizes_dev_shm() {
    root_or_skip!();
    let env = support::env_with_img();
    let shm = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["img", "df", "-k", "/dev/shm"]);
        let out = run_out(&env, &args);
        let row = out.lines().nth(1).unwrap_or_default().to_string();
        row.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(shm(&[]), "65536", "docker's default 64m");
    assert_eq!(shm(&["--shm-size", "8m"]), "8192");
    refused(&env, &["--shm-size", "lots", "img", "true"], "'lots'");
}

#[test]
fn group_add_gives_the_command_more_groups() {
    root_or_skip!();
    let env = support::env_with_img();
    let out = run_out(
        &env,
        &[
            "-u",
            "user",
            "--group-add",
            "users",
            "--group-add",
            "4242",
            "img",
            "id",
            "-G",
        ],
    );
    let mut groups: Vec<&str> = out.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, ["100", "1000", "4242"]);
    // cc-exec runs as the container's user with the same groups.
    env.run_d(["--name", "g", "--group-add", "4242", "img", "sleep", "60"]);
    let out = env.ok("cc-exec", ["g", "id", "-G"]);
    assert!(out.split_whitespace().any(|g| g == "4242"), "{out}");
    env.ok("cc-rm", ["-f", "g"]);
    // A name the image's /etc/group lacks fails at the start, as docker.
    refused(
        &env,
        &["--group-add", "wheel", "img", "true"],
        "unable to find group 'wheel'",
    );
}

#[test]
fn platform_mismatch_is_refused() {
    root_or_skip!();
    let env = support::env_with_img();
    let os = env.inspect("Os", "img");
    let arch = env.inspect("Architecture", "img");
    let other = if arch == "arm64" { "amd64" } else { "arm64" };
    let own = format!("{os}/{arch}");
    assert_eq!(
        run_out(&env, &["--platform", &own, "img", "echo", "ok"]),
        "ok\n"
    );
    let wanted = format!("{os}/{other}");
    refused(
        &env,
        &["--platform", &wanted, "img", "true"],
        &format!("wanted {wanted}, actual: {own}"),
    );
    let out = env.run("cc-create", ["--platform", &wanted, "img", "true"]);
    assert_code(&out, 2, "cc-create --platform");
    assert_one_line_error(&out, "cc-create");
    refused(&env, &["--platform", "linux", "img", "true"], "'linux'");
}

#[test]
fn attach_picks_the_streams_relayed() {
    root_or_skip!();
    let env = support::env_with_img();
    let script = "echo to-out; echo to-err >&2";
    let out = run_timeout(
        env.cmd("cc-run")
            .args(["--rm", "-a", "STDERR", "img", "sh", "-c", script]),
        Duration::from_secs(30),
    );
    assert_ok(&out, "cc-run -a STDERR");
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("", "to-err\n")
    );
    let out = run_timeout(
        env.cmd("cc-run")
            .args(["--rm", "-a", "stdout", "img", "sh", "-c", script]),
        Duration::from_secs(30),
    );
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("to-out\n", "")
    );
    // Without -a STDIN, -i keeps stdin open but cc-run does not feed it.
    let out = env.run_stdin(
        "cc-run",
        [
            "--rm",
            "-i",
            "-a",
            "STDOUT",
            "img",
            "sh",
            "-c",
            "read -t 1 x; echo [$x]",
        ],
        b"hello\n",
    );
    assert_eq!(stdout(&out), "[]\n");
    refused(&env, &["-a", "stdtv", "img", "true"], "'stdtv'");
    assert_no_leaks(&env);
}

#[test]
fn sig_proxy_false_leaves_signals_to_cc_run() {
    root_or_skip!();
    let env = support::env_with_img();
    let script = "trap 'exit 7' TERM; while :; do sleep 0.1; done";
    let start = |name: &str, proxy: &str| {
        env.cmd("cc-run")
            .args(["--name", name, proxy, "img", "sh", "-c", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let child = start("px", "--sig-proxy=true");
    env.wait_for_trap("px", Signal::SIGTERM);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let out = wait_child_timeout(child, Duration::from_secs(20), "cc-run px");
    assert_code(&out, 7, "cc-run with the signal passed on");
    let child = start("nopx", "--sig-proxy=false");
    env.wait_for_trap("nopx", Signal::SIGTERM);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let out = wait_child_timeout(child, Duration::from_secs(20), "cc-run nopx");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(15), "cc-run itself ends");
    assert_eq!(env.inspect("State.Running", "nopx"), "true");
    env.ok("cc-rm", ["-f", "px", "nopx"]);
    assert_no_leaks(&env);
}

/// The container's own cgroup file, read from inside it.
fn cgroup_file(env: &Env, args: &[&str], on_v1: &str, on_v2: &str) -> String {
    let file = if v2() { on_v2 } else { on_v1 };
    let mut all = args.to_vec();
    all.extend(["img", "cat", file]);
    run_out(env, &all).trim().to_string()
}

#[test]
fn cgroup_settings_reach_the_container_group() {
    root_or_skip!();
    let env = support::env_with_img();
    let reservation = cgroup_file(
        &env,
        &["-m", "256m", "--memory-reservation", "64m"],
        "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
        "/sys/fs/cgroup/memory.low",
    );
    assert_eq!(reservation, "67108864");
    let cpus = cgroup_file(
        &env,
        &["--cpuset-cpus", "0", "--cpuset-mems", "0"],
        "/sys/fs/cgroup/cpuset/cpuset.cpus",
        "/sys/fs/cgroup/cpuset.cpus",
    );
    assert_eq!(cpus, "0");
    if v2() {
        refused(
            &env,
            &["--oom-kill-disable", "img", "true"],
            "cannot set disableOOMKiller on cgroup v2",
        );
    } else {
        let oom = cgroup_file(
            &env,
            &["-m", "64m", "--oom-kill-disable"],
            "/sys/fs/cgroup/memory/memory.oom_control",
            "",
        );
        assert!(oom.contains("oom_kill_disable 1"), "{oom}");
    }
    refused(&env, &["--cpuset-cpus", "1-0", "img", "true"], "'1-0'");
    refused(
        &env,
        &["--memory-reservation", "much", "img", "true"],
        "'much'",
    );
    assert_no_leaks(&env);
}

#[test]
fn device_cgroup_rule_allows_a_device() {
    root_or_skip!();
    let env = support::env_with_img();
    // Major 42 is the kernel's "demo" number: no driver (ENXIO once the
    // device cgroup lets the open through, EPERM before), and no rule of
    // cc's allows more than making its node.
    let open = |rule: Option<&str>| {
        let mut c = env.cmd("cc-run");
        c.arg("--rm");
        if let Some(r) = rule {
            c.args(["--device-cgroup-rule", r]);
        }
        let script = "mknod /tmp/demo c 42 0 && cat /tmp/demo";
        c.args(["--cap-add", "MKNOD", "img", "sh", "-c", script]);
        let out = run_timeout(&mut c, Duration::from_secs(30));
        assert_code(&out, 1, "cat /tmp/demo");
        stderr(&out)
    };
    let denied = open(None);
    assert!(denied.contains("Operation not permitted"), "{denied}");
    let allowed = open(Some("c 42:* rwm"));
    assert!(allowed.contains("No such device or address"), "{allowed}");
    refused(
        &env,
        &["--device-cgroup-rule", "c 42", "img", "true"],
        "'c 42'",
    );
    assert_no_leaks(&env);
}

#[test]
fn cgroup_parent_holds_the_container_group() {
    root_or_skip!();
    let env = support::env_with_img();
    let systemd = v2() && Path::new("/run/systemd/system").exists();
    let unique = format!("cctest{}", std::process::id());
    let parent = match systemd {
        true => format!("{unique}.slice"),
        false => format!("/{unique}/inner"),
    };
    let id = env.run_d(["--cgroup-parent", &parent, "img", "sleep", "60"]);
    let pid = env.inspect("State.Pid", &id);
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let want = match systemd {
        true => format!("/{unique}.slice/cc-{id}.scope"),
        false => format!("{}/{id}", parent),
    };
    assert!(
        groups.lines().any(|l| l.ends_with(&want)),
        "{want} not in\n{groups}"
    );
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
    // The container's own group goes with it (the leak check above looks
    // only where cc's default groups are).
    let scope = Path::new("/sys/fs/cgroup").join(format!("{unique}.slice/cc-{id}.scope"));
    let leaf = |d: &Path| d.join("inner").join(&id);
    assert!(!scope.exists(), "{} left", scope.display());
    for dir in cgroup_parents(&unique) {
        assert!(!leaf(&dir).exists(), "{} left", leaf(&dir).display());
    }
    if !systemd {
        // The parents are the user's, as with docker: left for them.
        for dir in cgroup_parents(&unique) {
            let _ = std::fs::remove_dir(dir.join("inner"));
            let _ = std::fs::remove_dir(&dir);
        }
    }
    let bad = match systemd {
        true => "/not/a/slice",
        false => "../up",
    };
    refused(&env, &["--cgroup-parent", bad, "img", "true"], bad);
}

/// The folders named `name` at the top of each cgroup hierarchy.
fn cgroup_parents(name: &str) -> Vec<std::path::PathBuf> {
    let mut out = vec![Path::new("/sys/fs/cgroup").join(name)];
    for e in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        out.push(e.path().join(name));
    }
    out.into_iter().filter(|p| p.is_dir()).collect()
}
