//! cc-build's stages: the ones the target needs, built at once where
//! they do not use each other, all stopped when one fails.

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::build::{assert_nothing_left, build, built, containerfile, context, in_image};
use support::{
    assert_code, assert_no_leaks, assert_one_line_error, env_with_img, root_or_skip, run_timeout,
    stderr, wait_child_timeout, wait_for,
};

#[test]
fn multi_stage_target_and_copy_from() {
    root_or_skip!();
    let env = env_with_img();
    let dir = containerfile(
        &env,
        "ctx",
        "ARG BASE=img\n\
             FROM ${BASE} AS builder\n\
             RUN mkdir /out && echo built > /out/artifact\n\
             FROM img AS unused\n\
             RUN echo unused-stage-ran; exit 9\n\
             FROM scratch AS final\n\
             COPY --from=builder /out/artifact /artifact\n\
             COPY --from=img /bin/busybox /bin/sh\n\
             CMD [\"/bin/sh\", \"-c\", \"echo ok\"]\n",
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
    let linked = containerfile(
        &env,
        "linked",
        "FROM img\nRUN ln -s / /up && echo inside > /marker\n",
    );
    built(&env, &linked, &["-t", "linked:1"]);
    let esc = containerfile(
        &env,
        "esc",
        "FROM img\nCOPY --from=linked:1 /up/marker /m\n",
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

/// A RUN that meets another stage's RUN in the cache folder `/c` (the
/// same `id`, sharing=shared): it leaves `/c/<me>` and waits at most 20 s
/// for `/c/<other>`, then says whether it came. Only stages at once meet.
fn meet(me: &str, other: &str) -> String {
    format!(
        "RUN --mount=type=cache,id=meet,target=/c,sharing=shared \
         touch /c/{me}; echo {me}-waits; i=0; \
         while [ ! -e /c/{other} ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done; \
         test -e /c/{other} && echo {me}-met-{other} > /met\n"
    )
}

/// Two stages that use nothing of each other run at once: each waits in
/// its RUN for the other's file (a build of one after the other would
/// fail); their lines are shown under their names. With --jobs 1 they run
/// one after the other, in file order.
#[test]
fn independent_stages_run_at_once_and_jobs_1_one_after_another() {
    root_or_skip!();
    let env = env_with_img();
    let file = format!(
        "FROM img AS left\n{}FROM img AS right\n{}FROM img\n\
         COPY --from=left /met /left\nCOPY --from=right /met /right\n",
        meet("l", "r"),
        meet("r", "l"),
    );
    let dir = context(&env, "ctx", &[("Containerfile", &file)]);
    let out = build(&env, &dir, &["--jobs", "2", "-t", "met:1"]);
    assert_code(&out, 0, "two stages that wait for each other");
    assert_eq!(
        in_image(&env, "met:1", "cat /left /right"),
        "l-met-r\nr-met-l\n"
    );
    let err = stderr(&out);
    for line in [
        "[left 2/2] l-waits",
        "[right 2/2] r-waits",
        "[stage-2 1/3] FROM img",
    ] {
        assert!(err.lines().any(|l| l == line), "'{line}' in {err}");
    }
    // One at a time: the first stage is done before the second starts.
    let serial = containerfile(&env, "serial", "FROM img AS first\n\
             RUN --mount=type=cache,id=serial,target=/c touch /c/first /1; sleep 1; test ! -e /c/second\n\
             FROM img AS second\n\
             RUN --mount=type=cache,id=serial,target=/c test -e /c/first && touch /c/second /2\n\
             FROM img\nCOPY --from=first /1 /1\nCOPY --from=second /2 /2\n");
    built(&env, &serial, &["--jobs", "1"]);
    let out = build(&env, &dir, &["--jobs", "x"]);
    assert_code(&out, 2, "--jobs x");
    assert_one_line_error(&out, "cc-build");
    assert_no_leaks(&env);
    assert!(env.container_ids().is_empty());
}

/// A stage waits for another only at the step that uses it: the last
/// stage's first RUN meets the RUN of the stage it copies from after.
#[test]
fn a_stage_waits_for_another_only_at_the_step_that_uses_it() {
    root_or_skip!();
    let env = env_with_img();
    let file = format!(
        "FROM img AS tools\n{}FROM img\n{}COPY --from=tools /met /tools\n",
        meet("t", "f"),
        meet("f", "t"),
    );
    let dir = context(&env, "ctx", &[("Containerfile", &file)]);
    let out = build(&env, &dir, &["--jobs", "2", "-t", "early:1"]);
    assert_code(&out, 0, "the last stage's RUN before its COPY --from");
    assert_eq!(
        in_image(&env, "early:1", "cat /met /tools"),
        "f-met-t\nt-met-f\n"
    );
    assert_no_leaks(&env);
}

/// A stage that fails while another runs: the build ends with the failed
/// command's code and output, the other's command is killed (not waited
/// for: it sleeps 600 s) and its container removed, nothing is tagged,
/// nothing is left.
#[test]
fn a_failing_stage_stops_the_others_and_leaves_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let dir = containerfile(
        &env,
        "ctx",
        "FROM img AS slow\n\
             RUN --mount=type=cache,id=x,target=/c touch /c/slow-runs; sleep 600\n\
             FROM img AS bad\n\
             RUN --mount=type=cache,id=x,target=/c i=0; \
             while [ ! -e /c/slow-runs ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done; \
             echo bad-fails; exit 7\n\
             FROM img\nCOPY --from=slow /bin/true /s\nCOPY --from=bad /bin/true /b\n",
    );
    let images = env.ok("cc-images", ["-aq"]);
    let started = std::time::Instant::now();
    let mut cmd = env.cmd("cc-build");
    cmd.args(["--network", "none", "--jobs", "2", "-t", "half:1"])
        .arg(&dir);
    let out = run_timeout(&mut cmd, Duration::from_secs(120));
    assert_code(&out, 7, "the failed command's code");
    assert!(
        started.elapsed() < Duration::from_secs(100),
        "the slow stage was stopped"
    );
    let err = stderr(&out);
    assert!(err.contains("[bad 2/2] bad-fails"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("cc-build: Containerfile:4: RUN: the command exited with 7"),
        "{err}"
    );
    assert_eq!(env.ok("cc-images", ["-aq"]), images, "no image made");
    assert_nothing_left(&env, "half:1");
}

/// SIGTERM to cc-build while two stages run: their commands get it, the
/// build ends with 128 + 15, nothing tagged, nothing left.
#[test]
fn sigterm_stops_every_stage_and_leaves_nothing() {
    root_or_skip!();
    let env = env_with_img();
    let run = "RUN trap 'echo got-term; exit 143' TERM; sleep 600 & wait\n";
    let file = format!(
        "FROM img AS one\n{run}FROM img AS two\n{run}FROM img\n\
         COPY --from=one /bin/true /1\nCOPY --from=two /bin/true /2\n"
    );
    let dir = context(&env, "ctx", &[("Containerfile", &file)]);
    let child = env
        .cmd("cc-build")
        .args(["--network", "none", "--jobs", "0", "-t", "term:1"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(60), "both RUNs", || {
        let running = env.ok("cc-ps", ["-q"]);
        (running.lines().count() == 2).then_some(())
    });
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let out = wait_child_timeout(child, Duration::from_secs(60), "cc-build after SIGTERM");
    assert_code(&out, 143, "cc-build stopped by SIGTERM");
    let err = stderr(&out);
    assert!(
        err.contains("[one 2/2] got-term") && err.contains("[two 2/2] got-term"),
        "{err}"
    );
    assert_nothing_left(&env, "term:1");
}

/// A stage two later stages use is built once (its RUN counts its runs
/// in a cache folder), then both go on from it.
#[test]
fn a_stage_two_stages_use_is_built_once() {
    root_or_skip!();
    let env = env_with_img();
    let dir = containerfile(
        &env,
        "ctx",
        "FROM img AS base\n\
             RUN --mount=type=cache,id=count,target=/c echo run >> /c/runs; echo base > /base\n\
             FROM base AS one\nRUN echo 1 > /one\n\
             FROM base AS two\nRUN echo 2 > /two\n\
             FROM img\n\
             COPY --from=one /base /one /\nCOPY --from=two /two /\n\
             RUN --mount=type=cache,id=count,target=/c cp /c/runs /runs\n",
    );
    let out = build(&env, &dir, &["-t", "once:1"]);
    assert_code(&out, 0, "a stage used twice");
    assert_eq!(
        in_image(&env, "once:1", "cat /runs /base /one /two"),
        "run\nbase\n1\n2\n"
    );
    let err = stderr(&out);
    let base_runs = err
        .lines()
        .filter(|l| l.starts_with("[base 2/2] RUN"))
        .count();
    assert_eq!(base_runs, 1, "{err}");
    assert_no_leaks(&env);
}

/// The issue's multi-stage build: a stage of the host's gcc (copied in:
/// no RUN reaches a network) compiles a small static C program, the final
/// stage FROM scratch keeps only the program, which runs.
#[test]
fn a_stage_compiles_a_static_c_program_with_the_hosts_gcc() {
    root_or_skip!();
    assert!(support::have("gcc") && support::have("strace"));
    let env = env_with_img();
    let c_source = "int write(int, const void *, unsigned long);\n\
                    int main(void) { write(1, \"hello from gcc\\n\", 15); return 0; }\n";
    let dir = context(
        &env,
        "gcc",
        &[
            ("hello.c", c_source),
            (
                "Containerfile",
                "FROM scratch AS toolchain\n\
                 COPY gcc-root/ /\n\
                 FROM toolchain AS build\n\
                 COPY hello.c /src/hello.c\n\
                 RUN [\"gcc\", \"-static\", \"-o\", \"/hello\", \"/src/hello.c\"]\n\
                 FROM scratch\n\
                 COPY --from=build /hello /hello\n\
                 CMD [\"/hello\"]\n",
            ),
        ],
    );
    support::build::host_gcc_root(&dir.join("gcc-root"), &dir.join("hello.c"));
    built(&env, &dir, &["-t", "hello:gcc"]);
    assert_eq!(
        env.ok("cc-run", ["--rm", "--net", "none", "hello:gcc"]),
        "hello from gcc\n"
    );
    // Only the program is in the final image: no gcc, no shell.
    let out = env.run("cc-run", ["--rm", "--net", "none", "hello:gcc", "/bin/sh"]);
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
}
