//! The caller's terminal and files stay the caller's (issue 14, item 1).
//! A program in the container tries to type into the terminal of whoever
//! started it (TIOCSTI on its fds 0/1/2 and on /dev/tty) and to read the
//! host file its output goes to (reopening /proc/self/fd/1), under cc-exec
//! (with and without -i, with -t), cc-run in the foreground, and cc-oci
//! run. The caller is a test child in a session of its own whose
//! controlling terminal is a pty the test holds; stdout is a host file
//! holding a secret. Afterwards the test looks at what the host sees: the
//! pty's input queue is empty and the secret was not read.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{
    assert_ok, compile_static, root_or_skip, run_timeout, stderr, wait_child_timeout, Env,
};

/// `probe`: reports on stderr, one `key=value` per line, then prints
/// `probe-out` on stdout.
/// - `sti0`..`sti2`: TIOCSTI of `INJECTED` on fds 0, 1, 2
/// - `devtty`: open /dev/tty (the controlling terminal) and TIOCSTI there
/// - `reopen1`: open /proc/self/fd/1 read-only and what it read (hex)
/// - `leader`: 1 when the process leads its own session
/// - `pgrp`: kill(0, 0): who else is in its process group is not known,
///   but a signal to the group must not reach anything outside
const PROBE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *inject = "INJECTED\n";

static const char *sti(int fd) {
    for (const char *c = inject; *c; c++)
        if (ioctl(fd, TIOCSTI, c) < 0) return strerror(errno);
    return "ok";
}

int main(void) {
    for (int fd = 0; fd < 3; fd++) fprintf(stderr, "sti%d=%s\n", fd, sti(fd));
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (tty < 0) fprintf(stderr, "devtty=open-%s\n", strerror(errno));
    else fprintf(stderr, "devtty=%s\n", sti(tty));
    int r = open("/proc/self/fd/1", O_RDONLY | O_NONBLOCK);
    if (r < 0) {
        fprintf(stderr, "reopen1=open-%s\n", strerror(errno));
    } else {
        char buf[4096];
        ssize_t n = read(r, buf, sizeof buf);
        fprintf(stderr, "reopen1=");
        if (n < 0) fprintf(stderr, "read-%s", strerror(errno));
        for (ssize_t i = 0; i < n; i++) fprintf(stderr, "%02x", (unsigned char)buf[i]);
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "leader=%d\n", getsid(0) == getpid());
    fflush(stderr);
    puts("probe-out");
    return 0;
}
"#;

const SECRET: &str = "SECRET-7f3a9c-host-only\n";
const T: Duration = Duration::from_secs(60);

/// An env whose image `img` is busybox plus `/bin/probe`.
fn env_probe() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    compile_static(PROBE, &dir.join("bin/probe"));
    env.import_dir(&dir, "img");
    env
}

/// A pty pair; the slave in raw mode, so anything typed into it (or
/// pushed with TIOCSTI) waits in its input queue, readable at once.
fn pty() -> (OwnedFd, OwnedFd) {
    let p = nix::pty::openpty(None, None).expect("openpty");
    let mut t = nix::sys::termios::tcgetattr(&p.slave).unwrap();
    nix::sys::termios::cfmakeraw(&mut t);
    nix::sys::termios::tcsetattr(&p.slave, nix::sys::termios::SetArg::TCSANOW, &t).unwrap();
    (p.master, p.slave)
}

/// What waits in the pty's input queue (non-blocking read of the slave).
fn typed_into(slave: &OwnedFd) -> String {
    let _ = nix::fcntl::fcntl(
        slave,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    let mut buf = [0u8; 4096];
    match nix::unistd::read(slave, &mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => String::new(),
    }
}

/// A host file holding the secret, opened for appending (a shell's `>>`).
fn secret_file(env: &Env) -> (PathBuf, fs::File) {
    let path = env.dir.join("out.txt");
    fs::write(&path, SECRET).unwrap();
    let f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    (path, f)
}

/// Runs `cmd` as a shell's job would on a terminal: in a new session whose
/// controlling terminal is the pty's slave (stdin), stdout on the secret
/// file, stderr captured. Returns the probe's report (stderr), what the
/// file holds afterwards, and what was typed into the terminal.
fn on_terminal(env: &Env, mut cmd: Command) -> (String, String, String) {
    let (_master, slave) = pty();
    let (path, file) = secret_file(env);
    let tty = slave.try_clone().unwrap();
    cmd.stdin(Stdio::from(tty))
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped());
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let what = format!("{cmd:?}");
    let out = wait_child_timeout(cmd.spawn().expect("spawn"), T, &what);
    assert_ok(&out, &what);
    let held = fs::read_to_string(&path).unwrap();
    (stderr(&out), held, typed_into(&slave))
}

