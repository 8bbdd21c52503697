//! Where registry credentials go and how they are given: only to the
//! registry's own host (an upload `Location` or a redirect to another host
//! gets none), `--creds USER` with the password from stdin, a clear
//! error for an empty `REGISTRY_AUTH_FILE`, and an auth file that is not
//! one refused, never rewritten.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use support::{assert_code, assert_ok, root_or_skip, Env, Registry, RegistryConf};

/// One request a hand-made server got: method, path, Authorization.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// An answer: status line, extra header lines, body.
type Answer = (&'static str, String, String);

/// Reads one request (head and body, by Content-Length or chunked).
fn read_request(conn: &TcpStream) -> Option<Seen> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split(' ');
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let (mut length, mut chunked, mut auth) = (0u64, false, None);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
            break;
        }
        let Some((k, v)) = h.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.to_ascii_lowercase().as_str() {
            "content-length" => length = v.parse().unwrap_or(0),
            "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
            "authorization" => auth = Some(v),
            _ => {}
        }
    }
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = u64::from_str_radix(size.trim(), 16).ok()?;
            std::io::copy(&mut (&mut r).take(n + 2), &mut std::io::sink()).ok()?;
            if n == 0 {
                break;
            }
        }
    } else {
        std::io::copy(&mut (&mut r).take(length), &mut std::io::sink()).ok()?;
    }
    Some(Seen { method, path, auth })
}

/// A plain-http server on `addr` that logs every request and answers it
/// with `answer`; one request per connection.
fn serve(addr: &str, answer: impl Fn(&Seen) -> Answer + Send + 'static) -> (u16, Log) {
    let listener = TcpListener::bind(addr).unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let Some(req) = read_request(&conn) else {
                continue;
            };
            seen.lock().unwrap().push(req.clone());
            let (status, extra, body) = answer(&req);
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\
                 Docker-Distribution-API-Version: registry/2.0\r\n{extra}Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, log)
}

const BASIC: &str = "Basic dGVzdGVyOnMzY3JldA=="; // tester:s3cret

/// A registry on 127.0.0.1 that wants basic auth for everything, hands
/// out uploads at `upload` (another host) and redirects manifest GETs to
/// `elsewhere`.
fn registry(upload: String, elsewhere: String) -> (u16, Log) {
    serve("127.0.0.1:0", move |r| {
        let none = String::new();
        if r.auth.as_deref() != Some(BASIC) {
            let ch = "WWW-Authenticate: Basic realm=\"cc-test\"\r\n".to_string();
            return ("401 Unauthorized", ch, none);
        }
        match r.method.as_str() {
            _ if r.path == "/v2/" => ("200 OK", none, "{}".into()),
            "HEAD" => ("404 Not Found", none.clone(), none),
            "POST" => ("202 Accepted", format!("Location: {upload}\r\n"), none),
            "PUT" => ("201 Created", none.clone(), none),
            "GET" => (
                "307 Temporary Redirect",
                format!("Location: {elsewhere}\r\n"),
                none,
            ),
            _ => ("404 Not Found", none.clone(), none),
        }
    })
}

/// An upload service on another loopback address, as a registry's blob
/// store on another host: takes chunks and the final PUT from anyone.
fn upload_host() -> (u16, Log) {
    serve("127.0.0.2:0", |r| match r.method.as_str() {
        "PATCH" => (
            "202 Accepted",
            format!("Location: {}\r\n", r.path),
            String::new(),
        ),
        "PUT" => ("201 Created", String::new(), String::new()),
        _ => ("404 Not Found", String::new(), String::new()),
    })
}

