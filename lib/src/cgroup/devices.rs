//! The device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
//! attached to the group (v2 has no devices.allow). The kernel runs it for
//! every open and mknod of a device node with `struct bpf_cgroup_dev_ctx
//! { u32 access_type; u32 major; u32 minor; }`, access_type being
//! `access << 16 | type`; it returns 1 to allow, 0 to deny (EPERM).
//!
//! Rules are the v1 lines of `Resources::devices`: an optional leading
//! `deny a` (the default then is deny), then `allow TYPE MAJ:MIN ACCESS`
//! lines; `allow a` allows everything (no program needed).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0xf),
        off,
        imm,
    }
}

const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const MOV_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const MOV_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const AND_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
const RSH_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// An allow rule: type (None: any), major, minor (None: any), access bits.
#[derive(Debug, PartialEq)]
struct Allow {
    kind: Option<i32>,
    major: Option<i32>,
    minor: Option<i32>,
    access: i32,
}

/// The allow rules, or `None` when every device is allowed.
fn parse(rules: &[String]) -> Result<Option<Vec<Allow>>> {
    let bad =
        |r: &str| Error::Unsupported(format!("device rule '{r}' is not supported on cgroup v2"));
    let mut out = Vec::new();
    let mut default_deny = false;
    for (i, r) in rules.iter().enumerate() {
        let f: Vec<&str> = r.split_whitespace().collect();
        match f.as_slice() {
            ["deny", "a"] if i == 0 => default_deny = true,
            ["allow", "a"] => return Ok(None),
            ["allow", kind, nums, access] => {
                let kind = match *kind {
                    "c" => Some(DEV_CHAR),
                    "b" => Some(DEV_BLOCK),
                    "a" => None,
                    _ => return Err(bad(r)),
                };
                let (maj, min) = nums.split_once(':').ok_or_else(|| bad(r))?;
                let num = |s: &str| -> Result<Option<i32>> {
                    if s == "*" {
                        Ok(None)
                    } else {
                        s.parse().map(Some).map_err(|_| bad(r))
                    }
                };
                let mut bits = 0;
                for c in access.chars() {
                    bits |= match c {
                        'r' => ACC_READ,
                        'w' => ACC_WRITE,
                        'm' => ACC_MKNOD,
                        _ => return Err(bad(r)),
                    };
                }
                out.push(Allow {
                    kind,
                    major: num(maj)?,
                    minor: num(min)?,
                    access: bits,
                });
            }
            _ => return Err(bad(r)),
        }
    }
    Ok(default_deny.then_some(out))
}

