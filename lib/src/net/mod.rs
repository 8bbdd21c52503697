//! Bridge networking. Everything about a container's network is done from
//! outside, by its monitor, with the container's process waiting in its
//! new network namespace (see `sandbox::Launch::before_go`):
//!
//! 1. `prepare`: the bridge exists (created once, under a lock), the host
//!    ports are held by sockets, an address is leased;
//! 2. `connect(pid)`: one netlink request creates the veth pair with its
//!    peer already inside the namespace as `eth0`; a netlink socket opened
//!    inside the namespace brings up lo and eth0 with its address and the
//!    default route; the published ports become NAT map elements;
//! 3. `release`: the elements, the veth and the lease go, then the port
//!    sockets. `gc` does the same for whatever a killed monitor left.
//!
//! The network belongs to a store: `net/config.json` names its bridge
//! (`cc0` for the first store on the machine) and subnet, the bridge's
//! alias is the store's root, and the nftables table is named after the
//! bridge. IPv4 only.

mod hosts;
pub mod ipam;
pub mod link;
pub use hosts::{extra_hosts, hosts_file, ANN_EXTRA_HOSTS, HOST_GATEWAY};
mod loopback;
mod netlink;
pub mod nft;
pub mod ports;
mod subnet;
pub mod user;

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::container::state::pid_start_time;
use crate::container::Container;
use crate::error::{Error, Result};
use crate::store::{self, Store};
pub use ipam::Lease;
use netlink::Netlink;
pub use ports::{Port, PortSpec, Proto, Reservation};
pub use subnet::Subnet;
pub use user::refuse_for_user;

/// The ports a container publishes while it runs: its lease's on the
/// bridge, its stack's for an ordinary user.
pub fn published(store: &Store, c: &Container) -> Result<Vec<Port>> {
    if crate::rootless::active() {
        return Ok(user::published(c));
    }
    Ok(ipam::find(store, &c.id)?
        .map(|l| l.ports)
        .unwrap_or_default())
}

/// The published ports of every container that has some, by id (cc-ps).
pub fn published_by_id(store: &Store) -> Vec<(String, Vec<Port>)> {
    if crate::rootless::active() {
        let list = crate::container::list(store).unwrap_or_default();
        return list
            .iter()
            .map(|c| (c.id.clone(), user::published(c)))
            .filter(|(_, ports)| !ports.is_empty())
            .collect();
    }
    let leases = ipam::list(store).unwrap_or_default();
    leases.into_iter().map(|l| (l.owner, l.ports)).collect()
}

/// The network mode of a container: `bridge`, `none`, `host` or
/// `container:<id>` (absent on records older than networking: `none`).
pub const ANN_NET: &str = "io.cc.net";
/// Published ports, `-p` forms joined by commas.
pub const ANN_PORTS: &str = "io.cc.ports";

/// The published ports of an [`ANN_PORTS`] annotation.
pub fn port_specs(annotation: &str) -> Result<Vec<PortSpec>> {
    annotation
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

/// `net/config.json`: the store's bridge and subnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub bridge: String,
    pub subnet: Subnet,
    #[serde(default = "default_mtu")]
    pub mtu: u32,
}

fn default_mtu() -> u32 {
    1500
}

fn config_path(store: &Store) -> PathBuf {
    store.root().join("net/config.json")
}

/// The store's network config, if its network was ever used.
pub fn config(store: &Store) -> Result<Option<Config>> {
    let path = config_path(store);
    match store::read_optional(&path)? {
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|source| Error::Json { path, source }),
        None => Ok(None),
    }
}

/// Makes sure the bridge is there and up, and forwarding is on; creates
/// both (and the config, with `subnet` or a free default) on first use.
pub fn ensure(store: &Store, subnet: Option<Subnet>) -> Result<Config> {
    ensure_in(&mut Netlink::open()?, store, subnet).map(|(c, _)| c)
}

