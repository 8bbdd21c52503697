//! cc-push: the blobs a registry lacks (asked with HEAD), then the
//! manifest. A blob that another repository of the same registry holds
//! (one of the image's other names) is mounted rather than uploaded; small
//! blobs go in one PUT, large ones in chunks.
//!
//! Layers go compressed, as docker and podman send them: by default a
//! layer stored as a plain tar (cc-import, cc-load) goes gzip-compressed,
//! through a copy the store keeps (`image::variant`), and a compressed one
//! as it is. The first push of such a layer compresses it on every core
//! and uploads it at the same time (`stream_layer`); later pushes send the
//! kept copy like any other blob. Then the manifest is the stored one with those layers'
//! descriptors changed, and the pushed digest is its own; when no layer
//! changes, the manifest goes byte for byte as stored and the pushed
//! digest is the image's.

use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::thread;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::image::digest::sha256;
use crate::image::format::{self, Descriptor};
use crate::image::reference::Reference;
use crate::image::{blob_path, resolve, variant, Image};
use crate::layer::{self, Compression};
use crate::registry::client::{error_text, query_escape, Client, Req, ReqBody};
use crate::registry::{debug, Options};
use crate::store::Store;

/// Blobs up to this size go in one request; larger ones in chunks of it.
const CHUNK: u64 = 16 << 20;

const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// What cc-push does to layers (`--compression-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushCompression {
    /// Layers stored as plain tars go gzip; compressed ones as stored.
    #[default]
    Default,
    /// Every layer gzip, recompressed when stored as zstd.
    Gzip,
    /// Every layer zstd, recompressed when stored as gzip.
    Zstd,
    /// Every blob and the manifest exactly as stored.
    AsStored,
}

impl PushCompression {
    /// The format a layer stored in `from` is pushed in.
    fn target(self, from: Compression) -> Compression {
        match (self, from) {
            (PushCompression::Default, Compression::None) => Compression::Gzip,
            (PushCompression::Gzip, _) => Compression::Gzip,
            (PushCompression::Zstd, _) => Compression::Zstd,
            (_, from) => from,
        }
    }
}

/// Pushes `image` to `dest` (its own name when none); returns the pushed
/// manifest's digest.
pub fn push(store: &Store, image: &str, dest: Option<&str>, opts: &Options) -> Result<String> {
    let img = resolve(store, image)?;
    let dest = dest.unwrap_or(image);
    let r = Reference::parse(dest)?.normalized();
    let host = r.domain.clone().expect("normalized");
    let client = Client::connect(&host, &r.path, opts, true)?;
    // Other repositories of the same registry that have these blobs.
    let sources: Vec<String> = img
        .names
        .iter()
        .filter_map(|n| Reference::parse(n).ok().map(Reference::normalized))
        .filter(|n| n.domain.as_deref() == Some(host.as_str()) && n.path != r.path)
        .map(|n| n.path)
        .collect();
    let plan = plan(store, &img, opts.compression)?;
    push_blob(
        &client,
        store,
        &img.manifest.config,
        &sources,
        opts.progress,
    )?;
    let mut layers = vec![];
    for layer in plan {
        layers.push(match layer {
            Layer::Ready(d, c) => {
                push_blob(&client, store, &d, &sources, opts.progress)?;
                (d, c)
            }
            Layer::Make {
                stored,
                diff_id,
                to,
            } => {
                let copy = stream_layer(&client, store, &stored, &diff_id, to, opts.progress)?;
                debug(&format!(
                    "{}: sent as {}, {}",
                    stored.digest,
                    variant::format_name(to),
                    copy.digest
                ));
                let mut d = stored;
                (d.digest, d.size) = (copy.digest, copy.size);
                (d, to)
            }
        });
    }
    let (raw, media) = manifest(store, &img, layers)?;
    crate::failpoint::hit("push.blobs");
    let digest = sha256(&raw);
    let reference = r.tag.clone().or(r.digest.clone()).expect("normalized");
    let mut req = Req::new("PUT", client.url(&format!("manifests/{reference}")))
        .header("Content-Type", media);
    req.body = ReqBody::Bytes(raw);
    let mut resp = client.send(&req)?;
    if resp.status().as_u16() != 201 && resp.status().as_u16() != 200 {
        return Err(Error::registry(
            r.to_string(),
            format!("manifest refused: {}", error_text(&mut resp)),
        ));
    }
    Ok(digest)
}

