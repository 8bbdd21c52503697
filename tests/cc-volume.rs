//! Volumes: cc-volume create/ls/inspect/rm/prune, and what cc-run does
//! with them: `-v NAME:/path` makes one on first use and fills it with the
//! image's files, it outlives its containers and is shared by them;
//! anonymous volumes (`-v /path`, an image's VOLUME) go with `cc-rm -v`;
//! `--volumes-from`, `--mount`; one in use cannot be removed; prune; a
//! tmpfs volume; `--userns=auto`; nothing left by a refused run.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, is_id, root_or_skip,
    run_timeout, stderr, stdout, Env,
};

const T: Duration = Duration::from_secs(20);

/// An env with image `img`: busybox, /data/hello (uid 1000, gid 1001,
/// mode 0640), /data/sub/deep, and VOLUME /cache holding /cache/seed.
fn env_with_data() -> Env {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    fs::create_dir_all(dir.join("data/sub")).unwrap();
    fs::write(dir.join("data/hello"), "hello from the image\n").unwrap();
    fs::write(dir.join("data/sub/deep"), "deep\n").unwrap();
    std::os::unix::fs::chown(dir.join("data/hello"), Some(1000), Some(1001)).unwrap();
    fs::set_permissions(dir.join("data/hello"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(dir.join("data"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::create_dir_all(dir.join("cache")).unwrap();
    fs::write(dir.join("cache/seed"), "seed\n").unwrap();
    let args = [
        "-c",
        "CMD [\"sh\"]",
        "-c",
        "VOLUME /cache",
        dir.to_str().unwrap(),
        "img",
    ];
    env.ok("cc-import", args);
    env
}

fn run(env: &Env, args: &[&str]) -> std::process::Output {
    run_timeout(env.cmd("cc-run").args(args), T)
}

/// `cc-run ARGS` succeeds; its stdout.
fn run_ok(env: &Env, args: &[&str]) -> String {
    let out = run(env, args);
    assert_ok(&out, &format!("cc-run {args:?}"));
    stdout(&out)
}

/// Every volume's name.
fn all_volumes(env: &Env) -> Vec<String> {
    env.ok("cc-volume", ["ls", "-q"])
        .lines()
        .map(String::from)
        .collect()
}

/// The named ones (not 64-hex: the image's VOLUME makes anonymous ones).
fn volumes(env: &Env) -> Vec<String> {
    let mut v = all_volumes(env);
    v.retain(|n| !is_id(n));
    v
}

#[test]
fn named_volume_is_filled_from_the_image_survives_rm_and_is_shared() {
    root_or_skip!();
    let env = env_with_data();
    let script = "cat /data/hello /data/sub/deep; stat -c '%u:%g %a' /data/hello /data; \
                  echo kept > /data/new";
    let out = run_ok(
        &env,
        &[
            "--name",
            "one",
            "--net",
            "none",
            "-v",
            "shared:/data",
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(out, "hello from the image\ndeep\n1000:1001 640\n0:0 750\n");
    assert_eq!(volumes(&env), ["shared"]);
    // The volume's folder has the files, owners and modes of the image's.
    let data = env.root.join("volumes/shared/_data");
    let md = fs::metadata(data.join("hello")).unwrap();
    assert_eq!(
        (md.uid(), md.gid(), md.mode() & 0o7777),
        (1000, 1001, 0o640)
    );
    env.ok("cc-rm", ["-v", "one"]);
    // Named volumes outlive their containers, even with -v.
    assert_eq!(volumes(&env), ["shared"]);
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "-v",
            "shared:/data",
            "img",
            "cat",
            "/data/new",
        ],
    );
    assert_eq!(out, "kept\n");
    // Two containers at once see one folder.
    let a = env.run_d(["--net", "none", "-v", "shared:/data", "img", "sleep", "100"]);
    run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "-v",
            "shared:/srv",
            "img",
            "sh",
            "-c",
            "echo both > /srv/both",
        ],
    );
    let seen = env.ok("cc-exec", [a.as_str(), "cat", "/data/both"]);
    assert_eq!(seen, "both\n");
    // A volume that is not empty is not filled again.
    fs::remove_file(data.join("hello")).unwrap();
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "-v",
            "shared:/data",
            "img",
            "ls",
            "/data",
        ],
    );
    assert!(!out.contains("hello"), "{out}");
    // cc-inspect and cc-ps know the container's volume.
    let mounts = env.ok("cc-inspect", ["-f", "{{json .Mounts}}", &a]);
    let m: serde_json::Value = serde_json::from_str(&mounts).unwrap();
    let vol = m
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/data")
        .unwrap_or_else(|| panic!("{mounts}"));
    assert_eq!(vol["Type"], "volume", "{mounts}");
    assert_eq!(vol["Name"], "shared", "{mounts}");
    assert_eq!(vol["Source"], data.to_str().unwrap(), "{mounts}");
    assert_eq!(vol["RW"], true, "{mounts}");
    let ps = env.ok("cc-ps", ["-q", "--no-trunc", "--filter", "volume=shared"]);
    assert_eq!(ps.trim(), a);
    let ps = env.ok(
        "cc-ps",
        [
            "--filter",
            "volume=shared",
            "--format",
            "{{.LocalVolumes}} {{.Mounts}}",
        ],
    );
    assert!(
        ps.starts_with("2 shared,") || ps.ends_with(",shared\n"),
        "{ps}"
    );
    env.ok("cc-rm", ["-fv", &a]);
    env.ok("cc-volume", ["rm", "shared"]);
    assert!(volumes(&env).is_empty());
    let events = env.ok(
        "cc-events",
        ["--since", "1h", "--until", "0s", "--filter", "type=volume"],
    );
    assert!(
        events.contains("volume create shared (driver=local)"),
        "{events}"
    );
    assert!(
        events.contains("volume destroy shared (driver=local)"),
        "{events}"
    );
    assert_no_leaks(&env);
}

