//! cc-prune: stopped containers, dangling or unused images and network
//! leftovers go; what runs or is used stays; filters and the question.

use support::{assert_code, assert_ok, env_with_img, root_or_skip, stdout};

/// `Total reclaimed space: 2.1MB` in bytes.
fn reclaimed(out: &str) -> f64 {
    let v = out
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .expect(out);
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let (n, unit) = v.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        u => panic!("unit {u}"),
    };
    n.parse::<f64>().unwrap() * scale
}

#[test]
fn stopped_containers_and_dangling_images_go_what_runs_stays() {
    root_or_skip!();
    let env = env_with_img();
    let stopped = env.run_d([
        "--net",
        "none",
        "img",
        "sh",
        "-c",
        "head -c 3000000 /dev/zero > /big",
    ]);
    assert_eq!(
        env.wait_code(&stopped, std::time::Duration::from_secs(10)),
        "0"
    );
    let running = env.run_d(["--net", "none", "img", "sleep", "100"]);
    // A dangling image: a commit without a name.
    let dangling = env.ok("cc-commit", [stopped.as_str()]).trim().to_string();
    let out = env.ok("cc-prune", ["-f"]);
    assert!(
        out.contains(&format!("Deleted Containers:\n{stopped}\n")),
        "{out}"
    );
    assert!(!out.contains(&running), "{out}");
    assert!(
        out.contains(&format!("Deleted Images:\ndeleted: {dangling}\n")),
        "{out}"
    );
    // The container's 3 MB file and the image's layer of it.
    assert!(reclaimed(&out) >= 6e6, "{out}");
    let left = env.ok("cc-ps", ["-aq", "--no-trunc"]);
    assert_eq!(left.trim(), running, "{left}");
    assert!(
        env.ok("cc-images", ["-q"]).lines().count() == 1,
        "img stays"
    );
    // Nothing more to do: an empty report.
    let again = env.ok("cc-prune", ["-f"]);
    assert_eq!(again, "Total reclaimed space: 0B\n");
    // docker's events: the container's destroy, the image's delete, and
    // one prune per kind.
    let events = env.ok("cc-events", ["--since", "1h", "--until", "0s"]);
    assert!(
        events.contains(&format!("container destroy {stopped}")),
        "{events}"
    );
    assert!(
        events.contains(&format!("image delete {dangling}")),
        "{events}"
    );
    assert!(events.contains(" container prune  (reclaimed="), "{events}");
    env.ok("cc-rm", ["-f", &running]);
}

#[test]
fn all_removes_unused_images_only_and_kinds_limit_it() {
    root_or_skip!();
    let env = env_with_img();
    env.ok("cc-tag", ["img", "other:1"]);
    let c = env.run_d(["--net", "none", "img", "true"]);
    env.wait_code(&c, std::time::Duration::from_secs(10));
    let unused = env
        .ok("cc-commit", [c.as_str(), "unused:1"])
        .trim()
        .to_string();
    // --images -a: the unused image goes; img (used by c) stays, and so
    // does the stopped container (not named).
    let out = env.ok("cc-prune", ["-f", "--images", "-a"]);
    assert!(out.contains("untagged: unused:1\n"), "{out}");
    assert!(out.contains(&format!("deleted: {unused}\n")), "{out}");
    assert!(!out.contains("Deleted Containers"), "{out}");
    let images = env.ok("cc-images", ["--format", "json"]);
    assert!(!images.contains("unused"), "{images}");
    assert!(images.contains("other"), "{images}");
    assert_eq!(env.container_ids().len(), 1);
    env.ok("cc-rm", [&c]);
}

#[test]
fn filters_choose_by_label_and_age() {
    root_or_skip!();
    let env = env_with_img();
    let keep = env.run_d(["--net", "none", "-l", "keep=1", "img", "true"]);
    let go = env.run_d(["--net", "none", "img", "true"]);
    for c in [&keep, &go] {
        env.wait_code(c, std::time::Duration::from_secs(10));
    }
    // Created within the hour: nothing is older than until=1h.
    let out = env.ok("cc-prune", ["-f", "--containers", "--filter", "until=1h"]);
    assert!(!out.contains("Deleted Containers"), "{out}");
    let out = env.ok(
        "cc-prune",
        ["-f", "--containers", "--filter", "label!=keep"],
    );
    assert!(out.contains(&go) && !out.contains(&keep), "{out}");
    let out = env.ok(
        "cc-prune",
        ["-f", "--containers", "--filter", "label=keep=1"],
    );
    assert!(out.contains(&keep), "{out}");
    assert!(env.container_ids().is_empty());
}

#[test]
fn it_asks_first_and_refuses_bad_filters() {
    root_or_skip!();
    let env = env_with_img();
    let c = env.run_d(["--net", "none", "img", "true"]);
    env.wait_code(&c, std::time::Duration::from_secs(10));
    let out = env.run_stdin("cc-prune", ["--containers"], b"n\n");
    assert_ok(&out, "cc-prune answered n");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert_eq!(env.container_ids().len(), 1, "removed without a yes");
    let out = env.run_stdin("cc-prune", ["--containers"], b"y\n");
    assert_ok(&out, "cc-prune answered y");
    assert!(stdout(&out).contains(&c));
    let out = env.run("cc-prune", ["-f", "--filter", "colour=red"]);
    assert_code(&out, 2, "unknown filter");
    let out = env.run("cc-prune", ["-f", "--filter", "until=someday"]);
    assert_code(&out, 2, "bad time");
}
