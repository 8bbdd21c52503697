#!/usr/bin/env bash
# What the tests use, installed when missing (the first step of `make
# test`, so that on a fresh Debian 12 machine the set-up and the test
# command are all one needs): Debian's packages, podman's configuration for
# this host, and subordinate ids for --userns=auto. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test-deps: the tests run containers and need root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

packages=(
    busybox-static  # the test image: /bin/busybox, static
    skopeo umoci    # read the store as an OCI layout
    podman runc     # interoperability tests and bench/ peers
    containerd      # tests/oci-containerd.rs: ctr run --runc-binary
    nftables iproute2 uidmap util-linux procps psmisc
    fuse-overlayfs  # a user's overlays before Linux 5.11 (tests: CC_OVERLAY)
    slirp4netns     # a user's default network (rootless podman's too)
    passt           # pasta: bench/usernet.sh compares it with slirp4netns
    tar gzip zstd   # cc-import inputs
    docker-registry # cc-pull/cc-push tests: a real registry on 127.0.0.1
    openssl apache2-utils curl  # its TLS CA, htpasswd, a hand-made index
    jq              # the README and man page examples (tests/readme.rs)
    hyperfine
    bash-completion zsh fish  # tests/completions.rs: the shells cc completes in
    make
    gcc libc6-dev   # static helper programs of the security tests; cc-build's gcc stage
    strace          # which files the host's gcc uses (tests/cc-build-stages.rs)
    qemu-system-x86 linux-image-amd64 debootstrap  # the cgroup-v2 VM (tests/vm)
    golang-go       # builds the OCI runtime-tools conformance suite CI runs
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# clippy, which `make test` runs first: a component of the Rust toolchain
# that a minimal rustup profile leaves out.
if ! cargo clippy --version >/dev/null 2>&1; then
    command -v rustup >/dev/null || { echo "test-deps: cargo clippy is missing and there is no rustup to add it" >&2; exit 1; }
    rustup component add clippy
fi

# podman (the interoperability tests' peer) on a host with cgroup v1 or a
# hybrid layout: crun refuses it, runc works; the default nproc/nofile
# limits it would set are too high for some hosts. Only when the machine
# has no configuration of its own.
if [ ! -e /etc/containers/containers.conf ]; then
    mkdir -p /etc/containers
    cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024","nproc=1024:1024"]

[engine]
runtime = "runc"
CONF
fi

# Subordinate ids for `cc-run --userns=auto` (the user-namespace tests).
scripts/subids.sh >/dev/null
