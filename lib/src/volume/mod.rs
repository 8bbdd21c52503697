//! Volumes, as docker's `local` driver keeps them, without a daemon:
//! `volumes/<name>/_data` is what containers mount, `meta.json` its
//! options, labels and creation time. A volume is made in tmp/ and renamed
//! into place whole; it is removed by a rename out of `volumes/` first, so
//! a listing never sees half of one.
//!
//! A container's volumes are in its record (annotation `io.cc.volumes`,
//! see `mounts`): "in use" means some container record names it, running
//! or not, as docker counts it. cc-volume rm holds the `volumes` lock while
//! it looks; a run making a record that uses volumes holds it shared.
//!
//! | file        | owns |
//! | ----------- | ---- |
//! | `mounts.rs` | `-v`, `--mount`, `--volumes-from` and the image's VOLUMEs of a new container |
//! | `driver.rs` | the local driver's `-o type=,device=,o=`: a tmpfs or a bind on `_data` |

pub mod driver;
pub mod mounts;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::container::{self, Container};
use crate::error::{Error, Result};
use crate::events;
use crate::filter::{label_matches, Filters};
use crate::store::{self, Store};

/// The label docker (23 and later) puts on the volumes it makes for a
/// container (`-v /path`, an image's VOLUME): `cc-rm -v` and prune take
/// only those.
pub const ANON_LABEL: &str = "com.docker.volume.anonymous";

/// What meta.json keeps, under docker's names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    #[serde(rename = "CreatedAt")]
    pub created_at: String,
    #[serde(rename = "Labels", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "Options", default)]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub dir: PathBuf,
    pub meta: Meta,
}

impl Volume {
    /// The folder containers mount (docker's Mountpoint).
    pub fn data(&self) -> PathBuf {
        self.dir.join("_data")
    }

    pub fn anonymous(&self) -> bool {
        self.meta.labels.contains_key(ANON_LABEL)
    }

    /// `docker volume inspect`'s object.
    pub fn inspect(&self) -> Value {
        let or_null = |m: &BTreeMap<String, String>| match m.is_empty() {
            true => Value::Null,
            false => json!(m),
        };
        json!({
            "CreatedAt": self.meta.created_at,
            "Driver": "local",
            "Labels": or_null(&self.meta.labels),
            "Mountpoint": self.data(),
            "Name": self.name,
            "Options": or_null(&self.meta.options),
            "Scope": "local",
        })
    }

    /// `docker volume ls --format json`'s row.
    pub fn row(&self) -> Value {
        let labels: Vec<String> = self
            .meta
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        json!({
            "Availability": "N/A",
            "CreatedAt": self.meta.created_at,
            "Driver": "local",
            "Group": "N/A",
            "Labels": labels.join(","),
            "Links": "N/A",
            "Mountpoint": self.data(),
            "Name": self.name,
            "Scope": "local",
            "Size": "N/A",
            "Status": "N/A",
        })
    }
}

/// docker's rule for a local volume's name: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c));
    match ok {
        true => Ok(()),
        false => Err(Error::Usage(format!(
            "invalid volume name '{name}': a letter or digit, then at least one of [a-zA-Z0-9_.-]"
        ))),
    }
}

/// Makes the volume `name` (a fresh 64-hex name when `None`, for an
/// anonymous one) with the local driver's `options` and `labels`. A volume
/// of that name already there is returned as it is (docker's create is
/// idempotent); the bool says whether this call made it.
pub fn create(
    store: &Store,
    name: Option<&str>,
    options: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
) -> Result<(Volume, bool)> {
    let name = match name {
        Some(n) => n.to_string(),
        None => store::random_hex(32)?,
    };
    validate_name(&name)?;
    driver::check(&options)?;
    if let Ok(v) = load(store, &name) {
        return Ok((v, false));
    }
    let staging = store::tmp::owned_path(&store.tmp_dir(), "volume", "")?;
    let meta = Meta {
        created_at: crate::time::now_rfc3339(),
        labels,
        options,
    };
    let made = (|| {
        fs::create_dir_all(staging.join("_data"))
            .map_err(|e| Error::io("create", staging.join("_data"), e))?;
        store::write_json(&staging.join("meta.json"), &meta)
    })();
    let dir = store.volumes_dir().join(&name);
    let placed = made.and_then(|_| {
        fs::create_dir_all(store.volumes_dir())
            .map_err(|e| Error::io("create", store.volumes_dir(), e))?;
        fs::rename(&staging, &dir).map_err(|e| Error::io("create", &dir, e))
    });
    if let Err(e) = placed {
        let _ = crate::tree::remove_tree(&staging);
        // Made by another program meanwhile: that one is the volume.
        return load(store, &name).map(|v| (v, false)).map_err(|_| e);
    }
    let _ = store::sync_parent(&dir);
    events::record(store, "volume", "create", &name, &[("driver", "local")]);
    Ok((Volume { name, dir, meta }, true))
}

pub fn load(store: &Store, name: &str) -> Result<Volume> {
    let gone = || Error::not_found("volume", name);
    if validate_name(name).is_err() {
        return Err(gone());
    }
    let dir = store.volumes_dir().join(name);
    let meta: Meta = match store::read_json(&dir.join("meta.json")) {
        Ok(m) => m,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(gone())
        }
        Err(e) => return Err(e),
    };
    Ok(Volume {
        name: name.to_string(),
        dir,
        meta,
    })
}

/// Every volume, by name.
pub fn list(store: &Store) -> Result<Vec<Volume>> {
    let dir = store.volumes_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(Error::io("read", &dir, e)),
    };
    let mut out: Vec<Volume> = entries
        .flatten()
        .filter_map(|e| load(store, &e.file_name().to_string_lossy()).ok())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The containers whose records name each volume.
