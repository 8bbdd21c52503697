//! What docker users type from habit, run as they type it, with the output
//! a script would parse checked (issue #18): container names, references,
//! what the lifecycle verbs echo.

use support::{assert_code, assert_no_leaks, root_or_skip, stdout, Env};

/// Names made only of hex digits (`cafe`, `c1`, `e2e`, `feed`, `df`) and
/// one-letter names are names like any other.
#[test]
fn hex_looking_names_are_names() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    for name in ["db", "cafe", "feed", "c1", "e2e", "df", "x"] {
        env.ok("cc-run", ["--name", name, "img", "true"]);
        let id = env.inspect("Id", name);
        assert_eq!(id.len(), 64, "{name} resolves to a full id");
        assert_eq!(env.inspect("Name", name).trim_start_matches('/'), name);
    }
    for name in ["-x", "_x", "a/b", "a b", ""] {
        let out = env.run("cc-run", [&format!("--name={name}"), "img", "true"]);
        assert_code(&out, 125, &format!("cc-run --name {name:?}"));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid container name"),
            "{name:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(env.container_ids().len(), 7, "refused names made nothing");
    for name in ["db", "cafe", "feed", "c1", "e2e", "df", "x"] {
        env.ok("cc-rm", [name]);
    }
    assert_no_leaks(&env);
}

/// docker's order: a full id, then an exact name, then a unique id
/// prefix; an ambiguous prefix is an error listing the candidates.
#[test]
fn a_name_wins_over_an_id_prefix_and_a_full_id_over_a_name() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["img", "true"]);
    let first = env.only_container();
    // A container named like the first one's id prefix.
    let prefix = &first[..4];
    env.ok("cc-run", ["--name", prefix, "img", "true"]);
    let named = env.inspect("Id", prefix);
    assert_ne!(named, first, "the name {prefix} means the named container");
    // A container named like the first one's full id: the id wins.
    env.ok("cc-run", ["--name", &first, "img", "true"]);
    assert_eq!(
        env.inspect("Id", &first),
        first,
        "a full id wins over a name"
    );
    // Two ids that share a first digit (at most 17 containers make one):
    // that digit is an ambiguous prefix, and the error lists both.
    let shared = loop {
        let ids = env.container_ids();
        let dup = ids
            .iter()
            .find(|a| ids.iter().filter(|b| b[..1] == a[..1]).count() > 1);
        if let Some(d) = dup {
            break d[..1].to_string();
        }
        env.ok("cc-run", ["img", "true"]);
    };
    let out = env.run("cc-rm", [&shared]);
    assert_code(&out, 1, &format!("cc-rm {shared}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ambiguous"), "{shared}: {err}");
    for id in env
        .container_ids()
        .iter()
        .filter(|i| i.starts_with(&shared))
    {
        assert!(err.contains(&id[..12]), "{id} listed in {err}");
    }
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for id in env.container_ids() {
        env.ok("cc-rm", [&id]);
    }
    assert_no_leaks(&env);
}

/// cc-stop/start/restart/kill/rm print each container as the user named
/// it, as docker does (scripts compare it with what they passed).
#[test]
fn lifecycle_verbs_echo_the_reference_given() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let id = env.run_d(["--name", "web", "img", "sleep", "600"]);
    let prefix = id[..8].to_string();
    let out = env.run("cc-kill", ["-s", "CONT", "web"]);
    assert_eq!(stdout(&out), "web\n");
    let out = env.run("cc-stop", ["-t", "1", &prefix]);
    assert_eq!(stdout(&out), format!("{prefix}\n"));
    let out = env.run("cc-start", ["web"]);
    assert_eq!(stdout(&out), "web\n");
    let out = env.run("cc-restart", ["-t", "1", "web"]);
    assert_eq!(stdout(&out), "web\n");
    let out = env.run("cc-rm", ["-f", &id]);
    assert_eq!(stdout(&out), format!("{id}\n"));
    assert_no_leaks(&env);
}

