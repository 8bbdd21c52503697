//! What cc-ps lists: docker's `--filter`s over container records, and the
//! PORTS column. Filters of one key are alternatives, filters of
//! different keys must all hold, as docker has it.

use std::collections::BTreeMap;

use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::filter;
use crate::image;
use crate::net::{self, ipam};
use crate::store::Store;

/// cc-ps's `--filter`s.
pub struct Filters(filter::Filters);

const KEYS: &[&str] = &[
    "id", "name", "label", "status", "exited", "ancestor", "before", "since", "volume", "network",
    "health",
];
const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

impl Filters {
    pub fn parse(args: &[String]) -> Result<Filters> {
        let f = filter::Filters::parse(args, KEYS)?;
        let bad = |key: &str, ok: &dyn Fn(&str) -> bool| {
            f.values(key).find(|v| !ok(v)).map(|v| format!("{key}={v}"))
        };
        let bad = bad("status", &|v| STATUSES.contains(&v))
            .or_else(|| bad("exited", &|v| v.parse::<i32>().is_ok()))
            .or_else(|| {
                bad("health", &|v| {
                    ["starting", "healthy", "unhealthy", "none"].contains(&v)
                })
            });
        match bad {
            Some(b) => Err(Error::Usage(format!("invalid filter '{b}'"))),
            None => Ok(Filters(f)),
        }
    }

    /// Whether the filters make `cc-ps` list stopped containers too
    /// (docker: `status` and `exited` look at all).
    pub fn wants_all(&self) -> bool {
        self.0.has("status") || self.0.has("exited")
    }

    /// Keeps the containers every filter lets through. Images and
    /// containers the filters name must exist.
    pub fn apply(&self, store: &Store, list: Vec<Container>) -> Result<Vec<Container>> {
        let mut ancestors = Vec::new();
        for a in self.values("ancestor") {
            let img = image::resolve(store, a)?;
            ancestors.push(img.id);
        }
        let created = |q: &str| container::resolve(store, q).map(|c| c.state.created);
        let before = self
            .values("before")
            .map(created)
            .collect::<Result<Vec<_>>>()?;
        let since = self
            .values("since")
            .map(created)
            .collect::<Result<Vec<_>>>()?;
        Ok(list
            .into_iter()
            .filter(|c| {
                self.any("id", |v| c.id.starts_with(v))
                    && self.any("name", |v| c.name().contains(v))
                    && self.any("label", |v| has_label(c, v))
                    && self.any("status", |v| status_word(c) == v)
                    && self.any("exited", |v| exited_with(c, v))
                    && self.any("ancestor", |_| {
                        c.image().is_some_and(|i| ancestors.iter().any(|a| a == i))
                    })
                    && before.iter().all(|t| c.state.created < *t)
                    && since.iter().all(|t| c.state.created > *t)
                    && self.any("volume", |v| {
                        c.spec
                            .mounts
                            .iter()
                            .any(|m| {
                                m.kind.as_deref() == Some("bind")
                                    && !m.destination.starts_with("/etc/")
                                    && (m.destination == v || m.source.as_deref() == Some(v))
                            })
                    })
                    && self.any("network", |v| {
                        c.annotation(net::ANN_NET).unwrap_or("none") == v
                    })
                    // cc has no health checks: every container's health is none.
                    && self.any("health", |v| v == "none")
            })
            .collect())
    }

    fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.values(key)
    }

    fn any(&self, key: &str, f: impl Fn(&str) -> bool) -> bool {
        self.0.any(key, f)
    }
}

fn has_label(c: &Container, want: &str) -> bool {
    filter::label_matches(&c.labels(), want)
}

/// docker's status words: created, running, paused, exited.
pub fn status_word(c: &Container) -> &'static str {
    match c.state.derived().status {
        Status::Created => "created",
        Status::Running if c.paused() => "paused",
        Status::Running => "running",
        Status::Exited if c.state.derived().restarting => "restarting",
        Status::Exited => "exited",
    }
}

fn exited_with(c: &Container, code: &str) -> bool {
    let s = c.state.derived();
    s.status == Status::Exited && s.exit_code.map(|e| e.to_string()).as_deref() == Some(code)
}

/// The PORTS column of each container, by id: docker's
/// `0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`.
pub fn ports_by_id(store: &Store) -> BTreeMap<String, String> {
    let Ok(leases) = ipam::list(store) else {
        return BTreeMap::new();
    };
    leases
        .into_iter()
        .map(|l| {
            let shown: Vec<String> = l
                .ports
                .iter()
                .map(|p| {
                    format!(
                        "{}:{}->{}/{}",
                        p.host_ip,
                        p.host_port,
                        p.container_port,
                        p.proto.as_str()
                    )
                })
                .collect();
            (l.owner, shown.join(", "))
        })
        .collect()
}
