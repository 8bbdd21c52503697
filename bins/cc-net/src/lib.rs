use std::net::Ipv4Addr;
use std::process::ExitCode;

use cc_lib::cli::{print_table, Format, StoreOpts};
use cc_lib::error::Error;
use cc_lib::net::{self, Lease, Subnet};
use cc_lib::store::{short_id, Store};
use cc_lib::template::Columns;
use cc_lib::Result;
use clap::{CommandFactory, Parser, Subcommand};

/// Bridge networking step by step, and its repair: give a process's
/// network namespace a veth and an address on the store's bridge, list
/// leases, remove what dead containers left, restore cc's nftables table.
#[derive(Debug, Parser)]
#[command(name = "cc-net", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Give the network namespace of process PID a veth (eth0 inside) and
    /// an address on the bridge; prints the address
    Attach {
        /// The process (in a network namespace of its own)
        #[arg(long)]
        pid: i32,
        /// This address instead of the lowest free one
        #[arg(long, value_name = "ADDR")]
        ip: Option<Ipv4Addr>,
    },
    /// Undo `attach`: remove the veth and give the address back
    Detach {
        /// The process given to `attach`
        #[arg(long, conflicts_with = "address")]
        pid: Option<i32>,
        /// Or the address it got
        #[arg(required_unless_present = "pid")]
        address: Option<Ipv4Addr>,
    },
    /// List leases: address, owner, host veth, published ports, status
    Ls {
        /// `table` for people, `json` for one object per line, or a Go
        /// template over those objects: `{{.IPAddress}} {{.Owner}}`
        #[arg(long, default_value = "table", value_name = "FORMAT")]
        format: Format,
    },
    /// Remove leases, veths and NAT elements whose process is gone;
    /// prints the addresses freed
    Gc,
    /// Restore cc's nftables table (after a flush or a firewall reload)
    Reload,
    /// Create the bridge now, with this subnet (only before first use)
    Init {
        /// An IPv4 subnet, e.g. 10.66.0.0/16 (default: a free /16 in 10/8)
        #[arg(long, value_name = "CIDR")]
        subnet: Option<Subnet>,
    },
    /// Remove the store's bridge, its nftables table and net/config.json
    Destroy {
        /// Even with addresses in use (their veths go too)
        #[arg(short, long)]
        force: bool,
    },
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    match a.cmd {
        Cmd::Attach { pid, ip } => {
            let l = net::attach_pid(&store, pid, ip)?;
            println!("{}", l.ip);
        }
        Cmd::Detach { pid, address } => net::detach(&store, pid, address)?,
        Cmd::Ls { format } => ls(&store, &format)?,
        Cmd::Gc => {
            for l in net::gc(&store)? {
                println!("{}", l.ip);
            }
        }
        Cmd::Reload => {
            net::reload(&store)?;
        }
        Cmd::Init { subnet } => {
            if let (Some(s), Some(c)) = (subnet, net::config(&store)?) {
                if s != c.subnet {
                    return Err(Error::State(format!(
                        "the network of this store is already {} on {}",
                        c.subnet, c.bridge
                    )));
                }
            }
            let c = net::ensure(&store, subnet)?;
            println!("{} {}", c.bridge, c.subnet);
        }
        Cmd::Destroy { force } => net::destroy(&store, force)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn owner(l: &Lease) -> String {
    match l.owner.strip_prefix("pid:") {
        Some(rest) => format!("pid {}", rest.split(':').next().unwrap_or("")),
        None => short_id(&l.owner).to_string(),
    }
}

/// `ls --format`'s fields: the lease as `--format json` prints it.
const LS_COLUMNS: Columns = Columns {
    fields: &[
        ("IPAddress", "IP ADDRESS"),
        ("Owner", "OWNER"),
        ("Boot", "BOOT"),
        ("Veth", "VETH"),
        ("Mac", "MAC"),
        ("Gateway", "GATEWAY"),
        ("PrefixLen", "PREFIX LEN"),
        ("Pid", "PID"),
        ("PidStart", "PID START"),
        ("Ports", "PORTS"),
        ("Alive", "ALIVE"),
        ("Interface", "INTERFACE"),
    ],
    table: "",
};

fn ls(store: &Store, format: &Format) -> Result<()> {
    let leases = net::ipam::list(store)?;
    let links = net::interfaces(store)?;
    if *format != Format::Table {
        let mut rows = Vec::new();
        for l in &leases {
            let mut v = serde_json::to_value(l).map_err(Error::internal)?;
            v["Alive"] = (!net::owner_gone(store, l)).into();
            v["Interface"] = links.iter().any(|i| i.name == l.veth).into();
            rows.push(v);
        }
        return format.print(&LS_COLUMNS, &rows);
    }
    let mut rows: Vec<Vec<String>> = leases
        .iter()
        .map(|l| {
            let ports: Vec<String> = l.ports.iter().map(|p| p.to_string()).collect();
            let veth = if links.iter().any(|i| i.name == l.veth) {
                l.veth.clone()
            } else {
                format!("({})", l.veth)
            };
            vec![
                format!("{}/{}", l.ip, l.prefix_len),
                owner(l),
                veth,
                if ports.is_empty() {
                    "-".into()
                } else {
                    ports.join(", ")
                },
                if !net::owner_gone(store, l) {
                    "alive"
                } else {
                    "stale"
                }
                .into(),
            ]
        })
        .collect();
    // Interfaces on the bridge that no lease accounts for.
    for i in links
        .iter()
        .filter(|i| !leases.iter().any(|l| l.veth == i.name))
    {
        rows.push(vec![
            "-".into(),
            "-".into(),
            i.name.clone(),
            "-".into(),
            "stray".into(),
        ]);
    }
    print_table(&["ADDRESS", "OWNER", "VETH", "PORTS", "STATUS"], &rows);
    Ok(())
}
