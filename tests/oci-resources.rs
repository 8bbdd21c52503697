//! A bundle's `linux.resources` and device nodes under cc-oci, with runc
//! beside it where both must agree: which devices a container may open,
//! the limits beyond memory/cpu/pids (each applied where its controller
//! exists, refused where it cannot hold), `update`'s merging, and the
//! container's view of /sys/fs/cgroup in a cgroup namespace. Runs on the
//! host (cgroup v1, hybrid) and in the cgroup-v2 VM (tests/vm/suites).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use support::oci::{bundle, edit_spec, runtimes, under_test, unique, Oci, Runtime};
use support::*;

fn v2() -> bool {
    !Path::new("/sys/fs/cgroup/memory").exists()
}

/// A group's folder for `controller` on the host (v2: the one folder).
fn host_dir(controller: &str, path: &str) -> PathBuf {
    let path = path.trim_start_matches('/');
    match v2() {
        true => Path::new("/sys/fs/cgroup").join(path),
        false => Path::new("/sys/fs/cgroup").join(controller).join(path),
    }
}

fn read(dir: &Path, file: &str) -> String {
    let p = dir.join(file);
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

/// One runtime's root and bundle in a test's Env.
struct Case {
    oci: Oci,
    bundle: PathBuf,
    dir: PathBuf,
}

impl Case {
    fn new(env: &Env, rt: &Runtime, args: &[&str]) -> Case {
        let dir = env.dir.join(rt.label);
        let bundle = bundle(&dir.join("bundle"), args);
        Case {
            oci: Oci::new(rt, &dir.join("root")),
            bundle,
            dir,
        }
    }

    fn edit(&self, f: impl FnOnce(&mut Value)) {
        edit_spec(&self.bundle, f);
    }

    /// `run` in the foreground: the process's output and status.
    fn run(&self, id: &str) -> Output {
        self.oci.track(id);
        let b = self.bundle.to_str().unwrap();
        self.oci.run(&["run", "--bundle", b, id])
    }

    /// `create`, its stdio in files (the container's process holds them).
    fn create(&self, id: &str) -> Output {
        self.oci.track(id);
        let (o, e) = (self.dir.join("create.out"), self.dir.join("create.err"));
        let b = self.bundle.to_str().unwrap();
        let mut cmd = self.oci.cmd();
        cmd.args(["create", "--bundle", b, id])
            .stdout(fs::File::create(&o).unwrap())
            .stderr(fs::File::create(&e).unwrap());
        let mut child = cmd.spawn().unwrap();
        let status = wait_for(support::oci::T, "create", || child.try_wait().unwrap());
        Output {
            status,
            stdout: fs::read(&o).unwrap(),
            stderr: fs::read(&e).unwrap(),
        }
    }
}

/// A device listed in `linux.devices` is made but not allowed by itself:
/// only `resources.devices` decides (runc 1.1). `runc spec` denies every
/// device, so /dev/kmsg stays closed; a FIFO node is made and never
/// becomes a device cgroup rule (the kernel refuses `p` rules; create
/// used to fail on it).
#[test]
fn a_listed_device_node_is_not_allowed_by_itself() {
    root_or_skip!();
    let env = Env::new();
    let script = "test -p /dev/fifo1 && echo fifo; test -c /dev/kmsg && echo kmsg-node; \
                  head -c1 /dev/kmsg >/dev/null 2>&1 && echo kmsg-readable || echo kmsg-denied";
    for rt in runtimes() {
        let c = Case::new(&env, &rt, &["sh", "-c", script]);
        c.edit(|s| {
            s["linux"]["devices"] = json!([
                {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o644},
                {"path": "/dev/fifo1", "type": "p", "fileMode": 0o600}
            ]);
            assert_eq!(
                s["linux"]["resources"]["devices"],
                json!([{"allow": false, "access": "rwm"}])
            );
        });
        let out = c.run(&unique("dev"));
        assert_ok(&out, &format!("{} run", rt.label));
        assert_eq!(
            stdout(&out),
            "fifo\nkmsg-node\nkmsg-denied\n",
            "{}",
            rt.label
        );
    }
}

/// Device rules the kernel cannot take are refused in one line naming
/// the value, before anything is made: access other than letters of
/// "rwm", types other than a, b, c.
#[test]
fn bad_device_rules_are_refused_and_leave_nothing() {
    root_or_skip!();
    let env = Env::new();
    let c = Case::new(&env, &under_test(), &["true"]);
    let bad = [
        (
            json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwa"}),
            "'rwa'",
        ),
        (
            json!({"allow": true, "type": "p", "major": 1, "minor": 3, "access": "r"}),
            "'p'",
        ),
    ];
    for (rule, named) in bad {
        let path = format!("/{}", unique("badrule"));
        c.edit(|s| {
            s["linux"]["resources"]["devices"] = json!([{"allow": false, "access": "rwm"}, rule]);
            s["linux"]["cgroupsPath"] = json!(path);
        });
        let id = unique("badrule");
        let out = c.create(&id);
        assert_code(&out, 1, "create with a bad device rule");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("invalid device rule") && err.contains(named),
            "{err}"
        );
        assert!(c.oci.list_q().is_empty(), "a record was left");
        assert!(!host_dir("devices", &path).exists(), "a group was left");
    }
}

