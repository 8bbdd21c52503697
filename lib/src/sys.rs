//! Small process and fd helpers shared by the sandbox, the monitor and the
//! attach clients: writes that finish, blocking flags, signalfds, window
//! sizes, exit codes from wait statuses, long socket paths.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::error::{errno, Error, Result};

/// Writes all of `data`, retrying on EINTR and EAGAIN.
pub fn write_all(fd: BorrowedFd, mut data: &[u8]) -> nix::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblocking(fd: BorrowedFd, on: bool) -> nix::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    let new = if on {
        flags | OFlag::O_NONBLOCK
    } else {
        flags - OFlag::O_NONBLOCK
    };
    fcntl(fd, FcntlArg::F_SETFL(new)).map(|_| ())
}

/// Blocks `signals` and returns a non-blocking signalfd that reads them;
/// blocked first, so none is lost in between.
pub fn signalfd(signals: &[Signal]) -> Result<SignalFd> {
    let mut mask = SigSet::empty();
    for s in signals {
        mask.add(*s);
    }
    let fail = |e: Errno| Error::sys("block signals", errno(e));
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None).map_err(fail)?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).map_err(fail)
}

/// The size (rows, columns) of the terminal on `fd`, if it is one.
pub fn window_size(fd: BorrowedFd) -> Option<(u16, u16)> {
    // SAFETY: all-zero is a valid winsize (plain integers).
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`, which lives here.
    let ok = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } == 0;
    ok.then_some((ws.ws_row, ws.ws_col))
}

/// TIOCSWINSZ on a terminal (a pty master).
pub fn set_window_size(fd: BorrowedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize struct.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
}

/// The shell's view of how a process ended: its code, or 128+N for
/// signal N; `None` while it has not ended.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, s, _) => Some(128 + s as i32),
        _ => None,
    }
}

/// Waits for our child `pid` to end; its exit code as `exit_code` gives it.
pub fn wait_exit(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(s) => {
                if let Some(code) = exit_code(s) {
                    return Ok(code);
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys(format!("wait for process {pid}"), errno(e))),
        }
    }
}

/// Leaves a process with /dev/null as stdio and no other fd but `keep`
/// (returned, moved above stdio): a process left behind (cc-exec -d's
/// waiter) holds none of its caller's terminals or pipes, so a reader of
/// those sees their end.
pub fn hold_nothing_but(keep: OwnedFd) -> nix::Result<OwnedFd> {
    use nix::fcntl::{fcntl, FcntlArg};
    let old = keep;
    // SAFETY: F_DUPFD_CLOEXEC returns a new fd that is ours alone.
    let keep = unsafe { OwnedFd::from_raw_fd(fcntl(&old, FcntlArg::F_DUPFD_CLOEXEC(3))?) };
    drop(old);
    let null = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    for fd in 0..3 {
        // SAFETY: dup2 onto our own stdio.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
    drop(null);
    let k = keep.as_raw_fd() as u32;
    // SAFETY: close_range(2) closes fds only; the caller, single-threaded
    // and just forked, uses none of the others again.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, k - 1, 0u32);
        libc::syscall(libc::SYS_close_range, k + 1, u32::MAX, 0u32);
    }
    Ok(keep)
}

/// Socket paths are limited to 108 bytes (unix(7)): `f` gets `path`, or
/// when that is long, the same file reached through its folder's fd
/// (`/proc/self/fd/N/NAME`), open while `f` runs.
pub fn with_short_path<T>(
    path: &std::path::Path,
    f: impl FnOnce(&std::path::Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if path.as_os_str().len() < 100 {
        return f(path);
    }
    let dir = std::fs::File::open(path.parent().unwrap_or(std::path::Path::new("/")))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let short = format!("/proc/self/fd/{}/{name}", dir.as_raw_fd());
    f(std::path::Path::new(&short))
}

/// Names this process (15 bytes at most) so `ps -o comm` shows what it is:
/// a container's stage, a monitor.
pub fn name_process(name: &str) {
    let short: String = name.chars().take(15).collect();
    if let Ok(c) = std::ffi::CString::new(short) {
        let _ = nix::sys::prctl::set_name(&c);
    }
}

/// A timerfd(2) on the monotonic clock: readable once it expires, so a
/// poll loop keeps a schedule without threads or a timeout of its own.
pub struct Timer {
    fd: std::os::fd::OwnedFd,
}

impl Timer {
    pub fn new() -> Result<Timer> {
        // SAFETY: timerfd_create takes a clock and flags, returns a new fd.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::sys(
                "create a timer",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: a fresh fd we own.
        let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(Timer { fd })
    }

    /// Expires once, `after` from now (at least 1 ns: zero would disarm).
    pub fn set(&self, after: std::time::Duration) {
        let after = after.max(std::time::Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: timerfd_settime reads `spec`, which lives here; no old value.
        unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    }

    /// Clears an expiry that poll reported; true if there was one.
    pub fn take(&self) -> bool {
        let mut b = [0u8; 8];
        nix::unistd::read(&self.fd, &mut b) == Ok(8)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }
}
