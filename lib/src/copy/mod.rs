//! cc-cp: files between a container and the host, or a tar stream, with
//! docker cp's path rules.
//!
//! The container's side is its merged root: the running container's own
//! (/proc/PID/root, so its volumes and bind mounts are followed, as docker
//! cp does, and what is written is seen at once), or its overlay mounted
//! on the host for the copy (`hostmount::with_root`), its volumes and
//! binds bound on it in a mount namespace of cc-cp's own (`mounts`), as
//! docker's daemon mounts them for a copy. Every path in it is
//! resolved by the kernel inside that root (`inroot`, openat2
//! RESOLVE_IN_ROOT), and from there the copy goes by fds, entry by entry,
//! never through a link (`read`, `write`): no link in the container, nor
//! one swapped in during the copy, leads outside it (CVE-2018-15664).
//! Nothing of the container is run or loaded: no chroot, no helper
//! program, no name lookups (CVE-2019-14271).
//!
//! Owners, as docker's: what is written into a container belongs to its
//! root (its mapped root with `--userns`), what is written on the host to
//! the user running cc-cp; with `-a` each entry keeps its owner's ids,
//! those the container sees.
//!
//! | file       | owns |
//! | ---------- | ---- |
//! | `read.rs`  | walking the source by fds |
//! | `write.rs` | a folder or a tar stream as the destination |
//! | `untar.rs` | a tar stream from stdin into the container |
//! | `mounts.rs` | a stopped container's volumes bound for the copy, read-only mounts |

mod mounts;
mod read;
mod untar;
mod write;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::inroot::{self, Root};
use crate::spec::IdMapping;
use crate::store::Store;
use write::{DirSink, Sink, TarSink};

/// One side of a copy as given: `CONTAINER:PATH`, a host path, or `-`.
#[derive(Debug, PartialEq, Eq)]
pub enum Place<'a> {
    Container(&'a str, &'a str),
    Host(&'a str),
    Stdio,
}

impl Place<'_> {
    /// docker's splitCpArg: an absolute path, or one whose part before
    /// the first `:` starts with `.`, is the host's.
    pub fn parse(arg: &str) -> Place<'_> {
        if arg == "-" {
            return Place::Stdio;
        }
        match arg.split_once(':') {
            Some((c, p)) if !arg.starts_with('/') && !c.starts_with('.') && !c.is_empty() => {
                Place::Container(c, p)
            }
            _ => Place::Host(arg),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `-a`: keep each entry's owner.
    pub archive: bool,
    /// `-L`: a link SRC is copied as what it points to.
    pub follow: bool,
    /// Every extended attribute of each entry is kept (a volume's
    /// copy-up), not only a file's capabilities (docker cp's).
    pub all_xattrs: bool,
}

/// What a stopped container's volumes need before they are bound for a
/// copy (`volume::mount_all`: a volume's own tmpfs or host folder).
pub type Prepare<'a> = &'a dyn Fn(&Container) -> Result<()>;

/// Copies `src` to `dest` (each a `Place`): one of them must be in a
/// container, and not both.
pub fn copy(store: &Store, src: &str, dest: &str, opts: Options, prepare: Prepare) -> Result<()> {
    match (Place::parse(src), Place::parse(dest)) {
        (Place::Container(..), Place::Container(..)) => Err(Error::Usage(
            "copying between containers is not supported".into(),
        )),
        (Place::Container(q, path), to) => {
            let c = container::resolve(store, q)?;
            with_root(store, &c, prepare, |root| {
                let from = Side::container(&c, q, root)?;
                match to {
                    Place::Stdio => to_tar(&from, path, opts, io::stdout().lock()),
                    _ => between(&from, path, &Side::host()?, dest, opts),
                }
            })
        }
        (from, Place::Container(q, path)) => {
            let c = container::resolve(store, q)?;
            mounts::check_writable(&c, path, Path::new(dest))?;
            with_root(store, &c, prepare, |root| {
                let to = Side::container(&c, q, root)?;
                let _as_root = to.ids.become_root()?;
                match from {
                    Place::Stdio => from_tar(io::stdin().lock(), &to, path, opts),
                    _ => between(&Side::host()?, src, &to, path, opts),
                }
            })
        }
        _ => Err(Error::Usage(
            "one of SRC and DEST must be CONTAINER:PATH".into(),
        )),
    }
}

