//! seccomp: docker's default profile and JSON format (profile.rs), resolved
//! against the container's capabilities into the OCI `linux.seccomp`
//! object; that object compiled to one classic BPF program (policy.rs:
//! what it means, codegen.rs: the code, bpf.rs: the instructions) and
//! loaded with seccomp(2).
//!
//! Semantics, as docker with runc: a syscall the profile allows is allowed;
//! one the kernel knows but the profile does not allow gets the default
//! action (EPERM); one newer than every syscall the profile names gets
//! ENOSYS, so libcs fall back (glibc's `clone3` → `clone`, docker 42681).
//! A foreign architecture (i386, x32 numbers) is refused: i386 kills the
//! process, x32 numbers are above every syscall named. In a rule's `args`,
//! conditions on one argument are alternatives and conditions on
//! different arguments must all hold (runc with libseccomp; policy.rs).
//!
//! One program, not a stack of filters: a stack (seccompiler's one action
//! per filter) is checked linearly, filter after filter, and made loading
//! cost most of a millisecond of a container's start; this one is a binary
//! search of the syscall number.

mod bpf;
mod codegen;
mod policy;
mod profile;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use bpf::Insn;
pub use profile::{default_for, default_profile, Arg, Filter, Profile, Rule};

use super::syscalls::TABLE;
use crate::error::{Error, Result};
use crate::spec::Seccomp;

/// The number of a syscall on x86_64, if libc knows it.
pub fn number(name: &str) -> Option<i64> {
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, nr)| *nr)
}

/// Reads a docker JSON profile (`--security-opt seccomp=FILE`) and resolves
/// it for these capabilities; any error names the file.
pub fn from_file(path: &Path, caps: &[String]) -> Result<Seccomp> {
    let bad = |why: String| {
        Error::Spec(format!(
            "invalid seccomp profile '{}': {why}",
            path.display()
        ))
    };
    let text = std::fs::read(path).map_err(|e| Error::io("read seccomp profile", path, e))?;
    let profile: Profile =
        serde_json::from_slice(&text).map_err(|e| bad(e.to_string().replace('\n', " ")))?;
    if profile.listener_path.is_some() {
        return Err(bad("listenerPath (SCMP_ACT_NOTIFY) is not supported".into()));
    }
    let s = profile.resolve(caps);
    compile(&s).map_err(bad)?;
    filter_flags(&s).map_err(bad)?;
    Ok(s)
}

/// The BPF program of a spec's seccomp object.
pub fn compile(s: &Seccomp) -> std::result::Result<Vec<Insn>, String> {
    codegen::program(&policy::Policy::parse(s)?)
}

/// seccomp(2)'s flags from the spec's `flags`.
pub fn filter_flags(s: &Seccomp) -> std::result::Result<u32, String> {
    let mut out = 0;
    for f in &s.flags {
        out |= match f.as_str() {
            "SECCOMP_FILTER_FLAG_TSYNC" => libc::SECCOMP_FILTER_FLAG_TSYNC,
            "SECCOMP_FILTER_FLAG_LOG" => libc::SECCOMP_FILTER_FLAG_LOG,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            other => return Err(format!("unknown flag '{other}'")),
        } as u32;
    }
    Ok(out)
}

/// Loads the program with seccomp(2) and these flags, without setting
/// no_new_privs: the caller must have CAP_SYS_ADMIN or have set
/// no_new_privs itself.
pub fn load(program: &[Insn], flags: u32) -> std::io::Result<()> {
    let prog = libc::sock_fprog {
        // compile() keeps programs within the kernel's 4096 instructions.
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: Insn has sock_filter's layout; the program outlives the
    // call, which copies it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
