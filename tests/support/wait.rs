//! Waiting with a bound: for a condition, for a child process, and what
//! /proc says about the processes a test waits on. Bounds stretch with
//! `CC_TEST_TIME_SCALE` ([`scaled`]); no test asserts a duration.

use std::fs;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A bound stretched by `CC_TEST_TIME_SCALE` (a whole number, default 1):
/// the cgroup-v2 VM emulates its CPU and runs the same tests several times
/// slower (tests/vm/inside.sh sets it). Only bounds on waiting scale; no
/// test asserts a duration.
pub fn scaled(d: Duration) -> Duration {
    let k: u32 = std::env::var("CC_TEST_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|k| *k >= 1)
        .unwrap_or(1);
    d * k
}

/// Poll `f` until it returns Some, or panic after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + scaled(timeout);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Spawn `cmd` with piped stdout/stderr (stdin as configured) and wait at
/// most `timeout`; on timeout kill it and panic with what it printed.
pub fn run_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_child_timeout(child, timeout, &format!("{cmd:?}"))
}

/// Runs `cmd` with `input` on its stdin, at most `timeout`.
pub fn run_stdin_timeout(cmd: &mut Command, input: &[u8], timeout: Duration) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    wait_child_timeout(child, timeout, &format!("{cmd:?}"))
}

/// Wait for a spawned child (stdout/stderr piped or not) at most
/// `timeout`, reading its output meanwhile; kill it and panic on timeout.
pub fn wait_child_timeout(mut child: std::process::Child, timeout: Duration, what: &str) -> Output {
    let timeout = scaled(timeout);
    use std::io::Read;
    let reader = |s: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = s {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_t = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            // The readers may hang if a grandchild holds the pipes: do
            // not join them.
            panic!("{what}: still running after {timeout:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// The session id of a process, from /proc/PID/stat (field 6).
pub fn sid_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(3)?.parse().ok()
}

/// The pids of the monitor processes of container `id`
/// (`cc-run [monitor] <short id>` in their command line).
pub fn monitor_pids(id: &str) -> Vec<i32> {
    let want = format!("cc-run [monitor] {}", &id[..12.min(id.len())]);
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).trim_end_matches('\0') == want {
                out.push(pid);
            }
        }
    }
    out
}

/// Whether process `pid` catches, ignores or blocks signal `sig`: one of
/// the `SigCgt`, `SigIgn`, `SigBlk` masks of /proc/PID/status has its bit.
pub fn handles_signal(pid: i32, sig: nix::sys::signal::Signal) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let bit = 1u64 << (sig as i32 - 1);
    status.lines().any(|l| {
        ["SigCgt:", "SigIgn:", "SigBlk:"].iter().any(|k| {
            l.strip_prefix(k)
                .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                .is_some_and(|m| m & bit != 0)
        })
    })
}