/// A layer to push.
enum Layer {
    /// A blob of the store: the layer as stored, or the compressed copy
    /// an earlier push kept; in what format.
    Ready(Descriptor, Compression),
    /// To be compressed from the stored blob `stored` into format `to`,
    /// and uploaded while it is.
    Make {
        stored: Descriptor,
        diff_id: String,
        to: Compression,
    },
}

/// The layers to push, each in the format `how` asks for: as stored, the
/// copy the store keeps in that format, or one to make.
fn plan(store: &Store, img: &Image, how: PushCompression) -> Result<Vec<Layer>> {
    let as_stored = || {
        img.manifest
            .layers
            .iter()
            .map(|l| Layer::Ready(l.clone(), Compression::None))
            .collect()
    };
    let diff_ids = &img.config.rootfs.diff_ids;
    if how == PushCompression::AsStored || diff_ids.len() != img.manifest.layers.len() {
        // The stored manifest goes as it is: the formats are not needed.
        return Ok(as_stored());
    }
    let mut layers = vec![];
    for (l, diff_id) in img.manifest.layers.iter().zip(diff_ids) {
        let from = stored_compression(store, &l.digest)?;
        let to = how.target(from);
        if to == from {
            layers.push(Layer::Ready(l.clone(), to));
            continue;
        }
        match variant::lookup(store, diff_id, to)? {
            Some(copy) => {
                debug(&format!(
                    "{}: sent as {}, {} (kept)",
                    l.digest,
                    variant::format_name(to),
                    copy.digest
                ));
                let mut d = l.clone();
                (d.digest, d.size) = (copy.digest, copy.size);
                layers.push(Layer::Ready(d, to));
            }
            None => layers.push(Layer::Make {
                stored: l.clone(),
                diff_id: diff_id.clone(),
                to,
            }),
        }
    }
    Ok(layers)
}

/// The manifest to push, with its media type: the stored one byte for
/// byte when every layer goes as stored, else the stored one with the
/// pushed layers' descriptors.
fn manifest(
    store: &Store,
    img: &Image,
    layers: Vec<(Descriptor, Compression)>,
) -> Result<(Vec<u8>, String)> {
    let path = blob_path(store, &img.manifest_digest)?;
    let stored = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    let media = img
        .manifest
        .media_type
        .clone()
        .unwrap_or_else(|| img.descriptor.media_type.clone());
    let same = layers
        .iter()
        .zip(&img.manifest.layers)
        .all(|((d, _), l)| d.digest == l.digest);
    if same {
        return Ok((stored, media));
    }
    let (_, raw, media) = rewrite(&stored, &media, layers)?;
    Ok((raw, media))
}

/// A blob's compression, from its first bytes.
fn stored_compression(store: &Store, digest: &str) -> Result<Compression> {
    let path = blob_path(store, digest)?;
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(&path)
        .and_then(|f| f.take(4).read_to_end(&mut head))
        .map_err(|e| Error::io("read", &path, e))?;
    Ok(layer::detect(&head))
}

