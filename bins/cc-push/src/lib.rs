use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::registry::push::PushCompression;
use cc_lib::registry::{self, ConnectOpts, CredsOpts};
use cc_lib::Result;
use clap::{CommandFactory, Parser, ValueEnum};

/// Push an image to a registry (the OCI distribution API).
///
/// Layers go compressed, as docker and podman push them: a layer the store
/// holds as a plain tar (what cc-import and cc-load store) is sent
/// gzip-compressed, and one stored compressed is sent as it is. The
/// compressed copy is made once, on every core (gzip level 5, one gzip
/// member per MiB of tar: the same tar always gives the same bytes), and
/// uploaded while it is made; it is kept in the store beside the image
/// (recorded in compressed.json at the store's root, and removed with the
/// last image that has the layer), so the next push of the layer neither
/// compresses it again nor, when the registry has it, uploads it. The
/// manifest pushed is then the stored one with those
/// layers' descriptors, and its digest differs from the image's; when no
/// layer changes, the manifest is sent byte for byte as stored and the
/// pushed digest is the image's own (--compression-format none always
/// does that).
///
/// Blobs the registry has already (asked with HEAD) are skipped; a blob
/// that one of the image's other names on the same registry holds is
/// mounted from there instead of uploaded; blobs up to 16 MiB go in one
/// request, larger ones in 16 MiB chunks. A layer being compressed has no
/// digest to ask about until it is done: it goes up in a chunk each time
/// the compressor has written 16 MiB more, and the rest with the request
/// that names its digest, after its diff id has been checked. An upload the registry refuses
/// is reported with its own message and status. Credentials as for
/// cc-pull. Prints the pushed manifest's digest.
#[derive(Debug, Parser)]
#[command(name = "cc-push", version)]
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
    /// The layers' format: gzip or zstd sends every layer so, recompressing
    /// one stored in the other (as podman's --force-compression, which
    /// podman sets when this flag is given); none sends every blob and the
    /// manifest exactly as stored. Without it, plain layers go gzip and
    /// compressed ones as they are. A Docker schema 2 image with zstd layers
    /// is pushed as an OCI one
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub compression_format: Option<Format>,
    /// The image: a name, id or unique id prefix
    pub image: String,
    /// Where to push it, [HOST[:PORT]/]PATH[:TAG]; IMAGE itself when not
    /// given
    pub dest: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Gzip,
    Zstd,
    None,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut opts = a.connect.options()?;
    opts.progress = !a.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    opts.compression = match a.compression_format {
        None => PushCompression::Default,
        Some(Format::Gzip) => PushCompression::Gzip,
        Some(Format::Zstd) => PushCompression::Zstd,
        Some(Format::None) => PushCompression::AsStored,
    };
    if let Some(d) = &a.dest {
        cc_lib::image::reference::Reference::parse(d)?;
    }
    opts.creds = a.creds.creds()?;
    let store = a.store.open()?;
    let digest = registry::push::push(&store, &a.image, a.dest.as_deref(), &opts)?;
    let shown = a.dest.as_deref().unwrap_or(&a.image);
    cc_lib::events::record(&store, "image", "push", shown, &[("name", shown)]);
    println!("{digest}");
    Ok(ExitCode::SUCCESS)
}
