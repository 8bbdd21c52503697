use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::{hostmount, Result};
use clap::{CommandFactory, Parser};

/// Mount an image's layers, or a container's root, and print the path.
/// An image mounts read-only unless `--rw`, which gives it a scratch layer
/// that cc-umount throws away. A running container's root is printed as
/// /proc/PID/root.
#[derive(Debug, Parser)]
#[command(name = "cc-mount", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Mount an image writable, on a scratch upper folder
    #[arg(long)]
    pub rw: bool,
    /// A container or an image: name, id or unique id prefix
    pub target: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    println!("{}", hostmount::mount(&store, &a.target, a.rw)?.display());
    Ok(ExitCode::SUCCESS)
}