/// Runs `f` on the container's root with its volumes and binds: a
/// running container's own root has them; a stopped one's overlay gets
/// them bound for the call, in a mount namespace of cc-cp's own.
fn with_root(
    store: &Store,
    c: &Container,
    prepare: Prepare,
    f: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let stopped = c.status() != Status::Running;
    if stopped {
        prepare(c)?;
        mounts::own_namespace()?;
    }
    crate::hostmount::with_root(store, c, |root| {
        let _binds = match stopped {
            true => Some(mounts::bind_all(c, root)?),
            false => None,
        };
        f(root)
    })
}

/// Docker's copy-up of a new volume: what the folder `path` in `root`
/// holds goes into the empty folder `dest`, every entry with its owner,
/// mode and time (as `cc-cp -a`, resolved in the root the same way), and
/// `dest` takes the folder's owner and mode. Nothing when `path` is not a
/// folder in the root.
pub fn fill(root: &Path, path: &str, dest: &Path) -> Result<()> {
    let from = Side {
        root: Root::open(root)?,
        ids: Ids::default(),
        label: ":".into(),
        owner: (0, 0),
    };
    let Some(dir) = from.open(path)?.filter(is_dir) else {
        return Ok(());
    };
    let to = Side {
        root: Root::open(dest)?,
        ids: Ids::default(),
        label: format!("{}:", dest.display()),
        owner: (0, 0),
    };
    let all = Options {
        archive: true,
        follow: false,
        all_xattrs: true,
    };
    between(
        &from,
        &format!("{}/.", path.trim_end_matches('/')),
        &to,
        "/",
        all,
    )?;
    let st = rustix::fs::fstat(&dir).map_err(|e| Error::io("stat", from.show(path), e.into()))?;
    let (uid, gid) = (
        rustix::fs::Uid::from_raw(st.st_uid),
        rustix::fs::Gid::from_raw(st.st_gid),
    );
    rustix::fs::chown(dest, Some(uid), Some(gid))
        .map_err(|e| Error::io("set the owner of", dest, e.into()))?;
    rustix::fs::chmod(dest, Mode::from_raw_mode(st.st_mode & 0o7777))
        .map_err(|e| Error::io("set the mode of", dest, e.into()))
}

/// A root paths are resolved in, and how its stored ids read in the
/// container.
struct Side {
    root: Root,
    ids: Ids,
    /// `CONTAINER:` for messages; empty on the host.
    label: String,
    /// The owner of what cc-cp writes here without -a (container-side).
    owner: (u32, u32),
}

impl Side {
    fn host() -> Result<Side> {
        Ok(Side {
            root: Root::open(Path::new("/"))?,
            ids: Ids::default(),
            label: String::new(),
            owner: (
                rustix::process::geteuid().as_raw(),
                rustix::process::getegid().as_raw(),
            ),
        })
    }

    fn container(c: &Container, q: &str, root: &Path) -> Result<Side> {
        // A running container with a user namespace is reached through
        // its idmapped mounts, where ids read as the host's; an overlay
        // mounted here holds the container's own.
        let ids = match (c.status(), c.spec.linux.as_ref()) {
            (Status::Running, Some(l)) if !l.uid_mappings.is_empty() => Ids {
                uid: l.uid_mappings.clone(),
                gid: l.gid_mappings.clone(),
            },
            _ => Ids::default(),
        };
        Ok(Side {
            root: Root::open(root)?,
            ids,
            label: format!("{q}:"),
            owner: (0, 0),
        })
    }

