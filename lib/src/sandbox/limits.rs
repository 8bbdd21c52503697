//! The command's process attributes from the spec's `process`: resource
//! limits (`rlimits`, docker's `--ulimit`) and the OOM killer's preference
//! (`oomScoreAdj`). Set in the child before it gives up its privileges,
//! since raising a hard limit or lowering the score takes them.

use super::Failure;
use crate::spec::Process;

pub(super) fn apply(p: &Process) -> Result<(), Failure> {
    for r in &p.rlimits {
        let resource = resource(&r.kind)
            .ok_or_else(|| Failure::new(125, format!("unknown rlimit '{}'", r.kind)))?;
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(resource, &lim) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Failure::new(
                125,
                format!(
                    "cannot set {} to {}:{}: {}",
                    r.kind,
                    r.soft,
                    r.hard,
                    crate::error::Os(&e)
                ),
            ));
        }
    }
    if let Some(score) = p.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", score.to_string()).map_err(|e| {
            Failure::new(
                125,
                format!("cannot set oomScoreAdj {score}: {}", crate::error::Os(&e)),
            )
        })?;
    }
    Ok(())
}

fn resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    })
}