/// The stored manifest with `layers` (descriptor, format) in place of its
/// own, every other field kept. Docker's schema 2 has no zstd layers: with
/// one, the manifest becomes an OCI one (the config's bytes stay; only its
/// media type changes), as podman converts it.
fn rewrite(
    stored: &[u8],
    media: &str,
    layers: Vec<(Descriptor, Compression)>,
) -> Result<(Vec<Descriptor>, Vec<u8>, String)> {
    let bad = |e: serde_json::Error| Error::Corrupt(format!("stored manifest: {e}"));
    let mut m: Value = serde_json::from_slice(stored).map_err(bad)?;
    let docker = media == format::MEDIA_DOCKER_MANIFEST;
    let to_oci = docker && layers.iter().any(|(_, c)| *c == Compression::Zstd);
    let mut out = vec![];
    let entries = m["layers"]
        .as_array_mut()
        .ok_or_else(|| Error::Corrupt("stored manifest: no layers".into()))?;
    for (entry, (mut d, c)) in entries.iter_mut().zip(layers) {
        if entry["digest"].as_str() != Some(d.digest.as_str()) || to_oci {
            d.media_type = match docker && !to_oci {
                true => DOCKER_LAYER_GZIP.into(),
                false => layer::media_type(c).into(),
            };
            entry["mediaType"] = d.media_type.clone().into();
            entry["digest"] = d.digest.clone().into();
            entry["size"] = d.size.into();
        }
        out.push(d);
    }
    let media = if to_oci {
        m["mediaType"] = format::MEDIA_MANIFEST.into();
        m["config"]["mediaType"] = format::MEDIA_CONFIG.into();
        format::MEDIA_MANIFEST.to_string()
    } else {
        media.to_string()
    };
    let raw = serde_json::to_vec(&m).map_err(bad)?;
    Ok((out, raw, media))
}

fn push_blob(
    c: &Client,
    store: &Store,
    b: &Descriptor,
    sources: &[String],
    progress: bool,
) -> Result<()> {
    let path = blob_path(store, &b.digest)?;
    let head = send(
        c,
        &Req::new("HEAD", c.url(&format!("blobs/{}", b.digest))),
        &b.digest,
    )?;
    if head.status().as_u16() == 200 {
        debug(&format!("{}: already there", b.digest));
        return Ok(());
    }
    for from in sources {
        let url = c.url(&format!(
            "blobs/uploads/?mount={}&from={}",
            query_escape(&b.digest),
            query_escape(from)
        ));
        let mut req = Req::new("POST", url);
        req.body = ReqBody::Bytes(vec![]);
        let resp = send(c, &req, &b.digest)?;
        if resp.status().as_u16() == 201 {
            debug(&format!("{}: mounted from {from}", b.digest));
            return Ok(());
        }
    }
    let mut location = start_upload(c, &b.digest)?;
    let mut off = 0;
    while b.size > CHUNK && off < b.size {
        let len = CHUNK.min(b.size - off);
        location = patch(c, &location, &path, off, len, &b.digest)?;
        off += len;
        if progress {
            eprint!(
                "\r\x1b[2Kblob {}: {:>3}%",
                &b.digest[7..19],
                off * 100 / b.size
            );
        }
    }
    finish_upload(c, &location, &b.digest, &path, off, b.size, &b.digest)?;
    if progress {
        eprintln!("\r\x1b[2Kblob {}: pushed", &b.digest[7..19]);
    }
    Ok(())
}

