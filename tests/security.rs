//! Security defaults from inside a container: docker's seccomp profile
//! (EPERM for what it denies, ENOSYS for what it does not know, clone3
//! ENOSYS so glibc falls back), its argument conditions, the capability
//! groups, `seccomp=unconfined` and `seccomp=FILE`, `--privileged`, the
//! device cgroup and `--device`, and cc-exec under the same filter.

use std::fs;
use std::path::Path;

use support::{
    add_syscall_helper, assert_code, assert_ok, assert_one_line_error, root_or_skip, stderr,
    stdout, Env,
};

/// An env with image `img`: busybox plus the static syscall helper `sc`.
fn env_sc() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    add_syscall_helper(&dir);
    env.import_dir(&dir, "img");
    env
}

/// `cc-run --rm --net none FLAGS... img sh -c SCRIPT` (any exit code).
fn run(env: &Env, flags: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["--rm", "--net", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["img", "sh", "-c", script]);
    env.run("cc-run", args)
}

/// `KEY=VALUE` lines of a script's output, as a lookup.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in output:\n{out}"))
        .trim()
}

// x86_64 syscall numbers used below.
const PERSONALITY: u32 = 135;
const REBOOT: u32 = 169;
const KEXEC_LOAD: u32 = 246;
const KEYCTL: u32 = 250;
const OPEN_BY_HANDLE_AT: u32 = 304;
const CLONE3: u32 = 435;
const CLONE: u32 = 56;
const SOCKET: u32 = 41;
const AF_VSOCK: u32 = 40;
const AF_ALG: u32 = 38;

#[test]
fn default_container_is_confined() {
    root_or_skip!();
    let env = env_sc();
    let script = format!(
        "echo seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)
         unshare -n true 2>/tmp/e; echo unshare_n=$? $(cat /tmp/e)
         unshare -m true 2>/dev/null; echo unshare_m=$?
         mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?
         echo clone3=$(sc {CLONE3})
         echo unknown=$(sc 1000)
         echo reboot=$(sc {REBOOT})
         echo kexec=$(sc {KEXEC_LOAD})
         echo shocker=$(sc {OPEN_BY_HANDLE_AT})
         echo keyctl=$(sc {KEYCTL})
         echo personality_bad=$(sc {PERSONALITY} 0xdeadbeef)
         echo personality_query=$(sc {PERSONALITY} 0xffffffff)
         echo getpid=$(sc 39)
         echo clone_ns=$(sc {CLONE} 0x20011)
         echo vsock=$(sc {SOCKET} {AF_VSOCK})
         echo alg=$(sc {SOCKET} {AF_ALG})
         echo inet=$(sc {SOCKET} 2)
         (sleep 0 & wait) && echo fork=ok
         mknod /dev/sda b 8 0; echo mknod=$?
         head -c1 /dev/sda >/dev/null 2>&1; echo read_sda=$?
         cat /dev/null; echo null=$?
         head -c4 /dev/zero | wc -c | sed 's/^/zero=/'"
    );
    let out = run(&env, &[], &script);
    assert_ok(&out, "cc-run (default)");
    let o = stdout(&out);
    assert_eq!(field(&o, "seccomp"), "2", "filter mode 2 by default");
    assert!(field(&o, "unshare_n").starts_with('1'), "{o}");
    assert!(
        field(&o, "unshare_n").contains("Operation not permitted"),
        "{o}"
    );
    assert_eq!(field(&o, "unshare_m"), "1");
    assert_ne!(field(&o, "mount"), "0");
    assert_eq!(
        field(&o, "clone3"),
        "ENOSYS",
        "glibc falls back only on ENOSYS"
    );
    assert_eq!(
        field(&o, "unknown"),
        "ENOSYS",
        "unknown syscalls get ENOSYS"
    );
    for k in [
        "reboot",
        "kexec",
        "shocker",
        "keyctl",
        "personality_bad",
        "clone_ns",
        "vsock",
        "alg",
    ] {
        assert_eq!(field(&o, k), "EPERM", "{k}: known but denied");
    }
    assert_eq!(field(&o, "personality_query"), "ok");
    assert_eq!(field(&o, "getpid"), "ok");
    // socket(AF_INET, 0, 0): past the filter, the kernel itself refuses
    // type 0 — the family is not what is denied.
    assert_eq!(
        field(&o, "inet"),
        "Socket type not supported",
        "other families reach the kernel"
    );
    assert_eq!(field(&o, "fork"), "ok", "clone without namespace flags");
    assert_ne!(field(&o, "mknod"), "0", "no CAP_MKNOD by default");
    assert_ne!(
        field(&o, "read_sda"),
        "0",
        "the device cgroup denies the disk"
    );
    assert_eq!(field(&o, "null"), "0");
    assert_eq!(field(&o, "zero"), "4");
}

