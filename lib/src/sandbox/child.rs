//! The child's stages, in order. Everything here runs in the cloned child,
//! which is pid 1 of its namespace, and ends in execve or in a failure
//! report to the parent.

use std::convert::Infallible;
use std::os::fd::{AsFd, OwnedFd};

use nix::sched::{unshare, CloneFlags};
use nix::unistd;

use super::command::{self, Hold, Io, Privileges};
use super::failure::{sys, Failure};
use super::namespaces::Joined;
use super::{execve, limits, reaper, rootfs, user, userns, Launch};

/// Runs the stages; on failure reports to the parent and returns the exit
/// code for clone's callback. `in_v2`: clone3 started us in the group's
/// v2 folder already (`sandbox::clone_into`).
pub(super) fn main(
    l: &Launch,
    go: &OwnedFd,
    err: &OwnedFd,
    sock: Option<&OwnedFd>,
    userns: Option<&OwnedFd>,
    joined: &Joined,
    in_v2: bool,
) -> isize {
    let Err(f) = stages(l, go, err, sock, userns, joined, in_v2);
    let _ = unistd::write(err, &f.encode());
    f.code as isize
}

fn stages(
    l: &Launch,
    go: &OwnedFd,
    err: &OwnedFd,
    sock: Option<&OwnedFd>,
    userns: Option<&OwnedFd>,
    joined: &Joined,
    in_v2: bool,
) -> Result<Infallible, Failure> {
    first_settings(l);
    let mut b = [0u8; 1];
    if unistd::read(go, &mut b) != Ok(1) {
        return Err(Failure::new(
            125,
            "the parent went away before the container started",
        ));
    }
    join(l, joined, in_v2)?;
    let maps = match userns {
        Some(_) => Some(userns::Maps::of_spec(l.spec)?),
        None => None,
    };
    if let Some(m) = &maps {
        m.act_as_root()?;
    }
    rootfs::prepare(l, userns)?;
    joined.back_to_runtime_mounts()?;
    // Meanwhile the parent has set up our network, overlapping with the
    // mounts above. A second byte says so.
    if unistd::read(go, &mut b) != Ok(1) {
        return Err(Failure::new(
            125,
            "the container could not be set up from outside",
        ));
    }
    let process = l
        .spec
        .process
        .as_ref()
        .ok_or_else(|| Failure::new(125, "the spec has no process"))?;
    let ids = match l.user {
        Some(u) => user::lookup_in_root(u, &l.spec.annotations)?,
        None => user::Ids::from_spec(&process.user),
    };
    limits::apply(process)?;
    let env = execve::environment(&process.env, &ids);
    execve::enter_workdir(&process.cwd, &ids)?;
    if let Some(m) = &maps {
        m.check(&ids)?;
    }
    if l.init {
        reaper::fork_and_reap(l, sock, userns, &ids, &env, &process.args)
    } else {
        let hold = l.hold.map(|fifo| Hold {
            fifo,
            report: err.as_fd(),
        });
        command::finish(
            &Io::of(l, userns, hold),
            &Privileges::of(l.spec),
            sock,
            &ids,
            &env,
            &process.args,
        )
    }
}

/// What holds from the first instruction: the stage's name, not
/// dumpable, no umask, death with the parent.
fn first_settings(l: &Launch) {
    crate::sys::name_process(&format!("{} [init]", l.label));
    // Until exec we are cc's own binary inside the container: not
    // dumpable, so nothing there may open our /proc/PID/exe or ptrace us
    // (CVE-2019-5736). execve of the command makes it dumpable again; an
    // `--init` pid 1 stays protected.
    let _ = nix::sys::prctl::set_dumpable(false);
    // Modes given to mknod and mkdir are meant as given; exec restores 022.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    // The container dies with its monitor: nobody would read its output,
    // log its exit or clean up after it. Set before waiting for `go`, so a
    // parent that dies in between is noticed either way.
    if l.die_with_parent {
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Once the parent says go: the cgroup, the namespaces named by path, a
/// new session keyring, then the new cgroup namespace and the hostname.
fn join(l: &Launch, joined: &Joined, in_v2: bool) -> Result<(), Failure> {
    if let Some(cg) = l.cgroup {
        cg.join_self(in_v2)?;
    }
    joined.join()?;
    if l.new_keyring {
        join_new_keyring()?;
    }
    if l.spec.has_namespace("cgroup") {
        // After joining: the namespace's root is the container's group.
        unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|e| sys("create the cgroup namespace", e))?;
    }
    if l.spec.has_namespace("uts") {
        if let Some(h) = &l.spec.hostname {
            unistd::sethostname(h).map_err(|e| sys("set the hostname", e))?;
        }
    }
    Ok(())
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session
/// keyring. A kernel without keys (ENOSYS) has nothing to isolate.
fn join_new_keyring() -> Result<(), Failure> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: a NULL name asks for an anonymous keyring; no memory is passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    match rc >= 0 || nix::errno::Errno::last() == nix::errno::Errno::ENOSYS {
        true => Ok(()),
        false => Err(sys("create a session keyring", nix::errno::Errno::last())),
    }
}
