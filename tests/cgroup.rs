//! cgroups as a container sees them and as the host sees them, on whichever
//! version the machine has: every place where cc's code branches on the
//! cgroup version or the cgroup manager (limits, OOM, devices, freeze,
//! kill, exec joining, the container's view of /sys/fs/cgroup, systemd
//! scopes). `make test` runs this file on the host (cgroup v1 here) and in
//! a cgroup-v2 VM under a tiny init and under systemd (tests/vm/).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, cgroup_dir, env_with_img, root_or_skip, stderr,
    stdout, wait_for,
};

const T: Duration = Duration::from_secs(30);

fn v2() -> bool {
    !Path::new("/sys/fs/cgroup/memory").exists()
}

fn systemd_runs() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// A control file as the container reads it at /sys/fs/cgroup: `v1` under
/// its controller's folder, `v2` at the top.
fn inside(controller: &str, v1: &str, v2_file: &str) -> String {
    match v2() {
        true => format!("/sys/fs/cgroup/{v2_file}"),
        false => format!("/sys/fs/cgroup/{controller}/{v1}"),
    }
}

#[test]
fn limits_are_visible_inside_read_only() {
    root_or_skip!();
    let env = env_with_img();
    let mem = inside("memory", "memory.limit_in_bytes", "memory.max");
    let pids = inside("pids", "pids.max", "pids.max");
    let cpu = match v2() {
        true => "cat /sys/fs/cgroup/cpu.max".to_string(),
        false => "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us | tr '\\n' ' '".to_string(),
    };
    let script = format!("cat {mem} {pids}; {cpu}; echo; touch /sys/fs/cgroup/x 2>&1 || true");
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "-m",
            "48m",
            "--pids-limit",
            "33",
            "--cpus",
            "0.5",
            "img",
            "sh",
            "-c",
            &script,
        ],
    );
    assert_ok(&out, "cc-run with limits");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], (48u64 << 20).to_string(), "{text}");
    assert_eq!(lines[1], "33", "{text}");
    assert_eq!(lines[2].trim(), "50000 100000", "{text}");
    assert!(
        text.contains("Read-only file system"),
        "writable cgroupfs:\n{text}"
    );
    assert_no_leaks(&env);
}

#[test]
fn the_container_is_the_root_of_its_own_cgroup_namespace_and_exec_joins_it() {
    root_or_skip!();
    let env = env_with_img();
    let out = env.run("cc-run", ["--rm", "img", "cat", "/proc/self/cgroup"]);
    assert_ok(&out, "cc-run cat /proc/self/cgroup");
    for line in stdout(&out).lines() {
        assert!(line.ends_with(":/"), "not the namespace's root: {line}");
    }
    let id = env.run_d(["img", "sleep", "100"]);
    let host_pid = env.inspect("State.Pid", &id);
    let own = fs::read_to_string(format!("/proc/{host_pid}/cgroup")).unwrap();
    let out = env.run(
        "cc-exec",
        [
            &id,
            "sh",
            "-c",
            "cat /proc/self/cgroup; ls /sys/fs/cgroup | wc -l",
        ],
    );
    assert_ok(&out, "cc-exec");
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.ends_with(":/")), "{text}");
    let entries: usize = text.lines().last().unwrap().trim().parse().unwrap();
    assert!(entries > 3, "empty /sys/fs/cgroup in the container: {text}");
    // The exec'd process is in the container's group on the host.
    let exec_pid = env.run("cc-exec", ["-d", &id, "sleep", "50"]);
    assert_ok(&exec_pid, "cc-exec -d");
    let procs = fs::read_to_string(group_of(&own).join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().count() >= 2,
        "exec'd process not in the group: {procs}"
    );
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

/// A container that makes groups of its own inside its group (systemd in a
/// container, a nested runtime) is still removed whole: its processes in
/// the sub-group are killed and no folder is left behind.
#[test]
fn groups_made_inside_the_container_go_with_it() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let host_pid = env.inspect("State.Pid", &id);
    let own = group_of(&fs::read_to_string(format!("/proc/{host_pid}/cgroup")).unwrap());
    let nested = own.join("inner/deeper");
    fs::create_dir_all(&nested).unwrap();
    fs::write(nested.join("cgroup.procs"), &host_pid).unwrap();
    let out = env.run("cc-rm", ["-f", &id]);
    assert_ok(&out, "cc-rm -f of a container with a nested group");
    assert!(!own.exists(), "group left behind: {}", own.display());
    assert!(
        !Path::new(&format!("/proc/{host_pid}")).exists(),
        "process in the nested group survived"
    );
    assert_no_leaks(&env);
}

