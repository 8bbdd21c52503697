#!/usr/bin/env bash
# The two user-mode network stacks an ordinary user's container could use,
# side by side (issue 21 asks to measure both and choose; cc chose
# slirp4netns, lib/src/net/user.rs says why): the time from a new
# user+network namespace to its network being up, and the TCP throughput
# from inside it to a server on the host's loopback through the stack's
# host-loopback mapping. Each stack as it starts by default and as lean as
# its options make it:
#
#   pasta               pasta --config-net -T none -U none PID (forks to
#                       the background when ready; -t/-u auto by default)
#   pasta, lean         ... -t none -u none --no-dhcp --no-ndp --no-dhcpv6
#                       --no-ra -4 (no port forwarding, DHCP, NDP, RA, IPv6)
#   slirp4netns         slirp4netns --configure --mtu 65520 --ready-fd
#                       --exit-fd PID tap0 (a byte on the ready pipe)
#   slirp4netns, as cc  ... --enable-sandbox --enable-seccomp, as cc's
#                       monitor starts it (net::user::start)
#
# Each run: `unshare -Urn` holds a fresh user and network namespace, the
# stack is attached to it and timed until ready, then both are killed by
# their pids. Throughput: busybox nc in the namespace sends 64 MiB to a
# python sink on 127.0.0.1 (pasta: the gateway address; slirp4netns:
# 10.0.2.2), reported in MiB/s. Only loopback traffic. Medians; prints a
# table and appends it to bench/RESULTS.md.
#
# usage: bench/usernet.sh [N]   (N runs each, default 20)
set -euo pipefail

N=${1:-${N:-20}}
name=usernet
needs="pasta slirp4netns unshare nsenter"
CC_BIN=${CC_BIN:-/nonexistent}
. "$(dirname "$0")/preamble.sh"

# As an ordinary user (nobody), as a rootless container's stack runs: pasta
# run by root changes to nobody and then cannot open root's namespaces.
table=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME=/tmp python3 - "$N" "$busybox" <<'PY'
import os, socket, statistics, subprocess, sys, tempfile, threading, time

n, busybox = int(sys.argv[1]), sys.argv[2]
work = tempfile.mkdtemp(prefix="cc-bench-usernet.")

def holder():
    return subprocess.Popen(["unshare", "-Urn", "--", busybox, "sleep", "60"])

def kill(pid):
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass

def pasta(extra):
    def up(pid):
        """Attach pasta to `pid`'s namespaces; returns (seconds, stop)."""
        pidfile = os.path.join(work, "pasta.pid")
        t = time.perf_counter()
        subprocess.run(["pasta", "--config-net", "--quiet", "-T", "none", "-U", "none",
                        *extra, "--pid", pidfile, str(pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.perf_counter() - t
        daemon = int(open(pidfile).read())
        return took, lambda: kill(daemon)
    return up

def slirp(extra):
    def up(pid):
        r, w = os.pipe()
        er, ew = os.pipe()
        t = time.perf_counter()
        p = subprocess.Popen(["slirp4netns", "--configure", "--mtu", "65520", *extra,
                              "--ready-fd", str(w), "--exit-fd", str(er), str(pid), "tap0"],
                             pass_fds=[w, er], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        os.close(w)
        os.close(er)
        os.read(r, 1)
        took = time.perf_counter() - t
        os.close(r)
        return took, lambda: (os.close(ew), p.kill(), p.wait())
    return up

def gateway_of(stack, pid):
    if stack.startswith("slirp4netns"):
        return "10.0.2.2"
    out = subprocess.run(["nsenter", "-t", str(pid), "-U", "-n", "--preserve-credentials",
                          busybox, "ip", "route"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("default via"):
            return line.split()[2]
    raise SystemExit(f"no default route under pasta: {out!r}")

def throughput(stack, up):
    """MiB/s of 64 MiB sent from the namespace to a sink on 127.0.0.1."""
    size = 64 << 20
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(1)
    port = sink.getsockname()[1]
    got = [0]
    def drain():
        c, _ = sink.accept()
        while (b := c.recv(1 << 20)):
            got[0] += len(b)
        c.close()
    th = threading.Thread(target=drain)
    th.start()
    h = holder()
    time.sleep(0.05)
    _, stop = up(h.pid)
    gw = gateway_of(stack, h.pid)
    t = time.perf_counter()
    subprocess.run(["nsenter", "-t", str(h.pid), "-U", "-n", "--preserve-credentials",
                    "sh", "-c", f"head -c {size} /dev/zero | {busybox} nc {gw} {port}"],
                   check=False, timeout=120)
    th.join(timeout=60)
    took = time.perf_counter() - t
    stop(); kill(h.pid); h.wait(); sink.close()
    if got[0] != size:
        raise SystemExit(f"{stack}: {got[0]} of {size} bytes arrived")
    return size / took / (1 << 20)

rows = []
lean = ["-t", "none", "-u", "none", "--no-dhcp", "--no-ndp", "--no-dhcpv6", "--no-ra", "-4"]
stacks = [
    ("pasta", pasta([])),
    ("pasta, lean", pasta(lean)),
    ("slirp4netns", slirp([])),
    ("slirp4netns, as cc", slirp(["--enable-sandbox", "--enable-seccomp"])),
]
for stack, up in stacks:
    times = []
    for _ in range(n):
        h = holder()
        time.sleep(0.05)  # the namespaces exist
        took, stop = up(h.pid)
        times.append(took * 1000)
        stop(); kill(h.pid); h.wait()
    rate = statistics.median(throughput(stack, up) for _ in range(3))
    rows.append((stack, statistics.median(times), min(times), rate))

when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
load = open("/proc/loadavg").read().split()[0]
table = (f"\n## usernet.sh: user-mode network stacks ({when}, N={n}, load {load})\n\n"
         "| stack | ready, median | min | TCP to host loopback |\n| --- | ---: | ---: | ---: |\n")
for stack, med, lo, rate in rows:
    table += f"| {stack} | {med:.1f} ms | {lo:.1f} ms | {rate:.0f} MiB/s |\n"
print(table)
PY
)
printf '%s\n' "$table"
printf '%s\n' "$table" >>"$results"
