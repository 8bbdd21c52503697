//! Mount targets inside the container's /proc and /sys are refused, as
//! runc refuses them (issue 14, item 12): an image whose /etc/hostname is
//! a link to /proc/sys/kernel/hostname (cc binds its own /etc/hostname
//! there), one whose /etc/hosts leads into /sys, and a `-v` straight onto
//! a /proc file. The files lxcfs stands in for (/proc/meminfo...) may
//! still be mounted on.

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_one_line_error, root_or_skip, run_timeout, stderr, stdout,
    Env,
};

const T: Duration = Duration::from_secs(60);

fn hostname() -> String {
    let out = Command::new("uname").arg("-n").output().expect("uname");
    stdout(&out).trim().to_string()
}

/// Image `name`: busybox with `/etc/<file>` a link to `target`.
fn image_with_link(env: &Env, name: &str, file: &str, target: &str) {
    let dir = env.busybox_rootfs(name);
    let etc = dir.join("etc").join(file);
    let _ = fs::remove_file(&etc);
    symlink(target, &etc).unwrap();
    env.import_dir(&dir, name);
}

/// `cc-run --rm --net none ARGS...`, which must fail with 125 and one
/// line naming `dest` and where it led.
fn assert_refused(env: &Env, args: &[&str], dest: &str, led_to: &str) {
    let mut all = vec!["--rm", "--net", "none"];
    all.extend_from_slice(args);
    let out = run_timeout(env.cmd("cc-run").args(&all), T);
    assert_code(&out, 125, &format!("cc-run {all:?}"));
    assert_one_line_error(&out, "cc-run");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("'{dest}'")) && err.contains(led_to),
        "the error should name '{dest}' and '{led_to}': {err}"
    );
}

#[test]
fn etc_hostname_linked_into_proc_is_refused() {
    root_or_skip!();
    let env = Env::new();
    let before = hostname();
    image_with_link(&env, "img", "hostname", "/proc/sys/kernel/hostname");
    assert_refused(
        &env,
        &["img", "true"],
        "/etc/hostname",
        "/proc/sys/kernel/hostname",
    );
    // A relative link that climbs to the same place.
    image_with_link(&env, "rel", "hostname", "../proc/sys/kernel/hostname");
    assert_refused(
        &env,
        &["rel", "true"],
        "/etc/hostname",
        "/proc/sys/kernel/hostname",
    );
    assert_eq!(hostname(), before, "the host's hostname changed");
    assert_no_leaks(&env);
}

#[test]
fn etc_hosts_linked_into_sys_is_refused() {
    root_or_skip!();
    let env = Env::new();
    image_with_link(&env, "img", "hosts", "/sys/kernel/uevent_seqnum");
    assert_refused(
        &env,
        &["img", "true"],
        "/etc/hosts",
        "/sys/kernel/uevent_seqnum",
    );
    assert_no_leaks(&env);
}

#[test]
fn a_volume_onto_proc_is_refused_but_lxcfs_files_are_not() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let file = env.dir.join("meminfo");
    fs::write(&file, "MemTotal: 1234 kB\n").unwrap();
    let vol = |dest: &str| format!("{}:{dest}:ro", file.display());
    assert_refused(
        &env,
        &["-v", &vol("/proc/sys/kernel/hostname"), "img", "true"],
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/hostname",
    );
    assert_refused(
        &env,
        &["-v", &vol("/proc/self/attr/exec"), "img", "true"],
        "/proc/self/attr/exec",
        "/proc/",
    );
    // lxcfs's way of giving a container its own meminfo still works.
    let out = run_timeout(
        env.cmd("cc-run").args([
            "--rm",
            "--net",
            "none",
            "-v",
            &vol("/proc/meminfo"),
            "img",
            "cat",
            "/proc/meminfo",
        ]),
        T,
    );
    assert_code(&out, 0, "cc-run -v FILE:/proc/meminfo");
    assert_eq!(stdout(&out), "MemTotal: 1234 kB\n");
}
