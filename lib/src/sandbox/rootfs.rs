//! The container's root: mounted inside its own mount namespace, the spec's
//! mounts placed on targets resolved inside the root (CVE-2021-30465), a
//! fresh /dev (never the image's), then pivot_root(2) and the masked and
//! read-only paths.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use nix::unistd::{chdir, pivot_root};
use rustix::fs::OFlags;

use super::failure::sys;
use super::{mount_options, Failure, Launch, RootSource};
use crate::inroot::Root;
use crate::spec::Mount;

/// The container's root, in order: the mount namespace made private, the
/// root mounted, the spec's mounts, pivot_root, then what is done inside.
pub(super) fn prepare(l: &Launch, userns: Option<&OwnedFd>) -> Result<(), Failure> {
    // Nothing mounted from here on may propagate back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| sys("make the mount namespace private", e))?;
    let root_path = l
        .spec
        .root
        .as_ref()
        .map(|r| r.path.as_str())
        .unwrap_or("rootfs");
    let rootfs = l.bundle.join(root_path);
    mount_root(l, userns, &rootfs)?;
    let root = Root::open(&rootfs)?;
    let terminal = l.spec.process.as_ref().is_some_and(|p| p.terminal);
    let cgroup_ns = l.spec.has_namespace("cgroup");
    for m in &l.spec.mounts {
        match m.kind.as_deref() {
            Some("cgroup" | "cgroup2") => mount_cgroups(&root, m, cgroup_ns)?,
            _ => mount_one(&root, m, l.bundle, userns)?,
        }
        if m.destination == "/dev" && m.kind.as_deref() == Some("tmpfs") {
            populate_dev(&root, terminal)?;
        }
    }
    drop(root);
    // OCI createContainer hooks: here, in the container's namespaces with
    // its mounts made, before pivot_root (runtime spec, "Lifecycle").
    if let Some(hooks) = l.create_container {
        hooks()?;
    }
    match l.no_pivot {
        true => super::no_pivot::move_root(&rootfs)?,
        false => pivot(&rootfs)?,
    }
    inside(l)
}

/// The root mounted on `rootfs` as pivot_root needs it (a mount point):
/// the overlay of an image's layers, an idmapped or a scratch overlay of a
/// folder, or the folder bound onto itself.
fn mount_root(l: &Launch, userns: Option<&OwnedFd>, rootfs: &Path) -> Result<(), Failure> {
    match (&l.root, userns) {
        (
            RootSource::Overlay {
                lowers,
                upper,
                work,
            },
            ns,
        ) => {
            if let Some(ns) = ns {
                super::userns::idmap_overlay(ns, lowers, upper, work)?;
            }
            crate::mount::overlay(lowers, Some((upper, work)), rootfs)?;
        }
        // The idmapped mount is the mount point pivot_root needs.
        (RootSource::Dir, Some(ns)) => super::userns::idmap_dir(ns, rootfs)?,
        (RootSource::Dir, None)
            if on_read_only_fs(rootfs) && !l.spec.root.as_ref().is_some_and(|r| r.readonly) =>
        {
            scratch_overlay(rootfs, &l.bundle.join("upper"))?
        }
        // pivot_root needs a mount point: the folder bound onto itself.
        (RootSource::Dir, None) => crate::mount::bind(rootfs, rootfs, false, true)?,
    }
    Ok(())
}

/// Past pivot_root: the spec's devices, sysctls, masked and read-only
/// paths, and a read-only root.
fn inside(l: &Launch) -> Result<(), Failure> {
    let linux = l.spec.linux.as_ref();
    // Past pivot_root: every path resolves inside the container's root.
    for d in linux.map(|l| l.devices.as_slice()).unwrap_or_default() {
        make_device(d)?;
    }
    finish_dev(l)?;
    // /proc is the container's now, so /proc/sys/net is its network's.
    for (key, value) in linux.map(|l| &l.sysctl).into_iter().flatten() {
        sysctl(key, value)?;
    }
    for p in linux.map(|l| l.masked_paths.as_slice()).unwrap_or_default() {
        mask(p)?;
    }
    for p in linux
        .map(|l| l.readonly_paths.as_slice())
        .unwrap_or_default()
    {
        read_only(p)?;
    }
    if l.spec.root.as_ref().is_some_and(|r| r.readonly) {
        let f = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, "/", None::<&str>, f, None::<&str>)
            .map_err(|e| sys("make the root read-only", e))?;
    }
    Ok(())
}

