//! Folder trees of any depth, walked and removed without recursion and
//! with a bounded number of open files. A container can make a folder
//! chain 200,000 deep (mkdir and chdir in a loop); a walk that holds one
//! stack frame and one fd per level dies of a stack overflow or EMFILE,
//! and a removal that fails half way leaves the rest behind for good.
//!
//! [`Cursor`] keeps at most [`OPEN_FDS`] folders open below its roots,
//! those of the deepest levels; a level above them is opened again, when the walk climbs back to
//! it, as `..` of the level below, and is checked to be the same folder
//! (device and inode) so that a tree changed during the walk is an error,
//! never a walk somewhere else. [`remove_tree`] moves a folder deeper than
//! that to the top of the tree being removed and takes it from there.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, CWD};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// How many folders a walk keeps open below its roots (a level holds one
/// folder for each tree that has it), and how deep [`remove_tree`] opens.
pub const OPEN_FDS: usize = 48;

/// Opens the folder `name` in `dir`, never through a symlink.
pub fn open_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

/// The names in a folder, sorted byte-wise, without `.` and `..`.
pub fn sorted_names(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for e in rustix::fs::Dir::read_from(dir)? {
        let n = e?.file_name().to_bytes().to_vec();
        if n != b"." && n != b".." {
            names.push(n);
        }
    }
    names.sort();
    Ok(names)
}

fn identity(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// One tree's folder at one level of the walk.
struct Dir {
    /// Which of the walk's trees (0 for the first root given).
    tree: usize,
    id: (u64, u64),
    fd: Option<OwnedFd>,
}

struct Level<T> {
    /// Where this level's path ends in `Cursor::path`.
    path_end: usize,
    dirs: Vec<Dir>,
    /// Names still to visit, the next one last.
    pending: Vec<Vec<u8>>,
    mark: T,
}

/// A depth-first walk, children in byte order, over one tree or over
/// several trees side by side (an overlay's upper folder and its lowers:
/// a level holds the folder of each tree that has it).
pub struct Cursor<T> {
    roots: Vec<OwnedFd>,
    levels: Vec<Level<T>>,
    /// The current folder's path from the roots: `/a/b`, empty at the top.
    path: Vec<u8>,
    /// Folders open below the top level; they are those of `levels[first_open..]`.
    open: usize,
    first_open: usize,
}

impl<T> Cursor<T> {
    /// Starts at `roots` (open folders, kept open for the whole walk),
    /// listing the first root's names; `mark` is the top level's.
    pub fn new(roots: Vec<OwnedFd>, mark: T) -> io::Result<Cursor<T>> {
        let mut dirs = Vec::new();
        for (tree, fd) in roots.iter().enumerate() {
            let fd = fd.try_clone()?;
            dirs.push(Dir {
                tree,
                id: identity(fd.as_fd())?,
                fd: Some(fd),
            });
        }
        let mut pending = sorted_names(roots[0].as_fd())?;
        pending.reverse();
        let top = Level {
            path_end: 0,
            dirs,
            pending,
            mark,
        };
        Ok(Cursor {
            roots,
            levels: vec![top],
            path: Vec::new(),
            open: 0,
            first_open: 1,
        })
    }

    /// The next name of the current folder, climbing back up when a folder
    /// is done; `None` at the end. The name is a child of [`Self::path`].
    pub fn next_name(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let level = self.levels.last_mut().expect("the top level");
            if let Some(n) = level.pending.pop() {
                return Ok(Some(n));
            }
            if self.levels.len() == 1 {
                return Ok(None);
            }
            self.climb()?;
        }
    }

    /// Enters the child folder `name` just returned by `next_name`: `dirs` are
    /// its folder in each tree that has it (the first tree's first), with
    /// the index of that tree among the roots.
    pub fn descend(&mut self, name: &[u8], dirs: Vec<(usize, OwnedFd)>, mark: T) -> io::Result<()> {
        let mut pending = sorted_names(dirs[0].1.as_fd())?;
        pending.reverse();
        let mut opened = Vec::new();
        for (tree, fd) in dirs {
            opened.push(Dir {
                tree,
                id: identity(fd.as_fd())?,
                fd: Some(fd),
            });
        }
        self.path.push(b'/');
        self.path.extend_from_slice(name);
        self.open += opened.len();
        self.levels.push(Level {
            path_end: self.path.len(),
            dirs: opened,
            pending,
            mark,
        });
        // Close the shallowest open levels, keeping the current one and its
        // parent; the top level keeps its folders: they are the roots.
        while self.open > OPEN_FDS && self.first_open + 2 < self.levels.len() {
            let far = &mut self.levels[self.first_open];
            self.open -= far.dirs.len();
            far.dirs.iter_mut().for_each(|d| d.fd = None);
            self.first_open += 1;
        }
        Ok(())
    }

    /// Leaves the current folder for its parent, opening the parent's
    /// folders again if they were closed.
    fn climb(&mut self) -> io::Result<()> {
        let child = self.levels.pop().expect("a level below the top");
        self.open -= child.dirs.len();
        let depth = self.levels.len() - 1;
        let parent = self.levels.last_mut().expect("the top level");
        self.path.truncate(parent.path_end);
        if depth > 0 && depth < self.first_open {
            self.open += parent.dirs.len();
            self.first_open = depth;
        }
        for d in parent.dirs.iter_mut().filter(|d| d.fd.is_none()) {
            let below = child.dirs.iter().find(|c| c.tree == d.tree);
            let fd = match below.and_then(|c| c.fd.as_ref()) {
                Some(c) => open_dir(c.as_fd(), OsStr::new(".."))?,
                None => open_path(self.roots[d.tree].as_fd(), &self.path)?,
            };
            if identity(fd.as_fd())? != d.id {
                return Err(io::Error::other("the tree changed while it was read"));
            }
            d.fd = Some(fd);
        }
        Ok(())
    }

    /// The current folder's path (`/a/b`; empty at the top).
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// How many folders deep the walk is (0 at the top).
    pub fn depth(&self) -> usize {
        self.levels.len() - 1
    }

    /// The current folder in each tree that has it, with its tree's index.
    pub fn dirs(&self) -> Vec<(usize, BorrowedFd<'_>)> {
        let level = self.levels.last().expect("the top level");
        level
            .dirs
            .iter()
            .map(|d| {
                (
                    d.tree,
                    d.fd.as_ref().expect("the current level is open").as_fd(),
                )
            })
            .collect()
    }

    /// The current folder in the first tree.
    pub fn dir(&self) -> BorrowedFd<'_> {
        self.dirs()[0].1
    }

    /// The path of the folder `depth` levels deep and its mark, to change.
    pub fn level(&mut self, depth: usize) -> (&[u8], &mut T) {
        let l = &mut self.levels[depth];
        (&self.path[..l.path_end], &mut l.mark)
    }
}

