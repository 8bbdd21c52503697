//! Images: references, the OCI formats, and the store's image index, an
//! OCI image layout under `images/` that skopeo, umoci and podman read as
//! it is. Names live in index.json as `org.opencontainers.image.ref.name`;
//! an image's id is the digest of its config, as docker's is.

pub mod archive;
pub mod change;
pub mod digest;
pub mod filter;
pub mod format;
pub mod import;
pub mod reference;
pub mod stage;
pub mod variant;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::store::{self, Candidate, Store};
use format::{Descriptor, ImageConfig, Index, Manifest, REF_NAME};
use reference::Reference;

/// One image of the store.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:<hex>` of the config blob.
    pub id: String,
    pub manifest_digest: String,
    /// The manifest's descriptor as the index holds it.
    pub descriptor: Descriptor,
    pub manifest: Manifest,
    pub config: ImageConfig,
    /// Its names, `repo:tag`, sorted.
    pub names: Vec<String>,
    /// Its repo digests, `repo@sha256:…` (docker's RepoDigests: what a
    /// registry named it by when it was pulled), sorted.
    pub digests: Vec<String>,
    /// Docker's SIZE: the bytes of the unpacked layers' files (see
    /// [`layer_size`]), the same however the image arrived.
    pub size: u64,
}

impl Image {
    /// The unpacked layers' folders, top layer first, as overlay wants them.
    pub fn layer_dirs(&self, store: &Store) -> Vec<PathBuf> {
        self.config
            .rootfs
            .diff_ids
            .iter()
            .rev()
            .map(|d| store.layer_dir(d))
            .collect()
    }
}

pub fn blob_path(store: &Store, digest: &str) -> Result<PathBuf> {
    if !format::valid_digest(digest) {
        return Err(Error::Corrupt(format!("invalid digest '{digest}'")));
    }
    Ok(store.blobs_dir().join(&digest[7..]))
}

/// Stores a small blob (a manifest, a config) by its digest.
pub fn write_blob(store: &Store, media_type: &str, data: &[u8]) -> Result<Descriptor> {
    let digest = digest::sha256(data);
    store::write_new(&blob_path(store, &digest)?, data)?;
    Ok(Descriptor {
        media_type: media_type.into(),
        digest,
        size: data.len() as u64,
        annotations: Default::default(),
        platform: None,
    })
}

pub fn read_blob_json<T: serde::de::DeserializeOwned>(store: &Store, digest: &str) -> Result<T> {
    store::read_json(&blob_path(store, digest)?)
}

fn index_path(store: &Store) -> PathBuf {
    store.images_dir().join("index.json")
}

pub fn read_index(store: &Store) -> Result<Index> {
    store::read_json(&index_path(store))
}

fn write_index(store: &Store, index: &Index) -> Result<()> {
    store::write_json(&index_path(store), index)
}

/// The stored form of a name: `repo:tag` with `latest` when no tag.
pub fn normalize_name(name: &str) -> Result<String> {
    Ok(Reference::parse(name)?.with_default_tag().to_string())
}

/// Every image, one per manifest, with all its names.
pub fn list(store: &Store) -> Result<Vec<Image>> {
    let index = read_index(store)?;
    let mut by_digest: BTreeMap<String, (Descriptor, Vec<String>)> = BTreeMap::new();
    for d in &index.manifests {
        let (_, names) = by_digest
            .entry(d.digest.clone())
            .or_insert_with(|| (d.clone(), vec![]));
        if let Some(n) = d.annotations.get(REF_NAME) {
            names.push(n.clone());
        }
    }
    let mut out = Vec::new();
    for (digest, (descriptor, names)) in by_digest {
        out.push(image_of(store, digest, descriptor, names)?);
    }
    Ok(out)
}

/// The image of the index entries for manifest `digest`, if it is listed:
/// one manifest and one config read, not the whole list (cc-build's cache).
pub fn by_manifest(store: &Store, digest: &str) -> Result<Option<Image>> {
    let index = read_index(store)?;
    let entries: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| d.digest == digest)
        .collect();
    let Some(first) = entries.first() else {
        return Ok(None);
    };
    let names = entries
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME).cloned())
        .collect();
    image_of(store, digest.to_string(), (*first).clone(), names).map(Some)
}

/// An index entry's image: its manifest, config, names and size.
fn image_of(
    store: &Store,
    digest: String,
    mut descriptor: Descriptor,
    names: Vec<String>,
) -> Result<Image> {
    descriptor.annotations.clear();
    let manifest: Manifest = read_blob_json(store, &digest)?;
    let config: ImageConfig = read_blob_json(store, &manifest.config.digest)?;
    let (mut digests, mut names): (Vec<String>, Vec<String>) = names
        .into_iter()
        .partition(|n| reference::is_digest_name(n));
    names.sort();
    digests.sort();
    let size = config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| layer_size(store, d))
        .sum::<Result<u64>>()?;
    Ok(Image {
        id: manifest.config.digest.clone(),
        manifest_digest: digest,
        descriptor,
        manifest,
        config,
        names,
        digests,
        size,
    })
}

