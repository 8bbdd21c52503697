//! The host's loopback, guarded from the bridge. `route_localnet` on the
//! bridge only while a container publishes a port (`localnet_locked`), and
//! then a second guard, in tc rather than nft: on each port of the bridge (a container's host-side veth), a `clsact` qdisc and
//! on its ingress a classic BPF filter in direct-action mode that drops
//! every IPv4 packet addressed to 127.0.0.0/8. What `tc qdisc add dev VETH
//! clsact; tc filter add dev VETH ingress pref 1 handle 1 protocol ip bpf
//! bytecode '5,32 0 0 4293918736,84 0 0 4278190080,21 0 1 2130706432,6 0
//! 0 2,6 0 0 4294967295' da` makes. Classic BPF needs no loaded program,
//! and cls_bpf in direct-action mode no action module (act_gact, which
//! some kernels lack).
//!
//! Why: while a container publishes a port, the bridge has
//! `route_localnet` (the host reaches its published ports through
//! 127.0.0.1), so the kernel no longer drops packets from the bridge to
//! 127.0.0.0/8 as martians, and nft's `guard` chain would be the only
//! thing between a container and the host's loopback services: a flushed
//! ruleset (`nft flush ruleset`, a firewall manager reloading) would open
//! them. tc is another subsystem with its own netlink messages; nothing
//! that resets nftables touches it.
//!
//! Why there: a guard inside the container's namespace would not hold (a
//! container with NET_RAW writes whole frames on a packet socket, with
//! PACKET_QDISC_BYPASS past its own tc and nft egress hooks); the bridge
//! device's own ingress is too late (with br_netfilter, conntrack has
//! already turned a reply to the host's connection to a published port
//! back to 127.0.0.1 there). A port's ingress sees each frame as the
//! container sent it: that reply is addressed to the gateway (it was
//! masqueraded), so only forged packets match.

use std::fs;

