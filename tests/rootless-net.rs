//! The default network of an ordinary user's containers (issue 21, item
//! 4): the container's own network namespace with slirp4netns attached,
//! started by the monitor and gone with the container. The only traffic is
//! to the host's loopback, which a container reaches at its gateway's
//! address (10.0.2.2) only when asked for
//! (`--net slirp4netns:allow_host_loopback=true`, podman's words).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use support::{free_port, http_get, root_or_skip, stderr, wait_for, User};

/// The user's slirp4netns processes.
fn stacks_of(user: &User) -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let dir = format!("/proc/{pid}");
            let comm = fs::read_to_string(format!("{dir}/comm")).unwrap_or_default();
            comm.trim() == "slirp4netns" && fs::metadata(&dir).is_ok_and(|m| m.uid() == user.uid)
        })
        .collect()
}

/// An HTTP server on the host's 127.0.0.1 answering `hello from the
/// host` to each of `n` connections.
fn host_server(n: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(n) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nhello from the host\n");
        }
    });
    port
}

/// The container's script that GETs `http://GATEWAY:PORT/` and prints
/// the response (busybox nc: the static busybox's wget cannot resolve; nc
/// may not end when the server closes through the stack, so `timeout`).
fn get_from_gateway(port: u16) -> String {
    format!(
        "gw=$(ip route | awk '/^default/ {{print $3}}'); \
         printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 3 nc $gw {port}; true"
    )
}

#[test]
fn the_hosts_loopback_is_reached_only_when_asked_and_nothing_is_left() {
    root_or_skip!();
    let user = User::new("n");
    user.import_image();
    let port = host_server(1);
    let script = format!(
        "ip -4 -o addr show tap0 | awk '{{print $4}}'; ip route | grep default; {}",
        get_from_gateway(port)
    );
    // By default a service on the host's 127.0.0.1 only stays closed to
    // the image, as with podman and rootless docker.
    let out = user.ok("cc-run", &["--rm", "img", "sh", "-c", &script]);
    assert!(
        out.starts_with("10.0.2.100/24\ndefault via 10.0.2.2 dev tap0"),
        "{out}"
    );
    assert!(!out.contains("hello from the host"), "{out}");
    let open = "slirp4netns:allow_host_loopback=true";
    let out = user.ok(
        "cc-run",
        &["--rm", "--net", open, "img", "sh", "-c", &script],
    );
    assert!(out.contains("200 OK\r\n\r\nhello from the host\n"), "{out}");
    // An option cc does not have, and root asking for a user's stack.
    let out = user.run(
        "cc-run",
        &["--rm", "--net", "slirp4netns:mtu=1500", "img", "true"],
    );
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("slirp4netns option 'mtu=1500'"),
        "{}",
        stderr(&out)
    );
    let root = support::env_with_img();
    let out = root.run("cc-run", ["--rm", "--net", "slirp4netns", "img", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an ordinary user's network"),
        "{}",
        stderr(&out)
    );
    // Without published ports the monitor reaps it just after cc-run has
    // its answer (the kernel's teardown of its tap takes some 20 ms).
    wait_for(Duration::from_secs(5), "slirp4netns's end", || {
        stacks_of(&user).is_empty().then_some(())
    });
    assert_eq!(
        support::names_in(&user.runtime.join("cc")),
        ["overlay", "pause.pid", "userns.lock"]
    );
}

/// The container's resolv.conf: slirp4netns's name server first (it
/// forwards to the host's first), then the host's that are not on its
/// loopback; `--dns` replaces them. Only the file is read: a query would
/// leave the machine.
#[test]
fn dns_is_the_stacks_then_the_hosts() {
    root_or_skip!();
    let user = User::new("d");
    user.import_image();
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let servers = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("nameserver "))
            .map(|a| a.trim().to_string())
            .collect()
    };
    let mut want = vec!["10.0.2.3".to_string()];
    want.extend(
        servers(&host)
            .into_iter()
            .filter(|a| !a.starts_with("127.") && a != "::1"),
    );
    let seen = user.ok("cc-run", &["--rm", "img", "cat", "/etc/resolv.conf"]);
    assert_eq!(servers(&seen), want, "{seen}");
    let hosts = user.ok(
        "cc-run",
        &[
            "--rm",
            "--add-host",
            "h:host-gateway",
            "img",
            "cat",
            "/etc/hosts",
        ],
    );
    assert!(hosts.contains("10.0.2.100\t"), "its own address: {hosts}");
    assert!(hosts.contains("10.0.2.2\th\n"), "host-gateway: {hosts}");
    let given = user.ok(
        "cc-run",
        &[
            "--rm",
            "--dns",
            "10.9.9.9",
            "img",
            "cat",
            "/etc/resolv.conf",
        ],
    );
    assert_eq!(servers(&given), ["10.9.9.9"], "{given}");
}

