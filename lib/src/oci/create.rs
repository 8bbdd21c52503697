//! `create` and `run`: a bundle's config.json through the same sandbox as
//! cc-run. `create` leaves the container's first process set up and
//! waiting on `exec.fifo` (see `sandbox::Launch::hold`), writes the record
//! and exits; the caller (conmon, a containerd shim), a subreaper, adopts
//! the process. `start` writes the byte it waits for.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::hooks;
use super::state::{self, Container, Record, Root};
use crate::cgroup::{Cgroup, Resources};
use crate::error::{Error, Result};
use crate::sandbox::{self, Failure, Launch, RootSource};
use crate::spec::Spec;
use crate::store::PRIVATE;

/// `create`'s and `run`'s options, as runc's.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// `--systemd-cgroup`: cgroupsPath is runc's `slice:prefix:name` and
    /// systemd makes the group.
    pub systemd_cgroup: bool,
}

/// A created container. A failure to create leaves nothing behind: no
/// folder, group or process.
pub struct Created {
    pub container: Container,
    pub pid: nix::unistd::Pid,
    /// The pty master when the spec asks for a terminal and no console
    /// socket took it (`run` in the foreground relays it).
    pub pty: Option<OwnedFd>,
}

/// The container's group: cgroupsPath, else `cc-oci/<id>` (cgroupfs) or
/// `system.slice:cc-oci:<id>` (systemd). As runc: with `--systemd-cgroup`
/// the path must be `slice:prefix:name`; without, that form is refused
/// rather than made a folder with colons.
fn cgroup_name(spec: &Spec, id: &str, systemd: bool) -> Result<String> {
    use crate::cgroup::{Manager, Unit};
    let path = spec.linux.as_ref().and_then(|l| l.cgroups_path.clone());
    if systemd {
        Manager::Systemd.check()?;
    }
    match (path, systemd) {
        (None, false) => Ok(format!("cc-oci/{id}")),
        (None, true) => Ok(format!(":cc-oci:{id}")),
        (Some(p), true) if Unit::parse(&p).is_some() => Ok(p),
        (Some(p), true) => Err(Error::Usage(format!(
            "cgroupsPath '{p}' is not systemd's slice:prefix:name"
        ))),
        (Some(p), false) if Unit::parse(&p).is_some() => Err(Error::Usage(format!(
            "cgroupsPath '{p}' is systemd's form: use --systemd-cgroup"
        ))),
        (Some(p), false) => Ok(p),
    }
}

/// Reads and checks the bundle's config.json.
pub fn load_bundle(bundle: &Path) -> Result<(PathBuf, Spec)> {
    let (bundle, spec) = Spec::load_bundle(bundle)?;
    hooks::check(&spec)?;
    Ok((bundle, spec))
}

/// Creates container `id`; with `hold` it waits for `start`, else it runs
/// at once (`run`).
pub fn create(root: &Root, id: &str, o: &Options, hold: bool) -> Result<Created> {
    state::check_id(id)?;
    let (bundle, mut spec) = load_bundle(&o.bundle)?;
    spec.allow_default_devices();
    let terminal = spec.process.as_ref().is_some_and(|p| p.terminal);
    if terminal && o.console_socket.is_none() && hold {
        return Err(Error::Usage(
            "a terminal needs --console-socket when the container is created detached".into(),
        ));
    }
    // Checked before the folder exists: a bad path leaves nothing behind.
    let cgroup_name = cgroup_name(&spec, id, o.systemd_cgroup)?;
    let dir = root.container_dir(id);
    make_dir(&dir, id)?;
    let record = Record {
        id: id.to_string(),
        pid: 0,
        pid_start: 0,
        rootfs: spec.rootfs_in(&bundle),
        bundle,
        created: String::new(),
        cgroup: cgroup_name,
        annotations: spec.annotations.clone(),
    };
    let mut made: Option<Cgroup> = None;
    match set_up(&dir, &spec, record, o, hold, &mut made) {
        Ok((record, pid, pty)) => Ok(Created {
            container: Container { dir, record },
            pid,
            pty,
        }),
        Err(e) => {
            if let Some(cg) = made {
                let _ = cg.kill_all();
                let _ = cg.remove();
            }
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

/// The container's folder, 0700; one that exists means the id is taken.
fn make_dir(dir: &Path, id: &str) -> Result<()> {
    let made = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(dir)
    };
    match made {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::State(format!("container with id exists: {id}")))
        }
        Err(e) => Err(Error::io("create", dir, e)),
    }
}

