//! cc-push to a real registry; skopeo and podman read what cc pushed.

use std::process::Command;

use support::{assert_ok, root_or_skip, Env, Registry};

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

/// A blob as the registry stores it (its filesystem storage).
fn registry_blob(reg: &Registry, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let path = reg
        .dir
        .path()
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How many gzip members `gz` holds; gzip(1) must accept it (`gzip -t`).
fn gzip_members(gz: &[u8]) -> usize {
    use std::io::Write;
    let mut test = Command::new("gzip")
        .arg("-t")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    test.stdin.take().unwrap().write_all(gz).unwrap();
    assert!(test.wait().unwrap().success(), "gzip -t refuses the layer");
    let (mut rest, mut n) = (gz, 0);
    while !rest.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(&mut rest);
        std::io::copy(&mut d, &mut std::io::sink()).unwrap();
        n += 1;
    }
    n
}

/// A plain layer over 16 MiB goes up gzip-compressed while it is
/// compressed, in chunks (PATCHes as the compressor writes it, the rest
/// with the PUT): a gzip of one member per MiB that podman pulls and runs
/// and cc-pull unpacks; the copy the store kept is the registry's blob.
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
    let out = env
        .cmd("cc-push")
        .args(["big", &reg.at("big:v1")])
        .env("CC_LOG", "debug")
        .output()
        .unwrap();
    assert_ok(&out, "cc-push");
    let log = support::stderr(&out);
    assert!(
        log.contains("compressing to gzip while it is uploaded"),
        "{log}"
    );
    let digest = support::stdout(&out).trim().to_string();
    assert_eq!(skopeo_digest(&reg, "big:v1"), digest);
    let pushed = registry_manifest(&reg, "big:v1");
    let layer = &pushed["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let blob = registry_blob(&reg, layer["digest"].as_str().unwrap());
    assert_eq!(Some(blob.len() as u64), layer["size"].as_u64());
    assert!(blob.len() > 40 << 20, "random data does not shrink");
    assert!(gzip_members(&blob) > 40, "one gzip member per MiB");
    let kept = env.root.join("images/blobs/sha256").join(
        layer["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    assert!(
        std::fs::read(kept).unwrap() == blob,
        "the kept copy differs"
    );
    let puller = Env::new();
    puller.ok("cc-pull", [reg.at("big:v1")]);
    assert_eq!(
        puller
            .ok(
                "cc-run",
                [
                    "--rm",
                    "--net",
                    "none",
                    &reg.at("big:v1"),
                    "wc",
                    "-c",
                    "/random"
                ]
            )
            .split_whitespace()
            .next(),
        Some(format!("{}", 40 << 20).as_str())
    );
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

/// A registry that refuses every large upload half-way, as a registry
/// whose disk is full does: it reads the first 256 KiB of the body, then
/// answers 400 with a distribution error (or, with `answer` false, says
/// nothing) and closes the connection on the rest. Small uploads (the
/// config) are taken. Hand-made, on 127.0.0.1: a real registry cannot be
/// made to fail on cue. Returns the port.
fn refusing_registry(answer: bool) -> u16 {
    use std::io::{BufRead, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut uploads = 0;
        for conn in listener.incoming().flatten() {
            let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split(' ');
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let mut length = 0u64;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let repo = path
                .strip_prefix("/v2/")
                .and_then(|p| p.split("/blobs/").next())
                .unwrap_or("")
                .to_string();
            let reply = |w: &mut std::net::TcpStream, status: &str, extra: &str, body: &str| {
                let _ = write!(
                    w,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Docker-Distribution-API-Version: registry/2.0\r\n{extra}Connection: close\r\n\r\n{body}",
                    body.len()
                );
            };
            let mut w = conn;
            match method {
                _ if path == "/v2/" => reply(&mut w, "200 OK", "", "{}"),
                "HEAD" => reply(&mut w, "404 Not Found", "", ""),
                "POST" => {
                    uploads += 1;
                    let loc = format!("Location: /v2/{repo}/blobs/uploads/u{uploads}\r\n");
                    reply(&mut w, "202 Accepted", &loc, "");
                }
                "PUT" | "PATCH" if length <= 1 << 20 => {
                    let _ = std::io::copy(&mut (&mut r).take(length), &mut std::io::sink());
                    let digest = path
                        .split("digest=")
                        .nth(1)
                        .unwrap_or("")
                        .replace("%3A", ":");
                    let loc = format!("Location: /v2/{repo}/blobs/{digest}\r\n");
                    reply(&mut w, "201 Created", &loc, "");
                }
                "PUT" | "PATCH" => {
                    let _ = std::io::copy(&mut (&mut r).take(256 << 10), &mut std::io::sink());
                    if answer {
                        reply(
                            &mut w,
                            "400 Bad Request",
                            "",
                            r#"{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}"#,
                        );
                    }
                    // Dropped with the rest of the body unread: a reset.
                }
                _ => reply(&mut w, "404 Not Found", "", ""),
            }
        }
    });
    port
}

/// An upload the registry refuses half-way: cc-push reports the
/// registry's own words and status, not the broken pipe of its next
/// write; when the registry closes without a word, a one-line error says
/// that. Nothing is left half-done in the store either way.
#[test]
fn refused_upload_shows_the_registry_error() {
    root_or_skip!();
    let env = Env::new();
    // 20 MiB that does not compress: larger than what the socket buffers
    // take, so the registry stops reading long before the body is sent.
    let dir = env.dir.join("big");
    std::fs::create_dir_all(&dir).unwrap();
    let mut data = vec![0u8; 20 << 20];
    let mut x: u64 = 0x2545f4914f6cdd1d;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(dir.join("random"), &data).unwrap();
    env.import_dir(&dir, "big");
    let listing = [
        "--format",
        "{{.ID}} {{.Repository}}:{{.Tag}} {{.Digest}} {{.Size}}",
    ];
    let images = env.ok("cc-images", listing);

    let port = refusing_registry(true);
    let out = env.run("cc-push", ["big", &format!("127.0.0.1:{port}/big:v1")]);
    support::assert_code(&out, 1, "cc-push to a registry that refuses the upload");
    support::assert_one_line_error(&out, "cc-push");
    let err = support::stderr(&out);
    assert!(
        err.contains("blob upload invalid") && err.contains("400"),
        "the registry's message and status: {err}"
    );
    assert!(!err.contains("broken pipe"), "{err}");

    let port = refusing_registry(false);
    let out = env.run(
        "cc-push",
        ["--timeout", "5", "big", &format!("127.0.0.1:{port}/big:v1")],
    );
    support::assert_code(&out, 1, "cc-push to a registry that hangs up");
    support::assert_one_line_error(&out, "cc-push");
    let err = support::stderr(&out);
    assert!(
        err.contains("upload of sha256:")
            && err.contains("closed the connection")
            && err.contains("without an answer"),
        "{err}"
    );
    assert_eq!(env.ok("cc-images", listing), images);
}

/// The manifest an image's store holds, and the layer media types in it.
fn stored_manifest(env: &Env, image: &str) -> serde_json::Value {
    let digest = env.ok("cc-inspect", ["-f", "Digest", image]);
    let hex = digest.trim().trim_start_matches("sha256:");
    let raw = std::fs::read(env.root.join("images/blobs/sha256").join(hex)).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

fn layer_types(m: &serde_json::Value) -> Vec<String> {
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap().to_string())
        .collect()
}

fn registry_manifest(reg: &Registry, path: &str) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}", reg.at(path)),
        ])
        .output()
        .unwrap();
    assert_ok(&out, "skopeo inspect --raw");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A layer stored as a plain tar (cc-import) goes gzip-compressed, as
