//! cc-update: new limits reach a running container's cgroup at once (read
//! from inside it), are kept in its record for the next cc-start, apply to
//! a container that has not started, and bad or impossible ones change
//! nothing. Run in the v2 VM too (tests/vm/suites).

use std::path::Path;
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, root_or_skip, run_timeout,
    stdout, Env,
};

fn v2() -> bool {
    !Path::new("/sys/fs/cgroup/memory").exists()
}

/// Memory limit, pids limit and `QUOTA PERIOD`, as the container reads
/// them in its own cgroup.
fn limits(env: &Env, ctr: &str) -> Vec<String> {
    let script = match v2() {
        true => "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max",
        false => "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; \
                  echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us)",
    };
    let out = run_timeout(
        env.cmd("cc-exec").args([ctr, "sh", "-c", script]),
        Duration::from_secs(20),
    );
    assert_ok(&out, "cc-exec cat limits");
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn a_running_container_gets_new_limits_and_keeps_them() {
    root_or_skip!();
    let env = support::env_with_img();
    env.run_d([
        "--name",
        "u",
        "-m",
        "64m",
        "--pids-limit",
        "100",
        "img",
        "sleep",
        "60",
    ]);
    assert_eq!(limits(&env, "u")[..2], ["67108864", "100"]);
    let out = env.run(
        "cc-update",
        [
            "-m",
            "128m",
            "--pids-limit",
            "50",
            "--cpus",
            "0.5",
            "-c",
            "512",
            "u",
        ],
    );
    assert_ok(&out, "cc-update");
    assert_eq!(stdout(&out), "u\n");
    let want = ["134217728", "50", "50000 100000"];
    assert_eq!(limits(&env, "u"), want);
    assert_eq!(env.inspect("HostConfig.Memory", "u"), "134217728");
    assert_eq!(env.inspect("HostConfig.PidsLimit", "u"), "50");
    assert_eq!(env.inspect("HostConfig.CpuShares", "u"), "512");
    // Kept in the record: the next start applies them.
    env.ok("cc-stop", ["-t", "0", "u"]);
    env.ok("cc-start", ["u"]);
    assert_eq!(limits(&env, "u"), want);
    env.ok("cc-rm", ["-f", "u"]);
    assert_no_leaks(&env);
}

#[test]
fn a_container_not_started_starts_with_the_new_limits() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok(
        "cc-create",
        ["--name", "s", "-m", "64m", "img", "sleep", "60"],
    );
    env.ok("cc-update", ["-m", "32m", "--pids-limit", "-1", "s"]);
    env.ok("cc-start", ["s"]);
    let got = limits(&env, "s");
    assert_eq!(got[..2], ["33554432", "max"]);
    env.ok("cc-rm", ["-f", "s"]);
    assert_no_leaks(&env);
}

#[test]
fn memory_and_swap_grow_together() {
    root_or_skip!();
    let env = support::env_with_img();
    env.run_d(["--name", "w", "-m", "64m", "img", "sleep", "60"]);
    let accounting = swap_accounted(&env, "w");
    if accounting {
        env.ok("cc-update", ["--memory-swap", "96m", "w"]);
    }
    // Memory past the current memory-swap limit: on v1 the kernel takes it
    // only once memory-swap has grown.
    let out = env.run("cc-update", ["-m", "128m", "--memory-swap", "256m", "w"]);
    if accounting {
        assert_ok(&out, "cc-update -m 128m --memory-swap 256m");
        assert_eq!(env.inspect("HostConfig.MemorySwap", "w"), "268435456");
    } else {
        // The host cannot hold the limit: one line, nothing changed.
        assert_code(&out, 1, "cc-update --memory-swap without swap accounting");
        assert_one_line_error(&out, "cc-update");
        assert_eq!(env.inspect("HostConfig.Memory", "w"), "67108864");
    }
    env.ok("cc-rm", ["-f", "w"]);
    assert_no_leaks(&env);
}

/// Whether the kernel accounts the container's swap (the control file
/// exists in its group).
fn swap_accounted(env: &Env, ctr: &str) -> bool {
    let file = match v2() {
        true => "/sys/fs/cgroup/memory.swap.max",
        false => "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes",
    };
    let out = run_timeout(
        env.cmd("cc-exec").args([ctr, "test", "-e", file]),
        Duration::from_secs(20),
    );
    out.status.success()
}

#[test]
fn bad_limits_change_nothing() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok(
        "cc-create",
        [
            "--name",
            "b",
            "-m",
            "64m",
            "--memory-swap",
            "96m",
            "img",
            "true",
        ],
    );
    for (args, code) in [
        (vec!["b"], 2),
        (vec!["-m", "lots", "b"], 2),
        (vec!["--cpus", "0", "b"], 2),
        (vec!["--pids-limit", "-5", "b"], 2),
        // Above the saved memory-swap limit, as docker refuses it.
        (vec!["-m", "128m", "b"], 2),
        (vec!["-c", "1", "b"], 2),
        (vec!["-m", "32m", "nosuch"], 3),
    ] {
        let out = env.run("cc-update", &args);
        assert_code(&out, code, &format!("cc-update {args:?}"));
        assert_one_line_error(&out, "cc-update");
    }
    assert_eq!(env.inspect("HostConfig.Memory", "b"), "67108864");
    assert_eq!(env.inspect("HostConfig.MemorySwap", "b"), "100663296");
    env.ok("cc-rm", ["b"]);
    assert_no_leaks(&env);
}
