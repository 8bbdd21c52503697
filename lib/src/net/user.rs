//! The networks of an ordinary user's containers. Without root there is no
//! bridge, veth or NAT on the host: `--net none` (a namespace with only
//! loopback), `--net host` and `--net container:` work as for root, and the
//! default network is a user-mode stack, pasta (Debian's passt package;
//! bench/RESULTS.md has why not slirp4netns): the container's own network
//! namespace gets a tap device whose frames pasta turns into ordinary
//! sockets of the user on the host.
//!
//! The monitor starts pasta with the container's process waiting in its
//! new namespace (`start`) and ends it when the container ends (`stop`):
//! pasta daemonizes, so it is re-parented to the monitor (a subreaper),
//! which kills and reaps it by the pid pasta wrote. What pasta gives:
//! - the host's address and routes copied into the namespace (`eth0`);
//! - the gateway's address mapped to the host's loopback: a container
//!   reaches a server on the host's 127.0.0.1, and another container's
//!   published port, at its gateway;
//! - `-p` host ports bound by pasta itself, as the user (so ports below
//!   `net.ipv4.ip_unprivileged_port_start` are refused first);
//! - DNS at [`DNS_FORWARD`], forwarded to the host's first name server
//!   (one on the host's loopback too).
//!
//! The published ports are kept in the container's folder (`ports.json`)
//! while it runs, for cc-port.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::ports::{self, Port, PortSpec, Proto};
use crate::container::Container;
use crate::error::{Error, Result};
use crate::store;

/// pasta's pid, in the container's folder.
const PID_FILE: &str = "pasta.pid";

/// The program of the user-mode stack.
pub const PASTA: &str = "pasta";
/// The address in the container that pasta answers DNS on, forwarding
/// to the host's name server (the one podman uses).
pub const DNS_FORWARD: &str = "169.254.1.1";
/// The sysctl below whose value a port needs root to bind.
const UNPRIVILEGED_PORT_START: &str = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

