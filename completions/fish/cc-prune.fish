complete -c cc-prune -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-prune -l filter -d 'Only what matches: until=TIME (created before it; docker\'s time forms), label=K[=V], label!=K[=V]' -r
complete -c cc-prune -l containers -d 'Stopped (exited or created) containers'
complete -c cc-prune -l images -d 'Dangling images: no tag and no repo digest (every image no container uses with -a)'
complete -c cc-prune -l networks -d 'Leases, veths and port rules of containers that are gone (cc has one bridge network, which stays)'
complete -c cc-prune -l volumes -d 'Also volumes: the anonymous ones no container uses (docker 23\'s rule; `cc-volume prune -a` takes named ones too). Not in the default set, as docker\'s'
complete -c cc-prune -l build-cache -d 'cc-build\'s cache: its step keys, then its step images with the dangling ones'
complete -c cc-prune -s a -l all -d 'Images: every one no container uses, not only dangling ones'
complete -c cc-prune -s f -l force -d 'Do not ask before removing'
complete -c cc-prune -s h -l help -d 'Print help'
complete -c cc-prune -s V -l version -d 'Print version'
