//! A small distribution-API client: one per repository, shared by the
//! threads that fetch its blobs.
//!
//! Every 401 is answered from the challenge it carries (never a realm
//! known in advance); a Bearer token is kept while it is valid. Transport
//! errors, 429 and 5xx are retried with backoff. Plain http is used only
//! for loopback registries or with `--tls-verify=false`, and credentials
//! never go over plain http to a host that is not loopback.
//!
//! Credentials and tokens go only to the registry's own origin (scheme,
//! host and port) and, for a token, to the realm its challenge named: an
//! upload `Location` on another host gets none, and redirects never carry
//! them (as docker's client, whose authorizer answers only the hosts it
//! pinged).

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::{Request, Response};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector};
use ureq::{Agent, Body, Timeout};

use crate::error::{Error, Os, Result};
use crate::registry::auth::{self, parse_challenge, Challenge, Creds};
use crate::registry::transport::HearAnswer;
use crate::registry::{debug, Options};

/// Attempts for one request before a transient failure is reported.
pub const ATTEMPTS: u32 = 5;

#[derive(Default)]
enum Auth {
    #[default]
    None,
    Basic(String),
    Bearer {
        token: String,
        until: Instant,
    },
}

pub struct Client {
    agent: Agent,
    /// How long the network may stall (`--timeout`), for the messages.
    pub timeout: Duration,
    /// `https://host:port` or `http://host:port`.
    pub base: String,
    /// The registry as the reference names it (`docker.io`, `host:port`).
    pub host: String,
    pub repo: String,
    creds: Option<Creds>,
    /// `pull` or `pull,push`.
    actions: &'static str,
    auth: Mutex<Auth>,
}

/// 127.0.0.0/8, ::1 and `localhost`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(r) => r.split(']').next().unwrap_or(r),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The API endpoint of a registry name: Docker Hub's differs from its name.
fn endpoint(host: &str) -> &str {
    if host == "docker.io" {
        "registry-1.docker.io"
    } else {
        host
    }
}

/// CA certificates for `host`: the system's, `certs.d` folders, `--cert-dir`.
fn roots(host: &str, cert_dir: Option<&Path>) -> Vec<Certificate<'static>> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    let mut files: Vec<PathBuf> = vec![];
    let mut dirs: Vec<PathBuf> = vec![format!("/etc/containers/certs.d/{host}").into()];
    dirs.extend(cert_dir.map(Path::to_path_buf));
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            files.extend(
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "crt")),
            );
        }
    }
    files.push(format!("/etc/docker/certs.d/{host}/ca.crt").into());
    for f in files {
        let Ok(pem) = std::fs::read(&f) else { continue };
        for item in ureq::tls::parse_pem(&pem).flatten() {
            if let ureq::tls::PemItem::Certificate(c) = item {
                debug(&format!("trusting a CA from {}", f.display()));
                certs.push(c);
            }
        }
    }
    certs
}

fn agent(host: &str, opts: &Options) -> Agent {
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots(
            host,
            opts.cert_dir.as_deref(),
        )))
        .disable_verification(!opts.tls_verify)
        .build();
    // ureq has no timeouts by default. Each step that waits on the network
    // gets `--timeout`: a stalled request is retried, a stalled blob
    // download resumed with a Range request.
    let stall = Some(opts.timeout);
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!("cc/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(stall)
        .timeout_recv_response(stall)
        .timeout_per_read(stall)
        .timeout_per_write(stall)
        // A redirect (a blob on a CDN, say) may lead to any host: it never
        // carries the Authorization header. ureq's default, said here
        // because credentials depend on it.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .build();
    Agent::with_parts(
        config,
        DefaultConnector::new().chain(HearAnswer),
        DefaultResolver::default(),
    )
}

/// cc-build's `ADD URL`: the body of a GET of an http(s) URL (at most
/// 1 GiB) and its Last-Modified time. A 404 is not found (exit 3); any
/// other answer but 200 an error naming the URL and the status.
pub fn get_url(url: &str) -> Result<(Vec<u8>, Option<std::time::SystemTime>)> {
    let host = url
        .split_once("://")
        .and_then(|(_, r)| r.split(['/', '?', '#']).next())
        .unwrap_or_default();
    let opts = super::Options::default();
    let mut resp = agent(host, &opts)
        .get(url)
        .call()
        .map_err(|e| net_error(&format!("fetch {url}"), &e, opts.timeout))?;
    match resp.status().as_u16() {
        200 => {}
        404 => return Err(Error::not_found("URL", url)),
        s => {
            return Err(Error::sys(
                format!("fetch {url}"),
                std::io::Error::other(format!("the server answered {s}")),
            ))
        }
    }
    let modified = resp
        .headers()
        .get("last-modified")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::time::parse_http_date);
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .map_err(|e| net_error(&format!("read {url}"), &e, opts.timeout))?;
    Ok((body, modified))
}

