//! `--format` takes docker's Go templates on every program that has it:
//! fields, `json`, `range`, `index`, `if`, `with`, docker's functions, the
//! `table` form with docker's headers, and errors that name the field
//! (exit 1, nothing on stdout). Where podman runs the same template
//! language, its output is the reference.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::{assert_code, assert_one_line_error, root_or_skip, stderr, stdout, Env};

/// A failed template: exit 1, one line naming what failed, no output.
fn assert_template_error(out: &Output, prog: &str, names: &str) {
    assert_code(out, 1, prog);
    assert_one_line_error(out, prog);
    assert!(stderr(out).contains(names), "{prog}: {}", stderr(out));
    assert_eq!(stdout(out), "", "{prog} printed before failing");
}

/// An env with image `img` and an exited container `web` (labels
/// tier=front and a.b=c, a bind of the env's folder at /data).
fn env_with_web() -> (Env, String) {
    let env = Env::new();
    env.busybox_image("img");
    let data = env.dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let bind = format!("{}:/data:ro", data.display());
    env.ok(
        "cc-run",
        [
            "--name",
            "web",
            "-l",
            "tier=front",
            "-l",
            "a.b=c",
            "-e",
            "K=V",
            "-v",
            &bind,
            "img",
            "true",
        ],
    );
    (env, data.display().to_string())
}

