//! The last steps, in the process that becomes the command — a container's
//! first process (`child`), `--init`'s forked command (`reaper`) and
//! cc-exec's (`enter`): its signals, its stdio or terminal, the user
//! namespace, the seccomp filter, its ids and capabilities, then execve
//! (`execve`). Also what a stage passes here: `Io` (how stdio is made),
//! `Privileges` (what the command may do) and `Hold` (OCI `create`'s wait
//! for `start`).

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::socket::{self, ControlMessage, MsgFlags};
use nix::unistd;

use super::failure::{sys, Failure};
use super::{caps, execve, rootfs, seccomp, user, userns, Launch, HELD};
use crate::spec::Capabilities;

/// The last steps, in the process that becomes the command: its stdio,
/// its ids, and execve.
pub(super) fn finish(
    io: &Io,
    privileges: &Privileges,
    sock: Option<&OwnedFd>,
    ids: &user::Ids,
    env: &[CString],
    args: &[String],
) -> Result<Infallible, Failure> {
    // The parent blocked the signals it forwards, and may have inherited
    // ignored ones (a shell's background job ignores SIGINT): the command
    // starts with every signal unblocked and at its default.
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    for s in nix::sys::signal::Signal::iterator() {
        if !matches!(
            s,
            nix::sys::signal::Signal::SIGKILL | nix::sys::signal::Signal::SIGSTOP
        ) {
            // SAFETY: restoring the default disposition installs no handler.
            let _ = unsafe { nix::sys::signal::signal(s, nix::sys::signal::SigHandler::SigDfl) };
        }
    }
    match sock {
        Some(s) => {
            terminal(s, io.console)?;
            give_terminal(io, ids)?;
        }
        None => {
            // A session of its own, so no controlling terminal: a terminal
            // among its fds (cc-oci passes the caller's on, as runc does)
            // takes no TIOCSTI without CAP_SYS_ADMIN (tty_ioctl(4)), and
            // a signal to its process group reaches nothing of cc's.
            // EPERM: it leads a group already, and so is in none of ours.
            let _ = unistd::setsid();
            given_stdio(io)?
        }
    }
    if let Some(ns) = io.userns {
        userns::join(ns)?;
    }
    let filter = privileges.seccomp_filter()?;
    // Loading a filter takes CAP_SYS_ADMIN or no_new_privs. Without
    // no_new_privs it goes in while we still have every capability, as
    // runc does: dropping them (prctl, capset, setresuid) is allowed by
    // any sane profile. With no_new_privs it is the very last step.
    if io.hold.is_some() {
        execve::check_found(args, env)?;
    }
    if !privileges.no_new_privileges {
        load_seccomp(&filter)?;
    }
    privileges.enter(ids)?;
    execve::close_other_fds(3 + io.keep_fds);
    if privileges.no_new_privileges {
        load_seccomp(&filter)?;
    }
    if let Some(h) = &io.hold {
        h.wait()?;
        // Nobody reads the report any more: a failure goes to stderr, as
        // runc's does after `start`.
        let f = match io.start_container.map(|hooks| hooks()) {
            Some(Err(f)) => f,
            _ => execve::exec(args, env, ids.umask),
        };
        let _ = unistd::write(std::io::stderr(), format!("{}\n", f.error).as_bytes());
        std::process::exit(f.code as i32);
    }
    if let Some(hooks) = io.start_container {
        hooks()?;
    }
    Err(execve::exec(args, env, ids.umask))
}

/// An OCI `create`d container's last step before execve: say it is ready,
/// then wait until `start` writes to the FIFO.
pub(super) struct Hold<'a> {
    pub fifo: BorrowedFd<'a>,
    pub report: BorrowedFd<'a>,
}

impl Hold<'_> {
    fn wait(&self) -> Result<(), Failure> {
        unistd::write(self.report, &[HELD]).map_err(|e| sys("report the container created", e))?;
        // A FIFO that never had a writer polls as not ready (no POLLHUP)
        // until `start` opens it and writes.
        let mut fds = [nix::poll::PollFd::new(
            self.fifo,
            nix::poll::PollFlags::POLLIN,
        )];
        loop {
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) {
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(sys("wait for start", e)),
            }
        }
        let mut b = [0u8; 1];
        match unistd::read(self.fifo, &mut b) {
            Ok(1) => Ok(()),
            _ => Err(Failure::new(125, "the start signal did not come")),
        }
    }
}

