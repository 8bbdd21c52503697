//! cc-build: images from a Containerfile and a context, on the busybox
//! `img` image; every RUN with --network none (no traffic leaves the
//! machine) unless the test is about the network option.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, env_with_img, root_or_skip,
    stderr, stdout, Env,
};

/// A failed build's error: its last line, `cc-build: …` (the steps before
/// it are progress).
fn last_line_error(out: &Output) -> String {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("cc-build: "), "{err}");
    last
}

/// A context folder `name` under the env's work dir with these files.
fn context(env: &Env, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = env.base().join("work").join(name);
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn build(env: &Env, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["--network", "none"];
    args.extend_from_slice(extra);
    let d = dir.to_str().unwrap();
    args.push(d);
    env.run("cc-build", &args)
}

/// Builds, asserts success, returns the image id (stdout's only line).
fn built(env: &Env, dir: &Path, extra: &[&str]) -> String {
    let out = build(env, dir, extra);
    assert_code(&out, 0, "cc-build");
    let id = stdout(&out);
    assert_eq!(id.lines().count(), 1, "stdout is the id alone: {id:?}");
    let id = id.trim().to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    id
}

/// `cmd` run in a container of `image`, its stdout.
fn in_image(env: &Env, image: &str, cmd: &str) -> String {
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

fn config(env: &Env, image: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [image])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    v["Config"].clone()
}

#[test]
fn run_copy_and_config_instructions_make_the_image() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            (
                "Containerfile",
                "# syntax=docker/dockerfile:1\n\
                 FROM img\n\
                 ARG WHO=world\n\
                 ENV GREETING=\"hello $WHO\" \\\n    OTHER=x\n\
                 LABEL org.example.a=\"1\" b=two\n\
                 WORKDIR /app\n\
                 COPY a.txt sub ./\n\
                 COPY --chown=7:8 --chmod=600 a.txt /owned\n\
                 RUN echo \"$GREETING from $WHO\" > greeting && echo to-stdout && echo to-stderr >&2\n\
                 RUN <<EOF\n\
                 echo heredoc > /here\n\
                 echo two >> /here\n\
                 EOF\n\
                 COPY <<EOT /etc/made\n\
                 made $WHO\n\
                 EOT\n\
                 EXPOSE 80 53/udp\n\
                 VOLUME /data\n\
                 USER 0:0\n\
                 STOPSIGNAL SIGTERM\n\
                 HEALTHCHECK --interval=30s --retries=2 CMD true\n\
                 SHELL [\"/bin/sh\", \"-c\"]\n\
                 ENTRYPOINT [\"/bin/sh\", \"-c\"]\n\
                 CMD [\"cat /app/greeting\"]\n",
            ),
            ("a.txt", "A\n"),
            ("sub/b.txt", "B\n"),
        ],
    );
    let out = build(
        &env,
        &dir,
        &["-t", "made:1", "-t", "made:2", "--build-arg", "WHO=cc"],
    );
    assert_code(&out, 0, "cc-build");
    let err = stderr(&out);
    assert!(
        err.contains("to-stdout") && err.contains("to-stderr"),
        "RUN's output on stderr: {err}"
    );
    assert!(err.contains("STEP 1/"), "{err}");
    let id = stdout(&out).trim().to_string();
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "made:2"]),
        "hello cc from cc\n"
    );
    let files = in_image(
        &env,
        "made:1",
        "cat /app/a.txt /app/b.txt /here /etc/made; stat -c '%u:%g %a' /owned",
    );
    assert_eq!(files, "A\nB\nheredoc\ntwo\nmade cc\n7:8 600\n");
    let c = config(&env, &id);
    assert_eq!(c["WorkingDir"], "/app");
    assert_eq!(c["Labels"]["org.example.a"], "1");
    assert_eq!(c["Labels"]["b"], "two");
    assert!(
        c["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "GREETING=hello cc"),
        "{c}"
    );
    assert!(c["ExposedPorts"]["53/udp"].is_object(), "{c}");
    assert!(c["Volumes"]["/data"].is_object(), "{c}");
    assert_eq!(c["User"], "0:0");
    assert_eq!(c["StopSignal"], "SIGTERM");
    assert_eq!(c["Healthcheck"]["Test"][0], "CMD-SHELL");
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000u64);
    assert_eq!(c["Entrypoint"][0], "/bin/sh");
    // ARG values are not kept in the image.
    assert!(!c["Env"].to_string().contains("WHO="), "{c}");
    assert_no_leaks(&env);
    assert!(env.container_ids().is_empty(), "RUN's containers removed");
    // The steps' images are intermediates: listed with -a only.
    let rows = |args: &[&str]| env.ok("cc-images", args).lines().count();
    assert_eq!(rows(&["-q"]), 2, "img and made");
    assert!(rows(&["-aq"]) > 10, "every step's image with -a");
}

