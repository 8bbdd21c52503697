use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::commit::{self, Options};
use cc_lib::layer::Compression;
use cc_lib::{container, Result};
use clap::{CommandFactory, Parser, ValueEnum};

/// Make a new image from a container's changes: its overlay upper dir
/// becomes one more layer on top of its image's layers (OCI whiteouts for
/// deletions, `.wh..wh..opq` for a folder made anew, hardlinks, xattrs,
/// file capabilities, devices and fifos kept; the same changes give the
/// same layer). The config is the image's, with a history entry and the
/// `-c` changes. A running container is frozen while its files are read.
/// Prints the new image id.
#[derive(Debug, Parser)]
#[command(name = "cc-commit", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The history entry's comment
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// The author, as in `Name <mail>`
    #[arg(short, long)]
    pub author: Option<String>,
    /// A Dockerfile instruction for the config: CMD, ENTRYPOINT, ENV,
    /// WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME, HEALTHCHECK (repeatable)
    #[arg(short, long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,
    /// Freeze a running container while its files are read (`--pause=false`
    /// to let it run on)
    #[arg(short, long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub pause: bool,
    /// The layer's compression; gzip and zstd use every core
    #[arg(long, value_enum, default_value_t = Compress::Gzip)]
    pub compress: Compress,
    /// The container: name, id or unique id prefix
    pub container: String,
    /// The new image's name, NAME[:TAG]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compress {
    Gzip,
    Zstd,
    None,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let o = Options {
        message: a.message,
        author: a.author,
        changes: a.changes,
        pause: a.pause,
        compression: match a.compress {
            Compress::Gzip => Compression::Gzip,
            Compress::Zstd => Compression::Zstd,
            Compress::None => Compression::None,
        },
        name: a.name,
        created_by: None,
        timestamp: None,
    };
    let id = commit::commit(&store, &c, &o)?;
    let name = o.name.as_deref().unwrap_or("");
    cc_lib::events::record(
        &store,
        "container",
        "commit",
        &c.id,
        &[("name", c.name()), ("imageID", &id), ("imageRef", name)],
    );
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}
