//! Rootless podman (4.3) driving cc-oci (issue 21 item 6): an ordinary
//! user made by the test runs `podman --runtime cc-oci` as it would with
//! runc. Podman calls the runtime as root of the user's namespace (its
//! subordinate ids mapped), with no `--root`: cc-oci finds itself rootless
//! (`--rootless auto`), keeps its state in `$XDG_RUNTIME_DIR/cc/oci`, makes
//! no cgroup, binds the host's devices in. Each scenario runs with runc
//! first, then with cc-oci, and what the user sees must be the same.
//!
//! The image is made here with files of several owners and a setuid
//! program, imported by the user with cc-import, saved with cc-save and
//! `podman load`ed into the user's own podman store (no network). Podman's
//! store, its pause process and the user are removed at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{assert_ok, root_or_skip, run_timeout, stderr, stdout, wait_for, User};

const IMAGE: &str = "localhost/img:latest";

/// A user with rootless podman and the image loaded; on drop, podman's
/// store and pause process go before the user does.
struct Rootless {
    user: User,
}

impl Rootless {
    fn new(tag: &str) -> Rootless {
        let user = User::new(tag);
        user.import_image();
        // Written by the user, in its home (the scratch folder is root's).
        let tar = user.home.join("img-archive.tar");
        user.ok("cc-save", &["-o", tar.to_str().unwrap(), "img"]);
        let r = Rootless { user };
        r.ok(None, &["load", "-q", "-i", tar.to_str().unwrap()]);
        fs::remove_file(&tar).unwrap();
        r
    }

    /// `podman [--runtime RT] ARGS...` as the user.
    fn cmd(&self, rt: Option<&Path>) -> Command {
        let mut c = self.user.cmd("podman");
        c.args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
        if let Some(rt) = rt {
            c.arg("--runtime").arg(rt);
        }
        c
    }

    fn run(&self, rt: Option<&Path>, args: &[&str]) -> Output {
        run_timeout(self.cmd(rt).args(args), Duration::from_secs(120))
    }

    fn ok(&self, rt: Option<&Path>, args: &[&str]) -> String {
        let out = self.run(rt, args);
        assert_ok(&out, &format!("podman {args:?} with {rt:?}"));
        stdout(&out)
    }

