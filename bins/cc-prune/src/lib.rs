use std::io::Write;
use std::process::ExitCode;

use cc_lib::cli::{human_size, StoreOpts};
use cc_lib::filter::Filters;
use cc_lib::prune::{self, Options};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Remove what nothing uses, as `docker system prune`: stopped containers,
/// dangling images (every unused one with -a), the network leftovers of
/// containers that are gone and cc-build's cache. Name kinds to prune only
/// those.
#[derive(Debug, Parser)]
#[command(name = "cc-prune", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Stopped (exited or created) containers
    #[arg(long)]
    pub containers: bool,
    /// Dangling images: no tag and no repo digest (every image no
    /// container uses with -a)
    #[arg(long)]
    pub images: bool,
    /// Leases, veths and port rules of containers that are gone (cc has
    /// one bridge network, which stays)
    #[arg(long)]
    pub networks: bool,
    /// Also volumes: the anonymous ones no container uses (docker 23's
    /// rule; `cc-volume prune -a` takes named ones too). Not in the default
    /// set, as docker's
    #[arg(long)]
    pub volumes: bool,
    /// cc-build's cache: its step keys, then its step images with the
    /// dangling ones
    #[arg(long)]
    pub build_cache: bool,
    /// Images: every one no container uses, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Only what matches: until=TIME (created before it; docker's time
    /// forms), label=K[=V], label!=K[=V]
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Do not ask before removing
    #[arg(short, long)]
    pub force: bool,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let filters = Filters::parse(&a.filter, prune::KEYS)?;
    for v in filters.values("until") {
        cc_lib::time::when_arg(v, std::time::SystemTime::now())?;
    }
    let every = !(a.containers || a.images || a.networks || a.build_cache);
    let o = Options {
        containers: every || a.containers,
        images: every || a.images || a.build_cache,
        all_images: a.all,
        networks: every || a.networks,
        volumes: a.volumes,
        filters,
    };
    let store = a.store.open()?;
    let cache = every || a.build_cache;
    if !a.force && !confirmed(&o, cache)? {
        return Ok(ExitCode::SUCCESS);
    }
    let keys = match cache {
        true => cc_lib::build::prune_cache(&store)?,
        false => Vec::new(),
    };
    let r = prune::prune(&store, &o)?;
    let mut out = std::io::stdout().lock();
    let mut section = |title: &str, lines: &[String]| {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}:\n{}\n", lines.join("\n"));
        }
    };
    section("Deleted Containers", &r.containers);
    section("Deleted Images", &r.images);
    section("Deleted Volumes", &r.volumes);
    section("Released network leftovers", &r.networks);
    section("Deleted build cache objects", &keys);
    let _ = writeln!(out, "Total reclaimed space: {}", human_size(r.reclaimed));
    Ok(ExitCode::SUCCESS)
}

/// docker's question: what will go.
fn confirmed(o: &Options, cache: bool) -> Result<bool> {
    let mut what = Vec::new();
    if o.containers {
        what.push("all stopped containers");
    }
    if o.images {
        what.push(match o.all_images {
            true => "all images without at least one container associated to them",
            false => "all dangling images",
        });
    }
    if o.networks {
        what.push("network leftovers of containers that are gone");
    }
    if o.volumes {
        what.push("all anonymous volumes not used by at least one container");
    }
    if cache {
        what.push("all build cache");
    }
    let mut warning = "WARNING! This will remove:\n".to_string();
    for w in what {
        warning += &format!("  - {w}\n");
    }
    cc_lib::cli::confirmed(&warning)
}
