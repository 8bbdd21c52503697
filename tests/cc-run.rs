//! cc-run: isolation, the upper dir, limits, pty, exit codes and signals,
//! env/user/workdir, bind mounts, the record, bad input, concurrency.

use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_no_stray, assert_ok, assert_one_line_error, cgroup_dir,
    root_or_skip, stderr, stdout, tree_snapshot, wait_for, Env,
};

/// An env with a busybox image named `img`.
fn env_img() -> Env {
    let env = Env::new();
    env.busybox_image("img");
    env
}

/// `cc-run img sh -c SCRIPT`, asserting success; returns stdout.
fn sh(env: &Env, script: &str) -> String {
    env.ok("cc-run", ["--rm", "img", "sh", "-c", script])
}

/// Start cc-run as a child process with piped output.
fn spawn(env: &Env, args: &[&str]) -> Child {
    env.cmd("cc-run")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cc-run")
}

/// Wait until this env has one container whose cgroup holds at least
/// `procs` processes; returns its id.
fn wait_running(env: &Env, procs: usize) -> String {
    wait_for(Duration::from_secs(30), "the container to run", || {
        let id = env.container_ids().into_iter().next()?;
        let n = fs::read_to_string(cgroup_dir("pids", &id).join("cgroup.procs"))
            .ok()?
            .lines()
            .count();
        (n >= procs).then_some(id)
    })
}

// --- isolation ---------------------------------------------------------

#[test]
fn command_is_pid_1() {
    root_or_skip!();
    let env = env_img();
    assert_eq!(sh(&env, "echo $$").trim(), "1");
}

#[test]
fn hostname_is_the_short_id_or_the_given_name() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok("cc-run", ["img", "hostname"]);
    let id = env.only_container();
    assert_eq!(out.trim(), &id[..12]);
    let out = env.ok("cc-run", ["--rm", "--hostname", "x", "img", "hostname"]);
    assert_eq!(out.trim(), "x");
    let out = env.ok(
        "cc-run",
        ["--rm", "--hostname", "x", "img", "cat", "/etc/hostname"],
    );
    assert_eq!(out.trim(), "x");
}

#[test]
fn ps_sees_only_the_container() {
    root_or_skip!();
    let env = env_img();
    let out = sh(&env, "ps -o pid,comm");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(
        rows.len() <= 2,
        "more processes than sh and ps inside:\n{out}"
    );
    for r in rows {
        let comm = r.split_whitespace().nth(1).unwrap_or("");
        assert!(
            comm == "sh" || comm == "ps",
            "a process from outside is visible: {r}\n{out}"
        );
    }
}

#[test]
fn host_mounts_are_invisible() {
    root_or_skip!();
    let env = env_img();
    let target = env.dir.join("hostonly-tmpfs");
    fs::create_dir_all(&target).unwrap();
    nix::mount::mount(
        Some("cc-test-tmpfs"),
        &target,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount a tmpfs on the host");
    let out = sh(&env, "cat /proc/mounts");
    assert!(
        !out.contains("hostonly-tmpfs"),
        "a host mount shows inside:\n{out}"
    );
    assert!(
        !out.contains("cc-test-tmpfs"),
        "a host mount shows inside:\n{out}"
    );
}

#[test]
fn dev_is_a_fresh_tmpfs_not_the_images() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("img");
    fs::create_dir_all(rootfs.join("dev")).unwrap();
    fs::write(rootfs.join("dev/evil"), "from the image").unwrap();
    env.import_dir(&rootfs, "img");
    let out = sh(&env, "grep ' /dev ' /proc/mounts; ls /dev");
    let first = out.lines().next().unwrap_or("");
    assert_eq!(
        first.split_whitespace().nth(2),
        Some("tmpfs"),
        "/dev is not a tmpfs:\n{out}"
    );
    for dev in ["null", "zero", "full", "random", "urandom", "tty"] {
        assert!(out.lines().any(|l| l == dev), "/dev/{dev} missing:\n{out}");
    }
    assert!(
        !out.lines().any(|l| l == "evil"),
        "the image's /dev shows:\n{out}"
    );
    // They are device nodes that work, not files.
    let out = sh(
        &env,
        "for d in null zero full random urandom tty; do test -c /dev/$d || echo notchar $d; done; \
         head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo nullok",
    );
    assert_eq!(out.trim(), "4\nnullok", "device nodes misbehave:\n{out}");
}