/// Everything `create` makes in the container's folder `dir`: config.json,
/// the FIFO (with `hold`), the group (left in `made` for the caller to
/// remove on failure), the process, the record and the pid file.
fn set_up(
    dir: &Path,
    spec: &Spec,
    mut record: Record,
    o: &Options,
    hold: bool,
    made: &mut Option<Cgroup>,
) -> Result<(Record, nix::unistd::Pid, Option<OwnedFd>)> {
    // The record first, with no pid: a create killed from here on leaves
    // a `stopped` container that `list` shows and `delete` removes (its
    // group and any process left in it).
    record.created = crate::time::now_rfc3339();
    state::save(dir, &record)?;
    crate::failpoint::hit("oci.create.recorded");
    let data = serde_json::to_vec(spec).expect("a spec serializes");
    crate::store::write_volatile_mode(&dir.join("config.json"), &data, PRIVATE)?;
    let fifo = match hold {
        true => Some(make_fifo(&dir.join(state::FIFO))?),
        false => None,
    };
    refuse_frozen(&record.cgroup)?;
    let cg = Cgroup::create(&record.cgroup, &Resources::of_spec(spec)?)?;
    *made = Some(cg.clone());
    crate::failpoint::hit("oci.create.cgroup");
    let child = launch(spec, &record, &cg, fifo.as_ref().map(|f| f.as_fd()), o)?;
    crate::failpoint::hit("oci.create.spawned");
    let pty = hand_console(child.pty, child.pid, o)?;
    record.pid = child.pid.as_raw();
    record.pid_start = crate::container::state::pid_start_time(record.pid).unwrap_or(0);
    state::save(dir, &record)?;
    if let Some(p) = &o.pid_file {
        crate::store::write_volatile(p, record.pid.to_string().as_bytes())?;
    }
    Ok((record, child.pid, pty))
}

/// Spawns the container's process in the sandbox; the spec's
/// createRuntime and prestart hooks run before it goes on.
fn launch(
    spec: &Spec,
    record: &Record,
    cg: &Cgroup,
    hold: Option<BorrowedFd>,
    o: &Options,
) -> Result<sandbox::Child> {
    let before = |pid: nix::unistd::Pid| -> std::result::Result<(), Failure> {
        for stage in ["createRuntime", "prestart"] {
            hooks::run(spec, stage, &hook_state(record, pid.as_raw()))?;
        }
        Ok(())
    };
    let state = hook_state(record, 0);
    let (create_hooks, start_hooks) = (
        hooks::of(spec, "createContainer")?,
        hooks::of(spec, "startContainer")?,
    );
    let in_container = |stage: &str, hooks: &[hooks::Hook], status: &str| {
        let input = hooks::in_container_state(&state, status);
        hooks::run_with(hooks, stage, &input).map_err(Failure::from)
    };
    let create_container = || in_container("createContainer", &create_hooks, "creating");
    let start_container = || in_container("startContainer", &start_hooks, "created");
    let label = format!("cc-oci {}", record.id);
    sandbox::spawn(&Launch {
        spec,
        bundle: &record.bundle,
        root: RootSource::Dir,
        user: None,
        cgroup: Some(cg),
        init: false,
        stdin_null: false,
        stdio: [None, None, None],
        winsize: console_size(spec),
        label: &label,
        before_go: Some(&before),
        hold,
        die_with_parent: false,
        preserve_fds: o.preserve_fds,
        no_pivot: o.no_pivot,
        new_keyring: !o.no_new_keyring,
        create_container: (!create_hooks.is_empty()).then_some(&create_container),
        start_container: (!start_hooks.is_empty()).then_some(&start_container),
    })
    // Its exit code (125 cc, 126, 127) is dropped here: runc's create
    // reports them all as failures.
    .map_err(Error::from)
}

