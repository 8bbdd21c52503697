//! Security-relevant behaviours of a bundle, under runc and then under
//! cc-oci, where what runc shows is what cc-oci must show (issue 17):
//! seccomp conditions on one argument as alternatives, the recursive mount
//! attributes (`rro`, ...) beside plain `ro` on an `rbind`, `--no-pivot`
//! refusing a fresh /proc, and a read-only /dev. Options cc does not know
//! are refused by cc-oci alone (runc passes them to the kernel as data,
//! which a bind mount ignores).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use support::oci::{self, Oci, Runtime};
use support::{assert_ok, root_or_skip, stderr, stdout, Env};

/// The runtime `rt` with a state root of its own below the env, and a
/// bundle for `sh -c SCRIPT` in `env.dir/NAME-LABEL`.
fn setup(env: &Env, rt: &Runtime, name: &str, script: &str) -> (Oci, PathBuf) {
    let oci = Oci::new(rt, &env.dir.join(format!("state-{name}-{}", rt.label)));
    let b = oci::bundle(
        &env.dir.join(format!("{name}-{}", rt.label)),
        &["sh", "-c", script],
    );
    (oci, b)
}

/// `run` of the bundle with `extra` flags: its stdout, and stderr when it
/// failed.
fn run(oci: &Oci, b: &Path, extra: &[&str]) -> std::process::Output {
    let id = oci::unique("sec");
    oci.track(&id);
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--bundle", b.to_str().unwrap(), &id]);
    oci.run(&args)
}

/// Runs the same scenario under runc and cc-oci: `edit` changes each
/// bundle, the outputs must be equal and are returned (runc's).
fn same_under_both(
    name: &str,
    script: &str,
    extra: &[&str],
    edit: impl Fn(&Env, &mut serde_json::Value),
) -> Option<String> {
    if !oci::tools(&["runc"]) {
        return None;
    }
    let env = Env::new();
    let mut seen = Vec::new();
    for rt in oci::runtimes() {
        let (oci, b) = setup(&env, &rt, name, script);
        oci::edit_spec(&b, |s| edit(&env, s));
        let out = run(&oci, &b, extra);
        assert_ok(&out, &format!("{} run ({name})", rt.label));
        seen.push(stdout(&out));
    }
    assert_eq!(seen[0], seen[1], "{name}: cc-oci (right) differs from runc");
    Some(seen.remove(0))
}

/// A tmpfs mounted on the host for the test, unmounted on drop.
struct HostMount(PathBuf);

impl HostMount {
    fn tmpfs(at: &Path) -> HostMount {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(at)
            .output()
            .unwrap();
        assert_ok(&out, "mount a tmpfs");
        HostMount(at.to_path_buf())
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn seccomp_conditions_on_one_argument_are_alternatives() {
    root_or_skip!();
    let out = same_under_both(
        "seccomp",
        "kill -0 1 2>/dev/null; echo zero=$?; kill -10 1 2>/dev/null; echo usr1=$?; \
         sleep 100 & kill -9 $! 2>/dev/null; echo nine=$?",
        &[],
        |_, s| {
            s["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{
                    "names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                    "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"},
                             {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]
                }]
            })
        },
    );
    if let Some(out) = out {
        assert_eq!(out, "zero=1\nusr1=1\nnine=0\n");
    }
}

/// `rro` makes the submounts of a bind read-only too; plain `ro` on an
/// `rbind` only the top mount (runc).
#[test]
fn rro_is_recursive_and_ro_is_the_top_mount_only() {
    root_or_skip!();
    let host = Env::new();
    let src = host.dir.join("src");
    let _sub = HostMount::tmpfs(&src.join("sub"));
    let script = "for d in rro ro; do \
                    touch /$d/top 2>/dev/null; echo $d.top=$?; \
                    touch /$d/sub/f 2>/dev/null; echo $d.sub=$?; \
                  done";
    let out = same_under_both("rro", script, &[], |_, s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        for (dest, ro) in [("/rro", "rro"), ("/ro", "ro")] {
            mounts.push(json!({"destination": dest, "type": "bind",
                "source": src.to_str().unwrap(), "options": ["rbind", ro]}));
        }
    });
    if let Some(out) = out {
        assert_eq!(out, "rro.top=1\nrro.sub=1\nro.top=1\nro.sub=0\n");
    }
}

