//! What a default container gets and does not get, as the host sees it:
//! a pids limit of 2048 (podman's), podman's 11 capabilities (no raw
//! sockets; ping still works through `ping_group_range`), and no io_uring
//! (docker's profile since Docker 25).

use std::time::Duration;

use support::{
    assert_code, assert_ok, cgroup_dir, compile_static, root_or_skip, stdout, Env, NetEnv,
};

/// `probe raw`: a raw ICMP socket; `probe uring`: io_uring_setup with a
/// real ring; `probe ping ADDR`: an echo through an ICMP datagram socket,
/// as iputils' ping sends it without NET_RAW (busybox's ping only tries a
/// raw socket). Prints `ok`, `EPERM`, `ENOSYS` or the error's text.
const PROBE: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/syscall.h>
static int say(long r) {
    if (r >= 0) { puts("ok"); return 0; }
    puts(errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno));
    return 1;
}
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "raw")) return say(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    if (!strcmp(argv[1], "uring")) {
        unsigned char params[120];
        memset(params, 0, sizeof params);
        return say(syscall(425 /* io_uring_setup */, 4, params));
    }
    if (!strcmp(argv[1], "ping") && argc == 3) {
        int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        if (fd < 0) return say(fd);
        struct timeval tv = { 10, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in to = { .sin_family = AF_INET };
        inet_pton(AF_INET, argv[2], &to.sin_addr);
        unsigned char echo[16] = { 8, 0 }, reply[128];
        if (sendto(fd, echo, sizeof echo, 0, (struct sockaddr *)&to, sizeof to) < 0)
            return say(-1);
        long n = recv(fd, reply, sizeof reply, 0);
        if (n > 0 && reply[0] != 0) { puts("not an echo reply"); return 1; }
        return say(n);
    }
    return 2;
}
"#;

/// An env with image `img`: busybox plus the static `probe`.
fn env_probe() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    compile_static(PROBE, &dir.join("bin/probe"));
    env.import_dir(&dir, "img");
    env
}

/// `KEY=VALUE` lines of a script's output, as a lookup.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in output:\n{out}"))
        .trim()
}

/// `cc-run --rm FLAGS... img sh -c SCRIPT`, which must succeed.
fn run(env: &Env, flags: &[&str], script: &str) -> String {
    let mut args = vec!["--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["img", "sh", "-c", script]);
    let out = support::run_timeout(env.cmd("cc-run").args(&args), Duration::from_secs(60));
    assert_ok(&out, &format!("cc-run {flags:?}"));
    stdout(&out)
}

/// The host's `pids.max` of a detached container (v1 or v2 group).
fn pids_max(env: &Env, flags: &[&str]) -> String {
    let mut args = vec!["--net", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["img", "sleep", "300"]);
    let id = env.run_d(&args);
    let max = std::fs::read_to_string(cgroup_dir("pids", &id).join("pids.max")).unwrap();
    env.ok("cc-rm", ["-f", id.as_str()]);
    max.trim().to_string()
}

#[test]
fn default_pids_limit_is_2048() {
    root_or_skip!();
    let env = env_probe();
    assert_eq!(pids_max(&env, &[]), "2048", "podman's default");
    assert_eq!(pids_max(&env, &["--pids-limit", "-1"]), "max");
    assert_eq!(pids_max(&env, &["--pids-limit", "0"]), "max");
    assert_eq!(pids_max(&env, &["--pids-limit", "64"]), "64");
    let out = env.run("cc-run", ["--rm", "--pids-limit", "-2", "img", "true"]);
    assert_code(&out, 125, "--pids-limit -2");
    support::assert_one_line_error(&out, "cc-run");
    let id = env.run_d(["--net", "none", "img", "sleep", "300"]);
    assert_eq!(env.inspect("HostConfig.PidsLimit", &id).trim(), "2048");
    env.ok("cc-rm", ["-f", id.as_str()]);
    support::assert_no_leaks(&env);
}

/// podman's 11 capabilities: no NET_RAW, MKNOD or AUDIT_WRITE. Raw
/// sockets fail, ping (an ICMP datagram socket) still works on loopback
/// and to the bridge's gateway; `--cap-add NET_RAW` brings raw sockets
/// back.
#[test]
fn default_capabilities_are_podmans() {
    root_or_skip!();
    let env = NetEnv { env: env_probe() };
    // The bridge (and so the gateway's address) exists once a bridged
    // container ran.
    run(&env, &[], "true");
    let gw = env.gateway();
    let script = format!(
        "echo caps=$(grep ^CapBnd /proc/self/status | cut -f2)
         echo raw=$(probe raw)
         mknod /dev/null2 c 1 3 2>/dev/null; echo mknod=$?
         echo ping_lo=$(probe ping 127.0.0.1)
         echo ping_gw=$(probe ping {gw})"
    );
    let o = run(&env, &[], &script);
    // chown dac_override fowner fsetid kill setgid setuid setpcap
    // net_bind_service sys_chroot setfcap
    assert_eq!(field(&o, "caps"), "00000000800405fb", "{o}");
    assert_eq!(field(&o, "raw"), "EPERM", "no raw sockets without NET_RAW");
    assert_ne!(field(&o, "mknod"), "0", "no CAP_MKNOD");
    assert_eq!(
        field(&o, "ping_lo"),
        "ok",
        "ping through ping_group_range: {o}"
    );
    assert_eq!(field(&o, "ping_gw"), "ok", "ping to the gateway {gw}: {o}");

    let o = run(&env, &["--cap-add", "NET_RAW"], &script);
    assert_eq!(field(&o, "raw"), "ok", "--cap-add NET_RAW: {o}");
    assert_eq!(field(&o, "caps"), "00000000800425fb");
}

/// io_uring_setup fails in a default container with EPERM (docker's
/// profile since Docker 25 no longer lists it); unconfined it works, so
/// the refusal is the filter's, not the kernel's.
#[test]
fn io_uring_is_blocked_by_default() {
    root_or_skip!();
    let env = env_probe();
    let o = run(&env, &["--net", "none"], "echo uring=$(probe uring)");
    assert_eq!(field(&o, "uring"), "EPERM", "{o}");
    let o = run(
        &env,
        &["--net", "none", "--security-opt", "seccomp=unconfined"],
        "echo uring=$(probe uring)",
    );
    // kernel.io_uring_disabled 0: the host allows io_uring to everyone.
    let host_allows = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .is_ok_and(|v| v.trim() == "0");
    if host_allows {
        assert_eq!(field(&o, "uring"), "ok", "unconfined: {o}");
    }
}
