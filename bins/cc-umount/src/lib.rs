use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{hostmount, Result};
use clap::{CommandFactory, Parser};

/// Unmount what cc-mount mounted: the path it printed, or a container's
/// name or id. An image's scratch layer is removed.
#[derive(Debug, Parser)]
#[command(name = "cc-umount", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Paths printed by cc-mount, or containers
    #[arg(required = true)]
    pub targets: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    Ok(each(&a.targets, |t| {
        hostmount::unmount(&store, t).map(|_| ())
    }))
}
