//! cc-import: tar files by magic (plain, gzip, zstd), stdin, folders, the
//! same layer stored once, `-c` instructions, corrupt input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{assert_code, assert_ok, assert_one_line_error, root_or_skip, stdout, Env};

/// A tar of a busybox tree in env.dir; returns its path.
fn make_tar(env: &Env) -> PathBuf {
    let rootfs = env.busybox_rootfs("src");
    let tar = env.dir.join("plain.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--numeric-owner", "-cf"])
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    tar
}

/// Compress `tar` with `prog` (gzip or zstd) into `dest`.
fn compress(prog: &str, tar: &Path, dest: &Path) {
    let out = Command::new(prog).arg("-c").arg(tar).output().expect(prog);
    assert!(out.status.success(), "{prog} failed");
    fs::write(dest, out.stdout).unwrap();
}

fn is_image_id(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(support::is_id)
}

/// The layer diffids of an image.
fn layers(env: &Env, image: &str) -> Vec<String> {
    let out = env.ok("cc-inspect", ["-f", "RootFS.Layers", image]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).map(|rd| rd.count()).unwrap_or(0)
}

/// The image runs and has busybox in it.
fn runs(env: &Env, image: &str) {
    let out = env.ok("cc-run", ["--rm", image, "sh", "-c", "echo ok"]);
    assert_eq!(out, "ok\n");
}

#[test]
fn plain_gzip_and_zstd_by_magic_not_name() {
    root_or_skip!();
    let env = Env::new();
    let tar = make_tar(&env);
    // A gzip file named .tar and a zstd file named .gz: the name must not
    // matter.
    let gz = env.dir.join("really-gzip.tar");
    compress("gzip", &tar, &gz);
    let zst = env.dir.join("really-zstd.tar.gz");
    compress("zstd", &tar, &zst);
    let mut ids = Vec::new();
    for (src, name) in [(&tar, "plain"), (&gz, "gz"), (&zst, "zst")] {
        let id = env
            .ok("cc-import", [src.to_str().unwrap(), name])
            .trim()
            .to_string();
        assert!(is_image_id(&id), "not an image id: {id}");
        ids.push(id);
        runs(&env, name);
    }
    // Same uncompressed content, same layer.
    assert_eq!(layers(&env, "plain"), layers(&env, "gz"));
    assert_eq!(layers(&env, "plain"), layers(&env, "zst"));
    assert_eq!(count(&env.root.join("layers/sha256")), 1);
}

#[test]
fn from_stdin() {
    root_or_skip!();
    let env = Env::new();
    let tar = make_tar(&env);
    let out = env.run_stdin("cc-import", ["-", "fromstdin"], &fs::read(&tar).unwrap());
    assert_ok(&out, "cc-import - fromstdin");
    assert!(is_image_id(stdout(&out).trim()));
    runs(&env, "fromstdin");
    // gzip on stdin too.
    let gz = env.dir.join("x.gz");
    compress("gzip", &tar, &gz);
    let out = env.run_stdin("cc-import", ["-", "gzstdin"], &fs::read(&gz).unwrap());
    assert_ok(&out, "cc-import - gzstdin (gzip)");
    runs(&env, "gzstdin");
}

#[test]
fn from_a_folder() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("dir");
    assert!(is_image_id(&id));
    runs(&env, "dir");
    let out = env.ok("cc-run", ["--rm", "dir", "cat", "/etc/group"]);
    assert!(out.contains("users:x:100:user"));
}

#[test]
fn same_tar_twice_is_stored_once() {
    root_or_skip!();
    let env = Env::new();
    let tar = make_tar(&env);
    env.ok("cc-import", [tar.to_str().unwrap(), "one"]);
    let blobs_after_one = count(&env.root.join("images/blobs/sha256"));
    env.ok("cc-import", [tar.to_str().unwrap(), "two"]);
    let l1 = layers(&env, "one");
    let l2 = layers(&env, "two");
    assert_eq!(l1.len(), 1);
    assert_eq!(l1, l2, "same tar, different layer digests");
    assert_eq!(
        count(&env.root.join("layers/sha256")),
        1,
        "layer unpacked twice"
    );
    // The layer blob is shared: the second import adds at most a config and
    // a manifest, never a second copy of the layer.
    let blobs_after_two = count(&env.root.join("images/blobs/sha256"));
    assert!(
        blobs_after_two <= blobs_after_one + 2,
        "{blobs_after_one} -> {blobs_after_two} blobs"
    );
    let big: Vec<_> = fs::read_dir(env.root.join("images/blobs/sha256"))
        .unwrap()
        .flatten()
        .filter(|e| e.metadata().unwrap().len() > 100_000)
        .collect();
    assert_eq!(big.len(), 1, "the layer blob is stored more than once");
}