/// A recursive attribute on a filesystem mount, and a filesystem's own
/// options passed to it. cc-oci alone: runc 1.1 applies `rro` and the
/// other recursive attributes to bind mounts only and ignores them on a
/// tmpfs (writable here); cc keeps the stricter reading.
#[test]
fn recursive_attributes_on_a_tmpfs() {
    root_or_skip!();
    let env = Env::new();
    let rt = oci::under_test();
    let script = "touch /t/f 2>/dev/null; echo t=$?; \
                  grep ' /t ' /proc/self/mountinfo | grep -o 'ro,nosuid,nodev,noexec\\|mode=[0-7]*'";
    let (oci, b) = setup(&env, &rt, "rtmpfs", script);
    oci::edit_spec(&b, |s| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/t", "type": "tmpfs", "source": "tmpfs",
            "options": ["rnoexec", "nosuid", "rro", "rnodev", "mode=700"]}));
    });
    let out = run(&oci, &b, &[]);
    assert_ok(&out, "cc-oci run (rtmpfs)");
    assert_eq!(stdout(&out), "t=1\nro,nosuid,nodev,noexec\nmode=700\n");
}

/// An option cc-oci does not know on a bind mount (where the kernel would
/// ignore it as data) is an error that names it, and nothing is left.
#[test]
fn unknown_bind_option_is_refused() {
    root_or_skip!();
    let env = Env::new();
    let rt = oci::under_test();
    let (oci, b) = setup(&env, &rt, "unknown", "true");
    let src = env.dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    oci::edit_spec(&b, |s| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/x", "type": "bind", "source": src.to_str().unwrap(),
            "options": ["rbind", "rr0"]}));
    });
    let out = run(&oci, &b, &[]);
    assert!(!out.status.success(), "run with option rr0 succeeded");
    let err = stderr(&out);
    assert!(err.contains("'rr0'") && err.contains("'/x'"), "{err}");
    assert!(oci.list_q().is_empty(), "{}", oci.list_q().join(" "));
}

/// `--no-pivot`: a process that makes its own user, mount and pid
/// namespaces cannot mount a fresh proc, as the host's /proc below the
/// chroot is gone (runc's msMoveRoot; runc's own test, no_pivot.bats, with
/// CAP_SETFCAP to map root). The kernel allows such a mount only when a
/// proc of the namespace is fully visible (`mount_too_revealing`).
#[test]
fn no_pivot_refuses_a_fresh_proc() {
    root_or_skip!();
    let script = "unshare -mrpf sh -c 'mount -t proc none /proc' 2>/dev/null; echo proc=$?";
    let out = same_under_both("nopivot", script, &["--no-pivot"], |_, s| {
        for set in ["bounding", "effective", "permitted"] {
            s["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push("CAP_SETFCAP".into());
        }
    });
    if let Some(out) = out {
        assert_eq!(out, "proc=1\n");
    }
}

/// `ro` on the /dev tmpfs: its nodes are made first, then it is read-only.
#[test]
fn read_only_dev_works() {
    root_or_skip!();
    let script = "echo x >/dev/null && echo null=ok; head -c1 /dev/zero | wc -c; \
                  touch /dev/new 2>/dev/null; echo touch=$?; ls /dev/kmsg";
    let out = same_under_both("rodev", script, &[], |_, s| {
        let dev = s["mounts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|m| m["destination"] == "/dev")
            .unwrap();
        dev["options"].as_array_mut().unwrap().push("ro".into());
        s["linux"]["devices"] = json!([{"path": "/dev/kmsg", "type": "c",
            "major": 1, "minor": 11, "fileMode": 0o600, "uid": 0, "gid": 0}]);
    });
    if let Some(out) = out {
        assert_eq!(out, "null=ok\n1\ntouch=1\n/dev/kmsg\n");
    }
}

/// No mount namespace in the spec: the container's process is in the
/// runtime's (runtime-tools `linux_ns_itype`), its root still the bundle's
/// with the spec's mounts, and nothing is mounted on the host. cc-oci
/// alone: runc makes the mounts in the host's namespace and leaves them.
#[test]
fn without_a_mount_namespace_the_runtimes_is_inherited() {
    root_or_skip!();
    let env = Env::new();
    let rt = oci::under_test();
    let script = "readlink /proc/self/ns/mnt; ls /bin/busybox; test -c /dev/null && echo dev=ok";
    let (oci, b) = setup(&env, &rt, "inherit", script);
    oci::edit_spec(&b, |s| {
        let ns = s["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "mount");
    });
    let out = run(&oci, &b, &[]);
    assert_ok(&out, "cc-oci run without a mount namespace");
    let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_eq!(
        stdout(&out),
        format!("{}\n/bin/busybox\ndev=ok\n", host.display()),
        "the runtime's mount namespace, the bundle's root"
    );
    let left = support::mounts_under(&env.dir);
    assert!(left.is_empty(), "mounts left on the host: {left:?}");
}