/// The kernel's release as (major, minor).
fn kernel() -> (u32, u32) {
    let r = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut n = r
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse().unwrap_or(0));
    (n.next().unwrap_or(0), n.next().unwrap_or(0))
}

/// docker's profile as of moby#50077/#50097: the syscalls of Linux 6.8 to
/// 6.13 reach the kernel (which answers EFAULT for the null arguments, or
/// ENOSYS when it is older), the lsm_* calls are EPERM without
/// CAP_SYS_ADMIN, and a syscall past the profile (open_tree_attr, 467) is
/// ENOSYS whatever the kernel.
#[test]
fn syscalls_of_linux_6_13_follow_moby() {
    root_or_skip!();
    let env = env_sc();
    let script = "echo listmount=$(sc 458); echo statmount=$(sc 457); \
                  echo removexattrat=$(sc 466); echo lsm=$(sc 461); echo past=$(sc 467)";
    let out = run(&env, &[], script);
    let o = stdout(&out);
    let (with, without) = (|v: (u32, u32)| kernel() >= v, "ENOSYS");
    for (k, since) in [
        ("listmount", (6, 8)),
        ("statmount", (6, 8)),
        ("removexattrat", (6, 13)),
    ] {
        let want = if with(since) { "Bad address" } else { without };
        assert_eq!(field(&o, k), want, "{k} on kernel {:?}", kernel());
    }
    assert_eq!(
        field(&o, "lsm"),
        "EPERM",
        "lsm_list_modules needs CAP_SYS_ADMIN"
    );
    assert_eq!(field(&o, "past"), "ENOSYS");
    let out = run(&env, &["--cap-add", "SYS_ADMIN"], "echo lsm=$(sc 461)");
    let want = if with((6, 8)) { "Bad address" } else { without };
    assert_eq!(field(&stdout(&out), "lsm"), want);
}

#[test]
fn unconfined_cap_add_and_privileged() {
    root_or_skip!();
    let env = env_sc();
    // No filter: unshare still fails, now only for want of CAP_SYS_ADMIN,
    // and clone3 reaches the kernel.
    let o = run(
        &env,
        &["--security-opt", "seccomp=unconfined"],
        &format!(
            "echo seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)
             unshare -m true 2>/dev/null; echo unshare=$?
             echo clone3=$(sc {CLONE3})
             echo unknown=$(sc 1000)"
        ),
    );
    assert_ok(&o, "cc-run seccomp=unconfined");
    let o = stdout(&o);
    assert_eq!(field(&o, "seccomp"), "0");
    assert_eq!(field(&o, "unshare"), "1", "no CAP_SYS_ADMIN");
    assert_ne!(field(&o, "clone3"), "ENOSYS", "clone3 reaches the kernel");
    assert_eq!(field(&o, "unknown"), "ENOSYS", "the kernel's own ENOSYS");

    // CAP_SYS_ADMIN brings docker's SYS_ADMIN group: unshare, mount,
    // clone3.
    let o = run(
        &env,
        &["--cap-add", "SYS_ADMIN"],
        &format!(
            "echo seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)
             unshare -m true; echo unshare=$?
             echo clone3=$(sc {CLONE3})
             echo reboot=$(sc {REBOOT})"
        ),
    );
    assert_ok(&o, "cc-run --cap-add SYS_ADMIN");
    let o = stdout(&o);
    assert_eq!(field(&o, "seccomp"), "2");
    assert_eq!(field(&o, "unshare"), "0");
    assert_ne!(field(&o, "clone3"), "ENOSYS");
    assert_eq!(field(&o, "reboot"), "EPERM", "no CAP_SYS_BOOT");

    let o = run(
        &env,
        &["--privileged"],
        "echo seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)
         mount -t tmpfs none /tmp; echo mount=$?",
    );
    assert_ok(&o, "cc-run --privileged");
    let o = stdout(&o);
    assert_eq!(field(&o, "seccomp"), "0", "--privileged is unconfined");
    assert_eq!(field(&o, "mount"), "0");
}

