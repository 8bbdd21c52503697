//! `--no-pivot`: the root moved over / with MS_MOVE and chroot(2) into it,
//! for roots pivot_root(2) cannot take (a ramfs initramfs).
//!
//! The host's mount tree stays in the namespace below the chroot. The
//! kernel lets a process mount a fresh proc or sysfs only when one of the
//! namespace is already fully visible (`mount_too_revealing`, fs/namespace.c),
//! and it looks at every mount of the namespace, the ones outside the
//! chroot too: with the host's /proc still there, a process in the
//! container with CAP_SYS_ADMIN could mount an unmasked /proc. So first,
//! as runc's msMoveRoot does for proc and sysfs, every mount outside the
//! new root is detached (deepest first); one the kernel keeps (locked in a
//! user namespace) is covered by an empty tmpfs when it is a proc or sysfs.
//! The namespace was made a slave of the host's first (`rootfs::prepare`),
//! so none of this reaches the host.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::chdir;

use super::failure::sys;
use super::Failure;

pub(super) fn move_root(rootfs: &Path) -> Result<(), Failure> {
    detach_outside(rootfs)?;
    chdir(rootfs).map_err(|e| sys("enter the root", e))?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)
        .map_err(|e| sys("move the root", e))?;
    nix::unistd::chroot(".").map_err(|e| sys("chroot", e))?;
    chdir("/").map_err(|e| sys("enter the new root", e))
}

/// One line of /proc/self/mountinfo: where, and the filesystem type.
struct Mounted {
    at: PathBuf,
    fstype: String,
}

fn detach_outside(rootfs: &Path) -> Result<(), Failure> {
    let root = std::fs::canonicalize(rootfs)
        .map_err(|e| Failure::from(crate::Error::io("resolve", rootfs, e)))?;
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| {
        Failure::from(crate::Error::io(
            "read",
            Path::new("/proc/self/mountinfo"),
            e,
        ))
    })?;
    let mut outside: Vec<Mounted> = text
        .lines()
        .filter_map(parse)
        .filter(|m| !m.at.starts_with(&root) && !root.starts_with(&m.at))
        .collect();
    // Deepest first: a child goes before its parent, so none is detached
    // along with its parent while still unvisited.
    outside.sort_by_key(|m| std::cmp::Reverse(m.at.components().count()));
    for m in &outside {
        match umount2(&m.at, MntFlags::MNT_DETACH) {
            // Gone with a parent already, or never reachable by its path.
            Ok(()) | Err(nix::Error::ENOENT) => {}
            Err(_) if !matches!(m.fstype.as_str(), "proc" | "sysfs") => {}
            Err(_) => mount(
                Some("tmpfs"),
                &m.at,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=0"),
            )
            .map_err(|e| sys(&format!("cover '{}'", m.at.display()), e))?,
        }
    }
    Ok(())
}

/// The mount point (field 5, octal escapes undone) and the type (the first
/// field after the ` - ` separator).
fn parse(line: &str) -> Option<Mounted> {
    let (head, tail) = line.split_once(" - ")?;
    let at = head.split(' ').nth(4)?;
    let fstype = tail.split(' ').next()?;
    Some(Mounted {
        at: PathBuf::from(crate::mount::unescape_mountinfo(at)),
        fstype: fstype.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_pivot_reads_mountinfo() {
        let m =
            parse("36 35 98:0 / /mnt/a\\040b rw,noatime master:1 - proc proc rw,errors=continue")
                .unwrap();
        assert_eq!(
            (m.at, m.fstype.as_str()),
            (PathBuf::from("/mnt/a b"), "proc")
        );
        assert!(parse("garbage").is_none());
    }
}
