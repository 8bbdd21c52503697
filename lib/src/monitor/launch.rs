//! The container's process as the monitor starts it: the pipes that carry
//! its stdio (or the pty), the sandbox's launch from the container's
//! record, and its network, connected between the clone and the child's
//! second go.

use std::os::fd::{AsFd, OwnedFd};

use crate::cgroup::Cgroup;
use crate::container::{self, Container};
use crate::sandbox::{self, Failure, Launch, RootSource};
use crate::store::{short_id, Store};

/// The container's stdio pipes; the container's ends are closed in the
/// monitor once the container holds them.
/// The size of each output pipe: a busy container is drained in few turns
/// of the monitor's loop.
const PIPE_SIZE: i32 = 1 << 20;

pub(super) struct Pipes {
    pub out: Option<OwnedFd>,
    pub err: Option<OwnedFd>,
    pub stdin: Option<OwnedFd>,
    pub child: [Option<OwnedFd>; 3],
}

impl Pipes {
    pub(super) fn new(tty: bool, interactive: bool) -> Result<Pipes, Failure> {
        let mut p = Pipes {
            out: None,
            err: None,
            stdin: None,
            child: [None, None, None],
        };
        if tty {
            return Ok(p);
        }
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| {
                Failure::new(
                    125,
                    format!("cannot create a pipe: {}", e.desc().to_lowercase()),
                )
            })
        };
        let (r, w) = pipe()?;
        // F_SETPIPE_SZ: a larger pipe means fewer wakeups per megabyte.
        let _ = nix::fcntl::fcntl(&r, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        p.out = Some(r);
        p.child[1] = Some(w);
        let (r, w) = pipe()?;
        p.err = Some(r);
        p.child[2] = Some(w);
        if interactive {
            let (r, w) = pipe()?;
            p.stdin = Some(w);
            p.child[0] = Some(r);
        }
        Ok(p)
    }
}

pub(super) fn spawn(
    store: &Store,
    c: &Container,
    cg: &Cgroup,
    pipes: &Pipes,
    winsize: Option<(u16, u16)>,
) -> Result<(sandbox::Child, Option<crate::net::Attachment>), Failure> {
    // The network is put together from outside while the child waits in
    // its new namespace (see `net`).
    let net = std::cell::RefCell::new(crate::net::for_container(store, c)?);
    // `--net none`: a namespace of its own with only loopback, up.
    let loopback_only = c.annotation(crate::net::ANN_NET) == Some("none");
    let connect = |pid: nix::unistd::Pid| -> Result<(), Failure> {
        match net.borrow_mut().as_mut() {
            Some(a) => crate::net::connect(store, a, pid.as_raw()).map_err(Failure::from),
            None if loopback_only => crate::net::loopback_up(pid.as_raw()).map_err(Failure::from),
            None => Ok(()),
        }
    };
    let lowers = || c.layers().iter().map(|d| store.layer_dir(d)).collect();
    let root = match c.annotation(container::ANN_ROOTFS) {
        Some(_) => RootSource::Dir,
        // Mounted here, in the user's namespace, so that its daemon is not
        // the container's; unmounted when the container ends.
        None if crate::mount::fuse::in_use()? => {
            if !crate::mount::is_mountpoint(&c.rootfs()) {
                let lowers: Vec<_> = lowers();
                crate::mount::overlay(&lowers, Some((&c.upper(), &c.work())), &c.rootfs())?;
            }
            RootSource::Dir
        }
        None => RootSource::Overlay {
            lowers: lowers(),
            upper: c.upper(),
            work: c.work(),
        },
    };
    let label = format!("cc-run {}", short_id(&c.id));
    let stdio = [0, 1, 2].map(|i| pipes.child[i].as_ref().map(|f| f.as_fd()));
    let child = sandbox::spawn(&Launch {
        spec: &c.spec,
        bundle: &c.dir,
        root,
        user: c.annotation(container::ANN_USER),
        cgroup: Some(cg),
        init: c.annotation(container::ANN_INIT).is_some(),
        stdin_null: c.annotation(container::ANN_INTERACTIVE).is_none(),
        stdio,
        winsize,
        label: &label,
        before_go: Some(&connect),
        hold: None,
        die_with_parent: true,
        preserve_fds: 0,
        no_pivot: false,
        new_keyring: true,
        create_container: None,
        start_container: None,
    });
    let net = net.into_inner();
    match child {
        Ok(child) => Ok((child, net)),
        Err(f) => {
            if let Some(a) = net {
                crate::net::release(store, a);
            }
            Err(f)
        }
    }
}
