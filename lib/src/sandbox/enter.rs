//! A new process inside a running container (cc-exec): the same
//! namespaces, cgroup, root, user lookup and environment as its first
//! process. The caller forks a child that joins the cgroup (while the host's
//! /sys/fs/cgroup is still visible), then the namespaces, then the root;
//! since a pid namespace takes effect for children only, that child forks
//! once more, and the grandchild becomes the command (the same last steps
//! as a container's first process). The child waits for it, passes on
//! the signals it is sent, and exits with its status.
//!
//! Nothing of the caller's terminal reaches the command: the child starts
//! a session of its own and holds /dev/null as stdio, and the command
//! starts another. With `relay` (cc-exec) the command's stdio are pipes
//! the caller copies to and from its own fds, as podman exec's conmon
//! does: a program in the container can neither push input into the
//! caller's terminal (TIOCSTI) nor reopen the caller's files through
//! /proc/self/fd. Without it (cc-oci) the command gets the caller's fds,
//! as runc gives them; its callers (conmon, containerd's shims) give pipes.

use std::convert::Infallible;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::sched::{setns, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use super::command::{self, Io};
use super::failure::sys;
use super::{execve, user, Child, Failure};
use crate::cgroup::Cgroup;

pub struct Enter<'a> {
    /// The container's first process, whose namespaces are joined.
    pub pid: i32,
    pub args: &'a [String],
    pub env: &'a [String],
    pub user: Who<'a>,
    pub cwd: &'a str,
    pub cgroup: Option<&'a Cgroup>,
    pub tty: bool,
    /// /dev/null as stdin (no `-i`).
    pub stdin_null: bool,
    /// `-d`: /dev/null as stdout and stderr too, so the command holds
    /// nothing of the caller's (a pipe it reads would never end).
    pub detach: bool,
    /// Pipes as the command's stdio (stdin too unless `stdin_null`), whose
    /// other ends come back in `Child::stdio` for the caller to relay;
    /// otherwise (cc-oci) the command gets the caller's own fds. Not with
    /// a terminal or `detach`.
    pub relay: bool,
    /// The container's capabilities and no_new_privs.
    pub privileges: &'a super::Privileges,
    /// `cc-oci exec --detach`: the process that forked the command exits
    /// at once, so the command is adopted by the caller's subreaper (conmon,
    /// a shim), and the returned pid is the command's own.
    pub reparent: bool,
    /// With a terminal: runs on the pty master before the command may go
    /// on (cc-oci hands it to the console socket here and waits for the
    /// caller to size it).
    pub on_pty: Option<PtyHook<'a>>,
    /// Fds 3 to 3+N-1 of the caller passed on to the command
    /// (`cc-oci exec --preserve-fds`).
    pub keep_fds: u32,
}

/// What runs on a new pty master before the command goes on.
pub type PtyHook<'a> = &'a dyn Fn(&OwnedFd) -> Result<(), Failure>;

/// Who the command runs as.
pub enum Who<'a> {
    /// USER[:GROUP], looked up in the container's /etc/passwd, and the
    /// `--group-add` groups of the container's annotations.
    Name(&'a str, &'a std::collections::BTreeMap<String, String>),
    /// The ids of an OCI process object, as they are.
    Spec(&'a crate::spec::User),
}

