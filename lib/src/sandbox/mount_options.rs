//! A spec mount's `options`, as runc reads them (`parseMountOptions`): the
//! mount(2) flags (`ro`, `nosuid`, ...), the recursive attributes that
//! mount_setattr(2) sets on every mount of a tree (`rro`, `rnosuid`, ...,
//! Linux 5.12), a propagation type, and what is left: the filesystem's own
//! options (`mode=755`, `size=64m`, `newinstance`), passed as mount data.
//!
//! runc passes every word it does not know as data too; for a bind mount
//! the kernel ignores data, so a misspelt or unsupported flag there would
//! be silently dropped. cc refuses such a word, and refuses runc's
//! extensions it does not implement (`tmpcopyup`; `idmap` with a mount's
//! own `uidMappings`: cc maps a bind only through the container's user
//! namespace, as the runtime spec says without them). A filesystem
//! refuses data it does not know itself (EINVAL), and the error names the
//! options.

use nix::mount::MsFlags;

use super::Failure;
use crate::mount::{BindAttrs, Setattr};
use crate::spec::Mount;

/// `MOUNT_ATTR_*` (linux/mount.h).
const RDONLY: u64 = 0x1;
const NOSUID: u64 = 0x2;
const NODEV: u64 = 0x4;
const NOEXEC: u64 = 0x8;
/// The access-time setting: one of three values, not bits.
const ATIME_MASK: u64 = 0x70;
const RELATIME: u64 = 0x0;
const NOATIME: u64 = 0x10;
const STRICTATIME: u64 = 0x20;
const NODIRATIME: u64 = 0x80;

/// Every option `parse` takes (cc-oci features' `mountOptions`), besides
/// a filesystem's own.
pub(crate) const KNOWN: [&str; 56] = [
    "ro",
    "rw",
    "nosuid",
    "suid",
    "nodev",
    "dev",
    "noexec",
    "exec",
    "noatime",
    "atime",
    "nodiratime",
    "diratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "sync",
    "async",
    "dirsync",
    "mand",
    "nomand",
    "iversion",
    "noiversion",
    "lazytime",
    "nolazytime",
    "silent",
    "loud",
    "acl",
    "noacl",
    "defaults",
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnodiratime",
    "rdiratime",
    "rrelatime",
    "ratime",
    "rnostrictatime",
    "rnoatime",
    "rstrictatime",
    "rnorelatime",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
    "bind",
    "rbind",
];

/// A mount's options, sorted.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Options {
    /// mount(2) flags: of a new filesystem, or what a bind adds to its top
    /// mount (`ro` on an `rbind` is the top mount only, as runc).
    pub flags: MsFlags,
    /// `rro`, `rnosuid`, ...: on every mount of the tree.
    pub tree: Setattr,
    /// `private`, `rshared`, ...: the type and whether for the whole tree.
    pub propagation: Option<(u64, bool)>,
    /// `bind` or `rbind` among the options.
    pub bind: bool,
    pub recursive: bool,
    /// The filesystem's own options, comma-separated.
    pub data: String,
    /// `idmap` (Some(false)) or `ridmap` (Some(true)) on a bind: mapped
    /// through the container's user namespace.
    pub idmap: Option<bool>,
}

impl Options {
    /// What a bind mount of these options changes before it is attached.
    pub fn bind_attrs(&self) -> BindAttrs {
        let mut top = Setattr::default();
        for (flag, attr) in [
            (MsFlags::MS_RDONLY, RDONLY),
            (MsFlags::MS_NOSUID, NOSUID),
            (MsFlags::MS_NODEV, NODEV),
            (MsFlags::MS_NOEXEC, NOEXEC),
            (MsFlags::MS_NODIRATIME, NODIRATIME),
        ] {
            if self.flags.contains(flag) {
                top.set |= attr;
            }
        }
        for (flag, atime) in [
            (MsFlags::MS_RELATIME, RELATIME),
            (MsFlags::MS_NOATIME, NOATIME),
            (MsFlags::MS_STRICTATIME, STRICTATIME),
        ] {
            if self.flags.contains(flag) {
                top.set = (top.set & !ATIME_MASK) | atime;
                top.clear |= ATIME_MASK;
            }
        }
        let mut tree = self.tree;
        match self.propagation {
            Some((p, true)) => tree.propagation = p,
            Some((p, false)) => top.propagation = p,
            None => {}
        }
        BindAttrs { top, tree }
    }
}

