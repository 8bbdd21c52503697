//! Manifests: fetched with every type cc reads in `Accept`, checked
//! against their digest, and resolved through an index to one platform.

use crate::error::{Error, Result};
use crate::image::digest::sha256;
use crate::image::format::{self, Index, Manifest, Platform};
use crate::registry::client::{
    backoff, describe, error_text, read_limited, transient, Client, Req, ATTEMPTS,
};
use crate::registry::debug;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// A single-platform manifest as received.
pub struct Fetched {
    pub raw: Vec<u8>,
    pub media_type: String,
    pub digest: String,
    pub manifest: Manifest,
    /// The digest of what the reference named: the index's when it was
    /// one (docker's repo digest), else the manifest's.
    pub named: String,
}

/// Fetches `reference` (a tag or a digest) of the client's repository,
/// through an index when it is one.
pub fn fetch(c: &Client, reference: &str, shown: &str, platform: &Platform) -> Result<Fetched> {
    let (raw, media, digest) = get(c, reference, shown)?;
    if media == format::MEDIA_INDEX || media == format::MEDIA_DOCKER_LIST {
        let index: Index = serde_json::from_slice(&raw)
            .map_err(|e| Error::Damaged(format!("{shown}: malformed image index: {e}")))?;
        let d = select(&index, platform).ok_or_else(|| {
            let have: Vec<String> = index
                .manifests
                .iter()
                .filter_map(|m| m.platform.as_ref().map(show_platform))
                .collect();
            Error::not_found(
                "image for the platform",
                format!(
                    "{} in {shown} (it has {})",
                    show_platform(platform),
                    have.join(", ")
                ),
            )
        })?;
        let (raw, media, platform_digest) = get(c, &d.digest, shown)?;
        let mut m = single(raw, media, platform_digest, shown)?;
        m.named = digest;
        return Ok(m);
    }
    single(raw, media, digest, shown)
}

fn single(raw: Vec<u8>, media: String, digest: String, shown: &str) -> Result<Fetched> {
    if media != format::MEDIA_MANIFEST && media != format::MEDIA_DOCKER_MANIFEST {
        return Err(Error::Unsupported(format!(
            "{shown}: unsupported manifest type '{media}'"
        )));
    }
    let manifest: Manifest = serde_json::from_slice(&raw)
        .map_err(|e| Error::Damaged(format!("{shown}: malformed manifest: {e}")))?;
    if manifest.schema_version != 2
        || !format::valid_digest(&manifest.config.digest)
        || !manifest
            .layers
            .iter()
            .all(|l| format::valid_digest(&l.digest))
    {
        return Err(Error::Damaged(format!("{shown}: malformed manifest")));
    }
    Ok(Fetched {
        raw,
        media_type: media,
        named: digest.clone(),
        digest,
        manifest,
    })
}

pub fn show_platform(p: &Platform) -> String {
    match &p.variant {
        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
        None => format!("{}/{}", p.os, p.architecture),
    }
}

/// The index entry for `want`: same os and architecture, and the same
/// variant when `want` names one (arm64's `v8` is also the default).
fn select<'a>(index: &'a Index, want: &Platform) -> Option<&'a format::Descriptor> {
    index
        .manifests
        .iter()
        .find(|m| m.platform.as_ref().is_some_and(|p| p.is(want)))
}

/// One manifest or index: bytes, media type and digest, the digest checked
/// against the reference when it is one, and against the registry's
/// `Docker-Content-Digest` when it sends one. A body that stalls or breaks
/// off is asked for again, as a request that does is.
fn get(c: &Client, reference: &str, shown: &str) -> Result<(Vec<u8>, String, String)> {
    let req = Req::new("GET", c.url(&format!("manifests/{reference}"))).header("Accept", ACCEPT);
    let mut attempt = 1;
    let (raw, content_type, sent_digest) = loop {
        let mut resp = c.send(&req).map_err(|e| match e {
            Error::Sys { .. } => Error::registry(shown, e.to_string()),
            e => e,
        })?;
        match resp.status().as_u16() {
            200 => {}
            404 => {
                return Err(Error::not_found(
                    "image",
                    format!("{shown} ({})", error_text(&mut resp)),
                ))
            }
            _ => {
                return Err(Error::registry(
                    shown,
                    format!("cannot fetch the manifest: {}", error_text(&mut resp)),
                ))
            }
        }
        let header = |k: &str| {
            resp.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(';').next().unwrap_or(s).trim().to_string())
        };
        let (content_type, sent_digest) = (header("content-type"), header("docker-content-digest"));
        match read_limited(&mut resp) {
            Ok(raw) => break (raw, content_type, sent_digest),
            Err(e) if transient(&e) && attempt < ATTEMPTS => {
                debug(&format!("{shown}: manifest: {e}; asking again"));
                backoff(attempt);
                attempt += 1;
            }
            Err(e) => {
                let tries = match attempt {
                    1 => String::new(),
                    n => format!(" after {n} tries"),
                };
                return Err(Error::registry(
                    shown,
                    format!(
                        "cannot read the manifest{tries}: {}",
                        describe(&e, c.timeout)
                    ),
                ));
            }
        }
    };
    let digest = sha256(&raw);
    let expected = if reference.starts_with("sha256:") {
        Some(reference.to_string())
    } else {
        sent_digest.filter(|d| d.starts_with("sha256:"))
    };
    if let Some(e) = expected {
        if e != digest {
            return Err(Error::Damaged(format!(
                "{shown}: the manifest does not match its digest {e} (got {digest})"
            )));
        }
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    let probe: Probe = serde_json::from_slice(&raw)
        .map_err(|e| Error::Damaged(format!("{shown}: malformed manifest: {e}")))?;
    let media = probe.media_type.or(content_type).unwrap_or_default();
    Ok((raw, media, digest))
}