/// cc-push's upload goes where the registry's `Location` says, here to
/// 127.0.0.2 (another host): the blob arrives there without the
/// credentials, which only the registry itself saw. A pull whose manifest
/// is redirected there sends none either.
#[test]
fn credentials_stay_with_the_registry_host() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    let (other_port, other) = upload_host();
    let (port, reg) = registry(
        format!("http://127.0.0.2:{other_port}/upload/1"),
        format!("http://127.0.0.2:{other_port}/redirected/manifest"),
    );
    let dest = format!("127.0.0.1:{port}/c/bb:v1");
    let out = env.run(
        "cc-push",
        [
            "--compression-format",
            "none",
            "--creds",
            "tester:s3cret",
            "bb",
            &dest,
        ],
    );
    assert_ok(&out, "cc-push with an upload on another host");
    let reg = reg.lock().unwrap().clone();
    assert!(
        reg.iter()
            .any(|s| s.method == "POST" && s.auth.as_deref() == Some(BASIC)),
        "the registry got the credentials: {reg:?}"
    );
    let uploads = other.lock().unwrap().clone();
    assert!(
        uploads.iter().any(|s| s.method == "PUT"),
        "the blobs went to the other host: {uploads:?}"
    );
    assert!(
        uploads.iter().all(|s| s.auth.is_none()),
        "credentials sent to another host: {uploads:?}"
    );

    other.lock().unwrap().clear();
    let out = env.run("cc-pull", ["--creds", "tester:s3cret", &dest]);
    assert!(
        !out.status.success(),
        "the redirected manifest is not there"
    );
    let seen = other.lock().unwrap().clone();
    assert!(
        seen.iter().any(|s| s.path == "/redirected/manifest"),
        "the redirect was followed: {seen:?}"
    );
    assert!(seen.iter().all(|s| s.auth.is_none()), "{seen:?}");
}

fn auth_registry() -> Registry {
    Registry::start_with(RegistryConf {
        user: Some(("tester".into(), "s3cret".into())),
        ..Default::default()
    })
}

/// `--creds USER --password-stdin`: the password never on the command
/// line. Without --password-stdin and without a terminal, a usage error
/// that says what to do; `--password-stdin` with USER:PASS is refused.
#[test]
fn creds_user_with_the_password_from_stdin() {
    root_or_skip!();
    let src = Env::new();
    let id = src.busybox_image("bb");
    let reg = auth_registry();
    let dest = reg.at("stdin/bb:v1");
    let out = src.run_stdin(
        "cc-push",
        ["--creds", "tester", "--password-stdin", "bb", &dest],
        b"s3cret\n",
    );
    assert_ok(&out, "cc-push --creds USER --password-stdin");
    let out = src.run_stdin(
        "cc-push",
        ["--creds", "tester", "--password-stdin", "bb", &dest],
        b"wrong\n",
    );
    assert_code(&out, 1, "a wrong password from stdin");
    assert!(
        support::stderr(&out).contains("401"),
        "{}",
        support::stderr(&out)
    );

    let env = Env::new();
    let out = env.run_stdin(
        "cc-pull",
        ["--creds", "tester", "--password-stdin", &dest],
        b"s3cret\n",
    );
    assert_ok(&out, "cc-pull --creds USER --password-stdin");
    assert_eq!(support::stdout(&out), format!("{id}\n"));

    // stdin is /dev/null here: no terminal to ask on.
    let out = env.run("cc-pull", ["--creds", "tester", &dest]);
    assert_code(&out, 2, "--creds USER without a terminal");
    support::assert_one_line_error(&out, "cc-pull");
    assert!(support::stderr(&out).contains("--password-stdin"));
    let out = env.run(
        "cc-pull",
        ["--creds", "tester:s3cret", "--password-stdin", &dest],
    );
    assert_code(&out, 2, "--password-stdin with USER:PASS");
    support::assert_one_line_error(&out, "cc-pull");
}

/// `REGISTRY_AUTH_FILE=""` is a mistake said in one line (exit 2), for
/// the programs that read the auth file and the one that writes it.
#[test]
fn empty_auth_file_variable_is_an_error() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("bb");
    let reg = Registry::start();
    let dest = reg.at("empty/bb:v1");
    for (prog, args) in [
        ("cc-push", vec!["bb", dest.as_str()]),
        ("cc-pull", vec![dest.as_str()]),
        (
            "cc-login",
            vec!["-u", "tester", "--password-stdin", reg.host.as_str()],
        ),
        ("cc-logout", vec![reg.host.as_str()]),
    ] {
        let mut c = env.cmd(prog);
        c.env("REGISTRY_AUTH_FILE", "").args(&args);
        c.stdin(std::process::Stdio::piped());
        c.stdout(std::process::Stdio::piped());
        c.stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        // Programs that stop before reading stdin close it: no unwrap.
        let _ = child.stdin.take().unwrap().write_all(b"s3cret\n");
        let out = child.wait_with_output().unwrap();
        assert_code(&out, 2, &format!("{prog} with REGISTRY_AUTH_FILE=''"));
        support::assert_one_line_error(&out, prog);
        assert!(
            support::stderr(&out).contains("REGISTRY_AUTH_FILE"),
            "{prog}: {}",
            support::stderr(&out)
        );
    }
}

