//! cc as an ordinary user (podman's rootless model). Every program a user
//! runs joins one user namespace, held by a pause process: the user's own
//! uid is root in it and the user's subordinate ranges (/etc/subuid,
//! /etc/subgid, written by the system's setuid `newuidmap`/`newgidmap`) are
//! the other ids. Inside it cc runs its root code paths unchanged: layers
//! unpack with their owners, containers are made in namespaces the user
//! owns. The store is `$XDG_DATA_HOME/cc`, the pause process's pid in
//! `$XDG_RUNTIME_DIR/cc`. cc itself is never setuid.

use std::fs::{self, File};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{fork, pipe, ForkResult};

use crate::error::{Error, Result};

/// Set in the environment of every program that joined the namespace
/// (the monitor, a shell of `cc-unshare`), with the user's uid.
const MARK: &str = "_CC_ROOTLESS_UID";
/// The pause process's name (ps, /proc/PID/comm: 15 characters at most).
const PAUSE_NAME: &str = "cc-userns-pause";

/// The user cc runs for when it runs rootless (None for the host's root).
pub fn user() -> Option<u32> {
    // Known for good once inside; before `enter` joins, asked again.
    static USER: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    if let Some(u) = USER.get() {
        return Some(*u);
    }
    let mark = std::env::var(MARK).ok()?.parse().ok()?;
    (nix::unistd::geteuid().is_root() && !initial_userns()).then(|| *USER.get_or_init(|| mark))
}

/// Whether cc runs for an ordinary user, inside its user namespace.
pub fn active() -> bool {
    user().is_some()
}

/// Whether this process is in the host's user namespace (all ids mapped).
fn initial_userns() -> bool {
    fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

/// The default store: `/var/lib/cc` for root, `$XDG_DATA_HOME/cc` (or
/// `~/.local/share/cc`) for a user.
pub fn default_store() -> PathBuf {
    if !active() {
        return PathBuf::from("/var/lib/cc");
    }
    match std::env::var_os("XDG_DATA_HOME").filter(|v| Path::new(v).is_absolute()) {
        Some(d) => PathBuf::from(d).join("cc"),
        None => home().join(".local/share/cc"),
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|v| Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(|| {
            let uid = nix::unistd::Uid::from_raw(user_uid());
            nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.dir)
        })
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn user_uid() -> u32 {
    user().unwrap_or_else(|| nix::unistd::getuid().as_raw())
}

/// The user's runtime folder: `$XDG_RUNTIME_DIR/cc`, else `/tmp/cc-UID`
/// (0700, the user's: a folder someone else made there is refused).
pub fn runtime_dir() -> Result<PathBuf> {
    let uid = user_uid();
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| Path::new(v).is_absolute()) {
        let dir = PathBuf::from(d).join("cc");
        fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&dir)
            .map_err(|e| Error::io("create", &dir, e))?;
        return Ok(dir);
    }
    let dir = PathBuf::from(format!("/tmp/cc-{uid}"));
    match fs::DirBuilder::new().mode(0o700).create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(Error::io("create", &dir, e))
        }
        _ => {}
    }
    let m = fs::symlink_metadata(&dir).map_err(|e| Error::io("inspect", &dir, e))?;
    // The uid seen from inside the namespace is 0 for the user's own.
    let owner_ok = m.uid() == uid || (active() && m.uid() == 0);
    if !m.is_dir() || !owner_ok || m.mode() & 0o077 != 0 {
        return Err(Error::Unsupported(format!(
            "runtime folder '{}' is not a 0700 folder of uid {uid}: remove it or set XDG_RUNTIME_DIR",
            dir.display()
        )));
    }
    Ok(dir)
}

/// The ranges (start, count) that a subuid/subgid file gives `name`.
pub fn subordinate(file: &Path, name: &str) -> Vec<(u32, u32)> {
    let text = fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            (f.next()? == name).then_some(())?;
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .collect()
}

/// At the start of every program: an ordinary user's process joins the
/// user's namespace (made on first use) and is root in it from then on.
/// Root's processes, and those already inside, go on as they are.
pub fn enter(program: &str) -> Result<()> {
    let euid = nix::unistd::geteuid();
    if euid.is_root() || std::env::var_os(MARK).is_some() && !initial_userns() {
        return Ok(());
    }
    let uid = euid.as_raw();
    // SAFETY: programs call this first, single-threaded.
    unsafe { std::env::set_var(MARK, uid.to_string()) };
    let run = runtime_dir()?;
    let _lock = crate::store::lock_file(&run.join("userns.lock"))?;
    let pid = match running_pause(&run) {
        Some(pid) => pid,
        None => start_pause(&run, program)?,
    };
    join(pid)
}

