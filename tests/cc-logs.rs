//! cc-logs: separate streams in order, the partial last line, --tail, -t,
//! --since, -f ending with the container, rotation, and a large output
//! arriving intact.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{assert_ok, env_with_img, root_or_skip, run_timeout, stderr, stdout, Env};

const T: Duration = Duration::from_secs(20);

/// Run a detached container and wait for it to end; returns its id.
fn finished(env: &Env, script: &str) -> String {
    let id = env.run_d(["img", "sh", "-c", script]);
    env.wait_code(&id, T);
    id
}

/// Whether `s` starts with an RFC 3339 date-time (`2024-01-02T03:04:05`,
/// optional fraction, `Z` or `+HH:MM`); returns the rest after one space.
fn strip_rfc3339(s: &str) -> Option<&str> {
    let (ts, rest) = s.split_once(' ')?;
    let b = ts.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut tail = &ts[19..];
    if let Some(f) = tail.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = &f[n..];
    }
    let zone = tail == "Z"
        || (tail.len() == 6
            && (tail.starts_with('+') || tail.starts_with('-'))
            && tail.as_bytes()[3] == b':');
    (shape && zone).then_some(rest)
}

#[test]
fn stdout_and_stderr_stay_separate_and_in_order() {
    root_or_skip!();
    let env = env_with_img();
    let id = finished(
        &env,
        "echo o1; sleep 0.05; echo e1 >&2; sleep 0.05; echo o2; sleep 0.05; echo e2 >&2",
    );
    let out = env.logs([&id]);
    assert_eq!(stdout(&out), "o1\no2\n", "stdout of cc-logs");
    assert_eq!(stderr(&out), "e1\ne2\n", "stderr of cc-logs");
    // Both streams into one pipe: the order the container wrote them.
    let merged = run_timeout(
        Command::new("sh")
            .args(["-c", "\"$0\" \"$1\" 2>&1"])
            .arg(support::bin("cc-logs"))
            .arg(&id)
            .env("CC_ROOT", &env.root),
        T,
    );
    assert_ok(&merged, "cc-logs 2>&1");
    assert_eq!(stdout(&merged), "o1\ne1\no2\ne2\n", "merged order");
}

#[test]
fn a_last_line_without_newline_is_kept_and_marked_partial() {
    root_or_skip!();
    let env = env_with_img();
    let id = finished(&env, "echo first; printf partial");
    let out = env.logs([&id]);
    assert_eq!(
        stdout(&out),
        "first\npartial",
        "cc-logs must keep the partial line, without newline"
    );
    let raw = fs::read_to_string(env.ctr_dir(&id).join("ctr.log")).unwrap();
    let lines = support::json_lines(&raw);
    let last = lines.last().expect("ctr.log has lines");
    assert_eq!(last["log"], "partial", "ctr.log:\n{raw}");
    assert_eq!(last["stream"], "stdout", "ctr.log:\n{raw}");
    assert_eq!(
        last["partial"], true,
        "last line not marked partial:\n{raw}"
    );
    assert!(
        lines[0].get("partial").is_none_or(|p| p == false),
        "a whole line is marked partial:\n{raw}"
    );
    // The log path inspect reports is that file.
    assert_eq!(
        env.inspect("LogPath", &id),
        env.ctr_dir(&id).join("ctr.log").display().to_string()
    );
}

#[test]
fn tail_prints_the_last_lines() {
    root_or_skip!();
    let env = env_with_img();
    let id = finished(&env, "for i in 1 2 3 4 5; do echo l$i; done");
    assert_eq!(stdout(&env.logs(["--tail", "2", &id])), "l4\nl5\n");
    assert_eq!(stdout(&env.logs(["--tail", "0", &id])), "");
    assert_eq!(
        stdout(&env.logs(["--tail", "10", &id])),
        "l1\nl2\nl3\nl4\nl5\n"
    );
}

#[test]
fn timestamps_prefix_an_rfc3339_time() {
    root_or_skip!();
    let env = env_with_img();
    let id = finished(&env, "echo a; echo b >&2; echo c");
    let out = env.logs(["-t", &id]);
    let o = stdout(&out);
    let texts: Vec<&str> = o
        .lines()
        .map(|l| strip_rfc3339(l).unwrap_or_else(|| panic!("no RFC 3339 time first: {l:?}")))
        .collect();
    assert_eq!(texts, ["a", "c"], "cc-logs -t stdout:\n{o}");
    let e = stderr(&out);
    let texts: Vec<&str> = e
        .lines()
        .map(|l| strip_rfc3339(l).unwrap_or_else(|| panic!("no RFC 3339 time first: {l:?}")))
        .collect();
    assert_eq!(texts, ["b"], "cc-logs -t stderr:\n{e}");
}

#[test]
fn since_a_future_time_prints_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let id = finished(&env, "echo a; echo b >&2");
    let out = env.logs(["--since", "2999-01-01T00:00:00Z", &id]);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
    // And a time in the past shows everything.
    let out = env.logs(["--since", "1h", &id]);
    assert_eq!(stdout(&out), "a\n");
    assert_eq!(stderr(&out), "b\n");
}

