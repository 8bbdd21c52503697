//! cc-wait: exited, running, several, and a container whose monitor was
//! killed.

use std::time::{Duration, Instant};

use support::{
    assert_no_leaks, assert_ok, env_with_img, root_or_skip, run_timeout, stdout, wait_for,
};

#[test]
fn exited_container_prints_its_code_at_once() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sh", "-c", "exit 7"]);
    assert_eq!(env.wait_code(&id, Duration::from_secs(10)), "7");
    let t0 = Instant::now();
    assert_eq!(env.wait_code(&id, Duration::from_secs(5)), "7");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "cc-wait on an exited container took {:?}",
        t0.elapsed()
    );
    // By name and by prefix too.
    let name = env.inspect("Name", &id);
    assert_eq!(
        env.wait_code(name.trim_start_matches('/'), Duration::from_secs(5)),
        "7"
    );
    assert_eq!(env.wait_code(&id[..12], Duration::from_secs(5)), "7");
}

#[test]
fn running_container_blocks_until_it_exits() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sh", "-c", "sleep 1; exit 3"]);
    let t0 = Instant::now();
    assert_eq!(env.wait_code(&id, Duration::from_secs(10)), "3");
    let took = t0.elapsed();
    assert!(
        took > Duration::from_millis(500),
        "cc-wait returned after {took:?}, before the command ended"
    );
    assert!(env.ps_status(&id).starts_with("Exited (3)"));
}

#[test]
fn several_ids_print_one_line_each_in_order() {
    root_or_skip!();
    let env = env_with_img();
    let a = env.run_d(["img", "sh", "-c", "sleep 0.6; exit 1"]);
    let b = env.run_d(["img", "sh", "-c", "exit 2"]);
    let c = env.run_d(["img", "sh", "-c", "sleep 0.3; exit 3"]);
    let out = run_timeout(
        env.cmd("cc-wait").args([&a, &b, &c]),
        Duration::from_secs(10),
    );
    assert_ok(&out, "cc-wait a b c");
    assert_eq!(stdout(&out), "1\n2\n3\n");
}

#[test]
fn killed_monitor_does_not_hang_wait_and_never_shows_up() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let mpid: i32 = env.inspect("State.MonitorPid", &id).parse().unwrap();
    // Wait in the background while the monitor is killed.
    let waiter = env
        .cmd("cc-wait")
        .arg(&id)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // cc-wait is waiting once it holds a pidfd (of the monitor).
    let waiter_pid = waiter.id();
    wait_for(Duration::from_secs(20), "cc-wait to watch a pidfd", || {
        holds_a_pidfd(waiter_pid).then_some(())
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(mpid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let t0 = Instant::now();
    let out = support::wait_child_timeout(
        waiter,
        Duration::from_secs(5),
        "cc-wait with the monitor killed",
    );
    assert_ok(&out, "cc-wait");
    assert_eq!(
        stdout(&out).trim(),
        "-1",
        "cc-wait after the monitor was killed"
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
    // A new cc-wait returns at once too.
    assert_eq!(env.wait_code(&id, Duration::from_secs(3)), "-1");
    let st = env.ps_status(&id);
    assert!(st.starts_with("Exited (unknown)"), "cc-ps -a status: {st}");
    assert!(!env.ps_running(&id), "cc-ps lists it as running");
    assert_eq!(env.inspect("State.Status", &id), "exited");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

/// Whether process `pid` has a pidfd open (pidfd_open(2): an fd that
/// links to `anon_inode:[pidfd]`).
fn holds_a_pidfd(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == "anon_inode:[pidfd]"))
}
