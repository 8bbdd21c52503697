//! Escapes from a default container, each tried from inside and each
//! followed by a look at the host: mounts, /proc and /proc/sys writes,
//! /proc/kcore, the host's disk, kernel modules, host processes, host
//! namespaces, keyctl, open_by_handle_at ("shocker"), the cgroup
//! filesystem, reboot, overwriting cc's own binary (CVE-2019-5736) and the
//! capabilities of a non-root user. Then the same doors with the flags
//! that are meant to open them (`--privileged`, `--cap-add`), tried only
//! where success cannot harm the host.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{
    assert_no_leaks, assert_ok, bin, cgroup_dir, root_or_skip, run_timeout, stdout, wait_for, Env,
};

/// `esc`: a static helper for what busybox cannot do.
/// - `esc NR [A0..A5]`: raw syscall NR, prints `ok`, `EPERM`, `ENOSYS`...
/// - `esc openw PATH`: open(2) O_WRONLY, never writes, prints the result
/// - `esc reopenw PATH`: open O_PATH, then /proc/self/fd/N O_WRONLY
/// - `esc read1 PATH`: open O_RDONLY and read one byte (discarded):
///   `ok`, `empty`, `open-ERR` or `read-ERR`
/// - `esc ptrace PID`: PTRACE_ATTACH, wait for the stop, detach
/// - `esc hunt SECS`: wait for a process running a cc program (`cc-*`),
///   open its /proc/PID/exe O_PATH and try to reopen that for writing
///   until SECS pass (CVE-2019-5736; never writes)
const ESC: &str = r#"
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *name(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case ETXTBSY: return "ETXTBSY";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    default: return strerror(e);
    }
}

static int report(long r) {
    if (r >= 0) { puts("ok"); return 0; }
    puts(name(errno));
    return 1;
}

static int hunt(int secs) {
    time_t end = time(0) + secs;
    char self[32];
    snprintf(self, sizeof self, "%d", getpid());
    while (time(0) < end) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9' || !strcmp(e->d_name, self)) continue;
            char path[64], target[4096];
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = 0;
            const char *base = strrchr(target, '/');
            base = base ? base + 1 : target;
            if (strncmp(base, "cc-", 3)) continue;
            int fd = open(path, O_PATH | O_CLOEXEC);
            printf("caught=%s\n", target);
            if (fd < 0) { printf("opath=%s\n", name(errno)); fflush(stdout); return 1; }
            printf("opath=ok\n");
            fflush(stdout);
            char via[64];
            snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
            int last = 0;
            while (time(0) < end) {
                int w = open(via, O_WRONLY | O_CLOEXEC);
                if (w >= 0) { close(w); puts("write=ok"); return 0; }
                last = errno;
                usleep(2000);
            }
            printf("write=%s\n", name(last));
            return 1;
        }
        if (d) closedir(d);
    }
    puts("caught=none");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "openw") && argc > 2)
        return report(open(argv[2], O_WRONLY | O_CLOEXEC));
    if (!strcmp(argv[1], "reopenw") && argc > 2) {
        int p = open(argv[2], O_PATH | O_CLOEXEC);
        if (p < 0) { printf("opath-"); return report(p); }
        char via[64];
        snprintf(via, sizeof via, "/proc/self/fd/%d", p);
        return report(open(via, O_WRONLY | O_CLOEXEC));
    }
    if (!strcmp(argv[1], "read1") && argc > 2) {
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) { printf("open-"); return report(fd); }
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 0) { puts("empty"); return 1; }
        if (n < 0) printf("read-");
        return report(n);
    }
    if (!strcmp(argv[1], "ptrace") && argc > 2) {
        pid_t pid = atoi(argv[2]);
        if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) return report(-1);
        waitpid(pid, 0, __WALL);
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return report(0);
    }
    if (!strcmp(argv[1], "hunt") && argc > 2) return hunt(atoi(argv[2]));
    long nr = strtol(argv[1], 0, 0);
    unsigned long a[6] = {0};
    for (int i = 2; i < argc && i < 8; i++) a[i - 2] = strtoul(argv[i], 0, 0);
    return report(syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}
