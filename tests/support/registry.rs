//! A real registry for the pull and push tests: Debian's docker-registry
//! on 127.0.0.1, with TLS, basic or token auth when asked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::output::assert_ok;
use crate::wait::wait_for;

/// A real registry (Debian's docker-registry) on 127.0.0.1 and a free
/// port, its storage in a temporary folder; stopped by pid on drop.
pub struct Registry {
    child: std::process::Child,
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub dir: tempfile::TempDir,
    /// The CA certificate when it serves TLS.
    pub ca: Option<PathBuf>,
}

/// The TLS and basic-auth set-up of a registry.
#[derive(Default)]
pub struct RegistryConf {
    /// Serve https with a certificate for 127.0.0.1 signed by a CA made
    /// here.
    pub tls: bool,
    /// htpasswd basic auth with this user and password.
    pub user: Option<(String, String)>,
    /// `auth: token`: (realm URL, the certificate that signs tokens).
    pub token: Option<(String, PathBuf)>,
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(RegistryConf::default())
    }

    pub fn start_with(conf: RegistryConf) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("cc-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let port = registry_port();
        let mut yml = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            d.join("data").display()
        );
        let mut ca = None;
        if conf.tls {
            make_certs(d);
            yml.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.crt").display(),
                d.join("server.key").display()
            ));
            ca = Some(d.join("ca.crt"));
        }
        if let Some((u, p)) = &conf.user {
            let out = Command::new("htpasswd")
                .args(["-Bbc", d.join("htpasswd").to_str().unwrap(), u, p])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert_ok(&out, "htpasswd");
            yml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: cc-test\n    path: {}\n",
                d.join("htpasswd").display()
            ));
        }
        if let Some((realm, cert)) = &conf.token {
            yml.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: cc-test\n    issuer: cc-test-issuer\n    rootcertbundle: {}\n",
                cert.display()
            ));
        }
        let cfg = d.join("config.yml");
        fs::write(&cfg, yml).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(d.join("log")).unwrap())
            .spawn()
            .expect("docker-registry (Debian's docker-registry package)");
        let host = format!("127.0.0.1:{port}");
        let reg = Registry {
            child,
            port,
            host,
            dir,
            ca,
        };
        wait_for(Duration::from_secs(20), "the registry to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        reg
    }

    /// `127.0.0.1:PORT/<path>`.
    pub fn at(&self, path: &str) -> String {
        format!("{}/{path}", self.host)
    }

    /// skopeo copies `src` (a transport:path) to `<host>/<dest>`, with
    /// extra flags (`-f oci`, `--dest-compress-format zstd`).
    pub fn skopeo_put(&self, src: &str, dest: &str, extra: &[&str]) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "-q", "--dest-tls-verify=false"]);
        c.args(extra);
        c.arg(src).arg(format!("docker://{}", self.at(dest)));
        let out = c.output().expect("skopeo");
        assert_ok(&out, &format!("skopeo copy {src} {dest}"));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 (and localhost) in `d`.
fn make_certs(d: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(d)
            .args(args)
            .output()
            .expect("openssl");
        assert_ok(&out, &format!("openssl {args:?}"));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=cc test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    fs::write(d.join("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext",
        "-out",
        "server.crt",
    ]);
}

/// A free port no other registry of this test process was given: the
/// ports the kernel hands out for bind(0) are free only until someone
/// binds them, and tests start registries in parallel.
fn registry_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}
