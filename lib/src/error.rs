//! The error type every module returns. Each variant carries the object it
//! was about; `Display` gives `what failed: why`, lowercase, no period, and
//! `code()` the exit code of docs/conventions.md (1 failed, 2 usage, 3 not found,
//! 4 wrong state).

use std::fmt;
use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on a path failed: `cannot create '/x': permission denied`.
    #[error("cannot {op} '{}': {}", path.display(), Os(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A system call on something that is not a path (a pid, a socket).
    #[error("cannot {op}: {}", Os(source))]
    Sys { op: String, source: io::Error },
    /// No image, container or file by that name.
    #[error("{kind} '{name}' not found")]
    NotFound { kind: &'static str, name: String },
    /// A prefix that matches more than one object.
    #[error("{kind} '{name}' is ambiguous: {}", candidates.join(", "))]
    Ambiguous {
        kind: &'static str,
        name: String,
        candidates: Vec<String>,
    },
    /// The caller asked for something malformed (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The object is not in a state that allows the operation (exit 4).
    #[error("{0}")]
    State(String),
    /// A registry refused a request, answered outside the distribution
    /// protocol, or could not be reached; `about` is its host or the image
    /// reference: `127.0.0.1:5000: token answer without a token`.
    #[error("{about}: {why}")]
    Registry { about: String, why: String },
    /// Image content from outside cc (a docker or oci archive, a layer
    /// tar, a pulled blob) that is damaged or hostile: it does not parse,
    /// does not match its digest, or reaches outside its root. The message
    /// names the archive, layer or blob.
    #[error("{0}")]
    Damaged(String),
    /// Data in cc's own store that does not read back as cc wrote it (a
    /// stored manifest, an image's layers, a container's state.json): a
    /// crash, a full disk or a hand edit damaged it.
    #[error("{0}")]
    Corrupt(String),
    /// A container's specification that cannot be honoured as written: an
    /// OCI config.json or process.json that does not parse, a malformed
    /// seccomp profile, hook list, cgroup name or device rule, a mount
    /// target of the wrong type. The message names the file or the value.
    #[error("{0}")]
    Spec(String),
    /// The host lacks what the request needs: a kernel feature or limit, a
    /// cgroup controller, systemd, subordinate ids; or cc itself does not
    /// do it (hooks in cc-run). Says what is missing and, where known, how
    /// to get it.
    #[error("{0}")]
    Unsupported(String),
    /// A program cc runs (nft, ps, an OCI hook) failed or printed what cc
    /// cannot read; the message starts with the program.
    #[error("{0}")]
    Program(String),
    /// A bug in cc, not a fault of the input or the host: a thread that
    /// panicked, a value of cc's own that serde cannot write, a step that
    /// should already have happened.
    #[error("{0}")]
    Internal(String),
    /// An error another cc process reported across a pipe (a container's
    /// first process to its parent, a monitor to cc-run; see
    /// `sandbox::Failure`): its words and its exit code, as that process
    /// had them.
    #[error("{message}")]
    Reported { code: u8, message: String },
    /// A `--format` template that does not parse or names a field the
    /// object lacks (exit 1, as docker): Go's message, which names it.
    #[error("{0}")]
    Template(String),
    /// JSON that does not parse, with the file it came from.
    #[error("cannot parse '{}': {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl Error {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub fn sys(op: impl Into<String>, source: io::Error) -> Error {
        Error::Sys {
            op: op.into(),
            source,
        }
    }

    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Error {
        Error::NotFound {
            kind,
            name: name.into(),
        }
    }

    pub fn reported(code: u8, message: impl Into<String>) -> Error {
        Error::Reported {
            code,
            message: message.into(),
        }
    }

    /// A registry's failure, `about` its host or the image reference.
    pub fn registry(about: impl Into<String>, why: impl Into<String>) -> Error {
        Error::Registry {
            about: about.into(),
            why: why.into(),
        }
    }

    /// A bug in cc, with what went wrong: `.map_err(Error::internal)` on a
    /// serde_json::to_vec of cc's own value.
    pub fn internal(why: impl fmt::Display) -> Error {
        Error::Internal(why.to_string())
    }

    /// The exit code of docs/conventions.md.
    pub fn code(&self) -> u8 {
        match self {
            Error::Reported { code, .. } => *code,
            Error::Usage(_) => 2,
            Error::NotFound { .. } => 3,
            Error::State(_) => 4,
            _ => 1,
        }
    }

    /// The errno behind this error, when there is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } | Error::Sys { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// An `io::Error` shown the way people read errno: `no such file or
/// directory`, without Rust's `(os error 2)` suffix.
pub struct Os<'a>(pub &'a io::Error);

impl fmt::Display for Os<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.raw_os_error() {
            Some(n) => {
                let s = nix::errno::Errno::from_raw(n).desc().to_lowercase();
                f.write_str(&s)
            }
            None => {
                let s = self.0.to_string();
                let mut c = s.chars();
                match c.next() {
                    Some(first) => write!(f, "{}{}", first.to_lowercase(), c.as_str()),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Turns a nix errno into an io::Error, for `Error::io` and `Error::sys`.
pub fn errno(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_like_errno() {
        let e = Error::io(
            "mount overlay at",
            "/x",
            io::Error::from_raw_os_error(libc::ENODEV),
        );
        assert_eq!(
            e.to_string(),
            "cannot mount overlay at '/x': no such device"
        );
        assert_eq!(e.code(), 1);
    }

    /// Each kind that replaced `Invalid`: the message as before, exit 1.
    #[test]
    fn kinds_keep_their_message_and_fail_with_1() {
        let cases = [
            (
                Error::registry("127.0.0.1:5000", "token answer without a token"),
                "127.0.0.1:5000: token answer without a token",
            ),
            (
                Error::Damaged("layer entry '../x': path leaves the layer".into()),
                "layer entry '../x': path leaves the layer",
            ),
            (
                Error::Corrupt("stored manifest: no layers".into()),
                "stored manifest: no layers",
            ),
            (
                Error::Spec("invalid cgroup name '../x'".into()),
                "invalid cgroup name '../x'",
            ),
            (
                Error::Unsupported(
                    "cannot limit pids: cgroup controller 'pids' is not available".into(),
                ),
                "cannot limit pids: cgroup controller 'pids' is not available",
            ),
            (
                Error::Program("nft: Error: syntax error".into()),
                "nft: Error: syntax error",
            ),
            (
                Error::reported(1, "cannot execute 'x': no such file"),
                "cannot execute 'x': no such file",
            ),
            (
                Error::Internal("netlink thread panicked".into()),
                "netlink thread panicked",
            ),
        ];
        for (e, shown) in cases {
            assert_eq!(e.to_string(), shown);
            assert_eq!(e.code(), 1, "{e:?}");
        }
    }

    /// `Error::internal` keeps serde's own words, as `e.to_string()` did.
    #[test]
    fn internal_keeps_the_cause() {
        let bad: std::collections::HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let serde = serde_json::to_vec(&bad).unwrap_err();
        let shown = serde.to_string();
        let e = Error::internal(serde);
        assert!(matches!(e, Error::Internal(_)));
        assert_eq!(e.to_string(), shown);
        assert_eq!(e.code(), 1);
    }

    #[test]
    fn codes_follow_design() {
        assert_eq!(Error::not_found("image", "x").code(), 3);
        assert_eq!(Error::Usage("bad".into()).code(), 2);
        assert_eq!(Error::State("running".into()).code(), 4);
    }
}
