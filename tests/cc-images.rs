//! cc-images: the table, `-q`, `--format json`, the NAME filter, docker's
//! SIZE.

use support::{json_lines, root_or_skip, Env};

#[test]
fn table_with_headers() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("alpha");
    env.ok("cc-tag", ["alpha", "beta:v1"]);
    let out = env.ok("cc-images", [] as [&str; 0]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "one row per name:\n{out}");
    let short = &id[7..19];
    let alpha = rows
        .iter()
        .find(|r| r.starts_with("alpha "))
        .expect("alpha row");
    let cols: Vec<&str> = alpha.split_whitespace().collect();
    assert_eq!(cols[1], "latest");
    assert_eq!(cols[2], short, "IMAGE ID is the 12-character id");
    let beta = rows
        .iter()
        .find(|r| r.starts_with("beta "))
        .expect("beta row");
    assert_eq!(beta.split_whitespace().nth(1), Some("v1"));
}

#[test]
fn empty_store_prints_only_the_header() {
    root_or_skip!();
    let env = Env::new();
    let out = env.ok("cc-images", [] as [&str; 0]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(env.ok("cc-images", ["-q"]), "");
    assert_eq!(env.ok("cc-images", ["--format", "json"]), "");
}

#[test]
fn quiet_prints_short_ids() {
    root_or_skip!();
    let env = Env::new();
    let a = env.busybox_image("a");
    let rootfs = env.busybox_rootfs("b");
    std::fs::write(rootfs.join("etc/b"), "b").unwrap();
    let b = env.import_dir(&rootfs, "b");
    let out = env.ok("cc-images", ["-q"]);
    let mut got: Vec<&str> = out.lines().collect();
    got.sort();
    let mut want = vec![&a[7..19], &b[7..19]];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn json_one_object_per_line() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("alpha");
    env.ok("cc-tag", ["alpha", "alpha:v2"]);
    let out = env.ok("cc-images", ["--format", "json"]);
    let objs = json_lines(&out);
    assert_eq!(objs.len(), 2, "{out}");
    for o in &objs {
        assert_eq!(o["ID"], &id[7..19]);
        assert_eq!(o["Repository"], "alpha");
    }
    let mut tags: Vec<&str> = objs.iter().map(|o| o["Tag"].as_str().unwrap()).collect();
    tags.sort();
    assert_eq!(tags, ["latest", "v2"]);
}

#[test]
fn name_filter() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("alpha");
    env.ok("cc-tag", ["alpha", "beta"]);
    env.ok("cc-tag", ["alpha", "beta:v1"]);
    let out = env.ok("cc-images", ["beta"]);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows.iter().all(|r| r.starts_with("beta ")), "{out}");
    let out = env.ok("cc-images", ["beta:v1"]);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0].split_whitespace().nth(1), Some("v1"));
    let out = env.ok("cc-images", ["nosuch"]);
    assert_eq!(out.lines().count(), 1, "{out}");
}

/// docker's SIZE of a folder's files (moby's pkg/directory, what overlay2
/// reports per layer): every entry but folders, a hardlinked file once.
fn docker_size(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                todo.push(e.path());
            } else if seen.insert(m.ino()) {
                total += m.len();
            }
        }
    }
    total
}

/// `Size` of cc-inspect and the SIZE column of cc-images for `name`.
fn sizes(env: &Env, name: &str) -> (u64, String) {
    let inspected = env.inspect("Size", name).trim().parse().unwrap();
    let table = env.ok("cc-images", [name]);
    let row = table.lines().nth(1).expect("a row").to_string();
    (inspected, row.split_whitespace().last().unwrap().into())
}

#[test]
fn size_is_the_unpacked_files_however_the_image_arrived() {
    root_or_skip!();
    let src = Env::new();
    let dir = src.busybox_rootfs("bb");
    src.import_dir(&dir, "bb");
    let want = docker_size(&dir);
    let tar = src.dir.join("bb.tar");
    src.ok("cc-save", ["-o", tar.to_str().unwrap(), "bb"]);
    let reg = support::Registry::start();
    reg.skopeo_put(&format!("docker-archive:{}", tar.display()), "bb:v1", &[]);
    let loaded = Env::new();
    loaded.ok("cc-load", ["-i", tar.to_str().unwrap()]);
    let pulled = Env::new();
    pulled.ok("cc-pull", [reg.at("bb:v1")]);
    let (size, shown) = sizes(&src, "bb");
    assert_eq!(size, want, "imported");
    for (env, name, how) in [
        (&loaded, "bb".to_string(), "loaded"),
        (&pulled, reg.at("bb:v1"), "pulled"),
    ] {
        assert_eq!(sizes(env, &name), (want, shown.clone()), "{how}");
    }
    // A store from before sizes were recorded: measured once, recorded.
    let records = pulled.root.join("layers/size");
    std::fs::remove_dir_all(&records).unwrap();
    assert_eq!(sizes(&pulled, &reg.at("bb:v1")).0, want, "measured");
    assert_eq!(
        std::fs::read_dir(&records).unwrap().count(),
        1,
        "recorded again"
    );
    // cc-rmi takes the record with the layer.
    pulled.ok("cc-rmi", [reg.at("bb:v1")]);
    assert_eq!(std::fs::read_dir(&records).unwrap().count(), 0);
}