/// `ensure` on an open socket; also returns the bridge's index.
fn ensure_in(nl: &mut Netlink, store: &Store, subnet: Option<Subnet>) -> Result<(Config, u32)> {
    forwarding_on()?;
    if let Some(ready) = ready(nl, store)? {
        return Ok(ready);
    }
    // Bridge names and subnets are the machine's: one lock for all stores.
    // Many first starts at once wait for it: the first makes the bridge,
    // the others see it made and go on without the lock.
    let _host = match store::lock_file_unless(&host_lock_path()?, || ready(nl, store))? {
        store::Locked::Held(l) => l,
        store::Locked::Done(ready) => return Ok(ready),
    };
    let _net = store.lock("net")?;
    if let Some(ready) = ready(nl, store)? {
        return Ok(ready);
    }
    let c = match config(store)? {
        Some(c) => c,
        None => {
            let c = choose(nl, store, subnet)?;
            fs::create_dir_all(store.root().join("net"))
                .map_err(|e| Error::io("create", store.root().join("net"), e))?;
            store::write_json(&config_path(store), &c)?;
            c
        }
    };
    let index = create_bridge(store, nl, &c)?;
    Ok((c, index))
}

/// The store's config and its bridge's index when the bridge is there,
/// up and this store's.
fn ready(nl: &mut Netlink, store: &Store) -> Result<Option<(Config, u32)>> {
    let Some(c) = config(store)? else {
        return Ok(None);
    };
    Ok(match link::find(nl, &c.bridge)? {
        Some(l) if l.up && l.alias.as_deref() == Some(&owner_tag(store)) => Some((c, l.index)),
        _ => None,
    })
}

fn create_bridge(store: &Store, nl: &mut Netlink, c: &Config) -> Result<u32> {
    let tag = owner_tag(store);
    match link::find(nl, &c.bridge)? {
        Some(l) if l.alias.as_deref() != Some(&tag) => {
            return Err(Error::State(format!(
                "bridge '{}' belongs to another store ({})",
                c.bridge,
                l.alias.unwrap_or_default()
            )))
        }
        Some(_) => link::set_up(nl, &c.bridge)?,
        None => link::create_bridge(nl, &c.bridge, &tag)?,
    }
    let br = link::find(nl, &c.bridge)?.ok_or_else(|| Error::not_found("link", &c.bridge))?;
    link::add_address(nl, br.index, c.subnet.gateway(), c.subnet.prefix)?;
    // Under the store's `net` lock (ensure_in holds it).
    loopback::localnet_locked(store, c)?;
    nft::run(&nft::table(c, &ipam::list(store)?))?;
    Ok(br.index)
}

/// The bridge's alias: the store it belongs to.
fn owner_tag(store: &Store) -> String {
    let root = fs::canonicalize(store.root()).unwrap_or_else(|_| store.root().to_path_buf());
    format!("cc {}", root.display())
}

/// The lock over the host's bridges, shared by every store. It lives in a
/// folder only root can enter: a user who could open it could hold it and
/// stop every cc-run that needs a bridge.
pub const HOST_LOCK_DIR: &str = "/run/cc";

/// Where older cc kept the host lock, open to any user to read: no
/// longer used, it is closed to 0600 so that it lures no one.
const LEGACY_HOST_LOCK: &str = "/run/cc-net.lock";

fn host_lock() -> Result<store::Lock> {
    store::lock_file(&host_lock_path()?)
}

/// The host lock's file, in its private folder (made here).
fn host_lock_path() -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(LEGACY_HOST_LOCK, fs::Permissions::from_mode(0o600));
    let dir = Path::new(HOST_LOCK_DIR);
    store::private_dir(dir)?;
    Ok(dir.join("net.lock"))
}

