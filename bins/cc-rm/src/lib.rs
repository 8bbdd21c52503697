use std::process::ExitCode;

use cc_lib::cli::{each, expand_stdin, StoreOpts};
use cc_lib::error::Error;
use cc_lib::{container, lifecycle, volume, Result};
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
    /// Remove the container's anonymous volumes too (`-v /path`, the
    /// image's VOLUMEs) unless another container uses them; named volumes
    /// stay
    #[arg(short, long)]
    pub volumes: bool,
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
        // Missing, or removed meanwhile by another cc-rm (which reports it).
        let removed = container::resolve(&store, q)
            .and_then(|c| {
                lifecycle::remove(&store, &c, a.force)?;
                match a.volumes {
                    true => volume::remove_anonymous(&store, &c),
                    false => Ok(()),
                }
            })
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::not_found("container", q),
                e => e,
            });
        match removed {
            Err(Error::NotFound { .. }) if a.force => Ok(()),
            Err(e) => Err(e),
            Ok(()) => {
                println!("{q}");
                Ok(())
            }
        }
    }))
}
