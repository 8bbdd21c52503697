//! The files cc generates for a container and binds over the image's:
//! /etc/hostname, /etc/hosts, /etc/resolv.conf. They live in the
//! container's folder, so a person can read what the container sees.

use std::net::{IpAddr, Ipv4Addr};

use crate::container::Container;
use crate::error::{Error, Result};
use crate::run::Net;
use crate::spec::Mount;
use crate::store::{self, short_id};

/// `HOSTNAME` in the command's environment, after PATH, as docker sets
/// it (unless the image or `-e` set one). Not for bundles: their
/// environment is the spec's.
pub fn hostname_env(c: &mut Container) {
    let Some(h) = c.spec.hostname.clone() else {
        return;
    };
    if let Some(p) = c.spec.process.as_mut() {
        if !p.env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            let at = usize::from(p.env.first().is_some_and(|e| e.starts_with("PATH=")));
            p.env.insert(at, format!("HOSTNAME={h}"));
        }
    }
}

/// Writes the three files and binds them, unless the spec mounts its own.
pub fn write(c: &mut Container, net: &Net, dns: &Dns) -> Result<()> {
    let hostname = match c.spec.hostname.as_deref() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => short_id(&c.id).to_string(),
    };
    c.spec.hostname = Some(hostname.clone());
    let hosts = match net {
        Net::Host => {
            std::fs::read_to_string("/etc/hosts").unwrap_or_default()
                + &crate::net::extra_hosts(c, None)
        }
        // With a bridge the monitor writes the leased address over
        // 127.0.1.1 (and the gateway for host-gateway) before the
        // container starts.
        _ => crate::net::hosts_file(Ipv4Addr::new(127, 0, 1, 1), &hostname, c, None),
    };
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let resolv = dns.apply(&resolv_conf(&host, net, crate::rootless::active()));
    for (file, data) in [
        ("hostname", format!("{hostname}\n")),
        ("hosts", hosts),
        ("resolv.conf", resolv),
    ] {
        let path = c.dir.join(file);
        store::write_volatile(&path, data.as_bytes())?;
        let dest = format!("/etc/{file}");
        if !c.spec.mounts.iter().any(|m| m.destination == dest) {
            c.spec
                .mounts
                .push(Mount::new("bind", file, &dest, &["rbind", "rprivate"]));
        }
    }
    Ok(())
}