/// A bridge name not taken (`cc0`, `cc1`...) and a /16 in 10.0.0.0/8 that
/// no route or address of the host overlaps, avoiding podman's 10.88 and
/// 10.89 (docker's 172.17.0.0/16 is outside 10/8).
fn choose(nl: &mut Netlink, store: &Store, want: Option<Subnet>) -> Result<Config> {
    reap_orphans(nl)?;
    let links = link::list(nl)?;
    let tag = owner_tag(store);
    let bridge = (0..1000)
        .map(|i| format!("cc{i}"))
        .find(|n| {
            links
                .iter()
                .find(|l| &l.name == n)
                .is_none_or(|l| l.alias.as_deref() == Some(&tag))
        })
        .ok_or_else(|| Error::State("no free bridge name".into()))?;
    let mut used: Vec<Subnet> = link::routes(nl)?
        .into_iter()
        .filter(|(_, p)| *p > 0)
        .map(|(addr, prefix)| Subnet { addr, prefix })
        .collect();
    used.extend(
        link::addresses(nl)?
            .into_iter()
            .map(|(_, addr, prefix)| Subnet { addr, prefix }),
    );
    let subnet = match want {
        Some(s) => match used.iter().find(|u| u.overlaps(&s)) {
            Some(u) => {
                return Err(Error::State(format!(
                    "subnet {s} overlaps {u}, already on this host"
                )))
            }
            None => s,
        },
        None => (66u8..=255)
            .chain(1..66)
            .filter(|b| !matches!(b, 88 | 89))
            .map(|b| Subnet {
                addr: Ipv4Addr::new(10, b, 0, 0),
                prefix: 16,
            })
            .find(|s| !used.iter().any(|u| u.overlaps(s)))
            .ok_or_else(|| Error::State("no free /16 in 10.0.0.0/8".into()))?,
    };
    Ok(Config {
        bridge,
        subnet,
        mtu: default_mtu(),
    })
}

/// Removes the bridges (and their tables) of stores that no longer exist:
/// a store folder deleted without `cc-net destroy` (a test's temporary
/// store, say) would otherwise hold its bridge name and subnet forever.
fn reap_orphans(nl: &mut Netlink) -> Result<()> {
    for l in link::list(nl)? {
        let Some(root) = l.alias.as_deref().and_then(|a| a.strip_prefix("cc ")) else {
            continue;
        };
        if !l.name.starts_with("cc") || std::path::Path::new(root).join("net/config.json").exists()
        {
            continue;
        }
        link::delete(nl, &l.name)?;
        let _ = nft::run(&format!("table ip {0} {{}}\ndelete table ip {0}\n", l.name));
    }
    Ok(())
}

fn sysctl(key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{key}");
    if fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    fs::write(&path, value).map_err(|e| Error::io("write", &path, e))
}

fn forwarding_on() -> Result<()> {
    sysctl("net/ipv4/ip_forward", "1")
}

/// A network being given to a container: on the bridge (root), or from
/// a user-mode stack (an ordinary user's; see `user`).
pub enum Attachment {
    Bridge(Bridged),
    User {
        pending: user::Pending,
        stack: Option<user::Stack>,
    },
}

/// A process's place on the bridge: its lease and the sockets that hold
/// its host ports (dropped by `release`).
pub struct Bridged {
    pub config: Config,
    pub lease: Lease,
    bridge_index: u32,
    /// A netlink socket in our namespace, from `prepare` to `release`.
    nl: Netlink,
    _held: Vec<Reservation>,
}

/// A `network` event (connect, disconnect) of the attachment's owner on
/// cc's bridge network, as docker records them for its `bridge`.
pub fn event(store: &Store, a: &Attachment, action: &str) {
    let Attachment::Bridge(a) = a else {
        return;
    };
    crate::events::record(
        store,
        "network",
        action,
        &a.config.bridge,
        &[
            ("container", &a.lease.owner),
            ("name", "bridge"),
            ("type", "bridge"),
        ],
    );
}

