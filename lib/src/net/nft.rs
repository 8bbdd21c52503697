//! cc's nftables table, through `nft -f -` (one atomic transaction a
//! call). The table is named after the bridge (`ip cc0`) and holds
//! everything cc needs: masquerade for the subnet, and four maps from host
//! ports to container addresses that the DNAT rules look up. Per container
//! only map elements are added and deleted; no other table or chain is
//! ever touched (netavark 1223, 491: teardown that flushed a shared chain).
//!
//! Where published ports are reached from:
//! - other hosts and containers: `prerouting`, for the host's own
//!   addresses (`fib daddr type local`) except 127.0.0.0/8;
//! - the host itself: `output`, including 127.0.0.1. The DNATed packet
//!   leaves through the bridge with a loopback source, which the kernel
//!   allows only with `route_localnet`, set on the bridge alone and only
//!   while some container publishes a port (`net::loopback`: the
//!   kernel's martian check otherwise, and then a tc filter on every
//!   bridge port, are the second guard); `guard` drops
//!   anything addressed to 127.0.0.0/8 that arrives on the bridge, so
//!   containers cannot reach the host's loopback services through it, and
//!   other hosts never match a 127.0.0.1 mapping (docker 41872);
//! - hairpin (a container through the host's address to itself or a
//!   neighbour): DNATed traffic from the subnet or from loopback is
//!   masqueraded, so replies come back the way they went (docker 4442).

use std::io::Write;
use std::process::{Command, Stdio};

use super::ipam::Lease;
use super::ports::Port;
use super::Config;
use crate::error::{Error, Result};

fn map_of(p: &Port) -> String {
    let at = if p.host_ip.is_unspecified() {
        "any"
    } else {
        "at"
    };
    format!("{}_{at}", p.proto.as_str())
}

fn element(p: &Port, lease: &Lease, with_value: bool) -> String {
    let key = if p.host_ip.is_unspecified() {
        p.host_port.to_string()
    } else {
        format!("{} . {}", p.host_ip, p.host_port)
    };
    if with_value {
        format!("{key} : {} . {}", lease.ip, p.container_port)
    } else {
        key
    }
}

/// The whole table, with the elements of `leases`: written as "create,
/// delete, create again" so one transaction replaces whatever was there
/// (nothing, an emptied table, or stale elements).
pub fn table(c: &Config, leases: &[Lease]) -> String {
    let t = &c.bridge;
    let net = c.subnet.to_string();
    let mut s = format!("table ip {t} {{}}\ndelete table ip {t}\ntable ip {t} {{\n");
    for proto in ["tcp", "udp"] {
        s += &format!(
            "  map {proto}_any {{ type inet_service : ipv4_addr . inet_service; }}\n  \
             map {proto}_at {{ type ipv4_addr . inet_service : ipv4_addr . inet_service; }}\n"
        );
    }
    s += &format!(
        "  chain guard {{\n    type filter hook prerouting priority raw; policy accept;\n    \
         iifname \"{t}\" ip daddr 127.0.0.0/8 drop\n  }}\n"
    );
    s += "  chain ports {\n";
    for proto in ["tcp", "udp"] {
        s += &format!(
            "    meta l4proto {proto} dnat ip to ip daddr . {proto} dport map @{proto}_at\n    \
             meta l4proto {proto} dnat ip to {proto} dport map @{proto}_any\n"
        );
    }
    s += "  }\n";
    s += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    \
          ip daddr 127.0.0.0/8 return\n    fib daddr type local jump ports\n  }\n";
    s += "  chain output {\n    type nat hook output priority -100; policy accept;\n    \
          fib daddr type local jump ports\n  }\n";
    s += &format!(
        "  chain postrouting {{\n    type nat hook postrouting priority srcnat; policy accept;\n    \
         ip saddr {net} ip daddr != {net} masquerade\n    \
         oifname \"{t}\" ct status dnat ip saddr {{ 127.0.0.0/8, {net} }} masquerade\n  }}\n}}\n"
    );
    for l in leases {
        s += &elements("add", c, l);
    }
    s
}

/// `add element` (or `delete element`) lines for a lease's ports.
pub fn elements(verb: &str, c: &Config, l: &Lease) -> String {
    l.ports
        .iter()
        .map(|p| {
            format!(
                "{verb} element ip {} {} {{ {} }}\n",
                c.bridge,
                map_of(p),
                element(p, l, verb == "add")
            )
        })
        .collect()
}

/// The port elements of one container, in their own transaction.
pub fn add(c: &Config, l: &Lease) -> Result<()> {
    if l.ports.is_empty() {
        return Ok(());
    }
    run(&elements("add", c, l))
}

/// Removes a container's elements. Adding them first makes the delete
/// succeed whether or not they were still there (after a flush, say).
pub fn delete(c: &Config, l: &Lease) -> Result<()> {
    if l.ports.is_empty() {
        return Ok(());
    }
    run(&(elements("add", c, l) + &elements("delete", c, l)))
}