/// Docker's size of an unpacked layer (`tree::size`, what `docker images`
/// adds up): recorded when the layer was stored, or, for a layer stored
/// before cc recorded sizes, measured now and recorded.
pub fn layer_size(store: &Store, diff_id: &str) -> Result<u64> {
    let path = store.layer_size_path(diff_id);
    let recorded =
        store::read_optional(&path)?.and_then(|b| String::from_utf8(b).ok()?.trim().parse().ok());
    if let Some(n) = recorded {
        return Ok(n);
    }
    let n = crate::tree::size(&store.layer_dir(diff_id))?;
    // A store this user cannot write still shows the size.
    let _ = record_layer_size(store, diff_id, n);
    Ok(n)
}

/// Records `n` as the size of the layer `diff_id`; a lost record is only
/// measured again.
pub(crate) fn record_layer_size(store: &Store, diff_id: &str, n: u64) -> Result<()> {
    let dir = store.layer_sizes_dir();
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    store::write_volatile(&store.layer_size_path(diff_id), n.to_string().as_bytes())
}

/// The image a name, id or unique id prefix means.
pub fn resolve(store: &Store, query: &str) -> Result<Image> {
    let all = list(store)?;
    // A stored name matches the query's normal form too: `busybox` means
    // `busybox:latest`.
    let wanted = normalize_name(query).unwrap_or_default();
    let cands: Vec<Candidate> = all
        .iter()
        .map(|i| Candidate {
            id: i.id.clone(),
            names: i
                .names
                .iter()
                .chain(&i.digests)
                .map(|n| {
                    if *n == wanted {
                        query.to_string()
                    } else {
                        n.clone()
                    }
                })
                .collect(),
        })
        .collect();
    let id = store::resolve("image", query, &cands)?;
    Ok(all
        .into_iter()
        .find(|i| i.id == id)
        .expect("resolved id is listed"))
}

/// Adds a manifest to the index, under `name` when given (the name moves
/// from whatever image had it, as `docker tag` does).
pub fn add(store: &Store, manifest: &Descriptor, name: Option<&str>) -> Result<()> {
    let _lock = store.lock("images")?;
    add_locked(store, manifest, name)
}

/// `add`, for a caller that holds the images lock.
pub(crate) fn add_locked(store: &Store, manifest: &Descriptor, name: Option<&str>) -> Result<()> {
    let name = name.map(normalize_name).transpose()?;
    let mut index = read_index(store)?;
    let mut moved = None;
    if let Some(n) = &name {
        moved = index
            .manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME) == Some(n) && d.digest != manifest.digest)
            .map(|d| d.digest.clone());
        index
            .manifests
            .retain(|d| d.annotations.get(REF_NAME) != Some(n));
    }
    // An unnamed entry of the same manifest becomes redundant once named.
    index
        .manifests
        .retain(|d| d.digest != manifest.digest || d.annotations.contains_key(REF_NAME));
    let mut entry = manifest.clone();
    entry.annotations.clear();
    if let Some(n) = name {
        entry.annotations.insert(REF_NAME.into(), n);
    } else if index.manifests.iter().any(|d| d.digest == manifest.digest) {
        return Ok(());
    }
    index.manifests.push(entry);
    write_index(store, &index)?;
    match moved {
        Some(old) if !index.manifests.iter().any(|d| d.digest == old) => {
            collect_image_blobs(store, &index, &old)
        }
        _ => Ok(()),
    }
}