/// Before the process exists: the bridge, the host ports, an address.
/// `monitor`: the caller is a container's monitor, which holds the lease
/// while it lives (see `owner_gone`).
pub fn prepare(
    store: &Store,
    owner: &str,
    veth: &str,
    want: Option<Ipv4Addr>,
    specs: &[PortSpec],
    monitor: bool,
) -> Result<Bridged> {
    let mut nl = Netlink::open()?;
    let (config, bridge_index) = ensure_in(&mut nl, store, None)?;
    let (ports, held) = ports::reserve(specs)?;
    let me = std::process::id() as i32;
    let mut lease = Lease {
        ip: Ipv4Addr::UNSPECIFIED,
        owner: owner.to_string(),
        boot: store::boot_id().to_string(),
        veth: veth.to_string(),
        mac: String::new(),
        gateway: config.subnet.gateway(),
        prefix_len: config.subnet.prefix,
        pid: 0,
        pid_start: None,
        ports,
        monitor_pid: monitor.then_some(me),
        monitor_start: monitor.then(|| pid_start_time(me)).flatten(),
    };
    {
        let _l = store.lock("net")?;
        clear_in_way(&mut nl, store, &config, &lease.ports, want)?;
        ipam::take(store, &config.subnet, want, &mut lease)?;
    }
    Ok(Bridged {
        config,
        lease,
        bridge_index,
        nl,
        _held: held,
    })
}

/// Brings up loopback in the network namespace of process `pid` (`--net
/// none`, which has nothing else).
pub fn loopback_up(pid: i32) -> Result<()> {
    let mut inside = Netlink::open_in(pid)?;
    link::set_up(&mut inside, "lo")
}

/// Removes the leases, veths and NAT elements of owners that are gone
/// when they hold a host port or the address asked for: the sockets of a
/// killed monitor closed with it, but its map elements would make adding
/// the new ones fail. A live owner's port is a clear error (it should
/// have kept the socket). Caller holds the `net` lock.
fn clear_in_way(
    nl: &mut Netlink,
    store: &Store,
    c: &Config,
    ports: &[Port],
    want: Option<Ipv4Addr>,
) -> Result<()> {
    // Nothing asked for can be in the way: no lease need be read (fifty
    // starts at once wait for this lock one after another).
    if ports.is_empty() && want.is_none() {
        return Ok(());
    }
    for l in ipam::list(store)? {
        let port = l.ports.iter().find(|p| ports.iter().any(|q| q.clashes(p)));
        if port.is_none() && want != Some(l.ip) {
            continue;
        }
        if owner_gone(store, &l) {
            undo_with(nl, store, c, &l);
        } else if let Some(p) = port {
            return Err(Error::State(format!(
                "cannot publish port {}: container {} has it",
                p.describe(),
                store::short_id(&l.owner)
            )));
        }
    }
    Ok(())
}

/// Whether a lease's owner is provably gone: its monitor, when one holds
/// it (a killed monitor's container dies with it), else its process.
pub fn owner_gone(store: &Store, l: &Lease) -> bool {
    match l.monitor_pid {
        Some(pid) if l.boot == store::boot_id() => {
            !crate::container::state::lives(Some(pid), l.monitor_start)
        }
        _ => !lease_alive(store, l),
    }
}

/// With process `pid` in its namespace: on the bridge, the veth pair,
/// eth0's address and route, loopback, NAT for the ports; for a user,
/// its stack. On error the caller releases.
pub fn connect(store: &Store, a: &mut Attachment, pid: i32) -> Result<()> {
    match a {
        Attachment::Bridge(b) => connect_bridge(store, b, pid),
        Attachment::User { pending, stack } => {
            *stack = Some(user::start(pending, pid)?);
            Ok(())
        }
    }
}

fn connect_bridge(store: &Store, a: &mut Bridged, pid: i32) -> Result<()> {
    let nl = &mut a.nl;
    // A veth of the same name left by a killed monitor of this container.
    let _ = link::delete(nl, &a.lease.veth);
    link::create_veth(
        nl,
        &a.lease.veth,
        a.bridge_index,
        pid,
        ipam::mac_bytes(a.lease.ip),
        a.config.mtu,
    )?;
    loopback::guard_new_port(&a.config, nl, &a.lease.veth)?;
    // Only a container with published ports can reach itself through the
    // host (hairpin); the request costs a few ms, so others skip it.
    if !a.lease.ports.is_empty() {
        link::set_hairpin(nl, &a.lease.veth)?;
    }
    let mut inside = Netlink::open_in(pid)?;
    link::configure_inside(
        &mut inside,
        a.lease.ip,
        a.config.subnet.prefix,
        a.config.subnet.gateway(),
    )?;
    a.lease.pid = pid;
    a.lease.pid_start = pid_start_time(pid);
    ipam::update(store, &a.lease)?;
    if !a.lease.ports.is_empty() {
        loopback::localnet(store, &a.config)?;
    }
    nft::publish(&a.config, &a.lease, || ipam::list(store))
}