"#;

// x86_64 syscall numbers.
const PTRACE: u32 = 101;
const PTRACE_ATTACH: u32 = 16;
const REBOOT: u32 = 169;
const INIT_MODULE: u32 = 175;
const KEYCTL: u32 = 250;
const OPEN_BY_HANDLE_AT: u32 = 304;
const SETNS: u32 = 308;
const FINIT_MODULE: u32 = 313;

/// An env with image `img`: busybox, `esc`, and `/evil`, a script whose
/// interpreter is `/proc/self/exe` (whatever program execs it runs again).
fn env_esc() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    support::compile_static(ESC, &dir.join("bin/esc"));
    fs::create_dir_all(dir.join("mnt")).unwrap();
    fs::write(dir.join("evil"), "#!/proc/self/exe\n").unwrap();
    fs::set_permissions(dir.join("evil"), fs::Permissions::from_mode(0o755)).unwrap();
    env.import_dir(&dir, "img");
    env
}

/// `cc-run --rm --net none FLAGS... img sh -c SCRIPT`, which must succeed;
/// its stdout.
fn run(env: &Env, flags: &[&str], script: &str) -> String {
    let mut args = vec!["--rm", "--net", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["img", "sh", "-c", script]);
    let out = run_timeout(env.cmd("cc-run").args(&args), Duration::from_secs(60));
    assert_ok(&out, &format!("cc-run {flags:?}"));
    stdout(&out)
}

/// A detached container running SCRIPT and then sleeping, so the host can
/// look at it while it lives; returns its id and the script's output (from
/// cc-logs, once `done=1` is there).
fn run_detached(env: &Env, flags: &[&str], script: &str) -> (String, String) {
    let full = format!("{script}\necho done=1\nexec sleep 300");
    let mut args = vec!["--net", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["img", "sh", "-c", &full]);
    let id = env.run_d(&args);
    let out = wait_for(Duration::from_secs(60), "the script's output", || {
        let o = stdout(&env.logs([id.as_str()]));
        o.lines().any(|l| l == "done=1").then_some(o)
    });
    (id, out)
}

/// `KEY=VALUE` lines of a script's output, as a lookup.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in output:\n{out}"))
        .trim()
}

/// Asserts each KEY is a failed exit status (non-zero).
fn all_failed(out: &str, keys: &[&str]) {
    for k in keys {
        assert_ne!(
            field(out, k),
            "0",
            "{k} succeeded inside the container:\n{out}"
        );
    }
}

fn uname_n() -> String {
    let out = Command::new("uname").arg("-n").output().expect("uname");
    stdout(&out).trim().to_string()
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// A file the kernel may lack (no sysrq, no modules): its text or None.
fn read_opt(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// The host's mount table entries (mount point, source, fs type, options)
/// at the places a container tries to mount on, and below this env.
fn host_mounts(env: &Env) -> BTreeSet<String> {
    let base = env.base().to_string_lossy().into_owned();
    read("/proc/self/mountinfo")
        .lines()
        .filter(|l| {
            let mp = l.split(' ').nth(4).unwrap_or("");
            ["/", "/mnt", "/proc", "/sys", "/tmp", "/dev"].contains(&mp) || mp.starts_with(&base)
        })
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dash = f.iter().position(|x| *x == "-").unwrap_or(f.len() - 1);
            format!("{} {} {:?}", f[4], f[5], &f[dash..])
        })
        .collect()
}

/// The host's root filesystem device, and the whole disk when it is a
/// partition: (major, minor) pairs.
fn host_root_devices() -> Vec<(u64, u64)> {
    let dev = fs::metadata("/").unwrap().dev();
    let (major, minor) = (libc::major(dev) as u64, libc::minor(dev) as u64);
    let mut out = vec![(major, minor)];
    let sys = format!("/sys/dev/block/{major}:{minor}");
    if Path::new(&sys).join("partition").exists() {
        if let Ok(parent) = fs::read_to_string(format!("{sys}/../dev")) {
            if let Some((a, b)) = parent.trim().split_once(':') {
                out.push((a.parse().unwrap(), b.parse().unwrap()));
            }
        }
    }
    out
}

