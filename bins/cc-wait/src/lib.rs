use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Wait until each container has exited and print its exit code, one per
/// line (-1 when it is unknown: its monitor was killed).
#[derive(Debug, Parser)]
#[command(name = "cc-wait", version)]
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
        let c = container::resolve(&store, q)?;
        let code = lifecycle::wait(&store, &c.id)?;
        println!("{}", code.unwrap_or(-1));
        Ok(())
    }))
}
