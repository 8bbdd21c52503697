//! The networks of an ordinary user's containers. Without root there is no
//! bridge, veth or NAT on the host: `--net none` (a namespace with only
//! loopback), `--net host` and `--net container:` work as for root, and the
//! default network is a user-mode stack, slirp4netns (podman 4's default):
//! the container's own network namespace gets a tap device whose frames
//! slirp4netns turns into ordinary sockets of the user on the host.
//!
//! Why slirp4netns and not pasta (Debian's passt, 2023-03): the time a
//! stack takes to be ready is most of a rootless `cc-run`'s time, and
//! bench/usernet.sh measured pasta at 44 ms against slirp4netns's 3.2 ms on
//! the same namespace (TCP to the host's loopback: 154 against 173 MiB/s).
//! pasta's time is not in its options: with every port forwarding off
//! (`-t none -u none -T none -U none`), no DHCP, NDP or RA, IPv4 only, it
//! still takes 26-40 ms, spent (strace) on its netlink set-up through a
//! vfork per request into the namespace, and on pools of 64 TCP sockets
//! on each side and 32 splice pipes made before it is ready. With pasta,
//! start-and-reap of `true` was 0.307× rootless podman (target 0.2×);
//! with slirp4netns 0.068× (bench/RESULTS.md, 18:06 UTC).
//!
//! The monitor starts slirp4netns with the container's process waiting in
//! its new namespace (`start`) and ends it when the container ends
//! (`stop`); slirp4netns also ends by itself when the monitor does (its
//! `--exit-fd` is a pipe only the monitor writes to), and cc-rm ends one
//! left anyway (`end_leftover`). What it gives, on its fixed network
//! 10.0.2.0/24:
//! - the container's `tap0` at [`ADDRESS`], default route via [`GATEWAY`],
//!   MTU 65520;
//! - [`GATEWAY`] is the host: by default only its services on other
//!   addresses than loopback are reached there (`--disable-host-loopback`,
//!   as podman and rootless docker run it: a service that listens on the
//!   host's 127.0.0.1 only, trusting that only the machine's own users
//!   reach it, stays closed to an image); with
//!   `--net slirp4netns:allow_host_loopback=true` (podman's words) the
//!   gateway is the host's loopback too: a server on the host's
//!   127.0.0.1, and another container's published port, are reached
//!   there;
//! - DNS at [`DNS`], forwarded to the host's first name server (one on the
//!   host's loopback too);
//! - `-p` host ports bound by slirp4netns (its API socket's
//!   `add_hostfwd`), as the user, so ports below
//!   `net.ipv4.ip_unprivileged_port_start` are refused first;
//! - its own mount namespace and a seccomp filter (`--enable-sandbox`,
//!   `--enable-seccomp`, as podman runs it: about 1 ms more to be ready,
//!   no throughput difference that could be measured).
//!
//! The published ports are kept in the container's folder (`ports.json`)
//! while it runs, for cc-port, cc-ps and cc-inspect.

use std::fs;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::ports::{self, Port, PortSpec};
use crate::container::state::{lives, pid_start_time};
use crate::container::Container;
use crate::error::{Error, Result};
use crate::store;

/// The program of the user-mode stack.
pub const SLIRP4NETNS: &str = "slirp4netns";
/// The container's address on slirp4netns's network (`--configure`).
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
/// The gateway, which is the host (its loopback too).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// slirp4netns's name server, forwarding to the host's.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
pub const PREFIX_LEN: u8 = 24;

/// slirp4netns's pid and start time, in the container's folder.
const PID_FILE: &str = "slirp4netns.pid";
/// Its messages; the last line says why it failed.
const LOG_FILE: &str = "slirp4netns.log";
/// Its API socket, there while the ports are added.
const API_SOCKET: &str = "slirp4netns.sock";
/// How long slirp4netns may take to be ready (it takes a few ms).
const READY_WITHIN: Duration = Duration::from_secs(10);
/// The sysctl below whose value a port needs root to bind.
const UNPRIVILEGED_PORT_START: &str = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