#[test]
fn change_instructions_reach_the_config() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    let src = rootfs.to_str().unwrap();
    env.ok(
        "cc-import",
        [
            "-c",
            "CMD [\"echo\", \"hi\"]",
            "-c",
            "ENTRYPOINT /bin/sh -c",
            "-c",
            "ENV A=1 B=two",
            "-c",
            "WORKDIR /srv",
            "-c",
            "USER user",
            "-c",
            "EXPOSE 80/tcp",
            "-c",
            "LABEL k=v",
            src,
            "changed",
        ],
    );
    let field = |f: &str| -> serde_json::Value {
        let text = env.ok("cc-inspect", ["-f", f, "changed"]);
        serde_json::from_str(text.trim())
            .unwrap_or_else(|_| serde_json::Value::String(text.trim().into()))
    };
    assert_eq!(field("Config.Cmd"), serde_json::json!(["echo", "hi"]));
    let ep = field("Config.Entrypoint");
    assert_eq!(ep[0], "/bin/sh", "shell form ENTRYPOINT: {ep}");
    let envs = field("Config.Env");
    let envs: Vec<&str> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(envs.contains(&"A=1") && envs.contains(&"B=two"), "{envs:?}");
    assert_eq!(field("Config.WorkingDir"), "/srv");
    assert_eq!(field("Config.User"), "user");
    let exposed = field("Config.ExposedPorts");
    assert!(exposed.get("80/tcp").is_some(), "{exposed}");
    assert_eq!(field("Config.Labels")["k"], "v");
}

#[test]
fn cmd_shell_form() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    env.ok(
        "cc-import",
        ["-c", "CMD echo a b", rootfs.to_str().unwrap(), "shellform"],
    );
    let cmd: serde_json::Value = serde_json::from_str(
        env.ok("cc-inspect", ["-f", "Config.Cmd", "shellform"])
            .trim(),
    )
    .unwrap();
    assert_eq!(cmd, serde_json::json!(["/bin/sh", "-c", "echo a b"]));
    assert_eq!(env.ok("cc-run", ["--rm", "shellform"]), "a b\n");
}

#[test]
fn bad_change_fails() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    let out = env.run(
        "cc-import",
        ["-c", "FROBNICATE x", rootfs.to_str().unwrap(), "bad"],
    );
    assert!(!out.status.success());
    assert_one_line_error(&out, "cc-import");
    assert_eq!(env.ok("cc-images", ["-q"]), "");
}

/// Nothing half-done: no image in the index, no blob, no layer, no tmp.
fn assert_store_empty(env: &Env) {
    assert_eq!(env.ok("cc-images", ["-q"]), "", "an image was listed");
    let index = fs::read_to_string(env.root.join("images/index.json")).unwrap_or_default();
    if !index.is_empty() {
        let v: serde_json::Value = serde_json::from_str(&index).unwrap();
        assert_eq!(
            v["manifests"].as_array().map_or(0, Vec::len),
            0,
            "index.json: {index}"
        );
    }
    assert_eq!(
        count(&env.root.join("images/blobs/sha256")),
        0,
        "blobs left"
    );
    assert_eq!(count(&env.root.join("layers/sha256")), 0, "layers left");
    assert_eq!(count(&env.root.join("tmp")), 0, "tmp/ not empty");
}

#[test]
fn corrupt_tar_fails_cleanly() {
    root_or_skip!();
    let env = Env::new();
    let tar = make_tar(&env);
    // Truncated in the middle of a file.
    let data = fs::read(&tar).unwrap();
    let trunc = env.dir.join("trunc.tar");
    fs::write(&trunc, &data[..data.len() / 2 + 123]).unwrap();
    let out = env.run("cc-import", [trunc.to_str().unwrap(), "trunc"]);
    assert_code(&out, 1, "cc-import truncated tar");
    assert_one_line_error(&out, "cc-import");
    assert_store_empty(&env);
}

#[test]
fn corrupt_header_fails_with_one_line() {
    root_or_skip!();
    let env = Env::new();
    let tar = make_tar(&env);
    // A header whose checksum field holds garbage with a newline in it.
    let mut data = fs::read(&tar).unwrap();
    data[148..156].copy_from_slice(b"zz\nzz\x01z\x02");
    let bad = env.dir.join("badsum.tar");
    fs::write(&bad, &data).unwrap();
    let out = env.run("cc-import", [bad.to_str().unwrap(), "badsum"]);
    assert_code(&out, 1, "cc-import tar with a corrupt header");
    assert_one_line_error(&out, "cc-import");
    assert_store_empty(&env);
}

#[test]
fn garbage_fails_cleanly() {
    root_or_skip!();
    let env = Env::new();
    let bad = env.dir.join("garbage.tar");
    fs::write(&bad, "this is not a tar\n".repeat(10)).unwrap();
    let out = env.run("cc-import", [bad.to_str().unwrap(), "garbage"]);
    assert_code(&out, 1, "cc-import garbage");
    assert_one_line_error(&out, "cc-import");
    assert_store_empty(&env);
    // A corrupt gzip stream too.
    let gz = env.dir.join("bad.gz");
    let mut g = vec![0x1f, 0x8b, 8, 0];
    g.extend_from_slice(&[0xff; 200]);
    fs::write(&gz, g).unwrap();
    let out = env.run("cc-import", [gz.to_str().unwrap(), "badgz"]);
    assert_code(&out, 1, "cc-import corrupt gzip");
    assert_one_line_error(&out, "cc-import");
    assert_store_empty(&env);
}

#[test]
fn missing_source_fails() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-import", ["/nonexistent/cc-test.tar", "x"]);
    assert!(!out.status.success());
    assert_one_line_error(&out, "cc-import");
    assert_store_empty(&env);
}

#[test]
fn unnamed_import_shows_none() {
    root_or_skip!();
    let env = Env::new();
    let rootfs = env.busybox_rootfs("src");
    let id = env
        .ok("cc-import", [rootfs.to_str().unwrap()])
        .trim()
        .to_string();
    let out = env.ok("cc-images", [] as [&str; 0]);
    assert!(out.contains("<none>"), "{out}");
    // The id works where a name would.
    runs(&env, &id);
}
