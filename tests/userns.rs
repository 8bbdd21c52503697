//! User namespaces: `--userns=auto[:size=N]`, `--uidmap`/`--gidmap`. Root
//! in the container is an unprivileged range of host ids: the container's
//! processes run as those ids on the host, the image's files still look
//! like the image's, what the container writes is stored with the
//! container's ids, and the host's root-owned files are out of reach.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use support::{
    assert_no_leaks, assert_ok, assert_one_line_error, env_with_img, root_or_skip, run_timeout,
    stdout, Env,
};

const T: Duration = Duration::from_secs(20);

/// The first (container id, host id, size) line of a uid_map text.
fn first_map(text: &str) -> (u64, u64, u64) {
    let n: Vec<u64> = text
        .split_whitespace()
        .take(3)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

/// The `cc` ranges of /etc/subuid (scripts/subids.sh writes them).
fn cc_subuids() -> Vec<(u64, u64)> {
    fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 3 && f[0] == "cc").then(|| (f[1].parse().unwrap(), f[2].parse().unwrap()))
        })
        .collect()
}

/// `Uid:` of a host process: real, effective, saved, fs.
fn host_uids(pid: &str) -> Vec<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect()
}

fn run(env: &Env, args: &[&str]) -> std::process::Output {
    run_timeout(env.cmd("cc-run").args(args), T)
}

