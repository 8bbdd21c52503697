//! Every program as an ordinary user (issue 21, items 3 and 6): a user made
//! for the test runs them through `setpriv` with a clean environment.
//! tests/rootless.rs has run, ps, inspect, logs, top, exec, diff, commit,
//! stop, wait, export, rm, push, pull and cc-mount; these walk the rest, and
//! the fuse-overlayfs roots of kernels before 5.11 (`CC_OVERLAY`).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Output;
use std::time::Duration;

use support::oci::in_pty;
use support::{assert_ok, root_or_skip, run_stdin_timeout, stderr, stdout, User};

/// A program as the user with `input` on its stdin.
fn with_stdin(user: &User, prog: &str, args: &[&str], input: &str) -> Output {
    let mut cmd = user.cmd(prog);
    cmd.args(args);
    run_stdin_timeout(&mut cmd, input.as_bytes(), Duration::from_secs(60))
}

/// A folder of the scratch folder that the user may write in.
fn users_dir(user: &User, name: &str) -> std::path::PathBuf {
    let d = user.scratch.path().join(name);
    fs::create_dir(&d).unwrap();
    std::os::unix::fs::chown(&d, Some(user.uid), Some(user.gid)).unwrap();
    d
}

/// Waits (a daemon ends a moment after its mount) until the user's
/// fuse-overlayfs mounts and daemons are none.
fn no_fuse_left(user: &User) {
    support::wait_for(Duration::from_secs(5), "fuse-overlayfs to end", || {
        fuse_left(user).is_empty().then_some(())
    });
}

/// The user's fuse-overlayfs mounts and daemons, as the host sees them.
fn fuse_left(user: &User) -> Vec<String> {
    let mut left = Vec::new();
    if let Some(pid) = user.pause_pid() {
        let info = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
        left.extend(
            info.lines()
                .filter(|l| l.contains("fuse-overlayfs"))
                .map(str::to_string),
        );
    }
    for p in fs::read_dir("/proc").unwrap().flatten() {
        let comm = fs::read_to_string(p.path().join("comm")).unwrap_or_default();
        let status = fs::read_to_string(p.path().join("status")).unwrap_or_default();
        let uid = format!("Uid:\t{}\t", user.uid);
        let zombie = status.lines().any(|l| l.starts_with("State:\tZ"));
        if comm.trim() == "fuse-overlayfs" && !zombie && status.lines().any(|l| l.starts_with(&uid))
        {
            left.push(format!("process {}", p.file_name().to_string_lossy()));
        }
    }
    left
}

