//! The store: the root folder shared by every program, its layout, ids,
//! names, locks and atomic writes. docs/architecture.md's "The store" is the contract.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub mod tmp;

/// Ids are 64 hex characters and shown as 12.
pub const SHORT: usize = 12;

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store, creating its folders and an empty OCI layout on
    /// first use. Safe to race: every step is idempotent.
    pub fn open(root: &Path) -> Result<Store> {
        let store = Store {
            root: root.to_path_buf(),
        };
        if !store.images_dir().join("index.json").exists() {
            store.init()?;
        } else {
            store.close_private()?;
        }
        // Scratch files of programs that were killed (see store/tmp.rs).
        tmp::collect(&store.tmp_dir());
        Ok(store)
    }

    /// A store made before its folders were closed, or whose root folder
    /// existed first (a disk mounted at /var/lib/cc is 0755), gets them
    /// closed now: a few stats when all is well.
    fn close_private(&self) -> Result<()> {
        if !self.open_folders().is_empty() {
            self.set_private_modes()?;
        }
        Ok(())
    }

    fn init(&self) -> Result<()> {
        for d in [
            self.blobs_dir(),
            self.layers_dir(),
            self.containers_dir(),
            self.locks_dir(),
            self.tmp_dir(),
            self.mounts_dir(),
            self.events_dir(),
            self.volumes_dir(),
        ] {
            fs::create_dir_all(&d).map_err(|e| Error::io("create", &d, e))?;
        }
        self.set_private_modes()?;
        let images = self.images_dir();
        write_new(
            &images.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        write_new(
            &images.join("index.json"),
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
        )?;
        Ok(())
    }

    /// The store's root and every folder cc makes in it: 0700.
    fn private_folders(&self) -> Vec<PathBuf> {
        let r = &self.root;
        vec![
            r.clone(),
            self.images_dir(),
            r.join("images/blobs"),
            self.blobs_dir(),
            r.join("layers"),
            self.layers_dir(),
            self.containers_dir(),
            self.locks_dir(),
            self.tmp_dir(),
            self.mounts_dir(),
            self.events_dir(),
            self.volumes_dir(),
        ]
    }

    /// The store's folders that a user other than their owner can enter
    /// or read: what `cc-info` warns about.
    pub fn open_folders(&self) -> Vec<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        self.private_folders()
            .into_iter()
            .filter(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o077 != 0))
            .collect()
    }

    /// Unpacked layers keep their setuid files and device nodes, blobs and
    /// containers' folders hold images and environments, and cc-mount's
    /// mounts show whole images: no host user but root may reach any of
    /// them (as /var/lib/docker). The root folder is closed too when root
    /// owns it, whoever made it; a root folder of another user is left as
    /// it is (`cc-info` warns).
    fn set_private_modes(&self) -> Result<()> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let root_owned = fs::metadata(&self.root).is_ok_and(|m| m.uid() == 0);
        for d in self.private_folders() {
            if d == self.root && !root_owned {
                continue;
            }
            match fs::set_permissions(&d, fs::Permissions::from_mode(0o700)) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                other => other.map_err(|e| Error::io("set the mode of", &d, e))?,
            }
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The OCI image layout (oci-layout, index.json, blobs/).
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("images/blobs/sha256")
    }
    /// Unpacked layers, named by diff id (`sha256:<hex>` gives `<hex>`).
    pub fn layer_dir(&self, diff_id: &str) -> PathBuf {
        self.root
            .join("layers/sha256")
            .join(diff_id.trim_start_matches("sha256:"))
    }
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers/sha256")
    }
    /// Docker's size of each unpacked layer (`tree::size`) as a number in
    /// a file named by diff id: measured once, when the layer is stored.
    pub fn layer_size_path(&self, diff_id: &str) -> PathBuf {
        self.layer_sizes_dir()
            .join(diff_id.trim_start_matches("sha256:"))
    }
    pub fn layer_sizes_dir(&self) -> PathBuf {
        self.root.join("layers/size")
    }
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }
    /// Scratch space on the same filesystem, so finished work is renamed in.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// Image mounts made by cc-mount: `mounts/<id>/{rootfs,upper,work}`.
    pub fn mounts_dir(&self) -> PathBuf {
        self.root.join("mounts")
    }
    /// The events log (events.rs): `events.log`, `events.log.1`.
    pub fn events_dir(&self) -> PathBuf {
        self.root.join("events")
    }
    /// Volumes (volume.rs): `volumes/<name>/{_data,meta.json}`.
    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }
    /// The store's lock files, `<name>.lock`.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// Takes the named exclusive lock (`locks/<name>.lock`) until the guard
    /// drops. Locks are flock(2): released by the kernel if we die.
    pub fn lock(&self, name: &str) -> Result<Lock> {
        lock_file(&self.locks_dir().join(format!("{name}.lock")))
    }

    /// The named lock shared: holders of it exclude `lock(name)` but not
    /// each other (a container recording its image holds `images` shared,
    /// so runs do not wait for one another, only for cc-rmi).
    pub fn lock_shared(&self, name: &str) -> Result<Lock> {
        let path = self.root.join("locks").join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io("open lock", &path, e))?;
        file.lock_shared()
            .map_err(|e| Error::io("lock", &path, e))?;
        Ok(Lock { _file: file })
    }
}

