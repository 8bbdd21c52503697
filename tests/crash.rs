//! Crash consistency of pull, import, commit and push: each is SIGKILLed
//! at named steps (`CC_FAILPOINT`, lib/src/failpoint.rs), then the store
//! must be readable by cc, skopeo and umoci, list no half image, take the
//! same command again, and after one more cc command hold nothing
//! orphaned in tmp/ (store/tmp.rs collects what a dead owner left).
//!
//! Steps exercised: `pull.manifest`, `pull.blob` (half a layer
//! downloaded), `image.staged` (a layer unpacked in tmp/),
//! `pull.staged`, `image.placed` (layers moved in, no config yet),
//! `image.unnamed` (config and manifest stored, no name), `commit.packed`,
//! `push.compressed` (the gzip copy made, not yet kept) and `push.blobs`.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use support::{assert_ok, have, root_or_skip, stdout, Env, Registry};

/// Runs `prog args` with the failpoint `step` armed; asserts it died there.
fn killed_at<I, S>(env: &Env, step: &str, prog: &str, args: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = env
        .cmd(prog)
        .env("CC_FAILPOINT", step)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "{prog} did not stop at {step}: {:?} {}",
        out.status,
        support::stderr(&out)
    );
}

/// What tmp/ holds.
fn tmp_entries(env: &Env) -> Vec<String> {
    support::names_in(&env.root.join("tmp"))
}

/// The names cc-images lists, sorted.
fn image_names(env: &Env) -> Vec<String> {
    let out = env.ok("cc-images", ["--format", "json"]);
    let mut names: Vec<String> = support::json_lines(&out)
        .iter()
        .map(|v| {
            format!(
                "{}:{}",
                v["Repository"].as_str().unwrap_or(""),
                v["Tag"].as_str().unwrap_or("")
            )
        })
        .collect();
    names.sort();
    names
}

/// skopeo and umoci read the store's layout; `tag` (when given) is in it.
fn others_read_store(env: &Env, tag: Option<&str>) {
    let layout = env.root.join("images");
    if have("umoci") {
        let out = Command::new("umoci")
            .arg("ls")
            .arg("--layout")
            .arg(&layout)
            .output()
            .unwrap();
        assert_ok(&out, "umoci ls");
        if let Some(t) = tag {
            assert!(
                stdout(&out).lines().any(|l| l == t),
                "umoci ls: {}",
                stdout(&out)
            );
        }
    }
    if let (Some(t), true) = (tag, have("skopeo")) {
        let out = Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci:{}:{t}", layout.display()))
            .output()
            .unwrap();
        assert_ok(&out, &format!("skopeo inspect oci:…:{t}"));
    }
}

/// After the command ran again and one more cc command, nothing is left
/// in tmp/.
fn assert_tmp_clean(env: &Env, step: &str) {
    env.ok("cc-images", ["-q"]);
    let left = tmp_entries(env);
    assert!(left.is_empty(), "after {step}: tmp/ holds {left:?}");
}

/// A registry holding busybox at `crash/bb:v1`, pushed by skopeo.
fn registry_with_busybox() -> (Registry, Env) {
    let src = Env::new();
    let (tar, _) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(
        &format!("docker-archive:{}", tar.display()),
        "crash/bb:v1",
        &["-f", "oci"],
    );
    (reg, src)
}

#[test]
fn a_killed_pull_leaves_a_readable_store_and_nothing_in_tmp() {
    root_or_skip!();
    let (reg, _src) = registry_with_busybox();
    let image = reg.at("crash/bb:v1");
    for step in [
        "pull.manifest",
        "pull.blob",
        "image.staged",
        "pull.staged",
        "image.placed",
        "image.unnamed",
    ] {
        let env = Env::new();
        killed_at(&env, step, "cc-pull", ["-q", &image]);
        // No half image, and the layout stays readable.
        assert_eq!(image_names(&env), Vec::<String>::new(), "after {step}");
        others_read_store(&env, None);
        let out = env.run("cc-pull", ["-q", &image]);
        assert_ok(&out, &format!("cc-pull after {step}"));
        assert_eq!(image_names(&env), vec![image.clone()], "after {step}");
        others_read_store(&env, Some(&image));
        assert_tmp_clean(&env, step);
        assert_eq!(
            env.ok("cc-run", ["--rm", "--net", "none", &image, "echo", "ok"]),
            "ok\n"
        );
    }
}

