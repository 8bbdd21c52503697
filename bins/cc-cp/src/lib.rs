use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::copy::{self, Options};
use cc_lib::{container, volume, Result};
use clap::{CommandFactory, Parser};

/// Copy files between a container (running or not) and the host, or a
/// tar stream (`-`), with docker cp's rules: `CONTAINER:SRC DEST` or
/// `SRC CONTAINER:DEST`. A folder is copied with what it holds; `SRC/.`
/// copies only what it holds. Paths in the container are resolved inside
/// its root: no link there leads outside it. A stopped container's
/// volumes and binds are reached as a running one's. Written into a container,
/// files belong to its root; on the host, to the user running cc-cp
/// (with -a, each keeps its owner).
#[derive(Debug, Parser)]
#[command(name = "cc-cp", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Keep each file's owner (uid and gid)
    #[arg(short, long)]
    pub archive: bool,
    /// Copy what a link SRC points to, not the link
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// `CONTAINER:PATH`, a host path, or `-` for a tar stream on stdin
    #[arg(value_name = "SRC")]
    pub src: String,
    /// `CONTAINER:PATH`, a host path, or `-` for a tar stream on stdout
    #[arg(value_name = "DEST")]
    pub dest: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let opts = Options {
        archive: a.archive,
        follow: a.follow_link,
        all_xattrs: false,
    };
    // A stopped container's volumes are bound for the copy, mounted first
    // where their options ask (as cc-start does).
    let prepare = |c: &container::Container| volume::mount_all(&store, c);
    copy::copy(&store, &a.src, &a.dest, opts, &prepare)?;
    Ok(ExitCode::SUCCESS)
}