    /// A path of this side as the user gave it, for messages.
    fn show(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}{path}", self.label))
    }

    /// The path to resolve in the root: host paths from the working
    /// folder, container paths from its `/`.
    fn rel(&self, path: &str) -> Result<PathBuf> {
        match self.label.is_empty() && !path.starts_with('/') {
            true => Ok(std::env::current_dir()
                .map_err(|e| Error::sys("find the working folder", e))?
                .join(path)),
            false => Ok(PathBuf::from(path)),
        }
    }

    /// An O_PATH fd of what `path` names, links followed inside the root.
    fn open(&self, path: &str) -> Result<Option<OwnedFd>> {
        let rel = self.rel(path)?;
        match self.root.open_at(&rel, OFlags::PATH, Mode::empty()) {
            Ok(fd) => Ok(Some(fd)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.error(e, path)),
        }
    }

    /// The folder that holds `path`, and its last name.
    fn parent(&self, path: &str) -> Result<(OwnedFd, OsString)> {
        let rel = self.rel(path)?;
        self.root
            .parent(&rel, false)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => {
                    Error::not_found("folder", self.show(parent_of(path)).display().to_string())
                }
                _ => self.error(e, path),
            })
    }

    /// A resolution error named by the path the user gave.
    fn error(&self, e: Error, path: &str) -> Error {
        match e.raw_os_error() {
            Some(errno) => Error::io("open", self.show(path), io::Error::from_raw_os_error(errno)),
            None => e,
        }
    }
}

fn parent_of(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/",
        Some((p, _)) => p,
        None => ".",
    }
}

/// Stored ids and the container's: the container's user namespace
/// mappings when the root is reached through its idmapped mounts, else
/// the same.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    uid: Vec<IdMapping>,
    gid: Vec<IdMapping>,
}

impl Ids {
    /// The stored ids of container ids `(uid, gid)`.
    fn to_stored(&self, uid: u32, gid: u32) -> (u32, u32) {
        if self.uid.is_empty() {
            return (uid, gid);
        }
        (
            IdMapping::to_host(&self.uid, uid).unwrap_or(uid),
            IdMapping::to_host(&self.gid, gid).unwrap_or(gid),
        )
    }

    /// With a user namespace, creates files as the container's root
    /// until dropped: its idmapped mounts refuse to store an id they do
    /// not map (EOVERFLOW), and the host's root is not mapped. The file
    /// capabilities that a non-zero fsuid clears (capabilities(7)) are
    /// raised again, so -a can still give any owner.
    fn become_root(&self) -> Result<Option<FsIds>> {
        if self.uid.is_empty() {
            return Ok(None);
        }
        let (uid, gid) = self.to_stored(0, 0);
        let guard = FsIds::set(uid, gid);
        let caps = rustix::thread::capabilities(None)
            .map_err(|e| Error::sys("read capabilities", e.into()))?;
        let raised = rustix::thread::CapabilitySets {
            effective: caps.permitted,
            ..caps
        };
        rustix::thread::set_capabilities(None, raised)
            .map_err(|e| Error::sys("raise capabilities", e.into()))?;
        Ok(Some(guard))
    }

    /// The container's ids of stored ids; one outside its range reads as
    /// the overflow id, 65534, as inside.
    fn to_container(&self, uid: u32, gid: u32) -> (u32, u32) {
        if self.uid.is_empty() {
            return (uid, gid);
        }
        let back = |maps: &[IdMapping], id: u32| {
            maps.iter()
                .find_map(|m| {
                    (id >= m.host_id && id - m.host_id < m.size)
                        .then(|| m.container_id + (id - m.host_id))
                })
                .unwrap_or(65534)
        };
        (back(&self.uid, uid), back(&self.gid, gid))
    }
}

/// The filesystem ids of this thread (setfsuid(2)), put back when
/// dropped. cc-cp is one thread, so every file it creates has them.
struct FsIds {
    uid: u32,
    gid: u32,
}

