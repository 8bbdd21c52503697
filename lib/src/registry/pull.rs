//! cc-pull: a manifest, its config, and its layers, each layer unpacked as
//! it downloads (through the same `archive::stage` as cc-load: blob and
//! diff id hashed on the way), a few at a time. Nothing is named until
//! every layer checked out against its digest, its size and the config's
//! diff id; then `archive::store_image` moves it all in under the images
//! lock. A pull killed at any point leaves only tmp/ files (the partial
//! downloads, which the next pull resumes).

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::image::blob_path;
use crate::image::digest::sha256;
use crate::image::format::{self, Descriptor, ImageConfig};
use crate::image::reference::Reference;
use crate::image::stage::{self, ManifestSrc, Unpacked};
use crate::registry::blob::BlobReader;
use crate::registry::client::{Client, ATTEMPTS};
use crate::registry::{manifest, Options};
use crate::store::Store;

/// Layers fetched at once.
const PARALLEL: usize = 3;

/// Pulls `reference` into the store; returns the image id.
pub fn pull(store: &Store, reference: &str, opts: &Options) -> Result<String> {
    let r = Reference::parse(reference)?.normalized();
    let name = r.to_string();
    let host = r.domain.clone().expect("normalized");
    let client = Client::connect(&host, &r.path, opts, false)?;
    let want = opts.platform.clone().unwrap_or_else(format::host_platform);
    let tag = r.digest.clone().or(r.tag.clone()).expect("normalized");
    let m = manifest::fetch(&client, &tag, &name, &want)?;
    let config_raw = small_blob(&client, store, &m.manifest.config, &name)?;
    let config: ImageConfig = serde_json::from_slice(&config_raw)
        .map_err(|e| Error::Damaged(format!("{name}: malformed image config: {e}")))?;
    // A single-platform image (not reached through an index, which chose
    // by its own entries) asked for another platform: refused as an index
    // without it is, naming what the image is.
    if let Some(p) = opts.platform.as_ref().filter(|_| m.named == m.digest) {
        let variant_ok = p.variant.is_none() || p.variant == config.variant;
        if p.os != config.os || p.architecture != config.architecture || !variant_ok {
            let have = format::Platform {
                os: config.os.clone(),
                architecture: config.architecture.clone(),
                variant: config.variant.clone(),
            };
            return Err(Error::not_found(
                "image for the platform",
                format!(
                    "{} in {name} (it has {})",
                    manifest::show_platform(p),
                    manifest::show_platform(&have)
                ),
            ));
        }
    }
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != m.manifest.layers.len() {
        return Err(Error::Damaged(format!(
            "{name}: {} layers but {} diff ids in the config",
            m.manifest.layers.len(),
            diff_ids.len()
        )));
    }
    // Each layer once, and none that the store has already.
    let mut todo: Vec<(Descriptor, String)> = vec![];
    for (l, d) in m.manifest.layers.iter().zip(diff_ids) {
        let have = blob_path(store, &l.digest)?.exists() && store.layer_dir(d).exists();
        if !have && !todo.iter().any(|(t, _)| t.digest == l.digest) {
            todo.push((l.clone(), d.clone()));
        }
    }
    crate::failpoint::hit("pull.manifest");
    let staged = fetch_layers(&client, store, &todo, &name, opts.progress)?;
    crate::failpoint::hit("pull.staged");
    // Named by its tag, if any, and by its repo digest (`repo@sha256:…`,
    // a valid OCI ref.name: docker's RepoDigests), so `cc-run
    // repo@sha256:…` finds it whichever way it was pulled, and cc-images
    // --digests shows the digest.
    let mut names = vec![format!("{}@{}", r.repository(), m.named)];
    if let Some(t) = &r.tag {
        names.push(format!("{}:{t}", r.repository()));
    }
    let id = stage::store_image(
        store,
        &staged,
        &config_raw,
        ManifestSrc::Raw(m.raw, m.media_type),
        &names,
    )?;
    crate::events::record(store, "image", "pull", &name, &[("name", &name)]);
    Ok(id)
}