/// Values attached or apart, `=` forms, combined short flags and docker's
/// long names all mean the same to cc-run.
#[test]
fn option_syntax_as_docker_users_type_it() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "from the host\n").unwrap();
    let vol = format!("-v{}:/b", dir.path().display());
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-eK=V",
            "--env=L=W",
            "-w/tmp",
            vol.as_str(),
            "--network=none",
            "img",
            "sh",
            "-c",
            "echo $K $L; pwd; cat /b/f; ls /sys/class/net",
        ],
    );
    assert_eq!(out, "V W\n/tmp\nfrom the host\nlo\n");
    let id = env.run_d(["-dit", "-m64m", "--memory-swap=-1", "img", "sh"]);
    assert_eq!(env.inspect("HostConfig.Memory", &id), "67108864");
    assert_eq!(env.inspect("Config.Tty", &id), "true");
    assert_eq!(env.inspect("Config.OpenStdin", &id), "true");
    env.ok("cc-rm", ["-f", &id]);
    // A usage error is one line naming the option, exit 125, nothing made.
    for bad in ["-x", "--bogus", "--network"] {
        let out = env.run("cc-run", [bad, "img", "true"]);
        assert_code(&out, 125, bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{bad}: {err}");
        assert!(
            err.starts_with("cc-run: ") && err.contains("--help"),
            "{err}"
        );
    }
    let out = env.run("cc-stop", ["--timeout=1", "--nosuch", "x"]);
    assert_code(&out, 2, "cc-stop --nosuch");
    assert!(env.container_ids().is_empty());
    assert_no_leaks(&env);
}

/// `-p8080:80` and `-p=8080:80` publish as `-p 8080:80` does.
#[test]
fn attached_publish_forms() {
    root_or_skip!();
    let env = support::NetEnv::with_img();
    for form in ["-p{P}:80", "-p={P}:80", "--publish={P}:80"] {
        let port = support::free_port();
        let flag = form.replace("{P}", &port.to_string());
        let id = env.run_d([flag.as_str(), "img", "sleep", "60"]);
        let shown = env.ok("cc-port", [id.as_str(), "80"]);
        assert_eq!(shown.trim(), format!("0.0.0.0:{port}"), "{flag}");
        env.ok("cc-rm", ["-f", &id]);
    }
    assert_no_leaks(&env);
}

/// `HOSTNAME` is in the command's environment as docker sets it: the
/// container's hostname (its short id, or `-h`), after PATH; `-e` wins.
#[test]
fn hostname_is_in_the_environment() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let out = env.ok("cc-run", ["--name", "h1", "img", "env"]);
    let id = env.inspect("Id", "h1");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], format!("HOSTNAME={}", &id[..12]), "{out}");
    let out = env.ok(
        "cc-run",
        ["--rm", "-h", "web", "img", "sh", "-c", "echo $HOSTNAME"],
    );
    assert_eq!(out, "web\n");
    let out = env.ok(
        "cc-run",
        [
            "--rm",
            "-h",
            "web",
            "-e",
            "HOSTNAME=x",
            "img",
            "sh",
            "-c",
            "echo $HOSTNAME",
        ],
    );
    assert_eq!(out, "x\n");
    env.ok("cc-rm", ["h1"]);
}

/// cc-logs takes docker's time forms for --since/--until, -n for --tail,
/// `--tail all` and --details.
#[test]
fn logs_time_forms_tail_and_details() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok(
        "cc-run",
        [
            "--name",
            "lg",
            "img",
            "sh",
            "-c",
            "echo a; sleep 1.2; echo b; sleep 1.2; echo c",
        ],
    );
    let logs = |args: &[&str]| -> String {
        let out = env
            .cmd("cc-logs")
            .env("TZ", "UTC")
            .args(args)
            .output()
            .unwrap();
        support::assert_ok(&out, &format!("cc-logs {args:?}"));
        stdout(&out)
    };
    let stamped = logs(&["-t", "lg"]);
    let tb = stamped
        .lines()
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert!(tb.ends_with('Z'), "{stamped}");
    let no_zone = tb.trim_end_matches('Z');
    let no_frac = &tb[..19];
    assert_eq!(logs(&["--since", &tb, "lg"]), "b\nc\n");
    assert_eq!(logs(&["--until", &tb, "lg"]), "a\nb\n");
    assert_eq!(
        logs(&["--since", no_zone, "lg"]),
        "b\nc\n",
        "no zone is local (TZ=UTC)"
    );
    assert_eq!(logs(&["--until", no_frac, "lg"]), "a\n", "{no_frac}");
    let spaced = no_frac.replace('T', " ");
    let unix = env.ok(
        "cc-run",
        ["--rm", "img", "date", "-u", "-d", &spaced, "+%s"],
    );
    let unix = unix.trim();
    assert_eq!(
        logs(&["--since", unix, "--until", &tb, "lg"]),
        "b\n",
        "{unix}"
    );
    assert_eq!(logs(&["--since", "2000-01-01", "lg"]), "a\nb\nc\n");
    assert_eq!(logs(&["--until", "2000-01-01", "lg"]), "");
    assert_eq!(logs(&["--since", "1h30m", "lg"]), "a\nb\nc\n");
    assert_eq!(logs(&["-n", "1", "lg"]), "c\n");
    assert_eq!(logs(&["-n1", "lg"]), "c\n");
    assert_eq!(logs(&["--tail", "all", "lg"]), "a\nb\nc\n");
    assert_eq!(logs(&["--details", "-n", "2", "lg"]), " b\n c\n");
    let out = env.run("cc-logs", ["--since", "yesterday", "lg"]);
    assert_code(&out, 2, "--since yesterday");
    env.ok("cc-rm", ["lg"]);
}

