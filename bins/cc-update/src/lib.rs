use std::process::ExitCode;

use cc_lib::cgroup::{pids_update, Resources};
use cc_lib::cli::{each, StoreOpts};
use cc_lib::container::restart::Policy;
use cc_lib::error::Error;
use cc_lib::{container, lifecycle, Result};
use cc_run::Limits;
use clap::{CommandFactory, Parser};

/// Change the limits of containers, running or not: written to a running
/// container's cgroup at once, and kept in its record so that every later
/// cc-start applies them. A limit the host cannot apply is refused and
/// nothing changes. Prints each container as it was named.
#[derive(Debug, Parser)]
#[command(name = "cc-update", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub limits: Limits,
    /// Maximum number of processes at once, 0 or -1 for no limit of cc's
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy: no, on-failure[:N], always, unless-stopped (see
    /// cc-run); a running container's monitor follows it from the next exit
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let res = Resources {
        pids: pids_update(a.pids_limit)?,
        ..a.limits.resources()?
    };
    let policy = a.restart.as_deref().map(Policy::parse).transpose()?;
    if res == Resources::default() && policy.is_none() {
        return Err(Error::Usage("give a limit or --restart to change".into()));
    }
    let new = res.to_spec();
    Ok(each(&cc_lib::cli::expand_stdin(a.containers), |q| {
        let c = container::resolve(&store, q)?;
        lifecycle::update(&store, &c.id, &new, policy)?;
        println!("{q}");
        Ok(())
    }))
}
