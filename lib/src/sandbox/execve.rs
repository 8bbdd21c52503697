//! The final step: the environment, the working folder, closing every fd
//! the command must not inherit (CVE-2024-21626), and execve with the exit
//! code decided from its errno: 127 not found, 126 cannot execute.

use std::ffi::CString;
use std::path::Path;

use nix::errno::Errno;

use super::user::Ids;
use super::Failure;

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The command's environment: the spec's, with HOME from passwd and a PATH
/// when the spec has none.
pub(super) fn environment(env: &[String], ids: &Ids) -> Vec<CString> {
    let mut out: Vec<String> = env.to_vec();
    let has = |k: &str, e: &[String]| {
        e.iter()
            .any(|v| v.split_once('=').is_some_and(|(n, _)| n == k))
    };
    if !has("PATH", &out) {
        out.push(format!("PATH={DEFAULT_PATH}"));
    }
    if !has("HOME", &out) {
        out.push(format!("HOME={}", ids.home.as_deref().unwrap_or("/")));
    }
    out.into_iter()
        .filter_map(|s| CString::new(s).ok())
        .collect()
}

/// chdir into the working folder, creating it when missing (as docker does
/// for `-w`). We are past pivot_root: every path is inside the root.
pub(super) fn enter_workdir(cwd: &str, ids: &Ids) -> Result<(), Failure> {
    let dir = if cwd.is_empty() { "/" } else { cwd };
    if !Path::new(dir).is_dir() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::new(125, format!("cannot create working folder '{dir}': {e}")))?;
        let _ = std::os::unix::fs::chown(dir, Some(ids.uid), Some(ids.gid));
    }
    nix::unistd::chdir(dir).map_err(|e| {
        Failure::new(
            125,
            format!(
                "cannot enter working folder '{dir}': {}",
                e.desc().to_lowercase()
            ),
        )
    })?;
    // A folder reached through a leaked fd (/proc/self/fd/N) would be
    // outside the root, where getcwd(2) fails (CVE-2024-21626).
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => Ok(()),
        _ => Err(Failure::new(
            125,
            format!("working folder '{dir}' is outside the container's root"),
        )),
    }
}

/// Marks every fd from `first` on close-on-exec, so nothing of cc's
/// (store folders, pipes, the parent's files) survives into the command;
/// the `first - 3` fds above stderr are the caller's to pass on
/// (`--preserve-fds`) and lose their close-on-exec flag.
pub(super) fn close_other_fds(first: u32) {
    for fd in 3..first {
        let _ = nix::fcntl::fcntl(
            // SAFETY: only the flags of an fd the caller handed us change.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(fd as i32) },
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        );
    }
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
}

/// Finds `args[0]` in the environment's PATH (unless it has a `/`) and
/// execs it. Returns only on failure.
pub(super) fn exec(args: &[String], env: &[CString], umask: Option<u32>) -> Failure {
    let Some(prog) = args.first() else {
        return Failure::new(125, "no command given and the image has none");
    };
    let argv: Vec<CString> = match args.iter().map(|a| CString::new(a.as_bytes())).collect() {
        Ok(v) => v,
        Err(_) => return Failure::new(125, "an argument holds a NUL byte"),
    };
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
        umask.unwrap_or(0o022) & 0o777,
    ));
    let mut denied = None;
    for c in &candidates(prog, env) {
        let Ok(path) = CString::new(c.as_bytes()) else {
            continue;
        };
        let e = nix::unistd::execve(&path, &argv, env).unwrap_err();
        match e {
            Errno::ENOENT | Errno::ENOTDIR => continue,
            other => {
                denied = Some(other);
                if prog.contains('/') || other == Errno::EACCES {
                    continue;
                }
                break;
            }
        }
    }
    match denied {
        Some(e) => Failure::new(
            126,
            format!("cannot execute '{prog}': {}", e.desc().to_lowercase()),
        ),
        None if prog.contains('/') => Failure::new(
            127,
            format!("cannot execute '{prog}': no such file or directory"),
        ),
        None => Failure::new(
            127,
            format!("cannot execute '{prog}': executable file not found in $PATH"),
        ),
    }
}

/// Where `prog` is looked for: itself when it has a `/`, else in each
/// folder of PATH.
fn candidates(prog: &str, env: &[CString]) -> Vec<String> {
    if prog.contains('/') {
        return vec![prog.to_string()];
    }
    path_of(env)
        .split(':')
        .map(|d| format!("{}/{prog}", if d.is_empty() { "." } else { d }))
        .collect()
}

/// Whether the command can be found, without running it: an OCI `create`
/// reports a missing command then, not after `start` (as runc does).
pub(super) fn check_found(args: &[String], env: &[CString]) -> Result<(), Failure> {
    let Some(prog) = args.first() else {
        return Err(Failure::new(125, "no command given and the image has none"));
    };
    if candidates(prog, env)
        .iter()
        .any(|c| std::fs::metadata(c).is_ok_and(|m| m.is_file()))
    {
        return Ok(());
    }
    Err(match prog.contains('/') {
        true => Failure::new(
            127,
            format!("cannot execute '{prog}': no such file or directory"),
        ),
        false => Failure::new(
            127,
            format!("cannot execute '{prog}': executable file not found in $PATH"),
        ),
    })
}

fn path_of(env: &[CString]) -> String {
    env.iter()
        .filter_map(|c| c.to_str().ok())
        .find_map(|s| s.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
        .to_string()
}