/// How long a lock is waited for: past it the error names the holder, so
/// that a stuck or hostile holder is an error to act on, not a hang.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// An exclusive flock, released on drop.
pub struct Lock {
    _file: File,
}

/// Takes an exclusive flock(2) on `path`, made 0600 (and closed to 0600
/// if it was open: any user who can open a lock file can hold it), waiting
/// at most [`LOCK_WAIT`]. Its folder should be root's and 0700.
pub fn lock_file(path: &Path) -> Result<Lock> {
    match lock_file_unless(path, || Ok(None::<std::convert::Infallible>))? {
        Locked::Held(l) => Ok(l),
        Locked::Done(never) => match never {},
    }
}

/// What [`lock_file_unless`] ends with.
pub enum Locked<T> {
    Held(Lock),
    /// What the lock was wanted for was found done meanwhile.
    Done(T),
}

/// [`lock_file`], but while it waits `done` is asked whether the holder
/// did what the lock was wanted for; once it says so the wait ends
/// without the lock. Many processes needing one thing made once (the
/// first starts of a store, its bridge) so pass the lock on only while
/// it is being made, not one after another.
pub fn lock_file_unless<T>(
    path: &Path,
    mut done: impl FnMut() -> Result<Option<T>>,
) -> Result<Locked<T>> {
    use std::os::unix::fs::PermissionsExt;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("open lock", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("set the mode of", path, e))?;
    }
    let deadline = Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Locked::Held(Lock { _file: file })),
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
                if let Some(t) = done()? {
                    return Ok(Locked::Done(t));
                }
            }
            Err(fs::TryLockError::WouldBlock) => return Err(lock_timeout(path, &meta)),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}

/// Makes `dir` a folder only root can enter: created 0700, or closed to
/// 0700 when it exists and root owns it. One that another user owns is
/// refused: whoever owns it can open the files in it.
pub fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create", dir, e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(|e| Error::io("stat", dir, e))?;
    if !meta.is_dir() || meta.uid() != 0 {
        return Err(Error::State(format!(
            "'{}' is not a folder of root's: refusing to keep locks in it",
            dir.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("set the mode of", dir, e))?;
    }
    Ok(())
}

/// "held for over 30 s by pid 123 (cc-run)", from /proc/locks: the
/// holder of the flock on the file with `meta`'s device and inode.
fn lock_timeout(path: &Path, meta: &fs::Metadata) -> Error {
    use std::os::unix::fs::MetadataExt;
    let locks = fs::read_to_string("/proc/locks").unwrap_or_default();
    let holder = lock_holder(&locks, meta.dev(), meta.ino()).map(|pid| {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        match comm.trim() {
            "" => format!("pid {pid}"),
            c => format!("pid {pid} ({c})"),
        }
    });
    Error::State(format!(
        "cannot lock '{}': held for over {} s by {}",
        path.display(),
        LOCK_WAIT.as_secs(),
        holder.as_deref().unwrap_or("another process")
    ))
}

/// The pid holding a lock on (dev, ino) in /proc/locks text. A line reads
/// `1: FLOCK  ADVISORY  WRITE 2319 fd:01:1234 0 EOF` (proc(5)), the device
/// as hex major:minor; waiters are the lines with `->`.
fn lock_holder(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    let want = format!("{:02x}:{:02x}:{ino}", libc::major(dev), libc::minor(dev));
    locks.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.get(1) == Some(&"->") || f.get(5) != Some(&want.as_str()) {
            return None;
        }
        f.get(4)?.parse().ok().filter(|pid| *pid != 0)
    })
}

/// Writes `data` to `path` so that a reader sees the old file or the new
/// one, never half of either: a temporary file in the same folder, fsync,
/// rename over the target, fsync the folder.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_mode(path, data, 0o644)
}

/// Mode 0600 for a file that holds a spec, an environment or a log, and
/// 0644 for one a container's user reads (its /etc/hosts).
pub const PRIVATE: u32 = 0o600;

