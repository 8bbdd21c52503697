//! cc-commit: a container's changes become a layer on its image.

use std::path::PathBuf;

use support::{assert_code, listing, root_or_skip, Env, CHANGES};

/// The changes container of `support::changes_rootfs`, run to its end.
fn changed(env: &Env, name: &str) -> String {
    let dir = support::changes_rootfs(env, "t");
    env.import_dir(&dir, "t");
    env.ok(
        "cc-run",
        ["--net", "none", "--name", name, "t", "sh", "-c", CHANGES],
    );
    name.to_string()
}

fn diff_ids(env: &Env, image: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [image])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    v["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn committed_image_runs_with_the_changes() {
    root_or_skip!();
    let env = Env::new();
    let ctr = changed(&env, "ctr1");
    let id = env.ok("cc-commit", [&ctr, "out:v1"]);
    let id = id.trim();
    assert!(
        id.starts_with("sha256:") && support::is_id(&id[7..]),
        "{id}"
    );
    let files = listing(&env, "out:v1");
    for want in [
        "/t/add/a F 644 0 0 2 2 ",
        "/t/add/hard F 644 0 0 2 2 ",
        "/t/add/sym L 777 0 0 -> ../keep",
        "/t/add/dangling L 777 0 0 -> /nowhere",
        "/t/add/fifo fifo 644 0 0",
        "/t/mode D 700 0 0",
        "/t/owner D 755 1000 100",
        "/t/opq/new/f F 644",
    ] {
        assert!(files.contains(want), "{want} missing:\n{files}");
    }
    assert!(
        files
            .lines()
            .any(|l| l.starts_with("/t/add/suid F 4755 0 0")),
        "{files}"
    );
    for gone in ["/t/gone", "/t/tree", "/t/opq/old"] {
        assert!(
            !files.contains(&format!("{gone} ")),
            "{gone} still there:\n{files}"
        );
    }
    assert_eq!(diff_ids(&env, "out:v1").len(), 2);
    // The layer is unpacked in the store: nothing left in tmp/.
    support::assert_no_stray(&env);
}

#[test]
fn same_changes_give_the_same_diff_id() {
    root_or_skip!();
    let env = Env::new();
    let ctr = changed(&env, "ctr1");
    env.ok("cc-commit", [&ctr, "a:1"]);
    env.ok("cc-commit", ["--compress", "zstd", &ctr, "a:2"]);
    env.ok("cc-commit", ["--compress", "none", &ctr, "a:3"]);
    let (a, b, c) = (
        diff_ids(&env, "a:1"),
        diff_ids(&env, "a:2"),
        diff_ids(&env, "a:3"),
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
    // Each compression gives a runnable image.
    for img in ["a:2", "a:3"] {
        assert_eq!(
            env.ok("cc-run", ["--rm", "--net", "none", img, "cat", "/t/add/a"]),
            "a\n"
        );
    }
}

#[test]
fn config_gets_history_and_changes() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "ctr1",
            "bb",
            "sh",
            "-c",
            "echo hi > /x",
        ],
    );
    env.ok(
        "cc-commit",
        [
            "-m",
            "my message",
            "-a",
            "Me <me@example.com>",
            "-c",
            "ENV A=1",
            "-c",
            "CMD [\"cat\", \"/x\"]",
            "-c",
            "WORKDIR /tmp",
            "ctr1",
            "bb:2",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", ["bb:2"])).unwrap();
    let text = v.to_string();
    assert!(
        text.contains("A=1") && text.contains("my message") && text.contains("Me <me@example.com>"),
        "{text}"
    );
    assert_eq!(env.ok("cc-run", ["--rm", "--net", "none", "bb:2"]), "hi\n");
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "bb:2", "pwd"]),
        "/tmp\n"
    );
}

#[test]
fn running_container_is_frozen_then_thawed() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    let id = env.ok(
        "cc-run",
        [
            "-d",
            "--net",
            "none",
            "bb",
            "sh",
            "-c",
            "echo 1 > /x; exec sleep 100",
        ],
    );
    let id = id.trim().to_string();
    support::wait_for(std::time::Duration::from_secs(10), "/x", || {
        env.ok("cc-diff", [&id]).contains("A /x").then_some(())
    });
    env.ok("cc-commit", [&id, "live:1"]);
    let state = std::fs::read_to_string(support::cgroup_dir("freezer", &id).join("freezer.state"));
    if let Ok(s) = state {
        assert_eq!(s.trim(), "THAWED");
    }
    assert_eq!(env.inspect("State.Status", &id), "running");
    env.ok("cc-commit", ["--pause=false", &id, "live:2"]);
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "live:2", "cat", "/x"]),
        "1\n"
    );
    env.ok("cc-rm", ["-f", &id]);
}