#[test]
fn image_volumes_are_anonymous_and_go_with_rm_v() {
    root_or_skip!();
    let env = env_with_data();
    let out = run_ok(
        &env,
        &[
            "--name",
            "c",
            "--net",
            "none",
            "-v",
            "/scratch",
            "img",
            "cat",
            "/cache/seed",
        ],
    );
    assert_eq!(out, "seed\n");
    let anon = all_volumes(&env);
    assert_eq!(anon.len(), 2, "{anon:?}");
    assert!(anon.iter().all(|v| is_id(v)), "{anon:?}");
    let json = env.ok("cc-volume", ["inspect", &anon[0]]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["Labels"]["com.docker.volume.anonymous"], "", "{json}");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(v[0]["Scope"], "local");
    // Plain cc-rm keeps them; -v would have taken them.
    run_ok(&env, &["--name", "d", "--net", "none", "img", "true"]);
    assert_eq!(all_volumes(&env).len(), 3);
    env.ok("cc-rm", ["-v", "c"]);
    assert_eq!(all_volumes(&env).len(), 1);
    env.ok("cc-rm", ["d"]);
    assert_eq!(all_volumes(&env).len(), 1);
    // A container that cannot start leaves no volume behind either.
    let out = run(
        &env,
        &["--net", "none", "-v", "/x", "img", "/no/such/program"],
    );
    assert_code(&out, 127, "a missing program");
    assert_eq!(all_volumes(&env).len(), 1);
    // `--rm` takes its anonymous volumes along, as docker's.
    run_ok(&env, &["--rm", "--net", "none", "img", "true"]);
    assert_eq!(all_volumes(&env).len(), 1);
    env.ok("cc-volume", ["prune", "-f"]);
    assert!(all_volumes(&env).is_empty());
    assert_no_leaks(&env);
}

