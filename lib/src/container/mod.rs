//! Container records: `containers/<id>/` holds the OCI runtime config
//! (`config.json`; the folder is a bundle), `state.json`, and the overlay's
//! `upper/`, `work/` and `rootfs/`. cc's own facts about a container (its
//! name, image, layers, user) are annotations of the config.

pub mod exit;
pub mod names;
pub mod pending;
pub mod restart;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::spec::Spec;
use crate::store::{self, Candidate, Store};
pub use state::{State, Status};

pub const ANN_NAME: &str = "io.cc.name";
/// A container's labels: its image's, then `cc-run --label`'s, each an
/// annotation `io.cc.label.KEY`.
pub const ANN_LABEL: &str = "io.cc.label.";
pub const ANN_IMAGE: &str = "io.cc.image";
pub const ANN_IMAGE_NAME: &str = "io.cc.image.name";
/// The image's layers' diff ids, top first, comma-separated.
pub const ANN_LAYERS: &str = "io.cc.layers";
/// The `-u` user, looked up in the container's /etc/passwd at each start.
pub const ANN_USER: &str = "io.cc.user";
pub const ANN_INIT: &str = "io.cc.init";
pub const ANN_RM: &str = "io.cc.rm";
pub const ANN_INTERACTIVE: &str = "io.cc.interactive";
/// `--log-max-size`: ctr.log rotates past this many bytes.
pub const ANN_LOG_MAX: &str = "io.cc.log-max-size";
/// `--stop-signal` or the image's StopSignal, for cc-stop.
pub const ANN_STOP_SIGNAL: &str = "io.cc.stop-signal";
/// `--stop-timeout`: seconds cc-stop waits when not given `-t`.
pub const ANN_STOP_TIMEOUT: &str = "io.cc.stop-timeout";
/// `--cgroup-parent`: the group (cgroupfs) or slice (systemd) the
/// container's group is made in.
pub const ANN_CGROUP_PARENT: &str = "io.cc.cgroup-parent";
pub use crate::sandbox::user::ANN_GROUP_ADD;
/// `--rootfs DIR`: the container runs on that folder, not on an overlay.
pub const ANN_ROOTFS: &str = "io.cc.rootfs";
/// `systemd` when systemd makes the container's group (`--cgroup-manager`).
pub const ANN_CGROUP_MANAGER: &str = "io.cc.cgroup-manager";

#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub dir: PathBuf,
    pub spec: Spec,
    pub state: State,
}

