//! The host's loopback services stay out of a container's reach even with
//! cc's nft `guard` chain flushed: `route_localnet` is on for the bridge
//! only while a container publishes a port, so otherwise the kernel drops
//! packets from the bridge to 127.0.0.0/8 itself (martians); and while a
//! port is published, a tc filter on the bridge's ingress drops them.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use support::{
    assert_ok, compile_static, root_or_skip, udp_echo_in, udp_roundtrip, wait_for, Env, NetEnv,
};

/// `inject IFACE DSTMAC SRCIP DSTIP PORT TEXT`: one UDP datagram written
/// as a whole Ethernet frame on a packet socket (CAP_NET_RAW), so the
/// container's routing (which keeps 127/8 on lo) is not asked: what a
/// container with NET_RAW can send to the host.
const INJECT: &str = r#"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
static unsigned short sum(const unsigned char *p, int n) {
    unsigned long s = 0;
    for (int i = 0; i < n; i += 2) s += (p[i] << 8) | p[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return ~s;
}
int main(int argc, char **argv) {
    if (argc != 7) return 2;
    int fd = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
    if (fd < 0) { perror("socket"); return 1; }
    struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) { perror("ifindex"); return 1; }
    int index = ifr.ifr_ifindex;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("hwaddr"); return 1; }
    unsigned char f[128]; memset(f, 0, sizeof f);
    unsigned int m[6];
    sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
    for (int i = 0; i < 6; i++) f[i] = m[i];
    memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
    f[12] = 0x08; f[13] = 0x00;
    int len = strlen(argv[6]);
    unsigned char *ip = f + 14, *udp = ip + 20;
    ip[0] = 0x45; ip[2] = 0; ip[3] = 28 + len; ip[8] = 64; ip[9] = 17;
    inet_pton(AF_INET, argv[3], ip + 12);
    inet_pton(AF_INET, argv[4], ip + 16);
    unsigned short c = sum(ip, 20); ip[10] = c >> 8; ip[11] = c & 0xff;
    int port = atoi(argv[5]);
    udp[0] = 40000 >> 8; udp[1] = 40000 & 0xff; udp[2] = port >> 8; udp[3] = port & 0xff;
    udp[5] = 8 + len;
    memcpy(udp + 8, argv[6], len);
    struct sockaddr_ll to; memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET; to.sll_ifindex = index; to.sll_halen = 6;
    memcpy(to.sll_addr, f, 6);
    if (sendto(fd, f, 14 + 28 + len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("sendto"); return 1;
    }
    puts("sent");
    return 0;
}
"#;

fn env_inject() -> NetEnv {
    let env = Env::new();
    let dir = env.busybox_rootfs("img");
    compile_static(INJECT, &dir.join("bin/inject"));
    env.import_dir(&dir, "img");
    NetEnv { env }
}

fn route_localnet(bridge: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"))
        .unwrap()
        .trim()
        .to_string()
}

