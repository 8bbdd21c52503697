//! Cross-program scenarios of the daemonless lifecycle: the seed's worker,
//! the monitor process, -d failures and --cidfile, reboot detection, 50
//! detached containers at once, and clients killed mid-way.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, env_with_img, is_id, monitor_pids, root_or_skip,
    run_timeout, sid_of, stderr, stdout, wait_for,
};

const T: Duration = Duration::from_secs(20);

#[test]
fn seed_worker_run_logs_kill_wait() {
    root_or_skip!();
    let env = env_with_img();
    let job = env.run_d([
        "img",
        "sh",
        "-c",
        "while true; do echo Hello world; sleep 1; done",
    ]);
    assert_eq!(env.ps_status(&job).split(' ').next(), Some("Up"));
    let logs = wait_for(Duration::from_secs(5), "two Hello world lines", || {
        let o = stdout(&env.logs([&job]));
        (o.lines().count() >= 2).then_some(o)
    });
    assert!(
        logs.lines().all(|l| l == "Hello world"),
        "cc-logs shows other lines:\n{logs}"
    );
    env.ok("cc-kill", [&job]);
    assert_eq!(env.wait_code(&job, Duration::from_secs(10)), "137");
    let st = env.ps_status(&job);
    assert!(st.starts_with("Exited (137)"), "cc-ps -a status: {st}");
    env.ok("cc-rm", [&job]);
    assert_no_leaks(&env);
}

#[test]
fn monitor_is_named_in_its_own_session_and_inspect_shows_it() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let short = &id[..12];
    let ps = Command::new("ps")
        .args(["-eo", "pid=,args="])
        .output()
        .unwrap();
    let ps = stdout(&ps);
    let want = format!("cc-run [monitor] {short}");
    let rows: Vec<&str> = ps
        .lines()
        .filter(|l| l.trim_end().ends_with(&want))
        .collect();
    assert_eq!(rows.len(), 1, "wanted one '{want}' in ps -eo args:\n{ps}");
    let mpid: i32 = rows[0].split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(
        rows[0]
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" "),
        want
    );
    assert_eq!(
        sid_of(mpid),
        Some(mpid),
        "the monitor is not a session leader"
    );
    let me = std::process::id() as i32;
    assert_ne!(
        sid_of(mpid),
        sid_of(me),
        "the monitor is in the test's session"
    );
    assert_eq!(env.inspect("State.MonitorPid", &id), mpid.to_string());
    // The other inspect fields of a running container.
    assert_eq!(env.inspect("State.Status", &id), "running");
    assert_eq!(env.inspect("State.Running", &id), "true");
    assert_eq!(env.inspect("State.OOMKilled", &id), "false");
    let pid: i32 = env.inspect("State.Pid", &id).parse().unwrap();
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(cmdline, b"sleep\x00100\x00", "State.Pid is not the command");
    let ppid = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = ppid[ppid.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ppid, mpid, "the command's parent is not the monitor");
    let log = env.inspect("LogPath", &id);
    assert!(fs::metadata(&log).is_ok(), "LogPath {log} does not exist");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn detached_missing_command_exits_127_and_leaves_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let out = run_timeout(env.cmd("cc-run").args(["-d", "img", "nosuchcmd"]), T);
    assert_code(&out, 127, "cc-run -d img nosuchcmd");
    assert_eq!(
        stdout(&out),
        "",
        "an id printed for a container that never ran"
    );
    assert!(
        stderr(&out).contains("nosuchcmd"),
        "stderr: {}",
        stderr(&out)
    );
    assert!(
        env.container_ids().is_empty(),
        "a record is left: {:?}",
        env.container_ids()
    );
    // No cgroup left either: assert_no_leaks checks the cgroups made since
    // the env was, that no live test env owns.
    assert_eq!(env.ok("cc-ps", ["-aq"]), "");
    assert_no_leaks(&env);
}

#[test]
fn cidfile_is_written_and_never_overwritten() {
    root_or_skip!();
    let env = env_with_img();
    let f = env.dir.join("cid");
    let id = env.run_d(["--cidfile", f.to_str().unwrap(), "img", "sleep", "100"]);
    assert_eq!(fs::read_to_string(&f).unwrap().trim(), id);
    // An existing file is refused, and nothing is made.
    let existing = env.dir.join("taken");
    fs::write(&existing, "keep me").unwrap();
    let out = run_timeout(
        env.cmd("cc-run")
            .args(["-d", "--cidfile"])
            .arg(&existing)
            .args(["img", "sleep", "100"]),
        T,
    );
    assert_code(&out, 125, "cc-run --cidfile EXISTING");
    assert_eq!(fs::read_to_string(&existing).unwrap(), "keep me");
    assert_eq!(
        env.container_ids(),
        vec![id.clone()],
        "a second record was made"
    );
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn record_from_another_boot_shows_exited_with_unknown_code() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sleep", "100"]);
    let path = env.ctr_dir(&id).join("state.json");
    let original = fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert_eq!(v["status"], "running");
    v["bootId"] = "00000000-0000-0000-0000-000000000000".into();
    let tmp = env.ctr_dir(&id).join("state.json.test");
    fs::write(&tmp, serde_json::to_string(&v).unwrap()).unwrap();
    fs::rename(&tmp, &path).unwrap();
    let checks = std::panic::catch_unwind(|| {
        let st = env.ps_status(&id);
        assert!(
            st.starts_with("Exited (unknown)"),
            "cc-ps -a status of a record from another boot: {st}"
        );
        assert!(!env.ps_running(&id), "cc-ps lists it as running");
        assert_eq!(env.inspect("State.Status", &id), "exited");
        assert_eq!(env.inspect("State.Running", &id), "false");
        let code = env.inspect("State.ExitCode", &id);
        assert!(
            code == "null" || code.is_empty() || code == "<no value>",
            "ExitCode: {code}"
        );
        assert_eq!(env.wait_code(&id, Duration::from_secs(5)), "-1");
    });
    // Put the true record back so cc-rm -f can stop the real process.
    let tmp = env.ctr_dir(&id).join("state.json.test");
    fs::write(&tmp, &original).unwrap();
    fs::rename(&tmp, &path).unwrap();
    env.ok("cc-rm", ["-f", &id]);
    if let Err(e) = checks {
        std::panic::resume_unwind(e);
    }
    assert_no_leaks(&env);
}

