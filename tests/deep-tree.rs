//! A container that makes a folder chain deeper than any walk with one
//! fd and one stack frame a level can follow (issue 14, item 7): cc-diff
//! lists it, cc-export writes it, cc-rm removes it, each with a small
//! open-file limit and stack, and nothing is left in the store.

use std::fs;
use std::process::{Command, Output};
use std::time::Duration;

use support::{assert_ok, root_or_skip, run_timeout, stderr, stdout, Env};

/// `deep N [NAME [check]]`: mkdir and chdir NAME ("d") N times (from `/`),
/// then a file `leaf`; with `check`, only chdir and look for the leaf.
const DEEP: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    const char *name = argc > 2 ? argv[2] : "d";
    int check = argc > 3;
    if (chdir("/") != 0) { perror("chdir /"); return 1; }
    for (long i = 0; i < n; i++) {
        if ((!check && mkdir(name, 0755) != 0) || chdir(name) != 0) { perror("deep"); return 1; }
    }
    if (check) {
        if (access("leaf", F_OK) != 0) { perror("leaf"); return 1; }
        puts("found");
        return 0;
    }
    int fd = open("leaf", O_CREAT | O_WRONLY, 0644);
    if (fd < 0) { perror("leaf"); return 1; }
    printf("made %ld\n", n);
    return 0;
}
"#;

/// Open files a program gets here: a walk holding one per level fails
/// past about this depth, so the chains below are far deeper.
const NOFILE: u32 = 128;

/// Removes whatever is left in the store's `containers/` with `rm -rf`
/// (GNU rm walks any depth) before the env goes: when cc fails, the
/// test's own clean-up (a recursive remove_dir_all) would overflow.
struct Leftovers<'a>(&'a Env);

impl Drop for Leftovers<'_> {
    fn drop(&mut self) {
        let dir = self.0.root.join("containers");
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.file_name() != ".names" {
                let _ = Command::new("rm")
                    .args(["-rf", "--one-file-system", "--"])
                    .arg(e.path())
                    .status();
            }
        }
    }
}

/// An env with image `img`: busybox and `/bin/deep`.
fn env_deep() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    support::compile_static(DEEP, &dir.join("bin/deep"));
    env.import_dir(&dir, "img");
    env
}

/// A stopped container `name` whose root holds a chain `depth` deep.
fn deep_container(env: &Env, name: &str, depth: usize) {
    let n = depth.to_string();
    let args = ["--name", name, "--net", "none", "img", "deep", &n];
    let out = run_timeout(env.cmd("cc-run").args(args), Duration::from_secs(600));
    assert_ok(&out, "cc-run deep");
    assert!(stdout(&out).contains(&format!("made {depth}")), "{out:?}");
}

/// `prog ARGS` with at most [`NOFILE`] open files and a 1 MiB stack (a
/// recursive walk overflows it long before these depths).
fn limited(env: &Env, prog: &str, args: &[&str]) -> Output {
    let script = format!("ulimit -n {NOFILE} && ulimit -s 1024 && exec \"$0\" \"$@\"");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script])
        .arg(support::bin(prog))
        .args(args)
        .env("CC_ROOT", &env.root);
    run_timeout(&mut cmd, Duration::from_secs(600))
}

/// `d/d/.../d` (`depth` names) then `leaf`.
fn leaf_path(depth: usize) -> String {
    format!("{}leaf", "d/".repeat(depth))
}

#[test]
fn a_deep_chain_is_listed_and_exported() {
    root_or_skip!();
    let env = env_deep();
    let _left = Leftovers(&env);
    let depth = 5000;
    deep_container(&env, "deep", depth);

    let out = limited(&env, "cc-diff", &["deep"]);
    assert_ok(&out, "cc-diff of a 5000-deep chain");
    let text = stdout(&out);
    let added = text.lines().filter(|l| l.starts_with("A /d")).count();
    assert_eq!(
        added,
        depth + 1,
        "every folder and the leaf listed as added"
    );
    let leaf = format!("A /{}", leaf_path(depth));
    assert!(text.lines().any(|l| l == leaf), "the leaf is listed");

    let tar = env.dir.join("deep.tar");
    let out = limited(&env, "cc-export", &["-o", tar.to_str().unwrap(), "deep"]);
    assert_ok(&out, "cc-export of a 5000-deep chain");
    let list = Command::new("tar").arg("-tf").arg(&tar).output().unwrap();
    assert_ok(&list, "tar -tf of cc-export's tar");
    let names = stdout(&list);
    let chain = names
        .lines()
        .filter(|l| l.starts_with("d/") || *l == "d")
        .count();
    assert_eq!(chain, depth + 1, "every folder and the leaf in the tar");
    assert!(
        names.lines().any(|l| l == leaf_path(depth)),
        "the leaf is in the tar"
    );
    fs::remove_file(&tar).unwrap();
    let out = limited(&env, "cc-rm", &["deep"]);
    assert_ok(&out, "cc-rm");
}

/// 50,000 levels: the issue's 200,000 passes too but takes minutes on a
/// loaded machine's disk (`rm -rf` deletes about 1,000 folders a second
/// there), and a walk with one fd a level fails at [`NOFILE`] already.
#[test]
fn a_50000_deep_chain_is_removed_whole() {
    root_or_skip!();
    let env = env_deep();
    let _left = Leftovers(&env);
    deep_container(&env, "deeper", 50_000);
    let id = env.only_container();
    let out = limited(&env, "cc-rm", &["deeper"]);
    assert_ok(&out, "cc-rm of a 50000-deep chain");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let left: Vec<String> = fs::read_dir(env.root.join("containers"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&id))
        .collect();
    assert!(left.is_empty(), "left in containers/: {left:?}");
    let out = env.run("cc-ps", ["-a", "-q"]);
    assert_ok(&out, "cc-ps");
    assert_eq!(stdout(&out).trim(), "", "no container listed");
}

/// A chain whose paths pass PATH_MAX (1,000 names of 10 bytes: 11,000
/// bytes) commits, unpacks into a layer, runs, and cc-diff lists it: the
/// layer is applied one folder at a time, never by whole path.
#[test]
fn a_chain_past_path_max_commits_and_runs() {
    root_or_skip!();
    let env = env_deep();
    let _left = Leftovers(&env);
    let (depth, name) = (1000, "dddddddddd");
    let args = [
        "--name", "long", "--net", "none", "img", "deep", "1000", name,
    ];
    let out = run_timeout(env.cmd("cc-run").args(args), Duration::from_secs(300));
    assert_ok(&out, "cc-run deep");

    let out = env.run("cc-diff", ["long"]);
    assert_ok(&out, "cc-diff");
    let leaf = format!("A /{}leaf", format!("{name}/").repeat(depth));
    assert!(
        stdout(&out).lines().any(|l| l == leaf),
        "cc-diff lists the leaf"
    );

    let out = env.run("cc-commit", ["long", "deep:1"]);
    assert_ok(&out, "cc-commit of a chain past PATH_MAX");
    // Down the chain one chdir at a time: the whole path is too long for
    // any one call inside the container too.
    let n = depth.to_string();
    let args = ["--rm", "--net", "none", "deep:1", "deep", &n, name, "check"];
    let out = env.run("cc-run", args);
    assert_ok(&out, "cc-run of the committed image");
    assert_eq!(stdout(&out).trim(), "found", "the leaf is in the new image");
    env.ok("cc-rm", ["long"]);
}
