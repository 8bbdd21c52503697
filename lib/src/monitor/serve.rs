//! The monitor's life, top to bottom: detach, listen, start the container,
//! then one poll loop that logs its output, serves attached clients and
//! waits for it to end; then the exit record, written before any cleanup.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};

use super::attach;
use super::clients::{accept_within, first_client, listen, Client, Sink};
use super::launch::{spawn, Pipes};
use super::log::{LogWriter, Stream};
use crate::cgroup::Cgroup;
use crate::container::exit::Reserved;
use crate::container::{self, state::pid_start_time, Container, Status};
use crate::sandbox::Failure;
use crate::store::Store;
use crate::sys;

pub(super) fn run(root: &Path, id: &str, attach_first: bool, mut report: File) -> ExitCode {
    // One malloc arena: a thread of the setup (loading records, say)
    // would leave an arena of its own behind, 68 kB resident for the
    // container's whole life (bench/monitor-rss.sh).
    // SAFETY: mallopt only sets a parameter of the allocator.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
    detach();
    let store = match Store::open(root) {
        Ok(s) => s,
        Err(e) => return fail(&mut report, Failure::from(e)),
    };
    let mut c = match container::load(&store, id) {
        Ok(c) => c,
        Err(e) => return fail(&mut report, Failure::from(e)),
    };
    match Monitor::start(&store, &mut c, attach_first, &mut report, None) {
        Ok(m) => {
            let _ = writeln!(report, "started {}", m.pid.as_raw());
            drop(report);
            shed_code_pages();
            super::restart::serve(&store, &mut c, m);
            ExitCode::SUCCESS
        }
        Err(f) => {
            let _ = container::remove(&store, &c);
            fail(&mut report, f)
        }
    }
}

fn fail(report: &mut File, f: Failure) -> ExitCode {
    let _ = writeln!(report, "{}", f.to_line());
    ExitCode::from(f.code)
}

/// A new session, no terminal, stdio on /dev/null; orphans of ours are
/// reparented to us (we reap them) rather than to init.
fn detach() {
    let _ = nix::unistd::setsid();
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: replacing our own stdio with /dev/null.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // SAFETY: ignoring SIGPIPE installs no handler; a client that goes
    // away is seen as EPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    std::env::remove_var("CC_MONITOR");
    std::env::remove_var("CC_MONITOR_FD");
}

/// Drops the pages of program code that setting up touched (the CLI, the
/// sandbox, serde) from our resident set: the monitor then idles with only
/// the few pages its loop runs, and any other page faults back in from the
/// page cache when needed. Only executable mappings are dropped: code is
/// never written, so MADV_DONTNEED loses nothing (data pages would lose
/// their relocations).
fn shed_code_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    // smaps: a header line per mapping, then "Key: value" lines.
    let mut current: Option<(usize, usize, bool)> = None;
    let shed = |m: Option<(usize, usize, bool)>, anon_kb: u64| {
        if let Some((start, end, exec)) = m {
            // A read-only mapping with no private copies is the file's
            // pages as they are: safe to drop. Relocated data (RELRO) has
            // private copies and is kept.
            if exec || anon_kb == 0 {
                // SAFETY: the range is one of our own read-only mappings
                // whose pages equal the file's.
                unsafe {
                    libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
                };
            }
            if exec {
                // No fault-around for code: each page the loop runs comes
                // back alone, not with its 15 neighbours.
                // SAFETY: an advice flag on our own mapping.
                unsafe {
                    libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM)
                };
            }
        }
    };
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let (Some(first), Some(second)) = (f.next(), f.next()) else {
            continue;
        };
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            current = match (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                (Ok(start), Ok(end))
                    if (second == "r-xp" || second == "r--p")
                        && !line.contains("[vdso]")
                        && !line.contains("[vvar")
                        && !line.contains("[vsyscall]") =>
                {
                    Some((start, end, second == "r-xp"))
                }
                _ => None,
            };
        } else if first == "Anonymous:" {
            shed(current.take(), second.parse().unwrap_or(1));
        }
    }
}

/// One read of container output; with launch.rs's 1 MiB pipes, a busy
/// container is drained in few turns of the loop.
const READ_SIZE: usize = 256 * 1024;

