//! Paths inside a root folder, resolved by the kernel with openat2(2)
//! RESOLVE_IN_ROOT so that no symlink, `..` or absolute link leads out of it
//! (CVE-2021-30465, go-containerregistry 2227). Used for layer extraction
//! and for mount targets inside a container's root. Never check strings:
//! let the kernel resolve.
//!
//! Every lookup starts again from the root fd: a symlink met on the way is
//! resolved as if the root were `/`, so `/etc -> /` or `x -> ../../..` lands
//! on the root itself, never above it.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, CWD};

use crate::error::{Error, Result};

/// RESOLVE_NO_MAGICLINKS too: a `/proc/self/fd/N`-style link inside the root
/// would otherwise jump anywhere the kernel knows of.
const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// How many times to retry openat2 when it answers EAGAIN (a rename raced
/// with a `..` lookup, openat2(2)) and how many symlinks mount_target follows.
const RETRIES: usize = 32;

/// A folder that paths are resolved in, as if it were `/`.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

impl Root {
    /// Opens `path` (which must be a folder) as a root.
    pub fn open(path: &Path) -> Result<Root> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(CWD, path, flags, Mode::empty())
            .map_err(|e| Error::io("open", path, e.into()))?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The path the root was opened with, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The host path of `rel` for error messages (never used to open).
    pub fn show(&self, rel: &Path) -> PathBuf {
        self.path.join(rel.strip_prefix("/").unwrap_or(rel))
    }

    /// openat2 with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; `rel` may start
    /// with `/`, and `""` means the root itself.
    pub fn open_at(&self, rel: &Path, flags: OFlags, mode: Mode) -> Result<OwnedFd> {
        self.openat2(rel, flags, mode)
            .map_err(|e| Error::io("open", self.show(rel), e))
    }

