//! `--restart`: the monitor starts a command that ended again, counts it
//! (cc-inspect RestartCount, cc-ps `Restarting (N)` while it waits), stops
//! after on-failure's N, after cc-stop, and `cc-start --all-restartable`
//! brings back what a reboot (here: a killed monitor) left stopped.

use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_one_line_error, monitor_pids, root_or_skip, stdout,
    wait_for, Env,
};

const T: Duration = Duration::from_secs(30);

fn count(env: &Env, c: &str) -> u32 {
    env.inspect("RestartCount", c).parse().unwrap()
}

/// Ended for good: exited, and no monitor waits to restart it.
fn settled(env: &Env, c: &str) -> bool {
    env.inspect("State.Status", c) == "exited" && monitor_pids(&env.inspect("Id", c)).is_empty()
}

fn runs(env: &Env, c: &str) -> usize {
    stdout(&env.logs([c]))
        .lines()
        .filter(|l| *l == "run")
        .count()
}

#[test]
fn on_failure_restarts_exactly_n_times() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "--name",
        "f",
        "--restart",
        "on-failure:2",
        "img",
        "sh",
        "-c",
        "echo run; exit 3",
    ]);
    wait_for(T, "two restarts, then the end", || {
        (count(&env, "f") == 2 && settled(&env, "f")).then_some(())
    });
    assert_eq!(runs(&env, "f"), 3, "the first run and two restarts");
    assert!(
        env.ps_status(&id).starts_with("Exited (3)"),
        "{}",
        env.ps_status(&id)
    );
    assert_eq!(
        env.inspect("HostConfig.RestartPolicy.Name", "f"),
        "on-failure"
    );
    assert_eq!(
        env.inspect("HostConfig.RestartPolicy.MaximumRetryCount", "f"),
        "2"
    );
    // A success is not a failure: no restart.
    env.run_d(["--name", "ok", "--restart", "on-failure", "img", "true"]);
    wait_for(T, "ok to end", || settled(&env, "ok").then_some(()));
    assert_eq!(count(&env, "ok"), 0);
    env.ok("cc-rm", ["f", "ok"]);
    assert_no_leaks(&env);
}

#[test]
fn always_restarts_a_clean_exit_with_back_off_until_cc_stop() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "--name",
        "a",
        "--restart",
        "always",
        "img",
        "sh",
        "-c",
        "echo run",
    ]);
    // The back-off doubles (100, 200, 400, 800 ms...).
    wait_for(T, "three restarts", || {
        (count(&env, "a") >= 3).then_some(())
    });
    wait_for(T, "cc-ps to show Restarting (0)", || {
        env.ps_status(&id)
            .starts_with("Restarting (0)")
            .then_some(())
    });
    // One read of the record (it changes every few hundred ms).
    wait_for(T, "cc-inspect to say restarting", || {
        let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", ["a"])).ok()?;
        let s = &v[0]["State"];
        (s["Status"] == "restarting" && s["Restarting"] == true).then_some(())
    });
    env.ok("cc-stop", ["a"]);
    wait_for(T, "a to settle after cc-stop", || {
        settled(&env, "a").then_some(())
    });
    let n = count(&env, "a");
    let logged = runs(&env, "a");
    // The behaviour under test: nothing restarts it once stopped.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!((count(&env, "a"), runs(&env, "a")), (n, logged));
    assert!(monitor_pids(&id).is_empty(), "a monitor still runs");
    // A start by the user begins anew: the count from zero.
    env.ok("cc-start", ["a"]);
    // Reset by cc-start before the monitor runs: below the last count.
    assert!(
        count(&env, "a") < n,
        "count {} after cc-start",
        count(&env, "a")
    );
    env.ok("cc-stop", ["a"]);
    wait_for(T, "a to settle", || settled(&env, "a").then_some(()));
    env.ok("cc-rm", ["a"]);
    assert_no_leaks(&env);
}

#[test]
fn rm_with_a_policy_and_bad_policies_are_refused() {
    root_or_skip!();
    let env = support::env_with_img();
    for args in [
        vec!["--rm", "--restart", "always", "img", "true"],
        vec!["--restart", "sometimes", "img", "true"],
        vec!["--restart", "on-failure:x", "img", "true"],
    ] {
        let out = env.run("cc-run", &args);
        assert_code(&out, 125, &format!("cc-run {args:?}"));
        assert_one_line_error(&out, "cc-run");
        assert!(env.container_ids().is_empty(), "{args:?} left a record");
    }
    // --rm with --restart no is fine, as docker.
    env.ok("cc-run", ["--rm", "--restart", "no", "img", "true"]);
    assert_no_leaks(&env);
}

