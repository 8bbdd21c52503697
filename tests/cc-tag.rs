//! cc-tag: another name for an image; a name moves; rmi of one of several
//! names only untags.

use support::{assert_one_line_error, root_or_skip, Env};

fn names(env: &Env, image: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(env.ok("cc-inspect", ["-f", "RepoTags", image]).trim()).unwrap();
    let mut n: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().into())
        .collect();
    n.sort();
    n
}

#[test]
fn tag_adds_a_name() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("orig");
    env.ok("cc-tag", ["orig", "copy:v1"]);
    assert_eq!(names(&env, &id), ["copy:v1", "orig:latest"]);
    assert_eq!(env.inspect("Id", "copy:v1"), id);
    // By id prefix too.
    env.ok("cc-tag", [&id[7..15], "third"]);
    assert_eq!(names(&env, &id), ["copy:v1", "orig:latest", "third:latest"]);
}

#[test]
fn tag_moves_a_name_from_another_image() {
    root_or_skip!();
    let env = Env::new();
    let a = env.busybox_image("a");
    let rootfs = env.busybox_rootfs("b");
    std::fs::write(rootfs.join("etc/b"), "b").unwrap();
    let b = env.import_dir(&rootfs, "b");
    env.ok("cc-tag", ["a", "shared"]);
    assert_eq!(env.inspect("Id", "shared"), a);
    env.ok("cc-tag", ["b", "shared"]);
    assert_eq!(env.inspect("Id", "shared"), b);
    assert_eq!(names(&env, &a), ["a:latest"]);
}

#[test]
fn rmi_of_one_name_only_untags() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("orig");
    env.ok("cc-tag", ["orig", "copy"]);
    env.ok("cc-rmi", ["copy"]);
    assert_eq!(names(&env, &id), ["orig:latest"]);
    // Still runs.
    assert_eq!(env.ok("cc-run", ["--rm", "orig", "echo", "ok"]), "ok\n");
}

#[test]
fn tag_of_missing_image_fails_with_3() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-tag", ["nosuch", "x"]);
    support::assert_code(&out, 3, "cc-tag nosuch x");
    assert_one_line_error(&out, "cc-tag");
}

#[test]
fn tag_with_a_bad_name_fails() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("orig");
    let out = env.run("cc-tag", ["orig", "Bad Name!"]);
    assert!(!out.status.success(), "an invalid name was accepted");
    assert_one_line_error(&out, "cc-tag");
}

/// The store's random names come from getrandom(2), not from
/// /dev/urandom: a program still works where that device is missing or
/// empty (here /dev/null is bound over it, in a mount namespace of the
/// program's own), where it used to panic.
#[test]
fn tag_needs_no_dev_urandom() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("orig");
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind /dev/null /dev/urandom && exec "$0" "$@""#)
        .arg(support::bin("cc-tag"))
        .args(["orig", "copy:v1"])
        .env("CC_ROOT", &env.root)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    support::assert_ok(&out, "cc-tag with an empty /dev/urandom");
    assert_eq!(env.inspect("Id", "copy:v1"), id);
}