    fn openat2(&self, rel: &Path, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let flags = flags | OFlags::CLOEXEC;
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(&self.fd, rel, flags, mode, RESOLVE) {
                Err(rustix::io::Errno::AGAIN) if tries < RETRIES => tries += 1,
                r => return r.map_err(io::Error::from),
            }
        }
    }

    /// An O_PATH fd on the folder `rel`, or the io error (to test for ENOENT).
    fn dir(&self, rel: &Path) -> io::Result<OwnedFd> {
        self.openat2(rel, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
    }

    /// `mkdir -p` inside the root, one component at a time, each looked up
    /// from the root again; returns an O_PATH fd on the last folder. A
    /// dangling symlink on the way is followed, inside the root, and what it
    /// points to created (`/var/run -> /run`). A component that exists as
    /// something other than a folder is an error (ENOTDIR).
    pub fn mkdir_all(&self, rel: &Path, mode: u32) -> Result<OwnedFd> {
        let mut cur = self
            .dir(Path::new(""))
            .map_err(|e| Error::io("open", &self.path, e))?;
        let mut done = PathBuf::new();
        let mut todo = VecDeque::new();
        push_front(&mut todo, rel);
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            if c == "/" {
                cur = self
                    .dir(Path::new(""))
                    .map_err(|e| Error::io("open", &self.path, e))?;
                done = PathBuf::new();
                continue;
            }
            let next = done.join(&c);
            match self.dir(&next) {
                Ok(fd) => {
                    (cur, done) = (fd, next);
                    continue;
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && c != ".." => {}
                Err(e) => return Err(Error::io("open", self.show(&next), e)),
            }
            match rustix::fs::mkdirat(&cur, &c, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(Error::io("create", self.show(&next), e.into())),
            }
            match self.dir(&next) {
                Ok(fd) => (cur, done) = (fd, next),
                // EEXIST above, and still nothing: a symlink to nothing
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && links < RETRIES => {
                    let target = rustix::fs::readlinkat(&cur, &c, Vec::new())
                        .map_err(|_| Error::io("open", self.show(&next), e))?;
                    push_front(&mut todo, Path::new(OsStr::from_bytes(target.as_bytes())));
                    links += 1;
                }
                Err(e) => return Err(Error::io("open", self.show(&next), e)),
            }
        }
        Ok(cur)
    }

    /// An fd on the folder that holds `rel` (created with mode 0755 when
    /// `create`) and the final name, for *at(2) calls that create or replace
    /// that entry. `rel` must end in a name: `/`, `""`, `x/..` are errors.
    pub fn parent(&self, rel: &Path, create: bool) -> Result<(OwnedFd, OsString)> {
        let (dir, name) = split(rel)
            .ok_or_else(|| Error::Spec(format!("path '{}' has no final name", rel.display())))?;
        let fd = if create {
            self.mkdir_all(dir, 0o755)?
        } else {
            self.dir(dir)
                .map_err(|e| Error::io("open", self.show(dir), e))?
        };
        Ok((fd, name.to_os_string()))
    }

    /// Makes sure a folder (`dir`) or an empty file exists at `rel` to mount
    /// on, and returns an O_PATH fd on it (mount onto `/proc/self/fd/N`). A
    /// symlink on the way, the last component included, is resolved inside
    /// the root: `/etc/hosts -> ../../x` creates `<root>/x`.
    pub fn mount_target(&self, rel: &Path, dir: bool) -> Result<OwnedFd> {
        let mut rel = rel.to_path_buf();
        for _ in 0..RETRIES {
            match self.openat2(&rel, OFlags::PATH, Mode::empty()) {
                Ok(fd) => return self.check_target(fd, &rel, dir),
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(Error::io("open", self.show(&rel), e)),
            }
            let (pfd, name) = self.parent(&rel, true)?;
            match rustix::fs::statat(&pfd, &name, AtFlags::SYMLINK_NOFOLLOW) {
                // A dangling symlink: create what it points to, inside the root.
                Ok(st) if FileType::from_raw_mode(st.st_mode as _) == FileType::Symlink => {
                    let target = rustix::fs::readlinkat(&pfd, &name, Vec::new())
                        .map_err(|e| Error::io("read link", self.show(&rel), e.into()))?;
                    let target = Path::new(OsStr::from_bytes(target.as_bytes()));
                    let base = split(&rel)
                        .map(|(d, _)| d.to_path_buf())
                        .unwrap_or_default();
                    rel = base.join(target);
                }
                Ok(_) => {} // appeared meanwhile: open it on the next turn
                Err(_) => create_node(&pfd, &name, dir)
                    .map_err(|e| Error::io("create", self.show(&rel), e))?,
            }
        }
        Err(Error::io(
            "resolve",
            self.show(&rel),
            io::Error::from_raw_os_error(libc::ELOOP),
        ))
    }

    fn check_target(&self, fd: OwnedFd, rel: &Path, dir: bool) -> Result<OwnedFd> {
        let st = rustix::fs::fstat(&fd).map_err(|e| Error::io("stat", self.show(rel), e.into()))?;
        let is_dir = FileType::from_raw_mode(st.st_mode as _) == FileType::Directory;
        if is_dir != dir {
            let what = if dir {
                "not a directory"
            } else {
                "a directory"
            };
            return Err(Error::Spec(format!(
                "mount target '{}' is {what}",
                self.show(rel).display()
            )));
        }
        Ok(fd)
    }
}

/// Splits `rel` into its folder and final name; None when it has no final
/// name (`/`, `""`, or ends in `.`/`..`).
pub fn split(rel: &Path) -> Option<(&Path, &OsStr)> {
    match rel.components().next_back()? {
        Component::Normal(name) => Some((rel.parent().unwrap_or(Path::new("")), name)),
        _ => None,
    }
}

/// Puts the components of `p` before those still to do; `/` stands for
/// the root (no name can be `/`).
fn push_front(todo: &mut VecDeque<OsString>, p: &Path) {
    for c in p.components().rev() {
        match c {
            Component::Normal(n) => todo.push_front(n.to_os_string()),
            Component::ParentDir => todo.push_front("..".into()),
            Component::RootDir => todo.push_front("/".into()),
            _ => {}
        }
    }
}