#[test]
fn failing_run_stops_with_its_code_and_names_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[(
            "Containerfile",
            "FROM img\nRUN echo partial > /p\nRUN echo about-to-fail; exit 3\nRUN echo never\n",
        )],
    );
    let out = build(&env, &dir, &["-t", "broken:1"]);
    assert_code(&out, 3, "cc-build of a failing RUN");
    let err = stderr(&out);
    assert!(err.contains("about-to-fail"), "{err}");
    assert!(!err.contains("never"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("cc-build: Containerfile:3: RUN:"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    assert_code(&env.run("cc-inspect", ["broken:1"]), 3, "nothing tagged");
    assert!(
        env.container_ids().is_empty(),
        "no container left: {:?}",
        env.container_ids()
    );
    // Quiet: nothing on success, the output when it fails.
    let out = build(&env, &dir, &["-q"]);
    assert_code(&out, 3, "cc-build -q");
    let err = stderr(&out);
    assert!(
        err.contains("about-to-fail") && !err.contains("STEP"),
        "{err}"
    );
    // --rm=false keeps the failed container.
    let out = build(&env, &dir, &["--rm=false"]);
    assert_code(&out, 3, "cc-build --rm=false");
    let kept = env.container_ids();
    assert_eq!(kept.len(), 1);
    env.ok("cc-rm", [&kept[0]]);
    assert_no_leaks(&env);
}

#[test]
fn cache_follows_content_not_ignored_files() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            ("Containerfile", "FROM img\nCOPY . /src\nRUN cat /src/a > /copy-of-a; cat /proc/sys/kernel/random/uuid > /stamp\n"),
            (".dockerignore", "# logs\n*.log\n!keep.log\nbuild/\n"),
            ("a", "one\n"),
            ("noise.log", "x"),
            ("keep.log", "k"),
            ("build/out", "o"),
        ],
    );
    let first = built(&env, &dir, &["-t", "c:1"]);
    let listing = in_image(&env, "c:1", "cd /src && find . | sort | tr '\\n' ' '");
    assert_eq!(listing, ". ./.dockerignore ./Containerfile ./a ./keep.log ");
    // An ignored file changed, the copied ones touched: all from the cache.
    fs::write(dir.join("noise.log"), "changed").unwrap();
    let a = dir.join("a");
    let t = fs::metadata(&a).unwrap().modified().unwrap() + std::time::Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(t)
        .unwrap();
    let out = build(&env, &dir, &[]);
    assert_code(&out, 0, "second build");
    assert_eq!(stdout(&out).trim(), first);
    assert!(stderr(&out).contains("Using cache"), "{}", stderr(&out));
    // One byte changed: COPY and RUN again.
    fs::write(&a, "onE\n").unwrap();
    let third = built(&env, &dir, &["-t", "c:3"]);
    assert_ne!(third, first);
    assert_eq!(in_image(&env, "c:3", "cat /copy-of-a"), "onE\n");
    // --no-cache: the same inputs, every step run again.
    let stamp = in_image(&env, "c:3", "cat /stamp");
    let fourth = built(&env, &dir, &["--no-cache", "-t", "c:4"]);
    assert_ne!(fourth, third);
    assert_ne!(in_image(&env, "c:4", "cat /stamp"), stamp);
    // cc-prune --build-cache forgets the steps: the next build runs them.
    let pruned = env.ok("cc-prune", ["-f", "--build-cache"]);
    assert!(pruned.contains("Deleted build cache objects:"), "{pruned}");
    let out = build(&env, &dir, &[]);
    assert_code(&out, 0, "build after the prune");
    assert!(!stderr(&out).contains("Using cache"), "{}", stderr(&out));
    assert_no_leaks(&env);
}