/// A config: small, read whole, checked against digest and size.
fn small_blob(c: &Client, store: &Store, d: &Descriptor, shown: &str) -> Result<Vec<u8>> {
    if d.size > 16 << 20 {
        return Err(Error::Damaged(format!(
            "{shown}: config of {} bytes is too large",
            d.size
        )));
    }
    let mut r = BlobReader::new(c, store, d)?;
    let mut data = Vec::with_capacity(d.size as usize);
    let read = r.read_to_end(&mut data);
    if let Err(e) = read {
        return Err(Error::registry(
            shown,
            match r.gave_up.take() {
                Some(why) => format!(
                    "cannot download config {} after {ATTEMPTS} tries: {why}",
                    d.digest
                ),
                None => format!("config {}: {e}", d.digest),
            },
        ));
    }
    if sha256(&data) != d.digest {
        r.discard();
        return Err(Error::Damaged(format!(
            "{shown}: config does not match its digest {}",
            d.digest
        )));
    }
    r.finish();
    Ok(data)
}

/// Progress on stderr: one line with every layer's share and the total,
/// redrawn at most ten times a second, and a line per finished layer.
struct Progress {
    sizes: Vec<u64>,
    state: Mutex<(Vec<u64>, Instant)>,
}

impl Progress {
    fn new(todo: &[(Descriptor, String)]) -> Progress {
        Progress {
            sizes: todo.iter().map(|(d, _)| d.size.max(1)).collect(),
            state: Mutex::new((vec![0; todo.len()], Instant::now())),
        }
    }

    fn update(&self, i: usize, pos: u64) {
        let mut st = self.state.lock().expect("lock");
        st.0[i] = pos;
        if st.1.elapsed() < Duration::from_millis(100) && pos < self.sizes[i] {
            return;
        }
        st.1 = Instant::now();
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        let layers: Vec<String> =
            st.0.iter()
                .zip(&self.sizes)
                .map(|(p, s)| format!("{:>3}%", p * 100 / s))
                .collect();
        let (got, all) = (st.0.iter().sum::<u64>(), self.sizes.iter().sum::<u64>());
        eprint!(
            "\r\x1b[2Klayers {} | {:.1}/{:.1} MiB",
            layers.join(" "),
            mib(got),
            mib(all)
        );
    }

    fn done(&self, d: &Descriptor) {
        let _st = self.state.lock().expect("lock");
        eprintln!("\r\x1b[2Kblob {}: done", &d.digest[7..19]);
    }
}

/// Downloads and unpacks `todo` on up to `PARALLEL` threads; the first
/// failure stops the others from starting new layers.
fn fetch_layers(
    c: &Client,
    store: &Store,
    todo: &[(Descriptor, String)],
    shown: &str,
    progress: bool,
) -> Result<Vec<Unpacked>> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Unpacked>> = Mutex::new(vec![]);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let progress = (progress && std::io::stderr().is_terminal()).then(|| Progress::new(todo));
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(todo.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= todo.len() || failed.lock().expect("lock").is_some() {
                    break;
                }
                let (d, diff_id) = &todo[i];
                let progress = progress.as_ref().map(|p| (p, i));
                match fetch_layer(c, store, d, diff_id, shown, progress) {
                    Ok(u) => done.lock().expect("lock").push(u),
                    Err(e) => {
                        failed.lock().expect("lock").get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().expect("lock") {
        return Err(e);
    }
    Ok(done.into_inner().expect("lock"))
}

fn fetch_layer(
    c: &Client,
    store: &Store,
    d: &Descriptor,
    diff_id: &str,
    shown: &str,
    progress: Option<(&Progress, usize)>,
) -> Result<Unpacked> {
    let mut r = BlobReader::new(c, store, d)?;
    if let Some((p, i)) = progress {
        r.progress = Some(Box::new(move |pos| p.update(i, pos)));
    }
    let u = stage::stage(store, &mut r, &format!("blob {}", d.digest), &[]);
    let u = match u {
        Ok(u) if u.blob.digest != d.digest => {
            r.discard();
            return Err(Error::Damaged(format!(
                "blob {} does not match its digest (got {})",
                d.digest, u.blob.digest
            )));
        }
        Ok(u) => u,
        Err(e) => {
            if let Some(w) = r.write_failed.take() {
                return Err(w);
            }
            // The network's own words, not what unpacking made of them.
            if let Some(why) = r.gave_up.take() {
                return Err(Error::registry(
                    shown,
                    format!(
                        "cannot download blob {} after {ATTEMPTS} tries: {why}",
                        d.digest
                    ),
                ));
            }
            // Bad bytes must not be resumed; a dropped network may be.
            if !r.net_failed {
                r.discard();
            }
            return Err(e);
        }
    };
    r.finish();
    if u.diff_id != diff_id {
        return Err(Error::Damaged(format!(
            "layer {} has diff id {}, the config says {diff_id}",
            d.digest, u.diff_id
        )));
    }
    if let Some((p, _)) = progress {
        p.done(d);
    }
    Ok(u)
}
