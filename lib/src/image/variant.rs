//! Compressed copies of stored layers, made for cc-push.
//!
//! cc-import, cc-load and `cc-commit --compress none` store layers as plain
//! tars; a registry should get them compressed, as docker and podman send
//! them. The copy is made once, by the same compressor as cc-commit's (so
//! the same layer always gives the same bytes): its blob goes to
//! images/blobs/ beside the others, where a later pull of the pushed image
//! finds it, and `compressed.json` at the store's root records it by the
//! layer's diff id and the format. The next push of any image with that
//! layer takes it from there, and the registry's HEAD knows it by the same
//! digest. A copy goes with the last image (or container) that has its
//! layer (`keep`, called by the image garbage collector).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::image::blob_path;
use crate::image::digest::HashReader;
use crate::layer::pack::{HashWriter, Pack, BLOCK};
use crate::layer::{self, Compression};
use crate::store::{self, Store};

/// One compressed copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copy {
    pub digest: String,
    pub size: u64,
}

/// `compressed.json`: diff id, then format (`gzip`, `zstd`), then the copy.
type Record = BTreeMap<String, BTreeMap<String, Copy>>;

fn record_path(store: &Store) -> PathBuf {
    store.root().join("compressed.json")
}

fn read_record(store: &Store) -> Result<Record> {
    match store::read_optional(&record_path(store))? {
        None => Ok(Record::new()),
        Some(b) => serde_json::from_slice(&b).map_err(|source| Error::Json {
            path: record_path(store),
            source,
        }),
    }
}

/// The format's name, as `--compress` and `--compression-format` take it.
pub fn format_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    }
}

/// The copy of the layer `diff_id` in format `c` that the store has.
pub fn lookup(store: &Store, diff_id: &str, c: Compression) -> Result<Option<Copy>> {
    let copy = read_record(store)?
        .get(diff_id)
        .and_then(|m| m.get(format_name(c)))
        .cloned();
    match copy {
        Some(copy) if blob_path(store, &copy.digest)?.exists() => Ok(Some(copy)),
        _ => Ok(None),
    }
}

/// The copy of the layer stored as blob `digest` (unpacking to
/// `diff_id`) in format `c`: the recorded one, else made now and recorded.
pub fn compressed(store: &Store, digest: &str, diff_id: &str, c: Compression) -> Result<Copy> {
    if let Some(copy) = lookup(store, diff_id, c)? {
        return Ok(copy);
    }
    let making = Making::new(store)?;
    let copy = making.write(store, digest, diff_id, c, None)?;
    making.keep(store, diff_id, c, &copy)?;
    Ok(copy)
}

/// Told, from the compressor's writer thread, how many bytes the copy's
/// file holds; an error stops the compressor.
pub type Grown = Box<dyn FnMut(u64) -> io::Result<()> + Send>;

/// A copy being made, in a temporary file of the store's tmp/ that goes
/// when this is dropped, unless `keep` moved it into the store. cc-push
/// reads the file while it grows (`write`'s `grown`) and uploads it as
/// the compressor writes it.
pub struct Making(TmpFile);

impl Making {
    pub fn new(store: &Store) -> Result<Making> {
        let path = store::tmp::owned_path(&store.tmp_dir(), "compress", "")?;
        Ok(Making(TmpFile(path)))
    }

    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.0 .0
    }

    /// Writes blob `digest` in format `c` to the file, synced, and checks
    /// that it unpacks to `diff_id`. With `grown` (`step`, `f`), `f` is
    /// told the file's length each time it has grown by `step` bytes (what
    /// it was told is in the file, readable through another handle).
    pub fn write(
        &self,
        store: &Store,
        digest: &str,
        diff_id: &str,
        c: Compression,
        grown: Option<(u64, Grown)>,
    ) -> Result<Copy> {
        compress(&blob_path(store, digest)?, self.path(), diff_id, c, grown)
    }

    /// Moves the finished copy into the store and records it.
    pub fn keep(self, store: &Store, diff_id: &str, c: Compression, copy: &Copy) -> Result<()> {
        // Under the images lock, as every blob arrives: the garbage
        // collector runs under it and reads the record.
        let _lock = store.lock("images")?;
        let to = blob_path(store, &copy.digest)?;
        if !to.exists() {
            fs::rename(self.path(), &to).map_err(|e| Error::io("move into the store", &to, e))?;
            store::sync_parent(&to)?;
        }
        let mut record = read_record(store)?;
        record
            .entry(diff_id.to_string())
            .or_default()
            .insert(format_name(c).into(), copy.clone());
        store::write_json(&record_path(store), &record)
    }
}

