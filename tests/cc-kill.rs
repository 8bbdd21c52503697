//! cc-kill: signals by name and number, a bad signal, a stopped container.

use std::time::Duration;

use nix::sys::signal::SIGTERM;
use support::{assert_code, assert_one_line_error, env_with_img, root_or_skip, run_timeout};

const TRAP9: &str = "trap 'exit 9' TERM; while :; do sleep 0.1; done";

#[test]
fn term_reaches_the_command_by_name_and_number() {
    root_or_skip!();
    let env = env_with_img();
    let a = env.run_d(["img", "sh", "-c", TRAP9]);
    let b = env.run_d(["img", "sh", "-c", TRAP9]);
    for id in [&a, &b] {
        env.wait_for_trap(id, SIGTERM);
    }
    env.ok("cc-kill", ["-s", "TERM", &a]);
    env.ok("cc-kill", ["-s", "15", &b]);
    assert_eq!(env.wait_code(&a, Duration::from_secs(5)), "9");
    assert_eq!(env.wait_code(&b, Duration::from_secs(5)), "9");
}

#[test]
fn default_signal_is_kill() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "trap '' TERM INT; while :; do sleep 0.1; done",
    ]);
    env.ok("cc-kill", [&id]);
    assert_eq!(env.wait_code(&id, Duration::from_secs(5)), "137");
}

#[test]
fn unknown_signal_is_a_usage_error() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    for sig in ["NOSUCHSIG", "999", ""] {
        let out = run_timeout(
            env.cmd("cc-kill").args(["-s", sig, &id]),
            Duration::from_secs(5),
        );
        assert_code(&out, 2, &format!("cc-kill -s {sig:?}"));
    }
    assert!(env.ps_running(&id), "a bad signal stopped the container");
}

#[test]
fn stopped_container_is_a_state_error() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "true"]);
    env.wait_code(&id, Duration::from_secs(5));
    let out = run_timeout(env.cmd("cc-kill").arg(&id), Duration::from_secs(5));
    assert_code(&out, 4, "cc-kill of an exited container");
    assert_one_line_error(&out, "cc-kill");
    let out = run_timeout(env.cmd("cc-kill").arg("nosuch"), Duration::from_secs(5));
    assert_code(&out, 3, "cc-kill of a missing container");
}
