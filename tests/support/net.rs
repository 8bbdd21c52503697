//! Network helpers: a store whose bridge and nft table are removed on
//! drop, "another host" in a namespace of the test's own, free ports, and
//! HTTP and UDP clients and servers on both sides. Traffic stays on
//! loopback and on the links a test made.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::env::{env_with_img, Env};
use crate::output::{stderr, stdout};
use crate::wait::run_timeout;

/// An env whose store network is removed on drop (`cc-net destroy -f`,
/// after its containers): each store has a bridge of its own.
pub struct NetEnv {
    pub env: Env,
}

impl std::ops::Deref for NetEnv {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl NetEnv {
    /// A NetEnv with a busybox image named `img`.
    pub fn with_img() -> NetEnv {
        NetEnv {
            env: env_with_img(),
        }
    }

    /// The store's bridge and subnet, from net/config.json.
    pub fn net_config(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.root.join("net/config.json")).expect("net/config.json");
        serde_json::from_str(&text).unwrap()
    }

    pub fn bridge(&self) -> String {
        self.net_config()["Bridge"].as_str().unwrap().to_string()
    }

    /// The bridge's address (the gateway, one of the host's own).
    pub fn gateway(&self) -> String {
        let subnet = self.net_config()["Subnet"].as_str().unwrap().to_string();
        let base: std::net::Ipv4Addr = subnet.split('/').next().unwrap().parse().unwrap();
        std::net::Ipv4Addr::from(u32::from(base) + 1).to_string()
    }

    /// A container's address, from cc-inspect.
    pub fn ip_of(&self, id: &str) -> String {
        self.inspect("NetworkSettings.IPAddress", id)
    }

    /// cc's nftables table of this store, as nft lists it.
    pub fn nft_table(&self) -> String {
        let out = Command::new("nft")
            .args(["list", "table", "ip", &self.bridge()])
            .output()
            .expect("nft");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Names of the leases (addresses) of this store.
    pub fn leases(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.root.join("net/leases"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for NetEnv {
    fn drop(&mut self) {
        let ids = self.env.container_ids();
        if !ids.is_empty() {
            let _ = self.env.cmd("cc-rm").arg("-f").args(&ids).output();
        }
        let _ = self.env.cmd("cc-net").args(["destroy", "-f"]).output();
    }
}

/// Whether a link of this name exists in the host's namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// The host veth of a container: `cc` and its short id.
pub fn veth_of(id: &str) -> String {
    format!("cc{}", &id[..12])
}

/// A free TCP (and UDP) port on the host, at the time of asking.
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let p = l.local_addr().unwrap().port();
        drop(l);
        if std::net::UdpSocket::bind(("0.0.0.0", p)).is_ok() {
            return p;
        }
    }
}

static PEERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// "Another host": a network namespace of the test's own, joined to the
/// host by a veth pair on a /30 of 172.31.0.0/16. Removed on drop, by its
/// exact names.
pub struct Peer {
    pub ns: String,
    pub host_if: String,
    /// The host's address on the link: what the peer connects to.
    pub host_ip: String,
    pub peer_ip: String,
}

impl Peer {
    // No Default: making a peer adds a namespace and links to the host.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Peer {
        let n = PEERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tag = format!("{}{}", std::process::id() % 100000, n);
        let ns = format!("cctest{tag}");
        let host_if = format!("cct{tag}");
        let third = (std::process::id() * 7 + n) % 250;
        let host_ip = format!("172.31.{third}.1");
        let peer_ip = format!("172.31.{third}.2");
        let sh = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("ip");
            assert!(out.status.success(), "ip {args:?}: {}", stderr(&out));
        };
        sh(&["netns", "add", &ns]);
        let p = Peer {
            ns: ns.clone(),
            host_if: host_if.clone(),
            host_ip: host_ip.clone(),
            peer_ip: peer_ip.clone(),
        };
        sh(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        sh(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if]);
        sh(&["link", "set", &host_if, "up"]);
        for args in [
            vec!["addr", "add", &format!("{peer_ip}/30"), "dev", "eth0"],
            vec!["link", "set", "eth0", "up"],
            vec!["link", "set", "lo", "up"],
            vec!["route", "add", "default", "via", &host_ip],
        ] {
            let mut full = vec!["-n", ns.as_str()];
            full.extend(args.iter().map(|s| &**s));
            sh(&full);
        }
        p
    }

    /// Runs a host program inside the peer's namespace.
    pub fn run(&self, args: &[&str], timeout: Duration) -> Output {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns])
            .args(args)
            .stdin(Stdio::null());
        run_timeout(&mut c, timeout)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// An HTTP GET of `http://HOST:PORT/` with `busybox nc` (the host's
/// static busybox wget cannot resolve), from the host or (with `peer`)
/// from another namespace; the response when there is one.
pub fn http_get(peer: Option<&Peer>, url: &str) -> Option<String> {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let script =
        format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 4 busybox nc -w 3 {host} {port}");
    let args = ["sh", "-c", script.as_str()];
    let out = match peer {
        Some(p) => p.run(&args, Duration::from_secs(10)),
        None => run_timeout(Command::new("sh").args(&args[1..]), Duration::from_secs(10)),
    };
    let text = stdout(&out);
    text.contains("200 OK").then_some(text)
}

/// Runs `f` on a thread inside the network namespace at `ns` (a
/// `/proc/PID/ns/net` or `/run/netns/NAME`); setns(2) moves only that
/// thread.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let file = fs::File::open(ns).unwrap_or_else(|e| panic!("open {ns}: {e}"));
    std::thread::spawn(move || {
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
}

/// A UDP echo server on `port` inside the namespace `ns`, for `secs`
/// seconds; returns once it is bound.
pub fn udp_echo_in(ns: &str, port: u16, secs: u64) {
    let (tx, rx) = std::sync::mpsc::channel();
    in_netns(ns, move || {
        let s = std::net::UdpSocket::bind(("0.0.0.0", port)).expect("bind udp echo");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        tx.send(()).unwrap();
        let end = Instant::now() + Duration::from_secs(secs);
        let mut buf = [0u8; 512];
        while Instant::now() < end {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                let _ = s.send_to(&buf[..n], from);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("udp echo bound");
}

/// Sends `data` to HOST:PORT over UDP, from the host or from inside the
/// namespace `ns`, and whether the same came back within a second.
pub fn udp_roundtrip(ns: Option<&str>, host: &str, port: u16, data: &str) -> bool {
    let (host, data) = (host.to_string(), data.to_string());
    let f = move || {
        let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        s.send_to(data.as_bytes(), (host.as_str(), port)).unwrap();
        let mut buf = [0u8; 512];
        s.recv_from(&mut buf)
            .is_ok_and(|(n, _)| &buf[..n] == data.as_bytes())
    };
    match ns {
        Some(ns) => in_netns(ns, f).join().unwrap(),
        None => f(),
    }
}