/// memory reservation, swappiness, disableOOMKiller, kernelTCP and the
/// cpuset reach the host's files on v1; on v2 the reservation is
/// memory.low, the cpuset cpuset.cpus, and `unified` files are written.
#[test]
fn bundle_limits_reach_the_group() {
    root_or_skip!();
    let env = Env::new();
    let c = Case::new(&env, &under_test(), &["sleep", "60"]);
    let path = format!("/{}", unique("lim"));
    let mib = 1i64 << 20;
    c.edit(|s| {
        s["linux"]["cgroupsPath"] = json!(path);
        let r = &mut s["linux"]["resources"];
        r["memory"] = json!({"limit": 64 * mib, "reservation": 32 * mib});
        r["cpu"] = json!({"cpus": "0", "mems": "0"});
        if v2() {
            r["unified"] = json!({"memory.high": (48 * mib).to_string()});
        } else {
            r["memory"]["swappiness"] = json!(13);
            r["memory"]["disableOOMKiller"] = json!(true);
            r["memory"]["kernelTCP"] = json!(16 * mib);
        }
    });
    let id = unique("lim");
    assert_ok(&c.create(&id), "create");
    let mem = host_dir("memory", &path);
    let cpuset = host_dir("cpuset", &path);
    assert_eq!(read(&cpuset, "cpuset.cpus"), "0");
    assert_eq!(read(&cpuset, "cpuset.mems"), "0");
    if v2() {
        assert_eq!(read(&mem, "memory.low"), (32 * mib).to_string());
        assert_eq!(read(&mem, "memory.high"), (48 * mib).to_string());
    } else {
        assert_eq!(
            read(&mem, "memory.soft_limit_in_bytes"),
            (32 * mib).to_string()
        );
        assert_eq!(read(&mem, "memory.swappiness"), "13");
        assert!(read(&mem, "memory.oom_control").starts_with("oom_kill_disable 1"));
        assert_eq!(
            read(&mem, "memory.kmem.tcp.limit_in_bytes"),
            (16 * mib).to_string()
        );
        // Hybrid host: the container is in the v2 `unified` group too.
        let unified = Path::new("/sys/fs/cgroup/unified").join(path.trim_start_matches('/'));
        if Path::new("/sys/fs/cgroup/unified/cgroup.procs").exists() {
            let pid = c.oci.state(&id).unwrap()["pid"].as_i64().unwrap();
            assert_eq!(read(&unified, "cgroup.procs"), pid.to_string());
        }
    }
    assert_ok(&c.oci.run(&["delete", "--force", &id]), "delete");
    assert!(!cpuset.exists() && !mem.exists(), "a group was left");
}

/// What a cgroup version cannot hold is refused in one line naming it,
/// and nothing is left: v1 has no `unified` files, v2 no swappiness, no
/// disabled OOM killer, no realtime CPU time; a controller that is not
/// mounted (hugetlb on some hosts) is named.
#[test]
fn limits_a_host_cannot_hold_are_refused() {
    root_or_skip!();
    let env = Env::new();
    let c = Case::new(&env, &under_test(), &["true"]);
    let mut cases = vec![(json!({"pids": {"limit": 10}, "rdma": {"x": {}}}), "rdma")];
    if v2() {
        cases.push((json!({"memory": {"swappiness": 10}}), "swappiness"));
        cases.push((json!({"memory": {"disableOOMKiller": true}}), "OOM"));
        cases.push((json!({"cpu": {"realtimeRuntime": 1000}}), "realtime"));
        cases.push((json!({"network": {"classID": 1}}), "net_cls"));
    } else {
        cases.push((json!({"unified": {"memory.high": "1000000"}}), "unified"));
        cases.push((json!({"memory": {"swappiness": 101}}), "swappiness"));
    }
    if !Path::new("/sys/fs/cgroup/hugetlb").exists() && !v2() {
        let limit = json!([{"pageSize": "2MB", "limit": 1 << 21}]);
        cases.push((json!({"hugepageLimits": limit}), "hugetlb"));
    }
    for (resources, named) in cases {
        let path = format!("/{}", unique("refuse"));
        c.edit(|s| {
            s["linux"]["resources"] = resources.clone();
            s["linux"]["cgroupsPath"] = json!(path);
        });
        let id = unique("refuse");
        let out = c.create(&id);
        assert!(!out.status.success(), "{resources} was accepted");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(named), "{resources}: {err}");
        assert!(c.oci.list_q().is_empty(), "a record was left");
        for ctl in ["memory", "pids", "cpu"] {
            assert!(
                !host_dir(ctl, &path).exists(),
                "{resources}: a group was left"
            );
        }
    }
}

