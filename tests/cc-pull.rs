//! cc-pull against a real registry (Debian's docker-registry on
//! 127.0.0.1), filled by skopeo in OCI and Docker schema 2 formats, gzip
//! and zstd.

use std::process::{Command, Stdio};
use std::time::Duration;

use support::{assert_code, assert_ok, root_or_skip, Env, Registry};

/// The image names of a store, from cc-images.
fn names(env: &Env) -> String {
    env.ok("cc-images", ["--format", "json"])
}

/// Nothing half-stored: no image, no unpacked layer, no blob.
fn assert_empty_store(env: &Env) {
    let images = names(env);
    assert!(images.trim().is_empty(), "images left: {images}");
    for d in ["layers/sha256", "images/blobs/sha256"] {
        let p = env.root.join(d);
        if let Ok(rd) = std::fs::read_dir(&p) {
            let left: Vec<_> = rd
                .flatten()
                .map(|e| e.file_name())
                .filter(|n| !n.to_string_lossy().starts_with('.'))
                .collect();
            assert!(left.is_empty(), "{d}: {left:?}");
        }
    }
}

#[test]
fn pulls_oci_and_docker_gzip_and_zstd_then_runs() {
    root_or_skip!();
    let src = Env::new();
    let (tar, id) = src.busybox_archive("bb");
    let reg = Registry::start();
    let archive = format!("docker-archive:{}", tar.display());
    let cases: [(&str, &[&str]); 3] = [
        ("docker/gz:v1", &["-f", "v2s2"]),
        ("oci/gz:v1", &["-f", "oci"]),
        (
            "oci/zstd:v1",
            &["-f", "oci", "--dest-compress-format", "zstd"],
        ),
    ];
    for (dest, flags) in cases {
        reg.skopeo_put(&archive, dest, flags);
        let env = Env::new();
        let out = env.run("cc-pull", [reg.at(dest)]);
        assert_ok(&out, &format!("cc-pull {dest}"));
        // stdout is the image id only; its layers are the source's (skopeo
        // may rewrite the config when it converts formats, so the id can
        // differ from the source's; the files may not).
        let pulled = support::stdout(&out);
        assert!(
            pulled.trim().starts_with("sha256:")
                && pulled.trim().len() == 71
                && pulled.lines().count() == 1,
            "{dest}: stdout is the id only: {pulled:?}"
        );
        assert_eq!(
            env.ok("cc-inspect", ["-f", "RootFS.Layers", pulled.trim()]),
            src.ok("cc-inspect", ["-f", "RootFS.Layers", &id]),
            "{dest}: the pulled image has the source's layers"
        );
        assert!(
            names(&env).contains(&reg.at(dest)),
            "{dest}: named {}",
            names(&env)
        );
        let echo = env.ok(
            "cc-run",
            ["--rm", "--net", "none", &reg.at(dest), "echo", "pulled"],
        );
        assert_eq!(echo, "pulled\n", "{dest}");
        // Again: everything is there already, nothing is fetched.
        let out = env
            .cmd("cc-pull")
            .arg(reg.at(dest))
            .env("CC_LOG", "debug")
            .output()
            .unwrap();
        assert_ok(&out, "second pull");
        assert_eq!(
            support::stdout(&out),
            pulled,
            "{dest}: the same image again"
        );
        assert!(
            !support::stderr(&out).contains("resuming"),
            "{}",
            support::stderr(&out)
        );
    }
}

#[test]
fn bad_references_and_missing_images() {
    root_or_skip!();
    let env = Env::new();
    let reg = Registry::start();
    for bad in ["UPPER/case", "a:b:c", "x@sha256:12", ""] {
        let out = env.run("cc-pull", [bad]);
        assert_code(&out, 2, &format!("cc-pull '{bad}'"));
    }
    let out = env.run("cc-pull", [reg.at("nothing/here:v1")]);
    assert_code(&out, 3, "unknown repository");
    support::assert_one_line_error(&out, "cc-pull");
    let out = env.run("cc-pull", ["--platform", "linux", &reg.at("x")]);
    assert_code(&out, 2, "malformed --platform");
    let src = Env::new();
    let (tar, _) = src.busybox_archive("bb");
    reg.skopeo_put(&format!("docker-archive:{}", tar.display()), "bb:v1", &[]);
    let out = env.run("cc-pull", [reg.at("bb:nosuchtag")]);
    assert_code(&out, 3, "unknown tag");
    assert_empty_store(&env);
}