#[test]
fn sys_is_read_only() {
    root_or_skip!();
    let env = env_img();
    let out = sh(
        &env,
        "grep ' /sys ' /proc/mounts; mkdir /sys/cc-test 2>&1; echo rc=$?",
    );
    let first = out.lines().next().unwrap_or("");
    let opts = first.split_whitespace().nth(3).unwrap_or("");
    assert!(
        opts.split(',').any(|o| o == "ro"),
        "/sys not mounted ro: {first}"
    );
    assert!(!out.contains("rc=0"), "mkdir in /sys worked:\n{out}");
}

#[test]
fn proc_is_masked_and_proc_sys_read_only() {
    root_or_skip!();
    let env = env_img();
    // /proc/kcore is absent on some kernels; check the masked files this
    // host has.
    let masked: Vec<&str> = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ]
    .into_iter()
    .filter(|p| Path::new(p).exists())
    .collect();
    for p in &masked {
        let out = sh(&env, &format!("wc -c < {p}"));
        assert_eq!(
            out.trim(),
            "0",
            "{p} is not masked inside (size {})",
            out.trim()
        );
    }
    let out = sh(
        &env,
        "grep ' /proc/sys ' /proc/mounts; (echo cc > /proc/sys/kernel/domainname) 2>&1; echo rc=$?",
    );
    let first = out.lines().next().unwrap_or("");
    let opts = first.split_whitespace().nth(3).unwrap_or("");
    assert!(
        opts.split(',').any(|o| o == "ro"),
        "/proc/sys not ro: {out}"
    );
    assert!(
        out.contains("Read-only file system"),
        "/proc/sys writable:\n{out}"
    );
}

#[test]
fn writes_land_in_the_upper_dir_and_never_change_the_image() {
    root_or_skip!();
    let env = env_img();
    let layers = env.root.join("layers");
    let before = tree_snapshot(&layers);
    env.ok(
        "cc-run",
        [
            "--name",
            "writer",
            "img",
            "sh",
            "-c",
            "echo hi > /newfile; rm /bin/ls; echo x >> /etc/passwd",
        ],
    );
    let upper = env.inspect("GraphDriver.Data.UpperDir", "writer");
    assert_eq!(
        fs::read_to_string(Path::new(&upper).join("newfile")).unwrap(),
        "hi\n"
    );
    // A second container from the same image sees none of it.
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "img",
            "sh",
            "-c",
            "cat /newfile; ls /bin/ls; tail -n1 /etc/passwd",
        ],
    );
    let o = stdout(&out);
    assert!(
        !o.contains("hi"),
        "second container sees the first's file:\n{o}"
    );
    assert!(o.contains("/bin/ls"), "second container lost /bin/ls:\n{o}");
    assert!(
        !o.lines().any(|l| l == "x"),
        "second container sees the passwd change:\n{o}"
    );
    assert_eq!(tree_snapshot(&layers), before, "the layer folder changed");
}

// --- limits ------------------------------------------------------------

#[test]
fn memory_limit_kills_with_137_and_records_oom() {
    root_or_skip!();
    let env = env_img();
    // tail keeps the last line of /dev/zero, which never ends.
    let out = env.run(
        "cc-run",
        ["--name", "hog", "-m", "32m", "img", "tail", "/dev/zero"],
    );
    assert_code(&out, 137, "cc-run -m 32m img tail /dev/zero");
    assert_eq!(env.inspect("State.OOMKilled", "hog"), "true");
    assert_eq!(env.inspect("State.ExitCode", "hog"), "137");
    assert_no_stray(&env);
}

#[test]
fn memory_limit_is_written_to_the_cgroup() {
    root_or_skip!();
    let env = env_img();
    let mut child = spawn(&env, &["--rm", "-m", "32m", "img", "sleep", "3"]);
    let id = wait_running(&env, 1);
    let limit = fs::read_to_string(cgroup_dir("memory", &id).join("memory.limit_in_bytes"))
        .or_else(|_| fs::read_to_string(cgroup_dir("memory", &id).join("memory.max")))
        .unwrap();
    assert_eq!(limit.trim(), (32 * 1024 * 1024).to_string());
    assert_ok(&child.wait_with_output_ref(), "cc-run -m 32m sleep");
    assert_no_leaks(&env);
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    root_or_skip!();
    let env = env_img();
    let child = spawn(
        &env,
        &[
            "--rm",
            "--pids-limit",
            "20",
            "img",
            "sh",
            "-c",
            // ash gives up on a failed fork, so the bomb runs in a subshell
            // and pid 1 then execs (no fork): the container outlives it.
            "(for i in $(seq 100); do sleep 3 & done); exec sleep 3",
        ],
    );
    let id = wait_running(&env, 1);
    let max = fs::read_to_string(cgroup_dir("pids", &id).join("pids.max")).unwrap();
    assert_eq!(max.trim(), "20");
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("can't fork"),
        "the fork bomb was not stopped; stderr:\n{err}"
    );
    assert_no_leaks(&env);
}