/// Compresses the stored layer `l` into format `to` and uploads it while
/// it is compressed, as skopeo does: the compressor (every core) writes
/// the copy the store keeps (`variant::Making`), and this thread sends it
/// in a PATCH each time it has grown by `CHUNK`; the last piece goes with
/// the PUT that names the digest, known only at the end. No HEAD first:
/// the digest is not known before, and a registry that has the blob
/// takes it again. The layer's diff id is checked before that PUT: an
/// upload of a layer that is not what the config says is cancelled.
fn stream_layer(
    c: &Client,
    store: &Store,
    l: &Descriptor,
    diff_id: &str,
    to: Compression,
    progress: bool,
) -> Result<variant::Copy> {
    let f = variant::format_name(to);
    debug(&format!(
        "{}: compressing to {f} while it is uploaded",
        l.digest
    ));
    // What the errors name: the digest of what is sent is not known yet.
    let what = format!("{} ({f})", l.digest);
    let making = variant::Making::new(store)?;
    let location = start_upload(c, &what)?;
    let (tx, rx) = mpsc::channel();
    let grown: variant::Grown = Box::new(move |len| {
        tx.send(len)
            .map_err(|_| io::Error::other("the upload stopped"))
    });
    let (made, sent) = thread::scope(|s| {
        let job = s.spawn(|| making.write(store, &l.digest, diff_id, to, Some((CHUNK, grown))));
        // Returns when the compressor is done (the channel closes) or on
        // the first refusal, which stops the compressor at its next write.
        let sent = follow(c, making.path(), location, rx, &what, progress);
        let made = job.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (made, sent)
    });
    let (location, off) = sent?;
    crate::failpoint::hit("push.compressed");
    let copy = match made {
        Ok(copy) => copy,
        Err(e) => {
            // Ours, not the registry's: tell it to drop what it has.
            let _ = c.send(&Req::new("DELETE", location));
            return Err(e);
        }
    };
    finish_upload(
        c,
        &location,
        &copy.digest,
        making.path(),
        off,
        copy.size,
        &what,
    )?;
    making.keep(store, diff_id, to, &copy)?;
    if progress {
        eprintln!("\r\x1b[2Kblob {}: pushed ({f})", &l.digest[7..19]);
    }
    Ok(copy)
}

/// Sends the file at `path` as it grows: a PATCH of what was added each
/// time `grown` tells a new length (lengths that came while a PATCH was
/// on its way go in one). Returns the upload's location and how many
/// bytes went.
fn follow(
    c: &Client,
    path: &Path,
    mut location: String,
    grown: Receiver<u64>,
    what: &str,
    progress: bool,
) -> Result<(String, u64)> {
    let mut off = 0;
    while let Ok(mut len) = grown.recv() {
        len = grown.try_iter().last().unwrap_or(len);
        location = patch(c, &location, path, off, len - off, what)?;
        off = len;
        if progress {
            eprint!(
                "\r\x1b[2Kblob {}: compressing and pushing, {} MB sent",
                &what[7..19],
                off / 1_000_000
            );
        }
    }
    Ok((location, off))
}

/// Sends `req`; a network failure names the blob it happened to.
fn send(c: &Client, req: &Req, what: &str) -> Result<ureq::http::Response<ureq::Body>> {
    c.send(req).map_err(|e| match e {
        Error::Sys { .. } => Error::registry(&c.host, format!("upload of {what} failed: {e}")),
        e => e,
    })
}

/// Starts an upload (POST); returns where its data goes.
fn start_upload(c: &Client, what: &str) -> Result<String> {
    let mut req = Req::new("POST", c.url("blobs/uploads/"));
    req.body = ReqBody::Bytes(vec![]);
    let mut resp = send(c, &req, what)?;
    if resp.status().as_u16() != 202 {
        return Err(Error::registry(
            &c.host,
            format!("cannot start an upload: {}", error_text(&mut resp)),
        ));
    }
    location_of(c, &resp)
}

/// Sends bytes `off..off + len` of `path` in the upload at `location`;
/// returns where the next ones go.
fn patch(
    c: &Client,
    location: &str,
    path: &Path,
    off: u64,
    len: u64,
    what: &str,
) -> Result<String> {
    let mut req = Req::new("PATCH", location.to_string())
        .header("Content-Type", "application/octet-stream")
        .header("Content-Range", format!("{}-{}", off, off + len - 1));
    req.body = ReqBody::File(path.to_path_buf(), off, len);
    let mut resp = send(c, &req, what)?;
    if resp.status().as_u16() != 202 {
        return Err(Error::registry(
            &c.host,
            format!("chunk of {what} refused: {}", error_text(&mut resp)),
        ));
    }
    location_of(c, &resp)
}

