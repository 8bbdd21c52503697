use std::process::ExitCode;

use cc_lib::cgroup::{cpus_to_quota, parse_memory_swap, parse_size, pids_update, Resources};
use cc_lib::cli::{each, StoreOpts};
use cc_lib::container::restart::Policy;
use cc_lib::error::Error;
use cc_lib::{container, lifecycle, Result};
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
    /// Memory limit (b, k, m, g)
    #[arg(short, long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Memory plus swap limit (-1 for unlimited swap)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "N")]
    pub cpu_shares: Option<u64>,
    /// Number of CPUs (CFS quota), e.g. 0.5
    #[arg(long, value_name = "FLOAT")]
    pub cpus: Option<f64>,
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
    let (cpu_quota, cpu_period) = a.cpus.map(cpus_to_quota).transpose()?.unzip();
    let res = Resources {
        memory: a.memory.as_deref().map(parse_size).transpose()?,
        memory_swap: a
            .memory_swap
            .as_deref()
            .map(parse_memory_swap)
            .transpose()?,
        cpu_shares: a.cpu_shares,
        cpu_quota,
        cpu_period,
        pids: pids_update(a.pids_limit)?,
        ..Default::default()
    };
    let policy = a.restart.as_deref().map(Policy::parse).transpose()?;
    if res == Resources::default() && policy.is_none() {
        return Err(Error::Usage("give at least one limit to change".into()));
    }
    let new = res.to_spec();
    Ok(each(&cc_lib::cli::expand_stdin(a.containers), |q| {
        let c = container::resolve(&store, q)?;
        lifecycle::update(&store, &c.id, &new, policy)?;
        println!("{q}");
        Ok(())
    }))
}