const NAMESPACES: [(&str, CloneFlags); 6] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// Starts the command; returns once it runs (the pid is the child that
/// waits for it and exits with its status), or why it could not.
pub fn enter(e: &Enter) -> Result<Child, Failure> {
    // Only those the container has of its own: joining one it shares with
    // us (a cgroup namespace of the host's, under rootless podman) would
    // need the rights of the namespace's owner, for nothing.
    let ns: Vec<(File, CloneFlags)> = NAMESPACES
        .iter()
        .filter(|(name, _)| !shared_with_us(e.pid, name))
        .filter_map(|(name, flag)| {
            File::open(format!("/proc/{}/ns/{name}", e.pid))
                .ok()
                .map(|f| (f, *flag))
        })
        .collect();
    let userns = super::userns::Maps::of_process(e.pid)?;
    let root = File::open(format!("/proc/{}/root", e.pid))
        .map_err(|err| Failure::new(125, format!("cannot open the container's root: {err}")))?;
    let (err_r, err_w) =
        pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|x| sys("create a pipe", x))?;
    let (pid_r, pid_w) =
        pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|x| sys("create a pipe", x))?;
    let pipes = match e.relay && !e.tty && !e.detach {
        true => Some(relay_pipes(e.stdin_null)?),
        false => None,
    };
    let socks = match e.tty {
        true => Some(super::socket_pair()?),
        false => None,
    };
    // SAFETY: the caller is single-threaded; the child ends in exec or exit.
    match unsafe { fork() }.map_err(|x| sys("fork", x))? {
        ForkResult::Child => {
            drop((err_r, pid_r));
            let sock = socks.as_ref().map(|(_, b)| b);
            let theirs = pipes.as_ref().map(|(_, t)| t);
            let Err(f) = join_and_run(e, &ns, &root, userns.as_ref(), sock, theirs, &pid_w);
            let _ = nix::unistd::write(&err_w, &f.encode());
            std::process::exit(f.code as i32);
        }
        ForkResult::Parent { child } => {
            drop((err_w, pid_w));
            let stdio = pipes.map(|(ours, _)| ours);
            let command = match e.reparent {
                true => read_pid(pid_r, child),
                false => None,
            };
            let pty = match &socks {
                Some((a, _)) => take_pty(e, a, child)?,
                None => None,
            };
            let mut report = Vec::new();
            let _ = File::from(err_r).read_to_end(&mut report);
            if report.is_empty() {
                return Ok(Child {
                    pid: command.unwrap_or(child),
                    pty,
                    stdio,
                });
            }
            let _ = waitpid(child, None);
            Err(Failure::decode(&report))
        }
    }
}

/// Whether process `pid` is in this process's namespace `name`.
fn shared_with_us(pid: i32, name: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let id = |p: String| std::fs::metadata(p).map(|m| (m.dev(), m.ino())).ok();
    let theirs = id(format!("/proc/{pid}/ns/{name}"));
    theirs.is_some() && theirs == id(format!("/proc/self/ns/{name}"))
}

/// The pty master the child sends, sized as the caller's terminal and
/// given to `e.on_pty` (whose failure kills the child); the byte `k` then
/// lets the child go on.
fn take_pty(e: &Enter, sock: &OwnedFd, child: Pid) -> Result<Option<OwnedFd>, Failure> {
    let Some(pty) = super::receive_fd(sock) else {
        return Ok(None);
    };
    if let Some((rows, cols)) = crate::sys::window_size(std::io::stdin().as_fd()) {
        crate::sys::set_window_size(pty.as_fd(), rows, cols);
    }
    if let Some(hook) = e.on_pty {
        if let Err(f) = hook(&pty) {
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Err(f);
        }
    }
    let _ = nix::unistd::write(sock, b"k");
    Ok(Some(pty))
}

