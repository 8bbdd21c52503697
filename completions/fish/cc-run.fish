complete -c cc-run -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-run -l detach-keys -d 'Keys that detach from the container (default ctrl-p,ctrl-q; "" for none)' -r
complete -c cc-run -s a -l attach -d 'Attach to STDIN, STDOUT or STDERR only (repeatable; default all three, stdin with -i)' -r
complete -c cc-run -l sig-proxy -d 'Pass the signals cc-run gets on to the command; with false they act on cc-run (SIGINT ends it and leaves the container running)' -r -f -a "true\t''
false\t''"
complete -c cc-run -l rootfs -d 'Run on this folder as the root instead of an image' -r -F
complete -c cc-run -l bundle -d 'Run an OCI bundle (a folder with config.json, as `runc spec` makes) as a cc container: its process, root, mounts, namespaces, limits and security settings as the bundle says, with cc\'s monitor, logs and network (--net; the host\'s if the bundle has no network namespace). Options that would change the spec are refused with it' -r -F
complete -c cc-run -l name -d 'Name the container' -r
complete -c cc-run -l cidfile -d 'Write the container\'s id to FILE (which must not exist)' -r -F
complete -c cc-run -l log-max-size -d 'Rotate the log past SIZE (b, k, m, g), keeping one backup, so a container\'s log takes at most about twice SIZE on disk; 0 for no cap' -r
complete -c cc-run -l restart -d 'Restart the command when it ends: no, on-failure[:N] (a non-zero exit, at most N times), always, unless-stopped; the container\'s monitor does it, with docker\'s back-off (100 ms, doubling). A stop by the user (cc-stop, cc-kill) ends it; after a reboot `cc-start --all-restartable` starts always and unless-stopped ones' -r
complete -c cc-run -l health-cmd -d 'Command that checks the container\'s health, run in it by its monitor through `/bin/sh -c` (exit 0: healthy); see cc-healthcheck' -r
complete -c cc-run -l health-interval -d 'Time between checks (default 30s)' -r
complete -c cc-run -l health-timeout -d 'Time a check may run before it is killed and counts as failed (default 30s)' -r
complete -c cc-run -l health-retries -d 'Failures in a row that make the container unhealthy (default 3)' -r
complete -c cc-run -l health-start-period -d 'Time after the start during which failures do not count while the container is still starting (default 0s)' -r
complete -c cc-run -l health-start-interval -d 'Time between checks during the start period (default 5s)' -r
complete -c cc-run -s e -l env -d 'Set an environment variable; `-e K` takes K from cc-run\'s environment' -r
complete -c cc-run -s l -l label -d 'Set a label on the container (after the image\'s), KEY[=VALUE]' -r
complete -c cc-run -l label-file -d 'Read labels from a file of K[=V] lines (before --label\'s)' -r -F
complete -c cc-run -l env-file -d 'Read environment variables from a file of K=V lines' -r -F
complete -c cc-run -s u -l user -d 'Run as USER[:GROUP], names from the image\'s /etc/passwd or numbers' -r
complete -c cc-run -s w -l workdir -d 'Working folder inside the container (created when missing)' -r
complete -c cc-run -s h -l hostname -d 'The container\'s hostname (default: its short id)' -r
complete -c cc-run -l entrypoint -d 'Override the image\'s entrypoint (`""` clears it)' -r
complete -c cc-run -s v -l volume -d 'Mount a volume NAME:CONTAINER[:OPTS] (made on first use; a new or empty one gets the image\'s files at that path unless `nocopy`), a new anonymous volume at CONTAINER alone, or bind HOST:CONTAINER with the host folder\'s submounts; OPTS: ro or rw (`ro` is read-only all the way down, as docker 25), nocopy, a propagation' -r
complete -c cc-run -l mount -d 'Mount as docker\'s --mount: type=bind|volume|tmpfs, source|src, target|destination|dst, readonly|ro, volume-nocopy, volume-label, volume-opt, bind-propagation, tmpfs-size, tmpfs-mode' -r
complete -c cc-run -l volumes-from -d 'Mount the volumes and binds of CONTAINER too, with their modes or the one given' -r
complete -c cc-run -l tmpfs -d 'Mount a tmpfs at PATH[:size=...,mode=...]' -r
complete -c cc-run -l net -l network -d 'Network: bridge (own namespace with an address on the store\'s bridge and NAT; an ordinary user\'s is slirp4netns), none (loopback only), host, container:ID (share that running container\'s), or for an ordinary user slirp4netns[:allow_host_loopback=true] (the host\'s loopback reached at 10.0.2.2)' -r
complete -c cc-run -l add-host -d 'Add a line to /etc/hosts, NAME:ADDRESS; the address host-gateway is the bridge\'s (--net bridge only)' -r
complete -c cc-run -l dns -d 'A name server for /etc/resolv.conf (replaces the host\'s)' -r
complete -c cc-run -l dns-search -d 'A DNS search domain (replaces the host\'s; "." for none)' -r
complete -c cc-run -l dns-option -d 'A resolv.conf option, such as ndots:2 (replaces the host\'s)' -r
complete -c cc-run -s p -l publish -d 'Publish a container port on the host: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp] (no HOSTPORT: a free one; see cc-port)' -r
complete -c cc-run -s m -l memory -d 'Memory limit (b, k, m, g)' -r
complete -c cc-run -l memory-swap -d 'Memory plus swap limit (-1 for unlimited swap)' -r
complete -c cc-run -s c -l cpu-shares -d 'CPU shares (relative weight)' -r
complete -c cc-run -l cpus -d 'Number of CPUs (CFS quota), e.g. 0.5' -r
complete -c cc-run -l pids-limit -d 'Maximum number of processes at once: 2048 by default (podman\'s), 0 or -1 for no limit of cc\'s' -r
complete -c cc-run -l memory-reservation -d 'Memory soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low)' -r
complete -c cc-run -l cpuset-cpus -d 'CPUs the container may run on, e.g. 0-3,5' -r
complete -c cc-run -l cpuset-mems -d 'Memory nodes the container may use, e.g. 0,1' -r
complete -c cc-run -l cgroup-parent -d 'Make the container\'s cgroup under this one: a path (cgroupfs, instead of cc/), or a slice such as my.slice (systemd, instead of machine.slice)' -r
complete -c cc-run -l device-cgroup-rule -d 'Allow devices in the device cgroup, \'TYPE MAJOR:MINOR ACCESS\' as \'c 1:3 rwm\' (type a, b or c; * for any number)' -r
complete -c cc-run -l ulimit -d 'A resource limit, NAME=SOFT[:HARD] (nofile, nproc, core, stack, memlock, ...; -1 for unlimited)' -r
complete -c cc-run -l sysctl -d 'A namespaced kernel parameter, KEY=VALUE: net.* (own network), kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*' -r
complete -c cc-run -l shm-size -d 'Size of /dev/shm (b, k, m, g; default 64m)' -r
complete -c cc-run -l group-add -d 'An additional group for the command, a name in the image\'s /etc/group or a number' -r
complete -c cc-run -l stop-signal -d 'The signal cc-stop sends (default: the image\'s StopSignal, or SIGTERM)' -r
complete -c cc-run -l stop-timeout -d 'Seconds cc-stop waits before SIGKILL when not given -t (default 10; -1 for ever)' -r
complete -c cc-run -l cap-add -d 'Add a capability (CHOWN, NET_ADMIN, ..., or ALL)' -r
complete -c cc-run -l cap-drop -d 'Drop a capability (or ALL)' -r
complete -c cc-run -l security-opt -d 'Security options: no-new-privileges; seccomp=unconfined (no filter); seccomp=FILE (a profile in docker\'s JSON format instead of the default, which is docker\'s)' -r
complete -c cc-run -l device -d 'Give the container a host device, HOST[:CONTAINER][:rwm] (allowed in the device cgroup with those permissions, default rwm)' -r
complete -c cc-run -l userns -d 'User namespace: host (none, the default); auto[:size=N] (root in the container is an unprivileged range of N host ids, default 65536, taken from the `cc` entry of /etc/subuid and /etc/subgid)' -r
complete -c cc-run -l uidmap -d 'Map container uids CONTAINER_ID..+SIZE to host uids HOST_ID..+SIZE in a user namespace (repeatable; also the gid map without --gidmap)' -r
complete -c cc-run -l gidmap -d 'Map container gids to host gids, as --uidmap' -r
complete -c cc-run -l cgroup-manager -d 'Who makes the container\'s cgroup: systemd (a transient scope cc-ID.scope in machine.slice) or cgroupfs (/sys/fs/cgroup/cc/ID); default systemd where systemd runs the machine on cgroup v2' -r
complete -c cc-run -l cgroupns -d 'Cgroup namespace: private (the container\'s own, rooted at its group, docker\'s default on cgroup v2) or host (the host\'s, as docker on v1; /sys/fs/cgroup still shows only the container\'s groups)' -r -f -a "private\t''
host\t''"
complete -c cc-run -l pull -d 'Pull the image first: missing (when the store lacks it, docker\'s default), always, or never' -r -f -a "missing\t''
always\t''
never\t''"
complete -c cc-run -l platform -d 'The image\'s platform, OS/ARCH[/VARIANT]: pulled for it, and an image of another platform is refused' -r
complete -c cc-run -l help -d 'Print help'
complete -c cc-run -s d -l detach -d 'Run in the background: print the id once the command has started'
complete -c cc-run -l rm -d 'Remove the container when it exits'
complete -c cc-run -l no-healthcheck -d 'Run no healthcheck, not even the image\'s'
complete -c cc-run -s i -l interactive -d 'Keep stdin open'
complete -c cc-run -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c cc-run -l read-only -d 'Mount the root filesystem read-only'
complete -c cc-run -s P -l publish-all -d 'Publish every port the image exposes on free host ports'
complete -c cc-run -l oom-kill-disable -d 'Do not let the OOM killer kill the container\'s processes (cgroup v1 only: refused on v2, whose kernel cannot)'
complete -c cc-run -l privileged -d 'Every capability, no seccomp filter, every device, no masked or read-only /proc paths, /sys writable'
complete -c cc-run -l init -d 'Run a small init as pid 1 that reaps zombies and forwards signals'
complete -c cc-run -s V -l version -d 'Print version'

# The store's words for operands (xtask/src/store_words.rs).
function __cc_store_words
    set -l root
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if test "$words[$i]" = --root; and test $i -lt (count $words)
            set root --root=$words[(math $i + 1)]
        else if string match -q -- '--root=*' $words[$i]
            set root $words[$i]
        end
    end
    if test $argv[1] != images
        cc-ps -a $root --format '{{.Names}}{{println}}{{.ID}}' 2>/dev/null
    end
    if test $argv[1] != containers
        cc-images $root --format '{{if ne .Tag "<none>"}}{{.Repository}}:{{.Tag}}{{end}}' 2>/dev/null | string match -rv '^$'
    end
end
complete -c cc-run -a '(__cc_store_words images)'