/// Three layers, a deletion in the last: every file, mode, owner, link
/// and xattr of the first commit is still there, and save/load keeps it.
#[test]
fn commit_of_a_commit_keeps_everything() {
    root_or_skip!();
    let env = Env::new();
    let ctr = changed(&env, "ctr1");
    // An xattr and a file capability, set on the upper dir from the host
    // (busybox has no setfattr or setcap).
    let upper = env
        .root
        .join("containers")
        .join(env.only_container())
        .join("upper");
    support::set_xattr(&upper.join("t/add/a"), "user.note", b"kept");
    let cap: [u8; 20] = [
        0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    support::set_xattr(&upper.join("t/add/suid"), "security.capability", &cap);
    env.ok("cc-commit", [&ctr, "two:1"]);
    let before = listing(&env, "two:1");
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "ctr2",
            "two:1",
            "sh",
            "-c",
            "rm /t/keep; echo 3 > /t/third",
        ],
    );
    env.ok("cc-commit", ["ctr2", "three:1"]);
    assert_eq!(diff_ids(&env, "three:1").len(), 3);
    let after = listing(&env, "three:1");
    let expect: Vec<&str> = before
        .lines()
        .filter(|l| !l.starts_with("/t/keep "))
        .collect();
    let got: Vec<&str> = after
        .lines()
        .filter(|l| !l.starts_with("/t/third "))
        .collect();
    assert_eq!(got, expect);
    assert!(after.contains("/t/third F 644 0 0 2 1"), "{after}");
    // Save, load into a fresh store, and look at the xattrs there.
    let tar = env.dir.join("three.tar");
    env.ok("cc-save", ["-o", tar.to_str().unwrap(), "three:1"]);
    let env2 = Env::new();
    let loaded = env2.ok("cc-load", ["-i", tar.to_str().unwrap()]);
    assert_eq!(loaded, "Loaded image: three:1\n");
    assert_eq!(listing(&env2, "three:1"), after);
    let root = PathBuf::from(env2.ok("cc-mount", ["three:1"]).trim());
    assert_eq!(
        support::get_xattr(&root.join("t/add/a"), "user.note").as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(
        support::get_xattr(&root.join("t/add/suid"), "security.capability").as_deref(),
        Some(&cap[..])
    );
    assert!(support::get_xattr(&root.join("t/add/a"), "trusted.overlay.origin").is_none());
    env2.ok("cc-umount", [root.to_str().unwrap()]);
}

#[test]
fn a_container_on_a_folder_cannot_be_committed() {
    root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("r");
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "r",
            "--rootfs",
            dir.to_str().unwrap(),
            "true",
        ],
    );
    let out = env.run("cc-commit", ["r", "x:1"]);
    assert_code(&out, 4, "cc-commit of a --rootfs container");
    support::assert_one_line_error(&out, "cc-commit");
}

/// The blobs of the store, by digest.
fn blobs(env: &Env) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(env.root.join("images/blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| format!("sha256:{}", e.file_name().to_string_lossy()))
        .filter(|n| !n.contains(".tmp"))
        .collect()
}

/// Committing under a name that another image has moves the name; the
/// image it leaves (its config and manifest, and a layer no other image
/// has) goes at once, not when the layer's last image is removed.
#[test]
fn committing_the_same_name_again_collects_the_old_images_blobs() {
    root_or_skip!();
    let env = Env::new();
    let id = changed(&env, "first");
    let first = env
        .ok("cc-commit", [id.as_str(), "snap"])
        .trim()
        .to_string();
    // The manifest that names it, from the layout's index.
    let index = std::fs::read_to_string(env.root.join("images/index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    let first_manifest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == "snap:latest")
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("snap:latest not in {index}"));
    let before = blobs(&env);
    assert!(before.contains(&first), "{first} not among {before:?}");
    // Another container, so another layer; then the same name again.
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "second",
            "t",
            "sh",
            "-c",
            "echo more > /more",
        ],
    );
    let second = env.ok("cc-commit", ["second", "snap"]).trim().to_string();
    assert_ne!(first, second);
    let after = blobs(&env);
    assert!(!after.contains(&first), "the old config stayed");
    assert!(!after.contains(&first_manifest), "the old manifest stayed");
    // Exactly the new image's config, manifest and layer came; the old
    // image's three went.
    assert_eq!(after.len(), before.len(), "{before:?} -> {after:?}");
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "snap", "cat", "/more"]),
        "more\n"
    );
}
