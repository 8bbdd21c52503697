complete -c cc-wait -l root -d 'The store\'s root folder' -r -F
complete -c cc-wait -s h -l help -d 'Print help'
complete -c cc-wait -s V -l version -d 'Print version'
