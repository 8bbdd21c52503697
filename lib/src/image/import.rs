//! Import: a tar (plain, gzip or zstd, told by its magic bytes), stdin or a
//! folder becomes a one-layer image. The layer blob is stored as received,
//! so the same tar imported twice has the same digest and is stored once.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::change;
use crate::image::format::{self, History, ImageConfig, RootFs, RunConfig};
use crate::image::stage::{stage, store_image, ManifestSrc, Unpacked};
use crate::layer;
use crate::store::{self, Store};

pub enum Source {
    Stdin,
    File(PathBuf),
    Dir(PathBuf),
}

impl Source {
    /// `-` is stdin; a folder is tarred; anything else is a tar file.
    pub fn from_arg(arg: &str) -> Source {
        let p = Path::new(arg);
        if arg == "-" {
            Source::Stdin
        } else if p.is_dir() {
            Source::Dir(p.to_path_buf())
        } else {
            Source::File(p.to_path_buf())
        }
    }
}

/// Imports `source` as a new image named `name`, with `changes` applied to
/// its config. Returns the image id.
pub fn import(
    store: &Store,
    source: Source,
    name: Option<&str>,
    changes: &[String],
) -> Result<String> {
    let name = name.map(crate::image::normalize_name).transpose()?;
    let mut run = RunConfig::default();
    for c in changes {
        change::apply(&mut run, c)?;
    }
    let staged = match source {
        Source::Stdin => stage(store, io::stdin().lock(), "stdin", &[])?,
        Source::File(p) => {
            let f = File::open(&p).map_err(|e| Error::io("open", &p, e))?;
            stage(store, f, &p.display().to_string(), &[])?
        }
        Source::Dir(p) => stage_dir(store, &p)?,
    };
    let now = crate::time::now_rfc3339();
    let config = ImageConfig {
        created: Some(now.clone()),
        architecture: format::host_platform().architecture,
        os: "linux".into(),
        config: run,
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![staged.diff_id.clone()],
        },
        history: vec![History {
            created: Some(now),
            created_by: Some("cc-import".into()),
            comment: Some("imported".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    // The same code that stores loaded and pulled images: layers, blobs,
    // config, manifest and the name, under the images lock.
    let config = serde_json::to_vec(&config).map_err(Error::internal)?;
    let names: Vec<String> = name.into_iter().collect();
    store_image(
        store,
        std::slice::from_ref(&staged),
        &config,
        ManifestSrc::Layers(vec![staged.blob.clone()]),
        &names,
    )
}

/// A folder is written as a plain tar into a temporary file first, then
/// staged like any tar.
fn stage_dir(store: &Store, dir: &Path) -> Result<Unpacked> {
    let path = store::tmp::owned_path(&store.tmp_dir(), "dir", ".tar")?;
    let result = (|| {
        let mut f = File::options()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        layer::write_dir(dir, BufWriter::new(&mut f))?;
        f.flush().map_err(|e| Error::io("write", &path, e))?;
        f.rewind().map_err(|e| Error::io("read", &path, e))?;
        stage(store, f, &dir.display().to_string(), &[])
    })();
    let _ = fs::remove_file(&path);
    result
}
