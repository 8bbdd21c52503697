//! The build cache: `build-cache/<key>` holds the manifest digest of the
//! image a step made, the key a hash of everything the step's result depends on. The
//! images themselves are unnamed images of the store; a key whose image
//! is gone (cc-rmi, cc-prune) is a miss.

use std::fs;

use sha2::{Digest, Sha256};

use super::Stage;
use crate::error::{Error, Result};
use crate::image::format::{host_platform, History, ImageConfig, RootFs};
use crate::image::stage::{store_image, ManifestSrc, Unpacked};
use crate::image::{self, Image};
use crate::store::{self, Store};

const DIR: &str = "build-cache";

/// The key of a step on `parent`: each part hashed with its length, so
/// no two lists of parts give the same bytes.
pub fn key(parent: Option<&Image>, parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    let p = parent.map(|i| i.id.as_str()).unwrap_or("scratch");
    for part in std::iter::once(p.as_bytes()).chain(parts.iter().copied()) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// The image an earlier step with this key made, if it is still stored.
/// The key's file holds the image's manifest digest.
pub fn lookup(store: &Store, key: &str) -> Result<Option<Image>> {
    let path = store.root().join(DIR).join(key);
    let Some(digest) = store::read_optional(&path)? else {
        return Ok(None);
    };
    let digest = String::from_utf8_lossy(&digest).trim().to_string();
    if !crate::image::format::valid_digest(&digest) {
        return Ok(None);
    }
    image::by_manifest(store, &digest)
}

/// Records the image a step made under its key.
pub fn remember(store: &Store, key: &str, img: &Image) -> Result<()> {
    let dir = store.root().join(DIR);
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    store::write_atomic(&dir.join(key), img.manifest_digest.as_bytes())
}

/// `cc-prune --build-cache`: forgets every key and removes the `RUN
/// --mount=type=cache` folders; returns the keys. The unnamed step images
/// are then dangling images, which cc-prune removes with the others.
pub fn prune(store: &Store) -> Result<Vec<String>> {
    let mounts = store.root().join(super::mounts::DIR);
    if mounts.exists() {
        crate::tree::remove_tree(&mounts)?;
    }
    let dir = store.root().join(DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", &dir, e)),
    };
    let mut gone = Vec::new();
    for e in entries.flatten() {
        match fs::remove_file(e.path()) {
            Ok(()) => gone.push(e.file_name().to_string_lossy().into_owned()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(Error::io("remove", e.path(), err)),
        }
    }
    gone.sort();
    Ok(gone)
}

/// A new image on the stage's image: its config changed by `edit`, a
/// history entry `created_by` (none when empty), and `layer` on top.
pub fn derive(
    store: &Store,
    st: &Stage,
    layer: Option<Unpacked>,
    created_by: &str,
    edit: &dyn Fn(&mut ImageConfig) -> Result<()>,
) -> Result<Image> {
    let mut cfg = match &st.image {
        Some(img) => img.config.clone(),
        None => scratch(),
    };
    edit(&mut cfg)?;
    match st.onbuild.is_empty() {
        true => cfg.config.extra.remove("OnBuild"),
        false => cfg
            .config
            .extra
            .insert("OnBuild".into(), st.onbuild.clone().into()),
    };
    let time = crate::time::rfc3339_or_now(st.o.timestamp);
    if !created_by.is_empty() {
        cfg.history.push(History {
            created: Some(time.clone()),
            created_by: Some(created_by.to_string()),
            author: None,
            comment: Some("cc-build".into()),
            empty_layer: layer.is_none(),
        });
    }
    cfg.created = Some(time);
    store_config(store, st.image.as_ref(), cfg, layer)
}

/// Stores `cfg` as a new image with `parent`'s layers and `layer` on top.
pub fn store_config(
    store: &Store,
    parent: Option<&Image>,
    mut cfg: ImageConfig,
    layer: Option<Unpacked>,
) -> Result<Image> {
    let mut descs = parent
        .map(|p| p.manifest.layers.clone())
        .unwrap_or_default();
    let layers: Vec<Unpacked> = layer.into_iter().collect();
    for l in &layers {
        cfg.rootfs.diff_ids.push(l.diff_id.clone());
        descs.push(l.blob.clone());
    }
    let bytes = serde_json::to_vec(&cfg).map_err(Error::internal)?;
    let id = store_image(store, &layers, &bytes, ManifestSrc::Layers(descs), &[])?;
    image::resolve(store, &id)
}

/// The config of `FROM scratch`: the host's platform, no layers.
fn scratch() -> ImageConfig {
    let p = host_platform();
    ImageConfig {
        architecture: p.architecture,
        os: p.os,
        variant: p.variant,
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        },
        ..Default::default()
    }
}
