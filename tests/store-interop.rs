//! The store's images/ folder is an OCI image layout that skopeo and umoci
//! read as it is.

use std::process::Command;

use support::{assert_ok, have, root_or_skip, Env};

#[test]
fn skopeo_inspects_the_store() {
    root_or_skip!();
    if !have("skopeo") {
        return;
    }
    let env = Env::new();
    env.busybox_image("busybox");
    let layer = env.inspect("RootFS.Layers", "busybox");
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci:{}/images:busybox:latest", env.root.display()))
        .output()
        .unwrap();
    assert_ok(&out, "skopeo inspect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["Os"], "linux");
    // The config as skopeo sees it has the layer's diffid.
    let cfg = Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci:{}/images:busybox:latest", env.root.display()))
        .output()
        .unwrap();
    assert_ok(&cfg, "skopeo inspect --config");
    let c: serde_json::Value = serde_json::from_slice(&cfg.stdout).unwrap();
    let diff = c["rootfs"]["diff_ids"][0].as_str().unwrap().to_string();
    assert!(layer.contains(&diff), "{layer} vs {diff}");
}

#[test]
fn skopeo_copies_out_of_the_store() {
    root_or_skip!();
    if !have("skopeo") {
        return;
    }
    let env = Env::new();
    env.busybox_image("busybox");
    let out = Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}/images:busybox:latest", env.root.display()))
        .arg(format!("oci:{}/out:x", env.dir.display()))
        .output()
        .unwrap();
    assert_ok(&out, "skopeo copy");
    assert!(env.dir.join("out/index.json").exists());
}

#[test]
fn umoci_lists_and_unpacks() {
    root_or_skip!();
    if !have("umoci") {
        return;
    }
    let env = Env::new();
    env.busybox_image("busybox");
    let layout = env.root.join("images");
    let out = Command::new("umoci")
        .arg("ls")
        .arg("--layout")
        .arg(&layout)
        .output()
        .unwrap();
    assert_ok(&out, "umoci ls");
    assert!(
        support::stdout(&out).lines().any(|l| l == "busybox:latest"),
        "{}",
        support::stdout(&out)
    );
    let bundle = env.dir.join("bundle");
    let out = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:busybox:latest", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert_ok(&out, "umoci unpack");
    assert!(bundle.join("rootfs/bin/busybox").exists());
    assert!(bundle.join("config.json").exists());
}