/// A mount(2) flag that the option sets or (`clear`) leaves off.
fn flag(o: &str) -> Option<(bool, MsFlags)> {
    use MsFlags as F;
    Some(match o {
        "ro" => (false, F::MS_RDONLY),
        "rw" => (true, F::MS_RDONLY),
        "nosuid" => (false, F::MS_NOSUID),
        "suid" => (true, F::MS_NOSUID),
        "nodev" => (false, F::MS_NODEV),
        "dev" => (true, F::MS_NODEV),
        "noexec" => (false, F::MS_NOEXEC),
        "exec" => (true, F::MS_NOEXEC),
        "noatime" => (false, F::MS_NOATIME),
        "atime" => (true, F::MS_NOATIME),
        "nodiratime" => (false, F::MS_NODIRATIME),
        "diratime" => (true, F::MS_NODIRATIME),
        "relatime" => (false, F::MS_RELATIME),
        "norelatime" => (true, F::MS_RELATIME),
        "strictatime" => (false, F::MS_STRICTATIME),
        "nostrictatime" => (true, F::MS_STRICTATIME),
        "sync" => (false, F::MS_SYNCHRONOUS),
        "async" => (true, F::MS_SYNCHRONOUS),
        "dirsync" => (false, F::MS_DIRSYNC),
        "mand" => (false, F::MS_MANDLOCK),
        "nomand" => (true, F::MS_MANDLOCK),
        "iversion" => (false, F::MS_I_VERSION),
        "noiversion" => (true, F::MS_I_VERSION),
        "lazytime" => (false, F::MS_LAZYTIME),
        "nolazytime" => (true, F::MS_LAZYTIME),
        "silent" => (false, F::MS_SILENT),
        "loud" => (true, F::MS_SILENT),
        "acl" => (false, F::MS_POSIXACL),
        "noacl" => (true, F::MS_POSIXACL),
        "defaults" => (false, F::empty()),
        _ => return None,
    })
}

/// A recursive attribute: `MOUNT_ATTR_*` set and cleared. An access-time
/// setting clears the other two (mount_setattr(2)); `ratime` is the
/// kernel's default, relatime (mount(8): "atime"), and `rnorelatime`
/// strictatime.
fn recursive(o: &str) -> Option<(u64, u64)> {
    Some(match o {
        "rro" => (RDONLY, 0),
        "rrw" => (0, RDONLY),
        "rnosuid" => (NOSUID, 0),
        "rsuid" => (0, NOSUID),
        "rnodev" => (NODEV, 0),
        "rdev" => (0, NODEV),
        "rnoexec" => (NOEXEC, 0),
        "rexec" => (0, NOEXEC),
        "rnodiratime" => (NODIRATIME, 0),
        "rdiratime" => (0, NODIRATIME),
        "rrelatime" | "ratime" | "rnostrictatime" => (RELATIME, ATIME_MASK),
        "rnoatime" => (NOATIME, ATIME_MASK),
        "rstrictatime" | "rnorelatime" => (STRICTATIME, ATIME_MASK),
        _ => return None,
    })
}

fn propagation(o: &str) -> Option<(u64, bool)> {
    let (p, rec) = match o.strip_prefix('r') {
        Some(p @ ("private" | "shared" | "slave" | "unbindable")) => (p, true),
        _ => (o, false),
    };
    let flag = match p {
        "private" => MsFlags::MS_PRIVATE,
        "shared" => MsFlags::MS_SHARED,
        "slave" => MsFlags::MS_SLAVE,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        _ => return None,
    };
    // c_ulong's width differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    Some((flag.bits() as u64, rec))
}