/// The program: the first matching allow rule returns 1, else 0.
fn program(allows: &[Allow]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0), // r2 = type
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0), // r3 = access
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0), // r4 = major
        insn(LDX_W, 5, 1, 8, 0), // r5 = minor
    ];
    for a in allows {
        // Each check jumps past the rest of the block when it fails.
        let mut checks: Vec<Vec<Insn>> = Vec::new();
        if let Some(k) = a.kind {
            checks.push(vec![insn(JNE_K, 2, 0, 0, k)]);
        }
        checks.push(vec![
            insn(MOV_X, 1, 3, 0, 0),
            insn(AND_K, 1, 0, 0, !a.access & 0xffff),
            insn(JNE_K, 1, 0, 0, 0),
        ]);
        if let Some(m) = a.major {
            checks.push(vec![insn(JNE_K, 4, 0, 0, m)]);
        }
        if let Some(m) = a.minor {
            checks.push(vec![insn(JNE_K, 5, 0, 0, m)]);
        }
        let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
        block.push(insn(MOV_K, 0, 0, 0, 1));
        block.push(insn(EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JNE_K {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// Loads the program for `rules` and attaches it to the v2 group at
/// `dir`; nothing when every device is allowed or there are no rules.
pub(super) fn apply(dir: &Path, rules: &[String]) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let Some(allows) = parse(rules)? else {
        return Ok(());
    };
    let prog = program(&allows);
    // Loaded without a verifier log, as runc does: on Linux 6.1 the
    // verifier's log of this program outgrows a small buffer and the load
    // fails with ENOSPC. The log is asked for only to explain a failure.
    let fd = match load(&prog, None) {
        Ok(fd) => fd,
        Err(e) => {
            let mut log = vec![0u8; 1 << 20];
            let why = match load(&prog, Some(&mut log)) {
                Ok(_) => String::new(),
                Err(_) => verifier_last_line(&log),
            };
            let e = if why.is_empty() {
                e
            } else {
                std::io::Error::new(e.kind(), format!("{e} (verifier: {why})"))
            };
            return Err(Error::io("load the device filter for", dir, e));
        }
    };
    let prog_fd = fd;
    let group = std::fs::File::open(dir).map_err(|e| Error::io("open", dir, e))?;
    let attach = ProgAttach {
        target_fd: group.as_raw_fd() as u32,
        attach_bpf_fd: prog_fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    // SAFETY: as above; the attachment holds its own reference, so both
    // fds may close afterwards.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attach as *const ProgAttach,
            std::mem::size_of::<ProgAttach>(),
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::io("attach the device filter to", dir, e));
    }
    Ok(())
}

/// BPF_PROG_LOAD of `prog` as a device program, with the verifier's log
/// written to `log` when one is given.
fn load(prog: &[Insn], log: Option<&mut [u8]>) -> std::io::Result<OwnedFd> {
    let license = c"Apache";
    let (log_level, log_size, log_buf) = match log {
        Some(buf) => (1, buf.len() as u32, buf.as_mut_ptr() as u64),
        None => (0, 0, 0),
    };
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        ..Default::default()
    };
    attr.prog_name[..10].copy_from_slice(b"cc_devices");
    // SAFETY: bpf(2) with a bpf_attr prefix the kernel copies; the
    // instructions, license and log buffer outlive the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &mut attr as *mut ProgLoad,
            std::mem::size_of::<ProgLoad>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The last non-empty line of a verifier log (the reason it refused).
fn verifier_last_line(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    String::from_utf8_lossy(&log[..end])
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_rules_parse_and_compile() {
        let rules: Vec<String> = [
            "deny a",
            "allow c 1:3 rwm",
            "allow c 136:* rwm",
            "allow b *:* m",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = parse(&rules).unwrap().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[1].minor, None);
        assert_eq!(a[2].access, ACC_MKNOD);
        let p = program(&a);
        assert_eq!(p.last().unwrap().code, EXIT);
        assert!(parse(&["allow a".to_string()]).unwrap().is_none());
        assert!(parse(&["allow c 1:3 rwm".to_string(), "deny c 1:3 r".to_string()]).is_err());
    }

    /// The kernel's verifier accepts docker's default rules and a long
    /// custom list (on 6.1 a 4 KiB verifier log made both fail with ENOSPC).
    #[test]
    fn default_and_long_rule_lists_load() {
        if !nix::unistd::geteuid().is_root() {
            assert!(std::env::var_os("CI").is_none(), "needs root under CI");
            return;
        }
        let defaults: Vec<String> = [
            "deny a",
            "allow c 1:3 rwm",
            "allow c 1:5 rwm",
            "allow c 1:7 rwm",
            "allow c 1:8 rwm",
            "allow c 1:9 rwm",
            "allow c 5:0 rwm",
            "allow c 5:1 rwm",
            "allow c 5:2 rwm",
            "allow c 136:* rwm",
            "allow c 10:200 rwm",
            "allow c *:* m",
            "allow b *:* m",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut long = defaults.clone();
        for i in 0..400 {
            long.push(format!(
                "allow {} {}:{} {}",
                ["c", "b"][i % 2],
                200 + i,
                i,
                ["r", "rw", "rwm"][i % 3]
            ));
        }
        for rules in [&defaults, &long] {
            let prog = program(&parse(rules).unwrap().unwrap());
            load(&prog, None)
                .unwrap_or_else(|e| panic!("{} rules, {} insns: {e}", rules.len(), prog.len()));
        }
    }

    /// Loads the program into a fresh cgroup2 group (a cgroup2 mount of our
    /// own when the machine is v1) and checks what a process there may
    /// open.
    #[test]
    fn cgroup_v2_device_program_is_enforced() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let mnt = tempfile::tempdir().unwrap();
        let root = if super::super::version() == super::super::Version::V2 {
            std::path::PathBuf::from("/sys/fs/cgroup")
        } else {
            let r = nix::mount::mount(
                Some("cgroup2"),
                mnt.path(),
                Some("cgroup2"),
                nix::mount::MsFlags::empty(),
                None::<&str>,
            );
            if r.is_err() {
                return;
            }
            mnt.path().to_path_buf()
        };
        let dir = root.join(format!("cc-devtest-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let rules: Vec<String> = ["deny a", "allow c 1:3 rw", "allow c 1:5 r"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let applied = apply(&dir, &rules);
        let out = applied.as_ref().ok().map(|_| {
            std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(format!(
                    "echo $$ > {}/cgroup.procs; head -c1 /dev/zero >/dev/null && echo zero; \
                     head -c1 /dev/full >/dev/null 2>&1 || echo full-denied; \
                     (echo x > /dev/zero) 2>/dev/null || echo write-denied",
                    dir.display()
                ))
                .output()
                .unwrap()
        });
        let _ = std::fs::remove_dir(&dir);
        if root != Path::new("/sys/fs/cgroup") {
            let _ = nix::mount::umount(mnt.path());
        }
        applied.unwrap();
        let text = String::from_utf8_lossy(&out.unwrap().stdout).into_owned();
        assert!(text.contains("zero"), "{text}");
        assert!(text.contains("full-denied"), "{text}");
        assert!(text.contains("write-denied"), "{text}");
    }
}
