//! cc-stats and cc-top: what a container uses, and its processes. The
//! figures come from its cgroup (`cgroup::Usage`) and, for the network, from
//! the counters of its network namespace (/proc/PID/net/dev of its first
//! process). They are printed in docker's columns and number formats.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::cgroup::{Cgroup, Usage};
use crate::container::Container;
use crate::error::{Error, Result};

/// One reading of a container's counters.
#[derive(Debug, Clone)]
pub struct Sample {
    at: Instant,
    usage: Usage,
    net_rx: u64,
    net_tx: u64,
}

/// Reads a container's counters now; a container that is not running
/// (as the caller found out) reads as zeros.
pub fn sample(c: &Container, running: bool) -> Sample {
    let usage = match running {
        true => Cgroup::open(&c.cgroup_name()).usage(),
        false => Usage::default(),
    };
    let (net_rx, net_tx) = match (running, c.state.pid) {
        (true, Some(pid)) => {
            net_dev(&std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default())
        }
        _ => (0, 0),
    };
    Sample {
        at: Instant::now(),
        usage,
        net_rx,
        net_tx,
    }
}

/// [`sample`] of each container, on up to four threads past 16 of them
/// (the reads are the kernel's work: bench/stats.sh), joined before it
/// returns.
pub fn sample_all(cs: &[(&Container, bool)]) -> Vec<Sample> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if threads < 2 || cs.len() < 16 {
        return cs.iter().map(|(c, run)| sample(c, *run)).collect();
    }
    std::thread::scope(|s| {
        let parts: Vec<_> = cs
            .chunks(cs.len().div_ceil(threads))
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(c, run)| sample(c, *run))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("sampling does not panic"))
            .collect()
    })
}

/// A reading of zeros at the moment the container started: against it,
/// CPU % is the average over the container's whole run (podman's `stats
/// --no-stream`), from one reading instead of two a second apart.
pub fn at_start(c: &Container) -> Sample {
    let up = c
        .state
        .started_at
        .as_deref()
        .and_then(crate::time::parse_rfc3339)
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default();
    let now = Instant::now();
    Sample {
        at: now.checked_sub(up).unwrap_or(now),
        usage: Usage::default(),
        net_rx: 0,
        net_tx: 0,
    }
}

/// A container's use between two samples, as docker computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub cpu_percent: f64,
    pub memory: u64,
    /// The container's limit, or the host's memory when it has none.
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Stats {
    /// CPU % is the CPU time used over the wall time between the samples:
    /// 100% is one CPU kept busy (docker's cpuDelta / systemDelta × CPUs).
    pub fn between(before: &Sample, now: &Sample) -> Stats {
        let wall = now.at.duration_since(before.at).as_nanos() as f64;
        let cpu = now.usage.cpu_ns.saturating_sub(before.usage.cpu_ns) as f64;
        let u = &now.usage;
        let host = host_memory();
        Stats {
            cpu_percent: if wall > 0.0 { cpu / wall * 100.0 } else { 0.0 },
            memory: u.memory,
            memory_limit: u.memory_limit.map_or(host, |l| l.min(host)),
            net_rx: now.net_rx,
            net_tx: now.net_tx,
            block_read: u.block_read,
            block_write: u.block_write,
            pids: u.pids,
        }
    }

    pub fn mem_percent(&self) -> f64 {
        match self.memory_limit {
            0 => 0.0,
            l => self.memory as f64 / l as f64 * 100.0,
        }
    }

    /// The columns after CONTAINER ID and NAME, formatted as docker's:
    /// CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS.
    pub fn columns(&self) -> [String; 6] {
        [
            format!("{:.2}%", self.cpu_percent),
            format!(
                "{} / {}",
                binary_size(self.memory),
                binary_size(self.memory_limit)
            ),
            format!("{:.2}%", self.mem_percent()),
            format!(
                "{} / {}",
                decimal_size(self.net_rx),
                decimal_size(self.net_tx)
            ),
            format!(
                "{} / {}",
                decimal_size(self.block_read),
                decimal_size(self.block_write)
            ),
            self.pids.to_string(),
        ]
    }
}

/// cc-stats' `--format` fields, docker's names and headers, and its
/// default table.
pub const COLUMNS: crate::template::Columns = crate::template::Columns {
    fields: &[
        ("ID", "CONTAINER ID"),
        ("Name", "NAME"),
        ("Container", "CONTAINER"),
        ("CPUPerc", "CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET I/O"),
        ("BlockIO", "BLOCK I/O"),
        ("PIDs", "PIDS"),
    ],
    table: "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
};

/// Received and sent bytes of every interface but `lo` in /proc/net/dev's
/// text (proc(5)): `name: rx_bytes packets ... (8 fields) tx_bytes ...`.
fn net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, fields)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = fields
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

/// MemTotal of /proc/meminfo, bytes.
fn host_memory() -> u64 {
    static TOTAL: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    })
}

/// go-units' HumanSizeWithPrecision(n, 3): `1.5kB`, `648B`.
pub fn decimal_size(n: u64) -> String {
    scaled(n, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 3)
}

/// go-units' BytesSize: `1.2MiB`, `64MiB`.
pub fn binary_size(n: u64) -> String {
    scaled(
        n,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

fn scaled(n: u64, base: f64, units: &[&str], precision: usize) -> String {
    let mut v = n as f64;
    let mut i = 0;
    while v >= base && i + 1 < units.len() {
        v /= base;
        i += 1;
    }
    format!("{}{}", go_g(v, precision), units[i])
}

/// Go's `%.*g`: `precision` significant digits, no trailing zeros, an
/// exponent (`1e+03`) when the number needs more digits than that.
fn go_g(v: f64, precision: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{:.*e}", precision - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => s.to_string(),
    };
    if exp < -4 || exp >= precision as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exp.abs());
    }
    let decimals = (precision as i32 - 1 - exp).max(0) as usize;
    trim(&format!("{v:.decimals$}"))
}

