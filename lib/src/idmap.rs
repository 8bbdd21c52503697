//! Which host ids a container's user namespace maps to. `--userns=auto`
//! takes a free range from the `cc` entry of /etc/subuid and /etc/subgid
//! (scripts/subids.sh adds one); `--uidmap`/`--gidmap` give the mappings
//! outright; `--userns=host`, the default, makes no user namespace. The
//! namespace itself is made by the sandbox (`sandbox/userns.rs`).

use std::path::Path;

use crate::container;
use crate::error::{Error, Result};
use crate::spec::IdMapping;
use crate::store::{Lock, Store};

/// The name whose subordinate ids `--userns=auto` uses.
pub const SUBID_NAME: &str = "cc";
/// Ids per container with `--userns=auto` (as podman's default).
pub const DEFAULT_SIZE: u32 = 65536;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Userns {
    #[default]
    Host,
    Auto {
        size: u32,
    },
    Maps {
        uid: Vec<IdMapping>,
        gid: Vec<IdMapping>,
    },
}

impl Userns {
    /// From `--userns` (`host`, `auto`, `auto:size=N`) and the
    /// `--uidmap`/`--gidmap` lists (`CTR:HOST:SIZE`); one of the two map
    /// lists alone serves for both.
    pub fn from_flags(mode: Option<&str>, uidmap: &[String], gidmap: &[String]) -> Result<Userns> {
        let maps = |list: &[String]| {
            list.iter()
                .map(|m| parse_map(m))
                .collect::<Result<Vec<_>>>()
        };
        let (uid, gid) = (maps(uidmap)?, maps(gidmap)?);
        let given = !uid.is_empty() || !gid.is_empty();
        let mode = mode.unwrap_or(if given { "" } else { "host" });
        match mode {
            "" if given => {
                let (uid, gid) = match (uid.is_empty(), gid.is_empty()) {
                    (true, _) => (gid.clone(), gid),
                    (_, true) => (uid.clone(), uid),
                    _ => (uid, gid),
                };
                for (what, m) in [("--uidmap", &uid), ("--gidmap", &gid)] {
                    if IdMapping::to_host(m, 0).is_none() {
                        return Err(Error::Usage(format!("{what} must map container id 0")));
                    }
                }
                Ok(Userns::Maps { uid, gid })
            }
            _ if given => Err(Error::Usage(
                "--uidmap and --gidmap cannot be used with --userns".into(),
            )),
            "host" => Ok(Userns::Host),
            "auto" => Ok(Userns::Auto { size: DEFAULT_SIZE }),
            m => match m.strip_prefix("auto:size=").map(str::parse::<u32>) {
                Some(Ok(size)) if size > 0 => Ok(Userns::Auto { size }),
                _ => Err(Error::Usage(format!(
                    "invalid --userns '{m}': give host, auto or auto:size=N"
                ))),
            },
        }
    }
}

