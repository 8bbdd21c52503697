use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::error::Error;
use cc_lib::{container, events, image, Result};
use clap::{CommandFactory, Parser};

/// Remove images. A name of an image with other names only untags it;
/// blobs and unpacked layers nothing else needs are deleted.
#[derive(Debug, Parser)]
#[command(name = "cc-rmi", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Remove even when containers use the image (they keep its layers);
    /// a missing image is not an error
    #[arg(short, long)]
    pub force: bool,
    /// Images: names, ids or unique id prefixes (`-` reads them from stdin)
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let images = cc_lib::cli::expand_stdin(a.images);
    Ok(each(&images, |q| {
        let img = match image::resolve(&store, q) {
            Err(Error::NotFound { .. }) if a.force => return Ok(()),
            r => r?,
        };
        // A name of an image with other names is only untagged, as
        // docker does; its last tag takes the repo digests with it.
        let by_name = image::normalize_name(q).ok();
        let others = match by_name.as_ref() {
            Some(n) if img.names.contains(n) => img.names.len() > 1,
            Some(n) if img.digests.contains(n) => img.names.len() + img.digests.len() > 1,
            _ => false,
        };
        if let (true, Some(name)) = (others, &by_name) {
            image::untag(&store, name)?;
            events::record(&store, "image", "untag", &img.id, &[("name", name)]);
            println!("Untagged: {name}");
            return Ok(());
        }
        match container::remove_image(&store, &img, q, a.force) {
            // Removed meanwhile by another cc-rmi.
            Err(Error::NotFound { .. }) if a.force => return Ok(()),
            r => r?,
        }
        for n in img.names.iter().chain(&img.digests) {
            events::record(&store, "image", "untag", &img.id, &[("name", n)]);
            println!("Untagged: {n}");
        }
        events::record(&store, "image", "delete", &img.id, &[("name", &img.id)]);
        println!("Deleted: {}", img.id);
        Ok(())
    }))
}
