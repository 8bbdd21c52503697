//! What cc-ps lists: docker's `--filter`s over container records, and the
//! PORTS and SIZE columns, and each container's row for `--format`.
//! Filters of one key are alternatives, filters of
//! different keys must all hold, as docker has it.

use std::collections::{BTreeMap, HashMap};

use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::filter;
use crate::image;
use crate::net;
use crate::store::Store;
use crate::template::Columns;
use crate::time;

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
                        user_binds(c).any(|m| m.destination == v || m.source.as_deref() == Some(v))
                            || crate::volume::mounts::uses(c).iter().any(|u| u.name == v)
                    })
                    && self.any("network", |v| {
                        c.annotation(net::ANN_NET).unwrap_or("none") == v
                    })
                    && self.any("health", |v| crate::health::status_word(c) == v)
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
    net::published_by_id(store)
        .into_iter()
        .map(|(id, ports)| {
            let shown: Vec<String> = ports
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
            (id, shown.join(", "))
        })
        .collect()
}

/// cc-ps's `--format` fields: docker's names and headers, then cc's own.
pub const COLUMNS: Columns = Columns {
    fields: &[
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("State", "STATE"),
        ("Status", "STATUS"),
        ("Size", "SIZE"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
        ("Networks", "NETWORKS"),
        ("LocalVolumes", "LOCAL VOLUMES"),
        ("ExitCode", "EXIT CODE"),
        ("Pid", "PID"),
        ("StartedAt", "STARTED AT"),
        ("FinishedAt", "FINISHED AT"),
    ],
    table:
        "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
};

/// `cc-ps -s`'s default table: SIZE last, as docker's.
pub const COLUMNS_SIZE: Columns = Columns {
    fields: COLUMNS.fields,
    table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}",
};

/// One container as docker's `ps --format` sees it (`COLUMNS`); `size`
/// is the SIZE text (docker's `0B` when sizes were not asked for).
pub fn row(c: &Container, ports: &str, size: &str, no_trunc: bool) -> serde_json::Value {
    let s = c.state.derived();
    let cut = |text: String, n: usize| match no_trunc || text.chars().count() <= n {
        true => text,
        false => text.chars().take(n - 1).collect::<String>() + "…",
    };
    let id = match no_trunc {
        true => c.id.clone(),
        false => crate::store::short_id(&c.id).to_string(),
    };
    // docker's MOUNTS: a volume by its name, a bind by its source.
    let volumes = crate::volume::mounts::uses(c);
    let mounts: Vec<String> = user_binds(c)
        .filter_map(
            |m| match volumes.iter().find(|u| u.destination == m.destination) {
                Some(u) => Some(u.name.clone()),
                None => m.source.clone(),
            },
        )
        .map(|src| cut(src, 15))
        .collect();
    let labels: Vec<String> = c.labels().iter().map(|(k, v)| format!("{k}={v}")).collect();
    let ago = |t: &str| time::parse_rfc3339(t).map(time::ago).unwrap_or_default();
    serde_json::json!({
        "ID": id,
        "Image": c.image_shown(),
        "Command": format!("\"{}\"", cut(command_line(c), 30)),
        "CreatedAt": time::docker_time(&c.state.created),
        "RunningFor": ago(&c.state.created),
        "Ports": ports,
        "State": status_word(c),
        "Status": status_text(c),
        "Size": size,
        "Names": c.name(),
        "Labels": labels.join(","),
        "Mounts": mounts.join(","),
        "Networks": c.annotation(net::ANN_NET).unwrap_or("none"),
        "LocalVolumes": volumes.len().to_string(),
        "ExitCode": s.exit_code,
        "Pid": s.pid,
        "StartedAt": s.started_at,
        "FinishedAt": s.finished_at,
    })
}

/// The binds a user asked for (not cc's own /etc files).
fn user_binds(c: &Container) -> impl Iterator<Item = &crate::spec::Mount> {
    c.spec
        .mounts
        .iter()
        .filter(|m| m.kind.as_deref() == Some("bind") && !m.destination.starts_with("/etc/"))
}

fn command_line(c: &Container) -> String {
    c.spec
        .process
        .as_ref()
        .map(|p| p.args.join(" "))
        .unwrap_or_default()
}

/// `Up 5 seconds`, `Up 5 seconds (Paused)`, `Up 5 seconds (healthy)`,
/// `Up 5 seconds (health: starting)`, `Restarting (1) 1 second ago`,
/// `Exited (0) 3 minutes ago`, `Exited (unknown)`, `Created`.
pub fn status_text(c: &Container) -> String {
    let s = c.state.derived();
    let since = |t: &Option<String>| {
        t.as_deref()
            .and_then(time::parse_rfc3339)
            .map(time::ago)
            .unwrap_or_default()
    };
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => {
            let up = format!("Up {}", since(&s.started_at).trim_end_matches(" ago"));
            match (c.paused(), crate::health::shown(c)) {
                (true, _) => up + " (Paused)",
                (false, Some(h)) if h.status == crate::health::Status::Starting => {
                    up + " (health: starting)"
                }
                (false, Some(h)) => format!("{up} ({})", h.status.as_str()),
                (false, None) => up,
            }
        }
        Status::Exited if s.restarting => format!(
            "Restarting ({}) {}",
            s.exit_code.unwrap_or(-1),
            since(&s.finished_at)
        ),
        Status::Exited => match s.exit_code {
            Some(code) => format!("Exited ({code}) {}", since(&s.finished_at)),
            None => "Exited (unknown)".into(),
        },
    }
}

/// The SIZE column of `cc-ps -s` (docker's `SizeRw` and `SizeRootFs`): the
/// bytes a container wrote (its upper folder, counted as `tree::size`
/// counts) and those plus its image's layers, each layer's size read once.
pub struct Sizes<'a> {
    store: &'a Store,
    layers: HashMap<String, u64>,
}

impl<'a> Sizes<'a> {
    pub fn new(store: &'a Store) -> Sizes<'a> {
        Sizes {
            store,
            layers: HashMap::new(),
        }
    }

    /// (written, written + image) of `c`.
    pub fn of(&mut self, c: &Container) -> Result<(u64, u64)> {
        let upper = c.upper();
        let rw = match upper.is_dir() {
            true => crate::tree::size(&upper)?,
            false => 0,
        };
        let mut total = rw;
        for d in c.layers() {
            total += match self.layers.get(&d) {
                Some(n) => *n,
                None => {
                    let n = image::layer_size(self.store, &d)?;
                    *self.layers.entry(d).or_insert(n)
                }
            };
        }
        Ok((rw, total))
    }
}
