//! Import: a tar (plain, gzip or zstd, told by its magic bytes), stdin or a
//! folder becomes a one-layer image. The layer blob is stored as received,
//! so the same tar imported twice has the same digest and is stored once.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::digest::{HashReader, TeeReader};
use crate::image::oci::{self, Descriptor, History, ImageConfig, Manifest, RootFs, RunConfig};
use crate::image::{add, blob_path, change, write_blob};
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

/// A layer that is unpacked and hashed but not yet in the store.
pub struct Staged {
    pub blob: Descriptor,
    pub diff_id: String,
    tmp_blob: PathBuf,
    tmp_dir: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp_blob);
        let _ = fs::remove_dir_all(&self.tmp_dir);
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
        Source::Stdin => stage(store, io::stdin().lock(), "stdin")?,
        Source::File(p) => {
            let f = File::open(&p).map_err(|e| Error::io("open", &p, e))?;
            stage(store, f, &p.display().to_string())?
        }
        Source::Dir(p) => stage_dir(store, &p)?,
    };
    let now = crate::time::now_rfc3339();
    let config = ImageConfig {
        created: Some(now.clone()),
        architecture: oci::host_platform().architecture,
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
    commit_image(store, &[staged], &config, name.as_deref())
}

/// Moves staged layers into the store and writes config, manifest and the
/// index entry, in that order, under the images lock: a reader sees the
/// whole image or none of it, and a concurrent `rmi` cannot collect a blob
/// between its arrival and its naming.
pub fn commit_image(
    store: &Store,
    layers: &[Staged],
    config: &ImageConfig,
    name: Option<&str>,
) -> Result<String> {
    let config_bytes = serde_json::to_vec(config).map_err(|e| Error::Invalid(e.to_string()))?;
    let _lock = store.lock("images")?;
    for l in layers {
        place(&l.tmp_dir, &store.layer_dir(&l.diff_id))?;
        place(&l.tmp_blob, &blob_path(store, &l.blob.digest)?)?;
    }
    let cfg = write_blob(store, oci::MEDIA_CONFIG, &config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::MEDIA_MANIFEST.into()),
        config: cfg.clone(),
        layers: layers.iter().map(|l| l.blob.clone()).collect(),
        annotations: Default::default(),
    };
    let mbytes = serde_json::to_vec(&manifest).map_err(|e| Error::Invalid(e.to_string()))?;
    let mdesc = write_blob(store, oci::MEDIA_MANIFEST, &mbytes)?;
    drop(_lock);
    add(store, &mdesc, name)?;
    Ok(cfg.digest)
}

/// Renames `from` to `to` unless `to` is already there (same content by
/// digest), in which case `from` is left for the caller's cleanup.
fn place(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Ok(());
    }
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) if to.exists() => Ok(()),
        Err(e) => Err(Error::io("move into the store", to, e)),
    }
}

/// Streams a layer blob into a temporary blob file while unpacking it into
/// a temporary layer folder, hashing both the blob and the tar inside.
pub fn stage(store: &Store, input: impl Read, what: &str) -> Result<Staged> {
    let tmp = store.tmp_dir();
    let token = store::random_hex(8);
    let mut staged = Staged {
        blob: Descriptor {
            media_type: String::new(),
            digest: String::new(),
            size: 0,
            annotations: Default::default(),
            platform: None,
        },
        diff_id: String::new(),
        tmp_blob: tmp.join(format!("blob-{token}")),
        tmp_dir: tmp.join(format!("layer-{token}")),
    };
    fs::create_dir_all(&staged.tmp_dir).map_err(|e| Error::io("create", &staged.tmp_dir, e))?;
    let file =
        File::create(&staged.tmp_blob).map_err(|e| Error::io("create", &staged.tmp_blob, e))?;
    let mut buffered = BufReader::with_capacity(1 << 20, input);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::io("read", what, e))?;
    let compression = layer::detect(head);
    let mut blob = HashReader::new(TeeReader::new(
        buffered,
        BufWriter::with_capacity(1 << 20, file),
    ));
    let mut tar = HashReader::new(layer::decoder(&mut blob, compression)?);
    layer::apply(&mut tar, &staged.tmp_dir, &[])
        .map_err(|e| Error::Invalid(format!("cannot import '{what}': {e}")))?;
    // The diff id covers the whole stream, past the tar's end marker.
    io::copy(&mut tar, &mut io::sink()).map_err(|e| Error::io("read", what, e))?;
    staged.diff_id = tar.finish().0;
    io::copy(&mut blob, &mut io::sink()).map_err(|e| Error::io("read", what, e))?;
    let (digest, size) = blob.finish_with(|w: BufWriter<File>| finish_file(w, &staged.tmp_blob))?;
    staged.blob.media_type = layer::media_type(compression).into();
    (staged.blob.digest, staged.blob.size) = (digest, size);
    Ok(staged)
}

fn finish_file(w: BufWriter<File>, path: &Path) -> Result<()> {
    let f = w
        .into_inner()
        .map_err(|e| Error::io("write", path, e.into_error()))?;
    f.sync_all().map_err(|e| Error::io("sync", path, e))
}

/// A folder is written as a plain tar into a temporary file first, then
/// staged like any tar.
fn stage_dir(store: &Store, dir: &Path) -> Result<Staged> {
    let path = store
        .tmp_dir()
        .join(format!("dir-{}.tar", store::random_hex(8)));
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
        stage(store, f, &dir.display().to_string())
    })();
    let _ = fs::remove_file(&path);
    result
}
