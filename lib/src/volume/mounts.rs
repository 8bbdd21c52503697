//! A new container's mounts from `-v`, `--mount`, `--volumes-from` and
//! its image's VOLUMEs, as docker makes them: everything is parsed and
//! checked first (a bad one makes nothing), then the volumes are made or
//! found (`plan`), then, once the record exists, each empty volume gets
//! the files the image has at its path (`copy_up`, docker's copy-up;
//! `nocopy` skips it). The container's volumes are kept in its record as
//! the annotation `io.cc.volumes` (`uses`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Volume;
use crate::container::Container;
use crate::error::{Error, Result};
use crate::spec::Mount;
use crate::store::Store;

/// The container's volumes, a JSON list of `Use`s.
pub const ANN_VOLUMES: &str = "io.cc.volumes";

/// A volume a container mounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    pub name: String,
    pub destination: String,
    pub rw: bool,
}

/// The volumes a container's record names.
pub fn uses(c: &Container) -> Vec<Use> {
    c.annotation(ANN_VOLUMES)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// One mount asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Bind {
        source: String,
        target: String,
        readonly: bool,
        propagation: Option<String>,
    },
    /// `name` None: an anonymous volume.
    Volume {
        name: Option<String>,
        target: String,
        readonly: bool,
        nocopy: bool,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    },
    Tmpfs {
        target: String,
        readonly: bool,
        options: Vec<String>,
    },
}

impl Request {
    pub fn target(&self) -> &str {
        match self {
            Request::Bind { target, .. }
            | Request::Volume { target, .. }
            | Request::Tmpfs { target, .. } => target,
        }
    }
}

const PROPAGATION: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// `-v`: `/path` (an anonymous volume), `NAME:/path[:OPTS]` (a named
/// volume) or `/host:/path[:OPTS]` (a bind); OPTS are `ro`/`rw`, `nocopy`
/// (volumes) and a propagation (binds), comma-separated.
pub fn parse_volume(v: &str) -> Result<Request> {
    let bad = |why: &str| Error::Usage(format!("invalid volume '{v}': {why}"));
    let parts: Vec<&str> = v.split(':').collect();
    let (src, target, opts) = match parts.as_slice() {
        [t] => (None, *t, ""),
        [s, t] => (Some(*s), *t, ""),
        [s, t, o] => (Some(*s), *t, *o),
        _ => return Err(bad("expected [SOURCE:]CONTAINER_PATH[:OPTIONS]")),
    };
    absolute(v, target)?;
    let (mut readonly, mut nocopy, mut propagation) = (false, false, None);
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "nocopy" => nocopy = true,
            p if PROPAGATION.contains(&p) => propagation = Some(p.to_string()),
            o => {
                return Err(bad(&format!(
                    "unknown option '{o}' (ro, rw, nocopy, a propagation)"
                )))
            }
        }
    }
    match src {
        Some(s) if s.starts_with('/') => {
            if nocopy {
                return Err(bad("nocopy is for volumes, not binds"));
            }
            Ok(Request::Bind {
                source: s.to_string(),
                target: target.to_string(),
                readonly,
                propagation,
            })
        }
        _ if propagation.is_some() => Err(bad("a propagation is for binds, not volumes")),
        s => {
            if let Some(n) = s {
                super::validate_name(n).map_err(|_| {
                    bad(&format!("'{n}' is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"))
                })?;
            }
            Ok(Request::Volume {
                name: s.map(String::from),
                target: target.to_string(),
                readonly,
                nocopy,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
            })
        }
    }
}

fn absolute(spec: &str, target: &str) -> Result<()> {
    match target.starts_with('/') {
        true => Ok(()),
        false => Err(Error::Usage(format!(
            "invalid mount '{spec}': the container path '{target}' must be absolute"
        ))),
    }
}