#[test]
fn a_users_containers_run_on_fuse_overlayfs_with_whiteouts_and_commit() {
    root_or_skip!();
    let mut user = User::new("f");
    user.import_image();
    user.env.push("CC_OVERLAY=fuse-overlayfs".into());
    let info = user.ok("cc-info", &[]);
    assert!(
        info.contains("overlay: fuse-overlayfs (set by CC_OVERLAY)"),
        "{info}"
    );

    // The image's files, owners and setuid bit; an id other than root
    // reads them too (the mount allows others).
    let script = "cat /srv/daemon; stat -c '%u:%g %a' /home/user/notes /bin/busybox; \
                  rm /home/user/notes; rm -r /srv; mkdir /srv; echo new > /srv/x";
    let out = user.ok(
        "cc-run",
        &["--name", "w", "--net", "none", "img", "sh", "-c", script],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["d", "1000:100 644", "0:0 4755"],
        "{out}"
    );
    no_fuse_left(&user);
    let as_1000 = user.ok(
        "cc-run",
        &[
            "--rm",
            "--net",
            "none",
            "-u",
            "1000",
            "img",
            "ls",
            "/home/user",
        ],
    );
    assert_eq!(as_1000.trim(), "notes");

    // fuse-overlayfs's whiteouts and opaque folder, as changes and a
    // layer: the changes the kernel's overlayfs gives.
    let diff = user.ok("cc-diff", &["w"]);
    for change in ["C /home/user", "D /home/user/notes", "D /srv", "A /srv/x"] {
        assert!(diff.lines().any(|l| l == change), "{change}: {diff}");
    }
    let native = user.cmd_env_cleared(|u| {
        u.ok(
            "cc-run",
            &["--name", "n", "--net", "none", "img", "sh", "-c", script],
        );
        u.ok("cc-diff", &["n"])
    });
    let sorted = |s: &str| {
        let mut v: Vec<String> = s.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&diff), sorted(&native));
    user.ok("cc-commit", &["w", "img2"]);
    let ls = "ls -A /srv /home/user";
    let fused = user.ok("cc-run", &["--rm", "--net", "none", "img2", "sh", "-c", ls]);
    assert_eq!(fused, "/home/user:\n\n/srv:\nx\n");
    // The same layer under the kernel's overlayfs.
    let native = user
        .cmd_env_cleared(|u| u.ok("cc-run", &["--rm", "--net", "none", "img2", "sh", "-c", ls]));
    assert_eq!(native, fused);

    // A container in the background: mounted while it runs, not after.
    user.ok(
        "cc-run",
        &["-d", "--name", "bg", "--net", "none", "img2", "sleep", "60"],
    );
    assert_eq!(fuse_left(&user).len(), 2, "a mount and its daemon");
    user.ok("cc-rm", &["-f", "bg", "w", "n"]);
    no_fuse_left(&user);

    // A wrong value is refused with one line.
    user.env = vec!["CC_OVERLAY=zfs".into()];
    let out = user.run("cc-run", &["--rm", "--net", "none", "img", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("CC_OVERLAY must be"),
        "{}",
        stderr(&out)
    );
    user.env.clear();
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
}

