use std::io::{BufWriter, Write};
use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::error::Error;
use cc_lib::{container, hostmount, layer, Result};
use clap::{CommandFactory, Parser};

/// Write a container's whole filesystem (its image's layers and its own
/// changes) as a tar to stdout. Files are only read: nothing from the
/// container runs on the host. `cc-import` of the tar gives an image with
/// the same files.
#[derive(Debug, Parser)]
#[command(name = "cc-export", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// The container: name, id or unique id prefix
    pub container: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| Error::io("create", p, e))?),
        None => Box::new(std::io::stdout().lock()),
    };
    hostmount::with_root(&store, &c, |root| {
        layer::write_dir(root, BufWriter::with_capacity(1 << 20, out))
    })?;
    Ok(ExitCode::SUCCESS)
}