/// A read at least this big, but short of READ_SIZE, means a program is
/// streaming output: the monitor then pauses COALESCE before reading again
/// (the pipe holds 10 ms of 100 MB/s), which cuts its wake-ups, and so its
/// CPU, by an order of magnitude. Interactive output is smaller and goes
/// through at once.
const BULK: usize = 4096;
const COALESCE: Duration = Duration::from_millis(1);

/// Clients that fall this far behind are dropped rather than stall the
/// container's output.
const CLIENT_BACKLOG: usize = 16 << 20;

pub(super) struct Monitor {
    pid: nix::unistd::Pid,
    listener: UnixListener,
    signals: SignalFd,
    clients: Vec<Client>,
    /// stdout and stderr pipes, or the pty master as stdout.
    outputs: Vec<(Stream, OwnedFd)>,
    stdin: Option<Sink<OwnedFd>>,
    pty: Option<OwnedFd>,
    log: LogWriter,
    /// The exit record's reserved place.
    exit: Reserved,
    cgroup: Cgroup,
    /// OOM kills seen while it ran (systemd scopes vanish when emptied).
    oom: Option<crate::cgroup::OomWatch>,
    /// The container's address and host ports, released when it ends.
    net: Option<crate::net::Attachment>,
    /// One read buffer for all output (dropped while idle).
    buf: Vec<u8>,
    /// The container's monitor lock (see `container::monitor_lock`).
    _held: File,
    /// The healthcheck's schedule, if the container has a check.
    health: Option<super::health::Checks>,
    /// Something happened since the last idle trim.
    busy: bool,
    /// We were told to end (SIGTERM, SIGINT, SIGQUIT: a shutdown) and
    /// passed it on: no `--restart` after that.
    pub(super) told_to_end: bool,
}

impl Monitor {
    /// Starts the container; `held` is the monitor lock when a restart
    /// kept it.
    pub(super) fn start(
        store: &Store,
        c: &mut Container,
        attach_first: bool,
        report: &mut File,
        held: Option<File>,
    ) -> Result<Monitor, Failure> {
        // Held for our whole life: a later start waits for it, so it never
        // races our cleanup (the socket, the cgroup of the same name).
        let held = match held {
            Some(f) => f,
            None => container::monitor_lock(c)?,
        };
        let listener = listen(c)?;
        let signals = sys::signalfd(&[
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ])?;
        let _ = writeln!(report, "listening");
        let tty = c.spec.process.as_ref().is_some_and(|p| p.terminal);
        let (clients, winsize) = match attach_first {
            true => first_client(&listener, report, tty),
            false => (Vec::new(), None),
        };
        let interactive = c.annotation(container::ANN_INTERACTIVE).is_some();
        let log_max = c
            .annotation(container::ANN_LOG_MAX)
            .and_then(|s| s.parse().ok());
        let log = LogWriter::open(&c.dir.join("ctr.log"), log_max)
            .map_err(|e| Failure::from(crate::Error::io("open", c.dir.join("ctr.log"), e)))?;
        let pipes = Pipes::new(tty, interactive)?;
        let cgroup = Cgroup::create(&c.cgroup_name(), &c.resources()?)?;
        let (child, net) = match spawn(store, c, &cgroup, &pipes, winsize) {
            Ok(ch) => ch,
            Err(f) => {
                let _ = cgroup.remove();
                return Err(f);
            }
        };
        mark_running(c, child.pid);
        // The exit record's place, taken while there is room (exit.rs).
        let exit = container::exit::reserve(&c.dir).map_err(Failure::from)?;
        c.save_state()?;
        if let Some(a) = &net {
            crate::net::event(store, a, "connect");
        }
        container::event(store, c, "start", &[]);
        let health = super::health::Checks::start(c);
        // The container's ends are closed here, so its exit gives us EOF.
        let Pipes {
            out,
            err,
            stdin,
            child: _,
        } = pipes;
        let outputs = outputs(child.pty.as_ref(), out, err)?;
        let _ = sys::set_nonblocking(listener.as_fd(), true);
        Ok(Monitor {
            pid: child.pid,
            listener,
            signals,
            clients,
            outputs,
            stdin: stdin.map(Sink::new),
            pty: child.pty,
            log,
            exit,
            oom: cgroup.watch_oom(),
            cgroup,
            net,
            buf: Vec::new(),
            health,
            busy: false,
            told_to_end: false,
            _held: held,
        })
    }