impl FsIds {
    fn set(uid: u32, gid: u32) -> FsIds {
        // SAFETY: setfsgid/setfsuid take plain ids and return the previous.
        let old_gid = unsafe { libc::setfsgid(gid) } as u32;
        // SAFETY: as above.
        let old_uid = unsafe { libc::setfsuid(uid) } as u32;
        FsIds {
            uid: old_uid,
            gid: old_gid,
        }
    }
}

impl Drop for FsIds {
    fn drop(&mut self) {
        // SAFETY: plain ids, as in `set`.
        unsafe {
            libc::setfsuid(self.uid);
            libc::setfsgid(self.gid);
        }
    }
}

/// The source: the entry `name` in `parent` (`parent` itself when empty).
struct Source {
    parent: OwnedFd,
    name: OsString,
    /// The name it is copied as when it goes into a folder.
    base: OsString,
    is_dir: bool,
    /// `SRC/.`: a folder's contents, not the folder.
    contents: bool,
    shown: PathBuf,
}

impl Source {
    fn open(side: &Side, path: &str, follow: bool) -> Result<Source> {
        let contents = path == "." || path.ends_with("/.");
        let rel = side.rel(path)?;
        let shown = side.show(path);
        let named = inroot::split(&rel).filter(|_| !follow && !path.ends_with('/'));
        let (parent, name) = match named {
            Some(_) => side.parent(path)?,
            None => match side.open(path)? {
                Some(fd) => (fd, OsString::new()),
                None => return Err(Error::not_found("file", shown.display().to_string())),
            },
        };
        let flags = match name.is_empty() {
            true => AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
            false => AtFlags::SYMLINK_NOFOLLOW,
        };
        let st = match rustix::fs::statat(&parent, &name, flags) {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => {
                return Err(Error::not_found("file", shown.display().to_string()))
            }
            Err(e) => return Err(Error::io("stat", &shown, e.into())),
        };
        let is_dir = FileType::from_raw_mode(st.st_mode) == FileType::Directory;
        if contents && !is_dir {
            return Err(Error::io(
                "copy",
                &shown,
                io::Error::from_raw_os_error(libc::ENOTDIR),
            ));
        }
        let base = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                _ => None,
            })
            .next_back()
            .unwrap_or_default();
        Ok(Source {
            parent,
            name,
            // A container's `/` goes in as its contents: it has no name.
            contents: contents || (is_dir && base.is_empty()),
            base,
            is_dir,
            shown,
        })
    }

    fn send(&self, as_name: &OsStr, ids: &Ids, sink: &mut dyn Sink) -> Result<()> {
        match self.contents {
            true => read::send_contents(&self.parent, &self.name, &self.shown, ids, sink),
            false => read::send(&self.parent, &self.name, as_name, &self.shown, ids, sink),
        }
    }
}