/// Creates an empty folder or file `name` in `dir`, never following a link.
fn create_node(dir: &OwnedFd, name: &OsStr, is_dir: bool) -> io::Result<()> {
    let r = if is_dir {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755))
    } else {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        rustix::fs::openat(
            dir,
            name,
            flags | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map(drop)
    };
    match r {
        Ok(()) | Err(rustix::io::Errno::EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// A root inside a tempdir, with a sentinel folder beside it that no
    /// operation may touch.
    fn setup() -> (tempfile::TempDir, PathBuf, Root) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir(t.path().join("outside")).unwrap();
        let r = Root::open(&root).unwrap();
        (t, root, r)
    }

    /// The path an fd points to, as the kernel sees it.
    fn where_is(fd: &OwnedFd) -> PathBuf {
        fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(fd)
        ))
        .unwrap()
    }

    #[test]
    fn inroot_symlinks_stay_inside() {
        let (t, root, r) = setup();
        fs::write(root.join("etc/passwd"), "inside").unwrap();
        fs::write(t.path().join("passwd"), "outside").unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../etc", root.join("etc/rel")).unwrap();
        symlink("etc/rel", root.join("chain")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        symlink("../../..", root.join("up")).unwrap();
        for p in [
            "abs/passwd",
            "/chain/passwd",
            "slash/etc/passwd",
            "up/etc/passwd",
            "../../etc/passwd",
        ] {
            let fd = r
                .open_at(Path::new(p), OFlags::RDONLY, Mode::empty())
                .unwrap();
            let got = io::read_to_string(fs::File::from(fd)).unwrap();
            assert_eq!(got, "inside", "{p}");
        }
        let fd = r.open_at(Path::new("up/passwd"), OFlags::PATH, Mode::empty());
        assert_eq!(fd.unwrap_err().raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn inroot_link_to_proc_stays_inside() {
        let (_t, root, r) = setup();
        symlink("/proc/self/root", root.join("proc")).unwrap();
        // resolves to `<root>/proc/self/root`, which does not exist
        assert!(r
            .open_at(Path::new("proc/etc"), OFlags::PATH, Mode::empty())
            .is_err());
    }

    #[test]
    fn inroot_mkdir_all_through_symlink_stays_inside() {
        let (t, root, r) = setup();
        symlink(t.path().join("outside"), root.join("evil")).unwrap();
        symlink("../../outside", root.join("etc/evil2")).unwrap();
        let fd = r.mkdir_all(Path::new("evil/a/b"), 0o755).unwrap();
        assert_eq!(
            where_is(&fd),
            root.join(t.path().join("outside").strip_prefix("/").unwrap())
                .join("a/b")
        );
        r.mkdir_all(Path::new("/etc/evil2/c"), 0o700).unwrap();
        assert!(root.join("outside/c").is_dir());
        assert_eq!(fs::read_dir(t.path().join("outside")).unwrap().count(), 0);
        let m = fs::metadata(root.join("outside/c")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777,
            0o700
        );
    }

    #[test]
    fn inroot_mkdir_all_refuses_files() {
        let (_t, root, r) = setup();
        fs::write(root.join("f"), "").unwrap();
        let e = r.mkdir_all(Path::new("f/x"), 0o755).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        assert!(r.mkdir_all(Path::new("f"), 0o755).is_err());
    }

    #[test]
    fn inroot_parent_splits_and_refuses_no_name() {
        let (_t, root, r) = setup();
        let (fd, name) = r.parent(Path::new("/a/b/c"), true).unwrap();
        assert_eq!(name, "c");
        assert_eq!(where_is(&fd), root.join("a/b"));
        let (fd, name) = r.parent(Path::new("top"), false).unwrap();
        assert_eq!(
            (where_is(&fd), name.as_os_str()),
            (root.clone(), OsStr::new("top"))
        );
        for bad in ["/", "", "a/..", "."] {
            assert!(
                matches!(r.parent(Path::new(bad), true), Err(Error::Spec(_))),
                "{bad}"
            );
        }
        assert!(r.parent(Path::new("missing/x"), false).is_err());
    }

    #[test]
    fn inroot_mount_target_through_escaping_symlink() {
        let (t, root, r) = setup();
        fs::remove_dir(root.join("etc")).unwrap();
        symlink(t.path().join("outside"), root.join("etc")).unwrap();
        let fd = r.mount_target(Path::new("/etc/hosts"), false).unwrap();
        let inside = root.join(t.path().join("outside/hosts").strip_prefix("/").unwrap());
        assert_eq!(where_is(&fd), inside);
        assert!(inside.is_file());
        assert_eq!(fs::read_dir(t.path().join("outside")).unwrap().count(), 0);
    }

    #[test]
    fn inroot_mount_target_follows_dangling_link_inside() {
        let (t, root, r) = setup();
        symlink("../../x", root.join("etc/hosts")).unwrap();
        symlink("/data", root.join("vol")).unwrap();
        let fd = r.mount_target(Path::new("/etc/hosts"), false).unwrap();
        assert_eq!(where_is(&fd), root.join("x"));
        let fd = r.mount_target(Path::new("vol"), true).unwrap();
        assert_eq!(where_is(&fd), root.join("data"));
        assert!(!t.path().join("x").exists());
        // existing entries of the wrong kind are refused
        assert!(r.mount_target(Path::new("vol"), false).is_err());
        assert!(r.mount_target(Path::new("etc/hosts"), true).is_err());
    }
}
