# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cc_net_global_optspecs
    string join \n root= h/help V/version
end

function __fish_cc_net_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cc_net_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cc_net_using_subcommand
    set -l cmd (__fish_cc_net_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cc-net -n "__fish_cc_net_needs_command" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_needs_command" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_needs_command" -s V -l version -d 'Print version'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "attach" -d 'Give the network namespace of process PID a veth (eth0 inside) and an address on the bridge; prints the address'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "detach" -d 'Undo `attach`: remove the veth and give the address back'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "ls" -d 'List leases: address, owner, host veth, published ports, status'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "gc" -d 'Remove leases, veths and NAT elements whose process is gone; prints the addresses freed'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "reload" -d 'Restore cc\'s nftables table (after a flush or a firewall reload)'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "init" -d 'Create the bridge now, with this subnet (only before first use)'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "destroy" -d 'Remove the store\'s bridge, its nftables table and net/config.json'
complete -c cc-net -n "__fish_cc_net_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cc-net -n "__fish_cc_net_using_subcommand attach" -l pid -d 'The process (in a network namespace of its own)' -r
complete -c cc-net -n "__fish_cc_net_using_subcommand attach" -l ip -d 'This address instead of the lowest free one' -r
complete -c cc-net -n "__fish_cc_net_using_subcommand attach" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand attach" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand detach" -l pid -d 'The process given to `attach`' -r
complete -c cc-net -n "__fish_cc_net_using_subcommand detach" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand detach" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand ls" -l format -d '`table` for people, `json` for one object per line, or a Go template over those objects: `{{.IPAddress}} {{.Owner}}`' -r
complete -c cc-net -n "__fish_cc_net_using_subcommand ls" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand ls" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand gc" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand gc" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand reload" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand reload" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand init" -l subnet -d 'An IPv4 subnet, e.g. 10.66.0.0/16 (default: a free /16 in 10/8)' -r
complete -c cc-net -n "__fish_cc_net_using_subcommand init" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand init" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand destroy" -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-net -n "__fish_cc_net_using_subcommand destroy" -s f -l force -d 'Even with addresses in use (their veths go too)'
complete -c cc-net -n "__fish_cc_net_using_subcommand destroy" -s h -l help -d 'Print help'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "attach" -d 'Give the network namespace of process PID a veth (eth0 inside) and an address on the bridge; prints the address'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "detach" -d 'Undo `attach`: remove the veth and give the address back'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "ls" -d 'List leases: address, owner, host veth, published ports, status'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "gc" -d 'Remove leases, veths and NAT elements whose process is gone; prints the addresses freed'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "reload" -d 'Restore cc\'s nftables table (after a flush or a firewall reload)'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "init" -d 'Create the bridge now, with this subnet (only before first use)'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "destroy" -d 'Remove the store\'s bridge, its nftables table and net/config.json'
complete -c cc-net -n "__fish_cc_net_using_subcommand help; and not __fish_seen_subcommand_from attach detach ls gc reload init destroy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
