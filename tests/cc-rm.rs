//! cc-rm: record, upper dir and name go; -f on missing; several args.

use std::path::Path;

use support::{assert_code, assert_no_leaks, assert_one_line_error, root_or_skip, Env};

#[test]
fn removes_record_upper_and_name() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["--name", "x", "img", "sh", "-c", "echo hi > /f"]);
    let upper = env.inspect("GraphDriver.Data.UpperDir", "x");
    assert!(Path::new(&upper).join("f").exists());
    let out = env.ok("cc-rm", ["x"]);
    assert!(!out.trim().is_empty(), "cc-rm prints what it removed");
    assert!(!Path::new(&upper).exists(), "upper dir left");
    assert_no_leaks(&env);
    // The name can be used again.
    env.ok("cc-run", ["--name", "x", "img", "true"]);
    env.ok("cc-rm", ["x"]);
    assert_no_leaks(&env);
}

#[test]
fn by_id_prefix() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["img", "true"]);
    let id = env.only_container();
    env.ok("cc-rm", [&id[..6]]);
    assert_no_leaks(&env);
}

#[test]
fn force_on_missing_is_ok() {
    root_or_skip!();
    let env = Env::new();
    env.ok("cc-rm", ["-f", "missing"]);
    let out = env.run("cc-rm", ["missing"]);
    assert_code(&out, 3, "cc-rm missing");
    assert_one_line_error(&out, "cc-rm");
}

#[test]
fn several_with_one_missing() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["--name", "first", "img", "true"]);
    env.ok("cc-run", ["--name", "second", "img", "true"]);
    let out = env.run("cc-rm", ["first", "missing", "second"]);
    assert_code(&out, 1, "cc-rm first missing second");
    assert_one_line_error(&out, "cc-rm");
    assert_no_leaks(&env);
}

#[test]
fn ids_from_stdin() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["img", "true"]);
    env.ok("cc-run", ["img", "true"]);
    let ids = env.ok("cc-ps", ["-aq"]);
    let out = env.run_stdin("cc-rm", ["-"], ids.as_bytes());
    support::assert_ok(&out, "cc-ps -aq | cc-rm -");
    assert_no_leaks(&env);
}
