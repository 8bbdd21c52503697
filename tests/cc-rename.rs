//! cc-rename: the new name works everywhere at once, the old one is free,
//! a taken or malformed name is refused, and two programs racing for one
//! name never both get it.

use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, root_or_skip, run_timeout,
    stderr,
};

#[test]
fn a_running_container_is_renamed_and_its_old_name_is_free() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["--name", "old", "img", "sleep", "60"]);
    let out = env.run("cc-rename", ["old", "new"]);
    assert_ok(&out, "cc-rename old new");
    assert!(out.stdout.is_empty(), "cc-rename prints nothing");
    assert_eq!(env.inspect("Name", "new"), "new");
    assert_eq!(env.inspect("Id", "new"), id);
    let rows = support::json_lines(&env.ok("cc-ps", ["--format", "json"]));
    assert_eq!(rows[0]["Names"], "new");
    assert_code(&env.run("cc-inspect", ["old"]), 3, "cc-inspect old");
    // The old name is anyone's again.
    env.ok("cc-run", ["--rm", "--name", "old", "img", "true"]);
    env.ok("cc-rm", ["-f", "new"]);
    assert_no_leaks(&env);
}

#[test]
fn a_taken_bad_or_same_name_is_refused() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok("cc-run", ["--name", "a", "img", "true"]);
    env.ok("cc-run", ["--name", "b", "img", "true"]);
    let out = env.run("cc-rename", ["a", "b"]);
    assert_code(&out, 4, "cc-rename to a taken name");
    assert_one_line_error(&out, "cc-rename");
    assert!(
        stderr(&out).contains("'b' is already in use"),
        "{}",
        stderr(&out)
    );
    for bad in ["-x", "a/b", ""] {
        let out = env.run("cc-rename", ["a", "--", bad]);
        assert_code(&out, 2, &format!("cc-rename to '{bad}'"));
        assert_one_line_error(&out, "cc-rename");
    }
    assert_code(&env.run("cc-rename", ["a", "a"]), 2, "cc-rename a a");
    assert_code(&env.run("cc-rename", ["nope", "c"]), 3, "cc-rename nope");
    // Nothing changed.
    assert_eq!(env.inspect("Name", "a"), "a");
    assert_eq!(env.inspect("Name", "b"), "b");
    env.ok("cc-rm", ["a", "b"]);
    assert_no_leaks(&env);
}

#[test]
fn two_programs_racing_for_one_name_never_both_get_it() {
    root_or_skip!();
    let env = support::env_with_img();
    env.ok("cc-run", ["--name", "a", "img", "true"]);
    env.ok("cc-run", ["--name", "b", "img", "true"]);
    for round in 0..5 {
        let want = format!("web{round}");
        let spawn = |from: &str| {
            env.cmd("cc-rename")
                .args([from, want.as_str()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ra, rb) = (spawn("a"), spawn("b"));
        let (oa, ob) = (
            ra.wait_with_output().unwrap(),
            rb.wait_with_output().unwrap(),
        );
        let codes = [oa.status.code(), ob.status.code()];
        assert!(
            codes == [Some(0), Some(4)] || codes == [Some(4), Some(0)],
            "round {round}: {codes:?} {} {}",
            stderr(&oa),
            stderr(&ob)
        );
        let (winner, loser) = if codes[0] == Some(0) {
            ("a", "b")
        } else {
            ("b", "a")
        };
        assert_eq!(env.inspect("Name", &want), want);
        assert_eq!(env.inspect("Name", loser), loser);
        // The winner goes back to its old name for the next round.
        env.ok("cc-rename", [want.as_str(), winner]);
    }
    // A cc-run --name racing a rename to that name: one of them has it.
    let run = env
        .cmd("cc-run")
        .args(["--name", "race", "img", "true"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let renamed = env.run("cc-rename", ["a", "race"]);
    let ran = support::wait_child_timeout(run, Duration::from_secs(20), "cc-run --name race");
    let both = [renamed.status.code(), ran.status.code()];
    assert!(
        both == [Some(0), Some(125)] || both == [Some(4), Some(0)],
        "rename {:?} / run {:?}: {} {}",
        both[0],
        both[1],
        stderr(&renamed),
        stderr(&ran)
    );
    let rows = support::json_lines(&env.ok("cc-ps", ["-a", "--format", "json"]));
    let n = rows.iter().filter(|r| r["Names"] == "race").count();
    assert_eq!(n, 1, "{rows:?}");
    let _ = run_timeout(
        env.cmd("cc-rm").args(["-f", "a", "b", "race"]),
        Duration::from_secs(20),
    );
    assert_no_leaks(&env);
}
