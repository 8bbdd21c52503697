//! Image references, parsed as docker parses them:
//! `[host[:port]/]path[:tag][@sha256:hex]`. The first component is a
//! registry host when it has a `.` or a `:`, or is `localhost`.

use std::fmt;

use crate::error::{Error, Result};
use crate::image::format::valid_digest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port), when the reference names one.
    pub domain: Option<String>,
    /// Repository path: lowercase components separated by `/`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = |why: &str| Error::Usage(format!("invalid reference '{s}': {why}"));
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) if valid_digest(d) => (r, Some(d.to_string())),
            Some(_) => return Err(bad("malformed digest")),
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(rest[i + 1..].to_string())),
            _ => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(bad("malformed tag"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, p)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first.to_string()), p)
            }
            _ => (None, name),
        };
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad(
                "repository names are lowercase letters, digits and separators",
            ));
        }
        if name.len() > 255 {
            return Err(bad("name longer than 255 characters"));
        }
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// The reference with `latest` filled in when it has neither tag nor
    /// digest, as docker does.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// The reference as a registry sees it, as docker normalises it:
    /// `docker.io` when no registry is named, `library/` before a one-part
    /// path on Docker Hub, and `latest` when neither tag nor digest.
    pub fn normalized(mut self) -> Reference {
        let domain = self.domain.take().unwrap_or_else(|| "docker.io".into());
        let domain = if domain == "index.docker.io" {
            "docker.io".into()
        } else {
            domain
        };
        if domain == "docker.io" && !self.path.contains('/') {
            self.path = format!("library/{}", self.path);
        }
        self.domain = Some(domain);
        self.with_default_tag()
    }

    /// `[domain/]path` without tag or digest.
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Whether a stored name is a repo digest (`repo@sha256:…`) rather than
/// a tag (`repo:tag`).
pub fn is_digest_name(name: &str) -> bool {
    name.contains('@')
}

/// A stored name's repository and its tag or digest: `repo:tag` →
/// (repo, tag); `repo@sha256:…` → (repo, sha256:…).
pub fn split_name(name: &str) -> (&str, &str) {
    if let Some(at) = name.split_once('@') {
        return at;
    }
    name.rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .unwrap_or((name, "<none>"))
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let mut b = t.bytes();
    t.len() <= 128
        && b.next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_forms() {
        let r = Reference::parse("busybox").unwrap().with_default_tag();
        assert_eq!(r.to_string(), "busybox:latest");
        let r = Reference::parse("127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(r.domain.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!((r.path.as_str(), r.tag.as_deref()), ("a/b", Some("v1")));
        let d = format!("sha256:{}", "0".repeat(64));
        let r = Reference::parse(&format!("localhost/x@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.clone().with_default_tag().tag, None);
        assert_eq!(
            Reference::parse("my-app_1.x:2.0-rc").unwrap().path,
            "my-app_1.x"
        );
    }

    #[test]
    fn normalizes_for_pulls() {
        let n = |s: &str| Reference::parse(s).unwrap().normalized().to_string();
        assert_eq!(n("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(n("me/app:1"), "docker.io/me/app:1");
        assert_eq!(
            n("index.docker.io/debian"),
            "docker.io/library/debian:latest"
        );
        assert_eq!(n("127.0.0.1:5000/x"), "127.0.0.1:5000/x:latest");
        assert_eq!(n("localhost/x/y:t"), "localhost/x/y:t");
    }

    #[test]
    fn refuses_malformed() {
        for s in [
            "",
            "UPPER",
            "a//b",
            "a:",
            "a:-x",
            "a@sha256:12",
            "-a",
            "a/b/",
            "a:b:c",
        ] {
            assert!(Reference::parse(s).is_err(), "{s}");
            assert_eq!(Reference::parse(s).unwrap_err().code(), 2);
        }
    }
}
