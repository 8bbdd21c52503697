//! Image archives, read and written: docker-archive (what `docker save` and
//! `podman save` write: `manifest.json`, `repositories`, the config as
//! `<hex>.json`, each layer an uncompressed tar) and oci-archive (an OCI
//! image layout in a tar, names in index.json as `ref.name` annotations).
//!
//! Loading trusts nothing in the archive: its entry names are only keys to
//! look files up by (nothing is extracted by name), every blob is hashed
//! against the digest that names it, each layer's diff id against the
//! config's, and the layers are unpacked by `layer::apply`. Everything is
//! staged in the store's tmp/ and moved in only once all of it checked
//! out, so a bad archive leaves nothing behind.
//!
//! Staging a layer and storing an image are `image::stage`'s, shared with
//! cc-import, cc-pull and cc-commit.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::image::digest::{sha256, HashReader};
use crate::image::format::{self, Descriptor, ImageConfig, Index, Manifest, REF_NAME};
use crate::image::stage::{stage, store_image, ManifestSrc, Unpacked};
use crate::image::{blob_path, normalize_name, Image};
use crate::layer;
use crate::store::{self, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciArchive,
}

// ---------------------------------------------------------------- saving

/// One image to save, and the names to save it under.
pub struct ToSave {
    pub image: Image,
    pub names: Vec<String>,
}

/// docker-archive's manifest.json, one object per image.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Writes `images` as one archive to `out`.
pub fn save(store: &Store, images: &[ToSave], format: Format, out: impl Write) -> Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    let shown = Path::new("archive");
    match format {
        Format::DockerArchive => save_docker(store, images, &mut tar)?,
        Format::OciArchive => save_oci(store, images, &mut tar)?,
    }
    let mut out = tar.into_inner().map_err(|e| Error::io("write", shown, e))?;
    out.flush().map_err(|e| Error::io("write", shown, e))
}

fn header(size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h
}

fn put<W: Write>(tar: &mut tar::Builder<W>, name: &str, size: u64, data: impl Read) -> Result<()> {
    tar.append_data(&mut header(size, false), name, data)
        .map_err(|e| Error::io("write archive entry", name, e))
}

fn put_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<()> {
    put(tar, name, data.len() as u64, data)
}

fn open_blob(store: &Store, digest: &str) -> Result<(File, u64)> {
    let p = blob_path(store, digest)?;
    let f = File::open(&p).map_err(|e| Error::io("open", &p, e))?;
    let len = f.metadata().map_err(|e| Error::io("stat", &p, e))?.len();
    Ok((f, len))
}

