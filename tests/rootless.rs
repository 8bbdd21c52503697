//! cc as an ordinary user (issue 21): a real user made for the test, with
//! subordinate ids the test adds, runs the programs through `setpriv` with
//! a clean environment. Its store is in its home, its containers run in its
//! own user namespace with the image's owners, what needs root on this host
//! is refused with a line saying why, and a container can do nothing the
//! user could not.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use std::process::Command;

use support::{assert_ok, root_or_skip, stderr, stdout, User};

#[test]
fn a_user_runs_containers_with_the_images_owners_in_its_own_store() {
    root_or_skip!();
    let user = User::new("a");
    user.import_image();
    // The store is the user's, its files the subordinate ids.
    let store = user.store();
    assert_eq!(fs::metadata(&store).unwrap().uid(), user.uid);
    assert!(user.ok("cc-images", &[]).contains("img"));
    let layer = fs::read_dir(store.join("layers/sha256"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let notes = fs::metadata(layer.path().join("home/user/notes")).unwrap();
    assert_eq!(notes.uid(), user.host_id(1000));
    assert_eq!(notes.gid(), user.host_id(100));
    assert_eq!(
        fs::metadata(layer.path().join("bin/busybox"))
            .unwrap()
            .uid(),
        user.uid
    );

    // Inside: the image's owners and the setuid bit, root is the user.
    let ls = user.ok(
        "cc-run",
        &[
            "--rm",
            "--net",
            "none",
            "img",
            "sh",
            "-c",
            "stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox; id -u",
        ],
    );
    assert_eq!(
        ls.lines().collect::<Vec<_>>(),
        [
            "1000:100 644 /home/user/notes",
            "2:3 644 /srv/daemon",
            "0:0 4755 /bin/busybox",
            "0"
        ],
        "{ls}"
    );
    assert_eq!(
        user.ok("cc-run", &["--rm", "--net", "host", "img", "echo", "host"])
            .trim(),
        "host"
    );

    // A container in the background, the programs that work on it.
    let id = user.ok(
        "cc-run",
        &[
            "-d",
            "--name",
            "bg",
            "--net",
            "none",
            "img",
            "sh",
            "-c",
            "echo up; trap 'exit 7' TERM; while :; do sleep 1; done",
        ],
    );
    assert!(user.ok("cc-ps", &[]).contains("bg"));
    assert_eq!(
        user.ok("cc-inspect", &["-f", "{{.State.Status}}", "bg"])
            .trim(),
        "running"
    );
    assert_eq!(user.ok("cc-logs", &["bg"]).trim(), "up");
    // No cgroup: cc-top finds the processes by their pid namespace.
    let top = user.ok("cc-top", &["bg"]);
    assert!(top.lines().any(|l| l.contains("trap")), "{top}");
    user.ok(
        "cc-exec",
        &[
            "bg",
            "sh",
            "-c",
            "mkdir /data && echo x > /data/f && chown 1000:100 /data/f",
        ],
    );
    assert!(user.ok("cc-diff", &["bg"]).contains("A /data/f"));
    user.ok("cc-commit", &["bg", "img2"]);
    user.ok("cc-stop", &["-t", "5", "bg"]);
    assert_eq!(user.ok("cc-wait", &["bg"]).trim(), "7");
    let exported = user.run("cc-export", &["bg"]);
    assert_ok(&exported, "cc-export");
    let tar = user.scratch.path().join("bg.tar");
    fs::write(&tar, &exported.stdout).unwrap();
    let listing = stdout(&Command::new("tar").arg("tvf").arg(&tar).output().unwrap());
    assert!(
        listing
            .lines()
            .any(|l| l.contains("1000/100") && l.ends_with("data/f")),
        "{listing}"
    );
    user.ok("cc-rm", &[id.trim()]);
    let f = user.ok(
        "cc-run",
        &[
            "--rm", "--net", "none", "img2", "stat", "-c", "%u:%g", "/data/f",
        ],
    );
    assert_eq!(f.trim(), "1000:100");

    // cc-unshare: root in the same namespace, the store's files as inside.
    assert_eq!(user.ok("cc-unshare", &["id", "-u"]).trim(), "0");
    let path = layer.path().join("home/user/notes");
    let seen = user.ok("cc-unshare", &["stat", "-c", "%u", path.to_str().unwrap()]);
    assert_eq!(seen.trim(), "1000");

    // cc-info says how the user's namespace is made.
    let info = user.ok("cc-info", &[]);
    assert!(
        info.contains(&format!("rootless: uid {}", user.uid)),
        "{info}"
    );
    assert!(info.contains("overlay: native overlayfs"), "{info}");
    assert!(
        info.contains(&format!("store: {}", store.display())),
        "{info}"
    );

    // Nothing in the user's folders but the store and the namespace's pid.
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
    assert_eq!(support::names_in(&user.home), [".local"]);
    assert_eq!(support::names_in(&user.home.join(".local")), ["share"]);
    assert_eq!(support::names_in(&user.home.join(".local/share")), ["cc"]);
    assert_eq!(support::names_in(&user.runtime), ["cc"]);
    assert_eq!(
        support::names_in(&user.runtime.join("cc")),
        ["overlay", "pause.pid", "userns.lock"]
    );
    // The overlay driver chosen once, kept for the next programs.
    let driver = fs::read_to_string(user.runtime.join("cc/overlay")).unwrap();
    assert_eq!(driver, "native");
}

#[test]
fn what_needs_root_on_this_host_is_refused_with_why() {
    root_or_skip!();
    let user = User::new("bb");
    user.import_image();
    for (flags, words) in [
        (&["-m", "64m"][..], "delegated"),
        (&["--cpus", "0.5"][..], "delegated"),
        (&["--pids-limit", "10"][..], "delegated"),
    ] {
        let net: &[&str] = if flags.is_empty() {
            &[]
        } else {
            &["--net", "none"]
        };
        let out = user.run("cc-run", &[flags, net, &["--rm", "img", "true"]].concat());
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(words), "{flags:?}: {err}");
    }
    assert!(
        user.ok("cc-ps", &["-aq"]).trim().is_empty(),
        "nothing left behind"
    );
    for (prog, args, words) in [
        ("cc-stats", &["--no-stream", "x"][..], "has none"),
        ("cc-mount", &["img"][..], "inside cc-unshare"),
    ] {
        let out = user.run(prog, args);
        assert!(!out.status.success(), "{prog}");
        assert!(stderr(&out).contains(words), "{prog}: {}", stderr(&out));
    }
    // Inside cc-unshare, cc-mount's mount is there to look at.
    let ls = user.ok(
        "cc-unshare",
        &[
            "sh",
            "-c",
            "m=$(cc-mount img) && ls \"$m/srv\" && cc-umount \"$m\" >/dev/null",
        ],
    );
    assert_eq!(ls.trim(), "daemon");
    // Without limits the container runs, with no cgroup of its own.
    let cg = user.ok(
        "cc-run",
        &["--rm", "--net", "none", "img", "cat", "/proc/self/cgroup"],
    );
    assert!(!cg.contains("/cc/"), "{cg}");
}

#[test]
fn a_users_container_can_do_nothing_the_user_could_not() {
    root_or_skip!();
    let user = User::new("ccc");
    user.import_image();
    // A root-only host file, bound in: unreadable inside.
    let secret = user.scratch.path().join("secret");
    fs::write(&secret, "root only\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let bind = format!("{}:/secret", secret.display());
    let out = user.run(
        "cc-run",
        &[
            "--rm", "--net", "none", "-v", &bind, "img", "cat", "/secret",
        ],
    );
    assert!(!out.status.success());
    assert!(!stdout(&out).contains("root only"));
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );
    // Root of the user's namespace cannot signal another user's process.
    let mut other = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = other.id().to_string();
    let out = user.run("cc-unshare", &["kill", "-TERM", &pid]);
    assert!(
        !out.status.success(),
        "the user's root signalled root's process"
    );
    assert!(
        other.try_wait().unwrap().is_none(),
        "root's process was killed"
    );
    let _ = other.kill();
    let _ = other.wait();
}

#[test]
fn a_users_image_round_trips_through_a_registry_with_its_owners() {
    root_or_skip!();
    let user = User::new("dddd");
    user.import_image();
    let reg = support::Registry::start();
    let at = reg.at("rootless/img:v1");
    user.ok("cc-push", &["img", &at]);
    // Root pulls what the user pushed: the same owners and modes.
    let env = support::Env::new();
    let out = env.run("cc-pull", [&at]);
    assert_ok(&out, "cc-pull as root");
    let stat = "stat -c '%u:%g %a %n' /home/user/notes /srv/daemon /bin/busybox";
    let as_root = env.ok("cc-run", ["--rm", "--net", "none", &at, "sh", "-c", stat]);
    // And the user pulls it back into an emptied store.
    user.ok("cc-rmi", &["img"]);
    user.ok("cc-pull", &[&at]);
    let as_user = user.ok("cc-run", &["--rm", "--net", "none", &at, "sh", "-c", stat]);
    assert_eq!(as_root, as_user);
    assert_eq!(
        as_user.lines().collect::<Vec<_>>(),
        [
            "1000:100 644 /home/user/notes",
            "2:3 644 /srv/daemon",
            "0:0 4755 /bin/busybox"
        ],
        "{as_user}"
    );
}

#[test]
fn a_user_without_subordinate_ids_runs_images_of_one_owner() {
    root_or_skip!();
    let user = User::without_subids("eeeee");
    let dir = user.scratch.path().join("solo");
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::copy("/bin/busybox", dir.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", dir.join("bin/id")).unwrap();
    let tar = user.scratch.path().join("solo.tar");
    let out = Command::new("tar")
        .args(["--owner=0", "--group=0", "-C"])
        .arg(&dir)
        .args(["-cf"])
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert_ok(&out, "tar");
    fs::set_permissions(&tar, fs::Permissions::from_mode(0o644)).unwrap();
    // The first program says what a one-id namespace cannot do.
    let out = user.run("cc-import", &[tar.to_str().unwrap(), "solo"]);
    assert_ok(&out, "cc-import");
    assert!(
        stderr(&out).contains("no subordinate ids"),
        "{}",
        stderr(&out)
    );
    let id = user.ok("cc-run", &["--rm", "--net", "none", "solo", "id"]);
    assert_eq!(id.trim(), "uid=0 gid=0");
    // An image with other owners is refused, naming why.
    user.import_image_expecting_failure("does not map");
}
