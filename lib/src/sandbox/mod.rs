//! The container's process, from clone(2) to the command's execve(2).
//!
//! The parent (cc-run, later the monitor) clones one child into new mount,
//! pid, uts, ipc and network namespaces; the child is pid 1 there. Three
//! channels tie them, all close-on-exec:
//!
//! - `go`: the parent writes one byte when the child may proceed. Until
//!   then the child waits, so the parent can do what must happen from
//!   outside first (the network issue puts a veth into the namespace here).
//! - `err`: the child writes one failure report (`code`, then the message)
//!   and exits; a successful execve closes it, so EOF means "started".
//! - `sock` (only with a terminal): the child opens the pty inside its own
//!   devpts and passes the master back with SCM_RIGHTS, so `tty` inside the
//!   container names a device that exists there.
//!
//! The child joins the cgroup (before its cgroup namespace, so the
//! namespace is rooted at the container's group), then mounts its root and
//! pivot_root(2)s into it while the parent does its outside work (a second
//! byte on `go` says it is done), sets up the user, and execs. With a user
//! namespace (see `userns.rs`) the parent makes it first and the child
//! joins it last. With `init` it
//! forks once more and stays as a reaping pid 1 (see `reaper.rs`). With
//! `hold` (cc-oci's `create`) it reports itself ready on `err` and waits on
//! a FIFO for `start` before the execve; namespaces the spec names by path
//! are joined, not made (see `namespaces.rs`).

pub mod caps;
mod child;
mod command;
pub mod enter;
mod execve;
pub(crate) mod failure;
mod limits;
pub(crate) mod mount_options;
mod namespaces;
mod no_pivot;
mod reaper;
mod rootfs;
pub mod seccomp;
mod syscalls;
pub mod user;
mod userns;

pub use command::{ContainerHook, Privileges};
pub use execve::DEFAULT_PATH;
pub use failure::Failure;
pub use reaper::FORWARDED;

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;
use nix::sys::socket::{self, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, Pid};

use crate::cgroup::Cgroup;
use crate::spec::Spec;
use failure::sys;

/// Where the root filesystem comes from.
pub enum RootSource {
    /// An overlay of unpacked layers (top first) with the container's own
    /// upper and work folders, mounted inside the container's namespace
    /// only: when the namespace dies, the mount dies with it.
    Overlay {
        lowers: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
    },
    /// `root.path` of the spec is a ready folder (`--rootfs`, a bundle).
    Dir,
}

pub struct Launch<'a> {
    pub spec: &'a Spec,
    /// The bundle folder; relative paths of the spec are relative to it.
    pub bundle: &'a Path,
    pub root: RootSource,
    /// A user to look up in the container's /etc/passwd (`-u NAME[:GROUP]`);
    /// `None` uses the spec's numeric ids.
    pub user: Option<&'a str>,
    pub cgroup: Option<&'a Cgroup>,
    /// Run a small reaping init as pid 1 (`--init`).
    pub init: bool,
    /// Give the command /dev/null as stdin (no `-i`) when `stdio[0]` is
    /// not given.
    pub stdin_null: bool,
    /// The command's stdin, stdout and stderr (`None`: inherited from the
    /// caller). Ignored with a terminal, which is all three.
    pub stdio: [Option<BorrowedFd<'a>>; 3],
    /// The terminal's size (rows, columns), set before the command starts.
    pub winsize: Option<(u16, u16)>,
    /// Name shown by `ps` for the stages (`cc-run [init]`).
    pub label: &'a str,
    /// Runs in the parent once the child exists in its namespaces, while
    /// it mounts its root and before it execs (networking puts a veth into
    /// its namespace here). An error kills the child and is the spawn's
    /// failure.
    pub before_go: Option<&'a dyn Fn(Pid) -> Result<(), Failure>>,
    /// OCI `create`: the FIFO (opened read-only and non-blocking) that
    /// `start` writes a byte to. The child does every step but the execve,
    /// then waits on it; spawn returns once it waits.
    pub hold: Option<BorrowedFd<'a>>,
    /// The container is killed when its parent dies (cc-run's monitor). An
    /// OCI runtime's caller (conmon, a containerd shim) adopts it instead.
    pub die_with_parent: bool,
    /// Fds 3 to 3+N-1 are passed on to the command (`--preserve-fds`).
    pub preserve_fds: u32,
    /// chroot(2) instead of pivot_root(2) (`--no-pivot`, roots on ramfs).
    pub no_pivot: bool,
    /// A session keyring of its own, so the container cannot reach keys of
    /// the host's session (runc's default; `--no-new-keyring` keeps ours).
    pub new_keyring: bool,
    /// OCI createContainer hooks: run in the child, in the container's
    /// namespaces, once the spec's mounts are made and before pivot_root
    /// (so a hook's path resolves on the host). A failure fails the spawn.
    pub create_container: Option<ContainerHook<'a>>,
    /// OCI startContainer hooks: run in the container, as its process,
    /// after `start` and just before the execve; a failure ends the
    /// container instead of running its command.
    pub start_container: Option<ContainerHook<'a>>,
}