/// Undoes an attachment: NAT elements, the veth (and so its peer), the
/// lease; then the port sockets close. A user's stack ends.
pub fn release(store: &Store, a: Attachment) {
    match a {
        Attachment::Bridge(b) => release_bridge(store, b),
        Attachment::User { stack, .. } => stack.into_iter().for_each(user::stop),
    }
}

fn release_bridge(store: &Store, mut a: Bridged) {
    undo_with(&mut a.nl, store, &a.config, &a.lease);
    if !a.lease.ports.is_empty() {
        let _ = loopback::localnet(store, &a.config);
    }
}

/// The quick half of `release`, for before a foreground client is told
/// the container ended: its published ports stop forwarding and their
/// host ports are free again. Deleting the veth waits for the kernel's
/// network teardown (tens of ms), so `release` does that after.
pub fn release_ports(store: &Store, a: &mut Attachment) {
    let a = match a {
        Attachment::Bridge(b) => b,
        // slirp4netns holds the ports: it ends now.
        Attachment::User { stack, .. } => return stack.iter_mut().for_each(user::stop_forwarding),
    };
    let _ = nft::delete(&a.config, &a.lease);
    a._held.clear();
    // The lease on disk stops naming them too, or a `cc-run -p` started
    // the moment this one returns finds them still taken.
    if !a.lease.ports.is_empty() {
        let mut freed = a.lease.clone();
        freed.ports.clear();
        let _ = ipam::update(store, &freed);
    }
}

fn undo(store: &Store, c: &Config, l: &Lease) {
    if let Ok(mut nl) = Netlink::open() {
        undo_with(&mut nl, store, c, l);
    } else {
        let _ = nft::delete(c, l);
        let _ = ipam::release(store, l.ip, &l.owner);
    }
}

fn undo_with(nl: &mut Netlink, store: &Store, c: &Config, l: &Lease) {
    let _ = nft::delete(c, l);
    let _ = link::delete(nl, &l.veth);
    let _ = ipam::release(store, l.ip, &l.owner);
}

/// Releases whatever `owner` holds (cc-rm after a killed monitor,
/// `cc-net detach`). Returns whether there was anything.
pub fn release_owner(store: &Store, owner: &str) -> Result<bool> {
    let Some(c) = config(store)? else {
        return Ok(false);
    };
    let leases: Vec<Lease> = ipam::list(store)?
        .into_iter()
        .filter(|l| l.owner == owner)
        .collect();
    for l in &leases {
        undo(store, &c, l);
    }
    if leases.iter().any(|l| !l.ports.is_empty()) {
        loopback::localnet(store, &c)?;
    }
    Ok(!leases.is_empty())
}

/// Whether the process a lease was given to still runs. A lease not yet
/// connected is alive for a minute (its monitor is setting it up).
pub fn lease_alive(store: &Store, l: &Lease) -> bool {
    if l.boot != store::boot_id() {
        return false;
    }
    if l.pid == 0 {
        let path = ipam::leases_dir(store).join(l.ip.to_string());
        return fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| {
                SystemTime::now()
                    .duration_since(t)
                    .is_ok_and(|d| d < Duration::from_secs(60))
            });
    }
    crate::container::state::lives(Some(l.pid), l.pid_start)
}

