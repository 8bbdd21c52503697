use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::{container, Result};
use clap::{CommandFactory, Parser};

/// Rename a container, running or not. The new name follows docker's rules
/// ([a-zA-Z0-9][a-zA-Z0-9_.-]*); a name another container has is refused
/// (exit 4), also when a cc-run --name takes it at the same moment.
#[derive(Debug, Parser)]
#[command(name = "cc-rename", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The container: name, id or unique id prefix
    pub container: String,
    /// Its new name
    pub new_name: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    container::rename(&store, &c.id, &a.new_name)?;
    Ok(ExitCode::SUCCESS)
}
