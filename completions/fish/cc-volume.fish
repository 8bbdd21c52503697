# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cc_volume_global_optspecs
    string join \n root= h/help V/version
end

function __fish_cc_volume_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cc_volume_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cc_volume_using_subcommand
    set -l cmd (__fish_cc_volume_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cc-volume -n "__fish_cc_volume_needs_command" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_needs_command" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -s V -l version -d 'Print version'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "create" -d 'Make a volume (a 64-hex name when none is given) and print its name; one of that name already there is kept as it is'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "ls" -d 'List volumes'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "list" -d 'List volumes'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "inspect" -d 'Show volumes as a JSON array, as docker volume inspect'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "rm" -d 'Remove volumes; one a container uses (running or not) is refused, naming the container (exit 4)'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "remove" -d 'Remove volumes; one a container uses (running or not) is refused, naming the container (exit 4)'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "prune" -d 'Remove the anonymous volumes no container uses (with -a the named ones too), prints them and the space reclaimed'
complete -c cc-volume -n "__fish_cc_volume_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand create" -s o -l opt -d 'The local driver\'s options: type=tmpfs,device=tmpfs,o=size=64m (a tmpfs shared by its containers, empty after a reboot) or type=none,o=bind,device=/host/folder' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand create" -l label -d 'A label, KEY[=VALUE]' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand create" -s d -l driver -d 'Only the local driver exists' -r -f -a "local\t''"
complete -c cc-volume -n "__fish_cc_volume_using_subcommand create" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand create" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand ls" -s f -l filter -d 'Only those that match: name (part of it), label (K or K=V), label!, dangling (true: no container uses it), driver' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand ls" -l format -d '`table`, `json` (one object per line), or a Go template as docker\'s: `{{.Name}}\\t{{.Mountpoint}}`; fields Name, Driver, Scope, Mountpoint, Labels, CreatedAt, Links, Size' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand ls" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand ls" -s q -l quiet -d 'Names only'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand ls" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand list" -s f -l filter -d 'Only those that match: name (part of it), label (K or K=V), label!, dangling (true: no container uses it), driver' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand list" -l format -d '`table`, `json` (one object per line), or a Go template as docker\'s: `{{.Name}}\\t{{.Mountpoint}}`; fields Name, Driver, Scope, Mountpoint, Labels, CreatedAt, Links, Size' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand list" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand list" -s q -l quiet -d 'Names only'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand list" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand inspect" -s f -l format -d 'A Go template run over each volume: `{{.Mountpoint}}`' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand inspect" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand rm" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand rm" -s f -l force -d 'A missing volume is not an error (one in use still is)'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand rm" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand remove" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand remove" -s f -l force -d 'A missing volume is not an error (one in use still is)'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand remove" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand prune" -l filter -d 'Only those that match: label=K[=V], label!=K[=V], until=TIME' -r
complete -c cc-volume -n "__fish_cc_volume_using_subcommand prune" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-volume -n "__fish_cc_volume_using_subcommand prune" -s a -l all -d 'Named volumes too'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand prune" -s f -l force -d 'Do not ask first'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand prune" -s h -l help -d 'Print help'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "create" -d 'Make a volume (a 64-hex name when none is given) and print its name; one of that name already there is kept as it is'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "ls" -d 'List volumes'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "inspect" -d 'Show volumes as a JSON array, as docker volume inspect'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "rm" -d 'Remove volumes; one a container uses (running or not) is refused, naming the container (exit 4)'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "prune" -d 'Remove the anonymous volumes no container uses (with -a the named ones too), prints them and the space reclaimed'
complete -c cc-volume -n "__fish_cc_volume_using_subcommand help; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