/// A started container process.
pub struct Child {
    pub pid: Pid,
    /// The pty master, with a terminal.
    pub pty: Option<OwnedFd>,
    /// Our ends of the command's stdio pipes, when the caller relays them
    /// (`enter::Enter::relay`).
    pub stdio: Option<Pipes>,
}

/// Our ends of the pipes that are a command's stdio: we write its stdin
/// (with `-i`) and read its stdout and stderr.
pub struct Pipes {
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

const STACK: usize = 1 << 20;

/// The report of a child that is set up and waits for `start` (`hold`);
/// failures start with their exit code, which is never 0.
const HELD: u8 = 0;

/// Clones the container's first process and lets it run to its execve.
/// Returns once the command runs, or with the reason it could not.
pub fn spawn(l: &Launch) -> Result<Child, Failure> {
    let (go_r, go_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| sys("create a pipe", e))?;
    let (err_r, err_w) =
        pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| sys("create a pipe", e))?;
    let terminal = l.spec.process.as_ref().is_some_and(|p| p.terminal);
    let socks = match terminal {
        true => Some(socket_pair()?),
        false => None,
    };
    let userns = match l.spec.has_namespace("user") {
        true => Some(userns::create(l.spec)?),
        false => None,
    };
    let joined = namespaces::open_paths(l.spec)?;
    let child_sock = socks.as_ref().map(|(_, b)| b);
    let run = |in_v2| {
        child::main(
            l,
            &go_r,
            &err_w,
            child_sock,
            userns.as_ref(),
            &joined,
            in_v2,
        )
    };
    // A pid namespace to join applies to the children made after setns(2):
    // ours is put back once the clone is done.
    let pid_ns = joined.enter_pid_for_children()?;
    let into = l.cgroup.and_then(|cg| cg.v2_dir()).and_then(open_dir);
    let cloned = match into.map(|fd| clone_into(clone_flags(l.spec), &fd, || run(true))) {
        Some(Ok(pid)) => Ok(pid),
        // A kernel without clone3 or CLONE_INTO_CGROUP (before 5.7), or a
        // group it refuses: the child joins by itself, which says why.
        _ => {
            let mut stack = vec![0u8; STACK];
            // SAFETY: the caller is single-threaded, so the child may
            // allocate; it runs on its own 1 MiB stack and ends in execve
            // or _exit.
            unsafe {
                nix::sched::clone(
                    Box::new(|| run(false)),
                    &mut stack,
                    clone_flags(l.spec),
                    Some(libc::SIGCHLD),
                )
            }
        }
    };
    if let Some(own) = pid_ns {
        namespaces::restore_pid_for_children(own)?;
    }
    let pid = cloned.map_err(|e| sys("create the container's namespaces", e))?;
    drop((go_r, err_w, userns, joined));
    let parent_sock = socks.map(|(a, _)| a);
    // Under systemd the group is a scope made around the waiting child.
    if let Some(cg) = l.cgroup {
        if let Err(e) = cg.attach(pid.as_raw()) {
            kill_and_reap(pid);
            return Err(Failure::from(e));
        }
    }
    nix::unistd::write(&go_w, b"g").map_err(|e| sys("start the container", e))?;
    // While the child mounts its root, the caller sets up what it must
    // from outside (the network); then the second byte.
    if let Err(f) = from_outside(l, pid) {
        kill_and_reap(pid);
        return Err(f);
    }
    // A child that failed while mounting has closed its end: its report,
    // read below, says why.
    let told = nix::unistd::write(&go_w, b"j").is_ok();
    drop(go_w);
    let pty = parent_sock.as_ref().and_then(|s| take_pty(l, s));
    let report = read_report(File::from(err_r), l.hold.is_some());
    if (l.hold.is_some() && report == [HELD]) || (report.is_empty() && told) {
        return Ok(Child {
            pid,
            pty,
            stdio: None,
        });
    }
    let _ = waitpid(pid, None);
    if report.is_empty() {
        return Err(Failure::new(
            125,
            "the container's process ended while it was set up",
        ));
    }
    Err(Failure::decode(&report))
}