    fn runtimes(&self) -> [(&'static str, PathBuf); 2] {
        [
            ("runc", support::oci::runc()),
            ("cc-oci", self.user.bin.join("cc-oci")),
        ]
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        let _ = self.run(None, &["system", "reset", "--force"]);
        // Podman's pause process holds its user namespace; reset leaves it.
        let pid_file = self.user.runtime.join("libpod/tmp/pause.pid");
        let pid = fs::read_to_string(pid_file).ok();
        if let Some(pid) = pid.and_then(|p| p.trim().parse::<i32>().ok()) {
            let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let uid_line = format!("Uid:\t{}\t", self.user.uid);
            if status.lines().any(|l| l.starts_with(&uid_line)) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// What a user sees of one runtime: a container in the foreground, then
/// one in the background with exec, logs and stop.
fn scenario(r: &Rootless, label: &str, rt: &Path) -> Vec<String> {
    let mut seen = Vec::new();
    let fg = r.run(
        Some(rt),
        &[
            "run",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "id -u; stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox; \
             echo x >/dev/null && echo devnull; test -d /sys/kernel && echo sys; \
             echo err >&2; exit 3",
        ],
    );
    seen.push(format!("exit {:?}", fg.status.code()));
    seen.extend(stdout(&fg).lines().map(str::to_string));
    assert!(stderr(&fg).contains("err"), "{label}: {}", stderr(&fg));
    // On a terminal conmon made: devpts of the namespace, group tty (5).
    let tty = r.ok(
        Some(rt),
        &[
            "run",
            "--rm",
            "-t",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "t=$(tty) && stat -c %g \"$t\" && echo \"$t\" | cut -d/ -f1-3",
        ],
    );
    seen.extend(tty.lines().map(|l| l.trim().to_string()));

    let name = format!("bg-{label}");
    r.ok(
        Some(rt),
        &[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "echo up; trap 'exit 7' TERM; while :; do sleep 1; done",
        ],
    );
    wait_for(
        Duration::from_secs(20),
        "the container's first line",
        || {
            stdout(&r.run(Some(rt), &["logs", &name]))
                .contains("up")
                .then_some(())
        },
    );
    for (flags, cmd) in [
        (&[][..], &["id", "-u"][..]),
        (&["-u", "1000:100"], &["id"]),
        (
            &[],
            &[
                "sh",
                "-c",
                "touch /tmp/f && chown 2:3 /tmp/f && stat -c %u:%g /tmp/f",
            ],
        ),
    ] {
        let args = [&["exec"][..], flags, &[&name], cmd].concat();
        seen.push(r.ok(Some(rt), &args).trim().to_string());
    }
    r.ok(Some(rt), &["stop", "-t", "5", &name]);
    seen.push(
        r.ok(
            Some(rt),
            &[
                "inspect",
                "-f",
                "{{.State.ExitCode}} {{.State.Status}}",
                &name,
            ],
        )
        .trim()
        .to_string(),
    );
    seen.push(r.ok(Some(rt), &["logs", &name]).trim().to_string());
    r.ok(Some(rt), &["rm", &name]);
    seen
}

#[test]
fn rootless_podman_runs_containers_through_cc_oci_as_through_runc() {
    root_or_skip!();
    assert!(support::have("podman") && support::have("conmon"));
    let r = Rootless::new("podman");
    let [runc, cc] = r.runtimes();
    let want = scenario(&r, runc.0, &runc.1);
    assert_eq!(
        want,
        [
            "exit Some(3)",
            "0",
            "1000:100 644 /home/user/notes",
            "2:3 644 /srv/daemon",
            "0:0 4755 /bin/busybox",
            "devnull",
            "sys",
            "5",
            "/dev/pts",
            "0",
            "uid=1000(user) gid=100(users)",
            "2:3",
            "7 exited",
            "up",
        ],
        "runc itself"
    );
    let got = scenario(&r, cc.0, &cc.1);
    assert_eq!(got, want, "cc-oci against runc");

    // cc-oci kept its state in the user's runtime folder, and left none.
    let state = r.user.runtime.join("cc/oci");
    assert!(state.is_dir(), "{}", state.display());
    assert!(support::names_in(&state).is_empty());
}

#[test]
fn cc_oci_says_when_it_cannot_run_rootless() {
    root_or_skip!();
    let user = User::new("ocirl");
    // As the user itself, outside any user namespace: not root anywhere.
    let out = user.run("cc-oci", &["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cc-unshare"), "{}", stderr(&out));
    // What needs no container works for anyone, as runc's.
    assert!(user.ok("cc-oci", &["features"]).contains("ociVersionMax"));
    // Inside cc-unshare it is root of the user's namespace: rootless, its
    // state under the user's runtime folder.
    let list = user.ok("cc-unshare", &["cc-oci", "--rootless", "true", "list"]);
    assert_eq!(list.lines().count(), 1, "only the heading: {list}");
    assert!(user.runtime.join("cc/oci").is_dir());
    // A value runc does not take, and rootless mode as the host's root.
    let bad = user.run("cc-unshare", &["cc-oci", "--rootless", "maybe", "list"]);
    assert!(
        stderr(&bad).contains("invalid --rootless 'maybe'"),
        "{}",
        stderr(&bad)
    );
    let host = support::run_timeout(
        Command::new(support::bin("cc-oci")).args(["--rootless", "true", "list"]),
        Duration::from_secs(30),
    );
    assert_eq!(host.status.code(), Some(1));
    assert!(stderr(&host).contains("host's root"), "{}", stderr(&host));
}