#[test]
fn fifty_detached_at_once_all_run_and_are_listed() {
    root_or_skip!();
    let env = env_with_img();
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..50)
            .map(|_| s.spawn(|| env.run_d(["img", "sleep", "100"])))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 50, "ids are not distinct");
    let listed: BTreeSet<String> = env
        .ok("cc-ps", ["-q"])
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(listed.len(), 50, "cc-ps -q lists {} running", listed.len());
    for id in &ids {
        assert!(
            listed.iter().any(|l| id.starts_with(l.as_str())),
            "{id} is not listed by cc-ps -q"
        );
        let text = fs::read_to_string(env.ctr_dir(id).join("state.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("state.json of {id} does not parse ({e}):\n{text}"));
        assert_eq!(v["status"], "running", "{id}: {text}");
    }
    // cc-ps -aq | cc-rm -f -
    let mut ps = env
        .cmd("cc-ps")
        .arg("-aq")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut rm = env.cmd("cc-rm");
    rm.args(["-f", "-"])
        .stdin(Stdio::from(ps.stdout.take().unwrap()));
    let out = run_timeout(&mut rm, Duration::from_secs(60));
    assert!(ps.wait().unwrap().success());
    assert_ok(&out, "cc-ps -aq | cc-rm -f -");
    assert_eq!(env.ok("cc-ps", ["-aq"]), "");
    assert_no_leaks(&env);
}

#[test]
fn detached_client_killed_after_printing_the_id_loses_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let mut child = env
        .cmd("cc-run")
        .args(["-d", "img", "sh", "-c", "sleep 0.5; echo done"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let id = line.trim().to_string();
    assert!(is_id(&id), "cc-run -d printed {line:?}");
    assert_eq!(env.wait_code(&id, Duration::from_secs(10)), "0");
    assert_eq!(stdout(&env.logs([&id])), "done\n");
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

#[test]
fn foreground_client_killed_leaves_the_container_running() {
    root_or_skip!();
    let env = env_with_img();
    let mut child = env
        .cmd("cc-run")
        .args(["img", "sh", "-c", "sleep 2; echo late"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the container runs (a client killed before it started
    // the monitor leaves a created container, which cc-rm removes).
    let id = wait_for(Duration::from_secs(5), "the container running", || {
        let id = env.container_ids().into_iter().next()?;
        env.ps_status(&id).starts_with("Up").then_some(id)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // Still up (or, on a slow machine, already ended by itself with 0).
    let st = env.ps_status(&id);
    assert!(
        st.starts_with("Up") || st.starts_with("Exited (0)"),
        "the container did not survive its client: {st}"
    );
    assert_eq!(env.wait_code(&id, Duration::from_secs(10)), "0");
    assert_eq!(stdout(&env.logs([&id])), "late\n");
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

/// The window the test above hits under load, made certain: the client
/// is killed as soon as the record exists, before it has attached to the
/// monitor. The container must still run to its end (or nothing must be
/// left), never stay "Created" with a monitor waiting forever.
#[test]
fn foreground_client_killed_before_attaching_does_not_strand_the_container() {
    root_or_skip!();
    let env = env_with_img();
    let mut child = env
        .cmd("cc-run")
        .args(["img", "sh", "-c", "sleep 0.3; echo late"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the client the moment its monitor exists: the monitor still has
    // to make its socket before the client can attach.
    let deadline = std::time::Instant::now() + support::scaled(Duration::from_secs(5));
    let id = loop {
        if let Some(id) = env.container_ids().into_iter().next() {
            if !monitor_pids(&id).is_empty() {
                break id;
            }
        }
        assert!(std::time::Instant::now() < deadline, "no monitor appeared");
        std::thread::yield_now();
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let checks = std::panic::catch_unwind(|| {
        // Give it time to start and end by itself (under systemd behind
        // other tests' scopes: fifty_detached_at_once runs beside it).
        let st = wait_for(
            Duration::from_secs(10),
            "the container to leave Created",
            || {
                let st = env.ps_status(&id);
                (!st.starts_with("Created") && !st.starts_with("Up")).then_some(st)
            },
        );
        assert!(st.starts_with("Exited (0)"), "cc-ps -a: {st}");
        assert_eq!(stdout(&env.logs([&id])), "late\n");
    });
    env.ok("cc-rm", ["-f", &id]);
    // No monitor may outlive its record: wait a little, then kill any
    // left (this test's own, by exact pid) and fail.
    let deadline = std::time::Instant::now() + support::scaled(Duration::from_secs(2));
    let mut left = monitor_pids(&id);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = monitor_pids(&id);
    }
    for pid in &left {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    if let Err(e) = checks {
        std::panic::resume_unwind(e);
    }
    assert!(
        left.is_empty(),
        "monitor {left:?} still runs after cc-rm -f"
    );
    if let Err(e) = checks {
        std::panic::resume_unwind(e);
    }
    assert_no_leaks(&env);
}
