//! cc-prune: what nothing uses goes, as `docker system prune` and its
//! per-kind siblings: stopped containers, dangling (or, with `all`, every
//! unused) image, network leftovers of owners that are gone, unused
//! anonymous volumes. Each removal is the ordinary one (`lifecycle::remove`,
//! `container::remove_image`, `net::gc`, `volume::prune`), so a container started or an image used meanwhile is
//! skipped, never removed under its user.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::container::{self, Status};
use crate::error::{Error, Result};
use crate::events;
use crate::filter::{label_matches, Filters};
use crate::image;
use crate::store::Store;

/// The filter keys docker's prune takes: `until` (created before a time)
/// and `label`/`label!` (has, or has not, a label).
pub const KEYS: &[&str] = &["until", "label", "label!"];

#[derive(Debug, Default)]
pub struct Options {
    pub containers: bool,
    pub images: bool,
    /// Every image no container uses, not only dangling ones.
    pub all_images: bool,
    pub networks: bool,
    /// Unused anonymous volumes (docker 23's `system prune --volumes`).
    pub volumes: bool,
    pub filters: Filters,
}

/// What went, in docker's words.
#[derive(Debug, Default)]
pub struct Report {
    pub containers: Vec<String>,
    /// `untagged: NAME` and `deleted: ID` lines, in order.
    pub images: Vec<String>,
    /// The leftover network pieces (a lease's address and veth) released.
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Bytes: the containers' folders, the unpacked layers and the
    /// volumes that went.
    pub reclaimed: u64,
}

pub fn prune(store: &Store, o: &Options) -> Result<Report> {
    let until = o
        .filters
        .values("until")
        .map(|v| crate::time::when_arg(v, SystemTime::now()))
        .collect::<Result<Vec<_>>>()?;
    let keep = |created: Option<SystemTime>, labels: &BTreeMap<String, String>| {
        let old = until.iter().all(|u| created.is_some_and(|c| c < *u));
        !(old
            && o.filters.any("label", |v| label_matches(labels, v))
            && o.filters
                .values("label!")
                .all(|v| !label_matches(labels, v)))
    };
    let mut r = Report::default();
    // docker's `prune` events, one per kind, with what it reclaimed.
    if o.containers {
        let before = r.reclaimed;
        containers(store, &keep, &mut r)?;
        let freed = (r.reclaimed - before).to_string();
        events::record(store, "container", "prune", "", &[("reclaimed", &freed)]);
    }
    if o.images {
        let before = r.reclaimed;
        images(store, o.all_images, &keep, &mut r)?;
        let freed = (r.reclaimed - before).to_string();
        events::record(store, "image", "prune", "", &[("reclaimed", &freed)]);
    }
    if o.volumes {
        // After the containers: the anonymous volumes they held are unused.
        let (names, freed) = crate::volume::prune(store, false, &o.filters)?;
        r.volumes = names;
        r.reclaimed += freed;
    }
    if o.networks {
        for l in crate::net::gc(store)? {
            r.networks.push(format!("{} {}", l.ip, l.veth));
        }
    }
    Ok(r)
}

type Keep<'a> = dyn Fn(Option<SystemTime>, &BTreeMap<String, String>) -> bool + 'a;

fn containers(store: &Store, keep: &Keep, r: &mut Report) -> Result<()> {
    for c in container::list(store)? {
        let stopped = matches!(c.status(), Status::Exited | Status::Created);
        let created = crate::time::parse_rfc3339(&c.state.created);
        if !stopped || keep(created, &c.labels()) {
            continue;
        }
        let size = crate::tree::size(&c.dir).unwrap_or(0);
        match crate::lifecycle::remove(store, &c, false) {
            Ok(()) => {
                r.containers.push(c.id.clone());
                r.reclaimed += size;
            }
            // Started, or removed, by another program meanwhile: not ours.
            Err(Error::State(_) | Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn images(store: &Store, all: bool, keep: &Keep, r: &mut Report) -> Result<()> {
    let users: Vec<String> = container::list(store)?
        .iter()
        .filter_map(|c| c.image().map(String::from))
        .collect();
    // The unpacked layers before: what is missing after is reclaimed.
    let before = layer_sizes(store)?;
    for img in image::list(store)? {
        let dangling = img.names.is_empty() && img.digests.is_empty();
        let created = img
            .config
            .created
            .as_deref()
            .and_then(crate::time::parse_rfc3339);
        let labels = img.config.config.labels.clone().unwrap_or_default();
        if !(dangling || all) || users.contains(&img.id) || keep(created, &labels) {
            continue;
        }
        match container::remove_image(store, &img, &img.id, false) {
            Ok(()) => {
                for n in img.names.iter().chain(&img.digests) {
                    events::record(store, "image", "untag", &img.id, &[("name", n)]);
                    r.images.push(format!("untagged: {n}"));
                }
                events::record(store, "image", "delete", &img.id, &[("name", &img.id)]);
                r.images.push(format!("deleted: {}", img.id));
            }
            Err(Error::State(_) | Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    r.reclaimed += before
        .into_iter()
        .filter(|(dir, _)| !dir.exists())
        .map(|(_, size)| size)
        .sum::<u64>();
    Ok(())
}

/// Each unpacked layer's folder and its size (docker's, recorded).
fn layer_sizes(store: &Store) -> Result<Vec<(PathBuf, u64)>> {
    let dir = store.layers_dir();
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir)
        .map_err(|e| Error::io("read", &dir, e))?
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let size = image::layer_size(store, &format!("sha256:{name}")).unwrap_or(0);
        out.push((e.path(), size));
    }
    Ok(out)
}
