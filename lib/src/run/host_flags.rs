//! cc-run's flags that name host things and become parts of the spec:
//! `--device` (a device node and its cgroup rule) and `--tmpfs` (a
//! mount), each checked and refused in one line when malformed (`-v` and
//! `--mount` are `volume::mounts`'s).

use crate::error::{Error, Result};
use crate::spec::{self, Mount};

/// The device cgroup's rules: deny all, then the defaults and the
/// `--device`s; `--privileged` allows every device.
pub(super) fn device_rules(
    privileged: bool,
    devices: &[(spec::Device, String)],
) -> Vec<spec::DeviceRule> {
    let rule = |allow: bool, kind: &str, major, minor, access: &str| spec::DeviceRule {
        allow,
        kind: Some(kind.into()),
        major,
        minor,
        access: Some(access.into()),
    };
    if privileged {
        return vec![rule(true, "a", None, None, "rwm")];
    }
    let mut out = vec![rule(false, "a", None, None, "rwm")];
    out.extend(spec::default_device_rules());
    for (d, access) in devices {
        out.push(rule(true, &d.kind, Some(d.major), Some(d.minor), access));
    }
    out
}

/// `--device HOST[:CTR][:PERMS]`: a device node of the host, made at CTR
/// (default: the same path) with the host's numbers and mode, and allowed
/// with PERMS (default rwm) in the device cgroup.
pub(super) fn device(d: &str) -> Result<(spec::Device, String)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let parts: Vec<&str> = d.split(':').collect();
    let is_perms = |p: &str| !p.is_empty() && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, ctr, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_perms(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if is_perms(p) => (*h, *c, *p),
        _ => {
            return Err(Error::Usage(format!(
                "invalid device '{d}': expected HOST[:CONTAINER][:rwm]"
            )))
        }
    };
    if !host.starts_with('/') || !ctr.starts_with('/') {
        return Err(Error::Usage(format!(
            "invalid device '{d}': both paths must be absolute"
        )));
    }
    let md = std::fs::metadata(host).map_err(|e| Error::io("use device", host, e))?;
    let kind = if md.file_type().is_char_device() {
        "c"
    } else if md.file_type().is_block_device() {
        "b"
    } else {
        return Err(Error::Usage(format!(
            "invalid device '{d}': '{host}' is not a device"
        )));
    };
    let rdev = md.rdev();
    Ok((
        spec::Device {
            path: ctr.into(),
            kind: kind.into(),
            major: nix::sys::stat::major(rdev) as i64,
            minor: nix::sys::stat::minor(rdev) as i64,
            file_mode: Some(md.mode() & 0o7777),
            uid: Some(0),
            gid: Some(0),
        },
        perms.into(),
    ))
}

/// `--tmpfs PATH[:OPTIONS]`, docker's defaults: nosuid, nodev, noexec.
pub(super) fn tmpfs(t: &str) -> Result<Mount> {
    let (dst, opts) = t.split_once(':').unwrap_or((t, ""));
    if !dst.starts_with('/') {
        return Err(Error::Usage(format!(
            "invalid tmpfs '{t}': the path must be absolute"
        )));
    }
    let mut options: Vec<&str> = vec!["nosuid", "nodev", "noexec"];
    options.extend(opts.split(',').filter(|o| !o.is_empty()));
    Ok(Mount::new("tmpfs", "tmpfs", dst, &options))
}