#[test]
fn all_restartable_starts_what_a_reboot_left_but_not_what_the_user_stopped() {
    root_or_skip!();
    let env = support::env_with_img();
    let long = ["img", "sleep", "600"];
    let ids: Vec<String> = [
        ("us-stopped", "unless-stopped"),
        ("us-crashed", "unless-stopped"),
        ("always-stopped", "always"),
        ("never", "no"),
    ]
    .iter()
    .map(|(name, policy)| {
        let mut a = vec!["--name", name, "--restart", policy];
        a.extend(long);
        env.run_d(a)
    })
    .collect();
    env.ok("cc-stop", ["-t", "1", "us-stopped", "always-stopped"]);
    // A reboot, as far as the records know: the monitors die unasked.
    for id in [&ids[1], &ids[3]] {
        for pid in monitor_pids(id) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        }
    }
    for name in ["us-stopped", "us-crashed", "always-stopped", "never"] {
        wait_for(T, &format!("{name} to end"), || {
            settled(&env, name).then_some(())
        });
    }
    let started = env.ok("cc-start", ["--all-restartable"]);
    let mut started: Vec<&str> = started.lines().collect();
    started.sort();
    let mut want = vec![ids[1].as_str(), ids[2].as_str()];
    want.sort();
    assert_eq!(
        started, want,
        "us-crashed and always-stopped, as docker's daemon"
    );
    assert!(env.ps_running(&ids[1]) && env.ps_running(&ids[2]));
    assert!(!env.ps_running(&ids[0]) && !env.ps_running(&ids[3]));
    // Nothing left to start.
    assert_eq!(env.ok("cc-start", ["--all-restartable"]), "");
    env.ok("cc-rm", ["-f", &ids[0], &ids[1], &ids[2], &ids[3]]);
    assert_no_leaks(&env);
}

#[test]
fn cc_update_changes_the_policy_of_a_running_container() {
    root_or_skip!();
    let env = support::env_with_img();
    // Runs until /stop exists in it, then fails.
    let script = "echo run; while [ ! -e /stop ]; do sleep 0.05; done; rm /stop; exit 1";
    env.run_d(["--name", "u", "img", "sh", "-c", script]);
    env.ok("cc-update", ["--restart", "on-failure:1", "u"]);
    assert_eq!(
        env.inspect("HostConfig.RestartPolicy.Name", "u"),
        "on-failure"
    );
    let stop = || {
        env.ok("cc-exec", ["u", "touch", "/stop"]);
    };
    stop();
    wait_for(T, "one restart", || (count(&env, "u") == 1).then_some(()));
    wait_for(T, "the second run", || (runs(&env, "u") == 2).then_some(()));
    stop();
    wait_for(T, "u to settle", || settled(&env, "u").then_some(()));
    assert_eq!(count(&env, "u"), 1);
    let out = env.run("cc-update", ["--restart", "later", "u"]);
    assert_code(&out, 2, "cc-update --restart later");
    env.ok("cc-rm", ["u"]);
    assert_no_leaks(&env);
}

#[test]
fn a_restarting_container_is_removed_only_with_force() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "--name",
        "r",
        "--restart",
        "always",
        "img",
        "sh",
        "-c",
        "exit 1",
    ]);
    wait_for(T, "r to be restarting", || {
        (count(&env, "r") >= 4 && env.inspect("State.Status", "r") == "restarting").then_some(())
    });
    let out = env.run("cc-rm", ["r"]);
    assert_code(&out, 4, "cc-rm of a restarting container");
    assert_one_line_error(&out, "cc-rm");
    env.ok("cc-rm", ["-f", "r"]);
    wait_for(T, "its monitor to end", || {
        monitor_pids(&id).is_empty().then_some(())
    });
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

#[test]
fn a_shutdown_that_terms_the_monitor_is_not_restarted() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "--name",
        "s",
        "--restart",
        "always",
        "img",
        "sh",
        "-c",
        "trap 'exit 7' TERM; while :; do sleep 0.1; done",
    ]);
    env.wait_for_trap(&id, nix::sys::signal::SIGTERM);
    for pid in monitor_pids(&id) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM);
    }
    wait_for(T, "s to settle", || settled(&env, "s").then_some(()));
    assert_eq!(count(&env, "s"), 0);
    assert_eq!(env.inspect("State.ExitCode", "s"), "7");
    // Not stopped by the user: the next boot brings it back.
    assert_eq!(env.ok("cc-start", ["--all-restartable"]).trim(), id);
    env.ok("cc-rm", ["-f", "s"]);
    assert_no_leaks(&env);
}
