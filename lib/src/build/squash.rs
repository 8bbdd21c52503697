//! `--squash`, `--squash-all` and `--layers=false`: the result's new
//! layers (or all of them) made one. The layers' folders are merged in
//! overlay format (`layer::squash`), written as one layer tar
//! (`layer::write_upper`) and staged as any layer is; the config keeps
//! every history entry, the squashed ones marked empty, and one entry for
//! the merged layer.

use std::fs::File;

use crate::error::{Error, Result};
use crate::image::format::History;
use crate::image::stage::{self, store_image, ManifestSrc};
use crate::image::{self, Image};
use crate::layer;
use crate::store::Store;

/// `img` with its layers above the first `keep` merged into one; `img`
/// itself when there is at most one of them.
pub fn squash(store: &Store, img: &Image, keep: usize, timestamp: Option<i64>) -> Result<Image> {
    let diff_ids = &img.config.rootfs.diff_ids;
    if diff_ids.len().saturating_sub(keep) <= 1 {
        return Ok(img.clone());
    }
    let dirs: Vec<_> = diff_ids.iter().map(|d| store.layer_dir(d)).collect();
    let (base, new) = dirs.split_at(keep);
    let tmp = store.tmp_dir();
    let merged = crate::store::tmp::owned_path(&tmp, "squash", "")?;
    let tar = crate::store::tmp::owned_path(&tmp, "squash", ".tar")?;
    let made = (|| {
        std::fs::create_dir_all(&merged).map_err(|e| Error::io("create", &merged, e))?;
        layer::squash(new, &merged, keep > 0)?;
        let out = File::create(&tar).map_err(|e| Error::io("create", &tar, e))?;
        let clamp = timestamp.map(|t| t.max(0) as u64);
        layer::write_upper(
            &merged,
            std::io::BufWriter::with_capacity(1 << 20, out),
            clamp,
        )?;
        let f = File::open(&tar).map_err(|e| Error::io("open", &tar, e))?;
        let lowers: Vec<_> = base.iter().rev().cloned().collect();
        stage::stage(store, f, "the squashed layer", &lowers)
    })();
    let _ = std::fs::remove_file(&tar);
    if merged.exists() {
        let _ = crate::tree::remove_tree(&merged);
    }
    let layer = made?;

    let mut cfg = img.config.clone();
    let mut seen = 0;
    for h in cfg.history.iter_mut().filter(|h| !h.empty_layer) {
        seen += 1;
        if seen > keep {
            h.empty_layer = true;
        }
    }
    let time = crate::time::rfc3339_or_now(timestamp);
    cfg.history.push(History {
        created: Some(time),
        created_by: Some(format!(
            "cc-build: the {} layers above {keep} squashed",
            new.len()
        )),
        author: None,
        comment: Some("cc-build".into()),
        empty_layer: false,
    });
    cfg.rootfs.diff_ids.truncate(keep);
    cfg.rootfs.diff_ids.push(layer.diff_id.clone());
    let mut descs = img.manifest.layers[..keep].to_vec();
    descs.push(layer.blob.clone());
    let bytes = serde_json::to_vec(&cfg).map_err(Error::internal)?;
    let id = store_image(store, &[layer], &bytes, ManifestSrc::Layers(descs), &[])?;
    image::resolve(store, &id)
}
