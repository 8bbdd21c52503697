//! The cgroup module's tests: parsing, and real groups made, limited,
//! killed and removed (as root; under CI a missing root fails them).

use super::*;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn cgroup_shares_convert_to_weight_like_runc() {
    assert_eq!(v2::shares_to_weight(2), 1);
    assert_eq!(v2::shares_to_weight(1024), 39);
    assert_eq!(v2::shares_to_weight(262_144), 10_000);
}

#[test]
fn cpu_max_keeps_the_period_unless_given() {
    assert_eq!(v2::cpu_max(Some(5000), None).as_deref(), Some("5000"));
    assert_eq!(
        v2::cpu_max(Some(5000), Some(9000)).as_deref(),
        Some("5000 9000")
    );
    assert_eq!(v2::cpu_max(Some(-1), None).as_deref(), Some("max"));
    assert_eq!(v2::cpu_max(None, Some(9000)).as_deref(), Some("max 9000"));
    assert_eq!(v2::cpu_max(None, None), None);
}

#[test]
fn group_names_stay_below_the_hierarchy() {
    assert!(check_name("../x").is_err() && check_name("/").is_err());
    assert!(check_name("cc/abc").is_ok());
}

#[test]
fn cgroup_mountinfo_finds_comounted_controllers() {
    let text = "\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
37 31 0:34 /sub /elsewhere rw - cgroup cgroup rw,pids
38 31 0:34 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
39 31 0:34 / /again/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
    let got = v1::parse_mountinfo(text);
    let want: Vec<(PathBuf, Vec<String>)> = vec![
        (
            "/sys/fs/cgroup/cpu,cpuacct".into(),
            vec!["cpu".into(), "cpuacct".into()],
        ),
        ("/sys/fs/cgroup/mem ory".into(), vec!["memory".into()]),
        ("/sys/fs/cgroup/devices".into(), vec!["devices".into()]),
        ("/sys/fs/cgroup/pids".into(), vec!["pids".into()]),
        ("/sys/fs/cgroup/unified".into(), vec!["unified".into()]),
    ];
    assert_eq!(got, want);
}

/// Real cgroup tests need root; under CI a missing root is a failure.
fn is_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "cgroup tests need root in CI"
    );
    eprintln!("skipped: cgroup tests need root");
    false
}

const TEST_PARENT: &str = "cc-test";

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{TEST_PARENT}/{}-{nanos:08x}-{n}", std::process::id())
}

/// Kills and removes its group, then the shared `cc-test` folder if it
/// is empty (rmdir refuses otherwise).
struct TestGroup(Cgroup);

impl Drop for TestGroup {
    fn drop(&mut self) {
        let _ = self.0.kill_all();
        let _ = self.0.remove();
        for dir in self.0.paths() {
            if let Some(parent) = dir.parent().filter(|p| p.ends_with(TEST_PARENT)) {
                let _ = fs::remove_dir(parent);
            }
        }
    }
}

