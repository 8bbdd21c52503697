//! cc as seen by an unprivileged user of the host (issue 14, items 2, 3
//! and 5): a real user made with useradd for the test, over a store whose
//! root folder existed before cc (mode 0755, as a disk mounted at
//! /var/lib/cc is) under a folder anyone may enter. The user reads no
//! layer, blob, spec or log, runs no image's setuid program as root, reads
//! no cc-oci spec, and can hold none of cc's locks; a lock held too long
//! is an error that names its holder.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{assert_ok, root_or_skip, run_timeout, stderr, stdout, Env, NetEnv};

/// `euid`: prints its effective uid; stored setuid root in the image.
const EUID: &str = "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"euid=%d\\n\", (int)geteuid()); return 0; }\n";

/// A user made for one test, deleted by its exact name on drop.
struct HostUser {
    name: String,
    uid: u32,
}

impl HostUser {
    fn new(tag: &str) -> HostUser {
        let name = format!("cc{tag}{}", std::process::id());
        let out = Command::new("useradd")
            .args([
                "--no-create-home",
                "--shell",
                "/bin/sh",
                "--user-group",
                &name,
            ])
            .output()
            .expect("useradd");
        assert_ok(&out, &format!("useradd {name}"));
        let out = Command::new("id").args(["-u", &name]).output().unwrap();
        assert_ok(&out, "id -u");
        let uid = stdout(&out).trim().parse().unwrap();
        HostUser { name, uid }
    }

    /// `sh -c SCRIPT` as the user, with `args` as $1...: a shell, so that
    /// every path is looked up without root's capabilities.
    fn sh(&self, script: &str, args: &[&Path]) -> Output {
        let out = Command::new("setpriv")
            .arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.uid))
            .args(["--clear-groups", "--", "sh", "-c", script, "sh"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("setpriv");
        out
    }

    /// Whether the user can open `path` for reading.
    fn can_read(&self, path: &Path) -> bool {
        self.sh("exec 3<\"$1\"", &[path]).status.success()
    }
}

impl Drop for HostUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

fn tools_or_fail() {
    for t in ["useradd", "userdel", "setpriv", "gcc", "flock"] {
        assert!(support::have(t), "this test needs {t}");
    }
}

/// Opens the test's temporary folder as /var/lib is (0755), and makes its
/// store root exist first with mode 0755, before any cc program runs.
fn open_like_var_lib(env: &Env) {
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&env.root, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(fs::read_dir(&env.root).unwrap().next().is_none());
}

/// Image `suid`: busybox and `/bin/euid`, setuid root.
fn suid_image(env: &Env) {
    let dir = env.busybox_rootfs("suid");
    let exe = dir.join("bin/euid");
    support::compile_static(EUID, &exe);
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o4755)).unwrap();
    env.import_dir(&dir, "suid");
}

