//! Container records after a kill (issue 15): every record is complete
//! or invisible and collected, by the next program that opens the store.
//! - cc-run -d killed at each step of making its record (item 2), and the
//!   half records an older cc left (no state.json; a name of no record);
//! - cc-rm killed while deleting (item 4), and an older cc's `.rm-<id>`;
//! - a killed monitor: never shown running, and its host port free for
//!   the next container (item 6).

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use support::{assert_no_leaks, assert_ok, root_or_skip, stderr, wait_for, Env, NetEnv};

/// Runs `prog args` with `CC_FAILPOINT=point` and checks it was killed there.
fn killed_at(env: &Env, point: &str, prog: &str, args: &[&str]) {
    let out = env
        .cmd(prog)
        .env("CC_FAILPOINT", point)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{prog} {args:?} was not killed at {point}: {:?} {}",
        out.status,
        stderr(&out)
    );
}

/// Entries of `containers/.pending` (records being made or deleted).
fn pending(env: &Env) -> Vec<String> {
    fs::read_dir(env.root.join("containers/.pending"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn run_killed_while_making_its_record_leaves_nothing_that_blocks() {
    root_or_skip!();
    let env = support::env_with_img();
    for point in ["run.staged", "run.named", "run.written", "run.created"] {
        killed_at(
            &env,
            point,
            "cc-run",
            &["-d", "--name", "web", "img", "sleep", "100"],
        );
        // One more program: what the kill left is collected, or shown.
        let ps = env.ok("cc-ps", ["-a"]);
        if point == "run.created" {
            // Complete but never started: listed as created, removable.
            assert!(
                ps.contains("web") && ps.contains("Created"),
                "{point}:\n{ps}"
            );
            env.ok("cc-rm", ["web"]);
        } else {
            assert!(
                !ps.contains("web"),
                "{point}: a half record is listed:\n{ps}"
            );
        }
        assert_no_leaks(&env);
        // The name is free again.
        env.ok("cc-run", ["--name", "web", "img", "true"]);
        env.ok("cc-rm", ["web"]);
    }
}

#[test]
fn a_record_without_state_is_shown_and_removed() {
    root_or_skip!();
    let env = support::env_with_img();
    // What an older cc-run left when killed between its config and state.
    env.ok("cc-run", ["--name", "half", "img", "true"]);
    let id = env.only_container();
    let dir = env.root.join("containers").join(&id);
    fs::remove_file(dir.join("state.json")).unwrap();
    fs::write(dir.join(".state.json.0123abcd.tmp"), "{\"stat").unwrap();
    let ps = env.ok("cc-ps", ["-a"]);
    let row = ps
        .lines()
        .find(|l| l.contains("half"))
        .unwrap_or_else(|| panic!("cc-ps -a does not show it:\n{ps}"));
    assert!(row.contains("Created"), "{row}");
    assert_eq!(env.inspect("State.Status", "half"), "created");
    let out = env.ok("cc-rm", ["half"]);
    assert_eq!(out.trim(), "half", "the reference as given (docker)");
    assert_no_leaks(&env);
    env.ok("cc-run", ["--name", "half", "img", "true"]);
}

#[test]
fn a_name_of_a_record_that_does_not_exist_is_taken_over() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok("cc-ps", ["-a"]);
    let names = env.root.join("containers/.names");
    fs::create_dir_all(&names).unwrap();
    std::os::unix::fs::symlink("ab".repeat(32), names.join("ghost")).unwrap();
    env.ok("cc-run", ["--name", "ghost", "img", "true"]);
    let id = env.only_container();
    assert_eq!(fs::read_link(names.join("ghost")).unwrap(), Path::new(&id));
    // A live record's name is not.
    let out = env.run("cc-run", ["--name", "ghost", "img", "true"]);
    support::assert_code(&out, 125, "cc-run --name ghost again");
    assert!(stderr(&out).contains("already in use"), "{}", stderr(&out));
}

#[test]
fn rm_killed_while_deleting_is_finished_by_the_next_program() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok(
        "cc-run",
        [
            "--name",
            "big",
            "img",
            "dd",
            "if=/dev/zero",
            "of=/big",
            "bs=1M",
            "count=8",
        ],
    );
    let upper = env.inspect("GraphDriver.Data.UpperDir", "big");
    assert!(Path::new(&upper).join("big").exists());
    killed_at(&env, "rm.unlisted", "cc-rm", &["big"]);
    assert_eq!(
        pending(&env).len(),
        1,
        "the claimed record: {:?}",
        pending(&env)
    );
    // Any program that opens the store finishes it.
    env.ok("cc-images", [] as [&str; 0]);
    assert_eq!(pending(&env), Vec::<String>::new());
    assert!(!Path::new(&upper).exists(), "its files are deleted");
    assert_no_leaks(&env);
    env.ok("cc-run", ["--name", "big", "img", "true"]);
}

#[test]
fn an_older_ccs_half_removed_record_is_finished() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok("cc-run", ["--name", "old", "img", "true"]);
    let id = env.only_container();
    let containers = env.root.join("containers");
    // As an older cc-rm killed after its rename.
    fs::rename(containers.join(&id), containers.join(format!(".rm-{id}"))).unwrap();
    fs::remove_file(containers.join(".names/old")).unwrap();
    env.ok("cc-ps", ["-a"]);
    assert_no_leaks(&env);
}

/// Whether `pid` has ended (gone, or a zombie waiting to be reaped).
fn ended(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s[s.rfind(')').unwrap() + 2..].starts_with('Z'),
    }
}

#[test]
fn a_killed_monitor_is_never_running_and_its_port_is_free() {
    root_or_skip!();
    let env = NetEnv::with_img();
    let port = support::free_port().to_string();
    let publish = format!("{port}:80");
    let old = env.run_d(["-p", publish.as_str(), "img", "sleep", "100"]);
    let old_ip = env.ip_of(&old);
    let monitor: i32 = env.inspect("State.MonitorPid", &old).parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for(Duration::from_secs(10), "the monitor ends", || {
        ended(monitor).then_some(())
    });
    // At once, not after its container's process is reaped.
    assert!(!env.ps_running(&old), "cc-ps shows it running");
    assert_eq!(env.inspect("State.Status", &old), "exited");
    // The next container gets the port without `cc-net gc`.
    let out = env.run(
        "cc-run",
        ["-d", "-p", publish.as_str(), "img", "sleep", "100"],
    );
    assert_ok(&out, "cc-run -p PORT after the port's monitor was killed");
    let new = support::stdout(&out).trim().to_string();
    let new_ip = env.ip_of(&new);
    let table = env.nft_table();
    assert!(
        table.contains(&format!("{port} : {new_ip} . 80")),
        "the port maps to the new container:\n{table}"
    );
    if new_ip != old_ip {
        assert!(!env.leases().contains(&old_ip), "the dead lease is gone");
    }
    env.ok("cc-rm", ["-f", &new, &old]);
}