use netlink_packet_core::DefaultNla;
use netlink_packet_route::tc::{TcAttribute, TcFilterBpfOption, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;

use super::netlink::{Netlink, NLM_F_CREATE, NLM_F_EXCL};
use super::{ipam, link, sysctl, Config};
use crate::error::{Error, Result};
use crate::store::Store;

/// The filter's priority and handle: fixed, so adding it again answers
/// EEXIST instead of stacking copies.
const PREF: u32 = 1;
const HANDLE: TcHandle = TcHandle { major: 0, minor: 1 };
const ETH_P_IP: u16 = 0x0800;
/// linux/pkt_cls.h: `TCA_BPF_OPS_LEN`, `TCA_BPF_OPS`, `TCA_BPF_FLAGS`
/// with `TCA_BPF_FLAG_ACT_DIRECT` (the program's answer is the action).
const TCA_BPF_OPS_LEN: u16 = 4;
const TCA_BPF_OPS: u16 = 5;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
/// `TC_ACT_SHOT`, and `TC_ACT_UNSPEC` (-1): the next filter decides.
const TC_ACT_SHOT: u32 = 2;
const TC_ACT_UNSPEC: u32 = u32::MAX;

/// Load the IPv4 destination (offset 16 from the network header: cls_bpf
/// runs a program from the link header, so the offset is taken from
/// `SKF_NET_OFF`, linux/filter.h), keep its first byte, drop when it is
/// 127.
const SKF_NET_OFF: i32 = -0x10_0000;
const PROGRAM: [(u16, u8, u8, u32); 5] = [
    (0x20, 0, 0, (SKF_NET_OFF + 16) as u32), // ld [net + 16]
    (0x54, 0, 0, 0xff00_0000),               // and #0xff000000
    (0x15, 0, 1, 0x7f00_0000),               // jeq #0x7f000000, next, skip one
    (0x06, 0, 0, TC_ACT_SHOT),               // ret #SHOT
    (0x06, 0, 0, TC_ACT_UNSPEC),
];

/// `route_localnet` on the bridge while, and only while, a lease of the
/// store publishes a port. The host reaches its published ports through
/// 127.0.0.1 too: the DNATed packet leaves through the bridge with a
/// loopback source, which the kernel routes only with `route_localnet`.
/// That also lets packets addressed to 127.0.0.0/8 arrive from the bridge,
/// which nft's `guard` drops, and the tc filter on every port of the
/// bridge (`guard_loopback`: a flushed ruleset leaves it in place); with
/// the flag off the kernel drops them itself as martians. Caller holds the
/// store's `net` lock, so a lease being added is either seen here or sets
/// the flag after.
pub(super) fn localnet_locked(store: &Store, c: &Config) -> Result<()> {
    let key = format!("net/ipv4/conf/{}/route_localnet", c.bridge);
    if !std::path::Path::new("/proc/sys").join(&key).exists() {
        return Ok(()); // no bridge (gc after a reboot): nothing to guard
    }
    let publish = ipam::list(store)?.iter().any(|l| !l.ports.is_empty());
    if !publish {
        return sysctl(&key, "0");
    }
    // Every port before the flag goes on, and again after: a port made
    // meanwhile either is listed the second time or, made after, reads
    // the flag on (`guard_new_port`), without a lock between them.
    guard_ports(c)?;
    sysctl(&key, "1")?;
    guard_ports(c)
}

/// The tc guard on every port of the bridge.
fn guard_ports(c: &Config) -> Result<()> {
    let mut nl = Netlink::open()?;
    if let Some(br) = link::find(&mut nl, &c.bridge)? {
        let ports = link::list(&mut nl)?;
        for p in ports.iter().filter(|l| l.controller == Some(br.index)) {
            guard_loopback(&mut nl, p.index, &p.name)?;
        }
    }
    Ok(())
}

/// A new port of the bridge, once made, gets the loopback guard if the
/// bridge has `route_localnet` (see `localnet_locked` for the order that
/// needs no lock).
pub(super) fn guard_new_port(c: &Config, nl: &mut Netlink, veth: &str) -> Result<()> {
    let key = format!("/proc/sys/net/ipv4/conf/{}/route_localnet", c.bridge);
    if fs::read_to_string(key).is_ok_and(|v| v.trim() == "1") {
        if let Some(l) = link::find(nl, veth)? {
            guard_loopback(nl, l.index, veth)?;
        }
    }
    Ok(())
}

/// [`localnet_locked`] under the store's `net` lock.
pub(super) fn localnet(store: &Store, c: &Config) -> Result<()> {
    let _l = store.lock("net")?;
    localnet_locked(store, c)
}

/// Puts the tc guard on bridge port `index` (`name`); an existing one is
/// kept, and a port gone meanwhile (a container that ended between the
/// listing and the request: ENODEV) needs none.
fn guard_loopback(nl: &mut Netlink, index: u32, name: &str) -> Result<()> {
    let what = |e: Error| {
        Error::Unsupported(format!(
            "cannot guard the host's loopback on bridge port '{name}' with tc: {e}"
        ))
    };
    let mut q = TcMessage::with_index(index as i32);
    q.header.handle = TcHandle {
        major: 0xffff,
        minor: 0,
    };
    q.header.parent = TcHandle::CLSACT;
    q.attributes.push(TcAttribute::Kind("clsact".into()));
    exists_ok(nl.request(
        RouteNetlinkMessage::NewQueueDiscipline(q),
        NLM_F_CREATE | NLM_F_EXCL,
    ))
    .map_err(what)?;
    let f = RouteNetlinkMessage::NewTrafficFilter(drop_loopback(index));
    exists_ok(nl.request(f, NLM_F_CREATE | NLM_F_EXCL)).map_err(what)
}

fn exists_ok(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENODEV)) => Ok(()),
        r => r,
    }
}

/// The filter: [`PROGRAM`] as `struct sock_filter`s, direct action.
fn drop_loopback(index: u32) -> TcMessage {
    let mut ops = Vec::with_capacity(PROGRAM.len() * 8);
    for (code, jt, jf, k) in PROGRAM {
        ops.extend_from_slice(&code.to_ne_bytes());
        ops.extend_from_slice(&[jt, jf]);
        ops.extend_from_slice(&k.to_ne_bytes());
    }
    let nla = |kind, value| TcOption::Bpf(TcFilterBpfOption::Other(DefaultNla::new(kind, value)));
    let mut m = TcMessage::with_index(index as i32);
    m.header.handle = HANDLE;
    m.header.parent = TcHandle {
        major: 0xffff,
        minor: TcHandle::MIN_INGRESS,
    };
    m.header.info = (PREF << 16) | u32::from(ETH_P_IP.to_be());
    m.attributes = vec![
        TcAttribute::Kind("bpf".into()),
        TcAttribute::Options(vec![
            nla(
                TCA_BPF_OPS_LEN,
                (PROGRAM.len() as u16).to_ne_bytes().to_vec(),
            ),
            nla(TCA_BPF_OPS, ops),
            nla(
                TCA_BPF_FLAGS,
                TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes().to_vec(),
            ),
        ]),
    ];
    m
}