/// `cc-run REF` pulls an image the store lacks (docker's default, `--pull
/// missing`), `--pull never` refuses, `--pull always` pulls again;
/// `repo@sha256:…` runs the image pulled by digest, cc-images shows the
/// digest, cc-rmi of the last tag removes it all.
#[test]
fn run_pulls_missing_images_and_digests_name_them() {
    root_or_skip!();
    let src = Env::new();
    src.busybox_image("bb");
    let reg = support::Registry::start();
    let r = reg.at("parity/bb:v1");
    src.ok("cc-push", ["bb", &r]);
    let env = Env::new();
    let run = |pull: &str, args: &[&str]| {
        env.cmd("cc-run")
            .env("CC_PULL", pull)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run("never", &["--rm", &r, "true"]);
    assert_code(&out, 125, "--pull never of a missing image");
    assert!(
        support::stderr(&out).contains("not found"),
        "{}",
        support::stderr(&out)
    );
    let out = run("missing", &["--rm", &r, "echo", "pulled"]);
    assert_eq!(stdout(&out), "pulled\n", "{}", support::stderr(&out));
    assert!(support::stderr(&out).contains(&format!("Unable to find image '{r}' locally")));
    // Now there: no pull (the registry could be gone).
    let out = env.run("cc-run", ["--pull", "missing", "--rm", &r, "true"]);
    support::assert_ok(&out, "second run");
    assert!(!support::stderr(&out).contains("Unable to find"));
    let out = env.run("cc-run", ["--pull=always", "--rm", &r, "true"]);
    support::assert_ok(&out, "--pull=always");
    // The repo digest: cc-images --digests, cc-inspect, and run by it.
    let table = env.ok("cc-images", ["--digests"]);
    let row = table
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(&row[..2], [reg.at("parity/bb").as_str(), "v1"], "{table}");
    let digest = row[2].to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{table}"
    );
    let by_digest = format!("{}@{digest}", reg.at("parity/bb"));
    let repo_digests = env.inspect("RepoDigests", &r);
    assert!(repo_digests.contains(&by_digest), "{repo_digests}");
    assert_eq!(
        env.ok("cc-run", ["--rm", &by_digest, "echo", "by digest"]),
        "by digest\n"
    );
    // Pulled by digest alone, into a fresh store: named by it, tag <none>.
    let fresh = Env::new();
    fresh.ok("cc-pull", [&by_digest]);
    let table = fresh.ok("cc-images", [] as [&str; 0]);
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..2],
        [reg.at("parity/bb").as_str(), "<none>"],
        "{table}"
    );
    assert_eq!(
        fresh.ok("cc-run", ["--rm", &by_digest, "echo", "ok"]),
        "ok\n"
    );
    // The last tag takes the repo digest with it.
    let out = env.ok("cc-rmi", [&r]);
    assert!(out.contains(&format!("Untagged: {by_digest}")), "{out}");
    assert!(out.contains("Deleted: "), "{out}");
    assert_eq!(env.ok("cc-images", ["-q"]), "");
    // A platform the image does not have: exit 3, naming what it has.
    let out = fresh.run("cc-pull", ["--platform", "linux/arm64", &r]);
    assert_code(&out, 3, "cc-pull --platform linux/arm64");
    let err = support::stderr(&out);
    assert!(
        err.contains("linux/arm64") && err.contains("linux/amd64"),
        "{err}"
    );
}