/// Refuses, for an ordinary user, what the default network cannot give:
/// without slirp4netns there is none, and a host port below the
/// unprivileged start needs root. `mode` is the `io.cc.net` annotation's
/// value.
/// For an `io.cc.net` value that gives an ordinary user this stack,
/// whether the container reaches the host's loopback: `bridge` (the
/// default) and `slirp4netns` do not, as podman's and rootless docker's;
/// `slirp4netns:allow_host_loopback=true` does.
pub fn stack_mode(mode: &str) -> Option<bool> {
    match mode {
        "bridge" | "slirp4netns" => Some(false),
        "slirp4netns:allow_host_loopback=true" => Some(true),
        _ => None,
    }
}

pub fn refuse_for_user(mode: &str, specs: &[PortSpec]) -> Result<()> {
    if !crate::rootless::active() || stack_mode(mode).is_none() {
        return Ok(());
    }
    if program().is_none() {
        return Err(Error::Unsupported(
            "the default network of an ordinary user needs slirp4netns (Debian's package \
             of that name): install it, or give --net none or --net host"
                .into(),
        ));
    }
    let start: u16 = fs::read_to_string(UNPRIVILEGED_PORT_START)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    match specs
        .iter()
        .find(|s| s.host_port != 0 && s.host_port < start)
    {
        Some(s) => Err(Error::Unsupported(format!(
            "cannot publish host port {}: ports below {start} need root \
             (sysctl net.ipv4.ip_unprivileged_port_start is {start})",
            s.host_port
        ))),
        None => Ok(()),
    }
}

fn program() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(SLIRP4NETNS))
        .find(|p| p.is_file())
}

/// A running slirp4netns for one container, a child of the monitor.
pub struct Stack {
    pid: i32,
    start: Option<u64>,
    /// The write end of its `--exit-fd`: it ends when this closes.
    _exit: OwnedFd,
    /// Sent its SIGKILL (`stop_forwarding`), not yet reaped.
    killed: bool,
    /// The container's folder, where `ports.json` is kept.
    dir: PathBuf,
    pub ports: Vec<Port>,
}

/// What the monitor knows before the container's process exists: the
/// ports asked for.
pub struct Pending {
    dir: PathBuf,
    specs: Vec<PortSpec>,
    host_loopback: bool,
}

pub fn prepare(c: &Container, specs: Vec<PortSpec>, host_loopback: bool) -> Pending {
    Pending {
        dir: c.dir.clone(),
        specs,
        host_loopback,
    }
}

fn ports_file(dir: &Path) -> PathBuf {
    dir.join("ports.json")
}

/// Starts slirp4netns for the network namespace of process `pid`, which
/// waits; returns once the namespace's interface is up and the ports
/// forward.
pub fn start(p: &Pending, pid: i32) -> Result<Stack> {
    // Free host ports are picked, and a taken one refused with the
    // same message as for root, before slirp4netns binds them.
    let (ports, held) = ports::reserve(&p.specs)?;
    drop(held);
    let (ready_r, ready_w) = pipe()?;
    let (exit_r, exit_w) = pipe()?;
    let open = |ns: &str| {
        let path = format!("/proc/{pid}/ns/{ns}");
        fs::File::open(&path).map_err(|e| Error::io("open", &path, e))
    };
    let (userns, netns) = (open("user")?, open("net")?);
    let log_path = p.dir.join(LOG_FILE);
    let mut cmd = command(p, pid, !ports.is_empty(), &log_path)?;
    // The namespaces (the waiting process is not dumpable, so they are
    // opened here) and the two pipe ends, at fixed numbers; nothing else
    // of the monitor's stays open in it.
    let fds = [
        userns.as_raw_fd(),
        netns.as_raw_fd(),
        ready_w.as_raw_fd(),
        exit_r.as_raw_fd(),
    ];
    // SAFETY: only fcntl, dup2 and close_range, which are
    // async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || place_fds(&fds));
    }
    let child = cmd.spawn().map_err(|e| {
        let _ = fs::remove_file(&log_path);
        Error::io("run", SLIRP4NETNS, e)
    })?;
    drop((ready_w, exit_r, userns, netns));
    let pid = child.id() as i32;
    let stack = Stack {
        pid,
        start: pid_start_time(pid),
        _exit: exit_w,
        killed: false,
        dir: p.dir.clone(),
        ports,
    };
    // cc-rm ends a stack a killed monitor left by it (`end_leftover`).
    let recorded = format!("{pid} {}\n", stack.start.unwrap_or(0));
    let ready = store::write_volatile(&stack.dir.join(PID_FILE), recorded.as_bytes())
        .and_then(|()| wait_ready(&ready_r))
        .and_then(|()| add_forwards(&stack));
    let _ = fs::remove_file(stack.dir.join(API_SOCKET));
    let written = ready.and_then(|()| match stack.ports.is_empty() {
        true => Ok(()),
        false => store::write_json(&ports_file(&stack.dir), &stack.ports),
    });
    match written {
        Ok(()) => Ok(stack),
        Err(e) => {
            let why = last_line(&log_path);
            stop(stack);
            Err(match why {
                Some(why) => Error::State(format!("{e}: {SLIRP4NETNS} says: {why}")),
                None => e,
            })
        }
    }
}