/// Refuses, for an ordinary user, what the default network cannot give:
/// without pasta there is none, and a host port below the unprivileged
/// start needs root. `mode` is the `io.cc.net` annotation's value.
pub fn refuse_for_user(mode: &str, specs: &[PortSpec]) -> Result<()> {
    if !crate::rootless::active() || mode != "bridge" {
        return Ok(());
    }
    if find_pasta().is_none() {
        return Err(Error::Unsupported(
            "the default network of an ordinary user needs pasta (Debian's passt package): \
             install it, or give --net none or --net host"
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

fn find_pasta() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(PASTA))
        .find(|p| p.is_file())
}

/// A running pasta for one container.
pub struct Stack {
    pid: i32,
    /// The container's folder, where `ports.json` is kept.
    dir: PathBuf,
    pub ports: Vec<Port>,
}

/// What the monitor knows before the container's process exists: the
/// ports asked for.
pub struct Pending {
    dir: PathBuf,
    specs: Vec<PortSpec>,
}

pub fn prepare(c: &Container, specs: Vec<PortSpec>) -> Pending {
    Pending {
        dir: c.dir.clone(),
        specs,
    }
}

fn ports_file(dir: &std::path::Path) -> PathBuf {
    dir.join("ports.json")
}

/// Starts pasta for the network namespace of process `pid`, which
/// waits; returns once the namespace's interface is up.
pub fn start(p: &Pending, pid: i32) -> Result<Stack> {
    // Free host ports are picked, and a taken one refused with the
    // same message as for root, before pasta binds them.
    let (ports, held) = ports::reserve(&p.specs)?;
    drop(held);
    let pid_file = p.dir.join(PID_FILE);
    let mut cmd = Command::new(find_pasta().unwrap_or_else(|| PASTA.into()));
    cmd.args(["--config-net", "--quiet", "--dns-forward", DNS_FORWARD])
        // Nothing of the container's loopback goes to the host's.
        .args(["-T", "none", "-U", "none"])
        .arg("--pid")
        .arg(&pid_file);
    for proto in [Proto::Tcp, Proto::Udp] {
        let flag = match proto {
            Proto::Tcp => "-t",
            Proto::Udp => "-u",
        };
        let mine: Vec<String> = ports
            .iter()
            .filter(|p| p.proto == proto)
            .map(|p| match p.host_ip.is_unspecified() {
                true => format!("{}:{}", p.host_port, p.container_port),
                false => format!("{}/{}:{}", p.host_ip, p.host_port, p.container_port),
            })
            .collect();
        match mine.is_empty() {
            true => cmd.args([flag, "none"]),
            false => mine.iter().fold(&mut cmd, |c, m| c.args([flag, m])),
        };
    }
    // pasta drops its capabilities before it joins the namespaces, so it
    // could not open the waiting process's (not dumpable) ones: it gets
    // them open, as fds 3 and 4.
    let open = |ns: &str| {
        let path = format!("/proc/{pid}/ns/{ns}");
        fs::File::open(&path).map_err(|e| Error::io("open", &path, e))
    };
    let (userns, netns) = (open("user")?, open("net")?);
    let (u, n) = (userns.as_raw_fd(), netns.as_raw_fd());
    // SAFETY: only dup2, which is async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for (from, to) in [(u, 3), (n, 4)] {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    // setns(2) to the namespace one is in fails: pasta joins the user
    // namespace only when the container has one of its own.
    let same = |p: &str| fs::read_link(p).ok();
    match same(&format!("/proc/{pid}/ns/user")) == same("/proc/self/ns/user") {
        true => cmd.arg("--netns-only"),
        false => cmd.args(["--userns", "/proc/self/fd/3"]),
    };
    cmd.args(["--netns", "/proc/self/fd/4"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd.output().map_err(|e| Error::io("run", PASTA, e))?;
    let read_pid = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok());
    // The pid file stays while pasta runs: cc-rm ends a pasta a killed
    // monitor left by it (`end_leftover`).
    if !out.status.success() {
        let _ = fs::remove_file(&pid_file);
        if let Some(daemon) = read_pid {
            end(daemon);
        }
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why
            .lines()
            .rfind(|l| !l.starts_with("Failed to send"))
            .unwrap_or("")
            .trim()
            .to_string();
        let status = match out.status.code() {
            Some(c) => format!("exit status {c}"),
            None => format!("signal {}", out.status.signal().unwrap_or(0)),
        };
        return Err(Error::State(format!(
            "the user-mode network (pasta) failed ({status}): {why}"
        )));
    }
    let pid = read_pid.ok_or_else(|| Error::State("pasta wrote no pid".into()))?;
    let stack = Stack {
        pid,
        dir: p.dir.clone(),
        ports,
    };
    if !stack.ports.is_empty() {
        if let Err(e) = store::write_json(&ports_file(&stack.dir), &stack.ports) {
            stop(stack);
            return Err(e);
        }
    }
    Ok(stack)
}

/// Ends pasta: its host ports are free when this returns.
pub fn stop(s: Stack) {
    let _ = fs::remove_file(ports_file(&s.dir));
    end(s.pid);
    let _ = fs::remove_file(s.dir.join(PID_FILE));
}

/// Kills and reaps the pasta daemon `pid`, a child of this monitor (a
/// subreaper) by then; a pid reaped already is left alone.
fn end(pid: i32) {
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !(comm.starts_with("passt") || comm.starts_with("pasta")) {
        return;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    let _ = waitpid(Pid::from_raw(pid), None);
}

/// Ends the pasta a killed monitor left for the container in `dir` (cc-rm):
/// the pid its pid file names, if that process is still the pasta started
/// with that very pid file (its command line names it), so a reused pid
/// is never hit. It is not our child: init reaps it.
pub fn end_leftover(dir: &std::path::Path) {
    let pid_file = dir.join(PID_FILE);
    let Some(pid) = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return;
    };
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let ours = cmdline
        .split(|b| *b == 0)
        .any(|a| a == pid_file.as_os_str().as_encoded_bytes());
    if ours {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = fs::remove_file(&pid_file);
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
