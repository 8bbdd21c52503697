//! cc-events: what cc programs did, in docker's event form: history with
//! --since/--until, filters, JSON, and following as events happen.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{assert_code, assert_ok, env_with_img, json_lines, root_or_skip, stdout, Env};

/// The events of the last hour up to now, as JSON objects.
fn history(env: &Env, filters: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["--since", "1h", "--until", "0s", "--format", "json"];
    for f in filters {
        args.extend(["--filter", f]);
    }
    json_lines(&env.ok("cc-events", args))
}

fn actions(evs: &[serde_json::Value]) -> Vec<String> {
    evs.iter()
        .map(|e| e["Action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_container_s_life_is_recorded_in_order() {
    root_or_skip!();
    let env = env_with_img();
    let out = env.run(
        "cc-run",
        [
            "--name", "ev1", "--net", "none", "-l", "team=a", "img", "sh", "-c", "exit 3",
        ],
    );
    assert_code(&out, 3, "cc-run exit 3");
    env.ok("cc-rm", ["ev1"]);
    let evs = history(&env, &["container=ev1"]);
    assert_eq!(
        actions(&evs),
        ["create", "start", "die", "destroy"],
        "{evs:?}"
    );
    let die = &evs[2];
    assert_eq!(die["Type"], "container");
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(die["Actor"]["Attributes"]["name"], "ev1");
    assert_eq!(die["Actor"]["Attributes"]["image"], "img");
    assert_eq!(
        die["Actor"]["Attributes"]["team"], "a",
        "labels are attributes"
    );
    assert_eq!(die["status"], "die");
    assert_eq!(die["from"], "img");
    // The same history as docker's lines.
    let text = env.ok(
        "cc-events",
        ["--since", "1h", "--until", "0s", "--filter", "event=die"],
    );
    let line = text.lines().find(|l| l.contains("ev1")).expect(&text);
    // docker's Go templates over the Go field names.
    let t = env.ok(
        "cc-events",
        [
            "--since",
            "1h",
            "--until",
            "0s",
            "-f",
            "container=ev1",
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}}",
        ],
    );
    assert_eq!(
        t,
        "container create ev1 create\ncontainer start ev1 start\ncontainer die ev1 die\ncontainer destroy ev1 destroy\n"
    );
    let out = env.run("cc-events", ["--until", "0s", "--format", "{{.Nope}}"]);
    assert_code(&out, 1, "unknown field");
    assert!(
        support::stderr(&out).contains("Nope"),
        "{}",
        support::stderr(&out)
    );
    let id = die["Actor"]["ID"].as_str().unwrap();
    assert!(
        line.contains(&format!(
            " container die {id} (exitCode=3, image=img, name=ev1, team=a)"
        )),
        "{line}"
    );
}

#[test]
fn kill_stop_exec_and_network_events() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "--name",
        "ev2",
        "img",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ]);
    env.wait_for_trap(&id, nix::sys::signal::SIGTERM);
    let out = env.run("cc-exec", ["ev2", "sh", "-c", "exit 4"]);
    assert_code(&out, 4, "cc-exec exit 4");
    env.ok("cc-stop", ["-t", "1", "ev2"]);
    env.ok("cc-rm", ["ev2"]);
    let evs = history(&env, &["container=ev2"]);
    let got = actions(&evs);
    assert_eq!(
        got,
        [
            "create",
            "start",
            "exec_create: sh -c exit 4",
            "exec_start: sh -c exit 4",
            "exec_die",
            "kill",
            "die",
            "stop",
            "destroy"
        ],
        "{evs:?}"
    );
    let exec_die = &evs[4];
    assert_eq!(exec_die["Actor"]["Attributes"]["exitCode"], "4");
    assert_eq!(evs[5]["Actor"]["Attributes"]["signal"], "15");
    // The bridge network: connect before start, disconnect after die.
    let net = history(&env, &["type=network"]);
    let mine: Vec<_> = net
        .iter()
        .filter(|e| e["Actor"]["Attributes"]["container"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "{net:?}");
    assert_eq!(mine[0]["Action"], "connect");
    assert_eq!(mine[1]["Action"], "disconnect");
    assert_eq!(mine[0]["Actor"]["Attributes"]["name"], "bridge");
    // event= filters by the action's word before the colon.
    let execs = history(&env, &["container=ev2", "event=exec_create"]);
    assert_eq!(execs.len(), 1, "{execs:?}");
}

#[test]
fn a_restart_ends_with_docker_s_restart_event() {
    root_or_skip!();
    let env = env_with_img();
    env.run_d([
        "--name",
        "ev5",
        "--net",
        "none",
        "img",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ]);
    env.ok("cc-restart", ["-t", "5", "ev5"]);
    let evs = history(&env, &["container=ev5"]);
    env.ok("cc-rm", ["-f", "ev5"]);
    assert_eq!(
        actions(&evs),
        ["create", "start", "kill", "die", "stop", "start", "restart"],
        "{evs:?}"
    );
    assert_eq!(evs[6]["Actor"]["Attributes"]["name"], "ev5");
}

