//! cc-pause and cc-unpause: the container's processes stop and resume
//! (a counter it keeps stands still, then moves), cc-ps and cc-inspect say
//! so as docker does, cc-exec is refused meanwhile, and cc-stop and
//! cc-kill end a paused container. Run in the v2 VM too (tests/vm/suites).

use std::time::Duration;

use nix::sys::signal::SIGTERM;
use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, root_or_skip, run_timeout,
    stderr, wait_for, Env,
};

const COUNTER: &str =
    "trap 'exit 3' TERM; i=0; while :; do i=$((i+1)); echo $i > /n; sleep 0.02; done";

/// The counter the container writes, read from its upper folder.
fn counter(env: &Env, id: &str) -> Option<u64> {
    std::fs::read_to_string(env.ctr_dir(id).join("upper/n"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn counting(env: &Env, id: &str) -> u64 {
    let first = wait_for(Duration::from_secs(10), "the counter", || counter(env, id));
    wait_for(Duration::from_secs(10), "the counter to move", || {
        counter(env, id).filter(|&n| n > first)
    })
}

#[test]
fn a_paused_container_stands_still_until_unpaused() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["--name", "p", "img", "sh", "-c", COUNTER]);
    counting(&env, &id);
    let out = env.run("cc-pause", ["p"]);
    assert_ok(&out, "cc-pause");
    assert_eq!(support::stdout(&out).trim(), "p");
    let frozen = counter(&env, &id);
    // The behaviour under test: nothing moves while paused.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(counter(&env, &id), frozen, "the counter moved while paused");
    let status = env.ps_status(&id);
    assert!(
        status.starts_with("Up ") && status.ends_with(" (Paused)"),
        "{status}"
    );
    assert_eq!(env.inspect("State.Status", "p"), "paused");
    assert_eq!(env.inspect("State.Paused", "p"), "true");
    assert_eq!(env.inspect("State.Running", "p"), "true");
    let listed = env.ok("cc-ps", ["-q", "--filter", "status=paused"]);
    assert!(
        id.starts_with(listed.trim()) && !listed.trim().is_empty(),
        "{listed}"
    );
    assert_eq!(
        env.ok("cc-ps", ["-q", "--filter", "status=running"]).trim(),
        ""
    );

    let exec = run_timeout(
        env.cmd("cc-exec").args(["p", "true"]),
        Duration::from_secs(10),
    );
    // cc-exec keeps 1..124 for the command: its own failures are 125.
    assert_code(&exec, 125, "cc-exec into a paused container");
    assert_one_line_error(&exec, "cc-exec");
    assert!(stderr(&exec).contains("paused"), "{}", stderr(&exec));
    assert_code(&env.run("cc-pause", ["p"]), 4, "cc-pause twice");

    assert_ok(&env.run("cc-unpause", ["p"]), "cc-unpause");
    counting(&env, &id);
    assert_eq!(env.inspect("State.Status", "p"), "running");
    assert_eq!(env.inspect("State.Paused", "p"), "false");
    assert_code(
        &env.run("cc-unpause", ["p"]),
        4,
        "cc-unpause of a running one",
    );
    env.ok("cc-stop", ["-t", "5", "p"]);
    assert_eq!(env.wait_code(&id, Duration::from_secs(10)), "3");
    env.ok("cc-rm", ["p"]);
    assert_no_leaks(&env);
}

#[test]
fn a_paused_container_is_stopped_or_killed() {
    root_or_skip!();
    let env = support::env_with_img();
    let a = env.run_d(["img", "sh", "-c", COUNTER]);
    let b = env.run_d(["img", "sh", "-c", COUNTER]);
    env.wait_for_trap(&a, SIGTERM);
    env.ok("cc-pause", [&a, &b]);
    // cc-stop sends TERM, then thaws: the trap runs at once, long before
    // the timeout's SIGKILL.
    let t0 = std::time::Instant::now();
    let out = run_timeout(
        env.cmd("cc-stop").args(["-t", "20", &a]),
        Duration::from_secs(30),
    );
    assert_ok(&out, "cc-stop of a paused container");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(env.wait_code(&a, Duration::from_secs(10)), "3");
    env.ok("cc-kill", [&b]);
    assert_eq!(env.wait_code(&b, Duration::from_secs(10)), "137");
    assert!(env.ps_status(&b).starts_with("Exited (137)"));
    // Not running: nothing to pause.
    let out = env.run("cc-pause", [&a]);
    assert_code(&out, 4, "cc-pause of an exited container");
    assert_one_line_error(&out, "cc-pause");
    env.ok("cc-rm", [&a, &b]);
    assert_no_leaks(&env);
}