fn transient_status(s: u16) -> bool {
    matches!(s, 408 | 429 | 500 | 502 | 503 | 504)
}

/// A network failure as an error: what was being done, and why in words.
pub fn net_error(what: &str, e: &ureq::Error, timeout: Duration) -> Error {
    Error::sys(
        what.to_string(),
        std::io::Error::other(describe(e, timeout)),
    )
}

/// A network failure in words; a timeout says how long nothing moved.
pub fn describe(e: &ureq::Error, timeout: Duration) -> String {
    let secs = timeout.as_secs();
    match e {
        ureq::Error::Timeout(t) => {
            let what = match t {
                Timeout::Resolve | Timeout::Connect => format!("no connection within {secs} s"),
                Timeout::PerWrite | Timeout::SendRequest | Timeout::SendBody => {
                    format!("the registry took no data for {secs} s")
                }
                _ => format!("the registry sent nothing for {secs} s"),
            };
            format!("{what} (see --timeout)")
        }
        ureq::Error::Io(io) => Os(io).to_string(),
        e => e.to_string(),
    }
}

/// The same for an error that came through a body reader.
pub fn describe_io(e: &std::io::Error, timeout: Duration) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        Some(u) => describe(u, timeout),
        None => Os(e).to_string(),
    }
}

/// A failure of the network, worth another try (not TLS or protocol).
pub fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::BodyStalled
    )
}

pub fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(250u64 << attempt.min(5)));
}

/// Percent-encodes a query value (RFC 3986 unreserved kept).
pub fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A request that can be sent again: its body is bytes or a file range.
pub struct Req {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: ReqBody,
}

pub enum ReqBody {
    None,
    Bytes(Vec<u8>),
    File(PathBuf, u64, u64),
}

impl Req {
    pub fn new(method: &'static str, url: String) -> Req {
        Req {
            method,
            url,
            headers: vec![],
            body: ReqBody::None,
        }
    }
    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Req {
        self.headers.push((k, v.into()));
        self
    }
}

impl Client {
    /// Connects to `host` for `repo`: picks https or plain http, and learns
    /// whether the registry wants authentication (`GET /v2/`).
    pub fn connect(host: &str, repo: &str, opts: &Options, push: bool) -> Result<Client> {
        let loopback = is_loopback(host);
        let agent = agent(host, opts);
        let mut creds = match &opts.creds {
            Some(c) => Some(c.clone()),
            None => auth::lookup(host)?,
        };
        let mut client = Client {
            agent,
            timeout: opts.timeout,
            base: format!("https://{}", endpoint(host)),
            host: host.into(),
            repo: repo.into(),
            creds: None,
            actions: if push { "pull,push" } else { "pull" },
            auth: Mutex::new(Auth::None),
        };
        let insecure_ok = loopback || !opts.tls_verify;
        // Where plain http may follow, https is tried once, not retried.
        let tries = if insecure_ok { 1 } else { ATTEMPTS };
        let ping = client.send_tries(
            &Req::new("GET", format!("{}/v2/", client.base)),
            None,
            tries,
        );
        let ping = match ping {
            Err(https_err) if insecure_ok => {
                debug(&format!(
                    "https to {host} failed ({https_err}), trying plain http"
                ));
                client.base = format!("http://{}", endpoint(host));
                if !loopback && creds.take().is_some() {
                    debug(&format!(
                        "not sending credentials to {host} over plain http"
                    ));
                }
                // A registry that speaks neither is reported by its https
                // failure (an unknown CA, say), the likelier story.
                match client.send_raw(&Req::new("GET", format!("{}/v2/", client.base)), None) {
                    Ok(r) if matches!(r.status().as_u16(), 200 | 401) => r,
                    _ => return Err(https_err),
                }
            }
            r => r?,
        };
        client.creds = creds;
        let status = ping.status().as_u16();
        if status != 200 && status != 401 {
            return Err(Error::registry(
                format!("{host} does not speak the registry API"),
                format!("GET /v2/ answered {status}"),
            ));
        }
        Ok(client)
    }

    fn send_raw(&self, req: &Req, auth: Option<&str>) -> Result<Response<Body>> {
        self.send_tries(req, auth, ATTEMPTS)
    }