/// An index made by hand (skopeo pushes the manifest, curl the index):
/// the host's platform is picked, --platform picks another, and a
/// platform the index lacks is a clear error.
#[test]
fn index_platform_selection() {
    root_or_skip!();
    let src = Env::new();
    let (tar, id) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(
        &format!("docker-archive:{}", tar.display()),
        "multi:single",
        &["-f", "oci"],
    );
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}", reg.at("multi:single")),
        ])
        .output()
        .unwrap();
    assert_ok(&out, "skopeo inspect --raw");
    let raw = out.stdout;
    let digest = format!("sha256:{}", sha256_hex(&raw));
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": raw.len(),
             "platform": {"os": "linux", "architecture": "riscv64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": raw.len(),
             "platform": {"os": "linux", "architecture": arch}}
        ]
    });
    let out = Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.index.v1+json",
            "--data-binary",
            "@-",
        ])
        .arg(format!("http://{}/v2/multi/manifests/idx", reg.host))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(index.to_string().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_ok(&out, "curl PUT index");
    let env = Env::new();
    let pulled = env.ok("cc-pull", [reg.at("multi:idx")]);
    assert_eq!(
        env.ok("cc-inspect", ["-f", "RootFS.Layers", pulled.trim()]),
        src.ok("cc-inspect", ["-f", "RootFS.Layers", &id]),
        "the host's platform was pulled"
    );
    let env = Env::new();
    let p = env.run(
        "cc-pull",
        ["--platform", "linux/riscv64", &reg.at("multi:idx")],
    );
    assert_ok(&p, "--platform linux/riscv64");
    let out = env.run(
        "cc-pull",
        ["--platform", "linux/s390x", &reg.at("multi:idx")],
    );
    assert_code(&out, 3, "no such platform");
    assert!(
        support::stderr(&out).contains("linux/s390x"),
        "{}",
        support::stderr(&out)
    );
}