/// Every regular file under `dir`, but in mounted roots (`rootfs`).
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() && e.file_name() != "rootfs" {
            files_under(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

/// The options of the mount at `target`, from /proc/self/mountinfo.
fn mount_options(target: &Path) -> String {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let t = target.to_str().unwrap();
    info.lines()
        .filter(|l| l.split(' ').nth(4) == Some(t))
        .map(|l| l.split(' ').nth(5).unwrap().to_string())
        .next_back()
        .unwrap_or_else(|| panic!("{t} is not mounted"))
}

#[test]
fn a_host_user_reads_nothing_of_the_store_and_runs_no_setuid_from_it() {
    root_or_skip!();
    tools_or_fail();
    let user = HostUser::new("st");
    let env = Env::new();
    open_like_var_lib(&env);
    suid_image(&env);
    let out = run_timeout(
        env.cmd("cc-run").args([
            "--name",
            "sec",
            "--net",
            "none",
            "-e",
            "SECRET=hunter2",
            "suid",
            "sh",
            "-c",
            "echo printed-secret",
        ]),
        Duration::from_secs(60),
    );
    assert_ok(&out, "cc-run");
    let ro = PathBuf::from(env.ok("cc-mount", ["suid"]).trim());
    let rw = PathBuf::from(env.ok("cc-mount", ["--rw", "suid"]).trim());

    let mut holes = Vec::new();
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
    if mode(&env.root) != 0o700 {
        holes.push(format!("the store root is {:o}", mode(&env.root)));
    }
    let mut files = Vec::new();
    files_under(&env.root, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("config.json")),
        "{files:?}"
    );
    assert!(files.iter().any(|f| f.to_string_lossy().contains("blobs")));
    for f in &files {
        if user.can_read(f) {
            holes.push(format!("{} read {}", user.name, f.display()));
        }
    }
    for m in [&ro, &rw] {
        let opts = mount_options(m);
        if !opts.split(',').any(|o| o == "nosuid") || !opts.split(',').any(|o| o == "nodev") {
            holes.push(format!("{} is mounted {opts}", m.display()));
        }
        // Reachable or not, the setuid program gives no root.
        let o = user.sh("\"$1\"", &[&m.join("bin/euid")]);
        if stdout(&o).contains("euid=0") {
            holes.push(format!(
                "{} ran {}/bin/euid as root",
                user.name,
                m.display()
            ));
        }
    }
    // With every folder above it opened for the user (as a careless
    // admin might), the mount itself still says nosuid.
    let mut opened = Vec::new();
    let mut p = ro.parent().unwrap();
    while p != env.base() {
        opened.push((p.to_path_buf(), mode(p)));
        fs::set_permissions(p, fs::Permissions::from_mode(0o711)).unwrap();
        p = p.parent().unwrap();
    }
    let o = user.sh("\"$1\"", &[&ro.join("bin/euid")]);
    for (p, m) in opened {
        fs::set_permissions(&p, fs::Permissions::from_mode(m)).unwrap();
    }
    assert!(stdout(&o).contains("euid="), "the user ran it: {o:?}");
    if stdout(&o).contains("euid=0") {
        holes.push(format!(
            "{} ran the image's setuid euid as root through open folders",
            user.name
        ));
    }
    env.ok("cc-umount", [ro.as_os_str()]);
    env.ok("cc-umount", [rw.as_os_str()]);
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        holes.is_empty(),
        "open to a host user:\n  {}",
        holes.join("\n  ")
    );
}

/// cc-info names a store folder other users can read, when its root is
/// another user's (cc leaves that root's mode alone).
#[test]
fn cc_info_warns_of_a_store_open_to_others() {
    root_or_skip!();
    tools_or_fail();
    let user = HostUser::new("in");
    let env = Env::new();
    env.ok("cc-info", [] as [&str; 0]);
    std::os::unix::fs::chown(&env.root, Some(user.uid), None).unwrap();
    fs::set_permissions(&env.root, fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.run("cc-info", [] as [&str; 0]);
    std::os::unix::fs::chown(&env.root, Some(0), None).unwrap();
    assert_ok(&out, "cc-info");
    let want = format!("'{}' is open to other users", env.root.display());
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    // Root's own root folder is closed on open: no warning.
    let out = env.run("cc-info", [] as [&str; 0]);
    assert_ok(&out, "cc-info");
    assert!(
        !stderr(&out).contains("open to other users"),
        "{}",
        stderr(&out)
    );
}

/// A bundle in `dir` whose process has `SECRET=hunter2` in its environment.
fn secret_bundle(env: &Env, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let out = Command::new(support::bin("cc-oci"))
        .args(["spec", "--bundle"])
        .arg(dir)
        .output()
        .unwrap();
    assert_ok(&out, "cc-oci spec");
    support::make_busybox_rootfs(&dir.join("rootfs"));
    let path = dir.join("config.json");
    let mut spec: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    spec["process"]["args"] = serde_json::json!(["sleep", "60"]);
    spec["process"]["terminal"] = false.into();
    spec["process"]["env"]
        .as_array_mut()
        .unwrap()
        .push("SECRET=hunter2".into());
    fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let _ = env;
}

#[test]
fn a_host_user_reads_no_cc_oci_spec() {
    root_or_skip!();
    tools_or_fail();
    let user = HostUser::new("oc");
    let env = Env::new();
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o755)).unwrap();
    let bundle = env.dir.join("bundle");
    secret_bundle(&env, &bundle);
    let id = format!("cc-host-user-{}", std::process::id());
    let made_root = env.base().join("oci-root");
    let mut holes = Vec::new();
    // The default root (/run/cc-oci), and a --root cc-oci makes.
    for root in [None, Some(made_root.as_path())] {
        // Output to a file: the held container keeps its stdio open.
        let log = env.dir.join("oci.log");
        let oci = |args: &[&str]| {
            let mut c = Command::new(support::bin("cc-oci"));
            if let Some(r) = root {
                c.arg("--root").arg(r);
            }
            let f = fs::File::create(&log).unwrap();
            let status = c
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(f)
                .status()
                .unwrap();
            assert!(
                status.success(),
                "cc-oci {args:?}: {}",
                fs::read_to_string(&log).unwrap()
            );
        };
        oci(&["create", "--bundle", bundle.to_str().unwrap(), &id]);
        let dir = root.unwrap_or(Path::new("/run/cc-oci"));
        let config = dir.join(&id).join("config.json");
        assert!(fs::read_to_string(&config).unwrap().contains("hunter2"));
        let modes: Vec<String> = [
            dir.to_path_buf(),
            config.clone(),
            dir.join(&id).join("state.json"),
        ]
        .iter()
        .map(|p| {
            format!(
                "{} {:o}",
                p.display(),
                fs::metadata(p).unwrap().mode() & 0o777
            )
        })
        .collect();
        for p in [&config, &dir.join(&id).join("state.json")] {
            if user.can_read(p) {
                holes.push(format!("{} read {} ({modes:?})", user.name, p.display()));
            }
        }
        if fs::metadata(dir).unwrap().mode() & 0o077 != 0 {
            holes.push(format!("{modes:?}"));
        }
        oci(&["delete", "-f", &id]);
    }
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        holes.is_empty(),
        "open to a host user:\n  {}",
        holes.join("\n  ")
    );
}

