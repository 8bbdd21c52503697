//! cc-create: a record that has not run (cc-ps `Created`), started later by
//! cc-start with everything cc-create was told: attached output and exit
//! code, stdin with -i, --rm at the exit; bad input leaves nothing.

use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, is_id, root_or_skip,
    run_timeout, stdout,
};

#[test]
fn a_created_container_waits_for_cc_start() {
    root_or_skip!();
    let env = support::env_with_img();
    let out = env.run(
        "cc-create",
        [
            "--name",
            "later",
            "-e",
            "WHO=world",
            "img",
            "sh",
            "-c",
            "echo hello $WHO; exit 3",
        ],
    );
    assert_ok(&out, "cc-create");
    let id = stdout(&out).trim().to_string();
    assert!(is_id(&id), "cc-create printed {id:?}");
    assert_eq!(env.ps_status(&id), "Created");
    assert_eq!(env.inspect("State.Status", "later"), "created");
    assert_eq!(env.inspect("State.Pid", "later"), "0");
    assert!(!env.ps_running(&id));
    // Nothing ran: the log is empty.
    assert_eq!(stdout(&env.logs(["later"])), "");

    let out = run_timeout(
        env.cmd("cc-start").args(["-a", "later"]),
        Duration::from_secs(20),
    );
    assert_code(&out, 3, "cc-start -a");
    assert_eq!(stdout(&out), "hello world\n");
    assert!(
        env.ps_status(&id).starts_with("Exited (3)"),
        "{}",
        env.ps_status(&id)
    );
    env.ok("cc-rm", ["later"]);
    assert_no_leaks(&env);
}

#[test]
fn stdin_and_rm_are_kept_for_the_start() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.ok("cc-create", ["-i", "--rm", "--name", "cat", "img", "cat"]);
    let id = id.trim();
    assert_eq!(env.ps_status(id), "Created");
    let out = env.run_stdin("cc-start", ["-ai", "cat"], b"piped in\n");
    assert_ok(&out, "cc-start -ai");
    assert_eq!(stdout(&out), "piped in\n");
    // --rm: gone once the command ended.
    support::wait_for(Duration::from_secs(10), "the --rm record to go", || {
        env.container_ids().is_empty().then_some(())
    });
    assert_no_leaks(&env);
}

#[test]
fn a_created_container_starts_detached() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.ok("cc-create", ["img", "sleep", "60"]);
    let id = id.trim();
    assert_eq!(env.ok("cc-start", [id]).trim(), id);
    assert!(env.ps_running(id));
    assert!(env.ps_status(id).starts_with("Up "));
    env.ok("cc-rm", ["-f", id]);
    assert_no_leaks(&env);
}

#[test]
fn bad_input_leaves_nothing() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok("cc-create", ["--name", "taken", "img", "true"]);
    for (args, code) in [
        (vec!["nosuchimage"], 3),
        (vec!["--name", "taken", "img"], 4),
        (vec!["--name", "a/b", "img"], 2),
        (vec!["-d", "img"], 2),
        (vec!["--detach-keys", "ctrl-x", "img"], 2),
        (vec!["--memory", "lots", "img"], 2),
    ] {
        let out = env.run("cc-create", &args);
        assert_code(&out, code, &format!("cc-create {args:?}"));
        assert_one_line_error(&out, "cc-create");
        assert_eq!(stdout(&out), "", "{args:?}");
        assert_eq!(env.container_ids().len(), 1, "{args:?} left a record");
    }
    env.ok("cc-rm", ["taken"]);
    assert_no_leaks(&env);
}
