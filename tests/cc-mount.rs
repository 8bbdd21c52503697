//! cc-mount and cc-umount: images read-only or `--rw`, containers with
//! their upper changes.

use std::fs;
use std::path::Path;

use support::{assert_no_leaks, assert_one_line_error, root_or_skip, Env};

#[test]
fn image_mounts_read_only() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let root = env.ok("cc-mount", ["img"]).trim().to_string();
    let p = Path::new(&root);
    assert!(p.is_absolute());
    assert!(p.join("bin/busybox").exists());
    assert_eq!(
        fs::read_to_string(p.join("etc/group"))
            .unwrap()
            .lines()
            .next(),
        Some("root:x:0:")
    );
    let err = fs::write(p.join("newfile"), "x").expect_err("write to a read-only image mount");
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
    env.ok("cc-umount", [&root]);
    assert!(env.mounts().is_empty());
    assert_no_leaks(&env);
}

#[test]
fn rw_mount_is_writable_and_scratch_is_removed() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let layers_before = support::tree_snapshot(&env.root.join("layers"));
    let root = env.ok("cc-mount", ["--rw", "img"]).trim().to_string();
    fs::write(Path::new(&root).join("newfile"), "x").unwrap();
    fs::remove_file(Path::new(&root).join("bin/ls")).unwrap();
    // Everything the store holds besides layers/ and images/, before umount:
    // the scratch upper dir is somewhere in there.
    let scratch: Vec<_> = walk_for(&env.root, "newfile");
    assert!(
        !scratch.is_empty(),
        "the write landed nowhere under the root"
    );
    env.ok("cc-umount", [&root]);
    for s in &scratch {
        assert!(!s.exists(), "scratch file {s:?} left after cc-umount");
    }
    assert_eq!(
        support::tree_snapshot(&env.root.join("layers")),
        layers_before,
        "layers changed"
    );
    assert_no_leaks(&env);
}

/// Files named `name` below `dir`, not crossing into mounts.
fn walk_for(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let out = std::process::Command::new("find")
        .arg(dir)
        .args(["-xdev", "-name", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(Into::into)
        .collect()
}

#[test]
fn container_mount_shows_its_changes() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok(
        "cc-run",
        [
            "--name",
            "ctr",
            "img",
            "sh",
            "-c",
            "echo changed > /etc/motd; rm /bin/ls",
        ],
    );
    let root = env.ok("cc-mount", ["ctr"]).trim().to_string();
    assert_eq!(
        fs::read_to_string(Path::new(&root).join("etc/motd")).unwrap(),
        "changed\n"
    );
    assert!(
        !Path::new(&root).join("bin/ls").exists(),
        "a deletion in the upper dir does not show"
    );
    env.ok("cc-umount", ["ctr"]);
    assert!(env.mounts().is_empty(), "{:?}", env.mounts());
    env.ok("cc-rm", ["ctr"]);
    assert_no_leaks(&env);
}

#[test]
fn unknown_target_fails() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-mount", ["nosuch"]);
    support::assert_code(&out, 3, "cc-mount nosuch");
    assert_one_line_error(&out, "cc-mount");
    assert_no_leaks(&env);
}

#[test]
fn umount_of_something_not_mounted_fails() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-umount", [env.dir.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "cc-umount of a plain folder succeeded"
    );
    assert_one_line_error(&out, "cc-umount");
}
