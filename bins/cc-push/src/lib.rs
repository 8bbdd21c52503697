use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::registry::{self, ConnectOpts};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Push an image to a registry (the OCI distribution API).
///
/// The manifest is sent byte for byte as the store holds it, so the pushed
/// digest is the image's own. Blobs the registry has already (asked with
/// HEAD) are skipped; a blob that one of the image's other names on the
/// same registry holds is mounted from there instead of uploaded; blobs up
/// to 16 MiB go in one request, larger ones in 16 MiB chunks. Credentials
/// as for cc-pull. Prints the pushed manifest's digest.
#[derive(Debug, Parser)]
#[command(name = "cc-push", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// No progress on stderr
    #[arg(short, long)]
    pub quiet: bool,
    /// The image: a name, id or unique id prefix
    pub image: String,
    /// Where to push it, [HOST[:PORT]/]PATH[:TAG]; IMAGE itself when not
    /// given
    pub dest: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut opts = a.connect.options()?;
    opts.progress = !a.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    if let Some(d) = &a.dest {
        cc_lib::image::reference::Reference::parse(d)?;
    }
    let store = a.store.open()?;
    let digest = registry::push::push(&store, &a.image, a.dest.as_deref(), &opts)?;
    println!("{digest}");
    Ok(ExitCode::SUCCESS)
}
