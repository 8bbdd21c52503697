//! Registry authentication and TLS: a docker-registry with a CA made here
//! (openssl) and htpasswd basic auth; cc-login and cc-logout; credentials
//! from ~/.docker/config.json.

use support::{assert_code, assert_ok, root_or_skip, Env, Registry, RegistryConf};

fn tls_registry() -> Registry {
    Registry::start_with(RegistryConf {
        tls: true,
        user: Some(("tester".into(), "s3cret".into())),
        ..Default::default()
    })
}

#[test]
fn tls_with_basic_auth() {
    root_or_skip!();
    let src = Env::new();
    let id = src.busybox_image("bb");
    let reg = tls_registry();
    let ca_dir = reg.ca.as_ref().unwrap().parent().unwrap().join("cas");
    std::fs::create_dir_all(&ca_dir).unwrap();
    std::fs::copy(reg.ca.as_ref().unwrap(), ca_dir.join("ca.crt")).unwrap();
    let cert_dir = ca_dir.to_str().unwrap();
    let dest = reg.at("secure/bb:v1");
    // Unknown CA: refused.
    let out = src.run("cc-push", ["--creds", "tester:s3cret", "bb", &dest]);
    assert_code(&out, 1, "push to an unknown CA");
    let err = support::stderr(&out);
    assert!(
        err.contains("https://") && err.to_lowercase().contains("cert"),
        "{err}"
    );
    // Wrong password: 401, said plainly.
    let out = src.run(
        "cc-push",
        [
            "--cert-dir",
            cert_dir,
            "--creds",
            "tester:wrong",
            "bb",
            &dest,
        ],
    );
    assert_code(&out, 1, "wrong password");
    assert!(
        support::stderr(&out).contains("401"),
        "{}",
        support::stderr(&out)
    );
    let out = src.run(
        "cc-push",
        [
            "--cert-dir",
            cert_dir,
            "--creds",
            "tester:s3cret",
            "bb",
            &dest,
        ],
    );
    assert_ok(&out, "push with credentials");
    // Pulls: anonymous is refused and stores nothing; with creds it works.
    let env = Env::new();
    let out = env.run("cc-pull", ["--cert-dir", cert_dir, &dest]);
    assert_code(&out, 1, "anonymous pull");
    assert!(env.ok("cc-images", ["-q"]).trim().is_empty());
    let out = env.run(
        "cc-pull",
        ["--cert-dir", cert_dir, "--creds", "tester:wrong", &dest],
    );
    assert_code(&out, 1, "pull, wrong password");
    assert_eq!(
        env.ok(
            "cc-pull",
            ["--cert-dir", cert_dir, "--creds", "tester:s3cret", &dest]
        ),
        format!("{id}\n")
    );
    // --tls-verify=false skips the CA check.
    let env = Env::new();
    assert_eq!(
        env.ok(
            "cc-pull",
            ["--tls-verify=false", "--creds", "tester:s3cret", &dest]
        ),
        format!("{id}\n")
    );
}

#[test]
fn login_logout_and_docker_config() {
    root_or_skip!();
    let src = Env::new();
    let id = src.busybox_image("bb");
    let reg = tls_registry();
    let d = src.dir.join("auth");
    std::fs::create_dir_all(&d).unwrap();
    let auth_file = d.join("auth.json");
    let ca = reg.ca.as_ref().unwrap().parent().unwrap().join("cas");
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::copy(reg.ca.as_ref().unwrap(), ca.join("ca.crt")).unwrap();
    let cert_dir = ca.to_str().unwrap();
    let login = |pass: &str| {
        src.cmd("cc-login")
            .env("REGISTRY_AUTH_FILE", &auth_file)
            .args([
                "--cert-dir",
                cert_dir,
                "-u",
                "tester",
                "--password-stdin",
                &reg.host,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{pass}\n").as_bytes())?;
                c.wait_with_output()
            })
            .unwrap()
    };
    let out = login("wrong");
    assert_code(&out, 1, "login with a wrong password");
    assert!(!auth_file.exists());
    assert_ok(&login("s3cret"), "cc-login");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&auth_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dest = reg.at("logged/bb:v1");
    let out = src
        .cmd("cc-push")
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .env("CC_LOG", "debug")
        .args(["--cert-dir", cert_dir, "bb", &dest])
        .output()
        .unwrap();
    assert_ok(&out, "push after login");
    assert!(
        support::stderr(&out).contains(&format!("from {}", auth_file.display())),
        "{}",
        support::stderr(&out)
    );
    let logout = || {
        src.cmd("cc-logout")
            .env("REGISTRY_AUTH_FILE", &auth_file)
            .arg(&reg.host)
            .output()
            .unwrap()
    };
    let out = logout();
    assert_ok(&out, "cc-logout");
    let out = logout();
    assert_code(&out, 3, "second logout");
    // `-p PASS` as docker users type it, with docker's warning.
    let out = src
        .cmd("cc-login")
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .args([
            "--cert-dir",
            cert_dir,
            "-u",
            "tester",
            "-p",
            "s3cret",
            &reg.host,
        ])
        .output()
        .unwrap();
    assert_ok(&out, "cc-login -p");
    assert!(
        support::stderr(&out).contains("WARNING! Using --password via the CLI is insecure"),
        "{}",
        support::stderr(&out)
    );
    assert!(std::fs::read_to_string(&auth_file)
        .unwrap()
        .contains(&reg.host));
    let both = ["-u", "tester", "-p", "x", "--password-stdin", &reg.host];
    let out = src
        .cmd("cc-login")
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .args(both)
        .output()
        .unwrap();
    assert_code(&out, 2, "-p with --password-stdin");
    let out = logout();
    assert_ok(&out, "cc-logout after -p");
    // ~/.docker/config.json's auths.
    let docker = d.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"dGVzdGVyOnMzY3JldA=="}}}}}}"#,
            reg.host
        ),
    )
    .unwrap();
    let env = Env::new();
    let out = env
        .cmd("cc-pull")
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .env("DOCKER_CONFIG", &docker)
        .env("CC_LOG", "debug")
        .args(["--cert-dir", cert_dir, &dest])
        .output()
        .unwrap();
    assert_ok(&out, "pull with docker's config");
    assert_eq!(support::stdout(&out), format!("{id}\n"));
    assert!(
        support::stderr(&out).contains("config.json"),
        "{}",
        support::stderr(&out)
    );
}

