complete -c cc-kill -l root -d 'The store\'s root folder' -r -F
complete -c cc-kill -s s -l signal -d 'The signal: a name (TERM, SIGTERM) or a number' -r
complete -c cc-kill -s h -l help -d 'Print help'
complete -c cc-kill -s V -l version -d 'Print version'