#[test]
fn ps_fields_functions_and_label() {
    root_or_skip!();
    let (env, _) = env_with_web();
    let id = env.only_container();
    let f = |t: &str| env.ok("cc-ps", ["-a", "--format", t]);
    assert_eq!(f("{{.Names}}"), "web\n");
    assert_eq!(f("{{.ID}}"), format!("{}\n", &id[..12]));
    assert_eq!(
        env.ok("cc-ps", ["-a", "--no-trunc", "--format", "{{.ID}}"]),
        format!("{id}\n")
    );
    assert_eq!(
        f("{{.State}} {{.Image}} {{.Command}}"),
        "exited img \"true\"\n"
    );
    assert_eq!(
        f(r#"{{.Label "tier"}}/{{.Label "a.b"}}/{{.Label "none"}}"#),
        "front/c/\n"
    );
    assert_eq!(f("{{.Labels}}"), "a.b=c,tier=front\n");
    assert_eq!(f("{{json .Names}}"), "\"web\"\n");
    assert_eq!(
        f("{{upper .Names}} {{title .State}} {{truncate .ID 4}}"),
        format!("WEB Exited {}\n", &id[..4])
    );
    assert_eq!(
        f(r#"{{range split .Labels ","}}[{{.}}]{{end}}"#),
        "[a.b=c][tier=front]\n"
    );
    assert_eq!(f(r#"{{index (split .Labels ",") 1}}"#), "tier=front\n");
    assert_eq!(
        f(r#"{{if eq .State "exited"}}down{{else}}up{{end}}"#),
        "down\n"
    );
    assert_eq!(
        f("{{with .Ports}}p={{.}}{{else}}no ports{{end}}"),
        "no ports\n"
    );
    let mode = env.ok("cc-inspect", ["-f", "{{.HostConfig.NetworkMode}}", "web"]);
    // A template that names .Size has docker compute it.
    let sized = f("{{.ExitCode}} {{.Size}} {{.Networks}}");
    assert!(sized.starts_with("0 0B (virtual "), "{sized}");
    assert!(sized.ends_with(&format!("B) {mode}")), "{sized}");
    assert!(f("{{.Status}}").starts_with("Exited (0) "));
    assert!(f("{{.CreatedAt}}").trim_end().ends_with(" +0000 UTC"));
    assert!(f("{{.Mounts}}").starts_with('/'), "{}", f("{{.Mounts}}"));
    // Backslash-t as two characters is a tab, as docker reads it.
    assert_eq!(f(r"{{.Names}}\t{{.State}}"), "web\texited\n");
}

#[test]
fn ps_table_has_docker_headers_and_alignment() {
    root_or_skip!();
    let (env, _) = env_with_web();
    let out = env.ok(
        "cc-ps",
        [
            "-a",
            "--format",
            r"table {{.Names}}\t{{.State}}\t{{.Label `tier`}}",
        ],
    );
    // docker's tabwriter: columns at least 10 wide, 3 spaces of padding.
    assert_eq!(
        out,
        "NAMES     STATE     LABEL\nweb       exited    front\n"
    );
    let out = env.ok(
        "cc-ps",
        ["-a", "--format", "table {{.ID}}\t{{.RunningFor}}"],
    );
    assert!(out.starts_with("CONTAINER ID   CREATED\n"), "{out}");
    // The word `table` is the default table; an empty store prints its header.
    let empty = Env::new();
    let out = empty.ok("cc-ps", ["--format", "table"]);
    assert_eq!(support::table_header(&out), support::PS_HEADER);
}

#[test]
fn unknown_field_and_bad_template_fail_with_exit_1() {
    root_or_skip!();
    let (env, _) = env_with_web();
    for prog in ["cc-ps", "cc-images"] {
        let mut args = vec!["--format", "{{.Foo}}"];
        if prog == "cc-ps" {
            args.insert(0, "-a");
        }
        let out = env.run(prog, &args);
        assert_template_error(&out, prog, "can't evaluate field Foo");
        assert!(stderr(&out).contains("at <.Foo>"), "{}", stderr(&out));
        let out = env.run(prog, ["--format", "{{.ID"]);
        assert_template_error(&out, prog, "template: :1:");
        let out = env.run(prog, ["--format", "{{nosuch .ID}}"]);
        assert_template_error(&out, prog, "function \"nosuch\" not defined");
    }
    // Also with nothing to list, as docker checks the template first.
    let out = Env::new().run("cc-ps", ["--format", "{{.Nope}}"]);
    assert_template_error(&out, "cc-ps", "can't evaluate field Nope");
    let out = env.run("cc-inspect", ["-f", "{{.State.Nope}}", "web"]);
    assert_template_error(&out, "cc-inspect", "can't evaluate field Nope");
    let out = env.run("cc-history", ["--format", "{{.Bad}}", "img"]);
    assert_template_error(&out, "cc-history", "can't evaluate field Bad");
    let out = env.run("cc-info", ["--format", "{{.Bad}}"]);
    assert_template_error(&out, "cc-info", "can't evaluate field Bad");
    // No changes to list: the template is checked all the same.
    let out = env.run("cc-diff", ["--format", "{{.Bad}}", "web"]);
    assert_template_error(&out, "cc-diff", "can't evaluate field Bad");
    let out = env.run("cc-diff", ["--format", "{{.Bad", "web"]);
    assert_template_error(&out, "cc-diff", "template: :1:");
}

#[test]
fn images_history_info_and_diff() {
    root_or_skip!();
    let (env, _) = env_with_web();
    env.ok("cc-tag", ["img", "img:v2"]);
    let f = |t: &str| env.ok("cc-images", ["--format", t]);
    let mut names: Vec<String> = f("{{.Repository}}:{{.Tag}}")
        .lines()
        .map(String::from)
        .collect();
    names.sort();
    assert_eq!(names, ["img:latest", "img:v2"]);
    assert_eq!(
        f(r#"{{if eq .Tag "v2"}}{{.Size}}{{end}}"#).trim(),
        env.ok("cc-images", ["--format", "{{.VirtualSize}}"])
            .lines()
            .next()
            .unwrap()
    );
    let table = env.ok("cc-images", ["--format", "table"]);
    assert_eq!(
        support::table_header(&table),
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    );
    let t = env.ok(
        "cc-images",
        [
            "--format",
            r"table {{.Repository}}\t{{.Digest}}\t{{.CreatedSince}}",
        ],
    );
    assert!(t.starts_with("REPOSITORY   DIGEST    CREATED\n"), "{t}");

    let h = env.ok(
        "cc-history",
        ["--format", "{{.ID}}|{{.Size}}|{{.Comment}}", "img"],
    );
    assert!(h.lines().count() >= 1 && h.contains('|'), "{h}");
    assert!(env
        .ok("cc-history", ["--format", "table {{.CreatedBy}}", "img"])
        .starts_with("CREATED BY\n"));

    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let info = env.ok(
        "cc-info",
        [
            "--format",
            "{{.KernelVersion}} {{.Containers}} {{.ContainersStopped}}",
        ],
    );
    assert_eq!(info, format!("{} 1 1\n", kernel.trim()));
    let j: serde_json::Value =
        serde_json::from_str(&env.ok("cc-info", ["--format", "{{json .}}"])).unwrap();
    assert_eq!(j["Images"], 1);
    assert!(j["features"].is_array(), "cc's own keys stay: {j}");

    env.ok(
        "cc-run",
        ["--name", "w2", "img", "sh", "-c", "echo x > /new"],
    );
    let plain = env.ok("cc-diff", ["w2"]);
    assert!(plain.contains("A /new"), "{plain}");
    assert_eq!(
        env.ok("cc-diff", ["--format", "{{.Kind}} {{.Path}}", "w2"]),
        plain
    );
    let t = env.ok("cc-diff", ["--format", r"table {{.Kind}}\t{{.Path}}", "w2"]);
    assert!(t.starts_with("KIND      PATH\n"), "{t}");
}

#[test]
fn inspect_templates_over_docker_paths() {
    root_or_skip!();
    let (env, data) = env_with_web();
    let f = |t: &str| env.ok("cc-inspect", ["-f", t, "web"]);
    assert_eq!(f("{{.State.Pid}} {{.State.Status}}"), "0 exited\n");
    assert_eq!(f("{{.Name}}"), "web\n");
    let envs: Vec<String> = serde_json::from_str(f("{{json .Config.Env}}").trim()).unwrap();
    assert!(envs.contains(&"K=V".to_string()), "{envs:?}");
    assert!(
        f("{{range .Mounts}}{{.Source}} {{end}}").contains(&data),
        "{}",
        f("{{range .Mounts}}{{.Source}} {{end}}")
    );
    assert_eq!(f(r#"{{index .Config.Labels "tier"}}"#), "front\n");
    assert_eq!(
        f(r#"{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"#),
        "a.b=c;tier=front;\n"
    );
    // cc's path form keeps working.
    assert_eq!(f("State.Status"), "exited\n");
    // One line per object.
    let two = env.ok("cc-inspect", ["-f", "{{.Id}}", "web", "img"]);
    assert_eq!(two.lines().count(), 2);
}

/// A podman with its own store in the test's folder (vfs: no mounts).
struct Podman(PathBuf);

impl Podman {
    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(self.0.join("root"))
            .arg("--runroot")
            .arg(self.0.join("run"))
            .arg("--tmpdir")
            .arg(self.0.join("tmp"))
            .args(["--storage-driver", "vfs", "--events-backend", "none"])
            .stdin(Stdio::null());
        c
    }
}

#[test]
fn same_output_as_podman_for_the_same_template() {
    root_or_skip!();
    if !support::have("podman") {
        assert!(
            std::env::var("CI").is_err(),
            "podman missing under CI (scripts/test-deps.sh)"
        );
        return;
    }
    let env = Env::new();
    let dir = env.busybox_rootfs("p");
    let tar = env.dir.join("p.tar");
    support::tar_dir(&dir, &tar);
    let pm = Podman(env.base().join("podman"));
    let out = pm
        .cmd()
        .args(["import", "-q", tar.to_str().unwrap(), "localhost/p:v1"])
        .output()
        .unwrap();
    support::assert_ok(&out, "podman import");
    env.ok("cc-import", [tar.to_str().unwrap(), "localhost/p:v1"]);
    let templates = [
        "{{.Repository}}:{{.Tag}}",
        "{{.Tag | upper}} {{title .Tag}} {{lower \"AB\"}}",
        r#"{{join (split .Repository "/") "|"}} {{truncate .Repository 5}}"#,
        r#"{{range $i, $p := split .Repository "/"}}{{$i}}={{$p}} {{end}}"#,
        r#"{{if eq .Tag "v1"}}yes{{else}}no{{end}} {{with .Tag}}[{{.}}]{{end}}"#,
        r#"{{printf "%-6s|%3d|%q" .Tag 7 .Tag}} {{len .Tag}} {{json .Tag}}"#,
        r#"{{index (split .Repository "/") 0}}{{println}}x"#,
        r#"{{- /* comment */ -}} {{ .Tag -}} !"#,
    ];
    for t in templates {
        let theirs = pm.cmd().args(["images", "--format", t]).output().unwrap();
        support::assert_ok(&theirs, &format!("podman images --format {t}"));
        let ours = env.ok("cc-images", ["--format", t]);
        assert_eq!(ours, stdout(&theirs), "template {t}");
    }
}
