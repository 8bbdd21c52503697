//! cc-load: docker-archive and oci-archive, checked before anything is stored.

use std::fs;
use std::process::Command;

use support::{assert_ok, root_or_skip, Env};

fn saved(env: &Env, format: &str) -> Vec<u8> {
    env.busybox_image("bb");
    let out = env.run("cc-save", ["--format", format, "bb"]);
    assert_ok(&out, "cc-save");
    out.stdout
}

/// Nothing stored: no image, no blob but none, no layer, nothing in tmp/.
fn assert_empty_store(env: &Env) {
    assert_eq!(env.ok("cc-images", ["-q"]), "");
    for d in ["images/blobs/sha256", "layers/sha256", "tmp"] {
        let n = fs::read_dir(env.root.join(d))
            .map(|r| r.count())
            .unwrap_or(0);
        assert_eq!(n, 0, "{d} is not empty");
    }
}

#[test]
fn loads_from_a_file_and_gzip() {
    root_or_skip!();
    let env = Env::new();
    let data = saved(&env, "docker-archive");
    let env2 = Env::new();
    let path = env2.dir.join("bb.tar");
    fs::write(&path, &data).unwrap();
    assert_eq!(
        env2.ok("cc-load", ["-i", path.to_str().unwrap()]),
        "Loaded image: bb:latest\n"
    );
    // A gzip'd archive, as `docker save | gzip` makes.
    let gz = env2.dir.join("bb.tar.gz");
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -c {} > {}", path.display(), gz.display()))
        .status()
        .unwrap();
    assert!(st.success());
    let env3 = Env::new();
    assert_eq!(
        env3.ok("cc-load", ["-q", "-i", gz.to_str().unwrap()])
            .trim(),
        env.inspect("Id", "bb")
    );
    support::assert_no_stray(&env3);
}

#[test]
fn a_bad_layer_leaves_nothing() {
    root_or_skip!();
    let env = Env::new();
    for format in ["docker-archive", "oci-archive"] {
        let mut data = saved(&env, format);
        // Flip a byte in the middle of the busybox binary (a layer's data).
        let at = data
            .windows(4)
            .position(|w| w == b"\x7fELF")
            .expect("the busybox binary")
            + 4096;
        data[at] ^= 0xff;
        let env2 = Env::new();
        let out = env2.run_stdin("cc-load", Vec::<&str>::new(), &data);
        assert!(!out.status.success(), "{format}: a corrupt archive loaded");
        support::assert_one_line_error(&out, "cc-load");
        assert_empty_store(&env2);
    }
}

#[test]
fn not_an_archive_is_refused() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run_stdin("cc-load", Vec::<&str>::new(), b"hello");
    assert!(!out.status.success());
    support::assert_one_line_error(&out, "cc-load");
    assert_empty_store(&env);
}

#[test]
fn docker_archive_with_symlinked_layers() {
    root_or_skip!();
    // docker save writes a repeated layer as a symlink to the first copy.
    let env = Env::new();
    let data = saved(&env, "docker-archive");
    let x = env.dir.join("x");
    fs::create_dir_all(&x).unwrap();
    fs::write(env.dir.join("bb.tar"), &data).unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(env.dir.join("bb.tar"))
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(st.success());
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(x.join("manifest.json")).unwrap()).unwrap();
    let layer = m[0]["Layers"][0].as_str().unwrap().to_string();
    fs::create_dir_all(x.join("abc")).unwrap();
    std::os::unix::fs::symlink(format!("../{layer}"), x.join("abc/layer.tar")).unwrap();
    let mut m2 = m.clone();
    m2[0]["Layers"][0] = "abc/layer.tar".into();
    fs::write(x.join("manifest.json"), serde_json::to_vec(&m2).unwrap()).unwrap();
    let out_tar = env.dir.join("linked.tar");
    support::tar_dir(&x, &out_tar);
    let env2 = Env::new();
    assert_eq!(
        env2.ok("cc-load", ["-i", out_tar.to_str().unwrap()]),
        "Loaded image: bb:latest\n"
    );
}