#[test]
fn follow_ends_by_itself_when_the_container_ends() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo l$i; sleep 0.2; done",
    ]);
    let t0 = Instant::now();
    let out = run_timeout(
        env.cmd("cc-logs").args(["-f", &id]),
        Duration::from_secs(10),
    );
    assert_ok(&out, "cc-logs -f");
    assert_eq!(stdout(&out), "l1\nl2\nl3\nl4\nl5\n");
    assert!(t0.elapsed() < Duration::from_secs(8));
    // On an exited container -f returns at once.
    let t0 = Instant::now();
    let out = run_timeout(env.cmd("cc-logs").args(["-f", &id]), Duration::from_secs(5));
    assert_ok(&out, "cc-logs -f on an exited container");
    assert_eq!(stdout(&out), "l1\nl2\nl3\nl4\nl5\n");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "cc-logs -f on an exited container took {:?}",
        t0.elapsed()
    );
}

#[test]
fn rotation_keeps_a_backup_and_the_last_line() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "--log-max-size",
        "2k",
        "img",
        "sh",
        "-c",
        "i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo line $i; done",
    ]);
    assert_eq!(env.wait_code(&id, T), "0");
    let dir = env.ctr_dir(&id);
    let cur = fs::metadata(dir.join("ctr.log")).expect("ctr.log").len();
    let old = fs::metadata(dir.join("ctr.log.1"))
        .expect("ctr.log.1")
        .len();
    assert!(cur > 0, "ctr.log is empty after rotation");
    assert!(old > 0, "ctr.log.1 is empty");
    assert!(
        cur <= 4096 && old <= 4096,
        "the log grew past the cap: ctr.log {cur} B, ctr.log.1 {old} B"
    );
    let out = stdout(&env.logs([&id]));
    assert_eq!(out.lines().last(), Some("line 500"), "cc-logs:\n{out}");
    // What is shown is a contiguous run ending at the last line.
    let nums: Vec<u32> = out
        .lines()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert!(
        nums.windows(2).all(|w| w[1] == w[0] + 1),
        "lines missing or out of order: {nums:?}"
    );
}

/// 1 GiB of 100-byte lines through a detached container's stdout,
/// compared by sha256 with the same pipeline run on the host.
#[test]
fn one_gib_of_stdout_arrives_intact() {
    root_or_skip!();
    let env = env_with_img();
    let line = "0123456789abcdef".repeat(7)[..99].to_string();
    let n: u64 = 1 << 30;
    let pipeline = format!("yes {line} | head -c {n}");
    let id = env.run_d(["--log-max-size", "0", "img", "sh", "-c", &pipeline]);
    assert_eq!(env.wait_code(&id, Duration::from_secs(240)), "0");
    let host = run_timeout(
        Command::new("sh").args(["-c", &format!("{pipeline} | sha256sum")]),
        T,
    );
    assert_ok(&host, "host pipeline");
    let want = stdout(&host).split_whitespace().next().unwrap().to_string();
    // Through a file: cc-logs -> file, then size and checksum.
    let file = env.dir.join("logs.out");
    let out = run_timeout(
        Command::new("sh")
            .args(["-c", "\"$0\" \"$1\" > \"$2\""])
            .arg(support::bin("cc-logs"))
            .arg(&id)
            .arg(&file)
            .env("CC_ROOT", &env.root),
        Duration::from_secs(240),
    );
    assert_ok(&out, "cc-logs > file");
    assert_eq!(stderr(&out), "", "the container wrote nothing to stderr");
    assert_eq!(fs::metadata(&file).unwrap().len(), n, "byte count");
    let got = run_timeout(Command::new("sha256sum").arg(&file), T);
    assert_eq!(
        stdout(&got).split_whitespace().next().unwrap(),
        want,
        "sha256 of cc-logs output differs from the host's"
    );
}

/// Max RSS in KiB of `cc-logs ARGS ID > /dev/null`, by GNU time.
fn cc_logs_max_rss(env: &Env, args: &[&str], id: &str) -> u64 {
    let out = run_timeout(
        Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(support::bin("cc-logs"))
            .args(args)
            .arg(id)
            .stdout(std::process::Stdio::null())
            .env("CC_ROOT", &env.root),
        Duration::from_secs(240),
    );
    assert_ok(&out, &format!("cc-logs {args:?}"));
    let err = stderr(&out);
    err.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{err}"))
}

/// A container that prints 200 MB without a newline: the log holds it as
/// 16 KiB partial records, and cc-logs (all of it, or --tail 1) streams
/// them in bounded memory instead of joining them.
#[test]
fn a_long_line_without_newline_is_read_in_bounded_memory() {
    root_or_skip!();
    if !std::path::Path::new("/usr/bin/time").exists() {
        assert!(std::env::var_os("CI").is_none(), "GNU time is needed");
        return;
    }
    let env = env_with_img();
    let n: u64 = 200_000_000;
    let script = format!("head -c {n} /dev/zero | tr '\\0' x");
    let id = env.run_d(["--log-max-size", "0", "img", "sh", "-c", &script]);
    assert_eq!(env.wait_code(&id, Duration::from_secs(240)), "0");
    let bound = 64 << 10;
    for args in [&[][..], &["--tail", "1"][..]] {
        let rss = cc_logs_max_rss(&env, args, &id);
        assert!(rss < bound, "cc-logs {args:?} used {rss} KiB");
    }
    // And all of it arrives.
    let out = run_timeout(
        Command::new("sh")
            .args(["-c", "\"$0\" \"$1\" | wc -c"])
            .arg(support::bin("cc-logs"))
            .arg(&id)
            .env("CC_ROOT", &env.root),
        Duration::from_secs(240),
    );
    assert_eq!(stdout(&out).trim(), n.to_string());
}