/// Removes leases whose process is gone, their veths, and every NAT
/// element no live lease stands for (the table is rebuilt from the live
/// leases in one transaction). Returns the leases removed.
pub fn gc(store: &Store) -> Result<Vec<Lease>> {
    let Some(c) = config(store)? else {
        return Ok(vec![]);
    };
    let _l = store.lock("net")?;
    let mut gone = Vec::new();
    for l in ipam::list(store)? {
        if owner_gone(store, &l) {
            undo(store, &c, &l);
            gone.push(l);
        }
    }
    let live = ipam::list(store)?;
    // veths of this store's bridge that no lease names.
    let mut nl = Netlink::open()?;
    if let Some(br) = link::find(&mut nl, &c.bridge)? {
        for l in link::list(&mut nl)? {
            if l.controller == Some(br.index) && !live.iter().any(|x| x.veth == l.name) {
                let _ = link::delete(&mut nl, &l.name);
            }
        }
    }
    loopback::localnet_locked(store, &c)?;
    nft::run(&nft::table(&c, &live))?;
    Ok(gone)
}

/// Restores cc's table with the elements of every live lease (after
/// someone flushed the ruleset, or a firewall reload).
pub fn reload(store: &Store) -> Result<Config> {
    let c = ensure(store, None)?;
    let _l = store.lock("net")?;
    loopback::localnet_locked(store, &c)?;
    nft::run(&nft::table(&c, &ipam::list(store)?))?;
    Ok(c)
}

/// Removes the store's bridge, table and config; refused while leases
/// are alive unless `force`.
pub fn destroy(store: &Store, force: bool) -> Result<()> {
    let Some(c) = config(store)? else {
        return Ok(());
    };
    let live: Vec<Lease> = ipam::list(store)?
        .into_iter()
        .filter(|l| !owner_gone(store, l))
        .collect();
    if !live.is_empty() && !force {
        return Err(Error::State(format!(
            "{} address(es) of {} are in use",
            live.len(),
            c.bridge
        )));
    }
    for l in ipam::list(store)? {
        undo(store, &c, &l);
    }
    // Under the machine's lock, and only what is ours: once our bridge is
    // gone another store may take its name (and its table's name).
    let _host = host_lock()?;
    let mut nl = Netlink::open()?;
    match link::find(&mut nl, &c.bridge)? {
        Some(l) if l.alias.as_deref() == Some(&owner_tag(store)) => {
            let _ = nft::drop_table(&c);
            link::delete(&mut nl, &c.bridge)?;
        }
        Some(_) => {}
        None => drop(nft::drop_table(&c)),
    }
    let path = config_path(store);
    fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))
}

/// `cc-net attach`: gives the network namespace of any process a veth on
/// the bridge and an address. The lease lives as long as the process.
pub fn attach_pid(store: &Store, pid: i32, want: Option<Ipv4Addr>) -> Result<Lease> {
    let ns = |p: &str| fs::read_link(format!("/proc/{p}/ns/net")).ok();
    match ns(&pid.to_string()) {
        None => return Err(Error::not_found("process", pid.to_string())),
        Some(n) if Some(&n) == ns("self").as_ref() => {
            return Err(Error::State(format!(
                "process {pid} is in the host's network namespace: give it one of its own"
            )))
        }
        Some(_) => {}
    }
    let start = pid_start_time(pid).unwrap_or(0);
    let owner = format!("pid:{pid}:{start}");
    let mut a = prepare(store, &owner, &veth_name(None, pid), want, &[], false)?;
    match connect_bridge(store, &mut a, pid) {
        Ok(()) => Ok(a.lease),
        Err(e) => {
            release_bridge(store, a);
            Err(e)
        }
    }
}

/// `cc-net detach`: undoes `attach` for a process, or whatever holds an
/// address.
pub fn detach(store: &Store, pid: Option<i32>, ip: Option<Ipv4Addr>) -> Result<()> {
    let c = config(store)?
        .ok_or_else(|| Error::not_found("network of the store", "net/config.json"))?;
    let lease = ipam::list(store)?
        .into_iter()
        .find(|l| Some(l.pid) == pid || Some(l.ip) == ip)
        .ok_or_else(|| match (pid, ip) {
            (Some(p), _) => Error::not_found("lease of process", p.to_string()),
            (_, ip) => Error::not_found("lease", ip.map(|i| i.to_string()).unwrap_or_default()),
        })?;
    undo(store, &c, &lease);
    Ok(())
}