/// An auth file that does not parse, or parses but is not
/// `{"auths": {...}}`, may hold other registries' credentials: cc-login
/// and cc-logout refuse to rewrite it, and cc-pull to read it, each in one
/// line that names the file (exit 1); the file is left as it was.
#[test]
fn a_broken_auth_file_is_refused_and_kept() {
    root_or_skip!();
    let env = Env::new();
    let reg = auth_registry();
    let auth_file = env.dir.join("auth.json");
    let dest = reg.at("broken/bb:v1");
    let shown = auth_file.display().to_string();
    for content in [
        "{\"auths\": {\"other.example\": ",
        "[1, 2]",
        "{\"auths\": 5}",
    ] {
        for (prog, args) in [
            (
                "cc-login",
                vec!["-u", "tester", "--password-stdin", reg.host.as_str()],
            ),
            ("cc-logout", vec![reg.host.as_str()]),
            ("cc-pull", vec![dest.as_str()]),
        ] {
            std::fs::write(&auth_file, content).unwrap();
            let out = with_auth_file(&env, &auth_file, prog, &args);
            let what = format!("{prog} with an auth file of {content:?}");
            assert_code(&out, 1, &what);
            support::assert_one_line_error(&out, prog);
            assert!(
                support::stderr(&out).contains(&format!("'{shown}'")),
                "{what}: {}",
                support::stderr(&out)
            );
            assert_eq!(
                std::fs::read_to_string(&auth_file).unwrap(),
                content,
                "{what}: the file changed"
            );
        }
    }
}

/// cc-login and cc-logout change their registry's entry only: the other
/// registries' credentials and the file's other keys stay. An empty file
/// holds nothing to keep: it is no file.
#[test]
fn login_and_logout_keep_the_rest_of_the_auth_file() {
    root_or_skip!();
    let env = Env::new();
    let reg = auth_registry();
    let auth_file = env.dir.join("auth.json");
    std::fs::write(&auth_file, "").unwrap();
    let login = ["-u", "tester", "--password-stdin", &reg.host];
    let out = with_auth_file(&env, &auth_file, "cc-login", &login);
    assert_ok(&out, "cc-login over an empty auth file");
    std::fs::write(
        &auth_file,
        r#"{"auths": {"other.example": {"auth": "b3RoZXI6cHc="}}, "credHelpers": {"x.example": "pass"}}"#,
    )
    .unwrap();
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&auth_file).unwrap()).unwrap()
    };
    let out = with_auth_file(&env, &auth_file, "cc-login", &login);
    assert_ok(&out, "cc-login");
    let v = read();
    assert_eq!(v["auths"]["other.example"]["auth"], "b3RoZXI6cHc=", "{v}");
    assert_eq!(v["credHelpers"]["x.example"], "pass", "{v}");
    assert!(v["auths"][&reg.host]["auth"].is_string(), "{v}");
    let out = with_auth_file(&env, &auth_file, "cc-logout", &[&reg.host]);
    assert_ok(&out, "cc-logout");
    let v = read();
    assert!(v["auths"].get(&reg.host).is_none(), "{v}");
    assert_eq!(v["auths"]["other.example"]["auth"], "b3RoZXI6cHc=", "{v}");
    assert_eq!(v["credHelpers"]["x.example"], "pass", "{v}");
}

/// `prog args` with `REGISTRY_AUTH_FILE=auth_file` and the password on
/// stdin (a program that stops before reading it closes it: no unwrap).
fn with_auth_file(
    env: &Env,
    auth_file: &std::path::Path,
    prog: &str,
    args: &[&str],
) -> std::process::Output {
    let mut c = env.cmd(prog);
    c.env("REGISTRY_AUTH_FILE", auth_file).args(args);
    c.stdin(std::process::Stdio::piped());
    c.stdout(std::process::Stdio::piped());
    c.stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"s3cret\n");
    child.wait_with_output().unwrap()
}
