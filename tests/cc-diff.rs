//! cc-diff: a container's changes, from its overlay upper dir.

use std::time::Duration;

use support::{assert_code, assert_one_line_error, json_lines, root_or_skip, Env, CHANGES};

fn changed_container(env: &Env) -> String {
    let dir = support::changes_rootfs(env, "t");
    env.import_dir(&dir, "t");
    env.ok(
        "cc-run",
        ["--net", "none", "--name", "ctr", "t", "sh", "-c", CHANGES],
    );
    "ctr".to_string()
}

#[test]
fn lists_every_kind_of_change_sorted() {
    root_or_skip!();
    let env = Env::new();
    let ctr = changed_container(&env);
    let out = env.ok("cc-diff", [&ctr]);
    // /etc: cc-run's mount targets /etc/hosts and friends were added to
    // it (they are not listed themselves, as with podman).
    let want = "C /etc
C /t
A /t/add
A /t/add/a
A /t/add/dangling
A /t/add/fifo
A /t/add/hard
A /t/add/suid
A /t/add/sym
D /t/gone
C /t/keep
C /t/mode
D /t/opq
A /t/opq/new
A /t/opq/new/f
C /t/owner
A /t/owner/f
D /t/tree
";
    assert_eq!(out, want);
}

/// cc-diff prints as it walks, in tree order as docker does (a folder,
/// then what it holds, then the next name): `/a/x` before `/a-b`, though
/// `-` sorts before `/`. A list sorted by whole path, gathered first,
/// would put `/a-b` first.
#[test]
fn lists_in_tree_order_as_it_walks() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "ord",
            "bb",
            "sh",
            "-c",
            "mkdir /a /a-b && touch /a/x /a-b/y",
        ],
    );
    let out = env.ok("cc-diff", ["ord"]);
    let mine: Vec<&str> = out.lines().filter(|l| l.starts_with("A /a")).collect();
    assert_eq!(mine, ["A /a", "A /a/x", "A /a-b", "A /a-b/y"]);
}

#[test]
fn json_is_one_object_per_line() {
    root_or_skip!();
    let env = Env::new();
    let ctr = changed_container(&env);
    let table = env.ok("cc-diff", [&ctr]);
    let json = json_lines(&env.ok("cc-diff", ["--format", "json", &ctr]));
    assert_eq!(json.len(), table.lines().count());
    for (v, line) in json.iter().zip(table.lines()) {
        assert_eq!(
            format!(
                "{} {}",
                v["Kind"].as_str().unwrap(),
                v["Path"].as_str().unwrap()
            ),
            line
        );
    }
}

#[test]
fn works_on_a_running_container() {
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
            "echo hi > /made; exec sleep 100",
        ],
    );
    let id = id.trim();
    let out = support::wait_for(Duration::from_secs(10), "the file in cc-diff", || {
        let out = env.ok("cc-diff", [id]);
        out.contains("A /made").then_some(out)
    });
    assert!(!out.contains("/proc") && !out.contains("/dev"), "{out}");
    env.ok("cc-rm", ["-f", id]);
}

#[test]
fn unknown_container_is_not_found() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-diff", ["nosuch"]);
    assert_code(&out, 3, "cc-diff nosuch");
    assert_one_line_error(&out, "cc-diff");
}
