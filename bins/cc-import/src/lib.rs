use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::image::import::{import, Source};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Import a tar file (plain, gzip or zstd), stdin (`-`) or a folder as a
/// one-layer image, and print its id.
#[derive(Debug, Parser)]
#[command(name = "cc-import", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Apply a Dockerfile instruction to the image config (CMD, ENTRYPOINT,
    /// ENV, WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME, HEALTHCHECK); repeatable
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
    pub changes: Vec<String>,
    /// A tar file, `-` for stdin, or a folder
    pub source: String,
    /// Name the image NAME[:TAG]
    pub name: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let id = import(
        &store,
        Source::from_arg(&a.source),
        a.name.as_deref(),
        &a.changes,
    )?;
    let name = a.name.as_deref().unwrap_or("");
    cc_lib::events::record(&store, "image", "import", &id, &[("name", name)]);
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}
