//! Capabilities: the bounding set trimmed, then effective, permitted,
//! inheritable and ambient set as the spec lists them (capabilities(7)).
//! Done last, just before exec, after the user switch.

use super::failure::sys;
use super::Failure;
use crate::spec::Capabilities;

/// Every capability by name, in kernel order (CAP_CHOWN is 0).
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// podman's default set of 11: docker's 14 without NET_RAW (raw sockets
/// spoof ARP and IP on the bridge; ping goes through
/// `net.ipv4.ping_group_range` instead), MKNOD and AUDIT_WRITE.
pub const DEFAULT: [&str; 11] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// `chown`, `CHOWN`, `cap_chown` all name CAP_CHOWN.
pub fn normalize(name: &str) -> Option<&'static str> {
    let up = name.to_ascii_uppercase();
    let full = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    };
    NAMES.iter().copied().find(|n| *n == full)
}

/// A set as a bit mask; unknown names are ignored (a newer spec on an
/// older kernel).
fn mask(names: &[String]) -> u64 {
    names
        .iter()
        .filter_map(|n| NAMES.iter().position(|k| k == n))
        .fold(0, |m, i| m | (1u64 << i))
}

/// The highest capability this kernel knows.
fn last_cap() -> usize {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drops from the bounding set what the spec's bounding set lacks; needs
/// CAP_SETPCAP, so it runs before the user switch.
pub(super) fn trim_bounding(c: &Capabilities) -> Result<(), Failure> {
    let keep = mask(&c.bounding);
    for cap in 0..=last_cap() {
        if keep & (1 << cap) == 0 {
            // SAFETY: PR_CAPBSET_DROP takes a capability number.
            if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
                let e = nix::Error::last();
                if e != nix::Error::EINVAL {
                    return Err(sys("drop a capability", e));
                }
            }
        }
    }
    Ok(())
}

/// Keeps permitted capabilities across setuid when the spec gives a
/// non-root user ambient ones (capabilities(7): "Ambient capability set").
pub(super) fn keep_across_setuid(c: &Capabilities) {
    if !c.ambient.is_empty() {
        // SAFETY: PR_SET_KEEPCAPS takes a flag.
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    }
}

/// Sets effective, permitted and inheritable, then raises ambient ones.
/// A non-root user without ambient capabilities keeps none: setuid has
/// cleared them, as docker's users expect (CapEff 0).
pub(super) fn apply(c: &Capabilities, uid: u32) -> Result<(), Failure> {
    let (e, p, i) = if uid == 0 || !c.ambient.is_empty() {
        (
            mask(&c.effective),
            mask(&c.permitted),
            mask(&c.inheritable) | mask(&c.ambient),
        )
    } else {
        (0, 0, mask(&c.inheritable))
    };
    // What we hold ourselves is the most we can give (a host may run cc
    // with a trimmed bounding set).
    let held = held();
    capset(e & held, p & held, i & held)?;
    for cap in 0..=last_cap() {
        if mask(&c.ambient) & (1 << cap) != 0 {
            // SAFETY: PR_CAP_AMBIENT_RAISE takes a capability number.
            if unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, cap, 0, 0) }
                != 0
            {
                return Err(sys("raise an ambient capability", nix::Error::last()));
            }
        }
    }
    Ok(())
}

/// capability(7)'s number of CAP_KILL.
pub(super) const CAP_KILL: u32 = 5;

/// Every set but this one capability emptied (bounding too).
pub(super) fn keep_only(cap: u32) -> Result<(), Failure> {
    for c in 0..=last_cap() as u32 {
        if c != cap {
            // SAFETY: PR_CAPBSET_DROP takes a capability number.
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, c, 0, 0, 0) };
        }
    }
    let one = 1u64 << cap;
    capset(one & held(), one & held(), 0)
}

/// Effective becomes permitted again (a change of fsuid away from 0
/// clears the file capabilities from the effective set).
pub(super) fn raise_effective() -> Result<(), Failure> {
    let p = held();
    capset(p, p, 0)
}

/// Our permitted set (capget: /proc/self may be another pid namespace's).
fn held() -> u64 {
    let header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget(2) with a version-3 header and room for two words.
    if unsafe { libc::syscall(libc::SYS_capget, &header, data.as_mut_ptr()) } != 0 {
        return 0;
    }
    data[0].permitted as u64 | (data[1].permitted as u64) << 32
}

#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Failure> {
    let header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let word = |m: u64, i: u32| (m >> (32 * i)) as u32;
    let data = [0, 1].map(|i| Data {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    // SAFETY: capset(2) with a version-3 header and two data words.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(sys("set capabilities", nix::Error::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize() {
        assert_eq!(normalize("chown"), Some("CAP_CHOWN"));
        assert_eq!(normalize("CAP_SYS_ADMIN"), Some("CAP_SYS_ADMIN"));
        assert_eq!(normalize("net_raw"), Some("CAP_NET_RAW"));
        assert_eq!(normalize("nope"), None);
        assert_eq!(NAMES[21], "CAP_SYS_ADMIN");
        assert_eq!(NAMES[40], "CAP_CHECKPOINT_RESTORE");
    }

    #[test]
    fn masks() {
        assert_eq!(mask(&["CAP_CHOWN".into(), "CAP_KILL".into()]), 0b100001);
    }
}