/// Opens `/a/b/c` under `root` one name at a time (a path past PATH_MAX
/// cannot be opened whole).
fn open_path(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<OwnedFd> {
    let mut fd = open_dir(root, OsStr::new("."))?;
    for name in path.split(|b| *b == b'/').filter(|n| !n.is_empty()) {
        fd = open_dir(fd.as_fd(), OsStr::from_bytes(name))?;
    }
    Ok(fd)
}

/// Removes `path` and everything below it, however deep; a missing path
/// is no error. Open files stay bounded: a folder deeper than
/// [`OPEN_FDS`] is first moved to the top of the tree. Nothing may be
/// mounted inside.
pub fn remove_tree(path: &Path) -> Result<()> {
    let top = match open_dir(CWD, path.as_os_str()) {
        Ok(fd) => fd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        // A file or a symlink: removed as itself.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other.map_err(|e| Error::io("remove", path, e)),
            };
        }
        Err(e) => return Err(Error::io("open", path, e)),
    };
    empty(top).map_err(|e| Error::io("remove", path, e))?;
    match std::fs::remove_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(|e| Error::io("remove", path, e)),
    }
}

/// A folder being emptied: its fd, its name in the folder above, and the
/// names in it left to delete.
struct Doomed {
    fd: OwnedFd,
    name: Vec<u8>,
    names: Vec<Vec<u8>>,
}

