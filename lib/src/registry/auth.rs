//! Registry credentials and the auth challenge.
//!
//! Credentials come from, in this order: `--creds`; cc's auth file (the
//! one podman uses: `$REGISTRY_AUTH_FILE`, else
//! `$XDG_RUNTIME_DIR/containers/auth.json`, else
//! `/run/containers/<uid>/auth.json`), written by `cc-login` with mode
//! 0600; `~/.docker/config.json` (`credHelpers`, `credsStore` through
//! `docker-credential-<helper> get`, then `auths`). `CC_LOG=debug` says
//! which source answered.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::registry::debug;

#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    pub user: String,
    pub pass: String,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Creds({}, ***)", self.user)
    }
}

impl Creds {
    /// `USER:PASS`, as `--creds` takes it.
    pub fn parse(s: &str) -> Result<Creds> {
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok(Creds {
                user: u.into(),
                pass: p.into(),
            }),
            _ => Err(Error::Usage("--creds takes USER:PASS".into())),
        }
    }

    /// The value of an `Authorization: Basic` header.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64(format!("{}:{}", self.user, self.pass).as_bytes())
        )
    }
}

/// A parsed `WWW-Authenticate` challenge (RFC 7235): the scheme,
/// lowercased, and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses `Scheme k="v", k2=v2`. Quoted values may hold commas and
/// backslash escapes.
pub fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, mut rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let mut val = String::new();
        if let Some(r) = rest.strip_prefix('"') {
            let mut chars = r.char_indices();
            let mut end = r.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => val.push(c),
                }
            }
            rest = &r[end..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            val = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        params.insert(key, val);
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim().trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for c in s.chunks(4) {
        let mut n = 0u32;
        for (i, b) in c.iter().enumerate() {
            n |= val(*b)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..c.len().saturating_sub(1)]);
    }
    Some(out)
}

/// cc's auth file, as podman names it. `REGISTRY_AUTH_FILE` set but
/// empty is a mistake, not "no file": a usage error.
pub fn auth_file() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        if p.is_empty() {
            return Err(Error::Usage(
                "REGISTRY_AUTH_FILE is set but empty: name a file or unset it".into(),
            ));
        }
        return Ok(p.into());
    }
    Ok(match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => Path::new(&d).join("containers/auth.json"),
        // An ordinary user cannot write /run: its own runtime folder.
        _ if crate::rootless::active() => {
            crate::rootless::runtime_dir()?.join("containers/auth.json")
        }
        _ => format!("/run/containers/{}/auth.json", nix::unistd::getuid()).into(),
    })
}