/// slirp4netns's command line for the namespaces of process `pid`, its
/// output to `log`: the user namespace at fd 3, the network namespace at
/// 4, the ready pipe at 5, the exit pipe at 6 (`place_fds`); with `api`,
/// its API socket in the container's folder; the host's loopback closed
/// unless `p` asks for it.
fn command(p: &Pending, pid: i32, api: bool, log: &Path) -> Result<Command> {
    let dir = &p.dir;
    let mut cmd = Command::new(program().unwrap_or_else(|| SLIRP4NETNS.into()));
    cmd.args(["--configure", "--mtu=65520"])
        .args(["--enable-sandbox", "--enable-seccomp"])
        .args(["--ready-fd=5", "--exit-fd=6"]);
    if !p.host_loopback {
        cmd.arg("--disable-host-loopback");
    }
    if api {
        // Relative to its working folder: a socket's path has at most
        // 108 bytes, and a store's may be longer.
        cmd.arg(format!("--api-socket={API_SOCKET}"))
            .current_dir(dir);
    }
    // setns(2) to the user namespace one is in fails: slirp4netns joins
    // it only when the container has one of its own.
    let same = |p: &str| fs::read_link(p).ok();
    if same(&format!("/proc/{pid}/ns/user")) != same("/proc/self/ns/user") {
        cmd.arg("--userns-path=/proc/self/fd/3");
    }
    let out = fs::File::create(log).map_err(|e| Error::io("create", log, e))?;
    let err = out.try_clone().map_err(|e| Error::io("open", log, e))?;
    cmd.args(["--netns-type=path", "/proc/self/fd/4", "tap0"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    Ok(cmd)
}

/// Moves `fds` to 3, 4, 5, 6 (through numbers above them, so that none
/// is overwritten before it moves); every other fd above 2 closes at
/// exec.
fn place_fds(fds: &[i32; 4]) -> std::io::Result<()> {
    let mut high = [0; 4];
    for (h, fd) in high.iter_mut().zip(fds) {
        // SAFETY: fcntl(F_DUPFD) makes a new fd; no memory is touched.
        *h = unsafe { libc::fcntl(*fd, libc::F_DUPFD, 16) };
        if *h < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    for (to, h) in (3..).zip(high) {
        // SAFETY: dup2 onto a number this child owns.
        if unsafe { libc::dup2(h, to) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only flags fds (a
    // kernel before 5.11 refuses it: the monitor's fds are close-on-exec
    // already, but for pipes a child inherits).
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            7u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::sys("make a pipe", crate::error::errno(e)))
}

/// Waits for slirp4netns's ready byte: its interface is configured.
fn wait_ready(ready: &OwnedFd) -> Result<()> {
    let mut fds = [PollFd::new(ready.as_fd(), PollFlags::POLLIN)];
    let ms = READY_WITHIN.as_millis() as u16;
    let not_ready =
        |why: &str| Error::State(format!("the user-mode network ({SLIRP4NETNS}) {why}"));
    loop {
        match poll(&mut fds, PollTimeout::from(ms)) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(0) => return Err(not_ready("was not ready within 10 s")),
            _ => break,
        }
    }
    let mut byte = [0u8; 1];
    match nix::unistd::read(ready, &mut byte) {
        Ok(1) => Ok(()),
        _ => Err(not_ready("ended before it was ready")),
    }
}

/// Each published port through slirp4netns's API socket: one JSON request
/// per connection, answered with `{"return":…}` or `{"error":{"desc":…}}`.
fn add_forwards(s: &Stack) -> Result<()> {
    let sock = s.dir.join(API_SOCKET);
    for p in &s.ports {
        let request = serde_json::json!({
            "execute": "add_hostfwd",
            "arguments": {
                "proto": p.proto.as_str(),
                "host_addr": p.host_ip.to_string(),
                "host_port": p.host_port,
                "guest_addr": ADDRESS.to_string(),
                "guest_port": p.container_port,
            }
        });
        let answer = crate::sys::with_short_path(&sock, |path| {
            let mut conn = std::os::unix::net::UnixStream::connect(path)?;
            conn.set_read_timeout(Some(READY_WITHIN))?;
            conn.write_all(request.to_string().as_bytes())?;
            let mut answer = String::new();
            conn.read_to_string(&mut answer)?;
            Ok(answer)
        })
        .map_err(|e| Error::io("ask", &sock, e))?;
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        if answer.get("return").is_none() {
            let desc = answer["error"]["desc"].as_str().unwrap_or("no answer");
            return Err(Error::State(format!(
                "cannot publish port {}: {desc}",
                p.describe()
            )));
        }
    }
    Ok(())
}

/// The last line slirp4netns wrote, for an error.
fn last_line(log: &Path) -> Option<String> {
    let text = fs::read_to_string(log).ok()?;
    let line = text.lines().rfind(|l| !l.trim().is_empty())?;
    Some(line.trim().to_string())
}

/// Stops the forwarding, for before a foreground client is told the
/// container ended: slirp4netns is killed, and with published ports
/// waited for, so they are free when this returns. Without, its end (the
/// kernel's teardown of its tap device, some 15-20 ms) is waited for by
/// `stop`, after the client has its answer.
pub fn stop_forwarding(s: &mut Stack) {
    let _ = fs::remove_file(ports_file(&s.dir));
    if s.killed {
        return;
    }
    // The monitor's loop may have reaped it already (it died): its pid
    // is then hit only while it is still that process.
    if s.start.is_none() || lives(Some(s.pid), s.start) {
        let _ = kill(Pid::from_raw(s.pid), Signal::SIGKILL);
    }
    s.killed = true;
    if !s.ports.is_empty() {
        let _ = waitpid(Pid::from_raw(s.pid), None);
    }
}

/// Ends slirp4netns and reaps it: its host ports are free when this
/// returns, and its files in the container's folder gone.
pub fn stop(mut s: Stack) {
    stop_forwarding(&mut s);
    let _ = waitpid(Pid::from_raw(s.pid), None);
    for f in [PID_FILE, LOG_FILE, API_SOCKET] {
        let _ = fs::remove_file(s.dir.join(f));
    }
}

/// Ends the slirp4netns a killed monitor left for the container in `dir`
/// (cc-rm), if the pid its pid file names is still that process (the
/// same start time), so a reused pid is never hit. It is not our child:
/// init reaps it. (It ends by itself when its monitor does; this is for
/// the one that did not.)
pub fn end_leftover(dir: &Path) {
    let recorded = fs::read_to_string(dir.join(PID_FILE)).unwrap_or_default();
    let mut words = recorded.split_whitespace().map(str::parse::<u64>);
    if let (Some(Ok(pid)), Some(Ok(start))) = (words.next(), words.next()) {
        if lives(Some(pid as i32), Some(start)) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
    for f in [PID_FILE, LOG_FILE, API_SOCKET] {
        let _ = fs::remove_file(dir.join(f));
    }
    let _ = fs::remove_file(ports_file(dir));
}

/// The ports a container of an ordinary user publishes while it runs.
pub fn published(c: &Container) -> Vec<Port> {
    if c.status() != crate::container::Status::Running {
        return vec![];
    }
    store::read_optional(&ports_file(&c.dir))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}
