//! docker's seccomp profile format (`--security-opt seccomp=FILE`) and
//! docker's default profile as data, both resolved against a container's
//! capabilities into the OCI `linux.seccomp` object.

use serde::Deserialize;

use crate::spec::{Seccomp, SeccompArg, SeccompSyscall};

/// A profile in docker's JSON format: the OCI object plus per-rule
/// `includes`/`excludes` (capabilities, architectures, minimum kernel).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    pub default_action: String,
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub arch_map: Option<serde_json::Value>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub listener_path: Option<String>,
    #[serde(default)]
    pub listener_metadata: Option<String>,
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub names: Vec<String>,
    pub action: String,
    #[serde(default)]
    pub errno_ret: Option<u32>,
    #[serde(default)]
    pub args: Vec<Arg>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub includes: Filter,
    #[serde(default)]
    pub excludes: Filter,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    #[serde(default)]
    pub caps: Vec<String>,
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub min_kernel: Option<String>,
}

/// Our architecture's names in docker's `arches` lists.
const OUR_ARCHES: [&str; 2] = ["amd64", "x86_64"];

impl Profile {
    /// The OCI object for a container with these capabilities (bounding
    /// set, names with or without `CAP_`): rules whose `includes` are not
    /// met, or whose `excludes` are, are left out, as docker does.
    pub fn resolve(&self, caps: &[String]) -> Seccomp {
        let has_cap = |c: &str| {
            let c = c.trim_start_matches("CAP_");
            caps.iter().any(|x| x.trim_start_matches("CAP_") == c)
        };
        let ours = |a: &String| OUR_ARCHES.contains(&a.as_str());
        let mut syscalls = Vec::new();
        for r in &self.syscalls {
            let inc = &r.includes;
            if !inc.caps.iter().all(|c| has_cap(c)) {
                continue;
            }
            if !inc.arches.is_empty() && !inc.arches.iter().any(ours) {
                continue;
            }
            if !inc.min_kernel.as_deref().is_none_or(kernel_at_least) {
                continue;
            }
            let exc = &r.excludes;
            if !exc.caps.is_empty() && exc.caps.iter().any(|c| has_cap(c)) {
                continue;
            }
            if exc.arches.iter().any(ours) {
                continue;
            }
            let mut names = r.names.clone();
            names.extend(r.name.clone());
            syscalls.push(SeccompSyscall {
                names,
                action: r.action.clone(),
                errno_ret: r.errno_ret,
                args: r
                    .args
                    .iter()
                    .map(|a| SeccompArg {
                        index: a.index,
                        value: a.value,
                        value_two: a.value_two,
                        op: a.op.clone(),
                    })
                    .collect(),
            });
        }
        Seccomp {
            default_action: self.default_action.clone(),
            default_errno_ret: self.default_errno_ret,
            architectures: if self.architectures.is_empty() && self.arch_map.is_none() {
                vec![]
            } else {
                vec!["SCMP_ARCH_X86_64".into()]
            },
            flags: self.flags.clone(),
            syscalls,
        }
    }
}

/// `minKernel` ("4.8"): compared with uname's release.
fn kernel_at_least(min: &str) -> bool {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let parse = |s: &str| -> Vec<u32> {
        s.split(|c: char| !c.is_ascii_digit())
            .take(2)
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parse(&release) >= parse(min)
}

// ---------------------------------------------------------------------------
// docker's default profile, x86_64, as of moby#50077 and moby#50097 (May
// 2025; since July 2025 the profile lives in moby/profiles,
// seccomp/default_linux.go). io_uring_setup, io_uring_enter and
// io_uring_register are not allowed (moby#46762, Docker 25: io_uring has
// been the way out of many container escapes, and its operations bypass
// seccomp). The syscalls of kernels 6.5 to 6.7 are allowed (moby#47341), and
// those of 6.8 to 6.13: statmount, listmount, mseal, uretprobe and the
// *xattrat calls for everyone, the lsm_* calls only with CAP_SYS_ADMIN
// (moby#50097: they may bypass what guards /proc/self/attr). riscv_hwprobe
// has no x86_64 number and is skipped, as libseccomp skips it.

/// Allowed for every container.
#[rustfmt::skip]
const ALLOWED: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
    "fchmodat2", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
    "flistxattr", "flock",
    "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
    "futex_waitv", "futex_wake", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
    "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount", "listxattr", "listxattrat",
    "llistxattr", "_llseek",
    "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
    "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2", "restart_syscall",
    "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "setxattrat",
    "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
    "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64",
    "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
    "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
    "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
    "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
    "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
    "waitpid", "write", "writev",
    // x86 only
    "arch_prctl", "modify_ldt",
    // minKernel 4.8
    "process_vm_readv", "process_vm_writev", "ptrace",
];

