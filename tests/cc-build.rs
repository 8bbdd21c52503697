//! cc-build: images from a Containerfile and a context, on the busybox
//! `img` image; every RUN with --network none (no traffic leaves the
//! machine). The basics and the command line; the cache, COPY and ADD,
//! RUN's mounts and stages have their own files (cc-build-*.rs).

use std::fs;

use support::build::{build, built, config, containerfile, context, in_image};
use support::{
    assert_code, assert_no_leaks, assert_one_line_error, env_with_img, root_or_skip, stderr,
    stdout, Env,
};

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
    // One unnamed stage: its steps shown as `[n/total]`.
    assert!(
        err.lines()
            .any(|l| l.starts_with("[1/") && l.ends_with("] FROM img")),
        "{err}"
    );
    assert!(
        err.contains("] to-stdout"),
        "the output under its step: {err}"
    );
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
    let dir = containerfile(
        &env,
        "ctx",
        "FROM img\nRUN echo partial > /p\nRUN echo about-to-fail; exit 3\nRUN echo never\n",
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
        err.contains("about-to-fail") && !err.contains("] FROM"),
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
fn onbuild_triggers_run_in_the_child_build() {
    root_or_skip!();
    let env = env_with_img();
    let parent = containerfile(
        &env,
        "parent",
        "FROM img\nONBUILD COPY marker /marker\nONBUILD RUN echo triggered > /triggered\n",
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
    let dir = containerfile(&env, "ok", "FROM img\n");
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