    /// The monitor lock, for the next start; the rest is dropped.
    pub(super) fn into_lock(self) -> File {
        self._held
    }

    /// The loop; returns once the container has ended and all is recorded.
    pub(super) fn serve(&mut self, store: &Store, c: &mut Container) {
        let mut status = None;
        let mut deadline = None;
        loop {
            if status.is_some()
                && (self.outputs.is_empty() || deadline.is_some_and(|d| Instant::now() > d))
            {
                break;
            }
            let child_ended = self.poll_once(status.is_some(), store, c);
            if status.is_none() && child_ended {
                status = self.reap(store, c);
                if status.is_some() {
                    // Whatever is still in the pipes is read, but not forever
                    // (a process that escaped the namespace could hold them).
                    deadline = Some(Instant::now() + Duration::from_secs(2));
                }
            }
        }
        if let Some(h) = self.health.take() {
            h.stop(c);
        }
        let now = crate::time::now_rfc3339();
        let _ = self.log.finish(&now);
        let oom_seen = self.oom.as_mut().is_some_and(|w| w.check());
        let code = record_exit(
            store,
            c,
            status.unwrap_or(WaitStatus::StillAlive),
            self.cgroup.oom_killed() || oom_seen,
            &self.exit,
        );
        // Before telling the clients: the network (its ports free again)
        // and, with --rm, the record and name, by quick renames; so a
        // foreground `cc-run --rm` returns with the name free to reuse.
        // The slow deletions come after.
        crate::mount::fuse::unmount_root(&c.rootfs());
        let mut net = self.net.take();
        if let Some(a) = &mut net {
            crate::net::release_ports(store, a);
        }
        let doomed = match c.annotation(container::ANN_RM) {
            Some(_) => container::unlist(store, c).ok(),
            None => None,
        };
        if doomed.is_some() {
            // docker run --rm takes its anonymous volumes along, before
            // cc-run returns.
            let _ = crate::volume::remove_anonymous(store, c);
        }
        let exit = attach::frame(attach::EXIT, &code.to_be_bytes());
        for cl in &mut self.clients {
            let _ = cl.sink.push(&exit);
            let _ = sys::set_nonblocking(cl.sink.io.as_fd(), false);
            let _ = cl.sink.flush();
        }
        self.clients.clear();
        if let Some(a) = net {
            crate::net::event(store, &a, "disconnect");
            crate::net::release(store, a);
        }
        let _ = self.cgroup.remove();
        match doomed {
            Some(dir) => {
                let _ = crate::tree::remove_tree(&dir);
                container::event(store, c, "destroy", &[]);
            }
            None => drop(std::fs::remove_file(c.dir.join("attach.sock"))),
        }
    }