/// [`write_atomic`] with the file's `mode` (say [`PRIVATE`]).
pub fn write_atomic_mode(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    replace_with(path, mode, true, |f| {
        f.write_all(data).map_err(|e| Error::io("write", path, e))
    })
}

/// Like `write_atomic` but without the fsyncs, for files that only matter
/// during this boot and are written on every start: a container's
/// generated /etc files and its "running" state. Readers still never see
/// half a file; after a crash the boot id marks such a record stale anyway.
/// Everything that must survive a crash (images, configs, exit records)
/// uses `write_atomic`.
pub fn write_volatile(path: &Path, data: &[u8]) -> Result<()> {
    write_volatile_mode(path, data, 0o644)
}

/// [`write_volatile`] with the file's `mode` (say [`PRIVATE`]).
pub fn write_volatile_mode(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    replace_with(path, mode, false, |f| {
        f.write_all(data).map_err(|e| Error::io("write", path, e))
    })
}

/// The one temp-file-then-rename of cc: `fill` writes a new file (`mode`,
/// less the umask) beside `path`, which is then renamed over `path`, so a
/// reader sees the old file or the whole new one. `durable` adds the
/// fsyncs of the file and of the folder that make it survive a crash. On
/// any failure the temporary file is removed and `path` is untouched.
pub fn replace_with(
    path: &Path,
    mode: u32,
    durable: bool,
    fill: impl FnOnce(&mut File) -> Result<()>,
) -> Result<()> {
    let tmp = temp_beside(path)?;
    let made = (|| {
        let mut f = create_new(&tmp, mode)?;
        fill(&mut f)?;
        if durable {
            f.sync_all().map_err(|e| Error::io("sync", &tmp, e))?;
        }
        fs::rename(&tmp, path).map_err(|e| Error::io("rename into", path, e))
    })();
    if made.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    made?;
    if durable {
        sync_parent(path)?;
    }
    Ok(())
}

/// Like `write_atomic`, but only when `path` does not exist yet: the file
/// is linked into place, which fails rather than replaces. Returns whether
/// this call created it.
pub fn write_new(path: &Path, data: &[u8]) -> Result<bool> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let tmp = temp_beside(path)?;
    write_synced(&tmp, data, 0o644)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_parent(path).map(|_| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("create", path, e)),
    }
}

fn temp_beside(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    Ok(path.with_file_name(format!(".{name}.{}.tmp", random_hex(8)?)))
}

fn create_new(path: &Path, mode: u32) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io("create", path, e))
}

fn write_synced(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let mut f = create_new(path, mode)?;
    f.write_all(data).map_err(|e| Error::io("write", path, e))?;
    f.sync_all().map_err(|e| Error::io("sync", path, e))
}

/// fsync of the folder makes a rename durable.
pub fn sync_parent(path: &Path) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let dir = File::open(parent).map_err(|e| Error::io("open", parent, e))?;
    dir.sync_all().map_err(|e| Error::io("sync", parent, e))
}

/// Reads a whole small file, mapping "missing" to `None`.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Reads and parses a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Serialises `v` and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(v).map_err(Error::internal)?;
    write_atomic(path, &bytes)
}

/// `n` random bytes as hex, from the kernel's generator: getrandom(2),
/// which needs no /dev (a program may run where /dev/urandom is missing).
pub fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: the kernel writes at most `rest.len()` bytes into `rest`,
        // a live buffer of that length.
        let got = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if got < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::sys("read random bytes (getrandom)", e));
        }
        filled += got as usize;
    }
    Ok(hex::encode(buf))
}

/// A new 64-character id.
pub fn new_id() -> Result<String> {
    random_hex(32)
}

/// The 12-character form of an id (with any `sha256:` removed).
pub fn short_id(id: &str) -> &str {
    let id = id.trim_start_matches("sha256:");
    &id[..id.len().min(SHORT)]
}

/// The kernel's boot id: a record written under another boot id describes
/// processes that no longer exist.
pub fn boot_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    })
}

/// One object that a query can name: its full id and its names.
pub struct Candidate {
    pub id: String,
    pub names: Vec<String>,
}