fn field<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the probe's report:\n{report}"))
}

/// Nothing typed, the secret unread, the probe's output where it belongs.
fn assert_isolated(what: &str, (report, held, typed): &(String, String, String)) {
    assert_eq!(
        typed, "",
        "{what}: the container typed into the caller's terminal:\n{report}"
    );
    for key in ["sti0", "sti1", "sti2", "devtty"] {
        assert_ne!(
            field(report, key),
            "ok",
            "{what}: TIOCSTI on {key} worked:\n{report}"
        );
    }
    let secret_hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        !field(report, "reopen1").contains(&secret_hex[..16]),
        "{what}: the container read the host file its output goes to:\n{report}"
    );
    assert_eq!(
        held,
        &format!("{SECRET}probe-out\n"),
        "{what}: the output file"
    );
    assert_eq!(
        field(report, "leader"),
        "1",
        "{what}: no session of its own:\n{report}"
    );
}

fn running(env: &Env) -> String {
    env.run_d(["--net", "none", "img", "sleep", "300"])
}

#[test]
fn cc_exec_keeps_the_callers_terminal_and_files() {
    root_or_skip!();
    let env = env_probe();
    let id = running(&env);
    let mut cmd = env.cmd("cc-exec");
    cmd.args([&id, "probe"]);
    assert_isolated("cc-exec", &on_terminal(&env, cmd));
    let mut cmd = env.cmd("cc-exec");
    cmd.args(["-i", &id, "probe"]);
    assert_isolated("cc-exec -i", &on_terminal(&env, cmd));
}

#[test]
fn cc_exec_as_another_user_in_a_user_namespace_too() {
    root_or_skip!();
    let env = env_probe();
    let id = env.run_d([
        "--net",
        "none",
        "--uidmap",
        "0:3000000:70000",
        "--gidmap",
        "0:3100000:70000",
        "img",
        "sleep",
        "300",
    ]);
    let mut cmd = env.cmd("cc-exec");
    cmd.args(["-u", "1000", &id, "probe"]);
    assert_isolated("cc-exec -u 1000 (user namespace)", &on_terminal(&env, cmd));
}

#[test]
fn cc_exec_t_gives_a_terminal_of_its_own() {
    root_or_skip!();
    let env = env_probe();
    let id = running(&env);
    let mut cmd = env.cmd("cc-exec");
    cmd.args(["-t", &id, "probe"]);
    let (_master, slave) = pty();
    let (_path, file) = secret_file(&env);
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped());
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let out = wait_child_timeout(cmd.spawn().expect("spawn"), T, "cc-exec -t probe");
    assert_ok(&out, "cc-exec -t probe");
    // With -t, the probe's stdio is a pty of the container's: its own
    // terminal takes what it pushes; the caller's gets nothing.
    assert_eq!(
        typed_into(&slave),
        "",
        "cc-exec -t typed into the caller's terminal"
    );
}

#[test]
fn cc_run_in_the_foreground_keeps_the_callers_terminal_and_files() {
    root_or_skip!();
    let env = env_probe();
    for flags in [&[][..], &["-i"][..], &["--init"][..]] {
        let mut cmd = env.cmd("cc-run");
        cmd.args(["--rm", "--net", "none"])
            .args(flags)
            .args(["img", "probe"]);
        assert_isolated(&format!("cc-run {flags:?}"), &on_terminal(&env, cmd));
    }
}

/// A signal to the process group (kill(0, ...)) from the container
/// reaches nothing of cc's: SIGUSR1, which would end cc-run's monitor or
/// cc-exec, reaches only the command's own group, whose shell traps it.
#[test]
fn a_signal_to_the_process_group_stays_in_the_container() {
    root_or_skip!();
    let env = env_probe();
    let script = "trap 'exit 7' USR1; kill -USR1 0; sleep 5";
    for flags in [&[][..], &["--init"][..]] {
        let mut args = vec!["--rm", "--net", "none"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["img", "sh", "-c", script]);
        // A group of its own: on a broken cc the signal must not reach
        // the test.
        let out = run_timeout(env.cmd("cc-run").args(&args).process_group(0), T);
        assert_eq!(
            out.status.code(),
            Some(7),
            "cc-run {flags:?}: {:?} {}",
            out.status,
            stderr(&out)
        );
    }
    let id = running(&env);
    let out = run_timeout(
        env.cmd("cc-exec")
            .args([&id, "sh", "-c", script])
            .process_group(0),
        T,
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "cc-exec: {:?} {}",
        out.status,
        stderr(&out)
    );
}

