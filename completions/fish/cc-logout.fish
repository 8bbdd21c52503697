complete -c cc-logout -s h -l help -d 'Print help'
complete -c cc-logout -s V -l version -d 'Print version'
