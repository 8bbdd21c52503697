complete -c cc-cp -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-cp -s a -l archive -d 'Keep each file\'s owner (uid and gid)'
complete -c cc-cp -s L -l follow-link -d 'Copy what a link SRC points to, not the link'
complete -c cc-cp -s h -l help -d 'Print help'
complete -c cc-cp -s V -l version -d 'Print version'
