//! Interoperability with podman and skopeo, real and as root: images made
//! by podman run under cc with the same files, images committed by cc run
//! under podman with the same files, and both tools list the same changes.
//! Each test has its own podman --root/--runroot, removed at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{assert_ok, listing, root_or_skip, Env, CHANGES, LISTING};

/// A private podman store below the test's folder.
struct Podman {
    root: PathBuf,
    runroot: PathBuf,
}

impl Podman {
    fn new(env: &Env) -> Podman {
        Podman {
            root: env.base().join("podman-root"),
            runroot: env.base().join("podman-run"),
        }
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        // Its own libpod tmp dir too (else /run/libpod, shared with every
        // other podman: a concurrent test's "refresh" broke these).
        c.arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .arg("--tmpdir")
            .arg(self.runroot.join("libpod-tmp"));
        c.args([
            "--storage-driver",
            "overlay",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
        ]);
        c.stdin(Stdio::null());
        c
    }
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("podman");
        assert_ok(&out, &format!("podman {args:?}"));
        support::stdout(&out)
    }
    /// `containers-storage:` of skopeo for this store.
    fn storage(&self, image: &str) -> String {
        format!(
            "containers-storage:[overlay@{}+{}]{image}",
            self.root.display(),
            self.runroot.display()
        )
    }
    /// The files podman shows for `image` (see `support::LISTING`). Not
    /// `run --rm`: podman 4.3 with `--events-backend none` sometimes loses
    /// the exit code of a `--rm` container ("no such exit code"), so the
    /// container is removed after, and the run retried once on that error.
    fn listing(&self, image: &str) -> String {
        for attempt in 0..2 {
            let name = format!("ls-{attempt}-{}", std::process::id());
            let out = self
                .cmd()
                .args([
                    "run",
                    "--network",
                    "none",
                    "--name",
                    &name,
                    image,
                    "sh",
                    "-c",
                    LISTING,
                ])
                .output()
                .expect("podman");
            let _ = self.cmd().args(["rm", "-f", &name]).output();
            if out.status.success() || attempt == 1 || !support::stderr(&out).contains("exit code")
            {
                assert_ok(&out, &format!("podman run {image}"));
                return support::stdout(&out);
            }
        }
        unreachable!()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd().args(["rm", "-af"]).output();
        let _ = self.cmd().args(["rmi", "-af"]).output();
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
        for p in support::mounts_under(&self.root)
            .into_iter()
            .chain(support::mounts_under(&self.runroot))
        {
            let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

fn tools() -> bool {
    support::have("podman") && support::have("skopeo")
}

fn skopeo(args: &[&str]) -> Output {
    let out = Command::new("skopeo").args(args).output().expect("skopeo");
    assert_ok(&out, &format!("skopeo {args:?}"));
    out
}

/// The changes rootfs as a tar, and the podman image of it.
fn base(env: &Env, pm: &Podman) -> PathBuf {
    let dir = support::changes_rootfs(env, "t");
    let tar = env.dir.join("t.tar");
    support::tar_dir(&dir, &tar);
    pm.ok(&[
        "import",
        "-q",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "localhost/t:latest",
    ]);
    dir
}

/// `cc-save IMAGE | podman load`.
fn save_into_podman(env: &Env, pm: &Podman, image: &str) {
    let saved = env.run("cc-save", [image]);
    assert_ok(&saved, "cc-save");
    let mut load = pm
        .cmd()
        .arg("load")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut load.stdin.take().unwrap(), &saved.stdout).unwrap();
    assert_ok(&load.wait_with_output().unwrap(), "podman load");
}

fn sorted(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn podman_image_runs_under_cc_with_the_same_files() {
    root_or_skip!();
    if !tools() {
        return;
    }
    let env = Env::new();
    let pm = Podman::new(&env);
    base(&env, &pm);
    pm.ok(&[
        "run",
        "--network",
        "none",
        "--name",
        "made",
        "localhost/t:latest",
        "sh",
        "-c",
        CHANGES,
    ]);
    pm.ok(&["commit", "-q", "made", "localhost/p:1"]);
    let want = pm.listing("localhost/p:1");
    assert!(want.contains("/t/add/hard F 644 0 0 2 2"), "{want}");
    for (transport, name) in [("docker-archive", "p.tar"), ("oci-archive", "p-oci.tar")] {
        let file = env.dir.join(name);
        skopeo(&[
            "copy",
            "-q",
            &pm.storage("localhost/p:1"),
            &format!("{transport}:{}:localhost/p:1", file.display()),
        ]);
        let cc = Env::new();
        assert_eq!(
            cc.ok("cc-load", ["-i", file.to_str().unwrap()]),
            "Loaded image: localhost/p:1\n",
            "{transport}"
        );
        assert_eq!(
            listing(&cc, "localhost/p:1"),
            want,
            "{transport}: cc-run shows other files than podman"
        );
    }
    // podman save, read from stdin.
    let saved = pm.cmd().args(["save", "localhost/p:1"]).output().unwrap();
    assert_ok(&saved, "podman save");
    let cc = Env::new();
    let out = cc.run_stdin("cc-load", Vec::<&str>::new(), &saved.stdout);
    assert_ok(&out, "podman save | cc-load");
    assert_eq!(listing(&cc, "localhost/p:1"), want);
}

#[test]
fn cc_commit_runs_under_podman_with_the_same_files() {
    root_or_skip!();
    if !tools() {
        return;
    }
    let env = Env::new();
    let pm = Podman::new(&env);
    let dir = support::changes_rootfs(&env, "t");
    env.import_dir(&dir, "t");
    env.ok(
        "cc-run",
        ["--net", "none", "--name", "made", "t", "sh", "-c", CHANGES],
    );
    env.ok("cc-commit", ["made", "c:1"]);
    let want = listing(&env, "c:1");
    // cc-save | podman load
    save_into_podman(&env, &pm, "c:1");
    assert_eq!(
        pm.listing("localhost/c:1"),
        want,
        "podman shows other files than cc-run"
    );
    // skopeo reads cc's store as an OCI layout.
    let oci = format!("oci:{}:c:1", env.root.join("images").display());
    skopeo(&["copy", "-q", &oci, &pm.storage("localhost/c2:1")]);
    assert_eq!(pm.listing("localhost/c2:1"), want);
    // oci-archive too.
    let file = env.dir.join("c-oci.tar");
    env.ok(
        "cc-save",
        [
            "--format",
            "oci-archive",
            "-o",
            file.to_str().unwrap(),
            "c:1",
        ],
    );
    pm.ok(&["load", "-q", "-i", file.to_str().unwrap()]);
}

#[test]
fn cc_diff_lists_what_podman_diff_lists() {
    root_or_skip!();
    if !tools() {
        return;
    }
    let env = Env::new();
    let pm = Podman::new(&env);
    let dir = base(&env, &pm);
    env.import_dir(&dir, "t");
    pm.ok(&[
        "run",
        "--network",
        "none",
        "--name",
        "diffme",
        "localhost/t:latest",
        "sh",
        "-c",
        CHANGES,
    ]);
    env.ok(
        "cc-run",
        [
            "--net", "none", "--name", "diffme", "t", "sh", "-c", CHANGES,
        ],
    );
    let theirs = sorted(&pm.ok(&["diff", "diffme"]));
    let ours = env.ok("cc-diff", ["diffme"]);
    assert_eq!(sorted(&ours), theirs, "cc-diff:\n{ours}");
}

#[test]
fn round_trip_commit_save_load_run() {
    root_or_skip!();
    let env = Env::new();
    let dir = support::changes_rootfs(&env, "t");
    env.import_dir(&dir, "t");
    env.ok(
        "cc-run",
        ["--net", "none", "--name", "made", "t", "sh", "-c", CHANGES],
    );
    env.ok("cc-commit", ["made", "r:1"]);
    let want = listing(&env, "r:1");
    // export -> import keeps the files too
    let exported = env.run("cc-export", ["made"]);
    assert_ok(&exported, "cc-export");
    let tar = env.dir.join("exported.tar");
    std::fs::write(&tar, &exported.stdout).unwrap();
    env.ok("cc-import", [tar.to_str().unwrap(), "exp:1"]);
    assert_eq!(listing(&env, "exp:1"), want, "export -> import");
    let saved = env.run("cc-save", ["r:1"]);
    let env2 = Env::new();
    let out = env2.run_stdin("cc-load", Vec::<&str>::new(), &saved.stdout);
    assert_ok(&out, "cc-load");
    assert_eq!(listing(&env2, "r:1"), want, "commit -> save -> load");
    let _ = Path::new("");
}

/// cc-build's image runs under podman (`cc-save | podman load`) with the
/// files podman build makes of the same Containerfile and context.
#[test]
fn cc_build_matches_podman_build() {
    root_or_skip!();
    if !tools() {
        return;
    }
    let env = Env::new();
    let pm = Podman::new(&env);
    let dir = base(&env, &pm);
    env.import_dir(&dir, "t");
    let ctx = env.dir.join("ctx");
    std::fs::create_dir_all(ctx.join("sub")).unwrap();
    std::fs::write(ctx.join("f"), "file\n").unwrap();
    std::fs::write(ctx.join("sub/g"), "g\n").unwrap();
    std::fs::write(ctx.join("ignored"), "no\n").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "ignored\n").unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        "ARG BASE\nFROM $BASE\nCOPY f sub /app/\nCOPY --chmod=700 f /app/private\n\
         RUN mkdir -p /made/deep && echo hi > /made/deep/x && rm -rf /t/gone\nENV A=1\nWORKDIR /app\n",
    )
    .unwrap();
    let c = ctx.to_str().unwrap();
    env.ok(
        "cc-build",
        [
            "-q",
            "--network",
            "none",
            "--build-arg",
            "BASE=t",
            "-t",
            "b:1",
            c,
        ],
    );
    pm.ok(&[
        "build",
        "-q",
        "--network",
        "none",
        "--build-arg",
        "BASE=localhost/t:latest",
        "-t",
        "localhost/pb:1",
        c,
    ]);
    save_into_podman(&env, &pm, "b:1");
    let want = listing(&env, "b:1");
    assert!(want.contains("/app/private F 700 0 0 5 1"), "{want}");
    assert_eq!(
        pm.listing("localhost/b:1"),
        want,
        "podman runs cc-build's image with other files"
    );
    assert_eq!(
        pm.listing("localhost/pb:1"),
        want,
        "podman build made other files"
    );
}