#[test]
fn a_detached_exec_records_its_end() {
    root_or_skip!();
    let env = env_with_img();
    env.run_d(["--name", "ev3", "--net", "none", "img", "sleep", "100"]);
    // cc-exec -d returns at once, its output (a pipe) read to the end,
    // while the command runs on; a waiter it left records exec_die.
    let start = Instant::now();
    let out = env.run("cc-exec", ["-d", "ev3", "sh", "-c", "sleep 1; exit 5"]);
    assert_ok(&out, "cc-exec -d");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "cc-exec -d waited for its command: {:?}",
        start.elapsed()
    );
    let exec_actions = || {
        let evs = history(&env, &["container=ev3", "event=exec_die"]);
        actions(&history(&env, &["container=ev3"]))
            .into_iter()
            .filter(|a| a.starts_with("exec_"))
            .collect::<Vec<_>>()
            .join(",")
            + &evs
                .first()
                .map(|e| format!(" exitCode={}", e["Actor"]["Attributes"]["exitCode"]))
                .unwrap_or_default()
    };
    assert_eq!(
        exec_actions(),
        "exec_create: sh -c sleep 1; exit 5,exec_start: sh -c sleep 1; exit 5",
        "exec_die before the command ended"
    );
    let got = support::wait_for(Duration::from_secs(10), "the exec_die event", || {
        let a = exec_actions();
        a.contains("exec_die").then_some(a)
    });
    assert_eq!(
        got,
        "exec_create: sh -c sleep 1; exit 5,exec_start: sh -c sleep 1; exit 5,exec_die exitCode=\"5\""
    );
    // A command that cannot start is reported by cc-exec -d itself.
    let out = env.run("cc-exec", ["-d", "ev3", "/nope"]);
    assert_code(&out, 127, "cc-exec -d /nope");
    env.ok("cc-rm", ["-f", "ev3"]);
}

#[test]
fn image_events_tag_untag_delete_save_load() {
    root_or_skip!();
    let env = env_with_img();
    let img_id = env.inspect("Id", "img");
    env.ok("cc-tag", ["img", "other:1"]);
    env.ok("cc-rmi", ["other:1"]);
    let archive = env.base().join("img.tar");
    env.ok("cc-save", ["-o", archive.to_str().unwrap(), "img"]);
    env.ok("cc-rmi", ["img"]);
    env.ok("cc-load", ["-i", archive.to_str().unwrap()]);
    let evs = history(&env, &["type=image"]);
    let got: Vec<(String, String)> = evs
        .iter()
        .map(|e| {
            (
                e["Action"].as_str().unwrap().to_string(),
                e["Actor"]["Attributes"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let want = [
        ("tag", "other:1"),
        ("untag", "other:1"),
        ("save", "img:latest"),
        ("untag", "img:latest"),
        ("delete", img_id.as_str()),
        ("load", "img:latest"),
    ];
    let tail = &got[got.len() - want.len()..];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(tail, want.as_slice(), "{evs:?}");
}

#[test]
fn following_shows_new_events_as_they_happen() {
    root_or_skip!();
    let env = env_with_img();
    // An event before the follower starts is not shown: no --since.
    env.ok("cc-tag", ["img", "before:1"]);
    let mut follower = env
        .cmd("cc-events")
        .args(["--format", "json", "--filter", "container=ev3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    // The follower watches before it reads: give it a moment to start.
    std::thread::sleep(Duration::from_millis(300));
    assert_ok(
        &env.run(
            "cc-run",
            ["--rm", "--name", "ev3", "--net", "none", "img", "true"],
        ),
        "cc-run",
    );
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(|a: &String| a == "destroy") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            seen.push(v["Action"].as_str().unwrap().to_string());
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(seen, ["create", "start", "die", "destroy"]);
}

#[test]
fn until_in_the_future_ends_on_its_own_and_bad_input_is_refused() {
    root_or_skip!();
    let env = env_with_img();
    let start = Instant::now();
    let out = env.run("cc-events", ["--until", &unix_in(2)]);
    assert_ok(&out, "cc-events --until soon");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "returned at once"
    );
    for bad in [
        vec!["--since", "yesterday-ish"],
        vec!["--filter", "colour=red"],
    ] {
        let out = env.run("cc-events", &bad);
        assert_code(&out, 2, &format!("cc-events {bad:?}"));
        assert!(stdout(&out).is_empty());
    }
}

fn unix_in(secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_secs() + secs).to_string()
}

#[test]
fn pause_unpause_rename_and_update_are_recorded() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["--name", "ev4", "--net", "none", "img", "sleep", "100"]);
    env.ok("cc-pause", ["ev4"]);
    env.ok("cc-unpause", ["ev4"]);
    env.ok("cc-rename", ["ev4", "ev5"]);
    env.ok("cc-update", ["--pids-limit", "50", "ev5"]);
    let evs = history(&env, &[&format!("container={id}")]);
    let got = actions(&evs);
    assert_eq!(
        got,
        ["create", "start", "pause", "unpause", "rename", "update"],
        "{evs:?}"
    );
    assert_eq!(evs[4]["Actor"]["Attributes"]["oldName"], "ev4");
    assert_eq!(evs[4]["Actor"]["Attributes"]["name"], "ev5");
    env.ok("cc-rm", ["-f", &id]);
}