impl Container {
    pub fn name(&self) -> &str {
        self.annotation(ANN_NAME).unwrap_or("")
    }
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.spec
            .annotations
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(ANN_LABEL)?.to_string(), v.clone())))
            .collect()
    }
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.spec.annotations.get(key).map(|s| s.as_str())
    }
    pub fn image(&self) -> Option<&str> {
        self.annotation(ANN_IMAGE).filter(|s| !s.is_empty())
    }
    /// The image as the user named it, else its short id; `<rootfs>` for a
    /// container of a plain folder (cc-ps's IMAGE column).
    pub fn image_shown(&self) -> String {
        match self.annotation(ANN_IMAGE_NAME).filter(|s| !s.is_empty()) {
            Some(n) => n.to_string(),
            None => self
                .image()
                .map(|i| store::short_id(i).to_string())
                .unwrap_or_else(|| "<rootfs>".into()),
        }
    }
    pub fn layers(&self) -> Vec<String> {
        self.annotation(ANN_LAYERS)
            .map(|s| {
                s.split(',')
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    /// The status a reader may believe (see `state`).
    pub fn status(&self) -> Status {
        self.state.derived().status
    }
    /// The pid of the main process of a running container; any other
    /// status is a wrong state (exit 4) for whatever needs the process.
    pub fn running_pid(&self) -> Result<i32> {
        match self.state.derived() {
            State {
                status: Status::Running,
                pid: Some(pid),
                ..
            } => Ok(pid),
            _ => Err(Error::State(format!(
                "container '{}' is not running",
                self.name()
            ))),
        }
    }
    /// Whether cc-pause froze its running processes: the cgroup's freezer
    /// says, so a pause outlives no process and needs no record.
    pub fn paused(&self) -> bool {
        self.status() == Status::Running
            && crate::cgroup::Cgroup::open(&self.cgroup_name()).frozen()
    }
    /// The pid of a running container that a new process may join
    /// (cc-exec, cc-attach): a paused one is a wrong state, since what
    /// joins it would freeze at once.
    pub fn unpaused_pid(&self) -> Result<i32> {
        let pid = self.running_pid()?;
        if self.paused() {
            return Err(Error::State(format!(
                "container '{}' is paused: cc-unpause it first",
                self.name()
            )));
        }
        Ok(pid)
    }
    /// Writes state.json; durably unless the record only describes a
    /// process of this boot (see `store::write_volatile`).
    pub fn save_state(&self) -> Result<()> {
        let path = self.dir.join("state.json");
        // A `--rm` container's record is deleted when it ends: nothing of
        // it needs to survive a crash.
        if self.state.status == Status::Running || self.annotation(ANN_RM).is_some() {
            let bytes = serde_json::to_vec_pretty(&self.state).map_err(Error::internal)?;
            store::write_volatile(&path, &bytes)
        } else {
            store::write_json(&path, &self.state)
        }
    }
    /// Writes config.json: 0600, since the spec holds the environment
    /// (passwords); durably unless the record goes when it ends (`--rm`).
    pub fn save_spec(&self) -> Result<()> {
        let config = serde_json::to_vec_pretty(&self.spec).map_err(Error::internal)?;
        let path = self.dir.join("config.json");
        if self.annotation(ANN_RM).is_some() {
            store::write_volatile_mode(&path, &config, store::PRIVATE)
        } else {
            store::write_atomic_mode(&path, &config, store::PRIVATE)
        }
    }
    /// The cgroup limits of the spec.
    pub fn resources(&self) -> crate::Result<crate::cgroup::Resources> {
        crate::cgroup::Resources::of_spec(&self.spec)
    }

    /// The cgroup name of this container.
    pub fn cgroup_name(&self) -> String {
        self.spec
            .linux
            .as_ref()
            .and_then(|l| l.cgroups_path.clone())
            .unwrap_or_else(|| {
                let manager = match self.annotation(ANN_CGROUP_MANAGER) {
                    Some("systemd") => crate::cgroup::Manager::Systemd,
                    _ => crate::cgroup::Manager::Cgroupfs,
                };
                manager.group_name(self.annotation(ANN_CGROUP_PARENT), &self.id)
            })
    }
}

/// Records a container event in the store's events log with docker's
/// attributes: the container's labels, its image and name, and `extra`.
pub fn event(store: &Store, c: &Container, action: &str, extra: &[(&str, &str)]) {
    let mut attrs = c.labels();
    attrs.insert("image".into(), c.image_shown());
    attrs.insert("name".into(), c.name().into());
    for (k, v) in extra {
        attrs.insert(k.to_string(), v.to_string());
    }
    crate::events::emit(
        store,
        &crate::events::Event::new("container", action, &c.id, attrs),
    );
}

/// Makes a new container record for `spec`: a fresh id, the name reserved
/// (or generated), the folders, then `prepare` (files of its own that the
/// spec refers to), then config.json and state.json. The record is made in
/// a pending folder (see `pending`) and renamed into place complete; on
/// error, or if this process is killed, nothing is left that `collect`
/// does not remove. A record of an image is put in place under the images
/// lock, shared, once the image is known to be still there: cc-rmi, which
/// holds that lock to look for users, sees the record or removes the image
/// first, never both (see `remove_image`).
pub fn create(
    store: &Store,
    mut spec: Spec,
    name: Option<&str>,
    prepare: impl FnOnce(&mut Container) -> Result<()>,
) -> Result<Container> {
    let id = store::new_id()?;
    let staging = pending::make_new(store, &id)?;
    failpoint::hit("run.staged");
    let name = match name {
        Some(n) => names::reserve(store, n, &id).map(|_| n.to_string()),
        None => names::reserve_generated(store, &id),
    };
    let name = match name {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_dir(&staging);
            return Err(e);
        }
    };
    failpoint::hit("run.named");
    spec.annotations.insert(ANN_NAME.into(), name.clone());
    let mut c = Container {
        id: id.clone(),
        dir: staging.clone(),
        spec,
        state: State::new(crate::time::now_rfc3339()),
    };
    let made = write_record(&mut c, prepare).and_then(|_| {
        failpoint::hit("run.written");
        put_in_place(store, &c)
    });
    if let Err(e) = made {
        let _ = crate::tree::remove_tree(&staging);
        names::release(store, &name, &id);
        return Err(e);
    }
    c.dir = store.container_dir(&id);
    event(store, &c, "create", &[]);
    Ok(c)
}

/// The folders, `prepare`, config.json and state.json, in `c.dir`.
fn write_record(
    c: &mut Container,
    prepare: impl FnOnce(&mut Container) -> Result<()>,
) -> Result<()> {
    for d in [c.upper(), c.work(), c.rootfs()] {
        fs::create_dir_all(&d).map_err(|e| Error::io("create", &d, e))?;
    }
    prepare(c)?;
    c.save_spec()?;
    c.save_state()
}

/// Runs `change` on the record of `id` as it is now, reloaded under the
/// record's `config.lock`, so two programs changing one config.json
/// (cc-rename, cc-update) never lose each other's change.
pub fn change<T>(
    store: &Store,
    id: &str,
    change: impl FnOnce(&mut Container) -> Result<T>,
) -> Result<T> {
    let _lock = store::lock_file(&store.container_dir(id).join("config.lock"))?;
    let mut c = load(store, id)?;
    change(&mut c)
}

/// cc-rename: `new` is reserved first (symlink(2), so of a cc-run --name
/// racing for it one wins), then written in config.json, then the old
/// name is freed. Taken is a wrong state (exit 4) naming the owner.
pub fn rename(store: &Store, id: &str, new: &str) -> Result<()> {
    names::validate(new)?;
    change(store, id, |c| {
        let old = c.name().to_string();
        if old == new {
            return Err(Error::Usage(format!(
                "container '{old}' is already named '{new}'"
            )));
        }
        names::reserve(store, new, &c.id)?;
        c.spec.annotations.insert(ANN_NAME.into(), new.to_string());
        if let Err(e) = c.save_spec() {
            names::release(store, new, &c.id);
            return Err(e);
        }
        names::release(store, &old, &c.id);
        event(store, c, "rename", &[("oldName", &old)]);
        Ok(())
    })
}

/// Renames a complete record from its pending folder to
/// `containers/<id>`, if its image is still there.
fn put_in_place(store: &Store, c: &Container) -> Result<()> {
    let _images = match c.image() {
        Some(image) => {
            let lock = store.lock_shared("images")?;
            if !crate::image::contains(store, image)? {
                let name = c.annotation(ANN_IMAGE_NAME).filter(|n| !n.is_empty());
                return Err(Error::not_found(
                    "image",
                    name.unwrap_or(store::short_id(image)),
                ));
            }
            Some(lock)
        }
        None => None,
    };
    let to = store.container_dir(&c.id);
    fs::rename(&c.dir, &to).map_err(|e| Error::io("create", &to, e))?;
    // Durable soon enough: a record lost with the power is pending still,
    // and its owner gone, collected.
    let _ = store::sync_parent(&to);
    Ok(())
}

/// Finishes what killed programs left in `containers/` (see `pending`);
/// one stat when there is nothing. Programs call it when they open the
/// store (`cli::StoreOpts::open`).
pub fn collect(store: &Store) {
    pending::collect(store);
}

/// The exclusive lock a container's monitor holds while it lives
/// (`monitor.lock` in its folder); taking it waits for a previous monitor
/// to finish its cleanup.
pub fn monitor_lock(c: &Container) -> Result<fs::File> {
    let path = c.dir.join("monitor.lock");
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    f.lock().map_err(|e| Error::io("lock", &path, e))?;
    Ok(f)
}

pub fn load(store: &Store, id: &str) -> Result<Container> {
    let dir = store.container_dir(id);
    let gone = |e: Error| match e {
        Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Error::not_found("container", id)
        }
        e => e,
    };
    let spec: Spec = store::read_json(&dir.join("config.json")).map_err(gone)?;
    let mut state = match store::read_json::<State>(&dir.join("state.json")) {
        Ok(s) => s,
        Err(e) => match gone(e) {
            // Removed (renamed away) between the two reads.
            Error::NotFound { .. } if !dir.join("config.json").exists() => {
                return Err(Error::not_found("container", id))
            }
            // A record an older cc left when killed before its state was
            // written: it never ran; it shows as created, can be removed.
            Error::NotFound { .. } => incomplete_state(&dir),
            e => return Err(e),
        },
    };
    // The exit, when a full disk kept it out of state.json.
    exit::apply(&dir, &mut state);
    Ok(Container {
        id: id.to_string(),
        dir,
        spec,
        state,
    })
}

