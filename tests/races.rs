//! Programs racing each other on one object: exactly one wins, the others
//! fail cleanly, and nothing is broken for the winner.
//! - cc-rmi against cc-run on one image (issue 15, item 1);
//! - cc-rm of one container from five processes (item 7).

use std::fs;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use support::{
    assert_ok, assert_one_line_error, root_or_skip, stderr, stdout, wait_child_timeout, Env,
};

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn finish(child: Child, what: &str) -> Output {
    wait_child_timeout(child, Duration::from_secs(60), what)
}

/// Who won a round of cc-run against cc-rmi.
enum Winner {
    Run,
    Rmi,
}

/// Starts `cc-run -d --name NAME IMG` and, `lag` later, `cc-rmi IMG`;
/// checks that exactly one of them won, and how the other lost. (cc-run
/// has more to do before it records its image: a little lag makes either
/// order happen. No outcome depends on the time.)
fn race_round(env: &Env, img: &str, name: &str, lag: Duration) -> Winner {
    let mut run = env.cmd("cc-run");
    run.args(["-d", "--name", name, img, "sleep", "1000"]);
    let mut rmi = env.cmd("cc-rmi");
    rmi.arg(img);
    let run = spawn(run);
    std::thread::sleep(lag);
    let rmi = spawn(rmi);
    let (run, rmi) = (finish(run, "cc-run -d"), finish(rmi, "cc-rmi"));
    let said = format!(
        "cc-run: {:?} {} {}\ncc-rmi: {:?} {} {}",
        run.status,
        stdout(&run),
        stderr(&run),
        rmi.status,
        stdout(&rmi),
        stderr(&rmi)
    );
    match (run.status.code(), rmi.status.code()) {
        (Some(0), Some(4)) => {
            assert!(
                stderr(&rmi).contains(name),
                "cc-rmi names the container: {said}"
            );
            assert_one_line_error(&rmi, "cc-rmi");
            Winner::Run
        }
        (Some(125), Some(0)) => {
            assert!(
                stderr(&run).contains("not found"),
                "cc-run says the image is not found: {said}"
            );
            assert_one_line_error(&run, "cc-run");
            Winner::Rmi
        }
        _ => panic!("not exactly one winner:\n{said}"),
    }
}

#[test]
fn rmi_racing_run_on_one_image_never_both_win() {
    root_or_skip!();
    let env = Env::new();
    let (mut runs, mut rmis) = (0, 0);
    for round in 0..20 {
        // An image of its own: a layer no other image shares.
        let img = format!("race{round}");
        let dir = env.busybox_rootfs(&img);
        fs::write(dir.join("round"), round.to_string()).unwrap();
        env.import_dir(&dir, &img);
        let name = format!("ctr{round}");
        let lag = Duration::from_millis(4 * round);
        match race_round(&env, &img, &name, lag) {
            Winner::Run => {
                runs += 1;
                // The container keeps its image's files: it stops, starts
                // again and reads them.
                env.ok("cc-stop", ["-t", "0", &name]);
                env.ok("cc-start", [&name]);
                let out = env.ok("cc-exec", [&name, "cat", "/round"]);
                assert_eq!(out.trim(), round.to_string(), "round {round}");
                env.ok("cc-rm", ["-f", &name]);
            }
            Winner::Rmi => {
                rmis += 1;
                let ps = env.ok("cc-ps", ["-a"]);
                assert!(
                    !ps.contains(&name),
                    "round {round}: a record is left:\n{ps}"
                );
            }
        }
    }
    eprintln!("cc-run won {runs} rounds, cc-rmi {rmis}");
    support::assert_no_leaks(&env);
}

/// Five `cc-rm [-f] NAME` at once: the outputs.
fn five_removals(env: &Env, name: &str, force: bool) -> Vec<Output> {
    let children: Vec<Child> = (0..5)
        .map(|_| {
            let mut c = env.cmd("cc-rm");
            if force {
                c.arg("-f");
            }
            c.arg(name);
            spawn(c)
        })
        .collect();
    children.into_iter().map(|c| finish(c, "cc-rm")).collect()
}

/// Exactly one output reports the removal (the name it was given on
/// stdout, as docker echoes it, exit 0).
fn the_winner<'a>(outs: &'a [Output], name: &str) -> Vec<&'a Output> {
    let (won, lost): (Vec<&Output>, Vec<&Output>) =
        outs.iter().partition(|o| stdout(o).trim() == name);
    assert_eq!(won.len(), 1, "exactly one reports the removal: {outs:#?}");
    assert_ok(won[0], "the winning cc-rm");
    lost
}

#[test]
fn rm_from_five_processes_reports_once_and_the_others_say_not_found() {
    root_or_skip!();
    let env = support::env_with_img();
    for round in 0..5 {
        let name = format!("x{round}");
        env.ok("cc-run", ["--name", &name, "img", "true"]);
        let outs = five_removals(&env, &name, false);
        for o in the_winner(&outs, &name) {
            assert_eq!(o.status.code(), Some(3), "a loser exits 3: {o:?}");
            assert_one_line_error(o, "cc-rm");
            assert!(
                stderr(o).contains("not found"),
                "a loser says not found: {}",
                stderr(o)
            );
            assert!(stdout(o).is_empty());
        }
    }
    support::assert_no_leaks(&env);
}

#[test]
fn rm_force_of_a_running_container_from_five_processes_reports_once() {
    root_or_skip!();
    let env = support::env_with_img();
    for round in 0..3 {
        let name = format!("r{round}");
        env.run_d(["--name", &name, "img", "sleep", "1000"]);
        let outs = five_removals(&env, &name, true);
        // -f: a container that is gone is not an error (as `cc-rm -f
        // missing`), and the losers print nothing.
        for o in the_winner(&outs, &name) {
            assert_ok(o, "a losing cc-rm -f");
            assert!(stdout(o).is_empty(), "a loser reports nothing: {o:?}");
            assert!(stderr(o).is_empty(), "a loser reports nothing: {o:?}");
        }
    }
    support::assert_no_leaks(&env);
}
