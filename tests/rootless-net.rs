//! The default network of an ordinary user's containers (issue 21, item
//! 4): the container's own network namespace with pasta attached, started
//! by the monitor and gone with the container. The only traffic is to the
//! host's loopback, which the container reaches at its gateway's address.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use support::{free_port, http_get, root_or_skip, stderr, wait_for, User};

/// The user's pasta processes (pasta names itself `passt…`).
fn stacks_of(user: &User) -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let dir = format!("/proc/{pid}");
            let comm = fs::read_to_string(format!("{dir}/comm")).unwrap_or_default();
            comm.starts_with("passt") && fs::metadata(&dir).is_ok_and(|m| m.uid() == user.uid)
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
/// does not end when the server closes through pasta, so `timeout`).
fn get_from_gateway(port: u16) -> String {
    format!(
        "gw=$(ip route | awk '/^default/ {{print $3}}'); \
         printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 3 nc $gw {port}; true"
    )
}

#[test]
fn the_default_network_reaches_the_hosts_loopback_and_leaves_nothing() {
    root_or_skip!();
    let user = User::new("n");
    user.import_image();
    let port = host_server(1);
    let script = format!(
        "{}; grep -c nameserver /etc/resolv.conf",
        get_from_gateway(port)
    );
    let out = user.ok("cc-run", &["--rm", "img", "sh", "-c", &script]);
    assert!(
        out.contains("200 OK\r\n\r\nhello from the host\n1\n"),
        "{out}"
    );
    assert!(
        stacks_of(&user).is_empty(),
        "pasta is gone with the container"
    );
    assert_eq!(
        support::names_in(&user.runtime.join("cc")),
        ["overlay", "pause.pid", "userns.lock"]
    );
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
    // The host ports are pasta's while the container runs.
    assert!(TcpListener::bind(("0.0.0.0", web)).is_err());
    assert!(UdpSocket::bind(("127.0.0.1", dns)).is_err());
    assert_eq!(stacks_of(&user).len(), 1);

    // Another container of the user reaches it by the host's address.
    let other = user.ok(
        "cc-run",
        &["--rm", "img", "sh", "-c", &get_from_gateway(web)],
    );
    assert!(
        other.contains("200 OK") && other.ends_with("served\n"),
        "{other}"
    );

    user.ok("cc-rm", &["-f", id]);
    assert!(
        stacks_of(&user).is_empty(),
        "pasta is gone with the container"
    );
    assert!(
        TcpListener::bind(("0.0.0.0", web)).is_ok(),
        "port {web} freed"
    );
    assert!(
        UdpSocket::bind(("127.0.0.1", dns)).is_ok(),
        "port {dns} freed"
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

#[test]
fn a_killed_monitors_pasta_goes_with_cc_rm() {
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
    assert_eq!(stacks_of(&user).len(), 1, "pasta runs beside the container");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitors[0]),
        nix::sys::signal::Signal::SIGKILL,
    );
    wait_for(Duration::from_secs(10), "the monitor's end", || {
        support::monitor_pids(id).is_empty().then_some(())
    });
    assert_eq!(stacks_of(&user).len(), 1, "a killed monitor leaves pasta");
    user.ok("cc-rm", &["-f", id]);
    wait_for(Duration::from_secs(10), "pasta's end", || {
        stacks_of(&user).is_empty().then_some(())
    });
    TcpListener::bind(("0.0.0.0", web)).expect("the host port is free again");
}