/// The state of a record without state.json.
fn incomplete_state(dir: &std::path::Path) -> State {
    let created = fs::metadata(dir.join("config.json"))
        .and_then(|m| m.modified())
        .map(crate::time::format_rfc3339)
        .unwrap_or_default();
    let mut s = State::new(created);
    s.error = Some("its record was never completed (the program creating it was killed)".into());
    s
}

/// Every container with a complete record, oldest first. Records that
/// an older cc left half made or half removed are deleted on the way.
pub fn list(store: &Store) -> Result<Vec<Container>> {
    let dir = store.containers_dir();
    let mut ids = Vec::new();
    for e in fs::read_dir(&dir)
        .map_err(|e| Error::io("read", &dir, e))?
        .flatten()
    {
        let id = e.file_name().to_string_lossy().into_owned();
        if let Some(old) = id.strip_prefix(".rm-") {
            pending::collect_legacy(store, &e.path(), old);
            continue;
        }
        if !id.starts_with('.') {
            ids.push(id);
        }
    }
    let mut out = Vec::new();
    for (id, loaded) in ids.iter().zip(load_all(store, &ids)) {
        match loaded {
            Ok(c) => out.push(c),
            Err(Error::NotFound { .. }) if store.container_dir(id).is_dir() => {
                pending::collect_legacy(store, &store.container_dir(id), id)
            }
            Err(_) => {}
        }
    }
    out.sort_by(|a, b| a.state.created.cmp(&b.state.created));
    Ok(out)
}

