//! Published ports: `-p [HOSTIP:][HOSTPORT:]CTRPORT[/tcp|/udp]`, and the
//! sockets that hold a host port while its container runs. NAT alone
//! holds nothing, so clashes would go unnoticed (docker 13024): the
//! monitor binds each host port and keeps the socket until the container
//! ends. Traffic never reaches these sockets (DNAT sends it on first).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// What `-p` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: Ipv4Addr,
    /// 0: any free port.
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

/// A published port as recorded and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

impl Port {
    /// Whether both would forward the same host port: the same protocol
    /// and port, on the same address or on every address.
    pub fn clashes(&self, other: &Port) -> bool {
        self.proto == other.proto
            && self.host_port == other.host_port
            && (self.host_ip == other.host_ip
                || self.host_ip.is_unspecified()
                || other.host_ip.is_unspecified())
    }

    /// `80/tcp on 0.0.0.0:8080`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}/{} on {}:{}",
            self.container_port,
            self.proto.as_str(),
            self.host_ip,
            self.host_port
        )
    }
}

impl std::fmt::Display for Port {
    /// docker port's form: `80/tcp -> 0.0.0.0:49153`.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "{}/{} -> {}:{}",
            self.container_port,
            self.proto.as_str(),
            self.host_ip,
            self.host_port
        )
    }
}

impl std::str::FromStr for PortSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<PortSpec> {
        let bad = |why: &str| Error::Usage(format!("invalid port '{s}': {why}"));
        let (rest, proto) = match s.rsplit_once('/') {
            Some((r, "tcp")) => (r, Proto::Tcp),
            Some((r, "udp")) => (r, Proto::Udp),
            Some(_) => return Err(bad("the protocol must be tcp or udp")),
            None => (s, Proto::Tcp),
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let (ip, host, ctr) = match parts.as_slice() {
            [c] => ("", "", *c),
            [h, c] => ("", *h, *c),
            [i, h, c] => (*i, *h, *c),
            _ => return Err(bad("expected [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp]")),
        };
        let port = |p: &str, what: &str| -> Result<u16> {
            p.parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(&format!("{what} must be a number from 1 to 65535")))
        };
        Ok(PortSpec {
            host_ip: if ip.is_empty() {
                Ipv4Addr::UNSPECIFIED
            } else {
                ip.parse()
                    .map_err(|_| bad("the host address must be an IPv4 address"))?
            },
            host_port: if host.is_empty() {
                0
            } else {
                port(host, "the host port")?
            },
            container_port: port(ctr, "the container port")?,
            proto,
        })
    }
}

/// A socket that holds a host port.
pub enum Reservation {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// Binds every requested host port (a free one where none was given).
/// A port in use is a clear error, before the container starts.
pub fn reserve(specs: &[PortSpec]) -> Result<(Vec<Port>, Vec<Reservation>)> {
    let mut ports = Vec::new();
    let mut held = Vec::new();
    for s in specs {
        let addr = SocketAddrV4::new(s.host_ip, s.host_port);
        let busy = |e: std::io::Error| {
            Error::State(format!(
                "cannot publish port {}/{} on {addr}: {}",
                s.container_port,
                s.proto.as_str(),
                crate::error::Os(&e)
            ))
        };
        let (r, port) = match s.proto {
            Proto::Tcp => {
                let l = TcpListener::bind(addr).map_err(busy)?;
                let p = l.local_addr().map_err(busy)?.port();
                (Reservation::Tcp(l), p)
            }
            Proto::Udp => {
                let u = UdpSocket::bind(addr).map_err(busy)?;
                let p = u.local_addr().map_err(busy)?.port();
                (Reservation::Udp(u), p)
            }
        };
        held.push(r);
        ports.push(Port {
            host_ip: s.host_ip,
            host_port: port,
            container_port: s.container_port,
            proto: s.proto,
        });
    }
    Ok((ports, held))
}

/// `-P`: the image's ExposedPorts keys (`80/tcp`, `53/udp`, `8080`), each
/// published on a free host port of every address.
pub fn exposed(keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| {
            k.split('/')
                .next()
                .is_some_and(|p| p.parse::<u16>().is_ok())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forms() {
        let p: PortSpec = "8080:80".parse().unwrap();
        assert_eq!(
            (p.host_port, p.container_port, p.proto),
            (8080, 80, Proto::Tcp)
        );
        let p: PortSpec = "127.0.0.1:5353:53/udp".parse().unwrap();
        assert_eq!(p.host_ip, Ipv4Addr::LOCALHOST);
        assert_eq!(p.proto, Proto::Udp);
        let p: PortSpec = "4444".parse().unwrap();
        assert_eq!((p.host_port, p.container_port), (0, 4444));
        let p: PortSpec = "127.0.0.1::80".parse().unwrap();
        assert_eq!((p.host_port, p.container_port), (0, 80));
        for bad in ["0", "80/sctp", "a:b", "1:2:3:4", "70000", "x.y::80"] {
            assert_eq!(bad.parse::<PortSpec>().unwrap_err().code(), 2, "{bad}");
        }
    }
}