/// Finds the one object a query means, in docker's order: a full id,
/// then an exact name, then a unique id prefix (so a container named
/// `cafe` is found by its name even when some id starts with cafe). An
/// ambiguous prefix lists the candidates.
pub fn resolve(kind: &'static str, query: &str, all: &[Candidate]) -> Result<String> {
    let q = query.trim_start_matches("sha256:");
    let bare = |c: &Candidate| c.id.trim_start_matches("sha256:").to_string();
    if let Some(c) = all.iter().find(|c| !q.is_empty() && bare(c) == q) {
        return Ok(c.id.clone());
    }
    if let Some(c) = all.iter().find(|c| c.names.iter().any(|n| n == query)) {
        return Ok(c.id.clone());
    }
    if q.is_empty() || !q.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::not_found(kind, query));
    }
    let q = q.to_ascii_lowercase();
    let mut hits: Vec<&Candidate> = all
        .iter()
        .filter(|c| c.id.trim_start_matches("sha256:").starts_with(&q))
        .collect();
    hits.dedup_by(|a, b| a.id == b.id);
    match hits.len() {
        0 => Err(Error::not_found(kind, query)),
        1 => Ok(hits[0].id.clone()),
        _ => Err(Error::Ambiguous {
            kind,
            name: query.to_string(),
            candidates: hits.iter().map(|c| short_id(&c.id).to_string()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_folders_are_closed_also_in_older_stores() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("store");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let s = Store::open(&root).unwrap();
        for p in [
            s.layers_dir(),
            s.containers_dir(),
            s.tmp_dir(),
            root.clone(),
        ] {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
        }
        // As a store made before the modes were set.
        for p in [s.layers_dir(), s.containers_dir(), s.tmp_dir()] {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let s = Store::open(&root).unwrap();
        for p in [s.layers_dir(), s.containers_dir(), s.tmp_dir()] {
            assert_eq!(mode(&p), 0o700, "reopened: {}", p.display());
        }
    }

    #[test]
    fn a_root_folder_that_existed_first_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("store");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        let s = Store::open(&root).unwrap();
        if !rustix::process::geteuid().is_root() {
            return; // the root folder is not root's: left as it is
        }
        assert!(s.open_folders().is_empty(), "{:?}", s.open_folders());
        // As a store cc made before it closed everything.
        for p in [root.clone(), s.images_dir(), s.blobs_dir(), s.locks_dir()] {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let s = Store::open(&root).unwrap();
        assert!(s.open_folders().is_empty(), "{:?}", s.open_folders());
    }

    #[test]
    fn the_holder_of_a_lock_is_read_from_proc_locks() {
        let locks = "1: FLOCK  ADVISORY  WRITE 2319 fd:01:1234 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 2400 fd:01:1234 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 77 00:1a:99 0 EOF\n";
        let dev = libc::makedev(0xfd, 1);
        assert_eq!(lock_holder(locks, dev, 1234), Some(2319));
        assert_eq!(lock_holder(locks, libc::makedev(0, 0x1a), 99), Some(77));
        assert_eq!(lock_holder(locks, dev, 99), None);
    }

    #[test]
    fn a_lock_is_made_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(&d.path().join("store")).unwrap();
        let p = s.locks_dir().join("x.lock");
        fs::write(&p, "").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        drop(s.lock("x").unwrap());
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    fn cands() -> Vec<Candidate> {
        vec![
            Candidate {
                id: "abc123".repeat(10) + "abcd",
                names: vec!["web".into()],
            },
            Candidate {
                id: "abd456".repeat(10) + "abcd",
                names: vec![],
            },
        ]
    }

    #[test]
    fn resolves_names_ids_and_prefixes() {
        let c = cands();
        assert_eq!(resolve("container", "web", &c).unwrap(), c[0].id);
        assert_eq!(resolve("container", "abc1", &c).unwrap(), c[0].id);
        assert_eq!(resolve("container", &c[1].id, &c).unwrap(), c[1].id);
    }

    #[test]
    fn ambiguous_prefix_lists_candidates() {
        let e = resolve("container", "ab", &cands()).unwrap_err();
        assert!(matches!(e, Error::Ambiguous { ref candidates, .. } if candidates.len() == 2));
        assert_eq!(
            e.to_string(),
            "container 'ab' is ambiguous: abc123abc123, abd456abd456"
        );
    }

    #[test]
    fn unknown_is_not_found() {
        assert_eq!(resolve("image", "nope", &cands()).unwrap_err().code(), 3);
        assert_eq!(resolve("image", "ff", &cands()).unwrap_err().code(), 3);
    }

    #[test]
    fn atomic_writes_replace_and_create_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!write_new(&p, b"three").unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn a_failed_replace_leaves_the_file_and_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.tar");
        write_volatile(&p, b"old").unwrap();
        let e = replace_with(&p, 0o644, false, |f| {
            f.write_all(b"half").unwrap();
            Err(Error::internal("stopped"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "stopped");
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "temp left");
    }

    #[test]
    fn random_hex_is_fresh_hex_of_the_length_asked() {
        let (a, b) = (random_hex(16).unwrap(), random_hex(16).unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