#[test]
fn cpus_sets_the_cfs_quota() {
    root_or_skip!();
    let env = env_img();
    let mut child = spawn(
        &env,
        &[
            "--rm",
            "--cpus",
            "0.5",
            "img",
            "sh",
            "-c",
            "cat /proc/self/cgroup; sleep 2",
        ],
    );
    let id = wait_running(&env, 1);
    let dir = cgroup_dir("cpu", &id);
    let quota = fs::read_to_string(dir.join("cpu.cfs_quota_us")).unwrap();
    let period = fs::read_to_string(dir.join("cpu.cfs_period_us")).unwrap();
    assert_eq!(quota.trim(), "50000");
    assert_eq!(period.trim(), "100000");
    assert_ok(&child.wait_with_output_ref(), "cc-run --cpus 0.5");
}

#[test]
fn cpu_shares_are_set() {
    root_or_skip!();
    let env = env_img();
    let mut child = spawn(&env, &["--rm", "-c", "512", "img", "sleep", "2"]);
    let id = wait_running(&env, 1);
    let shares = fs::read_to_string(cgroup_dir("cpu", &id).join("cpu.shares")).unwrap();
    assert_eq!(shares.trim(), "512");
    assert_ok(&child.wait_with_output_ref(), "cc-run -c 512");
}

/// `Child::wait_with_output` takes self; this borrows, for tests that keep
/// the child around.
trait WaitRef {
    fn wait_with_output_ref(&mut self) -> std::process::Output;
}

impl WaitRef for Child {
    fn wait_with_output_ref(&mut self) -> std::process::Output {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut s) = self.stdout.take() {
            s.read_to_end(&mut out).unwrap();
        }
        if let Some(mut s) = self.stderr.take() {
            s.read_to_end(&mut err).unwrap();
        }
        let status = self.wait().unwrap();
        std::process::Output {
            status,
            stdout: out,
            stderr: err,
        }
    }
}

// --- pty ---------------------------------------------------------------

#[test]
fn scripted_pty_session() {
    root_or_skip!();
    let env = env_img();
    let run = format!("{} -i -t --rm img sh", support::bin("cc-run").display());
    let mut child = Command::new("script")
        .args(["-qec", &run, "/dev/null"])
        .env("CC_ROOT", &env.root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"tty\necho TERM=$TERM\nexit 3\n").unwrap();
        // Keep stdin open until the shell is done: an early EOF would end
        // the session before the commands ran.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(10));
            drop(stdin);
        });
    }
    let out = child.wait_with_output_ref();
    let o = stdout(&out);
    assert!(
        o.contains("/dev/pts/0"),
        "tty inside is not /dev/pts/0:\n{o}"
    );
    assert!(o.contains("TERM=xterm"), "TERM is not xterm:\n{o}");
    assert_code(&out, 3, "exit 3 through the pty");
    assert_no_leaks(&env);
}

/// Run cc-run with a pty the test opened (40 rows, 100 columns) as its
/// stdin, stdout and stderr. Returns the exit status, what the pty showed,
/// and the pty's termios before and after.
fn run_on_pty(
    env: &Env,
    args: &[&str],
) -> (
    std::process::ExitStatus,
    String,
    nix::sys::termios::Termios,
    nix::sys::termios::Termios,
) {
    let ws = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&ws), None).expect("openpty");
    let before = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    let dup = |fd: &OwnedFd| -> Stdio { Stdio::from(fd.try_clone().unwrap()) };
    let mut child = env
        .cmd("cc-run")
        .args(args)
        .stdin(dup(&pty.slave))
        .stdout(dup(&pty.slave))
        .stderr(dup(&pty.slave))
        .spawn()
        .unwrap();
    let master = fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut m = master;
        let mut chunk = [0u8; 4096];
        loop {
            match m.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf
    });
    let status = child.wait().unwrap();
    let after = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    // Closing the last slave fd ends the reader with EIO.
    drop(pty.slave);
    let out = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    (status, out, before, after)
}

