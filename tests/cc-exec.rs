//! cc-exec: environment, user, workdir, exit codes, tty, stdin, detached,
//! a stopped container, and the container's pid namespace.

use std::process::Command;
use std::time::Duration;

use support::{
    assert_code, assert_ok, env_with_img, root_or_skip, run_timeout, stdout, wait_for, Env,
};

const T: Duration = Duration::from_secs(10);

/// An env with one running container (`sleep 100`, `-e A=1`); its id.
fn running() -> (Env, String) {
    let env = env_with_img();
    let id = env.run_d(["-e", "A=1", "img", "sleep", "100"]);
    (env, id)
}

fn exec(env: &Env, args: &[&str]) -> std::process::Output {
    run_timeout(env.cmd("cc-exec").args(args), T)
}

#[test]
fn env_from_the_container_plus_e() {
    root_or_skip!();
    let (env, id) = running();
    let out = exec(
        &env,
        &["-e", "B=2", &id, "sh", "-c", "echo $A $B; echo $PATH"],
    );
    assert_ok(&out, "cc-exec -e B=2");
    let o = stdout(&out);
    let mut lines = o.lines();
    assert_eq!(lines.next(), Some("1 2"), "env inside:\n{o}");
    assert!(
        lines.next().is_some_and(|p| p.contains("/bin")),
        "PATH:\n{o}"
    );
    // -e overrides the container's value.
    let out = exec(&env, &["-e", "A=9", &id, "sh", "-c", "echo $A"]);
    assert_eq!(stdout(&out), "9\n");
}

#[test]
fn user_and_workdir() {
    root_or_skip!();
    let (env, id) = running();
    assert_eq!(stdout(&exec(&env, &[&id, "id", "-u"])), "0\n");
    assert_eq!(
        stdout(&exec(&env, &["-u", "user", &id, "id", "-u"])),
        "1000\n"
    );
    assert_eq!(
        stdout(&exec(&env, &["-u", "1000:100", &id, "id", "-g"])),
        "100\n"
    );
    assert_eq!(stdout(&exec(&env, &["-w", "/tmp", &id, "pwd"])), "/tmp\n");
    assert_eq!(stdout(&exec(&env, &[&id, "pwd"])), "/\n");
}

#[test]
fn exit_codes() {
    root_or_skip!();
    let (env, id) = running();
    assert_code(&exec(&env, &[&id, "true"]), 0, "cc-exec true");
    assert_code(
        &exec(&env, &[&id, "sh", "-c", "exit 5"]),
        5,
        "cc-exec exit 5",
    );
    assert_code(
        &exec(&env, &[&id, "/etc/passwd"]),
        126,
        "cc-exec of a non-executable",
    );
    assert_code(
        &exec(&env, &[&id, "nosuchcmd"]),
        127,
        "cc-exec of a missing command",
    );
    // The container is unharmed.
    assert!(env.ps_running(&id));
}

#[test]
fn tty_with_t_and_not_without() {
    root_or_skip!();
    let (env, id) = running();
    let cmd = format!("{} -t {id} tty", support::bin("cc-exec").display());
    let out = run_timeout(
        Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("CC_ROOT", &env.root)
            .stdin(std::process::Stdio::null()),
        T,
    );
    assert_ok(&out, "script -qec 'cc-exec -t ID tty'");
    assert!(
        stdout(&out).contains("/dev/pts/"),
        "no tty inside with -t:\n{}",
        stdout(&out)
    );
    let out = exec(&env, &[&id, "tty"]);
    assert_eq!(stdout(&out), "not a tty\n");
}

/// `cc-exec -it` whose stdin has already ended (a script, `< /dev/null`)
/// ends too: the shell gets the end of input although its line editor
/// started after it and lost it (ash waited forever) — also when the
/// shell starts a second after the input ended.
#[test]
fn interactive_tty_whose_stdin_has_ended_ends() {
    root_or_skip!();
    let (env, id) = running();
    for cmd in [&["sh"][..], &["sh", "-c", "sleep 1; exec sh"]] {
        let out = run_timeout(
            env.cmd("cc-exec")
                .args(["-it", &id])
                .args(cmd)
                .stdin(std::process::Stdio::null()),
            T,
        );
        assert_ok(&out, &format!("cc-exec -it ID {cmd:?} < /dev/null"));
    }
}

#[test]
fn stdin_with_i() {
    root_or_skip!();
    let (env, id) = running();
    let out = env.run_stdin("cc-exec", ["-i", &id, "tr", "a-z", "A-Z"], b"hello\n");
    assert_ok(&out, "cc-exec -i tr");
    assert_eq!(stdout(&out), "HELLO\n");
}

#[test]
fn detached_exec_runs_in_the_background() {
    root_or_skip!();
    let (env, id) = running();
    let out = exec(&env, &["-d", &id, "sh", "-c", "sleep 0.2; echo d > /tmp/d"]);
    assert_ok(&out, "cc-exec -d");
    let got = wait_for(Duration::from_secs(5), "the detached exec's file", || {
        let o = stdout(&exec(&env, &[&id, "cat", "/tmp/d"]));
        (o == "d\n").then_some(o)
    });
    assert_eq!(got, "d\n");
    // It holds nothing of the caller's: a caller reading cc-exec's output
    // to the end gets it at once, and the command lives on.
    let start = std::time::Instant::now();
    let out = exec(&env, &["-d", &id, "sh", "-c", "echo out; sleep 30"]);
    assert_ok(&out, "cc-exec -d (output read to the end)");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "cc-exec -d held its stdout"
    );
    assert_eq!(stdout(&out), "", "a detached command's output goes nowhere");
    let ps = stdout(&exec(&env, &[&id, "ps", "-o", "args"]));
    assert!(ps.contains("sleep 30"), "the detached command ended:\n{ps}");
}

#[test]
fn exec_shares_the_containers_pid_namespace() {
    root_or_skip!();
    let (env, id) = running();
    let out = exec(&env, &[&id, "cat", "/proc/1/cmdline"]);
    assert_eq!(
        out.stdout, b"sleep\x00100\x00",
        "pid 1 inside is not the container's command"
    );
    let out = exec(&env, &[&id, "sh", "-c", "grep NSpid /proc/self/status"]);
    let o = stdout(&out);
    let nspid: Vec<&str> = o.split_whitespace().skip(1).collect();
    assert_eq!(nspid.len(), 1, "NSpid inside: {o}");
    assert_ne!(nspid[0], "1");
    // From the host: the exec'd process is in the same pid namespace.
    let pid = env.inspect("State.Pid", &id);
    let ns_ctr = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let out = exec(&env, &[&id, "readlink", "/proc/self/ns/pid"]);
    assert_eq!(stdout(&out).trim(), ns_ctr.to_string_lossy());
}

#[test]
fn exec_on_a_stopped_container_fails() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "true"]);
    env.wait_code(&id, T);
    let out = exec(&env, &[&id, "true"]);
    // The brief allows 125 or 4; the product gives 125.
    assert!(
        matches!(out.status.code(), Some(125) | Some(4)),
        "cc-exec on an exited container: {:?}",
        out.status
    );
    assert_code(&out, 125, "cc-exec on an exited container");
    support::assert_one_line_error(&out, "cc-exec");
}
