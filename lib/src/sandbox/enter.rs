//! A new process inside a running container (cc-exec): the same
//! namespaces, cgroup, root, user lookup and environment as its first
//! process. The caller forks a child that joins the cgroup (while the host's
//! /sys/fs/cgroup is still visible), then the namespaces, then the root;
//! since a pid namespace takes effect for children only, that child forks
//! once more, and the grandchild becomes the command (the same last steps
//! as a container's first process). The child waits for it and exits with
//! its status.

use std::convert::Infallible;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use super::child::{command, sys, Io};
use super::{exec, user, Child, Failure};
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
}

/// What runs on a new pty master before the command goes on.
pub type PtyHook<'a> = &'a dyn Fn(&OwnedFd) -> Result<(), Failure>;

/// Who the command runs as.
pub enum Who<'a> {
    /// USER[:GROUP], looked up in the container's /etc/passwd.
    Name(&'a str),
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
    let ns: Vec<(File, CloneFlags)> = NAMESPACES
        .iter()
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
    let socks = if e.tty {
        Some(
            socket::socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .map_err(|x| sys("create a socket pair", x))?,
        )
    } else {
        None
    };
    // SAFETY: the caller is single-threaded; the child ends in exec or exit.
    match unsafe { fork() }.map_err(|x| sys("fork", x))? {
        ForkResult::Child => {
            drop((err_r, pid_r));
            let sock = socks.as_ref().map(|(_, b)| b);
            let Err(f) = join_and_run(e, &ns, &root, userns.as_ref(), sock, &pid_w);
            let mut report = vec![f.code];
            report.extend_from_slice(f.message.as_bytes());
            let _ = nix::unistd::write(&err_w, &report);
            std::process::exit(f.code as i32);
        }
        ForkResult::Parent { child } => {
            drop((err_w, pid_w));
            let command = match e.reparent {
                true => read_pid(pid_r, child),
                false => None,
            };
            let pty = socks.as_ref().and_then(|(a, _)| super::receive_fd(a));
            if let (Some(pty), Some((a, _))) = (&pty, &socks) {
                if let Some((rows, cols)) = crate::sys::window_size(std::io::stdin().as_fd()) {
                    crate::sys::set_window_size(pty.as_fd(), rows, cols);
                }
                if let Some(hook) = e.on_pty {
                    if let Err(f) = hook(pty) {
                        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                        let _ = waitpid(child, None);
                        return Err(f);
                    }
                }
                let _ = nix::unistd::write(a, b"k");
            }
            let mut report = Vec::new();
            let _ = File::from(err_r).read_to_end(&mut report);
            if report.is_empty() {
                return Ok(Child {
                    pid: command.unwrap_or(child),
                    pty,
                });
            }
            let _ = waitpid(child, None);
            Err(Failure::new(
                report[0],
                String::from_utf8_lossy(&report[1..]).into_owned(),
            ))
        }
    }
}

fn join_and_run(
    e: &Enter,
    ns: &[(File, CloneFlags)],
    root: &File,
    userns: Option<&(super::userns::Maps, File)>,
    sock: Option<&OwnedFd>,
    pid_pipe: &OwnedFd,
) -> Result<Infallible, Failure> {
    // A process from the host inside the container: not dumpable, so the
    // container's processes cannot open our /proc/PID/exe (CVE-2019-5736).
    let _ = nix::sys::prctl::set_dumpable(false);
    if let Some(cg) = e.cgroup {
        cg.add(0)?;
    }
    for (f, flag) in ns {
        setns(f.as_fd(), *flag).map_err(|x| sys("join the container's namespaces", x))?;
    }
    nix::unistd::fchdir(root.as_fd()).map_err(|x| sys("enter the container's root", x))?;
    nix::unistd::chroot(".").map_err(|x| sys("enter the container's root", x))?;
    let ids = match e.user {
        Who::Name(name) => user::lookup_in_root(name)?,
        Who::Spec(u) => user::Ids::from_spec(u),
    };
    let env = exec::environment(e.env, &ids);
    if let Some((maps, _)) = userns {
        maps.check(&ids)?;
        maps.act_as_root()?;
    }
    exec::enter_workdir(e.cwd, &ids)?;
    // SAFETY: single-threaded; the grandchild ends in exec or exit.
    match unsafe { fork() }.map_err(|x| sys("fork", x))? {
        ForkResult::Child => {
            let null = match e.detach {
                true => Some(
                    File::options()
                        .write(true)
                        .open("/dev/null")
                        .map_err(|x| Failure::new(125, format!("cannot open /dev/null: {x}")))?,
                ),
                false => None,
            };
            let out = null.as_ref().map(|f| f.as_fd());
            let io = Io {
                stdin_null: e.stdin_null,
                stdio: [None, out, out],
                console: false,
                userns: userns.map(|(_, ns)| ns.as_fd()),
                keep_fds: 0,
                hold: None,
            };
            command(&io, e.privileges, sock, &ids, &env, e.args)
        }
        ForkResult::Parent { child } => {
            if e.reparent {
                let _ = nix::unistd::write(pid_pipe, &child.as_raw().to_ne_bytes());
                // SAFETY: leaving without running anything of the parent's.
                unsafe { libc::_exit(0) };
            }
            if e.detach {
                // Nor does the waiter keep the caller's output open.
                if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
                    for fd in 0..3 {
                        // SAFETY: dup2 onto our own stdio.
                        unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) };
                    }
                }
            }
            super::exec::close_other_fds(3);
            // Our copies of the pipe and socket must not hold them open.
            for fd in 3..1024 {
                // SAFETY: closing fds this process no longer needs.
                unsafe { libc::close(fd) };
            }
            std::process::exit(pass_on(child))
        }
    }
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

/// The waiting child's exit code: the command's, or 128+N for signal N.
fn pass_on(child: Pid) -> i32 {
    crate::sys::wait_exit(child).unwrap_or(125)
}
