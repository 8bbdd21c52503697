use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::{image, Result};
use clap::{CommandFactory, Parser};

/// Give an image another name; the name moves from any image that had it.
#[derive(Debug, Parser)]
#[command(name = "cc-tag", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The image: a name, an id or a unique id prefix
    pub source: String,
    /// The new name, NAME[:TAG]
    pub target: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let img = image::resolve(&store, &a.source)?;
    image::add(&store, &img.descriptor, Some(&a.target))?;
    let name = image::normalize_name(&a.target)?;
    cc_lib::events::record(&store, "image", "tag", &img.id, &[("name", &name)]);
    Ok(ExitCode::SUCCESS)
}
