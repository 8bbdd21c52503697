#!/bin/bash
# Copied from the project's shared tooling (vm-v2/run.sh) so that `make test`
# needs nothing outside this repository; keep the two alike.
# Run a script inside a cgroup-v2-only Debian 12 VM (Debian's kernel 6.1, the
# stock distribution kernel), as root, and print what it printed.
#
#   run.sh SCRIPT [FILE...]      FILEs are copied to /root/in/ in the VM;
#                                SCRIPT runs there with cwd /root/in.
#   MODE=systemd run.sh ...      boot systemd and run SCRIPT as a oneshot
#                                service (groups under system.slice, as on a
#                                stock distribution); default: a tiny init.
#   VM_TIMEOUT=900               bound on SCRIPT, in seconds.
#   VM_WORK=${TMPDIR:-/tmp}/cc-vm-v2   the cached root filesystem and image.
#   VM_PACKAGES="..."            extra Debian packages in the image.
#
# Exit status: SCRIPT's, or 124 when it ran past VM_TIMEOUT, 125 when the VM
# could not be prepared or did not report.
#
# Facts measured on these machines (2 cores, nested under a hypervisor):
# - KVM does not boot a guest here (/dev/kvm opens, the guest stalls after the
#   decompressor), so the VM runs under QEMU's software emulation (TCG):
#   kernel to init ~6 s, systemd up ~10 s; CPU-bound work is several times
#   slower than on the host.
# - First run: apt (qemu-system-x86, linux-image-amd64) ~80 s, debootstrap
#   ~40 s; later runs reuse $VM_WORK/rootfs: image ~3 s, boot+poweroff ~15 s.
# - No network device at all: nothing leaves the VM.
set -uo pipefail
SCRIPT=${1:?usage: run.sh SCRIPT [FILE...]}; shift
W=${VM_WORK:-${TMPDIR:-/tmp}/cc-vm-v2}
mkdir -p "$W"
log() { echo "run.sh: $*" >&2; }
export DEBIAN_FRONTEND=noninteractive
if ! command -v qemu-system-x86_64 >/dev/null || ! ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1; then
  apt-get install -y -q qemu-system-x86 linux-image-amd64 >"$W/apt.log" 2>&1 || { log "apt failed, see $W/apt.log"; exit 125; }
fi
KVER=$(ls /boot/vmlinuz-*-amd64 | sed 's#.*/vmlinuz-##' | sort -V | tail -1)
# The Debian mirror apt already uses (deb822 or one-line sources).
mirror=$(grep -rhoE '(URIs:|^deb) *https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
         grep -v security | sed -E 's/^(URIs:|deb) *//' | head -1)
PKGS="iproute2,nftables,busybox-static,ca-certificates,kmod,procps,util-linux,uidmap,iptables,runc${MODE:+,systemd-sysv}"
[ -n "${VM_PACKAGES:-}" ] && PKGS="$PKGS,$(echo $VM_PACKAGES | tr ' ' ',')"
stamp="$KVER $PKGS"
if [ "$(cat "$W/rootfs.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$W/rootfs"; mkdir -p "$W/rootfs"
  debootstrap --variant=minbase --include="$PKGS" bookworm "$W/rootfs" "$mirror" >"$W/debootstrap.log" 2>&1 ||
    { log "debootstrap failed, see $W/debootstrap.log"; exit 125; }
  mkdir -p "$W/rootfs/lib/modules"; cp -a "/lib/modules/$KVER" "$W/rootfs/lib/modules/"
  echo "$stamp" > "$W/rootfs.stamp"
fi
R=$W/rootfs
rm -rf "$R/root/in" "$R/root/out.txt" "$R/root/rc" "$R/var/lib/cc" "$R/run/cc-oci"
mkdir -p "$R/root/in"
install -m755 "$SCRIPT" "$R/root/in/.script"
for f in "$@"; do cp -a "$f" "$R/root/in/"; done
cat > "$R/root/run-script" <<INNER
#!/bin/bash
export PATH=/root/in:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
for m in overlay veth bridge br_netfilter nf_tables nft_chain_nat nft_masq nft_nat; do modprobe \$m 2>/dev/null; done
cd /root/in && timeout ${VM_TIMEOUT:-900} ./.script > /root/out.txt 2>&1; echo \$? > /root/rc
sync
INNER
chmod 755 "$R/root/run-script"
cat > "$R/sbin/vm-init" <<'INIT'
#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup; mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -o remount,rw /; hostname ccv2; ip link set lo up
echo "+cpu +memory +pids +io +cpuset" > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/init.scope && echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
/root/run-script
echo o > /proc/sysrq-trigger; sleep 10
INIT
chmod 755 "$R/sbin/vm-init"
rm -f "$R/etc/systemd/system/multi-user.target.wants/vm-script.service"
INIT="init=/sbin/vm-init"
if [ -n "${MODE:-}" ]; then
  mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
  cat > "$R/etc/systemd/system/vm-script.service" <<UNIT
[Unit]
After=local-fs.target
[Service]
Type=oneshot
ExecStart=/bin/bash -c '/root/run-script; systemctl --no-block poweroff'
TimeoutStartSec=$(( ${VM_TIMEOUT:-900} + 60 ))
UNIT
  ln -sf /etc/systemd/system/vm-script.service "$R/etc/systemd/system/multi-user.target.wants/"
  INIT=""
fi
rm -f "$W/vm.img"; truncate -s 8G "$W/vm.img"
mkfs.ext4 -q -F -d "$R" "$W/vm.img" || { log "mkfs failed"; exit 125; }
timeout $(( ${VM_TIMEOUT:-900} + 180 )) qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 4G -smp 2 \
  -kernel "/boot/vmlinuz-$KVER" -initrd "/boot/initrd.img-$KVER" \
  -append "root=/dev/vda rw console=ttyS0 $INIT systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all panic=-1" \
  -drive file="$W/vm.img",if=virtio,format=raw -nic none -nographic -no-reboot \
  </dev/null >"$W/console.log" 2>&1
debugfs -R 'cat /root/out.txt' "$W/vm.img" 2>/dev/null
rc=$(debugfs -R 'cat /root/rc' "$W/vm.img" 2>/dev/null | tr -dc 0-9)
[ -n "$rc" ] || { log "the VM did not report; see $W/console.log"; exit 125; }
exit "$rc"