/// Reads `m.options`; an option cc cannot honour is an error naming it.
pub(super) fn parse(m: &Mount) -> Result<Options, Failure> {
    let refuse = |o: &str, why: &str| {
        Failure::new(
            125,
            format!(
                "mount option '{o}' of '{}' is not supported: {why}",
                m.destination
            ),
        )
    };
    let mut out = Options {
        flags: MsFlags::empty(),
        tree: Setattr::default(),
        propagation: None,
        bind: false,
        recursive: false,
        data: String::new(),
        idmap: None,
    };
    let mut data = Vec::new();
    for o in &m.options {
        let o = o.as_str();
        if let Some((clear, f)) = flag(o) {
            out.flags.set(f, !clear);
        } else if let Some((set, clear)) = recursive(o) {
            out.tree.set = (out.tree.set & !clear) | set;
            out.tree.clear = (out.tree.clear & !set) | clear;
        } else if let Some(p) = propagation(o) {
            out.propagation = Some(p);
        } else {
            match o {
                "bind" => out.bind = true,
                "rbind" => (out.bind, out.recursive) = (true, true),
                "idmap" => out.idmap = Some(false),
                "ridmap" => out.idmap = Some(true),
                "remount" | "tmpcopyup" => return Err(refuse(o, "cc does not implement it")),
                _ => data.push(o),
            }
        }
    }
    if out.bind || m.kind.as_deref() == Some("bind") {
        out.bind = true;
        // A bind makes no filesystem, so `KEY=VALUE` options have nothing
        // to apply to: dropped, as by runc and the kernel (spec generators
        // such as runtime-tools give every mount tmpfs's `mode=`, `size=`).
        // A word is a flag cc does not know: refused.
        if let Some(o) = data.iter().find(|o| !o.contains('=')) {
            return Err(refuse(o, "unknown for a bind mount"));
        }
        data.clear();
    } else if out.idmap.is_some() {
        return Err(refuse("idmap", "cc idmaps only bind mounts"));
    }
    if !m.uid_mappings.is_empty() || !m.gid_mappings.is_empty() {
        return Err(refuse(
            "uidMappings",
            "cc idmaps a mount only through the container's user namespace",
        ));
    }
    out.data = data.join(",");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(kind: &str, options: &[&str]) -> Result<Options, String> {
        parse(&Mount::new(kind, "src", "/dst", options))
            .map_err(|f| crate::Error::from(f).to_string())
    }

    #[test]
    fn mount_options_sort_flags_attributes_and_data() {
        let o = of(
            "tmpfs",
            &["nosuid", "ro", "mode=755", "size=1m", "rw", "rnoexec"],
        )
        .unwrap();
        assert_eq!(o.flags, MsFlags::MS_NOSUID);
        assert_eq!(o.tree.set, NOEXEC);
        assert_eq!(o.data, "mode=755,size=1m");
        assert!(!o.bind);

        let o = of("bind", &["rbind", "ro", "rnosuid", "rprivate"]).unwrap();
        assert!(o.bind && o.recursive);
        let b = o.bind_attrs();
        assert_eq!((b.top.set, b.tree.set), (RDONLY, NOSUID));
        assert_eq!(
            Some(b.tree.propagation),
            propagation("private").map(|p| p.0)
        );

        let o = of("none", &["rbind", "rro", "rrw", "rnoatime", "rrelatime"]).unwrap();
        assert_eq!((o.tree.set, o.tree.clear), (RELATIME, RDONLY | ATIME_MASK));
    }

    #[test]
    fn mount_options_known_are_all_taken() {
        for o in KNOWN {
            assert!(of("bind", &[o]).is_ok(), "{o}");
        }
    }

    #[test]
    fn mount_options_idmap_is_for_binds_through_the_container_namespace() {
        assert_eq!(of("bind", &["rbind", "idmap"]).unwrap().idmap, Some(false));
        assert_eq!(of("bind", &["rbind", "ridmap"]).unwrap().idmap, Some(true));
        assert_eq!(of("bind", &["rbind"]).unwrap().idmap, None);
        assert!(of("tmpfs", &["idmap"]).is_err());
        let mut m = Mount::new("bind", "src", "/dst", &["rbind", "idmap"]);
        m.uid_mappings = vec![crate::spec::IdMapping {
            container_id: 0,
            host_id: 1000,
            size: 1,
        }];
        assert!(parse(&m).is_err());
    }

    #[test]
    fn mount_options_unknown_to_a_bind_are_refused() {
        let e = of("bind", &["rbind", "rro-typo"]).unwrap_err();
        assert!(e.contains("'rro-typo'") && e.contains("'/dst'"), "{e}");
        assert!(of("none", &["bind", "newinstance"]).is_err());
        assert_eq!(of("none", &["bind", "size=1m"]).unwrap().data, "");
        let e = of("tmpfs", &["tmpcopyup"]).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        // A filesystem's own options go to it.
        assert_eq!(of("devpts", &["newinstance"]).unwrap().data, "newinstance");
    }
}
