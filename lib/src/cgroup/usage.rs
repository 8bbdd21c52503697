//! What a group has used so far, as plain counters (cc-stats): CPU time,
//! memory in use and its limit, bytes read and written on block devices,
//! processes. Each counter is read from its own controller's folder (v1)
//! or the one folder (v2); one the host does not keep reads as 0.

use std::fs;
use std::path::Path;

use super::{Cgroup, Version};

/// One reading of a group's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time of every process in the group, nanoseconds.
    pub cpu_ns: u64,
    /// Memory in use less the inactive page cache (docker's figure).
    pub memory: u64,
    /// The memory limit; `None` when there is none.
    pub memory_limit: Option<u64>,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Cgroup {
    /// The group's counters now.
    pub fn usage(&self) -> Usage {
        match self.version {
            Version::V1 => self.usage_v1(),
            Version::V2 => self.usage_v2(),
        }
    }

    fn usage_v1(&self) -> Usage {
        let read = |ctl: &str, file: &str| self.dir(ctl).and_then(|d| read_u64(&d.join(file)));
        let mem = self
            .dir("memory")
            .map(|d| key_values(&d.join("memory.stat")));
        let inactive = mem.as_ref().map_or(0, |m| get(m, "total_inactive_file"));
        let (block_read, block_write) = self
            .dir("blkio")
            .map(|d| blkio_v1(&d.join("blkio.throttle.io_service_bytes")))
            .unwrap_or_default();
        Usage {
            cpu_ns: read("cpuacct", "cpuacct.usage").unwrap_or(0),
            memory: read("memory", "memory.usage_in_bytes")
                .unwrap_or(0)
                .saturating_sub(inactive),
            // v1 says "no limit" with the largest page-aligned number.
            memory_limit: read("memory", "memory.limit_in_bytes").filter(|l| *l < 1 << 62),
            block_read,
            block_write,
            pids: self.pids_current(read("pids", "pids.current")),
        }
    }

    fn usage_v2(&self) -> Usage {
        let Some(dir) = self.dir("") else {
            return Usage::default();
        };
        let cpu = key_values(&dir.join("cpu.stat"));
        let mem = key_values(&dir.join("memory.stat"));
        let (mut block_read, mut block_write) = (0, 0);
        // io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N ...` a device a line.
        for field in read(&dir.join("io.stat")).split_whitespace() {
            match field.split_once('=') {
                Some(("rbytes", n)) => block_read += n.parse::<u64>().unwrap_or(0),
                Some(("wbytes", n)) => block_write += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
        Usage {
            cpu_ns: get(&cpu, "usage_usec") * 1000,
            memory: read_u64(&dir.join("memory.current"))
                .unwrap_or(0)
                .saturating_sub(get(&mem, "inactive_file")),
            memory_limit: read_u64(&dir.join("memory.max")).filter(|l| *l != u64::MAX),
            block_read,
            block_write,
            pids: self.pids_current(read_u64(&dir.join("pids.current"))),
        }
    }

    /// pids.current, or the processes listed when the pids controller is
    /// not there.
    fn pids_current(&self, current: Option<u64>) -> u64 {
        current.unwrap_or_else(|| self.pids().len() as u64)
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// A control file of one number; `max` reads as u64::MAX.
pub fn read_u64(path: &Path) -> Option<u64> {
    match read(path).trim() {
        "max" => Some(u64::MAX),
        t => t.parse().ok(),
    }
}

/// A flat `key value` control file (memory.stat, cpu.stat), in order;
/// empty when it cannot be read.
pub fn key_values(path: &Path) -> Vec<(String, u64)> {
    read(path)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn get(kv: &[(String, u64)], key: &str) -> u64 {
    kv.iter().find(|(k, _)| k == key).map_or(0, |(_, v)| *v)
}

/// blkio.throttle.io_service_bytes: `MAJ:MIN Read N` lines, a `Total`.
fn blkio_v1(path: &Path) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for l in read(path).lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let [_, op, n] = f[..] {
            let n = n.parse::<u64>().unwrap_or(0);
            match op {
                "Read" => r += n,
                "Write" => w += n,
                _ => {}
            }
        }
    }
    (r, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_lines_add_up_per_direction() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bytes");
        fs::write(
            &f,
            "8:0 Read 4096\n8:0 Write 100\n8:0 Sync 1\n8:16 Read 4\nTotal 4201\n",
        )
        .unwrap();
        assert_eq!(blkio_v1(&f), (4100, 100));
    }
}