/// /proc/self/cgroup as a private cgroup namespace shows it: `0::/` on
/// v2 (docker's), every hierarchy at `/` on v1.
fn assert_namespace_root(cgroup: &str, what: &str) {
    match v2() {
        true => assert_eq!(cgroup.trim(), "0::/", "{what}"),
        false => {
            for line in cgroup.lines() {
                assert!(line.ends_with(":/"), "{what}: not the root: {line}");
            }
        }
    }
}

/// What the container says of its cgroups: /proc/self/cgroup, its memory
/// limit, and the error of a write under /sys/fs/cgroup ("" if it worked).
fn cgroups_seen(env: &support::Env, flags: &[&str]) -> (String, String, String) {
    let mem = inside("memory", "memory.limit_in_bytes", "memory.max");
    let script = format!(
        "cat /proc/self/cgroup; echo --; cat {mem}; echo --; \
         mkdir {d} 2>&1 && rmdir {d}; true",
        d = inside("pids", "cc-test", "cc-test")
    );
    let mut args = vec!["--rm", "-m", "48m"];
    args.extend(flags);
    args.extend(["img", "sh", "-c", &script]);
    let out = env.run("cc-run", &args);
    assert_ok(&out, &format!("cc-run {flags:?}"));
    let text = stdout(&out);
    let parts: Vec<&str> = text.split("--\n").collect();
    assert_eq!(parts.len(), 3, "{text}");
    (
        parts[0].into(),
        parts[1].trim().into(),
        parts[2].trim().into(),
    )
}

#[test]
fn own_cgroup_namespace_with_userns_and_host_network_read_only_unless_privileged() {
    root_or_skip!();
    let env = env_with_img();
    let userns = ["--uidmap", "0:200000:65536"];
    for flags in [&[][..], &userns[..], &["--net", "host"][..]] {
        let (cgroup, mem, write) = cgroups_seen(&env, flags);
        assert_namespace_root(&cgroup, &format!("{flags:?}"));
        assert_eq!(mem, (48u64 << 20).to_string(), "{flags:?}");
        assert!(
            write.contains("Read-only file system"),
            "{flags:?}: {write}"
        );
    }
    // docker: a privileged container may make groups under its own.
    let (cgroup, mem, write) = cgroups_seen(&env, &["--privileged"]);
    assert_namespace_root(&cgroup, "--privileged");
    assert_eq!(mem, (48u64 << 20).to_string());
    assert_eq!(write, "", "--privileged could not write its cgroup");
    assert_no_leaks(&env);
}

#[test]
fn cgroupns_host_shares_the_hosts_namespace_but_shows_only_its_own_groups() {
    root_or_skip!();
    let env = env_with_img();
    let (cgroup, mem, write) = cgroups_seen(&env, &["--cgroupns", "host"]);
    // The host's paths: the container's group seen from the host's root.
    assert!(
        cgroup
            .lines()
            .any(|l| !l.ends_with(":/") && l.contains("cc")),
        "{cgroup}"
    );
    assert_eq!(mem, (48u64 << 20).to_string());
    assert!(write.contains("Read-only file system"), "{write}");
    let host_ns = fs::read_link("/proc/self/ns/cgroup").unwrap();
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "--cgroupns=host",
            "img",
            "readlink",
            "/proc/self/ns/cgroup",
        ],
    );
    assert_eq!(stdout(&out).trim(), host_ns.to_str().unwrap());
    let out = env.run(
        "cc-run",
        ["--rm", "img", "readlink", "/proc/self/ns/cgroup"],
    );
    assert_ne!(stdout(&out).trim(), host_ns.to_str().unwrap());
    let out = env.run("cc-run", ["--rm", "--cgroupns", "shared", "img", "true"]);
    assert_code(&out, 125, "--cgroupns shared");
    assert_no_leaks(&env);
}

