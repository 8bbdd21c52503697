# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cc_oci_global_optspecs
    string join \n v/version root= log= log-format= debug systemd-cgroup rootless= h/help
end

function __fish_cc_oci_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cc_oci_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cc_oci_using_subcommand
    set -l cmd (__fish_cc_oci_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cc-oci -n "__fish_cc_oci_needs_command" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_needs_command" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_needs_command" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_needs_command" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_needs_command" -s v -l version -d 'Print the version and the runtime spec\'s version'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "create" -d 'Create a container, set up and waiting for `start`'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "start" -d 'Start a created container\'s process'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "state" -d 'Print a container\'s state as the OCI runtime spec\'s JSON'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "kill" -d 'Send a signal (default SIGTERM) to the container\'s first process'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "delete" -d 'Delete a stopped container (--force: kill it first)'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "run" -d 'Create and start a container; in the foreground, wait and exit with its status'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "exec" -d 'Run a process in a created or running container'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "ps" -d 'List the container\'s processes (ps(1) output, or pids as JSON)'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "list" -d 'List containers'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "pause" -d 'Freeze every process of a container'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "resume" -d 'Thaw a paused container'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "update" -d 'Change a running container\'s limits'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "events" -d 'Print the container\'s resource use (and OOM kills) as JSON lines, until it stops'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "spec" -d 'Write a default config.json into the bundle'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "features" -d 'Print what this runtime supports, as JSON'
complete -c cc-oci -n "__fish_cc_oci_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -s b -l bundle -d 'The bundle: a folder with config.json' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l console-socket -d 'Unix socket that receives the terminal\'s master fd' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l pid-file -d 'Write the container\'s pid here' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l preserve-fds -d 'Pass fds 3 to 3+N-1 on to the container' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l no-pivot -d 'chroot instead of pivot_root (roots on ramfs)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l no-new-keyring -d 'Keep the caller\'s session keyring instead of a new one'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand create" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand start" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand state" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -s a -l all -d 'Signal every process of the container'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand kill" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -s f -l force
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand delete" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -s b -l bundle -d 'The bundle: a folder with config.json' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l console-socket -d 'Unix socket that receives the terminal\'s master fd' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l pid-file -d 'Write the container\'s pid here' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l preserve-fds -d 'Pass fds 3 to 3+N-1 on to the container' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l no-pivot -d 'chroot instead of pivot_root (roots on ramfs)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l no-new-keyring -d 'Keep the caller\'s session keyring instead of a new one'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -s d -l detach -d 'Return once it started'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l keep -d 'Do not delete the container after it exits'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand run" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l console-socket -d 'Unix socket that receives the terminal\'s master fd' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l cwd -d 'Working folder' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s e -l env -d 'Set an environment variable' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s u -l user -d 'UID[:GID]' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s g -l additional-gids -d 'Supplementary group ids' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s p -l process -d 'The process as OCI JSON (args, env, cwd, user, capabilities)' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l pid-file -d 'Write the process\'s pid here' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s c -l cap -d 'Add a capability' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l preserve-fds -d 'Pass fds 3 to 3+N-1 on to the command' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l cgroup -d 'Run the command in this existing sub-group of the container\'s cgroup (one PATH for every controller)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s d -l detach -d 'Return once it started; the caller\'s subreaper adopts it'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l no-new-privs -d 'Set no_new_privs'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l ignore-paused -d 'Exec into a paused container too (the command waits for resume)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand exec" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -s f -l format -r -f -a "table\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand ps" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -s f -l format -r -f -a "table\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -s q -l quiet -d 'Ids only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand list" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand pause" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand resume" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -s r -l resources -d 'linux.resources JSON (\'-\' for stdin)' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l memory -d 'Memory limit in bytes (k, m, g suffixes)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l memory-swap -d 'Memory plus swap, -1 unlimited' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l memory-reservation -d 'Memory soft limit in bytes (v1 soft_limit, v2 memory.low)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpu-shares -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpu-quota -d 'CFS quota in microseconds (the period stays unless given)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpu-period -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpu-rt-period -d 'Realtime period in microseconds (cgroup v1)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpu-rt-runtime -d 'Realtime runtime in microseconds per period (cgroup v1)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpuset-cpus -d 'CPUs the container may use (0-3,5)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l cpuset-mems -d 'Memory nodes the container may use' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l blkio-weight -d 'Block I/O weight, 10 to 1000' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l pids-limit -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand update" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l interval -d 'Time between stats events (a Go duration: 5s, 500ms, 1m)' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l stats -d 'Print one stats event and exit'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand events" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -s b -l bundle -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand spec" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l root -d 'Folder of the containers\' state [default: /run/cc-oci; rootless: $XDG_RUNTIME_DIR/cc/oci]' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l log -d 'Also write errors (and with --debug, each call) to this file' -r -F
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l log-format -d 'The log\'s format' -r -f -a "text\t''
json\t''"
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l rootless -d 'Run for an ordinary user, as root of its user namespace (rootless podman calls cc-oci so): no cgroup, the host\'s devices bound in; auto = when not in the host\'s user namespace' -r
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l debug -d 'Log each call at debug level'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -l systemd-cgroup -d 'Let systemd make each container\'s cgroup, a transient scope named by cgroupsPath in runc\'s form slice:prefix:name (default system.slice:cc-oci:ID); cgroup v2 only'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand features" -s h -l help -d 'Print help'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "create" -d 'Create a container, set up and waiting for `start`'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "start" -d 'Start a created container\'s process'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "state" -d 'Print a container\'s state as the OCI runtime spec\'s JSON'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "kill" -d 'Send a signal (default SIGTERM) to the container\'s first process'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "delete" -d 'Delete a stopped container (--force: kill it first)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "run" -d 'Create and start a container; in the foreground, wait and exit with its status'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "exec" -d 'Run a process in a created or running container'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "ps" -d 'List the container\'s processes (ps(1) output, or pids as JSON)'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "list" -d 'List containers'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "pause" -d 'Freeze every process of a container'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "resume" -d 'Thaw a paused container'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "update" -d 'Change a running container\'s limits'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "events" -d 'Print the container\'s resource use (and OOM kills) as JSON lines, until it stops'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "spec" -d 'Write a default config.json into the bundle'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "features" -d 'Print what this runtime supports, as JSON'
complete -c cc-oci -n "__fish_cc_oci_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run exec ps list pause resume update events spec features help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
