complete -c cc-pause -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-pause -s h -l help -d 'Print help'
complete -c cc-pause -s V -l version -d 'Print version'
