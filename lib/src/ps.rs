//! What cc-ps lists: docker's `--filter`s over container records, and the
//! PORTS column. Filters of one key are alternatives, filters of
//! different keys must all hold, as docker has it.

use std::collections::BTreeMap;

use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::image;
use crate::net::{self, ipam};
use crate::store::Store;

/// Parsed `--filter KEY=VALUE`s.
#[derive(Debug, Default)]
pub struct Filters(BTreeMap<String, Vec<String>>);

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
        let mut f = Filters::default();
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("invalid filter '{a}': use KEY=VALUE")))?;
            if !KEYS.contains(&k) {
                return Err(Error::Usage(format!(
                    "invalid filter '{k}': one of {}",
                    KEYS.join(", ")
                )));
            }
            let bad = match k {
                "status" => !STATUSES.contains(&v),
                "exited" => v.parse::<i32>().is_err(),
                "health" => !["starting", "healthy", "unhealthy", "none"].contains(&v),
                _ => false,
            };
            if bad {
                return Err(Error::Usage(format!("invalid filter '{a}'")));
            }
            f.0.entry(k.to_string()).or_default().push(v.to_string());
        }
        Ok(f)
    }

    /// Whether the filters make `cc-ps` list stopped containers too
    /// (docker: `status` and `exited` look at all).
    pub fn wants_all(&self) -> bool {
        self.0.contains_key("status") || self.0.contains_key("exited")
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
        self.0.get(key).into_iter().flatten().map(String::as_str)
    }

    /// True when no filter has this key, or one of its values holds.
    fn any(&self, key: &str, f: impl Fn(&str) -> bool) -> bool {
        match self.0.get(key) {
            None => true,
            Some(vs) => vs.iter().any(|v| f(v)),
        }
    }
}

fn has_label(c: &Container, want: &str) -> bool {
    let labels = c.labels();
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(want),
    }
}

/// docker's status words: created, running, exited.
pub fn status_word(c: &Container) -> &'static str {
    match c.state.derived().status {
        Status::Created => "created",
        Status::Running => "running",
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