    /// One turn of the loop; true when SIGCHLD arrived (time to reap).
    fn poll_once(&mut self, ending: bool, store: &Store, c: &Container) -> bool {
        if self.health.as_mut().is_some_and(|h| h.take_trim()) {
            self.trim_idle();
        }
        let n_out = self.outputs.len();
        let mut fds: Vec<PollFd> = vec![
            PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.listener.as_fd(), PollFlags::POLLIN),
        ];
        fds.extend(
            self.outputs
                .iter()
                .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN)),
        );
        for cl in &self.clients {
            let mut f = PollFlags::POLLIN;
            if !cl.sink.pending.is_empty() {
                f |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(cl.sink.io.as_fd(), f));
        }
        if let Some(s) = self.stdin.as_ref().filter(|s| !s.pending.is_empty()) {
            fds.push(PollFd::new(s.io.as_fd(), PollFlags::POLLOUT));
        }
        let oom_at = fds.len();
        if let Some(w) = &self.oom {
            fds.push(PollFd::new(w.fd(), PollFlags::POLLIN));
        }
        let health_at = fds.len();
        if let Some(h) = &self.health {
            fds.extend(
                h.fds()
                    .into_iter()
                    .map(|f| PollFd::new(f, PollFlags::POLLIN)),
            );
        }
        // Idle for a few seconds: give back what the busy time touched.
        let timeout = PollTimeout::from(if ending { 100u16 } else { 5000 });
        match poll(&mut fds, timeout) {
            Err(_) => return false,
            Ok(0) if !ending => {
                drop(fds);
                self.trim_idle();
                return false;
            }
            Ok(_) => self.busy = true,
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if let Some(h) = &mut self.health {
            h.on_ready(store, c, &ready[health_at..]);
        }
        if ready.get(oom_at).copied().unwrap_or(false) {
            if let Some(w) = &mut self.oom {
                w.check();
            }
        }
        if ready[1] {
            while let Some(cl) = accept_within(&self.listener, Duration::ZERO) {
                self.clients.push(cl);
            }
        }
        self.read_outputs(&ready[2..2 + n_out], ending);
        self.serve_clients();
        if let Some(s) = &mut self.stdin {
            let _ = s.flush();
        }
        ready[0] && self.take_signals()
    }

    /// Idle after being busy: gives back what the busy time touched.
    fn trim_idle(&mut self) {
        if std::mem::take(&mut self.busy) {
            // The read buffer goes too; it comes back with output.
            self.buf = Vec::new();
            shed_code_pages();
            // SAFETY: malloc_trim only returns free heap memory.
            unsafe { libc::malloc_trim(0) };
        }
    }

    /// Reads the outputs that are `ready` (one flag per output), drops
    /// those that ended, and flushes the log.
    fn read_outputs(&mut self, ready: &[bool], ending: bool) {
        let mut closed = Vec::new();
        let mut streaming = false;
        for i in (0..ready.len()).filter(|&i| ready[i]) {
            match self.read_output(i) {
                None => closed.push(i),
                Some(n) => streaming |= (BULK..READ_SIZE).contains(&n),
            }
        }
        for i in closed.into_iter().rev() {
            self.outputs.remove(i);
        }
        let _ = self.log.flush();
        if streaming && !ending {
            // A steady stream: let the next read find more waiting, rather
            // than wake for every write the container makes.
            std::thread::sleep(COALESCE);
        }
    }

    /// Reads the signals that arrived: true for SIGCHLD (time to reap);
    /// the others are passed on to the container's process.
    fn take_signals(&mut self) -> bool {
        let mut child_ended = false;
        while let Ok(Some(sig)) = self.signals.read_signal() {
            if sig.ssi_signo as i32 == libc::SIGCHLD {
                child_ended = true;
            } else if let Ok(s) = Signal::try_from(sig.ssi_signo as i32) {
                self.told_to_end |= s != Signal::SIGHUP;
                let _ = nix::sys::signal::kill(self.pid, s);
            }
        }
        child_ended
    }

    /// Reads one chunk of output into the log and to every client: how
    /// much, or None at end of file (or EIO: a pty whose slave side is all
    /// closed).
    fn read_output(&mut self, i: usize) -> Option<usize> {
        if self.buf.is_empty() {
            self.buf = vec![0u8; READ_SIZE];
        }
        let buf = &mut self.buf;
        let (stream, fd) = &self.outputs[i];
        let n = match nix::unistd::read(fd.as_fd(), buf) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(Errno::EAGAIN | Errno::EINTR) => return Some(0),
            Err(_) => return None,
        };
        let stream = *stream;
        let _ = self
            .log
            .write(stream, &buf[..n], &crate::time::now_rfc3339());
        let kind = if stream == Stream::Stdout {
            attach::STDOUT
        } else {
            attach::STDERR
        };
        if self.clients.is_empty() {
            return Some(n);
        }
        let frame = attach::frame(kind, &buf[..n]);
        self.clients.retain_mut(|cl| {
            cl.sink.push(&frame).is_ok() && cl.sink.pending.len() < CLIENT_BACKLOG
        });
        Some(n)
    }

    /// Reads what clients sent: stdin data, end of input, window sizes.
    fn serve_clients(&mut self) {
        let mut gone = Vec::new();
        for (i, cl) in self.clients.iter_mut().enumerate() {
            if cl.sink.flush().is_err() {
                gone.push(i);
                continue;
            }
            let mut buf = [0u8; 65536];
            match nix::unistd::read(cl.sink.io.as_fd(), &mut buf) {
                Ok(0) => gone.push(i),
                Ok(n) => cl.frames.push(&buf[..n]),
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(_) => gone.push(i),
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
        let mut frames = Vec::new();
        for cl in &mut self.clients {
            for f in cl.frames.by_ref() {
                frames.push(f);
            }
        }
        for (kind, data) in frames {
            self.client_frame(kind, &data);
        }
    }

    fn client_frame(&mut self, kind: u8, data: &[u8]) {
        match (kind, &self.pty) {
            (attach::STDIN, Some(pty)) => {
                let _ = sys::write_all(pty.as_fd(), data);
            }
            (attach::STDIN, None) => {
                if let Some(s) = &mut self.stdin {
                    let _ = s.push(data);
                }
            }
            (attach::STDIN_EOF, Some(pty)) => {
                let _ = sys::write_all(pty.as_fd(), &[4]);
            }
            (attach::STDIN_EOF, None) => self.stdin = None,
            (attach::RESIZE, Some(pty)) => {
                if let Some((rows, cols)) = attach::decode_size(data) {
                    sys::set_window_size(pty.as_fd(), rows, cols);
                }
            }
            _ => {}
        }
    }

    /// Reaps children; the container's status once it has ended. A
    /// healthcheck's end is handed to its schedule.
    fn reap(&mut self, store: &Store, c: &Container) -> Option<WaitStatus> {
        let mut found = None;
        loop {
            match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return found,
                Ok(s) if s.pid() == Some(self.pid) => found = Some(s),
                Ok(s) => {
                    if let Some(h) = self.health.as_mut().filter(|h| h.pid() == s.pid()) {
                        h.ended(store, c, s);
                    }
                }
            }
        }
    }
}