/// Deletes everything in the folder `top`.
fn empty(top: OwnedFd) -> io::Result<()> {
    let names = sorted_names(top.as_fd())?;
    let mut stack = vec![Doomed {
        fd: top.try_clone()?,
        name: Vec::new(),
        names,
    }];
    let mut moved = 0u64;
    loop {
        let depth = stack.len();
        let Some(cur) = stack.last_mut() else { break };
        let Some(name) = cur.names.pop() else {
            // The top is listed again: folders moved up land there.
            if depth == 1 {
                let again = sorted_names(cur.fd.as_fd())?;
                if !again.is_empty() {
                    cur.names = again;
                    continue;
                }
            }
            let done = stack.pop().expect("a level");
            if let Some(parent) = stack.last() {
                rustix::fs::unlinkat(&parent.fd, done.name.as_slice(), AtFlags::REMOVEDIR)?;
            }
            continue;
        };
        match rustix::fs::unlinkat(&cur.fd, name.as_slice(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => continue,
            Err(Errno::ISDIR) => {}
            Err(e) => return Err(e.into()),
        }
        if depth <= OPEN_FDS {
            let fd = open_dir(cur.fd.as_fd(), OsStr::from_bytes(&name))?;
            let names = sorted_names(fd.as_fd())?;
            stack.push(Doomed { fd, name, names });
            continue;
        }
        // Too deep to open: the folder moves to the top under a name of
        // its own, and is deleted from there.
        loop {
            moved += 1;
            let to = format!(".cc-deep-{moved}");
            let flags = RenameFlags::NOREPLACE;
            match rustix::fs::renameat_with(&cur.fd, name.as_slice(), &top, to.as_str(), flags) {
                Err(Errno::EXIST) => continue,
                other => break other?,
            }
        }
    }
    Ok(())
}

/// The bytes a folder holds as docker counts a layer's or a container's
/// size (moby's pkg/directory): the apparent size of every entry that is
/// not a folder (a symlink's is its target's length), a file with several
/// links once. An entry removed during the walk is not counted.
pub fn size(path: &Path) -> Result<u64> {
    let top = open_dir(CWD, path.as_os_str()).map_err(|e| Error::io("open", path, e))?;
    let mut cur = Cursor::new(vec![top], ()).map_err(|e| Error::io("read", path, e))?;
    let mut linked = std::collections::HashSet::new();
    let mut total = 0;
    let gone = |e: &io::Error| e.kind() == io::ErrorKind::NotFound;
    while let Some(name) = cur.next_name().map_err(|e| Error::io("read", path, e))? {
        let name_os = OsStr::from_bytes(&name);
        let st = match rustix::fs::statat(cur.dir(), name_os, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => {
                return Err(Error::io(
                    "stat",
                    shown(path, cur.path()).join(name_os),
                    e.into(),
                ))
            }
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            let entered =
                open_dir(cur.dir(), name_os).and_then(|fd| cur.descend(&name, vec![(0, fd)], ()));
            match entered {
                Err(e) if !gone(&e) => {
                    return Err(Error::io("read", shown(path, cur.path()).join(name_os), e))
                }
                _ => continue,
            }
        }
        if st.st_nlink > 1 && !linked.insert(st.st_ino) {
            continue;
        }
        total += st.st_size as u64;
    }
    Ok(total)
}

/// The kind of `name` in `dir`, without following a symlink.
pub fn kind_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<FileType> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(FileType::from_raw_mode(st.st_mode))
}

/// `root` joined with a walk's `/a/b` path, for messages.
pub fn shown(root: &Path, path: &[u8]) -> PathBuf {
    root.join(OsStr::from_bytes(path.strip_prefix(b"/").unwrap_or(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(root: &Path, depth: usize) {
        let mut fd = open_dir(CWD, root.as_os_str()).unwrap();
        for _ in 0..depth {
            rustix::fs::mkdirat(&fd, "d", Mode::from_raw_mode(0o755)).unwrap();
            rustix::fs::mkdirat(&fd, "e", Mode::from_raw_mode(0o755)).unwrap();
            rustix::fs::openat(
                &fd,
                "f",
                OFlags::CREATE | OFlags::WRONLY,
                Mode::from_raw_mode(0o644),
            )
            .unwrap();
            fd = open_dir(fd.as_fd(), OsStr::new("d")).unwrap();
        }
    }

    #[test]
    fn size_counts_files_and_symlinks_not_folders_and_a_hardlink_once() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/f"), vec![0u8; 1000]).unwrap();
        std::fs::write(root.join("a/b/g"), vec![0u8; 24]).unwrap();
        std::fs::hard_link(root.join("a/f"), root.join("h")).unwrap();
        std::os::unix::fs::symlink("a/f", root.join("s")).unwrap();
        assert_eq!(size(root).unwrap(), 1000 + 24 + 3);
        chain(&root.join("a/b"), OPEN_FDS * 2);
        assert_eq!(
            size(root).unwrap(),
            1000 + 24 + 3,
            "empty files add nothing"
        );
        assert!(size(&root.join("missing")).is_err());
    }

    #[test]
    fn a_deep_chain_is_walked_in_order_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("tree");
        std::fs::create_dir(&root).unwrap();
        let depth = OPEN_FDS * 5 + 3;
        chain(&root, depth);
        let top = open_dir(CWD, root.as_os_str()).unwrap();
        let mut cur = Cursor::new(vec![top], ()).unwrap();
        let mut seen = Vec::new();
        let mut deepest = 0;
        while let Some(n) = cur.next_name().unwrap() {
            let p = [cur.path(), b"/", &n].concat();
            if kind_at(cur.dir(), OsStr::from_bytes(&n)).unwrap() == FileType::Directory {
                let sub = open_dir(cur.dir(), OsStr::from_bytes(&n)).unwrap();
                cur.descend(&n, vec![(0, sub)], ()).unwrap();
                deepest = deepest.max(cur.depth());
            }
            seen.push(p);
        }
        assert_eq!(deepest, depth);
        assert_eq!(seen.len(), 3 * depth);
        // Depth first, children in byte order: d, d/..., e, f.
        assert_eq!(seen[0], b"/d");
        assert_eq!(seen[seen.len() - 2], b"/e");
        assert_eq!(seen[seen.len() - 1], b"/f");
        remove_tree(&root).unwrap();
        assert!(!root.exists());
        remove_tree(&root).unwrap();
    }
}
