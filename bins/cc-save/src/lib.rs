use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::error::Error;
use cc_lib::image::archive::{self, ToSave};
use cc_lib::image::{self, normalize_name};
use cc_lib::{store, Result};
use clap::{CommandFactory, Parser, ValueEnum};

/// Write images to one tar archive that `docker load`, `podman load` and
/// `cc-load` read: docker-archive (manifest.json, repositories, the config
/// as `<hex>.json`, each layer as an uncompressed `<diffid>.tar`) or
/// oci-archive (an OCI image layout; names in index.json). An image named
/// on the command line is saved under that name; one given by id, under
/// no name.
#[derive(Debug, Parser)]
#[command(name = "cc-save", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The archive format
    #[arg(long, value_enum, default_value_t = SaveFormat::DockerArchive)]
    pub format: SaveFormat,
    /// The images: names, ids or unique id prefixes
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaveFormat {
    DockerArchive,
    OciArchive,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let mut list: Vec<ToSave> = Vec::new();
    for q in &a.images {
        let img = image::resolve(&store, q)?;
        let wanted = normalize_name(q).ok();
        let names: Vec<String> = img
            .names
            .iter()
            .filter(|n| Some(*n) == wanted.as_ref())
            .cloned()
            .collect();
        match list.iter_mut().find(|s| s.image.id == img.id) {
            Some(s) => {
                for n in names {
                    if !s.names.contains(&n) {
                        s.names.push(n);
                    }
                }
            }
            None => list.push(ToSave { image: img, names }),
        }
    }
    let format = match a.format {
        SaveFormat::DockerArchive => archive::Format::DockerArchive,
        SaveFormat::OciArchive => archive::Format::OciArchive,
    };
    match &a.output {
        None => {
            let out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            archive::save(&store, &list, format, out)?;
        }
        Some(p) => {
            // A temporary file beside the target, renamed in when whole;
            // 0666 less the umask, as a plain create.
            store::replace_with(p, 0o666, false, |f| {
                let mut w = BufWriter::with_capacity(1 << 20, f);
                archive::save(&store, &list, format, &mut w)?;
                w.flush().map_err(|e| Error::io("write", p, e))
            })?;
        }
    }
    for s in &list {
        let name = s.names.first().map_or("", String::as_str);
        cc_lib::events::record(&store, "image", "save", &s.image.id, &[("name", name)]);
    }
    Ok(ExitCode::SUCCESS)
}
