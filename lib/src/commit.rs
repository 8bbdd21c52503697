//! cc-diff and cc-commit: a container's changes, read from its overlay
//! upper dir (on the host's disk, so a running and an exited container
//! are read alike), listed, or written as one more layer on its image.
//!
//! The commit recipe, in order:
//! 1. check everything that can be wrong before any work (the image is
//!    still stored, the name parses, the `-c` changes parse);
//! 2. freeze the container's cgroup, so no process changes the upper dir
//!    while it is read (cgroup freezer; `--pause=false` skips this);
//! 3. walk the upper dir into a layer tar (`layer::write_upper`); the tar
//!    goes, block by block, to the hasher (the diff id), to the
//!    compressor on every core (the blob) and to `layer::apply`, which
//!    unpacks it into the folder that becomes the layer's lower dir, so a
//!    container of the new image starts at once;
//! 4. thaw as soon as the walk is done;
//! 5. store blob, layer, config and manifest under the images lock and
//!    name the image (`image::archive::store_image`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread;

use sha2::{Digest, Sha256};

use crate::cgroup::Cgroup;
use crate::container::{Container, Status, ANN_ROOTFS};
use crate::error::{Error, Result};
use crate::image::format::History;
use crate::image::stage::{store_image, ManifestSrc, Unpacked};
use crate::image::{self, change};
use crate::layer::pack::{Block, BlockReader, HashWriter, Pack, BLOCK};
use crate::layer::{self, Change, Compression};
use crate::store::Store;

/// What `cc-commit` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-m`: the history entry's comment.
    pub message: Option<String>,
    /// `-a`: the image's and the history entry's author.
    pub author: Option<String>,
    /// `-c`: Dockerfile instructions applied to the run config.
    pub changes: Vec<String>,
    /// Freeze a running container while its upper dir is read.
    pub pause: bool,
    pub compression: Compression,
    /// `NAME[:TAG]` for the new image.
    pub name: Option<String>,
    /// The history entry's `created_by`; the container's command if none
    /// (cc-build gives its instruction).
    pub created_by: Option<String>,
    /// Unix seconds for the image's and the history entry's time, and the
    /// latest mtime in the layer (cc-build's reproducible `--timestamp`);
    /// none: now, and the files' own mtimes.
    pub timestamp: Option<i64>,
}

/// The image layers of a container, top first, as overlay lower dirs.
fn lowers(store: &Store, c: &Container) -> Result<Vec<PathBuf>> {
    if c.annotation(ANN_ROOTFS).is_some() {
        return Err(Error::State(format!(
            "container '{}' runs on a folder (--rootfs), not on an image: it has no changes of its own",
            c.name()
        )));
    }
    Ok(c.layers().iter().map(|d| store.layer_dir(d)).collect())
}

/// The container's changes against its image, handed to `each` as they
/// are found, in tree order (`layer::each_change`).
pub fn diff(
    store: &Store,
    c: &Container,
    each: &mut dyn FnMut(Change) -> Result<()>,
) -> Result<()> {
    let lowers = lowers(store, c)?;
    layer::each_change(&c.upper(), &lowers, each)
}

/// Commits the container's changes as a new image; returns its id.
pub fn commit(store: &Store, c: &Container, o: &Options) -> Result<String> {
    let lowers = lowers(store, c)?;
    let image_id = c
        .image()
        .ok_or_else(|| Error::State(format!("container '{}' has no image", c.name())))?;
    let base = image::resolve(store, image_id).map_err(|e| match e {
        Error::NotFound { .. } => Error::not_found("image of the container", image_id),
        e => e,
    })?;
    let names = o
        .name
        .as_deref()
        .map(image::normalize_name)
        .transpose()?
        .into_iter()
        .collect::<Vec<_>>();
    let mut config = base.config.clone();
    for ch in &o.changes {
        change::apply(&mut config.config, ch)?;
    }
    // A user's container has no freezer: committed as it runs (as podman).
    let pause = o.pause && !crate::rootless::active();
    let frozen = match pause && c.status() == Status::Running {
        true => Some(Frozen::new(Cgroup::open(&c.cgroup_name()))?),
        false => None,
    };
    let clamp = o.timestamp.map(|t| t.max(0) as u64);
    let layer = write_layer(store, &c.upper(), &lowers, o.compression, frozen, clamp)?;
    crate::failpoint::hit("commit.packed");

    let now = crate::time::rfc3339_or_now(o.timestamp);
    config.created = Some(now.clone());
    if o.author.is_some() {
        config.author = o.author.clone();
    }
    config.rootfs.diff_ids.push(layer.diff_id.clone());
    config.history.push(History {
        created: Some(now),
        created_by: o
            .created_by
            .clone()
            .or_else(|| c.spec.process.as_ref().map(|p| p.args.join(" "))),
        author: o.author.clone(),
        comment: o.message.clone(),
        empty_layer: false,
    });
    let bytes = serde_json::to_vec(&config).map_err(Error::internal)?;
    let mut layers = base.manifest.layers.clone();
    layers.push(layer.blob.clone());
    store_image(store, &[layer], &bytes, ManifestSrc::Layers(layers), &names)
}