/// `update --cpu-quota` alone keeps the period the container has (runc's
/// merge), `--memory-reservation` and `--cpuset-cpus` are taken, and a
/// lower period with a
/// quota is written in the order the kernel accepts under a parent whose
/// own limit the old quota over the new period would exceed (v1).
#[test]
fn update_merges_and_orders_cpu_bandwidth() {
    root_or_skip!();
    let env = Env::new();
    let parent = unique("parent");
    let path = format!("/{parent}/ctr");
    let cpu_parent = host_dir("cpu", &parent);
    // The parent's limit: two CPUs.
    if v2() {
        fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+cpu").unwrap();
    }
    fs::create_dir(&cpu_parent).unwrap();
    let _rm = Parent(parent.clone());
    match v2() {
        true => fs::write(cpu_parent.join("cpu.max"), "200000 100000").unwrap(),
        false => {
            fs::write(cpu_parent.join("cpu.cfs_quota_us"), "200000").unwrap();
        }
    }
    for rt in runtimes() {
        let c = Case::new(&env, &rt, &["sleep", "60"]);
        c.edit(|s| {
            s["linux"]["cgroupsPath"] = json!(path);
            s["linux"]["resources"]["cpu"] = json!({"quota": 180000, "period": 90000});
        });
        let id = unique("upd");
        assert_ok(&c.create(&id), &format!("{} create", rt.label));
        let dir = host_dir("cpu", &path);
        let bandwidth = || match v2() {
            true => read(&dir, "cpu.max"),
            false => format!(
                "{} {}",
                read(&dir, "cpu.cfs_quota_us"),
                read(&dir, "cpu.cfs_period_us")
            ),
        };
        assert_eq!(bandwidth(), "180000 90000", "{}", rt.label);
        c.oci.ok(&["update", "--cpu-quota", "90000", &id]);
        assert_eq!(bandwidth(), "90000 90000", "{}: quota alone", rt.label);
        c.oci.ok(&[
            "update",
            "--cpu-period",
            "10000",
            "--cpu-quota",
            "20000",
            &id,
        ]);
        assert_eq!(bandwidth(), "20000 10000", "{}: lower period", rt.label);
        c.oci.ok(&["update", "--memory-reservation", "16m", &id]);
        let mem = host_dir("memory", &path);
        let file = match v2() {
            true => "memory.low",
            false => "memory.soft_limit_in_bytes",
        };
        assert_eq!(read(&mem, file), (16u64 << 20).to_string(), "{}", rt.label);
        // A cpuset the container was created without (v1: cc made no
        // cpuset folder for it; the process is moved into a new one).
        c.oci.ok(&["update", "--cpuset-cpus", "0", &id]);
        let cpuset = host_dir("cpuset", &path);
        assert_eq!(read(&cpuset, "cpuset.cpus"), "0", "{}", rt.label);
        let pid = c.oci.state(&id).unwrap()["pid"].as_i64().unwrap();
        let procs = read(&cpuset, "cgroup.procs");
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "{}: {procs}",
            rt.label
        );
        assert_eq!(
            c.oci.status(&id).as_deref(),
            Some("created"),
            "{}",
            rt.label
        );
        assert_ok(&c.oci.run(&["delete", "--force", &id]), "delete");
    }
}

/// With a cgroup namespace, the container's /sys/fs/cgroup lists the
/// same hierarchies under cc-oci as under runc (v1; on v2 the one group,
/// whose files depend on the controllers each runtime enables, is the
/// namespace's root under both).
#[test]
fn a_cgroup_namespace_shows_every_hierarchy_as_runc() {
    root_or_skip!();
    let env = Env::new();
    let mut seen = Vec::new();
    let args: &[&str] = match v2() {
        true => &["cat", "/proc/self/cgroup"],
        false => &["ls", "/sys/fs/cgroup"],
    };
    for rt in runtimes() {
        let c = Case::new(&env, &rt, args);
        c.edit(|s| {
            // `runc spec` lists one on v2 already.
            let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
            if !ns.iter().any(|n| n["type"] == "cgroup") {
                ns.push(json!({"type": "cgroup"}));
            }
        });
        let out = c.run(&unique("ns"));
        assert_ok(&out, &format!("{} run", rt.label));
        seen.push(stdout(&out));
    }
    assert_eq!(seen[1], seen[0], "cc-oci's view differs from runc's");
}

/// A parent group the test made, removed from every hierarchy when the
/// test ends (the runtimes leave the parents of their groups).
struct Parent(String);

impl Drop for Parent {
    fn drop(&mut self) {
        let mut dirs = vec![Path::new("/sys/fs/cgroup").join(&self.0)];
        if let Ok(rd) = fs::read_dir("/sys/fs/cgroup") {
            dirs.extend(rd.flatten().map(|e| e.path().join(&self.0)));
        }
        for d in dirs {
            let _ = fs::remove_dir(d);
        }
    }
}
