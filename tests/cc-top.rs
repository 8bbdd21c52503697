//! cc-top: the container's processes from the host's ps, docker's
//! columns, each with its pid inside the container.

use std::time::Duration;

use support::{assert_code, assert_no_leaks, assert_one_line_error, root_or_skip};

/// ps's header, split at blanks (ps pads with single spaces).
fn header(out: &str) -> Vec<&str> {
    out.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect()
}

#[test]
fn lists_the_containers_processes_with_host_and_inner_pids() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "sh", "-c", "sleep 1001 & exec sleep 1002"]);
    let pid = env.inspect("State.Pid", &id);
    let out = support::wait_for(Duration::from_secs(10), "two sleeps", || {
        let out = env.ok("cc-top", [&id]);
        (out.lines().count() == 3).then_some(out)
    });
    assert_eq!(
        header(&out),
        ["UID", "PID", "CPID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    );
    let main = out.lines().find(|l| l.ends_with("sleep 1002")).expect(&out);
    let f: Vec<&str> = main.split_whitespace().collect();
    assert_eq!((f[0], f[1], f[2]), ("root", pid.as_str(), "1"), "{out}");
    let other = out.lines().find(|l| l.ends_with("sleep 1001")).expect(&out);
    assert_eq!(
        other.split_whitespace().nth(3),
        Some(pid.as_str()),
        "PPID: {out}"
    );
    // Not the host's other processes.
    assert!(
        !out.lines().any(|l| l.contains("cc-run [monitor]")),
        "{out}"
    );

    // ps options pass through.
    let out = env.ok("cc-top", [&id, "-o", "pid,comm"]);
    assert_eq!(header(&out), ["PID", "CPID", "COMMAND"]);
    assert_eq!(out.lines().count(), 3, "{out}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn a_stopped_or_unknown_container_is_refused() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "true"]);
    env.wait_code(&id, Duration::from_secs(10));
    let out = env.run("cc-top", [&id]);
    assert_code(&out, 4, "cc-top of a stopped container");
    assert_one_line_error(&out, "cc-top");
    let out = env.run("cc-top", ["nosuch"]);
    assert_code(&out, 3, "cc-top nosuch");
    let out = env.run("cc-top", [&id, "-o", "comm"]);
    assert_code(&out, 4, "cc-top stopped");
    env.ok("cc-rm", [&id]);
}