#[test]
fn pty_window_size_is_set_before_the_command_starts() {
    root_or_skip!();
    let env = env_img();
    // The size must be there when the command starts, every time.
    for i in 0..5 {
        let (status, out, _, _) = run_on_pty(&env, &["-i", "-t", "--rm", "img", "stty", "size"]);
        assert!(status.success(), "cc-run -t stty size: {status:?}\n{out}");
        assert!(
            out.contains("40 100"),
            "run {i}: stty size inside is not '40 100':\n{out}"
        );
    }
    assert_no_leaks(&env);
}

#[test]
fn pty_termios_is_restored() {
    root_or_skip!();
    let env = env_img();
    let (status, out, before, after) = run_on_pty(
        &env,
        &["-i", "-t", "--rm", "img", "sh", "-c", "sleep 0.2; exit 4"],
    );
    assert_eq!(status.code(), Some(4), "{out}");
    assert_eq!(before.local_flags, after.local_flags, "lflags not restored");
    assert_eq!(before.input_flags, after.input_flags, "iflags not restored");
    assert_eq!(
        before.output_flags, after.output_flags,
        "oflags not restored"
    );
    assert_eq!(
        before.control_flags, after.control_flags,
        "cflags not restored"
    );
    // And on a failure path: an unknown command.
    let (status, out, before, after) = run_on_pty(&env, &["-i", "-t", "--rm", "img", "nosuchcmd"]);
    assert_eq!(status.code(), Some(127), "{out}");
    assert_eq!(
        before.local_flags, after.local_flags,
        "lflags not restored after 127"
    );
    assert_eq!(
        before.input_flags, after.input_flags,
        "iflags not restored after 127"
    );
}

#[test]
fn without_tty_stdout_and_stderr_are_separate() {
    root_or_skip!();
    let env = env_img();
    let out = env.run(
        "cc-run",
        ["--rm", "img", "sh", "-c", "echo out; echo err >&2"],
    );
    assert_ok(&out, "echo out/err");
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
}

#[test]
fn stdin_is_passed_with_i() {
    root_or_skip!();
    let env = env_img();
    let out = env.run_stdin(
        "cc-run",
        ["--rm", "-i", "img", "tr", "a-z", "A-Z"],
        b"hello\n",
    );
    assert_ok(&out, "cc-run -i tr");
    assert_eq!(stdout(&out), "HELLO\n");
}

// --- exit codes --------------------------------------------------------

#[test]
fn exit_codes_of_the_command() {
    root_or_skip!();
    let env = env_img();
    for n in [0, 3, 42] {
        let out = env.run("cc-run", ["--rm", "img", "sh", "-c", &format!("exit {n}")]);
        assert_code(&out, n, &format!("sh -c 'exit {n}'"));
    }
    assert_no_leaks(&env);
}

#[test]
fn exit_126_when_not_executable() {
    root_or_skip!();
    let env = env_img();
    let out = env.run("cc-run", ["--rm", "img", "/etc/passwd"]);
    assert_code(&out, 126, "cc-run img /etc/passwd");
    assert_one_line_error(&out, "cc-run");
    assert_no_leaks(&env);
}

#[test]
fn exit_127_when_not_found() {
    root_or_skip!();
    let env = env_img();
    let out = env.run("cc-run", ["--rm", "img", "nosuchcmd"]);
    assert_code(&out, 127, "cc-run img nosuchcmd");
    assert_one_line_error(&out, "cc-run");
    assert_no_leaks(&env);
}

#[test]
fn exit_127_without_rm_keeps_a_whole_record() {
    root_or_skip!();
    let env = env_img();
    let out = env.run("cc-run", ["--name", "nf", "img", "nosuchcmd"]);
    assert_code(&out, 127, "cc-run img nosuchcmd");
    assert_one_line_error(&out, "cc-run");
    assert_no_stray(&env);
    // Either no record at all, or a whole one: exited with 127.
    if !env.container_ids().is_empty() {
        assert_eq!(env.inspect("State.Status", "nf"), "exited");
        assert_eq!(env.inspect("State.ExitCode", "nf"), "127");
    }
}

