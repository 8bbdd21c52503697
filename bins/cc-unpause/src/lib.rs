use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Resume the processes of containers that cc-pause froze. Prints each as
/// it was named.
#[derive(Debug, Parser)]
#[command(name = "cc-unpause", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    Ok(each(&cc_lib::cli::expand_stdin(a.containers), |q| {
        lifecycle::unpause(&store, &container::resolve(&store, q)?)?;
        println!("{q}");
        Ok(())
    }))
}
