complete -c cc-port -l root -d 'The store\'s root folder' -r -F
complete -c cc-port -s h -l help -d 'Print help'
complete -c cc-port -s V -l version -d 'Print version'