/// Block devices a default container must not open: the host's root
/// disk (and its whole disk), and `/dev/loop0`, which this host's root can
/// open even where a VM's disk is shut to it.
fn blocked_devices() -> Vec<(u64, u64)> {
    let mut devs = host_root_devices();
    if Path::new("/dev/loop0").exists() {
        devs.push((7, 0));
    }
    devs
}

/// Whether the host (this test, as root) can open block device MA:MI for
/// reading, through a node made in the env's scratch folder.
fn host_can_open(env: &Env, (ma, mi): (u64, u64)) -> bool {
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    let p = env.dir.join(format!("probe-{ma}-{mi}"));
    mknod(
        &p,
        SFlag::S_IFBLK,
        Mode::from_bits_truncate(0o600),
        makedev(ma, mi),
    )
    .unwrap();
    let ok = fs::File::open(&p).is_ok();
    fs::remove_file(&p).unwrap();
    ok
}

/// sha256 and mtime of a file.
fn fingerprint(path: &Path) -> (String, i64, i64) {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert_ok(&out, "sha256sum");
    let md = fs::metadata(path).unwrap();
    (
        stdout(&out).split(' ').next().unwrap().to_string(),
        md.mtime(),
        md.mtime_nsec(),
    )
}

/// A host process that must survive: a `sleep 300`, killed on drop.
struct HostSleep(std::process::Child);

impl HostSleep {
    fn start() -> HostSleep {
        HostSleep(Command::new("sleep").arg("300").spawn().expect("sleep"))
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
    /// `alive/0` while it runs or sleeps (not stopped, not a zombie) and
    /// has no tracer.
    fn state(&self) -> String {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
        let tracer = fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("TracerPid:").map(|t| t.trim().to_string()))
            .unwrap_or_default();
        let state = match state {
            Some('S' | 'R' | 'D') => "alive",
            _ => "hurt",
        };
        format!("{state}/{tracer}")
    }
}

