//! Registries: the OCI distribution API (v2), for cc-pull, cc-push and
//! cc-login.
//!
//! - `auth`: credentials (flags, auth files, credential helpers) and the
//!   `WWW-Authenticate` challenge.
//! - `client`: one repository's connection: scheme, TLS roots,
//!   authentication, retries.
//! - `manifest`: fetching a manifest and picking a platform from an index.
//! - `transport`: the connection under the client, which hears a
//!   registry's answer to an upload it stopped reading.
//! - `blob`: a blob as a resumable, size-checked stream.
//! - `pull` and `push`: the two directions.

pub mod auth;
pub mod blob;
pub mod client;
pub mod manifest;
pub mod pull;
pub mod push;
mod transport;

use std::path::PathBuf;
use std::time::Duration;

use crate::image::format::Platform;

pub use auth::Creds;
pub use client::Client;

/// What the programs' flags say about the connection.
#[derive(Debug, Clone)]
pub struct Options {
    /// Off: certificates are not checked, and plain http is tried when
    /// https fails.
    pub tls_verify: bool,
    /// More CA certificates (`*.crt`).
    pub cert_dir: Option<PathBuf>,
    /// Credentials from the command line, before any auth file.
    pub creds: Option<Creds>,
    /// The platform to pull from an index; the host's when none.
    pub platform: Option<Platform>,
    /// Progress lines on stderr.
    pub progress: bool,
    /// How long a connection may stall (connect, wait for an answer, one
    /// read or write) before it is given up and tried again.
    pub timeout: Duration,
    /// What cc-push does to layers.
    pub compression: push::PushCompression,
}

/// `--timeout`'s default, in seconds.
pub const TIMEOUT: u64 = 60;

impl Default for Options {
    fn default() -> Self {
        Options {
            tls_verify: true,
            cert_dir: None,
            creds: None,
            platform: None,
            progress: false,
            timeout: Duration::from_secs(TIMEOUT),
            compression: Default::default(),
        }
    }
}

/// A line on stderr when `CC_LOG=debug`.
pub fn debug(msg: &str) {
    if std::env::var("CC_LOG").is_ok_and(|v| v == "debug") {
        eprintln!("{}: debug: {msg}", crate::cli::program());
    }
}

/// `OS/ARCH[/VARIANT]`, as `--platform` takes it.
pub fn parse_platform(s: &str) -> crate::Result<Platform> {
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: parts
                .get(2)
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string()),
        }),
        _ => Err(crate::error::Error::Usage(format!(
            "invalid platform '{s}': OS/ARCH[/VARIANT] expected"
        ))),
    }
}

/// The connection flags cc-pull and cc-push share.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectOpts {
    /// Check the registry's TLS certificate. With false, certificates are
    /// not checked and plain http is tried when https fails (loopback
    /// registries, 127.0.0.0/8, ::1 and localhost, get plain http anyway).
    /// Credentials are never sent over plain http to any other host
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub tls_verify: bool,
    /// More CA certificates (*.crt) for the registry, beside the system's,
    /// /etc/containers/certs.d/HOST:PORT/*.crt and
    /// /etc/docker/certs.d/HOST:PORT/ca.crt
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Give up on a connection to the registry that moves no data for this
    /// long (connecting, waiting for an answer, any read or write); the
    /// request is then tried again, a download resuming where it stopped,
    /// up to 5 tries in all
    #[arg(
        long,
        env = "CC_REGISTRY_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = TIMEOUT,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub timeout: u64,
}

impl ConnectOpts {
    pub fn options(&self) -> crate::Result<Options> {
        Ok(Options {
            tls_verify: self.tls_verify,
            cert_dir: self.cert_dir.clone(),
            creds: None,
            platform: None,
            progress: false,
            timeout: Duration::from_secs(self.timeout),
            compression: Default::default(),
        })
    }
}

/// The credential flags of cc-pull and cc-push (cc-login has its own).
#[derive(Debug, Clone, clap::Args)]
pub struct CredsOpts {
    /// Credentials, instead of the auth file's (see cc-login) or
    /// ~/.docker/config.json's. With USER alone the password is read from
    /// stdin (--password-stdin) or asked on the terminal; USER:PASS on the
    /// command line is visible to every user of the host (ps, /proc)
    #[arg(long, value_name = "USER[:PASS]")]
    pub creds: Option<String>,
    /// Read the password of --creds USER from stdin (one line)
    #[arg(long, requires = "creds")]
    pub password_stdin: bool,
}

impl CredsOpts {
    /// The credentials the flags give, the password read when only the
    /// user was named.
    pub fn creds(&self) -> crate::Result<Option<Creds>> {
        let Some(arg) = self.creds.as_deref() else {
            return Ok(None);
        };
        let usage = |m: &str| Err(crate::error::Error::Usage(m.into()));
        match arg.split_once(':') {
            Some(_) if self.password_stdin => {
                usage("--password-stdin reads the password of --creds USER, not USER:PASS")
            }
            Some(_) => Creds::parse(arg).map(Some),
            None if arg.is_empty() => usage("--creds takes USER or USER:PASS"),
            None => {
                let pass = match self.password_stdin {
                    true => auth::read_stdin_line()?,
                    false => auth::ask_password(arg)?,
                };
                Ok(Some(Creds {
                    user: arg.into(),
                    pass,
                }))
            }
        }
    }
}
