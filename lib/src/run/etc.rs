//! The files cc generates for a container and binds over the image's:
//! /etc/hostname, /etc/hosts, /etc/resolv.conf. They live in the
//! container's folder, so a person can read what the container sees.

use crate::container::Container;
use crate::error::Result;
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

pub fn write(c: &mut Container, net: &Net) -> Result<()> {
    let hostname = match c.spec.hostname.as_deref() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => short_id(&c.id).to_string(),
    };
    c.spec.hostname = Some(hostname.clone());
    let hosts = match net {
        Net::Host => std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
        // With a bridge the monitor writes the leased address over
        // 127.0.1.1 before the container starts.
        _ => crate::net::hosts_file(std::net::Ipv4Addr::new(127, 0, 1, 1), &hostname, c.name()),
    };
    let resolv = resolv_conf(
        &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        net,
    );
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
/// when none is left, public ones are put in (as docker does).
fn resolv_conf(host: &str, net: &Net) -> String {
    if *net == Net::Host {
        return host.to_string();
    }
    let kept: String = host
        .lines()
        .filter(|l| {
            let mut w = l.split_whitespace();
            !(w.next() == Some("nameserver")
                && w.next()
                    .is_some_and(|a| a.starts_with("127.") || a == "::1"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    if *net == Net::Bridge && !kept.lines().any(|l| l.starts_with("nameserver")) {
        return kept + "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_nameservers_are_dropped() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver ::1\n";
        assert_eq!(
            resolv_conf(host, &Net::None),
            "search lan\nnameserver 10.1.1.1\n"
        );
        assert_eq!(resolv_conf(host, &Net::Host), host);
        assert_eq!(
            resolv_conf("nameserver 127.0.0.53\n", &Net::Bridge),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }
}
