use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::error::Error;
use cc_lib::net::{self, Proto};
use cc_lib::{container, Result};
use clap::{CommandFactory, Parser};

/// Show a container's published ports, as `docker port` does:
/// `80/tcp -> 0.0.0.0:49153` for each, or only `0.0.0.0:49153` when one
/// port is asked for.
#[derive(Debug, Parser)]
#[command(name = "cc-port", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The container: a name, an id or a unique id prefix
    pub container: String,
    /// Only this container port (tcp unless /udp is given)
    #[arg(value_name = "PORT[/PROTO]")]
    pub port: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let ports = net::published(&store, &c)?;
    let Some(want) = &a.port else {
        for p in &ports {
            println!("{p}");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (num, proto) = match want.split_once('/') {
        None => (want.as_str(), Proto::Tcp),
        Some((n, "tcp")) => (n, Proto::Tcp),
        Some((n, "udp")) => (n, Proto::Udp),
        Some(_) => return Err(Error::Usage(format!("invalid port '{want}': tcp or udp"))),
    };
    let num: u16 = num
        .parse()
        .map_err(|_| Error::Usage(format!("invalid port '{want}'")))?;
    let found: Vec<_> = ports
        .iter()
        .filter(|p| p.container_port == num && p.proto == proto)
        .collect();
    if found.is_empty() {
        return Err(Error::not_found(
            "published port",
            format!("{num}/{}", proto.as_str()),
        ));
    }
    for p in found {
        println!("{}:{}", p.host_ip, p.host_port);
    }
    Ok(ExitCode::SUCCESS)
}