#[test]
fn published_ports_serve_the_host_and_other_containers() {
    root_or_skip!();
    let user = User::new("p");
    user.import_image();
    let (web, dns) = (free_port(), free_port());
    let id = user.ok(
        "cc-run",
        &[
            "-d",
            "-p",
            &format!("{web}:8080"),
            "-p",
            &format!("127.0.0.1:{dns}:5353/udp"),
            "img",
            "sh",
            "-c",
            "mkdir /w && echo served > /w/index.html && exec httpd -f -p 8080 -h /w",
        ],
    );
    let id = id.trim();
    let url = format!("http://127.0.0.1:{web}/");
    let page = wait_for(Duration::from_secs(10), "the published port", || {
        http_get(None, &url)
    });
    assert!(page.contains("served"), "{page}");
    assert_eq!(
        user.ok("cc-port", &[id]).lines().collect::<Vec<_>>(),
        [
            format!("8080/tcp -> 0.0.0.0:{web}"),
            format!("5353/udp -> 127.0.0.1:{dns}")
        ]
    );
    assert_eq!(
        user.ok("cc-port", &[id, "5353/udp"]).trim(),
        format!("127.0.0.1:{dns}")
    );
    // cc-ps's PORTS and cc-inspect's NetworkSettings, as for root.
    let ps = user.ok("cc-ps", &["--format", "{{.Ports}}"]);
    assert_eq!(
        ps.trim(),
        format!("0.0.0.0:{web}->8080/tcp, 127.0.0.1:{dns}->5353/udp")
    );
    let settings = user.ok("cc-inspect", &["-f", "{{json .NetworkSettings}}", id]);
    let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(
        settings["Ports"],
        serde_json::json!({
            "8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": web.to_string()}],
            "5353/udp": [{"HostIp": "127.0.0.1", "HostPort": dns.to_string()}],
        })
    );
    assert_eq!(settings["IPAddress"], "10.0.2.100", "{settings}");
    assert_eq!(settings["Gateway"], "10.0.2.2", "{settings}");
    // The host ports are slirp4netns's while the container runs; its API
    // socket went once they were added.
    assert!(TcpListener::bind(("0.0.0.0", web)).is_err());
    assert!(UdpSocket::bind(("127.0.0.1", dns)).is_err());
    assert_eq!(stacks_of(&user).len(), 1);
    let dir = user.store().join("containers").join(id);
    assert!(!support::names_in(&dir)
        .iter()
        .any(|n| n.ends_with(".sock") && n != "attach.sock"));

    // Another container of the user reaches it by the host's address
    // (its loopback, opened to that container).
    let other = user.ok(
        "cc-run",
        &[
            "--rm",
            "--net",
            "slirp4netns:allow_host_loopback=true",
            "img",
            "sh",
            "-c",
            &get_from_gateway(web),
        ],
    );
    assert!(
        other.contains("200 OK") && other.ends_with("served\n"),
        "{other}"
    );

    user.ok("cc-rm", &["-f", id]);
    assert!(
        stacks_of(&user).is_empty(),
        "slirp4netns is gone with the container"
    );
    assert!(
        TcpListener::bind(("0.0.0.0", web)).is_ok(),
        "port {web} freed"
    );
    assert!(
        UdpSocket::bind(("127.0.0.1", dns)).is_ok(),
        "port {dns} freed"
    );
    // A foreground container's port is free again when cc-run returns.
    user.ok(
        "cc-run",
        &["--rm", "-p", &format!("{web}:8080"), "img", "true"],
    );
    assert!(
        TcpListener::bind(("0.0.0.0", web)).is_ok(),
        "port {web} freed by the time cc-run returned"
    );
    assert_eq!(
        support::names_in(&user.runtime.join("cc")),
        ["overlay", "pause.pid", "userns.lock"]
    );
}

#[test]
fn a_taken_or_privileged_host_port_is_refused_in_one_line() {
    root_or_skip!();
    let user = User::new("q");
    user.import_image();
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let start = fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap();
    let low = start.trim().parse::<u16>().unwrap().saturating_sub(1);
    let mut cases = vec![(format!("{port}:80"), "in use".to_string())];
    if low > 0 {
        cases.push((format!("{low}:80"), "ip_unprivileged_port_start".into()));
    }
    for (p, words) in cases {
        let out = user.run("cc-run", &["--rm", "-p", &p, "img", "true"]);
        let err = stderr(&out);
        assert_ne!(out.status.code(), Some(0), "{p}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&words), "{p}: {err}");
    }
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
    assert!(stacks_of(&user).is_empty());
}

/// A killed monitor's slirp4netns ends with it (its exit pipe closes,
/// and the container died with its monitor), and cc-rm leaves nothing.
#[test]
fn a_killed_monitors_stack_ends_and_cc_rm_leaves_nothing() {
    root_or_skip!();
    let user = User::new("k");
    user.import_image();
    let web = free_port();
    let id = user.ok(
        "cc-run",
        &["-d", "-p", &format!("{web}:8080"), "img", "sleep", "600"],
    );
    let id = id.trim();
    let monitors = support::monitor_pids(id);
    assert_eq!(monitors.len(), 1, "one monitor: {monitors:?}");
    assert_eq!(
        stacks_of(&user).len(),
        1,
        "slirp4netns runs beside the container"
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitors[0]),
        nix::sys::signal::Signal::SIGKILL,
    );
    wait_for(Duration::from_secs(10), "slirp4netns's end", || {
        stacks_of(&user).is_empty().then_some(())
    });
    TcpListener::bind(("0.0.0.0", web)).expect("the host port is free again");
    let dir = user.store().join("containers").join(id);
    assert!(support::names_in(&dir).contains(&"slirp4netns.pid".to_string()));
    user.ok("cc-rm", &["-f", id]);
    assert!(!dir.exists(), "the container's folder went");
    assert!(user.ok("cc-ps", &["-aq"]).trim().is_empty());
}