/// `cc-oci --rootless` (runc's flag; `None` is its `auto`): a caller such
/// as rootless podman already runs cc-oci as root of the user's namespace,
/// so cc takes its rootless paths from here on, and so do the programs it
/// starts (its monitor). Whether it runs rootless.
pub fn adopt_callers_namespace(wanted: Option<bool>) -> Result<bool> {
    let euid = nix::unistd::geteuid();
    if !euid.is_root() {
        return Err(Error::Unsupported(format!(
            "cc-oci as uid {euid} needs a user namespace in which it is root: run it from rootless podman or inside cc-unshare"
        )));
    }
    match (initial_userns(), wanted) {
        (true, Some(true)) => Err(Error::Unsupported(
            "--rootless true: this cc-oci runs as the host's root, not in a user's namespace"
                .into(),
        )),
        (true, _) | (false, Some(false)) => Ok(false),
        (false, _) => {
            if std::env::var_os(MARK).is_none() {
                // The host uid that is root here: the user the caller runs for.
                let map = fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
                let host = crate::spec::IdMapping::parse_map_file(&map)
                    .iter()
                    .find(|m| m.container_id == 0)
                    .map_or(0, |m| m.host_id);
                // SAFETY: cc-oci calls this first, single-threaded.
                unsafe { std::env::set_var(MARK, host.to_string()) };
            }
            Ok(true)
        }
    }
}

/// The pause process of `pause.pid`, if it still lives.
fn running_pause(run: &Path) -> Option<i32> {
    let pid: i32 = fs::read_to_string(run.join("pause.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let mine = fs::metadata(format!("/proc/{pid}"))
        .is_ok_and(|m| m.uid() == nix::unistd::geteuid().as_raw());
    (comm.trim() == PAUSE_NAME && mine).then_some(pid)
}

/// The pid of the user's pause process, if one runs (cc-info, the tests).
pub fn pause_pid() -> Option<i32> {
    running_pause(&runtime_dir().ok()?)
}

/// Forks the pause process in a new user and mount namespace, maps its
/// ids, and records its pid.
fn start_pause(run: &Path, program: &str) -> Result<i32> {
    let (ready_r, ready_w) = pipe().map_err(|e| Error::sys("create a pipe", e.into()))?;
    let (go_r, go_w) = pipe().map_err(|e| Error::sys("create a pipe", e.into()))?;
    // SAFETY: single-threaded; the child only makes syscalls and loops.
    match unsafe { fork() }.map_err(|e| Error::sys("fork", e.into()))? {
        ForkResult::Child => {
            drop((ready_r, go_w));
            let ok = unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS).is_ok();
            let _ = nix::unistd::write(&ready_w, if ok { b"u" } else { b"x" });
            let mut b = [0u8; 1];
            if !ok || nix::unistd::read(&go_r, &mut b) != Ok(1) {
                // SAFETY: _exit skips the parent's atexit handlers.
                unsafe { libc::_exit(1) }
            }
            pause()
        }
        ForkResult::Parent { child } => {
            drop((ready_w, go_r));
            let pid = child.as_raw();
            let mut b = [0u8; 1];
            let made = nix::unistd::read(&ready_r, &mut b) == Ok(1) && b[0] == b'u';
            let result = if made {
                map_ids(pid, program)
            } else {
                Err(Error::Unsupported(
                    "cannot create a user namespace (is kernel.unprivileged_userns_clone 0?)"
                        .into(),
                ))
            };
            if result.is_err() {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return result.map(|_| 0);
            }
            let _ = nix::unistd::write(&go_w, b"g");
            crate::store::write_atomic(&run.join("pause.pid"), pid.to_string().as_bytes())?;
            Ok(pid)
        }
    }
}

/// The pause process: its own session, no fds, a name ps shows; it holds
/// the namespaces until it is killed.
fn pause() -> ! {
    let _ = nix::unistd::setsid();
    let _ = nix::sys::prctl::set_name(&std::ffi::CString::new(PAUSE_NAME).unwrap());
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard fds, which this process owns.
            unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) };
        }
    }
    // SAFETY: closes every fd above stderr; nothing of Rust's holds one.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    let _ = std::env::set_current_dir("/");
    loop {
        // SAFETY: pause(2) only waits for a signal.
        unsafe { libc::pause() };
    }
}

