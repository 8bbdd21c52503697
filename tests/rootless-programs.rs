//! Every program as an ordinary user (issue 21, items 3 and 6): a user made
//! for the test runs them through `setpriv` with a clean environment.
//! tests/rootless.rs has run, ps, inspect, logs, top, exec, diff, commit,
//! stop, wait, export, rm, push, pull and cc-mount; these walk the rest, and
//! the fuse-overlayfs roots of kernels before 5.11 (`CC_OVERLAY`).

use std::fs;
use std::time::Duration;

use support::{root_or_skip, stderr, User};

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
