//! cc-info: the store, cgroups, kernel features.

use support::{root_or_skip, Env};

#[test]
fn table() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let out = env.ok("cc-info", [] as [&str; 0]);
    assert!(
        out.contains(&format!("store: {}", env.root.display())),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("images: 1")), "{out}");
    let cg = out
        .lines()
        .find(|l| l.starts_with("cgroup:"))
        .unwrap_or_else(|| panic!("{out}"));
    if std::path::Path::new("/sys/fs/cgroup/memory").is_dir() {
        assert!(cg.contains("v1"), "{cg}");
    } else {
        assert!(cg.contains("v2"), "{cg}");
    }
    assert!(cg.contains("memory"), "{cg}");
    let overlay = out
        .lines()
        .find(|l| l.trim_start().starts_with("overlayfs"))
        .unwrap();
    assert!(overlay.trim_end().ends_with("yes"), "{overlay}");
}

#[test]
fn json() {
    root_or_skip!();
    let env = Env::new();
    let out = env.ok("cc-info", ["--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).expect("cc-info --format json parses");
    assert_eq!(v["store"], env.root.to_str().unwrap());
    assert_eq!(v["images"], 0);
    assert_eq!(v["containers"], 0);
    let want = if std::path::Path::new("/sys/fs/cgroup/memory").is_dir() {
        1
    } else {
        2
    };
    assert_eq!(v["cgroup_version"], want);
    assert!(v["cgroup_controllers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "memory"));
    let overlay = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "overlayfs")
        .unwrap();
    assert_eq!(overlay["present"], true);
    assert!(out.ends_with('\n'), "JSON output ends without a newline");
}

#[test]
fn version_on_every_program() {
    for prog in [
        "cc-import",
        "cc-images",
        "cc-tag",
        "cc-rmi",
        "cc-inspect",
        "cc-mount",
        "cc-umount",
        "cc-run",
        "cc-ps",
        "cc-rm",
        "cc-info",
    ] {
        let out = std::process::Command::new(support::bin(prog))
            .arg("--version")
            .output()
            .unwrap();
        support::assert_ok(&out, &format!("{prog} --version"));
        let o = support::stdout(&out);
        assert!(o.starts_with(&format!("{prog} ")), "{prog} --version: {o}");
    }
}

#[test]
fn tmp_space_is_shown_and_a_dead_programs_share_collected() {
    root_or_skip!();
    let env = Env::new();
    env.ok("cc-images", ["-q"]);
    let tmp = env.root.join("tmp");
    // A resumable download nobody holds: kept and counted.
    std::fs::write(
        tmp.join(format!("partial-{}", "ab".repeat(32))),
        vec![1u8; 1 << 20],
    )
    .unwrap();
    // A half-unpacked layer of a program long dead (pid 1 did not start
    // at that tick): collected before counting.
    let dead = tmp.join("layer-1-99999999999-0123456789ab");
    std::fs::create_dir_all(dead.join("usr/bin")).unwrap();
    std::fs::write(dead.join("usr/bin/big"), vec![1u8; 4 << 20]).unwrap();
    let out = env.ok("cc-info", ["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let bytes = v["tmp_bytes"].as_u64().unwrap_or_else(|| panic!("{out}"));
    assert!((1 << 20..2 << 20).contains(&bytes), "tmp_bytes {bytes}");
    assert!(!dead.exists(), "a dead program's layer was kept");
    let table = env.ok("cc-info", [] as [&str; 0]);
    assert!(table.lines().any(|l| l.starts_with("tmp: ")), "{table}");
}
