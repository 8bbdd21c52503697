//! Bringing an image into the store, for every way one arrives (cc-load,
//! cc-import, cc-pull, cc-commit): each layer is staged first — copied,
//! hashed and unpacked in the store's tmp/ (`stage`, `Unpacked`) — and only
//! once every part has checked out are the layers, the config and the
//! manifest moved in and named, under the images lock (`store_image`). A
//! failure or a kill before that leaves only owned tmp/ files, which the
//! owner's drop or the tmp collector (store/tmp.rs) removes.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::digest::{HashReader, TeeReader};
use crate::image::format::{self, Descriptor, Manifest};
use crate::image::{add_locked, blob_path, write_blob};
use crate::layer;
use crate::store::{self, Store};

/// A layer unpacked and hashed in the store's tmp/, not yet in the store;
/// dropped, it removes its temporary files.
pub struct Unpacked {
    /// The blob as it will be stored.
    pub blob: Descriptor,
    pub diff_id: String,
    pub tmp_blob: PathBuf,
    pub tmp_dir: PathBuf,
}

impl Unpacked {
    /// Fresh temporary names, and the empty layer folder.
    pub fn new(store: &Store) -> Result<Unpacked> {
        // Owned names: a killed owner's files are collected (store/tmp.rs).
        let tmp = store.tmp_dir();
        let u = Unpacked {
            blob: Descriptor {
                media_type: String::new(),
                digest: String::new(),
                size: 0,
                annotations: Default::default(),
                platform: None,
            },
            diff_id: String::new(),
            tmp_blob: store::tmp::owned_path(&tmp, "blob", "")?,
            tmp_dir: store::tmp::owned_path(&tmp, "layer", "")?,
        };
        fs::create_dir_all(&u.tmp_dir).map_err(|e| Error::io("create", &u.tmp_dir, e))?;
        Ok(u)
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp_blob);
        if self.tmp_dir.exists() {
            let _ = fs::remove_dir_all(&self.tmp_dir);
        }
    }
}

/// Stages a layer blob: copies it to a temporary blob file and unpacks it
/// (any compression) into a temporary folder, hashing both. `lowers` are
/// the layers beneath, top first (hardlinks into them, implied folders).
pub fn stage(store: &Store, input: impl Read, what: &str, lowers: &[PathBuf]) -> Result<Unpacked> {
    let mut u = Unpacked::new(store)?;
    let file = File::create(&u.tmp_blob).map_err(|e| Error::io("create", &u.tmp_blob, e))?;
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
    let applied = layer::apply(&mut tar, &u.tmp_dir, lowers)
        .map_err(|e| Error::Damaged(format!("cannot load layer '{what}': {e}")))
        .and_then(|_| io::copy(&mut tar, &mut io::sink()).map_err(|e| Error::io("read", what, e)));
    let diff_id = tar.finish().0;
    let copied = applied
        .and_then(|_| io::copy(&mut blob, &mut io::sink()).map_err(|e| Error::io("read", what, e)));
    // A full disk fails the copy of the blob, seen as a failed stream.
    if let Some(e) = blob.write_failed() {
        return Err(Error::io("write", &u.tmp_blob, e));
    }
    copied?;
    u.diff_id = diff_id;
    crate::failpoint::hit("image.staged");
    let path = u.tmp_blob.clone();
    let (digest, size) = blob.finish_with(|w: BufWriter<File>| {
        let f = w
            .into_inner()
            .map_err(|e| Error::io("write", &path, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io("sync", &path, e))
    })?;
    u.blob.media_type = layer::media_type(compression).into();
    (u.blob.digest, u.blob.size) = (digest, size);
    Ok(u)
}

/// The manifest of an image being stored.
pub enum ManifestSrc {
    /// An OCI manifest made here from these layer descriptors.
    Layers(Vec<Descriptor>),
    /// A manifest as received (its digest already checked), and its type.
    Raw(Vec<u8>, String),
}

/// Moves staged layers into the store (unpacked folder and blob), stores
/// `config` and the manifest as given bytes and names the image, under the
/// images lock: a reader sees the whole image or none of it, and a
/// concurrent `rmi` cannot collect a blob between its arrival and its
/// naming. Returns the image id. Used by import, load and pull.
pub fn store_image(
    store: &Store,
    layers: &[Unpacked],
    config: &[u8],
    manifest: ManifestSrc,
    names: &[String],
) -> Result<String> {
    let lock = store.lock("images")?;
    for l in layers {
        let size = crate::tree::size(&l.tmp_dir)?;
        place(&l.tmp_dir, &store.layer_dir(&l.diff_id))?;
        super::record_layer_size(store, &l.diff_id, size)?;
        place(&l.tmp_blob, &blob_path(store, &l.blob.digest)?)?;
    }
    crate::failpoint::hit("image.placed");
    let cfg = write_blob(store, format::MEDIA_CONFIG, config)?;
    let mdesc = match manifest {
        ManifestSrc::Layers(layers) => {
            let m = Manifest {
                schema_version: 2,
                media_type: Some(format::MEDIA_MANIFEST.into()),
                config: cfg.clone(),
                layers,
                annotations: Default::default(),
            };
            let bytes = serde_json::to_vec(&m).map_err(Error::internal)?;
            write_blob(store, format::MEDIA_MANIFEST, &bytes)?
        }
        ManifestSrc::Raw(bytes, media_type) => write_blob(store, &media_type, &bytes)?,
    };
    crate::failpoint::hit("image.unnamed");
    // Named under the same lock: a name moved away from another image
    // collects that image's blobs, and must see this one in the index.
    if names.is_empty() {
        add_locked(store, &mdesc, None)?;
    }
    for n in names {
        add_locked(store, &mdesc, Some(n))?;
    }
    drop(lock);
    Ok(cfg.digest)
}

/// Renames `from` to `to` unless `to` is there already (same content, by
/// digest); then `from` stays for the owner's cleanup.
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