/// Writes blob `src` (any compression) to `out` in format `c`, checking
/// that it unpacks to `diff_id`.
fn compress(
    src: &Path,
    out: &Path,
    diff_id: &str,
    c: Compression,
    grown: Option<(u64, Grown)>,
) -> Result<Copy> {
    let f = File::open(src).map_err(|e| Error::io("open", src, e))?;
    let mut input = BufReader::with_capacity(1 << 20, f);
    let from = layer::detect(input.fill_buf().map_err(|e| Error::io("read", src, e))?);
    let mut tar = HashReader::new(layer::decoder(input, from)?);
    let file = File::create(out).map_err(|e| Error::io("create", out, e))?;
    let file = Growing::new(BufWriter::with_capacity(1 << 20, file), grown);
    let mut pack = Pack::new(HashWriter::new(file), c);
    // Blocks of exactly BLOCK bytes, as cc-commit cuts them: the same tar
    // gives the same compressed bytes.
    let fed: io::Result<()> = loop {
        let mut block = Vec::with_capacity(BLOCK);
        if let Err(e) = (&mut tar).take(BLOCK as u64).read_to_end(&mut block) {
            break Err(e);
        }
        let last = block.len() < BLOCK;
        if !block.is_empty() {
            if let Err(e) = pack.push(Arc::new(block)) {
                break Err(e);
            }
        }
        if last {
            break Ok(());
        }
    };
    // The compressor's own error, when it stopped, says more than ours.
    let packed = pack.finish();
    fed.map_err(|e| Error::io("read", src, e))?;
    let (digest, size, w) = packed.map_err(|e| Error::io("write", out, e))?.finish();
    let file = w
        .into_inner()
        .into_inner()
        .map_err(|e| Error::io("write", out, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io("sync", out, e))?;
    let (unpacked, _) = tar.finish();
    if unpacked != diff_id {
        return Err(Error::Corrupt(format!(
            "blob '{}' unpacks to {unpacked}, not to its diff id {diff_id}",
            src.display()
        )));
    }
    Ok(Copy { digest, size })
}

/// The copy's file writer: every `step` bytes it flushes what it holds to
/// the file and tells the `Grown` how long the file is.
struct Growing<W: Write>(W, Option<Told>);

struct Told {
    step: u64,
    tell: Grown,
    len: u64,
    told: u64,
}

impl<W: Write> Growing<W> {
    fn new(inner: W, grown: Option<(u64, Grown)>) -> Self {
        let told = grown.map(|(step, tell)| Told {
            step,
            tell,
            len: 0,
            told: 0,
        });
        Growing(inner, told)
    }

    /// The inner writer; nothing more is told.
    fn into_inner(self) -> W {
        self.0
    }
}

impl<W: Write> Write for Growing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        if let Some(t) = self.1.as_mut() {
            t.len += n as u64;
            if t.len - t.told >= t.step {
                self.0.flush()?;
                t.told = t.len;
                (t.tell)(t.len)?;
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Drops the records of layers not in `layers` (the diff ids the store
/// keeps) and returns the digests of the copies that stay. Called under
/// the images lock.
pub(crate) fn keep(store: &Store, layers: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    let mut record = read_record(store)?;
    let before = record.len();
    record.retain(|diff_id, _| layers.contains(diff_id));
    if record.len() != before {
        store::write_json(&record_path(store), &record)?;
    }
    Ok(record
        .values()
        .flat_map(|m| m.values().map(|c| c.digest.clone()))
        .collect())
}

/// The digest of every compressed copy recorded, whatever its layer.
pub(crate) fn all_copies(store: &Store) -> Result<BTreeSet<String>> {
    Ok(read_record(store)?
        .values()
        .flat_map(|m| m.values().map(|c| c.digest.clone()))
        .collect())
}

/// A temporary file, removed when dropped unless it was renamed away.
struct TmpFile(PathBuf);

impl Drop for TmpFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::digest::sha256;

    /// 3 MiB that compress, stored as a plain blob (its own diff id: the
    /// compressor only decodes and hashes, it does not read the tar).
    fn plain_blob(store: &Store) -> (Vec<u8>, String) {
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        let digest = sha256(&data);
        fs::write(blob_path(store, &digest).unwrap(), &data).unwrap();
        (data, digest)
    }

    #[test]
    fn made_once_recorded_and_collected() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("root")).unwrap();
        let (data, digest) = plain_blob(&store);
        assert_eq!(lookup(&store, &digest, Compression::Gzip).unwrap(), None);
        for c in [Compression::Gzip, Compression::Zstd] {
            let copy = compressed(&store, &digest, &digest, c).unwrap();
            let bytes = fs::read(blob_path(&store, &copy.digest).unwrap()).unwrap();
            assert_eq!(
                (sha256(&bytes), bytes.len() as u64),
                (copy.digest.clone(), copy.size)
            );
            assert_eq!(layer::detect(&bytes), c);
            assert!(copy.size < data.len() as u64 / 10);
            let mut back = vec![];
            layer::decoder(&bytes[..], c)
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == data, "{c:?} round trip");
            // Found, not made again; and made again, the same bytes.
            assert_eq!(lookup(&store, &digest, c).unwrap(), Some(copy.clone()));
            fs::remove_file(blob_path(&store, &copy.digest).unwrap()).unwrap();
            assert_eq!(compressed(&store, &digest, &digest, c).unwrap(), copy);
        }
        let gz = lookup(&store, &digest, Compression::Gzip).unwrap().unwrap();
        // Kept while the layer is; dropped from the record when it is not.
        let layers = BTreeSet::from([digest.clone()]);
        assert!(keep(&store, &layers).unwrap().contains(&gz.digest));
        assert!(keep(&store, &BTreeSet::new()).unwrap().is_empty());
        assert_eq!(read_record(&store).unwrap(), Record::new());
    }

    /// 3 MiB that do not compress (stored blocks), as a plain blob.
    fn random_blob(store: &Store) -> String {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let data: Vec<u8> = (0..3 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let digest = sha256(&data);
        fs::write(blob_path(store, &digest).unwrap(), &data).unwrap();
        digest
    }

    /// What cc-push's upload reads: the file, told each time it grew by a
    /// step, holds at least what it was told; the copy is kept only when
    /// asked, and is what `compressed` makes.
    #[test]
    fn making_tells_how_the_file_grows() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("root")).unwrap();
        let digest = random_blob(&store);
        let making = Making::new(&store).unwrap();
        let path = making.path().to_path_buf();
        let told = Arc::new(std::sync::Mutex::new(vec![]));
        let seen = told.clone();
        let grown: Grown = Box::new(move |len| {
            let on_disk = fs::metadata(&path)?.len();
            assert!(on_disk >= len, "told {len}, the file has {on_disk}");
            seen.lock().unwrap().push(len);
            Ok(())
        });
        let step = 1 << 20;
        let c = Compression::Gzip;
        let copy = making
            .write(&store, &digest, &digest, c, Some((step, grown)))
            .unwrap();
        let told = told.lock().unwrap().clone();
        assert_eq!(told.len() as u64, copy.size / step, "{told:?}");
        assert!(told.windows(2).all(|w| w[1] - w[0] >= step), "{told:?}");
        assert_eq!(lookup(&store, &digest, c).unwrap(), None);
        making.keep(&store, &digest, c, &copy).unwrap();
        assert_eq!(lookup(&store, &digest, c).unwrap(), Some(copy.clone()));
        fs::remove_file(blob_path(&store, &copy.digest).unwrap()).unwrap();
        fs::remove_file(record_path(&store)).unwrap();
        assert_eq!(compressed(&store, &digest, &digest, c).unwrap(), copy);
    }

    /// An upload that stops (its `Grown` fails) stops the compressor; the
    /// temporary file goes and nothing is recorded.
    #[test]
    fn a_stopped_upload_stops_the_compressor() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("root")).unwrap();
        let digest = random_blob(&store);
        let making = Making::new(&store).unwrap();
        let grown: Grown = Box::new(|_| Err(io::Error::other("the upload stopped")));
        let c = Compression::Gzip;
        let e = making
            .write(&store, &digest, &digest, c, Some((1 << 20, grown)))
            .unwrap_err();
        assert!(e.to_string().contains("the upload stopped"), "{e}");
        drop(making);
        assert_eq!(lookup(&store, &digest, c).unwrap(), None);
        let tmp: Vec<_> = fs::read_dir(store.tmp_dir()).unwrap().collect();
        assert!(tmp.is_empty(), "tmp/ keeps {tmp:?}");
    }

    #[test]
    fn a_blob_that_is_not_its_layer_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("root")).unwrap();
        let (_, digest) = plain_blob(&store);
        let wrong = format!("sha256:{}", "0".repeat(64));
        let e = compressed(&store, &digest, &wrong, Compression::Gzip).unwrap_err();
        assert!(e.to_string().contains("diff id"), "{e}");
        assert_eq!(lookup(&store, &wrong, Compression::Gzip).unwrap(), None);
        let tmp: Vec<_> = fs::read_dir(store.tmp_dir()).unwrap().collect();
        assert!(tmp.is_empty(), "tmp/ keeps {tmp:?}");
    }
}