#[test]
fn a_killed_pull_left_half_a_layer_that_the_next_pull_resumes() {
    root_or_skip!();
    let (reg, _src) = registry_with_busybox();
    let image = reg.at("crash/bb:v1");
    let env = Env::new();
    killed_at(&env, "pull.blob", "cc-pull", ["-q", &image]);
    // Another program opening the store keeps the resumable download.
    env.ok("cc-images", ["-q"]);
    let left = tmp_entries(&env);
    assert!(
        left.iter().any(|n| n.starts_with("partial-")),
        "resumable download gone: {left:?}"
    );
    assert!(
        left.iter().all(|n| n.starts_with("partial-")),
        "orphans kept: {left:?}"
    );
    let out = env
        .cmd("cc-pull")
        .env("CC_DEBUG", "1")
        .args(["-q", &image])
        .output()
        .unwrap();
    assert_ok(&out, "cc-pull after a kill mid-blob");
    assert_tmp_clean(&env, "pull.blob");
}

#[test]
fn a_killed_import_leaves_a_readable_store_and_nothing_in_tmp() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("base");
    let rootfs = env.busybox_rootfs("new");
    for step in ["image.staged", "image.placed", "image.unnamed"] {
        let args = [rootfs.as_os_str(), OsStr::new("crash-new")];
        killed_at(&env, step, "cc-import", args);
        let left = tmp_entries(&env);
        assert_eq!(
            image_names(&env),
            vec!["base:latest".to_string()],
            "after {step}"
        );
        others_read_store(&env, Some("base:latest"));
        if step == "image.staged" {
            assert!(!left.is_empty(), "the kill at {step} left nothing to test");
        }
        env.ok("cc-import", args);
        assert_eq!(
            image_names(&env),
            vec!["base:latest".to_string(), "crash-new:latest".to_string()],
            "after {step}"
        );
        others_read_store(&env, Some("crash-new:latest"));
        assert_tmp_clean(&env, step);
        env.ok("cc-rmi", ["crash-new"]);
    }
}

/// The layer folders the store holds.
fn layer_dirs(env: &Env) -> Vec<String> {
    support::names_in(&env.root.join("layers/sha256"))
}

#[test]
fn a_killed_rmi_leaves_a_readable_store_and_the_next_removal_collects() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("base");
    let before = layer_dirs(&env);
    for (i, name) in ["gone", "other"].iter().enumerate() {
        let rootfs = env.busybox_rootfs(name);
        fs::write(rootfs.join("unique"), format!("{i}")).unwrap();
        env.ok("cc-import", [rootfs.as_os_str(), OsStr::new(name)]);
    }
    killed_at(&env, "rmi.unlisted", "cc-rmi", ["gone"]);
    assert_eq!(
        image_names(&env),
        vec!["base:latest".to_string(), "other:latest".to_string()]
    );
    others_read_store(&env, Some("base:latest"));
    assert_eq!(
        layer_dirs(&env).len(),
        before.len() + 2,
        "the kill collected nothing"
    );
    // The next removal collects what the killed one left.
    env.ok("cc-rmi", ["other"]);
    assert_eq!(layer_dirs(&env), before, "orphaned layers stayed");
    others_read_store(&env, Some("base:latest"));
    assert_tmp_clean(&env, "rmi.unlisted");
}

#[test]
fn a_killed_commit_leaves_a_readable_store_and_nothing_in_tmp() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("base");
    let id = env.ok(
        "cc-run",
        [
            "-d",
            "--net",
            "none",
            "base",
            "sh",
            "-c",
            "echo x > /made; sleep 600",
        ],
    );
    let id = id.trim();
    support::wait_for(std::time::Duration::from_secs(20), "the file", || {
        env.run("cc-exec", [id, "cat", "/made"])
            .status
            .success()
            .then_some(())
    });
    for step in ["commit.packed", "image.placed", "image.unnamed"] {
        killed_at(&env, step, "cc-commit", [id, "committed"]);
        assert!(!tmp_entries(&env).is_empty() || step != "commit.packed");
        assert_eq!(
            image_names(&env),
            vec!["base:latest".to_string()],
            "after {step}"
        );
        others_read_store(&env, Some("base:latest"));
        env.ok("cc-commit", [id, "committed"]);
        others_read_store(&env, Some("committed:latest"));
        assert_tmp_clean(&env, step);
        assert_eq!(
            env.ok(
                "cc-run",
                ["--rm", "--net", "none", "committed", "cat", "/made"]
            ),
            "x\n"
        );
        env.ok("cc-rmi", ["committed"]);
    }
    env.ok("cc-rm", ["-f", id]);
}