/// Copies between two roots by docker cp's rules for DEST: an existing
/// folder receives SRC under its name (or SRC/.'s contents); an existing
/// file is replaced by a file; a missing DEST is created, its parent must
/// exist; a DEST ending in `/` must be an existing folder.
fn between(from: &Side, src: &str, to: &Side, dest: &str, opts: Options) -> Result<()> {
    let src = Source::open(from, src, opts.follow)?;
    let shown = to.show(dest);
    let dir_only = dest.ends_with('/') || dest.ends_with("/.") || dest == ".";
    let owner = (!opts.archive).then_some(to.owner);
    let existing = to.open(dest)?;
    let to_dir = existing.as_ref().is_some_and(is_dir);
    let (dir, name) = match existing {
        Some(fd) if is_dir(&fd) => {
            let dir = reopen(&fd, &shown)?;
            match src.contents {
                true => (dir, None),
                false => (dir, Some(src.base.clone())),
            }
        }
        Some(_) if dir_only => {
            return Err(Error::io(
                "copy to",
                &shown,
                io::Error::from_raw_os_error(libc::ENOTDIR),
            ))
        }
        Some(_) if src.is_dir => {
            return Err(Error::Usage(format!(
                "cannot copy a directory to a file: '{}'",
                shown.display()
            )))
        }
        Some(_) => {
            let (p, n) = to.parent(dest)?;
            (p, Some(n))
        }
        None if dir_only => return Err(Error::not_found("folder", shown.display().to_string())),
        None => {
            let (p, n) = to.parent(dest)?;
            (p, Some(n))
        }
    };
    // The folder written in, for messages: DEST itself, or its parent.
    let at = match (&name, src.contents) {
        (Some(_), _) if !to_dir => to.show(parent_of(dest)),
        _ => shown.clone(),
    };
    let mut sink = DirSink::new(dir, at, owner, to.ids.clone()).all_xattrs(opts.all_xattrs);
    match name {
        // Into a folder as the contents of the new (or existing) `name`.
        Some(n) if src.contents => {
            let meta = read::meta_of(&src.parent, &src.name, &src.shown, &from.ids)?;
            sink.enter(&n, &meta)?;
            src.send(OsStr::new(""), &from.ids, &mut sink)?;
            sink.leave()
        }
        Some(n) => src.send(&n, &from.ids, &mut sink),
        None => src.send(OsStr::new(""), &from.ids, &mut sink),
    }
}

/// `DEST` is `-`: SRC as a tar stream on `out`, entries named from SRC's
/// last name (its contents' names for `SRC/.`), with the container's ids.
fn to_tar(from: &Side, src: &str, opts: Options, out: impl Write) -> Result<()> {
    let src = Source::open(from, src, opts.follow)?;
    let mut sink = TarSink::new(out);
    src.send(&src.base, &from.ids, &mut sink)?;
    sink.finish()
}

/// `SRC` is `-`: a tar stream unpacked into the folder DEST, which must
/// exist.
fn from_tar(input: impl io::Read, to: &Side, dest: &str, opts: Options) -> Result<()> {
    let shown = to.show(dest);
    match to.open(dest)? {
        Some(fd) if is_dir(&fd) => {}
        Some(_) => {
            return Err(Error::io(
                "copy to",
                &shown,
                io::Error::from_raw_os_error(libc::ENOTDIR),
            ))
        }
        None => return Err(Error::not_found("folder", shown.display().to_string())),
    }
    let owner = (!opts.archive).then_some(to.owner);
    untar::extract(input, &to.root, &to.rel(dest)?, &shown, owner, &to.ids)
}

fn is_dir(fd: &OwnedFd) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory)
}

/// An O_PATH fd of a folder opened for *at calls that create entries.
fn reopen(fd: &OwnedFd, shown: &Path) -> Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::openat(fd, ".", flags, Mode::empty())
        .map_err(|e| Error::io("open", shown, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_split_as_docker_splits_them() {
        assert_eq!(
            Place::parse("web:/etc/hosts"),
            Place::Container("web", "/etc/hosts")
        );
        assert_eq!(Place::parse("web:"), Place::Container("web", ""));
        assert_eq!(Place::parse("/tmp/a:b"), Place::Host("/tmp/a:b"));
        assert_eq!(Place::parse("./a:b"), Place::Host("./a:b"));
        assert_eq!(Place::parse("file"), Place::Host("file"));
        assert_eq!(Place::parse("-"), Place::Stdio);
    }

    #[test]
    fn ids_map_both_ways_and_unmapped_ones_are_overflow() {
        let m = vec![IdMapping {
            container_id: 0,
            host_id: 100_000,
            size: 65536,
        }];
        let ids = Ids {
            uid: m.clone(),
            gid: m,
        };
        assert_eq!(ids.to_stored(0, 5), (100_000, 100_005));
        assert_eq!(ids.to_container(100_007, 100_000), (7, 0));
        assert_eq!(ids.to_container(0, 0), (65534, 65534));
        assert_eq!(Ids::default().to_stored(3, 4), (3, 4));
    }
}