/// Removes cc's table (`cc-net destroy`).
pub fn drop_table(c: &Config) -> Result<()> {
    let t = &c.bridge;
    run(&format!("table ip {t} {{}}\ndelete table ip {t}\n"))
}

/// The table as nft prints it, for people.
pub fn list(c: &Config) -> Result<String> {
    let out = Command::new("nft")
        .args(["list", "table", "ip", &c.bridge])
        .output()
        .map_err(|e| Error::sys("run nft", e))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Feeds a script to `nft -f -`.
pub fn run(script: &str) -> Result<()> {
    feed(script).map_err(|err| {
        let first = err
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or_else(|| err.lines().next().unwrap_or("failed"));
        Error::Program(format!("nft: {}", first.trim()))
    })
}

/// `nft -f -`; on failure, what nft printed.
fn feed(script: &str) -> std::result::Result<(), String> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run nft (is nftables installed?): {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cannot run nft: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Adds a container's port elements. If cc's table was flushed or
/// deleted by someone, it is rebuilt with the elements of `all` leases
/// (which include this one). A failure names the port that nftables
/// refused, in a line of cc's own: never nft's text and positions.
pub fn publish(c: &Config, l: &Lease, all: impl FnOnce() -> Result<Vec<Lease>>) -> Result<()> {
    if l.ports.is_empty() || add(c, l).is_ok() {
        return Ok(());
    }
    let script = table(c, &all()?);
    feed(&script).map_err(|text| refused(&script, &text, l))
}

/// The error for a refused `script`: nft names the line it failed on
/// (`/dev/stdin:34:30-46: Error: ...`), whose map and key give the port.
fn refused(script: &str, text: &str, l: &Lease) -> Error {
    let line = text
        .split("/dev/stdin:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| script.lines().nth(n.saturating_sub(1)))
        .unwrap_or("");
    let port = l
        .ports
        .iter()
        .find(|p| line.contains(&format!(" {} {{ {} ", map_of(p), element(p, l, false))))
        .unwrap_or(&l.ports[0]);
    let why = if text.contains("File exists") {
        "another mapping of that host port is in cc's NAT table".to_string()
    } else {
        let reason = text
            .lines()
            .find_map(|l| {
                l.split_once("Error: ")
                    .map(|(_, r)| r.trim().to_lowercase())
            })
            .unwrap_or_else(|| "failed".into());
        format!("nftables refused the mapping ({reason})")
    };
    Error::State(format!("cannot publish port {}: {why}", port.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ports::Proto;
    use std::net::Ipv4Addr;

    #[test]
    fn elements_by_address() {
        let c = Config {
            bridge: "cc0".into(),
            subnet: "10.66.0.0/16".parse().unwrap(),
            mtu: 1500,
        };
        let l = Lease {
            ip: Ipv4Addr::new(10, 66, 0, 2),
            owner: "x".into(),
            boot: "b".into(),
            veth: "ccx".into(),
            mac: String::new(),
            gateway: Ipv4Addr::new(10, 66, 0, 1),
            prefix_len: 16,
            pid: 0,
            pid_start: None,
            monitor_pid: None,
            monitor_start: None,
            ports: vec![
                Port {
                    host_ip: Ipv4Addr::UNSPECIFIED,
                    host_port: 8080,
                    container_port: 80,
                    proto: Proto::Tcp,
                },
                Port {
                    host_ip: Ipv4Addr::LOCALHOST,
                    host_port: 5353,
                    container_port: 53,
                    proto: Proto::Udp,
                },
            ],
        };
        assert_eq!(
            elements("add", &c, &l),
            "add element ip cc0 tcp_any { 8080 : 10.66.0.2 . 80 }\n\
             add element ip cc0 udp_at { 127.0.0.1 . 5353 : 10.66.0.2 . 53 }\n"
        );
        assert_eq!(
            elements("delete", &c, &l),
            "delete element ip cc0 tcp_any { 8080 }\ndelete element ip cc0 udp_at { 127.0.0.1 . 5353 }\n"
        );
        assert!(table(&c, std::slice::from_ref(&l))
            .contains("ip saddr 10.66.0.0/16 ip daddr != 10.66.0.0/16 masquerade"));
        // nft's failure becomes one line naming the port it refused.
        let script =
            "table ip cc0 {}\nadd element ip cc0 udp_at { 127.0.0.1 . 5353 : 10.66.0.9 . 53 }\n";
        let e = refused(
            script,
            "/dev/stdin:2:30-46: Error: Could not process rule: File exists\n",
            &l,
        );
        assert_eq!(
            e.to_string(),
            "cannot publish port 53/udp on 127.0.0.1:5353: another mapping of that host port is in cc's NAT table"
        );
        assert_eq!(e.code(), 4);
    }
}
