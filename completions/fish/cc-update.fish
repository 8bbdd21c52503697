complete -c cc-update -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-update -s m -l memory -d 'Memory limit (b, k, m, g)' -r
complete -c cc-update -l memory-swap -d 'Memory plus swap limit (-1 for unlimited swap)' -r
complete -c cc-update -s c -l cpu-shares -d 'CPU shares (relative weight)' -r
complete -c cc-update -l cpus -d 'Number of CPUs (CFS quota), e.g. 0.5' -r
complete -c cc-update -l pids-limit -d 'Maximum number of processes at once, 0 or -1 for no limit of cc\'s' -r
complete -c cc-update -l restart -d 'Restart policy: no, on-failure[:N], always, unless-stopped (see cc-run); a running container\'s monitor follows it from the next exit' -r
complete -c cc-update -s h -l help -d 'Print help'
complete -c cc-update -s V -l version -d 'Print version'