pub fn users(store: &Store) -> Result<BTreeMap<String, Vec<Container>>> {
    let mut out: BTreeMap<String, Vec<Container>> = BTreeMap::new();
    for c in container::list(store)? {
        for u in mounts::uses(&c) {
            out.entry(u.name).or_default().push(c.clone());
        }
    }
    Ok(out)
}

/// Removes a volume no container record names (docker's rule, whether the
/// container runs or not): a used one is a wrong state naming the
/// container, `-f` or not.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    let _lock = store.lock("volumes")?;
    let v = load(store, name)?;
    if let Some(c) = users(store)?.get(name).and_then(|cs| cs.first()) {
        return Err(Error::State(format!(
            "volume '{name}' is in use by container {} ({})",
            store::short_id(&c.id),
            c.name()
        )));
    }
    destroy(store, &v)
}

/// Unmounts and deletes an unused volume: renamed out of `volumes/` first.
fn destroy(store: &Store, v: &Volume) -> Result<()> {
    driver::unmount(v)?;
    let doomed = store::tmp::owned_path(&store.tmp_dir(), "volume-rm", "")?;
    fs::rename(&v.dir, &doomed).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found("volume", &v.name),
        _ => Error::io("remove", &v.dir, e),
    })?;
    let _ = crate::tree::remove_tree(&doomed);
    events::record(store, "volume", "destroy", &v.name, &[("driver", "local")]);
    Ok(())
}

/// Mounts what the options of a container's volumes ask for (a tmpfs),
/// where it is not mounted: before the container starts.
pub fn mount_all(store: &Store, c: &Container) -> Result<()> {
    for u in mounts::uses(c) {
        driver::mount_data(&load(store, &u.name)?)?;
    }
    Ok(())
}

/// `cc-rm -v`: the anonymous volumes of a removed container that no other
/// record names; named ones are never removed with a container.
pub fn remove_anonymous(store: &Store, c: &Container) -> Result<()> {
    let uses = mounts::uses(c);
    if uses.is_empty() {
        return Ok(());
    }
    let _lock = store.lock("volumes")?;
    let users = users(store)?;
    for u in uses {
        match load(store, &u.name) {
            Ok(v) if v.anonymous() && !users.contains_key(&v.name) => destroy(store, &v)?,
            _ => {}
        }
    }
    Ok(())
}

/// The keys of `cc-volume ls --filter`.
pub const LS_KEYS: &[&str] = &["name", "label", "label!", "dangling", "driver"];
/// The keys of `cc-volume prune --filter` (and cc-prune's for volumes).
pub const PRUNE_KEYS: &[&str] = &["label", "label!", "all", "until"];

/// `cc-volume ls`: the volumes the filters keep.
pub fn filtered(store: &Store, f: &Filters) -> Result<Vec<Volume>> {
    for v in f.values("dangling") {
        bool_value("dangling", v)?;
    }
    let users = match f.has("dangling") {
        true => users(store)?,
        false => BTreeMap::new(),
    };
    let mut out = list(store)?;
    out.retain(|v| {
        f.any("name", |n| v.name.contains(n))
            && labels_match(f, &v.meta.labels)
            && f.any("driver", |d| d == "local")
            && f.any("dangling", |d| {
                bool_value("dangling", d).unwrap_or(false) != users.contains_key(&v.name)
            })
    });
    Ok(out)
}

fn labels_match(f: &Filters, labels: &BTreeMap<String, String>) -> bool {
    f.any("label", |l| label_matches(labels, l))
        && f.values("label!").all(|l| !label_matches(labels, l))
}

fn bool_value(key: &str, v: &str) -> Result<bool> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::Usage(format!(
            "invalid filter '{key}={v}': give true or false"
        ))),
    }
}

/// `cc-volume prune`, `cc-prune --volumes`: the unused volumes the filters
/// keep (`label`, `label!`, `until`: made before), anonymous ones only
/// unless `all` (docker 23's rule); their names and the bytes they held.
pub fn prune(store: &Store, all: bool, f: &Filters) -> Result<(Vec<String>, u64)> {
    let mut all = all;
    for v in f.values("all") {
        all |= bool_value("all", v)?;
    }
    let until = f
        .values("until")
        .map(|v| crate::time::when_arg(v, std::time::SystemTime::now()))
        .collect::<Result<Vec<_>>>()?;
    let _lock = store.lock("volumes")?;
    let users = users(store)?;
    let (mut names, mut reclaimed) = (Vec::new(), 0);
    for v in list(store)? {
        let created = crate::time::parse_rfc3339(&v.meta.created_at);
        let old = until.iter().all(|u| created.is_some_and(|c| c < *u));
        if users.contains_key(&v.name)
            || !(all || v.anonymous())
            || !old
            || !labels_match(f, &v.meta.labels)
        {
            continue;
        }
        let size = crate::tree::size(&v.data()).unwrap_or(0);
        match destroy(store, &v) {
            Ok(()) => {
                names.push(v.name.clone());
                reclaimed += size;
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    events::record(
        store,
        "volume",
        "prune",
        "",
        &[("reclaimed", &reclaimed.to_string())],
    );
    Ok((names, reclaimed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_docker() {
        for ok in ["ab", "a1", "data.v1", "x_y-z", "0abc"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "", "-a", ".a", "a/b", "a:b", "a b", "_x"] {
            assert_eq!(validate_name(bad).unwrap_err().code(), 2, "{bad}");
        }
    }
}
