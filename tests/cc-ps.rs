//! cc-ps: -a, -q, --format json (docker's keys), -s; a record from another boot is never
//! running.

use std::fs;

use support::{json_lines, root_or_skip, Env};

#[test]
fn all_shows_exited_with_code() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let _ = env.run("cc-run", ["--name", "three", "img", "sh", "-c", "exit 3"]);
    env.ok("cc-run", ["--name", "zero", "img", "true"]);
    let out = env.ok("cc-ps", ["-a"]);
    let header = support::table_header(&out);
    assert_eq!(header, support::PS_HEADER);
    let three = out
        .lines()
        .find(|l| l.ends_with("three"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(three.contains("Exited (3)"), "{three}");
    let zero = out.lines().find(|l| l.ends_with("zero")).unwrap();
    assert!(zero.contains("Exited (0)"), "{zero}");
    // Without -a: nothing is running.
    assert_eq!(env.ok("cc-ps", [] as [&str; 0]).lines().count(), 1);
}

#[test]
fn quiet_prints_ids() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["img", "true"]);
    env.ok("cc-run", ["img", "true"]);
    let out = env.ok("cc-ps", ["-aq"]);
    let mut got: Vec<String> = out.lines().map(String::from).collect();
    got.sort();
    let want: Vec<String> = env
        .container_ids()
        .iter()
        .map(|i| i[..12].to_string())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn json_lines_with_fields() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let _ = env.run("cc-run", ["--name", "j", "img", "sh", "-c", "exit 2"]);
    let objs = json_lines(&env.ok("cc-ps", ["-a", "--format", "json"]));
    assert_eq!(objs.len(), 1);
    let o = &objs[0];
    // docker's keys: State is the word, Status the text, ID short.
    assert_eq!(o["Names"], "j");
    assert_eq!(o["State"], "exited");
    assert!(
        o["Status"].as_str().unwrap().starts_with("Exited (2)"),
        "{o}"
    );
    assert_eq!(o["ExitCode"], 2);
    assert_eq!(o["ID"], &env.only_container()[..12]);
    assert_eq!(o["Image"], "img");
    assert_eq!(o["Command"], "\"sh -c exit 2\"");
    assert_eq!(o["Size"], "0B");
}

#[test]
fn record_from_another_boot_is_not_running() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["--name", "old", "img", "true"]);
    let id = env.only_container();
    let state = env.root.join("containers").join(&id).join("state.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    v["status"] = "running".into();
    v["bootId"] = "x".into();
    // A pid that is alive on this boot (ours) must not fool it either.
    v["pid"] = serde_json::json!(std::process::id());
    fs::write(&state, serde_json::to_string(&v).unwrap()).unwrap();
    let running = env.ok("cc-ps", [] as [&str; 0]);
    assert_eq!(running.lines().count(), 1, "shown as running:\n{running}");
    let all = env.ok("cc-ps", ["-a"]);
    let row = all.lines().find(|l| l.ends_with("old")).unwrap();
    assert!(row.contains("Exited"), "{row}");
    assert!(!row.contains("Up"), "{row}");
    let objs = json_lines(&env.ok("cc-ps", ["-a", "--format", "json"]));
    assert_eq!(objs[0]["State"], "exited", "{}", objs[0]);
    assert_eq!(env.inspect("State.Running", "old"), "false");
}

#[test]
fn size_shows_what_the_container_wrote_and_the_virtual_total() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok(
        "cc-run",
        [
            "--name",
            "w",
            "img",
            "sh",
            "-c",
            "head -c 12345 /dev/zero > /f",
        ],
    );
    env.ok("cc-run", ["--name", "n", "img", "true"]);
    let image: u64 = env.inspect("Size", "img").trim().parse().unwrap();
    let json = env.ok("cc-ps", ["-as", "--format", "json"]);
    let rows = json_lines(&json);
    let by = |n: &str| rows.iter().find(|r| r["Names"] == n).expect(n).clone();
    assert_eq!(by("w")["SizeRw"], 12345, "{json}");
    assert_eq!(by("w")["SizeRootFs"], image + 12345, "{json}");
    assert_eq!(by("n")["SizeRw"], 0, "{json}");
    assert_eq!(by("n")["SizeRootFs"], image, "{json}");
    let out = env.ok("cc-ps", ["-a", "--size"]);
    assert_eq!(support::table_header(&out).last(), Some(&"SIZE"), "{out}");
    let size_of = |name: &str| {
        let row = out
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .expect(name);
        row[row.find("\"").unwrap()..]
            .split("  ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .last()
            .unwrap()
            .to_string()
    };
    assert!(size_of("w").starts_with("12.3kB (virtual "), "{out}");
    assert!(size_of("n").starts_with("0B (virtual "), "{out}");
    let plain = env.ok("cc-ps", ["-a"]);
    assert!(!plain.contains("virtual"), "{plain}");
    let json = env.ok("cc-ps", ["-a", "--format", "json"]);
    assert!(!json.contains("SizeRw"), "{json}");
}