/// Loads the filter; none: unconfined.
fn load_seccomp(filter: &Option<(Vec<seccomp::Insn>, u32)>) -> Result<(), Failure> {
    let Some((program, flags)) = filter else {
        return Ok(());
    };
    seccomp::load(program, *flags).map_err(|e| {
        Failure::new(
            125,
            format!("cannot load the seccomp filter: {}", crate::error::Os(&e)),
        )
    })
}

/// What the command may do: its capabilities, no_new_privs (from the
/// spec's `process`) and its seccomp filter (`linux.seccomp`).
pub struct Privileges {
    pub capabilities: Option<Capabilities>,
    pub no_new_privileges: bool,
    pub seccomp: Option<crate::spec::Seccomp>,
}

impl Privileges {
    pub fn of(spec: &crate::spec::Spec) -> Privileges {
        let p = spec.process.as_ref();
        Privileges {
            capabilities: p.and_then(|p| p.capabilities.clone()),
            no_new_privileges: p.is_some_and(|p| p.no_new_privileges),
            seccomp: spec.linux.as_ref().and_then(|l| l.seccomp.clone()),
        }
    }

    /// The compiled filter (none: unconfined) and seccomp(2)'s flags.
    fn seccomp_filter(&self) -> Result<Option<(Vec<seccomp::Insn>, u32)>, Failure> {
        let bad = |e: String| Failure::new(125, format!("invalid seccomp profile: {e}"));
        match &self.seccomp {
            None => Ok(None),
            Some(s) => Ok(Some((
                seccomp::compile(s).map_err(bad)?,
                seccomp::filter_flags(s).map_err(bad)?,
            ))),
        }
    }

    /// `--init`'s pid 1, once the command is forked: it only reaps and
    /// passes signals on, so it keeps CAP_KILL alone (to signal a command
    /// of another user), sets no_new_privs and takes the command's seccomp
    /// filter: cc's own code in the container holds no more than the
    /// command does.
    pub(super) fn confine_init(&self) -> Result<(), Failure> {
        let filter = self.seccomp_filter()?;
        nix::sys::prctl::set_no_new_privs().map_err(|e| sys("set no_new_privs", e))?;
        caps::keep_only(caps::CAP_KILL)?;
        load_seccomp(&filter)
    }

    /// Trims the bounding set (while we still may), switches to the
    /// user, then sets the capabilities and no_new_privs.
    fn enter(&self, ids: &user::Ids) -> Result<(), Failure> {
        if let Some(c) = &self.capabilities {
            caps::trim_bounding(c)?;
            caps::keep_across_setuid(c);
        }
        user::switch(ids)?;
        if let Some(c) = &self.capabilities {
            caps::apply(c, ids.uid)?;
        }
        if self.no_new_privileges {
            nix::sys::prctl::set_no_new_privs().map_err(|e| sys("set no_new_privs", e))?;
        }
        Ok(())
    }
}

/// How the command's stdio is made.
pub(super) struct Io<'a> {
    /// /dev/null as stdin when `stdio[0]` is not given (no `-i`).
    pub stdin_null: bool,
    /// Fds for 0, 1 and 2; `None` keeps what the process has.
    pub stdio: [Option<BorrowedFd<'a>>; 3],
    /// With a terminal, bind its slave onto /dev/console (a container's
    /// first process, not a `cc-exec`).
    pub console: bool,
    /// The user namespace to join once stdio is set up (binding the
    /// console takes the host's privileges).
    pub userns: Option<BorrowedFd<'a>>,
    /// Fds above stderr passed on to the command (`--preserve-fds`).
    pub keep_fds: u32,
    /// OCI `create`: wait for `start` before the execve.
    pub hold: Option<Hold<'a>>,
    /// The user namespace's uid mappings (empty without one): the
    /// terminal is given to the command's user as the host sees it.
    pub uid_map: Vec<crate::spec::IdMapping>,
    /// The spec's startContainer hooks, run in the container just before
    /// the execve (see `Launch::start_container`).
    pub start_container: Option<ContainerHook<'a>>,
}

/// Hooks run inside the container (OCI createContainer, startContainer).
pub type ContainerHook<'a> = &'a dyn Fn() -> Result<(), Failure>;

