//! A container's /etc/hosts: localhost, its own name at its address, and
//! the `--add-host` lines its record keeps.

use std::net::Ipv4Addr;

use crate::container::Container;

/// /etc/hosts of a container whose own address is `addr`, then its
/// `--add-host` lines (see [`extra_hosts`]).
pub fn hosts_file(
    addr: Ipv4Addr,
    hostname: &str,
    c: &Container,
    gateway: Option<Ipv4Addr>,
) -> String {
    let name = c.name();
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{addr}\t{hostname} {name}\n{}",
        extra_hosts(c, gateway)
    )
}

/// `--add-host`: the record's `ADDRESS\tNAME` lines, docker's word
/// `host-gateway` as the bridge's address (`gateway`; cc-run refuses the
/// word where there is no bridge).
pub fn extra_hosts(c: &Container, gateway: Option<Ipv4Addr>) -> String {
    let lines = c.annotation(ANN_EXTRA_HOSTS).unwrap_or("");
    lines
        .lines()
        .filter_map(|l| match l.split_once('\t') {
            Some((HOST_GATEWAY, name)) => Some(format!("{}\t{name}\n", gateway?)),
            _ => Some(format!("{l}\n")),
        })
        .collect()
}

/// `--add-host`'s lines `ADDRESS\tNAME`, one per flag.
pub const ANN_EXTRA_HOSTS: &str = "io.cc.extra-hosts";

/// docker's `--add-host NAME:host-gateway`.
pub const HOST_GATEWAY: &str = "host-gateway";
