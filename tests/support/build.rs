//! cc-build's test helpers: a context folder of files, a build of it
//! (RUN's network none: no traffic leaves the machine), its image id,
//! what a command sees in an image, an image's config.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{assert_code, stderr, stdout, Env};

/// A failed build's error: its last line, `cc-build: …` (the steps before
/// it are progress).
pub fn last_line_error(out: &Output) -> String {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("cc-build: "), "{err}");
    last
}

/// A context folder `name` under the env's work dir with these files.
pub fn context(env: &Env, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = env.base().join("work").join(name);
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A context folder `name` holding only a Containerfile of `text`.
pub fn containerfile(env: &Env, name: &str, text: &str) -> PathBuf {
    context(env, name, &[("Containerfile", text)])
}

/// cc-build of `dir` with `--network none` and `extra`.
pub fn build(env: &Env, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["--network", "none"];
    args.extend_from_slice(extra);
    let d = dir.to_str().unwrap();
    args.push(d);
    env.run("cc-build", &args)
}

/// Builds, asserts success, returns the image id (stdout's only line).
pub fn built(env: &Env, dir: &Path, extra: &[&str]) -> String {
    let out = build(env, dir, extra);
    assert_code(&out, 0, "cc-build");
    let id = stdout(&out);
    assert_eq!(id.lines().count(), 1, "stdout is the id alone: {id:?}");
    let id = id.trim().to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    id
}

/// `cmd` run in a container of `image`, its stdout.
pub fn in_image(env: &Env, image: &str, cmd: &str) -> String {
    let args = [
        "--rm",
        "--net",
        "none",
        "--entrypoint",
        "/bin/sh",
        image,
        "-c",
        cmd,
    ];
    env.ok("cc-run", args)
}

/// An image's config (`Config` of cc-inspect).
pub fn config(env: &Env, image: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [image])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    v["Config"].clone()
}

/// The number of layers of an image.
pub fn layer_count(env: &Env, image: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [image])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    v["RootFS"]["Layers"].as_array().unwrap().len()
}

/// `tar -czf to -C dir what`: a compressed tar for ADD to unpack.
pub fn tar_gz(dir: &Path, what: &str, to: &Path) {
    let made = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-czf")
        .arg(to)
        .arg(what)
        .status()
        .unwrap();
    assert!(made.success(), "tar of {}", dir.join(what).display());
}

/// After a build that failed or was stopped: `tag` names nothing, no
/// container is left, nor anything else (`assert_no_leaks`).
pub fn assert_nothing_left(env: &Env, tag: &str) {
    assert_code(&env.run("cc-inspect", [tag]), 3, "nothing tagged");
    assert!(env.container_ids().is_empty(), "{:?}", env.container_ids());
    crate::assert_no_leaks(env);
}

/// A root folder at `dest` holding the host's gcc: every file it opens or
/// runs (strace) while it compiles `source` statically, copied to the
/// path it was opened by (`..` taken lexically: the copy has no links),
/// with the dynamic loader and an empty /tmp. Enough for that program,
/// not for every C program.
pub fn host_gcc_root(dest: &Path, source: &Path) {
    let log = dest.with_extension("strace");
    let exe = dest.with_extension("exe");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=openat,open,execve", "-o"])
        .arg(&log)
        .args(["gcc", "-static", "-o"])
        .arg(&exe)
        .arg(source)
        .output()
        .expect("run strace gcc");
    crate::assert_ok(&out, "strace gcc -static");
    let text = fs::read_to_string(&log).unwrap();
    let opened = text
        .lines()
        .filter(|l| !l.contains("= -1 "))
        .filter_map(|l| {
            let start = l.find('"')? + 1;
            let len = l[start..].find('"')?;
            Some(l[start..start + len].to_string())
        });
    let tmp = std::env::temp_dir();
    let mut paths: Vec<String> = opened
        .filter(|p| p.starts_with('/') && !Path::new(p).starts_with(&tmp))
        .collect();
    paths.push("/lib64/ld-linux-x86-64.so.2".into());
    for p in paths {
        let src = Path::new(&p);
        if !src.is_file() {
            continue;
        }
        let mut to = dest.to_path_buf();
        for part in src.components().skip(1) {
            match part {
                std::path::Component::ParentDir => {
                    to.pop();
                }
                c => to.push(c),
            }
        }
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(src, &to).unwrap_or_else(|e| panic!("copy {p}: {e}"));
    }
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dest.join("tmp")).unwrap();
    fs::set_permissions(dest.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    let _ = fs::remove_file(&log);
    let _ = fs::remove_file(&exe);
}
