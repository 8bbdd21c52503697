//! Healthchecks, docker's, kept by the container's monitor: `--health-*`
//! and the image's HEALTHCHECK, `starting` → `healthy` / `unhealthy` after
//! the retries, the start period, the timeout that kills a hanging check,
//! `--no-healthcheck`, cc-healthcheck's run now, the `health_status`
//! events, cc-ps's status text and `--filter health=`, and cc-inspect's
//! State.Health.

use std::time::Duration;

use serde_json::Value;
use support::{assert_code, assert_no_leaks, assert_one_line_error, stdout, wait_for, Env};

const T: Duration = Duration::from_secs(30);

/// `State.Health` of `c` as JSON (null without one).
fn health(env: &Env, c: &str) -> Value {
    let out = env.ok("cc-inspect", [c]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let obj = if v.is_array() { v[0].clone() } else { v };
    obj["State"]["Health"].clone()
}

fn status(env: &Env, c: &str) -> String {
    env.inspect("{{.State.Health.Status}}", c)
}

fn wait_status(env: &Env, c: &str, want: &str) {
    wait_for(T, &format!("{c} to be {want}"), || {
        (status(env, c) == want).then_some(())
    });
}

/// The health_status actions of container `c` in the events log.
fn health_events(env: &Env, c: &str) -> Vec<String> {
    let out = env.ok(
        "cc-events",
        [
            "--since",
            "1h",
            "--until",
            "0s",
            "--filter",
            "event=health_status",
            "--filter",
            &format!("container={c}"),
            "--format",
            "{{.Action}}",
        ],
    );
    out.lines().map(String::from).collect()
}

/// `cc-run -d --name NAME FLAGS... img sleep 1d`; its id.
fn sleeper(env: &Env, name: &str, flags: &[&str]) -> String {
    let mut args = vec!["--name", name];
    args.extend_from_slice(flags);
    args.extend(["img", "sleep", "1d"]);
    env.run_d(args)
}

/// Names cc-ps lists with `--filter health=WANT`.
fn ps_health(env: &Env, want: &str) -> Vec<String> {
    let out = env.ok(
        "cc-ps",
        [
            "--filter",
            &format!("health={want}"),
            "--format",
            "{{.Names}}",
        ],
    );
    out.lines().map(String::from).collect()
}

#[test]
fn a_failing_check_turns_unhealthy_after_the_retries() {
    support::root_or_skip!();
    let env = support::env_with_img();
    let id = sleeper(
        &env,
        "sick",
        &[
            "--health-cmd",
            "echo out; echo err >&2; exit 1",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
        ],
    );
    // No check has run yet: one interval after the start.
    let first = env.ps_status(&id);
    assert!(
        first.ends_with("(health: starting)") || first.ends_with("(unhealthy)"),
        "{first}"
    );
    wait_status(&env, "sick", "unhealthy");
    let h = health(&env, "sick");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2, "{h}");
    let entry = &h["Log"][0];
    assert_eq!(entry["ExitCode"], 1, "{h}");
    // stdout and stderr, both (in the order they were read).
    let output = entry["Output"].as_str().unwrap();
    assert!(output.contains("out\n") && output.contains("err\n"), "{h}");
    assert!(
        entry["Start"].is_string() && entry["End"].is_string(),
        "{h}"
    );
    // The last five results are kept.
    wait_for(T, "five results", || {
        (health(&env, "sick")["Log"].as_array().unwrap().len() == 5).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(health(&env, "sick")["Log"].as_array().unwrap().len(), 5);
    assert!(
        env.ps_status(&id).ends_with("(unhealthy)"),
        "{}",
        env.ps_status(&id)
    );
    assert_eq!(ps_health(&env, "unhealthy"), ["sick"]);
    assert!(ps_health(&env, "healthy").is_empty());
    // One event: the status changed once (starting is no event).
    assert_eq!(health_events(&env, "sick"), ["health_status: unhealthy"]);
    env.ok("cc-rm", ["-f", "sick"]);
    assert_no_leaks(&env);
}

#[test]
fn a_passing_check_is_healthy_and_a_stopped_container_unhealthy() {
    support::root_or_skip!();
    let env = support::env_with_img();
    let id = sleeper(
        &env,
        "fine",
        &["--health-cmd", "true", "--health-interval", "200ms"],
    );
    sleeper(&env, "plain", &[]);
    wait_status(&env, "fine", "healthy");
    assert!(
        env.ps_status(&id).ends_with("(healthy)"),
        "{}",
        env.ps_status(&id)
    );
    assert_eq!(ps_health(&env, "healthy"), ["fine"]);
    assert_eq!(ps_health(&env, "none"), ["plain"]);
    let h = health(&env, "fine");
    assert_eq!(
        (h["FailingStreak"].clone(), h["Log"][0]["ExitCode"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(health_events(&env, "fine"), ["health_status: healthy"]);
    // No check, no State.Health (docker omits it).
    assert!(health(&env, "plain").is_null());
    assert_eq!(
        env.inspect("{{json .Config.Healthcheck.Test}}", "fine"),
        r#"["CMD-SHELL","true"]"#
    );
    env.ok("cc-stop", ["-t", "1", "fine"]);
    assert_eq!(status(&env, "fine"), "unhealthy");
    let bad = env.run("cc-ps", ["--filter", "health=sick"]);
    assert_code(&bad, 2, "cc-ps --filter health=sick");
    env.ok("cc-rm", ["-f", "fine", "plain"]);
    assert_no_leaks(&env);
}

#[test]
fn failures_in_the_start_period_do_not_count() {
    support::root_or_skip!();
    let env = support::env_with_img();
    sleeper(
        &env,
        "slow",
        &[
            "--health-cmd",
            "test -e /tmp/ready",
            "--health-interval",
            "200ms",
            "--health-start-interval",
            "200ms",
            "--health-start-period",
            "1h",
            "--health-retries",
            "1",
        ],
    );
    wait_for(T, "three failed checks", || {
        (health(&env, "slow")["Log"].as_array().unwrap().len() >= 3).then_some(())
    });
    let h = health(&env, "slow");
    assert_eq!(
        (h["Status"].as_str(), h["FailingStreak"].as_u64()),
        (Some("starting"), Some(0)),
        "{h}"
    );
    env.ok("cc-exec", ["slow", "touch", "/tmp/ready"]);
    wait_status(&env, "slow", "healthy");
    // Healthy once: the start period is over for failures.
    env.ok("cc-exec", ["slow", "rm", "/tmp/ready"]);
    wait_status(&env, "slow", "unhealthy");
    assert_eq!(
        health_events(&env, "slow"),
        ["health_status: healthy", "health_status: unhealthy"]
    );
    env.ok("cc-rm", ["-f", "slow"]);
    assert_no_leaks(&env);
}

#[test]
fn a_check_that_runs_over_its_timeout_is_killed() {
    support::root_or_skip!();
    let env = support::env_with_img();
    sleeper(
        &env,
        "hang",
        &[
            "--health-cmd",
            "sleep 1000 | cat",
            "--health-timeout",
            "300ms",
            "--health-interval",
            "200ms",
            "--health-retries",
            "1",
        ],
    );
    wait_status(&env, "hang", "unhealthy");
    let h = health(&env, "hang");
    assert_eq!(h["Log"][0]["ExitCode"], -1, "{h}");
    assert_eq!(
        h["Log"][0]["Output"], "Health check exceeded timeout (300ms)",
        "{h}"
    );
    // Killed with its process group: no check is left running (zombies
    // are the container's pid 1's to reap, as with docker).
    std::thread::sleep(Duration::from_millis(300));
    let ps = env.ok("cc-exec", ["hang", "ps", "-o", "pid,stat,args"]);
    let running = ps
        .lines()
        .filter(|l| l.ends_with(" sleep 1000") && !l.contains(" Z "))
        .count();
    assert!(
        running <= 1,
        "checks left running (one may be the current):\n{ps}"
    );
    env.ok("cc-rm", ["-f", "hang"]);
    assert_no_leaks(&env);
}

#[test]
fn the_image_check_runs_unless_no_healthcheck() {
    support::root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("hc");
    env.ok(
        "cc-import",
        [
            "-c",
            "CMD [\"sleep\", \"1d\"]",
            "-c",
            "HEALTHCHECK --interval=200ms --retries=1 CMD test -e /bin/sh",
            dir.to_str().unwrap(),
            "hc",
        ],
    );
    let json = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    let image_check = serde_json::json!({
        "Test": ["CMD-SHELL", "test -e /bin/sh"], "Interval": 200_000_000, "Retries": 1
    });
    assert_eq!(
        json(env.inspect("{{json .Config.Healthcheck}}", "hc")),
        image_check
    );
    env.run_d(["--name", "inherits", "hc"]);
    wait_status(&env, "inherits", "healthy");
    // A flag changes one field; the image's test stays.
    env.run_d(["--name", "slower", "--health-interval", "1h", "hc"]);
    let mut slower = image_check.clone();
    slower["Interval"] = 3_600_000_000_000u64.into();
    assert_eq!(
        json(env.inspect("{{json .Config.Healthcheck}}", "slower")),
        slower
    );
    env.run_d(["--name", "off", "--no-healthcheck", "hc"]);
    std::thread::sleep(Duration::from_millis(600));
    assert!(health(&env, "off").is_null());
    assert_eq!(ps_health(&env, "none"), ["off"]);
    env.ok("cc-rm", ["-f", "inherits", "slower", "off"]);
    assert_no_leaks(&env);
}

#[test]
fn bad_health_options_are_refused_and_leave_nothing() {
    support::root_or_skip!();
    let env = support::env_with_img();
    for args in [
        &["--no-healthcheck", "--health-cmd", "true"][..],
        &["--health-interval", "5"],
        &["--health-timeout", "500us", "--health-cmd", "true"],
        // A flag with nothing to check: the image has no HEALTHCHECK.
        &["--health-retries", "2"],
    ] {
        let mut all = vec!["-d"];
        all.extend_from_slice(args);
        all.extend(["img", "true"]);
        let out = env.run("cc-run", &all);
        // cc-run's bad input is 125, as docker's.
        assert_code(&out, 125, &format!("cc-run {all:?}"));
        assert_one_line_error(&out, "cc-run");
    }
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

#[test]
fn cc_healthcheck_runs_the_check_now() {
    support::root_or_skip!();
    let env = support::env_with_img();
    sleeper(
        &env,
        "now",
        &[
            "--health-cmd",
            "test -e /tmp/ok",
            "--health-interval",
            "1h",
            "--health-retries",
            "1",
        ],
    );
    assert_eq!(status(&env, "now"), "starting");
    let out = env.run("cc-healthcheck", ["now"]);
    assert_code(&out, 1, "cc-healthcheck of a failing check");
    assert_eq!(stdout(&out), "unhealthy\n");
    assert_eq!(status(&env, "now"), "unhealthy");
    assert_eq!(health(&env, "now")["Log"].as_array().unwrap().len(), 1);
    env.ok("cc-exec", ["now", "touch", "/tmp/ok"]);
    let out = env.run("cc-healthcheck", ["now"]);
    assert_code(&out, 0, "cc-healthcheck of a passing check");
    assert_eq!(stdout(&out), "");
    assert_eq!(status(&env, "now"), "healthy");
    assert_eq!(
        health_events(&env, "now"),
        ["health_status: unhealthy", "health_status: healthy"]
    );
    // Failures in the start period print `starting`.
    sleeper(
        &env,
        "early",
        &[
            "--health-cmd",
            "false",
            "--health-interval",
            "1h",
            "--health-start-period",
            "1h",
        ],
    );
    let out = env.run("cc-healthcheck", ["early"]);
    assert_code(&out, 1, "cc-healthcheck in the start period");
    assert_eq!(stdout(&out), "starting\n");
    // No check, not running, no such container.
    sleeper(&env, "plain", &[]);
    let out = env.run("cc-healthcheck", ["plain"]);
    assert_code(&out, 4, "cc-healthcheck without a check");
    assert_one_line_error(&out, "cc-healthcheck");
    env.ok("cc-stop", ["-t", "1", "now"]);
    let out = env.run("cc-healthcheck", ["now"]);
    assert_code(&out, 4, "cc-healthcheck of a stopped container");
    assert_one_line_error(&out, "cc-healthcheck");
    let out = env.run("cc-healthcheck", ["nope"]);
    assert_code(&out, 3, "cc-healthcheck of a missing container");
    env.ok("cc-rm", ["-f", "now", "early", "plain"]);
    assert_no_leaks(&env);
}

#[test]
fn cc_create_keeps_the_check_and_each_start_is_starting_again() {
    support::root_or_skip!();
    let env = support::env_with_img();
    env.ok(
        "cc-create",
        [
            "--name",
            "later",
            "--health-cmd",
            "true",
            "--health-interval",
            "1h",
            "img",
            "sleep",
            "1d",
        ],
    );
    // Never started: no State.Health yet, as docker's.
    assert!(health(&env, "later").is_null());
    env.ok("cc-start", ["later"]);
    assert_eq!(status(&env, "later"), "starting");
    env.ok("cc-healthcheck", ["later"]);
    assert_eq!(status(&env, "later"), "healthy");
    env.ok("cc-restart", ["-t", "1", "later"]);
    let h = health(&env, "later");
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(
        h["Log"].as_array().unwrap().len(),
        1,
        "the log is kept: {h}"
    );
    env.ok("cc-rm", ["-f", "later"]);
    assert_no_leaks(&env);
}