/// The host's resolv.conf; in a namespace of its own, loopback name
/// servers cannot be reached, so they are left out, and on the bridge,
/// when none is left, public ones are put in (as docker does). An ordinary
/// user's (`rootless`) default network has slirp4netns's name server,
/// which forwards to the host's first (a loopback one too), first, and
/// the host's others after it, as podman has them.
fn resolv_conf(host: &str, net: &Net, rootless: bool) -> String {
    if *net == Net::Host {
        return host.to_string();
    }
    let kept: Vec<&str> = host
        .lines()
        .filter(|l| {
            let mut w = l.split_whitespace();
            !(w.next() == Some("nameserver")
                && w.next()
                    .is_some_and(|a| a.starts_with("127.") || a == "::1"))
        })
        .collect();
    let is_server = |l: &&str| l.starts_with("nameserver");
    let mut lines: Vec<String> = kept.iter().map(|l| l.to_string()).collect();
    if net.own_stack() && rootless {
        let first = kept.iter().position(is_server).unwrap_or(kept.len());
        lines.insert(first, format!("nameserver {}", crate::net::user::DNS));
    } else if *net == Net::Bridge && !kept.iter().any(is_server) {
        lines.extend(["nameserver 8.8.8.8".into(), "nameserver 8.8.4.4".into()]);
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `--dns`, `--dns-search`, `--dns-option`: each, when given, replaces
/// the lines of its kind in the container's resolv.conf (docker's rule);
/// a search domain `.` means none.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    pub servers: Vec<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl Dns {
    /// Refuses what docker refuses: a server that is not an IP address,
    /// and any of them with another container's network, whose files
    /// these are not.
    pub fn check(&self, net: &Net) -> Result<()> {
        if let Some(s) = self.servers.iter().find(|s| s.parse::<IpAddr>().is_err()) {
            return Err(Error::Usage(format!(
                "invalid --dns '{s}': not an IP address"
            )));
        }
        let given = !(self.servers.is_empty() && self.search.is_empty() && self.options.is_empty());
        if given && matches!(net, Net::Container(_)) {
            return Err(Error::Usage(
                "conflicting options: --dns, --dns-search or --dns-option and --net container:ID"
                    .into(),
            ));
        }
        let bad = |w: &String| w.is_empty() || w.contains(char::is_whitespace);
        if let Some(w) = self.search.iter().chain(&self.options).find(|w| bad(w)) {
            return Err(Error::Usage(format!(
                "invalid DNS search domain or option '{w}'"
            )));
        }
        Ok(())
    }

    fn apply(&self, base: &str) -> String {
        let replaced = |l: &str| {
            let word = l.split_whitespace().next().unwrap_or("");
            (word == "nameserver" && !self.servers.is_empty())
                || (matches!(word, "search" | "domain") && !self.search.is_empty())
                || (word == "options" && !self.options.is_empty())
        };
        let mut out: String = base
            .lines()
            .filter(|l| !replaced(l))
            .map(|l| format!("{l}\n"))
            .collect();
        for s in &self.servers {
            out += &format!("nameserver {s}\n");
        }
        let search: Vec<&str> = self.search.iter().map(String::as_str).collect();
        if !search.is_empty() && !search.contains(&".") {
            out += &format!("search {}\n", search.join(" "));
        }
        if !self.options.is_empty() {
            out += &format!("options {}\n", self.options.join(" "));
        }
        out
    }
}

/// `--add-host NAME:ADDRESS` (or `NAME=ADDRESS`, docker 25) as the
/// record's `ADDRESS\tNAME` lines; `host-gateway` needs the bridge.
pub fn extra_hosts(flags: &[String], net: &Net) -> Result<Option<String>> {
    use crate::net::HOST_GATEWAY;
    if !flags.is_empty() && matches!(net, Net::Container(_)) {
        return Err(Error::Usage(
            "conflicting options: --add-host and --net container:ID".into(),
        ));
    }
    let mut lines = Vec::new();
    for f in flags {
        let bad = |why: &str| Error::Usage(format!("invalid --add-host '{f}': {why}"));
        let (name, addr) = f
            .split_once(['=', ':'])
            .filter(|(n, a)| !n.is_empty() && !a.is_empty())
            .ok_or_else(|| bad("expected NAME:ADDRESS"))?;
        if name.contains(|c: char| c.is_whitespace() || c == '#') {
            return Err(bad("not a host name"));
        }
        // docker writes [::1] forms without brackets.
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        if addr == HOST_GATEWAY && !net.own_stack() {
            return Err(bad(&format!(
                "host-gateway is the bridge's address, and --net {} has none",
                net.as_annotation()
            )));
        }
        if addr != HOST_GATEWAY && addr.parse::<IpAddr>().is_err() {
            return Err(bad(&format!("'{addr}' is not an IP address")));
        }
        lines.push(format!("{addr}\t{name}"));
    }
    Ok((!lines.is_empty()).then(|| lines.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_nameservers_are_dropped() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver ::1\n";
        assert_eq!(
            resolv_conf(host, &Net::None, false),
            "search lan\nnameserver 10.1.1.1\n"
        );
        assert_eq!(resolv_conf(host, &Net::Host, false), host);
        assert_eq!(
            resolv_conf("nameserver 127.0.0.53\n", &Net::Bridge, false),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn a_users_default_network_asks_slirp4netns_first() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 10.1.1.1\noptions ndots:2\n";
        assert_eq!(
            resolv_conf(host, &Net::Bridge, true),
            "search lan\nnameserver 10.0.2.3\nnameserver 10.1.1.1\noptions ndots:2\n"
        );
        assert_eq!(
            resolv_conf("nameserver 127.0.0.53\n", &Net::Bridge, true),
            "nameserver 10.0.2.3\n"
        );
        assert_eq!(
            resolv_conf("search lan\n", &Net::Bridge, true),
            "search lan\nnameserver 10.0.2.3\n"
        );
        assert_eq!(
            resolv_conf(host, &Net::None, true),
            "search lan\nnameserver 10.1.1.1\noptions ndots:2\n"
        );
    }

    #[test]
    fn dns_flags_replace_their_lines() {
        let base = "search lan\nnameserver 10.1.1.1\noptions ndots:2\n";
        let dns = Dns {
            servers: vec!["10.9.9.9".into()],
            search: vec!["a.example".into(), "b.example".into()],
            ..Default::default()
        };
        assert_eq!(
            dns.apply(base),
            "options ndots:2\nnameserver 10.9.9.9\nsearch a.example b.example\n"
        );
        let none = Dns {
            search: vec![".".into()],
            ..Default::default()
        };
        assert_eq!(none.apply(base), "nameserver 10.1.1.1\noptions ndots:2\n");
        assert!(Dns {
            servers: vec!["x".into()],
            ..Default::default()
        }
        .check(&Net::None)
        .is_err());
    }

    #[test]
    fn add_host_follows_docker() {
        let f = |v: &[&str], net: &Net| {
            extra_hosts(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), net)
        };
        assert_eq!(
            f(&["a:10.0.0.1", "b=::1", "gw:host-gateway"], &Net::Bridge)
                .unwrap()
                .unwrap(),
            "10.0.0.1\ta\n::1\tb\nhost-gateway\tgw"
        );
        assert_eq!(
            f(&["v6:2001:db8::1"], &Net::None).unwrap().unwrap(),
            "2001:db8::1\tv6"
        );
        for bad in ["nocolon", "a:notip", ":1.2.3.4"] {
            assert!(f(&[bad], &Net::Bridge).is_err(), "{bad}");
        }
        assert!(f(&["gw:host-gateway"], &Net::Host).is_err());
    }
}
