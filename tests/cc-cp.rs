//! cc-cp: docker cp's path rules and owners, running and stopped
//! containers, tar streams, and the two docker cp CVEs: links in the
//! container to host paths (CVE-2019-14271's container that plants
//! programs and links) and a path component swapped for a link to `/`
//! while cc-cp runs (CVE-2018-15664) leave the host untouched.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{
    assert_code, assert_no_leaks, assert_ok, assert_one_line_error, root_or_skip, stdout, Env,
};

fn exec(env: &Env, id: &str, script: &str) -> String {
    env.ok("cc-exec", [id, "sh", "-c", script])
}

#[test]
fn files_and_folders_follow_docker_cps_rules_in_a_running_container() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "sleep", "1000"]);
    let host = env.base().join("h");
    fs::create_dir_all(host.join("dir/sub")).unwrap();
    fs::write(host.join("dir/sub/f"), "deep").unwrap();
    fs::write(host.join("file"), "hello").unwrap();
    std::os::unix::fs::chown(host.join("file"), Some(1234), Some(5678)).unwrap();
    let h = |p: &str| host.join(p).to_str().unwrap().to_string();
    let c = |p: &str| format!("{id}:{p}");

    // A file into an existing folder keeps its name; owner: the container's root.
    env.ok("cc-cp", [&h("file"), &c("/tmp")]);
    assert_eq!(
        exec(&env, &id, "cat /tmp/file; stat -c ' %u:%g' /tmp/file"),
        "hello 0:0\n"
    );
    // -a keeps the owner.
    env.ok("cc-cp", ["-a", &h("file"), &c("/tmp/kept")]);
    assert_eq!(
        exec(&env, &id, "stat -c %u:%g /tmp/kept").trim(),
        "1234:5678"
    );
    // An existing file is replaced.
    fs::write(host.join("file"), "again").unwrap();
    env.ok("cc-cp", [&h("file"), &c("/tmp/kept")]);
    assert_eq!(exec(&env, &id, "cat /tmp/kept"), "again");
    // A folder to a missing name becomes that folder; to an existing one,
    // goes inside it; `SRC/.` puts its contents.
    env.ok("cc-cp", [&h("dir"), &c("/new")]);
    env.ok("cc-cp", [&h("dir"), &c("/new")]);
    env.ok("cc-cp", [&h("dir/."), &c("/tmp")]);
    assert_eq!(
        exec(&env, &id, "cat /new/sub/f /new/dir/sub/f /tmp/sub/f"),
        "deepdeepdeep"
    );

    // Out of the container: owner is the user running cc-cp.
    exec(&env, &id, "echo out > /o; chown 77:88 /o");
    env.ok("cc-cp", [&c("/o"), &h("o")]);
    let m = fs::metadata(host.join("o")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0));
    assert_eq!(fs::read_to_string(host.join("o")).unwrap(), "out\n");
    env.ok("cc-cp", ["-a", &c("/o"), &h("o2")]);
    assert_eq!(fs::metadata(host.join("o2")).unwrap().uid(), 77);
    env.ok("cc-cp", [&c("/new/sub"), &h("")]);
    assert_eq!(fs::read_to_string(host.join("sub/f")).unwrap(), "deep");

    // Bad destinations: one line, the right code, nothing made.
    for (args, code) in [
        (vec![h("file"), c("/missing/x")], 3),
        (vec![h("file"), c("/nodir/")], 3),
        (vec![h("dir"), c("/tmp/kept")], 2),
        (vec![h("file"), c("/tmp/kept/")], 1),
        (vec![c("/nothing"), h("x")], 3),
        (vec![h("file"), h("x")], 2),
        (vec![c("/o"), format!("{id}:/p")], 2),
        (vec![h("file"), "nosuch:/x".into()], 3),
    ] {
        let out = env.run("cc-cp", &args);
        assert_code(&out, code, &format!("cc-cp {args:?}"));
        assert_one_line_error(&out, "cc-cp");
    }
    assert!(!host.join("x").exists());
    assert_eq!(
        exec(&env, &id, "ls -d /missing /nodir 2>&1 | wc -l").trim(),
        "2"
    );
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn a_stopped_container_is_mounted_for_the_copy_and_unmounted_after() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "sh", "-c", "echo made > /made"]);
    env.wait_code(&id, Duration::from_secs(10));
    let host = env.base().join("in");
    fs::write(&host, "put").unwrap();
    env.ok("cc-cp", [host.to_str().unwrap(), &format!("{id}:/put")]);
    let back = env.base().join("back");
    env.ok("cc-cp", [&format!("{id}:/made"), back.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(&back).unwrap(), "made\n");
    assert!(env.mounts().is_empty(), "{:?}", env.mounts());
    // What was put is there when it runs again.
    env.ok("cc-start", [&id]);
    env.wait_code(&id, Duration::from_secs(10));
    let out = env.ok("cc-cp", [&format!("{id}:/put"), "-"]);
    assert!(out.contains("put"), "{out}");
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

#[test]
fn tar_streams_go_out_and_in() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["img", "sleep", "1000"]);
    exec(
        &env,
        &id,
        "mkdir -p /d/e && echo x > /d/e/f && ln -s e/f /d/l",
    );
    let out = env
        .cmd("cc-cp")
        .args([&format!("{id}:/d"), "-"])
        .output()
        .unwrap();
    assert_ok(&out, "cc-cp CTR:/d -");
    let tar = env.base().join("d.tar");
    fs::write(&tar, &out.stdout).unwrap();
    let list = std::process::Command::new("tar")
        .arg("tvf")
        .arg(&tar)
        .output()
        .unwrap();
    let list = stdout(&list);
    for want in ["d/", "d/e/", "d/e/f", "d/l -> e/f"] {
        assert!(list.contains(want), "{want} in\n{list}");
    }
    let tar_in = |dest: &str| {
        let stdin = fs::File::open(&tar).unwrap();
        env.cmd("cc-cp")
            .args(["-", dest])
            .stdin(stdin)
            .output()
            .unwrap()
    };
    exec(&env, &id, "mkdir /into");
    let out = tar_in(&format!("{id}:/into"));
    assert_ok(&out, "cc-cp - CTR:/into");
    assert_eq!(
        exec(&env, &id, "cat /into/d/l; readlink /into/d/l"),
        "x\ne/f\n"
    );
    // Into a file, or a missing folder: refused.
    let out = tar_in(&format!("{id}:/into/d/l"));
    assert_code(&out, 1, "cc-cp - into a file");
    let out = tar_in(&format!("{id}:/none"));
    assert_code(&out, 3, "cc-cp - into a missing folder");
    // A tar whose names climb out is refused.
    let evil = support_tar_with_name("../../escape");
    let out = env.run_stdin("cc-cp", ["-", &format!("{id}:/into")], &evil);
    assert_code(&out, 1, "cc-cp of a climbing tar");
    assert_one_line_error(&out, "cc-cp");
    env.ok("cc-rm", ["-f", &id]);
}