/// Ctrl-C on the caller's terminal signals cc-exec alone (the command is
/// in a session of its own), and cc-exec passes it on: the command's
/// trap runs and cc-exec exits with its status.
#[test]
fn cc_exec_passes_ctrl_c_on_to_the_command() {
    use std::io::{BufRead, Write};
    root_or_skip!();
    let env = env_probe();
    let id = running(&env);
    let p = nix::pty::openpty(None, None).expect("openpty");
    let mut cmd = env.cmd("cc-exec");
    cmd.args([
        &id,
        "sh",
        "-c",
        "trap 'exit 9' INT; echo ready; while :; do sleep 0.1; done",
    ])
    .stdin(Stdio::from(p.slave.try_clone().unwrap()))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn cc-exec");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = tx.send(line);
    });
    let ready = rx.recv_timeout(T);
    assert_eq!(ready.as_deref(), Ok("ready\n"), "the command did not start");
    // The terminal's interrupt character: SIGINT to its foreground group.
    fs::File::from(p.master).write_all(b"\x03").unwrap();
    let out = wait_child_timeout(child, T, "cc-exec with ctrl-c");
    assert_eq!(
        out.status.code(),
        Some(9),
        "cc-exec after ctrl-c: {:?} {}",
        out.status,
        stderr(&out)
    );
}

/// cc-oci gives the command the caller's own fds, as runc does: conmon
/// and containerd's shims give pipes. The command still leads a session
/// of its own, so it has no controlling terminal and cannot type into
/// the caller's (TIOCSTI needs CAP_SYS_ADMIN on another terminal).
#[test]
fn cc_oci_run_and_exec_pass_fds_but_not_the_terminal() {
    root_or_skip!();
    let env = Env::new();
    let bundle = env.dir.join("bundle");
    support::make_busybox_rootfs(&bundle.join("rootfs"));
    compile_static(PROBE, &bundle.join("rootfs/bin/probe"));
    let oci = support::oci::Oci::new(&support::oci::under_test(), &env.dir.join("state"));
    assert_ok(
        &run_timeout(oci.cmd().arg("spec").arg("--bundle").arg(&bundle), T),
        "cc-oci spec",
    );
    let args = |a: serde_json::Value| {
        support::oci::edit_spec(&bundle, |s| {
            s["process"]["terminal"] = false.into();
            s["process"]["args"] = a;
        })
    };
    args(serde_json::json!(["probe"]));
    let id = support::oci::unique("stdio");
    oci.track(&id);
    let mut cmd = oci.cmd();
    cmd.args(["run", "--bundle"]).arg(&bundle).arg(&id);
    assert_no_tty("cc-oci run", &on_terminal(&env, cmd));
    // exec, in a container run in the background.
    args(serde_json::json!(["sleep", "300"]));
    let id = support::oci::unique("stdio-exec");
    oci.track(&id);
    let out = wait_child_timeout(
        oci.cmd()
            .args(["run", "-d", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        T,
        "cc-oci run -d",
    );
    assert_ok(&out, "cc-oci run -d");
    let mut cmd = oci.cmd();
    cmd.args(["exec", &id, "probe"]);
    assert_no_tty("cc-oci exec", &on_terminal(&env, cmd));
}

/// The caller's fds, but no controlling terminal and nothing typed.
fn assert_no_tty(what: &str, (report, held, typed): &(String, String, String)) {
    assert_eq!(
        typed, "",
        "{what}: typed into the caller's terminal:\n{report}"
    );
    for key in ["sti0", "sti1", "sti2", "devtty"] {
        assert_ne!(
            field(report, key),
            "ok",
            "{what}: TIOCSTI on {key}:\n{report}"
        );
    }
    assert_eq!(
        field(report, "leader"),
        "1",
        "{what}: no session:\n{report}"
    );
    assert!(held.ends_with("probe-out\n"), "{what}'s output: {held}");
}