/// [`load`] of each id, on up to four threads for a big store: parsing the
/// specs (10 kB of JSON each, most of it the seccomp filter) is most of
/// what `cc-ps -a` does with a thousand containers (bench/ps.sh). The
/// threads are joined before it returns, so a caller that forks later is
/// single-threaded again.
fn load_all(store: &Store, ids: &[String]) -> Vec<Result<Container>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if threads < 2 || ids.len() < 16 {
        return ids.iter().map(|id| load(store, id)).collect();
    }
    std::thread::scope(|s| {
        let parts: Vec<_> = ids
            .chunks(ids.len().div_ceil(threads))
            .map(|part| s.spawn(move || part.iter().map(|id| load(store, id)).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("loading records does not panic"))
            .collect()
    })
}

/// The container a query means, in docker's order: a full id, an exact
/// name, a unique id prefix.
pub fn resolve(store: &Store, query: &str) -> Result<Container> {
    if query.len() == 64 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(c) = load(store, query) {
            return Ok(c);
        }
    }
    if let Some(id) = names::lookup(store, query) {
        if let Ok(c) = load(store, &id) {
            return Ok(c);
        }
    }
    let dir = store.containers_dir();
    let cands: Vec<Candidate> = fs::read_dir(&dir)
        .map_err(|e| Error::io("read", &dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|id| !id.starts_with('.'))
        .map(|id| Candidate { id, names: vec![] })
        .collect();
    let id = store::resolve("container", query, &cands)?;
    load(store, &id)
}

/// Deletes a container's record and folders, and frees its name. The
/// caller has made sure nothing runs and nothing is mounted. A record
/// that another program removed first is `NotFound`.
pub fn remove(store: &Store, c: &Container) -> Result<()> {
    let doomed = unlist(store, c)?;
    // What the container made may be any depth (tree::remove_tree).
    delete(&doomed);
    Ok(())
}

/// The first, quick half of `remove`, and its claim: the record leaves
/// the listing and its name is free again, by renames only (deleting files
/// costs milliseconds a file on some disks); returns the folder that is
/// left to delete. Of several programs removing one container, one gets
/// the folder; the others get `NotFound`.
pub fn unlist(store: &Store, c: &Container) -> Result<PathBuf> {
    let rootfs = c.rootfs();
    if crate::mount::is_mountpoint(&rootfs) {
        crate::mount::unmount(&rootfs, true)?;
    }
    // Rename first so that readers never see half a record.
    let doomed = pending::claim(store, &c.dir, &c.id)?;
    names::release_into(store, c.name(), &c.id, &doomed);
    Ok(doomed)
}

/// The slow half of `remove`: deletes the folder `unlist` returned. If
/// this process is killed meanwhile, `collect` finishes it.
pub fn delete(doomed: &std::path::Path) {
    let _ = crate::tree::remove_tree(doomed);
}

/// The layers and images that containers still use, so `rmi` keeps them.
pub fn in_use(store: &Store) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let mut layers = BTreeSet::new();
    let mut images = BTreeSet::new();
    for c in list(store)? {
        layers.extend(c.layers());
        if let Some(i) = c.image() {
            images.insert(i.to_string());
        }
    }
    Ok((layers, images))
}

/// Removes an image (cc-rmi), refused while a container uses it unless
/// `force` (the container keeps the layers). The users are looked for
/// under the images lock, which `create` holds shared while it puts a
/// record of the image in place: a container either is found here or
/// finds the image gone, so its layers are never deleted under it.
pub fn remove_image(
    store: &Store,
    img: &crate::image::Image,
    query: &str,
    force: bool,
) -> Result<()> {
    crate::image::remove(store, img, || {
        let users = list(store)?;
        if !force {
            if let Some(c) = users.iter().find(|c| c.image() == Some(img.id.as_str())) {
                return Err(Error::State(format!(
                    "image '{query}' is used by container {} ({}); remove it first or use -f",
                    store::short_id(&c.id),
                    c.name()
                )));
            }
        }
        Ok(users.iter().flat_map(|c| c.layers()).collect())
    })
}
