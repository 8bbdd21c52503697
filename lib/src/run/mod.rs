//! cc-run, step by step. Readable top to bottom, like bocker:
//!
//! 1. find the image (or take `--rootfs`), build the OCI spec;
//! 2. create the container record (id, name, folders, config.json);
//! 3. write its /etc/hostname, /etc/hosts, /etc/resolv.conf;
//! 4. create its cgroup with the limits;
//! 5. clone the container process (see `sandbox`): it joins the cgroup,
//!    mounts its overlay inside its own namespace, pivots and execs;
//! 6. relay signals (and the terminal) until it exits;
//! 7. write the exit record, then clean up: cgroup, and the record with
//!    `--rm`.

pub mod attach;
pub mod config;
mod etc;

use nix::sys::wait::WaitStatus;

use crate::cgroup::Cgroup;
use crate::container::{self, Container, Status};
use crate::error::Error;
use crate::image;
use crate::sandbox::{self, Failure, Launch, RootSource};
use crate::store::Store;
pub use config::{Net, RunOptions};

/// How a foreground run ended: the code cc-run exits with.
pub struct Outcome {
    pub id: String,
    pub code: u8,
}

/// Creates and runs a container in the foreground; returns once it exits.
pub fn run(store: &Store, o: &RunOptions) -> std::result::Result<Outcome, Failure> {
    let image = match (&o.image, &o.rootfs) {
        (Some(name), None) => Some(image::resolve(store, name)?),
        (None, Some(dir)) if dir.is_dir() => None,
        (None, Some(dir)) => {
            return Err(Error::not_found("root folder", dir.display().to_string()).into())
        }
        _ => return Err(Error::Usage("give an image or --rootfs DIR".into()).into()),
    };
    let spec = config::build(o, image.as_ref())?;
    let net = o.net.clone().unwrap_or(Net::None);
    let mut c = container::create(store, spec, o.name.as_deref(), |c| etc::write(c, &net))?;
    let result = start_and_wait(store, &mut c, o);
    if result.is_err() || o.rm {
        // A container that never started leaves nothing behind.
        let _ = container::remove(store, &c);
    }
    result.map(|code| Outcome {
        id: c.id.clone(),
        code,
    })
}

fn start_and_wait(
    store: &Store,
    c: &mut Container,
    o: &RunOptions,
) -> std::result::Result<u8, Failure> {
    let resources = o.resources.clone();
    let cg = Cgroup::create(&c.cgroup_name(), &resources)?;
    let result = (|| {
        let blocked = attach::block_signals()?;
        let child = spawn(store, c, &cg, o)?;
        c.state.status = Status::Running;
        c.state.pid = Some(child.pid.as_raw());
        c.state.pid_start = container::state::pid_start_time(child.pid.as_raw());
        c.state.started_at = Some(crate::time::now_rfc3339());
        c.save_state()?;
        let status = attach::foreground(&child, o.interactive, &blocked)?;
        record_exit(c, status, &cg)
    })();
    let _ = cg.remove();
    result
}

fn spawn(
    store: &Store,
    c: &Container,
    cg: &Cgroup,
    o: &RunOptions,
) -> std::result::Result<sandbox::Child, Failure> {
    let root = match &o.rootfs {
        Some(_) => RootSource::Dir,
        None => RootSource::Overlay {
            lowers: c.layers().iter().map(|d| store.layer_dir(d)).collect(),
            upper: c.upper(),
            work: c.work(),
        },
    };
    let label = format!("cc-run {}", crate::store::short_id(&c.id));
    sandbox::spawn(&Launch {
        spec: &c.spec,
        bundle: &c.dir,
        root,
        user: c.annotation(container::ANN_USER),
        cgroup: Some(cg),
        init: o.init,
        stdin_null: !o.interactive,
        label: &label,
    })
}

/// Writes the exit record before anything is cleaned up (podman 1640).
fn record_exit(
    c: &mut Container,
    status: WaitStatus,
    cg: &Cgroup,
) -> std::result::Result<u8, Failure> {
    let (code, signal) = match status {
        WaitStatus::Exited(_, code) => (code, None),
        WaitStatus::Signaled(_, s, _) => (128 + s as i32, Some(s as i32)),
        _ => (125, None),
    };
    c.state.status = Status::Exited;
    c.state.pid = None;
    c.state.pid_start = None;
    c.state.exit_code = Some(code);
    c.state.signal = signal;
    c.state.oom_killed = cg.oom_killed();
    c.state.finished_at = Some(crate::time::now_rfc3339());
    // `cc-rm -f` may have removed the record while we waited.
    if c.dir.exists() {
        c.save_state()?;
    }
    Ok(code as u8)
}