impl<'a> Io<'a> {
    pub fn of(l: &Launch<'a>, userns: Option<&'a OwnedFd>, hold: Option<Hold<'a>>) -> Io<'a> {
        let uid_map = match userns {
            Some(_) => l
                .spec
                .linux
                .as_ref()
                .map(|x| x.uid_mappings.clone())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Io {
            stdin_null: l.stdin_null,
            stdio: l.stdio,
            console: true,
            userns: userns.map(|u| u.as_fd()),
            keep_fds: l.preserve_fds,
            hold,
            uid_map,
            start_container: l.start_container,
        }
    }

    /// The command's uid as the host sees it.
    fn host_uid(&self, uid: u32) -> Option<u32> {
        match self.userns {
            Some(_) => crate::spec::IdMapping::to_host(&self.uid_map, uid),
            None => Some(uid),
        }
    }
}

/// As runc's: the terminal belongs to the command's user (its group
/// stays devpts's `gid=5`, tty), so the user may write to it and change
/// its modes (mesg(1), stty).
fn give_terminal(io: &Io, ids: &user::Ids) -> Result<(), Failure> {
    let Some(uid) = io.host_uid(ids.uid) else {
        return Ok(());
    };
    // SAFETY: fchown of our own stdin, the pty slave; -1 keeps the group.
    if unsafe { libc::fchown(0, uid, u32::MAX) } < 0 {
        return Err(sys("give the terminal to the user", nix::Error::last()));
    }
    Ok(())
}

/// Puts the given fds on 0, 1 and 2, and /dev/null on stdin without `-i`.
fn given_stdio(io: &Io) -> Result<(), Failure> {
    if io.stdio[0].is_none() && io.stdin_null {
        let null = nix::fcntl::open(
            "/dev/null",
            nix::fcntl::OFlag::O_RDONLY,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| sys("open /dev/null", e))?;
        unistd::dup2_stdin(&null).map_err(|e| sys("set stdin", e))?;
    }
    let dups: [fn(BorrowedFd) -> nix::Result<()>; 3] = [
        |f| unistd::dup2_stdin(f),
        |f| unistd::dup2_stdout(f),
        |f| unistd::dup2_stderr(f),
    ];
    for (fd, dup) in io.stdio.iter().zip(dups) {
        if let Some(fd) = fd {
            dup(*fd).map_err(|e| sys("set up stdio", e))?;
        }
    }
    Ok(())
}

/// Opens a pty inside the container's devpts, sends the master to the
/// parent, and makes the slave the controlling terminal and stdio.
fn terminal(sock: &OwnedFd, console: bool) -> Result<(), Failure> {
    use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
    let flags =
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_CLOEXEC;
    let master = posix_openpt(flags).map_err(|e| sys("open /dev/ptmx", e))?;
    grantpt(&master).map_err(|e| sys("grant the pty", e))?;
    unlockpt(&master).map_err(|e| sys("unlock the pty", e))?;
    let name = ptsname_r(&master).map_err(|e| sys("name the pty", e))?;
    let slave = nix::fcntl::open(
        name.as_str(),
        nix::fcntl::OFlag::O_RDWR,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| sys("open the pty", e))?;
    if console {
        rootfs::bind_console(&name)?;
    }
    let fds = [master.as_raw_fd()];
    let iov = [std::io::IoSlice::new(b"p")];
    socket::sendmsg::<()>(
        sock.as_fd().as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| sys("pass the pty", e))?;
    drop(master);
    // Wait until the parent has set the window size: the command's first
    // look at its terminal (`stty size`, a shell's prompt) must see it.
    let mut ack = [0u8; 1];
    let _ = unistd::read(sock, &mut ack);
    unistd::setsid().map_err(|e| sys("start a session", e))?;
    // SAFETY: TIOCSCTTY on a slave we own; 0 = do not steal.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(sys("set the controlling terminal", nix::Error::last()));
    }
    unistd::dup2_stdin(&slave).map_err(|e| sys("set stdin", e))?;
    unistd::dup2_stdout(&slave).map_err(|e| sys("set stdout", e))?;
    unistd::dup2_stderr(&slave).map_err(|e| sys("set stderr", e))?;
    Ok(())
}