fn save_docker<W: Write>(
    store: &Store,
    images: &[ToSave],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let mut entries = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in images {
        let img = &s.image;
        let config = fs::read(blob_path(store, &img.id)?)
            .map_err(|e| Error::io("read", blob_path(store, &img.id).unwrap_or_default(), e))?;
        let config_name = format!("{}.json", &img.id[7..]);
        if !written.contains(&config_name) {
            put_bytes(tar, &config_name, &config)?;
            written.push(config_name.clone());
        }
        let diff_ids = &img.config.rootfs.diff_ids;
        if diff_ids.len() != img.manifest.layers.len() {
            return Err(Error::Corrupt(format!(
                "image '{}' has {} layers and {} diff ids",
                img.id,
                img.manifest.layers.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (desc, diff_id) in img.manifest.layers.iter().zip(diff_ids) {
            if !format::valid_digest(diff_id) {
                return Err(Error::Corrupt(format!("invalid diff id '{diff_id}'")));
            }
            let name = format!("{}.tar", &diff_id[7..]);
            if !written.contains(&name) {
                put_layer_tar(store, tar, &name, &desc.digest, diff_id)?;
                written.push(name.clone());
            }
            layers.push(name);
        }
        for n in &s.names {
            if let Some((repo, tag)) = n.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
                let top = layers
                    .last()
                    .map(|l| l.trim_end_matches(".tar").to_string());
                repos
                    .entry(repo.to_string())
                    .or_default()
                    .insert(tag.to_string(), top.unwrap_or_default());
            }
        }
        entries.push(DockerEntry {
            config: config_name,
            repo_tags: Some(s.names.clone()),
            layers,
        });
    }
    put_bytes(tar, "manifest.json", &to_json(&entries)?)?;
    put_bytes(tar, "repositories", &to_json(&repos)?)
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(Error::internal)
}

/// A layer as docker-archive wants it: uncompressed. A tar entry needs its
/// size first, so a compressed blob is read twice: once to count (and to
/// check the diff id), once to copy.
fn put_layer_tar<W: Write>(
    store: &Store,
    tar: &mut tar::Builder<W>,
    name: &str,
    blob: &str,
    diff_id: &str,
) -> Result<()> {
    let shown = blob_path(store, blob)?;
    let (f, _) = open_blob(store, blob)?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let c = layer::detect(r.fill_buf().map_err(|e| Error::io("read", &shown, e))?);
    let mut h = HashReader::new(layer::decoder(r, c)?);
    io::copy(&mut h, &mut io::sink()).map_err(|e| Error::io("read", &shown, e))?;
    let (digest, size) = h.finish();
    if digest != diff_id {
        return Err(Error::Corrupt(format!(
            "layer blob '{}' does not match its diff id {diff_id}",
            shown.display()
        )));
    }
    let (f, _) = open_blob(store, blob)?;
    let r = layer::decoder(BufReader::with_capacity(1 << 20, f), c)?;
    put(tar, name, size, r.take(size))
}

fn save_oci<W: Write>(store: &Store, images: &[ToSave], tar: &mut tar::Builder<W>) -> Result<()> {
    let mut index = Index {
        schema_version: 2,
        media_type: Some(format::MEDIA_INDEX.into()),
        manifests: Vec::new(),
        annotations: Default::default(),
    };
    put_bytes(tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    for d in ["blobs/", "blobs/sha256/"] {
        tar.append_data(&mut header(0, true), d, io::empty())
            .map_err(|e| Error::io("write archive entry", d, e))?;
    }
    let mut written: Vec<String> = Vec::new();
    for s in images {
        let img = &s.image;
        let mut blobs = vec![img.manifest_digest.clone(), img.id.clone()];
        blobs.extend(img.manifest.layers.iter().map(|l| l.digest.clone()));
        for b in blobs {
            if written.contains(&b) {
                continue;
            }
            let (f, len) = open_blob(store, &b)?;
            put(tar, &format!("blobs/sha256/{}", &b[7..]), len, f)?;
            written.push(b);
        }
        let mut d = img.descriptor.clone();
        d.annotations.clear();
        if s.names.is_empty() {
            index.manifests.push(d.clone());
        }
        for n in &s.names {
            let mut named = d.clone();
            named.annotations.insert(REF_NAME.into(), n.clone());
            index.manifests.push(named);
        }
    }
    put_bytes(tar, "index.json", &to_json(&index)?)
}

// --------------------------------------------------------------- loading

/// An image that `load` stored: its id and the names it got.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub id: String,
    pub names: Vec<String>,
}

/// Loads every image of an archive read from `input` (any compression).
/// The archive is read once into the store's tmp/, because a tar can hold
/// its manifest after the layers.
pub fn load_stream(store: &Store, input: impl Read, what: &str) -> Result<Vec<Loaded>> {
    let path = store::tmp::owned_path(&store.tmp_dir(), "load", ".tar")?;
    let result = (|| {
        let mut f = File::options()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        let mut r = BufReader::with_capacity(1 << 20, input);
        let c = layer::detect(r.fill_buf().map_err(|e| Error::io("read", what, e))?);
        let mut w = BufWriter::with_capacity(1 << 20, &mut f);
        io::copy(&mut layer::decoder(r, c)?, &mut w).map_err(|e| Error::io("read", what, e))?;
        w.flush().map_err(|e| Error::io("write", &path, e))?;
        drop(w);
        f.rewind().map_err(|e| Error::io("read", &path, e))?;
        load_file(store, f, what)
    })();
    let _ = fs::remove_file(&path);
    result
}

/// Loads from a seekable, uncompressed archive file.
pub fn load_file(store: &Store, mut file: File, what: &str) -> Result<Vec<Loaded>> {
    file.rewind().map_err(|e| Error::io("read", what, e))?;
    let ar = Archive::index(file, what)?;
    if ar.has("index.json") && ar.has("oci-layout") {
        load_oci(store, &ar)
    } else if ar.has("manifest.json") {
        load_docker(store, &ar)
    } else {
        Err(Error::Damaged(format!(
            "'{what}' is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)"
        )))
    }
}

/// Whether a file starts with gzip or zstd magic (then `load_stream`).
pub fn is_compressed(head: &[u8]) -> bool {
    layer::detect(head) != layer::Compression::None
}

/// The regular files of a tar, by clean name: where their data starts and
/// how long it is. Symlinks (docker writes them for repeated layers) are
/// followed inside the archive's own names.
struct Archive {
    file: File,
    what: String,
    files: HashMap<String, (u64, u64)>,
}

/// `./a//b` -> `a/b`; None for names that climb with `..`.
fn clean_name(raw: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(raw);
    let mut parts: Vec<&str> = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

impl Archive {
    fn index(file: File, what: &str) -> Result<Archive> {
        let bad = |e: io::Error| Error::Damaged(format!("cannot read archive '{what}': {e}"));
        let mut files = HashMap::new();
        let mut links = Vec::new();
        {
            let mut ar = tar::Archive::new(&file);
            for e in ar.entries().map_err(bad)? {
                let e = e.map_err(bad)?;
                let Some(name) = clean_name(&e.path_bytes()) else {
                    continue;
                };
                let kind = e.header().entry_type();
                if kind.is_file() {
                    files.insert(name, (e.raw_file_position(), e.size()));
                } else if kind.is_symlink() || kind.is_hard_link() {
                    let target = e.link_name_bytes().unwrap_or_default().into_owned();
                    links.push((name, target, kind.is_symlink()));
                }
            }
        }
        for (name, target, sym) in links {
            let base = match name.rsplit_once('/') {
                Some((dir, _)) if sym => format!("{dir}/"),
                _ => String::new(),
            };
            let joined = [base.as_bytes(), &target].concat();
            if let Some(t) = clean_name(&joined).and_then(|t| files.get(&t).copied()) {
                files.insert(name, t);
            }
        }
        Ok(Archive {
            file,
            what: what.to_string(),
            files,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    fn open(&self, name: &str) -> Result<Entry<'_>> {
        let clean = clean_name(name.as_bytes()).unwrap_or_default();
        let (pos, size) = self.files.get(&clean).copied().ok_or_else(|| {
            Error::Damaged(format!("archive '{}' has no file '{name}'", self.what))
        })?;
        Ok(Entry {
            file: &self.file,
            pos,
            end: pos + size,
        })
    }

    /// A small file (a manifest, a config), whole.
    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut e = self.open(name)?;
        if e.end - e.pos > 64 << 20 {
            return Err(Error::Damaged(format!(
                "'{name}' in '{}' is too large",
                self.what
            )));
        }
        let mut v = Vec::new();
        e.read_to_end(&mut v)
            .map_err(|err| Error::io("read", &self.what, err))?;
        Ok(v)
    }

    /// A blob of an OCI layout, checked against its digest.
    fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let data = self.read(&blob_name(digest)?)?;
        if sha256(&data) != digest {
            return Err(Error::Damaged(format!(
                "blob {digest} in '{}' does not match its digest",
                self.what
            )));
        }
        Ok(data)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, what: &str, data: &[u8]) -> Result<T> {
        serde_json::from_slice(data)
            .map_err(|e| Error::Damaged(format!("cannot parse {what} in '{}': {e}", self.what)))
    }
}

fn blob_name(digest: &str) -> Result<String> {
    if !format::valid_digest(digest) {
        return Err(Error::Damaged(format!("invalid digest '{digest}'")));
    }
    Ok(format!("blobs/sha256/{}", &digest[7..]))
}

/// One file's bytes inside the archive, read by position.
struct Entry<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Entry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.end - self.pos).min(buf.len() as u64) as usize;
        if left == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..left], self.pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// What one image of an archive became, before it is stored.
struct Pending {
    layers: Vec<Unpacked>,
    config: Vec<u8>,
    manifest: ManifestSrc,
    names: Vec<String>,
}

/// Stages the layers an image's config lists, checking each diff id (and
/// each blob digest, when `digests` gives them).
fn stage_layers(
    store: &Store,
    ar: &Archive,
    config: &ImageConfig,
    files: &[String],
    digests: Option<&[Descriptor]>,
) -> Result<Vec<Unpacked>> {
    let want = &config.rootfs.diff_ids;
    if want.len() != files.len() {
        return Err(Error::Damaged(format!(
            "archive '{}': {} layers but {} diff ids in the config",
            ar.what,
            files.len(),
            want.len()
        )));
    }
    let mut out: Vec<Unpacked> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let lowers: Vec<PathBuf> = out.iter().rev().map(|u| u.tmp_dir.clone()).collect();
        let u = stage(store, ar.open(f)?, f, &lowers)?;
        if let Some(d) = digests {
            if u.blob.digest != d[i].digest {
                return Err(Error::Damaged(format!(
                    "layer '{f}' in '{}' does not match its digest {}",
                    ar.what, d[i].digest
                )));
            }
        }
        if u.diff_id != want[i] {
            return Err(Error::Damaged(format!(
                "layer '{f}' in '{}' has diff id {}, the config says {}",
                ar.what, u.diff_id, want[i]
            )));
        }
        out.push(u);
    }
    Ok(out)
}

fn names_of(raw: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in raw {
        if let Ok(n) = normalize_name(n) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

fn load_docker(store: &Store, ar: &Archive) -> Result<Vec<Loaded>> {
    let entries: Vec<DockerEntry> = ar.json("manifest.json", &ar.read("manifest.json")?)?;
    let mut pending = Vec::new();
    for e in entries {
        let config = ar.read(&e.config)?;
        let parsed: ImageConfig = ar.json(&e.config, &config)?;
        let layers = stage_layers(store, ar, &parsed, &e.layers, None)?;
        let descs = layers.iter().map(|l| l.blob.clone()).collect();
        pending.push(Pending {
            layers,
            config,
            manifest: ManifestSrc::Layers(descs),
            names: names_of(&e.repo_tags.unwrap_or_default()),
        });
    }
    store_all(store, pending)
}

fn load_oci(store: &Store, ar: &Archive) -> Result<Vec<Loaded>> {
    let index: Index = ar.json("index.json", &ar.read("index.json")?)?;
    // One entry per (manifest, name), in the order of the index.
    let mut by_manifest: Vec<(Descriptor, Vec<String>)> = Vec::new();
    for d in index.manifests {
        let d = resolve_platform(ar, d)?;
        let name = d.annotations.get(REF_NAME).cloned();
        match by_manifest.iter_mut().find(|(m, _)| m.digest == d.digest) {
            Some((_, names)) => names.extend(name),
            None => by_manifest.push((d, name.into_iter().collect())),
        }
    }
    let mut pending = Vec::new();
    for (d, names) in by_manifest {
        let raw = ar.read_blob(&d.digest)?;
        let m: Manifest = ar.json("a manifest", &raw)?;
        let config = ar.read_blob(&m.config.digest)?;
        let parsed: ImageConfig = ar.json("an image config", &config)?;
        let files = m
            .layers
            .iter()
            .map(|l| blob_name(&l.digest))
            .collect::<Result<Vec<_>>>()?;
        let layers = stage_layers(store, ar, &parsed, &files, Some(&m.layers))?;
        let media = m.media_type.clone().unwrap_or(d.media_type.clone());
        pending.push(Pending {
            layers,
            config,
            manifest: ManifestSrc::Raw(raw, media),
            names: names_of(&names),
        });
    }
    store_all(store, pending)
}

/// An index entry that is itself an index: the manifest for this machine.
fn resolve_platform(ar: &Archive, d: Descriptor) -> Result<Descriptor> {
    if d.media_type != format::MEDIA_INDEX && d.media_type != format::MEDIA_DOCKER_LIST {
        return Ok(d);
    }
    let inner: Index = ar.json("an image index", &ar.read_blob(&d.digest)?)?;
    let host = format::host_platform();
    let mut found = inner
        .manifests
        .into_iter()
        .find(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.architecture == host.architecture && p.os == host.os)
        })
        .ok_or_else(|| {
            Error::not_found(
                "image for this platform in",
                format!("{} {}", ar.what, d.digest),
            )
        })?;
    found.annotations.extend(d.annotations);
    Ok(found)
}

fn store_all(store: &Store, pending: Vec<Pending>) -> Result<Vec<Loaded>> {
    let mut out = Vec::new();
    for p in pending {
        let id = store_image(store, &p.layers, &p.config, p.manifest, &p.names)?;
        out.push(Loaded { id, names: p.names });
    }
    Ok(out)
}