#[test]
fn exit_125_when_cc_fails() {
    root_or_skip!();
    let env = env_img();
    for args in [
        vec!["nosuchimage", "true"],
        vec!["--no-such-flag", "img", "true"],
        vec!["-m", "12x", "img", "true"],
    ] {
        let out = env.run("cc-run", &args);
        assert_code(&out, 125, &format!("cc-run {args:?}"));
    }
    assert_no_leaks(&env);
}

/// Send `sig` to a foreground cc-run once its command is running.
fn signal_exit(env: &Env, args: &[&str], procs: usize, sig: nix::sys::signal::Signal) -> i32 {
    let mut child = spawn(env, args);
    let id = wait_running(env, procs);
    // The command's trap (or --init's signal mask) is in place.
    env.wait_for_trap(&id, sig);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
    let out = child.wait_with_output_ref();
    out.status
        .code()
        .unwrap_or_else(|| panic!("cc-run itself died: {:?} {}", out.status, stderr(&out)))
}

#[test]
fn sigterm_with_init_exits_143() {
    root_or_skip!();
    let env = env_img();
    let code = signal_exit(
        &env,
        &["--rm", "--init", "img", "sleep", "30"],
        2,
        nix::sys::signal::SIGTERM,
    );
    assert_eq!(code, 143);
    assert_no_leaks(&env);
}

#[test]
fn sigint_with_init_exits_130() {
    root_or_skip!();
    let env = env_img();
    let code = signal_exit(
        &env,
        &["--rm", "--init", "img", "sleep", "30"],
        2,
        nix::sys::signal::SIGINT,
    );
    assert_eq!(code, 130);
    assert_no_leaks(&env);
}

#[test]
fn sigterm_reaches_the_command() {
    root_or_skip!();
    let env = env_img();
    let code = signal_exit(
        &env,
        &[
            "--rm",
            "img",
            "sh",
            "-c",
            "trap 'exit 7' TERM; sleep 30 & wait",
        ],
        2,
        nix::sys::signal::SIGTERM,
    );
    assert_eq!(
        code, 7,
        "the trap did not run: SIGTERM did not reach the command"
    );
    assert_no_leaks(&env);
}

#[test]
fn init_reaps_zombies() {
    root_or_skip!();
    let env = env_img();
    // The orphaned sleep's parent exits; with --init, pid 1 reaps it.
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "--init",
            "img",
            "sh",
            "-c",
            "(sleep 0.2 &); sleep 1; ps -o stat,comm | grep -c '^Z' || true",
        ],
    );
    assert_eq!(out.trim(), "0", "zombies inside with --init");
}

// --- env, user, workdir ------------------------------------------------

#[test]
fn environment_from_image_flags_caller_and_file() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("img");
    env.ok(
        "cc-import",
        [
            rootfs.to_str().unwrap(),
            "img",
            "-c",
            "ENV A=1",
            "-c",
            "CMD [\"sh\"]",
        ],
    );
    let file = env.dir.join("env.list");
    fs::write(&file, "# a comment\nD=4\nE=five six\n").unwrap();
    let out = env
        .cmd("cc-run")
        .env("C", "3")
        .args([
            "--rm",
            "-e",
            "B=2",
            "-e",
            "C",
            "--env-file",
            file.to_str().unwrap(),
            "img",
            "env",
        ])
        .output()
        .unwrap();
    assert_ok(&out, "cc-run -e");
    let o = stdout(&out);
    for kv in ["A=1", "B=2", "C=3", "D=4", "E=five six"] {
        assert!(o.lines().any(|l| l == kv), "{kv} missing from env:\n{o}");
    }
    assert!(o.lines().any(|l| l.starts_with("PATH=")), "no PATH:\n{o}");
    assert!(
        o.lines().any(|l| l == "HOME=/root"),
        "HOME is not /root:\n{o}"
    );
    // -e overrides the image's value.
    let o = env.ok(
        "cc-run",
        ["--rm", "-e", "A=9", "img", "sh", "-c", "echo $A"],
    );
    assert_eq!(o.trim(), "9");
}

#[test]
fn user_by_name_with_supplementary_groups() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-u",
            "user",
            "img",
            "sh",
            "-c",
            "id; echo HOME=$HOME",
        ],
    );
    let id = out.lines().next().unwrap();
    assert!(id.starts_with("uid=1000"), "uid: {id}");
    assert!(id.contains("gid=1000"), "gid: {id}");
    assert!(
        id.contains("groups=") && id.contains("100(users)"),
        "supplementary group 100 missing: {id}"
    );
    assert!(out.contains("HOME=/home/user"), "HOME from passwd: {out}");
}