fn read(cg: &Cgroup, controller: &str, file: &str) -> String {
    let path = cg.dir(controller).unwrap().join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn cgroup_create_applies_limits() {
    if !is_root() {
        return;
    }
    let (quota, period) = cpus_to_quota(0.5).unwrap();
    let res = Resources {
        memory: Some(parse_size("64m").unwrap()),
        pids: Some(10),
        cpu_quota: Some(quota),
        cpu_period: Some(period),
        cpu_shares: Some(512),
        ..Default::default()
    };
    let cg = TestGroup(Cgroup::create(&unique_name(), &res).unwrap());
    let cg = &cg.0;
    assert!(cg.paths().iter().all(|p| p.is_dir()));
    assert_eq!(read(cg, "pids", "pids.max").trim(), "10");
    match cg.version() {
        Version::V1 => {
            assert_eq!(
                read(cg, "memory", "memory.limit_in_bytes").trim(),
                "67108864"
            );
            assert_eq!(read(cg, "cpu", "cpu.cfs_quota_us").trim(), "50000");
            assert_eq!(read(cg, "cpu", "cpu.cfs_period_us").trim(), "100000");
            assert_eq!(read(cg, "cpu", "cpu.shares").trim(), "512");
            assert!(cg.dir("freezer").is_some() && cg.dir("cpuacct").is_some());
        }
        Version::V2 => {
            assert_eq!(read(cg, "memory", "memory.max").trim(), "67108864");
            assert_eq!(read(cg, "cpu", "cpu.max").trim(), "50000 100000");
            assert_eq!(read(cg, "cpu", "cpu.weight").trim(), "20");
        }
    }
    assert_eq!(cg.version(), info().version);
    assert!(cg.pids().is_empty() && !cg.oom_killed());
}

#[test]
fn cgroup_create_failure_removes_folders() {
    if !is_root() {
        return;
    }
    let name = unique_name();
    // The kernel refuses a quota whose nanoseconds overflow 64 bits.
    let res = Resources {
        cpu_quota: Some(1 << 62),
        ..Default::default()
    };
    let err = Cgroup::create(&name, &res).unwrap_err();
    assert!(err.to_string().contains("invalid argument"), "{err}");
    let cg = TestGroup(Cgroup::open(&name));
    assert!(cg.0.paths().iter().all(|p| !p.exists()));
}

#[test]
fn cgroup_add_kill_and_remove() {
    if !is_root() {
        return;
    }
    let name = unique_name();
    let cg = TestGroup(Cgroup::create(&name, &Resources::default()).unwrap());
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    let pid = child.id() as i32;
    cg.0.add(pid).unwrap();
    assert_eq!(cg.0.pids(), vec![pid]);
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let line = match cg.0.version() {
        Version::V1 => format!(":memory:/{name}\n"),
        Version::V2 => format!("0::/{name}\n"),
    };
    assert!(text.contains(&line), "{text}");

    cg.0.freeze().unwrap();
    cg.0.thaw().unwrap();
    cg.0.kill_all().unwrap();
    assert!(cg.0.pids().is_empty());
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    cg.0.remove().unwrap();
    assert!(cg.0.paths().iter().all(|p| !p.exists()));
    // Removing twice is fine: missing folders are not an error.
    Cgroup::open(&name).remove().unwrap();
}

#[test]
fn cgroup_memory_limit_triggers_oom_kill() {
    if !is_root() {
        return;
    }
    let limit = parse_size("32m").unwrap();
    let res = Resources {
        memory: Some(limit),
        memory_swap: Some(limit),
        ..Default::default()
    };
    let cg = TestGroup(Cgroup::create(&unique_name(), &res).unwrap());
    // The shell waits for a line on stdin, so it is in the group before
    // it allocates; tail keeps the whole newline-free input in memory.
    let mut child = Command::new("sh")
        .args(["-c", "read x; head -c 200m /dev/zero | tail"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    cg.0.add(child.id() as i32).unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(cg.0.oom_killed());
}

/// v2 code on this machine's cgroup2 mount: /sys/fs/cgroup itself, or
/// the controller-less one beside v1 (freeze and kill need no controller).
#[test]
fn cgroup_v2_freeze_kill_and_remove() {
    if !is_root() {
        return;
    }
    let root = match version() {
        Version::V2 => PathBuf::from(ROOT),
        Version::V1 => PathBuf::from(ROOT).join("unified"),
    };
    if !is_cgroup2(&root) {
        eprintln!("skipped: no cgroup2 mount at '{}'", root.display());
        return;
    }
    let name = unique_name();
    let cg = Cgroup::open_v2_at(&root, &name);
    let mut created = Vec::new();
    let guard = TestGroup(cg.clone());
    if let Err(e) = v2::create(&cg, &Resources::default(), &mut created) {
        panic!("{e}");
    }
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    let pid = child.id() as i32;
    cg.add(pid).unwrap();
    assert_eq!(cg.pids(), vec![pid]);
    cg.freeze().unwrap();
    let events = fs::read_to_string(cg.paths()[0].join("cgroup.events")).unwrap();
    assert_eq!(key_value(&events, "frozen"), Some(1));
    cg.thaw().unwrap();
    cg.kill_all().unwrap();
    child.wait().unwrap();
    assert!(!cg.oom_killed());
    cg.remove().unwrap();
    assert!(!cg.paths()[0].exists());
    drop(guard);
}