/// `linux.sysctl`: `net.ipv4.ping_group_range` is /proc/sys/net/ipv4/….
fn sysctl(key: &str, value: &str) -> Result<(), Failure> {
    if key.is_empty() || key.split(['.', '/']).any(|p| p.is_empty() || p == "..") {
        return Err(Failure::new(125, format!("invalid sysctl '{key}'")));
    }
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).map_err(|e| {
        Failure::new(
            125,
            format!("cannot set sysctl '{key}': {}", crate::error::Os(&e)),
        )
    })
}

fn on_read_only_fs(path: &Path) -> bool {
    nix::sys::statvfs::statvfs(path)
        .is_ok_and(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// A read-only root folder (`--rootfs "$(cc-mount IMAGE)"`) gets a
/// writable overlay on a tmpfs, in this namespace only: the folder stays
/// untouched, mount points such as /proc can be made, and what the
/// container writes is gone when it ends.
fn scratch_overlay(rootfs: &Path, scratch: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| Failure::from(crate::Error::io("create", scratch, e)))?;
    mount(
        Some("tmpfs"),
        scratch,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("mode=0700"),
    )
    .map_err(|e| sys(&format!("mount a tmpfs at '{}'", scratch.display()), e))?;
    let (upper, work) = (scratch.join("upper"), scratch.join("work"));
    for d in [&upper, &work] {
        std::fs::create_dir(d).map_err(|e| Failure::from(crate::Error::io("create", d, e)))?;
    }
    crate::mount::overlay(&[rootfs.to_path_buf()], Some((&upper, &work)), rootfs)?;
    Ok(())
}

/// One entry of the spec's `mounts`, onto a target created and resolved
/// inside the root. A read-only tmpfs /dev stays writable until its
/// devices are made (`finish_dev`).
fn mount_one(
    root: &Root,
    m: &Mount,
    bundle: &Path,
    userns: Option<&OwnedFd>,
) -> Result<(), Failure> {
    let kind = m.kind.as_deref().unwrap_or("bind");
    let o = mount_options::parse(m)?;
    let dest = Path::new(&m.destination);
    if o.bind {
        // `idmap`: files show with the ids the container's namespace maps
        // the stored ones to, as its layers (cc's volumes use it).
        let idmap = match (o.idmap, userns) {
            (Some(rec), Some(ns)) => Some((ns.as_fd(), rec)),
            (Some(_), None) => {
                return Err(Failure::new(
                    125,
                    format!(
                        "cannot idmap '{}': the container has no user namespace",
                        m.destination
                    ),
                ))
            }
            (None, _) => None,
        };
        let src = bundle.join(m.source.as_deref().unwrap_or_default());
        let target = root.mount_target(dest, src.is_dir())?;
        not_in_proc_or_sys(root, &target, m)?;
        let attrs = o.bind_attrs();
        crate::mount::bind_to_fd_idmapped(&src, target.as_fd(), o.recursive, &attrs, idmap)?;
        return Ok(());
    }
    let target = root.mount_target(dest, true)?;
    not_in_proc_or_sys(root, &target, m)?;
    let at = fd_path(&target);
    let source = m.source.as_deref().unwrap_or(kind);
    let dev = is_dev(m);
    let flags = match dev {
        true => o.flags - MsFlags::MS_RDONLY,
        false => o.flags,
    };
    let data = match kind == "devpts" && crate::rootless::active() {
        // A namespace without subordinate ids maps no tty group (5).
        true => devpts_data_for_user(&o.data),
        false => o.data.clone(),
    };
    let data = Some(data.as_str()).filter(|d| !d.is_empty());
    let made = mount(Some(source), &at, Some(kind), flags, data);
    if made == Err(nix::Error::EPERM) && kind == "sysfs" && crate::rootless::active() {
        // A user's container in the host's network (or another one it does
        // not own) may not mount sysfs: the host's, read-only, as podman.
        crate::mount::bind_to_fd(Path::new("/sys"), target.as_fd(), true, true)?;
        return Ok(());
    }
    made.map_err(|e| match (e, data) {
        (nix::Error::EINVAL, Some(d)) => Failure::new(
            125,
            format!(
                "cannot mount {kind} at '{}': invalid argument (does {kind} take the options '{d}'?)",
                m.destination
            ),
        ),
        (e, _) => sys(&format!("mount {kind} at '{}'", m.destination), e),
    })?;
    let top = || root.mount_target(dest, true);
    if let Some((p, rec)) = o.propagation {
        let change = crate::mount::Setattr {
            propagation: p,
            ..Default::default()
        };
        crate::mount::setattr_fd(top()?.as_fd(), dest, &change, rec)?;
    }
    if !dev && !o.tree.is_empty() {
        crate::mount::setattr_fd(top()?.as_fd(), dest, &o.tree, true)?;
    }
    Ok(())
}

/// devpts's options without a `gid=` the user's namespace does not map.
fn devpts_data_for_user(data: &str) -> String {
    let max = crate::rootless::max_gid();
    data.split(',')
        .filter(|o| {
            o.strip_prefix("gid=")
                .and_then(|g| g.parse::<u32>().ok())
                .is_none_or(|g| g <= max)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A tmpfs mounted on /dev, which cc fills with device nodes.
fn is_dev(m: &Mount) -> bool {
    m.destination.trim_end_matches('/') == "/dev" && m.kind.as_deref() == Some("tmpfs")
}

/// Past pivot_root and once the devices are made: a read-only /dev
/// (`ro`, `rro`, ...) is made so now, as runc does in finalizeRootfs.
fn finish_dev(l: &Launch) -> Result<(), Failure> {
    let Some(m) = l.spec.mounts.iter().rev().find(|m| is_dev(m)) else {
        return Ok(());
    };
    let o = mount_options::parse(m)?;
    let mut top = crate::mount::Setattr::default();
    if o.flags.contains(MsFlags::MS_RDONLY) {
        top.set = libc::MOUNT_ATTR_RDONLY;
    }
    if top.is_empty() && o.tree.is_empty() {
        return Ok(());
    }
    let dev = rustix::fs::open(
        "/dev",
        OFlags::PATH | OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Failure::from(crate::Error::io("open", Path::new("/dev"), e.into())))?;
    for (change, rec) in [(&top, false), (&o.tree, true)] {
        if !change.is_empty() {
            crate::mount::setattr_fd(dev.as_fd(), Path::new("/dev"), change, rec)?;
        }
    }
    Ok(())
}

/// What may be mounted on inside the container's /proc and /sys: the
/// files lxcfs stands in for (runc's list, `checkProcMount`), and the
/// cgroup folder.
const KERNEL_FS_ALLOWED: [&str; 11] = [
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
    "/sys/fs/cgroup",
];

/// A mount onto a file or folder of the container's /proc or /sys would
/// stand in for what the kernel shows there (or hide it); an image can
/// lead one there through a link (`/etc/hostname ->
/// /proc/sys/kernel/hostname`, over which cc binds its own file). Refused
/// as runc refuses it. The kernel says where the target is: its filesystem
/// type, and its path below the root's.
fn not_in_proc_or_sys(root: &Root, target: &OwnedFd, m: &Mount) -> Result<(), Failure> {
    const PROC_SUPER_MAGIC: i64 = 0x9fa0;
    const SYSFS_MAGIC: i64 = 0x6265_6572;
    // f_type's width differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let kind = rustix::fs::fstatfs(target).map(|st| st.f_type as i64);
    if !matches!(kind, Ok(PROC_SUPER_MAGIC | SYSFS_MAGIC)) {
        return Ok(());
    }
    let inside = |fd: BorrowedFd| std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let at = match (inside(root.fd()), inside(target.as_fd())) {
        (Ok(top), Ok(p)) => p
            .strip_prefix(&top)
            .map(|rel| Path::new("/").join(rel))
            .unwrap_or(p),
        _ => PathBuf::from(&m.destination),
    };
    let at_str = at.to_string_lossy();
    // On top of the whole of one: only its own kind, as runc allows.
    let whole = matches!(
        (&*at_str, m.kind.as_deref()),
        ("/proc", Some("proc")) | ("/sys", Some("sysfs"))
    );
    if whole || KERNEL_FS_ALLOWED.contains(&&*at_str) {
        return Ok(());
    }
    Err(Failure::new(
        125,
        format!(
            "mount target '{}' is '{at_str}', inside the container's /proc or /sys: not allowed",
            m.destination
        ),
    ))
}

/// The magic link that names an O_PATH fd, for mount(2) targets.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The devices every container has, made in its own tmpfs /dev.
fn populate_dev(root: &Root, terminal: bool) -> Result<(), Failure> {
    let dev = root.open_at(
        Path::new("/dev"),
        OFlags::PATH | OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        if crate::rootless::active() {
            // A user namespace cannot make devices: the host's are bound
            // in (as rootless podman does).
            let host = format!("/dev/{name}");
            let at = root.mount_target(Path::new(&host), false)?;
            mount(
                Some(host.as_str()),
                &fd_path(&at),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| sys(&format!("bind {host}"), e))?;
            continue;
        }
        mknodat(
            dev.as_fd(),
            name,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(major, minor),
        )
        .map_err(|e| sys(&format!("create /dev/{name}"), e))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        nix::unistd::symlinkat(target, dev.as_fd(), name)
            .map_err(|e| sys(&format!("create /dev/{name}"), e))?;
    }
    if terminal {
        // The pty slave is bound here once it exists (bind_console).
        root.mount_target(Path::new("/dev/console"), false)?;
    }
    Ok(())
}

/// A `linux.devices` node (`--device`): its type, numbers, mode and owner.
fn make_device(d: &crate::spec::Device) -> Result<(), Failure> {
    let kind = match d.kind.as_str() {
        "c" | "u" => SFlag::S_IFCHR,
        "b" => SFlag::S_IFBLK,
        "p" => SFlag::S_IFIFO,
        other => {
            return Err(Failure::new(
                125,
                format!("invalid device type '{other}' for '{}'", d.path),
            ))
        }
    };
    let path = Path::new(&d.path);
    if !path.is_absolute() {
        return Err(Failure::new(
            125,
            format!("device path '{}' is not absolute", d.path),
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            Failure::new(
                125,
                format!(
                    "cannot create '{}': {}",
                    parent.display(),
                    crate::error::Os(&e)
                ),
            )
        })?;
    }
    let _ = std::fs::remove_file(path);
    let mode = Mode::from_bits_truncate(d.file_mode.unwrap_or(0o666) & 0o7777);
    nix::sys::stat::mknod(path, kind, mode, makedev(d.major as u64, d.minor as u64))
        .map_err(|e| sys(&format!("create device '{}'", d.path), e))?;
    nix::unistd::chown(
        path,
        Some(nix::unistd::Uid::from_raw(d.uid.unwrap_or(0))),
        Some(nix::unistd::Gid::from_raw(d.gid.unwrap_or(0))),
    )
    .map_err(|e| sys(&format!("set the owner of device '{}'", d.path), e))
}

/// Binds the container's pty slave onto /dev/console, as runc does.
pub(super) fn bind_console(slave: &str) -> Result<(), Failure> {
    mount(
        Some(slave),
        "/dev/console",
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| sys("bind /dev/console", e))
}

/// pivot_root(".", ".") then a lazy unmount of the old root: the host's
/// tree is gone from the namespace without needing a spare folder.
fn pivot(rootfs: &Path) -> Result<(), Failure> {
    chdir(rootfs).map_err(|e| sys("enter the root", e))?;
    pivot_root(".", ".").map_err(|e| sys("pivot_root", e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| sys("detach the old root", e))?;
    chdir("/").map_err(|e| sys("enter the new root", e))
}

/// A `cgroup` mount (podman's and containerd's specs have one at
/// /sys/fs/cgroup): the container's own groups, as runc shows them. With a
/// v2 host and a cgroup namespace, cgroup2 itself (rooted at the group by
/// the namespace); on v1, a tmpfs holding each hierarchy: mounted anew in
/// a cgroup namespace, else the container's folder of it bound there.
fn mount_cgroups(root: &Root, m: &Mount, own_ns: bool) -> Result<(), Failure> {
    let o = mount_options::parse(m)?;
    let flags =
        o.flags & !MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let ro = o.flags.contains(MsFlags::MS_RDONLY) || o.tree.set & libc::MOUNT_ATTR_RDONLY != 0;
    let dest = Path::new(&m.destination);
    if crate::rootless::active() {
        // A user's container has no group of its own and may not mount
        // cgroup v1: the host's hierarchies, read-only, as podman.
        let target = root.mount_target(dest, true)?;
        crate::mount::bind_to_fd(Path::new("/sys/fs/cgroup"), target.as_fd(), true, true)?;
        return Ok(());
    }
    let hierarchies = crate::cgroup::own_hierarchies();
    let mount_fs = |target: &OwnedFd, fstype: &str, options: &str| {
        let f = flags
            | if ro {
                MsFlags::MS_RDONLY
            } else {
                MsFlags::empty()
            };
        mount(
            Some(fstype),
            &fd_path(target),
            Some(fstype),
            f,
            Some(options).filter(|o| !o.is_empty()),
        )
        .map_err(|e| sys(&format!("mount {fstype} at '{}'", m.destination), e))
    };
    let bind = |h: &crate::cgroup::Hierarchy, target: &OwnedFd| -> Result<(), Failure> {
        let src = h.mountpoint.join(h.path.trim_start_matches('/'));
        crate::mount::bind_to_fd(&src, target.as_fd(), ro, false)?;
        Ok(())
    };
    if let Some(v2) = hierarchies.iter().find(|h| h.name.is_empty()) {
        let target = root.mount_target(dest, true)?;
        return match own_ns {
            true => mount_fs(&target, "cgroup2", ""),
            false => bind(v2, &target),
        };
    }
    let top = root.mount_target(dest, true)?;
    mount(
        Some("tmpfs"),
        &fd_path(&top),
        Some("tmpfs"),
        flags,
        Some("mode=755"),
    )
    .map_err(|e| sys(&format!("mount tmpfs at '{}'", m.destination), e))?;
    for h in hierarchies.iter().filter(|h| h.fstype == "cgroup") {
        let target = root.mount_target(&dest.join(&h.name), true)?;
        match own_ns {
            true => mount_fs(&target, "cgroup", &h.options)?,
            false => bind(h, &target)?,
        }
        // `cpu` and `cpuacct` lead to `cpu,cpuacct`, as on the host.
        if h.name.contains(',') {
            for part in h.name.split(',') {
                let link = root.mount_target(dest, true)?;
                let _ = nix::unistd::symlinkat(h.name.as_str(), link.as_fd(), part);
            }
        }
    }
    if ro {
        // The tmpfs's own root now, not the folder it covers.
        let top = root.mount_target(dest, true)?;
        mount(
            None::<&str>,
            &fd_path(&top),
            None::<&str>,
            flags | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            Some("mode=755"),
        )
        .map_err(|e| sys(&format!("make '{}' read-only", m.destination), e))?;
    }
    Ok(())
}

/// Hides a path: /dev/null over a file, an empty read-only tmpfs over a
/// folder (runc's maskedPaths).
fn mask(path: &str) -> Result<(), Failure> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let r = if meta.is_dir() {
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
    } else {
        mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    };
    r.map_err(|e| sys(&format!("mask '{path}'"), e))
}

/// Makes a path read-only by binding it onto itself and remounting.
fn read_only(path: &str) -> Result<(), Failure> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    crate::mount::bind(Path::new(path), Path::new(path), true, true)?;
    Ok(())
}