/// The host folder of the group a /proc/PID/cgroup text names (v2: the
/// `0::` line; v1: the memory line).
fn group_of(cgroup: &str) -> PathBuf {
    for l in cgroup.lines() {
        let mut f = l.splitn(3, ':');
        let (_, ctrl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        if v2() && ctrl.is_empty() {
            return Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
        }
        if !v2() && ctrl.split(',').any(|c| c == "memory") {
            return Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/'));
        }
    }
    panic!("no group in {cgroup}")
}

#[test]
fn out_of_memory_is_killed_and_reported() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "img",
        "sh",
        "-c",
        "dd if=/dev/zero of=/dev/null bs=64M count=1",
    ]);
    assert_eq!(env.wait_code(&id, T), "137");
    assert_eq!(env.inspect("State.OOMKilled", &id), "true");
    // cc-events: oom, then die with docker's 137.
    let filter = format!("container={id}");
    let events = env.ok(
        "cc-events",
        [
            "--since",
            "1h",
            "--until",
            "0s",
            "-f",
            &filter,
            "-f",
            "event=oom",
            "-f",
            "event=die",
        ],
    );
    let actions: Vec<&str> = events
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(actions, ["oom", "die"], "{events}");
    assert!(events.contains("exitCode=137"), "{events}");
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

#[test]
fn pids_limit_stops_forks() {
    root_or_skip!();
    let env = env_with_img();
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "--pids-limit",
            "8",
            "img",
            "sh",
            "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; echo done",
        ],
    );
    // busybox sh gives up at the first fork the limit refuses.
    assert!(
        stderr(&out).contains("can't fork") && !stdout(&out).contains("done"),
        "12 background processes ran under --pids-limit 8: {}",
        stderr(&out)
    );
    assert_no_leaks(&env);
}

#[test]
fn device_rules_allow_mknod_but_not_open() {
    root_or_skip!();
    let env = env_with_img();
    // /dev/kmsg (1:11), which any process may open for writing, may be
    // made (mknod of any node is allowed, as docker's) but not opened: the
    // device cgroup denies it. /dev/null works.
    let script = "mknod /tmp/k c 1 11 && echo made; \
                  (exec 3>/tmp/k) 2>/dev/null && echo opened || echo denied; \
                  echo x > /dev/null && echo null-ok";
    let out = env.run(
        "cc-run",
        ["--rm", "--cap-add", "MKNOD", "img", "sh", "-c", script],
    );
    assert_ok(&out, "cc-run mknod");
    let text = stdout(&out);
    assert!(text.contains("made"), "{text}");
    assert!(
        text.contains("denied") && !text.contains("opened"),
        "{text}"
    );
    assert!(text.contains("null-ok"), "{text}");
    // --device gives that node, with its permissions: w, not r.
    let out = env.run("cc-run", ["--rm", "--device", "/dev/kmsg:/dev/k:w", "img", "sh", "-c",
        "(exec 3>/dev/k) && echo write-open; (exec 3</dev/k) 2>/dev/null && echo read || echo read-denied"]);
    assert_ok(&out, "cc-run --device");
    let text = stdout(&out);
    assert!(
        text.contains("write-open") && text.contains("read-denied"),
        "{text}"
    );
    assert_no_leaks(&env);
}

#[test]
fn a_running_container_is_frozen_for_commit_and_stop_kills_every_process() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "sleep 100 & sleep 100 & while true; do date > /tick; sleep 0.1; done",
    ]);
    wait_for(T, "three processes in the group", || {
        let procs = fs::read_to_string(cgroup_dir("pids", &id).join("cgroup.procs")).ok()?;
        (procs.lines().count() >= 3).then_some(())
    });
    env.ok("cc-commit", [&id, "frozen:1"]);
    assert!(
        env.ps_running(&id),
        "the container did not survive its commit"
    );
    let frozen = match v2() {
        true => fs::read_to_string(cgroup_dir("pids", &id).join("cgroup.freeze")).unwrap(),
        false => fs::read_to_string(cgroup_dir("freezer", &id).join("freezer.state")).unwrap(),
    };
    assert!(
        matches!(frozen.trim(), "0" | "THAWED"),
        "left frozen: {frozen}"
    );
    env.ok("cc-stop", ["-t", "1", &id]);
    wait_for(T, "the group removed after stop", || {
        (!cgroup_dir("pids", &id).exists()).then_some(())
    });
    env.ok("cc-rm", [&id]);
    env.ok("cc-rmi", ["frozen:1"]);
    assert_no_leaks(&env);
}

