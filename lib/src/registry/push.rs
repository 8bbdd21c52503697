//! cc-push: the blobs a registry lacks (asked with HEAD), then the
//! manifest, byte for byte as stored, so the pushed digest is the image's.
//! A blob that another repository of the same registry holds (one of the
//! image's other names) is mounted rather than uploaded; small blobs go in
//! one PUT, large ones in chunks.

use crate::error::{Error, Result};
use crate::image::oci::Descriptor;
use crate::image::reference::Reference;
use crate::image::{blob_path, resolve};
use crate::registry::client::{error_text, query_escape, Client, Req, ReqBody};
use crate::registry::{debug, Options};
use crate::store::Store;

/// Blobs up to this size go in one request; larger ones in chunks of it.
const CHUNK: u64 = 16 << 20;

/// Pushes `image` to `dest` (its own name when none); returns the
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
    let mut blobs = vec![img.manifest.config.clone()];
    blobs.extend(img.manifest.layers.iter().cloned());
    for b in &blobs {
        push_blob(&client, store, b, &sources, opts.progress)?;
    }
    let raw = std::fs::read(blob_path(store, &img.manifest_digest)?).map_err(|e| {
        Error::io(
            "read",
            blob_path(store, &img.manifest_digest).unwrap_or_default(),
            e,
        )
    })?;
    let media = img
        .manifest
        .media_type
        .clone()
        .unwrap_or_else(|| img.descriptor.media_type.clone());
    let reference = r.tag.clone().or(r.digest.clone()).expect("normalized");
    let mut req = Req::new("PUT", client.url(&format!("manifests/{reference}")))
        .header("Content-Type", media);
    req.body = ReqBody::Bytes(raw);
    let mut resp = client.send(&req)?;
    if resp.status().as_u16() != 201 && resp.status().as_u16() != 200 {
        return Err(Error::Invalid(format!(
            "{r}: manifest refused: {}",
            error_text(&mut resp)
        )));
    }
    Ok(img.manifest_digest)
}

fn push_blob(
    c: &Client,
    store: &Store,
    b: &Descriptor,
    sources: &[String],
    progress: bool,
) -> Result<()> {
    let path = blob_path(store, &b.digest)?;
    // A network failure names the blob it happened to.
    let send = |req: &Req| {
        c.send(req).map_err(|e| match e {
            Error::Sys { .. } => {
                Error::Invalid(format!("{}: upload of {} failed: {e}", c.host, b.digest))
            }
            e => e,
        })
    };
    let head = send(&Req::new("HEAD", c.url(&format!("blobs/{}", b.digest))))?;
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
        let resp = send(&req)?;
        if resp.status().as_u16() == 201 {
            debug(&format!("{}: mounted from {from}", b.digest));
            return Ok(());
        }
    }
    let mut req = Req::new("POST", c.url("blobs/uploads/"));
    req.body = ReqBody::Bytes(vec![]);
    let mut resp = send(&req)?;
    if resp.status().as_u16() != 202 {
        return Err(Error::Invalid(format!(
            "{}: cannot start an upload: {}",
            c.host,
            error_text(&mut resp)
        )));
    }
    let mut location = location_of(c, &resp)?;
    let mut off = 0;
    while b.size > CHUNK && off < b.size {
        let len = CHUNK.min(b.size - off);
        let mut req = Req::new("PATCH", location.clone())
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", format!("{}-{}", off, off + len - 1));
        req.body = ReqBody::File(path.clone(), off, len);
        let mut resp = send(&req)?;
        if resp.status().as_u16() != 202 {
            return Err(Error::Invalid(format!(
                "{}: chunk of {} refused: {}",
                c.host,
                b.digest,
                error_text(&mut resp)
            )));
        }
        location = location_of(c, &resp)?;
        off += len;
        if progress {
            eprint!(
                "\r\x1b[2Kblob {}: {:>3}%",
                &b.digest[7..19],
                off * 100 / b.size
            );
        }
    }
    let sep = if location.contains('?') { '&' } else { '?' };
    let mut req = Req::new(
        "PUT",
        format!("{location}{sep}digest={}", query_escape(&b.digest)),
    )
    .header("Content-Type", "application/octet-stream");
    req.body = if off == b.size && b.size > CHUNK {
        ReqBody::Bytes(vec![])
    } else {
        ReqBody::File(path, 0, b.size)
    };
    let mut resp = send(&req)?;
    if resp.status().as_u16() != 201 {
        return Err(Error::Invalid(format!(
            "{}: upload of {} refused: {}",
            c.host,
            b.digest,
            error_text(&mut resp)
        )));
    }
    if progress {
        eprintln!("\r\x1b[2Kblob {}: pushed", &b.digest[7..19]);
    }
    Ok(())
}

fn location_of(c: &Client, resp: &ureq::http::Response<ureq::Body>) -> Result<String> {
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Invalid(format!("{}: upload answer without a Location", c.host)))?;
    Ok(c.absolute(loc))
}
