use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::{run, Result};
use cc_run::{fetch, options, ContainerArgs};
use clap::{CommandFactory, Parser};

/// Create a container from an image without starting it, and print its
/// id. It takes cc-run's options (not -d and --detach-keys, which are
/// about the start); cc-ps shows it `Created`, and `cc-start` starts it
/// (`cc-start -a` attached, `-ai` with stdin when created with -i).
/// Published ports are bound at the start; with --rm the record goes when
/// the started command exits.
#[derive(Debug, Parser)]
#[command(name = "cc-create", version, disable_help_flag = true)]
pub struct Args {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub container: ContainerArgs,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let pull = a.container.pull;
    let platform = a.container.platform.clone();
    let o = options(a.container, true, None)?;
    if let Some(name) = &o.image {
        fetch(&store, name, pull, platform.as_deref())?;
    }
    let c = run::create(&store, &o).map_err(|f| f.error)?;
    println!("{}", c.id);
    Ok(ExitCode::SUCCESS)
}