#[test]
fn multi_stage_target_and_copy_from() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[(
            "Containerfile",
            "ARG BASE=img\n\
             FROM ${BASE} AS builder\n\
             RUN mkdir /out && echo built > /out/artifact\n\
             FROM img AS unused\n\
             RUN echo unused-stage-ran; exit 9\n\
             FROM scratch AS final\n\
             COPY --from=builder /out/artifact /artifact\n\
             COPY --from=img /bin/busybox /bin/sh\n\
             CMD [\"/bin/sh\", \"-c\", \"echo ok\"]\n",
        )],
    );
    let out = build(&env, &dir, &["-t", "ms:1"]);
    assert_code(&out, 0, "multi-stage build");
    assert!(
        !stderr(&out).contains("unused-stage-ran"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.ok("cc-run", ["--rm", "--net", "none", "ms:1"]), "ok\n");
    assert_eq!(
        env.ok(
            "cc-run",
            [
                "--rm",
                "--net",
                "none",
                "ms:1",
                "/bin/sh",
                "-c",
                "read l < /artifact; echo $l"
            ]
        ),
        "built\n"
    );
    // --target builds that stage and what it needs only.
    let out = build(&env, &dir, &["--target", "builder", "-t", "ms:builder"]);
    assert_code(&out, 0, "--target builder");
    assert_eq!(in_image(&env, "ms:builder", "cat /out/artifact"), "built\n");
    // A source reached through a link is followed inside the image's root.
    let linked = context(
        &env,
        "linked",
        &[(
            "Containerfile",
            "FROM img\nRUN ln -s / /up && echo inside > /marker\n",
        )],
    );
    built(&env, &linked, &["-t", "linked:1"]);
    let esc = context(
        &env,
        "esc",
        &[(
            "Containerfile",
            "FROM img\nCOPY --from=linked:1 /up/marker /m\n",
        )],
    );
    let id = built(&env, &esc, &["-q"]);
    assert_eq!(in_image(&env, &id, "cat /m"), "inside\n");
    fs::write(
        esc.join("Containerfile"),
        "FROM scratch\nCOPY --from=linked:1 /up/etc/hostname /h\n",
    )
    .unwrap();
    let out = build(&env, &esc, &["-q"]);
    assert_code(&out, 3, "the host's /etc/hostname is not the image's");
    assert_one_line_error(&out, "cc-build");
    let out = build(&env, &dir, &["--target", "nope"]);
    assert_code(&out, 3, "unknown target");
    assert_one_line_error(&out, "cc-build");
    assert!(stderr(&out).contains("'nope'"), "{}", stderr(&out));
    assert_no_leaks(&env);
}

#[test]
fn onbuild_triggers_run_in_the_child_build() {
    root_or_skip!();
    let env = env_with_img();
    let parent = context(
        &env,
        "parent",
        &[(
            "Containerfile",
            "FROM img\nONBUILD COPY marker /marker\nONBUILD RUN echo triggered > /triggered\n",
        )],
    );
    built(&env, &parent, &["-t", "parent:1"]);
    let child = context(
        &env,
        "child",
        &[
            (
                "Containerfile",
                "FROM parent:1\nRUN cat /marker /triggered\n",
            ),
            ("marker", "m\n"),
        ],
    );
    let id = built(&env, &child, &["-t", "child:1"]);
    assert_eq!(
        in_image(&env, "child:1", "cat /marker /triggered"),
        "m\ntriggered\n"
    );
    assert!(
        config(&env, &id).get("OnBuild").is_none_or(|v| v.is_null()),
        "triggers are not inherited"
    );
    assert_no_leaks(&env);
}

#[test]
fn add_unpacks_a_local_tar() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            (
                "Containerfile",
                "FROM img\nADD files.tar /unpacked/\nADD plain.txt /plain\n",
            ),
            ("plain.txt", "p\n"),
        ],
    );
    let src = context(&env, "tarsrc", &[("inner/f", "in the tar\n")]);
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(&src)
        .arg("-czf")
        .arg(dir.join("files.tar"))
        .arg("inner")
        .status()
        .unwrap();
    assert!(tar.success());
    built(&env, &dir, &["-t", "add:1"]);
    assert_eq!(
        in_image(&env, "add:1", "cat /unpacked/inner/f /plain"),
        "in the tar\np\n"
    );
    let url = context(
        &env,
        "url",
        &[("Containerfile", "FROM img\nADD http://127.0.0.1:9/x /x\n")],
    );
    // A URL nobody answers (port 9 on loopback): one line naming it.
    let out = build(&env, &url, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        last_line_error(&out).contains("http://127.0.0.1:9/x"),
        "{}",
        stderr(&out)
    );
    assert_no_leaks(&env);
}