#[test]
fn user_by_number() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-u",
            "1234:55",
            "img",
            "sh",
            "-c",
            "id -u; id -g; id -G",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["1234", "55"], "{out}");
    assert_eq!(
        lines.get(2).map(|l| l.trim()),
        Some("55"),
        "no extra groups for a number: {out}"
    );
}

#[test]
fn user_and_group_by_name() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-u",
            "user:users",
            "img",
            "sh",
            "-c",
            "id -u; id -g",
        ],
    );
    assert_eq!(out, "1000\n100\n");
}

#[test]
fn workdir_is_created_and_entered() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok("cc-run", ["--rm", "-w", "/work/deep", "img", "pwd"]);
    assert_eq!(out.trim(), "/work/deep");
}

#[test]
fn image_workdir_and_user_are_honoured() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("img");
    env.ok(
        "cc-import",
        [
            "-c",
            "WORKDIR /srv",
            "-c",
            "USER user",
            "-c",
            "CMD [\"sh\"]",
            rootfs.to_str().unwrap(),
            "img",
        ],
    );
    let out = env.ok("cc-run", ["--rm", "img", "sh", "-c", "pwd; id -u"]);
    assert_eq!(out, "/srv\n1000\n");
}

#[test]
fn entrypoint_and_image_cmd() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("img");
    env.ok(
        "cc-import",
        [
            "-c",
            "ENTRYPOINT [\"echo\", \"ep\"]",
            "-c",
            "CMD [\"default\"]",
            rootfs.to_str().unwrap(),
            "img",
        ],
    );
    assert_eq!(env.ok("cc-run", ["--rm", "img"]).trim(), "ep default");
    assert_eq!(
        env.ok("cc-run", ["--rm", "img", "given"]).trim(),
        "ep given"
    );
    assert_eq!(
        env.ok("cc-run", ["--rm", "--entrypoint", "echo", "img", "x"])
            .trim(),
        "x"
    );
    // The plain busybox image's CMD is sh: with no command it runs sh.
    env.busybox_image("bb");
    let out = env.run_stdin("cc-run", ["--rm", "-i", "bb"], b"echo from-cmd-sh\n");
    assert_ok(&out, "cc-run -i bb (CMD sh)");
    assert_eq!(stdout(&out).trim(), "from-cmd-sh");
}

// --- mounts ------------------------------------------------------------

#[test]
fn bind_mount_read_write_and_read_only() {
    root_or_skip!();
    let env = env_img();
    let host = env.dir.join("data");
    fs::create_dir_all(&host).unwrap();
    fs::write(host.join("in"), "from host\n").unwrap();
    let v = format!("{}:/data", host.display());
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-v",
            &v,
            "img",
            "sh",
            "-c",
            "cat /data/in; echo from ctr > /data/out",
        ],
    );
    assert_eq!(out, "from host\n");
    assert_eq!(fs::read_to_string(host.join("out")).unwrap(), "from ctr\n");
    let v = format!("{}:/data:ro", host.display());
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "-v",
            &v,
            "img",
            "sh",
            "-c",
            "cat /data/in && echo x > /data/new",
        ],
    );
    assert!(!out.status.success(), "write to a :ro bind worked");
    assert_eq!(stdout(&out), "from host\n");
    assert!(stderr(&out).contains("Read-only"), "{}", stderr(&out));
    assert!(!host.join("new").exists());
    assert_no_leaks(&env);
}

/// `-v HOST:CTR:ro` is read-only all the way down: a filesystem mounted
/// below the host folder is read-only in the container too (docker 25's
/// recursive read-only, `rro`); without `:ro` both are writable.
#[test]
fn bind_mount_read_only_covers_submounts() {
    root_or_skip!();
    let env = env_img();
    let host = env.dir.join("tree");
    let sub = host.join("sub");
    fs::create_dir_all(&sub).unwrap();
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&sub)
        .output()
        .unwrap();
    assert_ok(&out, "mount a tmpfs below the host folder");
    let guard = Unmount(sub.clone());
    let script = "touch /t/top 2>/dev/null; echo top=$?; touch /t/sub/f 2>/dev/null; echo sub=$?";
    for (mode, want) in [(":ro", "top=1\nsub=1\n"), ("", "top=0\nsub=0\n")] {
        let v = format!("{}:/t{mode}", host.display());
        let out = env.ok("cc-run", ["--rm", "-v", &v, "img", "sh", "-c", script]);
        assert_eq!(out, want, "-v {v}");
    }
    drop(guard);
    assert_no_leaks(&env);
}