/// A one-entry tar whose name is `name`, written by hand (the tar crate
/// refuses `..`).
fn support_tar_with_name(name: &str) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(b"00000000001");
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    let mut data = [0u8; 512];
    data[0] = b'x';
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn links_follow_only_with_l_and_never_leave_the_container() {
    root_or_skip!();
    let env = support::env_with_img();
    // The host's secret, and a container whose links name host paths.
    let secret_dir = env.base().join("secret");
    fs::create_dir(&secret_dir).unwrap();
    fs::write(secret_dir.join("key"), "host secret").unwrap();
    let sd = secret_dir.to_str().unwrap();
    let id = env.run_d(["img", "sleep", "1000"]);
    exec(
        &env,
        &id,
        &format!(
            "ln -s {sd}/key /key && ln -s {sd} /dirlink && mkdir -p /real && \
             ln -s / /root-link && echo inner > /real/key && \
             for p in /bin/tar /usr/bin/tar /usr/local/bin/cc-cp /usr/bin/cc-cp; do \
               mkdir -p ${{p%/*}} && printf '#!/bin/sh\\ntouch /pwned\\n' > $p && chmod +x $p; done && \
             printf 'passwd: pwn\\ngroup: pwn\\n' > /etc/nsswitch.conf"
        ),
    );
    let out_dir = env.base().join("out");
    fs::create_dir(&out_dir).unwrap();
    let o = |p: &str| out_dir.join(p).to_str().unwrap().to_string();
    // Without -L, the link itself.
    env.ok("cc-cp", [&format!("{id}:/key"), &o("k1")]);
    assert_eq!(
        fs::read_link(out_dir.join("k1")).unwrap(),
        secret_dir.join("key")
    );
    // With -L, what it names inside the container: nothing there.
    let out = env.run("cc-cp", ["-L", &format!("{id}:/key"), &o("k2")]);
    assert_code(&out, 3, "cc-cp -L of a link to a host path");
    assert!(!out_dir.join("k2").exists());
    // Through links in the middle of a path: resolved in the container.
    let out = env.run("cc-cp", [&format!("{id}:/dirlink/key"), &o("k3")]);
    assert_code(&out, 3, "cc-cp through a link to a host folder");
    env.ok(
        "cc-cp",
        ["-a", &format!("{id}:/root-link/real/key"), &o("k4")],
    );
    assert_eq!(fs::read_to_string(out_dir.join("k4")).unwrap(), "inner\n");
    // Writing through them lands in the container (its own copy of the
    // host path), never on the host.
    let new = env.base().join("new");
    fs::write(&new, "planted").unwrap();
    let out = env.run("cc-cp", [new.to_str().unwrap(), &format!("{id}:/dirlink/")]);
    assert_code(&out, 3, "cc-cp into a link to a host folder");
    exec(&env, &id, &format!("mkdir -p {sd}"));
    env.ok(
        "cc-cp",
        ["-a", new.to_str().unwrap(), &format!("{id}:/dirlink/")],
    );
    env.ok("cc-cp", [new.to_str().unwrap(), &format!("{id}:/key")]);
    assert_eq!(exec(&env, &id, &format!("cat {sd}/new")), "planted");
    assert_eq!(fs::read_dir(&secret_dir).unwrap().count(), 1);
    assert_eq!(
        fs::read_to_string(secret_dir.join("key")).unwrap(),
        "host secret"
    );
    // Nothing of the container ran.
    assert_eq!(exec(&env, &id, "ls /pwned 2>/dev/null | wc -l").trim(), "0");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn a_path_swapped_for_a_link_to_root_during_the_copy_never_reaches_the_host() {
    root_or_skip!();
    let env = support::env_with_img();
    // The host's files at a path the container also has (as /w/<path>).
    let target = env.base().join("target");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("secret"), "host secret").unwrap();
    let t = target.to_str().unwrap();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        &format!(
            "mkdir -p /w{t} /w.real && echo inner > /w{t}/secret && \
             while :; do mv /w /w.dir; ln -s / /w; rm /w; mv /w.dir /w; done"
        ),
    ]);
    let host_file = env.base().join("payload");
    fs::write(&host_file, "payload").unwrap();
    let out_dir = env.base().join("out");
    fs::create_dir(&out_dir).unwrap();
    let deadline = Instant::now() + Duration::from_secs(6);
    let (mut copies, mut reads) = (0, 0);
    while Instant::now() < deadline {
        let dest = out_dir.join(format!("s{copies}"));
        let out = env.run(
            "cc-cp",
            [&format!("{id}:/w{t}/secret"), dest.to_str().unwrap()],
        );
        if out.status.success() {
            reads += 1;
            assert_eq!(
                fs::read_to_string(&dest).unwrap(),
                "inner\n",
                "read the host's file"
            );
        }
        let _ = env.run(
            "cc-cp",
            [host_file.to_str().unwrap(), &format!("{id}:/w{t}/")],
        );
        copies += 1;
    }
    assert!(copies > 10 && reads > 0, "{copies} rounds, {reads} reads");
    let left: Vec<_> = fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["secret"], "cc-cp wrote into the host's folder");
    assert_eq!(
        fs::read_to_string(target.join("secret")).unwrap(),
        "host secret"
    );
    assert!(!Path::new("/payload").exists());
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn with_a_user_namespace_files_get_the_containers_mapped_ids() {
    root_or_skip!();
    let env = support::env_with_img();
    let id = env.run_d(["--uidmap", "0:200000:65536", "img", "sleep", "1000"]);
    let host = env.base().join("f");
    fs::write(&host, "mapped").unwrap();
    std::os::unix::fs::chown(&host, Some(1000), Some(1000)).unwrap();
    let f = host.to_str().unwrap();
    env.ok("cc-cp", [f, &format!("{id}:/f")]);
    env.ok("cc-cp", ["-a", f, &format!("{id}:/g")]);
    assert_eq!(exec(&env, &id, "stat -c %u:%g /f /g"), "0:0\n1000:1000\n");
    exec(&env, &id, "echo in > /h; chown 7:7 /h");
    let back = env.base().join("back");
    env.ok("cc-cp", ["-a", &format!("{id}:/h"), back.to_str().unwrap()]);
    assert_eq!(fs::metadata(&back).unwrap().uid(), 7);
    env.ok("cc-stop", ["-t", "0", &id]);
    // Stopped: the same ids, through the overlay mounted for the copy.
    env.ok("cc-cp", ["-a", f, &format!("{id}:/i")]);
    env.ok("cc-cp", ["-a", &format!("{id}:/i"), back.to_str().unwrap()]);
    assert_eq!(fs::metadata(&back).unwrap().uid(), 1000);
    env.ok("cc-rm", [&id]);
    assert_no_leaks(&env);
}

