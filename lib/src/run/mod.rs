//! cc-run, step by step. Readable top to bottom, like bocker:
//!
//! 1. find the image (or take `--rootfs`), build the OCI spec;
//! 2. create the container record (id, name, folders, config.json, and
//!    its /etc/hostname, /etc/hosts, /etc/resolv.conf);
//! 3. start its monitor (see `monitor`), which creates the cgroup, clones
//!    the container process (see `sandbox`: it joins the cgroup, mounts
//!    its overlay inside its own namespace, pivots and execs), logs its
//!    output, and writes the exit record when it ends;
//! 4. with `-d`, print the id once the command runs; otherwise attach to
//!    the monitor, relay the terminal and signals, and exit with the
//!    command's code.
//!
//! cc-create is steps 1 and 2 (`create`); cc-start is steps 3 and 4
//! (`start`); cc-run is both (`run`).

pub mod attach;
pub mod config;
mod etc;
pub use etc::Dns;
mod host_flags;
pub mod relay;
pub mod tuning;

use crate::container::restart::{self, Policy};
use crate::container::{self, Container};
use crate::error::Error;
use crate::image;
use crate::monitor::{self, Report};
use crate::sandbox::Failure;
use crate::store::Store;
use crate::volume::mounts;
pub use config::{Net, RunOptions};

/// How a run ended, or that it was detached.
pub struct Outcome {
    pub id: String,
    /// The command's exit code; `None` when detached.
    pub code: Option<u8>,
}

/// Creates a container and starts it; in the foreground returns once it
/// exits (or the client detaches), with `-d` once it runs.
pub fn run(store: &Store, o: &RunOptions) -> Result<Outcome, Failure> {
    let c = create(store, o)?;
    crate::failpoint::hit("run.created");
    // A bundle's terminal is the bundle's to say.
    let tty = c.spec.process.as_ref().is_some_and(|p| p.terminal);
    start_new(store, &c, &RunOptions { tty, ..o.clone() })
}

