//! cc-net: attach/detach any process's namespace, ls, gc, init, reload,
//! destroy.

use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

/// A host process in a network namespace of its own (`unshare --net`).
struct NsProcess(std::process::Child);

impl NsProcess {
    fn start() -> NsProcess {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare");
        let me = std::fs::read_link("/proc/self/ns/net").unwrap();
        let pid = child.id();
        // Wait until the process has its own namespace.
        wait_for(Duration::from_secs(5), "unshare", || {
            let ns = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
            (ns != me).then_some(())
        });
        NsProcess(child)
    }
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for NsProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ping(ip: &str) -> bool {
    Command::new("busybox")
        .args(["ping", "-c", "1", "-W", "2", ip])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn attach_ls_detach_a_process() {
    root_or_skip!();
    let env = NetEnv { env: Env::new() };
    let p = NsProcess::start();
    let ip = env
        .ok("cc-net", ["attach", "--pid", &p.pid()])
        .trim()
        .to_string();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip:?}");
    assert!(ping(&ip), "the attached namespace answers on {ip}");
    let ls = env.ok("cc-net", ["ls"]);
    assert!(
        ls.contains(&ip) && ls.contains(&format!("pid {}", p.pid())) && ls.contains("alive"),
        "{ls}"
    );
    let json = json_lines(&env.ok("cc-net", ["ls", "--format", "json"]));
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["IPAddress"], ip.as_str());
    assert_eq!(json[0]["Alive"], true);
    // A chosen address, and one already taken.
    let q = NsProcess::start();
    let out = env.run("cc-net", ["attach", "--pid", &q.pid(), "--ip", &ip]);
    assert_code(&out, 4, "address taken");
    env.ok("cc-net", ["detach", "--pid", &p.pid()]);
    assert!(env.leases().is_empty());
    assert!(!link_exists(&format!("ccp{}", p.pid())));
    let again = env.ok("cc-net", ["attach", "--pid", &q.pid(), "--ip", &ip]);
    assert_eq!(again.trim(), ip);
    env.ok("cc-net", ["detach", &ip]);
    // The host's own namespace is refused.
    let out = env.run(
        "cc-net",
        ["attach", "--pid", &std::process::id().to_string()],
    );
    assert_code(&out, 4, "host namespace");
}

#[test]
fn gc_collects_a_dead_process() {
    root_or_skip!();
    let env = NetEnv { env: Env::new() };
    let p = NsProcess::start();
    let pid = p.pid();
    let ip = env
        .ok("cc-net", ["attach", "--pid", &pid])
        .trim()
        .to_string();
    drop(p);
    assert_eq!(env.ok("cc-net", ["gc"]).trim(), ip);
    assert!(env.leases().is_empty());
    assert!(!link_exists(&format!("ccp{pid}")));
    assert_eq!(env.ok("cc-net", ["gc"]).trim(), "");
}

#[test]
fn init_with_a_subnet_then_reload_and_destroy() {
    root_or_skip!();
    let env = NetEnv { env: Env::new() };
    // A /24 no test uses otherwise; init refuses a different one later.
    let third = std::process::id() % 200 + 20;
    let subnet = format!("10.254.{third}.0/24");
    let out = env.ok("cc-net", ["init", "--subnet", &subnet]);
    let bridge = env.bridge();
    assert_eq!(out.trim(), format!("{bridge} {subnet}"));
    assert_eq!(env.gateway(), format!("10.254.{third}.1"));
    assert_code(
        &env.run("cc-net", ["init", "--subnet", "10.253.0.0/16"]),
        4,
        "another subnet",
    );
    let out = Command::new("nft")
        .args(["delete", "table", "ip", &bridge])
        .output()
        .unwrap();
    assert!(out.status.success());
    env.ok("cc-net", ["reload"]);
    assert!(
        env.nft_table().contains("masquerade"),
        "{}",
        env.nft_table()
    );
    env.ok("cc-net", ["destroy"]);
    assert!(!link_exists(&bridge));
    let out = Command::new("nft")
        .args(["list", "table", "ip", &bridge])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the table outlived destroy");
    assert_code(
        &env.run("cc-net", ["init", "--subnet", "10.0.0.0/33"]),
        2,
        "bad subnet",
    );
}