fn docker_config() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        return Some(Path::new(&d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker/config.json"))
}

fn read_json(path: &Path) -> Option<Value> {
    let data = std::fs::read(path).ok()?;
    serde_json::from_slice(&data).ok()
}

/// `auths[host]` of a config file: `auth` is base64 `user:pass`.
fn from_auths(cfg: &Value, host: &str) -> Option<Creds> {
    let auths = cfg.get("auths")?.as_object()?;
    let keys = [
        host.to_string(),
        format!("https://{host}"),
        format!("http://{host}"),
    ];
    let mut entry = keys.iter().find_map(|k| auths.get(k));
    if host == "docker.io" {
        entry = entry
            .or_else(|| auths.get("https://index.docker.io/v1/"))
            .or_else(|| auths.get("index.docker.io"));
    }
    let raw = unbase64(entry?.get("auth")?.as_str()?)?;
    Creds::parse(std::str::from_utf8(&raw).ok()?).ok()
}

/// Asks `docker-credential-<helper> get` for `host`.
fn from_helper(helper: &str, host: &str) -> Option<Creds> {
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(host.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Creds {
        user: v.get("Username")?.as_str()?.into(),
        pass: v.get("Secret")?.as_str()?.into(),
    })
}

/// The stored credentials for a registry host, if any.
pub fn lookup(host: &str) -> Result<Option<Creds>> {
    let own = auth_file()?;
    let file = read_auth_file(&own)?.map(Value::Object);
    if let Some(c) = file.and_then(|v| from_auths(&v, host)) {
        debug(&format!("credentials for {host} from {}", own.display()));
        return Ok(Some(c));
    }
    Ok(docker_lookup(host))
}

/// cc's auth file, checked as `save` will read it: cc-login says that it
/// cannot store the credentials before it asks for a password.
pub fn writable_auth_file() -> Result<PathBuf> {
    let path = auth_file()?;
    read_auth_file(&path)?;
    Ok(path)
}

/// cc's auth file, `None` when there is none (or it is empty: nothing to
/// lose). A file that cannot be read, does not parse or is not
/// `{"auths": {...}}` is an error: it may hold other registries'
/// credentials, which a rewrite would drop.
fn read_auth_file(path: &Path) -> Result<Option<Map<String, Value>>> {
    let Some(data) = crate::store::read_optional(path)? else {
        return Ok(None);
    };
    if data.trim_ascii().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(&data).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    match v {
        Value::Object(m) if m.get("auths").is_none_or(Value::is_object) => Ok(Some(m)),
        _ => Err(Error::Corrupt(format!(
            "'{}' is not an auth file: it must be a JSON object whose \"auths\" is an object",
            path.display()
        ))),
    }
}

/// Credentials from `~/.docker/config.json`: a helper, then `auths`.
fn docker_lookup(host: &str) -> Option<Creds> {
    let path = docker_config()?;
    let cfg = read_json(&path)?;
    let helper = cfg
        .get("credHelpers")
        .and_then(|h| h.get(host))
        .or_else(|| cfg.get("credsStore"))
        .and_then(|h| h.as_str());
    if let Some(h) = helper {
        if let Some(c) = from_helper(h, host) {
            debug(&format!(
                "credentials for {host} from docker-credential-{h}"
            ));
            return Some(c);
        }
    }
    let c = from_auths(&cfg, host)?;
    debug(&format!("credentials for {host} from {}", path.display()));
    Some(c)
}

/// Stores credentials for `host` in cc's auth file, mode 0600, atomically
/// (or removes them: `creds` None); returns whether there were some. A
/// file that is not an auth file is refused and left as it is.
pub fn save(host: &str, creds: Option<&Creds>) -> Result<bool> {
    let path = auth_file()?;
    let mut file = read_auth_file(&path)?.unwrap_or_default();
    let mut auths = match file.remove("auths") {
        Some(Value::Object(a)) => a,
        _ => Map::new(),
    };
    let had = auths.remove(host).is_some();
    if let Some(c) = creds {
        let auth = base64(format!("{}:{}", c.user, c.pass).as_bytes());
        auths.insert(host.into(), json!({ "auth": auth }));
    }
    file.insert("auths".into(), Value::Object(auths));
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let data = serde_json::to_vec_pretty(&file).map_err(Error::internal)?;
    crate::store::write_atomic_mode(&path, &data, crate::store::PRIVATE)?;
    Ok(had)
}

/// One line of stdin, without its line end (`--password-stdin`).
pub fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::sys("read stdin", e))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The password of `user`, asked on the terminal; without one, a usage
/// error that names the way out.
pub fn ask_password(user: &str) -> Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "no terminal to ask the password of '{user}' on: use --password-stdin"
        )));
    }
    prompt_password(&format!("Password for {user}: "))
}

/// Reads a password from the terminal with echo off.
pub fn prompt_password(prompt: &str) -> Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    eprint!("{prompt}");
    let old = tcgetattr(&stdin)
        .map_err(|e| Error::sys("read terminal settings", crate::error::errno(e)))?;
    let mut quiet = old.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)
        .map_err(|e| Error::sys("set terminal settings", crate::error::errno(e)))?;
    let mut line = String::new();
    let r = stdin.read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &old);
    eprintln!();
    r.map_err(|e| Error::sys("read the password", e))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The key a registry is stored under: its host, `docker.io` for Docker
/// Hub however it is spelt.
pub fn registry_key(s: &str) -> String {
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let s = s.split('/').next().unwrap_or(s);
    match s {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        s => s.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(
            (c.scheme.as_str(), c.params["realm"].as_str()),
            ("basic", "Registry Realm")
        );
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "user:pa:ss", "testuser:testpassword"] {
            assert_eq!(unbase64(&base64(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }
}