#[test]
fn auto_maps_root_to_an_unprivileged_host_range() {
    root_or_skip!();
    let ranges = cc_subuids();
    assert!(
        !ranges.is_empty(),
        "no cc entry in /etc/subuid: run scripts/subids.sh"
    );
    let env = env_with_img();
    let id = env.run_d([
        "--userns=auto",
        "img",
        "sh",
        "-c",
        "echo data > /written; mkdir /made; sleep 100",
    ]);
    let pid = env.inspect("State.Pid", &id);
    // Inside: root, mapped to a range inside cc's subordinate ids.
    let out = run_timeout(
        env.cmd("cc-exec")
            .args([&id, "sh", "-c", "id -u; cat /proc/self/uid_map"]),
        T,
    );
    assert_ok(&out, "cc-exec id");
    let o = stdout(&out);
    let mut lines = o.lines();
    assert_eq!(lines.next(), Some("0"), "root inside:\n{o}");
    let (ctr, host, size) = first_map(lines.next().unwrap());
    assert_eq!((ctr, size), (0, 65536), "{o}");
    assert!(
        ranges
            .iter()
            .any(|&(s, n)| host >= s && host + size <= s + n),
        "host range {host}+{size} is not inside cc's {ranges:?}"
    );
    // On the host: the container's command runs as that host id.
    assert!(
        host_uids(&pid).iter().all(|&u| u == host),
        "container pid {pid} runs as {:?} on the host, not {host}",
        host_uids(&pid)
    );
    // cc-exec's command too.
    let mut exec = env
        .cmd("cc-exec")
        .args([&id, "sleep", "77"])
        .spawn()
        .unwrap();
    let exec_pid = support::wait_for(T, "the exec'd sleep", || {
        let ps = fs::read_dir("/proc").ok()?;
        ps.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
            .find(|p| {
                fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == b"sleep\x0077\x00")
                    && fs::read_link(format!("/proc/{p}/ns/user")).ok()
                        == fs::read_link(format!("/proc/{pid}/ns/user")).ok()
            })
    });
    assert_eq!(
        host_uids(&exec_pid)[0],
        host,
        "cc-exec runs in the same mapping"
    );
    let _ = exec.kill();
    let _ = exec.wait();
    // The image's files look like the image's (root-owned), and what root
    // wrote is stored with container ids: the store keeps the image's ids.
    let out = run_timeout(
        env.cmd("cc-exec")
            .args([&id, "sh", "-c", "stat -c '%u %g' /bin/busybox /written"]),
        T,
    );
    assert_eq!(stdout(&out), "0 0\n0 0\n");
    let upper = env.ctr_dir(&id).join("upper");
    for f in ["written", "made"] {
        let m = fs::metadata(upper.join(f)).unwrap();
        assert_eq!((m.uid(), m.gid()), (0, 0), "{f} in the upper folder");
    }
    // cc-diff and cc-commit see them as usual.
    let diff = env.ok("cc-diff", [&id]);
    assert!(diff.contains("A /written"), "{diff}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn root_in_the_container_is_not_root_on_the_host() {
    root_or_skip!();
    let env = env_with_img();
    // A host folder only the host's root may write, bound in.
    let shared = env.dir.join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(shared.join("secret"), "s").unwrap();
    fs::set_permissions(shared.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
    let vol = format!("{}:/shared", shared.display());
    let script = "touch /shared/new 2>/dev/null; echo touch=$?;
                  cat /shared/secret 2>/dev/null; echo read=$?;
                  chown 0 /shared 2>/dev/null; echo chown=$?;
                  mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?;
                  echo caps=$(grep CapEff /proc/self/status | cut -f2)";
    let without = run(&env, &["--rm", "-v", &vol, "img", "sh", "-c", script]);
    assert_ok(&without, "cc-run without a user namespace");
    let o = stdout(&without);
    assert!(o.contains("touch=0") && o.contains("read=0"), "{o}");
    fs::remove_file(shared.join("new")).unwrap();
    let with = run(
        &env,
        &[
            "--rm",
            "--userns=auto",
            "-v",
            &vol,
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert_ok(&with, "cc-run --userns=auto");
    let o = stdout(&with);
    for k in ["touch=1", "read=1", "chown=1", "mount=1"] {
        assert!(o.contains(k), "{k} expected:\n{o}");
    }
    // It still holds the default capabilities, in its namespace.
    assert!(o.contains("caps=00000000800405fb"), "{o}");
    assert!(!shared.join("new").exists());
    assert_eq!(fs::metadata(&shared).unwrap().uid(), 0);
    assert_no_leaks(&env);
}

#[test]
fn containers_get_distinct_ranges_and_sizes() {
    root_or_skip!();
    let env = env_with_img();
    let a = env.run_d(["--userns=auto", "img", "sleep", "100"]);
    let b = env.run_d(["--userns=auto:size=1000", "img", "sleep", "100"]);
    let map = |id: &str| {
        let pid = env.inspect("State.Pid", id);
        first_map(&fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap())
    };
    let (ma, mb) = (map(&a), map(&b));
    assert_eq!(ma.2, 65536);
    assert_eq!(mb.2, 1000);
    let overlap = ma.1 < mb.1 + mb.2 && mb.1 < ma.1 + ma.2;
    assert!(!overlap, "ranges overlap: {ma:?} {mb:?}");
    // A restarted container keeps its range.
    env.ok("cc-stop", ["-t", "0", &a]);
    env.ok("cc-start", [&a]);
    assert_eq!(map(&a), ma, "cc-start keeps the mapping");
    env.ok("cc-rm", ["-f", &a, &b]);
    assert_no_leaks(&env);
}

#[test]
fn explicit_maps_users_and_init() {
    root_or_skip!();
    let env = env_with_img();
    let out = run(
        &env,
        &[
            "--rm",
            "--init",
            "--uidmap",
            "0:3000000:70000",
            "--gidmap",
            "0:3100000:70000",
            "-u",
            "1000:1000",
            "img",
            "sh",
            "-c",
            "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; \
             stat -c %u /proc/1; grep CapEff /proc/self/status | cut -f2",
        ],
    );
    assert_ok(&out, "cc-run --uidmap --gidmap -u 1000:1000");
    let o = stdout(&out);
    let l: Vec<&str> = o.lines().collect();
    assert_eq!(&l[..2], ["1000", "1000"], "{o}");
    assert_eq!(first_map(l[2]), (0, 3000000, 70000));
    assert_eq!(first_map(l[3]), (0, 3100000, 70000));
    assert_eq!(
        l[4], "0",
        "--init's pid 1 is the container's root, not the host's"
    );
    assert_eq!(
        l[5], "0000000000000000",
        "a non-root user has no capabilities"
    );
    // A user outside the mapping: a clear error, nothing left behind.
    let out = run(
        &env,
        &[
            "--rm",
            "--userns=auto:size=1000",
            "-u",
            "1000",
            "img",
            "true",
        ],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_one_line_error(&out, "cc-run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("uid 1000 is not mapped"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

#[test]
fn bad_flags_are_usage_errors() {
    root_or_skip!();
    let env = env_with_img();
    for args in [
        &["--userns=private", "img", "true"][..],
        &["--userns=auto:size=0", "img", "true"],
        &["--uidmap", "0:100000", "img", "true"],
        &["--uidmap", "1:100000:10", "img", "true"],
        &["--userns=auto", "--uidmap", "0:100000:10", "img", "true"],
        &["--userns=auto", "--privileged", "img", "true"],
    ] {
        let out = run(&env, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_one_line_error(&out, "cc-run");
    }
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

#[test]
fn low_ports_and_terminal_work_as_root() {
    root_or_skip!();
    let env = env_with_img();
    // The network namespace is the host user namespace's, so the low
    // ports are opened to every user in it.
    let out = run(
        &env,
        &[
            "--rm",
            "--userns=auto",
            "img",
            "sh",
            "-c",
            "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; \
             nc -l -p 80 & i=0; until netstat -ltn | grep -q ':80 ' || [ $i -ge 200 ]; \
             do i=$((i+1)); sleep 0.05; done; netstat -ltn | grep -c ':80 '; kill $!",
        ],
    );
    assert_ok(&out, "cc-run --userns=auto nc -l -p 80");
    assert_eq!(stdout(&out), "0\n1\n");
    assert_no_leaks(&env);
}