#[test]
fn bind_target_symlink_cannot_escape_the_root() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("img");
    // A target inside the image that points at the host's folder.
    let escape = env.dir.join("escape");
    let rel = format!("/../../../../../../../..{}", escape.display());
    symlink(&rel, rootfs.join("evil")).unwrap();
    env.import_dir(&rootfs, "img");
    fs::create_dir_all(&escape).unwrap();
    let src = env.dir.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("marker"), "m").unwrap();
    let v = format!("{}:/evil", src.display());
    let out = env.run(
        "cc-run",
        ["--rm", "-v", &v, "img", "sh", "-c", "ls /evil/ 2>&1; true"],
    );
    // Whatever cc-run decides (mount inside, or refuse), the host's path
    // never gets the mount.
    assert!(
        !escape.join("marker").exists(),
        "the bind mount followed the symlink out to the host"
    );
    let ms = support::mounts_under(&escape);
    assert!(ms.is_empty(), "host mounts at the escape path: {ms:?}");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(125),
        "{:?} {}",
        out.status,
        stderr(&out)
    );
    assert_no_leaks(&env);
}

#[test]
fn tmpfs_option() {
    root_or_skip!();
    let env = env_img();
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "--tmpfs",
            "/scratch:size=1m",
            "img",
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat /scratch/f",
        ],
    );
    let first = out.lines().next().unwrap_or("");
    assert_eq!(first.split_whitespace().nth(2), Some("tmpfs"), "{out}");
    assert!(first.contains("size=1024k"), "size option lost: {first}");
    assert!(out.ends_with("x\n"));
}

#[test]
fn read_only_root() {
    root_or_skip!();
    let env = env_img();
    let out = env.run(
        "cc-run",
        ["--rm", "--read-only", "img", "sh", "-c", "touch /x"],
    );
    assert!(!out.status.success(), "touch / worked with --read-only");
    assert!(stderr(&out).contains("Read-only"), "{}", stderr(&out));
}

// --- the record --------------------------------------------------------

#[test]
fn rm_leaves_no_record() {
    root_or_skip!();
    let env = env_img();
    env.ok("cc-run", ["--rm", "--name", "gone", "img", "true"]);
    assert_no_leaks(&env);
    assert_eq!(env.ok("cc-ps", ["-aq"]), "");
}

#[test]
fn rm_frees_the_name_at_once() {
    root_or_skip!();
    let env = env_img();
    // `cc-run --rm --name x ...; cc-run --name x ...` in a script: the
    // first must be gone, name and record, when cc-run returns.
    for i in 0..10 {
        let out = env.run("cc-run", ["--rm", "--name", "again", "img", "true"]);
        assert_code(&out, 0, &format!("cc-run --rm --name again, run {i}"));
        let entries: Vec<_> = fs::read_dir(env.root.join("containers"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // `.pending/` holds removed records whose files are still
            // being deleted: no longer listed, their names already free.
            .filter(|n| n != ".names" && n != ".lock" && n != ".pending")
            .collect();
        assert!(
            entries.is_empty(),
            "run {i}: cc-run --rm returned before removing the record: {entries:?}"
        );
    }
    assert_no_leaks(&env);
}

#[test]
fn record_stays_exited_with_its_code() {
    root_or_skip!();
    let env = env_img();
    let out = env.run("cc-run", ["--name", "kept", "img", "sh", "-c", "exit 5"]);
    assert_code(&out, 5, "exit 5");
    let ps = env.ok("cc-ps", ["-a"]);
    let row = ps
        .lines()
        .find(|l| l.contains("kept"))
        .unwrap_or_else(|| panic!("no row:\n{ps}"));
    assert!(row.contains("Exited (5)"), "{row}");
    assert_eq!(env.inspect("State.Status", "kept"), "exited");
    assert_eq!(env.inspect("State.ExitCode", "kept"), "5");
    // Not running: cc-ps without -a does not show it.
    assert!(!env.ok("cc-ps", [] as [&str; 0]).contains("kept"));
    assert_no_stray(&env);
}

#[test]
fn runs_on_a_rootfs_from_cc_mount() {
    root_or_skip!();
    let env = env_img();
    let root = env.ok("cc-mount", ["img"]).trim().to_string();
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "--rootfs",
            &root,
            "sh",
            "-c",
            "echo $$; cat /etc/passwd | head -1",
        ],
    );
    assert_eq!(out, "1\nroot:x:0:0:root:/root:/bin/sh\n");
    env.ok("cc-umount", [&root]);
    assert_no_leaks(&env);
}

