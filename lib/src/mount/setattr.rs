//! mount_setattr(2): the flags a bind mount gets while detached, and
//! idmapped mounts (`MOUNT_ATTR_IDMAP`), which --userns needs.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use rustix::fs::CWD;
use rustix::mount::{MountAttrFlags, OpenTreeFlags};

use super::attach;
use crate::error::{Error, Result};

/// What mount_setattr(2) changes on a mount: the `MOUNT_ATTR_*` bits set
/// and cleared, and a propagation type (`MS_PRIVATE`, `MS_SHARED`,
/// `MS_SLAVE`, `MS_UNBINDABLE`; 0 leaves it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Setattr {
    pub set: u64,
    pub clear: u64,
    pub propagation: u64,
}

impl Setattr {
    pub fn is_empty(&self) -> bool {
        *self == Setattr::default()
    }
}

/// mount_setattr(2) on the mount at the `O_PATH` fd `at` (named `shown` in
/// errors), with `AT_RECURSIVE` when `recursive`.
pub fn setattr_fd(at: BorrowedFd, shown: &Path, change: &Setattr, recursive: bool) -> Result<()> {
    set_attr(at, change, None, recursive)
        .map_err(|e| Error::io("set the mount attributes of", shown, e))
}

/// `struct mount_attr` of mount_setattr(2); rustix 1.1 has no wrapper.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2) on the mount at `fd` (a detached tree, or an
/// `O_PATH` fd of a mount's root): `change` (and with MOUNT_ATTR_IDMAP the
/// user namespace whose mappings the mount applies).
pub(super) fn set_attr(
    fd: BorrowedFd,
    change: &Setattr,
    userns: Option<BorrowedFd>,
    recursive: bool,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: change.set,
        attr_clr: change.clear,
        propagation: change.propagation,
        userns_fd: userns.map_or(0, |u| u.as_raw_fd() as u64),
    };
    let mut flags = libc::AT_EMPTY_PATH;
    if recursive {
        flags |= libc::AT_RECURSIVE;
    }
    // SAFETY: the fd is open, the path is a valid empty C string and `attr`
    // is a correctly sized mount_attr that outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Mounts an idmapped copy of `path` over itself (in the caller's mount
/// namespace, which should be private): files owned by id N on disk then
/// show as the host id that N maps to in `userns`, and files made through
/// it as the host id H are stored as the id H maps back to. So layers and
/// the upper folder keep the ids the image has, whatever the mapping.
/// Linux 5.12 for ext4, xfs and btrfs; overlayfs accepts idmapped layers
/// since 5.19.
pub fn idmap_in_place(path: &Path, userns: BorrowedFd) -> Result<()> {
    let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    let tree = rustix::mount::open_tree(CWD, path, flags)
        .map_err(|e| Error::io("clone the mount of", path, e.into()))?;
    let idmap = Setattr {
        set: MountAttrFlags::MOUNT_ATTR_IDMAP.bits() as u64,
        ..Setattr::default()
    };
    set_attr(tree.as_fd(), &idmap, Some(userns), false)
        .map_err(|e| Error::io("map the ids of", path, idmap_unsupported(path, e)))?;
    attach(&tree, CWD, path).map_err(|e| Error::io("mount the idmapped", path, e.into()))
}

/// EINVAL from MOUNT_ATTR_IDMAP means the filesystem cannot do idmapped
/// mounts (tmpfs before Linux 6.3, for example): say so, with its type.
fn idmap_unsupported(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() != Some(libc::EINVAL) {
        return e;
    }
    let fs = rustix::fs::statfs(path)
        .map(|st| format!("{:#x}", st.f_type))
        .unwrap_or_else(|_| "?".into());
    let name = match fs.as_str() {
        "0x1021994" => "tmpfs".to_string(),
        _ => format!("filesystem type {fs}"),
    };
    io::Error::other(format!(
        "the store's filesystem ({name}) cannot do idmapped mounts on this kernel, \
         which --userns needs: put the store on ext4, xfs or btrfs"
    ))
}