/// `CTR:HOST:SIZE`.
pub fn parse_map(s: &str) -> Result<IdMapping> {
    let bad = || {
        Error::Usage(format!(
            "invalid id mapping '{s}': give CONTAINER_ID:HOST_ID:SIZE"
        ))
    };
    let n: Vec<u32> = s
        .split(':')
        .map(|p| p.parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let [container_id, host_id, size] = n[..] else {
        return Err(bad());
    };
    if size == 0 || container_id.checked_add(size).is_none() || host_id.checked_add(size).is_none()
    {
        return Err(bad());
    }
    Ok(IdMapping {
        container_id,
        host_id,
        size,
    })
}

pub use crate::rootless::subordinate;

/// The mappings of a new container, with the lock that keeps another
/// `--userns=auto` from taking the same range until the container's
/// record (which lists them) exists.
pub struct Allocation {
    pub uid: Vec<IdMapping>,
    pub gid: Vec<IdMapping>,
    _lock: Option<Lock>,
}

/// None for `--userns=host`.
pub fn allocate(store: &Store, userns: &Userns) -> Result<Option<Allocation>> {
    allocate_from(
        store,
        userns,
        Path::new("/etc/subuid"),
        Path::new("/etc/subgid"),
    )
}

fn allocate_from(
    store: &Store,
    userns: &Userns,
    subuid: &Path,
    subgid: &Path,
) -> Result<Option<Allocation>> {
    let size = match userns {
        Userns::Host => return Ok(None),
        Userns::Maps { uid, gid } => {
            return Ok(Some(Allocation {
                uid: uid.clone(),
                gid: gid.clone(),
                _lock: None,
            }))
        }
        Userns::Auto { size } => *size,
    };
    let lock = store.lock("userns")?;
    let (mut used_uid, mut used_gid) = (Vec::new(), Vec::new());
    for c in container::list(store)? {
        if let Some(l) = &c.spec.linux {
            used_uid.extend(l.uid_mappings.iter().map(|m| (m.host_id, m.size)));
            used_gid.extend(l.gid_mappings.iter().map(|m| (m.host_id, m.size)));
        }
    }
    let pick = |file: &Path, used: &[(u32, u32)]| -> Result<Vec<IdMapping>> {
        let ranges = subordinate(file, SUBID_NAME);
        if ranges.is_empty() {
            return Err(Error::Unsupported(format!(
                "no subordinate ids for '{SUBID_NAME}' in {} (scripts/subids.sh adds them)",
                file.display()
            )));
        }
        let host_id = free_range(&ranges, used, size).ok_or_else(|| {
            Error::Unsupported(format!(
                "no free range of {size} ids left for '{SUBID_NAME}' in {}",
                file.display()
            ))
        })?;
        Ok(vec![IdMapping {
            container_id: 0,
            host_id,
            size,
        }])
    };
    Ok(Some(Allocation {
        uid: pick(subuid, &used_uid)?,
        gid: pick(subgid, &used_gid)?,
        _lock: Some(lock),
    }))
}

/// The lowest start of `size` ids inside one of `ranges` that overlaps
/// none of `used`.
fn free_range(ranges: &[(u32, u32)], used: &[(u32, u32)], size: u32) -> Option<u32> {
    let mut used: Vec<(u64, u64)> = used
        .iter()
        .map(|&(s, n)| (s as u64, s as u64 + n as u64))
        .collect();
    used.sort();
    for &(start, count) in ranges {
        let end = start as u64 + count as u64;
        let mut at = start as u64;
        for &(us, ue) in &used {
            if ue <= at || us >= end {
                continue;
            }
            if us >= at + size as u64 {
                break;
            }
            at = at.max(ue);
        }
        if at + size as u64 <= end {
            return u32::try_from(at).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Userns::from_flags(None, &[], &[]).unwrap(), Userns::Host);
        assert_eq!(
            Userns::from_flags(Some("auto:size=1000"), &[], &[]).unwrap(),
            Userns::Auto { size: 1000 }
        );
        let m = Userns::from_flags(None, &s(&["0:100000:65536"]), &[]).unwrap();
        let one = IdMapping {
            container_id: 0,
            host_id: 100000,
            size: 65536,
        };
        assert_eq!(
            m,
            Userns::Maps {
                uid: vec![one],
                gid: vec![one]
            }
        );
        for bad in ["auto:size=0", "auto:size=x", "private"] {
            assert!(Userns::from_flags(Some(bad), &[], &[]).is_err(), "{bad}");
        }
        assert!(Userns::from_flags(Some("auto"), &s(&["0:1:1"]), &[]).is_err());
        assert!(Userns::from_flags(None, &s(&["1:100000:10"]), &[]).is_err());
        for bad in ["0:1", "0:1:0", "a:1:1", "0:4294967295:2"] {
            assert!(parse_map(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn free_ranges_skip_used_ones() {
        let r = [(100000, 300000)];
        assert_eq!(free_range(&r, &[], 65536), Some(100000));
        assert_eq!(free_range(&r, &[(100000, 65536)], 65536), Some(165536));
        assert_eq!(
            free_range(&r, &[(165536, 65536), (100000, 65536)], 65536),
            Some(231072)
        );
        // A gap too small is skipped.
        assert_eq!(
            free_range(&r, &[(100000, 10), (100020, 65536)], 65536),
            Some(165556)
        );
        assert_eq!(free_range(&r, &[(100000, 300000)], 1), None);
        assert_eq!(free_range(&[(0, 10), (100, 10)], &[(0, 5)], 10), Some(100));
    }

    #[test]
    fn subordinate_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("subuid");
        std::fs::write(&f, "root:100000:65536\ncc:1000000:16777216\ncc:x:1\n").unwrap();
        assert_eq!(subordinate(&f, "cc"), vec![(1000000, 16777216)]);
        assert!(subordinate(&d.path().join("none"), "cc").is_empty());
    }
}