    /// Sends up to `tries` times, retrying transient failures (the
    /// network's, 408, 429, 5xx; not TLS or protocol errors) with backoff.
    fn send_tries(&self, req: &Req, auth: Option<&str>, tries: u32) -> Result<Response<Body>> {
        let mut attempt = 0;
        loop {
            let r = self.send_once(req, auth);
            let transient = match &r {
                Ok(resp) => transient_status(resp.status().as_u16()),
                Err(e) => transient(e),
            };
            attempt += 1;
            if !transient || attempt >= tries {
                return r.map_err(|e| {
                    let what = format!("{} {}", req.method, req.url);
                    let what = match attempt {
                        1 => what,
                        n => format!("{what} after {n} tries"),
                    };
                    net_error(&what, &e, self.timeout)
                });
            }
            debug(&format!(
                "{} {}: transient failure, retrying",
                req.method, req.url
            ));
            backoff(attempt);
        }
    }

    fn send_once(
        &self,
        req: &Req,
        auth: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let mk = || {
            let mut b = Request::builder().method(req.method).uri(&req.url);
            for (k, v) in &req.headers {
                b = b.header(*k, v);
            }
            if let Some(a) = auth {
                b = b.header("Authorization", a);
            }
            b
        };
        match &req.body {
            ReqBody::None => self.agent.run(mk().body(()).map_err(ureq::Error::Http)?),
            ReqBody::Bytes(v) => self
                .agent
                .run(mk().body(v.as_slice()).map_err(ureq::Error::Http)?),
            ReqBody::File(path, off, len) => {
                use std::io::Seek;
                let mut f = std::fs::File::open(path)?;
                f.seek(std::io::SeekFrom::Start(*off))?;
                let mut r = f.take(*len);
                let body = ureq::SendBody::from_reader(&mut r);
                let req = mk()
                    .header("Content-Length", len.to_string())
                    .body(body)
                    .map_err(ureq::Error::Http)?;
                self.agent.run(req)
            }
        }
    }

    /// Sends with authentication: the current token or basic credentials;
    /// on a 401, the challenge of that answer is met and the request sent
    /// once more.
    /// A request to another origin (an upload `Location` elsewhere) goes
    /// without credentials, and its 401 is the caller's answer.
    pub fn send(&self, req: &Req) -> Result<Response<Body>> {
        if origin(&req.url) != origin(&self.base) {
            debug(&format!(
                "{} {}: not the registry's host, sending no credentials",
                req.method, req.url
            ));
            return self.send_raw(req, None);
        }
        let current = self.current_auth();
        let resp = self.send_raw(req, current.as_deref())?;
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge);
        let Some(ch) = challenge else {
            return Ok(resp);
        };
        let header = self.authenticate(&ch)?;
        let resp = self.send_raw(req, Some(&header))?;
        if resp.status().as_u16() == 401 {
            return Err(self.unauthorized());
        }
        Ok(resp)
    }

    fn unauthorized(&self) -> Error {
        let how = match &self.creds {
            Some(c) => format!("as '{}'", c.user),
            None => "anonymously".into(),
        };
        Error::registry(
            &self.host,
            format!("access to '{}' denied {how} (401 unauthorized)", self.repo),
        )
    }

    fn current_auth(&self) -> Option<String> {
        match &*self.auth.lock().expect("auth lock") {
            Auth::None => None,
            Auth::Basic(h) => Some(h.clone()),
            Auth::Bearer { token, until } if Instant::now() < *until => {
                Some(format!("Bearer {token}"))
            }
            Auth::Bearer { .. } => None,
        }
    }

    /// Meets a challenge: Basic sends the credentials, Bearer fetches a
    /// token for this repository from the realm.
    fn authenticate(&self, ch: &Challenge) -> Result<String> {
        let new = match ch.scheme.as_str() {
            "basic" => {
                let c = self.creds.as_ref().ok_or_else(|| self.unauthorized())?;
                Auth::Basic(c.basic())
            }
            "bearer" => self.token(ch)?,
            other => {
                return Err(Error::registry(
                    &self.host,
                    format!("unsupported authentication scheme '{other}'"),
                ))
            }
        };
        let mut a = self.auth.lock().expect("auth lock");
        *a = new;
        drop(a);
        Ok(self.current_auth().unwrap_or_default())
    }

    fn token(&self, ch: &Challenge) -> Result<Auth> {
        let realm = ch
            .params
            .get("realm")
            .ok_or_else(|| Error::registry(&self.host, "bearer challenge without a realm"))?;
        if realm.starts_with("http://") && self.creds.is_some() && !is_loopback(host_of(realm)) {
            return Err(Error::registry(
                &self.host,
                format!("the token realm {realm} is plain http; not sending credentials"),
            ));
        }
        let mut url = format!("{realm}{}", if realm.contains('?') { '&' } else { '?' });
        if let Some(s) = ch.params.get("service") {
            url.push_str(&format!("service={}&", query_escape(s)));
        }
        // A login check (no repository) asks for a token without a scope.
        let scope = format!("repository:{}:{}", self.repo, self.actions);
        if !self.repo.is_empty() {
            url.push_str(&format!("scope={}", query_escape(&scope)));
        }
        let basic = self.creds.as_ref().map(|c| c.basic());
        debug(&format!(
            "token from {realm} for {scope}, {}",
            if basic.is_some() {
                "with credentials"
            } else {
                "anonymously"
            }
        ));
        let mut resp = self.send_raw(&Req::new("GET", url), basic.as_deref())?;
        if resp.status().as_u16() != 200 {
            return Err(self.unauthorized());
        }
        let v: serde_json::Value = serde_json::from_slice(&self.read_small(&mut resp, "a token")?)
            .map_err(|e| Error::registry(&self.host, format!("bad token answer: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| Error::registry(&self.host, "token answer without a token"))?;
        let secs = v
            .get("expires_in")
            .and_then(|x| x.as_u64())
            .unwrap_or(60)
            .max(10);
        Ok(Auth::Bearer {
            token: token.into(),
            // Renewed a little early, so a token does not expire in flight.
            until: Instant::now() + Duration::from_secs(secs - secs / 10),
        })
    }

    /// Checks the credentials: `GET /v2/` with authentication.
    pub fn check_login(&self) -> Result<()> {
        let mut resp = self.send(&Req::new("GET", format!("{}/v2/", self.base)))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            401 => Err(self.unauthorized()),
            _ => Err(Error::registry(&self.host, error_text(&mut resp))),
        }
    }

    /// Reads a small body (a manifest, a token) whole, up to 8 MiB.
    pub fn read_small(&self, resp: &mut Response<Body>, what: &str) -> Result<Vec<u8>> {
        read_limited(resp).map_err(|e| net_error(&format!("read {what}"), &e, self.timeout))
    }

    /// `base/v2/<repo>/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repo)
    }

    /// An absolute URL from a `Location` header.
    pub fn absolute(&self, loc: &str) -> String {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            loc.into()
        } else {
            format!("{}{loc}", self.base)
        }
    }
}

