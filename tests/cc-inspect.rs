//! cc-inspect: images and containers as JSON, `-f`, unknown objects.

use support::{assert_code, root_or_skip, Env};

fn inspect_one(env: &Env, obj: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&env.ok("cc-inspect", [obj])).expect("a JSON array");
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), 1);
    arr[0].clone()
}

#[test]
fn image_fields() {
    root_or_skip!();
    let env = Env::new();
    let id = env.busybox_image("img");
    let v = inspect_one(&env, "img");
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["RepoTags"], serde_json::json!(["img:latest"]));
    assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
    let layers = v["RootFS"]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert!(layers[0].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["Os"], "linux");
    // Same object by id and by prefix.
    assert_eq!(inspect_one(&env, &id)["Id"], id.as_str());
    assert_eq!(inspect_one(&env, &id[7..17])["Id"], id.as_str());
}

#[test]
fn container_fields() {
    root_or_skip!();
    let env = Env::new();
    let img = env.busybox_image("img");
    let out = env.run("cc-run", ["--name", "ctr", "img", "sh", "-c", "exit 6"]);
    assert_code(&out, 6, "exit 6");
    let v = inspect_one(&env, "ctr");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 6);
    assert_eq!(v["State"]["Running"], false);
    assert_eq!(
        v["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "exit 6"])
    );
    assert_eq!(v["Name"], "ctr");
    assert_eq!(v["Image"], img.as_str());
    let id = v["Id"].as_str().unwrap();
    assert!(support::is_id(id));
    assert_eq!(env.inspect("State.ExitCode", "ctr"), "6");
    assert_eq!(env.inspect("{{.State.ExitCode}}", "ctr"), "6");
    assert_eq!(env.inspect("Name", &id[..8]), "ctr");
}

#[test]
fn several_objects_in_one_array() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-run", ["--name", "ctr", "img", "true"]);
    let v: serde_json::Value = serde_json::from_str(&env.ok("cc-inspect", ["img", "ctr"])).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let out = env.ok("cc-inspect", ["-f", "Id", "img", "ctr"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn type_filter() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("same");
    env.ok("cc-run", ["--name", "same", "same", "true"]);
    let ctr = env.ok("cc-inspect", ["--type", "container", "-f", "Name", "same"]);
    assert_eq!(ctr.trim(), "same");
    let img = env.ok("cc-inspect", ["--type", "image", "-f", "Id", "same"]);
    assert!(img.trim().starts_with("sha256:"), "{img}");
}

#[test]
fn unknown_exits_3() {
    root_or_skip!();
    let env = Env::new();
    let out = env.run("cc-inspect", ["nosuch"]);
    assert_code(&out, 3, "cc-inspect nosuch");
    assert!(support::stderr(&out).starts_with("cc-inspect: "));
    // One found, one missing: the found one is printed, and like every
    // multi-argument command it goes on and exits 1 at the end.
    env.busybox_image("img");
    let out = env.run("cc-inspect", ["-f", "Id", "img", "nosuch"]);
    assert_code(&out, 1, "cc-inspect img nosuch");
    assert!(support::stdout(&out).starts_with("sha256:"));
}

/// The keys of an object, in the order cc-inspect prints them.
fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// A golden check of the docker-shaped JSON: every key of a container
/// and of an image, with a volume, a tmpfs and limits set so the nested
/// objects are filled in.
#[test]
fn docker_shaped_keys() {
    root_or_skip!();
    let env = Env::new();
    env.busybox_image("img");
    let vol = env.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    let volume = format!("{}:/v:ro", vol.display());
    env.ok(
        "cc-run",
        [
            "--name",
            "ctr",
            "--net",
            "none",
            "-v",
            &volume,
            "--tmpfs",
            "/t",
            "--memory",
            "10m",
            "--pids-limit",
            "20",
            "img",
            "true",
        ],
    );
    let v = inspect_one(&env, "ctr");
    assert_eq!(
        keys(&v),
        [
            "Args",
            "Config",
            "Created",
            "GraphDriver",
            "HostConfig",
            "HostnamePath",
            "HostsPath",
            "Id",
            "Image",
            "LogPath",
            "LogSize",
            "Mounts",
            "Name",
            "NetworkSettings",
            "Path",
            "ResolvConfPath",
            "RestartCount",
            "State"
        ]
    );
    assert_eq!(
        keys(&v["State"]),
        [
            "Error",
            "ExitCode",
            "FinishedAt",
            "MonitorPid",
            "OOMKilled",
            "Paused",
            "Pid",
            "Restarting",
            "Running",
            "Signal",
            "StartedAt",
            "Status"
        ]
    );
    assert_eq!(
        keys(&v["Config"]),
        [
            "Cmd",
            "Env",
            "Hostname",
            "Image",
            "Labels",
            "OpenStdin",
            "StopSignal",
            "StopTimeout",
            "Tty",
            "User",
            "WorkingDir"
        ]
    );
    assert_eq!(
        keys(&v["HostConfig"]),
        [
            "AutoRemove",
            "Capabilities",
            "CgroupParent",
            "CpuPeriod",
            "CpuQuota",
            "CpuShares",
            "CpusetCpus",
            "CpusetMems",
            "Devices",
            "ExtraHosts",
            "GroupAdd",
            "LogConfig",
            "MaskedPaths",
            "Memory",
            "MemoryReservation",
            "MemorySwap",
            "NetworkMode",
            "NoNewPrivileges",
            "OomKillDisable",
            "PidsLimit",
            "PortBindings",
            "ReadonlyPaths",
            "ReadonlyRootfs",
            "RestartPolicy",
            "Seccomp",
            "Sysctls",
            "Ulimits"
        ]
    );
    assert_eq!(v["HostConfig"]["Memory"], 10 << 20);
    assert_eq!(v["HostConfig"]["PidsLimit"], 20);
    assert_eq!(v["HostConfig"]["NetworkMode"], "none");
    assert_eq!(
        keys(&v["NetworkSettings"]),
        [
            "Bridge",
            "Gateway",
            "IPAddress",
            "IPPrefixLen",
            "MacAddress",
            "Ports"
        ]
    );
    assert_eq!(keys(&v["GraphDriver"]), ["Data", "Name"]);
    assert_eq!(
        keys(&v["GraphDriver"]["Data"]),
        ["LowerLayers", "MergedDir", "UpperDir", "WorkDir"]
    );
    let mounts = v["Mounts"].as_array().expect("Mounts");
    assert_eq!(
        mounts[..2],
        [
            serde_json::json!({"Destination": "/v", "RW": false,
                               "Source": vol.display().to_string(), "Type": "bind"}),
            serde_json::json!({"Destination": "/t", "RW": true, "Source": "tmpfs", "Type": "tmpfs"}),
        ]
    );
    for m in mounts {
        assert_eq!(keys(m), ["Destination", "RW", "Source", "Type"]);
    }
    let i = inspect_one(&env, "img");
    assert_eq!(
        keys(&i),
        [
            "Architecture",
            "Author",
            "Config",
            "Created",
            "Digest",
            "History",
            "Id",
            "Os",
            "RepoDigests",
            "RepoTags",
            "RootFS",
            "Size"
        ]
    );
    assert_eq!(keys(&i["RootFS"]), ["Layers", "Type"]);
}