#[test]
fn runs_on_a_writable_rootfs_from_cc_mount_rw() {
    root_or_skip!();
    let env = env_img();
    let root = env.ok("cc-mount", ["--rw", "img"]).trim().to_string();
    let out = env.ok("cc-run", ["--rm", "--rootfs", &root, "sh", "-c", "echo $$"]);
    assert_eq!(out, "1\n");
    env.ok("cc-umount", [&root]);
    assert_no_leaks(&env);
}

#[test]
fn runs_on_a_plain_folder() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("plain");
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "--rootfs",
            rootfs.to_str().unwrap(),
            "sh",
            "-c",
            "echo $$",
        ],
    );
    assert_eq!(out.trim(), "1");
    assert_no_leaks(&env);
}

// --- bad input ---------------------------------------------------------

fn bad_input(args: &[&str], code: i32) {
    let env = env_img();
    let src_missing = env.dir.join("missing");
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("MISSING", src_missing.to_str().unwrap()))
        .collect();
    let out = env.run("cc-run", &args);
    assert_code(&out, code, &format!("cc-run {args:?}"));
    assert_one_line_error(&out, "cc-run");
    assert_eq!(stdout(&out), "", "stdout carries data only");
    assert_no_leaks(&env);
}

#[test]
fn bad_input_unknown_image() {
    root_or_skip!();
    bad_input(&["nosuchimage", "true"], 125);
}

#[test]
fn bad_input_bad_flag() {
    root_or_skip!();
    bad_input(&["--no-such-flag", "img", "true"], 125);
}

#[test]
fn bad_input_malformed_memory() {
    root_or_skip!();
    bad_input(&["-m", "12x", "img", "true"], 125);
}

#[test]
fn bad_input_missing_volume_source() {
    root_or_skip!();
    bad_input(&["-v", "MISSING:/data", "img", "true"], 125);
}

#[test]
fn bad_input_command_not_found() {
    root_or_skip!();
    bad_input(&["--rm", "img", "nosuchcmd"], 127);
}

#[test]
fn bad_input_command_not_found_without_rm() {
    root_or_skip!();
    // The brief: a command that does not exist leaves no record either.
    bad_input(&["img", "nosuchcmd"], 127);
}

#[test]
fn name_clash_fails() {
    root_or_skip!();
    let env = env_img();
    env.ok("cc-run", ["--name", "dup", "img", "true"]);
    let out = env.run("cc-run", ["--name", "dup", "img", "true"]);
    assert_code(&out, 125, "second --name dup");
    assert_one_line_error(&out, "cc-run");
    assert!(
        stderr(&out).contains("dup"),
        "the error names the clash: {}",
        stderr(&out)
    );
    assert_eq!(env.container_ids().len(), 1);
    assert_no_stray(&env);
}

// --- concurrency -------------------------------------------------------

#[test]
fn twenty_at_once() {
    root_or_skip!();
    let env = env_img();
    let children: Vec<Child> = (0..20)
        .map(|_| spawn(&env, &["--rm", "img", "true"]))
        .collect();
    for (i, mut c) in children.into_iter().enumerate() {
        let out = c.wait_with_output_ref();
        assert_ok(&out, &format!("concurrent run {i}"));
    }
    assert_no_leaks(&env);
}

#[test]
fn twenty_at_once_keep_distinct_records() {
    root_or_skip!();
    let env = env_img();
    let children: Vec<Child> = (0..20)
        .map(|i| {
            spawn(
                &env,
                &[
                    "--name",
                    &format!("n{i}"),
                    "img",
                    "sh",
                    "-c",
                    &format!("exit {i}"),
                ],
            )
        })
        .collect();
    for (i, mut c) in children.into_iter().enumerate() {
        let out = c.wait_with_output_ref();
        assert_code(&out, i as i32, &format!("concurrent run {i}"));
    }
    assert_eq!(env.container_ids().len(), 20);
    for i in 0..20 {
        assert_eq!(
            env.inspect("State.ExitCode", &format!("n{i}")),
            i.to_string()
        );
    }
    assert_no_stray(&env);
}