#[test]
fn volumes_from_and_mount_forms() {
    root_or_skip!();
    let env = env_with_data();
    let host = env.dir.join("hostdir");
    fs::create_dir_all(&host).unwrap();
    fs::write(host.join("f"), "host file\n").unwrap();
    let bind = format!("type=bind,source={},target=/h,readonly", host.display());
    let script =
        "cat /data/hello /h/f; grep ' /t ' /proc/mounts; touch /h/x 2>/dev/null || echo ro";
    let out = run_ok(
        &env,
        &[
            "--name",
            "src",
            "--net",
            "none",
            "--mount",
            "type=volume,src=mvol,dst=/data",
            "--mount",
            "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
            "--mount",
            &bind,
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert!(
        out.starts_with("hello from the image\nhost file\ntmpfs /t tmpfs"),
        "{out}"
    );
    assert!(
        out.contains("size=1024k") && out.contains("mode=1770"),
        "{out}"
    );
    assert!(out.ends_with("ro\n"), "{out}");
    // volume-nocopy: an empty volume stays empty.
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "--mount",
            "src=empty,target=/data,volume-nocopy",
            "img",
            "ls",
            "/data",
        ],
    );
    assert_eq!(out, "");
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "-v",
            "empty2:/data:nocopy",
            "img",
            "ls",
            "/data",
        ],
    );
    assert_eq!(out, "");
    // --volumes-from: the volumes and binds of src, read-only with :ro.
    let script =
        "cat /data/hello /h/f; touch /data/y 2>/dev/null || echo ro; grep -c ' /t ' /proc/mounts";
    let out = run(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "--volumes-from",
            "src:ro",
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(stdout(&out), "hello from the image\nhost file\nro\n0\n");
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "--volumes-from",
            "src",
            "img",
            "sh",
            "-c",
            "touch /data/y && echo rw",
        ],
    );
    assert_eq!(out, "rw\n");
    // docker's keys only, each for its type; one refusal makes nothing.
    for bad in [
        "type=volume,src=v9,dst=/x,bogus=1",
        "type=bind,src=/tmp,dst=/x,volume-nocopy",
        "type=tmpfs,src=x,dst=/x",
        "type=volume,src=v9",
        "type=nfs,dst=/x",
    ] {
        let out = run(
            &env,
            &[
                "--net", "none", "-v", "v8:/y", "--mount", bad, "img", "true",
            ],
        );
        assert_code(&out, 125, bad);
        assert_one_line_error(&out, "cc-run");
    }
    let out = run(
        &env,
        &["--net", "none", "-v", "v8:/x", "-v", "v9:/x", "img", "true"],
    );
    assert_code(&out, 125, "one mount point twice");
    assert!(
        stderr(&out).contains("duplicate mount point"),
        "{}",
        stderr(&out)
    );
    // A volume made before a later mount fails goes again.
    let out = run(
        &env,
        &[
            "--net",
            "none",
            "-v",
            "v7:/x",
            "-v",
            "/no/such/dir:/y",
            "img",
            "true",
        ],
    );
    assert_code(&out, 125, "a bind of a missing folder");
    assert!(stderr(&out).contains("/no/such/dir"), "{}", stderr(&out));
    let vols = volumes(&env);
    assert!(
        !vols.iter().any(|v| v == "v7" || v == "v8" || v == "v9"),
        "{vols:?}"
    );
    env.ok("cc-rm", ["-v", "src"]);
    env.ok("cc-volume", ["rm", "mvol", "empty", "empty2"]);
    assert!(volumes(&env).is_empty(), "{:?}", volumes(&env));
    assert_no_leaks(&env);
}

#[test]
fn a_volume_in_use_cannot_be_removed() {
    root_or_skip!();
    let env = env_with_data();
    env.ok(
        "cc-create",
        [
            "--name",
            "holder",
            "--net",
            "none",
            "-v",
            "busy:/data",
            "img",
            "true",
        ],
    );
    for args in [["rm", "busy"], ["rm", "-f"]] {
        let mut args = args.to_vec();
        if args.len() == 2 && args[1] == "-f" {
            args.push("busy");
        }
        let out = env.run("cc-volume", &args);
        assert_code(&out, 4, "in use");
        assert_one_line_error(&out, "cc-volume");
        assert!(stderr(&out).contains("holder"), "{}", stderr(&out));
    }
    // Neither prune -a takes it.
    env.ok("cc-volume", ["prune", "-af"]);
    assert_eq!(volumes(&env), ["busy"]);
    env.ok("cc-rm", ["holder"]);
    // rm -f of a missing volume is no error; of a missing one without -f, 3.
    env.ok("cc-volume", ["rm", "busy"]);
    env.ok("cc-volume", ["rm", "-f", "busy"]);
    assert_code(&env.run("cc-volume", ["rm", "busy"]), 3, "missing");
    assert_no_leaks(&env);
}