/// cc-ps as docker users script it: newest first, a PORTS column,
/// `--filter`s, `-l`, `-n`, `-q` with filters, `--no-trunc`.
#[test]
fn ps_filters_order_and_columns() {
    root_or_skip!();
    let env = support::NetEnv::with_img();
    env.busybox_image("other");
    let out = env.run(
        "cc-run",
        [
            "--name", "old", "-l", "tier=db", "img", "sh", "-c", "exit 3",
        ],
    );
    assert_code(&out, 3, "the command's own code");
    env.ok(
        "cc-run",
        ["--name", "mid", "--net", "none", "other", "true"],
    );
    let port = support::free_port();
    let p = format!("127.0.0.1:{port}:80");
    env.run_d([
        "--name", "new", "-p", &p, "-l", "tier=web", "img", "sleep", "60",
    ]);
    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        env.ok("cc-ps", full)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["Names"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(names(&["-a"]), ["new", "mid", "old"], "newest first");
    assert_eq!(names(&[]), ["new"]);
    let table = env.ok("cc-ps", [] as [&str; 0]);
    let head = support::table_header(&table);
    assert_eq!(head, support::PS_HEADER);
    assert!(
        table.contains(&format!("127.0.0.1:{port}->80/tcp")),
        "{table}"
    );
    assert_eq!(names(&["-f", "status=exited"]), ["mid", "old"]);
    assert_eq!(names(&["--filter", "exited=3"]), ["old"]);
    assert_eq!(names(&["-a", "--filter", "label=tier"]), ["new", "old"]);
    assert_eq!(names(&["-a", "--filter=label=tier=db"]), ["old"]);
    assert_eq!(names(&["-a", "-f", "ancestor=other"]), ["mid"]);
    assert_eq!(names(&["-a", "-f", "network=none"]), ["mid"]);
    assert_eq!(names(&["-a", "-f", "before=new"]), ["mid", "old"]);
    assert_eq!(names(&["-a", "-f", "since=old"]), ["new", "mid"]);
    assert_eq!(
        names(&["-a", "-f", "name=mi", "-f", "name=ol"]),
        ["mid", "old"],
        "one key: alternatives"
    );
    assert_eq!(
        names(&["-a", "-f", "label=tier", "-f", "status=running"]),
        ["new"],
        "two keys: both"
    );
    assert_eq!(names(&["-l"]), ["new"]);
    assert_eq!(names(&["-n", "2"]), ["new", "mid"]);
    let q = env.ok("cc-ps", ["-aq", "--filter", "status=exited", "--no-trunc"]);
    let ids: Vec<&str> = q.lines().collect();
    assert_eq!(ids, [env.inspect("Id", "mid"), env.inspect("Id", "old")]);
    let out = env.run("cc-ps", ["--filter", "colour=red"]);
    assert_code(&out, 2, "unknown filter");
    let out = env.run("cc-ps", ["--filter", "status=sleepy"]);
    assert_code(&out, 2, "unknown status");
    let out = env.run("cc-ps", ["--filter", "ancestor=nosuch"]);
    assert_code(&out, 3, "unknown image");
    for n in ["new", "mid", "old"] {
        env.ok("cc-rm", ["-f", n]);
    }
    assert_no_leaks(&env);
}

/// cc-images as docker users script it: newest first and `--filter`s.
#[test]
fn images_filters_and_order() {
    root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("r");
    let imp = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.insert(all.len() - 1, dir.to_str().unwrap());
        env.ok("cc-import", all).trim().to_string()
    };
    // Distinct configs (the label), so distinct images, one second apart:
    // docker's created times have a second's resolution in tables.
    let old = imp(&["-c", "LABEL tier=db", "app:old"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new = imp(&["-c", "LABEL tier=web", "app:new"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // No name: dangling, docker's `<none> <none>`.
    let dangling = env.ok("cc-import", ["-c", "LABEL x=1", dir.to_str().unwrap()]);
    let dangling = dangling.trim();
    let rows = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        env.ok("cc-images", full)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{}:{}",
                    v["Repository"].as_str().unwrap(),
                    v["Tag"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        rows(&[]),
        ["<none>:<none>", "app:new", "app:old"],
        "newest first"
    );
    assert_eq!(rows(&["-a"]), ["<none>:<none>", "app:new", "app:old"]);
    assert_eq!(rows(&["--filter", "label=tier=db"]), ["app:old"]);
    assert_eq!(rows(&["-f", "label=tier"]), ["app:new", "app:old"]);
    assert_eq!(rows(&["-f", "reference=app:n*"]), ["app:new"]);
    assert_eq!(rows(&["-f", "reference=ap*"]), ["app:new", "app:old"]);
    assert_eq!(rows(&["-f", "before=app:new"]), ["app:old"]);
    assert_eq!(rows(&["-f", "since=app:old"]), ["<none>:<none>", "app:new"]);
    assert_eq!(rows(&["-f", "dangling=false"]), ["app:new", "app:old"]);
    assert_eq!(rows(&["-f", "dangling=true"]), ["<none>:<none>"]);
    let q = env.ok("cc-images", ["-q", "--no-trunc", "-f", "dangling=true"]);
    assert_eq!(q.trim(), dangling);
    let out = env.run("cc-images", ["-f", "colour=red"]);
    assert_code(&out, 2, "unknown filter");
    let out = env.run("cc-images", ["-f", "dangling=maybe"]);
    assert_code(&out, 2, "dangling=maybe");
    assert!(old != new);
}