/// cc-top: `ps ARGS` (docker's default `-ef`) run on the host, its header
/// and the lines of the container's processes, each with CPID, the pid
/// inside the container, after the PID column. Nothing of the container
/// runs: ps is the host's.
pub fn top(c: &Container, args: &[String]) -> Result<Vec<String>> {
    let pid = c.running_pid()?;
    // A user's container has no cgroup: its processes are its pid
    // namespace's.
    let pids = match crate::rootless::active() {
        true => in_pid_namespace_of(pid),
        false => Cgroup::open(&c.cgroup_name()).pids(),
    };
    let args: Vec<String> = match args.is_empty() {
        true => vec!["-ef".into()],
        false => args.to_vec(),
    };
    let out = Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| Error::Program(format!("cannot run ps: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Program(format!(
            "ps {} failed: {}",
            args.join(" "),
            crate::cli::one_line(&why)
        )));
    }
    filter_ps(&String::from_utf8_lossy(&out.stdout), &pids, ns_pid)
}

/// The processes in the pid namespace of `pid`, as /proc lists them.
fn in_pid_namespace_of(pid: i32) -> Vec<i32> {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(want) = ns(&pid.to_string()) else {
        return Vec::new();
    };
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| ns(&p.to_string()).as_ref() == Some(&want))
        .collect()
}

/// cc-stats reads a container's use from its cgroup: a user's container
/// has none where no cgroup is delegated, so it is refused, not shown as
/// zeros.
pub fn check_measurable() -> Result<()> {
    if crate::cgroup::nothing_delegated() {
        return Err(Error::Unsupported(format!(
            "cc-stats reads a container's cgroup, and a user's container has none ({})",
            crate::cgroup::delegation()
        )));
    }
    Ok(())
}

/// The header and the lines whose PID is one of `pids`, a CPID column
/// (`cpid` of the PID) inserted after PID.
fn filter_ps(text: &str, pids: &[i32], cpid: impl Fn(i32) -> String) -> Result<Vec<String>> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::Program("ps printed no PID column: add -o pid or -f".into()))?;
    let mut rows = Vec::new();
    for line in lines {
        let Some((end, pid)) = field_end(line, col) else {
            continue;
        };
        let Ok(pid) = pid.parse::<i32>() else {
            continue;
        };
        if pids.contains(&pid) {
            rows.push((line, end, cpid(pid)));
        }
    }
    let width = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(4);
    let insert =
        |line: &str, end: usize, v: &str| format!("{} {v:>width$}{}", &line[..end], &line[end..]);
    let (hend, _) = field_end(header, col).unwrap_or((header.len(), ""));
    let mut out = vec![insert(header, hend, "CPID")];
    out.extend(rows.iter().map(|(l, e, v)| insert(l, *e, v)));
    Ok(out)
}

/// The byte offset just past the `n`th whitespace-separated field, and
/// the field.
fn field_end(line: &str, n: usize) -> Option<(usize, &str)> {
    let mut fields = line
        .char_indices()
        .filter(|(i, ch)| {
            !ch.is_whitespace() && (*i == 0 || line[..*i].ends_with(char::is_whitespace))
        })
        .map(|(i, _)| i);
    let start = fields.nth(n)?;
    let len = line[start..]
        .find(char::is_whitespace)
        .unwrap_or(line.len() - start);
    Some((start + len, &line[start..start + len]))
}

/// The pid of `pid` in its innermost pid namespace (NSpid of
/// /proc/PID/status, proc(5)); `-` when it is gone.
fn ns_pid(pid: i32) -> String {
    let status = Path::new("/proc").join(pid.to_string()).join("status");
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last().map(String::from))
        })
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_docker_prints_them() {
        assert_eq!(decimal_size(0), "0B");
        assert_eq!(decimal_size(648), "648B");
        assert_eq!(decimal_size(1500), "1.5kB");
        assert_eq!(decimal_size(12_345_678), "12.3MB");
        assert_eq!(decimal_size(999_999), "1e+03kB");
        assert_eq!(binary_size(64 << 20), "64MiB");
        assert_eq!(binary_size(1_258_291), "1.2MiB");
        assert_eq!(binary_size(1_234_567), "1.177MiB");
        assert_eq!(binary_size(512), "512B");
    }

    #[test]
    fn net_dev_adds_every_interface_but_lo() {
        let text = "Inter-|   Receive  |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes\n    lo:  100 1 0 0 0 0 0 0  100 1 0 0 0 0 0 0\n  eth0: 1500 3 0 0 0 0 0 0  648 2 0 0 0 0 0 0\n";
        assert_eq!(net_dev(text), (1500, 648));
    }

    #[test]
    fn ps_lines_of_the_container_get_their_inner_pid() {
        let ps = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
                  root           1       0  0 06:00 ?        00:00:01 /sbin/init\n\
                  root        4242       7  0 06:01 ?        00:00:00 sleep 100\n";
        let out = filter_ps(ps, &[4242], |_| "1".into()).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with("UID          PID CPID"), "{}", out[0]);
        assert!(
            out[1].starts_with("root        4242    1       7"),
            "{}",
            out[1]
        );
        assert!(out[1].ends_with("sleep 100"));
        assert!(filter_ps("USER COMMAND\n", &[], |_| "1".into()).is_err());
    }
}