/// Host veths of the store's bridge, for `ls`.
pub fn interfaces(store: &Store) -> Result<Vec<link::Link>> {
    let Some(c) = config(store)? else {
        return Ok(vec![]);
    };
    let mut nl = Netlink::open()?;
    let Some(br) = link::find(&mut nl, &c.bridge)? else {
        return Ok(vec![]);
    };
    Ok(link::list(&mut nl)?
        .into_iter()
        .filter(|l| l.controller == Some(br.index))
        .collect())
}

/// The host name of a veth for an owner: `cc` and 12 hex digits of a
/// container id, or `ccp` and a pid (at most 15 characters).
pub fn veth_name(container_id: Option<&str>, pid: i32) -> String {
    match container_id {
        Some(id) => format!("cc{}", store::short_id(id)),
        None => format!("ccp{pid}"),
    }
}

/// What a container's monitor does before it clones the container, by
/// its network mode: for `bridge` the bridge, the host ports and an
/// address (and /etc/hosts with that address); for `container:ID` it joins
/// that container's namespace, which the clone then inherits.
pub fn for_container(store: &Store, c: &Container) -> Result<Option<Attachment>> {
    let mode = c.annotation(ANN_NET).unwrap_or("none");
    if let Some(query) = mode.strip_prefix("container:") {
        let other = crate::container::resolve(store, query)?;
        let pid = other
            .state
            .derived()
            .pid
            .filter(|_| other.status() == crate::container::Status::Running)
            .ok_or_else(|| {
                Error::State(format!(
                    "cannot share the network of container '{}': it is not running",
                    other.name()
                ))
            })?;
        join(pid)?;
        return Ok(None);
    }
    let Some(host_loopback) = user::stack_mode(mode) else {
        return Ok(None);
    };
    let specs = port_specs(c.annotation(ANN_PORTS).unwrap_or(""))?;
    let hostname = c.spec.hostname.as_deref().unwrap_or("");
    let write_hosts = |addr, gateway| {
        let hosts = hosts_file(addr, hostname, c, Some(gateway));
        store::write_volatile(&c.dir.join("hosts"), hosts.as_bytes())
    };
    if crate::rootless::active() {
        write_hosts(user::ADDRESS, user::GATEWAY)?;
        return Ok(Some(Attachment::User {
            pending: user::prepare(c, specs, host_loopback),
            stack: None,
        }));
    }
    let a = prepare(store, &c.id, &veth_name(Some(&c.id), 0), None, &specs, true)?;
    if let Err(e) = write_hosts(a.lease.ip, a.config.subnet.gateway()) {
        release_bridge(store, a);
        return Err(e);
    }
    Ok(Some(Attachment::Bridge(a)))
}

/// Joins the network namespace of a running process: the monitor does
/// this before it clones a `--net container:ID` container, which then
/// shares that namespace.
pub fn join(pid: i32) -> Result<()> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
    nix::sched::setns(
        std::os::fd::AsFd::as_fd(&ns),
        nix::sched::CloneFlags::CLONE_NEWNET,
    )
    .map_err(|e| Error::io("enter the network namespace", &path, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let s: Subnet = "10.66.3.4/16".parse().unwrap();
        assert_eq!(s.to_string(), "10.66.0.0/16");
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 66, 0, 1));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 66, 255, 255));
        assert!(s.contains(Ipv4Addr::new(10, 66, 200, 1)));
        assert!(!s.contains(Ipv4Addr::new(10, 67, 0, 1)));
        assert!(s.overlaps(&"10.0.0.0/8".parse().unwrap()));
        assert!(!s.overlaps(&"10.88.0.0/16".parse().unwrap()));
        assert!("10.0.0.0/31".parse::<Subnet>().is_err());
    }
}
