use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::error::Error;
use cc_lib::image::archive;
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Load images from a docker-archive or oci-archive tar (plain, gzip or
/// zstd; which one is told from the contents), as `docker save`, `podman
/// save`, `skopeo copy` and `cc-save` write them. Every blob is checked
/// against its digest and every layer against the config's diff id before
/// anything is stored; a bad archive leaves nothing behind. Prints
/// `Loaded image: NAME` for each name, or `Loaded image ID: ID` for an
/// image without one.
#[derive(Debug, Parser)]
#[command(name = "cc-load", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Read from FILE instead of stdin
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Print image ids only, one per line
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let loaded = match &a.input {
        None => archive::load_stream(&store, std::io::stdin().lock(), "stdin")?,
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::io("open", p, e))?;
            let is_file = f.metadata().is_ok_and(|m| m.is_file());
            let mut r = BufReader::new(f);
            let head = r.fill_buf().map_err(|e| Error::io("read", p, e))?;
            let shown = p.display().to_string();
            if is_file && !archive::is_compressed(head) {
                archive::load_file(&store, r.into_inner(), &shown)?
            } else {
                archive::load_stream(&store, r, &shown)?
            }
        }
    };
    for l in loaded {
        let name = l.names.first().map_or("", String::as_str);
        cc_lib::events::record(&store, "image", "load", &l.id, &[("name", name)]);
        if a.quiet {
            println!("{}", l.id);
        } else if l.names.is_empty() {
            println!("Loaded image ID: {}", l.id);
        } else {
            for n in &l.names {
                println!("Loaded image: {n}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
