#!/usr/bin/env bash
# One command from a fresh Debian machine to a first container: installs
# what is missing from Debian's packages, builds cc, installs the programs
# into /usr/local/bin with their man pages and bash, zsh and fish
# completions, makes the `base` image from busybox-static, and runs
# `cc-run -i -t base /bin/sh` (without a terminal: a one-line command).
#   usage: sudo scripts/setup.sh [--debian]   (--debian: also a Debian minbase image)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "setup: run as root (containers need it)" >&2; exit 1; }
# fuse-overlayfs: an ordinary user's containers on kernels before 5.11;
# slirp4netns and uidmap: an ordinary user's default network and ids.
pkgs=(busybox-static nftables iproute2 bash-completion fuse-overlayfs slirp4netns uidmap)
[ "${1:-}" = --debian ] && pkgs+=(debootstrap)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
cargo build --release --workspace --bins
for b in target/release/cc-*; do
    [ -x "$b" ] && [ -f "$b" ] && install -m 0755 "$b" /usr/local/bin/
done
install -d /usr/local/share/man/man1 /usr/local/share/man/man7
install -m 0644 man/*.1 /usr/local/share/man/man1/ 2>/dev/null || true
install -m 0644 man/cc.7 /usr/local/share/man/man7/ 2>/dev/null || true
# Completions (flags, and names from the store: xtask/src/store_words.rs),
# where each shell's loader looks on Debian.
install -d /usr/share/bash-completion/completions /usr/local/share/zsh/site-functions \
    /usr/share/fish/vendor_completions.d
install -m 0644 completions/bash/cc-* /usr/share/bash-completion/completions/
install -m 0644 completions/zsh/_cc-* /usr/local/share/zsh/site-functions/
install -m 0644 completions/fish/cc-*.fish /usr/share/fish/vendor_completions.d/
scripts/subids.sh >/dev/null   # ids for --userns=auto
cc-images -q base >/dev/null 2>&1 && [ -n "$(cc-images -q base)" ] || scripts/mkimage-busybox.sh base >/dev/null
[ "${1:-}" = --debian ] && { cc-images -q debian | grep -q . || scripts/mkimage-debian.sh debian >/dev/null; }
cc-info
if [ -t 0 ] && [ -t 1 ]; then
    exec cc-run -i -t --rm base /bin/sh
else
    cc-run --rm base /bin/sh -c 'echo "hello from $(hostname), pid $$ in its own namespaces"'
fi