/// `process.consoleSize` as (rows, columns): the terminal's size before
/// the command starts.
fn console_size(spec: &Spec) -> Option<(u16, u16)> {
    let size = spec.process.as_ref()?.extra.get("consoleSize")?;
    let dim = |k: &str| size.get(k)?.as_u64().and_then(|n| u16::try_from(n).ok());
    Some((dim("height")?, dim("width")?))
}

/// The state the hooks read: the record with the process's pid, created.
fn hook_state(record: &Record, pid: i32) -> state::State {
    let r = record.clone();
    state::State {
        oci_version: state::OCI_VERSION.into(),
        id: r.id,
        pid,
        status: state::Status::Created,
        bundle: r.bundle,
        rootfs: r.rootfs,
        created: r.created,
        owner: String::new(),
        annotations: r.annotations,
    }
}

/// A group that is already frozen (its own or a parent's freezer) would
/// hold the child in the kernel mid-setup for ever: refused before
/// anything is made in it, in runc's words.
fn refuse_frozen(name: &str) -> Result<()> {
    match Cgroup::open(name).frozen() {
        true => Err(Error::State(format!(
            "container's cgroup unexpectedly frozen: {name}"
        ))),
        false => Ok(()),
    }
}

/// The pty master goes to `--console-socket` when there is one (the
/// process is killed if it cannot); else it stays with the caller.
fn hand_console(
    pty: Option<OwnedFd>,
    pid: nix::unistd::Pid,
    o: &Options,
) -> Result<Option<OwnedFd>> {
    match (pty, &o.console_socket) {
        (Some(pty), Some(sock)) => {
            if let Err(e) = send_console(sock, &pty) {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                return Err(e);
            }
            Ok(None)
        }
        (pty, _) => Ok(pty),
    }
}

/// The FIFO `start` writes to, opened for reading without blocking: the
/// child inherits this fd and polls it (see `sandbox::command::Hold`).
fn make_fifo(path: &Path) -> Result<OwnedFd> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))
        .map_err(|e| Error::io("create", path, e.into()))?;
    let fd = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io("open", path, e.into()))?;
    Ok(fd)
}

/// Sends the pty master to the caller's console socket with SCM_RIGHTS,
/// as runc does (conmon and the shims take it from there).
pub(super) fn send_console(path: &Path, pty: &OwnedFd) -> Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let sock = UnixStream::connect(path).map_err(|e| Error::io("connect to", path, e))?;
    let fds = [pty.as_raw_fd()];
    let name = b"/dev/ptmx";
    let iov = [std::io::IoSlice::new(name)];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| Error::io("send the terminal to", path, e.into()))?;
    Ok(())
}

/// `start`: the byte the held process waits for, then the FIFO removed so
/// the status reads `running`. Fails when the container is not `created`.
pub fn start(c: &Container) -> Result<()> {
    let status = c.status();
    if status != state::Status::Created {
        return Err(Error::State(format!(
            "cannot start a container that is {}",
            status.as_str()
        )));
    }
    let path = c.fifo();
    let fd = nix::fcntl::open(
        &path,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        nix::errno::Errno::ENXIO => {
            Error::State(format!("container \"{}\" is not waiting to start", c.id()))
        }
        e => Error::io("open", &path, e.into()),
    })?;
    let f = File::from(fd);
    nix::unistd::write(&f, b"0").map_err(|e| Error::io("write to", &path, e.into()))?;
    drop(f);
    let _ = std::fs::remove_file(&path);
    let spec = c.spec()?;
    if let Err(e) = hooks::run(&spec, "poststart", &c.state()) {
        // runc: a failing poststart hook is a warning, the container runs.
        eprintln!("cc-oci: {e}");
    }
    Ok(())
}