/// The state of a container whose process `pid` now runs under us.
fn mark_running(c: &mut Container, pid: nix::unistd::Pid) {
    c.state.status = Status::Running;
    c.state.pid = Some(pid.as_raw());
    c.state.pid_start = pid_start_time(pid.as_raw());
    c.state.monitor_pid = Some(std::process::id() as i32);
    c.state.monitor_start = pid_start_time(std::process::id() as i32);
    c.state.started_at = Some(crate::time::now_rfc3339());
    c.state.exit_code = None;
    c.state.finished_at = None;
    c.state.oom_killed = false;
    c.state.restarting = false;
}

/// What the loop reads the container's output from: the pty master (a
/// copy; the original stays for resizing), else the stdout and stderr
/// pipes.
fn outputs(
    pty: Option<&OwnedFd>,
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
) -> Result<Vec<(Stream, OwnedFd)>, Failure> {
    let mut outputs = Vec::new();
    if let Some(pty) = pty {
        outputs.push((
            Stream::Stdout,
            pty.try_clone()
                .map_err(|e| Failure::from(crate::Error::sys("duplicate the terminal", e)))?,
        ));
    }
    outputs.extend(out.map(|p| (Stream::Stdout, p)));
    outputs.extend(err.map(|p| (Stream::Stderr, p)));
    Ok(outputs)
}

/// Writes the exit record, atomically and before any cleanup (podman
/// 1640): in its reserved place first, which a full disk cannot refuse,
/// then in state.json. Returns the exit code.
/// The `oom` and `die` events come first, so whoever waits for the record
/// (cc-stop, then its `stop` event) finds them logged.
fn record_exit(
    store: &Store,
    c: &mut Container,
    status: WaitStatus,
    oom_killed: bool,
    exit: &Reserved,
) -> i32 {
    let code = sys::exit_code(status).unwrap_or(125);
    let signal = match status {
        WaitStatus::Signaled(_, s, _) => Some(s as i32),
        _ => None,
    };
    c.state.status = Status::Exited;
    c.state.pid = None;
    c.state.pid_start = None;
    c.state.monitor_pid = None;
    c.state.monitor_start = None;
    c.state.exit_code = Some(code);
    c.state.signal = signal;
    c.state.oom_killed = oom_killed;
    c.state.finished_at = Some(crate::time::now_rfc3339());
    if oom_killed {
        container::event(store, c, "oom", &[]);
    }
    container::event(store, c, "die", &[("exitCode", &code.to_string())]);
    if c.dir.exists() {
        let _ = exit.record(&c.state);
        let _ = c.save_state();
    }
    code
}