/// A frozen cgroup, thawed when dropped (also on an error's way out).
struct Frozen(Cgroup);

impl Frozen {
    fn new(cg: Cgroup) -> Result<Frozen> {
        cg.freeze()?;
        Ok(Frozen(cg))
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = self.0.thaw();
    }
}

/// Writes the upper dir as a layer: blob (compressed) and unpacked folder
/// in the store's tmp/, with its digests. `frozen` is thawed once the
/// upper dir has been read.
fn write_layer(
    store: &Store,
    upper: &Path,
    lowers: &[PathBuf],
    comp: Compression,
    frozen: Option<Frozen>,
    clamp: Option<u64>,
) -> Result<Unpacked> {
    let mut u = Unpacked::new(store)?;
    let file = File::create(&u.tmp_blob).map_err(|e| Error::io("create", &u.tmp_blob, e))?;
    let pack = Pack::new(
        HashWriter::new(BufWriter::with_capacity(1 << 20, file)),
        comp,
    );
    let (atx, arx) = sync_channel::<Block>(16);
    let (dir, low) = (u.tmp_dir.clone(), lowers.to_vec());
    let applier = thread::spawn(move || layer::apply(BlockReader::new(arx), &dir, &low));
    let mut fan = Fanout {
        buf: Vec::with_capacity(BLOCK),
        hasher: Sha256::new(),
        apply: Some(atx),
        apply_gone: false,
        pack,
    };
    let walked = layer::write_upper(upper, &mut fan, clamp);
    drop(frozen);
    // Every thread is finished before the errors are looked at, so no
    // thread writes into a temporary file that is being removed.
    let apply_gone = fan.apply_gone;
    let ended = fan.end();
    let applied = applier
        .join()
        .unwrap_or_else(|_| Err(Error::Internal("layer unpacking panicked".into())));
    // The first cause: an unpacking error stops the walk, not the reverse.
    let applied = if apply_gone { Ok(applied?) } else { applied };
    walked?;
    applied?;
    let (diff_id, blob) = ended.map_err(|e| Error::io("write", &u.tmp_blob, e))?;
    let (digest, size, w) = blob;
    let f = w
        .into_inner()
        .map_err(|e| Error::io("write", &u.tmp_blob, e.into_error()))?;
    f.sync_all()
        .map_err(|e| Error::io("sync", &u.tmp_blob, e))?;
    u.diff_id = diff_id;
    u.blob.media_type = layer::media_type(comp).into();
    (u.blob.digest, u.blob.size) = (digest, size);
    Ok(u)
}

type Blob = (String, u64, BufWriter<File>);

/// Where the layer tar goes: cut into blocks, each hashed, handed to the
/// unpacker and to the compressor.
struct Fanout {
    buf: Vec<u8>,
    hasher: Sha256,
    apply: Option<SyncSender<Block>>,
    /// The unpacker stopped (its error is the one to report).
    apply_gone: bool,
    pack: Pack<HashWriter<BufWriter<File>>>,
}

impl Fanout {
    fn send(&mut self) -> io::Result<()> {
        let block: Block = Arc::new(std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK)));
        self.hasher.update(&block[..]);
        if let Some(tx) = &self.apply {
            if tx.send(block.clone()).is_err() {
                self.apply_gone = true;
                return Err(io::Error::other("layer unpacking stopped"));
            }
        }
        self.pack.push(block)
    }

    /// Sends the last block, ends both streams and waits for the blob.
    fn end(mut self) -> io::Result<(String, Blob)> {
        let last = if self.buf.is_empty() {
            Ok(())
        } else {
            self.send()
        };
        drop(self.apply.take());
        let blob = self.pack.finish();
        last?;
        let diff_id = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        Ok((diff_id, blob?.finish()))
    }
}

impl Write for Fanout {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.send()?;
        }
        Ok(n)
    }
    /// Blocks are cut by size only, so the compressed bytes do not depend
    /// on when the tar writer flushes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