fn join_and_run(
    e: &Enter,
    ns: &[(File, CloneFlags)],
    root: &File,
    userns: Option<&(super::userns::Maps, File)>,
    sock: Option<&OwnedFd>,
    pipes: Option<&[Option<OwnedFd>; 3]>,
    pid_pipe: &OwnedFd,
) -> Result<Infallible, Failure> {
    // A process from the host inside the container: not dumpable, so the
    // container's processes cannot open our /proc/PID/exe (CVE-2019-5736).
    let _ = nix::sys::prctl::set_dumpable(false);
    // Out of the caller's session and process group: the caller's terminal
    // signals cc-exec alone, which passes them on through us.
    let _ = nix::unistd::setsid();
    if let Some(cg) = e.cgroup {
        cg.add(0)?;
    }
    for (f, flag) in ns {
        setns(f.as_fd(), *flag).map_err(|x| sys("join the container's namespaces", x))?;
    }
    nix::unistd::fchdir(root.as_fd()).map_err(|x| sys("enter the container's root", x))?;
    nix::unistd::chroot(".").map_err(|x| sys("enter the container's root", x))?;
    let ids = match e.user {
        Who::Name(name, annotations) => user::lookup_in_root(name, annotations)?,
        Who::Spec(u) => user::Ids::from_spec(u),
    };
    let env = execve::environment(e.env, &ids);
    if let Some((maps, _)) = userns {
        maps.check(&ids)?;
        maps.act_as_root()?;
    }
    execve::enter_workdir(e.cwd, &ids)?;
    // Blocked before the fork so no signal slips in before we pass them
    // on; the command unblocks every signal.
    let mask = super::reaper::forwarded_mask();
    nix::sys::signal::sigprocmask(nix::sys::signal::SigmaskHow::SIG_BLOCK, Some(&mask), None)
        .map_err(|x| sys("block signals", x))?;
    // SAFETY: single-threaded; the grandchild ends in exec or exit.
    match unsafe { fork() }.map_err(|x| sys("fork", x))? {
        ForkResult::Child => {
            let null = match e.detach {
                true => Some(open_null()?),
                false => None,
            };
            let out = null.as_ref().map(|f| f.as_fd());
            let stdio = match pipes {
                Some(p) => [0, 1, 2].map(|i| p[i].as_ref().map(|f| f.as_fd())),
                None => [None, out, out],
            };
            let io = Io {
                stdin_null: e.stdin_null,
                stdio,
                console: false,
                userns: userns.map(|(_, ns)| ns.as_fd()),
                keep_fds: e.keep_fds,
                hold: None,
                uid_map: userns.map(|(m, _)| m.uid_map()).unwrap_or_default(),
                start_container: None,
            };
            command::finish(&io, e.privileges, sock, &ids, &env, e.args)
        }
        ForkResult::Parent { child } => {
            if e.reparent {
                let _ = nix::unistd::write(pid_pipe, &child.as_raw().to_ne_bytes());
                // SAFETY: leaving without running anything of the parent's.
                unsafe { libc::_exit(0) };
            }
            // The waiter holds nothing of the caller's: not its terminal,
            // not a pipe a reader waits on to end.
            if let Ok(null) = open_null() {
                for fd in 0..3 {
                    // SAFETY: dup2 onto our own stdio.
                    unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) };
                }
            }
            super::reaper::reap(child, &mask)
        }
    }
}

fn open_null() -> Result<File, Failure> {
    File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|x| Failure::new(125, format!("cannot open /dev/null: {x}")))
}

/// The pipes of a relayed command: ours (its stdin's write end unless
/// `stdin_null`, its stdout's and stderr's read ends) and its own ends,
/// by fd number. All close-on-exec: the command's are dup2'd onto 0-2.
fn relay_pipes(stdin_null: bool) -> Result<(super::Pipes, [Option<OwnedFd>; 3]), Failure> {
    let pipe = || pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|x| sys("create a pipe", x));
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin, their_in) = match stdin_null {
        true => (None, None),
        false => {
            let (r, w) = pipe()?;
            (Some(w), Some(r))
        }
    };
    let ours = super::Pipes {
        stdin,
        stdout: out_r,
        stderr: err_r,
    };
    Ok((ours, [their_in, Some(out_w), Some(err_w)]))
}

/// The command's pid, sent by the forking child before it exits; the
/// child is reaped here so it leaves no zombie.
fn read_pid(pipe: OwnedFd, child: Pid) -> Option<Pid> {
    let mut b = [0u8; 4];
    let got = File::from(pipe).read_exact(&mut b).is_ok();
    if got {
        let _ = waitpid(child, None);
    }
    got.then(|| Pid::from_raw(i32::from_ne_bytes(b)))
}
