complete -c cc-healthcheck -l root -d 'The store\'s root folder' -r -F
complete -c cc-healthcheck -s h -l help -d 'Print help'
complete -c cc-healthcheck -s V -l version -d 'Print version'