fn sha256_hex(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        c.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = c.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// A layer blob corrupted in the registry's storage (same size): the pull
/// fails on its digest and leaves nothing, not even the partial download.
#[test]
fn corrupt_blob_is_refused() {
    root_or_skip!();
    let src = Env::new();
    let (tar, _) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(
        &format!("docker-archive:{}", tar.display()),
        "bad:v1",
        &["-f", "oci"],
    );
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}", reg.at("bad:v1")),
        ])
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap()[7..].to_string();
    let data = reg.dir.path().join(format!(
        "data/docker/registry/v2/blobs/sha256/{}/{layer}/data",
        &layer[..2]
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let env = Env::new();
    let out = env.run("cc-pull", [reg.at("bad:v1")]);
    assert_code(&out, 1, "corrupt blob");
    support::assert_one_line_error(&out, "cc-pull");
    assert_empty_store(&env);
    let partials: Vec<_> = std::fs::read_dir(env.root.join("tmp"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(partials.is_empty(), "tmp/ keeps {partials:?}");
}

#[test]
fn concurrent_and_killed_pulls() {
    root_or_skip!();
    let src = Env::new();
    let (tar, id) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(&format!("docker-archive:{}", tar.display()), "bb:v1", &[]);
    let env = Env::new();
    let kids: Vec<_> = (0..3)
        .map(|_| {
            env.cmd("cc-pull")
                .arg(reg.at("bb:v1"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for k in kids {
        let out = support::wait_child_timeout(k, Duration::from_secs(120), "cc-pull");
        assert_ok(&out, "concurrent cc-pull");
        assert_eq!(support::stdout(&out), format!("{id}\n"));
    }
    let images = names(&env);
    assert_eq!(images.lines().count(), 1, "{images}");
    // Killed at various moments: never an image that is not whole.
    for delay in [5, 20, 60, 150] {
        let env = Env::new();
        let mut k = env
            .cmd("cc-pull")
            .arg(reg.at("bb:v1"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = k.kill();
        let _ = k.wait();
        let listed = names(&env);
        if !listed.trim().is_empty() {
            // It finished before the kill: then it must run.
            env.ok(
                "cc-run",
                ["--rm", "--net", "none", &reg.at("bb:v1"), "true"],
            );
        }
        assert_eq!(
            env.ok("cc-pull", [reg.at("bb:v1")]),
            format!("{id}\n"),
            "after a kill at {delay} ms"
        );
        env.ok(
            "cc-run",
            ["--rm", "--net", "none", &reg.at("bb:v1"), "true"],
        );
    }
}

/// A partial download left by an earlier pull is resumed with a Range
/// request; one holding wrong bytes fails the digest check, is dropped,
/// and the next pull succeeds.
#[test]
fn resumes_partial_downloads_and_drops_bad_ones() {
    root_or_skip!();
    let src = Env::new();
    let (tar, id) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(&format!("docker-archive:{}", tar.display()), "bb:v1", &[]);
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}", reg.at("bb:v1")),
        ])
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let digest = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let out = Command::new("curl")
        .args(["-fsS", &format!("http://{}/v2/bb/blobs/{digest}", reg.host)])
        .output()
        .unwrap();
    assert_ok(&out, "curl the layer");
    let blob = out.stdout;
    let half = blob.len() / 2;
    // Half of it, half with a wrong byte, and all of it (a pull killed
    // after the download, before the image was stored).
    for (len, good) in [(half, true), (half, false), (blob.len(), true)] {
        let env = Env::new();
        env.ok("cc-images", ["-q"]);
        let partial = env.root.join(format!("tmp/partial-{}", &digest[7..]));
        let mut head = blob[..len].to_vec();
        if !good {
            head[len / 2] ^= 0x55;
        }
        std::fs::write(&partial, head).unwrap();
        let out = env
            .cmd("cc-pull")
            .arg(reg.at("bb:v1"))
            .env("CC_LOG", "debug")
            .output()
            .unwrap();
        let err = support::stderr(&out);
        assert!(
            err.contains(&format!("resuming after {len} bytes")),
            "{err}"
        );
        if good {
            assert_ok(&out, "resumed pull");
            assert_eq!(support::stdout(&out), format!("{id}\n"));
        } else {
            assert_code(&out, 1, "pull over a bad partial download");
            assert_empty_store(&env);
            assert_eq!(env.ok("cc-pull", [reg.at("bb:v1")]), format!("{id}\n"));
        }
        assert!(!partial.exists(), "the partial download stays");
    }
}

/// The store's disk fills up while a layer unpacks (a small tmpfs as the
/// store root): a clear error, and no image.
#[test]
fn disk_full_while_unpacking() {
    root_or_skip!();
    let src = Env::new();
    let (tar, _) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(&format!("docker-archive:{}", tar.display()), "bb:v1", &[]);
    let env = Env::new();
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1200k", "tmpfs"])
        .arg(&env.root)
        .output()
        .unwrap();
    assert_ok(&out, "mount a small tmpfs");
    let _guard = Unmount(env.root.clone());
    let out = env.run("cc-pull", [reg.at("bb:v1")]);
    assert_code(&out, 1, "pull into a full store");
    support::assert_one_line_error(&out, "cc-pull");
    assert!(
        support::stderr(&out)
            .to_lowercase()
            .contains("no space left"),
        "{}",
        support::stderr(&out)
    );
    assert_empty_store(&env);
}

/// A registry that answers with fixed content: `/v2/` is 200, each of
/// `routes` (path, media type, body) is served as given after failing its
/// first `fail_first` requests with 503, everything else is 404. No real
/// registry stores such manifests or fails on cue, so this one is
/// hand-made, on 127.0.0.1. Returns the port and the request count.
fn fixed_registry(
    routes: Vec<(String, String, Vec<u8>)>,
    fail_first: usize,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    hand_made_registry(routes, fail_first, vec![])
}

/// `fixed_registry`, with paths that stall: for each of `stalls`, the
/// answer stops after its headers and that many bytes of the body (or,
/// with `None`, there is no answer at all), and the connection stays open
/// and silent, as a registry behind a hung proxy does.
fn hand_made_registry(
    routes: Vec<(String, String, Vec<u8>)>,
    fail_first: usize,
    stalls: Vec<(String, Option<usize>)>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        // Stalled connections, kept open (and silent) while the test runs.
        let mut silent = vec![];
        for conn in listener.incoming().flatten() {
            let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split(' ');
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
                    break;
                }
            }
            // Requests, not the TLS hellos of the https attempt cc makes
            // first.
            if path.starts_with('/') {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let found = routes.iter().find(|(p, _, _)| p == path);
            let tries = seen.entry(path.to_string()).or_default();
            *tries += 1;
            let json = "application/json".to_string();
            let (status, media, body) = match (path, found) {
                ("/v2/", _) => ("200 OK", &json, b"{}".to_vec()),
                (_, Some(_)) if *tries <= fail_first => (
                    "503 Service Unavailable",
                    &json,
                    br#"{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}"#.to_vec(),
                ),
                (_, Some((_, media, body))) => ("200 OK", media, body.clone()),
                _ => (
                    "404 Not Found",
                    &json,
                    br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
                        .to_vec(),
                ),
            };
            let stall = stalls.iter().find(|(p, _)| p == path).map(|(_, n)| *n);
            let mut w = conn;
            if let Some(None) = stall {
                silent.push(w);
                continue;
            }
            let digest = format!("sha256:{}", sha256_hex(&body));
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {media}\r\nContent-Length: {}\r\n\
                 Docker-Content-Digest: {digest}\r\nDocker-Distribution-API-Version: registry/2.0\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = w.write_all(head.as_bytes());
            if method == "HEAD" {
                continue;
            }
            match stall {
                Some(Some(n)) => {
                    let _ = w.write_all(&body[..n.min(body.len())]);
                    silent.push(w);
                }
                _ => {
                    let _ = w.write_all(&body);
                }
            }
        }
    });
    (port, count)
}

/// Manifests cc cannot use: schema 1, an artifact-like type, JSON that
/// does not parse, and an OCI manifest with a bad digest. Each is a one-line
/// error naming the reference, and nothing is stored.
#[test]
fn unsupported_and_malformed_manifests() {
    root_or_skip!();
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let manifests = [
        (
            "schema1",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            r#"{"schemaVersion":1,"name":"odd","tag":"schema1","fsLayers":[],"history":[]}"#.into(),
        ),
        (
            "helm",
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            "{}".into(),
        ),
        ("garbage", oci, "{not json".into()),
        (
            "baddigest",
            oci,
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{oci}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:xyz","size":2}},"layers":[]}}"#
            ),
        ),
    ];
    let routes = manifests
        .into_iter()
        .map(|(tag, media, body): (&str, &str, String)| {
            (
                format!("/v2/odd/manifests/{tag}"),
                media.to_string(),
                body.into_bytes(),
            )
        })
        .collect();
    let (port, _) = fixed_registry(routes, 0);
    let env = Env::new();
    for (tag, says) in [
        ("schema1", "unsupported manifest type"),
        ("helm", "unsupported manifest type"),
        ("garbage", "malformed manifest"),
        ("baddigest", "malformed manifest"),
    ] {
        let reference = format!("127.0.0.1:{port}/odd:{tag}");
        let out = env.run("cc-pull", [&reference]);
        assert!(!out.status.success(), "cc-pull {reference} succeeded");
        support::assert_one_line_error(&out, "cc-pull");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.contains(&format!("odd:{tag}")),
            "cc-pull {reference}: {err}"
        );
        assert_empty_store(&env);
    }
    // An unknown tag there is "not found" (exit 3).
    let out = env.run("cc-pull", [format!("127.0.0.1:{port}/odd:none")]);
    assert_code(&out, 3, "cc-pull of an unknown tag");
    assert_empty_store(&env);
}

/// On a terminal, cc-pull draws its progress on stderr (every layer's
/// share and the total, then a line per finished blob) and still prints
/// only the id on stdout; without one (every other test) stderr stays
/// empty.
#[test]
fn progress_on_a_terminal_only() {
    root_or_skip!();
    assert!(support::have("script"), "needs script (util-linux)");
    let src = Env::new();
    let (tar, _) = src.busybox_archive("bb");
    let reg = Registry::start();
    reg.skopeo_put(
        &format!("docker-archive:{}", tar.display()),
        "bb:p",
        &["-f", "oci"],
    );
    let env = Env::new();
    let id_file = env.dir.join("id");
    // stderr on script's pty, stdout to a file.
    let cmd = format!(
        "{} {} > {}",
        support::bin("cc-pull").display(),
        reg.at("bb:p"),
        id_file.display()
    );
    let out = Command::new("script")
        .env("CC_ROOT", &env.root)
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    assert_ok(&out, "script -c cc-pull");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("layers") && screen.contains("MiB") && screen.contains("100%"),
        "no progress on the terminal: {screen:?}"
    );
    assert!(
        screen.contains(": done"),
        "no finished-blob line: {screen:?}"
    );
    let id = std::fs::read_to_string(&id_file).unwrap();
    assert!(
        id.trim().starts_with("sha256:") && id.lines().count() == 1,
        "{id:?}"
    );
    let env2 = Env::new();
    let out = env2.run("cc-pull", [reg.at("bb:p")]);
    assert_ok(&out, "cc-pull without a terminal");
    assert!(
        out.stderr.is_empty(),
        "stderr without a terminal: {:?}",
        support::stderr(&out)
    );
}

