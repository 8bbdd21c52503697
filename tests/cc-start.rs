//! cc-start and cc-restart: an exited container runs again on its same
//! files, id and name; wrong states are exit 4.

use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, env_with_img, root_or_skip,
    run_timeout, stdout,
};

#[test]
fn start_again_keeps_files_name_and_id() {
    root_or_skip!();
    let env = env_with_img();
    let script = "cat /f 2>/dev/null; echo x > /f";
    let out = env.ok("cc-run", ["--name", "keep", "img", "sh", "-c", script]);
    assert_eq!(out, "", "first run printed something");
    let id = env.only_container();
    let out = run_timeout(
        env.cmd("cc-start").args(["-a", "keep"]),
        Duration::from_secs(10),
    );
    assert_ok(&out, "cc-start -a keep");
    assert_eq!(
        stdout(&out),
        "x\n",
        "the second run does not see the first's file"
    );
    assert_eq!(
        env.container_ids(),
        vec![id.clone()],
        "a new record was made"
    );
    assert_eq!(env.inspect("Id", "keep"), id);
    assert_eq!(env.inspect("Name", &id).trim_start_matches('/'), "keep");
    // Without -a: prints the container as named (docker), runs in the
    // background.
    let out = run_timeout(env.cmd("cc-start").arg("keep"), Duration::from_secs(10));
    assert_ok(&out, "cc-start keep");
    assert_eq!(stdout(&out), "keep\n");
    assert_eq!(env.wait_code(&id, Duration::from_secs(5)), "0");
    assert_eq!(stdout(&env.logs(["keep"])).lines().last(), Some("x"));
    env.ok("cc-rm", ["keep"]);
    assert_no_leaks(&env);
}

#[test]
fn start_exit_code_is_the_commands() {
    root_or_skip!();
    let env = env_with_img();
    let out = run_timeout(
        env.cmd("cc-run")
            .args(["--name", "six", "img", "sh", "-c", "exit 6"]),
        Duration::from_secs(10),
    );
    assert_code(&out, 6, "cc-run exit 6");
    let out = run_timeout(
        env.cmd("cc-start").args(["-a", "six"]),
        Duration::from_secs(10),
    );
    assert_code(&out, 6, "cc-start -a of exit 6");
    assert_eq!(env.inspect("State.ExitCode", "six"), "6");
}

#[test]
fn start_of_a_running_container_is_exit_4() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let pid = env.inspect("State.Pid", &id);
    let out = run_timeout(env.cmd("cc-start").arg(&id), Duration::from_secs(5));
    assert_code(&out, 4, "cc-start of a running container");
    assert_one_line_error(&out, "cc-start");
    assert_eq!(
        env.inspect("State.Pid", &id),
        pid,
        "the running process changed"
    );
}

#[test]
fn restart_gives_a_new_pid_and_keeps_the_id() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let pid = env.inspect("State.Pid", &id);
    let out = run_timeout(
        env.cmd("cc-restart").args(["-t", "1", &id]),
        Duration::from_secs(10),
    );
    assert_ok(&out, "cc-restart -t 1");
    assert_eq!(env.container_ids(), vec![id.clone()]);
    assert_eq!(env.inspect("State.Status", &id), "running");
    let new = env.inspect("State.Pid", &id);
    assert_ne!(new, pid, "cc-restart kept the old pid");
    let cmdline = std::fs::read(format!("/proc/{new}/cmdline")).unwrap_or_default();
    assert_eq!(
        cmdline, b"sleep\x00100\x00",
        "State.Pid after restart is not the command"
    );
    assert!(
        std::fs::metadata(format!("/proc/{pid}")).is_err(),
        "the old process still lives"
    );
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

/// A detach sequence that does not parse is a usage error wherever it is
/// given (exit 2; 125 for cc-run, whose codes below are the command's), and
/// nothing is started for it.
#[test]
fn bad_detach_keys_are_usage_errors_that_start_nothing() {
    root_or_skip!();
    let env = env_with_img();
    env.ok("cc-run", ["--name", "keys", "img", "true"]);
    let started = env.inspect("State.StartedAt", "keys");
    let out = env.run("cc-start", ["-a", "--detach-keys", "ctrl-1", "keys"]);
    assert_code(&out, 2, "cc-start -a --detach-keys ctrl-1");
    assert_one_line_error(&out, "cc-start");
    assert_eq!(
        env.inspect("State.StartedAt", "keys"),
        started,
        "the container was started"
    );
    let id = env.run_d(["img", "sleep", "100"]);
    let out = env.run("cc-attach", ["--detach-keys", "ctrl-1", &id]);
    assert_code(&out, 2, "cc-attach --detach-keys ctrl-1");
    assert_one_line_error(&out, "cc-attach");
    let before = env.container_ids().len();
    let out = env.run("cc-run", ["--detach-keys", "ctrl-1", "img", "true"]);
    assert_code(&out, 125, "cc-run --detach-keys ctrl-1");
    assert_one_line_error(&out, "cc-run");
    assert_eq!(env.container_ids().len(), before, "cc-run left a record");
    env.ok("cc-rm", ["-f", "keys", id.as_str()]);
    assert_no_leaks(&env);
}
