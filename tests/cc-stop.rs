//! cc-stop: escalation to SIGKILL after the timeout, and the image's
//! StopSignal.

use std::time::{Duration, Instant};

use nix::sys::signal::{SIGTERM, SIGUSR1};
use support::{assert_no_leaks, assert_ok, root_or_skip, run_timeout, Env};

#[test]
fn ignoring_term_is_killed_after_the_timeout() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "trap '' TERM; while :; do sleep 0.1; done",
    ]);
    env.wait_for_trap(&id, SIGTERM);
    let t0 = Instant::now();
    let out = run_timeout(
        env.cmd("cc-stop").args(["-t", "1", &id]),
        Duration::from_secs(8),
    );
    let took = t0.elapsed();
    assert_ok(&out, "cc-stop -t 1");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "cc-stop -t 1 took {took:?}"
    );
    assert_eq!(env.wait_code(&id, Duration::from_secs(3)), "137");
    assert!(env.ps_status(&id).starts_with("Exited (137)"));
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

#[test]
fn a_command_that_obeys_term_stops_at_once() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ]);
    env.wait_for_trap(&id, SIGTERM);
    let t0 = Instant::now();
    let out = run_timeout(
        env.cmd("cc-stop").args(["-t", "5", &id]),
        Duration::from_secs(8),
    );
    assert_ok(&out, "cc-stop");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(env.wait_code(&id, Duration::from_secs(3)), "0");
}

#[test]
fn the_images_stop_signal_is_used() {
    root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("usr1");
    env.ok(
        "cc-import",
        [
            "-c",
            "STOPSIGNAL USR1",
            "-c",
            "CMD [\"sh\", \"-c\", \"trap 'exit 5' USR1; trap '' TERM; while :; do sleep 0.1; done\"]",
            dir.to_str().unwrap(),
            "usr1",
        ],
    );
    let id = env.run_d(["usr1"]);
    let sig = env.inspect("Config.StopSignal", &id);
    assert!(
        sig == "SIGUSR1" || sig == "USR1",
        "Config.StopSignal: {sig}"
    );
    env.wait_for_trap(&id, SIGUSR1);
    env.wait_for_trap(&id, SIGTERM);
    let t0 = Instant::now();
    let out = run_timeout(
        env.cmd("cc-stop").args(["-t", "5", &id]),
        Duration::from_secs(8),
    );
    assert_ok(&out, "cc-stop");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "cc-stop waited for the timeout: {:?} (StopSignal not sent?)",
        t0.elapsed()
    );
    assert_eq!(env.wait_code(&id, Duration::from_secs(3)), "5");
}