/// Two conditions on one argument are alternatives (runc, libseccomp): a
/// profile denying `kill` when the signal is 0 or when it is 10 denies
/// `kill -0 1`, and lets `kill -9` through to the shell's own child.
#[test]
fn seccomp_conditions_on_one_argument_are_alternatives() {
    root_or_skip!();
    let env = env_sc();
    let profile = env.dir.join("no-kill-0-or-10.json");
    fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                          "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"},
                                   {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let o = run(
        &env,
        &["--security-opt", &opt],
        "kill -0 1 2>/dev/null; echo zero=$?; kill -10 1 2>/dev/null; echo usr1=$?; \
         sleep 100 & kill -9 $! 2>/dev/null; echo nine=$?",
    );
    assert_ok(&o, "cc-run seccomp=FILE");
    let o = stdout(&o);
    assert_eq!(field(&o, "zero"), "1", "kill -0 is denied: {o}");
    assert_eq!(field(&o, "usr1"), "1", "kill -10 is denied: {o}");
    assert_eq!(field(&o, "nine"), "0", "kill -9 is allowed: {o}");
}

#[test]
fn seccomp_profile_file() {
    root_or_skip!();
    let env = env_sc();
    let profile = env.dir.join("no-mkdir.json");
    fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                         {"names": ["reboot"], "action": "SCMP_ACT_ERRNO",
                          "includes": {"caps": ["CAP_SYS_BOOT"]}}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let o = run(
        &env,
        &["--security-opt", &opt],
        "mkdir /x 2>/tmp/e; echo mkdir=$? $(cat /tmp/e); mkdir -p /x 2>/dev/null; \
         touch /y; echo touch=$?",
    );
    assert_ok(&o, "cc-run seccomp=FILE");
    let o = stdout(&o);
    assert!(field(&o, "mkdir").starts_with('1'), "{o}");
    assert!(
        field(&o, "mkdir").contains("Operation not permitted"),
        "{o}"
    );
    assert_eq!(field(&o, "touch"), "0", "default allow");

    // Bad profiles: 125 and one line naming the file.
    for (name, text) in [
        ("broken.json", r#"{"defaultAction": "SCMP_ACT_ALLOW","#),
        ("action.json", r#"{"defaultAction": "SCMP_ACT_NOPE"}"#),
        (
            "op.json",
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]}"#,
        ),
    ] {
        let f = env.dir.join(name);
        fs::write(&f, text).unwrap();
        let out = env.run(
            "cc-run",
            [
                "--rm",
                "--security-opt",
                &format!("seccomp={}", f.display()),
                "img",
                "true",
            ],
        );
        assert_code(&out, 125, name);
        assert_one_line_error(&out, "cc-run");
        assert!(
            stderr(&out).contains(&f.display().to_string()),
            "{}",
            stderr(&out)
        );
    }
    let out = env.run(
        "cc-run",
        [
            "--rm",
            "--security-opt",
            "seccomp=/no/such.json",
            "img",
            "true",
        ],
    );
    assert_code(&out, 125, "missing profile");
    assert_one_line_error(&out, "cc-run");
    let out = env.run(
        "cc-run",
        ["--rm", "--security-opt", "apparmor=x", "img", "true"],
    );
    assert_code(&out, 125, "unknown security option");
}

#[test]
fn devices_and_device_cgroup() {
    root_or_skip!();
    let env = env_sc();
    let mut flags = vec![
        "--device",
        "/dev/zero:/dev/myzero",
        "--device",
        "/dev/full:/dev/ro-full:r",
    ];
    let loop0 = Path::new("/dev/loop0").exists();
    if loop0 {
        flags.extend(["--device", "/dev/loop0"]);
    }
    let o = run(
        &env,
        &flags,
        "echo zero=$(head -c3 /dev/myzero | wc -c)
         echo kind=$(stat -c %F /dev/myzero)
         echo ro_read=$(head -c2 /dev/ro-full | wc -c)
         echo x > /dev/ro-full 2>/dev/null; echo ro_write=$?
         if [ -e /dev/loop0 ]; then echo loop=$(stat -c %t:%T /dev/loop0); else echo loop=none; fi",
    );
    assert_ok(&o, "cc-run --device");
    let o = stdout(&o);
    assert_eq!(field(&o, "zero"), "3");
    assert_eq!(field(&o, "kind"), "character special file");
    assert_eq!(field(&o, "ro_read"), "2");
    assert_ne!(field(&o, "ro_write"), "0", "--device ...:r denies writes");
    if loop0 {
        assert_eq!(field(&o, "loop"), "7:0");
    }
    let out = env.run("cc-run", ["--rm", "--device", "/etc/passwd", "img", "true"]);
    assert_code(&out, 125, "--device of a regular file");
    assert_one_line_error(&out, "cc-run");

    // --privileged: every device, so a node made inside can be read.
    let o = run(
        &env,
        &["--privileged"],
        "mknod /dev/z2 c 1 5 && head -c2 /dev/z2 | wc -c | sed 's/^/z2=/'",
    );
    assert_ok(&o, "cc-run --privileged mknod");
    assert_eq!(field(&stdout(&o), "z2"), "2");
    let o = run(
        &env,
        &[],
        "mknod /dev/z2 c 1 11 && head -c1 /dev/z2; echo kmsg=$?",
    );
    assert_ne!(
        field(&stdout(&o), "kmsg"),
        "0",
        "c 1:11 is not a default device"
    );
}

