//! The local driver's options, as `docker volume create -o`: `type`,
//! `device` and `o` say what is mounted on the volume's `_data`. cc mounts
//! a tmpfs (`type=tmpfs,device=tmpfs,o=size=64m`) or a host folder
//! (`type=none,o=bind,device=/srv/x`); other types (block devices, nfs)
//! are refused. The mount is made on the host when a container of the
//! volume is created or started and it is not mounted (after a reboot a
//! tmpfs volume starts empty, as docker's), and undone when the volume is
//! removed. Containers share it, as docker's.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::Volume;
use crate::error::{Error, Result};

/// What the options mount on `_data`.
enum Source<'a> {
    Tmpfs {
        device: &'a str,
        flags: MsFlags,
        data: String,
    },
    Bind {
        device: &'a str,
        flags: MsFlags,
    },
}

/// The mount the options ask for, checked; `None` for a plain folder.
fn source(options: &BTreeMap<String, String>) -> Result<Option<Source<'_>>> {
    if let Some(k) = options
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "device" | "o"))
    {
        return Err(Error::Usage(format!(
            "invalid volume option '{k}': the local driver takes type, device and o"
        )));
    }
    let get = |k: &str| options.get(k).map(String::as_str);
    let (kind, device) = match (get("type"), get("device")) {
        (None, None) if get("o").is_none() => return Ok(None),
        (Some(t), Some(d)) if !d.is_empty() => (t, d),
        _ => {
            return Err(Error::Usage(
                "volume options: give type and device (and o) together".into(),
            ))
        }
    };
    let (mut flags, mut data, mut bind) = (MsFlags::empty(), Vec::new(), false);
    for o in get("o").unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => flags -= MsFlags::MS_RDONLY,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "bind" | "rbind" => bind = true,
            o => data.push(o),
        }
    }
    match kind {
        "tmpfs" if !bind => Ok(Some(Source::Tmpfs {
            device,
            flags,
            data: data.join(","),
        })),
        "none" if bind && data.is_empty() => {
            if !device.starts_with('/') {
                return Err(Error::Usage(format!(
                    "invalid volume device '{device}': a bind needs an absolute path"
                )));
            }
            Ok(Some(Source::Bind { device, flags }))
        }
        "none" => Err(Error::Usage(
            "volume options: type=none takes o=bind (and ro, nosuid, nodev, noexec)".into(),
        )),
        t => Err(Error::Unsupported(format!(
            "volume type '{t}': cc's local driver mounts tmpfs (type=tmpfs) and host folders (type=none,o=bind)"
        ))),
    }
}

/// Refuses options cc cannot honour, before anything is made.
pub fn check(options: &BTreeMap<String, String>) -> Result<()> {
    source(options).map(|_| ())
}

/// Mounts what the volume's options say on its `_data`, unless it is
/// mounted already.
pub fn mount_data(v: &Volume) -> Result<()> {
    let Some(src) = source(&v.meta.options)? else {
        return Ok(());
    };
    let data = v.data();
    if crate::mount::is_mountpoint(&data) {
        return Ok(());
    }
    match src {
        Source::Tmpfs {
            device,
            flags,
            data: d,
        } => {
            let d = Some(d.as_str()).filter(|d| !d.is_empty());
            mount(Some(device), &data, Some("tmpfs"), flags, d)
                .map_err(|e| Error::io("mount a tmpfs on", &data, e.into()))
        }
        Source::Bind { device, flags } => {
            if !Path::new(device).is_dir() {
                return Err(Error::not_found("volume device folder", device));
            }
            let ro = flags.contains(MsFlags::MS_RDONLY);
            crate::mount::bind(Path::new(device), &data, ro, true)
        }
    }
}

/// Undoes `mount_data` (nothing when nothing is mounted).
pub fn unmount(v: &Volume) -> Result<()> {
    let data = v.data();
    if crate::mount::is_mountpoint(&data) {
        crate::mount::unmount(&data, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn driver_options_are_checked() {
        assert!(check(&opts(&[])).is_ok());
        let t = opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m,nosuid"),
        ]);
        match source(&t).unwrap() {
            Some(Source::Tmpfs { flags, data, .. }) => {
                assert_eq!(data, "size=1m");
                assert!(flags.contains(MsFlags::MS_NOSUID));
            }
            _ => panic!("a tmpfs"),
        }
        let b = opts(&[("type", "none"), ("device", "/srv"), ("o", "bind")]);
        assert!(matches!(source(&b).unwrap(), Some(Source::Bind { .. })));
        for bad in [
            opts(&[("size", "1m")]),
            opts(&[("type", "tmpfs")]),
            opts(&[("o", "size=1m")]),
            opts(&[("type", "none"), ("device", "rel"), ("o", "bind")]),
        ] {
            assert_eq!(check(&bad).unwrap_err().code(), 2, "{bad:?}");
        }
        let nfs = opts(&[("type", "nfs"), ("device", ":/x")]);
        assert!(check(&nfs).is_err());
    }
}