#[test]
fn same_inputs_and_timestamp_give_the_same_digest_in_two_stores() {
    root_or_skip!();
    let digest = |env: &Env| {
        let dir = context(
            env,
            "ctx",
            &[
                (
                    "Containerfile",
                    "FROM img\nCOPY f /f\nRUN echo ran > /ran && mkdir -p /d/e\nENV A=1\n",
                ),
                ("f", "same\n"),
            ],
        );
        let id = built(env, &dir, &["--timestamp", "1700000000", "-t", "r:1"]);
        let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", ["r:1"])).unwrap();
        let v = if v.is_array() { v[0].clone() } else { v };
        (id, v["Created"].as_str().unwrap().to_string())
    };
    // Two stores with the same base image (saved from one, loaded in the
    // other), the builds a second apart.
    let (a, b) = (env_with_img(), Env::new());
    let archive = a.base().join("img.tar");
    a.ok("cc-save", ["-o", archive.to_str().unwrap(), "img"]);
    b.ok("cc-load", ["-i", archive.to_str().unwrap()]);
    let (ia, ca) = digest(&a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (ib, cb) = digest(&b);
    assert!(ca.starts_with("2023-11-14T22:13:20"), "{ca}");
    assert_eq!(ca, cb);
    assert_eq!(ia, ib, "two stores, one digest");
    // SOURCE_DATE_EPOCH is the same option.
    let dir = a.base().join("work/ctx");
    let out = a
        .cmd("cc-build")
        .args(["--network", "none", "--no-cache", dir.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert_code(&out, 0, "SOURCE_DATE_EPOCH");
    assert_eq!(stdout(&out).trim(), ia);
    assert_no_leaks(&a);
    assert_no_leaks(&b);
}

#[test]
fn parse_errors_and_bad_input() {
    root_or_skip!();
    let env = env_with_img();
    for (file, code, want) in [
        ("FROM img\nFROBNICATE x\n", 1, "cc-build: Containerfile:2: unknown instruction: FROBNICATE"),
        ("FROM img\nRUN <<EOF\necho\n", 1, "cc-build: Containerfile:2: RUN: here-document 'EOF' has no end"),
        ("RUN echo\n", 1, "cc-build: Containerfile:1: RUN: only ARG may come before the first FROM"),
        ("FROM img\nRUN --mount=type=ssh true\n", 1, "cc-build: Containerfile:2: RUN: --mount=type=ssh is not supported by cc-build yet"),
        ("FROM img\nCOPY missing /m\n", 3, "cc-build: source file of the build context (or left out by .dockerignore) 'missing' not found"),
        ("FROM nosuch:image\n", 3, "cc-build: "),
    ] {
        let dir = context(&env, "bad", &[("Containerfile", file)]);
        let out = build(&env, &dir, &["-q", "-t", "bad:1"]);
        assert_code(&out, code, file);
        assert_one_line_error(&out, "cc-build");
        assert!(stderr(&out).starts_with(want), "{file}: {}", stderr(&out));
        assert_code(&env.run("cc-inspect", ["bad:1"]), 3, "nothing tagged");
    }
    let dir = context(&env, "ok", &[("Containerfile", "FROM img\n")]);
    for (args, code) in [
        (vec!["--secret", "id=a,src=/x"], 3),
        (vec!["--secret", "src=/x,colour=red"], 2),
        (vec!["--squash", "--squash-all"], 2),
        (vec!["--platform", "linux/s390x-nope"], 1),
        (vec!["--network", "nosuch"], 2),
        (vec!["--build-arg", "=x"], 2),
    ] {
        let out = build(&env, &dir, &args);
        assert_code(&out, code, &format!("{args:?}"));
        assert_one_line_error(&out, "cc-build");
    }
    let out = env.run("cc-build", [env.base().join("nowhere").to_str().unwrap()]);
    assert_code(&out, 3, "missing context");
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

fn layer_count(env: &Env, image: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", [image])).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    v["RootFS"]["Layers"].as_array().unwrap().len()
}

#[test]
fn squash_squash_all_and_layers_false_make_one_layer() {
    root_or_skip!();
    let env = env_with_img();
    let base = context(
        &env,
        "base",
        &[("Containerfile", "FROM img\nRUN mkdir /keep /gone && echo k > /keep/k && echo g > /gone/g && echo old > /old\n")],
    );
    built(&env, &base, &["-q", "-t", "base1:1"]);
    let under = layer_count(&env, "base1:1");
    let file = "FROM base1:1\n\
        RUN rm -r /gone /old && echo one > /one && mkdir /d && echo x > /d/x\n\
        COPY f /d/f\n\
        RUN rm /d/x && echo two > /two && rm -r /keep && mkdir /keep && echo n > /keep/n\n\
        ENV A=1\n";
    let dir = context(&env, "sq", &[("Containerfile", file), ("f", "f\n")]);
    let look = "ls / | grep -E '^(gone|old|one|two|d|keep)$' | tr '\\n' ' '; ls /d /keep | tr '\\n' ' '; cat /one /two /d/f /keep/n | tr '\\n' ' '; echo $A";
    let want = "d keep one two /d: f  /keep: n one two f n 1\n";
    let images = |env: &Env| env.ok("cc-images", ["-aq"]).lines().count();
    for (flag, layers) in [
        ("--squash", under + 1),
        ("--squash-all", 1),
        ("--layers=false", under + 1),
    ] {
        let before = images(&env);
        let id = built(&env, &dir, &["-q", flag]);
        assert_eq!(layer_count(&env, &id), layers, "{flag}");
        assert_eq!(in_image(&env, &id, look), want, "{flag}");
        let hist = env.ok("cc-history", ["-q", &id]);
        assert!(!hist.is_empty());
        if flag == "--layers=false" {
            // No step's image stays, and none is taken from the cache.
            assert_eq!(images(&env), before + 1, "{flag}");
            let again = build(&env, &dir, &[flag]);
            assert_code(&again, 0, flag);
            assert!(
                !stderr(&again).contains("Using cache"),
                "{}",
                stderr(&again)
            );
        }
    }
    assert_no_leaks(&env);
}

#[test]
fn copy_follows_source_links_and_destination_links_in_the_image() {
    root_or_skip!();
    let env = env_with_img();
    let file = "FROM img\n\
        RUN mkdir -p /real && ln -s /real /lnk && ln -s real /rel\n\
        COPY link /lnk/\n\
        COPY abs /rel/abs\n\
        COPY dirlink /lnk/d/\n";
    let dir = context(
        &env,
        "links",
        &[
            ("Containerfile", file),
            ("target.txt", "t\n"),
            ("sub/a", "a\n"),
        ],
    );
    let link =
        |target: &str, name: &str| std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    link("target.txt", "link");
    // Absolute: inside the context, as if it were `/`.
    link("/target.txt", "abs");
    link("sub", "dirlink");
    let id = built(&env, &dir, &["-q"]);
    let got = in_image(
        &env,
        &id,
        "cat /real/link /real/abs /real/d/a; test -L /real/link || echo file; readlink /lnk; readlink /rel",
    );
    assert_eq!(got, "t\nt\na\nfile\n/real\nreal\n");
    // A link that leads nowhere inside the context is a missing source.
    link("/etc/hostname", "out");
    fs::write(dir.join("Containerfile"), "FROM img\nCOPY out /out\n").unwrap();
    let out = build(&env, &dir, &["-q"]);
    assert_code(&out, 3, "link out of the context");
    assert_one_line_error(&out, "cc-build");
    assert_no_leaks(&env);
}

#[test]
fn context_and_file_from_stdin_and_iidfile() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            ("f", "from the tar\n"),
            ("Dockerfile", "FROM img\nCOPY f /f\n"),
        ],
    );
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg("-")
        .arg(".")
        .output()
        .unwrap();
    let iid = env.base().join("iid");
    let out = env.run_stdin(
        "cc-build",
        ["-q", "--iidfile", iid.to_str().unwrap(), "-t", "s:1", "-"],
        &tar.stdout,
    );
    assert_code(&out, 0, "context from stdin");
    assert_eq!(stderr(&out), "", "-q prints nothing but the id");
    assert_eq!(fs::read_to_string(&iid).unwrap(), stdout(&out).trim());
    assert_eq!(in_image(&env, "s:1", "cat /f"), "from the tar\n");
    let out = env.run_stdin(
        "cc-build",
        ["-f", "-", "-t", "s:2", dir.to_str().unwrap()],
        b"FROM img\nLABEL from=stdin\n",
    );
    assert_code(&out, 0, "file from stdin");
    assert_eq!(config(&env, "s:2")["Labels"]["from"], "stdin");
    support::assert_no_stray(&env);
    assert_no_leaks(&env);
}

#[test]
fn run_mounts_cache_bind_and_tmpfs() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            (
                "Containerfile",
                "FROM img\n\
                 RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /seen\n\
                 RUN --mount=type=bind,source=data,target=/data cat /data/f > /from-bind && ! touch /data/g 2>/dev/null\n\
                 RUN --mount=type=tmpfs,target=/scratch grep -q ' /scratch tmpfs' /proc/mounts && echo t > /scratch/t\n",
            ),
            ("data/f", "bound\n"),
        ],
    );
    built(&env, &dir, &["-t", "m:1"]);
    assert_eq!(in_image(&env, "m:1", "cat /seen /from-bind"), "1\nbound\n");
    // The mount points the RUNs needed are not in the image (BuildKit's).
    assert_eq!(
        in_image(
            &env,
            "m:1",
            "ls -d /cache /data /scratch 2>/dev/null | wc -l"
        ),
        "0\n"
    );
    // The cache folder persists: a second run (no step cache) sees it.
    built(&env, &dir, &["--no-cache", "-t", "m:2"]);
    assert_eq!(in_image(&env, "m:2", "cat /seen"), "2\n");
    // A bind source outside the context is refused.
    let out_of = context(
        &env,
        "out",
        &[(
            "Containerfile",
            "FROM img\nRUN --mount=type=bind,source=../ctx,target=/x true\n",
        )],
    );
    let out = build(&env, &out_of, &["-q"]);
    assert_ne!(out.status.code(), Some(0));
    assert_one_line_error(&out, "cc-build");
    env.ok("cc-prune", ["-f", "--build-cache"]);
    assert!(!env.base().join("root/build-mounts").exists());
    assert_no_leaks(&env);
}