/// `--mount type=bind|volume|tmpfs,source=…,target=…,…` with docker's
/// keys; a key docker does not have, or one for another type, is refused.
pub fn parse_mount(m: &str) -> Result<Request> {
    let bad = |why: String| Error::Usage(format!("invalid mount '{m}': {why}"));
    let mut kv: Vec<(&str, Option<&str>)> = Vec::new();
    for field in m.split(',').filter(|f| !f.is_empty()) {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field, None),
        };
        kv.push((k, v));
    }
    let kind = kv
        .iter()
        .find(|(k, _)| *k == "type")
        .map_or(Some("volume"), |(_, v)| *v)
        .unwrap_or("");
    if !matches!(kind, "bind" | "volume" | "tmpfs") {
        return Err(bad(format!("unknown type '{kind}' (bind, volume, tmpfs)")));
    }
    let (mut source, mut target, mut readonly) = (None, None, false);
    let (mut nocopy, mut propagation) = (false, None);
    let (mut labels, mut options, mut tmpfs) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    let flag = |k: &str, v: Option<&str>| match v {
        None | Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(v) => Err(bad(format!("'{k}={v}': give true or false"))),
    };
    let value = |k: &str, v: Option<&str>| {
        v.filter(|v| !v.is_empty())
            .map(String::from)
            .ok_or_else(|| bad(format!("'{k}' needs a value")))
    };
    for (k, v) in kv {
        match (k, kind) {
            ("type", _) => {}
            ("source" | "src", "bind" | "volume") => source = Some(value(k, v)?),
            ("target" | "destination" | "dst", _) => target = Some(value(k, v)?),
            ("readonly" | "ro", _) => readonly = flag(k, v)?,
            ("volume-nocopy", "volume") => nocopy = flag(k, v)?,
            ("volume-label", "volume") => {
                let l = value(k, v)?;
                let (lk, lv) = l.split_once('=').unwrap_or((&l, ""));
                labels.insert(lk.to_string(), lv.to_string());
            }
            ("volume-opt", "volume") => {
                let o = value(k, v)?;
                let (ok, ov) = o
                    .split_once('=')
                    .ok_or_else(|| bad(format!("'volume-opt={o}': give KEY=VALUE")))?;
                options.insert(ok.to_string(), ov.to_string());
            }
            ("bind-propagation", "bind") => {
                let p = value(k, v)?;
                if !PROPAGATION.contains(&p.as_str()) {
                    return Err(bad(format!("unknown bind-propagation '{p}'")));
                }
                propagation = Some(p);
            }
            ("tmpfs-size", "tmpfs") => {
                let s = value(k, v)?;
                crate::cgroup::parse_size(&s)?;
                tmpfs.push(format!("size={s}"));
            }
            ("tmpfs-mode", "tmpfs") => {
                let mode = value(k, v)?;
                u32::from_str_radix(&mode, 8)
                    .map_err(|_| bad(format!("'tmpfs-mode={mode}' is not an octal mode")))?;
                tmpfs.push(format!("mode={mode}"));
            }
            (k, _) => return Err(bad(format!("unknown key '{k}' for a {kind} mount"))),
        }
    }
    let target = target.ok_or_else(|| bad("give target=PATH".into()))?;
    absolute(m, &target)?;
    match kind {
        "bind" => Ok(Request::Bind {
            source: source
                .filter(|s| s.starts_with('/'))
                .ok_or_else(|| bad("a bind needs source=/ABSOLUTE/PATH".into()))?,
            target,
            readonly,
            propagation,
        }),
        "volume" => {
            if let Some(n) = &source {
                super::validate_name(n)?;
            }
            super::driver::check(&options)?;
            Ok(Request::Volume {
                name: source,
                target,
                readonly,
                nocopy,
                labels,
                options,
            })
        }
        _ => Ok(Request::Tmpfs {
            target,
            readonly,
            options: tmpfs,
        }),
    }
}

/// What `plan` made of the requests.
#[derive(Debug, Default)]
pub struct Plan {
    /// Spec mounts, parents before what is mounted inside them.
    pub mounts: Vec<Mount>,
    pub uses: Vec<Use>,
    /// Volumes made for this container, removed again by `undo`.
    made: Vec<Volume>,
    /// Volumes to fill from the image (not `nocopy`), with their paths.
    copy: Vec<(Volume, String)>,
}