/// docker and podman push it: the registry's manifest has gzip layers (a
/// gzip member per MiB) and the printed digest is its digest; podman
/// pulls and runs the image; a
/// second push compresses nothing and uploads nothing, and a push to
/// another repository uploads the copy the store kept without compressing
/// again. `--compression-format zstd` pushes zstd layers that cc-pull
/// reads; `none` pushes the stored manifest byte for byte. cc-rmi takes
/// the compressed copies with the image.
#[test]
fn plain_layers_are_pushed_compressed() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("bb");
    let stored = stored_manifest(&env, "bb");
    let stored_digest = env
        .ok("cc-inspect", ["-f", "Digest", "bb"])
        .trim()
        .to_string();
    assert!(
        layer_types(&stored)
            .iter()
            .all(|t| t == "application/vnd.oci.image.layer.v1.tar"),
        "cc-import stores plain layers: {stored}"
    );
    let reg = Registry::start();
    let push = |args: &[&str]| {
        let out = env
            .cmd("cc-push")
            .args(args)
            .env("CC_LOG", "debug")
            .output()
            .unwrap();
        assert_ok(&out, &format!("cc-push {args:?}"));
        (
            support::stdout(&out).trim().to_string(),
            support::stderr(&out),
        )
    };

    let (digest, log) = push(&["bb", &reg.at("gz/bb:v1")]);
    assert!(log.contains("compressing to gzip"), "{log}");
    assert_ne!(
        digest, stored_digest,
        "the manifest changed with its layers"
    );
    assert_eq!(skopeo_digest(&reg, "gz/bb:v1"), digest);
    let pushed = registry_manifest(&reg, "gz/bb:v1");
    assert!(
        layer_types(&pushed)
            .iter()
            .all(|t| t == "application/vnd.oci.image.layer.v1.tar+gzip"),
        "{pushed}"
    );
    assert_eq!(pushed["config"]["digest"].as_str(), Some(id.as_str()));
    let (plain, gz) = (
        stored["layers"][0]["size"].as_u64().unwrap(),
        pushed["layers"][0]["size"].as_u64().unwrap(),
    );
    // Level 5 makes 50.05 % of busybox's tar: the bound is only that it
    // shrank.
    assert!(
        gz < plain * 6 / 10,
        "busybox's layer compresses: {gz} of {plain}"
    );
    // One gzip member per MiB of tar (more than one: busybox is over
    // 1 MiB), which podman reads below.
    let blob = registry_blob(&reg, pushed["layers"][0]["digest"].as_str().unwrap());
    let members = gzip_members(&blob) as u64;
    assert!(members > 1, "one member");
    assert_eq!(members, plain.div_ceil(1 << 20));

    // podman pulls it (every blob checked) and runs it.
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
    let out = podman(&["pull", "-q", "--tls-verify=false", &reg.at("gz/bb:v1")]);
    assert_ok(&out, "podman pull");
    let out = podman(&[
        "run",
        "--rm",
        "--net",
        "none",
        &reg.at("gz/bb:v1"),
        "echo",
        "hi",
    ]);
    let _ = podman(&["rmi", "-a", "-f"]);
    let _ = Command::new("umount")
        .arg("-R")
        .arg(store.join("root/overlay"))
        .output();
    assert_ok(&out, "podman run");
    assert_eq!(support::stdout(&out), "hi\n");

    // Again: the same digest; nothing compressed, nothing uploaded.
    let (again, log) = push(&["bb", &reg.at("gz/bb:v1")]);
    assert_eq!(again, digest);
    assert!(!log.contains("compressing"), "{log}");
    let blobs = 1 + pushed["layers"].as_array().unwrap().len();
    assert_eq!(log.matches("already there").count(), blobs, "{log}");
    // Another repository: uploaded, from the copy the store kept.
    let (other, log) = push(&["bb", &reg.at("other/bb:v1")]);
    assert_eq!(other, digest);
    assert!(!log.contains("compressing"), "{log}");
    assert!(!log.contains("already there"), "{log}");

    // zstd, read back by cc-pull.
    let (zst, _) = push(&["--compression-format", "zstd", "bb", &reg.at("zst/bb:v1")]);
    assert_eq!(skopeo_digest(&reg, "zst/bb:v1"), zst);
    let pushed = registry_manifest(&reg, "zst/bb:v1");
    assert!(
        layer_types(&pushed)
            .iter()
            .all(|t| t == "application/vnd.oci.image.layer.v1.tar+zstd"),
        "{pushed}"
    );
    let puller = Env::new();
    assert_eq!(
        puller.ok("cc-pull", [reg.at("zst/bb:v1")]),
        format!("{id}\n")
    );
    assert_eq!(
        puller.ok(
            "cc-run",
            ["--rm", "--net", "none", &reg.at("zst/bb:v1"), "echo", "zst"]
        ),
        "zst\n"
    );

    // none: the stored manifest, byte for byte.
    let (same, _) = push(&["--compression-format", "none", "bb", &reg.at("plain/bb:v1")]);
    assert_eq!(same, stored_digest);
    assert_eq!(skopeo_digest(&reg, "plain/bb:v1"), stored_digest);

    // The copies go with the image.
    let record = std::fs::read_to_string(env.root.join("compressed.json")).unwrap();
    assert!(
        record.contains("gzip") && record.contains("zstd"),
        "{record}"
    );
    env.ok("cc-rmi", ["bb"]);
    let left: Vec<_> = std::fs::read_dir(env.root.join("images/blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "blobs left after cc-rmi: {left:?}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.root.join("compressed.json")).unwrap()).unwrap();
    assert_eq!(record, serde_json::json!({}));
}