#[test]
fn a_killed_push_leaves_a_readable_store_and_nothing_in_tmp() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    let reg = Registry::start();
    for (i, step) in ["push.compressed", "push.blobs"].into_iter().enumerate() {
        let dest = reg.at(&format!("crash/p{i}:v1"));
        killed_at(&env, step, "cc-push", ["-q", "bb", &dest]);
        assert_eq!(
            image_names(&env),
            vec!["bb:latest".to_string()],
            "after {step}"
        );
        others_read_store(&env, Some("bb:latest"));
        env.ok("cc-push", ["-q", "bb", &dest]);
        let out = Command::new("skopeo")
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{dest}"))
            .output()
            .unwrap();
        assert_ok(&out, &format!("skopeo inspect after {step}"));
        assert_tmp_clean(&env, step);
    }
}

// ------------------------------------------------------------ full disks

/// Mounts a tmpfs of `size` (`64m`) on the env's store root, so the store
/// fills up. Env's drop unmounts it after removing the containers; a test
/// that ends well unmounts it itself (`unmount`).
fn small_store(env: &Env, size: &str) {
    let out = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
        ])
        .arg(&env.root)
        .output()
        .unwrap();
    assert_ok(&out, "mount a tmpfs store");
}

fn unmount(env: &Env) {
    let out = Command::new("umount").arg(&env.root).output().unwrap();
    assert_ok(&out, "umount the tmpfs store");
}

/// Bytes free on the store's filesystem.
fn free_bytes(env: &Env) -> u64 {
    let st = nix::sys::statvfs::statvfs(&env.root).unwrap();
    st.blocks_available() as u64 * st.fragment_size() as u64
}

#[test]
fn a_pull_onto_a_full_disk_says_it_cannot_write() {
    root_or_skip!();
    let (reg, _src) = registry_with_busybox();
    let env = Env::new();
    small_store(&env, "512k");
    let out = env.run("cc-pull", ["-q", &reg.at("crash/bb:v1")]);
    let err = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    support::assert_one_line_error(&out, "cc-pull");
    assert!(
        err.contains("cannot write") && err.contains("no space left on device"),
        "{err}"
    );
    assert!(!err.contains("cannot read"), "{err}");
    assert_eq!(image_names(&env), Vec::<String>::new());
    unmount(&env);
}

/// A chatty container fills a 64 MiB store: its exit code is still kept
/// (cc-wait, cc-ps), and the store stays usable; a log with a cap stays
/// under it.
#[test]
fn a_full_disk_keeps_the_exit_code_and_the_store_usable() {
    root_or_skip!();
    let env = Env::new();
    small_store(&env, "64m");
    env.busybox_image("img");
    // The default cap (100m) is more than the disk: it fills.
    let chatty = env.run_d([
        "--net",
        "none",
        "img",
        "sh",
        "-c",
        "yes 0123456789012345678901234567890123456789 | head -c 200000000; exit 4",
    ]);
    assert_eq!(
        env.wait_code(&chatty, std::time::Duration::from_secs(120)),
        "4"
    );
    assert!(
        free_bytes(&env) < 1 << 20,
        "the disk did not fill: {} free",
        free_bytes(&env)
    );
    let status = env.ps_status(&chatty);
    assert!(status.starts_with("Exited (4)"), "{status}");
    let v: serde_json::Value =
        serde_json::from_str(env.ok("cc-inspect", [&chatty]).trim()).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    assert_eq!(v["State"]["ExitCode"], 4);
    assert_eq!(v["HostConfig"]["LogConfig"]["MaxSize"], 100u64 << 20);
    assert!(
        v["LogSize"].as_u64().unwrap() > 32 << 20,
        "{}",
        v["LogSize"]
    );
    // Removing it frees the disk; the store works as before.
    env.ok("cc-rm", [&chatty]);
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "img", "echo", "ok"]),
        "ok\n"
    );
    let capped = env.run_d([
        "--net",
        "none",
        "--log-max-size",
        "4m",
        "img",
        "sh",
        "-c",
        "yes 0123456789012345678901234567890123456789 | head -c 40000000; exit 3",
    ]);
    assert_eq!(
        env.wait_code(&capped, std::time::Duration::from_secs(120)),
        "3"
    );
    let dir = env.ctr_dir(&capped);
    for f in ["ctr.log", "ctr.log.1"] {
        let len = fs::metadata(dir.join(f)).unwrap().len();
        assert!(len <= 4 << 20, "{f}: {len} bytes");
    }
    let out = env.logs(["--tail", "1", &capped]);
    assert_ok(&out, "cc-logs --tail 1");
    env.ok("cc-rm", [&capped]);
    env.ok("cc-rmi", ["img"]);
    unmount(&env);
}
