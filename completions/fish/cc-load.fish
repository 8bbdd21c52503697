complete -c cc-load -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-load -s i -l input -d 'Read from FILE instead of stdin' -r -F
complete -c cc-load -s q -l quiet -d 'Print image ids only, one per line'
complete -c cc-load -s h -l help -d 'Print help'
complete -c cc-load -s V -l version -d 'Print version'