#[test]
fn a_running_containers_bind_mounts_are_followed_as_docker_cp_does() {
    root_or_skip!();
    let env = support::env_with_img();
    let vol = env.base().join("vol");
    fs::create_dir(&vol).unwrap();
    fs::write(vol.join("there"), "from the host").unwrap();
    let id = env.run_d([
        "-v",
        &format!("{}:/data", vol.display()),
        "img",
        "sleep",
        "1000",
    ]);
    let f = env.base().join("f");
    fs::write(&f, "into the bind").unwrap();
    env.ok("cc-cp", [f.to_str().unwrap(), &format!("{id}:/data/")]);
    assert_eq!(fs::read_to_string(vol.join("f")).unwrap(), "into the bind");
    let out = env.ok("cc-cp", [&format!("{id}:/data/there"), "-"]);
    assert!(out.contains("from the host"), "{out}");
    env.ok("cc-rm", ["-f", &id]);
    assert_no_leaks(&env);
}

#[test]
fn a_stopped_containers_volumes_and_binds_are_reached_as_docker_cp_does() {
    root_or_skip!();
    let env = support::env_with_img();
    let bind = env.base().join("bind");
    let outside = env.base().join("outside");
    fs::create_dir(&bind).unwrap();
    fs::create_dir(&outside).unwrap();
    let script = format!(
        "echo named > /n/f; echo anon > /anon/f; ln -s {} /n/esc",
        outside.display()
    );
    let id = env.run_d([
        "-v",
        "cpvol:/n",
        "-v",
        "/anon",
        "-v",
        &format!("{}:/b", bind.display()),
        "-v",
        "cpro:/r:ro",
        "img",
        "sh",
        "-c",
        &script,
    ]);
    env.wait_code(&id, Duration::from_secs(10));
    let named = env.ok("cc-volume", ["inspect", "-f", "{{.Mountpoint}}", "cpvol"]);
    let named = Path::new(named.trim()).to_path_buf();
    let c = |p: &str| format!("{id}:{p}");
    let f = env.base().join("f");
    fs::write(&f, "put").unwrap();
    let f = f.to_str().unwrap();

    // Out of the stopped container: what its volumes hold, not the
    // overlay's folders beneath them.
    assert!(env.ok("cc-cp", [&c("/n/f"), "-"]).contains("named"));
    assert!(env.ok("cc-cp", [&c("/anon/f"), "-"]).contains("anon"));
    // Into it: the named volume, the bind's host folder.
    env.ok("cc-cp", [f, &c("/n/in")]);
    assert_eq!(fs::read_to_string(named.join("in")).unwrap(), "put");
    env.ok("cc-cp", [f, &c("/b/")]);
    assert_eq!(fs::read_to_string(bind.join("f")).unwrap(), "put");
    // What went into the volume is seen by the next container using it.
    let out = env.ok(
        "cc-run",
        [
            "--rm", "--net", "none", "-v", "cpvol:/x", "img", "cat", "/x/in",
        ],
    );
    assert_eq!(out, "put");
    // A read-only volume refuses, as docker's "marked read-only".
    let out = env.run("cc-cp", [f, &c("/r/x")]);
    assert_code(&out, 4, "cc-cp into a read-only volume");
    assert_one_line_error(&out, "cc-cp");
    assert!(
        support::stderr(&out).contains("mounted volume is marked read-only"),
        "{}",
        support::stderr(&out)
    );
    // A link in the volume to a host path resolves inside the container.
    let _ = env.run("cc-cp", [f, &c("/n/esc/f")]);
    assert!(
        !outside.join("f").exists(),
        "a volume's link led to the host"
    );
    assert!(env.mounts().is_empty(), "{:?}", env.mounts());
    env.ok("cc-rm", ["-v", &id]);
    env.ok("cc-volume", ["rm", "cpvol", "cpro"]);
    assert_no_leaks(&env);
}
