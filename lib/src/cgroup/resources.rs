//! A container's limits in docker's terms (`Resources`), the checks docker
//! makes on them before any folder exists, and the parsing of cc-run's
//! `--memory`, `--cpus` and `--pids-limit` values. Writing them to a
//! group is `v1.rs`'s and `v2.rs`'s (and `systemd.rs`'s properties).

use crate::error::{Error, Result};

/// The limits of `cc-run`, in docker's terms.
#[derive(Default, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    /// Bytes of memory (`-m`).
    pub memory: Option<i64>,
    /// Bytes of memory plus swap, -1 for unlimited swap (`--memory-swap`).
    pub memory_swap: Option<i64>,
    /// Relative CPU weight, 2 to 262144, default 1024 (`-c`).
    pub cpu_shares: Option<u64>,
    /// Microseconds of CPU time per period (from `--cpus`), -1 unlimited.
    pub cpu_quota: Option<i64>,
    /// Microseconds, 100000 when only a quota is given.
    pub cpu_period: Option<u64>,
    /// Most processes at once, 0 or -1 unlimited (`--pids-limit`).
    pub pids: Option<i64>,
    /// Device cgroup rules in order, v1 syntax with the file to write:
    /// `deny a` or `allow c 1:3 rwm` (empty: devices left as the parent's).
    #[serde(default)]
    pub devices: Vec<String>,
}

impl Resources {
    /// The limits of a spec's `linux.resources`.
    pub fn of_spec(spec: &crate::spec::Spec) -> Resources {
        let r = spec
            .linux
            .as_ref()
            .and_then(|l| l.resources.clone())
            .unwrap_or_default();
        Resources::of(&r)
    }

    /// The limits of an OCI resources object.
    pub fn of(r: &crate::spec::Resources) -> Resources {
        Resources {
            memory: r.memory.as_ref().and_then(|m| m.limit),
            memory_swap: r.memory.as_ref().and_then(|m| m.swap),
            cpu_shares: r.cpu.as_ref().and_then(|c| c.shares),
            cpu_quota: r.cpu.as_ref().and_then(|c| c.quota),
            cpu_period: r.cpu.as_ref().and_then(|c| c.period),
            pids: r.pids.as_ref().map(|p| p.limit),
            devices: r.devices.iter().map(device_rule).collect(),
        }
    }
}

/// A spec's device rule in v1's syntax: `allow c 1:3 rwm`, `deny a`.
pub fn device_rule(r: &crate::spec::DeviceRule) -> String {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "*".into());
    let kind = r.kind.as_deref().unwrap_or("a");
    let access = r.access.as_deref().unwrap_or("rwm");
    let verb = if r.allow { "allow" } else { "deny" };
    if kind == "a" && r.major.is_none() && r.minor.is_none() && access == "rwm" {
        return format!("{verb} a");
    }
    format!("{verb} {kind} {}:{} {access}", num(r.major), num(r.minor))
}

/// The checks docker makes before any folder exists.
pub(super) fn check_resources(res: &Resources) -> Result<()> {
    if let Some(m) = res.memory {
        if m <= 0 {
            return Err(Error::Usage(format!("invalid memory limit {m}")));
        }
    }
    match (res.memory, res.memory_swap) {
        (_, None) | (_, Some(-1)) => {}
        (None, Some(_)) => {
            return Err(Error::Usage(
                "a memory-swap limit needs a memory limit".to_string(),
            ))
        }
        (Some(m), Some(s)) if s < m => {
            return Err(Error::Usage(format!(
                "memory-swap limit {s} is below the memory limit {m}"
            )))
        }
        _ => {}
    }
    if let Some(s) = res.cpu_shares {
        if !(2..=262_144).contains(&s) {
            return Err(Error::Usage(format!("cpu shares {s} not in 2..262144")));
        }
    }
    if let Some(p) = res.cpu_period {
        // The kernel's bounds for cfs_period_us and cpu.max (1 ms to 1 s).
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::Usage(format!("cpu period {p} not in 1000..1000000")));
        }
    }
    if let Some(q) = res.cpu_quota {
        if q != -1 && q < 1000 {
            return Err(Error::Usage(format!("cpu quota {q} is below 1000")));
        }
    }
    Ok(())
}

