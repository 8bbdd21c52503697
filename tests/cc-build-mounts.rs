//! cc-build's `RUN --mount`: cache folders, binds of the context and of
//! stages, tmpfs, secrets.

use std::fs;

use support::build::{build, built, containerfile, context, in_image};
use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, env_with_img, root_or_skip,
};

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
    let out_of = containerfile(
        &env,
        "out",
        "FROM img\nRUN --mount=type=bind,source=../ctx,target=/x true\n",
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
    let dir = containerfile(&env, "ctx", "FROM img\n\
             RUN --mount=type=secret,id=tok test \"$(cat /run/secrets/tok)\" = s3cret && stat -c '%a %u' /run/secrets/tok > /mode\n\
             RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=7 stat -c '%a %u' /etc/tok > /mode2\n\
             RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent\n");
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
    let req = containerfile(
        &env,
        "req",
        "FROM img\nRUN --mount=type=secret,id=nope,required=true true\n",
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

/// The cache folders' sharing modes with stages at once: `locked` lets
/// one RUN in at a time (each makes `/c/inside` and would fail to while
/// the other is in); `private` gets a fresh empty folder while a `locked`
/// RUN holds it (the two meet in a `shared` folder to be sure of that),
/// and the folder itself once it is free.
#[test]
fn cache_mount_sharing_locked_and_private() {
    root_or_skip!();
    let env = env_with_img();
    let locked = "RUN --mount=type=cache,id=l,target=/c,sharing=locked \
                  mkdir /c/inside && usleep 300000 && rmdir /c/inside\n";
    let file = format!(
        "FROM img AS one\n{locked}FROM img AS two\n{locked}FROM img\n\
         COPY --from=one /bin/true /1\nCOPY --from=two /bin/true /2\n"
    );
    let dir = context(&env, "locked", &[("Containerfile", &file)]);
    built(&env, &dir, &["--jobs", "2"]);
    let wait = |f: &str| {
        format!(
            "i=0; while [ ! -e /m/{f} ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done; \
             test -e /m/{f}"
        )
    };
    // The private RUN mounts its cache only once the holder holds the
    // folder (a RUN of its own waits for that first): it gets a fresh one.
    let meet = "--mount=type=cache,id=meet,target=/m,sharing=shared";
    let file = format!(
        "FROM img AS holder\n\
         RUN {meet} --mount=type=cache,id=p,target=/c,sharing=locked \
         touch /c/held /m/holding && {}\n\
         FROM img AS private\n\
         RUN {meet} {}\n\
         RUN {meet} --mount=type=cache,id=p,target=/c,sharing=private \
         ls /c > /seen; touch /m/done\n\
         FROM img\nCOPY --from=holder /bin/true /1\nCOPY --from=private /seen /seen\n\
         RUN --mount=type=cache,id=p,target=/c,sharing=private ls /c > /later\n",
        wait("done"),
        wait("holding"),
    );
    let dir = context(&env, "private", &[("Containerfile", &file)]);
    let id = built(&env, &dir, &["--jobs", "2"]);
    assert_eq!(
        in_image(&env, &id, "cat /seen; echo -; cat /later"),
        "-\nheld\n"
    );
    assert_no_leaks(&env);
}
