//! cc-history: newest first, the image id on top, `<missing>` below.

use support::{json_lines, root_or_skip, Env};

fn two_layers(env: &Env) -> String {
    env.busybox_image("bb");
    env.ok(
        "cc-run",
        [
            "--net",
            "none",
            "--name",
            "h",
            "bb",
            "sh",
            "-c",
            "echo x > /x",
        ],
    );
    env.ok("cc-commit", ["-m", "added x", "h", "bb:two"])
        .trim()
        .to_string()
}

#[test]
fn table_newest_first() {
    root_or_skip!();
    let env = Env::new();
    let id = two_layers(&env);
    let out = env.ok("cc-history", ["bb:two"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("IMAGE")
            && lines[0].contains("CREATED BY")
            && lines[0].ends_with("COMMENT")
    );
    assert!(lines[1].starts_with(&id[7..19]), "{out}");
    assert!(
        lines[1].contains("sh -c echo x > /x") && lines[1].ends_with("added x"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("<missing>") && lines[2].contains("cc-import"),
        "{out}"
    );
}

#[test]
fn quiet_and_json() {
    root_or_skip!();
    let env = Env::new();
    let id = two_layers(&env);
    let q = env.ok("cc-history", ["-q", "bb:two"]);
    assert_eq!(q, format!("{}\n<missing>\n", &id[7..19]));
    let j = json_lines(&env.ok("cc-history", ["--format", "json", "bb:two"]));
    assert_eq!(j.len(), 2);
    assert_eq!(j[0]["ID"], &id[7..19]);
    assert_eq!(j[0]["Comment"], "added x");
    assert_eq!(j[1]["ID"], "<missing>");
    assert_ne!(j[0]["Size"], "0B");
}

#[test]
fn unknown_image_is_not_found() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-history", ["nosuch"]);
    support::assert_code(&out, 3, "cc-history nosuch");
}
