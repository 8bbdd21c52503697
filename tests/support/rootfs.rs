//! Files for images and containers: the busybox tree every test image is
//! built from, the change-management fixtures (a listing of what a
//! container sees, a script that makes every kind of change), tars,
//! xattrs, and static helper programs compiled at test time.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::Env;
use crate::output::assert_ok;

/// A busybox tree: the static binary, one symlink per applet, passwd and
/// group with root, nobody and user (1000, also in group users=100).
pub fn make_busybox_rootfs(dir: &Path) {
    for d in ["bin", "etc", "root", "tmp", "home/user"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::set_permissions(dir.join("root"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("copy /bin/busybox (busybox-static)");
    let list = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        let link = dir.join("bin").join(applet);
        if !link.exists() {
            symlink("busybox", &link).unwrap();
        }
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
         user:x:1000:1000::/home/user:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        dir.join("etc/group"),
        "root:x:0:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n",
    )
    .unwrap();
    nix::unistd::chown(&dir.join("home/user"), Some(1000.into()), Some(1000.into())).ok();
}

/// The names in folder `dir`, sorted (none when it does not exist).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Files below `dir` with their sizes and modes, to show a tree unchanged.
pub fn tree_snapshot(dir: &Path) -> Vec<(PathBuf, u64, u32)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, u64, u32)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let md = fs::symlink_metadata(e.path()).unwrap();
            use std::os::unix::fs::MetadataExt;
            out.push((
                e.path().strip_prefix(base).unwrap().to_path_buf(),
                md.len(),
                md.mode(),
            ));
            if md.is_dir() {
                walk(base, &e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The script `listing` runs inside a container: every path but the
/// runtime's own (/proc, /sys, /dev, /run, the bound /etc files) and /bin
/// (the busybox applets, the same everywhere), sorted, one line each:
/// type, mode, owner, and the link target, or the size, link count and a
/// checksum of a regular file.
pub const LISTING: &str = r#"find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /bin \) -prune -o -print | sort | while read -r p; do
case "$p" in /|/etc/hosts|/etc/hostname|/etc/resolv.conf|/etc/mtab) continue;; esac
if [ -L "$p" ]; then echo "$p L $(stat -c '%a %u %g' "$p") -> $(readlink "$p")"
elif [ -d "$p" ]; then echo "$p D $(stat -c '%a %u %g' "$p")"
elif [ -f "$p" ]; then echo "$p F $(stat -c '%a %u %g %s %h' "$p") $(md5sum < "$p" | cut -c1-8)"
else echo "$p $(stat -c '%F %a %u %g' "$p")"; fi
done"#;

/// What `cc-run` shows of an image's files (see [`LISTING`]).
pub fn listing(env: &Env, image: &str) -> String {
    env.ok(
        "cc-run",
        ["--rm", "--net", "none", image, "sh", "-c", LISTING],
    )
}

/// The commands that make every kind of change: deletions (a file, a
/// tree), an opaque folder (a tree deleted and made again), hardlinks,
/// symlinks, a setuid file, a fifo, changed modes and owners, a changed
/// file. Run on [`changes_rootfs`].
pub const CHANGES: &str = "rm /t/gone; rm -rf /t/tree; rm -rf /t/opq && mkdir -p /t/opq/new && echo n > /t/opq/new/f; \
echo more >> /t/keep; mkdir /t/add; echo a > /t/add/a; ln /t/add/a /t/add/hard; ln -s ../keep /t/add/sym; \
ln -s /nowhere /t/add/dangling; cp /bin/busybox /t/add/suid; chmod 4755 /t/add/suid; mkfifo /t/add/fifo; \
chmod 700 /t/mode; chown 1000:100 /t/owner; echo x > /t/owner/f";

/// A busybox tree with the `/t` folder that [`CHANGES`] works on.
pub fn changes_rootfs(env: &Env, name: &str) -> PathBuf {
    let dir = env.busybox_rootfs(name);
    let t = dir.join("t");
    for d in ["tree/a/b", "opq/old", "mode", "owner"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    for (f, data) in [
        ("gone", "gone\n"),
        ("keep", "keep\n"),
        ("tree/a/b/f", "deep\n"),
        ("opq/old/f", "old\n"),
        ("mode/f", "m\n"),
    ] {
        fs::write(t.join(f), data).unwrap();
    }
    dir
}

/// A tar of a folder, made by the host's tar (numeric owners).
pub fn tar_dir(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("--numeric-owner")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar of {}", dir.display());
}

/// The value of xattr `name` of `path` (not following a symlink).
pub fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid C strings and a buffer of the given length.
    let r = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (r >= 0).then(|| buf[..r as usize].to_vec())
}

pub fn set_xattr(path: &Path, name: &str, value: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid C strings and a value of the given length.
    let r = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(r, 0, "setxattr {name} on {}", path.display());
}

/// `sc NR [ARG0]`: a static program that makes raw syscall NR and prints
/// `ok`, `ENOSYS`, `EPERM` or the error's text.
const SYSCALL_HELPER: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    long nr = strtol(argv[1], 0, 0);
    unsigned long a0 = argc > 2 ? strtoul(argv[2], 0, 0) : 0;
    long r = syscall(nr, a0, 0, 0, 0, 0, 0);
    if (r >= 0) { puts("ok"); return 0; }
    puts(errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno));
    return 1;
}
"#;

/// Compiles the syscall helper with the host's `gcc -static` into
/// `rootfs/bin/sc`. Real code in the image, built at test time.
pub fn add_syscall_helper(rootfs: &Path) {
    compile_static(SYSCALL_HELPER, &rootfs.join("bin/sc"));
}

/// Compiles C `source` with the host's `gcc -static` into `exe` (the
/// security tests' helper programs, real code built at test time).
pub fn compile_static(source: &str, exe: &Path) {
    let src = exe.with_extension("c");
    fs::write(&src, source).unwrap();
    let out = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(exe)
        .arg(&src)
        .output()
        .expect("run gcc (the security tests need gcc and libc6-dev for static helpers)");
    assert_ok(&out, &format!("gcc -static {}", src.display()));
    fs::remove_file(&src).unwrap();
}