/// Everything a container asked for, parsed: `-v`s, `--mount`s.
pub fn parse_all(volumes: &[String], mounts: &[String]) -> Result<Vec<Request>> {
    let mut out = Vec::new();
    for v in volumes {
        out.push(parse_volume(v)?);
    }
    for m in mounts {
        out.push(parse_mount(m)?);
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &out {
        let t = r.target().trim_end_matches('/');
        if !seen.insert(if t.is_empty() { "/" } else { t }) {
            return Err(Error::Usage(format!(
                "duplicate mount point: {}",
                r.target()
            )));
        }
    }
    Ok(out)
}

/// `--volumes-from CONTAINER[:ro|rw]`: that container's binds and volumes
/// (not its tmpfs mounts), with their mode or the one given.
pub fn volumes_from(store: &Store, from: &[String]) -> Result<Vec<Request>> {
    let mut out = Vec::new();
    for f in from {
        let (q, mode) = match f.rsplit_once(':') {
            Some((q, m @ ("ro" | "rw"))) => (q, Some(m == "ro")),
            _ => (f.as_str(), None),
        };
        let c = crate::container::resolve(store, q)?;
        let uses = uses(&c);
        for u in &uses {
            out.push(Request::Volume {
                name: Some(u.name.clone()),
                target: u.destination.clone(),
                readonly: mode.unwrap_or(!u.rw),
                nocopy: true,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
            });
        }
        let binds = c.spec.mounts.iter().filter(|m| {
            m.is_bind()
                && m.source.as_deref().is_some_and(|s| s.starts_with('/'))
                && !uses.iter().any(|u| u.destination == m.destination)
        });
        for m in binds {
            let ro = m.options.iter().any(|o| o == "ro" || o == "rro");
            out.push(Request::Bind {
                source: m.source.clone().unwrap_or_default(),
                target: m.destination.clone(),
                readonly: mode.unwrap_or(ro),
                propagation: None,
            });
        }
    }
    Ok(out)
}

/// Makes or finds the volumes of `requests`, then of `inherited`
/// (`--volumes-from`) and of the image's VOLUME paths where no request
/// mounts already (anonymous volumes): the spec's mounts and the record's
/// uses. `userns`: the container has a user namespace, so its volumes are
/// idmapped through it, as its layers are. On error nothing made is left.
pub fn plan(
    store: &Store,
    requests: Vec<Request>,
    inherited: Vec<Request>,
    image_volumes: &[String],
    userns: bool,
) -> Result<Plan> {
    let mut all = requests;
    for r in inherited
        .into_iter()
        .chain(image_volumes.iter().map(|t| Request::Volume {
            name: None,
            target: t.clone(),
            readonly: false,
            nocopy: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
        }))
    {
        let taken =
            |x: &Request| x.target().trim_end_matches('/') == r.target().trim_end_matches('/');
        if !all.iter().any(taken) {
            all.push(r);
        }
    }
    // Parents first (docker sorts by depth): /a before /a/b.
    all.sort_by_key(|r| Path::new(r.target()).components().count());
    let mut p = Plan::default();
    for r in all {
        if let Err(e) = p.add(store, r, userns) {
            p.undo(store);
            return Err(e);
        }
    }
    Ok(p)
}

impl Plan {
    fn add(&mut self, store: &Store, r: Request, userns: bool) -> Result<()> {
        let ro = |readonly: bool, opts: &mut Vec<&str>| {
            if readonly {
                opts.push("rro");
            }
        };
        match r {
            Request::Bind {
                source,
                target,
                readonly,
                propagation,
            } => {
                if !Path::new(&source).exists() {
                    return Err(Error::not_found("volume source", source));
                }
                let mut opts = vec!["rbind", propagation.as_deref().unwrap_or("rprivate")];
                // Read-only all the way down, the source's submounts too,
                // as docker 25 makes `:ro` on kernels with mount_setattr(2).
                ro(readonly, &mut opts);
                self.mounts
                    .push(Mount::new("bind", &source, &target, &opts));
            }
            Request::Tmpfs {
                target,
                readonly,
                options,
            } => {
                let mut opts = vec!["nosuid", "nodev", "noexec"];
                if readonly {
                    opts.push("ro");
                }
                opts.extend(options.iter().map(String::as_str));
                self.mounts
                    .push(Mount::new("tmpfs", "tmpfs", &target, &opts));
            }
            Request::Volume {
                name,
                target,
                readonly,
                nocopy,
                mut labels,
                options,
            } => {
                if name.is_none() {
                    labels.insert(super::ANON_LABEL.into(), String::new());
                }
                let (v, made) = super::create(store, name.as_deref(), options, labels)?;
                if made {
                    self.made.push(v.clone());
                }
                super::driver::mount_data(&v)?;
                let mut opts = vec!["rbind", "rprivate"];
                ro(readonly, &mut opts);
                if userns {
                    opts.push("idmap");
                }
                let data = v.data().display().to_string();
                self.mounts.push(Mount::new("bind", &data, &target, &opts));
                self.uses.push(Use {
                    name: v.name.clone(),
                    destination: target.clone(),
                    rw: !readonly,
                });
                if !nocopy {
                    self.copy.push((v, target));
                }
            }
        }
        Ok(())
    }

    /// The annotation that records the uses, if any.
    pub fn annotation(&self) -> Option<String> {
        (!self.uses.is_empty()).then(|| serde_json::to_string(&self.uses).unwrap_or_default())
    }

    /// Removes the volumes this plan made (its container was not made).
    pub fn undo(&self, store: &Store) {
        for v in &self.made {
            let _ = super::destroy(store, v);
        }
    }

    /// docker's copy-up: each volume still empty gets what the container's
    /// root (its image) holds at the volume's path, owners, modes and
    /// times kept; the volume's folder takes that folder's owner and mode.
    pub fn copy_up(&self, store: &Store, c: &Container) -> Result<()> {
        let todo: Vec<&(Volume, String)> = self
            .copy
            .iter()
            .filter(|(v, _)| is_empty(&v.data()))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        crate::hostmount::with_root(store, c, |root| {
            for (v, path) in todo {
                crate::copy::fill(root, path, &v.data())?;
            }
            Ok(())
        })
    }
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_v_forms() {
        assert!(matches!(
            parse_volume("/data").unwrap(),
            Request::Volume { name: None, .. }
        ));
        assert!(matches!(
            parse_volume("db:/var/lib/db:ro,nocopy").unwrap(),
            Request::Volume { name: Some(n), readonly: true, nocopy: true, .. } if n == "db"
        ));
        assert!(matches!(
            parse_volume("/tmp:/data:ro,rslave").unwrap(),
            Request::Bind { readonly: true, propagation: Some(p), .. } if p == "rslave"
        ));
        for bad in [
            "rel/x:/d",
            "db:data",
            "/tmp:/d:nocopy",
            "db:/d:rshared",
            "db:/d:z",
            "a:b:c:d",
        ] {
            assert_eq!(parse_volume(bad).unwrap_err().code(), 2, "{bad}");
        }
    }

    #[test]
    fn dash_dash_mount_forms() {
        let r = parse_mount("type=volume,src=db,dst=/db,volume-nocopy,readonly").unwrap();
        assert!(matches!(
            r,
            Request::Volume {
                nocopy: true,
                readonly: true,
                ..
            }
        ));
        let r = parse_mount("target=/anon").unwrap();
        assert!(matches!(r, Request::Volume { name: None, .. }));
        let r = parse_mount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        assert_eq!(
            r,
            Request::Tmpfs {
                target: "/t".into(),
                readonly: false,
                options: vec!["size=1m".into(), "mode=1770".into()]
            }
        );
        let r = parse_mount("type=bind,source=/tmp,target=/t,bind-propagation=rshared,ro=true");
        assert!(matches!(r.unwrap(), Request::Bind { readonly: true, .. }));
        for bad in [
            "type=bind,source=/tmp,target=/t,volume-nocopy",
            "type=tmpfs,source=x,target=/t",
            "type=volume,target=/t,tmpfs-size=1m",
            "type=volume,target=/t,consistency=cached",
            "type=nfs,target=/t",
            "type=bind,target=/t",
            "type=volume,source=db",
            "type=volume,target=rel",
            "type=volume,target=/t,readonly=maybe",
            "type=tmpfs,target=/t,tmpfs-mode=9z",
        ] {
            assert_eq!(parse_mount(bad).unwrap_err().code(), 2, "{bad}");
        }
    }

    #[test]
    fn one_mount_point_once() {
        let e = parse_all(&["a1:/d".into()], &["type=tmpfs,target=/d/".into()]).unwrap_err();
        assert_eq!(e.code(), 2);
    }
}