/// Connected Unix stream sockets, close-on-exec: with a terminal, the
/// child passes the pty master back on one (SCM_RIGHTS).
pub(super) fn socket_pair() -> Result<(OwnedFd, OwnedFd), Failure> {
    socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| sys("create a socket pair", e))
}

fn kill_and_reap(pid: Pid) {
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = waitpid(pid, None);
}

/// The pty master the child sends, sized to `l.winsize`; the byte `k`
/// then lets the child go on.
fn take_pty(l: &Launch, sock: &OwnedFd) -> Option<OwnedFd> {
    let pty = receive_fd(sock)?;
    if let Some((rows, cols)) = l.winsize {
        crate::sys::set_window_size(pty.as_fd(), rows, cols);
    }
    let _ = nix::unistd::write(sock, b"k");
    Some(pty)
}

/// The child's report on `err`: empty once execve closed it. With `hold`
/// one read: HELD (waiting for `start`) or a failure, each written at
/// once, as the child keeps its end open while it waits.
fn read_report(mut err_r: File, hold: bool) -> Vec<u8> {
    let mut report = Vec::new();
    if hold {
        let mut buf = [0u8; 4096];
        let n = err_r.read(&mut buf).unwrap_or(0);
        report.extend_from_slice(&buf[..n]);
    } else {
        let _ = err_r.read_to_end(&mut report);
    }
    report
}

fn from_outside(l: &Launch, pid: Pid) -> Result<(), Failure> {
    match l.before_go {
        Some(hook) => hook(pid),
        None => Ok(()),
    }
}

/// clone3(2)'s arguments (linux/sched.h, the version with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// A folder opened for CLONE_INTO_CGROUP.
fn open_dir(dir: &std::path::Path) -> Option<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
        .ok()
        .map(OwnedFd::from)
}

/// Clones as fork(2) does (no shared memory, the child on a copy of our
/// stack), into new namespaces and straight into the v2 group `cgroup`
/// (Linux 5.7): the child never migrates, so no `cgroup.procs` write.
/// The child runs `child` and exits with its code.
fn clone_into(
    flags: CloneFlags,
    cgroup: &OwnedFd,
    child: impl FnOnce() -> isize,
) -> nix::Result<nix::unistd::Pid> {
    use std::os::fd::AsRawFd;
    let args = CloneArgs {
        flags: flags.bits() as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3 reads `args` (its size given) and, without CLONE_VM,
    // gives the child its own copy of our memory, as fork does; the caller
    // is single-threaded, so the child may allocate, and it leaves only by
    // execve or _exit.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match r {
        -1 => Err(nix::errno::Errno::last()),
        0 => {
            let code = child();
            // SAFETY: the child's end: no destructors or atexit handlers of
            // the parent's copy run twice.
            unsafe { libc::_exit(code as i32) }
        }
        pid => Ok(nix::unistd::Pid::from_raw(pid as i32)),
    }
}

fn clone_flags(spec: &Spec) -> CloneFlags {
    let mut f = CloneFlags::CLONE_NEWNS;
    for (kind, flag) in [
        ("pid", CloneFlags::CLONE_NEWPID),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("network", CloneFlags::CLONE_NEWNET),
    ] {
        if spec.has_namespace(kind) {
            f |= flag;
        }
    }
    f
}

/// Receives one fd sent with SCM_RIGHTS; `None` if the child died first.
pub(crate) fn receive_fd(sock: &OwnedFd) -> Option<OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut buf = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = socket::recvmsg::<()>(
        sock.as_fd().as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just installed this fd for us.
            return fds.first().map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}
