//! cc-port: `docker port`'s output for published ports.

use support::*;

#[test]
fn lists_and_filters_mappings() {
    root_or_skip!();
    let env = NetEnv::with_img();
    let port = free_port();
    let id = env.run_d([
        "-p",
        &format!("{port}:80"),
        "-p",
        "127.0.0.1::53/udp",
        "img",
        "sleep",
        "60",
    ]);
    let all = env.ok("cc-port", [id.as_str()]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 2, "{all}");
    assert_eq!(lines[0], format!("80/tcp -> 0.0.0.0:{port}"));
    assert!(lines[1].starts_with("53/udp -> 127.0.0.1:"), "{all}");
    assert_eq!(
        env.ok("cc-port", [id.as_str(), "80"]).trim(),
        format!("0.0.0.0:{port}")
    );
    assert_eq!(
        env.ok("cc-port", [id.as_str(), "80/tcp"]).trim(),
        format!("0.0.0.0:{port}")
    );
    assert!(env
        .ok("cc-port", [id.as_str(), "53/udp"])
        .starts_with("127.0.0.1:"));
    let out = env.run("cc-port", [id.as_str(), "81"]);
    assert_code(&out, 3, "unpublished port");
    assert_one_line_error(&out, "cc-port");
    assert_code(&env.run("cc-port", ["nosuchcontainer"]), 3, "no container");
    // The same in cc-inspect.
    let ports = env.inspect("NetworkSettings.Ports", &id);
    assert!(
        ports.contains(&format!("\"HostPort\":\"{port}\"")),
        "{ports}"
    );
}

#[test]
fn publish_all_uses_exposed_ports() {
    root_or_skip!();
    let env = NetEnv { env: Env::new() };
    let dir = env.busybox_rootfs("exp");
    let out = env.run(
        "cc-import",
        [
            std::ffi::OsStr::new("-c"),
            std::ffi::OsStr::new("EXPOSE 80/tcp 5353/udp"),
            dir.as_os_str(),
            std::ffi::OsStr::new("exp"),
        ],
    );
    assert_ok(&out, "cc-import with EXPOSE");
    let id = env.run_d(["-P", "exp", "sleep", "60"]);
    let all = env.ok("cc-port", [id.as_str()]);
    assert!(
        all.contains("80/tcp -> 0.0.0.0:") && all.contains("5353/udp -> 0.0.0.0:"),
        "{all}"
    );
}

/// `cc-run --rm -p P:80 ...; cc-run --rm -p P:80 ...` in a script: the
/// first has freed the port by the time it returns (its lease on disk
/// stopped naming it, not only its NAT elements), every time.
#[test]
fn a_foreground_rm_run_frees_its_port_before_it_returns() {
    root_or_skip!();
    let env = NetEnv::with_img();
    let port = free_port().to_string();
    for round in 0..20 {
        let out = env.run(
            "cc-run",
            ["--rm", "-p", &format!("{port}:80"), "img", "true"],
        );
        assert_ok(&out, &format!("round {round}: cc-run --rm -p {port}:80"));
    }
    assert_no_leaks(&env);
}