#[test]
fn a_host_user_can_open_no_lock_of_cc() {
    root_or_skip!();
    tools_or_fail();
    let user = HostUser::new("lk");
    let env = NetEnv::with_img();
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o755)).unwrap();
    // A container on the store's bridge takes the host's network lock.
    let out = run_timeout(
        env.cmd("cc-run").args(["--rm", "img", "true"]),
        Duration::from_secs(60),
    );
    assert_ok(&out, "cc-run on the bridge");
    let net = Path::new("/run/cc/net.lock");
    assert!(net.exists(), "cc's network lock is {}", net.display());
    let mut holes = Vec::new();
    // And where older cc kept it, open to all.
    let legacy = Path::new("/run/cc-net.lock");
    let mut locks = vec![net.to_path_buf()];
    if legacy.exists() {
        locks.push(legacy.to_path_buf());
    }
    for e in fs::read_dir(env.root.join("locks")).unwrap().flatten() {
        locks.push(e.path());
    }
    assert!(locks.len() > 2, "{locks:?}");
    for l in &locks {
        if user.can_read(l) {
            holes.push(format!("{} opened {}", user.name, l.display()));
        }
    }
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(holes.is_empty(), "{}", holes.join("\n"));
}

/// flock(1) holding a lock (`-o`: its command does not inherit it); on
/// drop its command and then flock are killed by their pids and reaped.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let pid = self.0.id();
        let kids = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        for kid in kids.unwrap_or_default().split_whitespace() {
            if let Ok(k) = kid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(k),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A lock held past the bound: the program gives up with an error naming
/// the holder, instead of hanging.
#[test]
fn a_lock_held_too_long_names_its_holder() {
    root_or_skip!();
    tools_or_fail();
    let env = support::env_with_img();
    let lock = env.root.join("locks/images.lock");
    let holder = Holder(
        Command::new("flock")
            .arg("-o")
            .arg(&lock)
            .args(["sleep", "300"])
            .spawn()
            .unwrap(),
    );
    let pid = holder.0.id();
    support::wait_for(Duration::from_secs(20), "the lock taken", || {
        let locks = fs::read_to_string("/proc/locks").unwrap();
        let ino = fs::metadata(&lock).ok()?.ino();
        locks
            .lines()
            .any(|l| l.contains(&format!(" {pid} ")) && l.contains(&format!(":{ino} ")))
            .then_some(())
    });
    let out = run_timeout(
        env.cmd("cc-tag").args(["img", "other"]),
        Duration::from_secs(120),
    );
    drop(holder);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let want = format!(
        "cc-tag: cannot lock '{}': held for over 30 s by pid {pid} (flock)",
        lock.display()
    );
    assert_eq!(stderr(&out).trim(), want);
}