#[test]
fn create_ls_inspect_and_prune() {
    root_or_skip!();
    let env = Env::new();
    assert_eq!(
        env.ok("cc-volume", ["create", "--label", "team=a", "alpha"]),
        "alpha\n"
    );
    // docker's create is idempotent.
    assert_eq!(env.ok("cc-volume", ["create", "alpha"]), "alpha\n");
    let anon = env.ok("cc-volume", ["create"]).trim().to_string();
    assert!(is_id(&anon), "{anon}");
    env.ok("cc-volume", ["create", "beta"]);
    let table = env.ok("cc-volume", ["ls"]);
    assert!(table.starts_with("DRIVER    VOLUME NAME\n"), "{table}");
    assert!(table.contains("local     alpha\n"), "{table}");
    let f = env.ok(
        "cc-volume",
        [
            "ls",
            "--filter",
            "label=team=a",
            "--format",
            "{{.Name}} {{.Labels}} {{.Mountpoint}}",
        ],
    );
    let mp = env.root.join("volumes/alpha/_data");
    assert_eq!(f, format!("alpha team=a {}\n", mp.display()));
    let f = env.ok(
        "cc-volume",
        [
            "ls",
            "-q",
            "--filter",
            "name=bet",
            "--filter",
            "dangling=true",
        ],
    );
    assert_eq!(f, "beta\n");
    let j = env.ok("cc-volume", ["inspect", "alpha"]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v[0]["Name"], "alpha");
    assert_eq!(v[0]["Mountpoint"], mp.to_str().unwrap());
    assert_eq!(v[0]["Labels"]["team"], "a");
    assert!(v[0]["Options"].is_null(), "{j}");
    assert!(v[0]["CreatedAt"].as_str().unwrap().contains('T'), "{j}");
    assert_eq!(
        env.ok(
            "cc-volume",
            ["inspect", "-f", "{{.Driver}} {{.Scope}}", "alpha"]
        ),
        "local local\n"
    );
    // Refusals, one line each, nothing made.
    for (args, code) in [
        (vec!["create", "-o", "size=1m", "bad1"], 2),
        (vec!["create", "x"], 2),
        (vec!["create", "a/b"], 2),
        (
            vec!["create", "-o", "type=nfs", "-o", "device=:/x", "bad2"],
            1,
        ),
        (vec!["inspect", "nope"], 3),
        (vec!["ls", "--filter", "bogus=1"], 2),
    ] {
        let out = env.run("cc-volume", &args);
        assert_code(&out, code, &format!("{args:?}"));
        assert_one_line_error(&out, "cc-volume");
    }
    // prune: only the anonymous volumes of containers (a nameless
    // `create` is not one, as docker 23's), with the bytes they held; -a
    // the named ones too.
    env.busybox_image("img");
    let fill = "dd if=/dev/zero of=/x/f bs=1000 count=100 2>/dev/null; wc -c < /x/f";
    let written = run_ok(
        &env,
        &[
            "--name", "c", "--net", "none", "-v", "/x", "img", "sh", "-c", fill,
        ],
    );
    assert_eq!(written.trim(), "100000");
    env.ok("cc-rm", ["c"]);
    let of_c: Vec<String> = all_volumes(&env)
        .into_iter()
        .filter(|v| is_id(v) && *v != anon)
        .collect();
    assert_eq!(of_c.len(), 1, "{of_c:?}");
    // Asked first without -f: only y goes on.
    let out = env.run_stdin("cc-volume", ["prune"], b"n\n");
    assert_ok(&out, "prune answered n");
    assert!(stderr(&out).contains("Are you sure"), "{}", stderr(&out));
    assert_eq!(all_volumes(&env).len(), 4);
    let out = env.ok("cc-volume", ["prune", "-f"]);
    let want = format!("Deleted Volumes:\n{}\n\nTotal reclaimed space: 10", of_c[0]);
    assert!(out.starts_with(&want), "{out}");
    let out = env.ok("cc-volume", ["prune", "-af", "--filter", "label!=team"]);
    assert!(
        out.contains("\nbeta\n") && out.contains(&format!("\n{anon}\n")),
        "{out}"
    );
    assert_eq!(all_volumes(&env), ["alpha"]);
    // cc-prune --volumes: the stopped container first, then its volume.
    run_ok(
        &env,
        &["--name", "d", "--net", "none", "-v", "/y", "img", "true"],
    );
    let out = env.ok("cc-prune", ["-f", "--volumes"]);
    assert!(out.contains("Deleted Volumes:\n"), "{out}");
    assert_eq!(all_volumes(&env), ["alpha"]);
    env.ok("cc-volume", ["rm", "alpha"]);
    assert_no_leaks(&env);
}

#[test]
fn a_tmpfs_volume_is_shared_and_unmounted_when_removed() {
    root_or_skip!();
    let env = env_with_data();
    env.ok(
        "cc-volume",
        [
            "create",
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            "-o",
            "o=size=1m,nosuid",
            "tv",
        ],
    );
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "-v",
            "tv:/t",
            "img",
            "sh",
            "-c",
            "grep ' /t ' /proc/mounts; echo x > /t/x",
        ],
    );
    assert!(
        out.starts_with("tmpfs /t tmpfs") && out.contains("size=1024k"),
        "{out}"
    );
    // The next container sees what the first wrote: one tmpfs.
    let out = run_ok(
        &env,
        &["--rm", "--net", "none", "-v", "tv:/t", "img", "cat", "/t/x"],
    );
    assert_eq!(out, "x\n");
    let j = env.ok("cc-volume", ["inspect", "-f", "{{json .Options}}", "tv"]);
    assert_eq!(
        j.trim(),
        r#"{"device":"tmpfs","o":"size=1m,nosuid","type":"tmpfs"}"#
    );
    env.ok("cc-volume", ["rm", "tv"]);
    assert_no_leaks(&env);
}