/// `scheme://host:port` of a URL, lowercase, the port made explicit, so
/// `https://R` and `https://r:443/x` are one origin.
fn origin(url: &str) -> String {
    let (scheme, _) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    let host = host_of(url).to_ascii_lowercase();
    // The authority may carry `user@`; what counts is after it.
    let host = host.rsplit_once('@').map_or(host.as_str(), |(_, h)| h);
    let has_port = match host.rfind(']') {
        Some(i) => host[i..].contains(':'),
        None => host.contains(':'),
    };
    match (has_port, scheme.as_str()) {
        (false, "https") => format!("{scheme}://{host}:443"),
        (false, "http") => format!("{scheme}://{host}:80"),
        _ => format!("{scheme}://{host}"),
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// Reads a small body (a manifest, a token, an error) whole, up to 8 MiB.
pub fn read_limited(resp: &mut Response<Body>) -> std::result::Result<Vec<u8>, ureq::Error> {
    resp.body_mut().with_config().limit(8 << 20).read_to_vec()
}

/// The registry's own words from an error answer, when it gave some.
pub fn error_text(resp: &mut Response<Body>) -> String {
    let body = read_limited(resp).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let msgs: Vec<String> = v
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if msgs.is_empty() {
        format!("{}", resp.status())
    } else {
        format!("{} ({})", msgs.join("; "), resp.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost:80",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "10.0.0.1:5000",
            "example.com",
            "[::2]:1",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn origins() {
        let same = [
            ("https://R.example:443/v2/", "https://r.example"),
            (
                "http://127.0.0.1:5000/v2/a/blobs/uploads/x?y",
                "http://127.0.0.1:5000",
            ),
            ("https://[::1]/v2/", "https://[::1]:443"),
        ];
        for (a, b) in same {
            assert_eq!(origin(a), origin(b), "{a} {b}");
        }
        let other = [
            ("https://r.example/v2/", "http://r.example/v2/"),
            ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/v2/"),
            ("http://127.0.0.1:5000/v2/", "http://127.0.0.2:5000/v2/"),
            ("https://r.example/v2/", "https://r.example.evil/v2/"),
            ("https://r.example/v2/", "https://r.example@evil/v2/"),
        ];
        for (a, b) in other {
            assert_ne!(origin(a), origin(b), "{a} {b}");
        }
    }
}
