//! cc-export: a container's filesystem as a tar, and back with cc-import.

use std::process::Stdio;
use std::time::Duration;

use support::{
    assert_no_leaks, assert_ok, env_with_img, root_or_skip, run_timeout, stdout, wait_for,
};

#[test]
fn export_import_round_trip() {
    root_or_skip!();
    let env = env_with_img();
    env.ok(
        "cc-run",
        [
            "--name",
            "ctr",
            "img",
            "sh",
            "-c",
            "echo from-c > /file; rm /bin/ls",
        ],
    );
    // cc-export c | cc-import - copy
    let mut export = env
        .cmd("cc-export")
        .arg("ctr")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut import = env.cmd("cc-import");
    import
        .args(["-", "copy"])
        .stdin(Stdio::from(export.stdout.take().unwrap()));
    let out = run_timeout(&mut import, Duration::from_secs(30));
    assert!(export.wait().unwrap().success(), "cc-export failed");
    assert_ok(&out, "cc-import - copy");
    assert!(
        stdout(&out).trim().starts_with("sha256:"),
        "cc-import printed {:?}",
        stdout(&out)
    );
    assert_eq!(
        env.ok("cc-run", ["--rm", "copy", "cat", "/file"]),
        "from-c\n"
    );
    // A deletion in the container is a deletion in the export.
    let out = env.run("cc-run", ["--rm", "copy", "ls", "/bin/ls"]);
    assert!(!out.status.success(), "/bin/ls came back: {}", stdout(&out));
    env.ok("cc-rm", ["ctr"]);
    assert_no_leaks(&env);
}

#[test]
fn export_of_a_running_container() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["img", "sh", "-c", "echo live > /live; sleep 100"]);
    wait_for(Duration::from_secs(5), "/live", || {
        env.ctr_dir(&id).join("upper/live").exists().then_some(())
    });
    let tar = env.dir.join("c.tar");
    let out = run_timeout(
        env.cmd("cc-export").arg("-o").arg(&tar).arg(&id),
        Duration::from_secs(30),
    );
    assert_ok(&out, "cc-export -o of a running container");
    assert_eq!(stdout(&out), "", "cc-export -o printed to stdout");
    let list = run_timeout(
        std::process::Command::new("tar").arg("-tf").arg(&tar),
        Duration::from_secs(10),
    );
    assert_ok(&list, "tar -tf");
    let names: Vec<String> = stdout(&list)
        .lines()
        .map(|l| l.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect();
    for want in ["live", "bin/busybox", "etc/passwd"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} not in the export: {names:?}"
        );
    }
    let body = run_timeout(
        std::process::Command::new("tar").arg("-xOf").arg(&tar).arg(
            if stdout(&list).lines().any(|l| l == "./live") {
                "./live"
            } else {
                "live"
            },
        ),
        Duration::from_secs(10),
    );
    assert_eq!(stdout(&body), "live\n");
    assert!(env.ps_running(&id), "the export stopped the container");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}