// ------------------------------------------------------- a token server

fn b64(data: &[u8], url: bool) -> String {
    let t: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(t[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if !url {
                out.push('=');
            }
        }
    }
    out
}

/// A bearer token server: RS256 JWTs signed by openssl with a key whose
/// self-signed certificate the registry trusts (`rootcertbundle`), the
/// certificate in the header's x5c. It wants basic credentials
/// tester:s3cret and counts the tokens it gives.
struct TokenServer {
    port: u16,
    dir: tempfile::TempDir,
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TokenServer {
    fn start() -> TokenServer {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=cc token",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ])
            .output()
            .unwrap();
        assert_ok(&out, "openssl req");
        let der = std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args(["x509", "-in", "cert.pem", "-outform", "DER"])
            .output()
            .unwrap()
            .stdout;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (count, key) = (issued.clone(), dir.path().join("key.pem"));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = serve_token(conn, &der, &key, &count);
            }
        });
        TokenServer { port, dir, issued }
    }

    fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    fn cert(&self) -> std::path::PathBuf {
        self.dir.path().join("cert.pem")
    }
}

fn serve_token(
    mut conn: std::net::TcpStream,
    der: &[u8],
    key: &std::path::Path,
    count: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    use std::io::{BufRead, Write};
    let mut r = std::io::BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let target = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut authorized = false;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if h.to_ascii_lowercase().starts_with("authorization:") {
            authorized = h.trim().ends_with(&b64(b"tester:s3cret", false));
        }
    }
    if !authorized {
        return conn.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    // scope=repository:NAME:ACTIONS, percent-encoded.
    let scope = target
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("scope="))
        .unwrap_or("")
        .replace("%3A", ":")
        .replace("%2F", "/")
        .replace("%2C", ",");
    let parts: Vec<&str> = scope.splitn(3, ':').collect();
    let access = if parts.len() == 3 {
        serde_json::json!([{"type": parts[0], "name": parts[1], "actions": parts[2].split(',').collect::<Vec<_>>()}])
    } else {
        serde_json::json!([])
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [b64(der, false)]});
    let claims = serde_json::json!({
        "iss": "cc-test-issuer", "sub": "tester", "aud": "cc-test",
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", count.load(std::sync::atomic::Ordering::SeqCst)),
        "access": access,
    });
    let signing = format!(
        "{}.{}",
        b64(header.to_string().as_bytes(), true),
        b64(claims.to_string().as_bytes(), true)
    );
    let mut sign = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    sign.stdin.take().unwrap().write_all(signing.as_bytes())?;
    let sig = sign.wait_with_output()?.stdout;
    let token = format!("{signing}.{}", b64(&sig, true));
    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let body = serde_json::json!({"token": token, "expires_in": 300}).to_string();
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn bearer_tokens_from_the_challenge_realm() {
    root_or_skip!();
    let src = Env::new();
    let id = src.busybox_image("bb");
    let tokens = TokenServer::start();
    let reg = Registry::start_with(RegistryConf {
        token: Some((tokens.realm(), tokens.cert())),
        ..Default::default()
    });
    let dest = reg.at("tok/bb:v1");
    let out = src.run("cc-push", ["bb", &dest]);
    assert_code(&out, 1, "push without credentials");
    let out = src.run("cc-push", ["--creds", "tester:wrong", "bb", &dest]);
    assert_code(&out, 1, "push with a wrong password");
    assert!(
        support::stderr(&out).contains("401"),
        "{}",
        support::stderr(&out)
    );
    assert_ok(
        &src.run("cc-push", ["--creds", "tester:s3cret", "bb", &dest]),
        "push with a token",
    );
    let env = Env::new();
    let before = tokens.issued.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        env.ok("cc-pull", ["--creds", "tester:s3cret", &dest]),
        format!("{id}\n")
    );
    // One token for the whole pull (manifest, config, layers).
    let after = tokens.issued.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - before, 1, "tokens are reused while valid");
}
