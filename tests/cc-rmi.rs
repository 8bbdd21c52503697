//! cc-rmi: blobs and layers nobody uses go, shared ones stay; images in
//! use need -f; -f on missing; ambiguous prefixes list candidates.

use std::fs;
use std::path::Path;

use support::{assert_code, assert_one_line_error, root_or_skip, stderr, Env};

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).map(|rd| rd.count()).unwrap_or(0)
}

fn layer_of(env: &Env, image: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(env.ok("cc-inspect", ["-f", "RootFS.Layers", image]).trim()).unwrap();
    v[0].as_str().unwrap().to_string()
}

fn layer_dir(env: &Env, diffid: &str) -> std::path::PathBuf {
    env.root
        .join("layers/sha256")
        .join(diffid.trim_start_matches("sha256:"))
}

#[test]
fn rmi_removes_blobs_and_layers() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("gone");
    let layer = layer_of(&env, "gone");
    assert!(layer_dir(&env, &layer).is_dir());
    let out = env.ok("cc-rmi", ["gone"]);
    assert!(!out.trim().is_empty(), "cc-rmi prints what it removed");
    assert_eq!(env.ok("cc-images", ["-q"]), "");
    assert!(!layer_dir(&env, &layer).exists(), "the layer folder stayed");
    assert_eq!(
        count(&env.root.join("images/blobs/sha256")),
        0,
        "blobs stayed"
    );
    assert_eq!(count(&env.root.join("layers/sha256")), 0);
}

#[test]
fn rmi_keeps_a_layer_another_image_uses() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    let src = rootfs.to_str().unwrap();
    let tar = env.dir.join("l.tar");
    assert!(std::process::Command::new("tar")
        .arg("-C")
        .arg(src)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let t = tar.to_str().unwrap();
    env.ok("cc-import", ["-c", "CMD [\"sh\"]", t, "one"]);
    env.ok("cc-import", ["-c", "CMD [\"true\"]", t, "two"]);
    let layer = layer_of(&env, "one");
    assert_eq!(layer, layer_of(&env, "two"));
    env.ok("cc-rmi", ["one"]);
    assert!(
        layer_dir(&env, &layer).is_dir(),
        "a shared layer folder was removed"
    );
    let blob = env.root.join("images/blobs/sha256");
    assert!(count(&blob) >= 3, "blobs of 'two' removed");
    assert_eq!(
        env.ok("cc-run", ["--rm", "two", "echo", "still"]),
        "still\n"
    );
    env.ok("cc-rmi", ["two"]);
    assert!(!layer_dir(&env, &layer).exists());
    assert_eq!(count(&blob), 0);
}

#[test]
fn rmi_refuses_an_image_a_container_uses() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("used");
    env.ok("cc-run", ["--name", "user1", "used", "true"]);
    let out = env.run("cc-rmi", ["used"]);
    assert_code(&out, 4, "cc-rmi of an image in use");
    assert_one_line_error(&out, "cc-rmi");
    assert_eq!(
        env.ok("cc-images", ["-q"]).lines().count(),
        1,
        "the image went anyway"
    );
    // -f removes it; the container keeps its layers and still mounts.
    env.ok("cc-rmi", ["-f", "used"]);
    assert_eq!(env.ok("cc-images", ["-q"]), "");
    let root = env.ok("cc-mount", ["user1"]).trim().to_string();
    assert!(
        Path::new(&root).join("bin/busybox").exists(),
        "the container lost its layers"
    );
    env.ok("cc-umount", [&root]);
    env.ok("cc-rm", ["user1"]);
}

#[test]
fn rmi_force_of_missing_is_ok() {
    root_or_skip!();
    let env = Env::new();
    env.ok("cc-rmi", ["-f", "missing"]);
    let out = env.run("cc-rmi", ["missing"]);
    assert_code(&out, 3, "cc-rmi missing");
    assert_one_line_error(&out, "cc-rmi");
}

#[test]
fn rmi_goes_on_after_a_missing_one() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("first");
    let out = env.run("cc-rmi", ["missing", "first"]);
    assert_code(&out, 1, "cc-rmi missing first");
    assert_eq!(env.ok("cc-images", ["-q"]), "", "'first' was not removed");
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    let src = rootfs.to_str().unwrap();
    // Import variants until two ids share their first hex digit.
    let mut seen: std::collections::HashMap<char, String> = Default::default();
    let (a, b) = loop {
        let n = seen.len();
        assert!(
            n < 17,
            "17 distinct ids cannot all differ in the first digit"
        );
        let id = env
            .ok("cc-import", ["-c", &format!("LABEL n={n}"), src])
            .trim()
            .to_string();
        let hex = id.trim_start_matches("sha256:").to_string();
        let first = hex.chars().next().unwrap();
        if let Some(other) = seen.insert(first, hex.clone()) {
            break (other, hex);
        }
    };
    let prefix = &a[..1];
    for prog in ["cc-rmi", "cc-inspect", "cc-tag"] {
        let mut args = vec![prefix];
        if prog == "cc-tag" {
            args.push("newname");
        }
        let out = env.run(prog, &args);
        assert!(
            !out.status.success(),
            "{prog} {prefix} succeeded on an ambiguous prefix"
        );
        let err = stderr(&out);
        assert!(
            err.contains(&a[..12]) && err.contains(&b[..12]),
            "{prog}: candidates not listed:\n{err}"
        );
    }
    // Both images are still there.
    let ids = env.ok("cc-images", ["-q"]);
    assert!(ids.contains(&a[..12]) && ids.contains(&b[..12]));
}
