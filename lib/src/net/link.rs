//! Links, addresses and routes through netlink: the bridge, the veth pair
//! of a container, and what its namespace needs (loopback up, eth0 with
//! its address, a default route). What `ip link`, `ip addr` and `ip route`
//! would do, without starting a program for each step.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage as M};

use super::netlink::{Netlink, NLM_F_CREATE, NLM_F_EXCL};
use crate::error::Result;

/// A link as `ls` and `gc` see it.
#[derive(Debug, Clone)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub alias: Option<String>,
    pub controller: Option<u32>,
    pub up: bool,
}

fn link_of(m: LinkMessage) -> Link {
    let mut l = Link {
        index: m.header.index,
        name: String::new(),
        alias: None,
        controller: None,
        up: m.header.flags.contains(LinkFlags::Up),
    };
    for a in m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n,
            LinkAttribute::IfAlias(s) => l.alias = Some(s),
            LinkAttribute::Controller(c) => l.controller = Some(c),
            _ => {}
        }
    }
    l
}

/// The link named `name`, if there is one.
pub fn find(nl: &mut Netlink, name: &str) -> Result<Option<Link>> {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    Ok(match nl.get(M::GetLink(m))? {
        Some(M::NewLink(m)) => Some(link_of(m)),
        _ => None,
    })
}

/// Every link of the namespace.
pub fn list(nl: &mut Netlink) -> Result<Vec<Link>> {
    Ok(nl
        .dump(M::GetLink(LinkMessage::default()))?
        .into_iter()
        .filter_map(|m| match m {
            M::NewLink(m) => Some(link_of(m)),
            _ => None,
        })
        .collect())
}

/// Creates a bridge, up, with `alias` (which names its owner).
pub fn create_bridge(nl: &mut Netlink, name: &str, alias: &str) -> Result<()> {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    nl.request(M::NewLink(m), NLM_F_CREATE | NLM_F_EXCL)?;
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.push(LinkAttribute::IfAlias(alias.into()));
    nl.request(M::SetLink(m), 0)?;
    set_up(nl, name)
}

pub fn set_up(nl: &mut Netlink, name: &str) -> Result<()> {
    let mut m = LinkMessage::default();
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    m.attributes.push(LinkAttribute::IfName(name.into()));
    nl.request(M::SetLink(m), 0)
}

/// Deletes a link; one that is already gone is not an error. Deleting
/// one end of a veth pair deletes both.
pub fn delete(nl: &mut Netlink, name: &str) -> Result<()> {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    match nl.request(M::DelLink(m), 0) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
        r => r,
    }
}

/// One veth request does the host's half: `host` is created up, on the
/// bridge, and its peer is created directly inside the namespace of `pid`
/// as `eth0` with the given MAC address.
pub fn create_veth(
    nl: &mut Netlink,
    host: &str,
    bridge: u32,
    pid: i32,
    mac: [u8; 6],
    mtu: u32,
) -> Result<()> {
    let mut peer = LinkMessage::default();
    peer.attributes.push(LinkAttribute::IfName("eth0".into()));
    peer.attributes.push(LinkAttribute::NetNsPid(pid as u32));
    peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
    peer.attributes.push(LinkAttribute::Mtu(mtu));
    let mut m = LinkMessage::default();
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    m.attributes.push(LinkAttribute::IfName(host.into()));
    m.attributes.push(LinkAttribute::Mtu(mtu));
    m.attributes.push(LinkAttribute::Controller(bridge));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    nl.request(M::NewLink(m), NLM_F_CREATE | NLM_F_EXCL)
}

/// Hairpin mode on a bridge port: a frame may leave through the port it
/// came in by. With br_netfilter loaded, a container's connection to its
/// own published port is DNATed at the bridge and must go back out of
/// its own port (docker 4442).
pub fn set_hairpin(nl: &mut Netlink, port: &str) -> Result<()> {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(port.into()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::PortKind(InfoPortKind::Bridge),
        LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
            true,
        )])),
    ]));
    // Port options are changed by RTM_NEWLINK on the existing link;
    // RTM_SETLINK ignores IFLA_LINKINFO.
    nl.request(M::NewLink(m), 0)
}

/// Adds `addr/prefix` to the link `index`.
pub fn add_address(nl: &mut Netlink, index: u32, addr: Ipv4Addr, prefix: u8) -> Result<()> {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = prefix;
    m.header.index = index;
    let bcast = u32::from(addr) | (u32::MAX.checked_shr(prefix as u32).unwrap_or(0));
    m.attributes.push(AddressAttribute::Local(IpAddr::V4(addr)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V4(addr)));
    m.attributes
        .push(AddressAttribute::Broadcast(Ipv4Addr::from(bcast)));
    match nl.request(M::NewAddress(m), NLM_F_CREATE | NLM_F_EXCL) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r,
    }
}

/// Every IPv4 address of the namespace with its prefix length.
pub fn addresses(nl: &mut Netlink) -> Result<Vec<(u32, Ipv4Addr, u8)>> {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    let mut out = Vec::new();
    for msg in nl.dump(M::GetAddress(m))? {
        let M::NewAddress(a) = msg else { continue };
        for attr in &a.attributes {
            if let AddressAttribute::Local(IpAddr::V4(ip)) = attr {
                out.push((a.header.index, *ip, a.header.prefix_len));
            }
        }
    }
    Ok(out)
}

/// Every IPv4 route of the main table, as (destination, prefix length).
pub fn routes(nl: &mut Netlink) -> Result<Vec<(Ipv4Addr, u8)>> {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    let mut out = Vec::new();
    for msg in nl.dump(M::GetRoute(m))? {
        let M::NewRoute(r) = msg else { continue };
        if r.header.table != RouteHeader::RT_TABLE_MAIN {
            continue;
        }
        let dst = r.attributes.iter().find_map(|a| match a {
            RouteAttribute::Destination(RouteAddress::Inet(ip)) => Some(*ip),
            _ => None,
        });
        if let Some(dst) = dst {
            out.push((dst, r.header.destination_prefix_length));
        }
    }
    Ok(out)
}

/// Adds the default route through `gateway`.
pub fn add_default_route(nl: &mut Netlink, gateway: Ipv4Addr, index: u32) -> Result<()> {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Boot;
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    m.attributes.push(RouteAttribute::Oif(index));
    nl.request(M::NewRoute(m), NLM_F_CREATE | NLM_F_EXCL)
}

/// Inside a new namespace: loopback up, eth0 up with its address, and
/// the default route through the gateway.
pub fn configure_inside(
    nl: &mut Netlink,
    addr: Ipv4Addr,
    prefix: u8,
    gateway: Ipv4Addr,
) -> Result<()> {
    set_up(nl, "lo")?;
    let eth0 = find(nl, "eth0")?.ok_or_else(|| crate::Error::not_found("link", "eth0"))?;
    add_address(nl, eth0.index, addr, prefix)?;
    set_up(nl, "eth0")?;
    add_default_route(nl, gateway, eth0.index)
}