/// The blobs of manifest `old`, which just lost its last name, that no
/// image of `index` and no kept compressed copy uses: its manifest and
/// config, and layer blobs of its own (a re-commit under the same name
/// leaves these). Unpacked layer folders stay: a container may run on
/// them; cc-rmi's collection, which knows the containers, removes them.
/// Called under the images lock.
fn collect_image_blobs(store: &Store, index: &Index, old: &str) -> Result<()> {
    let m: Manifest = read_blob_json(store, old)?;
    let mut keep = variant::all_copies(store)?;
    for d in &index.manifests {
        let other: Manifest = read_blob_json(store, &d.digest)?;
        keep.insert(d.digest.clone());
        keep.insert(other.config.digest.clone());
        keep.extend(other.layers.iter().map(|l| l.digest.clone()));
    }
    let mut gone = vec![old.to_string(), m.config.digest.clone()];
    gone.extend(m.layers.iter().map(|l| l.digest.clone()));
    for digest in gone.iter().filter(|d| !keep.contains(*d)) {
        let p = blob_path(store, digest)?;
        match fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("remove", &p, e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Removes one name of an image that has others, as `docker rmi` of one
/// of several tags.
pub fn untag(store: &Store, name: &str) -> Result<()> {
    let _lock = store.lock("images")?;
    let mut index = read_index(store)?;
    let before = index.manifests.len();
    index
        .manifests
        .retain(|d| d.annotations.get(REF_NAME).map(|s| s.as_str()) != Some(name));
    if index.manifests.len() == before {
        return Err(Error::not_found("image", name));
    }
    write_index(store, &index)
}

/// Removes an image's every index entry, then the blobs and unpacked
/// layers that no remaining image and no container needs. `in_use` runs
/// under the images lock, which a new container holds shared while it
/// records its image (`container::create`): it returns the diff ids that
/// containers use, or refuses the removal, and no container can start
/// using the image between its answer and the deletion.
pub fn remove(
    store: &Store,
    image: &Image,
    in_use: impl FnOnce() -> Result<BTreeSet<String>>,
) -> Result<()> {
    let _lock = store.lock("images")?;
    let mut index = read_index(store)?;
    if !index
        .manifests
        .iter()
        .any(|d| d.digest == image.manifest_digest)
    {
        return Err(Error::not_found("image", short_id_of(image)));
    }
    let in_use = in_use()?;
    index
        .manifests
        .retain(|d| d.digest != image.manifest_digest);
    write_index(store, &index)?;
    // Killed here, the blobs and layers stay until the next removal's
    // collection (tests/crash.rs).
    crate::failpoint::hit("rmi.unlisted");
    collect_garbage(store, &index, &in_use)
}

fn short_id_of(image: &Image) -> String {
    store::short_id(&image.id).to_string()
}

/// The intermediate images of a list, as docker's: unnamed images another
/// image was built on (its layers and history continue theirs; cc-build
/// leaves one per step). cc-images shows them only with `-a`.
pub fn intermediates(images: &[Image]) -> BTreeSet<String> {
    let hist = |i: &Image| -> Vec<(Option<String>, Option<String>)> {
        let h = &i.config.history;
        h.iter()
            .map(|e| (e.created.clone(), e.created_by.clone()))
            .collect()
    };
    let mut out = BTreeSet::new();
    for x in images
        .iter()
        .filter(|i| i.names.is_empty() && i.digests.is_empty())
    {
        let (hx, dx) = (hist(x), &x.config.rootfs.diff_ids);
        let parent_of = |y: &Image| {
            let hy = hist(y);
            y.id != x.id
                && hy.len() > hx.len()
                && hy.starts_with(&hx)
                && y.config.rootfs.diff_ids.starts_with(dx)
        };
        if images.iter().any(parent_of) {
            out.insert(x.id.clone());
        }
    }
    out
}

/// Whether the image whose id (config digest) is `id` is in the index.
/// Its layers are unpacked while it is (a pull unpacks before it lists).
pub fn contains(store: &Store, id: &str) -> Result<bool> {
    for d in read_index(store)?.manifests {
        let m: Manifest = read_blob_json(store, &d.digest)?;
        if m.config.digest == id {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Deletes blobs and layer folders nothing refers to. Called under the
/// images lock.
fn collect_garbage(store: &Store, index: &Index, in_use: &BTreeSet<String>) -> Result<()> {
    let mut blobs = BTreeSet::new();
    let mut layers = in_use.clone();
    for d in &index.manifests {
        let m: Manifest = read_blob_json(store, &d.digest)?;
        let c: ImageConfig = read_blob_json(store, &m.config.digest)?;
        blobs.insert(d.digest.clone());
        blobs.insert(m.config.digest.clone());
        blobs.extend(m.layers.iter().map(|l| l.digest.clone()));
        layers.extend(c.rootfs.diff_ids);
    }
    // Compressed copies made for pushes stay while their layer does.
    blobs.extend(variant::keep(store, &layers)?);
    remove_unlisted(&store.blobs_dir(), &blobs)?;
    if store.layer_sizes_dir().is_dir() {
        remove_unlisted(&store.layer_sizes_dir(), &layers)?;
    }
    remove_unlisted(&store.layers_dir(), &layers)
}

fn remove_unlisted(dir: &std::path::Path, keep: &BTreeSet<String>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || keep.contains(&format!("sha256:{name}")) {
            continue;
        }
        // A layer committed from a container may be any depth.
        crate::tree::remove_tree(&e.path())?;
    }
    Ok(())
}