#[test]
fn a_user_saves_loads_builds_copies_and_restarts() {
    root_or_skip!();
    let user = User::new("sl");
    user.import_image();
    let owners = "stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox";
    let before = user.ok(
        "cc-run",
        &["--rm", "--net", "none", "img", "sh", "-c", owners],
    );

    // save and load: the same owners after a round trip through a tar.
    let out = users_dir(&user, "out");
    let tar = out.join("img.tar");
    user.ok("cc-save", &["-o", tar.to_str().unwrap(), "img"]);
    assert_eq!(fs::metadata(&tar).unwrap().uid(), user.uid);
    user.ok("cc-rmi", &["img"]);
    user.ok("cc-load", &["-q", "-i", tar.to_str().unwrap()]);
    let after = user.ok(
        "cc-run",
        &["--rm", "--net", "none", "img", "sh", "-c", owners],
    );
    assert_eq!(after, before);

    // build: a RUN step with its own owners, a COPY from the context.
    let ctx = user.scratch.path().join("ctx");
    fs::create_dir(&ctx).unwrap();
    fs::write(ctx.join("f"), "copied\n").unwrap();
    fs::write(
        ctx.join("Containerfile"),
        "FROM img\nRUN echo built > /built && chown 2:3 /built\nCOPY --chown=1000:100 f /f\n",
    )
    .unwrap();
    user.ok(
        "cc-build",
        &["--network", "none", "-t", "built", ctx.to_str().unwrap()],
    );
    let seen = user.ok(
        "cc-run",
        &[
            "--rm",
            "--net",
            "none",
            "built",
            "sh",
            "-c",
            "cat /built /f; stat -c %u:%g /built /f",
        ],
    );
    assert_eq!(seen, "built\ncopied\n2:3\n1000:100\n");

    // A container in the background: cp both ways, kill, start, restart.
    let sleeper = "trap 'exit 3' TERM; while :; do sleep 1; done";
    user.ok(
        "cc-run",
        &[
            "-d", "--name", "c", "--net", "none", "img", "sh", "-c", sleeper,
        ],
    );
    let host_file = user.scratch.path().join("in.txt");
    fs::write(&host_file, "to the container\n").unwrap();
    fs::set_permissions(&host_file, fs::Permissions::from_mode(0o644)).unwrap();
    user.ok("cc-cp", &[host_file.to_str().unwrap(), "c:/srv/in.txt"]);
    let got = out.join("daemon");
    user.ok("cc-cp", &["c:/srv/daemon", got.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(&got).unwrap(), "d\n");
    assert_eq!(fs::metadata(&got).unwrap().uid(), user.uid);
    let inside = user.ok("cc-exec", &["c", "stat", "-c", "%u %n", "/srv/in.txt"]);
    assert_eq!(inside.trim(), "0 /srv/in.txt");

    let status = |u: &User| u.ok("cc-inspect", &["-f", "{{.State.Status}}", "c"]);
    user.ok("cc-kill", &["-s", "TERM", "c"]);
    assert_eq!(user.ok("cc-wait", &["c"]).trim(), "3");
    user.ok("cc-start", &["c"]);
    assert_eq!(status(&user).trim(), "running");
    user.ok("cc-restart", &["-t", "5", "c"]);
    assert_eq!(status(&user).trim(), "running");
    user.ok("cc-kill", &["c"]);
    assert_eq!(user.ok("cc-wait", &["c"]).trim(), "137");
    // What happened, in the user's events log.
    let events = user.ok(
        "cc-events",
        &[
            "--since",
            "10m",
            "--until",
            "0s",
            "-f",
            "container=c",
            "--format",
            "{{.Action}}",
        ],
    );
    let actions: Vec<&str> = events.lines().collect();
    for a in ["create", "kill", "die", "exec_die"] {
        assert!(actions.contains(&a), "{a}: {events}");
    }
    // cc-run's start, cc-start's and cc-restart's.
    let starts = actions.iter().filter(|a| **a == "start").count();
    assert_eq!(starts, 3, "{events}");
    user.ok("cc-rm", &["c"]);
}

#[test]
fn a_user_logs_in_and_uses_a_terminal() {
    root_or_skip!();
    let user = User::new("lt");
    user.import_image();

    // login: the auth file in the user's runtime folder, the user's, 0600.
    let reg = support::Registry::start_with(support::RegistryConf {
        user: Some(("tester".into(), "s3cret".into())),
        ..Default::default()
    });
    let out = with_stdin(
        &user,
        "cc-login",
        &["-u", "tester", "--password-stdin", &reg.host],
        "s3cret\n",
    );
    assert_ok(&out, "cc-login as the user");
    let auth = user.runtime.join("containers/auth.json");
    let m = fs::metadata(&auth).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o777), (user.uid, 0o600));
    let at = reg.at("rl/img:v1");
    user.ok("cc-push", &["img", &at]);
    user.ok("cc-logout", &[&reg.host]);
    let out = user.run("cc-push", &["img", &at]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));

    // run -it: the user's terminal is the container's.
    let mut cmd = user.cmd("cc-run");
    cmd.args(["-it", "--rm", "--net", "none", "img", "sh"]);
    let (shown, code) = in_pty(&cmd, 24, 80, "tty; echo $((6*7))\nexit 5\n");
    assert_eq!(code, Some(5), "{shown}");
    assert!(shown.contains("/dev/pts/0"), "{shown}");
    assert!(shown.contains("42"), "{shown}");

    // attach to a container started with -dit, logs of what it showed.
    user.ok(
        "cc-run",
        &["-dit", "--name", "t", "--net", "none", "img", "sh"],
    );
    let (shown, code) = in_pty(
        user.cmd("cc-attach").arg("t"),
        24,
        80,
        "echo at$((1+1))\nexit 4\n",
    );
    assert_eq!(code, Some(4), "{shown}");
    assert!(shown.contains("at2"), "{shown}");
    assert_eq!(user.ok("cc-wait", &["t"]).trim(), "4");
    assert!(user.ok("cc-logs", &["t"]).contains("at2"));
    user.ok("cc-rm", &["t"]);
    assert!(stdout(&user.run("cc-ps", &["-aq"])).trim().is_empty());
}