/// `RUN --mount=type=bind` with `rw` (writes thrown away after the step)
/// and `from=` another stage.
#[test]
fn run_mounts_bind_rw_and_from_a_stage() {
    root_or_skip!();
    let env = env_with_img();
    let file = "FROM img AS other\n\
        RUN mkdir /o && echo other > /o/f\n\
        FROM img\n\
        RUN --mount=type=bind,source=data,target=/data,rw echo w > /data/new && cat /data/f /data/new > /rw\n\
        RUN --mount=type=bind,from=other,source=/o,target=/o cat /o/f > /from && ! touch /o/g 2>/dev/null\n\
        RUN --mount=type=bind,from=other,source=o,target=/o,rw echo z > /o/z && cat /o/z > /fromrw\n\
        RUN --mount=type=bind,source=data/f,target=/one,rw echo more >> /one && cat /one > /onefile\n\
        RUN --mount=type=bind,from=other,source=o,target=/o ls /o > /again\n";
    let dir = context(
        &env,
        "rw",
        &[("Containerfile", file), ("data/f", "bound\n")],
    );
    let id = built(&env, &dir, &["-q"]);
    assert_eq!(
        in_image(&env, &id, "cat /rw /from /fromrw /onefile /again"),
        "bound\nw\nother\nz\nbound\nmore\nf\n"
    );
    // The context is as it was.
    assert!(!dir.join("data/new").exists());
    assert_eq!(fs::read_to_string(dir.join("data/f")).unwrap(), "bound\n");
    let out = build(&env, &dir, &["-q", "--no-cache"]);
    assert_code(&out, 0, "again");
    let tmp = fs::read_dir(env.base().join("root/tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(tmp, 0, "nothing left in the store's tmp/");
    assert_no_leaks(&env);
}

/// `--secret` and `RUN --mount=type=secret`: the bytes are readable in the
/// RUNs that ask, with docker's mode and owner or the mount's, and never
/// in the image; a missing secret is skipped unless required.
#[test]
fn run_mounts_secrets_and_keeps_them_out_of_the_image() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[(
            "Containerfile",
            "FROM img\n\
             RUN --mount=type=secret,id=tok test \"$(cat /run/secrets/tok)\" = s3cret && stat -c '%a %u' /run/secrets/tok > /mode\n\
             RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=7 stat -c '%a %u' /etc/tok > /mode2\n\
             RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent\n",
        )],
    );
    let file = env.base().join("tok.txt");
    std::fs::write(&file, "s3cret").unwrap();
    let src = format!("id=tok,src={}", file.display());
    built(&env, &dir, &["--secret", &src, "-t", "s:1"]);
    assert_eq!(in_image(&env, "s:1", "cat /mode /mode2"), "400 0\n440 7\n");
    // Neither the secrets nor their mount points are in the image; the
    // folder that was there (/etc) still is.
    assert_eq!(
        in_image(
            &env,
            "s:1",
            "ls -d /run/secrets/tok /etc/tok 2>/dev/null | wc -l; ls -d /etc"
        ),
        "0\n/etc\n"
    );
    // From the environment too.
    let out = env
        .cmd("cc-build")
        .args(["-q", "--secret", "id=tok,env=CC_TEST_TOK", "--no-cache"])
        .arg(&dir)
        .env("CC_TEST_TOK", "s3cret")
        .output()
        .unwrap();
    assert_ok(&out, "cc-build --secret id=tok,env=…");
    // A required secret that was not given, a secret file that is not there.
    let req = context(
        &env,
        "req",
        &[(
            "Containerfile",
            "FROM img\nRUN --mount=type=secret,id=nope,required=true true\n",
        )],
    );
    let out = build(&env, &req, &["-q"]);
    assert_code(&out, 3, "a required secret not given");
    assert_one_line_error(&out, "cc-build");
    let out = build(
        &env,
        &dir,
        &["-q", "--secret", "id=tok,src=/no/such/secret"],
    );
    assert_code(&out, 3, "a secret file that is not there");
    assert_no_leaks(&env);
    let tmp = env.base().join("root/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().starts_with("secret-")),
        "{left:?}"
    );
}

