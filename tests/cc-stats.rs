//! cc-stats: docker's columns and figures that move with what the
//! container does — its memory limit, a busy loop's CPU, traffic to its
//! address, its processes. Runs on the host (v1) and in the cgroup-v2 VM
//! (cgroupfs and systemd scopes).

use std::net::UdpSocket;
use std::process::Stdio;
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, json_lines, root_or_skip,
    stdout, table_header, wait_for, NetEnv,
};

/// One `cc-stats --no-stream --format json ID` sample.
fn sample(env: &support::Env, id: &str) -> serde_json::Value {
    let out = env.ok("cc-stats", ["--no-stream", "--format", "json", id]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    lines[0].clone()
}

fn field<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// `1.5kB / 648B` → bytes received (the first figure).
fn bytes(s: &str) -> f64 {
    let first = s.split(" / ").next().unwrap();
    let at = first.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let n: f64 = first[..at].parse().unwrap();
    let scale = match &first[at..] {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "KiB" => 1024.0,
        "MiB" => 1048576.0,
        u => panic!("unit {u} in {s}"),
    };
    n * scale
}

#[test]
fn the_table_shows_the_memory_limit_and_the_processes() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "-m",
        "64m",
        "img",
        "sh",
        "-c",
        "sleep 1000 & sleep 1000 & wait",
    ]);
    let out = env.ok("cc-stats", ["--no-stream"]);
    assert_eq!(
        table_header(&out),
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ]
    );
    let row = out
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no row:\n{out}"));
    assert!(row.starts_with(&id[..12]), "{out}");
    assert!(row.contains(" / 64MiB "), "limit not 64MiB:\n{out}");
    let s = sample(&env, &id);
    assert_eq!(field(&s, "Container"), id);
    assert_eq!(field(&s, "ID"), &id[..12]);
    assert_eq!(field(&s, "PIDs"), "3", "{s}");
    assert!(field(&s, "MemUsage").ends_with(" / 64MiB"), "{s}");
    assert!(field(&s, "MemPerc").ends_with('%'), "{s}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn a_busy_loop_shows_more_than_half_a_cpu() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "sh", "-c", "while :; do :; done"]);
    let busy = wait_for(Duration::from_secs(20), "CPU % above 50", || {
        let cpu = sample(&env, &id)["CPUPerc"]
            .as_str()?
            .trim_end_matches('%')
            .to_string();
        (cpu.parse::<f64>().ok()? > 50.0).then_some(cpu)
    });
    assert!(busy.parse::<f64>().unwrap() < 250.0, "{busy}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

/// --no-stream's one reading gives the CPU % averaged since the start
/// (podman's); the live view's next samples the use since the one before,
/// so a container busy at first and idle since shows it go down.
#[test]
fn no_stream_averages_since_the_start_and_the_live_view_follows_now() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "end=$(($(date +%s) + 2)); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 1000",
    ]);
    wait_for(Duration::from_secs(20), "the busy part's end", || {
        let out = env.ok("cc-top", [&id]);
        (!out.contains("while")).then_some(())
    });
    let cpu = |v: &serde_json::Value| -> f64 {
        field(v, "CPUPerc").trim_end_matches('%').parse().unwrap()
    };
    let average = cpu(&sample(&env, &id));
    assert!(average > 15.0, "average since the start: {average}");
    let mut child = env
        .cmd("cc-stats")
        .args(["--format", "json", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let lines = json_lines(&stdout(&child.wait_with_output().unwrap()));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(cpu(&lines[0]) > 15.0, "{lines:?}");
    assert!(cpu(&lines[1]) < 5.0, "{lines:?}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn net_io_grows_with_traffic_to_the_containers_address() {
    root_or_skip!();
    let env = NetEnv::with_img();
    let id = env.run_d(["img", "sleep", "1000"]);
    let ip = env.ip_of(&id);
    let before = bytes(field(&sample(&env, &id), "NetIO"));
    let sock = UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..20 {
        sock.send_to(&[7u8; 1000], format!("{ip}:9")).unwrap();
    }
    wait_for(Duration::from_secs(10), "NET I/O to grow by 20 kB", || {
        let now = bytes(field(&sample(&env, &id), "NetIO"));
        (now >= before + 20_000.0).then_some(())
    });
    env.ok("cc-rm", ["-f", &id]);
}

#[test]
fn streaming_json_gives_a_line_per_container_per_second() {
    root_or_skip!();
    let env = support::env_with_img();
    let a = env.run_d(["--name", "one", "img", "sleep", "1000"]);
    let b = env.run_d(["--name", "two", "img", "sleep", "1000"]);
    let mut child = env
        .cmd("cc-stats")
        .args(["--format", "json", "one", "two"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2800));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let lines = json_lines(&stdout(&out));
    assert!(lines.len() >= 4 && lines.len() <= 8, "{lines:?}");
    for pair in lines.chunks(2) {
        assert_eq!(field(&pair[0], "Name"), "one");
        assert_eq!(
            pair.get(1).map(|v| field(v, "Container")).unwrap_or("two"),
            "two"
        );
    }
    env.ok("cc-rm", ["-f", &a, &b]);
    assert_no_leaks(&env);
}

#[test]
fn stopped_containers_read_as_zeros_and_unknown_ones_are_not_found() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "true"]);
    env.wait_code(&id, Duration::from_secs(10));
    let out = env.ok("cc-stats", ["--no-stream", "-a"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&id[..12]) && l.contains("0.00%")),
        "{out}"
    );
    let only_running = env.ok("cc-stats", ["--no-stream"]);
    assert_eq!(only_running.lines().count(), 1, "{only_running}");
    let out = env.run("cc-stats", ["--no-stream", "nosuch"]);
    assert_code(&out, 3, "cc-stats nosuch");
    assert_one_line_error(&out, "cc-stats");
    assert_ok(&env.run("cc-rm", [&id]), "cc-rm");
}