/// Ends the upload at `location` with a PUT that names the blob's digest
/// and carries the bytes of `path` from `off` to `size`.
fn finish_upload(
    c: &Client,
    location: &str,
    digest: &str,
    path: &Path,
    off: u64,
    size: u64,
    what: &str,
) -> Result<()> {
    let sep = if location.contains('?') { '&' } else { '?' };
    let mut req = Req::new(
        "PUT",
        format!("{location}{sep}digest={}", query_escape(digest)),
    )
    .header("Content-Type", "application/octet-stream");
    req.body = match off == size {
        true => ReqBody::Bytes(vec![]),
        false => ReqBody::File(path.to_path_buf(), off, size - off),
    };
    let mut resp = send(c, &req, what)?;
    if resp.status().as_u16() != 201 {
        return Err(Error::registry(
            &c.host,
            format!("upload of {what} refused: {}", error_text(&mut resp)),
        ));
    }
    Ok(())
}

fn location_of(c: &Client, resp: &ureq::http::Response<ureq::Body>) -> Result<String> {
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::registry(&c.host, "upload answer without a Location"))?;
    Ok(c.absolute(loc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(media: &str, digest: char, size: u64) -> Descriptor {
        Descriptor {
            media_type: media.into(),
            digest: format!("sha256:{}", digest.to_string().repeat(64)),
            size,
            annotations: Default::default(),
            platform: None,
        }
    }

    #[test]
    fn targets() {
        use Compression::*;
        let t = |how: PushCompression, from| how.target(from);
        assert_eq!(t(PushCompression::Default, None), Gzip);
        assert_eq!(t(PushCompression::Default, Zstd), Zstd);
        assert_eq!(t(PushCompression::Gzip, Zstd), Gzip);
        assert_eq!(t(PushCompression::Zstd, Gzip), Zstd);
        assert_eq!(t(PushCompression::AsStored, None), None);
    }

    #[test]
    fn rewrite_keeps_fields_and_converts_docker_for_zstd() {
        let plain = desc(layer::media_type(Compression::None), 'a', 100);
        let gz = desc(DOCKER_LAYER_GZIP, 'b', 50);
        let stored = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": format::MEDIA_DOCKER_MANIFEST,
            "config": {"mediaType": format::MEDIA_DOCKER_CONFIG, "digest": desc("", 'c', 1).digest, "size": 1},
            "layers": [plain, gz],
            "annotations": {"k": "v"},
        });
        let raw = serde_json::to_vec(&stored).unwrap();
        // gzip: a Docker manifest stays one, with Docker's gzip type.
        let new = desc("", 'd', 40);
        let layers = vec![
            (new.clone(), Compression::Gzip),
            (gz.clone(), Compression::Gzip),
        ];
        let (out, bytes, media) = rewrite(&raw, format::MEDIA_DOCKER_MANIFEST, layers).unwrap();
        assert_eq!(media, format::MEDIA_DOCKER_MANIFEST);
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);
        assert_eq!(m["layers"][0]["digest"], new.digest.as_str());
        assert_eq!(m["layers"][0]["size"], 40);
        assert_eq!(m["layers"][1], serde_json::to_value(&gz).unwrap());
        assert_eq!(m["annotations"]["k"], "v");
        assert_eq!(out[0].media_type, DOCKER_LAYER_GZIP);
        // zstd: OCI, every layer's type told by its format.
        let z = desc("", 'e', 30);
        let layers = vec![(z, Compression::Zstd), (gz, Compression::Gzip)];
        let (_, bytes, media) = rewrite(&raw, format::MEDIA_DOCKER_MANIFEST, layers).unwrap();
        assert_eq!(media, format::MEDIA_MANIFEST);
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["mediaType"], format::MEDIA_MANIFEST);
        assert_eq!(m["config"]["mediaType"], format::MEDIA_CONFIG);
        assert_eq!(
            m["layers"][0]["mediaType"],
            layer::media_type(Compression::Zstd)
        );
        assert_eq!(
            m["layers"][1]["mediaType"],
            layer::media_type(Compression::Gzip)
        );
    }
}
