//! Addresses on the bridge's subnet. A lease is a file `net/leases/<ip>`
//! holding the record of whoever has the address (a container, or a
//! process given a veth by `cc-net attach`). Leases are taken under the
//! store's `net` lock, created with O_EXCL, and those of a previous boot
//! are reclaimed the first time the network is used in a new boot
//! (podman 19583: leases that outlive a reboot leak addresses).

use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ports::Port;
use super::Subnet;
use crate::error::{Error, Result};
use crate::store::{self, Store};

/// What a lease records: enough to undo everything it stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lease {
    #[serde(rename = "IPAddress")]
    pub ip: Ipv4Addr,
    /// A container id, or `pid:<pid>:<start time>` for `cc-net attach`.
    pub owner: String,
    pub boot: String,
    /// The host's end of the veth pair.
    pub veth: String,
    pub mac: String,
    pub gateway: Ipv4Addr,
    pub prefix_len: u8,
    /// The process whose namespace has the veth, once it is connected
    /// (0 before), with its start time: a lease lives as long as it does.
    #[serde(default)]
    pub pid: i32,
    #[serde(default)]
    pub pid_start: Option<u64>,
    #[serde(default)]
    pub ports: Vec<Port>,
    /// A container's monitor, which holds the lease, with its start time:
    /// once it is gone so is the container (PDEATHSIG), even while its
    /// process lingers as a zombie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_start: Option<u64>,
}

pub fn leases_dir(store: &Store) -> PathBuf {
    store.root().join("net/leases")
}

/// Every lease on record; unreadable ones (being written) are skipped.
pub fn list(store: &Store) -> Result<Vec<Lease>> {
    let dir = leases_dir(store);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(Error::io("read", &dir, e)),
    };
    let mut out: Vec<Lease> = rd
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    out.sort_by_key(|l: &Lease| u32::from(l.ip));
    Ok(out)
}

/// The lease of `owner`, if it has one.
pub fn find(store: &Store, owner: &str) -> Result<Option<Lease>> {
    Ok(list(store)?.into_iter().find(|l| l.owner == owner))
}

/// Takes the lowest free address of `subnet` (or `want`) for `lease`,
/// whose `ip` is filled in. Caller holds the `net` lock.
pub fn take(
    store: &Store,
    subnet: &Subnet,
    want: Option<Ipv4Addr>,
    lease: &mut Lease,
) -> Result<()> {
    let dir = leases_dir(store);
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    reclaim_previous_boot(store, &dir, &lease.boot)?;
    let taken: std::collections::BTreeSet<u32> = fs::read_dir(&dir)
        .map_err(|e| Error::io("read", &dir, e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<Ipv4Addr>().ok())
        .map(u32::from)
        .collect();
    let candidates: Box<dyn Iterator<Item = u32>> = match want {
        Some(ip)
            if !subnet.contains(ip)
                || [subnet.addr, subnet.gateway(), subnet.broadcast()].contains(&ip) =>
        {
            return Err(Error::Usage(format!(
                "address {ip} is not a host address of {subnet}"
            )))
        }
        Some(ip) => Box::new(std::iter::once(u32::from(ip))),
        None => Box::new(u32::from(subnet.gateway()) + 1..u32::from(subnet.broadcast())),
    };
    for ip in candidates.filter(|ip| !taken.contains(ip)) {
        lease.ip = Ipv4Addr::from(ip);
        lease.mac = mac_of(lease.ip);
        let data = serde_json::to_vec(lease).map_err(Error::internal)?;
        if create_excl(&dir.join(lease.ip.to_string()), &data)? {
            return Ok(());
        }
    }
    Err(match want {
        Some(ip) => Error::State(format!("address {ip} is already leased")),
        None => Error::State(format!("no free address left in {subnet}")),
    })
}

/// Rewrites a lease (its ports are known after the address).
pub fn update(store: &Store, lease: &Lease) -> Result<()> {
    let data = serde_json::to_vec(lease).map_err(Error::internal)?;
    store::write_volatile(&leases_dir(store).join(lease.ip.to_string()), &data)
}

/// Gives an address back; an absent lease is not an error.
pub fn release(store: &Store, ip: Ipv4Addr, owner: &str) -> Result<()> {
    let path = leases_dir(store).join(ip.to_string());
    // Only our own: the address may already belong to someone else.
    let mine = fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Lease>(&b).ok())
        .is_some_and(|l| l.owner == owner);
    if mine {
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("remove", &path, e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Leases are volatile facts of one boot: no fsync, but O_EXCL so two
/// takers never share an address.
fn create_excl(path: &Path, data: &[u8]) -> Result<bool> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(data).map_err(|e| Error::io("write", path, e))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("create", path, e)),
    }
}

/// Once per boot: drops every lease taken in an earlier boot.
fn reclaim_previous_boot(store: &Store, dir: &Path, boot: &str) -> Result<()> {
    let marker = store.root().join("net/boot");
    if fs::read_to_string(&marker).is_ok_and(|b| b.trim() == boot) {
        return Ok(());
    }
    for e in fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .flatten()
    {
        let stale = fs::read(e.path())
            .ok()
            .and_then(|b| serde_json::from_slice::<Lease>(&b).ok())
            .is_none_or(|l| l.boot != boot);
        if stale {
            let _ = fs::remove_file(e.path());
        }
    }
    store::write_atomic(&marker, format!("{boot}\n").as_bytes())
}

/// docker's rule: 02:42 then the four bytes of the address, so a reused
/// address keeps its MAC and no neighbour cache goes stale.
pub fn mac_of(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

pub fn mac_bytes(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}