#[test]
fn userns_auto_sees_volume_files_as_the_image_has_them() {
    root_or_skip!();
    let env = env_with_data();
    let script = "stat -c '%u:%g' /data/hello /data; touch /data/mine; stat -c %u /data/mine";
    let args = [
        "--rm",
        "--net",
        "none",
        "--userns=auto",
        "-v",
        "uv:/data",
        "img",
        "sh",
        "-c",
        script,
    ];
    assert_eq!(run_ok(&env, &args), "1000:1001\n0:0\n0\n");
    // Stored as the container saw them (idmapped, as its layers): a second
    // container with another range sees the same owners.
    let data = env.root.join("volumes/uv/_data");
    assert_eq!(fs::metadata(data.join("mine")).unwrap().uid(), 0);
    assert_eq!(fs::metadata(data.join("hello")).unwrap().uid(), 1000);
    let a = env.run_d(["--net", "none", "--userns=auto", "img", "sleep", "100"]);
    let script = "stat -c %u:%g /data/mine /data/hello";
    let out = run_ok(
        &env,
        &[
            "--rm",
            "--net",
            "none",
            "--userns=auto",
            "-v",
            "uv:/data",
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(out, "0:0\n1000:1001\n");
    env.ok("cc-rm", ["-f", &a]);
    env.ok("cc-volume", ["rm", "uv"]);
    assert_no_leaks(&env);
}

/// The extended attribute `name` of `path` (`None` without one).
fn xattr(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let p = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: lgetxattr writes at most buf.len() bytes into buf.
    let got =
        unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (got >= 0).then(|| buf[..got as usize].to_vec())
}

#[test]
fn copy_up_keeps_a_files_extended_attributes_and_capabilities() {
    root_or_skip!();
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    fs::create_dir_all(dir.join("data")).unwrap();
    let f = dir.join("data/ping");
    fs::write(&f, "a program\n").unwrap();
    let p = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: setxattr reads the name and the 4-byte value.
    let set = unsafe {
        libc::setxattr(
            p.as_ptr(),
            c"user.origin".as_ptr(),
            b"image".as_ptr().cast(),
            5,
            0,
        )
    };
    assert_eq!(set, 0, "setxattr user.origin");
    let out = run_timeout(
        std::process::Command::new("setcap").args(["cap_net_raw+ep", f.to_str().unwrap()]),
        T,
    );
    assert_ok(&out, "setcap");
    let cap = xattr(&f, "security.capability").expect("setcap's capability");
    env.ok(
        "cc-import",
        ["-c", "CMD [\"sh\"]", dir.to_str().unwrap(), "img"],
    );
    run_ok(
        &env,
        &["--rm", "--net", "none", "-v", "xa:/data", "img", "true"],
    );
    let mp = env.ok("cc-volume", ["inspect", "-f", "{{.Mountpoint}}", "xa"]);
    let copied = std::path::Path::new(mp.trim()).join("ping");
    assert_eq!(fs::read_to_string(&copied).unwrap(), "a program\n");
    assert_eq!(
        xattr(&copied, "user.origin").as_deref(),
        Some(&b"image"[..])
    );
    assert_eq!(xattr(&copied, "security.capability"), Some(cap.clone()));
    // cc-cp keeps a file's capabilities (docker's archive), not user.*.
    let id = env.run_d(["--net", "none", "-v", "xa:/data", "img", "true"]);
    env.wait_code(&id, T);
    let out_dir = env.base().join("out");
    fs::create_dir(&out_dir).unwrap();
    env.ok(
        "cc-cp",
        [&format!("{id}:/data/ping"), out_dir.to_str().unwrap()],
    );
    assert_eq!(
        xattr(&out_dir.join("ping"), "security.capability"),
        Some(cap)
    );
    assert_eq!(xattr(&out_dir.join("ping"), "user.origin"), None);
    env.ok("cc-rm", [&id]);
    env.ok("cc-volume", ["rm", "xa"]);
    assert_no_leaks(&env);
}
