use std::process::ExitCode;

use cc_lib::cli::{each, expand_stdin, StoreOpts};
use cc_lib::error::Error;
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Remove containers: their record, upper folder, mounts and cgroups.
#[derive(Debug, Parser)]
#[command(name = "cc-rm", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Kill running containers first; a missing container is not an error
    #[arg(short, long)]
    pub force: bool,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    Ok(each(&expand_stdin(a.containers), |q| {
        let c = match container::resolve(&store, q) {
            Err(Error::NotFound { .. }) if a.force => return Ok(()),
            r => r?,
        };
        lifecycle::remove(&store, &c, a.force)?;
        println!("{}", c.id);
        Ok(())
    }))
}