/// Transient failures (503) are retried with backoff and the pull
/// completes; a registry that keeps failing is a one-line error after the
/// last try, with nothing stored.
#[test]
fn transient_failures_are_retried() {
    root_or_skip!();
    let env = Env::new();
    let (routes, layer_digest) = one_layer_image(&env, "flaky", 6);
    // Every path fails twice, then answers.
    let (port, count) = fixed_registry(routes.clone(), 2);
    let out = env.run("cc-pull", [format!("127.0.0.1:{port}/odd:flaky")]);
    assert_ok(&out, "cc-pull through 503s");
    let id = support::stdout(&out);
    assert!(
        count.load(std::sync::atomic::Ordering::SeqCst) > 3 * 3,
        "each of the three paths was asked at least three times"
    );
    let layers = env.ok("cc-inspect", ["-f", "RootFS.Layers", id.trim()]);
    assert!(
        layers.contains(&layer_digest),
        "the image pulled through the failures: {layers}"
    );
    // Always failing: a clear error once the tries are spent.
    let env = Env::new();
    let (port, _) = fixed_registry(routes, usize::MAX);
    let out = env.run("cc-pull", [format!("127.0.0.1:{port}/odd:flaky")]);
    assert!(
        !out.status.success(),
        "cc-pull of an always failing registry succeeded"
    );
    support::assert_one_line_error(&out, "cc-pull");
    assert_empty_store(&env);
}

