//! cc-push to a real registry; skopeo and podman read what cc pushed.

mod support;

use std::process::Command;

use support::{assert_ok, Env, Registry};

fn skopeo_digest(reg: &Registry, path: &str) -> String {
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{}", reg.at(path)),
        ])
        .output()
        .unwrap();
    assert_ok(&out, "skopeo inspect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["Digest"].as_str().unwrap().to_string()
}

#[test]
fn push_then_skopeo_and_cc_pull_read_it() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("bb");
    let reg = Registry::start();
    let out = env.run("cc-push", ["bb", &reg.at("pushed/bb:v1")]);
    assert_ok(&out, "cc-push");
    let digest = support::stdout(&out).trim().to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(skopeo_digest(&reg, "pushed/bb:v1"), digest);
    // skopeo copies it out whole (every blob checked), and cc pulls it back.
    let layout = env.dir.join("layout");
    let out = Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--src-tls-verify=false",
            &format!("docker://{}", reg.at("pushed/bb:v1")),
        ])
        .arg(format!("oci:{}:x", layout.display()))
        .output()
        .unwrap();
    assert_ok(&out, "skopeo copy from the registry");
    let other = Env::new();
    assert_eq!(
        other.ok("cc-pull", [reg.at("pushed/bb:v1")]),
        format!("{id}\n")
    );
    assert_eq!(
        other.ok(
            "cc-run",
            [
                "--rm",
                "--net",
                "none",
                &reg.at("pushed/bb:v1"),
                "echo",
                "hi"
            ]
        ),
        "hi\n"
    );
    // Pushed again: the registry has every blob (HEAD), nothing is uploaded.
    let out = env
        .cmd("cc-push")
        .args(["bb", &reg.at("pushed/bb:v1")])
        .env("CC_LOG", "debug")
        .output()
        .unwrap();
    assert_ok(&out, "second push");
    assert!(
        support::stderr(&out).contains("already there"),
        "{}",
        support::stderr(&out)
    );
    // Under its registry name, to another repository: blobs are mounted.
    env.ok("cc-tag", ["bb", &reg.at("pushed/bb:v1")]);
    let out = env
        .cmd("cc-push")
        .args([&reg.at("pushed/bb:v1"), &reg.at("other/bb:v2")])
        .env("CC_LOG", "debug")
        .output()
        .unwrap();
    assert_ok(&out, "push to another repository");
    assert!(
        support::stderr(&out).contains("mounted from pushed/bb"),
        "{}",
        support::stderr(&out)
    );
    assert_eq!(skopeo_digest(&reg, "other/bb:v2"), digest);
}

/// A layer over 16 MiB goes up in chunks; podman pulls and runs the result.
#[test]
fn large_layer_chunked_and_podman_pulls() {
    root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("big");
    let mut data = vec![0u8; 40 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(dir.join("random"), &data).unwrap();
    env.import_dir(&dir, "big");
    let reg = Registry::start();
    let digest = env
        .ok("cc-push", ["big", &reg.at("big:v1")])
        .trim()
        .to_string();
    assert_eq!(skopeo_digest(&reg, "big:v1"), digest);
    let store = env.dir.join("podman");
    let podman = |args: &[&str]| {
        Command::new("podman")
            .arg("--root")
            .arg(store.join("root"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = podman(&["pull", "-q", "--tls-verify=false", &reg.at("big:v1")]);
    assert_ok(&out, "podman pull");
    let out = podman(&[
        "run",
        "--rm",
        "--net",
        "none",
        &reg.at("big:v1"),
        "wc",
        "-c",
        "/random",
    ]);
    assert_ok(&out, "podman run");
    assert!(
        support::stdout(&out).contains(&format!("{}", 40 << 20)),
        "{}",
        support::stdout(&out)
    );
    let _ = podman(&["rmi", "-a", "-f"]);
    let _ = Command::new("umount")
        .arg("-R")
        .arg(store.join("root/overlay"))
        .output();
}