/// The user's uid and gid to 0, the subordinate ranges after them, through
/// newuidmap/newgidmap. Without subordinate ids, one id each (and a word on
/// what that cannot run).
fn map_ids(pid: i32, program: &str) -> Result<()> {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string());
    let mut single = false;
    for (tool, file, own) in [
        ("newuidmap", "/etc/subuid", uid.as_raw()),
        ("newgidmap", "/etc/subgid", gid.as_raw()),
    ] {
        let mut ranges = subordinate(Path::new(file), &name);
        ranges.extend(subordinate(Path::new(file), &own.to_string()));
        single |= ranges.is_empty();
        let mut args = vec![pid.to_string(), "0".into(), own.to_string(), "1".into()];
        let mut inside = 1u64;
        for (start, count) in ranges {
            args.extend([inside.to_string(), start.to_string(), count.to_string()]);
            inside += count as u64;
        }
        let out = Command::new(tool).args(&args).output().map_err(|e| {
            Error::Unsupported(format!(
                "cannot run {tool}: {} (install Debian's uidmap package)",
                crate::error::Os(&e)
            ))
        })?;
        if !out.status.success() {
            return Err(Error::Program(format!(
                "{tool} {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    if single {
        eprintln!(
            "{}: no subordinate ids for '{name}' in /etc/subuid or /etc/subgid: only images whose files are all root's will unpack (add a range: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name})",
            program
        );
    }
    Ok(())
}

/// Set when this process joined the namespace itself (it was started
/// outside it, not from `cc-unshare`).
static JOINED_HERE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A user's mounts live in its namespace's mount namespace: a program that
/// leaves them there (cc-mount) is useful only inside `cc-unshare`, as
/// rootless podman's `mount` only inside `podman unshare`.
pub fn refuse_outside_unshare(program: &str) -> Result<()> {
    if active() && JOINED_HERE.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(Error::Unsupported(format!(
            "a user's mounts are seen only inside its user namespace: run {program} inside cc-unshare"
        )));
    }
    Ok(())
}

/// Joins the pause process's user and mount namespaces, as root in them,
/// staying in the same working folder.
fn join(pid: i32) -> Result<()> {
    JOINED_HERE.store(true, std::sync::atomic::Ordering::Relaxed);
    let cwd = std::env::current_dir().ok();
    for ns in ["user", "mnt"] {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{ns}"));
        let f = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        setns(&f, CloneFlags::empty()).map_err(|e| Error::io("join", &path, e.into()))?;
    }
    // The user's other groups are unmapped in the namespace (nobody).
    let _ = nix::unistd::setgroups(&[]);
    if let Some(cwd) = cwd {
        let _ = std::env::set_current_dir(cwd);
    }
    Ok(())
}

/// For cc-info: how the user's namespace maps ids, as /proc shows them.
pub fn maps() -> Option<(String, String)> {
    let read = |f: &str| fs::read_to_string(format!("/proc/self/{f}")).ok();
    active().then(|| Some((read("uid_map")?, read("gid_map")?)))?
}

/// The highest group id mapped in the user's namespace: a container's
/// `net.ipv4.ping_group_range` may name no higher one.
pub fn max_gid() -> u32 {
    let text = fs::read_to_string("/proc/self/gid_map").unwrap_or_default();
    crate::spec::IdMapping::parse_map_file(&text)
        .iter()
        .filter_map(|m| m.container_id.checked_add(m.size.checked_sub(1)?))
        .max()
        .unwrap_or(0)
}

/// `cc-unshare`: runs `command` (default `$SHELL`, else /bin/sh) in the
/// namespace this process joined, with `$CC_ROOT` naming the store; its
/// exit code (128 + N when a signal N killed it).
pub fn run_command(command: &[String]) -> Result<u8> {
    use std::os::unix::process::ExitStatusExt;
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let (prog, args) = match command.split_first() {
        Some((p, rest)) => (p.clone(), rest),
        None => (shell, &[][..]),
    };
    let status = Command::new(&prog)
        .args(args)
        .status()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found("command", prog.clone()),
            _ => Error::sys(format!("run '{prog}'"), e),
        })?;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c.clamp(0, 255) as u8,
        (None, Some(s)) => (128 + s).clamp(0, 255) as u8,
        _ => 1,
    })
}

/// Whether the kernel mounts overlayfs in a user namespace (5.11 on).
pub fn native_overlay() -> bool {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut n = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse::<u32>().ok());
    (n.next().unwrap_or(0), n.next().unwrap_or(0)) >= (5, 11)
}
