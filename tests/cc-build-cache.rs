//! cc-build's cache: a step whose inputs did not change is not run
//! again; --no-cache, cc-prune --build-cache, --squash and --layers=false.

use std::fs;

use support::build::{build, built, containerfile, context, in_image, layer_count};
use support::{assert_code, assert_no_leaks, env_with_img, root_or_skip, stderr, stdout, Env};

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
fn squash_squash_all_and_layers_false_make_one_layer() {
    root_or_skip!();
    let env = env_with_img();
    let base = containerfile(&env, "base", "FROM img\nRUN mkdir /keep /gone && echo k > /keep/k && echo g > /gone/g && echo old > /old\n");
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