/// Makes the container's record (cc-create; the first half of cc-run):
/// its image or root, spec, name, folders and /etc files; status created.
pub fn create(store: &Store, o: &RunOptions) -> Result<Container, Failure> {
    if o.rm && o.restart != Policy::No {
        return Err(Error::Usage("conflicting options: --restart and --rm".into()).into());
    }
    if let Some(dir) = &o.bundle {
        let spec = config::from_bundle(o, dir)?;
        return create_record(store, spec, o);
    }
    let image = match (&o.image, &o.rootfs) {
        (Some(name), None) => Some(image::resolve(store, name)?),
        (None, Some(dir)) if dir.is_dir() => None,
        (None, Some(dir)) => {
            return Err(Error::not_found("root folder", dir.display().to_string()).into())
        }
        _ => return Err(Error::Usage("give an image or --rootfs DIR".into()).into()),
    };
    // Every mount checked before anything is made.
    let requests = mounts::parse_all(&o.volumes, &o.mounts)?;
    let inherited = mounts::volumes_from(store, &o.volumes_from)?;
    let image_volumes: Vec<String> = image
        .as_ref()
        .and_then(|i| i.config.config.volumes.as_ref())
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    // An `--userns=auto` range stays locked until the record holding it
    // exists.
    let ids = crate::idmap::allocate(store, &o.userns)?;
    let mut o = o.clone();
    if let Some(a) = &ids {
        o.userns = crate::idmap::Userns::Maps {
            uid: a.uid.clone(),
            gid: a.gid.clone(),
        };
    }
    // cc-volume rm looks for users under this lock: it sees this record
    // or removes the volume before the plan finds it.
    let _volumes = store.lock_shared("volumes")?;
    let userns = o.userns != crate::idmap::Userns::Host;
    let plan = mounts::plan(store, requests, inherited, &image_volumes, userns)?;
    o.volume_mounts = plan.mounts.clone();
    let made = config::build(&o, image.as_ref())
        .map_err(Failure::from)
        .and_then(|mut spec| {
            if let Some(a) = plan.annotation() {
                spec.annotations.insert(mounts::ANN_VOLUMES.into(), a);
            }
            create_record(store, spec, &o)
        });
    let c = made.inspect_err(|_| plan.undo(store))?;
    if let Err(e) = plan.copy_up(store, &c) {
        let _ = container::remove(store, &c);
        plan.undo(store);
        if let Some(path) = &o.cidfile {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    Ok(c)
}

/// The record of `spec`, with its /etc files and `--cidfile`.
fn create_record(
    store: &Store,
    spec: crate::spec::Spec,
    o: &RunOptions,
) -> Result<Container, Failure> {
    let net = o.net.clone().unwrap_or(Net::None);
    // What an ordinary user's container cannot have is refused before
    // anything is made.
    let a = &spec.annotations;
    let folder = match a.get(container::ANN_CGROUP_MANAGER).map(String::as_str) {
        Some("systemd") => None,
        _ => a.get(container::ANN_CGROUP_PARENT).map(String::as_str),
    };
    let res = crate::cgroup::Resources::of_spec(&spec)?;
    crate::cgroup::refuse_limits_for_user(&res, folder)?;
    let ports = a.get(crate::net::ANN_PORTS).map_or("", String::as_str);
    crate::net::refuse_for_user(&net.as_annotation(), &crate::net::port_specs(ports)?)?;
    let mut spec = spec;
    if o.restart != Policy::No {
        let policy = o.restart.as_string();
        spec.annotations.insert(restart::ANN_RESTART.into(), policy);
    }
    let c = container::create(store, spec, o.name.as_deref(), |c| {
        etc::write(c, &net, &o.tuning.dns)?;
        if o.bundle.is_none() {
            etc::hostname_env(c);
        }
        Ok(())
    })?;
    if let Some(path) = &o.cidfile {
        if let Err(e) = write_cidfile(path, &c.id) {
            let _ = container::remove(store, &c);
            return Err(e.into());
        }
    }
    Ok(c)
}

/// Starts a new record; if it cannot, nothing of it is left.
fn start_new(store: &Store, c: &Container, o: &RunOptions) -> Result<Outcome, Failure> {
    let result = start(store, c, o);
    if result.is_err() {
        // A container that never started leaves nothing behind (the
        // monitor removes it too; this covers a monitor that died).
        if let Ok(c) = container::load(store, &c.id) {
            let _ = container::remove(store, &c);
        }
        // With the anonymous volumes made for it.
        let _ = crate::volume::remove_anonymous(store, c);
        if let Some(path) = &o.cidfile {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// Starts the monitor of an existing container, then detaches or attaches.
pub fn start(store: &Store, c: &Container, o: &RunOptions) -> Result<Outcome, Failure> {
    // Right after the last run ended its monitor may still be cleaning up
    // (the socket, the cgroup this start makes again): wait for it.
    drop(container::monitor_lock(c)?);
    // Started by the user: restarts count from zero, a stop is forgotten.
    restart::clear_user_stopped(c);
    if c.state.restart_count > 0 {
        let mut c = c.clone();
        c.state.restart_count = 0;
        c.save_state()?;
    }
    // Before anything starts: a bad sequence must not leave it running.
    let keys = attach::Keys::parse(o.detach_keys.as_deref())?;
    // A tmpfs volume is mounted again after a reboot.
    crate::volume::mount_all(store, c)?;
    let mut h = monitor::start(store, c, !o.detach)?;
    match h.next_report() {
        Report::Listening => {}
        Report::Started(_) => {}
        Report::Failed(f) => return Err(f),
    }
    let client = if o.detach {
        None
    } else {
        Some(attach::connect(c, o.tty)?)
    };
    let pid = match h.next_report() {
        Report::Started(pid) => pid,
        Report::Failed(f) => return Err(f),
        Report::Listening => return Err(Failure::new(125, "the monitor reported twice")),
    };
    let Some(client) = client else {
        return Ok(Outcome {
            id: c.id.clone(),
            code: None,
        });
    };
    let streams = attach::Streams {
        stdin: o.interactive && o.streams.stdin,
        ..o.streams
    };
    let ended = attach::relay(client, pid, &streams, o.tty, &keys)?;
    let code = match ended {
        attach::Ended::Exited(code) => Some(code as u8),
        attach::Ended::Detached => None,
        // The monitor went away without a word: the record says the rest.
        attach::Ended::Lost => Some(attach::recorded_code(store, &c.id)),
    };
    Ok(Outcome {
        id: c.id.clone(),
        code,
    })
}

/// The containers `cc-start --all-restartable` starts after a reboot: not
/// running, and their policy says so (`container::restart::Policy::at_boot`).
pub fn restartable(store: &Store) -> crate::Result<Vec<Container>> {
    let mut list = container::list(store)?;
    list.retain(|c| {
        let s = c.state.derived();
        s.status != container::Status::Running
            && !s.restarting
            && Policy::of(c).at_boot(restart::user_stopped(c))
    });
    Ok(list)
}

/// `--cidfile`: the id, in a file that must not exist yet.
fn write_cidfile(path: &std::path::Path, id: &str) -> crate::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("create container id file", path, e))?;
    f.write_all(id.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}