/// A one-layer image made here, for the hand-made registries: an
/// uncompressed layer with one file of `size` bytes, its config and an OCI
/// manifest, as routes of `odd:<tag>`. Returns them and the layer's digest.
fn one_layer_image(env: &Env, tag: &str, size: usize) -> (Vec<(String, String, Vec<u8>)>, String) {
    let dir = env.dir.join(format!("layer-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let text: Vec<u8> = b"hello\n".iter().copied().cycle().take(size).collect();
    std::fs::write(dir.join("hello.txt"), text).unwrap();
    let tar = env.dir.join(format!("layer-{tag}.tar"));
    let out = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert_ok(&out, "tar");
    let layer = std::fs::read(&tar).unwrap();
    let layer_digest = format!("sha256:{}", sha256_hex(&layer));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    })
    .to_string()
    .into_bytes();
    let config_digest = format!("sha256:{}", sha256_hex(&config));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    })
    .to_string()
    .into_bytes();
    let routes = vec![
        (
            format!("/v2/odd/manifests/{tag}"),
            "application/vnd.oci.image.manifest.v1+json".to_string(),
            manifest,
        ),
        (
            format!("/v2/odd/blobs/{config_digest}"),
            "application/octet-stream".to_string(),
            config,
        ),
        (
            format!("/v2/odd/blobs/{layer_digest}"),
            "application/octet-stream".to_string(),
            layer,
        ),
    ];
    (routes, layer_digest)
}