#[test]
fn exec_and_inspect_see_the_filter() {
    root_or_skip!();
    let env = env_sc();
    let id = env.run_d(["--net", "none", "img", "sleep", "60"]);
    let out = env.ok(
        "cc-exec",
        [
            id.as_str(),
            "sh",
            "-c",
            "echo seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2); echo clone3=$(sc 435); \
             unshare -m true 2>/dev/null; echo unshare=$?",
        ],
    );
    assert_eq!(field(&out, "seccomp"), "2");
    assert_eq!(field(&out, "clone3"), "ENOSYS");
    assert_eq!(field(&out, "unshare"), "1");
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [id.as_str()])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    let sc = &v["HostConfig"]["Seccomp"];
    assert_eq!(sc["defaultAction"], "SCMP_ACT_ERRNO", "{sc}");
    assert_eq!(sc["defaultErrnoRet"], 1);
    assert!(sc["syscalls"].as_array().is_some_and(|s| s.len() > 5));
    // The bundle's config.json carries the same object.
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(env.ctr_dir(&id).join("config.json")).unwrap()).unwrap();
    assert_eq!(&config["linux"]["seccomp"], sc);
    let _ = env.run("cc-rm", ["-f", id.as_str()]);

    let id = env.run_d([
        "--net",
        "none",
        "--security-opt",
        "seccomp=unconfined",
        "img",
        "sleep",
        "60",
    ]);
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [id.as_str()])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    assert!(v["HostConfig"]["Seccomp"].is_null());
    let _ = env.run("cc-rm", ["-f", id.as_str()]);
}

/// CVE-2024-21626: a working folder named through /proc/self/fd/N (where
/// a leaked fd of a host folder would lead out of the root) is refused
/// with one line and leaves nothing behind; every fd the command gets
/// beyond stdio is closed.
#[test]
fn working_folder_through_fds_and_leaked_fds() {
    root_or_skip!();
    let env = env_sc();
    for n in 3..10 {
        let w = format!("/proc/self/fd/{n}");
        let out = env.run("cc-run", ["--rm", "--net", "none", "-w", &w, "img", "pwd"]);
        if out.status.success() {
            // Only a folder inside the root may be entered.
            let pwd = stdout(&out);
            assert!(
                pwd.starts_with('/') && !pwd.contains("unreachable"),
                "-w {w}: {pwd}"
            );
        } else {
            assert_code(&out, 125, &format!("cc-run -w {w}"));
            assert_one_line_error(&out, "cc-run");
        }
    }
    let out = run(&env, &[], "ls /proc/self/fd | sort -n | tr '\\n' ' '");
    assert_ok(&out, "cc-run ls /proc/self/fd");
    // 0, 1, 2 and the fd ls itself opens for the listing.
    let fds: Vec<String> = stdout(&out).split_whitespace().map(String::from).collect();
    assert!(fds.len() <= 4, "fds open in the container: {fds:?}");
    assert_eq!(&fds[..3], ["0", "1", "2"]);
    assert!(env.container_ids().is_empty());
    support::assert_no_leaks(&env);
}

/// `--init`'s pid 1 is cc's own code inside the container: it keeps only
/// CAP_KILL, has no_new_privs and the command's seccomp filter, and still
/// passes signals on to a command of another user.
#[test]
fn init_is_confined_like_the_command() {
    root_or_skip!();
    let env = env_sc();
    let out = run(
        &env,
        &["--init"],
        "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/1/status | tr -d '\\t' | tr ':' '='",
    );
    assert_ok(&out, "cc-run --init");
    let o = stdout(&out);
    for k in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(field(&o, k), "0000000000000020", "{k}: CAP_KILL only");
    }
    assert_eq!(field(&o, "NoNewPrivs"), "1");
    assert_eq!(field(&o, "Seccomp"), "2");
    let out = env.run(
        "cc-run",
        [
            "-d", "--init", "-u", "1000", "--net", "none", "img", "sleep", "60",
        ],
    );
    assert_ok(&out, "cc-run -d --init -u 1000");
    let id = stdout(&out).trim().to_string();
    let out = env.run("cc-stop", ["-t", "30", &id]);
    assert_ok(&out, "cc-stop");
    assert_eq!(
        env.ok("cc-wait", [&id]).trim(),
        "143",
        "SIGTERM reached the uid 1000 command through pid 1, not SIGKILL after 30 s"
    );
    env.ok("cc-rm", [&id]);
    support::assert_no_leaks(&env);
}