/// A UDP socket on `ip`, any port, that does not block.
fn listen(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind((ip, 0)).unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

fn received(s: &UdpSocket) -> Option<String> {
    let mut buf = [0u8; 256];
    s.recv(&mut buf)
        .ok()
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// With cc's guard chain flushed (by its exact name, in cc's own table of
/// this test's bridge), a container with NET_RAW sends a datagram to the
/// host's 127.0.0.1, then one to the gateway's address as a marker: once
/// the marker has arrived, the first has been delivered or dropped. The
/// loopback listener must get nothing.
#[test]
fn loopback_stays_shut_with_the_guard_flushed() {
    root_or_skip!();
    let env = env_inject();
    let id = env.run_d(["--cap-add", "NET_RAW", "img", "sleep", "300"]);
    let bridge = env.bridge();
    let gw = env.gateway();
    let ip = env.ip_of(&id);
    assert_eq!(route_localnet(&bridge), "0", "no port published");

    // A published port turns the flag on while its container lives.
    let publisher = env.run_d(["-p", "127.0.0.1::80", "img", "sleep", "300"]);
    assert_eq!(route_localnet(&bridge), "1", "a loopback-published port");
    env.ok("cc-rm", ["-f", publisher.as_str()]);
    assert_eq!(route_localnet(&bridge), "0", "its container is gone");

    let mac = std::fs::read_to_string(format!("/sys/class/net/{bridge}/address")).unwrap();
    let lo = listen("127.0.0.1");
    let marker = listen(&gw);
    let out = Command::new("nft")
        .args(["flush", "chain", "ip", &bridge, "guard"])
        .output()
        .unwrap();
    assert_ok(&out, "nft flush chain (cc's guard of this test's bridge)");
    let inject = |dst: &str, port: u16, text: &str| {
        let args = [
            "inject",
            "eth0",
            mac.trim(),
            &ip,
            dst,
            &port.to_string(),
            text,
        ];
        let out = env.run("cc-exec", [&[id.as_str()][..], &args[..]].concat());
        assert_ok(&out, &format!("inject to {dst}:{port}"));
    };
    inject("127.0.0.1", lo.local_addr().unwrap().port(), "to-loopback");
    inject(&gw, marker.local_addr().unwrap().port(), "marker");
    let m = wait_for(Duration::from_secs(20), "the marker datagram", || {
        received(&marker)
    });
    assert_eq!(m, "marker");
    assert_eq!(
        received(&lo),
        None,
        "a datagram from the container reached the host's 127.0.0.1"
    );
    env.ok("cc-net", ["reload"]);
    assert!(
        env.nft_table().contains("127.0.0.0/8 drop"),
        "reload restores the guard"
    );
}

/// The same attack while a container publishes a port on 127.0.0.1, so
/// the bridge has `route_localnet` and the kernel's martian check is off:
/// with nft's guard chain flushed, the tc filter on the bridge's ingress
/// still drops the forged datagram, and the published port still answers
/// on 127.0.0.1.
#[test]
fn loopback_stays_shut_while_a_port_is_published() {
    root_or_skip!();
    let env = env_inject();
    let id = env.run_d(["--cap-add", "NET_RAW", "img", "sleep", "300"]);
    let publisher = env.run_d(["-p", "127.0.0.1::54/udp", "img", "sleep", "300"]);
    let bridge = env.bridge();
    let gw = env.gateway();
    let ip = env.ip_of(&id);
    assert_eq!(route_localnet(&bridge), "1", "a loopback-published port");
    let pid = env.inspect("State.Pid", &publisher);
    udp_echo_in(&format!("/proc/{pid}/ns/net"), 54, 60);
    let hp = env.ok("cc-port", [publisher.as_str(), "54/udp"]);
    let port: u16 = hp.trim().rsplit(':').next().unwrap().parse().unwrap();

    let out = Command::new("nft")
        .args(["flush", "chain", "ip", &bridge, "guard"])
        .output()
        .unwrap();
    assert_ok(&out, "nft flush chain (cc's guard of this test's bridge)");
    wait_for(Duration::from_secs(30), "the published port", || {
        udp_roundtrip(None, "127.0.0.1", port, "ping").then_some(())
    });

    let mac = std::fs::read_to_string(format!("/sys/class/net/{bridge}/address")).unwrap();
    let lo = listen("127.0.0.1");
    let marker = listen(&gw);
    let inject = |dst: &str, port: u16, text: &str| {
        let port = port.to_string();
        let args = ["inject", "eth0", mac.trim(), &ip, dst, &port, text];
        let out = env.run("cc-exec", [&[id.as_str()][..], &args[..]].concat());
        assert_ok(&out, &format!("inject to {dst}:{port}"));
    };
    inject("127.0.0.1", lo.local_addr().unwrap().port(), "to-loopback");
    inject(&gw, marker.local_addr().unwrap().port(), "marker");
    let m = wait_for(Duration::from_secs(20), "the marker datagram", || {
        received(&marker)
    });
    assert_eq!(m, "marker");
    assert_eq!(
        received(&lo),
        None,
        "a datagram from the container reached the host's 127.0.0.1"
    );
    assert!(
        udp_roundtrip(None, "127.0.0.1", port, "ping-again"),
        "the published port answers on 127.0.0.1"
    );
    env.ok("cc-net", ["reload"]);
}