/// A one-file HTTP server on 127.0.0.1 for ADD's URLs: `/f.txt` is
/// `fetched\n` with a Last-Modified time, anything else 404. Its port.
fn http_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(&s);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let answer = match first.split(' ').nth(1) {
                Some("/f.txt") => "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\
                    Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\nfetched\n",
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            };
            let _ = (&s).write_all(answer.as_bytes());
        }
    });
    port
}

/// ADD of an http URL: the file named as the URL ends, mode 0600 and the
/// server's Last-Modified time, `--checksum` checked; a wrong checksum, a
/// missing file, a URL in COPY and a checksum on a local file refused.
#[test]
fn add_fetches_urls_and_checks_their_checksum() {
    root_or_skip!();
    let env = env_with_img();
    let port = http_server();
    let url = format!("http://127.0.0.1:{port}/f.txt");
    let sum = "sha256:9a0e1d8dc5a1b8f62f4a4ed2e3f58b5ec1b7a0aa3d47c7a49d4c4d3c5b7d1e5a";
    let good = "sha256:f6e379b0639054c51806fd5d67948cbcaebd354b0e91a7683932b043c5c3ba32";
    let dir = context(
        &env,
        "ctx",
        &[(
            "Containerfile",
            &format!(
                "FROM img\nADD {url} /got/\nADD --checksum={good} {url} /named\n\
                 RUN stat -c '%a %Y' /got/f.txt > /meta\n"
            ),
        )],
    );
    built(&env, &dir, &["-t", "u:1"]);
    assert_eq!(
        in_image(&env, "u:1", "cat /got/f.txt /named /meta"),
        "fetched\nfetched\n600 784111777\n"
    );
    for (file, code) in [
        (format!("FROM img\nADD --checksum={sum} {url} /x\n"), 1),
        (
            format!("FROM img\nADD http://127.0.0.1:{port}/nothing /x\n"),
            3,
        ),
        (format!("FROM img\nCOPY {url} /x\n"), 1),
        (
            format!("FROM img\nADD --checksum={good} Containerfile /x\n"),
            1,
        ),
    ] {
        let bad = context(&env, "bad", &[("Containerfile", &file)]);
        let out = build(&env, &bad, &["-q", "-t", "bad:1"]);
        assert_code(&out, code, &file);
        assert_one_line_error(&out, "cc-build");
        assert_code(&env.run("cc-inspect", ["bad:1"]), 3, "nothing tagged");
    }
    assert_no_leaks(&env);
}