#[test]
fn the_cgroup_manager_is_chosen_and_refused_where_it_cannot_work() {
    root_or_skip!();
    let env = env_with_img();
    let info = env.ok("cc-info", Vec::<&str>::new());
    let want = if v2() && systemd_runs() {
        "systemd"
    } else {
        "cgroupfs"
    };
    assert!(info.contains(&format!("cgroup manager: {want}")), "{info}");
    // cgroupfs always works and puts the group under /sys/fs/cgroup/cc.
    let id = env.run_d(["--cgroup-manager", "cgroupfs", "img", "sleep", "100"]);
    let pid = env.inspect("State.Pid", &id);
    let cg = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cg.contains(&format!("/cc/{id}")), "{cg}");
    env.ok("cc-rm", ["-f", &id]);
    if !(v2() && systemd_runs()) {
        let out = env.run(
            "cc-run",
            ["--rm", "--cgroup-manager", "systemd", "img", "true"],
        );
        assert_code(&out, 125, "--cgroup-manager systemd without systemd on v2");
        support::assert_one_line_error(&out, "cc-run");
        assert_no_leaks(&env);
        return;
    }
    // systemd: a transient scope with the limits, shown by systemctl, gone
    // after rm.
    let id = env.run_d(["-m", "40m", "img", "sleep", "100"]);
    let scope = format!("cc-{id}.scope");
    let dir = Path::new("/sys/fs/cgroup/machine.slice").join(&scope);
    assert_eq!(
        fs::read_to_string(dir.join("memory.max")).unwrap().trim(),
        (40u64 << 20).to_string()
    );
    let show = Command::new("systemctl")
        .args([
            "show",
            &scope,
            "-p",
            "ActiveState",
            "-p",
            "Delegate",
            "-p",
            "MemoryMax",
        ])
        .output()
        .unwrap();
    let show = stdout(&show);
    assert!(show.contains("ActiveState=active"), "{show}");
    assert!(show.contains("Delegate=yes"), "{show}");
    assert!(
        show.contains(&format!("MemoryMax={}", 40u64 << 20)),
        "{show}"
    );
    env.ok("cc-stop", ["-t", "1", &id]);
    env.ok("cc-start", [&id]);
    assert!(dir.exists(), "no scope after cc-start");
    env.ok("cc-rm", ["-f", &id]);
    wait_for(T, "the scope gone", || (!dir.exists()).then_some(()));
    assert_no_leaks(&env);
}

/// A bundle whose device cgroup has 400 rules of its own: on cgroup v2 they
/// are one BPF program, which Linux 6.1's verifier refused to load with a
/// small log buffer (ENOSPC) even for the default rules.
#[test]
fn a_long_device_rule_list_loads() {
    root_or_skip!();
    let env = env_with_img();
    let dir = env.base().join("bundle");
    support::make_busybox_rootfs(&dir.join("rootfs"));
    let out = Command::new(support::bin("cc-oci"))
        .arg("spec")
        .arg("--bundle")
        .arg(&dir)
        .output()
        .unwrap();
    assert_ok(&out, "cc-oci spec");
    let path = dir.join("config.json");
    let mut spec: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    spec["process"]["args"] = serde_json::json!(["sh", "-c", "echo x > /dev/null && echo ran"]);
    spec["process"]["terminal"] = false.into();
    let mut rules = vec![serde_json::json!({"allow": false, "access": "rwm"})];
    for i in 0..400 {
        let kind = if i % 2 == 0 { "c" } else { "b" };
        let access = ["r", "rw", "rwm"][i % 3];
        rules.push(serde_json::json!({
            "allow": true, "type": kind, "major": 200 + i, "minor": i, "access": access,
        }));
    }
    spec["linux"]["resources"]["devices"] = rules.into();
    fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let root = env.base().join("oci-root");
    let id = format!("cgtest{}", std::process::id());
    let out = Command::new(support::bin("cc-oci"))
        .arg("--root")
        .arg(&root)
        .args(["run", "--bundle"])
        .arg(&dir)
        .arg(&id)
        .output()
        .unwrap();
    assert_ok(&out, "cc-oci run with 400 device rules");
    assert_eq!(stdout(&out).trim(), "ran");
    let _ = Command::new(support::bin("cc-oci"))
        .arg("--root")
        .arg(&root)
        .args(["delete", "-f", &id])
        .output();
}
