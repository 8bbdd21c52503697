complete -c cc-unshare -s h -l help -d 'Print help'
complete -c cc-unshare -s V -l version -d 'Print version'