/// Whether a memory+swap limit must be written: not for -1 or a value equal
/// to the memory limit when the kernel cannot account swap (both are what
/// it does anyway). Otherwise an error, since the limit could not hold.
pub(super) fn swap_limit(res: &Resources, accounting: bool) -> Result<Option<i64>> {
    match res.memory_swap {
        None => Ok(None),
        Some(s) if accounting => Ok(Some(s)),
        Some(s) if s == -1 || Some(s) == res.memory => Ok(None),
        Some(_) => Err(Error::Unsupported(
            "cannot limit memory-swap: this kernel has no swap accounting \
             (boot with swapaccount=1)"
                .to_string(),
        )),
    }
}

/// Parses docker's sizes: `512`, `10b`, `64k`, `64m`, `1g`, `1.5g`
/// (case-insensitive, binary units; `kb` and `kib` forms too, as docker's
/// go-units RAMInBytes takes them).
pub fn parse_size(s: &str) -> Result<i64> {
    let bad = || Error::Usage(format!("invalid size '{s}'"));
    let t = s.to_ascii_lowercase();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let shift = match unit {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let digits_first = num.starts_with(|c: char| c.is_ascii_digit());
    if !digits_first || num.ends_with('.') || num.matches('.').count() > 1 {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * (1u64 << shift) as f64;
    if bytes >= i64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as i64)
}

/// `--cpus` as a CFS quota and period (microseconds), as docker does.
pub fn cpus_to_quota(cpus: f64) -> (i64, u64) {
    const PERIOD: u64 = 100_000;
    ((cpus * PERIOD as f64).round() as i64, PERIOD)
}

/// A container's process limit when `--pids-limit` is not given:
/// podman's, so a fork bomb stops at 2048 processes instead of filling
/// the host's pid space.
pub const DEFAULT_PIDS_LIMIT: i64 = 2048;

/// `--pids-limit`: absent, [`DEFAULT_PIDS_LIMIT`]; 0 or -1, none (the
/// group's `pids.max` stays `max`); N > 0, N.
pub fn pids_limit(flag: Option<i64>) -> Result<Option<i64>> {
    match flag {
        None => Ok(Some(DEFAULT_PIDS_LIMIT)),
        Some(0 | -1) => Ok(None),
        Some(n) if n > 0 => Ok(Some(n)),
        Some(n) => Err(Error::Usage(format!(
            "invalid --pids-limit '{n}': a positive number, or 0 or -1 for none"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_limit_defaults_to_podmans() {
        assert_eq!(pids_limit(None).unwrap(), Some(2048));
        assert_eq!(pids_limit(Some(0)).unwrap(), None);
        assert_eq!(pids_limit(Some(-1)).unwrap(), None);
        assert_eq!(pids_limit(Some(7)).unwrap(), Some(7));
        assert_eq!(pids_limit(Some(-2)).unwrap_err().code(), 2);
    }

    #[test]
    fn parse_size_reads_docker_sizes() {
        let cases = [
            ("512", 512),
            ("10b", 10),
            ("64k", 64 << 10),
            ("64K", 64 << 10),
            ("64m", 64 << 20),
            ("64MB", 64 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("2GiB", 2 << 30),
            ("0", 0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text).unwrap(), want, "{text}");
        }
        for bad in [
            "",
            "m",
            "-1",
            "1.2.3g",
            "1.g",
            ".5g",
            "10x",
            "1 g",
            "1gb2",
            "1e3",
            "9999999999g",
        ] {
            let err = parse_size(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("invalid size '{bad}'"));
            assert_eq!(err.code(), 2);
        }
    }

    #[test]
    fn cpus_become_quota_and_period() {
        assert_eq!(cpus_to_quota(0.5), (50_000, 100_000));
        assert_eq!(cpus_to_quota(2.0), (200_000, 100_000));
        assert_eq!(cpus_to_quota(0.01), (1_000, 100_000));
    }

    #[test]
    fn cgroup_swap_limit_follows_docker() {
        let res = |m, s| Resources {
            memory: m,
            memory_swap: s,
            ..Default::default()
        };
        let mib = 1 << 20;
        assert_eq!(
            swap_limit(&res(Some(mib), Some(2 * mib)), true).unwrap(),
            Some(2 * mib)
        );
        assert_eq!(swap_limit(&res(Some(mib), Some(mib)), false).unwrap(), None);
        assert_eq!(swap_limit(&res(Some(mib), Some(-1)), false).unwrap(), None);
        let err = swap_limit(&res(Some(mib), Some(2 * mib)), false).unwrap_err();
        assert!(err.to_string().contains("no swap accounting"), "{err}");
        assert!(check_resources(&res(Some(2 * mib), Some(mib))).is_err());
        assert!(check_resources(&res(None, Some(mib))).is_err());
    }
}