impl Drop for HostSleep {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn mounts_fail_and_the_host_mount_table_is_unchanged() {
    root_or_skip!();
    let env = env_esc();
    let before = host_mounts(&env);
    let o = run(
        &env,
        &[],
        "mount -t tmpfs none /mnt 2>/dev/null; echo tmpfs=$?
         mount -t proc proc /mnt 2>/dev/null; echo proc=$?
         mount --bind / /mnt 2>/dev/null; echo bind=$?
         mount --rbind /proc /mnt 2>/dev/null; echo rbind=$?
         mount -o remount,rw /sys 2>/dev/null; echo remount_sys=$?
         mount -o remount,rw /proc/sys 2>/dev/null; echo remount_procsys=$?
         umount /proc/kcore 2>/dev/null; echo umount_mask=$?
         echo mnt_mounts=$(grep -c ' /mnt ' /proc/self/mountinfo)",
    );
    all_failed(
        &o,
        &[
            "tmpfs",
            "proc",
            "bind",
            "rbind",
            "remount_sys",
            "remount_procsys",
            "umount_mask",
        ],
    );
    assert_eq!(field(&o, "mnt_mounts"), "0", "{o}");
    assert_no_leaks(&env);
    assert_eq!(host_mounts(&env), before, "the host's mount table changed");
}

#[test]
fn proc_writes_fail_and_the_host_keeps_its_name() {
    root_or_skip!();
    let env = env_esc();
    let host = uname_n();
    let sysrq = read_opt("/proc/sys/kernel/sysrq");
    // sysrq-trigger is written to (an `h`: help in the kernel log, harmless)
    // only when opening it for writing was refused.
    let o = run(
        &env,
        &[],
        "echo evil > /proc/sys/kernel/hostname 2>/dev/null; echo hostname_write=$?
         echo uts=$(hostname)
         echo sysrq_open=$(esc openw /proc/sysrq-trigger)
         if [ \"$(esc openw /proc/sysrq-trigger)\" != ok ]; then
             echo h > /proc/sysrq-trigger 2>/dev/null; echo sysrq_write=$?
         else echo sysrq_write=0; fi
         echo sysrq_enable=$(esc openw /proc/sys/kernel/sysrq)
         echo kcore=$(esc read1 /proc/kcore)
         echo kcore_bytes=$(head -c 64 /proc/kcore 2>/dev/null | wc -c)
         for f in keys timer_list sched_debug; do
             echo \"$f=$(cat /proc/$f 2>/dev/null | wc -c)\"
         done",
    );
    all_failed(&o, &["hostname_write", "sysrq_write"]);
    assert_ne!(field(&o, "sysrq_open"), "ok", "{o}");
    assert_ne!(field(&o, "sysrq_enable"), "ok", "{o}");
    assert_ne!(field(&o, "uts"), "evil");
    // Masked: /dev/null bound over it, or no permission; never memory.
    let kcore = field(&o, "kcore");
    assert!(
        kcore == "empty" || kcore.starts_with("open-"),
        "/proc/kcore read gave {kcore}"
    );
    assert_eq!(field(&o, "kcore_bytes"), "0");
    for f in ["keys", "timer_list", "sched_debug"] {
        assert_eq!(field(&o, f), "0", "/proc/{f} is masked");
    }
    assert_eq!(uname_n(), host, "the host's hostname changed");
    assert_eq!(read("/proc/sys/kernel/hostname").trim(), host);
    assert_eq!(read_opt("/proc/sys/kernel/sysrq"), sysrq);
    assert_no_leaks(&env);
}

#[test]
fn the_host_disk_cannot_be_opened() {
    root_or_skip!();
    let env = env_esc();
    let devs = blocked_devices();
    let mut script = String::new();
    for (i, (ma, mi)) in devs.iter().enumerate() {
        script.push_str(&format!(
            "mknod /dev/disk{i} b {ma} {mi}; echo mknod{i}=$?
             echo read{i}=$(esc read1 /dev/disk{i})
             head -c1 /dev/disk{i} >/dev/null 2>&1; echo head{i}=$?\n"
        ));
    }
    // A default container has no CAP_MKNOD (podman's default set): it
    // cannot even make the node.
    let (ma, mi) = devs[0];
    let o = run(
        &env,
        &[],
        &format!("mknod /dev/disk b {ma} {mi}; echo mknod=$?"),
    );
    assert_ne!(field(&o, "mknod"), "0", "mknod without CAP_MKNOD: {o}");
    // With it given back, the device cgroup is what stands between the
    // container and the disk.
    let (id, o) = run_detached(&env, &["--cap-add", "MKNOD"], &script);
    for (i, dev) in devs.iter().enumerate() {
        assert_eq!(field(&o, &format!("mknod{i}")), "0", "mknod with MKNOD");
        assert!(
            field(&o, &format!("read{i}")).starts_with("open-"),
            "block device {dev:?} opened: {o}"
        );
        eprintln!(
            "block device {dev:?}: the host can open it: {}",
            host_can_open(&env, *dev)
        );
        assert_ne!(field(&o, &format!("head{i}")), "0");
    }
    // On the host, the container's device cgroup grants no access to the
    // disk: no `a *:* rwm`, and any rule naming it allows mknod only.
    let list = cgroup_dir("devices", &id).join("devices.list");
    if list.exists() {
        let rules = fs::read_to_string(&list).unwrap();
        for l in rules.lines() {
            let f: Vec<&str> = l.split(' ').collect();
            let (kind, num, access) = (f[0], f[1], f.get(2).copied().unwrap_or(""));
            let names_disk = devs.iter().any(|(ma, mi)| {
                ["*:*".to_string(), format!("{ma}:*"), format!("{ma}:{mi}")]
                    .contains(&num.to_string())
            });
            assert!(
                !((kind == "a" || kind == "b") && names_disk && access != "m"),
                "the device cgroup allows the disk: {l}\n{rules}"
            );
        }
    }
    env.ok("cc-rm", ["-f", id.as_str()]);
    assert_no_leaks(&env);
}

#[test]
fn kernel_modules_cannot_be_loaded() {
    root_or_skip!();
    let env = env_esc();
    // A kernel built without modules has neither file; the calls must
    // still be refused by the filter.
    let modules = || -> BTreeSet<String> {
        read_opt("/proc/modules")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').next().map(String::from))
            .collect()
    };
    let (mods, modprobe) = (modules(), read_opt("/proc/sys/kernel/modprobe"));
    let o = run(
        &env,
        &[],
        &format!(
            "echo init_module=$(esc {INIT_MODULE})
             echo finit_module=$(esc {FINIT_MODULE} 0 0 0)
             echo modprobe_open=$(esc openw /proc/sys/kernel/modprobe)
             echo modules_disabled=$(esc openw /proc/sys/kernel/modules_disabled)"
        ),
    );
    assert_eq!(field(&o, "init_module"), "EPERM");
    assert_eq!(field(&o, "finit_module"), "EPERM");
    assert_ne!(field(&o, "modprobe_open"), "ok", "{o}");
    assert_ne!(field(&o, "modules_disabled"), "ok", "{o}");
    assert_eq!(read_opt("/proc/sys/kernel/modprobe"), modprobe);
    assert_eq!(modules(), mods, "the host's modules changed");
    assert_no_leaks(&env);
}

#[test]
fn host_processes_are_invisible_and_unreachable() {
    root_or_skip!();
    let env = env_esc();
    let sleep = HostSleep::start();
    let pid = sleep.pid();
    assert_eq!(sleep.state(), "alive/0");
    let o = run(
        &env,
        &[],
        &format!(
            "kill -9 {pid} 2>/dev/null; echo kill=$?
             kill -0 {pid} 2>/dev/null; echo signal0=$?
             echo ptrace=$(esc {PTRACE} {PTRACE_ATTACH} {pid})
             [ -e /proc/{pid} ] && echo proc_pid=present || echo proc_pid=absent
             echo pids=$(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')
             echo ps=$(ps -o pid | tail -n +2 | wc -l)
             echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)"
        ),
    );
    all_failed(&o, &["kill", "signal0"]);
    let ptrace = field(&o, "ptrace");
    assert!(
        ptrace == "ESRCH" || ptrace == "EPERM",
        "ptrace gave {ptrace}"
    );
    assert_eq!(field(&o, "proc_pid"), "absent");
    let pids: Vec<u32> = field(&o, "pids")
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        pids.contains(&1) && pids.len() <= 6 && !pids.contains(&pid),
        "the container sees host pids: {pids:?}"
    );
    let ps: usize = field(&o, "ps").parse().unwrap();
    assert!(ps <= 6, "ps lists {ps} processes:\n{o}");
    assert!(
        field(&o, "pid1").starts_with("sh -c "),
        "pid 1 is the command: {o}"
    );
    assert_eq!(sleep.state(), "alive/0", "the host's sleep was hurt");
    assert_no_leaks(&env);
}

#[test]
fn host_namespaces_are_unreachable() {
    root_or_skip!();
    let env = env_esc();
    let marker = env.dir.join("host-marker");
    fs::write(&marker, "host-only-3f9a1c\n").unwrap();
    let m = marker.display();
    let o = run(
        &env,
        &[],
        &format!(
            "for f in m n U p i u C; do unshare -$f -f true 2>/dev/null; echo unshare_$f=$?; done
             nsenter -t 1 -m -n cat {m} 2>/dev/null; echo nsenter=$?
             nsenter -t 1 -m -n -p -u -i cat {m} 2>/dev/null; echo nsenter_all=$?
             cat {m} 2>/dev/null; echo cat=$?
             exec 3</proc/self/ns/net 4</proc/1/ns/mnt 5</proc/self/ns/user
             echo setns_net=$(esc {SETNS} 3 0)
             echo setns_mnt=$(esc {SETNS} 4 0)
             echo setns_user=$(esc {SETNS} 5 0)
             echo nsids=$(for l in /proc/[0-9]*/ns/*; do readlink $l; done 2>/dev/null | sort -u | tr '\\n' ' ')"
        ),
    );
    assert!(
        !o.contains("host-only-3f9a1c"),
        "a host file is visible:\n{o}"
    );
    for f in ["m", "n", "U", "p", "i", "u", "C"] {
        assert_ne!(field(&o, &format!("unshare_{f}")), "0", "unshare -{f}");
    }
    all_failed(&o, &["nsenter", "nsenter_all", "cat"]);
    for k in ["setns_net", "setns_mnt", "setns_user"] {
        assert_eq!(field(&o, k), "EPERM", "{k}");
    }
    // No namespace the container can name is one of the host's (user
    // excepted: the container shares the host's user namespace, which
    // setns above could not enter anyway).
    let seen: BTreeSet<&str> = field(&o, "nsids").split_whitespace().collect();
    assert!(seen.len() >= 6, "{o}");
    for ns in ["mnt", "net", "pid", "ipc", "uts", "cgroup"] {
        let host = fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        let host = host.to_string_lossy();
        assert!(
            !seen.contains(&*host),
            "the container can name the host's {host}"
        );
    }
    assert_no_leaks(&env);
}

#[test]
fn keyctl_shocker_and_reboot_are_denied() {
    root_or_skip!();
    let env = env_esc();
    let boot_id = read("/proc/sys/kernel/random/boot_id");
    // reboot with magic 0: even if it got through, the kernel says EINVAL.
    let o = run(
        &env,
        &[],
        &format!(
            "echo keyctl=$(esc {KEYCTL} 0 0xfffffffd)
             echo shocker=$(esc {OPEN_BY_HANDLE_AT} 3 0 0)
             echo reboot=$(esc {REBOOT})"
        ),
    );
    assert_eq!(field(&o, "keyctl"), "EPERM");
    assert_eq!(field(&o, "shocker"), "EPERM");
    assert_eq!(field(&o, "reboot"), "EPERM");
    assert_eq!(read("/proc/sys/kernel/random/boot_id"), boot_id);
    assert_no_leaks(&env);
}

#[test]
fn the_cgroup_filesystem_cannot_be_written() {
    root_or_skip!();
    let env = env_esc();
    let (id, o) = run_detached(
        &env,
        &["-m", "64m"],
        "echo $$ > /sys/fs/cgroup/cgroup.procs 2>/dev/null; echo procs=$?
         echo $$ > /sys/fs/cgroup/memory/cgroup.procs 2>/dev/null; echo procs_mem=$?
         echo $$ > /sys/fs/cgroup/memory/tasks 2>/dev/null; echo tasks_mem=$?
         mkdir /sys/fs/cgroup/x 2>/dev/null; echo mkdir=$?
         mkdir /sys/fs/cgroup/memory/x 2>/dev/null; echo mkdir_mem=$?
         echo 9999999999 > /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; echo limit=$?
         echo 1 > /sys/fs/cgroup/memory/memory.use_hierarchy 2>/dev/null; echo hier=$?
         mount -t cgroup -o memory cgroup /mnt 2>/dev/null; echo mount_v1=$?
         mount -t cgroup2 none /mnt 2>/dev/null; echo mount_v2=$?
         echo release=$(esc openw /sys/fs/cgroup/memory/release_agent)",
    );
    all_failed(
        &o,
        &[
            "procs",
            "procs_mem",
            "tasks_mem",
            "mkdir",
            "mkdir_mem",
            "limit",
            "hier",
            "mount_v1",
            "mount_v2",
        ],
    );
    assert_ne!(field(&o, "release"), "ok", "release_agent (CVE-2022-0492)");
    // From the host: the container's memory group still has its limit, no
    // new group, and still holds the container's process.
    let mem = cgroup_dir("memory", &id);
    let limit = fs::read_to_string(mem.join("memory.limit_in_bytes"))
        .or_else(|_| fs::read_to_string(mem.join("memory.max")))
        .expect("the container's memory limit");
    assert_eq!(limit.trim(), "67108864");
    let subdirs: Vec<_> = fs::read_dir(&mem)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name())
        .collect();
    assert!(
        subdirs.is_empty(),
        "groups made in {}: {subdirs:?}",
        mem.display()
    );
    for parent in [
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/memory/cc",
        "/sys/fs/cgroup",
    ] {
        assert!(!Path::new(parent).join("x").exists(), "{parent}/x made");
    }
    let pid = env.inspect("State.Pid", &id);
    let procs = fs::read_to_string(mem.join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|l| l.trim() == pid),
        "the container's process {pid} left its group: {procs}"
    );
    env.ok("cc-rm", ["-f", id.as_str()]);
    assert_no_leaks(&env);
}

#[test]
fn cc_binaries_cannot_be_overwritten_from_inside() {
    root_or_skip!();
    let env = env_esc();
    let (cc_run, cc_exec) = (bin("cc-run"), bin("cc-exec"));
    let before = (fingerprint(&cc_run), fingerprint(&cc_exec));
    // pid 1 is cc's own init (cc-run's binary, never exec'd). The shell's
    // `>` (O_TRUNC) is tried only when O_WRONLY alone was refused.
    let (id, o) = run_detached(
        &env,
        &["--init"],
        "echo pid1=$(readlink /proc/1/exe 2>&1)
         echo openw=$(esc openw /proc/1/exe)
         echo reopenw=$(esc reopenw /proc/1/exe)
         if [ \"$(esc openw /proc/1/exe)\" != ok ]; then
             echo x 2>/dev/null > /proc/1/exe; echo shell=$?
         else echo shell=0; fi
         echo ptrace1=$(esc 101 16 1)
         esc hunt 10 > /tmp/hunt &",
    );
    assert_ne!(field(&o, "openw"), "ok", "{o}");
    assert_ne!(field(&o, "reopenw"), "ok", "{o}");
    assert_ne!(field(&o, "shell"), "0", "{o}");
    assert_ne!(field(&o, "ptrace1"), "ok", "{o}");

    // The classic: a command whose interpreter is `/proc/self/exe` would
    // make the program that execs it (cc-exec's binary here) run again
    // inside the container, where a process (`esc hunt`, running the
    // whole time) opens its exe O_PATH and reopens that for writing once
    // it is gone. It must never get a writable descriptor.
    for _ in 0..5 {
        let _ = run_timeout(
            env.cmd("cc-exec").args([id.as_str(), "/evil"]),
            Duration::from_secs(20),
        );
    }
    let hunt = wait_for(Duration::from_secs(40), "the hunter to finish", || {
        let h = stdout(&env.run("cc-exec", [id.as_str(), "cat", "/tmp/hunt"]));
        (h.contains("caught=none")
            || h.contains("opath=") && h.contains("write=")
            || h.contains("opath=E"))
        .then_some(h)
    });
    assert!(
        !hunt.contains("write=ok"),
        "a cc binary could be opened for writing from inside the container (CVE-2019-5736):\n{hunt}"
    );
    env.ok("cc-rm", ["-f", id.as_str()]);
    assert_eq!(
        (fingerprint(&cc_run), fingerprint(&cc_exec)),
        before,
        "cc's binaries changed"
    );
    // And they still work.
    let out = run(&env, &[], "echo still=ok");
    assert_eq!(field(&out, "still"), "ok");
    assert_no_leaks(&env);
}

#[test]
fn a_non_root_user_has_no_capabilities() {
    root_or_skip!();
    let env = env_esc();
    let o = run(
        &env,
        &["-u", "1000"],
        &format!(
            "echo uid=$(id -u)
             grep ^Cap /proc/self/status | tr -d '\\t' | sed 's/:/=/'
             echo nnp=$(grep ^NoNewPrivs /proc/self/status | cut -f2)
             echo reboot=$(esc {REBOOT})
             echo chown=$(chown 0 /home/user 2>/dev/null; echo $?)"
        ),
    );
    assert_eq!(field(&o, "uid"), "1000");
    for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(field(&o, k), "0000000000000000", "{k}:\n{o}");
    }
    // podman's default bounding set: chown, dac_override, fowner, fsetid,
    // kill, setgid, setuid, setpcap, net_bind_service, sys_chroot,
    // setfcap.
    assert_eq!(field(&o, "CapBnd"), "00000000800405fb");
    assert_eq!(field(&o, "reboot"), "EPERM");
    assert_ne!(field(&o, "chown"), "0");
    assert_no_leaks(&env);
}

/// The flags meant to open a door open it, and no more; nothing is tried
/// that could harm the host if it worked.
#[test]
fn privileged_and_cap_add_open_what_they_should() {
    root_or_skip!();
    let env = env_esc();
    let host = uname_n();
    let boot_id = read("/proc/sys/kernel/random/boot_id");
    let mounts = host_mounts(&env);
    let sleep = HostSleep::start();
    let hpid = sleep.pid();
    let (ma, mi) = host_root_devices()[0];
    let disk_open = host_can_open(&env, (ma, mi));
    let loop0 = Path::new("/dev/loop0").exists();

    // --privileged: mounts, a writable /proc/sys (the hostname there is
    // the container's own UTS namespace), every device (read one byte of
    // the disk, discarded; never written).
    let o = run(
        &env,
        &["--privileged"],
        &format!(
            "mount -t tmpfs none /mnt; echo tmpfs=$?
             echo privhost > /proc/sys/kernel/hostname; echo hostname_write=$?
             echo uts=$(hostname)
             mknod /dev/disk0 b {ma} {mi}; echo read=$(esc read1 /dev/disk0)
             mknod /dev/loop0 b 7 0; echo loop=$(esc read1 /dev/loop0)
             echo cap_eff=$(grep ^CapEff /proc/self/status | cut -f2)
             [ -e /proc/{hpid} ] && echo host_pid=present || echo host_pid=absent"
        ),
    );
    assert_eq!(field(&o, "tmpfs"), "0");
    assert_eq!(field(&o, "hostname_write"), "0");
    assert_eq!(field(&o, "uts"), "privhost");
    // Every device: what the host may open, the container may (the
    // disk of a VM can be shut to the host's root itself).
    if disk_open {
        assert_eq!(field(&o, "read"), "ok");
    }
    if loop0 && host_can_open(&env, (7, 0)) {
        assert!(!field(&o, "loop").starts_with("open-"), "{o}");
    }
    assert_ne!(field(&o, "cap_eff"), "00000000800405fb");
    assert_eq!(
        field(&o, "host_pid"),
        "absent",
        "still its own pid namespace"
    );
    assert_eq!(uname_n(), host, "--privileged renamed the host");

    // SYS_ADMIN: mount, in the container's own mount namespace.
    let o = run(
        &env,
        &["--cap-add", "SYS_ADMIN"],
        "mount -t tmpfs none /mnt; echo tmpfs=$?
         echo mnt=$(grep -c ' /mnt ' /proc/self/mountinfo)",
    );
    assert_eq!(field(&o, "tmpfs"), "0");
    assert_eq!(field(&o, "mnt"), "1");

    // SYS_PTRACE: a process of the container, never the host's.
    let o = run(
        &env,
        &["--cap-add", "SYS_PTRACE"],
        &format!(
            "sleep 30 & p=$!
             echo ptrace=$(esc ptrace $p)
             echo ptrace_host=$(esc {PTRACE} {PTRACE_ATTACH} {hpid})
             kill $p"
        ),
    );
    assert_eq!(field(&o, "ptrace"), "ok");
    assert_eq!(field(&o, "ptrace_host"), "ESRCH");

    // SYS_BOOT: reboot passes the filter and the capability check and
    // meets the kernel's magic check (EINVAL); never a valid magic.
    let o = run(
        &env,
        &["--cap-add", "SYS_BOOT"],
        &format!("echo reboot=$(esc {REBOOT})"),
    );
    assert_eq!(field(&o, "reboot"), "EINVAL");

    assert_eq!(read("/proc/sys/kernel/random/boot_id"), boot_id);
    assert_eq!(uname_n(), host);
    assert_eq!(sleep.state(), "alive/0");
    assert_eq!(host_mounts(&env), mounts, "the host's mount table changed");
    assert_no_leaks(&env);
}