/// A registry that stops sending half-way through a layer, before it
/// answers a manifest request, or half-way through a manifest: with a
/// short timeout (`--timeout`, or `CC_REGISTRY_TIMEOUT`) cc-pull gives up
/// after its five tries, well within a bounded time, with a one-line error
/// that names the blob or the reference, and stores nothing. What arrived
/// of the layer stays in tmp/ for the next pull to resume.
#[test]
fn stalled_connections_time_out() {
    root_or_skip!();
    let env = Env::new();
    let (routes, layer_digest) = one_layer_image(&env, "stall", 200_000);
    let layer_path = format!("/v2/odd/blobs/{layer_digest}");
    let manifest_path = "/v2/odd/manifests/stall".to_string();
    let timed = |cmd: &mut Command| {
        let start = std::time::Instant::now();
        let out = support::run_timeout(cmd, Duration::from_secs(120));
        (out, start.elapsed())
    };
    // Five tries of 1 s each, with 0.5 + 1 + 2 + 4 s of backoff between.
    let bound = Duration::from_secs(40);

    // The layer: headers and 10,000 bytes, then nothing.
    let (port, _) = hand_made_registry(routes.clone(), 0, vec![(layer_path.clone(), Some(10_000))]);
    let reference = format!("127.0.0.1:{port}/odd:stall");
    let (out, took) = timed(env.cmd("cc-pull").args(["--timeout", "1", &reference]));
    assert_code(&out, 1, "cc-pull of a stalling layer");
    support::assert_one_line_error(&out, "cc-pull");
    let err = support::stderr(&out);
    assert!(
        err.contains(&layer_digest) && err.contains(&reference) && err.contains("1 s"),
        "the error names the blob, the reference and the timeout: {err}"
    );
    assert!(took < bound, "cc-pull took {took:?}");
    assert!(
        took >= Duration::from_secs(5),
        "five tries of 1 s each took only {took:?}"
    );
    assert_empty_store(&env);
    let partial = env.root.join(format!("tmp/partial-{}", &layer_digest[7..]));
    assert_eq!(
        std::fs::metadata(&partial).map(|m| m.len()).ok(),
        Some(10_000),
        "what arrived is kept for the next pull"
    );
    std::fs::remove_file(&partial).unwrap();

    // The manifest: no answer at all; the timeout from the environment.
    let (port, count) = hand_made_registry(routes.clone(), 0, vec![(manifest_path.clone(), None)]);
    let reference = format!("127.0.0.1:{port}/odd:stall");
    let (out, took) = timed(
        env.cmd("cc-pull")
            .env("CC_REGISTRY_TIMEOUT", "1")
            .arg(&reference),
    );
    assert_code(&out, 1, "cc-pull of a manifest that never comes");
    support::assert_one_line_error(&out, "cc-pull");
    let err = support::stderr(&out);
    assert!(
        err.contains(&reference) && err.contains("1 s"),
        "the error names the reference and the timeout: {err}"
    );
    assert!(took < bound, "cc-pull took {took:?}");
    // /v2/ once, then the manifest five times.
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 6);
    assert_empty_store(&env);

    // The manifest: headers and 20 bytes, then nothing.
    let (port, _) = hand_made_registry(routes, 0, vec![(manifest_path, Some(20))]);
    let reference = format!("127.0.0.1:{port}/odd:stall");
    let (out, took) = timed(env.cmd("cc-pull").args(["--timeout", "1", &reference]));
    assert_code(&out, 1, "cc-pull of a manifest that stops half-way");
    support::assert_one_line_error(&out, "cc-pull");
    let err = support::stderr(&out);
    assert!(
        err.contains(&reference) && err.contains("1 s"),
        "the error names the reference and the timeout: {err}"
    );
    assert!(took < bound, "cc-pull took {took:?}");
    assert_empty_store(&env);

    // A timeout of 0 or of words is a usage error.
    for bad in ["0", "soon"] {
        let out = env.run("cc-pull", ["--timeout", bad, &reference]);
        assert_code(&out, 2, &format!("--timeout {bad}"));
    }
}