/// Allowed only with a capability in the bounding set.
#[rustfmt::skip]
const BY_CAPABILITY: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
            "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr",
            "mount", "mount_setattr", "move_mount", "open_tree",
            "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
            "setns", "syslog", "umount", "umount2", "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    ("CAP_SYS_MODULE", &["delete_module", "init_module", "finit_module"]),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    ("CAP_SYS_TIME", &["settimeofday", "stime", "clock_settime", "clock_settime64"]),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// personality(2) values allowed: PER_LINUX, UNAME26, PER_LINUX32,
/// PER_LINUX32|UNAME26, and the query 0xffffffff.
const PERSONALITIES: [u64; 5] = [0x0, 0x0008, 0x20000, 0x20008, 0xffff_ffff];

/// Every CLONE_NEW* flag: clone may not make namespaces without SYS_ADMIN.
const CLONE_NS_FLAGS: u64 = 0x7E02_0000;

const AF_ALG: u64 = 38;
const AF_VSOCK: u64 = 40;

fn allow(names: &[&str]) -> Rule {
    Rule {
        names: names.iter().map(|s| s.to_string()).collect(),
        action: "SCMP_ACT_ALLOW".into(),
        ..Default::default()
    }
}

fn arg(index: u32, value: u64, value_two: u64, op: &str) -> Arg {
    Arg {
        index,
        value,
        value_two,
        op: op.into(),
    }
}

fn caps(list: &[&str]) -> Filter {
    Filter {
        caps: list.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// docker's default profile, in its own format (before the capabilities
/// are known).
pub fn default_profile() -> Profile {
    let mut rules = vec![allow(ALLOWED)];
    // socket(2) for every family but AF_ALG (the kernel's crypto API,
    // CVE-2026-31431 "Copy Fail") and AF_VSOCK, as moby's profile since
    // moby#52494 (May 2026): three rules, below, between and above them.
    // (socketcall(2), whose family BPF cannot read, is unreachable: a
    // non-x86_64 system call kills the process.)
    for (value, op) in [
        (AF_ALG, "SCMP_CMP_LT"),
        (AF_ALG + 1, "SCMP_CMP_EQ"),
        (AF_VSOCK, "SCMP_CMP_GT"),
    ] {
        rules.push(Rule {
            args: vec![arg(0, value, 0, op)],
            ..allow(&["socket"])
        });
    }
    for p in PERSONALITIES {
        rules.push(Rule {
            args: vec![arg(0, p, 0, "SCMP_CMP_EQ")],
            ..allow(&["personality"])
        });
    }
    for (cap, names) in BY_CAPABILITY {
        rules.push(Rule {
            includes: caps(&[cap]),
            ..allow(names)
        });
    }
    rules.push(Rule {
        args: vec![arg(0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ")],
        excludes: caps(&["CAP_SYS_ADMIN"]),
        ..allow(&["clone"])
    });
    rules.push(Rule {
        names: vec!["clone3".into()],
        action: "SCMP_ACT_ERRNO".into(),
        errno_ret: Some(libc::ENOSYS as u32),
        excludes: caps(&["CAP_SYS_ADMIN"]),
        ..Default::default()
    });
    Profile {
        default_action: "SCMP_ACT_ERRNO".into(),
        default_errno_ret: Some(libc::EPERM as u32),
        architectures: vec![
            "SCMP_ARCH_X86_64".into(),
            "SCMP_ARCH_X86".into(),
            "SCMP_ARCH_X32".into(),
        ],
        syscalls: rules,
        ..Default::default()
    }
}

/// The default profile for a container with this bounding set.
pub fn default_for(bounding: &[String]) -> Seccomp {
    default_profile().resolve(bounding)
}
