use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::registry::{self, ConnectOpts, CredsOpts};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Pull an image from a registry (the OCI distribution API): OCI and
/// Docker schema 2 manifests, indexes and manifest lists (the host's
/// platform, or --platform), layers plain, gzip or zstd.
///
/// REF is parsed as docker parses it and normalised the same way:
/// `busybox` is `docker.io/library/busybox:latest`; the image is named by
/// that normalised reference (an image pulled by digest alone gets no
/// name). Layers download a few at a time and are unpacked while they
/// download; every blob is checked against its digest and size as it
/// streams, every layer against the config's diff id, and blobs already in
/// the store are not fetched again. The image is named only once all of it
/// is in place: a failed or killed pull leaves no image, and the next one
/// resumes interrupted downloads (kept under the store's tmp/) with HTTP
/// Range requests. Transient failures (the network's, 408, 429, 5xx) are
/// retried with backoff, five tries in all; a connection that moves no
/// data for --timeout seconds (60 by default, or `CC_REGISTRY_TIMEOUT`) is
/// given up and tried again, a download resuming where it stopped.
///
/// Credentials: --creds (USER:PASS, or USER with the password from
/// --password-stdin or the terminal: a password on the command line is
/// visible to every user in ps), else the auth file cc-login writes, else
/// ~/.docker/config.json (credHelpers, credsStore, auths); `CC_LOG=debug`
/// says which one answered.
///
/// Prints the image id on stdout and nothing else; progress goes to
/// stderr when it is a terminal. Exit codes: 2 for a malformed reference
/// or flag, 3 when the registry has no such repository, tag or platform,
/// 1 for any other failure (network, authentication, a blob that does not
/// match its digest).
#[derive(Debug, Parser)]
#[command(name = "cc-pull", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub connect: ConnectOpts,
    #[command(flatten)]
    pub creds: CredsOpts,
    /// No progress on stderr
    #[arg(short, long)]
    pub quiet: bool,
    /// The platform to pull from an index, OS/ARCH[/VARIANT] (linux/arm64/v8)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// The image: [HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST]
    #[arg(value_name = "REF")]
    pub reference: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut opts = a.connect.options()?;
    opts.platform = a
        .platform
        .as_deref()
        .map(registry::parse_platform)
        .transpose()?;
    opts.progress = !a.quiet;
    cc_lib::image::reference::Reference::parse(&a.reference)?;
    opts.creds = a.creds.creds()?;
    let store = a.store.open()?;
    let id = registry::pull::pull(&store, &a.reference, &opts)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}
