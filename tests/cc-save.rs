//! cc-save: docker-archive and oci-archive tars.

use std::process::Command;

use support::{assert_code, assert_ok, root_or_skip, Env};

fn entries(tar: &std::path::Path) -> Vec<String> {
    let out = Command::new("tar").arg("-tf").arg(tar).output().unwrap();
    assert_ok(&out, "tar -tf");
    support::stdout(&out).lines().map(String::from).collect()
}

#[test]
fn docker_archive_has_manifest_config_and_plain_layers() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("bb");
    let tar = env.dir.join("bb.tar");
    env.ok("cc-save", ["-o", tar.to_str().unwrap(), "bb"]);
    let names = entries(&tar);
    assert!(names.contains(&"manifest.json".to_string()), "{names:?}");
    assert!(names.contains(&"repositories".to_string()));
    assert!(names.contains(&format!("{}.json", &id[7..])));
    let diff = env.inspect("RootFS.Layers", "bb");
    let diff = diff.trim_matches(|c| c == '[' || c == ']' || c == '"');
    let layer = format!("{}.tar", diff.trim_start_matches("sha256:"));
    assert!(names.contains(&layer), "{layer} not in {names:?}");
    // The layer is stored uncompressed, as docker save writes it.
    let out = Command::new("tar")
        .arg("-xOf")
        .arg(&tar)
        .arg("manifest.json")
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m[0]["RepoTags"][0], "bb:latest");
    assert_eq!(m[0]["Layers"][0], layer.as_str());
}

#[test]
fn stdout_and_round_trip_through_load() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("bb");
    for format in ["docker-archive", "oci-archive"] {
        let out = env.run("cc-save", ["--format", format, "bb"]);
        assert_ok(&out, "cc-save to stdout");
        let env2 = Env::new();
        let loaded = env2.run_stdin("cc-load", Vec::<&str>::new(), &out.stdout);
        assert_ok(&loaded, "cc-load");
        assert_eq!(support::stdout(&loaded), "Loaded image: bb:latest\n");
        assert_eq!(
            env2.inspect("Id", "bb"),
            id,
            "{format}: the image id changed"
        );
        assert_eq!(
            env2.ok("cc-run", ["--rm", "--net", "none", "bb", "echo", "ok"]),
            "ok\n"
        );
    }
}

#[test]
fn oci_archive_reads_with_skopeo() {
    root_or_skip!();
    if !support::have("skopeo") {
        return;
    }
    let env = Env::new();
    env.busybox_image("bb");
    let tar = env.dir.join("bb-oci.tar");
    env.ok(
        "cc-save",
        ["--format", "oci-archive", "-o", tar.to_str().unwrap(), "bb"],
    );
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci-archive:{}:bb:latest", tar.display()))
        .output()
        .unwrap();
    assert_ok(&out, "skopeo inspect oci-archive");
}

#[test]
fn unknown_image_is_not_found_and_no_file_is_left() {
    root_or_skip!();
    let env = Env::new();
    let tar = env.dir.join("x.tar");
    let out = env.run("cc-save", ["-o", tar.to_str().unwrap(), "nosuch"]);
    assert_code(&out, 3, "cc-save nosuch");
    assert!(std::fs::read_dir(&env.dir).unwrap().next().is_none());
}
